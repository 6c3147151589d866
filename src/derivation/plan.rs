//! The symbolic half, worked out once per network: error expressions,
//! local partials, and which neurons each output and param feeds; and the
//! forward pass with any values.

use super::*;

impl<'n> Plan<'n> {
    /// Differentiates everything once.
    pub fn new(net: &'n Network) -> Plan<'n> {
        let n = net.neurons.len();
        let terms: Vec<Vec<(bool, &Expr)>> =
            net.neurons.iter().map(|x| x.net.additive_terms()).collect();
        let fn_syms = function_syms(net);
        let uses = index_uses(net, &terms, &fn_syms);
        let outputs = net.outputs();
        let count = outputs.len();
        let mut err_expr = vec![None; n];
        let mut d_loss = vec![None; n];
        for x in outputs {
            let e = diff::loss_expr(&net.loss, x, count);
            d_loss[x as usize] = Some(diff::differentiate(&e, Sym::Out(x), &net.functions));
            err_expr[x as usize] = Some(e);
        }
        let mut act = Vec::with_capacity(n);
        let mut d_act = Vec::with_capacity(n);
        for (x, neuron) in net.neurons.iter().enumerate() {
            let a = net.layers[neuron.layer as usize].activation;
            act.push(activation_expr(a, x as u32));
            d_act.push(diff::activation_derivative(a, x as u32, &net.functions));
        }
        let edges = |list: &[(u32, Vec<usize>)], v: Sym| -> Vec<(u32, Expr)> {
            list.iter()
                .map(|(y, which)| (*y, diff_terms(&terms[*y as usize], which, v, net)))
                .collect()
        };
        let out_edges = (0..n)
            .map(|x| edges(&uses.outs[x], Sym::Out(x as u32)))
            .collect();
        let mut param_edges: Vec<Vec<(Via, Expr)>> = (0..net.params.len())
            .map(|p| {
                edges(&uses.params[p], Sym::Param(p as u32))
                    .into_iter()
                    .map(|(y, e)| (Via::Net(y), e))
                    .collect()
            })
            .collect();
        // Params inside an activation function: ∂out_Y/∂p for each neuron Y
        // of the layers that use it. Sorted back into neuron order below.
        for (y, neuron) in net.neurons.iter().enumerate() {
            let y = y as u32;
            if let Activation::User(f) = net.layers[neuron.layer as usize].activation {
                for s in &fn_syms[f as usize] {
                    if let Sym::Param(p) = *s {
                        let d = diff::differentiate(&act[y as usize], *s, &net.functions);
                        param_edges[p as usize].push((Via::Out(y), d));
                    }
                }
            }
        }
        // Params inside the loss (through a function it calls): ∂E_Y/∂p.
        for y in net.outputs() {
            let e = err_expr[y as usize].as_ref().expect("outputs have errors");
            let mut syms = Vec::new();
            collect_syms(e, &fn_syms, &mut syms);
            for s in syms {
                if let Sym::Param(p) = s {
                    let d = diff::differentiate(e, s, &net.functions);
                    param_edges[p as usize].push((Via::Err(y), d));
                }
            }
        }
        for list in &mut param_edges {
            // Stable: net before out for the same neuron, errors last.
            list.sort_by_key(|(via, _)| match *via {
                Via::Net(y) => (0, y, 0),
                Via::Out(y) => (0, y, 1),
                Via::Err(y) => (1, y, 0),
            });
        }
        Plan {
            net,
            err_expr,
            d_loss,
            act,
            d_act,
            out_edges,
            param_edges,
        }
    }

    pub(super) fn builder<'a>(&'a self, values: &'a Values, hand: Option<usize>) -> Builder<'a> {
        let n = self.net.neurons.len();
        Builder {
            net: self.net,
            values,
            names: NetNames::new(self.net, Default::default()),
            hand,
            fw: Forward {
                net: vec![0.0; n],
                out: vec![0.0; n],
                err: vec![0.0; n],
                err_expr: self.err_expr.clone(),
                total: 0.0,
            },
        }
    }

    /// The forward pass with `values`.
    pub fn forward(&self, values: &Values, opts: Options) -> Result<Forward, EvalError> {
        let mut b = self.builder(values, opts.hand);
        self.run_forward(&mut b)?;
        Ok(b.fw)
    }

    pub(super) fn run_forward(&self, b: &mut Builder<'_>) -> Result<(), EvalError> {
        let net = self.net;
        for layer in &net.layers {
            for x in layer.neurons.clone() {
                let neuron = &net.neurons[x as usize];
                let q = || format!("net_{}", neuron.name);
                let v = b.eval(&neuron.net, &q, Some(neuron.span))?;
                b.fw.net[x as usize] = v;
            }
            if layer.activation == Activation::Softmax {
                // out_j = e^(net_j − m) / Σ_k e^(net_k − m), m = max_k net_k.
                let m = layer
                    .neurons
                    .clone()
                    .map(|k| b.fw.net[k as usize])
                    .fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = layer
                    .neurons
                    .clone()
                    .map(|k| (b.fw.net[k as usize] - m).exp())
                    .sum();
                for x in layer.neurons.clone() {
                    let v = (b.fw.net[x as usize] - m).exp() / sum;
                    b.fw.out[x as usize] = b.r(v);
                }
            } else {
                for x in layer.neurons.clone() {
                    let neuron = &net.neurons[x as usize];
                    let q = || format!("out_{}", neuron.name);
                    let v = b.eval(&self.act[x as usize], &q, Some(neuron.span))?;
                    b.fw.out[x as usize] = v;
                }
            }
        }
        let mut total = 0.0;
        for x in net.outputs() {
            let e = self.err_expr[x as usize]
                .as_ref()
                .expect("outputs have errors");
            let q = || format!("E_{}", net.neurons[x as usize].name);
            let span = net.loss_span.or(Some(net.neurons[x as usize].span));
            let v = self.loss_eval(b, e, x, false, &q, span)?;
            b.fw.err[x as usize] = v;
            total += v;
        }
        let total_expr = Expr::Var(Sym::ErrTotal);
        b.fw.total = b.check(total, &|| "E_total".to_string(), &total_expr, net.loss_span)?;
        Ok(())
    }

    /// E_X (or ∂E_X/∂out_X when `derivative`) of output `x`. For `ce` and
    /// `bce` a term whose target weight is 0 is 0 even where its logarithm
    /// is not finite (0·ln 0 = 0, the limit): a softmax output that
    /// underflows to 0 with a target of 0 costs nothing.
    pub(super) fn loss_eval(
        &self,
        b: &Builder<'_>,
        e: &Expr,
        x: u32,
        derivative: bool,
        quantity: &dyn Fn() -> String,
        span: Option<Span>,
    ) -> Result<f64, EvalError> {
        let err = match b.eval(e, quantity, span) {
            Ok(v) => return Ok(v),
            Err(err) => err,
        };
        let t = b.value_of(Sym::Target(x));
        let o = b.value_of(Sym::Out(x));
        // x·ln y and x/y, 0 where x is 0.
        let xlny = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x * y.ln() };
        let xdivy = |x: f64, y: f64| if x == 0.0 { 0.0 } else { x / y };
        let v = match (&self.net.loss, derivative) {
            (Loss::Ce, false) => -xlny(t, o),
            (Loss::Ce, true) => -xdivy(t, o),
            (Loss::Bce, false) => -(xlny(t, o) + xlny(1.0 - t, 1.0 - o)),
            (Loss::Bce, true) => -(xdivy(t, o) - xdivy(1.0 - t, 1.0 - o)),
            _ => return Err(err),
        };
        if v.is_finite() {
            Ok(b.r(v))
        } else {
            Err(err)
        }
    }

