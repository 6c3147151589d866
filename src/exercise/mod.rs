//! The self-check exercise: every quantity of the worked solution as a box
//! to fill in, in the order of the solution, each with what it is, its
//! value, what each known mistake gives for it (the table `check` judges
//! with), and its formula as JavaScript over the quantities it is computed
//! from, so that the page can credit a value computed correctly from the
//! student's own earlier wrong one (error carried forward).
//!
//! The page only compares: everything it compares with is computed here,
//! from the same derivation every other output reads.

mod batch;
pub mod js;
mod make;
pub mod page;

pub use make::{make, Error};
pub use page::{render, strings};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::{mistake_values, Quantity};
use crate::derivation::{DAct, DOut, Derivation, EvalError, Via};
use crate::expr::{Expr, Names, Sym};
use crate::model::{Activation, Network};
use crate::notation::{latex_name, NetNames, Notation};
use crate::render::page::{Page, StepView};

/// One box: a quantity the student computes.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The quantity, for the mistakes' table.
    #[serde(skip)]
    pub quantity: Quantity,
    /// Its name as `check` reads it (`net_h1`, `dE_total/dw5`, `delta_o1`,
    /// `w5+`, `E_total+`): the `data-quantity` of its input.
    pub name: String,
    /// LaTeX of the quantity.
    pub latex: String,
    /// Its exact value.
    pub value: f64,
    /// What each known mistake gives.
    pub mistakes: Vec<MistakeJs>,
    /// Its formula over the quantities it is computed from, as JavaScript
    /// (`v("w5") * v("out_h1")`); `None` where no single step computes it.
    pub formula: Option<String>,
}

/// A mistake's value for an item.
#[derive(Debug, Clone, Serialize)]
pub struct MistakeJs {
    /// The stable code (`sign_flip`).
    pub code: &'static str,
    /// The value it gives.
    pub value: f64,
    /// In words.
    pub words: String,
}

/// A part of the solution: the forward pass of a layer, the error, one
/// param's step, or the values after the update.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Its anchor.
    pub id: String,
    /// LaTeX of its heading's math, or empty.
    pub heading_math: String,
    /// Its heading's text key (`forward`, `error`, `gradient`, `after`).
    pub kind: &'static str,
    /// The boxes, in order.
    pub items: Vec<Item>,
    /// The worked solution of this part, as blocks of LaTeX lines (each an
    /// `aligned` block, or prose when it starts with `%text `): "show this
    /// step" shows them all, "show the next factor" one at a time.
    pub blocks: Vec<Block>,
}

/// One block of a section's worked solution.
#[derive(Debug, Clone, Serialize)]
pub struct Block {
    /// Its label on the worked page (①), or empty.
    pub label: String,
    /// LaTeX of what it derives (a factor's partial, inline), or empty.
    pub title: String,
    /// Lines of an `aligned` block.
    pub lines: Vec<String>,
}

/// The exercise of one sample (or of the network itself).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// `main`, or `s1`, `s2`, … for the samples of a `data` block, and
    /// `batch` for their combination.
    pub id: String,
    /// The fixed values the formulas read (inputs, params, consts,
    /// targets, the rate), by name.
    pub fixed: BTreeMap<String, f64>,
    /// Its sections, in the order of the solution.
    pub sections: Vec<Section>,
}

/// Everything the page shows and compares.
#[derive(Debug, Clone, Serialize)]
pub struct Exercise {
    /// The title.
    pub title: String,
    /// The groups: one, or each sample and the batch.
    pub groups: Vec<Group>,
    /// For each sample (with data): its inputs and targets, for the picker.
    pub samples: Vec<String>,
    /// The user functions as JavaScript (`U[k]`).
    pub functions: String,
}

/// The names and values of one sample's solution.
struct Ctx<'a> {
    net: &'a Network,
    d: &'a Derivation,
    plain: NetNames<'a>,
    names: NetNames<'a>,
    asked: Vec<String>,
}

