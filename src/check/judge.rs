//! One claim judged: its right-hand side read, the verdict and its words.

use super::*;

impl<'c, 'n> Checker<'c, 'n> {
    /// A claim's right-hand side with the partials written in its formulas
    /// replaced by their derived expressions; why not, when it cannot be
    /// judged (a partial the wrong way round, one with too many paths).
    pub(super) fn resolve(&self, claim: &Claim) -> Result<Given, String> {
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

    pub(super) fn refused(&self, claim: &Claim, why: &str) -> Verdict {
        let mut v = Verdict::on(claim, claim.quantity.name(&self.plain), f64::NAN);
        v.ok = None;
        v.message = words::unreadable(
            claim.quantity_span.start + 1,
            why,
            "write the partial of the later quantity by the earlier one",
        );
        v
    }

    /// The value of a claim's right-hand side at the network's values.
    pub(super) fn given_value(&self, g: &Given) -> f64 {
        match g {
            Given::Number { value, .. } | Given::Arithmetic { value, .. } => *value,
            Given::Formula(e) => self.eval_at(e, &self.actual),
        }
    }

    pub(super) fn eval_at(&self, e: &Expr, p: &Point<'_, '_>) -> f64 {
        eval(e, &|s| p.value(s), &self.net.functions)
    }

    /// The matcher of a number or of arithmetic with numbers.
    pub(super) fn matcher(&self, g: &Given) -> Option<Matcher> {
        matcher_of(g, self.opts.tolerance)
    }

    pub(super) fn judge(
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
        let mut v = Verdict::on(claim, q.name(&self.plain), expected);
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
    pub(super) fn right_message(
        &self,
        q: Quantity,
        m: &Matcher,
        expected: f64,
        written: &str,
    ) -> String {
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
    pub(super) fn not_updated(&self, q: Quantity, m: &Matcher, expected: f64) -> Option<String> {
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
    pub(super) fn expected_formula(&self, q: Quantity) -> Option<String> {
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
    pub(super) fn explain(&self, f: &Found, earlier: &[Verdict]) -> String {
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
    pub(super) fn earlier_values(
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
    pub(super) fn root_line(&self, mut line: usize, earlier: &[Verdict]) -> usize {
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
}

/// A link of the chain that does not follow: the first numeric link that
/// agrees with the exact value while the claim does not, or whose value
/// the next one does not agree with.
pub(super) fn arithmetic_slip(
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
pub(super) fn not_updated_words(
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
