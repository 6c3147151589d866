//! Expressions printed as JavaScript, for the exercise page to evaluate a
//! step's formula with the student's own earlier values (error carried
//! forward). Names of quantities are looked up with `v("net_h1")`;
//! built-ins are `Math` functions or the page's `F` helpers; user
//! functions are `U[k](…)`, printed from their bodies by [`functions`].

use crate::expr::{BinOp, Builtin, Expr, Func, Sym};
use crate::model::Network;

/// `e` as a JavaScript expression; `name` gives the quantity name of a
/// symbol (`None` for a function's argument `k`, printed `a{k}`).
pub fn print(e: &Expr, name: &dyn Fn(Sym) -> Option<String>) -> String {
    let mut out = String::new();
    write(e, name, &mut out);
    out
}

fn write(e: &Expr, name: &dyn Fn(Sym) -> Option<String>, out: &mut String) {
    match e {
        Expr::Num(x) => {
            // `{:?}` prints the shortest text that reads back as the same f64.
            if *x < 0.0 {
                out.push_str(&format!("({x:?})"));
            } else {
                out.push_str(&format!("{x:?}"));
            }
        }
        Expr::Var(Sym::Arg(k)) => out.push_str(&format!("a{k}")),
        Expr::Var(s) => match name(*s) {
            Some(n) => out.push_str(&format!("v({})", string(&n))),
            None => out.push_str("NaN"),
        },
        Expr::Neg(a) => {
            out.push_str("(-");
            write(a, name, out);
            out.push(')');
        }
        Expr::Bin(BinOp::Pow, a, b) => {
            out.push_str("Math.pow(");
            write(a, name, out);
            out.push_str(", ");
            write(b, name, out);
            out.push(')');
        }
        Expr::Bin(op, a, b) => {
            out.push('(');
            write(a, name, out);
            out.push_str(match op {
                BinOp::Add => " + ",
                BinOp::Sub => " - ",
                BinOp::Mul => " * ",
                BinOp::Div => " / ",
                BinOp::Pow => unreachable!("handled above"),
            });
            write(b, name, out);
            out.push(')');
        }
        Expr::Call(f, args) => {
            out.push_str(&match f {
                Func::Builtin(b) => match b {
                    Builtin::Exp => "Math.exp".to_string(),
                    Builtin::Ln => "F.ln".to_string(),
                    Builtin::Sqrt => "Math.sqrt".to_string(),
                    Builtin::Tanh => "Math.tanh".to_string(),
                    Builtin::Sigmoid => "F.sigmoid".to_string(),
                    Builtin::Relu => "F.relu".to_string(),
                    Builtin::LeakyRelu => "F.leaky_relu".to_string(),
                    Builtin::Softplus => "F.softplus".to_string(),
                    Builtin::Step => "F.step".to_string(),
                },
                Func::User(u) => format!("U[{u}]"),
            });
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(a, name, out);
            }
            out.push(')');
        }
    }
}

/// A JavaScript string literal.
pub fn string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The user functions as JavaScript: `[function (a0) { return …; }, …]`.
pub fn functions(net: &Network, name: &dyn Fn(Sym) -> Option<String>) -> String {
    let fns: Vec<String> = net
        .functions
        .iter()
        .map(|f| {
            let args: Vec<String> = (0..f.args.len()).map(|k| format!("a{k}")).collect();
            format!(
                "function ({}) {{ return {}; }}",
                args.join(", "),
                print(&f.body, name)
            )
        })
        .collect();
    format!("[{}]", fns.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_calls_powers_and_names() {
        let e = Expr::bin(
            BinOp::Mul,
            Expr::Call(
                Func::Builtin(Builtin::Sigmoid),
                vec![Expr::Var(Sym::Net(0))],
            ),
            Expr::bin(BinOp::Pow, Expr::Var(Sym::Out(1)), Expr::Num(-2.0)),
        );
        let name = |s: Sym| match s {
            Sym::Net(0) => Some("net_h1".to_string()),
            Sym::Out(1) => Some("out_h2".to_string()),
            _ => None,
        };
        assert_eq!(
            print(&e, &name),
            r#"(F.sigmoid(v("net_h1")) * Math.pow(v("out_h2"), (-2.0)))"#
        );
    }
}
