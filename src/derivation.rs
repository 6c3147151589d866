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

/// The gradient and update of one param.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamGrad {
    /// One term for every place p is used, neuron by neuron: δ_Y · ∂net_Y/∂p
    /// where the net input of Y uses p, then ∂E_total/∂out_Y · ∂out_Y/∂p
    /// where Y's activation function does; last ∂E_Y/∂p for every output Y
    /// whose error uses p (a param inside a function the loss calls).
    pub terms: Vec<Edge>,
    /// ∂E_total/∂p.
    pub value: f64,
    /// p⁺: p − η·∂E_total/∂p, or the first step of the network's optimizer.
    pub updated: f64,
    /// The first step of the network's update rule, with its intermediates.
    pub step: crate::optimizer::ParamStep,
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

/// The whole derivation: forward pass, backward steps, gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// Values of the forward pass.
    pub forward: Forward,
    /// Backward step of each neuron, by neuron index.
    pub neurons: Vec<NeuronGrad>,
    /// Gradient of each param, by param index.
    pub params: Vec<ParamGrad>,
    /// The rounding used (`--hand`): decimals, or `None` for exact values.
    pub hand: Option<usize>,
    /// E_total after the update (every param at p⁺); NaN when it cannot be
    /// computed, and then `after_problem` says why.
    pub total_after: f64,
    /// Why E_total after the update is not a number (a param moved where a
    /// function of it is undefined). The step itself is still solved.
    pub after_problem: Option<EvalError>,
    /// With a `data` block: each sample's own derivation (its forward pass,
    /// its δ's, its gradients and the E_total of that sample alone). The
    /// fields above then hold the first sample's forward pass and δ's, but
    /// the combined E_total, gradients (mean or sum over samples), updates
    /// and E_total after the update.
    pub samples: Vec<Derivation>,
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

impl Builder<'_> {
    fn r(&self, x: f64) -> f64 {
        match self.hand {
            Some(d) => number::round(x, d),
            None => x,
        }
    }

    fn value_of(&self, s: Sym) -> f64 {
        match s {
            Sym::Net(n) => self.fw.net[n as usize],
            Sym::Out(n) => self.fw.out[n as usize],
            Sym::Err(n) => self.fw.err[n as usize],
            Sym::ErrTotal => self.fw.total,
            s => self.values.get(s).unwrap_or(f64::NAN),
        }
    }

    /// Evaluates `e` for `quantity`; non-finite values are errors.
    fn eval(
        &self,
        e: &Expr,
        quantity: &dyn Fn() -> String,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        let v = eval(e, &|s| self.value_of(s), &self.net.functions);
        self.check(v, quantity, e, span)
    }

    fn error(&self, e: &Expr, quantity: String, value: f64, span: Option<Span>) -> EvalError {
        let mut seen = Vec::new();
        e.visit_syms(&mut |s| {
            if !seen.contains(&s) {
                seen.push(s);
            }
        });
        let inputs = seen
            .iter()
            .take(8)
            .map(|s| {
                format!(
                    "{} = {}",
                    self.names.plain(*s),
                    number::format(self.value_of(*s), 9)
                )
            })
            .collect();
        EvalError {
            quantity,
            expression: e.plain(&self.names),
            inputs,
            value,
            span,
        }
    }

    fn check(
        &self,
        v: f64,
        quantity: &dyn Fn() -> String,
        e: &Expr,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        if v.is_finite() {
            Ok(self.r(v))
        } else {
            Err(self.error(e, quantity(), v, span))
        }
    }
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
    /// [`ParamGrad::terms`], with ∂net_Y/∂p, ∂out_Y/∂p or ∂E_Y/∂p.
    param_edges: Vec<Vec<(Via, Expr)>>,
}

