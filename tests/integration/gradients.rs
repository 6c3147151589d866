//! The derived gradients against finite differences.
//!
//! Random networks are written as `.nn` text: 1–4 layers of 1–5 neurons,
//! every built-in activation and a user one, every loss, shared biases and
//! neurons without one, and non-linear net inputs (`v*a*b`, `v^2*a`,
//! `exp(v*a)`, a two-argument user function, a division). Each is parsed
//! and derived; then every ∂E_total/∂p is compared with a finite difference
//! of E_total over that param, and δ_X = ∂E_total/∂net_X and
//! ∂E_total/∂out_X of every neuron with finite differences over a shift of
//! net_X or out_X.
//!
//! The difference is the five-point stencil
//! f′ ≈ (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h)) / 12h, whose error is
//! O(h⁴): with h = 10⁻³·max(1, |p|) both its truncation and its rounding
//! error stay far below the tolerance of 10⁻⁶ (relative, with an absolute
//! floor of 10⁻⁹·max(1, |E_total|) for gradients near 0). A difference
//! whose steps move a relu or leaky relu net input across its kink at 0
//! is skipped; so are networks with such a net input within 10⁻⁴ of 0.

use chainrule::derivation::{derive, Derivation, Options};
use chainrule::expr::{BinOp, Expr, Sym};
use chainrule::model::{Activation, Loss, Network};
use chainrule::parse::parse_network;
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Random networks, as text
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    LeakyRelu02,
    Identity,
    Linear,
    Softplus,
    Swish,
    Softmax,
}

impl Act {
    const HIDDEN: [Act; 9] = [
        Act::Sigmoid,
        Act::Tanh,
        Act::Relu,
        Act::LeakyRelu,
        Act::LeakyRelu02,
        Act::Identity,
        Act::Linear,
        Act::Softplus,
        Act::Swish,
    ];

    fn text(self) -> &'static str {
        match self {
            Act::Sigmoid => "sigmoid",
            Act::Tanh => "tanh",
            Act::Relu => "relu",
            Act::LeakyRelu => "leaky_relu",
            Act::LeakyRelu02 => "leaky_relu(0.2)",
            Act::Identity => "identity",
            Act::Linear => "linear",
            Act::Softplus => "softplus",
            Act::Swish => "swish",
            Act::Softmax => "softmax",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LossKind {
    Mse,
    MseMean,
    Sse,
    Bce,
    Ce,
    /// `loss E = 1/2*(target - out)^2`
    CustomHalf,
    /// `loss E = (target - out)^4`
    CustomQuartic,
}

const LOSSES: [LossKind; 7] = [
    LossKind::Mse,
    LossKind::MseMean,
    LossKind::Sse,
    LossKind::Bce,
    LossKind::Ce,
    LossKind::CustomHalf,
    LossKind::CustomQuartic,
];

#[derive(Debug, Clone, Copy)]
enum Bias {
    None,
    Own(f64),
    /// The layer's shared bias `b{layer}`.
    Shared,
}

/// A non-linear term added to a net input; `a`, `b` pick units of the
/// layer before (modulo its width), `v` is the term's own param.
#[derive(Debug, Clone, Copy)]
enum Extra {
    None,
    /// `v*a*b`
    Product(usize, usize, f64),
    /// `v^2*a`
    Square(usize, f64),
    /// `exp(v*a)`
    Exp(usize, f64),
    /// `mix(v, a)`, a user function of two arguments
    Mix(usize, f64),
    /// `a/(1 + v^2)`
    Quotient(usize, f64),
    /// `c*a`, a const
    Const(usize),
}

#[derive(Debug, Clone)]
struct NeuronSpec {
    weights: [f64; 5],
    /// Bit j set: unit j is subtracted (`- w*a`) rather than added.
    minus: u8,
    bias: Bias,
    extra: Extra,
}

#[derive(Debug, Clone)]
struct LayerSpec {
    act: Act,
    shared_bias: f64,
    neurons: Vec<NeuronSpec>,
}

#[derive(Debug, Clone)]
struct NetSpec {
    inputs: Vec<f64>,
    layers: Vec<LayerSpec>,
    loss: LossKind,
    /// Use softmax on the last layer (with `mse`; `ce` always has it).
    softmax_with_mse: bool,
    targets: [f64; 5],
}

fn weight() -> impl Strategy<Value = f64> {
    // Round to 3 decimals: the text then shows the value the test uses.
    (-1.0..1.0f64).prop_map(|w| (w * 1000.0).round() / 1000.0)
}

fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        4 => Just(Extra::None),
        1 => (0..5usize, 0..5usize, weight()).prop_map(|(a, b, v)| Extra::Product(a, b, v)),
        1 => (0..5usize, weight()).prop_map(|(a, v)| Extra::Square(a, v)),
        1 => (0..5usize, weight()).prop_map(|(a, v)| Extra::Exp(a, v)),
        1 => (0..5usize, weight()).prop_map(|(a, v)| Extra::Mix(a, v)),
        1 => (0..5usize, weight()).prop_map(|(a, v)| Extra::Quotient(a, v)),
        1 => (0..5usize).prop_map(Extra::Const),
    ]
}

