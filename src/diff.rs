//! Symbolic differentiation: ∂e/∂v for every expression of the language,
//! through user functions by their bodies, and the textbook derivatives of
//! activations (∂out/∂net of a sigmoid is out(1 − out)) and losses.
//!
//! Every result goes through the simplifying constructors of [`crate::expr`],
//! so `d/dout ½(target − out)²` comes out as `-(target - out)`.

use crate::expr::{self, add, div, mul, neg, pow, sub, BinOp, Builtin, Expr, Func, Sym};
use crate::model::{Activation, Function, Loss};

/// ∂e/∂v, simplified. `fns` are the network's user functions.
pub fn differentiate(e: &Expr, v: Sym, fns: &[Function]) -> Expr {
    if !mentions_deep(e, v, fns) {
        return Expr::Num(0.0);
    }
    match e {
        Expr::Num(_) => Expr::Num(0.0),
        Expr::Var(s) => Expr::Num(if *s == v { 1.0 } else { 0.0 }),
        Expr::Neg(a) => neg(differentiate(a, v, fns)),
        Expr::Bin(op, a, b) => {
            let (da, db) = (differentiate(a, v, fns), differentiate(b, v, fns));
            let (a, b) = (expr::simplify(a), expr::simplify(b));
            match op {
                BinOp::Add => add(da, db),
                BinOp::Sub => sub(da, db),
                // (ab)' = a'b + ab'
                BinOp::Mul => add(mul(da, b), mul(a, db)),
                BinOp::Div => {
                    if is_zero(&db) {
                        div(da, b)
                    } else {
                        // (a/b)' = (a'b − ab')/b²
                        div(sub(mul(da, b.clone()), mul(a, db)), pow(b, Expr::Num(2.0)))
                    }
                }
                BinOp::Pow => {
                    if is_zero(&db) {
                        // (aⁿ)' = n·aⁿ⁻¹·a'
                        let n1 = sub(b.clone(), Expr::Num(1.0));
                        mul(mul(b, pow(a, n1)), da)
                    } else if is_zero(&da) {
                        // (cᵘ)' = cᵘ·ln c·u'
                        let ln = expr::call(Func::Builtin(Builtin::Ln), vec![a.clone()]);
                        mul(mul(pow(a, b), ln), db)
                    } else {
                        // (aᵇ)' = aᵇ·(b'·ln a + b·a'/a)
                        let ln = expr::call(Func::Builtin(Builtin::Ln), vec![a.clone()]);
                        let inner = add(mul(db, ln), div(mul(b.clone(), da), a.clone()));
                        mul(pow(a, b), inner)
                    }
                }
            }
        }
        Expr::Call(Func::User(f), args) => {
            let body = inline(*f, args, fns);
            differentiate(&body, v, fns)
        }
        Expr::Call(Func::Builtin(b), args) => {
            let u = expr::simplify(&args[0]);
            let du = differentiate(&args[0], v, fns);
            let call = |b: Builtin, args: Vec<Expr>| expr::call(Func::Builtin(b), args);
            // The second argument of `leaky_relu(x, a)` and `step(x, a)`:
            // ∂/∂a leaky_relu(x, a) = x − relu(x) (x where x ≤ 0, else 0),
            // ∂/∂a step(x, a) = 1 − step(x) (1 where x ≤ 0, else 0).
            let second = match (b, args.get(1)) {
                (Builtin::LeakyRelu | Builtin::Step, Some(a)) if mentions_deep(a, v, fns) => {
                    let da = differentiate(a, v, fns);
                    let outer = match b {
                        Builtin::LeakyRelu => sub(u.clone(), call(Builtin::Relu, vec![u.clone()])),
                        _ => sub(Expr::Num(1.0), call(Builtin::Step, vec![u.clone()])),
                    };
                    mul(outer, da)
                }
                _ => Expr::Num(0.0),
            };
            let outer = match b {
                // (eᵘ)' = eᵘ·u'
                Builtin::Exp => call(Builtin::Exp, vec![u]),
                // (ln u)' = u'/u
                Builtin::Ln => return div(du, u),
                // (√u)' = u'/(2√u)
                Builtin::Sqrt => return div(du, mul(Expr::Num(2.0), call(Builtin::Sqrt, vec![u]))),
                // σ' = σ(1 − σ)
                Builtin::Sigmoid => {
                    let s = call(Builtin::Sigmoid, vec![u]);
                    mul(s.clone(), sub(Expr::Num(1.0), s))
                }
                // tanh' = 1 − tanh²
                Builtin::Tanh => sub(
                    Expr::Num(1.0),
                    pow(call(Builtin::Tanh, vec![u]), Expr::Num(2.0)),
                ),
                Builtin::Relu => call(Builtin::Step, vec![u]),
                Builtin::LeakyRelu => {
                    let a = args.get(1).map_or(Expr::Num(0.01), expr::simplify);
                    call(Builtin::Step, vec![u, a])
                }
                // softplus' = σ
                Builtin::Softplus => call(Builtin::Sigmoid, vec![u]),
                Builtin::Step => return second,
            };
            add(mul(outer, du), second)
        }
    }
}

