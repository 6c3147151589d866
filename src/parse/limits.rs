//! Bounds on the shape of expressions, so that no input can exhaust the
//! stack or take unbounded time: the tree walks of the program (building,
//! differentiating, simplifying, printing) recurse once per level of a tree.
//!
//! Two checks. [`shape`] reads an expression's parse before its tree is
//! built: how many terms its top-level sum has and how deeply each term
//! nests. [`cost`] then measures trees as differentiation sees them, with
//! user functions expanded into their calls, where nesting and size add up
//! (`fn f1(x) = f0(f0(x))`, `fn f2(x) = f1(f1(x))` … doubles at each step).
//! Sums may be much longer than terms may be deep: the walks that go down
//! a whole net input (evaluation, splitting into terms, the plain printer,
//! these checks) follow a sum in a loop.

use pest::iterators::Pair;

use super::Rule;
use crate::diagnostic::Span;
use crate::expr::{BinOp, Expr, Func, Sym};

/// Most terms of the top-level sum of one expression (`h1 = w1*i1 + …`).
/// A sum is walked in loops, so this is well above any real layer.
pub const MAX_TERMS: usize = 10_000;

/// Deepest nesting of one term: each operator, call and unary minus it is
/// inside counts one level, and so do those of the user functions it calls,
/// once expanded.
pub const MAX_DEPTH: usize = 256;

/// Most nodes of one term once user functions are expanded into it.
pub const MAX_EXPANDED_SIZE: f64 = 100_000.0;

/// Default bound on the work of one solution (`solve`, `check`, each
/// variant of `exam`): params and neurons times samples. A page takes
/// about 7 KB of memory per unit, so this keeps a run well under 2 GB.
pub const MAX_WORK: u64 = 150_000;

/// Default bound on the work of `train`: params and neurons times samples
/// times steps (about a minute of one core).
pub const MAX_TRAIN_WORK: u64 = 2_000_000_000;

/// Default bound on the estimated size of one output.
pub const MAX_OUTPUT_BYTES: u64 = 256 << 20;

/// The work of one solution of `net`: params and neurons, times samples.
pub fn solution_work(net: &crate::model::Network) -> u64 {
    let samples = net.data.as_ref().map_or(1, |d| d.rows.len().max(1)) as u64;
    (net.params.len() as u64 + net.neurons.len() as u64).saturating_mul(samples)
}

/// Most nodes of all the terms of a network that call user functions,
/// once expanded: each term may be within [`MAX_EXPANDED_SIZE`] and their
/// number within [`MAX_TERMS`], but not both at once.
pub const MAX_EXPANDED_TOTAL: f64 = 1_000_000.0;

/// Binding strengths of the grammar's operators, loosest first.
fn precedence(rule: Rule) -> Option<(u8, bool)> {
    // (strength, right-associative)
    match rule {
        Rule::add | Rule::sub => Some((1, false)),
        Rule::mul | Rule::div => Some((2, false)),
        Rule::pow => Some((4, true)),
        _ => None,
    }
}

/// Strength of a unary minus: looser than `^`, tighter than `*`.
const NEG: u8 = 3;

/// The shape of an expression as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shape {
    /// Terms of its top-level sum.
    pub(crate) terms: usize,
    /// Depth of its deepest term.
    pub(crate) depth: usize,
    /// Where that term is.
    pub(crate) deepest: Span,
}

/// The shape of an `expr` pair, worked out the way the Pratt parser will
/// build its tree, without building it (and without its recursion).
pub(crate) fn shape(expr: &Pair<'_, Rule>) -> Shape {
    // `+` and `-` bind loosest, so at the top they separate the terms.
    let mut shape = Shape {
        terms: 0,
        depth: 0,
        deepest: Span::of(expr.as_span()),
    };
    let mut term: Vec<Pair<'_, Rule>> = Vec::new();
    let mut finish = |term: &mut Vec<Pair<'_, Rule>>| {
        shape.terms += 1;
        let d = depth(term.iter());
        if d > shape.depth {
            let (first, last) = (term.first(), term.last());
            if let (Some(first), Some(last)) = (first, last) {
                shape.depth = d;
                shape.deepest = Span::new(first.as_span().start(), last.as_span().end());
            }
        }
        term.clear();
    };
    for p in expr.clone().into_inner() {
        if matches!(p.as_rule(), Rule::add | Rule::sub) {
            finish(&mut term);
        } else {
            term.push(p);
        }
    }
    finish(&mut term);
    shape
}

