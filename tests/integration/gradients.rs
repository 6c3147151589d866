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

use chainrule::check::Quantity;
use chainrule::derivation::{derive, Derivation, Options, Pass, Plan, Values};
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
    /// `sact`: `tanh(s*x)`, a user activation with a param inside.
    Scaled,
    /// `gate`: `x*sigmoid(gi(x))`, `gi(x) = g*x + c`, a param two calls
    /// deep, in a function declared after its caller.
    Gate,
    Softmax,
}

impl Act {
    const HIDDEN: [Act; 11] = [
        Act::Sigmoid,
        Act::Tanh,
        Act::Relu,
        Act::LeakyRelu,
        Act::LeakyRelu02,
        Act::Identity,
        Act::Linear,
        Act::Softplus,
        Act::Swish,
        Act::Scaled,
        Act::Gate,
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
            Act::Scaled => "sact",
            Act::Gate => "gate",
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
    /// `loss E = sc(target - out)`, `sc(x) = q*x^2 + x^4/4`: a param inside
    /// a function the loss calls.
    CustomParam,
}

const LOSSES: [LossKind; 8] = [
    LossKind::Mse,
    LossKind::MseMean,
    LossKind::Sse,
    LossKind::Bce,
    LossKind::Ce,
    LossKind::CustomHalf,
    LossKind::CustomQuartic,
    LossKind::CustomParam,
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
    /// `a*step(i_k, v)`: a param as the second argument of `step`
    StepArg(usize, usize, f64),
    /// `leaky_relu(i_k - 0.5, v)`: a param as the slope of `leaky_relu`
    LeakyArg(usize, f64),
    /// `v*i_k`: an input used past the first layer (a skip connection)
    Skip(usize, f64),
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

/// Samples: inputs and targets.
type Rows = Vec<([f64; 3], [f64; 5])>;

#[derive(Debug, Clone)]
struct NetSpec {
    inputs: Vec<f64>,
    layers: Vec<LayerSpec>,
    loss: LossKind,
    /// Use softmax on the last layer (with `mse`; `ce` always has it).
    softmax_with_mse: bool,
    targets: [f64; 5],
    /// Several samples (inputs, targets) and whether they are summed.
    data: Option<(Rows, bool)>,
    /// Values of the params inside functions (`s`, `g`, `q`).
    fn_params: [f64; 3],
    /// An L2 term: λ, and whether it covers every param (`on *`) rather
    /// than the weights.
    l2: Option<(f64, bool)>,
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
        1 => (0..5usize, 0..3usize, weight()).prop_map(|(a, k, v)| Extra::StepArg(a, k, v)),
        1 => (0..3usize, weight()).prop_map(|(k, v)| Extra::LeakyArg(k, v)),
        1 => (0..3usize, weight()).prop_map(|(k, v)| Extra::Skip(k, v)),
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
        proptest::option::weighted(
            0.25,
            (
                proptest::collection::vec(
                    (
                        proptest::array::uniform3(weight()),
                        proptest::array::uniform5(0.05..0.95f64),
                    ),
                    2..=4,
                ),
                any::<bool>(),
            ),
        ),
        proptest::array::uniform3(weight()),
        proptest::option::weighted(0.3, (0.001..0.5f64, any::<bool>())),
    )
        .prop_map(
            |(inputs, layers, loss, softmax, targets, data, fn_params, l2)| NetSpec {
                inputs,
                layers,
                loss,
                softmax_with_mse: softmax && loss == LossKind::Mse,
                targets: targets.map(|t| (t * 1000.0).round() / 1000.0),
                data: data.map(|(rows, sum)| {
                    let rows = rows
                        .into_iter()
                        .map(|(x, t)| (x, t.map(|t| (t * 1000.0).round() / 1000.0)))
                        .collect();
                    (rows, sum)
                }),
                // Away from 0, so that `tanh(s*x)` does not vanish.
                fn_params: fn_params.map(|v| if v.abs() < 0.2 { v + 0.5 } else { v }),
                l2: l2.map(|(l, all)| ((l * 1000.0).round() / 1000.0, all)),
            },
        )
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
        s.push_str("fn sact(x) = tanh(s*x)\n");
        s.push_str("fn gate(x) = x*sigmoid(gi(x))\n");
        s.push_str("fn gi(x) = g*x + c\n");
        s.push_str("fn sc(x) = q*x^2 + x^4/4\n");
        s.push_str("const c = 0.3\n");
        let inputs: Vec<String> = self
            .inputs
            .iter()
            .enumerate()
            .map(|(i, x)| format!("i{} = {x}", i + 1))
            .collect();
        if self.data.is_none() {
            s.push_str(&format!("input {}\n", inputs.join(", ")));
        }
        let mut params: Vec<String> = Vec::new();
        let [sv, gv, qv] = self.fn_params;
        // Declared whether used or not (an unused one has gradient 0).
        params.push(format!("s = {sv}, g = {gv}, q = {qv}"));
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
                    Extra::StepArg(a, k, x) => {
                        params.push(format!("{v} = {x}"));
                        let i = k % self.inputs.len() + 1;
                        Some(format!("{}*step(i{i}, {v})", pick(a)))
                    }
                    Extra::LeakyArg(k, x) => {
                        params.push(format!("{v} = {x}"));
                        let i = k % self.inputs.len() + 1;
                        Some(format!("leaky_relu(i{i} - 0.5, {v})"))
                    }
                    Extra::Skip(k, x) => {
                        params.push(format!("{v} = {x}"));
                        Some(format!("{v}*i{}", k % self.inputs.len() + 1))
                    }
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
        let softmax = self.act(last) == Act::Softmax;
        if let Some((rows, sum)) = &self.data {
            let ins: Vec<String> = (1..=self.inputs.len()).map(|i| format!("i{i}")).collect();
            let outs: Vec<String> = (1..=outputs).map(|k| format!("o{k}")).collect();
            s.push_str(&format!(
                "data {{\n    {} -> {}\n",
                ins.join(", "),
                outs.join(", ")
            ));
            for (x, t) in rows {
                let mut t: Vec<f64> = t[..outputs].to_vec();
                if softmax {
                    let sum: f64 = t.iter().sum();
                    t.iter_mut().for_each(|v| *v /= sum);
                }
                let x: Vec<String> = x[..self.inputs.len()].iter().map(f64::to_string).collect();
                let t: Vec<String> = t.iter().map(f64::to_string).collect();
                s.push_str(&format!("    {} -> {}\n", x.join(", "), t.join(", ")));
            }
            s.push_str("}\n");
            s.push_str(if *sum { "batch sum\n" } else { "batch mean\n" });
        } else {
            let targets: Vec<String> = targets
                .iter()
                .enumerate()
                .map(|(k, t)| format!("o{} = {t}", k + 1))
                .collect();
            s.push_str(&format!("target {}\n", targets.join(", ")));
        }
        s.push_str(match self.loss {
            LossKind::Mse => "loss mse\n",
            LossKind::MseMean => "loss mse_mean\n",
            LossKind::Sse => "loss sse\n",
            LossKind::Bce => "loss bce\n",
            LossKind::Ce => "loss ce\n",
            LossKind::CustomHalf => "loss E = 1/2*(target - out)^2\n",
            LossKind::CustomQuartic => "loss E = (target - out)^4\n",
            LossKind::CustomParam => "loss E = sc(target - out)\n",
        });
        s.push_str("rate 0.5\n");
        match self.l2 {
            Some((l, true)) => s.push_str(&format!("l2 {l} on *\n")),
            Some((l, false)) => s.push_str(&format!("l2 {l}\n")),
            None => {}
        }
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
        let crossed = nets(&d).zip(nets(self.base)).any(|(a, b)| {
            self.kinks
                .iter()
                .any(|&x| (a.forward.net[x] > 0.0) != (b.forward.net[x] > 0.0))
        });
        (!crossed).then_some(d.total)
    }