fn bias() -> impl Strategy<Value = Bias> {
    prop_oneof![
        Just(Bias::None),
        weight().prop_map(Bias::Own),
        Just(Bias::Shared),
    ]
}

fn neuron() -> impl Strategy<Value = NeuronSpec> {
    (
        proptest::array::uniform5(weight()),
        any::<u8>(),
        bias(),
        extra(),
    )
        .prop_map(|(weights, minus, bias, extra)| NeuronSpec {
            weights,
            // Mostly additions, as people write them.
            minus: minus & minus.rotate_left(3),
            bias,
            extra,
        })
}

fn layer() -> impl Strategy<Value = LayerSpec> {
    (
        proptest::sample::select(Act::HIDDEN.to_vec()),
        weight(),
        proptest::collection::vec(neuron(), 1..=5),
    )
        .prop_map(|(act, shared_bias, neurons)| LayerSpec {
            act,
            shared_bias,
            neurons,
        })
}

fn net_spec() -> impl Strategy<Value = NetSpec> {
    (
        proptest::collection::vec(weight(), 1..=3),
        proptest::collection::vec(layer(), 1..=4),
        proptest::sample::select(LOSSES.to_vec()),
        any::<bool>(),
        proptest::array::uniform5(0.05..0.95f64),
    )
        .prop_map(|(inputs, layers, loss, softmax, targets)| NetSpec {
            inputs,
            layers,
            loss,
            softmax_with_mse: softmax && loss == LossKind::Mse,
            targets: targets.map(|t| (t * 1000.0).round() / 1000.0),
        })
}

impl NetSpec {
    /// The activation each layer really gets: the loss decides the last
    /// one where it needs a kind of output.
    fn act(&self, l: usize) -> Act {
        if l + 1 < self.layers.len() {
            return self.layers[l].act;
        }
        match self.loss {
            LossKind::Ce => Act::Softmax,
            LossKind::Bce => Act::Sigmoid,
            _ if self.softmax_with_mse => Act::Softmax,
            _ => self.layers[l].act,
        }
    }

    fn unit_names(&self, l: usize) -> Vec<String> {
        if l == 0 {
            (1..=self.inputs.len()).map(|i| format!("i{i}")).collect()
        } else {
            let prefix = self.layer_prefix(l - 1);
            (1..=self.layers[l - 1].neurons.len())
                .map(|k| format!("{prefix}{k}"))
                .collect()
        }
    }

    fn layer_prefix(&self, l: usize) -> String {
        if l + 1 == self.layers.len() {
            "o".to_string()
        } else {
            format!("h{}_", l + 1)
        }
    }

