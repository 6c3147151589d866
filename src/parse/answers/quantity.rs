//! A quantity named on its own (`exam --ask`, the optimizer's state).

use super::*;

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
/// the name is not one the network declares. After the second step the same
/// with `(2)` (`m_w5(2)`, `m_w5^{(2)}`), and the param itself `w5(2)`
/// (or `w5++`).
pub(crate) fn state_quantity(net: &Network, text: &str) -> Option<Quantity> {
    use crate::model::claim::StateKind;
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
    // The step: `(2)`, `^(2)` or `++` at the end; the first step without.
    let (t, step) = match t
        .strip_suffix("^((2))")
        .or_else(|| t.strip_suffix("^(2)"))
        .or_else(|| t.strip_suffix("(2)"))
        .or_else(|| t.strip_suffix("++"))
    {
        Some(base) => (base.to_string(), 2u8),
        None => (t.clone(), 1u8),
    };
    if step == 2 {
        if let Some(p) = net.params.iter().position(|p| p.name == t) {
            return Some(Quantity::State(StateKind::Param, p as u32, 2));
        }
    }
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
                return Some(Quantity::State(kind, p as u32, step));
            }
        }
    }
    None
}

/// Reads a quantity with the grammar's `quantity` rule.
pub(super) struct QuantityReader<'n> {
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
