//! The backward pass: one step a param, output layer first. Each δ is
//! derived once, in the first step that needs it (the [`StepPlan`]); later
//! steps refer back to it. A hidden neuron's ∂E_total/∂out is the sum over
//! the neurons it feeds.

use super::ctx::{plus, plus_num, Ctx};
use super::schedule::{self, Schedule};
use super::view::{DeltaDef, DeltaRef, FactorView, StepView};
use crate::derivation::{DAct, DOut, Edge, Via};
use crate::diff;
use crate::expr::{BinOp, Expr, Sym};
use crate::model::Activation;
use crate::notation::latex_name;
use crate::render::latex::{chain_lines, Part};

/// The params whose steps the page shows, in order: output layer first,
/// then as declared, or as `only` lists them; none unless `all` or `only`.
pub(super) fn order(ctx: &Ctx<'_, '_>, all: bool, only: &[String]) -> Vec<usize> {
    schedule::order(ctx.sol.net, ctx.pass, all, only)
}

/// Which δ's a step may refer back to: those derived by earlier steps
/// (`at[y] < step`), and those this step has derived so far.
struct Derived<'r> {
    plan: &'r StepPlan,
    step: usize,
    local: Vec<(u32, DeltaRef)>,
}

impl Derived<'_> {
    fn get(&self, y: u32) -> Option<&DeltaRef> {
        if let Some((_, r)) = self.local.iter().find(|(n, _)| *n == y) {
            return Some(r);
        }
        if self.plan.schedule.at[y as usize] < self.step {
            return self.plan.refs[y as usize].as_ref();
        }
        None
    }

    fn set(&mut self, y: u32, r: DeltaRef) {
        self.local.push((y, r));
    }
}

/// The schedule of the steps, with the reference later steps print for
/// each δ.
struct StepPlan {
    /// Where each δ is derived, and what each term derives ahead.
    schedule: Schedule,
    /// The reference later steps print for δ_y.
    refs: Vec<Option<DeltaRef>>,
}

fn plan(ctx: &Ctx<'_, '_>, order: &[usize]) -> StepPlan {
    let schedule = schedule::schedule(ctx.sol.net, ctx.pass, order);
    let refs = schedule
        .at
        .iter()
        .enumerate()
        .map(|(y, &i)| {
            let p = *order.get(i)?;
            let inline = ctx.inline(Sym::ErrTotal, Sym::Param(p as u32));
            Some(delta_ref(ctx, y as u32, &step_anchor(ctx, p), &inline))
        })
        .collect();
    StepPlan { schedule, refs }
}

fn step_anchor(ctx: &Ctx<'_, '_>, p: usize) -> String {
    super::anchor(&ctx.sol.net.params[p].name)
}

/// Whether δ_Y is ∂E_Y/∂net_Y: Y is an output whose error only it affects.
fn per_output(ctx: &Ctx<'_, '_>, y: u32) -> bool {
    let net = ctx.sol.net;
    net.is_output(y) && net.layer_of(y).activation != Activation::Softmax
}

