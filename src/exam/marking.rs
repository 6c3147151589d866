//! Fair marking: to what precision each answer is asked, the Moodle
//! tolerance of its field, and which classic mistakes it rules out.
//!
//! An answer is asked to N significant figures (`--sig N`) or N decimals
//! (`--decimals N`): its last asked digit has the place 10^e, and its Moodle
//! field accepts the key ± half a unit of that place. A classic mistake is
//! *ruled out* by the answer when the value it gives is at least one unit of
//! the last place away from the exact value and, rounded as asked, falls
//! outside the field's tolerance. When some mistake is not ruled out, the
//! answer is asked with one more digit, up to [`MAX_EXTRA`] more; past that
//! the variant is drawn again.

use crate::check::{self, Mistake, Quantity};
use crate::expr::Sym;
use crate::model::{Batch, Network};

/// The most digits added to an answer so that it rules out every classic
/// mistake.
pub const MAX_EXTRA: usize = 3;

/// How precisely answers are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// N significant figures.
    Sig(usize),
    /// N decimals.
    Decimals(usize),
}

impl Precision {
    /// The same precision with `extra` more digits.
    pub fn more(self, extra: usize) -> Precision {
        match self {
            Precision::Sig(n) => Precision::Sig(n + extra),
            Precision::Decimals(n) => Precision::Decimals(n + extra),
        }
    }

    /// The exponent of the place of the last digit of `x` asked this way
    /// (−4 for 0.2984 at 4 significant figures).
    pub fn place(self, x: f64) -> i32 {
        match self {
            Precision::Decimals(d) => -(d as i32),
            Precision::Sig(n) => {
                let n = n.max(1);
                if x == 0.0 || !x.is_finite() {
                    return -(n as i32 - 1);
                }
                // Rounded first: 0.99996 at 4 figures is 1.000, place −3.
                let s = format!("{:.*e}", n - 1, x);
                let e: i32 = s
                    .split_once('e')
                    .and_then(|(_, e)| e.parse().ok())
                    .unwrap_or(0);
                e - (n as i32 - 1)
            }
        }
    }

    /// `x` rounded as asked: its text (trailing zeros kept, so that the
    /// figures asked show) and its value.
    pub fn round(self, x: f64) -> (String, f64) {
        round_at(x, self.place(x))
    }
}

/// `x` rounded to the place 10^`exp`.
pub fn round_at(x: f64, exp: i32) -> (String, f64) {
    let text = if exp <= 0 {
        format!("{:.*}", (-exp) as usize, x)
    } else {
        let f = 10f64.powi(exp);
        format!("{:.0}", (x / f).round() * f)
    };
    let text = if text.starts_with('-') && text[1..].bytes().all(|b| b == b'0' || b == b'.') {
        text[1..].to_string()
    } else {
        text
    };
    let value = text.parse().unwrap_or(x);
    (text, value)
}

/// Half a unit of the place 10^`exp`, as text: `0.00005` for −4.
pub fn tolerance_text(exp: i32) -> String {
    match exp {
        e if e < 0 => format!("0.{}5", "0".repeat((-e) as usize)),
        0 => "0.5".to_string(),
        e => format!("5{}", "0".repeat((e - 1) as usize)),
    }
}

/// A classic mistake an answer can be judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slip {
    /// One of `check`'s diagnoses.
    Known(Mistake),
    /// The gradient doubled (the ½ of the loss lost, or counted twice).
    Doubled,
    /// No update at all: p⁺ = p, E_total⁺ = E_total.
    NoUpdate,
}

impl Slip {
    /// Its stable code, as `check` names mistakes.
    pub fn code(self) -> &'static str {
        match self {
            Slip::Known(m) => m.code(),
            Slip::Doubled => "doubled",
            Slip::NoUpdate => "no_update",
        }
    }
}

