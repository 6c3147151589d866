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

use super::formula::{eval_numbers, parse_lenient_formula, quantity_names, Lexicon};
use super::lower::closest;
use pest::iterators::Pair;

use super::formula::resolve_quantity;
use super::{parse_rule, Rule};
use crate::check::{Answers, Claim, Given, Link, Precision, Quantity, Unreadable};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::expr::Sym;
use crate::model::Network;

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

/// A line of several claims split at `;`, `, ` and ` and ` outside
/// parentheses, where each piece has its own `=`.
fn split_claims(t: &[(char, usize)]) -> Vec<Text> {
    let s: Vec<char> = t.iter().map(|p| p.0).collect();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0i32;
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth == 0 => cuts.push((k, k + 1)),
            ',' if depth == 0 && s.get(k + 1).is_some_and(|c| c.is_whitespace()) => {
                cuts.push((k, k + 1))
            }
            ' ' if depth == 0 => {
                for word in [" and ", " 그리고 ", " und ", " et "] {
                    let w: Vec<char> = word.chars().collect();
                    if s[k..].starts_with(&w) {
                        cuts.push((k, k + w.len()));
                        break;
                    }
                }
            }
            _ => {}
        }
        k += 1;
    }
    if cuts.is_empty() {
        return vec![t.to_vec()];
    }
    let mut pieces: Vec<Text> = Vec::new();
    let mut start = 0;
    for (a, b) in cuts {
        let piece = &t[start..a];
        let rest = &t[b..];
        let has_eq = |x: &[(char, usize)]| x.iter().any(|p| p.0 == '=');
        // Cut only between two claims.
        let next_end = rest
            .iter()
            .position(|p| p.0 == ';' || p.0 == ',')
            .unwrap_or(rest.len());
        if has_eq(piece) && has_eq(&rest[..next_end]) {
            pieces.push(piece.to_vec());
            start = b;
        }
    }
    pieces.push(t[start..].to_vec());
    pieces
}

/// Tokens of a formula, for the rewriting of [`LineReader::prepare_formula`].
#[derive(Debug, Clone, PartialEq)]
enum FTok {
    Num(String),
    Ident(String),
    Op(char),
    Space,
}

impl FTok {
    fn text(&self) -> String {
        match self {
            FTok::Num(s) | FTok::Ident(s) => s.clone(),
            FTok::Op(c) => c.to_string(),
            FTok::Space => " ".to_string(),
        }
    }
}

fn formula_tokens(s: &str) -> Vec<FTok> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            if !matches!(out.last(), Some(FTok::Space)) {
                out.push(FTok::Space);
            }
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            out.push(FTok::Num(chars[start..i].iter().collect()));
        } else if (c.is_alphabetic() || c == '_') && c != '∂' {
            let start = i;
            i += 1;
            // σ and δ stand alone before a name: σ(x), δo1 is one word.
            if c != 'σ' && c != 'η' {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
            out.push(FTok::Ident(chars[start..i].iter().collect()));
        } else {
            out.push(FTok::Op(c));
            i += 1;
        }
    }
    out
}

/// The index of the `)` matching the `(` at `open`.
fn matching(toks: &[FTok], open: usize) -> Option<usize> {
    if !matches!(toks.get(open), Some(FTok::Op('('))) {
        return None;
    }
    let mut depth = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            FTok::Op('(') => depth += 1,
            FTok::Op(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the parentheses of `s` balance.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// The two sides of the one `/` outside parentheses.
fn split_top_slash(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut at = None;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            '/' if depth == 0 => {
                if at.is_some() {
                    return None;
                }
                at = Some(i);
            }
            _ => {}
        }
    }
    let i = at?;
    Some((&s[..i], &s[i + 1..]))
}

