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

impl Activation {
    /// The names of the built-in activations.
    pub const BUILTIN_NAMES: [&'static str; 8] = [
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "identity",
        "linear",
        "softplus",
        "softmax",
    ];
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

impl Loss {
    /// The names of the built-in losses.
    pub const BUILTIN_NAMES: [&'static str; 5] = ["mse", "mse_mean", "sse", "bce", "ce"];

    /// The keyword of this loss (`custom` for `loss E = …`).
    pub fn keyword(&self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::MseMean => "mse_mean",
            Loss::Sse => "sse",
            Loss::Bce => "bce",
            Loss::Ce => "ce",
            Loss::Custom(_) => "custom",
        }
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
    /// inputs and targets, no data block. Without data, the network itself.
    pub fn one_sample(&self, k: usize) -> Network {
        let mut net = self.clone();
        if let Some(data) = net.data.take() {
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

    /// Whether neuron `n` is in the last layer.
    pub fn is_output(&self, n: u32) -> bool {
        self.outputs().contains(&n)
    }
}