/// The lines deriving δ_Y from ∂E_total/∂out_Y and ∂out_Y/∂net_Y, with the
/// factor views; δ's of later layers it needs must be derived already.
fn delta_factors(
    ctx: &Ctx<'_, '_>,
    y: u32,
    n: &mut usize,
    derived: &Derived<'_>,
) -> (Vec<FactorView>, Vec<String>) {
    let d = &ctx.pass;
    let g = &d.neurons[y as usize];
    let mut factors = Vec::new();
    match &g.d_act {
        DAct::Softmax(col) => {
            // δ_Y = Σ_j ∂E_total/∂out_j · ∂out_j/∂net_Y
            *n += 1;
            let layer = ctx.sol.net.layer_of(y);
            let mut lines = Vec::new();
            let mut sym = Vec::new();
            let mut vals = Vec::new();
            for (i, (j, f)) in layer.neurons.clone().zip(col).enumerate() {
                let gj = &d.neurons[j as usize];
                if let DOut::Loss(lf) = &gj.d_out {
                    lines.extend(ctx.factor_lines(lf));
                }
                lines.extend(ctx.factor_lines(f));
                sym.push(plus(
                    i,
                    format!(
                        "{} \\cdot {}",
                        ctx.partial(Sym::ErrTotal, Sym::Out(j)),
                        ctx.partial(Sym::Out(j), Sym::Net(y))
                    ),
                ));
                vals.push(plus(
                    i,
                    format!(
                        "{} \\cdot {}",
                        ctx.num_factor(gj.d_out_value),
                        ctx.num_factor(f.value)
                    ),
                ));
            }
            lines.extend(chain_lines(
                &ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                &[sym, vals, vec![ctx.num(g.delta)]],
            ));
            factors.push(FactorView {
                n: *n,
                label: ctx.circled(*n),
                partial: ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                inline: ctx.inline(Sym::ErrTotal, Sym::Net(y)),
                lines,
                reference: None,
                uses: Vec::new(),
                rule: diff::Rule::Softmax.name(),
            });
        }
        DAct::Elementwise(fa) => {
            *n += 1;
            factors.push(d_out_factor(ctx, y, *n, derived));
            *n += 1;
            factors.push(FactorView {
                n: *n,
                label: ctx.circled(*n),
                partial: ctx.partial(fa.of, fa.wrt),
                inline: ctx.inline(fa.of, fa.wrt),
                lines: ctx.factor_lines(fa),
                reference: None,
                uses: Vec::new(),
                rule: fa.rule.name(),
            });
        }
    }
    // δ_Y = ① · ② = value
    let mut lines = match &g.d_act {
        DAct::Elementwise(fa) => {
            let nums = [factors[0].n, factors[1].n];
            chain_lines(
                &format!(
                    "{} = {}",
                    ctx.delta(y),
                    ctx.partial(Sym::ErrTotal, Sym::Net(y))
                ),
                &[
                    vec![format!(
                        "{} \\cdot {}",
                        ctx.circled_math(nums[0]),
                        ctx.circled_math(nums[1])
                    )],
                    vec![format!(
                        "{} \\cdot {}",
                        ctx.num_factor(g.d_out_value),
                        ctx.num_factor(fa.value)
                    )],
                    vec![ctx.num(g.delta)],
                ],
            )
        }
        DAct::Softmax(_) => vec![format!(
            "{} = {} &= {}",
            ctx.delta(y),
            ctx.partial(Sym::ErrTotal, Sym::Net(y)),
            ctx.num(g.delta)
        )],
    };
    // The simplification tutorials highlight: with softmax and
    // cross-entropy (targets summing to 1), or a sigmoid output and binary
    // cross-entropy, δ_k = out_k − target_k.
    if let Some(e) = simplified_delta(ctx, y) {
        let parts = ctx.expr_parts(&e, g.delta);
        lines.extend(chain_lines(&ctx.delta(y), &parts));
    }
    (factors, lines)
}

/// Factor number `n`: ∂E_total/∂out_Y, the loss's derivative for an output,
/// else the sum over the neurons Y feeds.
fn d_out_factor(ctx: &Ctx<'_, '_>, y: u32, n: usize, derived: &Derived<'_>) -> FactorView {
    let (lines, uses, rule) = match &ctx.pass.neurons[y as usize].d_out {
        DOut::Loss(f) => {
            let mut lines = loss_sum_line(ctx, y);
            lines.extend(ctx.factor_lines(f));
            (lines, Vec::new(), f.rule.name())
        }
        DOut::Sum(edges) => sum_lines(ctx, y, edges, derived),
    };
    FactorView {
        n,
        label: ctx.circled(n),
        partial: ctx.partial(Sym::ErrTotal, Sym::Out(y)),
        inline: ctx.inline(Sym::ErrTotal, Sym::Out(y)),
        lines,
        reference: None,
        uses,
        rule,
    }
}

/// δ_y = out_y − target_y, when the loss and the output activation make it so.
fn simplified_delta(ctx: &Ctx<'_, '_>, y: u32) -> Option<Expr> {
    let net = ctx.sol.net;
    if !net.is_output(y) {
        return None;
    }
    let act = net.layer_of(y).activation;
    let applies = match (&net.loss, act) {
        (crate::model::Loss::Bce, Activation::Sigmoid) => true,
        (crate::model::Loss::Ce, Activation::Softmax) => {
            let sum: f64 = net
                .outputs()
                .filter_map(|o| ctx.values.get(Sym::Target(o)))
                .sum();
            (sum - 1.0).abs() < 1e-12
        }
        _ => false,
    };
    applies.then(|| {
        Expr::bin(
            BinOp::Sub,
            Expr::Var(Sym::Out(y)),
            Expr::Var(Sym::Target(y)),
        )
    })
}

