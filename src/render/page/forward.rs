//! The forward pass (each layer's net inputs and outputs, symbolic =
//! substituted = value) and the error.

use super::ctx::{paren_neg, plus, plus_num, Ctx};
use super::network::activation_text;
use super::view::{ErrorView, LayerView, NeuronView};
use crate::diff;
use crate::expr::{BinOp, Builtin, Expr, Func, Sym};
use crate::model::Activation;
use crate::render::latex::{chain_lines, Part};

/// The forward pass of every layer, with the values of `ctx`.
pub(super) fn view(ctx: &Ctx<'_, '_>) -> Vec<LayerView> {
    let net = ctx.sol.net;
    let d = ctx.pass;
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

/// Each output's error and their sum, written as `total_lhs`; `value` is
/// the error the page names (the pass's own, or the batch's), and
/// `penalty` the L2 term E_reg added to the sum, when it is.
pub(super) fn error_view(
    ctx: &Ctx<'_, '_>,
    total_lhs: String,
    value: f64,
    penalty: Option<f64>,
) -> ErrorView {
    let net = ctx.sol.net;
    let d = ctx.pass;
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
    let mut sym: Part = outputs
        .iter()
        .enumerate()
        .map(|(i, &x)| plus(i, ctx.latex(Sym::Err(x))))
        .collect();
    let mut vals: Part = outputs
        .iter()
        .enumerate()
        .map(|(i, &x)| plus_num(ctx, i, d.forward.err[x as usize]))
        .collect();
    let penalty_lines = ctx.penalty_lines(penalty);
    if let Some(r) = penalty {
        sym.push(plus(sym.len(), "E_{reg}".to_string()));
        vals.push(plus_num(ctx, vals.len(), r));
    }
    let mut parts = vec![sym];
    if vals.len() > 1 {
        parts.push(vals);
    }
    parts.push(vec![ctx.num(value)]);
    let total = chain_lines(&total_lhs, &parts);
    let lines = outs
        .iter()
        .flat_map(|o| o.lines.iter().cloned())
        .chain(penalty_lines.iter().cloned())
        .chain(total.iter().cloned())
        .collect();
    ErrorView {
        outputs: outs,
        penalty: penalty_lines,
        total,
        value: ctx.num(value),
        lines,
    }
}

/// Lines for out_X = act(net_X) = definition = substituted = value.
fn out_lines(ctx: &Ctx<'_, '_>, act: Activation, x: u32) -> Vec<String> {
    let d = &ctx.pass;
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
        Activation::Relu | Activation::LeakyRelu(_) => {
            // max(0, net), max(a·net, net): the definitions of the table.
            let net_l = ctx.latex(Sym::Net(x));
            let a = match act {
                Activation::LeakyRelu(a) => ctx.num(a),
                _ => String::new(),
            };
            let def = |x: &str, xf: &str| {
                act.row()
                    .map_or_else(String::new, |r| r.latex_at(x, xf, &a))
            };
            vec![
                vec![def(&net_l, &net_l)],
                vec![def(&net_v, &paren_neg(&net_v))],
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
