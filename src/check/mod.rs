//! `chainrule check`: a student's claims about a network (read by
//! [`crate::parse::parse_answers`]) judged against the exact solution, with
//! the likely mistake behind each wrong one.
//!
//! - A **number** is right when it agrees with the exact value to the digits
//!   written: the exact value rounded to the last written place may differ
//!   from it by one unit, for rounding carried from earlier steps (only when
//!   two or more significant digits are written: `0.0005` for 0.00044 is
//!   wrong). An integer written without a point (`1`, `0`) is meant exactly.
//!   A [`Tolerance`] replaces this rule.
//! - A **formula** is right when it is the same function of the network's
//!   inputs, params, consts and targets as the quantity: both are evaluated
//!   at the network's values and at [`RANDOM_POINTS`] random points near
//!   them (seeded, so every run is the same), with the names of the formula
//!   (`out_o1`, `E_total`, …) computed by the forward pass at each point.
//! - A **wrong** line is recomputed under every known [`Mistake`]; the one
//!   that gives the student's number (to the digits written) or formula
//!   names the diagnosis. A number that follows from the student's own
//!   earlier claims is `carried_forward`.

mod claim;
mod graph;
mod mistake;
mod point;
mod report;
mod table;
mod words;

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

pub use claim::{Claim, Given, Precision, Quantity};
pub(crate) use mistake::mistaken_values;
pub use mistake::Mistake;
pub use report::{render_json, render_text};
pub use table::{mistake_values, mistake_words, MistakeValue};

use crate::diagnostic::Diagnostic;
use crate::eval::eval;
use crate::expr::{Expr, Func, Names, Sym};
use crate::model::Network;
use crate::notation::{NetNames, Notation};
use crate::number;
use crate::rng::SplitMix64;
use graph::{Graph, Variant};
use mistake::Candidate;
use point::{Point, Route};

/// How many random points a formula is compared at, besides the network's
/// own values.
pub const RANDOM_POINTS: usize = 16;

/// The seed of the random points.
const SEED: u64 = 0x5eed_c4a1_2b0e_7713;

/// A tolerance for numbers, instead of the written digits (`--tolerance`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// |given − exact| ≤ this (`1e-4`).
    Absolute(f64),
    /// |given − exact| ≤ this · |exact| (`0.1%` is 0.001).
    Relative(f64),
}

impl FromStr for Tolerance {
    type Err = String;

    fn from_str(s: &str) -> Result<Tolerance, String> {
        let s = s.trim();
        let (text, relative) = match s.strip_suffix('%') {
            Some(t) => (t.trim(), true),
            None => (s, false),
        };
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(if relative {
                Tolerance::Relative(x / 100.0)
            } else {
                Tolerance::Absolute(x)
            }),
            _ => Err(format!(
                "`{s}` is not a tolerance; write an absolute one (`1e-4`) or a relative one (`0.1%`)"
            )),
        }
    }
}

/// Options of the check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Compare numbers with this tolerance instead of their written digits.
    pub tolerance: Option<Tolerance>,
    /// The names used in messages.
    pub notation: Notation,
}

/// The verdict on one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The line of the claim.
    pub line: usize,
    /// The quantity, canonical (`dE_total/dw5`), in the tutorial's names.
    pub quantity: String,
    /// The quantity as written.
    pub written: String,
    /// The right-hand side as written.
    pub given: String,
    /// Whether it is right.
    pub ok: bool,
    /// The exact value of the quantity.
    pub expected: f64,
    /// The likely mistake, when one fits.
    pub diagnosis: Option<Mistake>,
    /// The line whose value this one was computed from, when that explains it.
    pub carried_from: Option<usize>,
    /// The verdict in words.
    pub message: String,
}

/// The verdicts on every claim of an answers file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// One verdict a claim, in file order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// The number of right claims.
    pub fn right(&self) -> usize {
        self.verdicts.iter().filter(|v| v.ok).count()
    }

    /// The number of wrong claims.
    pub fn wrong(&self) -> usize {
        self.verdicts.len() - self.right()
    }
}

