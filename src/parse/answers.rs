//! Answers files of `chainrule check` → [`Claim`]s. A file is read a line at
//! a time with the grammar's `claim_line` rule, so one bad line never hides
//! the next; every problem of every line is reported together.

use pest::iterators::Pair;

use super::formula::{parse_formula, quantity_names, resolve_quantity};
use super::lower::closest;
use super::{parse_rule, Rule};
use crate::check::{Claim, Given, Precision, Quantity};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::expr::Sym;
use crate::model::Network;

/// What the help line of an unknown quantity lists.
const QUANTITY_HELP: &str = "quantities are values (`net_h1`, `out_o1`, `E_total`), partials \
(`dE_total/dw5`, `dout_o1/dnet_o1`), updated params (`w5+`) and values after the update \
(`E_total+`)";

/// Reads the claims of an answers file about `net`. `file` is the name used
/// in messages.
pub fn parse_answers(net: &Network, file: &str, src: &str) -> Result<Vec<Claim>, Diagnostics> {
    let mut claims = Vec::new();
    let mut errors = Vec::new();
    let mut start = 0usize;
    for (index, raw) in src.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let reader = LineReader {
            net,
            offset: start,
            line: index + 1,
        };
        match parse_rule(Rule::claim_line, line) {
            Ok(pair) => {
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::claim {
                        match reader.claim(p) {
                            Ok(c) => claims.push(c),
                            Err(mut ds) => errors.append(&mut ds),
                        }
                    }
                }
            }
            Err(d) => errors.push(reader.shift(d)),
        }
        start += raw.len() + 1;
    }
    if errors.is_empty() {
        Ok(claims)
    } else {
        Err(Diagnostics::new(file, src, errors))
    }
}

/// Reads a quantity written alone (`dE_total/dw5`, `w5+`, `E_total`), as in
/// `chainrule exam --ask`. Spans of the diagnostic are offsets into `text`.
pub fn parse_quantity(net: &Network, text: &str) -> Result<Quantity, Diagnostic> {
    let pair = parse_rule(Rule::quantity_only, text)?;
    let reader = LineReader {
        net,
        offset: 0,
        line: 1,
    };
    match pair.into_inner().find(|p| p.as_rule() == Rule::quantity) {
        Some(q) => reader.quantity(q),
        None => Err(Diagnostic::new(
            Span::new(0, text.len()),
            "expected a quantity (`E_total`, `dE_total/dw5`, `w5+`)",
        )),
    }
}

/// Reads the pairs of one line; `offset` is where the line starts in the file.
struct LineReader<'n> {
    net: &'n Network,
    offset: usize,
    line: usize,
}

impl LineReader<'_> {
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.offset + s.start(), self.offset + s.end())
    }

    fn shift(&self, mut d: Diagnostic) -> Diagnostic {
        d.span = Span::new(d.span.start + self.offset, d.span.end + self.offset);
        // Each line is parsed on its own: its end is the end of the line.
        d.message = d.message.replace("end of file", "end of line");
        d
    }

    fn claim(&self, pair: Pair<'_, Rule>) -> Result<Claim, Vec<Diagnostic>> {
        let mut inner = pair.into_inner();
        let (Some(q), Some(_eq), Some(rhs)) = (inner.next(), inner.next(), inner.next()) else {
            return Err(vec![Diagnostic::new(
                Span::new(self.offset, self.offset),
                "incomplete claim (this is a bug in chainrule)",
            )]);
        };
        let quantity_span = self.span(&q);
        let written = q.as_str().trim().to_string();
        let quantity = self.quantity(q);
        let given = self.given(rhs.clone());
        match (quantity, given) {
            (Ok(quantity), Ok(given)) => Ok(Claim {
                line: self.line,
                quantity_span,
                quantity,
                written,
                // The expression's text may run on into a trailing comment.
                given_text: rhs
                    .as_str()
                    .split('#')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                given,
            }),
            (q, g) => {
                let mut errors = Vec::new();
                if let Err(d) = q {
                    errors.push(d);
                }
                if let Err(mut ds) = g {
                    errors.append(&mut ds);
                }
                Err(errors)
            }
        }
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

    fn given(&self, rhs: Pair<'_, Rule>) -> Result<Given, Vec<Diagnostic>> {
        let parts: Vec<Pair<'_, Rule>> = rhs.clone().into_inner().collect();
        let number = match parts.as_slice() {
            [n] if n.as_rule() == Rule::number => Some((false, n)),
            [m, n] if m.as_rule() == Rule::neg && n.as_rule() == Rule::number => Some((true, n)),
            _ => None,
        };
        if let Some((negative, n)) = number {
            let value = super::read_number(n.as_str(), self.span(n)).map_err(|d| vec![d])?;
            return Ok(Given::Number {
                value: if negative { -value } else { value },
                precision: Precision::of_literal(n.as_str()),
            });
        }
        let base = self.offset + rhs.as_span().start();
        parse_formula(self.net, rhs.as_str())
            .map(Given::Formula)
            .map_err(|ds| {
                ds.into_iter()
                    .map(|mut d| {
                        d.span = Span::new(d.span.start + base, d.span.end + base);
                        d
                    })
                    .collect()
            })
    }
}
