//! The network as the rest of the program sees it: named scalars, layers of
//! neurons with their net-input expressions, targets, loss and rate. Built by
//! `parse::lower` after every semantic check, so it is always consistent:
//! every name resolves, neurons only use earlier layers, and every output has
//! exactly one target.

pub mod claim;

use crate::diagnostic::Span;
use crate::expr::{Expr, Sym};

/// A named number: an input, a param or a const.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// Its name in the file.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Where it was declared.
    pub span: Span,
}

/// A user function `fn name(a, b) = body`.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Names of its arguments; `Sym::Arg(k)` in the body is argument `k`.
    pub args: Vec<String>,
    /// Its body.
    pub body: Expr,
    /// Where it was declared.
    pub span: Span,
}

/// The activation of a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// 1/(1 + e^(−x))
    Sigmoid,
    /// tanh x
    Tanh,
    /// max(0, x); derivative 0 at 0
    Relu,
    /// x for x > 0, slope·x otherwise; derivative at 0 is the slope
    LeakyRelu(f64),
    /// x (also called `linear`)
    Identity,
    /// ln(1 + eˣ)
    Softplus,
    /// e^(net_j) / Σ_k e^(net_k) over the layer
    Softmax,
    /// A user function of one argument.
    User(u32),
}

/// One built-in activation: its name in a network file, its definition in
/// LaTeX, and its derivative ∂out/∂net as pages write it (derived in
/// [`crate::diff::activation_derivative`]).
#[derive(Debug, Clone, Copy)]
pub struct ActivationRow {
    /// The name in a network file.
    pub name: &'static str,
    /// The activation (`leaky_relu` with its default slope 0.01).
    pub activation: Activation,
    /// Its definition in LaTeX: `{x}` the net input, `{xf}` the net input as
    /// a factor (a negative number bracketed), `{a}` the slope. Softmax's
    /// sum runs over its layer, which the page writes out.
    pub latex: &'static str,
    /// ∂out/∂net as the page writes it.
    pub derivative: &'static str,
}

impl ActivationRow {
    /// The LaTeX of the definition at net input `x` (`xf` as a factor),
    /// slope `a`.
    pub fn latex_at(&self, x: &str, xf: &str, a: &str) -> String {
        self.latex
            .replace("{xf}", xf)
            .replace("{x}", x)
            .replace("{a}", a)
    }
}

/// The built-in activations, one row each (`linear` is `identity`).
pub const ACTIVATIONS: [ActivationRow; 8] = [
    ActivationRow {
        name: "sigmoid",
        activation: Activation::Sigmoid,
        latex: "\\sigma({x})",
        derivative: "out·(1 − out)",
    },
    ActivationRow {
        name: "tanh",
        activation: Activation::Tanh,
        latex: "\\tanh({x})",
        derivative: "1 − out²",
    },
    ActivationRow {
        name: "relu",
        activation: Activation::Relu,
        latex: "\\max(0, {x})",
        derivative: "step(net)",
    },
    ActivationRow {
        name: "leaky_relu",
        activation: Activation::LeakyRelu(0.01),
        latex: "\\max({a} \\cdot {xf}, {x})",
        derivative: "step(net, a)",
    },
    ActivationRow {
        name: "identity",
        activation: Activation::Identity,
        latex: "{x}",
        derivative: "1",
    },
    ActivationRow {
        name: "linear",
        activation: Activation::Identity,
        latex: "{x}",
        derivative: "1",
    },
    ActivationRow {
        name: "softplus",
        activation: Activation::Softplus,
        latex: "\\ln(1 + e^{{x}})",
        derivative: "sigmoid(net)",
    },
    ActivationRow {
        name: "softmax",
        activation: Activation::Softmax,
        latex: "\\frac{e^{{x}}}{\\sum_k e^{net_k}}",
        derivative: "out_j(1 − out_j), −out_j·out_k",
    },
];