/// Judges `claims` about `net`. Claims that make no sense for the network
/// (a partial the wrong way round, ∂w5/∂E_total) are located errors.
pub fn check(net: &Network, claims: &[Claim], opts: &Options) -> Result<Report, Vec<Diagnostic>> {
    let exact = Graph::new(net, Variant::default());
    validate(&exact, claims)?;
    let candidates = mistake::candidates(net);
    let graphs: Vec<Option<Graph<'_>>> = candidates
        .iter()
        .map(|c| c.variant.clone().map(|v| Graph::new(net, v)))
        .collect();
    let names = NetNames::new(net, opts.notation);
    let ctx = Checker {
        net,
        opts,
        shown: Shown(names),
        plain: NetNames::new(net, Notation::NetOut),
        exact: &exact,
        actual: Point::actual(&exact),
        candidates: &candidates,
        points: graphs
            .iter()
            .map(|g| g.as_ref().map(Point::actual))
            .collect(),
        graphs: &graphs,
        random_leaves: random_leaves(&exact, RANDOM_POINTS),
        exact_random: OnceCell::new(),
        candidate_random: graphs.iter().map(|_| OnceCell::new()).collect(),
    };
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(claims.len());
    let mut given_values = Vec::with_capacity(claims.len());
    for (i, claim) in claims.iter().enumerate() {
        let v = ctx.judge(claims, &given_values, &verdicts, i);
        given_values.push(ctx.given_value(&claim.given));
        verdicts.push(v);
    }
    Ok(Report { verdicts })
}

/// The exact values of `quantities` of `net`, computed as `check` computes
/// them (the correct computation at the network's own values): what a
/// student's claim about each quantity is judged against.
pub fn evaluate(net: &Network, quantities: &[Quantity]) -> Vec<f64> {
    let g = Graph::new(net, Variant::default());
    let p = Point::actual(&g);
    quantities.iter().map(|&q| p.quantity(q)).collect()
}

