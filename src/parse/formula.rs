//! Formulas over the quantities of a solved network, as students write them
//! in answers files and as the plain printer writes them: `net_h1`,
//! `out_o1`, `target_o1`, `E_o1`, `E_total`, params, inputs, consts, and a
//! bare neuron name for its output. The other notations' names (`sum_h1`,
//! `output_h1`, `z_h1`, `a_h1`) are accepted too.

use super::lower::closest;
use super::{parse_expr_with, Resolver};
use crate::diagnostic::{Diagnostic, Span};
use crate::expr::{Builtin, Expr, Func, Sym};
use crate::model::Network;

/// Every name a formula may use, with its symbol, in a stable order.
pub fn quantity_names(net: &Network) -> Vec<(String, Sym)> {
    let mut v = Vec::new();
    for (i, s) in net.inputs.iter().enumerate() {
        v.push((s.name.clone(), Sym::Input(i as u32)));
    }
    for (i, s) in net.params.iter().enumerate() {
        v.push((s.name.clone(), Sym::Param(i as u32)));
    }
    for (i, s) in net.consts.iter().enumerate() {
        v.push((s.name.clone(), Sym::Const(i as u32)));
    }
    for (i, n) in net.neurons.iter().enumerate() {
        let i = i as u32;
        v.push((format!("net_{}", n.name), Sym::Net(i)));
        v.push((format!("out_{}", n.name), Sym::Out(i)));
    }
    for x in net.outputs() {
        let name = &net.neurons[x as usize].name;
        v.push((format!("target_{name}"), Sym::Target(x)));
        v.push((format!("E_{name}"), Sym::Err(x)));
    }
    v.push(("E_total".to_string(), Sym::ErrTotal));
    v
}

/// The symbol a quantity name stands for, in any notation.
pub fn resolve_quantity(net: &Network, name: &str) -> Option<Sym> {
    let neuron = |n: &str| {
        net.neurons
            .iter()
            .position(|x| x.name == n)
            .map(|i| i as u32)
    };
    for (prefix, out) in [
        ("net_", false),
        ("sum_", false),
        ("z_", false),
        ("out_", true),
        ("output_", true),
        ("a_", true),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if let Some(n) = neuron(rest) {
                return Some(if out { Sym::Out(n) } else { Sym::Net(n) });
            }
        }
    }
    if let Some(rest) = name.strip_prefix("target_") {
        if let Some(n) = neuron(rest).filter(|n| net.is_output(*n)) {
            return Some(Sym::Target(n));
        }
    }
    if name == "E_total" {
        return Some(Sym::ErrTotal);
    }
    if let Some(rest) = name.strip_prefix("E_") {
        if let Some(n) = neuron(rest).filter(|n| net.is_output(*n)) {
            return Some(Sym::Err(n));
        }
    }
    if let Some(i) = net.inputs.iter().position(|s| s.name == name) {
        return Some(Sym::Input(i as u32));
    }
    if let Some(i) = net.params.iter().position(|s| s.name == name) {
        return Some(Sym::Param(i as u32));
    }
    if let Some(i) = net.consts.iter().position(|s| s.name == name) {
        return Some(Sym::Const(i as u32));
    }
    neuron(name).map(Sym::Out)
}

struct FormulaResolver<'a> {
    net: &'a Network,
}

impl Resolver for FormulaResolver<'_> {
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic> {
        resolve_quantity(self.net, name).ok_or_else(|| {
            let names = quantity_names(self.net);
            let mut d = Diagnostic::new(span, format!("unknown name `{name}`"));
            if let Some(s) = closest(name, names.iter().map(|(n, _)| n.as_str())) {
                d.message.push_str(&format!("; did you mean `{s}`?"));
            }
            d
        })
    }

    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
        if let Some(b) = Builtin::from_name(name) {
            if b.arity().contains(&argc) {
                return Ok(Func::Builtin(b));
            }
            return Err(Diagnostic::new(
                span,
                format!("`{name}` does not take {argc} arguments"),
            ));
        }
        match self.net.functions.iter().position(|f| f.name == name) {
            Some(i) if self.net.functions[i].args.len() == argc => Ok(Func::User(i as u32)),
            Some(i) => Err(Diagnostic::new(
                span,
                format!(
                    "`{name}` takes {} arguments, not {argc}",
                    self.net.functions[i].args.len()
                ),
            )),
            None => Err(Diagnostic::new(span, format!("unknown function `{name}`"))),
        }
    }
}

