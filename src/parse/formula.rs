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