/// Whether a written number is meant exactly: an integer, or a number of the
/// network as written there (`0.4` for w5, `0.05` for i1, `0.5` for η or ½).
fn exact_literal(net: &Network, lit: &str) -> bool {
    if !lit.contains(['.', 'e', 'E']) {
        return true;
    }
    let Ok(v) = lit.parse::<f64>() else {
        return false;
    };
    if v == 0.5 {
        return true;
    }
    let given = net
        .inputs
        .iter()
        .chain(&net.params)
        .chain(&net.consts)
        .map(|s| s.value)
        .chain(net.targets.iter().flatten().copied())
        .chain(std::iter::once(net.rate))
        .chain(net.data.iter().flat_map(|d| {
            d.rows
                .iter()
                .flat_map(|(a, b)| a.iter().chain(b.iter()).copied())
        }));
    let mut found = false;
    for g in given {
        if g.abs() == v {
            found = true;
            break;
        }
    }
    found
}

/// The line without its comment: `# …` after a space, `// …`.
fn strip_comment(t: &[(char, usize)]) -> Text {
    let mut end = t.len();
    for k in 0..t.len() {
        let c = t[k].0;
        let prev_space = k == 0 || t[k - 1].0.is_whitespace();
        if c == '#' && prev_space {
            end = k;
            break;
        }
        if c == '/' && t.get(k + 1).is_some_and(|n| n.0 == '/') && prev_space {
            end = k;
            break;
        }
    }
    t[..end].to_vec()
}

