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
//!   earlier claims is `carried_forward`, and names the line whose value
//!   is actually wrong.
//! - A **chain** (`q = 0.7414 * 0.1868 * 0.5933 = 0.0822`) claims its last
//!   value; a link that does not follow from the one before is `arithmetic`.
//!   Arithmetic with numbers only is a number the student computed: it is
//!   judged as one, within the rounding of the numbers written in it.
//! - An **updated** param written as it was (`b1+ = 0.35`) is `not_updated`,
//!   even when the update is below the digits written.
//! - A line that cannot be read has `ok: None`; every other line is judged.
//! - With a `data` block, claims under a `Sample K` heading are judged
//!   against that sample; `E_total`, `dE_total/dp`, `p+` and `E_total+`
//!   outside one against the combined quantities of the batch.

mod batch;
mod graph;
mod mistake;
mod point;
mod report;
mod table;
mod words;

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

pub use crate::model::claim::{
    Answers, Claim, Given, Link, Precision, Quantity, StateKind, Unreadable, PARTIAL_BASE,
};
pub(crate) use graph::softmax_expr;
pub(crate) use mistake::mistaken_values;
pub use mistake::Mistake;
pub use report::{render_json, render_text};
pub use table::{mistake_values, mistake_words, MistakeValue};

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
    /// The quantity, canonical (`dE_total/dw5`), in the tutorial's names
    /// (empty for a line that cannot be read).
    pub quantity: String,
    /// The quantity as written.
    pub written: String,
    /// The right-hand side as written.
    pub given: String,
    /// Whether it is right; `None` for a line that cannot be read.
    pub ok: Option<bool>,
    /// The exact value of the quantity (NaN when unknown).
    pub expected: f64,
    /// The likely mistake, when one fits.
    pub diagnosis: Option<Mistake>,
    /// The line whose value this one was computed from, when that explains it.
    pub carried_from: Option<usize>,
    /// The verdict in words.
    pub message: String,
    /// With a `data` block judged as a batch: the sample (from 1) the
    /// claim was judged against; `None` for a combined quantity.
    pub sample: Option<usize>,
}

/// The verdicts on every claim of an answers file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// One verdict a claim (and one a line that cannot be read), in file order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// The number of right claims.
    pub fn right(&self) -> usize {
        self.verdicts.iter().filter(|v| v.ok == Some(true)).count()
    }

    /// The number of wrong claims, not counting those right for the
    /// student's own earlier value.
    pub fn wrong(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.ok == Some(false) && v.diagnosis != Some(Mistake::CarriedForward))
            .count()
    }

    /// The number of claims right for the student's own earlier value.
    pub fn carried(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| v.ok == Some(false) && v.diagnosis == Some(Mistake::CarriedForward))
            .count()
    }

    /// The number of lines that could not be read.
    pub fn unreadable(&self) -> usize {
        self.verdicts.iter().filter(|v| v.ok.is_none()).count()
    }

    /// Whether every claim is right and every line was read.
    pub fn all_right(&self) -> bool {
        self.verdicts.iter().all(|v| v.ok == Some(true))
    }
}

/// The network of sample `k` (from 0) of a `data` block: its inputs and
/// targets set, no `data` block.
pub fn sample_network(net: &Network, k: usize) -> Network {
    let mut one = net.clone();
    if let Some(data) = one.data.take() {
        if let Some((xs, ts)) = data.rows.get(k) {
            for (&i, v) in data.inputs.iter().zip(xs) {
                one.inputs[i as usize].value = *v;
            }
            for (&o, v) in data.outputs.iter().zip(ts) {
                one.targets[o as usize] = Some(*v);
            }
        }
    }
    one
}

/// Judges the claims of `answers` about `net`. A line that cannot be read
/// (and a partial taken the wrong way round, ∂w5/∂E_total) has a verdict
/// with `ok: None`. With a `data` block, claims are judged as the module
/// documentation says.
pub fn check(net: &Network, answers: &Answers, opts: &Options) -> Report {
    let mut verdicts: Vec<(usize, usize, Verdict)> = Vec::new();
    for (i, u) in answers.unreadable.iter().enumerate() {
        verdicts.push((
            u.line,
            usize::MAX - answers.unreadable.len() + i,
            unreadable_verdict(u),
        ));
    }
    let claims: Vec<&Claim> = answers.claims.iter().collect();
    let judged = match &net.data {
        Some(data) if !data.rows.is_empty() => batch::judge(net, &claims, opts),
        _ => judge_claims(net, &claims, opts),
    };
    for (i, v) in judged.into_iter().enumerate() {
        verdicts.push((v.line, i, v));
    }
    verdicts.sort_by_key(|(line, order, _)| (*line, *order));
    Report {
        verdicts: verdicts.into_iter().map(|(_, _, v)| v).collect(),
    }
}