/// Parses a formula over the quantities of `net`. Spans in the diagnostics
/// are byte offsets into `src`.
pub fn parse_formula(net: &Network, src: &str) -> Result<Expr, Vec<Diagnostic>> {
    parse_expr_with(src, &FormulaResolver { net })
}

/// A right-hand side of numbers only (`0.74136507 * 0.186815602`,
/// `sigmoid(0.3775)`, `1/(1+e^-0.3775)`): its value and a bound on how far
/// the rounding of its written numbers can move it. `exact(text)` says
/// whether a written number is meant exactly (a number of the network, like
/// `0.4` for w5). `None` when the text names a quantity (it is a formula);
/// `Some(Err)` when it is numbers only but malformed.
pub(crate) fn eval_numbers(
    text: &str,
    exact: &dyn Fn(&str) -> bool,
) -> Option<Result<(f64, f64), String>> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Some(Err("nothing after `=`".to_string()));
    }
    let mut p = Arith {
        tokens: &tokens,
        pos: 0,
        exact,
        depth: 0,
    };
    let r = p.expr();
    Some(match r {
        Ok(v) if p.pos == tokens.len() => Ok(v),
        Ok(_) => Err(format!("unexpected `{}`", tokens[p.pos].text())),
        Err(e) => Err(e),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Ident(String),
    Op(char),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Num(s) | Tok::Ident(s) => s.clone(),
            Tok::Op(c) => c.to_string(),
        }
    }
}

/// The functions a numbers-only right-hand side may call.
const NUMBER_FUNCS: [&str; 9] = [
    "sigmoid", "exp", "ln", "log", "tanh", "sqrt", "relu", "abs", "σ",
];

/// Where the number literal starting at `chars[i]` ends: digits and points,
/// then an exponent (`e-4`, `E+2`) when digits follow it.
pub(crate) fn number_end(chars: &[char], mut i: usize) -> usize {
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
            return j;
        }
    }
    i
}

/// Tokens of a numbers-only text; `None` when it names anything but `e`,
/// `π` and the functions of [`NUMBER_FUNCS`].
fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i = number_end(&chars, i);
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_')
                && !(i > start && chars[i] == 'σ')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let known =
                word == "e" || word == "π" || word == "pi" || NUMBER_FUNCS.contains(&word.as_str());
            if !known {
                return None;
            }
            out.push(Tok::Ident(word));
        } else if "+-*/^(),".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

struct Arith<'a> {
    tokens: &'a [Tok],
    pos: usize,
    exact: &'a dyn Fn(&str) -> bool,
    depth: usize,
}

type Val = (f64, f64);

