//! `chainrule exercise FILE`: a self-check page, one box per quantity of the
//! worked solution, marked as the student types.

use std::path::PathBuf;

use clap::Parser;

use super::{eval_failure, read_source, write_output, Failure};
use crate::exercise;
use crate::parse::parse_network;

/// The output of `chainrule exercise`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// The page.
    Html,
    /// The data behind it.
    Json,
}

/// Arguments of `chainrule exercise`.
#[derive(Parser, Debug)]
pub(crate) struct Args {
    /// The network (`-` for standard input).
    file: PathBuf,
    /// Write the page here instead of standard output.
    #[arg(short, long, value_name = "FILE.html")]
    output: Option<PathBuf>,
    /// The page's language: `en` or `ko`.
    #[arg(long, default_value = "en")]
    lang: String,
    /// `html` (the page) or `json` (what the page compares with: every
    /// box's value, what each known mistake gives, and its formula).
    #[arg(short, long, value_enum, default_value = "html")]
    format: Format,
    /// Decimals of the numbers the worked steps show.
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(1..=15))]
    decimals: u8,
    #[command(flatten)]
    limits: super::Limits,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    // Every step written out, in HTML, once per sample and for the batch:
    // as a full HTML page of `solve` for each.
    let groups = net.data.as_ref().map_or(1, |d| d.rows.len() as u64 + 1);
    args.limits.work(
        &src.name,
        crate::parse::solution_work(&net).saturating_mul(6 * groups),
        crate::parse::MAX_WORK,
        "params and neurons × samples × 6 for a full HTML page, for each sample",
    )?;
    if let Some(o) = &args.output {
        super::output::refuse_input(o, "-o", &args.file)?;
    }
    let html = args.format == Format::Html;
    let (ex, page) = exercise::make(&net, &src.text, &args.lang, args.decimals as usize, html)
        .map_err(|e| match e {
            exercise::Error::Eval(e) => eval_failure(&src, e),
            exercise::Error::Other(e) => Failure::Other(e),
        })?;
    let text = match page {
        Some(page) => page,
        None => {
            serde_json::to_string_pretty(&ex)
                .map_err(|e| anyhow::anyhow!("writing the exercise as JSON: {e}"))?
                + "\n"
        }
    };
    write_output(args.output.as_ref(), &text)?;
    Ok(0)
}
