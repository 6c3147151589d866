//! The view model of a worked-solution page: everything a Markdown, LaTeX or
//! HTML template shows, with every equation already laid out as LaTeX lines
//! and every number already formatted. Templates add only prose and layout.
//!
//! Field docs here are the contract for `--template` users (see README).

use serde::Serialize;

use super::latex::{chain_lines, Part, Printer};
use crate::derivation::{DAct, DOut, Derivation, Factor, Values, Via};
use crate::diff;
use crate::expr::{BinOp, Builtin, Expr, Func, Names, Sym};
use crate::model::{Activation, Loss};
use crate::notation::{latex_name, NetNames};
use crate::number;
use crate::solution::Solution;

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

/// One update after the first (`--steps K`).
#[derive(Debug, Clone, Serialize)]
pub struct LaterStep {
    /// Its number (2, 3, …).
    pub t: u32,
    /// E_total before it, formatted.
    pub total: String,
    /// E_total after it, formatted.
    pub total_after: String,
    /// Per param: its LaTeX, its gradient at this step (formatted) and the
    /// lines of its update.
    pub params: Vec<LaterParam>,
    /// Every param's lines, one `aligned` block.
    pub lines: Vec<String>,
}

/// One param's update in a later step.
#[derive(Debug, Clone, Serialize)]
pub struct LaterParam {
    /// LaTeX of the param.
    pub latex: String,
    /// ∂E_total/∂p at this step, as text (`1.2e-10`, like the summary).
    pub gradient: String,
    /// The value before, as text.
    pub before: String,
    /// The value after, as text.
    pub after: String,
    /// Lines of an `aligned` block: the optimizer's state and the update.
    pub lines: Vec<String>,
}

/// Networks with at most this many params show every derivation; larger
/// ones show the summary tables, plus `--only` params, unless `--full`.
pub const FULL_UP_TO: usize = 100;

/// A name and its value, for the tables.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    /// The name in the file (`w5`).
    pub name: String,
    /// Its LaTeX (`w_{5}`).
    pub latex: String,
    /// The value, formatted as LaTeX (for math: `1.5 \times 10^{-12}`).
    pub value: String,
    /// The value, full precision.
    pub raw: f64,
}

/// A layer in the network table.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Its name.
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its activation, as written in the file (`sigmoid`, `leaky_relu(0.2)`).
    pub activation: String,
    /// LaTeX of its neurons (`h_{1}`).
    pub neurons: Vec<String>,
}

/// A user function in the network table.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionRow {
    /// Its name.
    pub name: String,
    /// Its definition as LaTeX (`\operatorname{swish}(x) = x \cdot \sigma(x)`).
    pub latex: String,
}

/// The network as given.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkView {
    /// Inputs.
    pub inputs: Vec<Named>,
    /// Trainable params.
    pub params: Vec<Named>,
    /// Constants.
    pub consts: Vec<Named>,
    /// User functions.
    pub functions: Vec<FunctionRow>,
    /// Layers, first to last.
    pub layers: Vec<LayerRow>,
    /// Targets (as `target_o1`).
    pub targets: Vec<Named>,
    /// The loss keyword (`mse`, …, `custom`).
    pub loss: String,
    /// The loss as a formula for E_total.
    pub loss_latex: String,
    /// The learning rate, formatted.
    pub rate: String,
    /// The number of params.
    pub param_count: usize,
}

/// The forward pass of one neuron.
#[derive(Debug, Clone, Serialize)]
pub struct NeuronView {
    /// Its name.
    pub name: String,
    /// Lines of an `aligned` block: net input, then output.
    pub lines: Vec<String>,
}

/// The forward pass of one layer.
#[derive(Debug, Clone, Serialize)]
pub struct LayerView {
    /// Its name.
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its activation as written.
    pub activation: String,
    /// Its neurons.
    pub neurons: Vec<NeuronView>,
}

/// The error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    /// Lines for each E_k.
    pub outputs: Vec<NeuronView>,
    /// Lines for E_total.
    pub total: Vec<String>,
    /// Lines of every E_k, then E_total, as one block.
    pub lines: Vec<String>,
    /// E_total, formatted.
    pub value: String,
}

/// Where a δ was derived, for a reference back to it.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaRef {
    /// LaTeX of the δ (`\delta_{o_1}`).
    pub delta: String,
    /// LaTeX of the partial it is (`\frac{\partial E_{total}}{\partial net_{o_1}}`).
    pub partial: String,
    /// The same partial written inline, for prose.
    pub inline: String,
    /// Its value, formatted.
    pub value: String,
    /// Anchor of the step that derived it (`dw5`).
    pub anchor: String,
    /// LaTeX of the gradient that step is about (inline form).
    pub step: String,
}

/// One numbered factor of a chain rule.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    /// Its number, from 1.
    pub n: usize,
    /// Its number as the page writes it in prose (① in Markdown).
    pub label: String,
    /// LaTeX of the partial (`\frac{\partial out_{o_1}}{\partial net_{o_1}}`).
    pub partial: String,
    /// The same partial written inline (`\partial out_{o_1} / \partial net_{o_1}`), for prose.
    pub inline: String,
    /// Lines of an `aligned` block deriving it; empty for a reference.
    pub lines: Vec<String>,
    /// Set when this factor is a δ derived in an earlier step.
    pub reference: Option<DeltaRef>,
    /// δ's derived earlier that the lines use.
    pub uses: Vec<DeltaRef>,
    /// The rule's short name (`d-sigmoid`).
    pub rule: String,
}

/// A δ defined in a step.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaDef {
    /// LaTeX of the δ.
    pub delta: String,
    /// Lines of an `aligned` block.
    pub lines: Vec<String>,
}

/// The derivation of one param's gradient and its update.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// Anchor for links (`dw5`).
    pub anchor: String,
    /// The param's name.
    pub param: String,
    /// The param's LaTeX.
    pub param_latex: String,
    /// The layer of the neurons that use it (the deepest one).
    pub layer: String,
    /// Whether that is the last layer.
    pub output_layer: bool,
    /// LaTeX of ∂E_total/∂p.
    pub gradient: String,
    /// The same, written inline for prose.
    pub gradient_inline: String,
    /// δ's of later layers this step needs that no earlier step derived.
    pub before: Vec<DeltaDef>,
    /// Lines of the chain rule with numbered factors.
    pub chain: Vec<String>,
    /// The factors.
    pub factors: Vec<FactorView>,
    /// δ's defined here (product of the first factors).
    pub deltas: Vec<DeltaDef>,
    /// Lines of the product.
    pub product: Vec<String>,
    /// Lines of the update.
    pub update: Vec<String>,
    /// Whether no net input uses the param (gradient 0).
    pub unused: bool,
}

/// A row of the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The param's name.
    pub name: String,
    /// Its LaTeX.
    pub latex: String,
    /// Old value, formatted.
    pub old: String,
    /// ∂E_total/∂p, formatted.
    pub gradient: String,
    /// p⁺, formatted.
    pub new: String,
    /// The same three, full precision.
    pub raw: [f64; 3],
}

/// The summary rows of one layer.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryLayer {
    /// The layer's name (empty for params no net input uses).
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its params.
    pub rows: Vec<SummaryRow>,
}

/// One sample of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct SampleView {
    /// Its number, from 1.
    pub index: usize,
    /// LaTeX of its inputs (`i_{1} = 0, i_{2} = 1`).
    pub inputs: String,
    /// LaTeX of its targets.
    pub targets: String,
    /// Its forward pass.
    pub forward: Vec<LayerView>,
    /// Its error.
    pub error: ErrorView,
    /// Its E, formatted.
    pub total: String,
}