impl Arith<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Val, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("nested too deep".to_string());
        }
        let mut a = self.term()?;
        loop {
            if self.eat('+') {
                let b = self.term()?;
                a = (a.0 + b.0, a.1 + b.1);
            } else if self.eat('-') {
                let b = self.term()?;
                a = (a.0 - b.0, a.1 + b.1);
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(a)
    }

    fn term(&mut self) -> Result<Val, String> {
        let mut a = self.unary()?;
        loop {
            if self.eat('*') {
                let b = self.unary()?;
                a = mul(a, b);
            } else if self.eat('/') {
                let b = self.unary()?;
                a = div(a, b);
            } else if matches!(self.peek(), Some(Tok::Op('(') | Tok::Ident(_)))
                || (matches!(self.peek(), Some(Tok::Num(_)))
                    && matches!(
                        self.tokens.get(self.pos.wrapping_sub(1)),
                        Some(Tok::Op(')'))
                    ))
            {
                // Implied multiplication: 0.75(1 - 0.75).
                let b = self.unary()?;
                a = mul(a, b);
            } else {
                break;
            }
        }
        Ok(a)
    }

    fn unary(&mut self) -> Result<Val, String> {
        if self.eat('-') {
            let (v, e) = self.unary()?;
            return Ok((-v, e));
        }
        if self.eat('+') {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Result<Val, String> {
        let base = self.atom()?;
        if self.eat('^') {
            let exp = self.unary()?;
            let v = base.0.powf(exp.0);
            let d_base = (exp.0 * base.0.powf(exp.0 - 1.0)).abs() * base.1;
            let d_exp = if exp.1 > 0.0 && base.0 > 0.0 {
                (v * base.0.ln()).abs() * exp.1
            } else {
                0.0
            };
            return Ok((v, d_base + d_exp));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Val, String> {
        match self.peek().cloned() {
            Some(Tok::Num(text)) => {
                self.pos += 1;
                let v: f64 = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                let err = if (self.exact)(&text) {
                    0.0
                } else {
                    literal_unit(&text)
                };
                Ok((v, err))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let v = self.expr()?;
                if !self.eat(')') {
                    return Err("a `(` is not closed".to_string());
                }
                Ok(v)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                match name.as_str() {
                    "e" => Ok((std::f64::consts::E, 0.0)),
                    "π" | "pi" => Ok((std::f64::consts::PI, 0.0)),
                    f => {
                        if !self.eat('(') {
                            return Err(format!("`{f}` needs its argument in parentheses"));
                        }
                        let x = self.expr()?;
                        if !self.eat(')') {
                            return Err("a `(` is not closed".to_string());
                        }
                        Ok(apply(f, x))
                    }
                }
            }
            Some(t) => Err(format!("unexpected `{}`", t.text())),
            None => Err("the expression ends too early".to_string()),
        }
    }
}

fn mul(a: Val, b: Val) -> Val {
    (a.0 * b.0, a.0.abs() * b.1 + b.0.abs() * a.1 + a.1 * b.1)
}

fn div(a: Val, b: Val) -> Val {
    let v = a.0 / b.0;
    let denom = (b.0.abs() - b.1).max(b.0.abs() * 0.5);
    (v, (a.1 + v.abs() * b.1) / denom)
}

fn apply(f: &str, (x, e): Val) -> Val {
    let s = |x: f64| 1.0 / (1.0 + (-x).exp());
    match f {
        "sigmoid" | "σ" => {
            let v = s(x);
            (v, v * (1.0 - v) * e)
        }
        "exp" => (x.exp(), x.exp() * e),
        "ln" | "log" => (
            if x < 0.0 { f64::NAN } else { x.ln() },
            e / x.abs().max(1e-300),
        ),
        "tanh" => (x.tanh(), (1.0 - x.tanh().powi(2)) * e),
        "sqrt" => (x.sqrt(), e / (2.0 * x.sqrt().max(1e-300))),
        "relu" => (x.max(0.0), e),
        "abs" => (x.abs(), e),
        _ => (f64::NAN, 0.0),
    }
}

/// One unit of the last written place of a number literal (`0.0822` →
/// 0.0001, `4.3857e-4` → 1e-8).
pub(crate) fn literal_unit(text: &str) -> f64 {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (
            &text[..i],
            text[i + 1..]
                .trim_start_matches('+')
                .parse::<i32>()
                .unwrap_or(0),
        ),
        None => (text, 0),
    };
    let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i32);
    10f64.powi((exponent - decimals).clamp(-300, 300))
}

/// The names of a network as students write them: the canonical names of
/// [`quantity_names`] and the other notations, and the same names without
/// their underscores and braces (`outh1`, `w_{5}`, `E_{total}`, `Etotal`),
/// with `E`, `E_tot` and `Error` for the total error.
pub(crate) struct Lexicon<'n> {
    net: &'n Network,
    squashed: std::collections::HashMap<String, Option<Sym>>,
}

/// A name without underscores, braces, parentheses and spaces.
pub(crate) fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '{' | '}' | '(' | ')' | ' '))
        .collect()
}