    /// The `.nn` text of the network.
    fn text(&self) -> String {
        let mut s = String::new();
        s.push_str("network \"random\"\n");
        s.push_str("fn swish(x) = x*sigmoid(x)\n");
        s.push_str("fn mix(a, b) = a*tanh(b) + b/(1 + a^2)\n");
        s.push_str("const c = 0.3\n");
        let inputs: Vec<String> = self
            .inputs
            .iter()
            .enumerate()
            .map(|(i, x)| format!("i{} = {x}", i + 1))
            .collect();
        s.push_str(&format!("input {}\n", inputs.join(", ")));
        let mut params: Vec<String> = Vec::new();
        for (l, layer) in self.layers.iter().enumerate() {
            let prev = self.unit_names(l);
            let pick = |k: usize| &prev[k % prev.len()];
            let prefix = self.layer_prefix(l);
            s.push_str(&format!("layer L{} {} {{\n", l + 1, self.act(l).text()));
            let mut shared_used = false;
            for (k, n) in layer.neurons.iter().enumerate() {
                let name = format!("{prefix}{}", k + 1);
                let mut line = String::new();
                for (j, unit) in prev.iter().enumerate() {
                    let w = format!("w{}_{}_{}", l + 1, k + 1, j + 1);
                    params.push(format!("{w} = {}", n.weights[j]));
                    let minus = n.minus & (1 << j) != 0;
                    match (line.is_empty(), minus) {
                        (true, true) => line.push_str(&format!("-{w}*{unit}")),
                        (true, false) => line.push_str(&format!("{w}*{unit}")),
                        (false, true) => line.push_str(&format!(" - {w}*{unit}")),
                        (false, false) => line.push_str(&format!(" + {w}*{unit}")),
                    }
                }
                let v = format!("v{}_{}", l + 1, k + 1);
                let term = match n.extra {
                    Extra::None => None,
                    Extra::Product(a, b, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("{v}*{}*{}", pick(a), pick(b)))
                    }
                    Extra::Square(a, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("{v}^2*{}", pick(a)))
                    }
                    Extra::Exp(a, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("exp({v}*{})", pick(a)))
                    }
                    Extra::Mix(a, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("mix({v}, {})", pick(a)))
                    }
                    Extra::Quotient(a, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("{}/(1 + {v}^2)", pick(a)))
                    }
                    Extra::Const(a) => Some(format!("c*{}", pick(a))),
                };
                if let Some(t) = term {
                    line.push_str(&format!(" + {t}"));
                }
                match n.bias {
                    Bias::None => {}
                    Bias::Own(b) => {
                        let bn = format!("b{}_{}", l + 1, k + 1);
                        params.push(format!("{bn} = {b}"));
                        line.push_str(&format!(" + {bn}"));
                    }
                    Bias::Shared => {
                        shared_used = true;
                        line.push_str(&format!(" + b{}", l + 1));
                    }
                }
                s.push_str(&format!("    {name} = {line}\n"));
            }
            s.push_str("}\n");
            if shared_used {
                params.push(format!("b{} = {}", l + 1, layer.shared_bias));
            }
        }
        for p in params.chunks(6) {
            s.push_str(&format!("param {}\n", p.join(", ")));
        }
        let last = self.layers.len() - 1;
        let outputs = self.layers[last].neurons.len();
        let mut targets: Vec<f64> = self.targets[..outputs].to_vec();
        if self.act(last) == Act::Softmax {
            // Targets of a softmax layer are a distribution.
            let sum: f64 = targets.iter().sum();
            targets.iter_mut().for_each(|t| *t /= sum);
        }
        let targets: Vec<String> = targets
            .iter()
            .enumerate()
            .map(|(k, t)| format!("o{} = {t}", k + 1))
            .collect();
        s.push_str(&format!("target {}\n", targets.join(", ")));
        s.push_str(match self.loss {
            LossKind::Mse => "loss mse\n",
            LossKind::MseMean => "loss mse_mean\n",
            LossKind::Sse => "loss sse\n",
            LossKind::Bce => "loss bce\n",
            LossKind::Ce => "loss ce\n",
            LossKind::CustomHalf => "loss E = 1/2*(target - out)^2\n",
            LossKind::CustomQuartic => "loss E = (target - out)^4\n",
        });
        s.push_str("rate 0.5\n");
        s
    }
}

// ---------------------------------------------------------------------------
// Finite differences
// ---------------------------------------------------------------------------

