//! What a variant's question sheet gives and asks, as LaTeX: the given
//! values by kind (inputs, params, rate, the optimizer's constants, the L2
//! term), the data table, the net inputs and activations, and each
//! question's quantity.

use super::sheets::{dollars_to_parens, DataView, ItemView, RowView};
use super::source;
use crate::check::Quantity;
use crate::expr::{Names, Sym};
use crate::model::{Activation, Network};
use crate::notation::{latex_name, NetNames};
use crate::number;
use crate::render::latex::{chain_lines, visible_width, Printer};

/// Visible characters of a net input and its output side by side, at most.
const PAIR_WIDTH: usize = 56;

/// The samples of `data` for the sheets, and the combined loss.
pub(super) fn data_view(
    net: &Network,
    data: &crate::model::Data,
    text: &dyn Fn(&str) -> String,
) -> DataView {
    let names = NetNames::new(net, Default::default());
    let n = data.rows.len();
    let combined = match net.batch {
        crate::model::Batch::Mean => {
            format!("E_{{total}} = \\frac{{1}}{{{n}}} \\sum_{{s=1}}^{{{n}}} E^{{(s)}}")
        }
        crate::model::Batch::Sum => format!("E_{{total}} = \\sum_{{s=1}}^{{{n}}} E^{{(s)}}"),
    };
    let batch = match net.batch {
        crate::model::Batch::Mean => text("combine_mean"),
        crate::model::Batch::Sum => text("combine_sum"),
    };
    DataView {
        inputs: data
            .inputs
            .iter()
            .map(|&i| latex_name(&net.inputs[i as usize].name))
            .collect(),
        targets: data
            .outputs
            .iter()
            .map(|&o| names.latex(Sym::Target(o)))
            .collect(),
        rows: data
            .rows
            .iter()
            .enumerate()
            .map(|(k, (xs, ts))| crate::render::page::DataRow {
                n: k + 1,
                inputs: xs.iter().map(|v| source::shortest(*v)).collect(),
                targets: ts.iter().map(|v| source::shortest(*v)).collect(),
            })
            .collect(),
        batch_html: dollars_to_parens(&batch),
        batch,
        combined,
    }
}

/// The strings key of a question's words.
pub(super) fn kind_key(q: Quantity) -> &'static str {
    match q {
        Quantity::Value(Sym::ErrTotal) => "exam_q_total",
        Quantity::Value(Sym::Err(_)) => "exam_q_error",
        Quantity::Value(Sym::Net(_)) => "exam_q_net",
        Quantity::Value(Sym::Out(_)) => "exam_q_out",
        Quantity::Value(_) => "exam_q_value",
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(_),
        } => "exam_q_gradient",
        Quantity::Partial { .. } => "exam_q_partial",
        Quantity::Updated(_) => "exam_q_updated",
        Quantity::After(_) => "exam_q_after",
        Quantity::State(..) => "exam_q_state",
    }
}

/// The LaTeX of a quantity: `E_{total}`, `\frac{\partial E_{total}}{\partial
/// w_{5}}`, `w_{5}^{+}`.
pub(super) fn quantity_latex(names: &NetNames<'_>, q: Quantity) -> String {
    match q {
        Quantity::Value(s) => names.latex(s),
        Quantity::Partial { of, wrt } => format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            names.latex(of),
            names.latex(wrt)
        ),
        Quantity::Updated(p) => format!("{}^{{+}}", names.latex(Sym::Param(p))),
        Quantity::After(s) => format!("{}^{{+}}", names.latex(s)),
        Quantity::State(k, p, t) => {
            let pl = names.latex(Sym::Param(p));
            let base = match k {
                crate::check::StateKind::M => format!("m_{{{pl}}}"),
                crate::check::StateKind::V => format!("v_{{{pl}}}"),
                crate::check::StateKind::MHat => format!("\\hat{{m}}_{{{pl}}}"),
                crate::check::StateKind::VHat => format!("\\hat{{v}}_{{{pl}}}"),
                crate::check::StateKind::Param => pl,
            };
            if t == 1 {
                base
            } else {
                format!("{base}^{{({t})}}")
            }
        }
    }
}

