//! Several consecutive updates (`solve --steps K`): each step's gradients
//! taken at the values the step before left, the optimizer's state carried
//! from step to step, and E_total before and after each step.

use serde::Serialize;

use crate::derivation::{Derivation, EvalError, Plan, Values};
use crate::model::Network;
use crate::optimizer::{self, ParamStep, State};

/// One update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Its number, from 1.
    pub t: u32,
    /// E_total before it (at the values it starts from).
    #[serde(rename = "E_total")]
    pub total: f64,
    /// Each param's update, by param index.
    pub params: Vec<ParamStep>,
    /// E_total after it.
    #[serde(rename = "E_total_after")]
    pub total_after: f64,
}

/// `k` updates of `net` from its own values; the first uses the gradients
/// of the derivation `d` (so that it is the update the worked page shows).
pub fn run(net: &Network, d: &Derivation, k: u32) -> Result<Vec<Step>, EvalError> {
    let plan = Plan::new(net);
    let rule = net.update_rule();
    let mut state = State::new(net.params.len());
    let mut values = Values::of(net);
    let mut out = Vec::with_capacity(k as usize);
    let mut total = d.total;
    let mut grads: Vec<f64> = d.params.iter().map(|g| g.value).collect();
    for t in 1..=k {
        let params = optimizer::step(&rule, &mut state, &values.params, &grads);
        for (v, s) in values.params.iter_mut().zip(&params) {
            *v = s.after;
        }
        let next = plan.gradients(&values)?;
        out.push(Step {
            t,
            total,
            params,
            total_after: next.total,
        });
        total = next.total;
        grads = next.params;
    }
    Ok(out)
}