/// Net inputs of relu and leaky relu layers, where the derivative jumps.
fn kinked(net: &Network) -> Vec<usize> {
    net.layers
        .iter()
        .filter(|l| matches!(l.activation, Activation::Relu | Activation::LeakyRelu(_)))
        .flat_map(|l| l.neurons.clone().map(|n| n as usize))
        .collect()
}

/// The five-point derivative of E_total along a change of the network,
/// `None` when a step fails or crosses a kink.
struct Stencil<'a> {
    base: &'a Derivation,
    kinks: &'a [usize],
}

impl Stencil<'_> {
    fn total(&self, net: &Network) -> Option<f64> {
        let d = derive(net, Options::default()).ok()?;
        let crossed = self
            .kinks
            .iter()
            .any(|&x| (d.forward.net[x] > 0.0) != (self.base.forward.net[x] > 0.0));
        (!crossed).then_some(d.forward.total)
    }

    /// d/dt E_total(change(t)) at t = 0, with step `h`.
    fn derivative(&self, h: f64, change: &dyn Fn(f64) -> Network) -> Option<f64> {
        let f = |k: f64| self.total(&change(k * h));
        let (m2, m1, p1, p2) = (f(-2.0)?, f(-1.0)?, f(1.0)?, f(2.0)?);
        Some((m2 - 8.0 * m1 + 8.0 * p1 - p2) / (12.0 * h))
    }
}

fn agree(derived: f64, numeric: f64, total: f64) -> bool {
    let tol = 1e-6 * derived.abs().max(numeric.abs()) + 1e-9 * total.abs().max(1.0);
    (derived - numeric).abs() <= tol
}

/// Every neuron's net input with `out_X` replaced by `out_X + t`.
fn shift_out(net: &Network, x: u32, t: f64) -> Network {
    let mut n = net.clone();
    for neuron in &mut n.neurons {
        neuron.net = neuron.net.substitute(&mut |s| {
            if s == Sym::Out(x) {
                Expr::bin(BinOp::Add, Expr::Var(s), Expr::Num(t))
            } else {
                Expr::Var(s)
            }
        });
    }
    n
}