/// The rows of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct DataTable {
    /// LaTeX of the inputs it sets.
    pub inputs: Vec<String>,
    /// LaTeX of the targets it gives.
    pub targets: Vec<String>,
    /// The rows.
    pub rows: Vec<DataRow>,
}

/// One row of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct DataRow {
    /// Its number, from 1.
    pub n: usize,
    /// Input values, formatted.
    pub inputs: Vec<String>,
    /// Target values, formatted.
    pub targets: Vec<String>,
}

/// A param's gradient per sample.
#[derive(Debug, Clone, Serialize)]
pub struct SampleGradient {
    /// The param's LaTeX.
    pub latex: String,
    /// ∂E^(k)/∂p for each sample k, formatted.
    pub per_sample: Vec<String>,
    /// Their mean (or sum), formatted.
    pub combined: String,
    /// p⁺, formatted.
    pub new: String,
}

/// Everything a page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The title (escape it for the format: `{{esc title}}`).
    pub title: String,
    /// Fixed prose in the page's language, by key.
    pub t: serde_json::Value,
    /// The language code.
    pub lang: String,
    /// Decimals shown.
    pub decimals: usize,
    /// `--hand`: values rounded to this many decimals at each step.
    pub hand: Option<usize>,
    /// `--front-matter`.
    pub front_matter: bool,
    /// `--fragment`.
    pub fragment: bool,
    /// `--only`, if given.
    pub only: Vec<String>,
    /// The network as given.
    pub network: NetworkView,
    /// The forward pass, layer by layer.
    pub forward: Vec<LayerView>,
    /// The error.
    pub error: ErrorView,
    /// The backward pass, one step per param, output layer first.
    pub backward: Vec<StepView>,
    /// All params: old value, gradient, new value.
    pub summary: Vec<SummaryRow>,
    /// The same rows by layer (the deepest layer whose net inputs use the
    /// param), output layer first.
    pub summary_layers: Vec<SummaryLayer>,
    /// Whether the page shows the summary by layer (large networks).
    pub by_layer: bool,
    /// With a `data` block: each sample's forward pass and error.
    pub samples: Vec<SampleView>,
    /// With a `data` block: its rows.
    pub data_table: Option<DataTable>,
    /// With a `data` block: lines combining the samples' errors into E_total.
    pub combined: Vec<String>,
    /// With a `data` block: each param's gradient per sample, combined, and its update.
    pub sample_gradients: Vec<SampleGradient>,
    /// Whether samples combine by their mean (else their sum).
    pub mean: bool,
    /// Set when derivations were left out for size: the number of params.
    pub omitted: Option<usize>,
    /// The update rule when it is not plain gradient descent
    /// (`adam(0.9, 0.999, 1e-8)`, with `weight_decay 0.01`).
    pub update_rule: Option<String>,
    /// Updates after the first (`--steps K`), each with the optimizer's state.
    pub later: Vec<LaterStep>,
    /// E_total after the last update, formatted (with `--steps K`).
    pub total_final: Option<String>,
    /// E_total after the update, formatted.
    pub total_after: String,
    /// Why E_total after the update cannot be computed, when it cannot.
    pub after_problem: Option<String>,
    /// LaTeX of η.
    pub eta: String,
    /// The network drawing as inline SVG (HTML pages).
    pub diagram_html: Option<String>,
    /// The path of the drawing as an image file (`--diagram`, Markdown pages).
    pub diagram_src: Option<String>,
    /// The network drawing as a LaTeX `picture` (LaTeX pages; needs the
    /// packages `color` and `graphicx`); none for networks too large to
    /// label.
    pub diagram_tex: Option<String>,
    /// With `--front-matter`: the YAML lines between the `---` lines, as the
    /// page's `--flavor` writes them.
    pub front_matter_yaml: String,
}

struct Ctx<'s, 'a> {
    sol: &'s Solution<'a>,
    /// The derivation shown: the network's, or one sample's.
    der: &'s Derivation,
    /// The fixed values it was computed with.
    values: Values,
    names: CachedNames<'a>,
    decimals: usize,
    markup: Markup,
}

/// The page's names with the LaTeX of every symbol worked out once.
struct CachedNames<'a> {
    inner: NetNames<'a>,
    net: Vec<String>,
    out: Vec<String>,
    params: Vec<String>,
    /// δ of each neuron (`\delta_{o_1}`).
    deltas: Vec<String>,
    err_total: String,
}

impl<'a> CachedNames<'a> {
    fn new(inner: NetNames<'a>) -> CachedNames<'a> {
        let n = inner.net.neurons.len() as u32;
        CachedNames {
            net: (0..n).map(|i| inner.latex(Sym::Net(i))).collect(),
            out: (0..n).map(|i| inner.latex(Sym::Out(i))).collect(),
            params: (0..inner.net.params.len() as u32)
                .map(|i| inner.latex(Sym::Param(i)))
                .collect(),
            deltas: inner
                .net
                .neurons
                .iter()
                .map(|x| latex_name(&format!("d_{}", x.name)).replacen("d_", "\\delta_", 1))
                .collect(),
            err_total: inner.latex(Sym::ErrTotal),
            inner,
        }
    }
}

impl Names for CachedNames<'_> {
    fn plain(&self, sym: Sym) -> String {
        self.inner.plain(sym)
    }

    fn latex(&self, sym: Sym) -> String {
        match sym {
            Sym::Net(i) => self.net[i as usize].clone(),
            Sym::Out(i) => self.out[i as usize].clone(),
            Sym::Param(i) => self.params[i as usize].clone(),
            Sym::ErrTotal => self.err_total.clone(),
            s => self.inner.latex(s),
        }
    }

    fn func(&self, func: Func) -> String {
        self.inner.func(func)
    }
}

impl Ctx<'_, '_> {
    fn value(&self, s: Sym) -> Option<f64> {
        let d = self.der;
        match s {
            Sym::Net(n) => Some(d.forward.net[n as usize]),
            Sym::Out(n) => Some(d.forward.out[n as usize]),
            Sym::Err(n) => Some(d.forward.err[n as usize]),
            Sym::ErrTotal => Some(d.forward.total),
            s => self.values.get(s),
        }
    }

    fn with_printer<R>(&self, f: impl FnOnce(&Printer<'_>) -> R) -> R {
        let value = |s: Sym| self.value(s);
        let p = Printer {
            names: &self.names,
            decimals: self.decimals,
            value: &value,
        };
        f(&p)
    }

    fn num(&self, x: f64) -> String {
        number::latex(x, self.decimals)
    }

    /// Numbers of an optimizer's update: significant digits (its second
    /// moments are small by nature), as many as the page has decimals.
    fn sig_nums(&self) -> super::update::Nums {
        super::update::Nums {
            digits: self.decimals.max(1),
        }
    }

    /// A number as a factor in a product: negatives in brackets.
    fn num_factor(&self, x: f64) -> String {
        let s = self.num(x);
        if s.starts_with('-') {
            format!("({s})")
        } else {
            s
        }
    }

    fn text_num(&self, x: f64) -> String {
        number::format(x, self.decimals)
    }

    fn latex(&self, s: Sym) -> String {
        self.names.latex(s)
    }

    fn partial(&self, of: Sym, wrt: Sym) -> String {
        format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            self.latex(of),
            self.latex(wrt)
        )
    }