impl Ctx<'_> {
    fn name(&self, s: Sym) -> String {
        self.plain.plain(s)
    }

    fn delta_name(&self, y: u32) -> String {
        format!("delta_{}", self.net.neurons[y as usize].name)
    }

    fn partial_name(&self, of: Sym, wrt: Sym) -> String {
        format!("d{}/d{}", self.name(of), self.name(wrt))
    }

    fn latex(&self, s: Sym) -> String {
        self.names.latex(s)
    }

    fn partial_latex(&self, of: Sym, wrt: Sym) -> String {
        format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            self.latex(of),
            self.latex(wrt)
        )
    }

    fn delta_latex(&self, y: u32) -> String {
        format!(
            "\\delta_{{{}}}",
            latex_name(&self.net.neurons[y as usize].name)
        )
    }

    /// JavaScript of `e`, names looked up in the page.
    fn js(&self, e: &Expr) -> String {
        js::print(e, &|s| Some(self.name(s)))
    }

    fn v(&self, name: &str) -> String {
        format!("v({})", js::string(name))
    }

    fn asked(&self, name: &str) -> bool {
        self.asked.iter().any(|n| n == name)
    }

    fn item(
        &mut self,
        quantity: Quantity,
        name: String,
        latex: String,
        value: f64,
        formula: Option<String>,
    ) -> Item {
        self.asked.push(name.clone());
        Item {
            quantity,
            name,
            latex,
            value,
            mistakes: Vec::new(),
            formula,
        }
    }
}

/// Gives the derivation and worked page of a network of one sample.
pub type PageOf<'a> = dyn Fn(&Network) -> Result<(Derivation, Page), EvalError> + 'a;

/// The exercise of `net` (with a `data` block: of each sample, and of the
/// batch), with its derivation `d`; `page_of` gives the worked solution of a
/// network of one sample, whose steps the page reveals.
pub fn build(net: &Network, d: &Derivation, page_of: &PageOf<'_>) -> Result<Exercise, EvalError> {
    let mut groups = Vec::new();
    let mut samples = Vec::new();
    match &net.data {
        None => {
            let (_, page) = page_of(net)?;
            groups.push(group(net, d, &page, "main".to_string()));
        }
        Some(data) => {
            for (k, (xs, ts)) in data.rows.iter().enumerate() {
                let one = net.one_sample(k);
                let text: Vec<String> =
                    data.inputs
                        .iter()
                        .zip(xs)
                        .map(|(&i, x)| format!("{} = {}", net.inputs[i as usize].name, x))
                        .chain(data.outputs.iter().zip(ts).map(|(&o, t)| {
                            format!("target_{} = {}", net.neurons[o as usize].name, t)
                        }))
                        .collect();
                samples.push(text.join(", "));
                let (dk, page) = page_of(&one)?;
                groups.push(group(&one, &dk, &page, format!("s{}", k + 1)));
            }
            groups.push(batch::batch(net, d));
        }
    }
    let plain = NetNames::new(net, Notation::NetOut);
    Ok(Exercise {
        title: net.title.clone().unwrap_or_default(),
        groups,
        samples,
        functions: js::functions(net, &|s| Some(plain.plain(s))),
    })
}

fn fixed_values(net: &Network) -> BTreeMap<String, f64> {
    let plain = NetNames::new(net, Notation::NetOut);
    let mut fixed = BTreeMap::new();
    for (i, s) in net.inputs.iter().enumerate() {
        fixed.insert(plain.plain(Sym::Input(i as u32)), s.value);
    }
    for (i, s) in net.params.iter().enumerate() {
        fixed.insert(plain.plain(Sym::Param(i as u32)), s.value);
    }
    for (i, s) in net.consts.iter().enumerate() {
        fixed.insert(plain.plain(Sym::Const(i as u32)), s.value);
    }
    for x in net.outputs() {
        if let Some(t) = net.targets[x as usize] {
            fixed.insert(plain.plain(Sym::Target(x)), t);
        }
    }
    fixed.insert("eta".to_string(), net.rate);
    fixed
}