/// Checks every gradient, δ and ∂E_total/∂out of the network; returns the
/// number of comparisons made.
fn check_network(text: &str) -> Result<usize, TestCaseError> {
    let net = parse_network("random.nn", text)
        .map_err(|d| TestCaseError::fail(format!("does not parse:\n{d}")))?;
    // Exponentials of exponentials can saturate a sigmoid to exactly 1,
    // and then `bce` is rightly infinite; such networks, and those close
    // to it, are not what this test is about.
    let base = derive(&net, Options::default());
    // (The number of such rejections is bounded in the config below.)
    let Ok(base) = base else {
        return Err(TestCaseError::reject("not finite"));
    };
    prop_assume!(base.forward.net.iter().all(|x| x.abs() < 30.0));
    let kinks = kinked(&net);
    prop_assume!(kinks.iter().all(|&x| base.forward.net[x].abs() > 1e-4));
    let total = base.forward.total;
    let st = Stencil {
        base: &base,
        kinks: &kinks,
    };
    let mut checked = 0;

    for (p, param) in net.params.iter().enumerate() {
        let h = 1e-3 * param.value.abs().max(1.0);
        let numeric = st.derivative(h, &|t| {
            let mut n = net.clone();
            n.params[p].value += t;
            n
        });
        let Some(numeric) = numeric else { continue };
        let derived = base.params[p].value;
        prop_assert!(
            agree(derived, numeric, total),
            "∂E_total/∂{}: derived {derived}, finite difference {numeric}",
            param.name
        );
        checked += 1;
    }

    for (x, neuron) in net.neurons.iter().enumerate() {
        // δ_X: shift net_X itself.
        let numeric = st.derivative(1e-3, &|t| {
            let mut n = net.clone();
            n.neurons[x].net = Expr::bin(BinOp::Add, n.neurons[x].net.clone(), Expr::Num(t));
            n
        });
        if let Some(numeric) = numeric {
            let derived = base.neurons[x].delta;
            prop_assert!(
                agree(derived, numeric, total),
                "δ_{}: derived {derived}, finite difference {numeric}",
                neuron.name
            );
            checked += 1;
        }
        // ∂E_total/∂out_X, net_X held: for a hidden neuron shift out_X
        // where later layers use it; for an output, in its error E_X.
        let derived = base.neurons[x].d_out_value;
        let numeric = if net.is_output(x as u32) {
            let e = chainrule::diff::loss_expr(&net.loss, x as u32, net.outputs().len());
            let out = base.forward.out[x];
            let at = |t: f64| {
                chainrule::eval::eval(
                    &e,
                    &|s| match s {
                        Sym::Out(_) => out + t,
                        s => net.fixed_value(s).unwrap_or(f64::NAN),
                    },
                    &net.functions,
                )
            };
            // ln(out) and ln(1 − out) need steps relative to their distance
            // from 0 and 1.
            let h = match net.loss {
                Loss::Bce => 1e-3 * out.min(1.0 - out),
                Loss::Ce => 1e-3 * out,
                _ => 1e-3 * out.abs().max(1.0),
            };
            Some((at(-2.0 * h) - 8.0 * at(-h) + 8.0 * at(h) - at(2.0 * h)) / (12.0 * h))
        } else {
            st.derivative(1e-3, &|t| shift_out(&net, x as u32, t))
        };
        if let Some(numeric) = numeric {
            prop_assert!(
                agree(derived, numeric, total),
                "∂E_total/∂out_{}: derived {derived}, finite difference {numeric}",
                neuron.name
            );
            checked += 1;
        }
    }
    Ok(checked)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::support::cases(128),
        // Rejected: saturated networks and relu net inputs at their kink.
        max_global_rejects: crate::support::cases(128) / 2,
        ..ProptestConfig::default()
    })]

    #[test]
    fn gradients_match_finite_differences(spec in net_spec()) {
        let text = spec.text();
        let checked = check_network(&text).map_err(|e| match e {
            TestCaseError::Fail(why) => TestCaseError::fail(format!("{why}\nnetwork:\n{text}")),
            reject => reject,
        })?;
        prop_assert!(checked > 0, "nothing compared in\n{text}");
    }
}

/// The bundled example, with every quantity compared.
#[test]
fn mazur_gradients_match_finite_differences() {
    let text = std::fs::read_to_string("examples/mazur.nn").unwrap();
    let checked = check_network(&text).unwrap();
    // 10 params, and δ and ∂E_total/∂out of 4 neurons.
    assert_eq!(checked, 18);
}

/// One network with every feature at once, so that a failure of the
/// random test has a fixed neighbour to debug with.
#[test]
fn every_feature_at_once() {
    let text = r#"
fn swish(x) = x*sigmoid(x)
fn mix(a, b) = a*tanh(b) + b/(1 + a^2)
const c = 0.3
input i1 = 0.05, i2 = -0.7
layer h leaky_relu(0.2) {
    h1 = w1*i1*i2 + w2^2*i2 + b1
    h2 = exp(w3*i1) - w4*i2 + b1
    h3 = mix(w5, i2) + c*i1
}
layer g swish {
    g1 = w6*h1 + w7*h2 + w8*h3
    g2 = h1/(1 + w9^2) - w10*h3 + b2
}
layer o softmax {
    o1 = w11*g1 + w12*g2
    o2 = w13*g1 + w14*g2 + b3
}
param w1 = 0.3, w2 = -0.4, w3 = 0.5, w4 = 0.6, w5 = -0.7, w6 = 0.8, w7 = -0.9
param w8 = 0.1, w9 = 0.2, w10 = 0.3, w11 = -0.4, w12 = 0.5, w13 = 0.6, w14 = 0.7
param b1 = 0.1, b2 = -0.2, b3 = 0.3
target o1 = 0.25, o2 = 0.75
loss ce
"#;
    let checked = check_network(text).unwrap();
    assert_eq!(checked, 17 + 2 * 7);
}