impl Activation {
    /// The names of the built-in activations.
    pub const BUILTIN_NAMES: [&'static str; 8] = [
        ACTIVATIONS[0].name,
        ACTIVATIONS[1].name,
        ACTIVATIONS[2].name,
        ACTIVATIONS[3].name,
        ACTIVATIONS[4].name,
        ACTIVATIONS[5].name,
        ACTIVATIONS[6].name,
        ACTIVATIONS[7].name,
    ];

    /// The built-in activation called `name`, `leaky_relu` with `slope`
    /// (0.01 when `None`).
    pub fn from_name(name: &str, slope: Option<f64>) -> Option<Activation> {
        let row = ACTIVATIONS.iter().find(|r| r.name == name)?;
        Some(match row.activation {
            Activation::LeakyRelu(default) => Activation::LeakyRelu(slope.unwrap_or(default)),
            a => a,
        })
    }

    /// Its row of [`ACTIVATIONS`]; `None` for a user function.
    pub fn row(self) -> Option<&'static ActivationRow> {
        ACTIVATIONS
            .iter()
            .find(|r| std::mem::discriminant(&r.activation) == std::mem::discriminant(&self))
    }
}

/// A layer of neurons.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Its name.
    pub name: String,
    /// Its activation.
    pub activation: Activation,
    /// Indices of its neurons in `Network::neurons`, in order.
    pub neurons: std::ops::Range<u32>,
    /// Where it was declared.
    pub span: Span,
}

/// A neuron: `net_X = expr`, `out_X = act(net_X)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Neuron {
    /// Its name (`h1`).
    pub name: String,
    /// Index of its layer.
    pub layer: u32,
    /// Its net input. A neuron's name inside stands for `Sym::Out`.
    pub net: Expr,
    /// Where its line is.
    pub span: Span,
}

/// The loss.
#[derive(Debug, Clone, PartialEq)]
pub enum Loss {
    /// E_k = ½(target_k − out_k)², E_total = Σ E_k
    Mse,
    /// E_total = (1/n) Σ (target_k − out_k)²
    MseMean,
    /// E_total = Σ (target_k − out_k)²
    Sse,
    /// E_total = Σ −(t ln o + (1 − t) ln(1 − o))
    Bce,
    /// E_total = −Σ t_k ln out_k
    Ce,
    /// A per-output error over `Sym::LossTarget` and `Sym::LossOut`.
    Custom(Expr),
}

/// One built-in loss: its name in a network file, E_total in LaTeX, and
/// ∂E_k/∂out_k as pages write it (derived from [`crate::diff::loss_expr`]).
#[derive(Debug, Clone)]
pub struct LossRow {
    /// The name in a network file.
    pub name: &'static str,
    /// The loss.
    pub loss: Loss,
    /// E_total in LaTeX: `{e}` E_total, `{t}` target_k, `{o}` out_k.
    pub latex: &'static str,
    /// ∂E_k/∂out_k as the page writes it.
    pub derivative: &'static str,
}

impl LossRow {
    /// The LaTeX of E_total, with `e`, `t` and `o` for E_total, the target
    /// and the output.
    pub fn latex_with(&self, e: &str, t: &str, o: &str) -> String {
        self.latex
            .replace("{e}", e)
            .replace("{t}", t)
            .replace("{o}", o)
    }
}

/// The built-in losses, one row each.
pub const LOSSES: [LossRow; 5] = [
    LossRow {
        name: "mse",
        loss: Loss::Mse,
        latex: "{e} = \\sum_k \\frac{1}{2}({t} - {o})^{2}",
        derivative: "−(target − out)",
    },
    LossRow {
        name: "mse_mean",
        loss: Loss::MseMean,
        latex: "{e} = \\frac{1}{n} \\sum_k ({t} - {o})^{2}",
        derivative: "−(2/n)(target − out)",
    },
    LossRow {
        name: "sse",
        loss: Loss::Sse,
        latex: "{e} = \\sum_k ({t} - {o})^{2}",
        derivative: "−2(target − out)",
    },
    LossRow {
        name: "bce",
        loss: Loss::Bce,
        latex: "{e} = -\\sum_k \\left({t} \\ln {o} + (1 - {t}) \\ln(1 - {o})\\right)",
        derivative: "−(target/out − (1 − target)/(1 − out))",
    },
    LossRow {
        name: "ce",
        loss: Loss::Ce,
        latex: "{e} = -\\sum_k {t} \\ln {o}",
        derivative: "−target/out",
    },
];