impl<'n> Plan<'n> {
    /// Differentiates everything once.
    pub fn new(net: &'n Network) -> Plan<'n> {
        let n = net.neurons.len();
        let terms: Vec<Vec<(bool, &Expr)>> =
            net.neurons.iter().map(|x| x.net.additive_terms()).collect();
        let fn_syms = function_syms(net);
        let uses = index_uses(net, &terms, &fn_syms);
        let outputs = net.outputs();
        let count = outputs.len();
        let mut err_expr = vec![None; n];
        let mut d_loss = vec![None; n];
        for x in outputs {
            let e = diff::loss_expr(&net.loss, x, count);
            d_loss[x as usize] = Some(diff::differentiate(&e, Sym::Out(x), &net.functions));
            err_expr[x as usize] = Some(e);
        }
        let mut act = Vec::with_capacity(n);
        let mut d_act = Vec::with_capacity(n);
        for (x, neuron) in net.neurons.iter().enumerate() {
            let a = net.layers[neuron.layer as usize].activation;
            act.push(activation_expr(a, x as u32));
            d_act.push(diff::activation_derivative(a, x as u32, &net.functions));
        }
        let edges = |list: &[(u32, Vec<usize>)], v: Sym| -> Vec<(u32, Expr)> {
            list.iter()
                .map(|(y, which)| (*y, diff_terms(&terms[*y as usize], which, v, net)))
                .collect()
        };
        let out_edges = (0..n)
            .map(|x| edges(&uses.outs[x], Sym::Out(x as u32)))
            .collect();
        let mut param_edges: Vec<Vec<(Via, Expr)>> = (0..net.params.len())
            .map(|p| {
                edges(&uses.params[p], Sym::Param(p as u32))
                    .into_iter()
                    .map(|(y, e)| (Via::Net(y), e))
                    .collect()
            })
            .collect();
        // Params inside an activation function: ∂out_Y/∂p for each neuron Y
        // of the layers that use it. Sorted back into neuron order below.
        for (y, neuron) in net.neurons.iter().enumerate() {
            let y = y as u32;
            if let Activation::User(f) = net.layers[neuron.layer as usize].activation {
                for s in &fn_syms[f as usize] {
                    if let Sym::Param(p) = *s {
                        let d = diff::differentiate(&act[y as usize], *s, &net.functions);
                        param_edges[p as usize].push((Via::Out(y), d));
                    }
                }
            }
        }
        // Params inside the loss (through a function it calls): ∂E_Y/∂p.
        for y in net.outputs() {
            let e = err_expr[y as usize].as_ref().expect("outputs have errors");
            let mut syms = Vec::new();
            collect_syms(e, &fn_syms, &mut syms);
            for s in syms {
                if let Sym::Param(p) = s {
                    let d = diff::differentiate(e, s, &net.functions);
                    param_edges[p as usize].push((Via::Err(y), d));
                }
            }
        }
        for list in &mut param_edges {
            // Stable: net before out for the same neuron, errors last.
            list.sort_by_key(|(via, _)| match *via {
                Via::Net(y) => (0, y, 0),
                Via::Out(y) => (0, y, 1),
                Via::Err(y) => (1, y, 0),
            });
        }
        Plan {
            net,
            err_expr,
            d_loss,
            act,
            d_act,
            out_edges,
            param_edges,
        }
    }

    fn builder<'a>(&'a self, values: &'a Values, hand: Option<usize>) -> Builder<'a> {
        let n = self.net.neurons.len();
        Builder {
            net: self.net,
            values,
            names: NetNames::new(self.net, Default::default()),
            hand,
            fw: Forward {
                net: vec![0.0; n],
                out: vec![0.0; n],
                err: vec![0.0; n],
                err_expr: self.err_expr.clone(),
                total: 0.0,
            },
        }
    }

    /// The forward pass with `values`.
    pub fn forward(&self, values: &Values, opts: Options) -> Result<Forward, EvalError> {
        let mut b = self.builder(values, opts.hand);
        self.run_forward(&mut b)?;
        Ok(b.fw)
    }

    fn run_forward(&self, b: &mut Builder<'_>) -> Result<(), EvalError> {
        let net = self.net;
        for layer in &net.layers {
            for x in layer.neurons.clone() {
                let neuron = &net.neurons[x as usize];
                let q = || format!("net_{}", neuron.name);
                let v = b.eval(&neuron.net, &q, Some(neuron.span))?;
                b.fw.net[x as usize] = v;
            }
            if layer.activation == Activation::Softmax {
                // out_j = e^(net_j − m) / Σ_k e^(net_k − m), m = max_k net_k.
                let m = layer
                    .neurons
                    .clone()
                    .map(|k| b.fw.net[k as usize])
                    .fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = layer
                    .neurons
                    .clone()
                    .map(|k| (b.fw.net[k as usize] - m).exp())
                    .sum();
                for x in layer.neurons.clone() {
                    let v = (b.fw.net[x as usize] - m).exp() / sum;
                    b.fw.out[x as usize] = b.r(v);
                }
            } else {
                for x in layer.neurons.clone() {
                    let neuron = &net.neurons[x as usize];
                    let q = || format!("out_{}", neuron.name);
                    let v = b.eval(&self.act[x as usize], &q, Some(neuron.span))?;
                    b.fw.out[x as usize] = v;
                }
            }
        }
        let mut total = 0.0;
        for x in net.outputs() {
            let e = self.err_expr[x as usize]
                .as_ref()
                .expect("outputs have errors");
            let q = || format!("E_{}", net.neurons[x as usize].name);
            let span = net.loss_span.or(Some(net.neurons[x as usize].span));
            let v = self.loss_eval(b, e, x, false, &q, span)?;
            b.fw.err[x as usize] = v;
            total += v;
        }
        let total_expr = Expr::Var(Sym::ErrTotal);
        b.fw.total = b.check(total, &|| "E_total".to_string(), &total_expr, net.loss_span)?;
        Ok(())
    }

    /// The whole derivation with `values` (one sample).
    pub fn derive_values(&self, values: &Values, opts: Options) -> Result<Derivation, EvalError> {
        let net = self.net;
        let n = net.neurons.len();
        let mut b = self.builder(values, opts.hand);
        self.run_forward(&mut b)?;
        let outputs = net.outputs();
        let mut grads: Vec<Option<NeuronGrad>> = vec![None; n];

        for layer in net.layers.iter().rev() {
            // ∂E_total/∂out_X for every neuron of the layer.
            let mut d_outs: Vec<(DOut, f64)> = Vec::new();
            for x in layer.neurons.clone() {
                let span = Some(net.neurons[x as usize].span);
                if outputs.contains(&x) {
                    let sym = self.d_loss[x as usize].clone().unwrap_or(Expr::Num(0.0));
                    let q = || format!("∂E_total/∂{}", b.names.plain(Sym::Out(x)));
                    let value = self.loss_eval(&b, &sym, x, true, &q, net.loss_span.or(span))?;
                    let f = Factor {
                        of: Sym::ErrTotal,
                        wrt: Sym::Out(x),
                        rule: Rule::Loss(net.loss.keyword()),
                        symbolic: sym,
                        value,
                    };
                    d_outs.push((DOut::Loss(f), value));
                } else {
                    let mut edges = Vec::new();
                    let mut sum = 0.0;
                    for (y, sym) in &self.out_edges[x as usize] {
                        let yn = *y as usize;
                        let q = || {
                            format!(
                                "∂{}/∂{}",
                                b.names.plain(Sym::Net(*y)),
                                b.names.plain(Sym::Out(x))
                            )
                        };
                        let fv = b.eval(sym, &q, Some(net.neurons[yn].span))?;
                        let delta = grads[yn].as_ref().map_or(0.0, |g| g.delta);
                        let value = b.r(delta * fv);
                        sum += value;
                        edges.push(Edge {
                            to: *y,
                            factor: Factor {
                                of: Sym::Net(*y),
                                wrt: Sym::Out(x),
                                rule: Rule::NetInput,
                                symbolic: sym.clone(),
                                value: fv,
                            },
                            value,
                        });
                    }
                    let q = || format!("∂E_total/∂{}", b.names.plain(Sym::Out(x)));
                    let sum = b.check(sum, &q, &Expr::Var(Sym::Out(x)), span)?;
                    d_outs.push((DOut::Sum(edges), sum));
                }
            }
            // δ_X = ∂E_total/∂net_X.
            let first = layer.neurons.start;
            for (i, (d_out, d_out_value)) in d_outs.iter().enumerate() {
                let x = first + i as u32;
                let span = Some(net.neurons[x as usize].span);
                let (d_act, delta) = match layer.activation {
                    Activation::Softmax => {
                        let mut col = Vec::new();
                        let mut delta = 0.0;
                        for (k, j) in layer.neurons.clone().enumerate() {
                            let sym = diff::softmax_derivative(j, x);
                            let q = || {
                                format!(
                                    "∂{}/∂{}",
                                    b.names.plain(Sym::Out(j)),
                                    b.names.plain(Sym::Net(x))
                                )
                            };
                            let v = b.eval(&sym, &q, span)?;
                            delta += b.r(d_outs[k].1 * v);
                            col.push(Factor {
                                of: Sym::Out(j),
                                wrt: Sym::Net(x),
                                rule: Rule::Softmax,
                                symbolic: sym,
                                value: v,
                            });
                        }
                        (DAct::Softmax(col), delta)
                    }
                    _ => {
                        let (sym, rule) = &self.d_act[x as usize];
                        let q = || {
                            format!(
                                "∂{}/∂{}",
                                b.names.plain(Sym::Out(x)),
                                b.names.plain(Sym::Net(x))
                            )
                        };
                        let v = b.eval(sym, &q, span)?;
                        let f = Factor {
                            of: Sym::Out(x),
                            wrt: Sym::Net(x),
                            rule: *rule,
                            symbolic: sym.clone(),
                            value: v,
                        };
                        (DAct::Elementwise(f), d_out_value * v)
                    }
                };
                let q = || format!("δ_{}", net.neurons[x as usize].name);
                let delta = b.check(delta, &q, &Expr::Var(Sym::Net(x)), span)?;
                grads[x as usize] = Some(NeuronGrad {
                    d_out: d_out.clone(),
                    d_out_value: *d_out_value,
                    d_act,
                    delta,
                });
            }
        }
        let neurons: Vec<NeuronGrad> = grads
            .into_iter()
            .map(|g| g.expect("every neuron visited"))
            .collect();

        let mut params = Vec::with_capacity(net.params.len());
        for (p, param) in net.params.iter().enumerate() {
            let mut edges = Vec::new();
            let mut sum = 0.0;
            for (via, sym) in &self.param_edges[p] {
                let (of, y, rule, span) = self.via_parts(*via);
                let q = || format!("∂{}/∂{}", b.names.plain(of), param.name);
                let fv = b.eval(sym, &q, span)?;
                let upstream = match via {
                    Via::Net(y) => neurons[*y as usize].delta,
                    Via::Out(y) => neurons[*y as usize].d_out_value,
                    Via::Err(_) => 1.0,
                };
                let value = b.r(upstream * fv);
                sum += value;
                edges.push(Edge {
                    to: y,
                    factor: Factor {
                        of,
                        wrt: Sym::Param(p as u32),
                        rule,
                        symbolic: sym.clone(),
                        value: fv,
                    },
                    value,
                });
            }
            let q = || format!("∂E_total/∂{}", param.name);
            let value = b.check(sum, &q, &Expr::Var(Sym::Param(p as u32)), Some(param.span))?;
            let step = self.update(&b, p, value)?;
            params.push(ParamGrad {
                terms: edges,
                value,
                updated: step.after,
                step,
            });
        }
        let mut after = values.clone();
        for (v, g) in after.params.iter_mut().zip(&params) {
            *v = g.updated;
        }
        let (total_after, after_problem) =
            after_update(net, self.forward(&after, opts).map(|f| f.total));
        Ok(Derivation {
            forward: b.fw,
            neurons,
            params,
            hand: opts.hand,
            total_after,
            after_problem,
            samples: Vec::new(),
        })
    }

    /// E_X (or ∂E_X/∂out_X when `derivative`) of output `x`. For `ce` and
    /// `bce` a term whose target weight is 0 is 0 even where its logarithm
    /// is not finite (0·ln 0 = 0, the limit): a softmax output that
    /// underflows to 0 with a target of 0 costs nothing.
    fn loss_eval(
        &self,
        b: &Builder<'_>,
        e: &Expr,
        x: u32,
        derivative: bool,
        quantity: &dyn Fn() -> String,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        let err = match b.eval(e, quantity, span) {
            Ok(v) => return Ok(v),
            Err(err) => err,
        };
        let t = b.value_of(Sym::Target(x));
        let o = b.value_of(Sym::Out(x));
        // x·ln y and x/y, 0 where x is 0.
        let xlny = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x * y.ln() };
        let xdivy = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x / y };
        let v = match (&self.net.loss, derivative) {
            (Loss::Ce, false) => -xlny(t, o),
            (Loss::Ce, true) => -xdivy(t, o),
            (Loss::Bce, false) => -(xlny(t, o) + xlny(1.0 - t, 1.0 - o)),
            (Loss::Bce, true) => -(xdivy(t, o) - xdivy(1.0 - t, 1.0 - o)),
            _ => return Err(err),
        };
        if v.is_finite() {
            Ok(b.r(v))
        } else {
            Err(err)
        }
    }

    /// For a term of a param's gradient: the quantity its factor
    /// differentiates, the neuron, the rule and where to point an error.
    fn via_parts(&self, via: Via) -> (Sym, u32, Rule, Option<Span>) {
        let net = self.net;
        match via {
            Via::Net(y) => (
                Sym::Net(y),
                y,
                Rule::NetInput,
                Some(net.neurons[y as usize].span),
            ),
            Via::Out(y) => (
                Sym::Out(y),
                y,
                Rule::Activation("fn"),
                Some(net.layer_of(y).span),
            ),
            Via::Err(y) => (
                Sym::Err(y),
                y,
                Rule::Loss(net.loss.keyword()),
                net.loss_span.or(Some(net.neurons[y as usize].span)),
            ),
        }
    }

    /// The first step of the update rule for param `p` (the state starts
    /// at 0, so each param's first step depends on its own gradient only).
    fn update(
        &self,
        b: &Builder<'_>,
        p: usize,
        gradient: f64,
    ) -> Result<crate::optimizer::ParamStep, EvalError> {
        let param = &self.net.params[p];
        let q = || format!("{}⁺", param.name);
        let rule = self.net.update_rule();
        let mut state = crate::optimizer::State::new(1);
        let mut s =
            crate::optimizer::step(&rule, &mut state, &[b.values.params[p]], &[gradient])[0];
        s.after = b.check(
            s.after,
            &q,
            &Expr::Var(Sym::Param(p as u32)),
            Some(param.span),
        )?;
        Ok(s)
    }

    /// The derivation with `values`: one sample, or with a `data` block
    /// every sample and their combination (mean or sum, as `batch` says).
    pub fn derive(&self, values: &Values, opts: Options) -> Result<Derivation, EvalError> {
        let net = self.net;
        let Some(data) = &net.data else {
            return self.derive_values(values, opts);
        };
        let rows = data.rows.len();
        let mut samples = Vec::with_capacity(rows);
        for k in 0..rows {
            samples.push(self.derive_values(&values.sample(net, k), opts)?);
        }
        let scale = match net.batch {
            Batch::Mean => 1.0 / rows as f64,
            Batch::Sum => 1.0,
        };
        let b = self.builder(values, opts.hand);
        let mut first = samples[0].clone();
        let total = b.r(scale * samples.iter().map(|s| s.forward.total).sum::<f64>());
        first.forward.total = total;
        for p in 0..net.params.len() {
            let g = b.r(scale * samples.iter().map(|s| s.params[p].value).sum::<f64>());
            first.params[p].value = g;
            let step = self.update(&b, p, g)?;
            first.params[p].updated = step.after;
            first.params[p].step = step;
        }
        let mut after = values.clone();
        for (v, g) in after.params.iter_mut().zip(&first.params) {
            *v = g.updated;
        }
        let mut total_after = Ok(0.0);
        for k in 0..rows {
            total_after =
                total_after.and_then(|t| Ok(t + self.forward(&after.sample(net, k), opts)?.total));
        }
        let (total_after, after_problem) = after_update(net, total_after.map(|t| b.r(scale * t)));
        first.total_after = total_after;
        first.after_problem = after_problem;
        first.samples = samples;
        Ok(first)
    }

    /// E_total and ∂E_total/∂p of every param with `values`, numbers only
    /// (the fast path of training): for a `data` block, combined over the
    /// samples as `batch` says. The same arithmetic as [`Plan::derive`]
    /// without building factors.
    pub fn gradients(&self, values: &Values) -> Result<Gradients, EvalError> {
        let net = self.net;
        let Some(data) = &net.data else {
            return self.gradients_one(values);
        };
        let scale = match net.batch {
            Batch::Mean => 1.0 / data.rows.len() as f64,
            Batch::Sum => 1.0,
        };
        let mut all = Gradients {
            total: 0.0,
            params: vec![0.0; net.params.len()],
            outputs: Vec::new(),
        };
        for k in 0..data.rows.len() {
            let g = self.gradients_one(&values.sample(net, k))?;
            all.total += g.total;
            for (a, b) in all.params.iter_mut().zip(&g.params) {
                *a += b;
            }
            all.outputs.extend(g.outputs);
        }
        all.total *= scale;
        for a in &mut all.params {
            *a *= scale;
        }
        Ok(all)
    }

    /// [`Plan::gradients`] of one sample.
    pub fn gradients_one(&self, values: &Values) -> Result<Gradients, EvalError> {
        let net = self.net;
        let n = net.neurons.len();
        let mut b = self.builder(values, None);
        self.run_forward(&mut b)?;
        let outputs = net.outputs();
        let mut delta = vec![0.0; n];
        let mut d_out = vec![0.0; n];
        for layer in net.layers.iter().rev() {
            for x in layer.neurons.clone() {
                let span = Some(net.neurons[x as usize].span);
                d_out[x as usize] = if outputs.contains(&x) {
                    let sym = self.d_loss[x as usize]
                        .as_ref()
                        .expect("outputs have a loss");
                    let q = || format!("∂E_total/∂{}", b.names.plain(Sym::Out(x)));
                    self.loss_eval(&b, sym, x, true, &q, net.loss_span.or(span))?
                } else {
                    let mut sum = 0.0;
                    for (y, sym) in &self.out_edges[x as usize] {
                        let q = || {
                            format!(
                                "∂{}/∂{}",
                                b.names.plain(Sym::Net(*y)),
                                b.names.plain(Sym::Out(x))
                            )
                        };
                        sum += delta[*y as usize] * b.eval(sym, &q, span)?;
                    }
                    sum
                };
            }
            for x in layer.neurons.clone() {
                let span = Some(net.neurons[x as usize].span);
                let d = if layer.activation == Activation::Softmax {
                    let mut acc = 0.0;
                    for j in layer.neurons.clone() {
                        let oj = b.fw.out[j as usize];
                        let ox = b.fw.out[x as usize];
                        // ∂out_j/∂net_x = out_j(δ_jx − out_x)
                        let dj = if j == x { oj * (1.0 - ox) } else { -oj * ox };
                        acc += d_out[j as usize] * dj;
                    }
                    acc
                } else {
                    let q = || format!("∂out/∂net of {}", net.neurons[x as usize].name);
                    d_out[x as usize] * b.eval(&self.d_act[x as usize].0, &q, span)?
                };
                let q = || format!("δ_{}", net.neurons[x as usize].name);
                delta[x as usize] = b.check(d, &q, &Expr::Var(Sym::Net(x)), span)?;
            }
        }
        let mut params = vec![0.0; net.params.len()];
        for (p, g) in params.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (via, sym) in &self.param_edges[p] {
                let (of, _, _, span) = self.via_parts(*via);
                let q = || format!("∂{}/∂{}", b.names.plain(of), net.params[p].name);
                let upstream = match via {
                    Via::Net(y) => delta[*y as usize],
                    Via::Out(y) => d_out[*y as usize],
                    Via::Err(_) => 1.0,
                };
                sum += upstream * b.eval(sym, &q, span)?;
            }
            let q = || format!("∂E_total/∂{}", net.params[p].name);
            *g = b.check(
                sum,
                &q,
                &Expr::Var(Sym::Param(p as u32)),
                Some(net.params[p].span),
            )?;
        }
        Ok(Gradients {
            total: b.fw.total,
            params,
            outputs: vec![net.outputs().map(|x| b.fw.out[x as usize]).collect()],
        })
    }
}