/// The depth of the tree of the tokens of an expression: prefix minus,
/// primaries and infix operators, as pest gives them.
fn depth<'a, 'i: 'a>(tokens: impl Iterator<Item = &'a Pair<'i, Rule>>) -> usize {
    // Shunting-yard over depths: operands, and operators waiting for their
    // right operand (`None` is a unary minus).
    let mut operands: Vec<usize> = Vec::new();
    let mut waiting: Vec<(u8, Option<Rule>)> = Vec::new();
    let reduce = |operands: &mut Vec<usize>, op: Option<Rule>| {
        let right = operands.pop().unwrap_or(0);
        let d = match op {
            None => right + 1,
            Some(_) => operands.pop().unwrap_or(0).max(right) + 1,
        };
        operands.push(d);
    };
    for p in tokens {
        let rule = p.as_rule();
        if rule == Rule::neg {
            waiting.push((NEG, None));
        } else if let Some((strength, right_assoc)) = precedence(rule) {
            while let Some(&(top, op)) = waiting.last() {
                if top < strength || (top == strength && right_assoc) {
                    break;
                }
                waiting.pop();
                reduce(&mut operands, op);
            }
            waiting.push((strength, Some(rule)));
        } else {
            operands.push(primary_depth(p));
        }
    }
    while let Some((_, op)) = waiting.pop() {
        reduce(&mut operands, op);
    }
    operands.pop().unwrap_or(1)
}

/// Depth of a number, name, call or parenthesised expression. Parentheses
/// are bounded by the parser's nesting limit, so this recursion is too.
fn primary_depth(p: &Pair<'_, Rule>) -> usize {
    match p.as_rule() {
        Rule::expr => depth(p.clone().into_inner().collect::<Vec<_>>().iter()),
        Rule::call => {
            1 + p
                .clone()
                .into_inner()
                .skip(1)
                .map(|a| depth(a.into_inner().collect::<Vec<_>>().iter()))
                .max()
                .unwrap_or(0)
        }
        _ => 1,
    }
}

/// What a tree costs once user functions are expanded into it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cost {
    /// Nodes.
    pub(crate) size: f64,
    /// Levels.
    pub(crate) depth: f64,
    /// For a function body: how often each argument appears, expanded.
    uses: Vec<f64>,
}

impl Cost {
    fn leaf(args: usize) -> Cost {
        Cost {
            size: 1.0,
            depth: 1.0,
            uses: vec![0.0; args],
        }
    }

    /// A node over `children`.
    fn node(args: usize, children: &[Cost]) -> Cost {
        let mut c = Cost::leaf(args);
        for ch in children {
            c.size += ch.size;
            c.depth = c.depth.max(ch.depth + 1.0);
            for (u, v) in c.uses.iter_mut().zip(&ch.uses) {
                *u += v;
            }
        }
        c
    }

    /// Whether a term of this cost is within the limits.
    pub(crate) fn within_limits(&self) -> bool {
        self.depth <= MAX_DEPTH as f64 && self.size <= MAX_EXPANDED_SIZE
    }
}

/// The cost of `e`, in the body of a function of `args` arguments (0
/// elsewhere), with `fns` the costs of the user functions it may call.
pub(crate) fn cost(e: &Expr, args: usize, fns: &[Cost]) -> Cost {
    match e {
        Expr::Num(_) => Cost::leaf(args),
        Expr::Var(Sym::Arg(k)) => {
            let mut c = Cost::leaf(args);
            if let Some(u) = c.uses.get_mut(*k as usize) {
                *u = 1.0;
            }
            c
        }
        Expr::Var(_) => Cost::leaf(args),
        Expr::Neg(a) => Cost::node(args, &[cost(a, args, fns)]),
        Expr::Bin(BinOp::Add | BinOp::Sub, ..) => {
            // Down the left side of a sum in a loop: it may be long.
            let mut rights = Vec::new();
            let mut first = e;
            while let Expr::Bin(BinOp::Add | BinOp::Sub, a, b) = first {
                rights.push(b);
                first = a;
            }
            let mut acc = cost(first, args, fns);
            for b in rights.into_iter().rev() {
                acc = Cost::node(args, &[acc, cost(b, args, fns)]);
            }
            acc
        }
        Expr::Bin(_, a, b) => Cost::node(args, &[cost(a, args, fns), cost(b, args, fns)]),
        Expr::Call(Func::Builtin(_), xs) => {
            let children: Vec<Cost> = xs.iter().map(|x| cost(x, args, fns)).collect();
            Cost::node(args, &children)
        }
        Expr::Call(Func::User(f), xs) => {
            let Some(callee) = fns.get(*f as usize) else {
                return Cost::leaf(args);
            };
            let xs: Vec<Cost> = xs.iter().map(|x| cost(x, args, fns)).collect();
            // Expanded: the body, with each use of argument j replaced by
            // the tree of argument j.
            let mut c = Cost::leaf(args);
            c.size += callee.size;
            let deepest_arg = xs.iter().map(|x| x.depth).fold(1.0, f64::max);
            c.depth += callee.depth + deepest_arg - 1.0;
            for (j, x) in xs.iter().enumerate() {
                let n = callee.uses.get(j).copied().unwrap_or(0.0);
                c.size += n * (x.size - 1.0);
                for (u, v) in c.uses.iter_mut().zip(&x.uses) {
                    *u += n * v;
                }
            }
            c
        }
    }
}

