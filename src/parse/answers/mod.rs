//! Answers files of `chainrule check` → [`Answers`]: the claims of a hand
//! calculation as students write it, a line at a time.
//!
//! A line is read the way a teacher reads it: text around a claim (labels
//! in any language, bullets, numbering, `;`, `(rounded)`, `✓`, comments)
//! is left aside; LaTeX (`\frac{\partial E_{total}}{\partial w_5}`,
//! `\cdot`, `w_5^{+}`), Unicode (`−`, `×10⁻⁴`, `½`, `w₅`), decimal commas
//! and the many names of one quantity (`Etotal`, `w5new`, `delta o1`,
//! `σ'(net_o1)`) are understood. A chain `q = a = b = value` claims its
//! last value; the earlier right-hand sides are its links. A right-hand side
//! of numbers only is arithmetic the student did, not a formula. A line that
//! looks like a claim but cannot be read is reported on its own, and every
//! other line is still read.

use super::formula::{eval_numbers, number_end, parse_lenient_formula, quantity_names, Lexicon};
use super::lower::closest;
use pest::iterators::Pair;

use super::formula::resolve_quantity;
use super::{parse_rule, Rule};

mod quantity;
#[cfg(test)]
mod tests;
mod text;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::expr::Sym;
use crate::model::claim::{Answers, Claim, Given, Link, Precision, Quantity, Unreadable};
use crate::model::Network;
pub use quantity::parse_quantity;
pub(crate) use quantity::state_quantity;
use text::*;

/// How to write a claim, for unreadable lines.
/// What the help line of an unknown quantity lists.
const QUANTITY_HELP: &str = "quantities are values (`net_h1`, `out_o1`, `E_total`), partials \
(`dE_total/dw5`, `dout_o1/dnet_o1`), updated params (`w5+`) and values after the update \
(`E_total+`)";
const HOW_QUANTITY: &str = "name a quantity before `=`: `net_h1`, `out_o1`, `E_total`, \
`dE_total/dw5`, `δ_o1`, `w5+`, `E_total+`";
const HOW_VALUE: &str = "after `=`, write a number (`0.0822`), arithmetic with numbers \
(`0.7414 * 0.1868 * 0.5933`) or a formula of named quantities (`delta_o1 * out_h1`)";

/// Reads the claims of an answers file about `net`. `file` is the name used
/// in messages. Only a text that is not text (a NUL byte) is refused; a
/// line that cannot be read is in [`Answers::unreadable`].
pub fn parse_answers(net: &Network, file: &str, src: &str) -> Result<Answers, Diagnostics> {
    if let Some(i) = src.find('\0') {
        return Err(Diagnostics::new(
            file,
            src,
            vec![Diagnostic::new(
                Span::new(i, i + 1),
                "NUL byte: the answers file is not text",
            )],
        ));
    }
    let lex = Lexicon::new(net);
    let mut answers = Answers::default();
    // A byte-order mark is not part of the first line.
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut sample = None;
    for (index, raw) in src.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let reader = LineReader {
            lex: &lex,
            line: index + 1,
        };
        let before = answers.claims.len();
        reader.read(line, &mut answers);
        let has_claims = answers.claims.len() > before;
        if let Some(s) = heading(line, has_claims) {
            sample = s;
            for c in &mut answers.claims[before..] {
                c.sample = sample;
            }
        } else {
            for c in &mut answers.claims[before..] {
                c.sample = sample;
            }
        }
    }
    Ok(answers)
}

/// A section heading of several samples: `Some(Some(k))` for `Sample k`
/// (and `샘플 k`, `Example k`, `Pattern k`), `Some(None)` for a heading of
/// the whole batch (`Combined`, `batch`, `mean`, `전체`, `평균`).
fn heading(line: &str, has_claims: bool) -> Option<Option<usize>> {
    let t = line
        .trim_start_matches(|c: char| c.is_whitespace() || "#-*•>".contains(c))
        .to_lowercase();
    for word in ["sample", "샘플", "example", "pattern", "표본", "데이터"] {
        if let Some(rest) = t.strip_prefix(word) {
            let rest = rest.trim_start_matches([' ', '#', '.']);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(k) = digits.parse::<usize>() {
                if k >= 1 {
                    return Some(Some(k));
                }
            }
        }
    }
    if has_claims {
        return None;
    }
    let batch = [
        "combined",
        "batch",
        "all samples",
        "all four",
        "average",
        "mean",
        "전체",
        "평균",
        "배치",
    ];
    batch.iter().any(|w| t.contains(w)).then_some(None)
}

