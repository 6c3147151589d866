//! The likely mistake behind a wrong number: a known mistake, a neighbour's
//! value, or the student's own earlier value carried forward.

use super::*;

impl Pick {
    pub(super) fn better_than(&self, other: &Pick) -> bool {
        let (a, b) = ((self.group, self.rank), (other.group, other.rank));
        a < b || (a == b && self.distance < other.distance - 1e-6)
    }
}

impl Found {
    pub(super) fn of(mistake: Mistake) -> Found {
        Found {
            mistake,
            neuron: None,
            label: None,
            value: None,
            carried_from: None,
            message: None,
        }
    }
}

impl<'c, 'n> Checker<'c, 'n> {
    pub(super) fn diagnose_number(
        &self,
        claims: &[&Claim],
        given_values: &[f64],
        earlier: &[Verdict],
        i: usize,
        m: &Matcher,
        expected: f64,
    ) -> Option<Found> {
        let q = claims[i].quantity;
        let distinct = |v: f64| v.is_finite() && !m.same(v, expected, false);
        let fits = |v: f64| m.agrees(v) && distinct(v);
        let mut prior = self.earlier_values(claims, given_values, i);
        // Only what the claim is computed from can carry into it.
        prior.retain(|pq, _| self.influences(*pq, q));
        // Any earlier value that is not the exact one can carry forward.
        let carries = prior.iter().any(|(pq, (v, _))| {
            let exact = self.actual.quantity(*pq);
            (v - exact).abs() > 1e-12 * exact.abs().max(1e-300)
        });

        // The step is right for the student's own earlier values.
        if carries {
            for route in [Route::Backward, Route::Forward] {
                let r = self.with_prior(self.exact, &prior, route).quantity(q);
                if fits(r) {
                    if let Some(line) =
                        self.carried_line(self.exact, 1.0, &prior, route, q, m, earlier)
                    {
                        let mut f = Found::of(Mistake::CarriedForward);
                        f.carried_from = Some(self.root_line(line, earlier));
                        return Some(f);
                    }
                }
            }
        }

        // A slip between the links of a chain.
        if let Some(f) = arithmetic_slip(claims[i], m, expected, self.opts.tolerance) {
            return Some(f);
        }

        // One significant digit is too coarse to tell one mistake from
        // another, unless the mistake gives that very number.
        let fine_enough = m.tolerance.is_some()
            || match m.precision {
                Precision::Exact => true,
                Precision::Places { significant, .. } => significant >= 2,
            };
        let fits_mistake =
            |v: f64| fits(v) && (fine_enough || (v - m.given).abs() <= 1e-9 * v.abs().max(1e-12));

        // A known mistake, at the network's values or with the student's own
        // earlier values. Best: one that fits either way (or when there are
        // no earlier values), then one that fits only at the network's
        // values, then one that fits only with the student's values. For an
        // update, the update's own mistakes come first; then the closest.
        let mut best: Option<Pick> = None;
        for (k, c) in self.candidates.iter().enumerate() {
            if !self.relevant(k, q) {
                continue;
            }
            let plain = match self.point(k) {
                Some(p) => p.quantity(q),
                None => -expected,
            };
            let with_prior = carries.then(|| {
                let g = self.graph(k).unwrap_or(self.exact);
                let v = self.with_prior(g, &prior, Route::Backward).quantity(q);
                if self.graph(k).is_some() {
                    v
                } else {
                    -v
                }
            });
            let fits_prior = with_prior.is_some_and(fits_mistake);
            let (group, value) = match (fits_mistake(plain), fits_prior, carries) {
                (true, true, _) | (true, _, false) => (0, plain),
                (true, false, true) => (1, plain),
                (false, true, _) => (2, with_prior.unwrap_or(plain)),
                (false, false, _) => continue,
            };
            let update_mistake = matches!(c.mistake, Mistake::AddedUpdate | Mistake::MissingRate);
            let rank = u8::from(!update_mistake);
            let pick = Pick {
                group,
                rank,
                distance: m.distance(value),
                candidate: k,
                value,
            };
            if best.as_ref().map_or(true, |b| pick.better_than(b)) {
                best = Some(pick);
            }
        }
        // Chain factors added; a neighbour's value copied: at the network's
        // values, after the changed computations, the closest wins.
        let others = self.other_values(q);
        for (j, (_, _, value)) in others.iter().enumerate() {
            if fits_mistake(*value) {
                // A copied or added value does not depend on the student's
                // earlier values: it fits either way.
                let pick = Pick {
                    group: 0,
                    rank: 1,
                    distance: m.distance(*value),
                    candidate: self.candidates.len() + j,
                    value: *value,
                };
                if best.as_ref().map_or(true, |b| pick.better_than(b)) {
                    best = Some(pick);
                }
            }
        }
        if let Some(Pick {
            candidate, value, ..
        }) = &best
        {
            if let Some((mistake, label, _)) =
                others.get(candidate.wrapping_sub(self.candidates.len()))
            {
                if *candidate >= self.candidates.len() {
                    return Some(Found {
                        mistake: *mistake,
                        neuron: None,
                        label: label.clone(),
                        value: Some(*value),
                        carried_from: None,
                        message: None,
                    });
                }
            }
        }
        if let Some(Pick {
            group,
            candidate: k,
            value,
            ..
        }) = best
        {
            let carried = group == 2;
            let c = &self.candidates[k];
            let carried_from = if carried {
                let (g, sign) = match self.graph(k) {
                    Some(g) => (g, 1.0),
                    None => (self.exact, -1.0),
                };
                Some(self.carried_line(g, sign, &prior, Route::Backward, q, m, earlier)?)
            } else {
                None
            };
            return Some(Found {
                mistake: c.mistake,
                neuron: c.neuron,
                label: None,
                value: Some(value),
                carried_from,
                message: None,
            });
        }

        None
    }

