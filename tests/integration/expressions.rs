//! Properties of expressions over a fixed network's quantities: the plain
//! printer parses back to the same tree, and the simplifier keeps the value.

use chainrule::eval::eval;
use chainrule::expr::{simplify, BinOp, Builtin, Expr, Func, Sym};
use chainrule::model::Network;
use chainrule::notation::NetNames;
use chainrule::parse::{parse_formula, parse_network};
use proptest::prelude::*;

const NETWORK: &str = r#"
fn swish(x) = x*sigmoid(x)
fn mix(a, b) = a*tanh(b) + b
const c = 0.3
input i1 = 0.05, i2 = 0.10
layer h sigmoid {
    h1 = w1*i1 + w2*i2 + b1
    h2 = w3*i1 + w4*i2 + b1
}
layer o sigmoid {
    o1 = w5*h1 + w6*h2 + b2
    o2 = w7*h1 + w8*h2 + b2
}
param w1 = 0.15, w2 = 0.20, w3 = 0.25, w4 = 0.30
param w5 = 0.40, w6 = 0.45, w7 = 0.50, w8 = 0.55
param b1 = 0.35, b2 = 0.60
target o1 = 0.01, o2 = 0.99
"#;

fn network() -> Network {
    parse_network("fixed.nn", NETWORK).expect("the fixed network parses")
}

/// Every symbol a formula over the fixed network can name.
fn syms() -> Vec<Sym> {
    let mut v = vec![Sym::Input(0), Sym::Input(1), Sym::Const(0), Sym::ErrTotal];
    v.extend((0..10).map(Sym::Param));
    v.extend((0..4).flat_map(|n| [Sym::Net(n), Sym::Out(n)]));
    v.extend((2..4).flat_map(|n| [Sym::Target(n), Sym::Err(n)]));
    v
}

/// `-a` as the parser builds it: a minus before a number is a negative
/// number, never `Neg(Num)`.
fn negate(a: Expr) -> Expr {
    match a {
        Expr::Num(x) => Expr::Num(-x),
        a => Expr::Neg(Box::new(a)),
    }
}

fn binop() -> impl Strategy<Value = BinOp> {
    proptest::sample::select(vec![
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Pow,
    ])
}

/// Functions of one argument: every built-in and `swish`.
fn func1() -> impl Strategy<Value = Func> {
    let mut fs: Vec<Func> = Builtin::ALL.into_iter().map(Func::Builtin).collect();
    fs.push(Func::User(0));
    proptest::sample::select(fs)
}

/// Functions of two arguments: `leaky_relu(x, a)`, `step(x, a)`, `mix`.
fn func2() -> impl Strategy<Value = Func> {
    proptest::sample::select(vec![
        Func::Builtin(Builtin::LeakyRelu),
        Func::Builtin(Builtin::Step),
        Func::User(1),
    ])
}

/// Trees with leaves from `leaf`, up to depth 6.
fn tree(leaf: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(negate),
            (binop(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::bin(op, a, b)),
            (func1(), inner.clone()).prop_map(|(f, a)| Expr::Call(f, vec![a])),
            (func2(), inner.clone(), inner).prop_map(|(f, a, b)| Expr::Call(f, vec![a, b])),
        ]
    })
}

/// Any finite number, with the common shapes weighted up.
fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        (-1000i32..1000).prop_map(f64::from),
        (-1.0..1.0f64),
        proptest::sample::select(vec![0.5, 1e-7, 1e16, 1e-6, 123456789.125, 1e300]),
    ]
}

fn plain_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        any_number().prop_map(Expr::Num),
        proptest::sample::select(syms()).prop_map(Expr::Var),
    ]
    .boxed()
}

/// Numbers whose sums and products are mostly exact, so that the
/// simplifier's regrouping cannot hide behind rounding.
fn small_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        proptest::sample::select(vec![0.0, 1.0, -1.0, 2.0, 0.5, -3.0, 0.25, 1.5, 10.0])
            .prop_map(Expr::Num),
        proptest::sample::select(syms()).prop_map(Expr::Var),
    ]
    .boxed()
}

/// A value for every symbol (dyadic, so exact in binary).
fn value_of(s: Sym) -> f64 {
    let k = match s {
        Sym::Input(i) => i,
        Sym::Param(i) => i + 2,
        Sym::Const(i) => i + 12,
        Sym::Net(i) => i + 13,
        Sym::Out(i) => i + 17,
        Sym::Target(i) => i + 21,
        Sym::Err(i) => i + 23,
        _ => 27,
    };
    f64::from(k % 7) * 0.375 - 1.125
}

/// Every subtree, the tree itself included.
fn subtrees<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    out.push(e);
    match e {
        Expr::Num(_) | Expr::Var(_) => {}
        Expr::Neg(a) => subtrees(a, out),
        Expr::Bin(_, a, b) => {
            subtrees(a, out);
            subtrees(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| subtrees(a, out)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::support::cases(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn plain_form_parses_back(e in tree(plain_leaf())) {
        let net = network();
        let names = NetNames::new(&net, Default::default());
        let text = e.plain(&names);
        let again = parse_formula(&net, &text)
            .map_err(|d| TestCaseError::fail(format!("{text:?} does not parse: {d:?}")))?;
        prop_assert_eq!(&again, &e, "printed as {}", text);
    }

    #[test]
    fn simplify_keeps_the_value(e in tree(small_leaf())) {
        let net = network();
        let env = |s: Sym| value_of(s);
        // Only trees finite throughout: the simplifier applies identities
        // such as 0/b = 0 that hold for numbers, not for NaN (which
        // `step` and `relu` would then hide).
        let mut parts = Vec::new();
        subtrees(&e, &mut parts);
        let values: Vec<f64> = parts.iter().map(|p| eval(p, &env, &net.functions)).collect();
        if values.iter().any(|x| !x.is_finite()) {
            // About one tree in seven: ln, sqrt, 1/0 …
            return Ok(());
        }
        let value = values[0];
        let simple = simplify(&e);
        let got = eval(&simple, &env, &net.functions);
        // Regrouping rounds differently; allow for it relative to the
        // largest value met on the way.
        let scale = values.iter().map(|x| x.abs()).fold(1.0f64, f64::max);
        let names = NetNames::new(&net, Default::default());
        prop_assert!(
            (got - value).abs() <= 1e-9 * scale,
            "{} = {} but simplified {} = {}",
            e.plain(&names), value, simple.plain(&names), got
        );
    }
}
