//! Dense layers: their sources, and each neuron's net input with its
//! params declared and drawn from `init`.

use super::resolve::scalar_sym;
use super::*;

impl Lowerer<'_> {
    /// The elements a dense layer takes: an input vector or an earlier layer.
    pub(super) fn dense_sources(
        &mut self,
        src: &str,
        span: Span,
        layer: u32,
    ) -> Vec<(String, Sym)> {
        match self.decls.get(src).map(|d| d.kind) {
            Some(Kind::Vector) => {
                let names = self.vectors.get(src).cloned().unwrap_or_default();
                let mut out = Vec::new();
                for n in names {
                    if let Some(k @ (Kind::Input(_) | Kind::Const(_) | Kind::Param(_))) =
                        self.decls.get(&n).map(|d| d.kind)
                    {
                        out.push((n, scalar_sym(k).expect("scalar")))
                    }
                }
                out
            }
            Some(Kind::Layer(l)) if l < layer => {
                let range = self.net.layers[l as usize].neurons.clone();
                range
                    .map(|n| (self.net.neurons[n as usize].name.clone(), Sym::Out(n)))
                    .collect()
            }
            Some(Kind::Layer(_)) => {
                self.error(span, format!("`{src}` is this layer or a later one; a dense layer takes an earlier layer or an input vector"));
                Vec::new()
            }
            Some(k) => {
                self.error(
                    span,
                    format!(
                        "`{src}` is {}; `dense` takes an input vector or an earlier layer",
                        k.noun()
                    ),
                );
                Vec::new()
            }
            None => {
                let cands: Vec<&str> = self
                    .decls
                    .iter()
                    .filter(|(_, d)| matches!(d.kind, Kind::Vector | Kind::Layer(_)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let mut d = Diagnostic::new(span, format!("unknown vector or layer `{src}`"));
                if let Some(c) = closest(src, cands.into_iter()) {
                    d.message.push_str(&format!("; did you mean `{c}`?"));
                }
                self.errors
                    .push(d.with_note(format!("declare it, e.g. `input {src}[2] = [0.1, 0.2]`")));
                Vec::new()
            }
        }
    }

    /// The net input of a dense neuron: Σ_k w_N_k·k + b_N, declaring each
    /// param that no `param` line gave and drawing its value from `init`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dense_net(
        &mut self,
        neuron: &str,
        span: Span,
        sources: &[(String, Sym)],
        (fan_in, fan_out): (usize, usize),
        init: Option<InitDist>,
        rng: &mut Option<crate::rng::SplitMix64>,
        missing: &mut usize,
    ) -> Expr {
        let mut acc: Option<Expr> = None;
        let mut param = |l: &mut Self, name: String, bias: bool| -> Sym {
            let given = match l.decls.get(&name) {
                Some(Decl {
                    kind: Kind::Param(p),
                    ..
                }) => Some(*p),
                _ => None,
            };
            // Drawn even when a `param` line gives the value, so that the
            // line changes that one value and no other.
            let value = match (init, rng.as_mut()) {
                (Some(d), Some(r)) => {
                    let v = match d {
                        InitDist::Uniform(a, b) => r.uniform(a, b),
                        InitDist::Normal(m, s) => r.normal(m, s),
                        InitDist::Xavier if bias => 0.0,
                        InitDist::Xavier => {
                            // Glorot: uniform on ±√(6/(fan_in + fan_out)).
                            let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                            r.uniform(-a, a)
                        }
                    };
                    // Four decimals: values a page can show as they are.
                    (v * 1e4).round() / 1e4 + 0.0
                }
                _ if given.is_some() => 0.0,
                _ => {
                    *missing += 1;
                    0.0
                }
            };
            if let Some(p) = given {
                return Sym::Param(p);
            }
            let idx = l.net.params.len() as u32;
            if l.declare(&name, span, Kind::Param(idx)) {
                l.net.params.push(Scalar { name, value, span });
            }
            Sym::Param(idx)
        };
        for (src_name, src) in sources {
            let w = param(self, format!("w_{neuron}_{src_name}"), false);
            let term = Expr::bin(BinOp::Mul, Expr::Var(w), Expr::Var(*src));
            acc = Some(match acc {
                None => term,
                Some(a) => Expr::bin(BinOp::Add, a, term),
            });
        }
        let b = Expr::Var(param(self, format!("b_{neuron}"), true));
        match acc {
            None => b,
            Some(a) => Expr::bin(BinOp::Add, a, b),
        }
    }
}