/// What the batch's L2 term adds to quantity `q`: E_reg to E_total, λ·p to
/// ∂E_total/∂p and −η·λ·p to p⁺ (gradient descent).
fn batch_l2(net: &Network, q: Quantity) -> f64 {
    let Some(l2) = &net.l2 else {
        return 0.0;
    };
    let value = |p: u32| net.params[p as usize].value;
    match q {
        Quantity::Value(Sym::ErrTotal) => {
            let ps: Vec<f64> = net.params.iter().map(|p| p.value).collect();
            l2.penalty(&ps)
        }
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(p),
        } => l2.gradient(p, value(p)).unwrap_or(0.0),
        Quantity::Updated(p) => -net.rate * l2.gradient(p, value(p)).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The value every classic mistake gives for each of `quantities` of
/// `net` (NaN where a mistake has nothing to say about a quantity), given
/// the exact values `exact` of the quantities and the exact E_total.
/// With a `data` block, each sample's mistaken values combined as the
/// network combines its samples.
pub(crate) fn wrong_values(
    net: &Network,
    quantities: &[Quantity],
    exact: &[f64],
    total: f64,
) -> Vec<(Slip, Vec<f64>)> {
    let mut out: Vec<(Slip, Vec<f64>)> = match &net.data {
        None => check::mistaken_values(net, quantities)
            .into_iter()
            .map(|(m, v)| (Slip::Known(m), v))
            .collect(),
        Some(data) => {
            // Each sample without the L2 term, which the batch adds once.
            let mut one = net.clone();
            one.data = None;
            one.l2 = None;
            let n = data.rows.len() as f64;
            let mut sums: Vec<(Slip, Vec<f64>)> = Vec::new();
            for (xs, ts) in &data.rows {
                for (&i, v) in data.inputs.iter().zip(xs) {
                    one.inputs[i as usize].value = *v;
                }
                for (&o, v) in data.outputs.iter().zip(ts) {
                    one.targets[o as usize] = Some(*v);
                }
                let rows = check::mistaken_values(&one, quantities);
                if sums.is_empty() {
                    sums = rows.into_iter().map(|(m, v)| (Slip::Known(m), v)).collect();
                } else {
                    for (s, (_, v)) in sums.iter_mut().zip(rows) {
                        for (a, b) in s.1.iter_mut().zip(v) {
                            *a += b;
                        }
                    }
                }
            }
            for (_, values) in &mut sums {
                for (v, q) in values.iter_mut().zip(quantities) {
                    *v = match (q, net.batch) {
                        (Quantity::After(_), _) => f64::NAN,
                        (_, Batch::Mean) => *v / n,
                        // p⁺ = p − η·Σg = Σ(p − η·g) − (n − 1)·p
                        (Quantity::Updated(p), Batch::Sum) => {
                            *v - (n - 1.0) * net.params[*p as usize].value
                        }
                        (_, Batch::Sum) => *v,
                    };
                    *v += batch_l2(net, *q);
                }
            }
            sums
        }
    };
    let rule = net.update_rule();
    let doubled = quantities
        .iter()
        .zip(exact)
        .map(|(q, &x)| match q {
            Quantity::Partial { .. } | Quantity::Value(crate::expr::Sym::ErrTotal) => 2.0 * x,
            // p − 2η·g = 2·p⁺ − p (gradient descent only)
            Quantity::Updated(p) if rule.is_plain() => 2.0 * x - net.params[*p as usize].value,
            _ => f64::NAN,
        })
        .collect();
    let none = quantities
        .iter()
        .map(|q| match q {
            Quantity::Updated(p) => net.params[*p as usize].value,
            Quantity::After(crate::expr::Sym::ErrTotal) => total,
            _ => f64::NAN,
        })
        .collect();
    out.push((Slip::Doubled, doubled));
    out.push((Slip::NoUpdate, none));
    unaskable_by_update(net, quantities, exact, &mut out);
    out
}

/// Adagrad's, RMSprop's and Adam's first step moves a param by about η
/// times the sign of its gradient, whatever its size: a mistake that keeps
/// the sign gives p⁺ to within ε of the key, in every variant. Such values
/// are not mistakes p⁺ can rule out (drawing again would only find variants
/// whose gradients are about ε), so they say nothing (NaN) about p⁺.
fn unaskable_by_update(
    net: &Network,
    quantities: &[Quantity],
    exact: &[f64],
    out: &mut [(Slip, Vec<f64>)],
) {
    use crate::optimizer::Optimizer;
    let adaptive = matches!(
        net.optimizer,
        Optimizer::Adagrad(..)
            | Optimizer::RmsProp(..)
            | Optimizer::Adam(..)
            | Optimizer::AdamW(..)
    );
    if !adaptive {
        return;
    }
    for (_, values) in out.iter_mut() {
        for ((v, q), &x) in values.iter_mut().zip(quantities).zip(exact) {
            if let Quantity::Updated(p) = q {
                let step = (x - net.params[*p as usize].value).abs();
                if (*v - x).abs() <= 1e-6 * step {
                    *v = f64::NAN;
                }
            }
        }
    }
}

/// How one answer of one variant is asked and marked.
#[derive(Debug, Clone)]
pub(crate) struct Marked {
    /// The place of its last asked digit.
    pub(crate) exp: i32,
    /// Digits asked beyond the exam's precision.
    pub(crate) extra: usize,
    /// The key: the exact value rounded as asked.
    pub(crate) key: String,
    /// The codes of the mistakes it rules out (those that change it).
    pub(crate) rules_out: Vec<&'static str>,
}

/// Marks the answer `x` against the mistaken values `wrong`: the least
/// precision from `base` on (at most [`MAX_EXTRA`] more digits) at which it
/// rules out every mistake that changes it, or the first mistake that still
/// gives the key at the most digits.
pub(crate) fn mark(x: f64, base: Precision, wrong: &[(Slip, f64)]) -> Result<Marked, &'static str> {
    let mut last = "";
    for extra in 0..=MAX_EXTRA {
        let p = base.more(extra);
        let exp = p.place(x);
        let unit = 10f64.powi(exp);
        let (key, key_value) = round_at(x, exp);
        let tol = 0.5 * unit;
        let mut rules_out: Vec<&'static str> = Vec::new();
        let mut collided = None;
        for &(slip, m) in wrong {
            if !m.is_finite() || (m - x).abs() <= 1e-9 * x.abs() {
                continue;
            }
            let asked = p.round(m).1;
            let apart = (m - x).abs() >= unit && (asked - key_value).abs() > tol * (1.0 + 1e-9);
            if apart {
                if !rules_out.contains(&slip.code()) {
                    rules_out.push(slip.code());
                }
            } else {
                collided = Some(slip.code());
                break;
            }
        }
        match collided {
            None => {
                return Ok(Marked {
                    exp,
                    extra,
                    key,
                    rules_out,
                })
            }
            Some(c) => last = c,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_keys() {
        let p = Precision::Sig(4);
        assert_eq!(p.round(0.298371108760), ("0.2984".to_string(), 0.2984));
        assert_eq!(p.round(0.000671234).0, "0.0006712");
        assert_eq!(p.round(0.99996).0, "1.000");
        assert_eq!(p.round(-0.0821670).0, "-0.08217");
        assert_eq!(p.round(12345.6).0, "12350");
        assert_eq!(Precision::Decimals(4).round(0.149780716).0, "0.1498");
        assert_eq!(Precision::Decimals(2).round(-0.001).0, "0.00");
        assert_eq!(tolerance_text(-4), "0.00005");
        assert_eq!(tolerance_text(0), "0.5");
        assert_eq!(tolerance_text(2), "50");
    }

    #[test]
    fn a_mistake_that_rounds_to_the_key_adds_digits() {
        // 0.14978 vs an early update at 0.14979: 4 figures cannot tell them
        // apart, 6 can.
        let wrong = [(Slip::NoUpdate, 0.15), (Slip::Doubled, 0.14979)];
        let m = mark(0.1497807, Precision::Sig(4), &wrong).unwrap();
        assert_eq!((m.extra, m.key.as_str()), (2, "0.149781"));
        assert_eq!(m.rules_out, ["no_update", "doubled"]);
        // A mistake that gives the right value is not one for this answer.
        let m = mark(0.5, Precision::Sig(4), &[(Slip::Doubled, 0.5)]).unwrap();
        assert!(m.rules_out.is_empty());
        assert_eq!(
            mark(0.5, Precision::Sig(4), &[(Slip::Doubled, 0.5 + 1e-8)]).unwrap_err(),
            "doubled"
        );
    }
}

#[cfg(test)]
mod data_tests {
    use super::*;
    use crate::derivation::Options as DeriveOptions;
    use crate::expr::Sym;
    use crate::solution::Solution;

    /// With a `data` block, a mistake's values are each sample's combined
    /// as the network combines them: a missing bias in every layer is the
    /// network with its biases at 0, solved over all samples.
    #[test]
    fn samples_combine_as_the_network_does() {
        for batch in ["mean", "sum"] {
            let src = include_str!("../../examples/xor.nn")
                .replace("loss mse", &format!("loss mse\nbatch {batch}"));
            let net = crate::parse::parse_network("xor.nn", &src).unwrap();
            let w1 = net.params.iter().position(|p| p.name == "w1").unwrap() as u32;
            let qs = [
                Quantity::Value(Sym::ErrTotal),
                Quantity::Partial {
                    of: Sym::ErrTotal,
                    wrt: Sym::Param(w1),
                },
                Quantity::Updated(w1),
            ];
            let solved = |n: &Network| {
                let sol = Solution::new(n, DeriveOptions::default(), Default::default()).unwrap();
                let d = &sol.derivation;
                [
                    d.total,
                    d.params[w1 as usize].value,
                    d.params[w1 as usize].updated,
                ]
            };
            let exact = solved(&net);
            let wrong = wrong_values(&net, &qs, &exact, exact[0]);
            let (_, bias) = wrong
                .iter()
                .find(|(s, _)| *s == Slip::Known(Mistake::MissingBias))
                .unwrap();
            let mut zero = net.clone();
            for p in &mut zero.params {
                if p.name.starts_with('b') {
                    p.value = 0.0;
                }
            }
            let expected = solved(&zero);
            for (a, b) in bias.iter().zip(expected) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1e-3),
                    "{batch}: {a} vs {b}"
                );
            }
            let (_, none) = wrong.iter().find(|(s, _)| *s == Slip::NoUpdate).unwrap();
            assert_eq!(none[2], net.params[w1 as usize].value);
        }
    }
}