impl Loss {
    /// The names of the built-in losses.
    pub const BUILTIN_NAMES: [&'static str; 5] = [
        LOSSES[0].name,
        LOSSES[1].name,
        LOSSES[2].name,
        LOSSES[3].name,
        LOSSES[4].name,
    ];

    /// The built-in loss called `name`.
    pub fn from_name(name: &str) -> Option<Loss> {
        LOSSES
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.loss.clone())
    }

    /// Its row of [`LOSSES`]; `None` for a custom loss.
    pub fn row(&self) -> Option<&'static LossRow> {
        LOSSES.iter().find(|r| r.loss == *self)
    }

    /// The keyword of this loss (`custom` for `loss E = …`).
    pub fn keyword(&self) -> &'static str {
        self.row().map_or("custom", |r| r.name)
    }
}

/// Several samples (`data { … }`): each row gives the inputs named in the
/// header and the targets of the outputs named there.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// The inputs each row sets, by index into `Network::inputs`.
    pub inputs: Vec<u32>,
    /// The outputs each row gives a target for, by neuron index.
    pub outputs: Vec<u32>,
    /// The rows: input values, then target values.
    pub rows: Vec<(Vec<f64>, Vec<f64>)>,
    /// Where each row is.
    pub spans: Vec<Span>,
}

/// How the errors of several samples combine into E_total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Batch {
    /// E_total is the mean of the samples' errors (the default).
    #[default]
    Mean,
    /// E_total is their sum.
    Sum,
}

/// A whole network, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The title of `network "…"`, if any.
    pub title: Option<String>,
    /// Inputs, in declaration order.
    pub inputs: Vec<Scalar>,
    /// Trainable params, in declaration order.
    pub params: Vec<Scalar>,
    /// Constants, in declaration order.
    pub consts: Vec<Scalar>,
    /// User functions.
    pub functions: Vec<Function>,
    /// Layers, first to last.
    pub layers: Vec<Layer>,
    /// All neurons, layer by layer.
    pub neurons: Vec<Neuron>,
    /// Target of each output neuron, indexed by neuron; `None` for hidden ones.
    pub targets: Vec<Option<f64>>,
    /// Where each target was given.
    pub target_spans: Vec<Option<Span>>,
    /// The loss.
    pub loss: Loss,
    /// Where the loss was given (the whole statement), if it was.
    pub loss_span: Option<Span>,
    /// The learning rate η.
    pub rate: f64,
    /// The update rule (`optimizer …`; plain gradient descent by default).
    pub optimizer: crate::optimizer::Optimizer,
    /// The weight decay λ (`weight_decay …`; 0 by default, 0.01 for `adamw`).
    pub weight_decay: f64,
    /// Several samples, when the file has a `data` block.
    pub data: Option<Data>,
    /// How samples combine.
    pub batch: Batch,
    /// The L2 term of the loss (`l2 …`), if any.
    pub l2: Option<L2>,
}

/// `l2 λ` or `l2 λ on w1, w5, b*`: the term ½λ·Σp² of E_total over the
/// params it names, or over every weight (a param some net input multiplies
/// by something; biases only when named).
#[derive(Debug, Clone, PartialEq)]
pub struct L2 {
    /// λ.
    pub lambda: f64,
    /// The params it covers, by index, in declaration order.
    pub params: Vec<u32>,
    /// Whether the statement named them (else: every weight).
    pub named: bool,
    /// The statement.
    pub span: Span,
}

impl L2 {
    /// Whether it covers param `p`.
    pub fn covers(&self, p: u32) -> bool {
        self.params.binary_search(&p).is_ok()
    }

