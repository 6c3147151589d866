//! Training runs: the network's update rule (plain gradient descent with its
//! η unless an `optimizer` says otherwise), every step from the values of the
//! step before (all gradients of a step taken before any param changes), or
//! stochastic (an update after each sample, in order). Records E_total and
//! the outputs at chosen steps.

use crate::derivation::{EvalError, Options, Plan, Values};
use crate::model::Network;
use crate::optimizer::{self, State};

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Number of steps (updates of the whole batch, or passes over the data).
    pub steps: usize,
    /// Record every this many steps (and step 0 and the last).
    pub every: usize,
    /// Update after each sample instead of after the batch.
    pub stochastic: bool,
}

/// E_total and the outputs at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The step (0 = before any update).
    pub step: usize,
    /// E_total.
    pub total: f64,
    /// The outputs' values, one list per sample (one list without data).
    pub outputs: Vec<Vec<f64>>,
}

/// A finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The recorded steps.
    pub history: Vec<Record>,
    /// E_total at every step, for the loss curve.
    pub curve: Vec<f64>,
    /// The params after the last step, by index.
    pub params: Vec<f64>,
}

impl Run {
    /// The last record.
    pub fn last(&self) -> &Record {
        self.history.last().expect("a run records step 0")
    }
}

/// E_total and outputs of `values`: every sample's forward pass combined,
/// and the L2 term.
fn measure(
    plan: &Plan<'_>,
    net: &Network,
    values: &Values,
) -> Result<(f64, Vec<Vec<f64>>), EvalError> {
    let outs = |f: &crate::derivation::Forward| -> Vec<f64> {
        net.outputs().map(|x| f.out[x as usize]).collect()
    };
    match &net.data {
        None => {
            let f = plan.forward(values, Options::default())?;
            Ok((f.total + penalty(net, values), vec![outs(&f)]))
        }
        Some(data) => {
            let mut total = 0.0;
            let mut outputs = Vec::new();
            for k in 0..data.rows.len() {
                let f = plan.forward(&values.sample(net, k), Options::default())?;
                total += f.total;
                outputs.push(outs(&f));
            }
            if net.batch == crate::model::Batch::Mean {
                total /= data.rows.len() as f64;
            }
            Ok((total + penalty(net, values), outputs))
        }
    }
}

/// E_reg = ½λΣp² of the L2 term at `values`; 0 without one.
fn penalty(net: &Network, values: &Values) -> f64 {
    net.l2.as_ref().map_or(0.0, |l| l.penalty(&values.params))
}

/// Trains `net`; `progress` is told each finished step.
pub fn train(
    net: &Network,
    opts: TrainOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Run, EvalError> {
    let plan = Plan::new(net);
    let mut values = Values::of(net);
    let rule = net.update_rule();
    let mut state = State::new(net.params.len());
    let every = opts.every.max(1);
    let mut history = Vec::new();
    let mut curve = Vec::with_capacity(opts.steps + 1);
    let samples = net.data.as_ref().map_or(0, |d| d.rows.len());
    for step in 0..=opts.steps {
        let record = step == 0 || step % every == 0 || step == opts.steps;
        if opts.stochastic && samples > 0 {
            let (total, outputs) = measure(&plan, net, &values)?;
            curve.push(total);
            if record {
                history.push(Record {
                    step,
                    total,
                    outputs,
                });
            }
            if step < opts.steps {
                for k in 0..samples {
                    let g = plan.gradients_one(&values.sample(net, k))?;
                    let steps = optimizer::step(&rule, &mut state, &values.params, &g.params);
                    for (v, s) in values.params.iter_mut().zip(&steps) {
                        *v = s.after;
                    }
                }
            }
        } else {
            let g = plan.gradients(&values)?;
            curve.push(g.total);
            if record {
                history.push(Record {
                    step,
                    total: g.total,
                    outputs: g.outputs.clone(),
                });
            }
            if step < opts.steps {
                let steps = optimizer::step(&rule, &mut state, &values.params, &g.params);
                for (v, s) in values.params.iter_mut().zip(&steps) {
                    *v = s.after;
                }
            }
        }
        progress(step);
    }
    Ok(Run {
        history,
        curve,
        params: values.params,
    })
}
