//! The chain-rule derivation of ∂E_total/∂p for every param p, as data, and
//! its numbers.
//!
//! Reverse-mode order keeps it linear in the connections: for each neuron X,
//! from the last layer back, ∂E_total/∂out_X is the loss derivative (outputs)
//! or Σ_Y δ_Y · ∂net_Y/∂out_X over the neurons Y it feeds; then
//! δ_X = ∂E_total/∂net_X = ∂E_total/∂out_X · ∂out_X/∂net_X. A param's
//! gradient is Σ_Y δ_Y · ∂net_Y/∂p. Every δ is derived once and referred to.

use std::fmt;

use crate::diagnostic::Span;
use crate::diff::{self, Rule};
use crate::eval::eval;
use crate::expr::{self, Expr, Names, Sym};
use crate::model::{Activation, Batch, Loss, Network};
use crate::notation::NetNames;
use crate::number;

mod backward;
mod builder;
mod fast;
mod plan;

pub use fast::Gradients;

/// One local partial derivative ∂of/∂wrt with its symbolic form and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// The quantity differentiated (`E_total`, `out_o1`, `net_o1`).
    pub of: Sym,
    /// The quantity it is differentiated by (`out_o1`, `net_o1`, `w5`).
    pub wrt: Sym,
    /// The rule that gives it.
    pub rule: Rule,
    /// Its symbolic form, over the quantities of the solution.
    pub symbolic: Expr,
    /// Its value.
    pub value: f64,
}

/// One term of a chain-rule sum over the places that use x, told apart by
/// what `factor` differentiates (`factor.of`):
///
/// - `net_Y`: δ_Y · ∂net_Y/∂x, x in the net input of neuron Y;
/// - `out_Y`: ∂E_total/∂out_Y · ∂out_Y/∂x, a param x inside the
///   activation function of neuron Y;
/// - `E_Y`: ∂E_Y/∂x, a param x inside the loss of output Y (E_total = Σ E_Y).
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The neuron Y through which x reaches E_total.
    pub to: u32,
    /// ∂net_Y/∂x, ∂out_Y/∂x or ∂E_Y/∂x.
    pub factor: Factor,
    /// The term: the factor times what comes before it in the chain.
    pub value: f64,
}

/// Where a term of a param's gradient passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The net input of neuron Y: δ_Y · ∂net_Y/∂p.
    Net(u32),
    /// The activation of neuron Y: ∂E_total/∂out_Y · ∂out_Y/∂p.
    Out(u32),
    /// The error of output Y: ∂E_Y/∂p.
    Err(u32),
}

impl Edge {
    /// Which kind of term this is.
    pub fn via(&self) -> Via {
        match self.factor.of {
            Sym::Out(y) => Via::Out(y),
            Sym::Err(y) => Via::Err(y),
            _ => Via::Net(self.to),
        }
    }
}

/// ∂E_total/∂out_X.
#[derive(Debug, Clone, PartialEq)]
pub enum DOut {
    /// X is an output: the derivative of the loss (only E_X depends on out_X).
    Loss(Factor),
    /// X is hidden: Σ_Y δ_Y · ∂net_Y/∂out_X over the neurons it feeds.
    Sum(Vec<Edge>),
}

/// ∂out_X/∂net_X, or for softmax the column ∂out_j/∂net_X of the layer.
#[derive(Debug, Clone, PartialEq)]
pub enum DAct {
    /// An element-wise activation.
    Elementwise(Factor),
    /// A softmax layer: for each neuron j of the layer, ∂out_j/∂net_X, and
    /// δ_X = Σ_j ∂E_total/∂out_j · ∂out_j/∂net_X.
    Softmax(Vec<Factor>),
}

/// The backward step of one neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronGrad {
    /// ∂E_total/∂out_X.
    pub d_out: DOut,
    /// Its value.
    pub d_out_value: f64,
    /// ∂out_X/∂net_X.
    pub d_act: DAct,
    /// δ_X = ∂E_total/∂net_X.
    pub delta: f64,
}