    /// E_reg = ½λ·Σp² with the params at `values` (by param index).
    pub fn penalty(&self, values: &[f64]) -> f64 {
        let sum: f64 = self
            .params
            .iter()
            .map(|&p| values[p as usize] * values[p as usize])
            .sum();
        0.5 * self.lambda * sum
    }

    /// ∂E_reg/∂p = λ·p, where `value` is p's value; `None` when it does
    /// not cover `p`.
    pub fn gradient(&self, p: u32, value: f64) -> Option<f64> {
        self.covers(p).then_some(self.lambda * value)
    }
}

impl Network {
    /// The neurons of the last layer.
    pub fn outputs(&self) -> std::ops::Range<u32> {
        self.layers.last().map_or(0..0, |l| l.neurons.clone())
    }

    /// The layer of neuron `n`.
    pub fn layer_of(&self, n: u32) -> &Layer {
        &self.layers[self.neurons[n as usize].layer as usize]
    }

    /// The value of a fixed quantity (input, param, const, target).
    pub fn fixed_value(&self, sym: Sym) -> Option<f64> {
        match sym {
            Sym::Input(i) => Some(self.inputs[i as usize].value),
            Sym::Param(i) => Some(self.params[i as usize].value),
            Sym::Const(i) => Some(self.consts[i as usize].value),
            Sym::Target(n) => self.targets[n as usize],
            _ => None,
        }
    }

    /// The network of sample `k` of its `data` block alone: that sample's
    /// inputs and targets, no data block, and no L2 term (the batch adds it
    /// once, not each sample). Without data, the network itself.
    pub fn one_sample(&self, k: usize) -> Network {
        let mut net = self.clone();
        if let Some(data) = net.data.take() {
            net.l2 = None;
            if let Some((xs, ts)) = data.rows.get(k) {
                for (&i, v) in data.inputs.iter().zip(xs) {
                    net.inputs[i as usize].value = *v;
                }
                for (&o, v) in data.outputs.iter().zip(ts) {
                    net.targets[o as usize] = Some(*v);
                }
            }
        }
        net
    }

    /// The update rule with its rate and weight decay.
    pub fn update_rule(&self) -> crate::optimizer::Rule {
        crate::optimizer::Rule {
            optimizer: self.optimizer,
            rate: self.rate,
            weight_decay: self.weight_decay,
        }
    }

    /// By param: whether it is a weight, one that some net input
    /// multiplies by something (a bias stands alone as a term of the sum;
    /// a param used only inside a function is neither).
    pub fn weights(&self) -> Vec<bool> {
        let mut weight = vec![false; self.params.len()];
        for n in &self.neurons {
            for (_, term) in n.net.additive_terms() {
                if matches!(term, Expr::Var(Sym::Param(_))) {
                    continue;
                }
                term.visit_syms(&mut |s| {
                    if let Sym::Param(q) = s {
                        weight[q as usize] = true;
                    }
                });
            }
        }
        weight
    }

    /// Whether neuron `n` is in the last layer.
    pub fn is_output(&self, n: u32) -> bool {
        self.outputs().contains(&n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activation_and_loss_is_found_by_its_name() {
        for row in &ACTIVATIONS {
            let a = Activation::from_name(row.name, None).expect("a built-in");
            assert_eq!(a, row.activation);
            // `linear` is `identity`, whose row comes first.
            let found = a.row().expect("a row");
            assert!(found.name == row.name || (row.name, found.name) == ("linear", "identity"));
        }
        assert_eq!(
            Activation::from_name("leaky_relu", Some(0.2)),
            Some(Activation::LeakyRelu(0.2))
        );
        assert_eq!(Activation::from_name("sigmod", None), None);
        for row in &LOSSES {
            assert_eq!(
                Loss::from_name(row.name).expect("a built-in").keyword(),
                row.name
            );
        }
        assert_eq!(
            Loss::Custom(crate::expr::Expr::Num(1.0)).keyword(),
            "custom"
        );
        assert_eq!(
            ACTIVATIONS[3].latex_at("x", "(-1)", "0.2"),
            "\\max(0.2 \\cdot (-1), x)"
        );
    }
}
