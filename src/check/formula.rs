//! A formula judged as a function: compared with the quantity at the
//! network's values and at random points near them.

use super::*;

impl<'c, 'n> Checker<'c, 'n> {
    pub(super) fn random_leaves(&self) -> &[HashMap<Sym, f64>] {
        self.random_leaves
            .get_or_init(|| random_leaves(self.exact, RANDOM_POINTS))
    }

    /// The random points of graph `k` (`None`: the exact graph).
    pub(super) fn random_points(&self, k: Option<usize>) -> &[Point<'c, 'n>] {
        let build = |g: &'c Graph<'n>| {
            self.random_leaves()
                .iter()
                .map(|l| Point::at(g, l.clone()))
                .collect::<Vec<_>>()
        };
        match k.and_then(|k| self.graph(k).map(|g| (k, g))) {
            Some((k, g)) => self.candidate_random[k].get_or_init(|| build(g)),
            None => self.exact_random.get_or_init(|| build(self.exact)),
        }
    }

    /// Whether formula `e` is the same function as `q` computed by candidate
    /// `k` (`None`: the correct computation).
    pub(super) fn same_function(&self, e: &Expr, q: Quantity, k: Option<usize>) -> bool {
        let negated = k.is_some_and(|k| self.graph(k).is_none());
        let sign = if negated { -1.0 } else { 1.0 };
        // The reference at the network's values (`j` = None) or at random point j.
        let reference = |j: Option<usize>| -> f64 {
            let v = match (k, j) {
                (Some(k), None) if !negated => self.point(k).map(|p| p.quantity(q)),
                (Some(k), Some(j)) if !negated => Some(self.random_points(Some(k))[j].quantity(q)),
                _ => None,
            };
            let v = v.unwrap_or_else(|| match j {
                None => self.actual.quantity(q),
                Some(j) => self.random_points(None)[j].quantity(q),
            });
            sign * v
        };
        let at_actual = self.eval_at(e, &self.actual);
        if !close(at_actual, reference(None)) {
            return false;
        }
        let exact_points = self.random_points(None);
        for (j, p) in exact_points.iter().enumerate() {
            let f = self.eval_at(e, p);
            let r = reference(Some(j));
            if f.is_finite() && r.is_finite() && !close(f, r) {
                return false;
            }
        }
        true
    }

    pub(super) fn diagnose_formula(&self, e: &Expr, q: Quantity) -> Option<Found> {
        (0..self.candidates.len())
            .filter(|&k| self.relevant(k, q))
            .find(|&k| self.same_function(e, q, Some(k)))
            .map(|k| {
                let c = &self.candidates[k];
                let mut f = Found::of(c.mistake);
                f.neuron = c.neuron;
                f
            })
    }

    /// The leaves `q` depends on: moving one of them at a random point
    /// changes its value.
    pub(super) fn dependent_leaves(&self, q: Quantity) -> BTreeSet<Sym> {
        let mut dep = BTreeSet::new();
        let points = self.random_points(None);
        for &leaf in self.exact.leaves() {
            for p in points.iter().take(3) {
                let base = p.quantity(q);
                let mut moved = p.leaf_values().clone();
                let x = moved.get(&leaf).copied().unwrap_or(0.0);
                moved.insert(leaf, x + 0.1 * (x.abs() + 0.1));
                let other = Point::at(self.exact, moved).quantity(q);
                let differs = match (base.is_finite(), other.is_finite()) {
                    (true, true) => (base - other).abs() > 1e-9 * base.abs().max(other.abs()),
                    (a, b) => a != b,
                };
                if differs {
                    dep.insert(leaf);
                    break;
                }
            }
        }
        dep
    }

    /// The names of formula `e` that `q` cannot depend on.
    pub(super) fn unrelated(&self, e: &Expr, q: Quantity) -> Vec<String> {
        let mut syms = Vec::new();
        e.visit_syms(&mut |s| {
            if !syms.contains(&s) && self.exact.contains(s) {
                syms.push(s)
            }
        });
        // Moving each leaf in turn is too costly for a large network.
        if syms.is_empty() || self.exact.leaves().len() > MANY_LEAVES {
            return Vec::new();
        }
        let dep = self.dependent_leaves(q);
        syms.into_iter()
            .filter(|&s| self.exact.leaves_of(s).iter().any(|l| !dep.contains(l)))
            .map(|s| self.shown.plain(s))
            .collect()
    }
}

/// `count` sets of leaf values near the network's: each leaf moved by up
/// to a quarter of its size plus 0.05, from a fixed seed. The targets of a
/// softmax layer keep their sum (a one-hot target sums to 1, and
/// ∂E_total/∂net_k = out_k − target_k holds only then).
pub(super) fn random_leaves(g: &Graph<'_>, count: usize) -> Vec<HashMap<Sym, f64>> {
    let net = g.net;
    let softmax = net
        .layers
        .last()
        .is_some_and(|l| l.activation == crate::model::Activation::Softmax);
    let mut rng = SplitMix64::new(SEED);
    (0..count)
        .map(|_| {
            let mut leaves: HashMap<Sym, f64> = HashMap::new();
            let mut target_shift = Vec::new();
            for &s in g.leaves() {
                let v = net.fixed_value(s).unwrap_or(0.0);
                let shift = (0.25 * v.abs() + 0.05) * (rng.next_unit() * 2.0 - 1.0);
                if softmax && matches!(s, Sym::Target(_)) {
                    target_shift.push((s, v, shift));
                } else {
                    leaves.insert(s, v + shift);
                }
            }
            let mean =
                target_shift.iter().map(|t| t.2).sum::<f64>() / target_shift.len().max(1) as f64;
            for (s, v, shift) in target_shift {
                leaves.insert(s, v + shift - mean);
            }
            leaves
        })
        .collect()
}