/// The cost of every user function's body, expanded. `calls[f]` lists the
/// functions `f` calls; there must be no cycle.
pub(crate) fn function_costs(bodies: &[(&Expr, usize)], calls: &[Vec<u32>]) -> Vec<Cost> {
    // Callees before callers: a depth-first post-order with an explicit
    // stack, as a chain of calls may be long.
    let n = bodies.len();
    let mut order = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![(start, 0usize)];
        while let Some((f, next)) = stack.last_mut() {
            let f = *f;
            if let Some(&g) = calls[f].get(*next) {
                *next += 1;
                let g = g as usize;
                if !seen[g] {
                    seen[g] = true;
                    stack.push((g, 0));
                }
            } else {
                order.push(f);
                stack.pop();
            }
        }
    }
    let mut costs = vec![Cost::leaf(0); n];
    for f in order {
        let (body, args) = bodies[f];
        costs[f] = cost(body, args, &costs);
    }
    costs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::expr::Builtin;
    use crate::parse::{parse_expr_with, parse_rule, Resolver};

    struct AnyName;

    impl Resolver for AnyName {
        fn name(&self, _: &str, _: Span) -> Result<Sym, Diagnostic> {
            Ok(Sym::Input(0))
        }
        fn func(&self, _: &str, argc: usize, _: Span) -> Result<Func, Diagnostic> {
            Ok(Func::Builtin(if argc == 1 {
                Builtin::Exp
            } else {
                Builtin::LeakyRelu
            }))
        }
    }

    /// The depth of a built tree, the top-level sum not counted.
    fn term_depth(e: &Expr) -> usize {
        fn full(e: &Expr) -> usize {
            match e {
                Expr::Num(_) | Expr::Var(_) => 1,
                Expr::Neg(a) => 1 + full(a),
                Expr::Bin(_, a, b) => 1 + full(a).max(full(b)),
                Expr::Call(_, xs) => 1 + xs.iter().map(full).max().unwrap_or(0),
            }
        }
        e.additive_terms()
            .into_iter()
            .map(|(_, t)| full(t))
            .max()
            .unwrap_or(1)
    }

    #[test]
    fn shape_matches_the_tree_the_parser_builds() {
        for src in [
            "a",
            "-a",
            "-a^b",
            "a^-b^c",
            "a*-b*c",
            "-(a + b)*c",
            "a - -b",
            "f(a, b*c) + g(a)",
            "2^3^4^5",
            "-2^2",
            "a/b/c/d",
            "((a))",
            "a + b*c^d - e",
            "a*(b + c*(d - e))",
            "-a*b + -c^d^e*f - g/h",
            "f(-a^b, (c + d)^2) * g(h(i(j)))",
            "1 - 2 - 3 * 4 ^ -5 ^ 6 / 7",
        ] {
            let pair = parse_rule(Rule::expr_only, src).unwrap();
            let expr = pair.into_inner().next().unwrap();
            let shape = shape(&expr);
            let tree = parse_expr_with(src, &AnyName).unwrap();
            assert_eq!(shape.terms, tree.additive_terms().len(), "terms of {src}");
            assert_eq!(shape.depth, term_depth(&tree), "depth of {src}");
        }
    }

    #[test]
    fn costs_expand_functions() {
        // f(x) = x*x: 3 nodes, x used twice; g(x) = f(f(x)).
        let x = || Expr::Var(Sym::Arg(0));
        let f = Expr::bin(BinOp::Mul, x(), x());
        let g = Expr::Call(Func::User(0), vec![Expr::Call(Func::User(0), vec![x()])]);
        let costs = function_costs(&[(&f, 1), (&g, 1)], &[vec![], vec![0]]);
        assert_eq!((costs[0].size, costs[0].depth), (3.0, 2.0));
        assert_eq!(costs[0].uses, vec![2.0]);
        // g(x) = (x*x)*(x*x): 7 nodes, 3 deep, x four times (each call
        // node counts one more).
        assert_eq!(costs[1].uses, vec![4.0]);
        assert!(costs[1].size >= 7.0 && costs[1].depth >= 3.0);
    }
}