/// What may follow the value of a claim: `;`, `…`, `(rounded)`, `✓`.
fn strip_junk(t: &[(char, usize)]) -> Text {
    let mut v = trim(t).to_vec();
    loop {
        let before = v.len();
        while let Some((c, _)) = v.last() {
            if matches!(c, ';' | ',' | '✓' | '✔' | '✗' | '✘' | '!' | '?' | '…')
                || (*c == '.' && v.len() >= 2 && v[v.len() - 2].0 == '.')
            {
                v.pop();
            } else {
                break;
            }
        }
        if v.last().is_some_and(|(c, _)| *c == '.')
            && v.len() >= 2
            && v[v.len() - 2].0.is_ascii_digit()
        {
            // `0.3775.` ends a sentence; `1.` keeps its point.
            let s = to_string(&v);
            if s.matches('.').count() >= 2 {
                v.pop();
            }
        }
        // A trailing parenthetical of words: `(rounded)`, `(약)`.
        if v.last().is_some_and(|(c, _)| *c == ')') {
            let mut depth = 0;
            let mut open = None;
            for k in (0..v.len()).rev() {
                match v[k].0 {
                    ')' => depth += 1,
                    '(' => {
                        depth -= 1;
                        if depth == 0 {
                            open = Some(k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if let Some(o) = open {
                let inner = to_string(&v[o + 1..v.len() - 1]);
                let wordy = inner.chars().any(char::is_alphabetic)
                    && !inner
                        .chars()
                        .any(|c| c.is_ascii_digit() || "+-*/^".contains(c));
                let after_space = o > 0 && v[o - 1].0.is_whitespace();
                if wordy && after_space {
                    v.truncate(o);
                }
            }
        }
        // Words after the value: `0.2984 total`, `0.0822 approx`.
        let s = to_string(&v);
        if let Some(sp) = s.trim_end().rfind(' ') {
            let tail = &s[sp + 1..];
            let head = s[..sp].trim_end();
            let tail_is_word = !tail.is_empty()
                && tail
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '\'' || c == '.')
                && !head.ends_with(['+', '-', '*', '/', '^', '('])
                && head
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_digit() || c == ')');
            if tail_is_word && !matches!(tail, "e" | "pi") {
                let chars_before = s[..sp].chars().count();
                v.truncate(chars_before);
            }
        }
        v = trim(&v).to_vec();
        if v.len() == before {
            return v;
        }
    }
}

/// LaTeX, Unicode, exponents of ten, decimal commas and `e^x`, written the
/// way the readers below expect.
fn normalize(t: &[(char, usize)]) -> Text {
    let t = latex(t);
    let t = braces(&t);
    let t = unicode(&t);
    let t = tens(&t);
    let t = decimal_commas(&t);
    exp_of_e(&t)
}

fn latex(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if c != '\\' {
            out.push((c, col));
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < t.len() && t[j].0.is_ascii_alphabetic() {
            j += 1;
        }
        let name = to_string(&t[i + 1..j]);
        if name.is_empty() {
            // `\,` `\;` `\!` `\ ` `\\`: space; `\{` `\}`: parentheses.
            match t.get(i + 1).map(|p| p.0) {
                Some('{') => out.push(('(', col)),
                Some('}') => out.push((')', col)),
                _ => out.push((' ', col)),
            }
            i += 2;
            continue;
        }
        let push_str = |out: &mut Text, s: &str| {
            for ch in s.chars() {
                out.push((ch, col));
            }
        };
        match name.as_str() {
            "frac" | "dfrac" | "tfrac" => {
                let (a, after_a) = group(t, j);
                let (b, after_b) = group(t, after_a);
                if let (Some(a), Some(b)) = (a, b) {
                    push_str(&mut out, "((");
                    out.extend(latex(&a));
                    push_str(&mut out, ")/(");
                    out.extend(latex(&b));
                    push_str(&mut out, "))");
                    i = after_b;
                    continue;
                }
                i = j;
            }
            "text" | "mathrm" | "mathit" | "textrm" | "operatorname" | "mathbf" | "boldsymbol"
            | "textit" | "mathsf" => {
                let (a, after) = group(t, j);
                match a {
                    Some(a) => {
                        out.extend(latex(&a));
                        i = after;
                    }
                    None => i = j,
                }
            }
            _ => {
                let rep = match name.as_str() {
                    "partial" => "∂",
                    "delta" => "δ",
                    "sigma" => "σ",
                    "eta" | "alpha" => "η",
                    "cdot" | "times" | "ast" | "bullet" => "*",
                    "approx" | "simeq" | "cong" | "equiv" => "=",
                    "left" | "right" | "big" | "Big" | "bigl" | "bigr" | "Bigl" | "Bigr"
                    | "displaystyle" | "quad" | "qquad" => " ",
                    "exp" => "exp",
                    "ln" => "ln",
                    "log" => "ln",
                    "tanh" => "tanh",
                    "sqrt" => "sqrt",
                    "prime" => "'",
                    "leftarrow" | "gets" => "=",
                    "minus" => "-",
                    _ => "",
                };
                if rep.is_empty() {
                    out.push(('\\', col));
                    push_str(&mut out, &name);
                } else {
                    push_str(&mut out, rep);
                }
                i = j;
            }
        }
    }
    out
}

/// The brace group `{…}` at `at` (after spaces), and where it ends.
fn group(t: &[(char, usize)], at: usize) -> (Option<Text>, usize) {
    let mut k = at;
    while k < t.len() && t[k].0 == ' ' {
        k += 1;
    }
    if k >= t.len() || t[k].0 != '{' {
        // A single character argument: \frac12.
        if k < t.len() && t[k].0.is_ascii_alphanumeric() {
            return (Some(vec![t[k]]), k + 1);
        }
        return (None, at);
    }
    let mut depth = 0;
    for m in k..t.len() {
        match t[m].0 {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (Some(t[k + 1..m].to_vec()), m + 1);
                }
            }
            _ => {}
        }
    }
    (None, at)
}

/// `_{o_1}` → `_o_1`, `^{+}` → `+`, `^{new}` → `_new`, `^{2}` → `^(2)`,
/// other braces → parentheses.
fn braces(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if (c == '_' || c == '^') && t.get(i + 1).is_some_and(|p| p.0 == '{') {
            let (inner, after) = group(t, i + 1);
            if let Some(inner) = inner {
                let inner = braces(&inner);
                let s = to_string(&inner);
                let s = s.trim();
                if c == '_' {
                    out.push(('_', col));
                    out.extend(inner);
                } else if matches!(s, "+" | "*" | "'" | "new" | "(new)" | "(+)" | "(t+1)") {
                    let rep = match s {
                        "new" | "(new)" => "_new",
                        _ => "+",
                    };
                    out.extend(rep.chars().map(|ch| (ch, col)));
                } else {
                    out.push(('^', col));
                    out.push(('(', col));
                    out.extend(inner);
                    out.push((')', col));
                }
                i = after;
                continue;
            }
        }
        match c {
            '{' => out.push(('(', col)),
            '}' => out.push((')', col)),
            _ => out.push((c, col)),
        }
        i += 1;
    }
    out
}