/// For an output's first factor: E_total = Σ E_k, of which only E_Y depends on out_Y.
fn loss_sum_line(ctx: &Ctx<'_, '_>, y: u32) -> Vec<String> {
    let net = ctx.sol.net;
    let outs: Vec<u32> = net.outputs().collect();
    let reg = net.l2.is_some() && net.data.is_none();
    if outs.len() < 2 && !reg {
        return Vec::new();
    }
    let e = ctx.pass.forward.err_expr[y as usize]
        .clone()
        .unwrap_or(Expr::Num(0.0));
    let mut others = match outs.len() {
        1 => Vec::new(),
        2 => {
            let other = outs.iter().find(|&&o| o != y).copied().unwrap_or(y);
            vec![ctx.latex(Sym::Err(other))]
        }
        _ => vec!["\\dots".to_string()],
    };
    if reg {
        others.push("E_{reg}".to_string());
    }
    let sym = ctx.with_printer(|p| p.symbolic(&e));
    vec![format!(
        "{} &= {} + {}",
        ctx.latex(Sym::ErrTotal),
        sym,
        others.join(" + ")
    )]
}

/// ∂E_total/∂out_X = Σ_Y δ_Y · ∂net_Y/∂out_X, each term shown.
fn sum_lines(
    ctx: &Ctx<'_, '_>,
    x: u32,
    edges: &[crate::derivation::Edge],
    derived: &Derived<'_>,
) -> (Vec<String>, Vec<DeltaRef>, String) {
    let d = &ctx.pass;
    let lhs = ctx.partial(Sym::ErrTotal, Sym::Out(x));
    let rule = diff::Rule::SumOverOutputs.name();
    if edges.is_empty() {
        return (vec![format!("{lhs} &= 0")], Vec::new(), rule);
    }
    let term_label = |y: u32| {
        if per_output(ctx, y) {
            ctx.partial(Sym::Err(y), Sym::Out(x))
        } else {
            format!(
                "{} \\cdot {}",
                ctx.partial(Sym::ErrTotal, Sym::Net(y)),
                ctx.partial(Sym::Net(y), Sym::Out(x))
            )
        }
    };
    let mut lines = Vec::new();
    let labels: Part = edges
        .iter()
        .enumerate()
        .map(|(i, e)| plus(i, term_label(e.to)))
        .collect();
    lines.extend(chain_lines(&lhs, &[labels]));
    let mut uses = Vec::new();
    if edges.len() > 1 || per_output(ctx, edges[0].to) {
        for e in edges {
            let y = e.to;
            let dy = if per_output(ctx, y) {
                ctx.partial(Sym::Err(y), Sym::Net(y))
            } else {
                ctx.partial(Sym::ErrTotal, Sym::Net(y))
            };
            let lhs_t = term_label(y);
            let fsym = ctx.with_printer(|p| p.symbolic(&e.factor.symbolic));
            let fsym = if e.factor.symbolic.additive_terms().len() > 1 {
                format!("\\left({fsym}\\right)")
            } else {
                fsym
            };
            let mut parts: Vec<Part> = Vec::new();
            if per_output(ctx, y) {
                parts.push(vec![format!(
                    "{dy} \\cdot {}",
                    ctx.partial(Sym::Net(y), Sym::Out(x))
                )]);
            }
            parts.push(vec![format!("{} \\cdot {fsym}", ctx.delta(y))]);
            parts.push(vec![format!(
                "{} \\cdot {}",
                ctx.num_factor(d.neurons[y as usize].delta),
                ctx.num_factor(e.factor.value)
            )]);
            parts.push(vec![ctx.num(e.value)]);
            lines.extend(chain_lines(&lhs_t, &parts));
            if let Some(r) = derived.get(y) {
                uses.push(r.clone());
            }
        }
    } else if let Some(r) = derived.get(edges[0].to) {
        uses.push(r.clone());
    }
    let vals: Part = edges
        .iter()
        .enumerate()
        .map(|(i, e)| plus_num(ctx, i, e.value))
        .collect();
    let mut parts = Vec::new();
    if edges.len() > 1 {
        parts.push(vals);
    } else {
        let e = &edges[0];
        let fsym = ctx.with_printer(|p| p.symbolic(&e.factor.symbolic));
        parts.push(vec![format!("{} \\cdot {fsym}", ctx.delta(e.to))]);
        parts.push(vec![format!(
            "{} \\cdot {}",
            ctx.num_factor(d.neurons[e.to as usize].delta),
            ctx.num_factor(e.factor.value)
        )]);
    }
    parts.push(vec![ctx.num(d.neurons[x as usize].d_out_value)]);
    lines.extend(chain_lines(&lhs, &parts));
    (lines, uses, rule)
}

