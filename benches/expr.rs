//! Boxed expression trees against an arena (egg's `RecExpr`: nodes in a
//! vector, children before parents, referred to by index), on the
//! expressions of a real derivation: every net input and every factor of
//! the dense 50-50-50-10 network (5 610 params). Times building (from the
//! boxed tree, as a parser or `diff` would build it), evaluating, cloning
//! and freeing each; prints the figures quoted in `src/expr.rs`.
//!
//! `cargo bench --bench expr`

use std::hint::black_box;
use std::time::Instant;

use chainrule::derivation::{DAct, DOut};
use chainrule::expr::{BinOp, Builtin, Expr, Func, Sym};

/// A dense sigmoid network (as benches/scale.rs writes it).
fn dense(widths: &[usize]) -> String {
    let mut s = String::from("network \"bench\"\n");
    let xs: Vec<String> = (1..=widths[0])
        .map(|i| format!("{}", 0.1 * i as f64))
        .collect();
    s += &format!("input x[{}] = [{}]\n", widths[0], xs.join(", "));
    let mut prev = "x".to_string();
    let mut prev_names: Vec<String> = (1..=widths[0]).map(|i| format!("x{i}")).collect();
    let (mut k, mut params) = (0usize, Vec::new());
    let last = widths.len() - 1;
    for (l, &w) in widths.iter().enumerate().skip(1) {
        let name = if l == last {
            "y".to_string()
        } else {
            format!("h{l}_")
        };
        s += &format!("layer {name}[{w}] sigmoid dense {prev}\n");
        let mut names = Vec::new();
        for j in 1..=w {
            let neuron = format!("{name}{j}");
            for src in &prev_names {
                k += 1;
                params.push(format!(
                    "w_{neuron}_{src} = {}",
                    ((k * 7) % 19) as f64 / 40.0 - 0.2
                ));
            }
            params.push(format!("b_{neuron} = 0.1"));
            names.push(neuron);
        }
        prev = name;
        prev_names = names;
    }
    for chunk in params.chunks(50) {
        s += &format!("param {}\n", chunk.join(", "));
    }
    s += &format!("target y = [{}]\n", vec!["0.5"; widths[last]].join(", "));
    s
}

/// A node of the arena; children are indices of earlier nodes.
#[derive(Clone)]
enum Node {
    Num(f64),
    Var(Sym),
    Neg(u32),
    Bin(BinOp, u32, u32),
    /// A built-in call: its arguments are `args[start..start + len]`.
    Call(Builtin, u32, u32),
}

/// An expression as an arena.
#[derive(Clone, Default)]
struct Arena {
    nodes: Vec<Node>,
    args: Vec<u32>,
}

impl Arena {
    fn of(e: &Expr) -> Arena {
        let mut a = Arena::default();
        a.push(e);
        a
    }

    fn push(&mut self, e: &Expr) -> u32 {
        let node = match e {
            Expr::Num(x) => Node::Num(*x),
            Expr::Var(s) => Node::Var(*s),
            Expr::Neg(x) => Node::Neg(self.push(x)),
            Expr::Bin(op, x, y) => {
                let (x, y) = (self.push(x), self.push(y));
                Node::Bin(*op, x, y)
            }
            Expr::Call(f, xs) => {
                let ids: Vec<u32> = xs.iter().map(|x| self.push(x)).collect();
                let start = self.args.len() as u32;
                self.args.extend(&ids);
                let b = match f {
                    Func::Builtin(b) => *b,
                    Func::User(_) => Builtin::Exp,
                };
                Node::Call(b, start, ids.len() as u32)
            }
        };
        self.nodes.push(node);
        self.nodes.len() as u32 - 1
    }

    /// The value of the last node: one pass, children first.
    fn eval(&self, env: &dyn Fn(Sym) -> f64, vals: &mut Vec<f64>) -> f64 {
        vals.clear();
        for n in &self.nodes {
            let v = match *n {
                Node::Num(x) => x,
                Node::Var(s) => env(s),
                Node::Neg(a) => -vals[a as usize],
                Node::Bin(op, a, b) => {
                    let (x, y) = (vals[a as usize], vals[b as usize]);
                    match op {
                        BinOp::Add => x + y,
                        BinOp::Sub => x - y,
                        BinOp::Mul => x * y,
                        BinOp::Div => x / y,
                        BinOp::Pow => x.powf(y),
                    }
                }
                Node::Call(b, start, len) => {
                    let xs: Vec<f64> = self.args[start as usize..(start + len) as usize]
                        .iter()
                        .map(|&i| vals[i as usize])
                        .collect();
                    b.apply(&xs)
                }
            };
            vals.push(v);
        }
        vals.last().copied().unwrap_or(f64::NAN)
    }
}

fn ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let widths: &[usize] = if cfg!(debug_assertions) {
        &[5, 5, 5, 2]
    } else {
        &[50, 50, 50, 10]
    };
    let reps = if cfg!(debug_assertions) { 1 } else { 20 };
    let src = dense(widths);
    let net = chainrule::parse::parse_network("bench", &src).expect("parses");
    let sol = chainrule::solution::Solution::new(&net, Default::default(), Default::default())
        .expect("solves");
    let d = sol.derivation.worked();
    let mut exprs: Vec<Expr> = net.neurons.iter().map(|n| n.net.clone()).collect();
    for n in &d.neurons {
        if let DOut::Loss(f) = &n.d_out {
            exprs.push(f.symbolic.clone());
        }
        if let DAct::Elementwise(f) = &n.d_act {
            exprs.push(f.symbolic.clone());
        }
    }
    for p in &d.gradients {
        exprs.extend(p.terms.iter().map(|t| t.factor.symbolic.clone()));
    }
    let nodes: usize = exprs.iter().map(Expr::size).sum();
    let env = |_: Sym| 0.3;

    let mut arenas = Vec::new();
    let t_build = ms(|| arenas = exprs.iter().map(Arena::of).collect::<Vec<_>>());
    let (mut sb, mut sa) = (0.0, 0.0);
    let t_eval_boxed = ms(|| {
        for _ in 0..reps {
            for e in &exprs {
                sb += chainrule::eval::eval(black_box(e), &env, &net.functions);
            }
        }
    }) / reps as f64;
    let mut vals = Vec::new();
    let t_eval_arena = ms(|| {
        for _ in 0..reps {
            for a in &arenas {
                sa += a.eval(black_box(&env), &mut vals);
            }
        }
    }) / reps as f64;
    assert!((sa - sb).abs() <= 1e-9 * sb.abs().max(1.0), "{sa} {sb}");
    let mut c1 = Vec::new();
    let t_clone_boxed = ms(|| c1 = exprs.clone());
    let mut c2 = Vec::new();
    let t_clone_arena = ms(|| c2 = arenas.clone());
    let t_drop_boxed = ms(|| drop(black_box(c1)));
    let t_drop_arena = ms(|| drop(black_box(c2)));
    println!(
        "{} expressions, {nodes} nodes ({} params)\n\
         build arena from boxed: {t_build:.2} ms\n\
         eval:  boxed {t_eval_boxed:.2} ms, arena {t_eval_arena:.2} ms\n\
         clone: boxed {t_clone_boxed:.2} ms, arena {t_clone_arena:.2} ms\n\
         drop:  boxed {t_drop_boxed:.2} ms, arena {t_drop_arena:.2} ms",
        exprs.len(),
        net.params.len()
    );
}