/// E_total after the update, or NaN and the problem, named as a quantity
/// after the update (`out_o1⁺`), since the values it used are the updated ones.
fn after_update(net: &Network, total: Result<f64, EvalError>) -> (f64, Option<EvalError>) {
    match total {
        Ok(t) => (t, None),
        Err(mut e) => {
            e.quantity.push('⁺');
            for i in &mut e.inputs {
                let name = i.split(" = ").next().unwrap_or_default();
                if net.params.iter().any(|p| p.name == name) {
                    i.insert(name.len(), '⁺');
                }
            }
            e.span = None;
            (f64::NAN, Some(e))
        }
    }
}

/// The numbers of one gradient evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    /// E_total.
    pub total: f64,
    /// ∂E_total/∂p by param.
    pub params: Vec<f64>,
    /// The outputs' values, one list per sample.
    pub outputs: Vec<Vec<f64>>,
}

/// Where each symbol is used: for every neuron Y, the top-level terms of
/// net_Y that mention it.
struct Uses {
    /// By param: (Y, term indices).
    params: Vec<Vec<(u32, Vec<usize>)>>,
    /// By neuron X (its output): (Y, term indices).
    outs: Vec<Vec<(u32, Vec<usize>)>>,
}

fn index_uses(net: &Network, terms: &[Vec<(bool, &Expr)>], fn_syms: &[Vec<Sym>]) -> Uses {
    let mut uses = Uses {
        params: vec![Vec::new(); net.params.len()],
        outs: vec![Vec::new(); net.neurons.len()],
    };
    for (y, ts) in terms.iter().enumerate() {
        for (ti, (_, t)) in ts.iter().enumerate() {
            let mut syms = Vec::new();
            collect_syms(t, fn_syms, &mut syms);
            for s in syms {
                let list = match s {
                    Sym::Param(p) => &mut uses.params[p as usize],
                    Sym::Out(x) => &mut uses.outs[x as usize],
                    _ => continue,
                };
                match list.last_mut() {
                    Some((yy, tis)) if *yy == y as u32 => {
                        if !tis.contains(&ti) {
                            tis.push(ti)
                        }
                    }
                    _ => list.push((y as u32, vec![ti])),
                }
            }
        }
    }
    uses
}