fn is_zero(e: &Expr) -> bool {
    e.as_num() == Some(0.0)
}

/// Whether `v` occurs in `e`, looking through user functions' bodies.
pub fn mentions_deep(e: &Expr, v: Sym, fns: &[Function]) -> bool {
    match e {
        Expr::Num(_) => false,
        Expr::Var(s) => *s == v,
        Expr::Neg(a) => mentions_deep(a, v, fns),
        Expr::Bin(_, a, b) => mentions_deep(a, v, fns) || mentions_deep(b, v, fns),
        Expr::Call(f, args) => {
            args.iter().any(|a| mentions_deep(a, v, fns))
                || match f {
                    Func::User(u) => {
                        !matches!(v, Sym::Arg(_)) && mentions_deep(&fns[*u as usize].body, v, fns)
                    }
                    Func::Builtin(_) => false,
                }
        }
    }
}

/// The body of user function `f` with its arguments replaced by `args`.
pub fn inline(f: u32, args: &[Expr], fns: &[Function]) -> Expr {
    fns[f as usize].body.substitute(&mut |s| match s {
        Sym::Arg(k) => args[k as usize].clone(),
        s => Expr::Var(s),
    })
}

/// The rule behind a chain-rule factor, with a stable short name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// ∂E_total/∂out_k of an output: the derivative of the loss.
    Loss(&'static str),
    /// ∂out/∂net of an element-wise activation.
    Activation(&'static str),
    /// ∂out_j/∂net_k of a softmax layer: out_j(δ_jk − out_k).
    Softmax,
    /// ∂net_Y/∂x of a net-input expression.
    NetInput,
    /// ∂E_total/∂out_X of a hidden neuron: Σ over the neurons it feeds.
    SumOverOutputs,
}

impl Rule {
    /// The stable short name (`d-sigmoid`, `d-mse`, …).
    pub fn name(self) -> String {
        match self {
            Rule::Loss(l) => format!("d-{l}"),
            Rule::Activation(a) => format!("d-{a}"),
            Rule::Softmax => "d-softmax".to_string(),
            Rule::NetInput => "d-net".to_string(),
            Rule::SumOverOutputs => "sum-over-outputs".to_string(),
        }
    }
}

/// The textbook form of ∂out_n/∂net_n for an element-wise activation, in
/// terms of `out_n` where the textbook uses it, else of `net_n`.
pub fn activation_derivative(act: Activation, n: u32, fns: &[Function]) -> (Expr, Rule) {
    let out = Expr::Var(Sym::Out(n));
    let net = Expr::Var(Sym::Net(n));
    let call = |b: Builtin, args: Vec<Expr>| expr::call(Func::Builtin(b), args);
    match act {
        // ∂out/∂net = out·(1 − out)
        Activation::Sigmoid => (
            Expr::bin(
                BinOp::Mul,
                out.clone(),
                Expr::bin(BinOp::Sub, Expr::Num(1.0), out),
            ),
            Rule::Activation("sigmoid"),
        ),
        // ∂out/∂net = 1 − out²
        Activation::Tanh => (
            Expr::bin(
                BinOp::Sub,
                Expr::Num(1.0),
                Expr::bin(BinOp::Pow, out, Expr::Num(2.0)),
            ),
            Rule::Activation("tanh"),
        ),
        Activation::Relu => (call(Builtin::Step, vec![net]), Rule::Activation("relu")),
        Activation::LeakyRelu(a) => (
            call(Builtin::Step, vec![net, Expr::Num(a)]),
            Rule::Activation("leaky_relu"),
        ),
        Activation::Identity => (Expr::Num(1.0), Rule::Activation("identity")),
        // ∂out/∂net = σ(net)
        Activation::Softplus => (
            call(Builtin::Sigmoid, vec![net]),
            Rule::Activation("softplus"),
        ),
        Activation::User(f) => {
            let body = inline(f, &[net], fns);
            (
                differentiate(&body, Sym::Net(n), fns),
                Rule::Activation("fn"),
            )
        }
        // Whole-layer: see `softmax_derivative`.
        Activation::Softmax => (Expr::Num(1.0), Rule::Softmax),
    }
}

/// ∂out_j/∂net_k in a softmax layer: out_j(1 − out_k) for j = k, −out_j·out_k otherwise.
pub fn softmax_derivative(j: u32, k: u32) -> Expr {
    let oj = Expr::Var(Sym::Out(j));
    if j == k {
        Expr::bin(
            BinOp::Mul,
            oj.clone(),
            Expr::bin(BinOp::Sub, Expr::Num(1.0), oj),
        )
    } else {
        Expr::Neg(Box::new(Expr::bin(BinOp::Mul, oj, Expr::Var(Sym::Out(k)))))
    }
}

/// The error E_n of output `n` as an expression of `target_n` and `out_n`;
/// `outputs` is the number of outputs (for `mse_mean`).
pub fn loss_expr(loss: &Loss, n: u32, outputs: usize) -> Expr {
    let t = Expr::Var(Sym::Target(n));
    let o = Expr::Var(Sym::Out(n));
    let diff2 = Expr::bin(
        BinOp::Pow,
        Expr::bin(BinOp::Sub, t.clone(), o.clone()),
        Expr::Num(2.0),
    );
    let ln = |e: Expr| expr::call(Func::Builtin(Builtin::Ln), vec![e]);
    match loss {
        Loss::Mse => Expr::bin(
            BinOp::Mul,
            Expr::bin(BinOp::Div, Expr::Num(1.0), Expr::Num(2.0)),
            diff2,
        ),
        Loss::MseMean => Expr::bin(
            BinOp::Mul,
            Expr::bin(BinOp::Div, Expr::Num(1.0), Expr::Num(outputs as f64)),
            diff2,
        ),
        Loss::Sse => diff2,
        Loss::Bce => Expr::Neg(Box::new(Expr::bin(
            BinOp::Add,
            Expr::bin(BinOp::Mul, t.clone(), ln(o.clone())),
            Expr::bin(
                BinOp::Mul,
                Expr::bin(BinOp::Sub, Expr::Num(1.0), t),
                ln(Expr::bin(BinOp::Sub, Expr::Num(1.0), o)),
            ),
        ))),
        Loss::Ce => Expr::bin(BinOp::Mul, Expr::Neg(Box::new(t)), ln(o)),
        Loss::Custom(e) => e.substitute(&mut |s| match s {
            Sym::LossTarget => Expr::Var(Sym::Target(n)),
            Sym::LossOut => Expr::Var(Sym::Out(n)),
            s => Expr::Var(s),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Names;

    struct N;
    impl Names for N {
        fn plain(&self, s: Sym) -> String {
            match s {
                Sym::Out(n) => format!("out_o{}", n + 1),
                Sym::Target(n) => format!("target_o{}", n + 1),
                Sym::Param(n) => format!("w{}", n + 1),
                other => format!("{other:?}"),
            }
        }
        fn latex(&self, s: Sym) -> String {
            self.plain(s)
        }
        fn func(&self, f: Func) -> String {
            match f {
                Func::Builtin(b) => b.name().to_string(),
                Func::User(u) => format!("f{u}"),
            }
        }
    }

    fn d_loss(loss: Loss) -> String {
        let e = loss_expr(&loss, 0, 2);
        differentiate(&e, Sym::Out(0), &[]).plain(&N)
    }

    #[test]
    fn loss_derivatives_read_as_in_textbooks() {
        assert_eq!(d_loss(Loss::Mse), "-(target_o1 - out_o1)");
        assert_eq!(d_loss(Loss::Sse), "-2*(target_o1 - out_o1)");
        assert_eq!(d_loss(Loss::Ce), "-target_o1/out_o1");
        assert_eq!(
            d_loss(Loss::Bce),
            "-(target_o1/out_o1 - (1 - target_o1)/(1 - out_o1))"
        );
    }

    #[test]
    fn linear_net_input() {
        // w1*out_o1 + w2*out_o2
        let e = Expr::bin(
            BinOp::Add,
            Expr::bin(BinOp::Mul, Expr::Var(Sym::Param(0)), Expr::Var(Sym::Out(0))),
            Expr::bin(BinOp::Mul, Expr::Var(Sym::Param(1)), Expr::Var(Sym::Out(1))),
        );
        assert_eq!(differentiate(&e, Sym::Param(0), &[]).plain(&N), "out_o1");
        assert_eq!(differentiate(&e, Sym::Out(1), &[]).plain(&N), "w2");
        assert_eq!(differentiate(&e, Sym::Param(2), &[]).plain(&N), "0");
    }
}
