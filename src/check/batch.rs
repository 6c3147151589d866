//! Claims about a network with a `data` block: each under a `Sample K`
//! heading is judged against that sample's network; `E_total`,
//! `dE_total/dp`, `p+` and `E_total+` outside one against the combined
//! quantities of the batch (mean or sum over the samples, as the network
//! says); any other claim outside a heading against the sample it fits.

use super::graph::{Graph, Variant};
use super::point::Point;
use super::{
    arithmetic_slip, judge_claims, matcher_of, not_updated_words, words, Claim, Given, Mistake,
    Options, Quantity, Verdict,
};
use crate::expr::{Names, Sym};
use crate::model::{Batch, Network};
use crate::notation::{NetNames, Notation};
use crate::number;

/// Where a claim is judged.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// Against sample k (from 0); `guessed` when no heading said so.
    Sample { k: usize, guessed: bool },
    /// Against the combined quantities.
    Batch,
    /// A heading names a sample the data block does not have.
    Missing(usize),
}

/// One verdict a claim, in the order of `claims`.
pub(super) fn judge(net: &Network, claims: &[&Claim], opts: &Options) -> Vec<Verdict> {
    let rows = net.data.as_ref().map_or(0, |d| d.rows.len());
    let nets: Vec<Network> = (0..rows).map(|k| net.one_sample(k)).collect();
    let places: Vec<Place> = claims
        .iter()
        .map(|c| match c.sample {
            Some(s) if s >= 1 && s <= rows => Place::Sample {
                k: s - 1,
                guessed: false,
            },
            Some(s) => Place::Missing(s),
            None if c.quantity.is_combined() => Place::Batch,
            None => Place::Sample {
                k: fitting_sample(&nets, c, opts),
                guessed: true,
            },
        })
        .collect();
    let mut verdicts: Vec<Option<Verdict>> = vec![None; claims.len()];
    for (k, one) in nets.iter().enumerate() {
        let idx: Vec<usize> = (0..claims.len())
            .filter(|&i| matches!(places[i], Place::Sample { k: s, .. } if s == k))
            .collect();
        if idx.is_empty() {
            continue;
        }
        let subset: Vec<&Claim> = idx.iter().map(|&i| claims[i]).collect();
        for (v, &i) in judge_claims(one, &subset, opts).into_iter().zip(&idx) {
            let mut v = v;
            v.sample = Some(k + 1);
            if let Place::Sample { guessed: true, .. } = places[i] {
                v.message = format!("{}; {}", v.message, words::judged_as_sample(k + 1));
            }
            verdicts[i] = Some(v);
        }
    }
    let plain = NetNames::new(net, Notation::NetOut);
    let batch = Combined::new(net, &nets);
    for i in 0..claims.len() {
        match places[i] {
            Place::Missing(s) => {
                let c = claims[i];
                verdicts[i] = Some(Verdict {
                    line: c.line,
                    quantity: c.quantity.name(&plain),
                    written: c.written.clone(),
                    given: c.given_text.clone(),
                    ok: None,
                    expected: f64::NAN,
                    diagnosis: None,
                    carried_from: None,
                    message: words::unreadable(
                        c.quantity_span.start + 1,
                        &format!("the data block has no sample {s}"),
                        &format!("number the samples from 1 to {rows}"),
                    ),
                    sample: Some(s),
                });
            }
            Place::Batch => {
                let earlier: Vec<(&Claim, &Verdict)> = (0..i)
                    .filter_map(|j| verdicts[j].as_ref().map(|v| (claims[j], v)))
                    .collect();
                let v = batch.judge(claims[i], &earlier, &plain, opts, &places, claims);
                verdicts[i] = Some(v);
            }
            Place::Sample { .. } => {}
        }
    }
    verdicts.into_iter().flatten().collect()
}