    /// For a term of a param's gradient: the quantity its factor
    /// differentiates, the neuron, the rule and where to point an error.
    pub(super) fn via_parts(&self, via: Via) -> (Sym, u32, Rule, Option<Span>) {
        let net = self.net;
        match via {
            Via::Net(y) => (
                Sym::Net(y),
                y,
                Rule::NetInput,
                Some(net.neurons[y as usize].span),
            ),
            Via::Out(y) => (
                Sym::Out(y),
                y,
                Rule::Activation("fn"),
                Some(net.layer_of(y).span),
            ),
            Via::Err(y) => (
                Sym::Err(y),
                y,
                Rule::Loss(net.loss.keyword()),
                net.loss_span.or(Some(net.neurons[y as usize].span)),
            ),
        }
    }

    /// The first step of the update rule for param `p` (the state starts
    /// at 0, so each param's first step depends on its own gradient only).
    pub(super) fn update(
        &self,
        b: &Builder<'_>,
        p: usize,
        gradient: f64,
    ) -> Result<crate::optimizer::ParamStep, EvalError> {
        let param = &self.net.params[p];
        let q = || format!("{}⁺", param.name);
        let rule = self.net.update_rule();
        let mut state = crate::optimizer::State::new(1);
        let mut s =
            crate::optimizer::step(&rule, &mut state, &[b.values.params[p]], &[gradient])[0];
        s.after = b.check(
            s.after,
            &q,
            &Expr::Var(Sym::Param(p as u32)),
            Some(param.span),
        )?;
        Ok(s)
    }
}

