//! `chainrule check FILE ANSWERS`: judges the claims of a student's hand
//! derivation (one a line) against the exact solution of the network.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::solve::NotationArg;
use super::{eval_failure, read_source, write_output, Failure};
use crate::check::{self, render_json, render_text, Tolerance};
use crate::derivation::{derive, Options};
use crate::parse::{parse_answers, parse_network};

/// Largest answers file read: a hand derivation is a few kilobytes.
pub(crate) const MAX_ANSWERS_BYTES: usize = 1 << 20;

/// Output formats of `check`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// One line a claim with ✓ or ✗, for the student.
    Text,
    /// JSON, for grading scripts.
    Json,
}

/// Arguments of `check`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The network file (`-` for standard input).
    file: PathBuf,
    /// The answers file, one claim a line: `net_h1 = 0.3775`,
    /// `dE_total/dw5 = 0.0822`, `w5+ = 0.3589` (`-` for standard input).
    answers: PathBuf,
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "text")]
    format: Format,
    /// Compare numbers within this tolerance instead of to their written
    /// digits: absolute (`1e-4`) or relative (`0.1%`).
    #[arg(long, value_parser = clap::value_parser!(Tolerance))]
    tolerance: Option<Tolerance>,
    /// Names of net inputs and outputs in the messages.
    #[arg(long, value_enum, default_value = "net-out")]
    notation: NotationArg,
    /// With a `data` block: the sample the hand calculation is of (from 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    sample: Option<u64>,
    #[command(flatten)]
    limits: super::Limits,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    let stdin = Path::new("-");
    if args.file == stdin && args.answers == stdin {
        return Err(anyhow::anyhow!("FILE and ANSWERS cannot both be standard input").into());
    }
    let src = read_source(&args.file)?;
    let mut net = parse_network(&src.name, &src.text)?;
    let rows = net.data.as_ref().map(|d| d.rows.len());
    match (rows, args.sample) {
        (Some(rows), Some(k)) => {
            let k = k as usize;
            if k > rows {
                return Err(Failure::Input(format!(
                    "{}: `--sample {k}`: the `data` block has {rows} samples (1 to {rows})\n",
                    src.name
                )));
            }
            // A hand calculation of one sample: that sample's network.
            net = net.one_sample(k - 1);
        }
        (None, Some(_)) => {
            return Err(Failure::Input(format!(
                "{}: `--sample` picks a sample of a `data` block, and this network has none\n",
                src.name
            )));
        }
        _ => {}
    }
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net),
        crate::parse::MAX_WORK,
        "params and neurons × samples",
    )?;
    // A network whose solution is not a number cannot be checked against.
    derive(&net, Options::default()).map_err(|e| eval_failure(&src, e))?;
    let answers = read_answers(&args.answers)?;
    let parsed = parse_answers(&net, &answers.name, &answers.text)?;
    let opts = check::Options {
        tolerance: args.tolerance,
        notation: args.notation.into(),
    };
    let report = check::check(&net, &parsed, &opts);
    let text = match args.format {
        Format::Text if report.verdicts.is_empty() => {
            "no claims: write one a line, like `net_h1 = 0.3775`\n".to_string()
        }
        Format::Text => render_text(&report, colour()),
        Format::Json => render_json(&report),
    };
    write_output(None, &text)?;
    Ok(if report.all_right() && !report.verdicts.is_empty() {
        0
    } else {
        1
    })
}

/// Reads an answers file: UTF-8 (with or without a byte-order mark), or
/// UTF-16 with its byte-order mark, as a notebook or a word processor on
/// some systems saves it. Anything else is refused as not text.
fn read_answers(path: &Path) -> Result<super::Source, Failure> {
    let (name, bytes) = super::read_bounded(path, MAX_ANSWERS_BYTES, "an answers file")?;
    let utf16 = |bytes: &[u8], little: bool| -> Option<String> {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        (bytes.len() % 2 == 0).then(|| String::from_utf16(&units).ok())?
    };
    let decoded = match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        _ => None,
    };
    match decoded {
        Some(text) => Ok(super::Source { name, text }),
        None => super::decode_utf8(name, bytes),
    }
}

/// Colour on a terminal, unless `NO_COLOR` is set (https://no-color.org).
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}