    /// d/dt E_total(change(t)) at t = 0, with step `h`.
    fn derivative(&self, h: f64, change: &dyn Fn(f64) -> Network) -> Option<f64> {
        let f = |k: f64| self.total(&change(k * h));
        let (m2, m1, p1, p2) = (f(-2.0)?, f(-1.0)?, f(1.0)?, f(2.0)?);
        Some((m2 - 8.0 * m1 + 8.0 * p1 - p2) / (12.0 * h))
    }
}

/// The passes of a derivation: each sample's.
fn nets(d: &Derivation) -> impl Iterator<Item = &Pass> {
    d.samples.iter()
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
    prop_assume!(nets(&base).all(|d| d.forward.net.iter().all(|x| x.abs() < 30.0)));
    // With `bce` or `ce`, an output within 10⁻⁴ of 0 or 1 leaves ln(1 − out)
    // or ln(out) too few digits for a finite difference to be checked
    // against (1 − out is a cancellation); the derivation itself does not
    // take that logarithm's difference.
    if matches!(net.loss, Loss::Bce | Loss::Ce) {
        prop_assume!(nets(&base).all(|d| {
            net.outputs()
                .all(|x| (1e-4..1.0 - 1e-4).contains(&d.forward.out[x as usize]))
        }));
    }
    let kinks = kinked(&net);
    prop_assume!(nets(&base).all(|d| kinks.iter().all(|&x| d.forward.net[x].abs() > 1e-4)));
    let total = base.total;
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
        // A gradient of exactly 0 only where E_total does not move: the
        // tolerance above would let a silent 0 pass against a tiny slope.
        prop_assert!(
            derived != 0.0 || numeric.abs() <= 1e-11 * total.abs().max(1.0),
            "∂E_total/∂{} is exactly 0, but the finite difference is {numeric}",
            param.name
        );
        checked += 1;
    }

    // The numbers-only path of training gives the same gradients.
    let fast = Plan::new(&net)
        .gradients(&Values::of(&net))
        .map_err(|e| TestCaseError::fail(format!("fast path: {e}")))?;
    for (p, param) in net.params.iter().enumerate() {
        let (a, b) = (base.params[p].value, fast.params[p]);
        prop_assert!(
            (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300),
            "∂E_total/∂{}: derivation {a}, fast path {b}",
            param.name
        );
    }

    // With several samples, δ and ∂E_total/∂out are those of one sample,
    // checked by the networks without data.
    if net.data.is_some() {
        return Ok(checked);
    }
    // `check` computes partials its own way (sums over paths of a graph of
    // named quantities): it must agree on every gradient.
    let asked: Vec<Quantity> = (0..net.params.len() as u32)
        .map(|p| Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(p),
        })
        .collect();
    for (p, v) in chainrule::check::evaluate(&net, &asked)
        .into_iter()
        .enumerate()
    {
        let a = base.params[p].value;
        prop_assert!(
            (a - v).abs() <= 1e-9 * a.abs().max(v.abs()) + 1e-15,
            "∂E_total/∂{}: derivation {a}, check's graph {v}",
            net.params[p].name
        );
    }
    for (x, neuron) in net.neurons.iter().enumerate() {
        // δ_X: shift net_X itself.
        let numeric = st.derivative(1e-3, &|t| {
            let mut n = net.clone();
            n.neurons[x].net = Expr::bin(BinOp::Add, n.neurons[x].net.clone(), Expr::Num(t));
            n
        });
        if let Some(numeric) = numeric {
            let derived = base.worked().neurons[x].delta;
            prop_assert!(
                agree(derived, numeric, total),
                "δ_{}: derived {derived}, finite difference {numeric}",
                neuron.name
            );
            checked += 1;
        }
        // ∂E_total/∂out_X, net_X held: for a hidden neuron shift out_X
        // where later layers use it; for an output, in its error E_X.
        let derived = base.worked().neurons[x].d_out_value;
        let numeric = if net.is_output(x as u32) {
            let e = chainrule::diff::loss_expr(&net.loss, x as u32, net.outputs().len());
            let out = base.worked().forward.out[x];
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
        cases: crate::support::cases(320),
        // Rejected: saturated networks and relu net inputs at their kink.
        max_global_rejects: crate::support::cases(320) / 2,
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

// ---------------------------------------------------------------------------
// Params inside functions, through the real binary, against hand computation
// ---------------------------------------------------------------------------

/// `solve -f json` of `src`: the gradients by param name.
fn json_gradients(src: &str) -> serde_json::Map<String, serde_json::Value> {
    let run = crate::support::Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(src)
        .status(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["gradients"].as_object().unwrap().clone()
}

fn grad(g: &serde_json::Map<String, serde_json::Value>, p: &str) -> f64 {
    g[p].as_f64().unwrap()
}

/// A param of a one-argument `fn` used as the activation.
#[test]
fn param_inside_an_activation_function() {
    let g = json_gradients(
        "input i1 = 0.5\nfn act(x) = tanh(a*x)\nlayer o act { o1 = w*i1 }\n\
         param w = 0.8, a = 1.5\ntarget o1 = 0.1\n",
    );
    // By hand: net = w·i1, out = tanh(a·net), E = ½(t − out)²,
    // ∂E/∂a = (out − t)·(1 − out²)·net, ∂E/∂w = (out − t)·(1 − out²)·a·i1.
    let (i1, w, a, t) = (0.5f64, 0.8f64, 1.5f64, 0.1f64);
    let net = w * i1;
    let out = (a * net).tanh();
    let da = (out - t) * (1.0 - out * out) * net;
    let dw = (out - t) * (1.0 - out * out) * a * i1;
    crate::support::close(grad(&g, "a"), da, 1e-15);
    crate::support::close(grad(&g, "w"), dw, 1e-15);
    // The value JAX (float64) gives.
    crate::support::close(grad(&g, "a"), 0.12439790120967063, 1e-15);
}

/// A param of a `fn` that the custom loss calls.
#[test]
fn param_inside_a_function_of_the_loss() {
    let g = json_gradients(
        "input i1 = 0.5\nfn sc(x) = a*x^2\nlayer o sigmoid { o1 = w*i1 }\n\
         param w = 0.8, a = 1.5\ntarget o1 = 0.1\nloss E = sc(target - out)\n",
    );
    // E = a·(t − out)²: ∂E/∂a = (t − out)², ∂E/∂w = −2a(t − out)·out(1 − out)·i1.
    let out = 1.0 / (1.0 + (-0.4f64).exp());
    let da = (0.1 - out) * (0.1 - out);
    let dw = -2.0 * 1.5 * (0.1 - out) * out * (1.0 - out) * 0.5;
    crate::support::close(grad(&g, "a"), da, 1e-15);
    crate::support::close(grad(&g, "w"), dw, 1e-15);
    crate::support::close(grad(&g, "a"), 0.24868938234843257, 1e-15);
}

/// The second argument of `step(x, a)` and `leaky_relu(x, a)`.
#[test]
fn second_argument_of_step_and_leaky_relu() {
    // out = w·step(i1, a) = w·a for i1 ≤ 0: ∂E/∂a = (out − t)·w.
    let g = json_gradients(
        "input i1 = -0.5\nlayer o identity { o1 = w*step(i1, a) }\n\
         param w = 0.8, a = 0.3\ntarget o1 = 0.1\n",
    );
    crate::support::close(grad(&g, "a"), (0.8 * 0.3 - 0.1) * 0.8, 1e-15);
    crate::support::close(grad(&g, "a"), 0.112, 1e-15);
    // For x > 0 the second argument does not matter.
    let g = json_gradients(
        "input i1 = 0.5\nlayer o identity { o1 = w*step(i1, a) }\n\
         param w = 0.8, a = 0.3\ntarget o1 = 0.1\n",
    );
    assert_eq!(grad(&g, "a"), 0.0);
    // out = leaky_relu(w·i1, a) = a·w·i1 for w·i1 ≤ 0: ∂E/∂a = (out − t)·w·i1.
    let g = json_gradients(
        "input i1 = -0.5\nlayer o identity { o1 = leaky_relu(w*i1, a) }\n\
         param w = 0.8, a = 0.3\ntarget o1 = 0.1\n",
    );
    let x = 0.8 * -0.5;
    crate::support::close(grad(&g, "a"), (0.3 * x - 0.1) * x, 1e-15);
    crate::support::close(grad(&g, "w"), (0.3 * x - 0.1) * 0.3 * -0.5, 1e-15);
}

/// The page shows the new factor: ∂E_total/∂out times ∂out/∂a, with the
/// numbers that multiply to the gradient.
#[test]
fn page_shows_the_activation_param_factor_by_factor() {
    let md = crate::support::Test::new()
        .args(["solve", "-"])
        .stdin(
            "input i1 = 0.5\nfn act(x) = tanh(a*x)\nlayer o act { o1 = w*i1 }\n\
             param w = 0.8, a = 1.5\ntarget o1 = 0.1\n",
        )
        .status(0)
        .stdout;
    let step = &md[md.find("<a id=\"da\">").unwrap()..];
    assert!(step.contains(
        "\\frac{\\partial E_{total}}{\\partial a} &= \\underbrace{\\frac{\\partial E_{total}}{\\partial out_{o_1}}}"
    ));
    assert!(step.contains("\\frac{\\partial out_{o_1}}{\\partial a} &= (1 - \\tanh(a \\cdot net_{o_1})^{2}) \\cdot net_{o_1}"));
    // ∂E/∂out = out − t = 0.437049567, ∂out/∂a = 0.284631105.
    assert!(
        step.contains("0.437049567 \\cdot 0.284631105 = 0.124397901"),
        "{step}"
    );
}

/// When only E_total after the update is not finite, the step is solved
/// and the problem is reported as one after the update.
#[test]
fn a_problem_after_the_update_does_not_refuse_the_step() {
    let src = "input i1 = 1\nlayer o identity { o1 = sqrt(w) }\nparam w = 0.04\ntarget o1 = 0\n";
    // ∂E/∂w = (√w − 0)·1/(2√w) = ½, so w⁺ = 0.04 − 0.5·0.5 = −0.21.
    let g = json_gradients(src);
    crate::support::close(grad(&g, "w"), 0.5, 1e-15);
    let md = crate::support::Test::new()
        .args(["solve", "-"])
        .stdin(src)
        .status(0)
        .stdout;
    assert!(
        md.contains(
            "cannot be computed: `net_o1⁺` = `sqrt(w)` is not a number (NaN) with w⁺ = -0.21"
        ),
        "{md}"
    );
    let json = crate::support::Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(src)
        .status(0)
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["E_total_after"].is_null());
    assert!(v["E_total_after_problem"]
        .as_str()
        .unwrap()
        .contains("w⁺ = -0.21"));
}

/// With `ce`, a softmax output that underflows to 0 where its target is 0
/// costs 0 (0·ln 0 = 0), and its gradient is 0.
#[test]
fn cross_entropy_of_an_underflowed_output_with_target_zero() {
    let run = crate::support::Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(
            "input i1 = 1\nlayer o softmax { o1 = w1*i1  o2 = w2*i1 }\n\
             param w1 = 800, w2 = 0.5\ntarget o1 = 1, o2 = 0\nloss ce\n",
        )
        .status(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["values"]["out_o2"].as_f64(), Some(0.0));
    assert_eq!(v["values"]["E_total"].as_f64(), Some(0.0));
    // δ_o2 = out_o2 − target_o2 = e^(0.5 − 800) − 0, below the smallest f64.
    assert_eq!(v["gradients"]["w2"].as_f64(), Some(0.0));
    // A target of 1 on the underflowed output is infinite, and refused.
    let run = crate::support::Test::new()
        .args(["solve", "-"])
        .stdin(
            "input i1 = 1\nlayer o softmax { o1 = w1*i1  o2 = w2*i1 }\n\
             param w1 = 800, w2 = 0.5\ntarget o1 = 0, o2 = 1\nloss ce\n",
        )
        .status(2);
    assert!(run.stderr.contains("E_o2"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// Dense layers with seeded init
// ---------------------------------------------------------------------------

/// A dense network: `input x[n]`, dense layers whose activation may be a
/// user function with a param inside, `init` of each kind and seed, and
/// sometimes a `data` block.
fn dense_text(
    widths: &[usize],
    acts: &[usize],
    init: usize,
    seed: u64,
    loss_param: bool,
    data: Option<bool>,
) -> String {
    const ACTS: [&str; 5] = ["sigmoid", "tanh", "sact", "softplus", "identity"];
    let mut s = String::from("fn sact(x) = tanh(s*x)\nfn sc(x) = q*x^2\nparam s = 0.9, q = 0.7\n");
    let n = widths[0];
    let xs: Vec<String> = (0..n)
        .map(|k| format!("{}", 0.1 + 0.2 * k as f64))
        .collect();
    s.push_str(&format!("input x[{n}] = [{}]\n", xs.join(", ")));
    let mut prev = "x".to_string();
    let last = widths.len() - 1;
    for l in 1..widths.len() {
        let name = if l == last {
            "y".to_string()
        } else {
            format!("h{l}_")
        };
        let act = if l == last {
            "sigmoid"
        } else {
            ACTS[acts[l] % ACTS.len()]
        };
        s.push_str(&format!("layer {name}[{}] {act} dense {prev}\n", widths[l]));
        prev = name;
    }
    s.push_str(match init {
        0 => "init uniform(-0.5, 0.5)",
        1 => "init normal(0, 0.4)",
        _ => "init xavier",
    });
    s.push_str(&format!(" seed {seed}\n"));
    let outs = widths[last];
    match data {
        None => {
            let ts: Vec<String> = (0..outs)
                .map(|k| format!("{}", 0.2 + 0.6 * (k % 2) as f64))
                .collect();
            s.push_str(&format!("target y = [{}]\n", ts.join(", ")));
        }
        Some(sum) => {
            let ins: Vec<String> = (1..=n).map(|k| format!("x{k}")).collect();
            let os: Vec<String> = (1..=outs).map(|k| format!("y{k}")).collect();
            s.push_str(&format!(
                "data {{\n    {} -> {}\n",
                ins.join(", "),
                os.join(", ")
            ));
            for r in 0..3 {
                let xs: Vec<String> = (0..n)
                    .map(|k| format!("{}", (r * 3 + k) as f64 * 0.15 - 0.4))
                    .collect();
                let ts: Vec<String> = (0..outs)
                    .map(|k| format!("{}", ((r + k) % 2) as f64 * 0.8 + 0.1))
                    .collect();
                s.push_str(&format!("    {} -> {}\n", xs.join(", "), ts.join(", ")));
            }
            s.push_str("}\n");
            s.push_str(if sum { "batch sum\n" } else { "batch mean\n" });
        }
    }
    if loss_param {
        s.push_str("loss E = sc(target - out)\n");
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::support::cases(64),
        max_global_rejects: crate::support::cases(64) / 2,
        ..ProptestConfig::default()
    })]

    #[test]
    fn dense_networks_match_finite_differences(
        widths in proptest::collection::vec(1..=4usize, 2..=4),
        acts in proptest::collection::vec(0..5usize, 4),
        init in 0..3usize,
        seed in 0..1000u64,
        loss_param in any::<bool>(),
        data in proptest::option::of(any::<bool>()),
    ) {
        let text = dense_text(&widths, &acts, init, seed, loss_param, data);
        let checked = check_network(&text).map_err(|e| match e {
            TestCaseError::Fail(why) => TestCaseError::fail(format!("{why}\nnetwork:\n{text}")),
            reject => reject,
        })?;
        prop_assert!(checked > 0, "nothing compared in\n{text}");
    }
}