fn superscript(c: char) -> Option<char> {
    Some(match c {
        '⁰' => '0',
        '¹' => '1',
        '²' => '2',
        '³' => '3',
        '⁴' => '4',
        '⁵' => '5',
        '⁶' => '6',
        '⁷' => '7',
        '⁸' => '8',
        '⁹' => '9',
        '⁻' => '-',
        '⁺' => '+',
        _ => return None,
    })
}

fn unicode(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        if superscript(c).is_some() {
            let mut run = String::new();
            while i < t.len() {
                match superscript(t[i].0) {
                    Some(d) => run.push(d),
                    None => break,
                }
                i += 1;
            }
            if run == "+" {
                out.push(('+', col));
            } else {
                out.push(('^', col));
                out.push(('(', col));
                out.extend(run.chars().map(|d| (d, col)));
                out.push((')', col));
            }
            continue;
        }
        let rep: &str = match c {
            '−' | '–' | '—' | '‐' | '‑' => "-",
            '×' | '·' | '⋅' | '∙' | '∗' => "*",
            '÷' | '∕' => "/",
            '≈' | '≃' | '≅' | '≒' | '＝' | '→' | '⇒' | '⟹' => "=",
            '½' => "(1/2)",
            '¼' => "(1/4)",
            '¾' => "(3/4)",
            '′' | '’' | 'ʹ' => "'",
            '\u{a0}' | '\u{3000}' | '\t' | '\u{2009}' | '\u{202f}' => " ",
            '：' => ":",
            '（' => "(",
            '）' => ")",
            '，' => ",",
            '₀' => "0",
            '₁' => "1",
            '₂' => "2",
            '₃' => "3",
            '₄' => "4",
            '₅' => "5",
            '₆' => "6",
            '₇' => "7",
            '₈' => "8",
            '₉' => "9",
            'ₒ' => "o",
            'ₕ' => "h",
            'ᵢ' => "i",
            '₊' => "+",
            '₋' => "-",
            _ => "",
        };
        if rep.is_empty() {
            out.push((c, col));
        } else {
            out.extend(rep.chars().map(|ch| (ch, col)));
        }
        i += 1;
    }
    out
}

/// `4.38568*10^(-4)`, `8.77 * 10^-4`, `2.356x10^-2` → `4.38568e-4`.
fn tens(t: &[(char, usize)]) -> Text {
    let mut out: Text = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if let Some((rep, used)) = ten_power(t, i, &out) {
            // Drop the spaces and the `*` already written after the number.
            while out.last().is_some_and(|p| p.0 == ' ') {
                out.pop();
            }
            out.extend(rep);
            i += used;
            continue;
        }
        out.push(t[i]);
        i += 1;
    }
    out
}