/// The symbols each user function's body uses (inputs, params, consts),
/// through the functions it calls, in any order of declaration. Recursion is
/// refused when the network is read, so the calls form a DAG.
fn function_syms(net: &Network) -> Vec<Vec<Sym>> {
    let count = net.functions.len();
    let calls: Vec<Vec<usize>> = net
        .functions
        .iter()
        .map(|f| {
            let mut c = Vec::new();
            f.body.visit_calls(&mut |u| c.push(u as usize));
            c
        })
        .collect();
    // Post-order, iteratively (a chain of functions can be long): a
    // function after every function it calls.
    let mut order = Vec::with_capacity(count);
    let mut state = vec![0u8; count]; // 0 new, 1 open, 2 done
    for root in 0..count {
        let mut stack = vec![(root, 0usize)];
        while let Some((f, i)) = stack.pop() {
            if i == 0 {
                if state[f] != 0 {
                    continue;
                }
                state[f] = 1;
            }
            match calls[f].get(i) {
                Some(&g) => {
                    stack.push((f, i + 1));
                    if state[g] == 0 {
                        stack.push((g, 0));
                    }
                }
                None => {
                    state[f] = 2;
                    order.push(f);
                }
            }
        }
    }
    let mut syms = vec![Vec::new(); count];
    for f in order {
        let mut v = Vec::new();
        collect_syms(&net.functions[f].body, &syms, &mut v);
        syms[f] = v;
    }
    syms
}