    fn inline(&self, of: Sym, wrt: Sym) -> String {
        format!(
            "\\partial {} / \\partial {}",
            self.latex(of),
            self.latex(wrt)
        )
    }

    fn delta(&self, n: u32) -> String {
        self.names.deltas[n as usize].clone()
    }

    fn circled(&self, n: usize) -> String {
        match self.markup {
            Markup::Markdown => circled_char(n),
            Markup::Latex => format!("\\textcircled{{\\scriptsize {n}}}"),
        }
    }

    fn circled_math(&self, n: usize) -> String {
        match self.markup {
            // ASCII only: KaTeX in strict mode, MathJax and pdflatex all
            // set `(1)` with the right metrics; ① is not in their math fonts.
            Markup::Markdown => format!("\\text{{({n})}}"),
            Markup::Latex => format!("\\text{{\\textcircled{{\\scriptsize {n}}}}}"),
        }
    }

    /// symbolic = substituted = value, skipping parts that repeat.
    fn expr_parts(&self, e: &Expr, value: f64) -> Vec<Part> {
        self.with_printer(|p| {
            let sym = p.pieces(e, false);
            let sub = p.pieces(e, true);
            let val = self.num(value);
            let mut parts: Vec<Part> = vec![sym.clone()];
            if sub != sym && sub.join(" ") != val {
                parts.push(sub);
            }
            if parts.last().map(|l| l.join(" ")) != Some(val.clone()) {
                parts.push(vec![val]);
            }
            parts
        })
    }

    fn factor_lines(&self, f: &Factor) -> Vec<String> {
        chain_lines(
            &self.partial(f.of, f.wrt),
            &self.expr_parts(&f.symbolic, f.value),
        )
    }
}

/// ① … ⑳, then (21) …
fn circled_char(n: usize) -> String {
    match n {
        1..=20 => {
            char::from_u32(0x2460 + n as u32 - 1).map_or_else(|| format!("({n})"), String::from)
        }
        _ => format!("({n})"),
    }
}

/// The updates after the first, with the optimizer's state carried.
fn later_steps(ctx: &Ctx<'_, '_>, steps: &[crate::steps::Step]) -> Vec<LaterStep> {
    let net = ctx.sol.net;
    let rule = net.update_rule();
    let nums = ctx.sig_nums();
    steps
        .windows(2)
        .map(|w| {
            let (prev, step) = (&w[0], &w[1]);
            let params = net
                .params
                .iter()
                .enumerate()
                .map(|(p, param)| {
                    let pl = latex_name(&param.name);
                    let s = &step.params[p];
                    let before = &prev.params[p];
                    let state = (before.m.unwrap_or(0.0), before.v.unwrap_or(0.0));
                    let gradient = format!("g_{{{pl}}}^{{({})}}", step.t);
                    LaterParam {
                        latex: pl.clone(),
                        gradient: ctx.text_num(s.gradient),
                        before: ctx.text_num(s.before),
                        after: ctx.text_num(s.after),
                        lines: super::update::lines(&rule, &pl, &gradient, s, state, step.t, &nums),
                    }
                })
                .collect();
            let params: Vec<LaterParam> = params;
            LaterStep {
                t: step.t,
                total: ctx.num(step.total),
                total_after: ctx.num(step.total_after),
                lines: params.iter().flat_map(|p| p.lines.clone()).collect(),
                params,
            }
        })
        .collect()
}

