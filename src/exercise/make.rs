//! The whole exercise of a network, page and all: what `chainrule exercise`
//! writes, and `exam --exercise` for each variant.

use super::page::Given;
use super::Exercise;
use crate::derivation::{EvalError, Options};
use crate::model::Network;
use crate::notation::Notation;
use crate::render::page::{self, Markup, Named, Page, PageOptions};
use crate::render::{html, svg, templates};
use crate::solution::Solution;

/// Why an exercise could not be made.
#[derive(Debug)]
pub enum Error {
    /// A value of the solution is not a number.
    Eval(EvalError),
    /// Anything else (a template, a language).
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        Error::Other(e)
    }
}

impl From<EvalError> for Error {
    fn from(e: EvalError) -> Error {
        Error::Eval(e)
    }
}

/// The exercise of `net` (read from `source`, whose text names the page's
/// saved progress) in language `lang`, with the worked steps' numbers to
/// `decimals`; and its page, when `html`.
pub fn make(
    net: &Network,
    source: &str,
    lang: &str,
    decimals: usize,
    html: bool,
) -> Result<(Exercise, Option<String>), Error> {
    let sol = Solution::new(net, Options::default(), Notation::NetOut)?;
    let strings = templates::strings(lang)?;
    let opts = PageOptions {
        decimals,
        only: Vec::new(),
        front_matter: false,
        fragment: false,
        full: true,
        steps: Vec::new(),
    };
    let page_of = |n: &Network| {
        let s = Solution::new(n, Options::default(), Notation::NetOut)?;
        let p = page::build(&s, &opts, Markup::Markdown, lang, strings.clone());
        Ok((s.derivation, p))
    };
    let ex = super::build(net, &sol.derivation, &page_of)?;
    if !html {
        return Ok((ex, None));
    }
    let (_, base) = page_of(&net.one_sample(0))?;
    let given = given(&base, lang, net.data.is_some())?;
    let drawing = svg::given(net);
    let key = format!("{:016x}", fnv1a(source.as_bytes()));
    let text = super::render(&ex, &drawing, &given, lang, &key)?;
    Ok((ex, Some(text)))
}

/// The given numbers of the network, as rows of (label, MathML).
fn given(page: &Page, lang: &str, data: bool) -> anyhow::Result<Given> {
    let t = super::strings(lang)?;
    let label = |k: &str| t[k].as_str().unwrap_or_default().to_string();
    let math = |tex: &str| -> anyhow::Result<String> {
        html::mathml(tex, false).map_err(|e| anyhow::anyhow!("turning `{tex}` into MathML: {e}"))
    };
    // Each `name = value` a span of its own, so that a long list wraps.
    let list = |named: &[Named]| -> anyhow::Result<String> {
        let spans: anyhow::Result<Vec<String>> = named
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
