//! The view model of a worked-solution page: everything a Markdown, LaTeX or
//! HTML template shows, with every equation already laid out as LaTeX lines
//! and every number already formatted. Templates add only prose and layout.
//!
//! - [`view`]: the structs a template reads (the `--template` contract);
//! - `ctx`: the names, numbers and LaTeX helpers every part shares;
//! - `network`: the network as given, the data block and its samples;
//! - `forward`: the forward pass and the error;
//! - `backward`: the steps, one a param: which step derives each δ, which
//!   steps refer back to it, the sums over later layers;
//! - `schedule`: the order of the steps, where each δ is first derived, and
//!   the numbers of the factors (the page's and the JSON's);
//! - `summary`: the table of updates and the later updates of `--steps`.

mod backward;
mod ctx;
mod forward;
mod network;
pub(crate) mod schedule;
mod summary;
pub mod view;

pub use view::*;

use ctx::Ctx;

use crate::solution::Solution;

/// Networks with at most this many params show every derivation; larger
/// ones show the summary tables, plus `--only` params, unless `--full`.
pub const FULL_UP_TO: usize = 100;

/// The anchor of param `name`'s step: `d` and the name, an upper-case
/// letter written `-` and its lower case (`w1` → `dw1`, `W1` → `d-w1`), so
/// that anchors differ where names do, also where links ignore case.
pub fn anchor(name: &str) -> String {
    let mut out = String::from("d");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// How a page is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// Markdown (and HTML, which is rendered from it).
    Markdown,
    /// LaTeX.
    Latex,
}

/// Options of a page.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    /// Decimals shown.
    pub decimals: usize,
    /// Only these params' derivations (empty: all).
    pub only: Vec<String>,
    /// Start with YAML front matter.
    pub front_matter: bool,
    /// LaTeX body only.
    pub fragment: bool,
    /// Every param's derivation, however large the network.
    pub full: bool,
    /// Consecutive updates (`--steps K`): the first is the page's own.
    pub steps: Vec<crate::steps::Step>,
}

/// Builds the page of a solution: the network, the forward pass and the
/// error, the backward pass one step a param, and the updates.
pub fn build(
    sol: &Solution<'_>,
    opts: &PageOptions,
    markup: Markup,
    lang: &str,
    t: serde_json::Value,
) -> Page {
    let net = sol.net;
    let d = &sol.derivation;
    // With data, the chain rule is shown with the first sample's numbers.
    let ctx = Ctx::new(sol, d.worked(), 0, opts.decimals, markup);

    let network = network::view(&ctx);
    let data_table = network::data_table(&ctx);
    let samples = network::samples(&ctx);
    let combined = network::combined(&ctx);
    // With data the page's E_total is the samples' combined error.
    let penalty = d.penalty.filter(|_| net.data.is_none());
    let error = forward::error_view(
        &ctx,
        ctx.latex(crate::expr::Sym::ErrTotal),
        d.total,
        penalty,
    );

    let large = net.params.len() > FULL_UP_TO;
    let omitted = (large && !opts.full && opts.only.is_empty()).then_some(net.params.len());
    let order = backward::order(&ctx, omitted.is_none(), &opts.only);
    // The forward pass on this thread while the steps are built on the others.
    let (backward, forward) = backward::steps(&ctx, &order, || forward::view(&ctx));

    let summary = summary::rows(&ctx);
    let mut page = Page {
        title: sol.title(),
        t,
        lang: lang.to_string(),
        decimals: opts.decimals,
        hand: d.hand,
        front_matter: opts.front_matter,
        fragment: opts.fragment,
        only: opts.only.clone(),
        network,
        forward,
        error,
        backward,
        summary_layers: summary::by_layer(&ctx, &summary),
        by_layer: large,
        omitted,
        samples,
        data_table,
        combined,
        sample_gradients: summary::sample_gradients(&ctx),
        mean: net.batch == crate::model::Batch::Mean,
        summary,
        update_rule: summary::update_rule(net),
        later: summary::later_steps(&ctx, &opts.steps),
        total_final: (opts.steps.len() > 1)
            .then(|| opts.steps.last().map(|s| ctx.num(s.total_after)))
            .flatten(),
        total_after: ctx.num(d.total_after),
        after_problem: d.after_problem.as_ref().map(|e| e.to_string()),
        diagram_html: None,
        diagram_src: None,
        diagram_tex: (markup == Markup::Latex)
            .then(|| super::picture::solved(sol, opts.decimals))
            .flatten(),
        front_matter_yaml: String::new(),
    };
    // Large pages list params once: by layer, with only their count in
    // the network table.
    if page.by_layer {
        page.summary.clear();
        page.network.params.clear();
    } else {
        page.summary_layers.clear();
    }
    page
}