/// Builds the page of a solution.
pub fn build(
    sol: &Solution<'_>,
    opts: &PageOptions,
    markup: Markup,
    lang: &str,
    t: serde_json::Value,
) -> Page {
    let net = sol.net;
    let d = &sol.derivation;
    let data = net.data.as_ref();
    let base = Values::of(net);
    // With data, the chain rule is shown with the first sample's numbers.
    let ctx = Ctx {
        sol,
        der: d.samples.first().unwrap_or(d),
        values: base.sample(net, 0),
        names: CachedNames::new(sol.names()),
        decimals: opts.decimals,
        markup,
    };

    let named = |name: &str, v: f64| Named {
        name: name.to_string(),
        latex: latex_name(name),
        value: ctx.num(v),
        raw: v,
    };
    let network = NetworkView {
        inputs: net.inputs.iter().map(|s| named(&s.name, s.value)).collect(),
        params: net.params.iter().map(|s| named(&s.name, s.value)).collect(),
        consts: net.consts.iter().map(|s| named(&s.name, s.value)).collect(),
        functions: net
            .functions
            .iter()
            .map(|f| {
                let names = NetNames {
                    args: Some(&f.args),
                    ..ctx.names.inner
                };
                let value = |_: Sym| None;
                let p = Printer {
                    names: &names,
                    decimals: ctx.decimals,
                    value: &value,
                };
                let args: Vec<String> = f.args.iter().map(|a| latex_name(a)).collect();
                FunctionRow {
                    name: f.name.clone(),
                    latex: format!(
                        "\\operatorname{{{}}}({}) = {}",
                        f.name.replace('_', "\\_"),
                        args.join(", "),
                        p.symbolic(&f.body)
                    ),
                }
            })
            .collect(),
        layers: net
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| LayerRow {
                name: l.name.clone(),
                output: i + 1 == net.layers.len(),
                activation: activation_text(l.activation, sol),
                neurons: l
                    .neurons
                    .clone()
                    .map(|n| latex_name(&net.neurons[n as usize].name))
                    .collect(),
            })
            .collect(),
        targets: net
            .outputs()
            .map(|n| {
                named(
                    &format!("target_{}", net.neurons[n as usize].name),
                    net.targets[n as usize].unwrap_or(0.0),
                )
            })
            .collect(),
        loss: net.loss.keyword().to_string(),
        loss_latex: loss_latex(&ctx),
        rate: ctx.num(net.rate),
        param_count: net.params.len(),
    };

    let mut error = error_view(&ctx, ctx.latex(Sym::ErrTotal));
    // With data the page's E_total is the samples' combined error.
    error.value = ctx.num(d.forward.total);
    let data_table = data.map(|data| DataTable {
        inputs: data
            .inputs
            .iter()
            .map(|&i| latex_name(&net.inputs[i as usize].name))
            .collect(),
        targets: data
            .outputs
            .iter()
            .map(|&o| ctx.latex(Sym::Target(o)))
            .collect(),
        rows: data
            .rows
            .iter()
            .enumerate()
            .map(|(k, (xs, ts))| DataRow {
                n: k + 1,
                inputs: xs.iter().map(|v| ctx.text_num(*v)).collect(),
                targets: ts.iter().map(|v| ctx.text_num(*v)).collect(),
            })
            .collect(),
    });
    let samples: Vec<SampleView> = match data {
        Some(data) => d
            .samples
            .iter()
            .enumerate()
            .map(|(k, der)| {
                let sctx = Ctx {
                    sol,
                    der,
                    values: base.sample(net, k),
                    names: CachedNames::new(sol.names()),
                    decimals: opts.decimals,
                    markup,
                };
                let inputs = data
                    .inputs
                    .iter()
                    .zip(&data.rows[k].0)
                    .map(|(&i, v)| {
                        format!(
                            "{} = {}",
                            latex_name(&net.inputs[i as usize].name),
                            ctx.num(*v)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let targets = data
                    .outputs
                    .iter()
                    .zip(&data.rows[k].1)
                    .map(|(&o, v)| format!("{} = {}", sctx.latex(Sym::Target(o)), ctx.num(*v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                SampleView {
                    index: k + 1,
                    inputs,
                    targets,
                    forward: forward_view(&sctx),
                    error: error_view(&sctx, format!("E^{{({})}}", k + 1)),
                    total: ctx.text_num(der.forward.total),
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let combined = data.map(|data| {
        let n = data.rows.len();
        let terms: Part = (1..=n)
            .map(|k| plus(k - 1, format!("E^{{({k})}}")))
            .collect();
        let vals: Part = d
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| plus_num(&ctx, i, s.forward.total))
            .collect();
        let lhs = "E_{total}";
        match net.batch {
            crate::model::Batch::Mean => chain_lines(
                lhs,
                &[
                    vec![format!(
                        r"\frac{{1}}{{{n}}} \left({}\right)",
                        terms.join(" ")
                    )],
                    vec![format!(
                        r"\frac{{1}}{{{n}}} \left({}\right)",
                        vals.join(" ")
                    )],
                    vec![ctx.num(d.forward.total)],
                ],
            ),
            crate::model::Batch::Sum => {
                chain_lines(lhs, &[terms, vals, vec![ctx.num(d.forward.total)]])
            }
        }
    });
    let sample_gradients: Vec<SampleGradient> = if data.is_some() {
        net.params
            .iter()
            .enumerate()
            .map(|(p, s)| SampleGradient {
                latex: latex_name(&s.name),
                per_sample: d
                    .samples
                    .iter()
                    .map(|x| ctx.text_num(x.params[p].value))
                    .collect(),
                combined: ctx.text_num(d.params[p].value),
                new: ctx.text_num(d.params[p].updated),
            })
            .collect()
    } else {
        Vec::new()
    };

    // Backward pass: output layer first, then by declaration.
    let mut order: Vec<usize> = (0..net.params.len()).collect();
    let depth = |p: usize| {
        d.params[p]
            .terms
            .iter()
            .map(|e| net.neurons[e.to as usize].layer as i64)
            .max()
            .unwrap_or(-1)
    };
    order.sort_by_key(|&p| std::cmp::Reverse(depth(p)));
    let large = net.params.len() > FULL_UP_TO;
    let omitted = (large && !opts.full && opts.only.is_empty()).then_some(net.params.len());
    if omitted.is_some() {
        order.clear();
    }
    if !opts.only.is_empty() {
        order.retain(|&p| opts.only.contains(&net.params[p].name));
        order.sort_by_key(|&p| {
            (
                std::cmp::Reverse(depth(p)),
                opts.only.iter().position(|o| *o == net.params[p].name),
            )
        });
    }
    let step_plan = plan(&ctx, &order);
    // The forward pass on this thread while the steps are built on the others.
    let (mut backward, forward) = build_steps(&ctx, &order, &step_plan, || forward_view(&ctx));
    if data.is_some() {
        // A sample's gradient is not the update's: that uses the mean.
        for st in &mut backward {
            st.update.clear();
        }
    }

    let summary: Vec<SummaryRow> = net
        .params
        .iter()
        .enumerate()
        .map(|(p, s)| SummaryRow {
            name: s.name.clone(),
            latex: latex_name(&s.name),
            old: ctx.text_num(s.value),
            gradient: ctx.text_num(d.params[p].value),
            new: ctx.text_num(d.params[p].updated),
            raw: [s.value, d.params[p].value, d.params[p].updated],
        })
        .collect();

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
        summary_layers: {
            let mut groups: Vec<SummaryLayer> = net
                .layers
                .iter()
                .enumerate()
                .rev()
                .map(|(i, l)| SummaryLayer {
                    name: l.name.clone(),
                    output: i + 1 == net.layers.len(),
                    rows: Vec::new(),
                })
                .collect();
            groups.push(SummaryLayer {
                name: String::new(),
                output: false,
                rows: Vec::new(),
            });
            let layers = net.layers.len() as i64;
            for (p, row) in summary.iter().enumerate() {
                let dpt = depth(p);
                let g = if dpt < 0 { layers } else { layers - 1 - dpt };
                groups[g as usize].rows.push(row.clone());
            }
            groups.retain(|g| !g.rows.is_empty());
            groups
        },
        by_layer: large,
        omitted,
        samples,
        data_table,
        combined: combined.unwrap_or_default(),
        sample_gradients,
        mean: net.batch == crate::model::Batch::Mean,
        summary,
        update_rule: {
            let r = net.update_rule();
            (!r.is_plain()).then(|| {
                if r.weight_decay != 0.0 {
                    format!("{}, weight_decay {}", r.optimizer.spec(), r.weight_decay)
                } else {
                    r.optimizer.spec()
                }
            })
        },
        later: later_steps(&ctx, &opts.steps),
        total_final: (opts.steps.len() > 1)
            .then(|| opts.steps.last().map(|s| ctx.num(s.total_after)))
            .flatten(),
        total_after: ctx.num(d.total_after),
        after_problem: d.after_problem.as_ref().map(|e| e.to_string()),
        eta: "\\eta".to_string(),
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

/// The forward pass of every layer, with the values of `ctx`.
fn forward_view(ctx: &Ctx<'_, '_>) -> Vec<LayerView> {
    let net = ctx.sol.net;
    let d = ctx.der;
    net.layers
        .iter()
        .enumerate()
        .map(|(li, layer)| LayerView {
            name: layer.name.clone(),
            output: li + 1 == net.layers.len(),
            activation: activation_text(layer.activation, ctx.sol),
            neurons: layer
                .neurons
                .clone()
                .map(|x| {
                    let mut lines = chain_lines(
                        &ctx.latex(Sym::Net(x)),
                        &ctx.expr_parts(&net.neurons[x as usize].net, d.forward.net[x as usize]),
                    );
                    lines.extend(out_lines(ctx, layer.activation, x));
                    NeuronView {
                        name: net.neurons[x as usize].name.clone(),
                        lines,
                    }
                })
                .collect(),
        })
        .collect()
}

/// Each output's error and their sum, written as `total_lhs`.
fn error_view(ctx: &Ctx<'_, '_>, total_lhs: String) -> ErrorView {
    let net = ctx.sol.net;
    let d = ctx.der;
    let outputs: Vec<u32> = net.outputs().collect();
    let outs: Vec<NeuronView> = outputs
        .iter()
        .map(|&x| {
            let e = d.forward.err_expr[x as usize]
                .clone()
                .unwrap_or(Expr::Num(0.0));
            NeuronView {
                name: net.neurons[x as usize].name.clone(),
                lines: chain_lines(
                    &ctx.latex(Sym::Err(x)),
                    &ctx.expr_parts(&e, d.forward.err[x as usize]),
                ),
            }
        })
        .collect();
    let sym: Part = outputs
        .iter()
        .enumerate()
        .map(|(i, &x)| plus(i, ctx.latex(Sym::Err(x))))
        .collect();
    let vals: Part = outputs
        .iter()
        .enumerate()
        .map(|(i, &x)| plus_num(ctx, i, d.forward.err[x as usize]))
        .collect();
    let mut parts = vec![sym];
    if outputs.len() > 1 {
        parts.push(vals);
    }
    parts.push(vec![ctx.num(d.forward.total)]);
    let total = chain_lines(&total_lhs, &parts);
    let lines = outs
        .iter()
        .flat_map(|o| o.lines.iter().cloned())
        .chain(total.iter().cloned())
        .collect();
    ErrorView {
        outputs: outs,
        total,
        value: ctx.num(d.forward.total),
        lines,
    }
}

fn plus(i: usize, s: String) -> String {
    if i == 0 {
        s
    } else {
        format!("+ {s}")
    }
}

fn plus_num(ctx: &Ctx<'_, '_>, i: usize, v: f64) -> String {
    let s = ctx.num(v);
    match (i, s.strip_prefix('-')) {
        (0, _) => s,
        (_, Some(abs)) => format!("- {abs}"),
        (_, None) => format!("+ {s}"),
    }
}

fn activation_text(a: Activation, sol: &Solution<'_>) -> String {
    match a {
        Activation::Sigmoid => "sigmoid".into(),
        Activation::Tanh => "tanh".into(),
        Activation::Relu => "relu".into(),
        Activation::LeakyRelu(s) => format!("leaky_relu({})", number::format(s, 9)),
        Activation::Identity => "identity".into(),
        Activation::Softplus => "softplus".into(),
        Activation::Softmax => "softmax".into(),
        Activation::User(f) => sol.net.functions[f as usize].name.clone(),
    }
}

fn loss_latex(ctx: &Ctx<'_, '_>) -> String {
    let net = ctx.sol.net;
    let (_, o) = ctx.names.inner.notation.prefixes();
    let t = "target_{k}";
    let o = format!("{o}_{{k}}");
    let e = "E_{total}";
    match &net.loss {
        Loss::Mse => format!("{e} = \\sum_k \\frac{{1}}{{2}}({t} - {o})^{{2}}"),
        Loss::MseMean => format!("{e} = \\frac{{1}}{{n}} \\sum_k ({t} - {o})^{{2}}"),
        Loss::Sse => format!("{e} = \\sum_k ({t} - {o})^{{2}}"),
        Loss::Bce => {
            format!("{e} = -\\sum_k \\left({t} \\ln {o} + (1 - {t}) \\ln(1 - {o})\\right)")
        }
        Loss::Ce => format!("{e} = -\\sum_k {t} \\ln {o}"),
        Loss::Custom(expr) => {
            struct K<'a>(&'a NetNames<'a>, &'a str);
            impl Names for K<'_> {
                fn plain(&self, s: Sym) -> String {
                    self.0.plain(s)
                }
                fn latex(&self, s: Sym) -> String {
                    match s {
                        Sym::LossTarget => "target_{k}".into(),
                        Sym::LossOut => self.1.to_string(),
                        s => self.0.latex(s),
                    }
                }
                fn func(&self, f: Func) -> String {
                    self.0.func(f)
                }
            }
            let k = K(&ctx.names.inner, &o);
            let value = |_: Sym| None;
            let p = Printer {
                names: &k,
                decimals: ctx.decimals,
                value: &value,
            };
            format!("{e} = \\sum_k E_k, \\quad E_k = {}", p.symbolic(expr))
        }
    }
}

/// Lines for out_X = act(net_X) = definition = substituted = value.
fn out_lines(ctx: &Ctx<'_, '_>, act: Activation, x: u32) -> Vec<String> {
    let d = &ctx.der;
    let net_sym = Expr::Var(Sym::Net(x));
    let out = d.forward.out[x as usize];
    let lhs = ctx.latex(Sym::Out(x));
    let call = |b: Builtin, args: Vec<Expr>| Expr::Call(Func::Builtin(b), args);
    let net_v = ctx.num(d.forward.net[x as usize]);
    let parts: Vec<Part> = match act {
        Activation::Sigmoid => {
            // σ(net) = 1/(1 + e^(−net))
            let def = Expr::bin(
                BinOp::Div,
                Expr::Num(1.0),
                Expr::bin(
                    BinOp::Add,
                    Expr::Num(1.0),
                    call(Builtin::Exp, vec![Expr::Neg(Box::new(net_sym.clone()))]),
                ),
            );
            let (s0, s1, s2) = ctx.with_printer(|p| {
                (
                    p.symbolic(&call(Builtin::Sigmoid, vec![net_sym.clone()])),
                    p.symbolic(&def),
                    p.substituted(&def),
                )
            });
            vec![vec![s0], vec![s1], vec![s2], vec![ctx.num(out)]]
        }
        Activation::Tanh => {
            let e = call(Builtin::Tanh, vec![net_sym]);
            let (s0, s1) = ctx.with_printer(|p| (p.symbolic(&e), p.substituted(&e)));
            vec![vec![s0], vec![s1], vec![ctx.num(out)]]
        }
        Activation::Relu => vec![
            vec![format!("\\max(0, {})", ctx.latex(Sym::Net(x)))],
            vec![format!("\\max(0, {net_v})")],
            vec![ctx.num(out)],
        ],
        Activation::LeakyRelu(a) => {
            let net_l = ctx.latex(Sym::Net(x));
            let a = ctx.num(a);
            vec![
                vec![format!("\\max({a} \\cdot {net_l}, {net_l})")],
                vec![format!("\\max({a} \\cdot {}, {net_v})", paren_neg(&net_v))],
                vec![ctx.num(out)],
            ]
        }
        Activation::Identity => vec![vec![ctx.latex(Sym::Net(x))], vec![ctx.num(out)]],
        Activation::Softplus => {
            let def = call(
                Builtin::Ln,
                vec![Expr::bin(
                    BinOp::Add,
                    Expr::Num(1.0),
                    call(Builtin::Exp, vec![net_sym]),
                )],
            );
            let (s0, s1) = ctx.with_printer(|p| (p.symbolic(&def), p.substituted(&def)));
            vec![vec![s0], vec![s1], vec![ctx.num(out)]]
        }
        Activation::User(f) => {
            let e = Expr::Call(Func::User(f), vec![net_sym.clone()]);
            let body = diff::inline(f, &[net_sym], &ctx.sol.net.functions);
            let (s0, s1, s2) =
                ctx.with_printer(|p| (p.symbolic(&e), p.symbolic(&body), p.substituted(&body)));
            vec![vec![s0], vec![s1], vec![s2], vec![ctx.num(out)]]
        }
        Activation::Softmax => {
            let layer = ctx.sol.net.layer_of(x);
            let exp = |v: String| format!("e^{{{v}}}");
            let den: Part = layer
                .neurons
                .clone()
                .enumerate()
                .map(|(i, k)| plus(i, exp(ctx.latex(Sym::Net(k)))))
                .collect();
            let den_v: Part = layer
                .neurons
                .clone()
                .enumerate()
                .map(|(i, k)| plus(i, exp(ctx.num(d.forward.net[k as usize]))))
                .collect();
            vec![
                vec![format!(
                    "\\frac{{{}}}{{{}}}",
                    exp(ctx.latex(Sym::Net(x))),
                    den.join(" ")
                )],
                vec![format!(
                    "\\frac{{{}}}{{{}}}",
                    exp(net_v.clone()),
                    den_v.join(" ")
                )],
                vec![ctx.num(out)],
            ]
        }
    };
    chain_lines(&lhs, &parts)
}

fn paren_neg(s: &str) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s.to_string()
    }
}

/// Which δ's a step may refer back to: those derived by earlier steps
/// (`at[y] < step`), and those this step has derived so far.
struct Derived<'r> {
    plan: &'r StepPlan,
    step: usize,
    local: Vec<(u32, DeltaRef)>,
}

impl Derived<'_> {
    fn get(&self, y: u32) -> Option<&DeltaRef> {
        if let Some((_, r)) = self.local.iter().find(|(n, _)| *n == y) {
            return Some(r);
        }
        if self.plan.at[y as usize] < self.step {
            return self.plan.refs[y as usize].as_ref();
        }
        None
    }

    fn set(&mut self, y: u32, r: DeltaRef) {
        self.local.push((y, r));
    }
}

/// The neurons whose δ a hidden neuron's ∂E_total/∂out sums over, and for
/// softmax layers the layer's neurons whose ∂E_total/∂out the δ needs.
fn needed(ctx: &Ctx<'_, '_>, x: u32) -> Vec<u32> {
    match &ctx.der.neurons[x as usize].d_out {
        DOut::Sum(edges) => edges.iter().map(|e| e.to).collect(),
        DOut::Loss(_) => Vec::new(),
    }
}

fn feeders(ctx: &Ctx<'_, '_>, y: u32) -> Vec<u32> {
    let layer = ctx.sol.net.layer_of(y);
    if layer.activation == Activation::Softmax {
        layer.neurons.clone().collect()
    } else {
        vec![y]
    }
}

/// Where each δ is first derived, decided step by step so that the steps
/// can then be built independently (and in parallel).
struct StepPlan {
    /// The index of the step that derives δ_y (`usize::MAX` if none does).
    at: Vec<usize>,
    /// The reference later steps print for δ_y.
    refs: Vec<Option<DeltaRef>>,
    /// For each step and each of its terms, the δ's of later layers that the
    /// term's neuron needs and no earlier step derived, in the order they are
    /// derived (a δ after the δ's it sums over).
    ahead: Vec<Vec<Vec<u32>>>,
}

fn plan(ctx: &Ctx<'_, '_>, order: &[usize]) -> StepPlan {
    let n = ctx.sol.net.neurons.len();
    let mut plan = StepPlan {
        at: vec![usize::MAX; n],
        refs: vec![None; n],
        ahead: Vec::with_capacity(order.len()),
    };
    /// Marks, depth first, the δ's that `x`'s ∂E_total/∂out sums over.
    fn ensure(ctx: &Ctx<'_, '_>, x: u32, i: usize, at: &mut [usize], list: &mut Vec<u32>) {
        for y in needed(ctx, x) {
            if at[y as usize] != usize::MAX {
                continue;
            }
            for f in feeders(ctx, y) {
                ensure(ctx, f, i, at, list);
            }
            at[y as usize] = i;
            list.push(y);
        }
    }
    for (i, &p) in order.iter().enumerate() {
        let anchor = step_anchor(ctx, p);
        let inline = ctx.inline(Sym::ErrTotal, Sym::Param(p as u32));
        let mut per_term = Vec::new();
        for edge in &ctx.der.params[p].terms {
            let y = edge.to;
            let mut list = Vec::new();
            match edge.via() {
                Via::Net(_) => {}
                // ∂E_total/∂out_Y is derived in the step itself, from the
                // δ's it sums over; δ_Y is not needed.
                Via::Out(_) => {
                    ensure(ctx, y, i, &mut plan.at, &mut list);
                    for &z in &list {
                        plan.refs[z as usize] = Some(delta_ref(ctx, z, &anchor, &inline));
                    }
                    per_term.push(list);
                    continue;
                }
                Via::Err(_) => {
                    per_term.push(list);
                    continue;
                }
            }
            if plan.at[y as usize] == usize::MAX {
                ensure(ctx, y, i, &mut plan.at, &mut list);
                plan.at[y as usize] = i;
                list.push(y);
            }
            for &z in &list {
                plan.refs[z as usize] = Some(delta_ref(ctx, z, &anchor, &inline));
            }
            // The term's own neuron is derived in the step itself.
            list.retain(|&z| z != y);
            per_term.push(list);
        }
        plan.ahead.push(per_term);
    }
    plan
}

fn step_anchor(ctx: &Ctx<'_, '_>, p: usize) -> String {
    format!("d{}", ctx.sol.net.params[p].name.to_ascii_lowercase())
}

/// Whether δ_Y is ∂E_Y/∂net_Y: Y is an output whose error only it affects.
fn per_output(ctx: &Ctx<'_, '_>, y: u32) -> bool {
    let net = ctx.sol.net;
    net.is_output(y) && net.layer_of(y).activation != Activation::Softmax
}

/// The lines deriving δ_Y from ∂E_total/∂out_Y and ∂out_Y/∂net_Y, with the
/// factor views; δ's of later layers it needs must be derived already.
fn delta_factors(
    ctx: &Ctx<'_, '_>,
    y: u32,
    n: &mut usize,
    derived: &Derived<'_>,
) -> (Vec<FactorView>, Vec<String>) {
    let d = &ctx.der;
    let g = &d.neurons[y as usize];
    let mut factors = Vec::new();
    match &g.d_act {
        DAct::Softmax(col) => {
            // δ_Y = Σ_j ∂E_total/∂out_j · ∂out_j/∂net_Y
            *n += 1;
            let layer = ctx.sol.net.layer_of(y);
            let mut lines = Vec::new();
            let mut sym = Vec::new();
            let mut vals = Vec::new();
            for (i, (j, f)) in layer.neurons.clone().zip(col).enumerate() {
                let gj = &d.neurons[j as usize];
                if let DOut::Loss(lf) = &gj.d_out {
                    lines.extend(ctx.factor_lines(lf));
                }
                lines.extend(ctx.factor_lines(f));
                sym.push(plus(
                    i,
                    format!(
                        "{} \\cdot {}",
                        ctx.partial(Sym::ErrTotal, Sym::Out(j)),
                        ctx.partial(Sym::Out(j), Sym::Net(y))
                    ),
                ));
                vals.push(plus(
                    i,
                    format!(
                        "{} \\cdot {}",
                        ctx.num_factor(gj.d_out_value),
                        ctx.num_factor(f.value)
                    ),
                ));
            }
            lines.extend(chain_lines(
                &ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                &[sym, vals, vec![ctx.num(g.delta)]],
            ));
            factors.push(FactorView {
                n: *n,
                label: ctx.circled(*n),
                partial: ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                inline: ctx.inline(Sym::ErrTotal, Sym::Net(y)),
                lines,
                reference: None,
                uses: Vec::new(),
                rule: diff::Rule::Softmax.name(),
            });
        }
        DAct::Elementwise(fa) => {
            *n += 1;
            factors.push(d_out_factor(ctx, y, *n, derived));
            *n += 1;
            factors.push(FactorView {
                n: *n,
                label: ctx.circled(*n),
                partial: ctx.partial(fa.of, fa.wrt),
                inline: ctx.inline(fa.of, fa.wrt),
                lines: ctx.factor_lines(fa),
                reference: None,
                uses: Vec::new(),
                rule: fa.rule.name(),
            });
        }
    }
    // δ_Y = ① · ② = value
    let mut lines = match &g.d_act {
        DAct::Elementwise(fa) => {
            let nums = [factors[0].n, factors[1].n];
            chain_lines(
                &format!(
                    "{} = {}",
                    ctx.delta(y),
                    ctx.partial(Sym::ErrTotal, Sym::Net(y))
                ),
                &[
                    vec![format!(
                        "{} \\cdot {}",
                        ctx.circled_math(nums[0]),
                        ctx.circled_math(nums[1])
                    )],
                    vec![format!(
                        "{} \\cdot {}",
                        ctx.num_factor(g.d_out_value),
                        ctx.num_factor(fa.value)
                    )],
                    vec![ctx.num(g.delta)],
                ],
            )
        }
        DAct::Softmax(_) => vec![format!(
            "{} = {} &= {}",
            ctx.delta(y),
            ctx.partial(Sym::ErrTotal, Sym::Net(y)),
            ctx.num(g.delta)
        )],
    };
    // The simplification tutorials highlight: with softmax and
    // cross-entropy (targets summing to 1), or a sigmoid output and binary
    // cross-entropy, δ_k = out_k − target_k.
    if let Some(e) = simplified_delta(ctx, y) {
        let parts = ctx.expr_parts(&e, g.delta);
        lines.extend(chain_lines(&ctx.delta(y), &parts));
    }
    (factors, lines)
}

/// Factor number `n`: ∂E_total/∂out_Y, the loss's derivative for an output,
/// else the sum over the neurons Y feeds.
fn d_out_factor(ctx: &Ctx<'_, '_>, y: u32, n: usize, derived: &Derived<'_>) -> FactorView {
    let (lines, uses, rule) = match &ctx.der.neurons[y as usize].d_out {
        DOut::Loss(f) => {
            let mut lines = loss_sum_line(ctx, y);
            lines.extend(ctx.factor_lines(f));
            (lines, Vec::new(), f.rule.name())
        }
        DOut::Sum(edges) => sum_lines(ctx, y, edges, derived),
    };
    FactorView {
        n,
        label: ctx.circled(n),
        partial: ctx.partial(Sym::ErrTotal, Sym::Out(y)),
        inline: ctx.inline(Sym::ErrTotal, Sym::Out(y)),
        lines,
        reference: None,
        uses,
        rule,
    }
}

/// δ_y = out_y − target_y, when the loss and the output activation make it so.
fn simplified_delta(ctx: &Ctx<'_, '_>, y: u32) -> Option<Expr> {
    let net = ctx.sol.net;
    if !net.is_output(y) {
        return None;
    }
    let act = net.layer_of(y).activation;
    let applies = match (&net.loss, act) {
        (crate::model::Loss::Bce, Activation::Sigmoid) => true,
        (crate::model::Loss::Ce, Activation::Softmax) => {
            let sum: f64 = net
                .outputs()
                .filter_map(|o| ctx.values.get(Sym::Target(o)))
                .sum();
            (sum - 1.0).abs() < 1e-12
        }
        _ => false,
    };
    applies.then(|| {
        Expr::bin(
            BinOp::Sub,
            Expr::Var(Sym::Out(y)),
            Expr::Var(Sym::Target(y)),
        )
    })
}

/// For an output's first factor: E_total = Σ E_k, of which only E_Y depends on out_Y.
fn loss_sum_line(ctx: &Ctx<'_, '_>, y: u32) -> Vec<String> {
    let net = ctx.sol.net;
    let outs: Vec<u32> = net.outputs().collect();
    if outs.len() < 2 {
        return Vec::new();
    }
    let e = ctx.der.forward.err_expr[y as usize]
        .clone()
        .unwrap_or(Expr::Num(0.0));
    let others = if outs.len() == 2 {
        let other = outs.iter().find(|&&o| o != y).copied().unwrap_or(y);
        ctx.latex(Sym::Err(other))
    } else {
        "\\dots".to_string()
    };
    let sym = ctx.with_printer(|p| p.symbolic(&e));
    vec![format!(
        "{} &= {} + {}",
        ctx.latex(Sym::ErrTotal),
        sym,
        others
    )]
}

/// ∂E_total/∂out_X = Σ_Y δ_Y · ∂net_Y/∂out_X, each term shown.
fn sum_lines(
    ctx: &Ctx<'_, '_>,
    x: u32,
    edges: &[crate::derivation::Edge],
    derived: &Derived<'_>,
) -> (Vec<String>, Vec<DeltaRef>, String) {
    let d = &ctx.der;
    let lhs = ctx.partial(Sym::ErrTotal, Sym::Out(x));
    let rule = diff::Rule::SumOverOutputs.name();
    if edges.is_empty() {
        return (vec![format!("{lhs} &= 0")], Vec::new(), rule);
    }
    let term_label = |y: u32| {
        if per_output(ctx, y) {
            ctx.partial(Sym::Err(y), Sym::Out(x))
        } else {
            format!(
                "{} \\cdot {}",
                ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                ctx.partial(Sym::Net(y), Sym::Out(x))
            )
        }
    };
    let mut lines = Vec::new();
    let labels: Part = edges
        .iter()
        .enumerate()
        .map(|(i, e)| plus(i, term_label(e.to)))
        .collect();
    lines.extend(chain_lines(&lhs, &[labels]));
    let mut uses = Vec::new();
    if edges.len() > 1 || per_output(ctx, edges[0].to) {
        for e in edges {
            let y = e.to;
            let dy = if per_output(ctx, y) {
                ctx.partial(Sym::Err(y), Sym::Net(y))
            } else {
                ctx.partial(Sym::ErrTotal, Sym::Net(y))
            };
            let lhs_t = if per_output(ctx, y) {
                ctx.partial(Sym::Err(y), Sym::Out(x))
            } else {
                format!(
                    "{} \\cdot {}",
                    ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                    ctx.partial(Sym::Net(y), Sym::Out(x))
                )
            };
            let fsym = ctx.with_printer(|p| p.symbolic(&e.factor.symbolic));
            let fsym = if e.factor.symbolic.additive_terms().len() > 1 {
                format!("\\left({fsym}\\right)")
            } else {
                fsym
            };
            let mut parts: Vec<Part> = Vec::new();
            if per_output(ctx, y) {
                parts.push(vec![format!(
                    "{dy} \\cdot {}",
                    ctx.partial(Sym::Net(y), Sym::Out(x))
                )]);
            }
            parts.push(vec![format!("{} \\cdot {fsym}", ctx.delta(y))]);
            parts.push(vec![format!(
                "{} \\cdot {}",
                ctx.num_factor(d.neurons[y as usize].delta),
                ctx.num_factor(e.factor.value)
            )]);
            parts.push(vec![ctx.num(e.value)]);
            lines.extend(chain_lines(&lhs_t, &parts));
            if let Some(r) = derived.get(y) {
                uses.push(r.clone());
            }
        }
    } else if let Some(r) = derived.get(edges[0].to) {
        uses.push(r.clone());
    }
    let vals: Part = edges
        .iter()
        .enumerate()
        .map(|(i, e)| plus_num(ctx, i, e.value))
        .collect();
    let mut parts = Vec::new();
    if edges.len() > 1 {
        parts.push(vals);
    } else {
        let e = &edges[0];
        let fsym = ctx.with_printer(|p| p.symbolic(&e.factor.symbolic));
        parts.push(vec![format!("{} \\cdot {fsym}", ctx.delta(e.to))]);
        parts.push(vec![format!(
            "{} \\cdot {}",
            ctx.num_factor(d.neurons[e.to as usize].delta),
            ctx.num_factor(e.factor.value)
        )]);
    }
    parts.push(vec![ctx.num(d.neurons[x as usize].d_out_value)]);
    lines.extend(chain_lines(&lhs, &parts));
    (lines, uses, rule)
}

/// Makes sure δ_Y of every neuron the hidden neuron `x` feeds is derived
/// The block deriving δ_y ahead of a step's own terms (a later layer's δ
/// that no earlier step derived).
fn ahead_block(ctx: &Ctx<'_, '_>, y: u32, derived: &Derived<'_>) -> DeltaDef {
    let d = &ctx.der;
    let mut n = 0;
    let (factors, delta_lines) = delta_factors(ctx, y, &mut n, derived);
    let mut lines: Vec<String> = factors.into_iter().flat_map(|f| f.lines).collect();
    if matches!(d.neurons[y as usize].d_act, DAct::Elementwise(_)) {
        lines.push(format!(
            "{} &= {} \\cdot {} = {}",
            ctx.delta(y),
            ctx.partial(Sym::ErrTotal, Sym::Out(y)),
            ctx.partial(Sym::Out(y), Sym::Net(y)),
            ctx.num(d.neurons[y as usize].delta)
        ));
    } else {
        lines.extend(delta_lines);
    }
    DeltaDef {
        delta: ctx.delta(y),
        lines,
    }
}

fn delta_ref(ctx: &Ctx<'_, '_>, y: u32, anchor: &str, step: &str) -> DeltaRef {
    DeltaRef {
        delta: ctx.delta(y),
        partial: ctx.partial(Sym::ErrTotal, Sym::Net(y)),
        inline: ctx.inline(Sym::ErrTotal, Sym::Net(y)),
        value: ctx.num(ctx.der.neurons[y as usize].delta),
        anchor: anchor.to_string(),
        step: step.to_string(),
    }
}

/// Builds the steps of `order` on all cores, and `meanwhile` on this
/// thread; each step sees the δ's that [`plan`] says earlier steps derived.
fn build_steps<M>(
    ctx: &Ctx<'_, '_>,
    order: &[usize],
    plan: &StepPlan,
    meanwhile: impl FnOnce() -> M,
) -> (Vec<StepView>, M) {
    let indexed: Vec<(usize, usize)> = order.iter().copied().enumerate().collect();
    let (chunks, done) = super::parallel::chunks(
        &indexed,
        |group| {
            group
                .iter()
                .map(|&(i, p)| {
                    let mut derived = Derived {
                        plan,
                        step: i,
                        local: Vec::new(),
                    };
                    step(ctx, p, &mut derived)
                })
                .collect::<Vec<_>>()
        },
        meanwhile,
    );
    let steps = chunks
        .into_iter()
        .flat_map(|c| c.expect("a page thread panicked (this is a bug in chainrule)"))
        .collect();
    (steps, done)
}

/// The step of param `p`.
fn step(ctx: &Ctx<'_, '_>, p: usize, derived: &mut Derived<'_>) -> StepView {
    let net = ctx.sol.net;
    let d = &ctx.der;
    let g = &d.params[p];
    let psym = Sym::Param(p as u32);
    let anchor = step_anchor(ctx, p);
    let gradient = ctx.partial(Sym::ErrTotal, psym);
    let deepest = g
        .terms
        .iter()
        .map(|e| net.neurons[e.to as usize].layer)
        .max();
    let layer = deepest.map_or(String::new(), |l| net.layers[l as usize].name.clone());
    let output_layer = deepest.is_some_and(|l| l as usize + 1 == net.layers.len());

    let mut before = Vec::new();
    let mut factors = Vec::new();
    let mut deltas = Vec::new();
    let mut chain_terms: Part = Vec::new();
    let mut product_terms: Part = Vec::new();
    let mut n = 0usize;
    for (ti, edge) in g.terms.iter().enumerate() {
        let y = edge.to;
        let ng = &d.neurons[y as usize];
        let mut braces = Vec::new();
        let mut nums = Vec::new();
        if let Via::Out(_) = edge.via() {
            // A param of the activation function: ∂E_total/∂out_Y, then
            // ∂out_Y/∂p below.
            for &z in &derived.plan.ahead[derived.step][ti] {
                before.push(ahead_block(ctx, z, derived));
                derived.set(
                    z,
                    delta_ref(ctx, z, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
                );
            }
            n += 1;
            let f = d_out_factor(ctx, y, n, derived);
            braces.push(format!(
                "\\underbrace{{{}}}_{{{}}}",
                f.partial,
                ctx.circled_math(n)
            ));
            nums.push(ctx.num_factor(ng.d_out_value));
            factors.push(f);
        } else if let Via::Err(_) = edge.via() {
            // A param of the loss: ∂E_Y/∂p alone.
        } else if let Some(r) = derived.get(y).cloned() {
            n += 1;
            braces.push(format!(
                "\\underbrace{{{}}}_{{{}}}",
                r.partial,
                ctx.circled_math(n)
            ));
            nums.push(ctx.num_factor(ng.delta));
            factors.push(FactorView {
                n,
                label: ctx.circled(n),
                partial: r.partial.clone(),
                inline: r.inline.clone(),
                lines: Vec::new(),
                reference: Some(r),
                uses: Vec::new(),
                rule: "delta".into(),
            });
        } else {
            for &z in &derived.plan.ahead[derived.step][ti] {
                before.push(ahead_block(ctx, z, derived));
                derived.set(
                    z,
                    delta_ref(ctx, z, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
                );
            }
            let (fs, dl) = delta_factors(ctx, y, &mut n, derived);
            for f in &fs {
                braces.push(format!(
                    "\\underbrace{{{}}}_{{{}}}",
                    f.partial,
                    ctx.circled_math(f.n)
                ));
            }
            match &ng.d_act {
                DAct::Elementwise(fa) => {
                    nums.push(ctx.num_factor(ng.d_out_value));
                    nums.push(ctx.num_factor(fa.value));
                }
                DAct::Softmax(_) => nums.push(ctx.num_factor(ng.delta)),
            }
            factors.extend(fs);
            deltas.push(DeltaDef {
                delta: ctx.delta(y),
                lines: dl,
            });
            derived.set(
                y,
                delta_ref(ctx, y, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
            );
        }
        n += 1;
        let f = &edge.factor;
        braces.push(format!(
            "\\underbrace{{{}}}_{{{}}}",
            ctx.partial(f.of, f.wrt),
            ctx.circled_math(n)
        ));
        nums.push(ctx.num_factor(f.value));
        factors.push(FactorView {
            n,
            label: ctx.circled(n),
            partial: ctx.partial(f.of, f.wrt),
            inline: ctx.inline(f.of, f.wrt),
            lines: ctx.factor_lines(f),
            reference: None,
            uses: Vec::new(),
            rule: f.rule.name(),
        });
        chain_terms.push(plus(ti, braces.join(" \\cdot ")));
        product_terms.push(plus(ti, nums.join(" \\cdot ")));
    }
    let unused = g.terms.is_empty();
    let chain = if unused {
        vec![format!("{gradient} &= 0")]
    } else {
        chain_lines(&gradient, &[chain_terms])
    };
    // A lone factor (a param of the loss alone) has nothing to multiply.
    let lone = g.terms.len() == 1 && factors.len() == 1;
    let product = if unused {
        Vec::new()
    } else if lone {
        chain_lines(&gradient, &[vec![ctx.num(g.value)]])
    } else {
        chain_lines(&gradient, &[product_terms, vec![ctx.num(g.value)]])
    };
    let pl = latex_name(&net.params[p].name);
    let rule = net.update_rule();
    let update = if rule.is_plain() {
        chain_lines(
            &format!("{pl}^{{+}}"),
            &[
                vec![format!("{pl} - \\eta \\cdot {gradient}")],
                vec![format!(
                    "{} - {} \\cdot {}",
                    ctx.num(net.params[p].value),
                    ctx.num(net.rate),
                    ctx.num_factor(g.value)
                )],
                vec![ctx.num(g.updated)],
            ],
        )
    } else {
        super::update::lines(
            &rule,
            &pl,
            &gradient,
            &g.step,
            (0.0, 0.0),
            1,
            &ctx.sig_nums(),
        )
    };
    StepView {
        anchor,
        param: net.params[p].name.clone(),
        param_latex: pl,
        layer,
        output_layer,
        gradient_inline: ctx.inline(Sym::ErrTotal, psym),
        gradient,
        before,
        chain,
        factors,
        deltas,
        product,
        update,
        unused,
    }
}
