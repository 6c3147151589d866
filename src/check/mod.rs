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
mod diagnose;
mod formula;
mod graph;
mod judge;
mod matcher;
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
use judge::{arithmetic_slip, not_updated_words};
use matcher::{close, matcher_of};
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

impl Verdict {
    /// A verdict on `claim` (whose quantity is named `quantity`) expecting
    /// `expected`, not yet judged: wrong, with no diagnosis and no words.
    pub(crate) fn on(claim: &Claim, quantity: String, expected: f64) -> Verdict {
        Verdict {
            line: claim.line,
            quantity,
            written: claim.written.clone(),
            given: claim.given_text.clone(),
            ok: Some(false),
            expected,
            diagnosis: None,
            carried_from: None,
            message: String::new(),
            sample: None,
        }
    }
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
    pub(super) fn fmt(&self, v: f64) -> String {
        number::format(v, 9)
    }

    pub(super) fn graph(&self, k: usize) -> Option<&'c Graph<'n>> {
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

    pub(super) fn point(&self, k: usize) -> Option<&Point<'c, 'n>> {
        self.points[k]
            .get_or_init(|| self.graph(k).map(Point::actual))
            .as_ref()
    }

    /// Whether candidate `k` is worth trying on a claim about `q`.
    pub(super) fn relevant(&self, k: usize, q: Quantity) -> bool {
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
}