/// The exercise of one sample: `net` holds that sample's values.
fn group(net: &Network, d: &Derivation, page: &Page, id: String) -> Group {
    let mut c = Ctx {
        net,
        d,
        plain: NetNames::new(net, Notation::NetOut),
        names: NetNames::new(net, Notation::NetOut),
        asked: Vec::new(),
    };
    let mut sections = Vec::new();

    // Forward pass, layer by layer.
    for (l, layer) in net.layers.iter().enumerate() {
        let mut items = Vec::new();
        for x in layer.neurons.clone() {
            let neuron = &net.neurons[x as usize];
            let f = c.js(&neuron.net);
            items.push(c.item(
                Quantity::Value(Sym::Net(x)),
                c.name(Sym::Net(x)),
                c.latex(Sym::Net(x)),
                d.worked().forward.net[x as usize],
                Some(f),
            ));
            let out = match layer.activation {
                Activation::Softmax => crate::check::softmax_expr(layer.neurons.clone(), x),
                a => crate::derivation::activation_expr(a, x),
            };
            let f = c.js(&out);
            items.push(c.item(
                Quantity::Value(Sym::Out(x)),
                c.name(Sym::Out(x)),
                c.latex(Sym::Out(x)),
                d.worked().forward.out[x as usize],
                Some(f),
            ));
        }
        let blocks = page
            .forward
            .get(l)
            .map(|lv| {
                lv.neurons
                    .iter()
                    .map(|n| Block {
                        label: String::new(),
                        title: String::new(),
                        lines: n.lines.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        sections.push(Section {
            id: format!("{id}-forward-{}", layer.name),
            heading_math: String::new(),
            kind: "forward",
            items,
            blocks,
        });
    }

    // The error.
    let mut items = Vec::new();
    let mut total = Vec::new();
    for x in net.outputs() {
        let e = d.worked().forward.err_expr[x as usize]
            .clone()
            .unwrap_or(Expr::Num(0.0));
        let f = c.js(&e);
        items.push(c.item(
            Quantity::Value(Sym::Err(x)),
            c.name(Sym::Err(x)),
            c.latex(Sym::Err(x)),
            d.worked().forward.err[x as usize],
            Some(f),
        ));
        total.push(c.v(&c.name(Sym::Err(x))));
    }
    if let Some(l2) = &net.l2 {
        let squares: Vec<String> = l2
            .params
            .iter()
            .map(|&p| {
                let v = c.v(&c.name(Sym::Param(p)));
                format!("{v} * {v}")
            })
            .collect();
        total.push(format!("{:?} * ({})", 0.5 * l2.lambda, squares.join(" + ")));
    }
    items.push(c.item(
        Quantity::Value(Sym::ErrTotal),
        "E_total".to_string(),
        "E_{total}".to_string(),
        d.total,
        Some(total.join(" + ")),
    ));
    sections.push(Section {
        id: format!("{id}-error"),
        heading_math: String::new(),
        kind: "error",
        items,
        blocks: vec![Block {
            label: String::new(),
            title: String::new(),
            lines: page.error.lines.clone(),
        }],
    });

    // One step per param, in the page's order.
    for step in &page.backward {
        let Some(p) = net.params.iter().position(|s| s.name == step.param) else {
            continue;
        };
        let items = param_items(&mut c, p);
        sections.push(Section {
            id: format!("{id}-{}", step.anchor),
            heading_math: step.gradient_inline.clone(),
            kind: "gradient",
            items,
            blocks: step_blocks(step),
        });
    }

    // After the update.
    if d.after_problem.is_none() {
        let item = c.item(
            Quantity::After(Sym::ErrTotal),
            "E_total+".to_string(),
            "E_{total}^{+}".to_string(),
            d.total_after,
            None,
        );
        sections.push(Section {
            id: format!("{id}-after"),
            heading_math: String::new(),
            kind: "after",
            items: vec![item],
            blocks: Vec::new(),
        });
    }

    // What each mistake gives, for every box at once.
    let all: Vec<Quantity> = sections
        .iter()
        .flat_map(|s| &s.items)
        .map(|it| it.quantity)
        .collect();
    let mut table = mistake_values(net, &all).into_iter();
    for s in &mut sections {
        for it in &mut s.items {
            if let Some((_, list)) = table.next() {
                it.mistakes = list
                    .into_iter()
                    .map(|m| MistakeJs {
                        code: m.mistake.code(),
                        value: m.value,
                        words: m.words,
                    })
                    .collect();
            }
        }
    }
    Group {
        id,
        fixed: fixed_values(net),
        sections,
    }
}

/// The boxes of param `p`'s step: the factors not asked before, each δ,
/// the gradient and the update.
fn param_items(c: &mut Ctx<'_>, p: usize) -> Vec<Item> {
    let d = c.d;
    let psym = Sym::Param(p as u32);
    let mut items = Vec::new();
    let mut sum = Vec::new();
    for edge in &d.worked().gradients[p].terms {
        let y = edge.to;
        // What comes before the term's own factor in the chain, asked first.
        let upstream = match edge.via() {
            Via::Net(_) => {
                ask_delta(c, y, &mut items);
                Some(c.delta_name(y))
            }
            Via::Out(_) => {
                ask_d_out(c, y, &mut items);
                Some(c.partial_name(Sym::ErrTotal, Sym::Out(y)))
            }
            Via::Err(_) => None,
        };
        // The factor ∂net_Y/∂p, ∂out_Y/∂p or ∂E_Y/∂p.
        let of = edge.factor.of;
        let name = c.partial_name(of, psym);
        let f = c.js(&edge.factor.symbolic);
        items.push(c.item(
            Quantity::Partial { of, wrt: psym },
            name.clone(),
            c.partial_latex(of, psym),
            edge.factor.value,
            Some(f),
        ));
        sum.push(match upstream {
            Some(u) => format!("{} * {}", c.v(&u), c.v(&name)),
            None => c.v(&name),
        });
    }
    let g = &d.params[p];
    let name = c.partial_name(Sym::ErrTotal, psym);
    if let Some(l2) = c.net.l2.as_ref().filter(|l| l.covers(p as u32)) {
        sum.push(format!("{:?} * {}", l2.lambda, c.v(&c.name(psym))));
    }
    let formula = if sum.is_empty() {
        "0".to_string()
    } else {
        sum.join(" + ")
    };
    items.push(c.item(
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: psym,
        },
        name.clone(),
        c.partial_latex(Sym::ErrTotal, psym),
        g.value,
        Some(formula),
    ));
    let pname = c.name(psym);
    let update = first_update_js(c.net, &c.v(&pname), &c.v(&name));
    items.push(c.item(
        Quantity::Updated(p as u32),
        format!("{pname}+"),
        format!("{}^{{+}}", c.latex(psym)),
        g.updated,
        Some(update),
    ));
    items
}

/// The first update of the network's rule as JavaScript, from the param
/// `p` and its gradient `g` (each a `v("…")` lookup): the state starts at 0,
/// so Adam's m̂ is g and v̂ is g².
fn first_update_js(net: &Network, p: &str, g: &str) -> String {
    use crate::optimizer::Optimizer;
    let r = net.update_rule();
    let (lr, wd) = (r.rate, r.weight_decay);
    let coupled = if wd != 0.0 && !matches!(r.optimizer, Optimizer::AdamW(..)) {
        format!("({g} + {wd:?} * {p})")
    } else {
        g.to_string()
    };
    let gc = &coupled;
    match r.optimizer {
        Optimizer::Sgd | Optimizer::Momentum(_) => format!("{p} - v(\"eta\") * {gc}"),
        Optimizer::Nesterov(mu) => format!("{p} - v(\"eta\") * (1 + {mu:?}) * {gc}"),
        Optimizer::Adagrad(eps) | Optimizer::Adam(_, _, eps) => {
            format!("{p} - v(\"eta\") * {gc} / (Math.abs({gc}) + {eps:?})")
        }
        Optimizer::RmsProp(rho, eps) => format!(
            "{p} - v(\"eta\") * {gc} / (Math.sqrt({:?}) * Math.abs({gc}) + {eps:?})",
            1.0 - rho
        ),
        Optimizer::AdamW(_, _, eps) => format!(
            "{p} * (1 - {:?}) - v(\"eta\") * {g} / (Math.abs({g}) + {eps:?})",
            lr * wd
        ),
    }
}

/// Asks ∂E_total/∂out_y (if not asked yet), and before it the δ's it sums over.
fn ask_d_out(c: &mut Ctx<'_>, y: u32, items: &mut Vec<Item>) {
    let name = c.partial_name(Sym::ErrTotal, Sym::Out(y));
    if c.asked(&name) {
        return;
    }
    let g = &c.d.worked().neurons[y as usize];
    let formula = match &g.d_out {
        DOut::Loss(f) => c.js(&f.symbolic),
        DOut::Sum(edges) => {
            for e in edges {
                ask_delta(c, e.to, items);
            }
            let terms: Vec<String> = edges
                .iter()
                .map(|e| {
                    format!(
                        "{} * {}",
                        c.v(&c.delta_name(e.to)),
                        c.js(&e.factor.symbolic)
                    )
                })
                .collect();
            if terms.is_empty() {
                "0".to_string()
            } else {
                terms.join(" + ")
            }
        }
    };
    let it = c.item(
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Out(y),
        },
        name,
        c.partial_latex(Sym::ErrTotal, Sym::Out(y)),
        g.d_out_value,
        Some(formula),
    );
    items.push(it);
}

/// Asks δ_y (if not asked yet) and the factors it is the product of.
fn ask_delta(c: &mut Ctx<'_>, y: u32, items: &mut Vec<Item>) {
    let name = c.delta_name(y);
    if c.asked(&name) {
        return;
    }
    let g = &c.d.worked().neurons[y as usize];
    let formula = match &g.d_act {
        DAct::Elementwise(f) => {
            ask_d_out(c, y, items);
            let dname = c.partial_name(Sym::Out(y), Sym::Net(y));
            if !c.asked(&dname) {
                let js = c.js(&f.symbolic);
                let it = c.item(
                    Quantity::Partial {
                        of: Sym::Out(y),
                        wrt: Sym::Net(y),
                    },
                    dname.clone(),
                    c.partial_latex(Sym::Out(y), Sym::Net(y)),
                    f.value,
                    Some(js),
                );
                items.push(it);
            }
            format!(
                "{} * {}",
                c.v(&c.partial_name(Sym::ErrTotal, Sym::Out(y))),
                c.v(&dname)
            )
        }
        DAct::Softmax(col) => {
            let layer = c.net.layer_of(y).neurons.clone();
            for j in layer.clone() {
                ask_d_out(c, j, items);
            }
            layer
                .zip(col)
                .map(|(j, f)| {
                    format!(
                        "{} * {}",
                        c.v(&c.partial_name(Sym::ErrTotal, Sym::Out(j))),
                        c.js(&f.symbolic)
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ")
        }
    };
    let it = c.item(
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Net(y),
        },
        name,
        c.delta_latex(y),
        g.delta,
        Some(formula),
    );
    items.push(it);
}

/// The worked step as blocks: the chain rule, each factor, each δ, the
/// product, the update.
fn step_blocks(step: &StepView) -> Vec<Block> {
    let block = |label: &str, title: &str, lines: &[String]| Block {
        label: label.to_string(),
        title: title.to_string(),
        lines: lines.to_vec(),
    };
    let mut blocks = Vec::new();
    for b in &step.before {
        blocks.push(block("", &b.delta, &b.lines));
    }
    blocks.push(block("", "", &step.chain));
    for f in &step.factors {
        let lines = match &f.reference {
            Some(r) => vec![format!("{} = {} &= {}", r.partial, r.delta, r.value)],
            None => f.lines.clone(),
        };
        blocks.push(block(&f.label, &f.inline, &lines));
    }
    for dd in &step.deltas {
        blocks.push(block("", &dd.delta, &dd.lines));
    }
    if !step.product.is_empty() {
        blocks.push(block("", &step.gradient_inline, &step.product));
    }
    blocks.push(block(
        "",
        &format!("{}^{{+}}", step.param_latex),
        &step.update,
    ));
    blocks
}
