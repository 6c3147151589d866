//! Evaluating the plan's expressions for one set of values: every value
//! rounded as `--hand` says, every non-finite one an error naming its quantity.

use super::*;

impl Builder<'_> {
    pub(super) fn r(&self, x: f64) -> f64 {
        match self.hand {
            Some(d) => number::round(x, d),
            None => x,
        }
    }

    pub(super) fn value_of(&self, s: Sym) -> f64 {
        match s {
            Sym::Net(n) => self.fw.net[n as usize],
            Sym::Out(n) => self.fw.out[n as usize],
            Sym::Err(n) => self.fw.err[n as usize],
            Sym::ErrTotal => self.fw.total,
            s => self.values.get(s).unwrap_or(f64::NAN),
        }
    }

    /// Evaluates `e` for `quantity`; non-finite values are errors.
    pub(super) fn eval(
        &self,
        e: &Expr,
        quantity: &dyn Fn() -> String,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        let v = eval(e, &|s| self.value_of(s), &self.net.functions);
        self.check(v, quantity, e, span)
    }

    pub(super) fn error(
        &self,
        e: &Expr,
        quantity: String,
        value: f64,
        span: Option<Span>,
    ) -> EvalError {
        let mut seen = Vec::new();
        e.visit_syms(&mut |s| {
            if !seen.contains(&s) {
                seen.push(s);
            }
        });
        let inputs = seen
            .iter()
            .take(8)
            .map(|s| {
                format!(
                    "{} = {}",
                    self.names.plain(*s),
                    number::format(self.value_of(*s), 9)
                )
            })
            .collect();
        EvalError {
            quantity,
            expression: e.plain(&self.names),
            inputs,
            value,
            span,
        }
    }

    pub(super) fn check(
        &self,
        v: f64,
        quantity: &dyn Fn() -> String,
        e: &Expr,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        if v.is_finite() {
            Ok(self.r(v))
        } else {
            Err(self.error(e, quantity(), v, span))
        }
    }
}
