//! After the steps: every param's old value, gradient and new value (in
//! one table, or by layer for large networks), each sample's gradients,
//! the update rule, and the updates after the first (`--steps K`).

use super::ctx::Ctx;
use super::schedule::depth;
use super::view::{LaterParam, LaterStep, SampleGradient, SummaryLayer, SummaryRow};
use crate::model::Network;
use crate::notation::latex_name;

/// Every param: old value, gradient, new value.
pub(super) fn rows(ctx: &Ctx<'_, '_>) -> Vec<SummaryRow> {
    let net = ctx.sol.net;
    let d = &ctx.sol.derivation;
    net.params
        .iter()
        .enumerate()
        .map(|(p, s)| SummaryRow {
            name: s.name.clone(),
            latex: latex_name(&s.name),
            old: ctx.text_num(s.value),
            gradient: ctx.text_num(d.params[p].value),
            new: ctx.text_num(d.params[p].updated),
            raw: [s.value, d.params[p].value, d.params[p].updated],
        })
        .collect()
}

/// The rows by layer (the deepest layer whose net inputs use the param),
/// output layer first, then the params no layer uses.
pub(super) fn by_layer(ctx: &Ctx<'_, '_>, summary: &[SummaryRow]) -> Vec<SummaryLayer> {
    let net = ctx.sol.net;

    let mut groups: Vec<SummaryLayer> = net
        .layers
        .iter()
        .enumerate()
        .rev()
        .map(|(i, l)| SummaryLayer {
            name: l.name.clone(),
            output: i + 1 == net.layers.len(),
            rows: Vec::new(),
        })
        .collect();
    groups.push(SummaryLayer {
        name: String::new(),
        output: false,
        rows: Vec::new(),
    });
    let layers = net.layers.len() as i64;
    for (p, row) in summary.iter().enumerate() {
        let dpt = depth(net, ctx.sol.derivation.worked(), p);
        let g = if dpt < 0 { layers } else { layers - 1 - dpt };
        groups[g as usize].rows.push(row.clone());
    }
    groups.retain(|g| !g.rows.is_empty());
    groups
}

/// With a data block, each param's gradient per sample, combined, and its
/// new value; none without.
pub(super) fn sample_gradients(ctx: &Ctx<'_, '_>) -> Vec<SampleGradient> {
    let net = ctx.sol.net;
    let d = &ctx.sol.derivation;
    if net.data.is_some() {
        net.params
            .iter()
            .enumerate()
            .map(|(p, s)| SampleGradient {
                latex: latex_name(&s.name),
                per_sample: d
                    .samples
                    .iter()
                    .map(|x| ctx.text_num(x.gradients[p].value))
                    .collect(),
                combined: ctx.text_num(d.params[p].samples),
                penalty: net
                    .l2
                    .as_ref()
                    .map(|_| ctx.text_num(d.params[p].penalty.unwrap_or(0.0))),
                gradient: ctx.text_num(d.params[p].value),
                new: ctx.text_num(d.params[p].updated),
            })
            .collect()
    } else {
        Vec::new()
    }
}

/// The update rule when it is not plain gradient descent.
pub(super) fn update_rule(net: &Network) -> Option<String> {
    let r = net.update_rule();
    (!r.is_plain()).then(|| {
        if r.weight_decay != 0.0 {
            format!("{}, weight_decay {}", r.optimizer.spec(), r.weight_decay)
        } else {
            r.optimizer.spec()
        }
    })
}

/// The updates after the first, with the optimizer's state carried.
pub(super) fn later_steps(ctx: &Ctx<'_, '_>, steps: &[crate::steps::Step]) -> Vec<LaterStep> {
    let net = ctx.sol.net;
    let rule = net.update_rule();
    let nums = ctx.sig_nums();
    steps
        .windows(2)
        .map(|w| {
            let (prev, step) = (&w[0], &w[1]);
            let params = net
                .params
                .iter()
                .enumerate()
                .map(|(p, param)| {
                    let pl = latex_name(&param.name);
                    let s = &step.params[p];
                    let before = &prev.params[p];
                    let state = (before.m.unwrap_or(0.0), before.v.unwrap_or(0.0));
                    let gradient = format!("g_{{{pl}}}^{{({})}}", step.t);
                    LaterParam {
                        latex: pl.clone(),
                        gradient: ctx.text_num(s.gradient),
                        before: ctx.text_num(s.before),
                        after: ctx.text_num(s.after),
                        lines: crate::render::update::lines(
                            &rule, &pl, &gradient, s, state, step.t, &nums,
                        ),
                    }
                })
                .collect();
            let params: Vec<LaterParam> = params;
            LaterStep {
                t: step.t,
                total: ctx.num(step.total),
                total_after: ctx.num(step.total_after),
                lines: params.iter().flat_map(|p| p.lines.clone()).collect(),
                params,
            }
        })
        .collect()
}