/// At `i`: `*`/`x` then `10^exp` after a number already in `out`.
fn ten_power(t: &[(char, usize)], i: usize, out: &[(char, usize)]) -> Option<(Text, usize)> {
    if !matches!(t[i].0, '*' | 'x') {
        return None;
    }
    let last = out.iter().rev().find(|p| p.0 != ' ')?;
    if !last.0.is_ascii_digit() {
        return None;
    }
    let s: Vec<char> = t[i + 1..].iter().map(|p| p.0).collect();
    let mut k = 0;
    while k < s.len() && s[k] == ' ' {
        k += 1;
    }
    if !(s.get(k) == Some(&'1') && s.get(k + 1) == Some(&'0')) {
        return None;
    }
    k += 2;
    while k < s.len() && s[k] == ' ' {
        k += 1;
    }
    if s.get(k) != Some(&'^') {
        return None;
    }
    k += 1;
    let paren = s.get(k) == Some(&'(');
    if paren {
        k += 1;
    }
    let mut exp = String::new();
    if matches!(s.get(k), Some('-' | '+')) {
        exp.push(s[k]);
        k += 1;
    }
    let digits_start = k;
    while k < s.len() && s[k].is_ascii_digit() {
        exp.push(s[k]);
        k += 1;
    }
    if k == digits_start {
        return None;
    }
    if paren {
        if s.get(k) != Some(&')') {
            return None;
        }
        k += 1;
    }
    let col = t[i].1;
    let mut rep = vec![('e', col)];
    rep.extend(exp.chars().map(|c| (c, col)));
    Some((rep, k + 1))
}

/// `0,3775` → `0.3775` where the comma cannot be a thousands separator or
/// a list: a digit on each side, no space, and a leading `0` or not three
/// digits after.
fn decimal_commas(t: &[(char, usize)]) -> Text {
    let mut out = t.to_vec();
    for k in 1..t.len().saturating_sub(1) {
        if t[k].0 != ',' || !t[k - 1].0.is_ascii_digit() || !t[k + 1].0.is_ascii_digit() {
            continue;
        }
        let mut a = k;
        while a > 0 && t[a - 1].0.is_ascii_digit() {
            a -= 1;
        }
        if a > 0 && (t[a - 1].0 == '.' || t[a - 1].0 == ',') {
            continue;
        }
        let mut b = k + 1;
        while b < t.len() && t[b].0.is_ascii_digit() {
            b += 1;
        }
        if b < t.len() && t[b].0 == ',' {
            continue;
        }
        let left: String = t[a..k].iter().map(|p| p.0).collect();
        if left == "0" || b - k - 1 != 3 {
            out[k].0 = '.';
        }
    }
    out
}

/// `e^(x)`, `e^-0.3775`, `e^x` → `exp(…)`.
fn exp_of_e(t: &[(char, usize)]) -> Text {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let (c, col) = t[i];
        let alone = c == 'e'
            && (i == 0
                || !(t[i - 1].0.is_alphanumeric() || t[i - 1].0 == '_' || t[i - 1].0 == '.'))
            && t.get(i + 1).is_some_and(|p| p.0 == '^');
        if alone {
            let mut k = i + 2;
            if t.get(k).is_some_and(|p| p.0 == '(') {
                out.extend("exp".chars().map(|ch| (ch, col)));
                i = k;
                continue;
            }
            let start = k;
            if t.get(k).is_some_and(|p| p.0 == '-' || p.0 == '+') {
                k += 1;
            }
            while k < t.len() && (t[k].0.is_alphanumeric() || t[k].0 == '.' || t[k].0 == '_') {
                k += 1;
            }
            if k > start {
                out.extend("exp(".chars().map(|ch| (ch, col)));
                out.extend_from_slice(&t[start..k]);
                out.push((')', col));
                i = k;
                continue;
            }
        }
        out.push((c, col));
        i += 1;
    }
    out
}

