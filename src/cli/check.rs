//! `chainrule check FILE ANSWERS`: judges the claims of a student's hand
//! derivation (one a line) against the exact solution of the network.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::solve::NotationArg;
use super::{eval_failure, read_source, write_output, Failure};
use crate::check::{self, render_json, render_text, Tolerance};
use crate::derivation::{derive, Options};
use crate::diagnostic::Diagnostics;
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
    if let Some(data) = net.data.take() {
        // A hand calculation is of one sample: that sample's network.
        let rows = data.rows.len();
        let Some(k) = args.sample.map(|k| k as usize).filter(|k| *k <= rows) else {
            return Err(Failure::Input(format!(
                "{}: `check` judges one sample, and this network has a `data` block of {rows} samples; say which with `--sample K` (1 to {rows})\n",
                src.name
            )));
        };
        let (xs, ts) = &data.rows[k - 1];
        for (&i, v) in data.inputs.iter().zip(xs) {
            net.inputs[i as usize].value = *v;
        }
        for (&o, v) in data.outputs.iter().zip(ts) {
            net.targets[o as usize] = Some(*v);
        }
    } else if args.sample.is_some() {
        return Err(Failure::Input(format!(
            "{}: `--sample` picks a sample of a `data` block, and this network has none\n",
            src.name
        )));
    }
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net),
        crate::parse::MAX_WORK,
        "params and neurons × samples",
    )?;
    // A network whose solution is not a number cannot be checked against.
    derive(&net, Options::default()).map_err(|e| eval_failure(&src, e))?;
    let answers = super::read_text(&args.answers, MAX_ANSWERS_BYTES, "an answers file")?;
    let claims = parse_answers(&net, &answers.name, &answers.text)?;
    if claims.is_empty() {
        return Err(Failure::Input(format!(
            "{}: no claims; write one a line, like `net_h1 = 0.3775`\n",
            answers.name
        )));
    }
    let opts = check::Options {
        tolerance: args.tolerance,
        notation: args.notation.into(),
    };
    let report = check::check(&net, &claims, &opts)
        .map_err(|items| Diagnostics::new(&answers.name, &answers.text, items))?;
    let text = match args.format {
        Format::Text => render_text(&report, colour()),
        Format::Json => render_json(&report),
    };
    write_output(None, &text)?;
    Ok(if report.wrong() == 0 { 0 } else { 1 })
}

/// Colour on a terminal, unless `NO_COLOR` is set (https://no-color.org).
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}
