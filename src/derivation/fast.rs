//! The numbers-only path of training: E_total and every gradient, the same
//! arithmetic as the derivation without building its factors.

use super::*;

impl Plan<'_> {
    /// E_total and ∂E_total/∂p of every param with `values`, numbers only
    /// (the fast path of training): for a `data` block, combined over the
    /// samples as `batch` says. The same arithmetic as [`Plan::derive`]
    /// without building factors.
    pub fn gradients(&self, values: &Values) -> Result<Gradients, EvalError> {
        let net = self.net;
        let Some(data) = &net.data else {
            return self.gradients_one(values);
        };
        let scale = match net.batch {
            Batch::Mean => 1.0 / data.rows.len() as f64,
            Batch::Sum => 1.0,
        };
        let mut all = Gradients {
            total: 0.0,
            params: vec![0.0; net.params.len()],
            outputs: Vec::new(),
        };
        for k in 0..data.rows.len() {
            let g = self.sample_gradients(&values.sample(net, k))?;
            all.total += g.total;
            for (a, b) in all.params.iter_mut().zip(&g.params) {
                *a += b;
            }
            all.outputs.extend(g.outputs);
        }
        all.total *= scale;
        for a in &mut all.params {
            *a *= scale;
        }
        self.add_l2(values, &mut all);
        Ok(all)
    }

    /// [`Plan::gradients`] of one sample, with the L2 term (a step of
    /// stochastic training takes the penalty with each sample).
    pub fn gradients_one(&self, values: &Values) -> Result<Gradients, EvalError> {
        let mut g = self.sample_gradients(values)?;
        self.add_l2(values, &mut g);
        Ok(g)
    }

    /// The L2 term's ½λΣp² and λp added to E_total and the gradients.
    fn add_l2(&self, values: &Values, g: &mut Gradients) {
        if let Some(l2) = &self.net.l2 {
            g.total += l2.penalty(&values.params);
            for &p in &l2.params {
                g.params[p as usize] += l2.lambda * values.params[p as usize];
            }
        }
    }

    /// The error and gradients of one sample's own loss.
    fn sample_gradients(&self, values: &Values) -> Result<Gradients, EvalError> {
        let net = self.net;
        let n = net.neurons.len();
        let mut b = self.builder(values, None);
        self.run_forward(&mut b)?;
        let outputs = net.outputs();
        let mut delta = vec![0.0; n];
        let mut d_out = vec![0.0; n];
        for layer in net.layers.iter().rev() {
            for x in layer.neurons.clone() {
                let span = Some(net.neurons[x as usize].span);
                d_out[x as usize] = if outputs.contains(&x) {
                    let sym = self.d_loss[x as usize]
                        .as_ref()
                        .expect("outputs have a loss");
                    let q = || format!("∂E_total/∂{}", b.names.plain(Sym::Out(x)));
                    self.loss_eval(&b, sym, x, true, &q, net.loss_span.or(span))?
                } else {
                    let mut sum = 0.0;
                    for (y, sym) in &self.out_edges[x as usize] {
                        let q = || {
                            format!(
                                "∂{}/∂{}",
                                b.names.plain(Sym::Net(*y)),
                                b.names.plain(Sym::Out(x))
                            )
                        };
                        sum += delta[*y as usize] * b.eval(sym, &q, span)?;
                    }
                    sum
                };
            }
            for x in layer.neurons.clone() {
                let span = Some(net.neurons[x as usize].span);
                let d = if layer.activation == Activation::Softmax {
                    let mut acc = 0.0;
                    for j in layer.neurons.clone() {
                        let oj = b.fw.out[j as usize];
                        let ox = b.fw.out[x as usize];
                        // ∂out_j/∂net_x = out_j(δ_jx − out_x)
                        let dj = if j == x { oj * (1.0 - ox) } else { -oj * ox };
                        acc += d_out[j as usize] * dj;
                    }
                    acc
                } else {
                    let q = || format!("∂out/∂net of {}", net.neurons[x as usize].name);
                    d_out[x as usize] * b.eval(&self.d_act[x as usize].0, &q, span)?
                };
                let q = || format!("δ_{}", net.neurons[x as usize].name);
                delta[x as usize] = b.check(d, &q, &Expr::Var(Sym::Net(x)), span)?;
            }
        }
        let mut params = vec![0.0; net.params.len()];
        for (p, g) in params.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (via, sym) in &self.param_edges[p] {
                let (of, _, _, span) = self.via_parts(*via);
                let q = || format!("∂{}/∂{}", b.names.plain(of), net.params[p].name);
                let upstream = match via {
                    Via::Net(y) => delta[*y as usize],
                    Via::Out(y) => d_out[*y as usize],
                    Via::Err(_) => 1.0,
                };
                sum += upstream * b.eval(sym, &q, span)?;
            }
            let q = || format!("∂E_total/∂{}", net.params[p].name);
            *g = b.check(
                sum,
                &q,
                &Expr::Var(Sym::Param(p as u32)),
                Some(net.params[p].span),
            )?;
        }
        Ok(Gradients {
            total: b.fw.total,
            params,
            outputs: vec![net.outputs().map(|x| b.fw.out[x as usize]).collect()],
        })
    }
}

/// The numbers of one gradient evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    /// E_total.
    pub total: f64,
    /// ∂E_total/∂p by param.
    pub params: Vec<f64>,
    /// The outputs' values, one list per sample.
    pub outputs: Vec<Vec<f64>>,
}