/// The sample whose value of the claim's quantity the claim's number fits
/// (the first sample when none does).
fn fitting_sample(nets: &[Network], c: &Claim, opts: &Options) -> usize {
    let Some(m) = matcher_of(&c.given, opts.tolerance) else {
        return 0;
    };
    for (k, one) in nets.iter().enumerate() {
        let v = super::evaluate(one, &[c.quantity])[0];
        if m.agrees(v) {
            return k;
        }
    }
    0
}

/// The combined quantities of a batch.
struct Combined {
    net_rate: f64,
    params: Vec<f64>,
    samples: usize,
    /// E_total of each sample.
    errors: Vec<f64>,
    /// ∂E_total/∂p of each sample, by param.
    grads: Vec<Vec<f64>>,
    mean: bool,
    total: f64,
    grad: Vec<f64>,
    updated: Vec<f64>,
    after: f64,
    /// By param: the first layer whose net inputs use it.
    layer_of: Vec<Option<u32>>,
}

impl Combined {
    fn new(net: &Network, nets: &[Network]) -> Combined {
        let mean = net.batch == Batch::Mean;
        let n = nets.len().max(1) as f64;
        let combine = |xs: &mut dyn Iterator<Item = f64>| {
            let s: f64 = xs.sum();
            if mean {
                s / n
            } else {
                s
            }
        };
        let params: Vec<f64> = net.params.iter().map(|p| p.value).collect();
        let mut errors = Vec::new();
        let mut grads = Vec::new();
        let mut layer_of = Vec::new();
        for (k, one) in nets.iter().enumerate() {
            let g = Graph::new(one, Variant::default());
            if k == 0 {
                layer_of = (0..params.len() as u32).map(|p| g.first_layer(p)).collect();
            }
            let p = Point::actual(&g);
            errors.push(p.value(Sym::ErrTotal));
            grads.push(
                (0..params.len() as u32)
                    .map(|q| p.partial(Sym::ErrTotal, Sym::Param(q)))
                    .collect::<Vec<f64>>(),
            );
        }
        // The L2 term is the batch's, added once to the combined values.
        let penalty = |ps: &[f64]| net.l2.as_ref().map_or(0.0, |l| l.penalty(ps));
        let total = combine(&mut errors.iter().copied()) + penalty(&params);
        let grad: Vec<f64> = (0..params.len())
            .map(|q| {
                let g = combine(&mut grads.iter().map(|g| g[q]));
                let l2 = net.l2.as_ref();
                g + l2
                    .and_then(|l| l.gradient(q as u32, params[q]))
                    .unwrap_or(0.0)
            })
            .collect();
        let rule = net.update_rule();
        let updated: Vec<f64> = params
            .iter()
            .zip(&grad)
            .map(|(&p, &g)| crate::optimizer::first_step(&rule, None, p, g).after)
            .collect();
        let mut after_each = Vec::new();
        for one in nets {
            let g = Graph::new(one, Variant::default());
            let mut leaves = Point::actual(&g).leaf_values().clone();
            for (q, u) in updated.iter().enumerate() {
                leaves.insert(Sym::Param(q as u32), *u);
            }
            after_each.push(Point::at(&g, leaves).value(Sym::ErrTotal));
        }
        let after = combine(&mut after_each.into_iter()) + penalty(&updated);
        Combined {
            net_rate: net.rate,
            params,
            samples: nets.len(),
            errors,
            grads,
            mean,
            total,
            grad,
            updated,
            after,
            layer_of,
        }
    }

    fn exact(&self, q: Quantity) -> f64 {
        match q {
            Quantity::Value(Sym::ErrTotal) => self.total,
            Quantity::Partial {
                wrt: Sym::Param(p), ..
            } => self.grad[p as usize],
            Quantity::Updated(p) => self.updated[p as usize],
            Quantity::After(Sym::ErrTotal) => self.after,
            _ => f64::NAN,
        }
    }