/// Where each symbol is used: for every neuron Y, the top-level terms of
/// net_Y that mention it.
pub(super) struct Uses {
    /// By param: (Y, term indices).
    params: Vec<Vec<(u32, Vec<usize>)>>,
    /// By neuron X (its output): (Y, term indices).
    outs: Vec<Vec<(u32, Vec<usize>)>>,
}

pub(super) fn index_uses(
    net: &Network,
    terms: &[Vec<(bool, &Expr)>],
    fn_syms: &[Vec<Sym>],
) -> Uses {
    let mut uses = Uses {
        params: vec![Vec::new(); net.params.len()],
        outs: vec![Vec::new(); net.neurons.len()],
    };
    for (y, ts) in terms.iter().enumerate() {
        for (ti, (_, t)) in ts.iter().enumerate() {
            let mut syms = Vec::new();
            collect_syms(t, fn_syms, &mut syms);
            for s in syms {
                let list = match s {
                    Sym::Param(p) => &mut uses.params[p as usize],
                    Sym::Out(x) => &mut uses.outs[x as usize],
                    _ => continue,
                };
                match list.last_mut() {
                    Some((yy, tis)) if *yy == y as u32 => {
                        if !tis.contains(&ti) {
                            tis.push(ti)
                        }
                    }
                    _ => list.push((y as u32, vec![ti])),
                }
            }
        }
    }
    uses
}

/// The symbols each user function's body uses (inputs, params, consts),
/// through the functions it calls, in any order of declaration. Recursion is
/// refused when the network is read, so the calls form a DAG.
pub(super) fn function_syms(net: &Network) -> Vec<Vec<Sym>> {
    let count = net.functions.len();
    let calls: Vec<Vec<usize>> = net
        .functions
        .iter()
        .map(|f| {
            let mut c = Vec::new();
            f.body.visit_calls(&mut |u| c.push(u as usize));
            c
        })
        .collect();
    // Post-order, iteratively (a chain of functions can be long): a
    // function after every function it calls.
    let mut order = Vec::with_capacity(count);
    let mut state = vec![0u8; count]; // 0 new, 1 open, 2 done
    for root in 0..count {
        let mut stack = vec![(root, 0usize)];
        while let Some((f, i)) = stack.pop() {
            if i == 0 {
                if state[f] != 0 {
                    continue;
                }
                state[f] = 1;
            }
            match calls[f].get(i) {
                Some(&g) => {
                    stack.push((f, i + 1));
                    if state[g] == 0 {
                        stack.push((g, 0));
                    }
                }
                None => {
                    state[f] = 2;
                    order.push(f);
                }
            }
        }
    }
    let mut syms = vec![Vec::new(); count];
    for f in order {
        let mut v = Vec::new();
        collect_syms(&net.functions[f].body, &syms, &mut v);
        syms[f] = v;
    }
    syms
}

/// Symbols of `e`, looking into user functions (whose symbols are in `fn_syms`).
pub(super) fn collect_syms(e: &Expr, fn_syms: &[Vec<Sym>], out: &mut Vec<Sym>) {
    match e {
        Expr::Num(_) => {}
        Expr::Var(s) => {
            if !matches!(s, Sym::Arg(_)) && !out.contains(s) {
                out.push(*s)
            }
        }
        Expr::Neg(a) => collect_syms(a, fn_syms, out),
        Expr::Bin(_, a, b) => {
            collect_syms(a, fn_syms, out);
            collect_syms(b, fn_syms, out);
        }
        Expr::Call(f, args) => {
            if let expr::Func::User(u) = f {
                if let Some(syms) = fn_syms.get(*u as usize) {
                    for s in syms {
                        if !out.contains(s) {
                            out.push(*s)
                        }
                    }
                }
            }
            args.iter().for_each(|a| collect_syms(a, fn_syms, out));
        }
    }
}

/// ∂(Σ ±terms[i] for i in `which`)/∂v, simplified.
pub(super) fn diff_terms(terms: &[(bool, &Expr)], which: &[usize], v: Sym, net: &Network) -> Expr {
    let mut acc = Expr::Num(0.0);
    for &i in which {
        let (neg, t) = terms[i];
        let d = diff::differentiate(t, v, &net.functions);
        acc = if neg {
            expr::sub(acc, d)
        } else {
            expr::add(acc, d)
        };
    }
    acc
}