/// Refuses partials taken the wrong way round.
fn validate(g: &Graph<'_>, claims: &[Claim]) -> Result<(), Vec<Diagnostic>> {
    let names = NetNames::new(g.net, Notation::NetOut);
    let mut errors = Vec::new();
    for c in claims {
        if let Quantity::Partial { of, wrt } = c.quantity {
            if of != wrt && g.depends(wrt, of) {
                let (a, b) = (names.plain(of), names.plain(wrt));
                errors.push(
                    Diagnostic::new(
                        c.quantity_span,
                        format!("`{a}` does not depend on `{b}`: `{b}` is computed from `{a}`"),
                    )
                    .with_note(format!("did you mean `d{b}/d{a}`?")),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Names in the notation of the messages; they parse back as formulas.
struct Shown<'a>(NetNames<'a>);

impl Names for Shown<'_> {
    fn plain(&self, s: Sym) -> String {
        self.0.shown(s)
    }
    fn latex(&self, s: Sym) -> String {
        self.0.latex(s)
    }
    fn func(&self, f: Func) -> String {
        self.0.func(f)
    }
}

/// Compares a written number with values.
struct Matcher {
    given: f64,
    precision: Precision,
    tolerance: Option<Tolerance>,
}

impl Matcher {
    /// The exact value rounded to the written place.
    fn round(&self, v: f64) -> f64 {
        match self.precision {
            Precision::Places { places, .. } => {
                let f = 10f64.powi(places.clamp(-300, 300));
                let r = (v * f).round() / f;
                if r.is_finite() {
                    r
                } else {
                    v
                }
            }
            Precision::Exact => v,
        }
    }

    /// The allowed difference from the rounded value, and the unit of the
    /// last written place.
    fn slack(&self) -> (f64, f64) {
        match self.precision {
            Precision::Places {
                places,
                significant,
            } => {
                let unit = 10f64.powi(places.clamp(-300, 300));
                let unit = 1.0 / unit;
                (if significant >= 2 { unit } else { 0.0 }, unit)
            }
            Precision::Exact => (0.0, 1.0),
        }
    }

    /// Whether the written number agrees with the value `v`.
    fn agrees(&self, v: f64) -> bool {
        self.same(self.given, v, true)
    }

    /// Whether `a` and `b` cannot be told apart at the written precision
    /// (`a_written`: `a` is the written number itself).
    fn same(&self, a: f64, b: f64, a_written: bool) -> bool {
        if !a.is_finite() || !b.is_finite() {
            return false;
        }
        match self.tolerance {
            Some(Tolerance::Absolute(t)) => (a - b).abs() <= t + 1e-12 * b.abs(),
            Some(Tolerance::Relative(r)) => (a - b).abs() <= r * b.abs().max(a.abs()) + 1e-300,
            None => match self.precision {
                Precision::Exact => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                Precision::Places { .. } => {
                    let (allowance, unit) = self.slack();
                    let a = if a_written { a } else { self.round(a) };
                    (a - self.round(b)).abs() <= allowance + unit * 1e-6
                }
            },
        }
    }

    /// How far the written number is from `v`, in units of the written place.
    fn distance(&self, v: f64) -> f64 {
        let scale = match self.tolerance {
            Some(Tolerance::Absolute(t)) => t,
            Some(Tolerance::Relative(r)) => r * v.abs(),
            None => self.slack().1,
        };
        (self.given - v).abs() / scale.max(1e-300)
    }
}

/// A candidate that fits a wrong number, and how well.
struct Pick {
    /// 0: fits at the network's values and with the student's own earlier
    /// values; 1: at the network's values only; 2: with the student's only.
    group: u8,
    /// 0 for an update's own mistakes on an update, else 1.
    rank: u8,
    /// From the written number, in units of its last place.
    distance: f64,
    candidate: usize,
    value: f64,
}

impl Pick {
    fn better_than(&self, other: &Pick) -> bool {
        let (a, b) = ((self.group, self.rank), (other.group, other.rank));
        a < b || (a == b && self.distance < other.distance - 1e-6)
    }
}

/// What explains a wrong claim.
struct Found {
    mistake: Mistake,
    neuron: Option<u32>,
    /// The value the mistake gives (numbers only).
    value: Option<f64>,
    carried_from: Option<usize>,
}

struct Checker<'c, 'n> {
    net: &'n Network,
    opts: &'c Options,
    shown: Shown<'n>,
    plain: NetNames<'n>,
    exact: &'c Graph<'n>,
    actual: Point<'c, 'n>,
    candidates: &'c [Candidate],
    graphs: &'c [Option<Graph<'n>>],
    /// The candidates' points at the network's values (`None` for the
    /// negated result).
    points: Vec<Option<Point<'c, 'n>>>,
    random_leaves: Vec<HashMap<Sym, f64>>,
    exact_random: OnceCell<Vec<Point<'c, 'n>>>,
    candidate_random: Vec<OnceCell<Vec<Point<'c, 'n>>>>,
}

impl<'c, 'n> Checker<'c, 'n> {
    fn fmt(&self, v: f64) -> String {
        number::format(v, 9)
    }

    /// The value of a claim's right-hand side at the network's values.
    fn given_value(&self, g: &Given) -> f64 {
        match g {
            Given::Number { value, .. } => *value,
            Given::Formula(e) => self.eval_at(e, &self.actual),
        }
    }

    fn eval_at(&self, e: &Expr, p: &Point<'_, '_>) -> f64 {
        eval(e, &|s| p.value(s), &self.net.functions)
    }

    fn judge(
        &self,
        claims: &[Claim],
        given_values: &[f64],
        earlier: &[Verdict],
        i: usize,
    ) -> Verdict {
        let claim = &claims[i];
        let q = claim.quantity;
        let expected = self.actual.quantity(q);
        let mut v = Verdict {
            line: claim.line,
            quantity: q.name(&self.plain),
            written: claim.written.clone(),
            given: claim.given_text.clone(),
            ok: false,
            expected,
            diagnosis: None,
            carried_from: None,
            message: String::new(),
        };
        match &claim.given {
            Given::Number { value, precision } => {
                let m = Matcher {
                    given: *value,
                    precision: *precision,
                    tolerance: self.opts.tolerance,
                };
                v.ok = m.agrees(expected);
                if v.ok {
                    v.message = words::RIGHT.to_string();
                    return v;
                }
                let found = self.diagnose_number(claims, given_values, i, &m, expected);
                let mut parts = vec![words::expected(&self.fmt(expected))];
                if let Some(f) = &found {
                    parts.push(self.explain(f, earlier));
                    v.diagnosis = Some(f.mistake);
                    v.carried_from = f.carried_from;
                }
                v.message = parts.join("; ");
            }
            Given::Formula(e) => {
                v.ok = self.same_function(e, q, None);
                if v.ok {
                    v.message = words::RIGHT.to_string();
                    return v;
                }
                let mut parts = Vec::new();
                let value = self.fmt(expected);
                match self.expected_formula(q) {
                    Some(f) => parts.push(words::expected_formula(&f, &value)),
                    None => parts.push(words::expected(&value)),
                }
                let given = self.eval_at(e, &self.actual);
                if given.is_finite() {
                    parts.push(words::formula_gives(&self.fmt(given)));
                } else {
                    parts.push(words::FORMULA_NAN.to_string());
                }
                match self.diagnose_formula(e, q) {
                    Some(f) => {
                        parts.push(self.explain(&f, earlier));
                        v.diagnosis = Some(f.mistake);
                    }
                    None => parts.push(words::NOT_EQUAL.to_string()),
                }
                let unrelated = self.unrelated(e, q);
                if !unrelated.is_empty() {
                    parts.push(words::unrelated(&unrelated, &q.name(&self.shown)));
                }
                v.message = parts.join("; ");
            }
        }
        v
    }

    /// The derived formula of `q`, in the messages' names, when it is short.
    fn expected_formula(&self, q: Quantity) -> Option<String> {
        match q {
            Quantity::Partial { of, wrt } => self
                .exact
                .symbolic_partial(of, wrt, 4)
                .filter(|e| e.size() <= 80)
                .map(|e| e.plain(&self.shown)),
            _ => None,
        }
    }

    /// The words for what was found.
    fn explain(&self, f: &Found, earlier: &[Verdict]) -> String {
        let neuron = f.neuron.map(|n| self.net.neurons[n as usize].name.as_str());
        let mut s = words::mistake(f.mistake, neuron);
        if let Some(v) = f.value {
            s = words::gives(&s, &self.fmt(v));
        }
        match (f.mistake, f.carried_from) {
            (Mistake::CarriedForward, Some(line)) => {
                let wrong_there = earlier.iter().any(|v| v.line == line && !v.ok);
                words::carried(line, wrong_there)
            }
            (_, Some(line)) => words::with_carried(&s, line),
            _ => s,
        }
    }

    /// The student's earlier values (the latest claim of each quantity
    /// before claim `i`, other than its own), with their lines.
    fn earlier_values(
        &self,
        claims: &[Claim],
        given_values: &[f64],
        i: usize,
    ) -> HashMap<Quantity, (f64, usize)> {
        let own = claims[i].quantity;
        let mut map = HashMap::new();
        for (c, &v) in claims[..i].iter().zip(given_values) {
            if c.quantity != own && v.is_finite() {
                map.insert(c.quantity, (v, c.line));
            }
        }
        map
    }

    fn diagnose_number(
        &self,
        claims: &[Claim],
        given_values: &[f64],
        i: usize,
        m: &Matcher,
        expected: f64,
    ) -> Option<Found> {
        let q = claims[i].quantity;
        // One significant digit is too coarse to tell one mistake from another.
        let fine_enough = m.tolerance.is_some()
            || match m.precision {
                Precision::Exact => true,
                Precision::Places { significant, .. } => significant >= 2,
            };
        if !fine_enough {
            return None;
        }
        let distinct = |v: f64| v.is_finite() && !m.same(v, expected, false);
        let fits = |v: f64| m.agrees(v) && distinct(v);
        let prior = self.earlier_values(claims, given_values, i);
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
                    if let Some(line) = self.carried_line(self.exact, 1.0, &prior, route, q, m) {
                        return Some(Found {
                            mistake: Mistake::CarriedForward,
                            neuron: None,
                            value: None,
                            carried_from: Some(line),
                        });
                    }
                }
            }
        }

        // A known mistake, at the network's values or with the student's own
        // earlier values. Best: one that fits either way (or when there are
        // no earlier values), then one that fits only at the network's
        // values, then one that fits only with the student's values. For an
        // update, the update's own mistakes come first; then the closest.
        let mut best: Option<Pick> = None;
        for (k, c) in self.candidates.iter().enumerate() {
            if !c.applies_to(q) {
                continue;
            }
            let plain = match &self.points[k] {
                Some(p) => p.quantity(q),
                None => -expected,
            };
            let with_prior = carries.then(|| {
                let g = self.graphs[k].as_ref().unwrap_or(self.exact);
                let v = self.with_prior(g, &prior, Route::Backward).quantity(q);
                if self.graphs[k].is_some() {
                    v
                } else {
                    -v
                }
            });
            let fits_prior = with_prior.is_some_and(fits);
            let (group, value) = match (fits(plain), fits_prior, carries) {
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
        let Pick {
            group,
            candidate: k,
            value,
            ..
        } = best?;
        let carried = group == 2;
        let c = &self.candidates[k];
        let carried_from = if carried {
            let (g, sign) = match &self.graphs[k] {
                Some(g) => (g, 1.0),
                None => (self.exact, -1.0),
            };
            Some(self.carried_line(g, sign, &prior, Route::Backward, q, m)?)
        } else {
            None
        };
        Some(Found {
            mistake: c.mistake,
            neuron: c.neuron,
            value: Some(value),
            carried_from,
        })
    }

    fn with_prior<'g>(
        &self,
        g: &'g Graph<'n>,
        prior: &HashMap<Quantity, (f64, usize)>,
        route: Route,
    ) -> Point<'g, 'n> {
        let overrides = prior.iter().map(|(q, (v, _))| (*q, *v)).collect();
        Point::with_overrides(g, overrides, route)
    }

    /// The latest earlier claim without which the recomputed value (times
    /// `sign`) no longer fits the written number (or, failing that, changes
    /// at all).
    fn carried_line(
        &self,
        g: &Graph<'n>,
        sign: f64,
        prior: &HashMap<Quantity, (f64, usize)>,
        route: Route,
        q: Quantity,
        m: &Matcher,
    ) -> Option<usize> {
        let mut lines: Vec<(usize, Quantity)> = prior.iter().map(|(q, (_, l))| (*l, *q)).collect();
        lines.sort_by_key(|l| std::cmp::Reverse(l.0));
        let with_all = sign * self.with_prior(g, prior, route).quantity(q);
        let mut changed = None;
        for (line, pq) in lines {
            let mut fewer = prior.clone();
            fewer.remove(&pq);
            let r = sign * self.with_prior(g, &fewer, route).quantity(q);
            if !m.agrees(r) {
                return Some(line);
            }
            if changed.is_none() && (r - with_all).abs() > 1e-12 * with_all.abs().max(1e-300) {
                changed = Some(line);
            }
        }
        changed
    }

    /// The random points of graph `k` (`None`: the exact graph).
    fn random_points(&self, k: Option<usize>) -> &[Point<'c, 'n>] {
        let build = |g: &'c Graph<'n>| {
            self.random_leaves
                .iter()
                .map(|l| Point::at(g, l.clone()))
                .collect::<Vec<_>>()
        };
        match k.and_then(|k| self.graphs[k].as_ref().map(|g| (k, g))) {
            Some((k, g)) => self.candidate_random[k].get_or_init(|| build(g)),
            None => self.exact_random.get_or_init(|| build(self.exact)),
        }
    }

    /// Whether formula `e` is the same function as `q` computed by candidate
    /// `k` (`None`: the correct computation).
    fn same_function(&self, e: &Expr, q: Quantity, k: Option<usize>) -> bool {
        let negated = k.is_some_and(|k| self.graphs[k].is_none());
        let sign = if negated { -1.0 } else { 1.0 };
        // The reference at the network's values (`j` = None) or at random point j.
        let reference = |j: Option<usize>| -> f64 {
            let v = match (k, j) {
                (Some(k), None) if !negated => self.points[k].as_ref().map(|p| p.quantity(q)),
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

    fn diagnose_formula(&self, e: &Expr, q: Quantity) -> Option<Found> {
        self.candidates
            .iter()
            .enumerate()
            .filter(|(_, c)| c.applies_to(q))
            .find(|(k, _)| self.same_function(e, q, Some(*k)))
            .map(|(_, c)| Found {
                mistake: c.mistake,
                neuron: c.neuron,
                value: None,
                carried_from: None,
            })
    }

    /// The leaves `q` depends on: moving one of them at a random point
    /// changes its value.
    fn dependent_leaves(&self, q: Quantity) -> BTreeSet<Sym> {
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
                    (true, true) => (base - other).abs() > 1e-12 * base.abs().max(1e-9),
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
    fn unrelated(&self, e: &Expr, q: Quantity) -> Vec<String> {
        let mut syms = Vec::new();
        e.visit_syms(&mut |s| {
            if !syms.contains(&s) && self.exact.contains(s) {
                syms.push(s)
            }
        });
        if syms.is_empty() {
            return Vec::new();
        }
        let dep = self.dependent_leaves(q);
        syms.into_iter()
            .filter(|&s| self.exact.leaves_of(s).iter().any(|l| !dep.contains(l)))
            .map(|s| self.shown.plain(s))
            .collect()
    }
}

/// Equal up to floating-point rounding.
fn close(a: f64, b: f64) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-15
}

/// `count` sets of leaf values near the network's: each leaf moved by up
/// to a quarter of its size plus 0.05, from a fixed seed. The targets of a
/// softmax layer keep their sum (a one-hot target sums to 1, and
/// ∂E_total/∂net_k = out_k − target_k holds only then).
fn random_leaves(g: &Graph<'_>, count: usize) -> Vec<HashMap<Sym, f64>> {
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