fn unreadable_verdict(u: &Unreadable) -> Verdict {
    Verdict {
        line: u.line,
        quantity: String::new(),
        written: String::new(),
        given: u.text.clone(),
        ok: None,
        expected: f64::NAN,
        diagnosis: None,
        carried_from: None,
        message: words::unreadable(u.col, &u.why, &u.how),
        sample: None,
    }
}

/// Judges `claims` about `net` (no `data` block), in order; one verdict a
/// claim.
pub(crate) fn judge_claims(net: &Network, claims: &[&Claim], opts: &Options) -> Vec<Verdict> {
    if claims.is_empty() {
        return Vec::new();
    }
    let exact = Graph::new(net, Variant::default());
    let candidates = mistake::candidates(net);
    let graphs: Vec<OnceCell<Option<Graph<'_>>>> =
        candidates.iter().map(|_| OnceCell::new()).collect();
    let names = NetNames::new(net, opts.notation);
    let ctx = Checker {
        net,
        opts,
        shown: Shown(names),
        plain: NetNames::new(net, Notation::NetOut),
        exact: &exact,
        actual: Point::actual(&exact),
        candidates: &candidates,
        points: graphs.iter().map(|_| OnceCell::new()).collect(),
        graphs: &graphs,
        random_leaves: OnceCell::new(),
        exact_random: OnceCell::new(),
        candidate_random: graphs.iter().map(|_| OnceCell::new()).collect(),
    };
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(claims.len());
    let mut given_values = Vec::with_capacity(claims.len());
    for (i, claim) in claims.iter().enumerate() {
        let given = ctx.resolve(claim);
        let v = match &given {
            Ok(g) => ctx.judge(claims, &given_values, &verdicts, i, g),
            Err(why) => ctx.refused(claim, why),
        };
        given_values.push(match &given {
            Ok(g) => ctx.given_value(g),
            Err(_) => f64::NAN,
        });
        verdicts.push(v);
    }
    verdicts
}

/// The exact values of `quantities` of `net`, computed as `check` computes
/// them (the correct computation at the network's own values): what a
/// student's claim about each quantity is judged against.
pub fn evaluate(net: &Network, quantities: &[Quantity]) -> Vec<f64> {
    let g = Graph::new(net, Variant::default());
    let p = Point::actual(&g);
    quantities.iter().map(|&q| p.quantity(q)).collect()
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
    /// What the mistake copied or computed instead (`out_h2`), in words.
    label: Option<String>,
    /// The value the mistake gives (numbers only).
    value: Option<f64>,
    carried_from: Option<usize>,
    /// The whole message of the diagnosis, when it is not built from the
    /// parts above.
    message: Option<String>,
}

impl Found {
    fn of(mistake: Mistake) -> Found {
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

struct Checker<'c, 'n> {
    net: &'n Network,
    opts: &'c Options,
    shown: Shown<'n>,
    plain: NetNames<'n>,
    exact: &'c Graph<'n>,
    actual: Point<'c, 'n>,
    candidates: &'c [Candidate],
    /// The candidates' graphs, built when first needed (`None` for the
    /// negated result).
    graphs: &'c [OnceCell<Option<Graph<'n>>>],
    /// The candidates' points at the network's values.
    points: Vec<OnceCell<Option<Point<'c, 'n>>>>,
    random_leaves: OnceCell<Vec<HashMap<Sym, f64>>>,
    exact_random: OnceCell<Vec<Point<'c, 'n>>>,
    candidate_random: Vec<OnceCell<Vec<Point<'c, 'n>>>>,
}

/// Above this many inputs, params, consts and targets, a wrong formula's
/// names are not tested one by one for whether the quantity depends on them.
const MANY_LEAVES: usize = 64;

/// Above this many layers, a mistake made in one layer only is tried on
/// the claims about that layer and its neighbours (and the last layer).
const MANY_LAYERS: usize = 8;

impl<'c, 'n> Checker<'c, 'n> {
    fn fmt(&self, v: f64) -> String {
        number::format(v, 9)
    }

    fn graph(&self, k: usize) -> Option<&'c Graph<'n>> {
        let graphs: &'c [OnceCell<Option<Graph<'n>>>] = self.graphs;
        graphs[k]
            .get_or_init(|| {
                self.candidates[k]
                    .variant
                    .clone()
                    .map(|v| self.exact.with_variant(v))
            })
            .as_ref()
    }