/// The given values of a variant, by kind.
pub(super) fn rows(net: &Network, text: &dyn Fn(&str) -> String) -> Vec<RowView> {
    let item = |name: &str, v: f64| ItemView {
        latex: latex_name(name),
        value: source::shortest(v),
    };
    let mut rows = Vec::new();
    // The inputs and targets a `data` block sets are in its table.
    let (data_inputs, data_outputs) = net.data.as_ref().map_or((Vec::new(), Vec::new()), |d| {
        (d.inputs.clone(), d.outputs.clone())
    });
    for (key, scalars) in [
        ("inputs", &net.inputs),
        ("params", &net.params),
        ("consts", &net.consts),
    ] {
        let items: Vec<ItemView> = scalars
            .iter()
            .enumerate()
            .filter(|(i, _)| key != "inputs" || !data_inputs.contains(&(*i as u32)))
            .map(|(_, s)| item(&s.name, s.value))
            .collect();
        if !items.is_empty() {
            rows.push(RowView {
                label: text(key),
                items,
            });
        }
    }
    let targets: Vec<ItemView> = net
        .outputs()
        .filter(|n| !data_outputs.contains(n))
        .map(|n| {
            item(
                &format!("target_{}", net.neurons[n as usize].name),
                net.targets[n as usize].unwrap_or(f64::NAN),
            )
        })
        .collect();
    if !targets.is_empty() {
        rows.push(RowView {
            label: text("targets"),
            items: targets,
        });
    }
    rows.push(RowView {
        label: text("rate"),
        items: vec![ItemView {
            latex: "\\eta".to_string(),
            value: source::shortest(net.rate),
        }],
    });
    // The optimizer and its constants, when it is not plain descent.
    let rule = net.update_rule();
    if !rule.is_plain() {
        use crate::optimizer::Optimizer;
        let c = |latex: &str, v: f64| ItemView {
            latex: latex.to_string(),
            value: number::latex_significant(v, 15),
        };
        let mut items = match rule.optimizer {
            Optimizer::Sgd => Vec::new(),
            Optimizer::Momentum(m) | Optimizer::Nesterov(m) => vec![c("\\mu", m)],
            Optimizer::Adagrad(e) => vec![c("\\epsilon", e)],
            Optimizer::RmsProp(r, e) => vec![c("\\rho", r), c("\\epsilon", e)],
            Optimizer::Adam(b1, b2, e) | Optimizer::AdamW(b1, b2, e) => {
                vec![c("\\beta_1", b1), c("\\beta_2", b2), c("\\epsilon", e)]
            }
        };
        if rule.weight_decay != 0.0 {
            items.push(c("\\lambda", rule.weight_decay));
        }
        rows.push(RowView {
            label: format!("{} ({})", text("update_rule"), rule.optimizer.name()),
            items,
        });
    }
    // The L2 term: λ, and the params it covers (as maths, which both
    // sheets write as they are).
    if let Some(l2) = &net.l2 {
        let names: Vec<String> = l2
            .params
            .iter()
            .map(|&p| latex_name(&net.params[p as usize].name))
            .collect();
        let over = if names.len() <= 8 {
            names.join(", ")
        } else {
            format!(
                "{}, \\dots, {}",
                names[..3].join(", "),
                names[names.len() - 1]
            )
        };
        rows.push(RowView {
            label: format!("{} (${over}$)", text("l2")),
            items: vec![ItemView {
                latex: "\\lambda".to_string(),
                value: source::shortest(l2.lambda),
            }],
        });
    }
    rows
}

/// Each neuron's net input and output as `aligned` lines, then the
/// definitions of the activations used.
pub(super) fn neuron_lines(net: &Network, decimals: usize) -> Vec<String> {
    let names = NetNames::new(net, Default::default());
    let none = |_: Sym| None;
    let p = Printer {
        names: &names,
        decimals,
        value: &none,
    };
    // (net, its sum, out, activation) of each neuron.
    let mut rows = Vec::new();
    let mut sigmoid = false;
    for layer in &net.layers {
        for x in layer.neurons.clone() {
            let n = names.latex(Sym::Net(x));
            let sum = p.symbolic(&net.neurons[x as usize].net);
            let out = names.latex(Sym::Out(x));
            let act = match layer.activation {
                Activation::Sigmoid => {
                    sigmoid = true;
                    crate::model::ACTIVATIONS[0].latex_at(&n, &n, "")
                }
                Activation::Tanh
                | Activation::Relu
                | Activation::LeakyRelu(_)
                | Activation::Identity
                | Activation::Softplus => {
                    let a = match layer.activation {
                        Activation::LeakyRelu(a) => number::latex(a, 9),
                        _ => String::new(),
                    };
                    layer
                        .activation
                        .row()
                        .map_or_else(String::new, |row| row.latex_at(&n, &n, &a))
                }
                Activation::Softmax => {
                    let all: Vec<String> = layer
                        .neurons
                        .clone()
                        .map(|k| format!("e^{{{}}}", names.latex(Sym::Net(k))))
                        .collect();
                    format!("\\frac{{e^{{{n}}}}}{{{}}}", all.join(" + "))
                }
                Activation::User(f) => format!(
                    "\\operatorname{{{}}}({n})",
                    net.functions[f as usize].name.replace('_', "\\_")
                ),
            };
            rows.push((x, n, sum, out, act));
        }
    }
    // Net inputs and outputs side by side when every pair fits on a line,
    // else one under the other, long sums broken between terms.
    let pairs = rows.iter().all(|(_, n, sum, out, act)| {
        [n, sum, out, act]
            .iter()
            .map(|t| visible_width(t))
            .sum::<usize>()
            <= PAIR_WIDTH
    });
    let mut lines = Vec::new();
    for (x, n, sum, out, act) in rows {
        if pairs {
            lines.push(format!("{n} &= {sum}, &\\qquad {out} &= {act}"));
        } else {
            lines.extend(chain_lines(
                &n,
                &[p.pieces(&net.neurons[x as usize].net, false)],
            ));
            lines.push(format!("{out} &= {act}"));
        }
    }
    if sigmoid {
        lines.push("\\sigma(x) &= \\frac{1}{1 + e^{-x}}".to_string());
    }
    lines
}