/// A character of a line and its column (in characters, from 0).
type Text = Vec<(char, usize)>;

fn to_string(t: &[(char, usize)]) -> String {
    t.iter().map(|(c, _)| *c).collect()
}

fn trim(t: &[(char, usize)]) -> &[(char, usize)] {
    let start = t
        .iter()
        .position(|(c, _)| !c.is_whitespace())
        .unwrap_or(t.len());
    let end = t
        .iter()
        .rposition(|(c, _)| !c.is_whitespace())
        .map_or(start, |e| e + 1);
    &t[start..end.max(start)]
}

struct LineReader<'a, 'n> {
    lex: &'a Lexicon<'n>,
    line: usize,
}

/// What the left-hand side of a claim is.
enum Lhs {
    Quantity(Quantity, Option<String>),
    /// A setting of the exercise (`η = 0.5`, `epoch = 1`): given, not
    /// claimed.
    Setting,
}

impl LineReader<'_, '_> {
    fn read(&self, line: &str, out: &mut Answers) {
        let text: Text = line.chars().enumerate().map(|(i, c)| (c, i)).collect();
        let trimmed = trim(&text);
        if trimmed.first().is_some_and(|(c, _)| *c == '#') {
            return;
        }
        let text = strip_comment(&text);
        // Math of a notebook: every `$…$` (or `$$…$$`) is a claim of its own.
        if text.iter().any(|(c, _)| *c == '$') {
            let mut inside = false;
            let mut seg: Text = Vec::new();
            let mut k = 0;
            while k < text.len() {
                let (c, i) = text[k];
                k += 1;
                if c == '$' {
                    if text.get(k).is_some_and(|p| p.0 == '$') {
                        k += 1;
                    }
                    if inside && !trim(&seg).is_empty() {
                        self.segment(&seg, out);
                    }
                    seg.clear();
                    inside = !inside;
                } else if inside {
                    seg.push((c, i));
                }
            }
            return;
        }
        self.segment(&text, out);
    }

    /// One claim (or none): the whole line, or one `$…$`.
    fn segment(&self, text: &[(char, usize)], out: &mut Answers) {
        let norm = normalize(text);
        let norm = trim(&norm).to_vec();
        if norm.is_empty() {
            return;
        }
        // Several claims on one line: `i1 = 0.05, i2 = 0.10`, `…; …`,
        // `… and …`.
        let pieces = split_claims(&norm);
        if pieces.len() > 1 {
            for piece in pieces {
                self.claim(&piece, text, out);
            }
            return;
        }
        self.claim(&norm, text, out);
    }