    /// Values of `q` under mistakes that are not a changed computation:
    /// the chain's factors added, and the values of its neighbours.
    pub(super) fn other_values(&self, q: Quantity) -> Vec<(Mistake, Option<String>, f64)> {
        let p = &self.actual;
        let g = self.exact;
        let mut out = Vec::new();
        // ∂E_total/∂p = ∂E_total/∂out_n + ∂out_n/∂net_n + ∂net_n/∂p, added.
        if let Quantity::Partial {
            of: Sym::ErrTotal,
            wrt,
        } = q
        {
            let neuron = match wrt {
                Sym::Net(n) => Some(n),
                Sym::Param(_) => {
                    let nets: Vec<u32> = g
                        .children(wrt)
                        .iter()
                        .filter_map(|c| match c {
                            Sym::Net(n) => Some(*n),
                            _ => None,
                        })
                        .collect();
                    match nets.as_slice() {
                        [n] => Some(*n),
                        _ => None,
                    }
                }
                _ => None,
            };
            if let Some(n) = neuron {
                let mut sum =
                    p.partial(Sym::ErrTotal, Sym::Out(n)) + p.local(Sym::Out(n), Sym::Net(n));
                if wrt != Sym::Net(n) {
                    sum += p.local(Sym::Net(n), wrt);
                }
                out.push((Mistake::AddedFactors, None, sum));
            }
        }
        // Neighbours: the same quantity of another neuron of the layer, or
        // of another param of the same layer.
        let siblings = |s: Sym| -> Vec<Sym> {
            match s {
                Sym::Net(n) | Sym::Out(n) => {
                    let layer = &self.net.layers[g.layer(n) as usize];
                    layer
                        .neurons
                        .clone()
                        .filter(|&m| m != n)
                        .map(|m| {
                            if matches!(s, Sym::Net(_)) {
                                Sym::Net(m)
                            } else {
                                Sym::Out(m)
                            }
                        })
                        .collect()
                }
                Sym::Err(n) => self
                    .net
                    .outputs()
                    .filter(|&m| m != n)
                    .map(Sym::Err)
                    .collect(),
                Sym::Param(a) => (0..self.net.params.len() as u32)
                    .filter(|&b| {
                        b != a && g.first_layer(b).is_some() && g.first_layer(b) == g.first_layer(a)
                    })
                    .map(Sym::Param)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut alternatives: Vec<Quantity> = Vec::new();
        match q {
            Quantity::Value(s) => {
                alternatives.extend(siblings(s).into_iter().map(Quantity::Value));
            }
            Quantity::Partial { of, wrt } => {
                for w in siblings(wrt) {
                    alternatives.push(Quantity::Partial { of, wrt: w });
                }
                for o in siblings(of) {
                    alternatives.push(Quantity::Partial { of: o, wrt });
                }
            }
            Quantity::Updated(a) => {
                for s in siblings(Sym::Param(a)) {
                    if let Sym::Param(b) = s {
                        alternatives.push(Quantity::Updated(b));
                    }
                }
            }
            Quantity::After(_) | Quantity::State(..) => {}
        }
        for alt in alternatives.into_iter().take(64) {
            let v = p.quantity(alt);
            if v.is_finite() && v != 0.0 {
                out.push((Mistake::WrongNeuron, Some(alt.name(&self.shown)), v));
            }
        }
        out
    }

    pub(super) fn with_prior<'g>(
        &self,
        g: &'g Graph<'n>,
        prior: &HashMap<Quantity, (f64, usize)>,
        route: Route,
    ) -> Point<'g, 'n> {
        let overrides = prior.iter().map(|(q, (v, _))| (*q, *v)).collect();
        Point::with_overrides(g, overrides, route)
    }

    /// The line an error was carried forward from: of the earlier claims
    /// the recomputed value (times `sign`) depends on, the latest one whose
    /// value is wrong (followed back to where the error started); failing
    /// that, the latest without which the value no longer fits the written
    /// number, or changes at all.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn carried_line(
        &self,
        g: &Graph<'n>,
        sign: f64,
        prior: &HashMap<Quantity, (f64, usize)>,
        route: Route,
        q: Quantity,
        m: &Matcher,
        earlier: &[Verdict],
    ) -> Option<usize> {
        let mut lines: Vec<(usize, Quantity)> = prior.iter().map(|(q, (_, l))| (*l, *q)).collect();
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        // The latest wrong value the claim is computed from.
        for &(line, pq) in &lines {
            let wrong = earlier
                .iter()
                .rev()
                .find(|v| v.line == line)
                .is_some_and(|v| v.ok == Some(false));
            if wrong && self.influences(pq, q) {
                return Some(self.root_line(line, earlier));
            }
        }
        let with_all = sign * self.with_prior(g, prior, route).quantity(q);
        let mut breaks = None;
        let mut changed = None;
        for (line, pq) in lines.into_iter().take(32) {
            let mut fewer = prior.clone();
            fewer.remove(&pq);
            let r = sign * self.with_prior(g, &fewer, route).quantity(q);
            let differs = (r - with_all).abs() > 1e-12 * with_all.abs().max(1e-300);
            if !differs {
                continue;
            }
            let wrong = earlier
                .iter()
                .rev()
                .find(|v| v.line == line)
                .is_some_and(|v| v.ok == Some(false));
            if wrong {
                return Some(self.root_line(line, earlier));
            }
            if breaks.is_none() && !m.agrees(r) {
                breaks = Some(line);
            }
            if changed.is_none() {
                changed = Some(line);
            }
        }
        breaks.or(changed)
    }

    /// Whether a claimed value of `pq` enters the computation of `q`.
    pub(super) fn influences(&self, pq: Quantity, q: Quantity) -> bool {
        let g = self.exact;
        let reaches = |s: Sym, t: Sym| s == t || g.depends(t, s);
        match (pq, q) {
            (Quantity::Value(s), Quantity::Value(t)) => s != t && reaches(s, t),
            // The local partials along the paths are taken at the values of
            // `of`'s ancestors.
            (Quantity::Value(s), Quantity::Partial { of, .. }) => reaches(s, of),
            (Quantity::Partial { wrt: b, .. }, Quantity::Updated(p)) => reaches(Sym::Param(p), b),
            (Quantity::Value(_), Quantity::Updated(_)) => true,
            (Quantity::Value(_) | Quantity::Partial { .. }, Quantity::After(_)) => true,
            (Quantity::Partial { of: a, wrt: b }, Quantity::Partial { of, wrt }) => {
                reaches(a, of) && (reaches(wrt, b) || reaches(b, wrt))
            }
            (Quantity::Updated(_), Quantity::After(_)) => true,
            _ => false,
        }
    }
}
