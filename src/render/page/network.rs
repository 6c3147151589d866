//! The network as given (its table), the data block and each sample's
//! forward pass and error, and how the samples combine into E_total.

use super::ctx::{plus, plus_num, Ctx};
use super::forward;
use super::view::{DataRow, DataTable, FunctionRow, LayerRow, Named, NetworkView, SampleView};
use crate::expr::{Func, Names, Sym};
use crate::model::{Activation, Loss};
use crate::notation::{latex_name, NetNames};
use crate::number;
use crate::render::latex::{chain_lines, Part, Printer};
use crate::solution::Solution;

/// The network table: inputs, params, consts, functions, layers, targets,
/// loss and rate.
pub(super) fn view(ctx: &Ctx<'_, '_>) -> NetworkView {
    let sol = ctx.sol;
    let net = sol.net;
    let named = |name: &str, v: f64| Named {
        name: name.to_string(),
        latex: latex_name(name),
        value: ctx.num(v),
        raw: v,
    };
    NetworkView {
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
        loss_latex: loss_latex(ctx),
        rate: ctx.num(net.rate),
        l2: net.l2.as_ref().map(|l| {
            let names: Vec<String> = l
                .params
                .iter()
                .map(|&p| format!("{}^{{2}}", ctx.latex(Sym::Param(p))))
                .collect();
            let sum = if names.len() <= 8 {
                names.join(" + ")
            } else {
                format!(
                    "{} + \\dots + {}",
                    names[..3].join(" + "),
                    names[names.len() - 1]
                )
            };
            format!(
                "E_{{reg}} = \\frac{{\\lambda}}{{2}} ({sum}), \\quad \\lambda = {}",
                ctx.num(l.lambda)
            )
        }),
        param_count: net.params.len(),
    }
}

/// The rows of the data block, if any.
pub(super) fn data_table(ctx: &Ctx<'_, '_>) -> Option<DataTable> {
    let net = ctx.sol.net;
    net.data.as_ref().map(|data| DataTable {
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
    })
}

/// Each sample's forward pass and error, with its own numbers.
pub(super) fn samples(ctx: &Ctx<'_, '_>) -> Vec<SampleView> {
    let sol = ctx.sol;
    let net = sol.net;
    let d = &sol.derivation;
    match net.data.as_ref() {
        Some(data) => d
            .samples
            .iter()
            .enumerate()
            .map(|(k, der)| {
                let sctx = Ctx::new(sol, der, k, ctx.decimals, ctx.markup);
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
                    forward: forward::view(&sctx),
                    error: forward::error_view(
                        &sctx,
                        format!("E^{{({})}}", k + 1),
                        der.forward.total,
                        None,
                    ),
                    total: ctx.text_num(der.forward.total),
                }
            })
            .collect(),
        None => Vec::new(),
    }
}

/// With a data block, the lines combining the samples' errors into E_total
/// (their mean or their sum); none without.
pub(super) fn combined(ctx: &Ctx<'_, '_>) -> Vec<String> {
    let net = ctx.sol.net;
    let d = &ctx.sol.derivation;
    net.data.as_ref().map_or_else(Vec::new, |data| {
        let n = data.rows.len();
        let terms: Part = (1..=n)
            .map(|k| plus(k - 1, format!("E^{{({k})}}")))
            .collect();
        let vals: Part = d
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| plus_num(ctx, i, s.forward.total))
            .collect();
        // The L2 term, added once to the samples' errors combined.
        let (reg, reg_value) = match d.penalty {
            Some(r) => (
                " + E_{reg}".to_string(),
                format!(" {}", plus_num(ctx, 1, r)),
            ),
            None => (String::new(), String::new()),
        };
        let lhs = "E_{total}";
        let mut lines = ctx.penalty_lines(d.penalty);
        lines.extend(match net.batch {
            crate::model::Batch::Mean => chain_lines(
                lhs,
                &[
                    vec![format!(
                        r"\frac{{1}}{{{n}}} \left({}\right){reg}",
                        terms.join(" ")
                    )],
                    vec![format!(
                        r"\frac{{1}}{{{n}}} \left({}\right){reg_value}",
                        vals.join(" ")
                    )],
                    vec![ctx.num(d.total)],
                ],
            ),
            crate::model::Batch::Sum => {
                let mut terms = terms;
                let mut vals = vals;
                if let Some(r) = d.penalty {
                    terms.push(plus(1, "E_{reg}".to_string()));
                    vals.push(plus_num(ctx, 1, r));
                }
                chain_lines(lhs, &[terms, vals, vec![ctx.num(d.total)]])
            }
        });
        lines
    })
}

pub(super) fn activation_text(a: Activation, sol: &Solution<'_>) -> String {
    match (a, a.row()) {
        (Activation::LeakyRelu(s), Some(row)) => format!("{}({})", row.name, number::format(s, 9)),
        (_, Some(row)) => row.name.to_string(),
        (Activation::User(f), None) => sol.net.functions[f as usize].name.clone(),
        (_, None) => String::new(),
    }
}

fn loss_latex(ctx: &Ctx<'_, '_>) -> String {
    let net = ctx.sol.net;
    let (_, o) = ctx.names.inner.notation.prefixes();
    let t = "target_{k}";
    let o = format!("{o}_{{k}}");
    let e = "E_{total}";
    match &net.loss {
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
        builtin => builtin
            .row()
            .map_or_else(String::new, |row| row.latex_with(e, t, &o)),
    }
}