/// Reads a quantity written alone (`dE_total/dw5`, `w5+`, `E_total`), as in
/// `chainrule exam --ask`. Spans of the diagnostic are offsets into `text`.
pub fn parse_quantity(net: &Network, text: &str) -> Result<Quantity, Diagnostic> {
    if let Some(q) = state_quantity(net, text.trim()) {
        return Ok(q);
    }
    let pair = parse_rule(Rule::quantity_only, text)?;
    let reader = QuantityReader { net, offset: 0 };
    match pair.into_inner().find(|p| p.as_rule() == Rule::quantity) {
        Some(q) => reader.quantity(q),
        None => Err(Diagnostic::new(
            Span::new(0, text.len()),
            "expected a quantity (`E_total`, `dE_total/dw5`, `w5+`)",
        )),
    }
}

/// An optimizer's state after its first step, named as a teacher writes
/// it: `m_w5`, `v_w5`, `m_hat_w5` (`mhat_w5`, `m̂_w5`), `v_hat_w5`, and for
/// Adagrad `s_w5`; only when the network's optimizer keeps that state and
/// the name is not one the network declares.
pub(crate) fn state_quantity(net: &Network, text: &str) -> Option<Quantity> {
    use crate::check::StateKind;
    use crate::optimizer::Optimizer;
    let kinds: &[StateKind] = match net.optimizer {
        Optimizer::Sgd => &[],
        Optimizer::Momentum(_) | Optimizer::Nesterov(_) => &[StateKind::M],
        Optimizer::Adagrad(_) | Optimizer::RmsProp(..) => &[StateKind::V],
        Optimizer::Adam(..) | Optimizer::AdamW(..) => {
            &[StateKind::M, StateKind::V, StateKind::MHat, StateKind::VHat]
        }
    };
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | ' ' | '$'))
        .collect::<String>()
        .replace("\\hat", "")
        .replace("m\u{302}", "mhat")
        .replace("v\u{302}", "vhat");
    let forms: [(&str, StateKind); 9] = [
        ("m_hat_", StateKind::MHat),
        ("mhat_", StateKind::MHat),
        ("v_hat_", StateKind::VHat),
        ("vhat_", StateKind::VHat),
        ("m_", StateKind::M),
        ("v_", StateKind::V),
        ("s_", StateKind::V),
        ("b_", StateKind::M),
        ("mhat", StateKind::MHat),
    ];
    for (prefix, kind) in forms {
        let Some(rest) = t.strip_prefix(prefix) else {
            continue;
        };
        if !kinds.contains(&kind) || (prefix == "b_" && !kinds.contains(&StateKind::M)) {
            continue;
        }
        // `\hat{m}_{w5}` reads `m_w5` with `hat` gone: a hat written in
        // LaTeX is seen by the text before the name.
        let kind = if text.contains("\\hat") {
            match kind {
                StateKind::M => StateKind::MHat,
                StateKind::V => StateKind::VHat,
                k => k,
            }
        } else {
            kind
        };
        let declared = net.params.iter().any(|p| p.name == t);
        let squash = |n: &str| n.replace('_', "");
        if let Some(p) = net
            .params
            .iter()
            .position(|p| p.name == rest || squash(&p.name) == squash(rest))
        {
            if !declared {
                return Some(Quantity::State(kind, p as u32));
            }
        }
    }
    None
}

/// Reads a quantity with the grammar's `quantity` rule.
struct QuantityReader<'n> {
    net: &'n Network,
    offset: usize,
}

