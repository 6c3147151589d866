//! `chainrule exercise FILE`: a self-check page, one box per quantity of the
//! worked solution, marked as the student types.

use std::path::PathBuf;

use clap::Parser;

use super::{eval_failure, read_source, write_output, Failure};
use crate::derivation::Options;
use crate::exercise::{self, page::Given};
use crate::model::Network;
use crate::notation::Notation;
use crate::parse::parse_network;
use crate::render::page::{self, Markup, PageOptions};
use crate::render::{html, svg, templates};
use crate::solution::Solution;

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
}

pub(crate) fn execute(args: Args) -> Result<u8, Failure> {
    let src = read_source(&args.file)?;
    let net = parse_network(&src.name, &src.text)?;
    let sol = Solution::new(&net, Options::default(), Notation::NetOut)
        .map_err(|e| eval_failure(&src, e))?;
    let strings = templates::strings(&args.lang)?;
    let opts = PageOptions {
        decimals: args.decimals as usize,
        only: Vec::new(),
        front_matter: false,
        fragment: false,
        full: true,
        steps: Vec::new(),
    };
    let page_of = |n: &Network| {
        let s = Solution::new(n, Options::default(), Notation::NetOut)?;
        let p = page::build(&s, &opts, Markup::Markdown, &args.lang, strings.clone());
        Ok((s.derivation, p))
    };
    let ex = exercise::build(&net, &sol.derivation, &page_of).map_err(|e| eval_failure(&src, e))?;
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&ex)
            .map_err(|e| anyhow::anyhow!("writing the exercise as JSON: {e}"))?;
        write_output(args.output.as_ref(), &(text + "\n"))?;
        return Ok(0);
    }
    let (_, base) = page_of(&net.one_sample(0)).map_err(|e| eval_failure(&src, e))?;
    let given = given(&base, &args.lang, net.data.is_some())?;
    let drawing = svg::given(&net);
    let key = format!("{:016x}", fnv1a(src.text.as_bytes()));
    let text = exercise::render(&ex, &drawing, &given, &args.lang, &key)?;
    write_output(args.output.as_ref(), &text)?;
    Ok(0)
}

/// The given numbers of the network, as rows of (label, MathML).
fn given(page: &page::Page, lang: &str, data: bool) -> Result<Given, Failure> {
    let t = exercise::strings(lang)?;
    let label = |k: &str| t[k].as_str().unwrap_or_default().to_string();
    let math = |tex: &str| -> Result<String, Failure> {
        Ok(html::mathml(tex, false)
            .map_err(|e| anyhow::anyhow!("turning `{tex}` into MathML: {e}"))?)
    };
    // Each `name = value` a span of its own, so that a long list wraps.
    let list = |named: &[page::Named]| -> Result<String, Failure> {
        let spans: Result<Vec<String>, Failure> = named
            .iter()
            .map(|n| {
                Ok(format!(
                    "<span>{}</span>",
                    math(&format!("{} = {}", n.latex, n.value))?
                ))
            })
            .collect();
        Ok(spans?.join(", "))
    };
    let n = &page.network;
    let mut rows = Vec::new();
    // With a `data` block the inputs and targets are the sample's: the
    // picker shows them.
    let (inputs, targets) = if data {
        (String::new(), String::new())
    } else {
        (list(&n.inputs)?, list(&n.targets)?)
    };
    for (key, html) in [
        ("given_inputs", inputs),
        ("given_params", list(&n.params)?),
        ("given_consts", list(&n.consts)?),
        ("given_targets", targets),
    ] {
        if !html.is_empty() {
            rows.push((label(key), html));
        }
    }
    for f in &n.functions {
        rows.push((label("given_functions"), math(&f.latex)?));
    }
    rows.push((label("given_loss"), math(&n.loss_latex)?));
    rows.push((label("given_rate"), math(&format!("\\eta = {}", n.rate))?));
    Ok(Given { rows })
}

/// FNV-1a of `bytes`: names the page's saved progress, so that another
/// network's page does not read it.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
