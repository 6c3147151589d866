//! Every differentiation rule and built-in, written as maths: input ⇒ the
//! derivative in the form the page shows it. Each expression is of
//! u = w1·i1 (so u′ = i1) and is differentiated by w1; each result is also
//! checked against a central finite difference.

use chainrule::diff::{activation_derivative, differentiate, loss_expr, softmax_derivative};
use chainrule::eval::eval;
use chainrule::expr::Sym;
use chainrule::model::{Activation, Loss, Network};
use chainrule::notation::NetNames;
use chainrule::parse::{parse_formula, parse_network};

const NETWORK: &str = r#"
fn swish(x) = x*sigmoid(x)
fn mix(a, b) = a*tanh(b) + b
const c = 0.3
input i1 = 0.05, i2 = 0.10
layer o sigmoid {
    o1 = w1*i1 + w2*i2
}
param w1 = 0.15, w2 = 0.20
target o1 = 0.01
"#;

/// (rule, f(w1), ∂f/∂w1 as the page writes it)
const RULES: &[(&str, &str, &str)] = &[
    ("sum: (u + v)′ = u′ + v′", "w1*i1 + w2", "i1"),
    ("difference", "w1*i1 - w2", "i1"),
    ("negation: (−u)′ = −u′", "-(w1*i1)", "-i1"),
    ("constant: c′ = 0", "c*w2", "0"),
    (
        "product: (u·v)′ = u′v + uv′",
        "(w1*i1)*(w2 + w1)",
        "i1*(w2 + w1) + w1*i1",
    ),
    (
        "quotient: (u/v)′ = (u′v − uv′)/v²",
        "(w1*i1)/(w2 + w1)",
        "(i1*(w2 + w1) - w1*i1)/(w2 + w1)^2",
    ),
    ("power: (uⁿ)′ = n·uⁿ⁻¹·u′", "(w1*i1)^3", "3*((w1*i1)^2*i1)"),
    (
        "exponential: (aᵘ)′ = aᵘ·ln a·u′",
        "i2^(w1*i1)",
        "i2^(w1*i1)*ln(i2)*i1",
    ),
    (
        "general power: (uᵛ)′ = uᵛ·(v′ ln u + v·u′/u)",
        "(w1*i1)^(w1)",
        "(w1*i1)^w1*(ln(w1*i1) + w1*i1/(w1*i1))",
    ),
    ("exp: (eᵘ)′ = eᵘ·u′", "exp(w1*i1)", "exp(w1*i1)*i1"),
    ("ln: (ln u)′ = u′/u", "ln(w1*i1)", "i1/(w1*i1)"),
    (
        "sqrt: (√u)′ = u′/(2√u)",
        "sqrt(w1*i1)",
        "i1/(2*sqrt(w1*i1))",
    ),
    (
        "sigmoid: σ(u)′ = σ(u)(1 − σ(u))·u′",
        "sigmoid(w1*i1)",
        "sigmoid(w1*i1)*(1 - sigmoid(w1*i1))*i1",
    ),
    (
        "tanh: tanh(u)′ = (1 − tanh²u)·u′",
        "tanh(w1*i1)",
        "(1 - tanh(w1*i1)^2)*i1",
    ),
    (
        "relu: relu(u)′ = step(u)·u′",
        "relu(w1*i1)",
        "step(w1*i1)*i1",
    ),
    (
        "leaky_relu by x: step(x, a)·x′",
        "leaky_relu(w1*i1, w2)",
        "step(w1*i1, w2)*i1",
    ),
    (
        "leaky_relu by a: (x − relu(x))·a′",
        "leaky_relu(w2, w1*i1)",
        "(w2 - relu(w2))*i1",
    ),
    (
        "softplus: softplus(u)′ = σ(u)·u′",
        "softplus(w1*i1)",
        "sigmoid(w1*i1)*i1",
    ),
    ("step: step(u)′ = 0 (almost everywhere)", "step(w1*i1)", "0"),
    (
        "user fn, inlined: swish(u) = u·σ(u)",
        "swish(w1*i1)",
        "i1*sigmoid(w1*i1) + w1*i1*(sigmoid(w1*i1)*(1 - sigmoid(w1*i1))*i1)",
    ),
    (
        "user fn of two args, by the first",
        "mix(w1*i1, w2)",
        "i1*tanh(w2)",
    ),
];

