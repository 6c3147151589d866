//! Numeric evaluation of expressions, f64 throughout.

use crate::expr::{BinOp, Expr, Func, Sym};
use crate::model::Function;

/// The value of `e`, with each symbol's value from `env` and user functions
/// from `fns`. Non-finite results are returned as they are; callers turn them
/// into errors that name the quantity.
pub fn eval(e: &Expr, env: &dyn Fn(Sym) -> f64, fns: &[Function]) -> f64 {
    match e {
        // A long sum is a deep tree leaning left: walk down its left side
        // in a loop, then add the right operands in order.
        Expr::Bin(BinOp::Add | BinOp::Sub, ..) => {
            let mut rights = Vec::new();
            let mut first = e;
            while let Expr::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) = first {
                rights.push((*op, b));
                first = a;
            }
            let mut acc = eval(first, env, fns);
            for (op, b) in rights.into_iter().rev() {
                let y = eval(b, env, fns);
                acc = if op == BinOp::Add { acc + y } else { acc - y };
            }
            acc
        }
        Expr::Num(x) => *x,
        Expr::Var(s) => env(*s),
        Expr::Neg(a) => -eval(a, env, fns),
        Expr::Bin(op, a, b) => {
            let (x, y) = (eval(a, env, fns), eval(b, env, fns));
            match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Pow => pow(x, y),
            }
        }
        Expr::Call(Func::Builtin(b), args) => {
            let v: Vec<f64> = args.iter().map(|a| eval(a, env, fns)).collect();
            b.apply(&v)
        }
        Expr::Call(Func::User(f), args) => {
            let v: Vec<f64> = args.iter().map(|a| eval(a, env, fns)).collect();
            let body = &fns[*f as usize].body;
            eval(
                body,
                &|s| match s {
                    Sym::Arg(k) => v[k as usize],
                    s => env(s),
                },
                fns,
            )
        }
    }
}

/// xʸ, with integer powers exact where `powi` is.
fn pow(x: f64, y: f64) -> f64 {
    if y.fract() == 0.0 && y.abs() <= 64.0 {
        x.powi(y as i32)
    } else {
        x.powf(y)
    }
}