impl<'n> Lexicon<'n> {
    /// The network whose names these are.
    pub(crate) fn network(&self) -> &'n Network {
        self.net
    }

    pub(crate) fn new(net: &'n Network) -> Lexicon<'n> {
        let mut squashed: std::collections::HashMap<String, Option<Sym>> =
            std::collections::HashMap::new();
        let mut add = |name: String, sym: Sym| {
            let key = squash(&name);
            match squashed.get(&key) {
                Some(Some(s)) if *s != sym => {
                    squashed.insert(key, None);
                }
                Some(_) => {}
                None => {
                    squashed.insert(key, Some(sym));
                }
            }
        };
        for (name, sym) in quantity_names(net) {
            add(name, sym);
        }
        for (i, n) in net.neurons.iter().enumerate() {
            let i = i as u32;
            for p in ["sum_", "z_"] {
                add(format!("{p}{}", n.name), Sym::Net(i));
            }
            for p in ["output_", "a_", "y_"] {
                add(format!("{p}{}", n.name), Sym::Out(i));
            }
        }
        for alias in ["E", "E_tot", "Error", "E_sum", "Loss", "L"] {
            add(alias.to_string(), Sym::ErrTotal);
        }
        Lexicon { net, squashed }
    }

    /// The symbol a name stands for.
    pub(crate) fn sym(&self, name: &str) -> Option<Sym> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        if let Some(s) = resolve_quantity(self.net, name) {
            return Some(s);
        }
        self.squashed.get(&squash(name)).copied().flatten()
    }

    /// The neuron a name stands for (`o1`, `o_1`, `o_{1}`).
    pub(crate) fn neuron(&self, name: &str) -> Option<u32> {
        let key = squash(name);
        if key.is_empty() {
            return None;
        }
        let found: Vec<u32> = self
            .net
            .neurons
            .iter()
            .enumerate()
            .filter(|(_, n)| squash(&n.name) == key)
            .map(|(i, _)| i as u32)
            .collect();
        match found.as_slice() {
            [n] => Some(*n),
            _ => None,
        }
    }

    /// The network.
    pub(crate) fn net(&self) -> &'n Network {
        self.net
    }

    /// Whether `name` is a function a formula may call.
    pub(crate) fn is_function(&self, name: &str) -> bool {
        Builtin::from_name(name).is_some()
            || self.net.functions.iter().any(|f| f.name == name)
            || matches!(name, "σ" | "log")
    }
}

/// Resolves the names of a lenient formula: placeholders `__qK` of
/// partials, then every way of writing a name.
struct LenientResolver<'a, 'n> {
    lex: &'a Lexicon<'n>,
}

impl Resolver for LenientResolver<'_, '_> {
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic> {
        if let Some(k) = name.strip_prefix("__q").and_then(|k| k.parse::<u32>().ok()) {
            return Ok(Sym::Const(crate::model::claim::PARTIAL_BASE + k));
        }
        self.lex.sym(name).ok_or_else(|| {
            let names = quantity_names(self.lex.net);
            let mut d = Diagnostic::new(span, format!("unknown name `{name}`"));
            if let Some(s) = closest(name, names.iter().map(|(n, _)| n.as_str())) {
                d.message.push_str(&format!("; did you mean `{s}`?"));
            }
            d
        })
    }

    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
        let name = match name {
            "σ" => "sigmoid",
            "log" => "ln",
            n => n,
        };
        FormulaResolver { net: self.lex.net }.func(name, argc, span)
    }
}

/// Parses a formula with every way of writing a name that `lex` knows, and
/// the placeholders `__qK` of partials.
pub(crate) fn parse_lenient_formula(lex: &Lexicon<'_>, src: &str) -> Result<Expr, Vec<Diagnostic>> {
    parse_expr_with(src, &LenientResolver { lex })
}

#[cfg(test)]
mod tests {
    use super::eval_numbers;

    fn ev(t: &str) -> (f64, f64) {
        eval_numbers(t, &|s| s == "0.4" || s == "0.5")
            .expect("numbers only")
            .expect("well formed")
    }

    #[test]
    fn numbers_only_right_hand_sides() {
        let (v, e) = ev("0.74136507 * 0.186815602 * 0.593269992");
        assert!((v - 0.082167040_4).abs() < 1e-9, "{v}");
        assert!(e > 0.0 && e < 1e-8, "{e}");
        let (v, e) = ev("0.4 - 0.5*0.082167041");
        assert!((v - 0.3589164795).abs() < 1e-12 && e < 1e-9, "{v} {e}");
        let (v, _) = ev("1/(1+e^-0.3775)");
        assert!((v - 0.593269992).abs() < 1e-9, "{v}");
        let (v, _) = ev("0.75(1-0.75)");
        assert!((v - 0.1875).abs() < 1e-12, "{v}");
        let (v, _) = ev("sigmoid(0.3775)");
        assert!((v - 0.593269992).abs() < 1e-9, "{v}");
        assert!(eval_numbers("w5 - 0.5", &|_| false).is_none());
        assert!(eval_numbers("0.0822 * * 2", &|_| false).unwrap().is_err());
        assert!(eval_numbers("(0.7*0.2", &|_| false).unwrap().is_err());
    }
}