    /// The same quantity of another param of the same layer.
    fn siblings(&self, q: Quantity) -> Vec<Quantity> {
        let same = |p: u32| -> Vec<u32> {
            (0..self.params.len() as u32)
                .filter(|&r| {
                    r != p
                        && self.layer_of[r as usize].is_some()
                        && self.layer_of[r as usize] == self.layer_of[p as usize]
                })
                .collect()
        };
        match q {
            Quantity::Partial {
                of,
                wrt: Sym::Param(p),
            } => same(p)
                .into_iter()
                .map(|r| Quantity::Partial {
                    of,
                    wrt: Sym::Param(r),
                })
                .collect(),
            Quantity::Updated(p) => same(p).into_iter().map(Quantity::Updated).collect(),
            _ => Vec::new(),
        }
    }

    /// The per-sample values of a combined quantity, when it has them.
    fn per_sample(&self, q: Quantity) -> Vec<f64> {
        match q {
            Quantity::Value(Sym::ErrTotal) => self.errors.clone(),
            Quantity::Partial {
                wrt: Sym::Param(p), ..
            } => self.grads.iter().map(|g| g[p as usize]).collect(),
            _ => Vec::new(),
        }
    }

    fn judge(
        &self,
        c: &Claim,
        earlier: &[(&Claim, &Verdict)],
        plain: &NetNames<'_>,
        opts: &Options,
        places: &[Place],
        claims: &[&Claim],
    ) -> Verdict {
        let q = c.quantity;
        let expected = self.exact(q);
        let fmt = |x: f64| number::format(x, 9);
        let mut v = Verdict::on(c, q.name(plain), expected);
        let Some(m) = matcher_of(&c.given, opts.tolerance) else {
            v.ok = None;
            v.message = words::unreadable(
                c.quantity_span.start + 1,
                "a formula of the whole batch is not judged",
                "give its number, or write the formula under a `Sample K` heading",
            );
            return v;
        };
        let before = match q {
            Quantity::Updated(p) => Some((self.params[p as usize], plain.plain(Sym::Param(p)))),
            Quantity::After(_) => Some((self.total, "E_total".to_string())),
            _ => None,
        };
        if let Some((before, name)) = before {
            if let Some(words) = not_updated_words(&m, &name, before, expected, &fmt) {
                v.diagnosis = Some(Mistake::NotUpdated);
                v.message = format!("{}; {words}", super::words::expected(&fmt(expected)));
                return v;
            }
        }
        if m.agrees(expected) {
            v.ok = Some(true);
            v.message = words::RIGHT.to_string();
            return v;
        }
        let mut parts = vec![words::expected(&fmt(expected))];
        let fits = |x: f64| x.is_finite() && m.agrees(x) && !m.same(x, expected, false);
        // Carried forward from the student's own values.
        if let Some((line, value)) = self.carried(c, earlier, places, claims) {
            if fits(value) {
                let root = root_line(line, earlier);
                v.diagnosis = Some(Mistake::CarriedForward);
                v.carried_from = Some(root);
                let wrong_there = earlier
                    .iter()
                    .any(|(_, e)| e.line == root && e.ok == Some(false));
                parts.push(words::carried(root, wrong_there));
                v.message = parts.join("; ");
                return v;
            }
        }
        if let Some(f) = arithmetic_slip(c, &m, expected, opts.tolerance) {
            v.diagnosis = Some(f.mistake);
            parts.push(f.message.unwrap_or_default());
            v.message = parts.join("; ");
            return v;
        }
        let mut tries: Vec<(Option<Mistake>, String, f64)> = Vec::new();
        match q {
            Quantity::Updated(p) => {
                let (w, g) = (self.params[p as usize], self.grad[p as usize]);
                tries.push((
                    Some(Mistake::AddedUpdate),
                    words::mistake(Mistake::AddedUpdate, None),
                    w + self.net_rate * g,
                ));
                if self.net_rate != 1.0 {
                    tries.push((
                        Some(Mistake::MissingRate),
                        words::mistake(Mistake::MissingRate, None),
                        w - g,
                    ));
                }
            }
            Quantity::Partial { .. } => {
                tries.push((
                    Some(Mistake::SignFlip),
                    words::mistake(Mistake::SignFlip, None),
                    -expected,
                ));
            }
            _ => {}
        }
        for s in self.siblings(q) {
            let name = s.name(plain);
            tries.push((
                Some(Mistake::WrongNeuron),
                words::mistake(Mistake::WrongNeuron, Some(&name)),
                self.exact(s),
            ));
        }
        let each = self.per_sample(q);
        if self.mean && !each.is_empty() {
            tries.push((None, words::BATCH_SUM.to_string(), each.iter().sum()));
        }
        for (k, x) in each.iter().enumerate() {
            tries.push((None, words::one_sample(k + 1), *x));
        }
        for (mistake, what, value) in tries {
            if fits(value) {
                v.diagnosis = mistake;
                parts.push(words::gives(&what, &fmt(value)));
                break;
            }
        }
        if self.samples > 0 && v.diagnosis.is_none() && parts.len() == 1 {
            parts.push(words::BATCH.to_string());
        }
        v.message = parts.join("; ");
        v
    }