    /// One claim of a normalized line (`text` is the line, for messages).
    fn claim(&self, norm: &[(char, usize)], text: &[(char, usize)], out: &mut Answers) {
        let norm = trim(norm).to_vec();
        // Split at `=` outside parentheses; `:=` assigns.
        let mut parts: Vec<Text> = vec![Vec::new()];
        let mut depth = 0i32;
        let mut assign = false;
        for (k, &(c, i)) in norm.iter().enumerate() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if c == '=' && depth <= 0 {
                if parts.len() == 1 && k > 0 && norm[k - 1].0 == ':' {
                    parts[0].pop();
                    assign = true;
                }
                parts.push(Vec::new());
                continue;
            }
            parts.last_mut().expect("one part").push((c, i));
        }
        if parts.len() < 2 {
            self.without_equals(&norm, out);
            return;
        }
        let lhs = trim(&parts[0]).to_vec();
        let mut rhs: Vec<Text> = parts[1..].iter().map(|p| trim(p).to_vec()).collect();
        // `q = a = b =`: a chain left open ends at its last value.
        while rhs.len() > 1 && rhs.last().is_some_and(|r| strip_junk(r).is_empty()) {
            rhs.pop();
        }
        let Some((start, quantity)) = self.left(&lhs) else {
            self.unknown_quantity(&lhs, &rhs, text, out);
            return;
        };
        let (mut quantity, note) = match quantity {
            Lhs::Setting => return,
            Lhs::Quantity(q, n) => (q, n),
        };
        let written = to_string(trim(&lhs[start..]))
            .trim()
            .trim_start_matches(['-', '*', '•', '·'])
            .trim()
            .to_string();
        let col = lhs.get(start).map_or(0, |p| p.1);
        let mut partials = Vec::new();
        let mut links = Vec::new();
        let count = rhs.len();
        let mut last: Option<(Given, String)> = None;
        for (k, r) in rhs.iter().enumerate() {
            let is_last = k + 1 == count;
            let cleaned = if is_last { strip_junk(r) } else { r.clone() };
            let shown = to_string(&cleaned).trim().to_string();
            match self.right(&cleaned, &mut partials) {
                Ok(given) => {
                    if is_last {
                        last = Some((given, shown));
                    } else {
                        links.push(Link { given, text: shown });
                    }
                }
                Err((at, why)) => {
                    if is_last {
                        out.unreadable.push(Unreadable {
                            line: self.line,
                            col: at + 1,
                            text: to_string(trim(text)),
                            why,
                            how: HOW_VALUE.to_string(),
                        });
                        return;
                    }
                    // An earlier link that cannot be read is left aside:
                    // the claim is the last value.
                }
            }
        }
        let Some((given, given_text)) = last else {
            return;
        };
        // `w5 := …` and `w5 = w5 - …` are the update.
        if let Quantity::Value(Sym::Param(p)) = quantity {
            let mentions_itself = match &given {
                Given::Formula(e) => {
                    let mut found = false;
                    e.visit_syms(&mut |s| found |= s == Sym::Param(p));
                    found
                }
                _ => false,
            } || links.iter().any(|l| match &l.given {
                Given::Formula(e) => {
                    let mut found = false;
                    e.visit_syms(&mut |s| found |= s == Sym::Param(p));
                    found
                }
                _ => false,
            });
            if assign || mentions_itself {
                quantity = Quantity::Updated(p);
            }
        }
        let span_end = lhs.last().map_or(col, |p| p.1 + 1);
        out.claims.push(Claim {
            line: self.line,
            quantity_span: Span::new(col, span_end),
            quantity,
            written,
            given_text,
            given,
            links,
            partials,
            sample: None,
            note,
        });
    }

    /// A line without `=`: a claim missing its `=` (`dE_total/dw5 0.08`)
    /// is unreadable; anything else is text.
    fn without_equals(&self, norm: &[(char, usize)], out: &mut Answers) {
        let s = to_string(norm);
        let mut words = s.split_whitespace();
        let (Some(first), Some(second), None) = (words.next(), words.next(), words.next()) else {
            return;
        };
        let numeric = second.trim_start_matches('-').parse::<f64>().is_ok();
        if numeric && self.canon(first).is_some() {
            out.unreadable.push(Unreadable {
                line: self.line,
                col: norm.first().map_or(1, |p| p.1 + first.chars().count() + 1),
                text: s.clone(),
                why: "there is no `=` between the quantity and its value".to_string(),
                how: format!("write `{first} = {second}`"),
            });
        }
    }

    /// The quantity at the end of the left-hand side (labels before it are
    /// text): the start of its text and what it is.
    fn left(&self, lhs: &[(char, usize)]) -> Option<(usize, Lhs)> {
        let mut starts = vec![0];
        for k in 1..lhs.len() {
            let prev = lhs[k - 1].0;
            if (prev.is_whitespace() || prev == ':') && !lhs[k].0.is_whitespace() {
                starts.push(k);
            }
        }
        for &s in &starts {
            // Not from inside parentheses.
            let depth = lhs[..s].iter().fold(0i32, |d, (c, _)| match c {
                '(' => d + 1,
                ')' => (d - 1).max(0),
                _ => d,
            });
            if depth > 0 {
                continue;
            }
            let candidate = to_string(&lhs[s..]);
            if let Some(q) = self.canon(&candidate) {
                return Some((s, q));
            }
        }
        None
    }

    /// A left-hand side that names nothing known: unreadable when it looks
    /// like a claim (a name-like word, a number after `=`), else text.
    fn unknown_quantity(
        &self,
        lhs: &[(char, usize)],
        rhs: &[Text],
        line: &[(char, usize)],
        out: &mut Answers,
    ) {
        let last_rhs = rhs.last().map(|r| to_string(r)).unwrap_or_default();
        if !last_rhs.chars().any(|c| c.is_ascii_digit()) {
            return;
        }
        let s = to_string(lhs);
        let word_start = lhs
            .iter()
            .rposition(|(c, _)| c.is_whitespace() || *c == ':')
            .map_or(0, |k| k + 1);
        let word = to_string(&lhs[word_start..]);
        let looks = !word.is_empty()
            && word.chars().count() <= 24
            && (word.contains(['/', '∂', '_', 'δ'])
                || word.chars().any(|c| c.is_ascii_digit())
                || word.chars().all(|c| c.is_ascii_alphanumeric()));
        if !looks || s.split_whitespace().count() > 3 {
            return;
        }
        let mut why = format!("`{word}` is not a quantity of this network");
        let mut col_in_word = 0;
        let names = quantity_names(self.lex.net());
        let base = word.trim_end_matches(['+', '\'']);
        if base.len() < word.len() && self.lex.sym(base).is_some() {
            out.unreadable.push(Unreadable {
                line: self.line,
                col: lhs.get(word_start).map_or(1, |p| p.1 + 1),
                text: to_string(trim(line)),
                why: format!("`{base}` is not updated: only params change"),
                how:
                    "write `w5+` for a param after the update, or `E_total+` for the error after it"
                        .to_string(),
            });
            return;
        }
        let bare = word.trim_start_matches(['∂', 'd']);
        if let Some((of, wrt)) = word.split_once('/') {
            for part in [of, wrt] {
                let name = part.trim_start_matches('∂').trim_start_matches('d');
                if !name.is_empty() && self.lex.sym(name).is_none() && name != "E" {
                    col_in_word = word.find(name).map_or(0, |b| word[..b].chars().count());
                    why = format!("`{name}` is not a quantity of this network");
                    if let Some(c) = closest(name, names.iter().map(|(n, _)| n.as_str())) {
                        why.push_str(&format!("; did you mean `{c}`?"));
                    }
                    break;
                }
            }
        } else if let Some(c) = closest(bare, names.iter().map(|(n, _)| n.as_str())) {
            why.push_str(&format!("; did you mean `{c}`?"));
        }
        out.unreadable.push(Unreadable {
            line: self.line,
            col: lhs.get(word_start).map_or(1, |p| p.1 + 1 + col_in_word),
            text: to_string(trim(line)),
            why,
            how: HOW_QUANTITY.to_string(),
        });
    }

    /// What a left-hand side names.
    fn canon(&self, text: &str) -> Option<Lhs> {
        let mut s = text.trim();
        s = s.trim_start_matches(['-', '*', '•', '·']).trim();
        while s.starts_with('(') && !balanced(s) {
            s = s[1..].trim();
        }
        while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
            s = s[1..s.len() - 1].trim();
        }
        while s.ends_with(')') && !balanced(s) {
            s = s[..s.len() - 1].trim();
        }
        if s.is_empty() || s.chars().count() > 60 {
            return None;
        }
        if let Some(q) = self.canon_plain(s) {
            return Some(q);
        }
        let lower = s.to_lowercase();
        if matches!(
            lower.as_str(),
            "η" | "eta"
                | "lr"
                | "rate"
                | "learning rate"
                | "alpha"
                | "epoch"
                | "epochs"
                | "step"
                | "iteration"
                | "iter"
                | "batch size"
                | "n"
                | "t"
        ) {
            return Some(Lhs::Setting);
        }
        if let Some(q) = state_quantity(self.lex.network(), s) {
            return Some(Lhs::Quantity(q, None));
        }
        // After the update.
        for suffix in [
            "+", "'", "^+", "^(+)", "(new)", "_new", "new", "^(new)", "_(new)", "^new", "^*",
            "(t+1)", "_(t+1)", "^(t+1)",
        ] {
            if let Some(base) = s.strip_suffix(suffix) {
                if let Some(q) = self.updated(base.trim()) {
                    return Some(q);
                }
            }
        }
        for prefix in ["new_", "new ", "new"] {
            if let Some(base) = s.strip_prefix(prefix) {
                if let Some(q) = self.updated(base.trim()) {
                    return Some(q);
                }
            }
        }
        None
    }

    fn updated(&self, base: &str) -> Option<Lhs> {
        let sym = self.lex.sym(base)?;
        match sym {
            Sym::Param(p) => Some(Lhs::Quantity(Quantity::Updated(p), None)),
            Sym::Net(_) | Sym::Out(_) | Sym::Err(_) | Sym::ErrTotal => {
                Some(Lhs::Quantity(Quantity::After(sym), None))
            }
            _ => None,
        }
    }

    /// A value, a partial, a δ or σ′, without an update mark.
    fn canon_plain(&self, s: &str) -> Option<Lhs> {
        let q = |q| Some(Lhs::Quantity(q, None));
        if let Some((q2, note)) = self.delta(s) {
            return Some(Lhs::Quantity(q2, note));
        }
        if let Some(q2) = self.sigma_prime(s) {
            return q(q2);
        }
        if let Some(q2) = self.partial(s) {
            return q(q2);
        }
        if s.contains(['/', '∂', '(', ' ', '+', '\'', '^', '*', '=']) {
            return None;
        }
        let sym = self.lex.sym(s)?;
        // A neuron's bare name is its output; say so.
        let note = match sym {
            Sym::Out(n) if self.lex.neuron(s) == Some(n) => {
                let name = &self.lex.net().neurons[n as usize].name;
                Some(format!(
                    "`{s}` read as out_{name}; write net_{name} for its net input"
                ))
            }
            _ => None,
        };
        Some(Lhs::Quantity(Quantity::Value(sym), note))
    }

    /// `δ_o1`, `δo1`, `delta o1`, `delta_o1`; `δ1` read as the output
    /// neuron ending in 1, with a note.
    fn delta(&self, s: &str) -> Option<(Quantity, Option<String>)> {
        let rest = s
            .strip_prefix('δ')
            .or_else(|| s.strip_prefix("delta"))
            .or_else(|| s.strip_prefix("Delta"))?;
        let rest = rest.trim_start_matches(['_', ' ']).trim();
        let net = self.lex.net();
        let of_neuron = |n: u32| Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Net(n),
        };
        if let Some(n) = self.lex.neuron(rest) {
            return Some((of_neuron(n), None));
        }
        if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
            let ends = |n: &u32| {
                let name = &net.neurons[*n as usize].name;
                name.ends_with(rest)
                    && name[..name.len() - rest.len()]
                        .chars()
                        .all(|c| c.is_alphabetic() || c == '_')
            };
            let outputs: Vec<u32> = net.outputs().filter(ends).collect();
            if let [n] = outputs.as_slice() {
                let name = &net.neurons[*n as usize].name;
                return Some((
                    of_neuron(*n),
                    Some(format!(
                        "`{s}` read as δ_{name}, the output neuron; write the neuron's name (`δ_{name}`) to be sure"
                    )),
                ));
            }
        }
        None
    }

    /// `σ'(net_o1)`, `sigmoid'(net_o1)`: ∂out_o1/∂net_o1.
    fn sigma_prime(&self, s: &str) -> Option<Quantity> {
        let rest = ["σ'", "sigmoid'", "f'", "g'"]
            .iter()
            .find_map(|p| s.strip_prefix(p))?;
        let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?.trim();
        let n = match self.lex.sym(inner) {
            Some(Sym::Net(n)) => n,
            _ => self.lex.neuron(inner)?,
        };
        Some(Quantity::Partial {
            of: Sym::Out(n),
            wrt: Sym::Net(n),
        })
    }

    /// `dE_total/dw5`, `∂E/∂w5`, `(∂E_total)/(∂w_5)`.
    fn partial(&self, s: &str) -> Option<Quantity> {
        let (of, wrt) = split_top_slash(s)?;
        let of = self.partial_side(of)?;
        let wrt = self.partial_side(wrt)?;
        Some(Quantity::Partial { of, wrt })
    }

    fn partial_side(&self, side: &str) -> Option<Sym> {
        let mut t = side.trim();
        while t.starts_with('(') && t.ends_with(')') && balanced(&t[1..t.len() - 1]) {
            t = t[1..t.len() - 1].trim();
        }
        let name = if let Some(r) = t.strip_prefix('∂') {
            r.trim()
        } else if let Some(r) = t.strip_prefix('d') {
            r.trim()
        } else {
            return None;
        };
        if name == "E" {
            return Some(Sym::ErrTotal);
        }
        self.lex.sym(name)
    }

    /// A right-hand side: a number, arithmetic with numbers, or a formula.
    /// The error is the column of the trouble and why.
    fn right(
        &self,
        r: &[(char, usize)],
        partials: &mut Vec<Quantity>,
    ) -> Result<Given, (usize, String)> {
        let col = r.first().map_or(0, |p| p.1);
        let s = to_string(r);
        let s = s.trim();
        if s.is_empty() {
            return Err((col, "nothing after `=`".to_string()));
        }
        let net = self.lex.net();
        let exact = |lit: &str| exact_literal(net, lit);
        match eval_numbers(s, &exact) {
            Some(Ok((value, err))) => {
                if !value.is_finite() {
                    return Err((col, "this arithmetic is not a number".to_string()));
                }
                let literal = s.trim_start_matches(['-', '+']).trim();
                if literal.parse::<f64>().is_ok() && !literal.contains(['(', ' ']) {
                    return Ok(Given::Number {
                        value,
                        precision: Precision::of_literal(literal),
                    });
                }
                Ok(Given::Arithmetic { value, err })
            }
            Some(Err(why)) => Err((col, why)),
            None => {
                let prepared = self.prepare_formula(s, partials);
                match parse_lenient_formula(self.lex, &prepared) {
                    Ok(e) => Ok(Given::Formula(e)),
                    Err(ds) => {
                        let why = ds
                            .first()
                            .map_or("cannot read this formula".to_string(), |d| {
                                d.message.replace("end of file", "end of the line")
                            });
                        Err((col, why))
                    }
                }
            }
        }
    }

    /// A formula as the expression parser reads it: partials, δ's and σ′
    /// become placeholders `__qK`, `σ(` becomes `sigmoid(`, `η` the rate,
    /// and implied multiplication is written out.
    fn prepare_formula(&self, s: &str, partials: &mut Vec<Quantity>) -> String {
        let toks = formula_tokens(s);
        let mut out: Vec<FTok> = Vec::new();
        let mut k = 0;
        let push_q = |q: Quantity, partials: &mut Vec<Quantity>| {
            let idx = partials.iter().position(|p| *p == q).unwrap_or_else(|| {
                partials.push(q);
                partials.len() - 1
            });
            FTok::Ident(format!("__q{idx}"))
        };
        while k < toks.len() {
            // (∂A)/(∂B), ∂A/∂B, dA/dB
            if let Some((q, used)) = self.partial_at(&toks[k..]) {
                out.push(push_q(q, partials));
                k += used;
                continue;
            }
            match &toks[k] {
                FTok::Ident(w) if w.starts_with('δ') || w.starts_with("delta_") => {
                    match self.delta(w) {
                        Some((q, _)) => out.push(push_q(q, partials)),
                        None => out.push(toks[k].clone()),
                    }
                    k += 1;
                }
                FTok::Ident(w) if w == "σ" || w == "sigmoid" => {
                    // σ'(x)
                    if matches!(toks.get(k + 1), Some(FTok::Op('\''))) {
                        if let Some(close) = matching(&toks, k + 2) {
                            let inner: String = toks[k + 3..close].iter().map(FTok::text).collect();
                            let text = format!("σ'({inner})");
                            if let Some(q) = self.sigma_prime(&text) {
                                out.push(push_q(q, partials));
                                k = close + 1;
                                continue;
                            }
                        }
                    }
                    out.push(FTok::Ident("sigmoid".to_string()));
                    k += 1;
                }
                FTok::Ident(w) if matches!(w.as_str(), "η" | "eta" | "lr" | "alpha") => {
                    out.push(FTok::Num(format!("{:?}", self.lex.net().rate)));
                    k += 1;
                }
                t => {
                    out.push(t.clone());
                    k += 1;
                }
            }
        }
        // Implied multiplication.
        let mut text = String::new();
        let mut prev: Option<&FTok> = None;
        for t in &out {
            if let Some(p) = prev {
                let p_value = match p {
                    FTok::Num(_) => true,
                    FTok::Op(')') => true,
                    FTok::Ident(w) => !self.lex.is_function(w),
                    _ => false,
                };
                let t_value = matches!(t, FTok::Num(_) | FTok::Ident(_) | FTok::Op('('));
                let num_after_ident = matches!((p, t), (FTok::Ident(_), FTok::Num(_)));
                let two_numbers = matches!((p, t), (FTok::Num(_), FTok::Num(_)));
                if p_value && t_value && !num_after_ident && !two_numbers {
                    text.push('*');
                }
            }
            if matches!(t, FTok::Space) {
                text.push(' ');
                continue;
            }
            text.push_str(&t.text());
            prev = Some(t);
        }
        text
    }

    /// A partial written at the start of `toks`, and how many tokens it takes.
    fn partial_at(&self, toks: &[FTok]) -> Option<(Quantity, usize)> {
        let (of, a) = self.partial_name(toks)?;
        let mut k = a;
        while matches!(toks.get(k), Some(FTok::Space)) {
            k += 1;
        }
        if !matches!(toks.get(k), Some(FTok::Op('/'))) {
            return None;
        }
        k += 1;
        while matches!(toks.get(k), Some(FTok::Space)) {
            k += 1;
        }
        let (wrt, b) = self.partial_name(&toks[k..])?;
        let of = if of == "E" {
            Sym::ErrTotal
        } else {
            self.lex.sym(&of)?
        };
        let wrt = self.lex.sym(&wrt)?;
        Some((Quantity::Partial { of, wrt }, k + b))
    }

    /// `∂name`, `dname` or `(∂name)` at the start of `toks`.
    fn partial_name(&self, toks: &[FTok]) -> Option<(String, usize)> {
        match toks.first()? {
            FTok::Op('(') => {
                let mut k = 1;
                while matches!(toks.get(k), Some(FTok::Space)) {
                    k += 1;
                }
                let (name, used) = self.partial_name(&toks[k..])?;
                if !name.is_empty() && toks[k].text() != "(" {
                    let mut j = k + used;
                    while matches!(toks.get(j), Some(FTok::Space)) {
                        j += 1;
                    }
                    if matches!(toks.get(j), Some(FTok::Op(')'))) {
                        return Some((name, j + 1));
                    }
                }
                None
            }
            FTok::Op('∂') => match toks.get(1) {
                Some(FTok::Ident(w)) => Some((w.clone(), 2)),
                Some(FTok::Space) => match toks.get(2) {
                    Some(FTok::Ident(w)) => Some((w.clone(), 3)),
                    _ => None,
                },
                _ => None,
            },
            FTok::Ident(w) if w.len() > 1 && w.starts_with('d') => {
                let rest = &w[1..];
                (rest == "E" || self.lex.sym(rest).is_some()).then(|| (rest.to_string(), 1))
            }
            _ => None,
        }
    }
}