/// Symbols of `e`, looking into user functions (whose symbols are in `fn_syms`).
fn collect_syms(e: &Expr, fn_syms: &[Vec<Sym>], out: &mut Vec<Sym>) {
    match e {
        Expr::Num(_) => {}
        Expr::Var(s) => {
            if !matches!(s, Sym::Arg(_)) && !out.contains(s) {
                out.push(*s)
            }
        }
        Expr::Neg(a) => collect_syms(a, fn_syms, out),
        Expr::Bin(_, a, b) => {
            collect_syms(a, fn_syms, out);
            collect_syms(b, fn_syms, out);
        }
        Expr::Call(f, args) => {
            if let expr::Func::User(u) = f {
                if let Some(syms) = fn_syms.get(*u as usize) {
                    for s in syms {
                        if !out.contains(s) {
                            out.push(*s)
                        }
                    }
                }
            }
            args.iter().for_each(|a| collect_syms(a, fn_syms, out));
        }
    }
}

/// ∂(Σ ±terms[i] for i in `which`)/∂v, simplified.
fn diff_terms(terms: &[(bool, &Expr)], which: &[usize], v: Sym, net: &Network) -> Expr {
    let mut acc = Expr::Num(0.0);
    for &i in which {
        let (neg, t) = terms[i];
        let d = diff::differentiate(t, v, &net.functions);
        acc = if neg {
            expr::sub(acc, d)
        } else {
            expr::add(acc, d)
        };
    }
    acc
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