    fn point(&self, k: usize) -> Option<&Point<'c, 'n>> {
        self.points[k]
            .get_or_init(|| self.graph(k).map(Point::actual))
            .as_ref()
    }

    /// Whether candidate `k` is worth trying on a claim about `q`.
    fn relevant(&self, k: usize, q: Quantity) -> bool {
        let c = &self.candidates[k];
        if !c.applies_to(q) {
            return false;
        }
        let layers = self.net.layers.len();
        let Some(l) = c.layer else {
            return true;
        };
        if layers <= MANY_LAYERS {
            return true;
        }
        let near = |x: usize| l + 1 >= x && l <= x + 1;
        if near(layers - 1) {
            return true;
        }
        let mut hit = false;
        let mut visit = |s: Sym| {
            let layer = match s {
                Sym::Net(n) | Sym::Out(n) => Some(self.exact.layer(n) as usize),
                Sym::Param(p) => self.exact.first_layer(p).map(|x| x as usize),
                _ => None,
            };
            if layer.is_some_and(near) {
                hit = true;
            }
        };
        match q {
            Quantity::Value(s) | Quantity::After(s) => visit(s),
            Quantity::Partial { of, wrt } => {
                visit(of);
                visit(wrt);
            }
            Quantity::Updated(p) | Quantity::State(_, p, _) => visit(Sym::Param(p)),
        }
        hit
    }

    /// A claim's right-hand side with the partials written in its formulas
    /// replaced by their derived expressions; why not, when it cannot be
    /// judged (a partial the wrong way round, one with too many paths).
    fn resolve(&self, claim: &Claim) -> Result<Given, String> {
        if let Quantity::Partial { of, wrt } = claim.quantity {
            if of != wrt && self.exact.depends(wrt, of) {
                let (a, b) = (self.plain.plain(of), self.plain.plain(wrt));
                return Err(format!(
                    "`{a}` does not depend on `{b}`: `{b}` is computed from `{a}`; did you mean `d{b}/d{a}`?"
                ));
            }
        }
        let mut exprs = Vec::with_capacity(claim.partials.len());
        for q in &claim.partials {
            let e = match *q {
                Quantity::Partial { of, wrt } if of == wrt => Some(Expr::Num(1.0)),
                Quantity::Partial { of, wrt } if !self.exact.depends(of, wrt) => {
                    Some(Expr::Num(0.0))
                }
                Quantity::Partial { of, wrt } => self.exact.symbolic_partial(of, wrt, 64),
                _ => None,
            };
            match e {
                Some(e) => exprs.push(e),
                None => {
                    return Err(format!(
                        "`{}` has too many paths to expand in a formula; give its number",
                        q.name(&self.plain)
                    ))
                }
            }
        }
        Ok(match &claim.given {
            Given::Formula(e) if !exprs.is_empty() => Given::Formula(e.substitute(&mut |s| {
                match s {
                    Sym::Const(c) if c >= PARTIAL_BASE => exprs
                        .get((c - PARTIAL_BASE) as usize)
                        .cloned()
                        .unwrap_or(Expr::Num(f64::NAN)),
                    s => Expr::Var(s),
                }
            })),
            g => g.clone(),
        })
    }

    fn refused(&self, claim: &Claim, why: &str) -> Verdict {
        Verdict {
            line: claim.line,
            quantity: claim.quantity.name(&self.plain),
            written: claim.written.clone(),
            given: claim.given_text.clone(),
            ok: None,
            expected: f64::NAN,
            diagnosis: None,
            carried_from: None,
            message: words::unreadable(
                claim.quantity_span.start + 1,
                why,
                "write the partial of the later quantity by the earlier one",
            ),
            sample: None,
        }
    }

    /// The value of a claim's right-hand side at the network's values.
    fn given_value(&self, g: &Given) -> f64 {
        match g {
            Given::Number { value, .. } | Given::Arithmetic { value, .. } => *value,
            Given::Formula(e) => self.eval_at(e, &self.actual),
        }
    }

    fn eval_at(&self, e: &Expr, p: &Point<'_, '_>) -> f64 {
        eval(e, &|s| p.value(s), &self.net.functions)
    }

    /// The matcher of a number or of arithmetic with numbers.
    fn matcher(&self, g: &Given) -> Option<Matcher> {
        matcher_of(g, self.opts.tolerance)
    }