fn network() -> Network {
    parse_network("rules.nn", NETWORK).expect("the table's network parses")
}

/// The value of a symbol at the point the table is checked at.
fn at(w1: f64) -> impl Fn(Sym) -> f64 {
    move |s| match s {
        Sym::Param(0) => w1,
        Sym::Param(1) => 0.2,
        Sym::Input(0) => 0.05,
        Sym::Input(1) => 0.1,
        Sym::Const(0) => 0.3,
        Sym::Net(_) => 0.4,
        Sym::Out(_) => 0.6,
        Sym::Target(_) => 0.25,
        _ => f64::NAN,
    }
}

#[test]
fn every_rule_gives_the_textbook_derivative() {
    let net = network();
    let names = NetNames::new(&net, Default::default());
    let mut wrong = Vec::new();
    for (rule, f, want) in RULES {
        let e = parse_formula(&net, f).expect("the rule's formula parses");
        let d = differentiate(&e, Sym::Param(0), &net.functions);
        let got = d.plain(&names);
        if got != *want {
            wrong.push(format!("{rule}: {f} ⇒ {got}, expected {want}"));
        }
        // The derivative's value is the slope of f at w1 = 0.15.
        let h = 1e-6;
        let slope = (eval(&e, &at(0.15 + h), &net.functions)
            - eval(&e, &at(0.15 - h), &net.functions))
            / (2.0 * h);
        let value = eval(&d, &at(0.15), &net.functions);
        assert!(
            (value - slope).abs() <= 1e-6 * (1.0 + slope.abs()),
            "{rule}: {value} is not the slope {slope}"
        );
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_activation_gives_the_textbook_derivative() {
    let net = network();
    let names = NetNames::new(&net, Default::default());
    for (act, want) in [
        (Activation::Sigmoid, "out_o1*(1 - out_o1)"),
        (Activation::Tanh, "1 - out_o1^2"),
        (Activation::Relu, "step(net_o1)"),
        (Activation::LeakyRelu(0.2), "step(net_o1, 0.2)"),
        (Activation::Identity, "1"),
        (Activation::Softplus, "sigmoid(net_o1)"),
    ] {
        let (d, _) = activation_derivative(act, 0, &net.functions);
        assert_eq!(d.plain(&names), want, "{act:?}");
    }
    // A softmax layer: ∂out_j/∂net_j = out_j(1 − out_j), ∂out_j/∂net_k = −out_j·out_k.
    let same = softmax_derivative(0, 0);
    let eval_at = |e| eval(e, &at(0.15), &net.functions);
    assert!((eval_at(&same) - 0.6 * (1.0 - 0.6)).abs() < 1e-15);
    let other = softmax_derivative(0, 1);
    assert!((eval_at(&other) + 0.6 * 0.6).abs() < 1e-15);
}

#[test]
fn every_loss_gives_the_textbook_derivative() {
    let net = network();
    let names = NetNames::new(&net, Default::default());
    for (loss, want) in [
        // ½(t − o)² ⇒ −(t − o)
        (Loss::Mse, "-(target_o1 - out_o1)"),
        // (t − o)² ⇒ −2(t − o)
        (Loss::Sse, "-2*(target_o1 - out_o1)"),
        // −t ln o ⇒ −t/o
        (Loss::Ce, "-target_o1/out_o1"),
    ] {
        let e = loss_expr(&loss, 0, 1);
        let d = differentiate(&e, Sym::Out(0), &net.functions);
        let got = chainrule::expr::simplify(&d).plain(&names);
        assert_eq!(got, want, "{loss:?}");
        let h = 1e-6;
        let env = |o: f64| {
            move |s| match s {
                Sym::Out(_) => o,
                s => at(0.15)(s),
            }
        };
        let slope = (eval(&e, &env(0.6 + h), &net.functions)
            - eval(&e, &env(0.6 - h), &net.functions))
            / (2.0 * h);
        assert!((eval(&d, &env(0.6), &net.functions) - slope).abs() < 1e-6);
    }
}