/// One sample's ∂E/∂p: every term of the chain-rule sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    /// One term for every place p is used, neuron by neuron: δ_Y · ∂net_Y/∂p
    /// where the net input of Y uses p, then ∂E_total/∂out_Y · ∂out_Y/∂p
    /// where Y's activation function does; last ∂E_Y/∂p for every output Y
    /// whose error uses p (a param inside a function the loss calls).
    pub terms: Vec<Edge>,
    /// Their sum: the sample's ∂E/∂p.
    pub value: f64,
}

/// The gradient of one param over the whole batch, and its update.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamGrad {
    /// ∂E_total/∂p: the one sample's, or the mean or sum over the samples,
    /// plus `penalty`.
    pub value: f64,
    /// The samples' part of `value`: the one sample's gradient, or their
    /// mean or sum.
    pub samples: f64,
    /// ∂E_reg/∂p = λ·p, when the L2 term covers p.
    pub penalty: Option<f64>,
    /// p⁺: p − η·∂E_total/∂p, or the first step of the network's optimizer.
    pub updated: f64,
    /// The first step of the network's update rule, with its intermediates.
    pub step: crate::optimizer::ParamStep,
}

/// One sample's forward and backward pass: its values, its δ's and the
/// terms of its gradients. Without a `data` block, the network's own values
/// are the one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// Values of the forward pass; `forward.total` is this sample's error.
    pub forward: Forward,
    /// Backward step of each neuron, by neuron index.
    pub neurons: Vec<NeuronGrad>,
    /// This sample's gradient of each param, by param index.
    pub gradients: Vec<Gradient>,
}

/// The forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// net_X by neuron.
    pub net: Vec<f64>,
    /// out_X by neuron.
    pub out: Vec<f64>,
    /// E_X by neuron (0 for hidden neurons).
    pub err: Vec<f64>,
    /// The error expression E_X of each output (empty vector entries for hidden).
    pub err_expr: Vec<Option<Expr>>,
    /// E_total.
    pub total: f64,
}

/// The whole derivation: each sample's pass, and what the batch combines.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// Each sample's pass, in the order of the `data` rows; without a `data`
    /// block, one pass with the network's own values. Never empty.
    pub samples: Vec<Pass>,
    /// E_total: the one sample's error, or the mean or sum over the
    /// samples, plus `penalty`.
    pub total: f64,
    /// E_reg = ½λ·Σp², the L2 term of E_total, when the network has one.
    pub penalty: Option<f64>,
    /// The combined gradient and update of each param, by param index.
    pub params: Vec<ParamGrad>,
    /// The rounding used (`--hand`): decimals, or `None` for exact values.
    pub hand: Option<usize>,
    /// E_total after the update (every param at p⁺); NaN when it cannot be
    /// computed, and then `after_problem` says why.
    pub total_after: f64,
    /// Why E_total after the update is not a number (a param moved where a
    /// function of it is undefined). The step itself is still solved.
    pub after_problem: Option<EvalError>,
}

impl Derivation {
    /// The pass the worked solution shows: the first sample's.
    pub fn worked(&self) -> &Pass {
        &self.samples[0]
    }
}