/// Makes sure δ_Y of every neuron the hidden neuron `x` feeds is derived
/// The block deriving δ_y ahead of a step's own terms (a later layer's δ
/// that no earlier step derived).
fn ahead_block(ctx: &Ctx<'_, '_>, y: u32, derived: &Derived<'_>) -> DeltaDef {
    let d = &ctx.pass;
    let mut n = 0;
    let (factors, delta_lines) = delta_factors(ctx, y, &mut n, derived);
    let mut lines: Vec<String> = factors.into_iter().flat_map(|f| f.lines).collect();
    if matches!(d.neurons[y as usize].d_act, DAct::Elementwise(_)) {
        lines.push(format!(
            "{} &= {} \\cdot {} = {}",
            ctx.delta(y),
            ctx.partial(Sym::ErrTotal, Sym::Out(y)),
            ctx.partial(Sym::Out(y), Sym::Net(y)),
            ctx.num(d.neurons[y as usize].delta)
        ));
    } else {
        lines.extend(delta_lines);
    }
    DeltaDef {
        delta: ctx.delta(y),
        lines,
    }
}

fn delta_ref(ctx: &Ctx<'_, '_>, y: u32, anchor: &str, step: &str) -> DeltaRef {
    DeltaRef {
        delta: ctx.delta(y),
        partial: ctx.partial(Sym::ErrTotal, Sym::Net(y)),
        inline: ctx.inline(Sym::ErrTotal, Sym::Net(y)),
        value: ctx.num(ctx.pass.neurons[y as usize].delta),
        anchor: anchor.to_string(),
        step: step.to_string(),
    }
}

/// Builds the steps of `order` on all cores, and `meanwhile` on this
/// thread; each step sees the δ's that [`plan`] says earlier steps derived.
pub(super) fn steps<M>(
    ctx: &Ctx<'_, '_>,
    order: &[usize],
    meanwhile: impl FnOnce() -> M,
) -> (Vec<StepView>, M) {
    let plan = &plan(ctx, order);
    let indexed: Vec<(usize, usize)> = order.iter().copied().enumerate().collect();
    let (chunks, done) = crate::render::parallel::chunks(
        &indexed,
        |group| {
            group
                .iter()
                .map(|&(i, p)| {
                    let mut derived = Derived {
                        plan,
                        step: i,
                        local: Vec::new(),
                    };
                    step(ctx, p, &mut derived)
                })
                .collect::<Vec<_>>()
        },
        meanwhile,
    );
    let steps = chunks
        .into_iter()
        .flat_map(|c| c.expect("a page thread panicked (this is a bug in chainrule)"))
        .collect();
    (steps, done)
}

