//! `l2 λ [on NAMES]`: the params of the L2 term, named, globbed or every
//! weight.

use super::*;
use crate::model::L2;
use crate::notation::glob;

impl Lowerer<'_> {
    /// The L2 term: the names and globs resolved to params once every
    /// param (dense layers' too) is known.
    pub(super) fn resolve_l2(&mut self, l2: Option<RawL2>) {
        let Some((lambda, names, span)) = l2 else {
            return;
        };
        let named = names.is_some();
        let mut params: Vec<u32> = match names {
            None => {
                let weights = self.net.weights();
                (0..self.net.params.len() as u32)
                    .filter(|&p| weights[p as usize])
                    .collect()
            }
            Some(names) => {
                let mut ps = Vec::new();
                for (name, nspan) in names {
                    self.l2_name(&name, nspan, &mut ps);
                }
                ps
            }
        };
        params.sort_unstable();
        params.dedup();
        if params.is_empty() && !named {
            self.errors.push(
                Diagnostic::new(span, "the L2 term has no weight to cover").with_note(
                    "no net input multiplies a param by anything; name the params: `l2 0.01 on b1`",
                ),
            );
            return;
        }
        self.net.l2 = Some(L2 {
            lambda,
            params,
            named,
            span,
        });
    }

    /// The params `name` stands for: a param, the params of a vector, or
    /// those a glob matches.
    fn l2_name(&mut self, name: &str, span: Span, out: &mut Vec<u32>) {
        if name.contains(['*', '?']) {
            let before = out.len();
            out.extend(
                self.net
                    .params
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| glob(name.as_bytes(), p.name.as_bytes()))
                    .map(|(i, _)| i as u32),
            );
            if out.len() == before {
                self.error(span, format!("`{name}` matches no param"));
            }
            return;
        }
        match self.decls.get(name).map(|d| d.kind) {
            Some(Kind::Param(p)) => out.push(p),
            Some(Kind::Vector) => {
                let elements = self.vectors.get(name).cloned().unwrap_or_default();
                let before = out.len();
                for e in &elements {
                    if let Some(Kind::Param(p)) = self.decls.get(e.as_str()).map(|d| d.kind) {
                        out.push(p);
                    }
                }
                if out.len() == before {
                    self.error(
                        span,
                        format!("`{name}` is a vector of inputs; the L2 term covers params"),
                    );
                }
            }
            Some(kind) => self.error(
                span,
                format!("`{name}` is {}; the L2 term covers params", kind.noun()),
            ),
            None => {
                let d = self.unknown_name(name, span, &|k| matches!(k, Kind::Param(_)));
                self.errors.push(d);
            }
        }
    }
}