impl QuantityReader<'_> {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn quantity(&self, q: Pair<'_, Rule>) -> Result<Quantity, Diagnostic> {
        let span = self.span(&q);
        let Some(form) = q.into_inner().next() else {
            return Err(Diagnostic::new(
                span,
                "empty quantity (this is a bug in chainrule)",
            ));
        };
        match form.as_rule() {
            Rule::partial => {
                let names: Vec<Pair<'_, Rule>> = form
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::ident)
                    .collect();
                let [of, wrt] = names.as_slice() else {
                    return Err(Diagnostic::new(span, "a partial needs two names"));
                };
                let of_sym = if of.as_str() == "E" {
                    Ok(Sym::ErrTotal)
                } else {
                    self.value_name(of)
                };
                let wrt_sym = self.value_name(wrt);
                Ok(Quantity::Partial {
                    of: of_sym?,
                    wrt: wrt_sym?,
                })
            }
            Rule::delta => {
                let name = form
                    .into_inner()
                    .next()
                    .map(|p| (p.as_str(), self.span(&p)));
                let (name, nspan) = name.unwrap_or(("", span));
                self.delta(name, nspan)
            }
            Rule::updated => {
                let Some(base) = form.into_inner().find(|p| p.as_rule() == Rule::ident) else {
                    return Err(Diagnostic::new(span, "an updated value needs a name"));
                };
                let sym = self.value_name(&base)?;
                self.updated(sym, base.as_str(), self.span(&base))
            }
            Rule::ident => self.plain(form.as_str(), span),
            _ => Err(Diagnostic::new(
                span,
                "unexpected quantity (this is a bug in chainrule)",
            )),
        }
    }

    /// A bare name: a value, `w5_new`, or `delta_o1`.
    fn plain(&self, name: &str, span: Span) -> Result<Quantity, Diagnostic> {
        if let Some(sym) = resolve_quantity(self.net, name) {
            return Ok(Quantity::Value(sym));
        }
        if let Some(base) = name.strip_suffix("_new") {
            if let Some(sym) = resolve_quantity(self.net, base) {
                return self.updated(sym, base, span);
            }
        }
        if let Some(neuron) = name.strip_prefix("delta_") {
            if let Ok(q) = self.delta(neuron, span) {
                return Ok(q);
            }
        }
        Err(self.unknown(name, span))
    }

    fn delta(&self, neuron: &str, span: Span) -> Result<Quantity, Diagnostic> {
        match self.net.neurons.iter().position(|n| n.name == neuron) {
            Some(n) => Ok(Quantity::Partial {
                of: Sym::ErrTotal,
                wrt: Sym::Net(n as u32),
            }),
            None => {
                let mut d = Diagnostic::new(span, format!("unknown neuron `{neuron}`"));
                if let Some(s) = closest(neuron, self.net.neurons.iter().map(|n| n.name.as_str())) {
                    d.message.push_str(&format!("; did you mean `{s}`?"));
                }
                Err(d)
            }
        }
    }

    fn updated(&self, sym: Sym, name: &str, span: Span) -> Result<Quantity, Diagnostic> {
        match sym {
            Sym::Param(p) => Ok(Quantity::Updated(p)),
            Sym::Net(_) | Sym::Out(_) | Sym::Err(_) | Sym::ErrTotal => Ok(Quantity::After(sym)),
            _ => Err(Diagnostic::new(
                span,
                format!("`{name}` is not updated: only params change"),
            )
            .with_note("write `w5+` for a param after the update, or `E_total+` for the error after it")),
        }
    }

    fn value_name(&self, p: &Pair<'_, Rule>) -> Result<Sym, Diagnostic> {
        resolve_quantity(self.net, p.as_str()).ok_or_else(|| self.unknown(p.as_str(), self.span(p)))
    }

    fn unknown(&self, name: &str, span: Span) -> Diagnostic {
        let names = quantity_names(self.net);
        let mut d = Diagnostic::new(span, format!("unknown quantity `{name}`"));
        if let Some(s) = closest(name, names.iter().map(|(n, _)| n.as_str())) {
            d.message.push_str(&format!("; did you mean `{s}`?"));
        }
        d.with_note(QUANTITY_HELP)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_answers;
    use crate::check::{Given, Quantity};
    use crate::expr::Sym;

    fn mazur() -> crate::model::Network {
        let src = include_str!("../../examples/mazur.nn");
        crate::parse::parse_network("mazur.nn", src).expect("parses")
    }

    /// The quantity and the value of the one claim of `line`.
    fn one(line: &str) -> (Quantity, f64) {
        let net = mazur();
        let a = parse_answers(&net, "a.txt", line).expect("text");
        assert!(a.unreadable.is_empty(), "{line}: {:?}", a.unreadable);
        assert_eq!(a.claims.len(), 1, "{line}: {:?}", a.claims);
        let c = &a.claims[0];
        let v = match &c.given {
            Given::Number { value, .. } | Given::Arithmetic { value, .. } => *value,
            Given::Formula(_) => f64::NAN,
        };
        (c.quantity, v)
    }

    fn grad(p: u32) -> Quantity {
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(p),
        }
    }

    #[test]
    fn lines_as_students_write_them() {
        let net_h1 = Quantity::Value(Sym::Net(0));
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        let (q, v) = one("h1의 총 입력: net_h1 = 0,3775");
        assert_eq!(q, net_h1);
        close(v, 0.3775);
        let (q, v) = one("3) ∂E_total/∂w1 = 4,38568×10⁻⁴ (rounded)");
        assert_eq!(q, grad(0));
        close(v, 4.38568e-4);
        let (q, v) =
            one("$\\frac{\\partial E_{total}}{\\partial w_5} = 0.74137 \\times 0.18682 = 0.1385$");
        assert_eq!(q, grad(4));
        close(v, 0.1385);
        let (q, _) = one("w₅⁺ = 0.3589");
        assert_eq!(q, Quantity::Updated(4));
        let (q, _) = one("w7(new) = 0.5113");
        assert_eq!(q, Quantity::Updated(6));
        let (q, _) = one("w1 := 0.1498");
        assert_eq!(q, Quantity::Updated(0));
        let (q, _) = one("σ'(net_o1) = 0.1868");
        assert_eq!(
            q,
            Quantity::Partial {
                of: Sym::Out(2),
                wrt: Sym::Net(2)
            }
        );
        let (q, v) = one("- E_o1 = ½(0.01 − 0.75136507)² ✓");
        assert_eq!(q, Quantity::Value(Sym::Err(2)));
        close(v, 0.5 * (0.01f64 - 0.75136507).powi(2));
        let (_, v) = one("out_h1 = 1/(1+e^-0.3775)");
        close(v, 1.0 / (1.0 + (-0.3775f64).exp()));
        let (_, v) = one("dout_o1/dnet_o1 = 0.75(1−0.75)");
        close(v, 0.1875);
    }

    #[test]
    fn ambiguous_names_say_how_they_were_read() {
        let net = mazur();
        let a = parse_answers(&net, "a.txt", "δ1 = 0.1385\n").expect("text");
        let c = &a.claims[0];
        assert_eq!(
            c.quantity,
            Quantity::Partial {
                of: Sym::ErrTotal,
                wrt: Sym::Net(2)
            }
        );
        assert!(c.note.as_deref().unwrap().contains("δ_o1"), "{:?}", c.note);
    }

    #[test]
    fn several_claims_on_a_line_and_text_around() {
        let net = mazur();
        let a = parse_answers(
            &net,
            "a.txt",
            "Inputs: i1 = 0.05, i2 = 0.10\nForward pass:\n\nnet_h1 = 0.3775; out_h1 = 0.5933 // ok\n",
        )
        .expect("text");
        let lines: Vec<usize> = a.claims.iter().map(|c| c.line).collect();
        assert_eq!(lines, [1, 1, 4, 4]);
        assert!(a.unreadable.is_empty());
    }

    #[test]
    fn unreadable_lines_are_located() {
        let net = mazur();
        let a = parse_answers(&net, "a.txt", "net_h1 = 0.3775\ndE_total/dw5 = (0.7*0.2\n")
            .expect("text");
        assert_eq!(a.claims.len(), 1);
        let u = &a.unreadable[0];
        assert_eq!((u.line, u.col), (2, 16));
        assert!(u.why.contains("not closed"), "{}", u.why);
        assert!(parse_answers(&net, "a.txt", "a\0b").is_err());
    }
}