/// The step of param `p`.
fn step(ctx: &Ctx<'_, '_>, p: usize, derived: &mut Derived<'_>) -> StepView {
    let net = ctx.sol.net;
    let g = &ctx.pass.gradients[p];
    let psym = Sym::Param(p as u32);
    let anchor = step_anchor(ctx, p);
    let gradient = ctx.partial(Sym::ErrTotal, psym);
    let deepest = g
        .terms
        .iter()
        .map(|e| net.neurons[e.to as usize].layer)
        .max();
    let layer = deepest.map_or(String::new(), |l| net.layers[l as usize].name.clone());
    let output_layer = deepest.is_some_and(|l| l as usize + 1 == net.layers.len());

    let mut t = Terms::default();
    for (ti, edge) in g.terms.iter().enumerate() {
        term(ctx, p, ti, edge, derived, &mut t);
    }
    let Terms {
        before,
        factors,
        deltas,
        chain: chain_terms,
        product: product_terms,
        ..
    } = t;
    debug_assert_eq!(
        factors.iter().map(|f| f.n).collect::<Vec<_>>(),
        schedule::numbers(ctx.pass, &derived.plan.schedule, derived.step, p)
            .iter()
            .flat_map(|t| [t.delta, t.d_out, t.d_act, Some(t.local)])
            .flatten()
            .collect::<Vec<_>>(),
        "the page numbers its factors as the schedule does"
    );
    // The L2 term's ∂E_reg/∂p is a term of its own (none with data, where
    // the worked pass is one sample's and the batch adds it).
    let penalty = ctx.sol.derivation.params[p]
        .penalty
        .filter(|_| net.data.is_none());
    let (mut chain_terms, mut product_terms) = (chain_terms, product_terms);
    let penalty_lines = match penalty {
        Some(r) => {
            let reg = ctx.partial_of("E_{reg}", psym);
            chain_terms.push(plus(chain_terms.len(), reg.clone()));
            product_terms.push(plus_num(ctx, product_terms.len(), r));
            chain_lines(
                &reg,
                &[
                    vec![format!("\\lambda \\cdot {}", ctx.latex(psym))],
                    vec![format!(
                        "{} \\cdot {}",
                        ctx.num(net.l2.as_ref().map_or(0.0, |l| l.lambda)),
                        ctx.num_factor(ctx.values.params[p])
                    )],
                    vec![ctx.num(r)],
                ],
            )
        }
        None => Vec::new(),
    };
    let value = match penalty {
        Some(_) => ctx.sol.derivation.params[p].value,
        None => g.value,
    };
    let unused = chain_terms.is_empty();
    let chain = if unused {
        vec![format!("{gradient} &= 0")]
    } else {
        chain_lines(&gradient, &[chain_terms])
    };
    // A lone factor (a param of the loss alone, or the L2 term alone) has
    // nothing to multiply.
    let lone = product_terms.len() == 1 && (factors.len() == 1 || factors.is_empty());
    let product = if unused {
        Vec::new()
    } else if lone {
        chain_lines(&gradient, &[vec![ctx.num(value)]])
    } else {
        chain_lines(&gradient, &[product_terms, vec![ctx.num(value)]])
    };
    let pl = latex_name(&net.params[p].name);
    let update = update_lines(ctx, p, &pl, &gradient);
    StepView {
        anchor,
        param: net.params[p].name.clone(),
        param_latex: pl,
        layer,
        output_layer,
        gradient_inline: ctx.inline(Sym::ErrTotal, psym),
        gradient,
        before,
        chain,
        factors,
        deltas,
        penalty: penalty_lines,
        product,
        update,
        unused,
    }
}

/// The lines of param `p`'s update (`pl` its LaTeX, `gradient` its
/// ∂E_total/∂p): gradient descent, or the optimizer's rule.
fn update_lines(ctx: &Ctx<'_, '_>, p: usize, pl: &str, gradient: &str) -> Vec<String> {
    let net = ctx.sol.net;
    if net.data.is_some() {
        // A sample's gradient is not the update's: that uses the batch's.
        return Vec::new();
    }
    let g = &ctx.sol.derivation.params[p];
    let rule = net.update_rule();
    if rule.is_plain() {
        chain_lines(
            &format!("{pl}^{{+}}"),
            &[
                vec![format!("{pl} - \\eta \\cdot {gradient}")],
                vec![format!(
                    "{} - {} \\cdot {}",
                    ctx.num(net.params[p].value),
                    ctx.num(net.rate),
                    ctx.num_factor(g.value)
                )],
                vec![ctx.num(g.updated)],
            ],
        )
    } else {
        crate::render::update::lines(&rule, pl, gradient, &g.step, (0.0, 0.0), 1, &ctx.sig_nums())
    }
}

