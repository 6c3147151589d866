//! `chainrule solve FILE`: the worked solution in md, tex, html or json.

use std::path::PathBuf;

use super::{eval_failure, read_source, write_output, Failure};
use crate::derivation::Options;
use crate::notation::Notation;
use crate::parse::parse_network;
use crate::render;
use crate::solution::Solution;

/// Output formats of `solve`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// JSON for machines (SPEC §4).
    Json,
}

/// Notations of `--notation`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotationArg {
    /// net_h1 / out_h1
    NetOut,
    /// sum_h1 / output_h1
    SumOutput,
    /// z_h1 / a_h1
    #[value(name = "z-a")]
    ZA,
}

impl From<NotationArg> for Notation {
    fn from(n: NotationArg) -> Notation {
        match n {
            NotationArg::NetOut => Notation::NetOut,
            NotationArg::SumOutput => Notation::SumOutput,
            NotationArg::ZA => Notation::ZA,
        }
    }
}

/// Arguments of `solve`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The network file (`-` for standard input).
    file: PathBuf,
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "json")]
    format: Format,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Decimals shown (trailing zeros dropped).
    #[arg(long, default_value_t = 9, value_parser = clap::value_parser!(u8).range(0..=17))]
    decimals: u8,
    /// Names of net inputs and outputs.
    #[arg(long, value_enum, default_value = "net-out")]
    notation: NotationArg,
    /// Round each shown value before the next step uses it, as with a calculator.
    #[arg(long)]
    hand: bool,
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    let mut opts = Options::default();
    if args.hand {
        opts = opts.with_hand_rounding(args.decimals as usize);
    }
    let sol = Solution::new(&net, opts, args.notation.into()).map_err(|e| eval_failure(&src, e))?;
    let text = match args.format {
        Format::Json => render::json::render(&sol),
    };
    write_output(args.output.as_ref(), &text)?;
    Ok(0)
}
