//! The values that each known mistake gives, quantity by quantity: the
//! table a page can compare a student's number with, without running the
//! checker (the self-check exercise page).

use super::graph::Graph;
use super::mistake::{candidates, Mistake};
use super::point::Point;
use super::words;
use crate::model::claim::Quantity;
use crate::model::Network;

/// What one known mistake gives for a quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct MistakeValue {
    /// The mistake.
    pub mistake: Mistake,
    /// The value it gives.
    pub value: f64,
    /// The mistake in the words `check` uses.
    pub words: String,
}

/// For each of `quantities`: the exact value, and the value each known
/// mistake gives where it differs from it (finite, and at least a
/// millionth apart relatively), in the order diagnoses are tried; a mistake
/// that can be made in several places (one layer or all) may give several. `carried_forward` is not in the table: it depends on the
/// student's own earlier numbers.
pub fn mistake_values(net: &Network, quantities: &[Quantity]) -> Vec<(f64, Vec<MistakeValue>)> {
    let exact = Graph::new(net, Default::default());
    let actual = Point::actual(&exact);
    let cands = candidates(net);
    let graphs: Vec<Option<Graph<'_>>> = cands
        .iter()
        .map(|c| c.variant.clone().map(|v| exact.with_variant(v)))
        .collect();
    let points: Vec<Option<Point<'_, '_>>> = graphs
        .iter()
        .map(|g| g.as_ref().map(Point::actual))
        .collect();
    quantities
        .iter()
        .map(|&q| {
            let value = actual.quantity(q);
            let mut list: Vec<MistakeValue> = Vec::new();
            for (k, c) in cands.iter().enumerate() {
                if !c.applies_to(q) {
                    continue;
                }
                let v = match &points[k] {
                    Some(p) => p.quantity(q),
                    None => -value,
                };
                let apart =
                    |a: f64, b: f64| (a - b).abs() > 1e-6 * a.abs().max(b.abs()).max(1e-300);
                let new = list
                    .iter()
                    .all(|m| m.mistake != c.mistake || apart(m.value, v));
                if v.is_finite() && apart(v, value) && new {
                    let neuron = c.neuron.map(|n| net.neurons[n as usize].name.as_str());
                    list.push(MistakeValue {
                        mistake: c.mistake,
                        value: v,
                        words: words::mistake(c.mistake, neuron),
                    });
                }
            }
            (value, list)
        })
        .collect()
}

/// A mistake in the words `check` uses, without a neuron.
pub fn mistake_words(m: Mistake) -> String {
    words::mistake(m, None)
}