/// What a step's terms add up to, term by term.
#[derive(Default)]
struct Terms {
    /// δ's of later layers derived ahead of the terms.
    before: Vec<DeltaDef>,
    /// The numbered factors.
    factors: Vec<FactorView>,
    /// δ's derived in the step.
    deltas: Vec<DeltaDef>,
    /// Each term of the chain rule, its factors under braces.
    chain: Part,
    /// Each term with its factors' values.
    product: Part,
    /// The last factor number given.
    n: usize,
}

/// Term `ti` of param `p`'s gradient, through `edge`: its factors, numbered
/// on from `t.n`, and the δ's it derives.
fn term(
    ctx: &Ctx<'_, '_>,
    p: usize,
    ti: usize,
    edge: &Edge,
    derived: &mut Derived<'_>,
    t: &mut Terms,
) {
    let d = &ctx.pass;
    let psym = Sym::Param(p as u32);
    let anchor = step_anchor(ctx, p);
    let y = edge.to;
    let ng = &d.neurons[y as usize];
    let mut braces = Vec::new();
    let mut nums = Vec::new();
    if let Via::Out(_) = edge.via() {
        // A param of the activation function: ∂E_total/∂out_Y, then
        // ∂out_Y/∂p below.
        for &z in &derived.plan.schedule.ahead[derived.step][ti] {
            t.before.push(ahead_block(ctx, z, derived));
            derived.set(
                z,
                delta_ref(ctx, z, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
            );
        }
        t.n += 1;
        let f = d_out_factor(ctx, y, t.n, derived);
        braces.push(format!(
            "\\underbrace{{{}}}_{{{}}}",
            f.partial,
            ctx.circled_math(t.n)
        ));
        nums.push(ctx.num_factor(ng.d_out_value));
        t.factors.push(f);
    } else if let Via::Err(_) = edge.via() {
        // A param of the loss: ∂E_Y/∂p alone.
    } else if let Some(r) = derived.get(y).cloned() {
        t.n += 1;
        braces.push(format!(
            "\\underbrace{{{}}}_{{{}}}",
            r.partial,
            ctx.circled_math(t.n)
        ));
        nums.push(ctx.num_factor(ng.delta));
        t.factors.push(FactorView {
            n: t.n,
            label: ctx.circled(t.n),
            partial: r.partial.clone(),
            inline: r.inline.clone(),
            lines: Vec::new(),
            reference: Some(r),
            uses: Vec::new(),
            rule: "delta".into(),
        });
    } else {
        for &z in &derived.plan.schedule.ahead[derived.step][ti] {
            t.before.push(ahead_block(ctx, z, derived));
            derived.set(
                z,
                delta_ref(ctx, z, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
            );
        }
        let (fs, dl) = delta_factors(ctx, y, &mut t.n, derived);
        for f in &fs {
            braces.push(format!(
                "\\underbrace{{{}}}_{{{}}}",
                f.partial,
                ctx.circled_math(f.n)
            ));
        }
        match &ng.d_act {
            DAct::Elementwise(fa) => {
                nums.push(ctx.num_factor(ng.d_out_value));
                nums.push(ctx.num_factor(fa.value));
            }
            DAct::Softmax(_) => nums.push(ctx.num_factor(ng.delta)),
        }
        t.factors.extend(fs);
        t.deltas.push(DeltaDef {
            delta: ctx.delta(y),
            lines: dl,
        });
        derived.set(
            y,
            delta_ref(ctx, y, &anchor, &ctx.inline(Sym::ErrTotal, psym)),
        );
    }
    t.n += 1;
    let f = &edge.factor;
    braces.push(format!(
        "\\underbrace{{{}}}_{{{}}}",
        ctx.partial(f.of, f.wrt),
        ctx.circled_math(t.n)
    ));
    nums.push(ctx.num_factor(f.value));
    t.factors.push(FactorView {
        n: t.n,
        label: ctx.circled(t.n),
        partial: ctx.partial(f.of, f.wrt),
        inline: ctx.inline(f.of, f.wrt),
        lines: ctx.factor_lines(f),
        reference: None,
        uses: Vec::new(),
        rule: f.rule.name(),
    });
    t.chain.push(plus(ti, braces.join(" \\cdot ")));
    t.product.push(plus(ti, nums.join(" \\cdot ")));
}