    fn judge(
        &self,
        claims: &[&Claim],
        given_values: &[f64],
        earlier: &[Verdict],
        i: usize,
        given: &Given,
    ) -> Verdict {
        let claim = claims[i];
        let q = claim.quantity;
        let expected = self.actual.quantity(q);
        let mut v = Verdict {
            line: claim.line,
            quantity: q.name(&self.plain),
            written: claim.written.clone(),
            given: claim.given_text.clone(),
            ok: Some(false),
            expected,
            diagnosis: None,
            carried_from: None,
            message: String::new(),
            sample: None,
        };
        let note = claim.note.clone();
        let finish = |mut v: Verdict| {
            if let Some(n) = &note {
                v.message = format!("{}; {n}", v.message);
            }
            v
        };
        match given {
            Given::Number { .. } | Given::Arithmetic { .. } => {
                let m = self.matcher(given).expect("a number");
                if let Some(message) = self.not_updated(q, &m, expected) {
                    v.diagnosis = Some(Mistake::NotUpdated);
                    v.message = format!("{}; {message}", words::expected(&self.fmt(expected)));
                    return finish(v);
                }
                if m.agrees(expected) {
                    v.ok = Some(true);
                    v.message = self.right_message(q, &m, expected, &claim.given_text);
                    return finish(v);
                }
                let found = self.diagnose_number(claims, given_values, earlier, i, &m, expected);
                let mut parts = vec![words::expected(&self.fmt(expected))];
                if let Some(f) = &found {
                    parts.push(self.explain(f, earlier));
                    v.diagnosis = Some(f.mistake);
                    v.carried_from = f.carried_from;
                }
                v.message = parts.join("; ");
            }
            Given::Formula(e) => {
                if self.same_function(e, q, None) {
                    v.ok = Some(true);
                    v.message = words::RIGHT.to_string();
                    return finish(v);
                }
                let mut parts = Vec::new();
                let value = self.fmt(expected);
                match self.expected_formula(q) {
                    Some(f) => parts.push(words::expected_formula(&f, &value)),
                    None => parts.push(words::expected(&value)),
                }
                let gv = self.eval_at(e, &self.actual);
                if gv.is_finite() {
                    parts.push(words::formula_gives(&self.fmt(gv)));
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
        finish(v)
    }

    /// `right`, or `right; give more digits` when a known mistake gives a
    /// number that rounds to the same digits.
    fn right_message(&self, q: Quantity, m: &Matcher, expected: f64, written: &str) -> String {
        let coarse = m.tolerance.is_none()
            && matches!(m.precision, Precision::Places { significant, .. } if significant <= 2);
        if coarse {
            for k in 0..self.candidates.len() {
                if !self.relevant(k, q) {
                    continue;
                }
                let c = &self.candidates[k];
                let value = match self.point(k) {
                    Some(p) => p.quantity(q),
                    None => -expected,
                };
                if value.is_finite()
                    && (value - expected).abs() > 1e-12 * expected.abs().max(1e-300)
                    && m.agrees(value)
                {
                    return words::more_digits(c.mistake.code(), &self.fmt(value), written);
                }
            }
        }
        words::RIGHT.to_string()
    }

    /// For a param after the update (or a value after it) written as it
    /// was before: the words of `not_updated`.
    fn not_updated(&self, q: Quantity, m: &Matcher, expected: f64) -> Option<String> {
        let (before, name) = match q {
            Quantity::Updated(p) => (
                self.actual.value(Sym::Param(p)),
                self.plain.plain(Sym::Param(p)),
            ),
            Quantity::After(s) => (self.actual.value(s), self.plain.plain(s)),
            _ => return None,
        };
        not_updated_words(m, &name, before, expected, &|x| self.fmt(x))
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
        if let Some(m) = &f.message {
            return m.clone();
        }
        let neuron = f.neuron.map(|n| self.net.neurons[n as usize].name.as_str());
        let neuron = f.label.as_deref().or(neuron);
        let mut s = match (f.mistake, f.neuron) {
            (Mistake::SingleOutputSum, Some(k)) if !self.net.is_output(k) => {
                words::single_next(&self.net.neurons[k as usize].name)
            }
            _ => words::mistake(f.mistake, neuron),
        };
        if let Some(v) = f.value {
            s = words::gives(&s, &self.fmt(v));
        }
        match (f.mistake, f.carried_from) {
            (Mistake::CarriedForward, Some(line)) => {
                let wrong_there = earlier
                    .iter()
                    .any(|v| v.line == line && v.ok == Some(false));
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
        claims: &[&Claim],
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

    /// The line an error carried forward from `line` started on: follows
    /// lines that were themselves carried forward.
    fn root_line(&self, mut line: usize, earlier: &[Verdict]) -> usize {
        for _ in 0..earlier.len() {
            match earlier.iter().rev().find(|v| v.line == line) {
                Some(v) if v.diagnosis == Some(Mistake::CarriedForward) => match v.carried_from {
                    Some(l) if l != line => line = l,
                    _ => break,
                },
                _ => break,
            }
        }
        line
    }

    fn diagnose_number(
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
    fn other_values(&self, q: Quantity) -> Vec<(Mistake, Option<String>, f64)> {
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

    fn with_prior<'g>(
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
    fn carried_line(
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
    fn influences(&self, pq: Quantity, q: Quantity) -> bool {
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

    fn random_leaves(&self) -> &[HashMap<Sym, f64>] {
        self.random_leaves
            .get_or_init(|| random_leaves(self.exact, RANDOM_POINTS))
    }

    /// The random points of graph `k` (`None`: the exact graph).
    fn random_points(&self, k: Option<usize>) -> &[Point<'c, 'n>] {
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
    fn same_function(&self, e: &Expr, q: Quantity, k: Option<usize>) -> bool {
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

    fn diagnose_formula(&self, e: &Expr, q: Quantity) -> Option<Found> {
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
    fn unrelated(&self, e: &Expr, q: Quantity) -> Vec<String> {
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

/// The matcher of a number or of arithmetic with numbers.
fn matcher_of(g: &Given, tolerance: Option<Tolerance>) -> Option<Matcher> {
    match *g {
        Given::Number { value, precision } => Some(Matcher {
            given: value,
            precision,
            tolerance,
        }),
        Given::Arithmetic { value, err } => {
            let own = err + 1e-9 * value.abs();
            let t = match tolerance {
                Some(Tolerance::Absolute(t)) => Tolerance::Absolute(t.max(own)),
                Some(Tolerance::Relative(r)) => Tolerance::Absolute((r * value.abs()).max(own)),
                None => Tolerance::Absolute(own),
            };
            Some(Matcher {
                given: value,
                precision: Precision::Exact,
                tolerance: Some(t),
            })
        }
        Given::Formula(_) => None,
    }
}

/// A link of the chain that does not follow: the first numeric link that
/// agrees with the exact value while the claim does not, or whose value
/// the next one does not agree with.
fn arithmetic_slip(
    claim: &Claim,
    m: &Matcher,
    expected: f64,
    tolerance: Option<Tolerance>,
) -> Option<Found> {
    let links: Vec<(&Link, Matcher)> = claim
        .links
        .iter()
        .filter_map(|l| matcher_of(&l.given, tolerance).map(|m| (l, m)))
        .collect();
    for (j, (link, lm)) in links.iter().enumerate() {
        let (next_text, next_agrees) = match links.get(j + 1) {
            Some((n, nm)) => (n.text.clone(), nm.agrees(lm.given) || lm.agrees(nm.given)),
            None => (
                claim.given_text.clone(),
                m.agrees(lm.given) || lm.agrees(m.given),
            ),
        };
        if !next_agrees || lm.agrees(expected) {
            let mut f = Found::of(Mistake::Arithmetic);
            f.message = Some(words::arithmetic(
                &link.text,
                &number::format(lm.given, 9),
                &next_text,
            ));
            f.value = Some(lm.given);
            return Some(f);
        }
    }
    None
}

/// The words of `not_updated` when the written number agrees with the value
/// `before` the update and the update moves it (to `after`).
fn not_updated_words(
    m: &Matcher,
    name: &str,
    before: f64,
    after: f64,
    fmt: &dyn Fn(f64) -> String,
) -> Option<String> {
    if !before.is_finite() || !after.is_finite() || (before - after).abs() <= 1e-15 * before.abs() {
        return None;
    }
    if !m.agrees(before) {
        return None;
    }
    // The decimals that tell `after` from `before`.
    let written = match m.precision {
        Precision::Places { places, .. } => places.max(0),
        Precision::Exact => 0,
    };
    let round = |x: f64, p: i32| {
        let f = 10f64.powi(p);
        (x * f).round() / f
    };
    let mut places = written;
    while places < 17 && round(after, places) == round(before, places) {
        places += 1;
    }
    let shown = format!("{:.*}", places as usize, after);
    Some(words::not_updated(
        name,
        &fmt(before),
        &fmt(after - before),
        &fmt(after),
        places as usize,
        &shown,
    ))
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