/// A value that is not a finite number.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// The quantity (`E_o1`, `∂E_total/∂out_o1`).
    pub quantity: String,
    /// The expression that produced it, in plain form.
    pub expression: String,
    /// The values of the names it uses, `out_o1 = 0`.
    pub inputs: Vec<String>,
    /// The value (NaN or ±∞).
    pub value: f64,
    /// The statement it comes from, when there is one.
    pub span: Option<Span>,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = if self.value.is_nan() {
            "not a number (NaN)".to_string()
        } else {
            format!("infinite ({})", number::format(self.value, 9))
        };
        write!(f, "`{}` = `{}` is {v}", self.quantity, self.expression)?;
        if !self.inputs.is_empty() {
            write!(f, " with {}", self.inputs.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

/// The values of the fixed quantities: inputs, params, consts, targets.
/// A network's own, or those of one sample, or those of a training step.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    /// By input index.
    pub inputs: Vec<f64>,
    /// By param index.
    pub params: Vec<f64>,
    /// By const index.
    pub consts: Vec<f64>,
    /// By neuron index (`None` for hidden neurons).
    pub targets: Vec<Option<f64>>,
}

impl Values {
    /// The values written in the network file.
    pub fn of(net: &Network) -> Values {
        Values {
            inputs: net.inputs.iter().map(|s| s.value).collect(),
            params: net.params.iter().map(|s| s.value).collect(),
            consts: net.consts.iter().map(|s| s.value).collect(),
            targets: net.targets.clone(),
        }
    }

    /// The values of sample `k` of the network's data (its inputs and
    /// targets), the other values as given.
    pub fn sample(&self, net: &Network, k: usize) -> Values {
        let mut v = self.clone();
        if let Some(data) = &net.data {
            let (xs, ts) = &data.rows[k];
            for (i, &input) in data.inputs.iter().enumerate() {
                v.inputs[input as usize] = xs[i];
            }
            for (i, &o) in data.outputs.iter().enumerate() {
                v.targets[o as usize] = Some(ts[i]);
            }
        }
        v
    }

    /// The value of a fixed quantity.
    pub fn get(&self, sym: Sym) -> Option<f64> {
        match sym {
            Sym::Input(i) => self.inputs.get(i as usize).copied(),
            Sym::Param(i) => self.params.get(i as usize).copied(),
            Sym::Const(i) => self.consts.get(i as usize).copied(),
            Sym::Target(n) => self.targets.get(n as usize).copied().flatten(),
            _ => None,
        }
    }
}

/// Options of the derivation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Round every value to this many decimals before the next step uses it.
    pub hand: Option<usize>,
}

impl Options {
    /// With `--hand` rounding to `decimals`.
    pub fn with_hand_rounding(mut self, decimals: usize) -> Options {
        self.hand = Some(decimals);
        self
    }
}

struct Builder<'a> {
    net: &'a Network,
    values: &'a Values,
    names: NetNames<'a>,
    hand: Option<usize>,
    fw: Forward,
}

/// The symbolic half of a derivation, worked out once per network and
/// evaluated for any values (a sample, a training step, an exam variant):
/// every error expression, every local partial as an expression, and which
/// neurons each output and param feeds.
pub struct Plan<'n> {
    net: &'n Network,
    /// E_X of each output.
    err_expr: Vec<Option<Expr>>,
    /// ∂E_X/∂out_X of each output.
    d_loss: Vec<Option<Expr>>,
    /// out_X = act(net_X) (element-wise layers).
    act: Vec<Expr>,
    /// ∂out_X/∂net_X and its rule (element-wise layers).
    d_act: Vec<(Expr, Rule)>,
    /// For each neuron X: (Y, ∂net_Y/∂out_X) over the neurons Y it feeds.
    out_edges: Vec<Vec<(u32, Expr)>>,
    /// For each param p: the places that use it, in the order of
    /// [`Gradient::terms`], with ∂net_Y/∂p, ∂out_Y/∂p or ∂E_Y/∂p.
    param_edges: Vec<Vec<(Via, Expr)>>,
}

/// Runs the forward pass and derives every gradient, with the network's
/// own values (and every sample of its `data`).
pub fn derive(net: &Network, opts: Options) -> Result<Derivation, EvalError> {
    Plan::new(net).derive(&Values::of(net), opts)
}

/// The forward pass alone: every net, out and error of `net`.
pub fn run_forward(net: &Network, opts: Options) -> Result<Forward, EvalError> {
    Plan::new(net).forward(&Values::of(net), opts)
}

/// out_X = act(net_X) as an expression (element-wise activations).
pub fn activation_expr(act: Activation, x: u32) -> Expr {
    use crate::expr::{Builtin, Func};
    let net = Expr::Var(Sym::Net(x));
    let call = |b: Builtin, args: Vec<Expr>| Expr::Call(Func::Builtin(b), args);
    match act {
        Activation::Sigmoid => call(Builtin::Sigmoid, vec![net]),
        Activation::Tanh => call(Builtin::Tanh, vec![net]),
        Activation::Relu => call(Builtin::Relu, vec![net]),
        Activation::LeakyRelu(a) => call(Builtin::LeakyRelu, vec![net, Expr::Num(a)]),
        Activation::Identity | Activation::Softmax => net,
        Activation::Softplus => call(Builtin::Softplus, vec![net]),
        Activation::User(f) => Expr::Call(Func::User(f), vec![net]),
    }
}
