//! The backward pass with every factor: one sample's derivation, and with
//! a `data` block every sample's and their combination.

use super::*;

impl Plan<'_> {
    /// One sample's pass with `values`: forward, every δ, every gradient.
    pub fn pass(&self, values: &Values, opts: Options) -> Result<Pass, EvalError> {
        let net = self.net;
        let mut b = self.builder(values, opts.hand);
        self.run_forward(&mut b)?;
        let mut grads: Vec<Option<NeuronGrad>> = vec![None; net.neurons.len()];
        for layer in net.layers.iter().rev() {
            let d_outs = layer
                .neurons
                .clone()
                .map(|x| self.d_out(&b, x, &grads))
                .collect::<Result<Vec<_>, _>>()?;
            for (x, (d_out, d_out_value)) in layer.neurons.clone().zip(&d_outs) {
                let (d_act, delta) = self.d_act(&b, layer, x, *d_out_value, &d_outs)?;
                grads[x as usize] = Some(NeuronGrad {
                    d_out: d_out.clone(),
                    d_out_value: *d_out_value,
                    d_act,
                    delta,
                });
            }
        }
        let neurons: Vec<NeuronGrad> = grads
            .into_iter()
            .map(|g| g.expect("every neuron visited"))
            .collect();
        let gradients = (0..net.params.len())
            .map(|p| self.param_grad(&b, p, &neurons))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pass {
            forward: b.fw,
            neurons,
            gradients,
        })
    }

    /// ∂E_total/∂out_X: the loss's derivative for an output, else the sum of
    /// δ_Y · ∂net_Y/∂out_X over the neurons Y it feeds (`grads` holds the
    /// later layers).
    fn d_out(
        &self,
        b: &Builder<'_>,
        x: u32,
        grads: &[Option<NeuronGrad>],
    ) -> Result<(DOut, f64), EvalError> {
        let net = self.net;
        let span = Some(net.neurons[x as usize].span);
        let q = || format!("∂E_total/∂{}", b.names.plain(Sym::Out(x)));
        if net.is_output(x) {
            let sym = self.d_loss[x as usize].clone().unwrap_or(Expr::Num(0.0));
            let value = self.loss_eval(b, &sym, x, true, &q, net.loss_span.or(span))?;
            let f = Factor {
                of: Sym::ErrTotal,
                wrt: Sym::Out(x),
                rule: Rule::Loss(net.loss.keyword()),
                symbolic: sym,
                value,
            };
            return Ok((DOut::Loss(f), value));
        }
        let mut edges = Vec::new();
        let mut sum = 0.0;
        for (y, sym) in &self.out_edges[x as usize] {
            let yn = *y as usize;
            let qf = || {
                format!(
                    "∂{}/∂{}",
                    b.names.plain(Sym::Net(*y)),
                    b.names.plain(Sym::Out(x))
                )
            };
            let fv = b.eval(sym, &qf, Some(net.neurons[yn].span))?;
            let delta = grads[yn].as_ref().map_or(0.0, |g| g.delta);
            let value = b.r(delta * fv);
            sum += value;
            edges.push(Edge {
                to: *y,
                factor: Factor {
                    of: Sym::Net(*y),
                    wrt: Sym::Out(x),
                    rule: Rule::NetInput,
                    symbolic: sym.clone(),
                    value: fv,
                },
                value,
            });
        }
        let sum = b.check(sum, &q, &Expr::Var(Sym::Out(x)), span)?;
        Ok((DOut::Sum(edges), sum))
    }

    /// ∂out_X/∂net_X and δ_X; for softmax the column ∂out_j/∂net_X of the
    /// layer, with `d_outs` the layer's ∂E_total/∂out_j.
    fn d_act(
        &self,
        b: &Builder<'_>,
        layer: &crate::model::Layer,
        x: u32,
        d_out_value: f64,
        d_outs: &[(DOut, f64)],
    ) -> Result<(DAct, f64), EvalError> {
        let net = self.net;
        let span = Some(net.neurons[x as usize].span);
        let (d_act, delta) = match layer.activation {
            Activation::Softmax => {
                let mut col = Vec::new();
                let mut delta = 0.0;
                for (k, j) in layer.neurons.clone().enumerate() {
                    let sym = diff::softmax_derivative(j, x);
                    let q = || {
                        format!(
                            "∂{}/∂{}",
                            b.names.plain(Sym::Out(j)),
                            b.names.plain(Sym::Net(x))
                        )
                    };
                    let v = b.eval(&sym, &q, span)?;
                    delta += b.r(d_outs[k].1 * v);
                    col.push(Factor {
                        of: Sym::Out(j),
                        wrt: Sym::Net(x),
                        rule: Rule::Softmax,
                        symbolic: sym,
                        value: v,
                    });
                }
                (DAct::Softmax(col), delta)
            }
            _ => {
                let (sym, rule) = &self.d_act[x as usize];
                let q = || {
                    format!(
                        "∂{}/∂{}",
                        b.names.plain(Sym::Out(x)),
                        b.names.plain(Sym::Net(x))
                    )
                };
                let v = b.eval(sym, &q, span)?;
                let f = Factor {
                    of: Sym::Out(x),
                    wrt: Sym::Net(x),
                    rule: *rule,
                    symbolic: sym.clone(),
                    value: v,
                };
                (DAct::Elementwise(f), d_out_value * v)
            }
        };
        let q = || format!("δ_{}", net.neurons[x as usize].name);
        let delta = b.check(delta, &q, &Expr::Var(Sym::Net(x)), span)?;
        Ok((d_act, delta))
    }

    /// ∂E/∂p of one sample, one term for every place p is used.
    fn param_grad(
        &self,
        b: &Builder<'_>,
        p: usize,
        neurons: &[NeuronGrad],
    ) -> Result<Gradient, EvalError> {
        let param = &self.net.params[p];
        let mut edges = Vec::new();
        let mut sum = 0.0;
        for (via, sym) in &self.param_edges[p] {
            let (of, y, rule, span) = self.via_parts(*via);
            let q = || format!("∂{}/∂{}", b.names.plain(of), param.name);
            let fv = b.eval(sym, &q, span)?;
            let value = b.r(upstream(*via, neurons) * fv);
            sum += value;
            edges.push(Edge {
                to: y,
                factor: Factor {
                    of,
                    wrt: Sym::Param(p as u32),
                    rule,
                    symbolic: sym.clone(),
                    value: fv,
                },
                value,
            });
        }
        let q = || format!("∂E_total/∂{}", param.name);
        let value = b.check(sum, &q, &Expr::Var(Sym::Param(p as u32)), Some(param.span))?;
        Ok(Gradient {
            terms: edges,
            value,
        })
    }

    /// The derivation with `values`: one sample, or with a `data` block
    /// every sample and their combination (mean or sum, as `batch` says).
    pub fn derive(&self, values: &Values, opts: Options) -> Result<Derivation, EvalError> {
        let net = self.net;
        let (samples, scale) = match &net.data {
            None => (vec![self.pass(values, opts)?], 1.0),
            Some(data) => {
                let rows = data.rows.len();
                let mut samples = Vec::with_capacity(rows);
                for k in 0..rows {
                    samples.push(self.pass(&values.sample(net, k), opts)?);
                }
                let scale = match net.batch {
                    Batch::Mean => 1.0 / rows as f64,
                    Batch::Sum => 1.0,
                };
                (samples, scale)
            }
        };
        let b = self.builder(values, opts.hand);
        let combine = |each: &dyn Fn(&Pass) -> f64| {
            if samples.len() == 1 && net.data.is_none() {
                each(&samples[0])
            } else {
                b.r(scale * samples.iter().map(each).sum::<f64>())
            }
        };
        let l2 = net.l2.as_ref();
        let penalty = l2.map(|l| b.r(l.penalty(&values.params)));
        let total = combine(&|s| s.forward.total);
        let total = match penalty {
            Some(r) => {
                let q = || "E_total".to_string();
                b.check(total + r, &q, &Expr::Var(Sym::ErrTotal), l2.map(|l| l.span))?
            }
            None => total,
        };
        let params = (0..net.params.len())
            .map(|p| {
                let samples = combine(&|s| s.gradients[p].value);
                let value = samples;
                let penalty = l2
                    .and_then(|l| l.gradient(p as u32, values.params[p]))
                    .map(|r| b.r(r));
                let value = match penalty {
                    Some(r) => b.r(value + r),
                    None => value,
                };
                let step = self.update(&b, p, value)?;
                Ok(ParamGrad {
                    value,
                    samples,
                    penalty,
                    updated: step.after,
                    step,
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        let mut after = values.clone();
        for (v, g) in after.params.iter_mut().zip(&params) {
            *v = g.updated;
        }
        let total_after = match &net.data {
            None => self.forward(&after, opts).map(|f| f.total),
            Some(data) => {
                let mut t = Ok(0.0);
                for k in 0..data.rows.len() {
                    t = t.and_then(|t| Ok(t + self.forward(&after.sample(net, k), opts)?.total));
                }
                t.map(|t| b.r(scale * t))
            }
        };
        let total_after = total_after.map(|t| match l2 {
            Some(l) => b.r(t + b.r(l.penalty(&after.params))),
            None => t,
        });
        let (total_after, after_problem) = after_update(net, total_after);
        Ok(Derivation {
            samples,
            total,
            penalty,
            params,
            hand: opts.hand,
            total_after,
            after_problem,
        })
    }
}

/// E_total after the update, or NaN and the problem, named as a quantity
/// after the update (`out_o1⁺`), since the values it used are the updated ones.
pub(super) fn after_update(
    net: &Network,
    total: Result<f64, EvalError>,
) -> (f64, Option<EvalError>) {
    match total {
        Ok(t) => (t, None),
        Err(mut e) => {
            e.quantity.push('⁺');
            for i in &mut e.inputs {
                let name = i.split(" = ").next().unwrap_or_default();
                if net.params.iter().any(|p| p.name == name) {
                    i.insert(name.len(), '⁺');
                }
            }
            e.span = None;
            (f64::NAN, Some(e))
        }
    }
}

/// What multiplies a term's own factor in the chain: δ_Y for a net input,
/// ∂E_total/∂out_Y for an activation, 1 for the loss.
pub(super) fn upstream(via: Via, neurons: &[NeuronGrad]) -> f64 {
    match via {
        Via::Net(y) => neurons[y as usize].delta,
        Via::Out(y) => neurons[y as usize].d_out_value,
        Via::Err(_) => 1.0,
    }
}