    /// The value the student's own earlier numbers give for a combined
    /// claim, and the line it comes from.
    fn carried(
        &self,
        c: &Claim,
        earlier: &[(&Claim, &Verdict)],
        places: &[Place],
        claims: &[&Claim],
    ) -> Option<(usize, f64)> {
        let value_of = |e: &Claim| match e.given {
            Given::Number { value, .. } | Given::Arithmetic { value, .. } => Some(value),
            Given::Formula(_) => None,
        };
        let place_of = |e: &Claim| {
            claims
                .iter()
                .position(|x| std::ptr::eq(*x, e))
                .map(|i| places[i])
        };
        match c.quantity {
            Quantity::Updated(p) => {
                let grad_q = Quantity::Partial {
                    of: Sym::ErrTotal,
                    wrt: Sym::Param(p),
                };
                let (e, _) = earlier
                    .iter()
                    .rev()
                    .find(|(e, _)| e.quantity == grad_q && place_of(e) == Some(Place::Batch))?;
                let g = value_of(e)?;
                Some((e.line, self.params[p as usize] - self.net_rate * g))
            }
            q @ (Quantity::Value(Sym::ErrTotal) | Quantity::Partial { .. }) => {
                let mut each = vec![None; self.samples];
                for (e, _) in earlier {
                    if e.quantity != q {
                        continue;
                    }
                    if let Some(Place::Sample { k, guessed: false }) = place_of(e) {
                        if let Some(x) = value_of(e) {
                            each[k] = Some((x, e.line));
                        }
                    }
                }
                let all: Option<Vec<(f64, usize)>> = each.into_iter().collect();
                let all = all?;
                let sum: f64 = all.iter().map(|x| x.0).sum();
                let value = if self.mean {
                    sum / self.samples as f64
                } else {
                    sum
                };
                let exact = self.per_sample(q);
                let line = all
                    .iter()
                    .zip(&exact)
                    .find(|((x, _), e)| (x - *e).abs() > 1e-12 * e.abs().max(1e-300))
                    .map_or(all[0].1, |((_, l), _)| *l);
                Some((line, value))
            }
            _ => None,
        }
    }
}

/// The first line of an error carried forward through `line`.
fn root_line(mut line: usize, earlier: &[(&Claim, &Verdict)]) -> usize {
    for _ in 0..earlier.len() {
        match earlier.iter().rev().find(|(_, v)| v.line == line) {
            Some((_, v)) if v.diagnosis == Some(Mistake::CarriedForward) => match v.carried_from {
                Some(l) if l != line => line = l,
                _ => break,
            },
            _ => break,
        }
    }
    line
}
