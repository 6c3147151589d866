//! Second pass: functions, layers, neurons, targets and the loss resolved,
//! with the checks that need every name (recursion, expanded sizes).

use super::*;

impl Lowerer<'_> {
    /// Second pass: resolve functions, layers, neurons, targets and loss.
    pub(super) fn resolve(&mut self, raw: Raw<'_>) {
        self.net.title = raw.title.as_ref().map(|(t, _)| t.clone());
        if let Some((r, _)) = raw.rate {
            self.net.rate = r;
        }
        if let Some((o, _)) = raw.optimizer {
            self.net.optimizer = o;
        }
        // PyTorch's AdamW decays by 0.01 unless told otherwise.
        self.net.weight_decay = match (raw.weight_decay, self.net.optimizer) {
            (Some((w, _)), _) => w,
            (None, crate::optimizer::Optimizer::AdamW(..)) => 0.01,
            (None, _) => 0.0,
        };
        self.resolve_functions(&raw);
        self.check_recursion(&raw);
        if !self.resolve_layers(&raw) {
            return;
        }
        self.resolve_targets(&raw);
        self.resolve_loss(raw.loss);
        self.resolve_l2(raw.l2);
        if self.errors.is_empty() {
            self.check_expanded_sizes();
        }
    }

    /// The user functions, their bodies read over their arguments.
    fn resolve_functions(&mut self, raw: &Raw<'_>) {
        for (name, args, body, span) in &raw.functions {
            let res = FnResolver { l: self, args };
            let mut errs = Vec::new();
            let e = read_expr(body.clone(), &res, &mut errs);
            self.errors.extend(errs);
            self.net.functions.push(Function {
                name: name.clone(),
                args: args.clone(),
                body: e,
                span: *span,
            });
        }
    }

    /// Every layer and neuron: explicit neuron lines and dense layers;
    /// `false` when the layers are refused whole (too many params to make).
    fn resolve_layers(&mut self, raw: &Raw<'_>) -> bool {
        let mut next = 0u32;
        let mut rng = raw
            .init
            .map(|(_, seed, _)| crate::rng::SplitMix64::new(seed));
        let mut generated = 0usize;
        for (li, layer) in raw.layers.iter().enumerate() {
            let activation = self.activation(layer.act.clone());
            let first = next;
            let sources = match &layer.dense {
                Some((src, sspan)) => self.dense_sources(src, *sspan, li as u32),
                None => Vec::new(),
            };
            if layer.dense.is_some() {
                generated =
                    generated.saturating_add(layer.neurons.len().saturating_mul(sources.len() + 1));
                if generated > MAX_GENERATED_PARAMS {
                    self.errors.push(
                        Diagnostic::new(
                            layer.span,
                            format!(
                                "the dense layers up to `{}` have {generated} params, more than the limit of {MAX_GENERATED_PARAMS} params of one network",
                                layer.name
                            ),
                        )
                        .with_note("make the layers narrower"),
                    );
                    return false;
                }
            }
            let mut missing = 0usize;
            for (name, span, expr) in &layer.neurons {
                let e = match expr {
                    Some(expr) => {
                        let res = NetResolver {
                            l: self,
                            layer: li as u32,
                            first_of_layer: first,
                            this: next,
                        };
                        let mut errs = Vec::new();
                        let e = read_expr(expr.clone(), &res, &mut errs);
                        self.errors.extend(errs);
                        e
                    }
                    None => {
                        let fan = (sources.len(), layer.neurons.len());
                        self.dense_net(
                            name,
                            *span,
                            &sources,
                            fan,
                            raw.init.map(|i| i.0),
                            &mut rng,
                            &mut missing,
                        )
                    }
                };
                self.net.neurons.push(Neuron {
                    name: name.clone(),
                    layer: li as u32,
                    net: e,
                    span: *span,
                });
                next += 1;
            }
            if missing > 0 {
                self.errors.push(
                    Diagnostic::new(
                        layer.span,
                        format!("dense layer `{}` has {missing} params with no value", layer.name),
                    )
                    .with_note("add `init uniform(-0.5, 0.5) seed 1` (or `normal(0, 0.1)`, `xavier`), or `param` lines for them"),
                );
            }
            self.net.layers.push(Layer {
                name: layer.name.clone(),
                activation,
                neurons: first..next,
                span: layer.span,
            });
        }
        if raw.layers.is_empty() {
            let end = self.src.trim_end().len();
            self.errors.push(
                Diagnostic::new(Span::new(end, end), "the network has no layers")
                    .with_note("add one: `layer o sigmoid { o1 = w1*i1 + b1 }`"),
            );
        }
        true
    }

    /// The targets: one for every output, from `target` lines or the data.
    fn resolve_targets(&mut self, raw: &Raw<'_>) {
        self.net.targets = vec![None; self.net.neurons.len()];
        self.net.target_spans = vec![None; self.net.neurons.len()];
        let outputs = self.net.outputs();
        if let Some(data) = &self.net.data {
            for (k, &o) in data.outputs.iter().enumerate() {
                self.net.targets[o as usize] = Some(data.rows[0].1[k]);
                self.net.target_spans[o as usize] = Some(data.spans[0]);
            }
            if let Some((_, _, span)) = raw.targets.first() {
                self.errors.push(
                    Diagnostic::new(*span, "targets come from the `data` block here")
                        .with_note("remove the `target` line, or the `data` block"),
                );
            }
        }
        let given: Vec<String> = raw.targets.iter().map(|t| t.0.clone()).collect();
        for &(ref name, value, span) in &raw.targets {
            match self.decls.get(name.as_str()).map(|d| d.kind) {
                Some(Kind::Neuron(n)) if outputs.contains(&n) => {
                    if let Some(prev) = self.net.target_spans[n as usize] {
                        let at = self.at(prev);
                        self.errors.push(
                            Diagnostic::new(span, format!("`{name}` has a second target"))
                                .with_note(format!("the first is at {at}")),
                        );
                    } else {
                        self.net.targets[n as usize] = Some(value);
                        self.net.target_spans[n as usize] = Some(span);
                    }
                }
                Some(Kind::Neuron(n)) => {
                    let layer = &self.net.layers[self.net.neurons[n as usize].layer as usize].name;
                    let last = self.net.layers.last().map_or("", |l| l.name.as_str());
                    self.errors.push(
                        Diagnostic::new(
                            span,
                            format!("target on `{name}`, which is in layer `{layer}`, not in the last layer `{last}`"),
                        )
                        .with_note("targets belong to the neurons of the last layer"),
                    );
                }
                Some(k) => self.error(
                    span,
                    format!("target on `{name}`, which is {}, not a neuron", k.noun()),
                ),
                None => {
                    let names: Vec<&str> = outputs
                        .clone()
                        .map(|n| self.net.neurons[n as usize].name.as_str())
                        .collect();
                    let mut d = Diagnostic::new(span, format!("target on unknown neuron `{name}`"));
                    // Suggest only an output still without a target.
                    let open = names
                        .iter()
                        .copied()
                        .filter(|n| !given.iter().any(|g| g == n));
                    if let Some(s) = closest(name, open) {
                        d.message.push_str(&format!("; did you mean `{s}`?"));
                    }
                    if let Some(last) = self.net.layers.last() {
                        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
                        d = d.with_note(format!(
                            "the outputs (layer `{}`) are {}",
                            last.name,
                            crate::parse::join_and(&quoted)
                        ));
                    }
                    self.errors.push(d);
                }
            }
        }
        for n in outputs {
            if self.net.targets[n as usize].is_none() {
                let neuron = &self.net.neurons[n as usize];
                let note = if self.net.data.is_some() {
                    format!("name `{}` after `->` in the data header", neuron.name)
                } else {
                    format!("give it a target, e.g. `target {} = 0.5`", neuron.name)
                };
                let d = Diagnostic::new(
                    neuron.span,
                    format!("output `{}` has no target", neuron.name),
                )
                .with_note(note);
                self.errors.push(d);
            }
        }
    }

    /// The loss: a built-in one by name, or `loss E = …`.
    fn resolve_loss(&mut self, loss: Option<(Pair<'_, Rule>, Span)>) {
        if let Some((body, span)) = loss {
            self.net.loss_span = Some(span);
            match body.as_rule() {
                Rule::custom_loss => {
                    let e = first_inner_expr(body);
                    let res = LossResolver { l: self };
                    let mut errs = Vec::new();
                    let e = read_expr(e, &res, &mut errs);
                    // A misspelt `out` is reported as an unknown name already.
                    let clean = errs.is_empty();
                    self.errors.extend(errs);
                    if clean && !e.mentions(Sym::LossOut) {
                        self.error(span, "the loss does not use `out`, so it has no gradient");
                    }
                    self.net.loss = Loss::Custom(e);
                }
                _ => {
                    let name = body.as_str();
                    let bspan = Span::of(body.as_span());
                    self.net.loss = match Loss::from_name(name) {
                        Some(builtin) => builtin,
                        None => {
                            let mut d = Diagnostic::new(bspan, format!("unknown loss `{name}`"));
                            if let Some(s) = closest(name, Loss::BUILTIN_NAMES.into_iter()) {
                                d.message.push_str(&format!("; did you mean `{s}`?"));
                            }
                            self.errors.push(d.with_note(
                                "losses are `mse`, `mse_mean`, `sse`, `bce`, `ce`, or `loss E = expression` over `target` and `out`",
                            ));
                            Loss::Mse
                        }
                    };
                }
            }
        }
    }

    /// Refuses trees too deep or too large once the user functions they
    /// call are expanded into them (see [`limits`]). Run only on an
    /// otherwise correct network: it needs the functions free of cycles.
    pub(super) fn check_expanded_sizes(&mut self) {
        let fns = &self.net.functions;
        let mut calls = vec![Vec::new(); fns.len()];
        for (f, out) in fns.iter().zip(calls.iter_mut()) {
            collect_calls(&f.body, out);
        }
        let bodies: Vec<(&Expr, usize)> = fns.iter().map(|f| (&f.body, f.args.len())).collect();
        let costs = limits::function_costs(&bodies, &calls);
        let mut errors = Vec::new();
        for (i, (f, c)) in fns.iter().zip(&costs).enumerate() {
            // Only where it starts: a caller of a function too large is
            // too large as well.
            let callee_too_large = calls[i].iter().any(|&g| !costs[g as usize].within_limits());
            if !c.within_limits() && !callee_too_large {
                errors.push(too_large(f.span, &format!("function `{}`", f.name), c));
            }
        }
        // A function too large makes its callers too large as well; the
        // function is the place to fix.
        if errors.is_empty() {
            let worst = |e: &Expr| {
                e.additive_terms()
                    .into_iter()
                    .map(|(_, t)| limits::cost(t, 0, &costs))
                    .find(|c| !c.within_limits())
            };
            for n in &self.net.neurons {
                if let Some(c) = worst(&n.net) {
                    errors.push(too_large(
                        n.span,
                        &format!("the net input of `{}`", n.name),
                        &c,
                    ));
                }
            }
            if let (Loss::Custom(e), Some(span)) = (&self.net.loss, self.net.loss_span) {
                if let Some(c) = worst(e) {
                    errors.push(too_large(span, "the loss", &c));
                }
            }
        }
        // Each term within the limit, the whole network may still not be:
        // ten thousand calls of a function of 100 000 nodes.
        if errors.is_empty() {
            let mut total = 0.0;
            let mut calls = Vec::new();
            for n in &self.net.neurons {
                for (_, t) in n.net.additive_terms() {
                    calls.clear();
                    collect_calls(t, &mut calls);
                    if !calls.is_empty() {
                        total += limits::cost(t, 0, &costs).size;
                    }
                }
                if let crate::model::Activation::User(f) =
                    self.net.layers[n.layer as usize].activation
                {
                    total += costs.get(f as usize).map_or(0.0, |c| c.size);
                }
                if total > limits::MAX_EXPANDED_TOTAL {
                    errors.push(
                        Diagnostic::new(
                            n.span,
                            format!(
                                "the network has more than {} nodes once the functions it calls are expanded (the limit of a whole network), {} of them up to `{}`",
                                limits::MAX_EXPANDED_TOTAL,
                                crate::number::format(total, 0),
                                n.name
                            ),
                        )
                        .with_note("call the large functions fewer times, or make them smaller"),
                    );
                    break;
                }
            }
        }
        self.errors.extend(errors);
    }

    pub(super) fn activation(&mut self, act: Pair<'_, Rule>) -> Activation {
        let mut it = act.into_inner();
        let name = it.next().expect("activation name");
        let arg = it.next();
        let span = Span::of(name.as_span());
        let n = name.as_str();
        let slope = match &arg {
            Some(a) => match read_number(a.as_str(), Span::of(a.as_span())) {
                Ok(v) => Some(v),
                Err(d) => {
                    self.errors.push(d);
                    Some(0.01)
                }
            },
            None => None,
        };
        if n != "leaky_relu" {
            if let Some(a) = &arg {
                self.error(
                    Span::of(a.as_span()),
                    format!("activation `{n}` takes no parameter"),
                );
            }
        }
        match Activation::from_name(n, slope) {
            Some(builtin) => builtin,
            None => match self.decls.get(n).map(|d| d.kind) {
                Some(Kind::Function(f)) => {
                    let argc = self.net.functions[f as usize].args.len();
                    if argc != 1 {
                        self.error(
                            span,
                            format!("function `{n}` takes {argc} arguments; an activation takes exactly one"),
                        );
                    }
                    Activation::User(f)
                }
                _ => {
                    let fns: Vec<String> = self
                        .net
                        .functions
                        .iter()
                        .filter(|f| f.args.len() == 1)
                        .map(|f| f.name.clone())
                        .collect();
                    let mut d = Diagnostic::new(span, format!("unknown activation `{n}`"));
                    let candidates = Activation::BUILTIN_NAMES
                        .iter()
                        .copied()
                        .chain(fns.iter().map(String::as_str));
                    if let Some(s) = closest(n, candidates) {
                        d.message.push_str(&format!("; did you mean `{s}`?"));
                    }
                    d = d.with_note(
                        "activations are `sigmoid`, `tanh`, `relu`, `leaky_relu`, `identity`, `softplus`, `softmax`, or a one-argument `fn`",
                    );
                    self.errors.push(d);
                    Activation::Identity
                }
            },
        }
    }

    /// Refuses user functions that call themselves, directly or not.
    pub(super) fn check_recursion(&mut self, raw: &Raw<'_>) {
        let n = self.net.functions.len();
        let mut calls: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, f) in self.net.functions.iter().enumerate() {
            collect_calls(&f.body, &mut calls[i]);
        }
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut reported = vec![false; n];
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (f, ref mut next)) = stack.last_mut() {
                if *next < calls[f].len() {
                    let g = calls[f][*next] as usize;
                    *next += 1;
                    if state[g] == 1 {
                        if !reported[g] {
                            reported[g] = true;
                            let cycle: Vec<&str> = stack
                                .iter()
                                .skip_while(|(h, _)| *h != g)
                                .map(|(h, _)| self.net.functions[*h].name.as_str())
                                .collect();
                            let path =
                                format!("{} → {}", cycle.join(" → "), self.net.functions[g].name);
                            let span = raw.functions[g].3;
                            self.errors.push(
                                Diagnostic::new(
                                    span,
                                    format!("function `{}` is recursive ({path})", self.net.functions[g].name),
                                )
                                .with_note("a function may only call built-ins and other, non-recursive functions"),
                            );
                        }
                    } else if state[g] == 0 {
                        state[g] = 1;
                        stack.push((g, 0));
                    }
                } else {
                    state[f] = 2;
                    stack.pop();
                }
            }
        }
    }
}

/// The error for a tree beyond the limits once functions are expanded.
pub(super) fn too_large(span: Span, what: &str, c: &limits::Cost) -> Diagnostic {
    let message = if c.depth > limits::MAX_DEPTH as f64 {
        format!(
            "{what} is nested {} levels deep once the functions it calls are expanded, more than the limit of {}",
            crate::number::format(c.depth, 0),
            limits::MAX_DEPTH
        )
    } else {
        format!(
            "{what} has {} nodes once the functions it calls are expanded, more than the limit of {}",
            crate::number::format(c.size, 0),
            limits::MAX_EXPANDED_SIZE
        )
    };
    Diagnostic::new(span, message)
        .with_note("each call is replaced by the function's body when it is differentiated")
}

pub(super) fn first_inner_expr(custom: Pair<'_, Rule>) -> Pair<'_, Rule> {
    custom
        .into_inner()
        .nth(1)
        .expect("the grammar gives a custom loss an expression")
}

pub(super) fn rows_of(rows: &[(String, usize)]) -> impl Iterator<Item = (&str, usize)> {
    rows.iter().map(|(t, p)| (t.as_str(), *p))
}

/// The user functions `e` calls, in order of first call.
pub(super) fn collect_calls(e: &Expr, out: &mut Vec<u32>) {
    e.visit_calls(&mut |u| {
        if !out.contains(&u) {
            out.push(u);
        }
    });
}

/// Resolves names in a call, shared by every context.
pub(super) fn resolve_func(
    l: &Lowerer<'_>,
    name: &str,
    argc: usize,
    span: Span,
) -> Result<Func, Diagnostic> {
    if let Some(b) = Builtin::from_name(name) {
        let ar = b.arity();
        if !ar.contains(&argc) {
            let want = if ar.start() == ar.end() {
                format!("{}", ar.start())
            } else {
                format!("{} or {}", ar.start(), ar.end())
            };
            return Err(Diagnostic::new(
                span,
                format!(
                    "`{name}` takes {want} argument{}, not {argc}",
                    if want == "1" { "" } else { "s" }
                ),
            ));
        }
        return Ok(Func::Builtin(b));
    }
    match l.decls.get(name).map(|d| d.kind) {
        Some(Kind::Function(f)) => {
            let want = l
                .net
                .functions
                .get(f as usize)
                .map_or(argc, |f| f.args.len());
            if want != argc {
                return Err(Diagnostic::new(
                    span,
                    format!(
                        "`{name}` takes {want} argument{}, not {argc}",
                        if want == 1 { "" } else { "s" }
                    ),
                ));
            }
            Ok(Func::User(f))
        }
        Some(k) => Err(Diagnostic::new(
            span,
            format!("`{name}` is {}, not a function", k.noun()),
        )),
        None => {
            let mut d = Diagnostic::new(span, format!("unknown function `{name}`"));
            let user: Vec<&str> = l
                .decls
                .iter()
                .filter(|(_, d)| matches!(d.kind, Kind::Function(_)))
                .map(|(n, _)| n.as_str())
                .collect();
            let cands = Builtin::ALL.iter().map(|b| b.name()).chain(user);
            if let Some(s) = closest(name, cands) {
                d.message.push_str(&format!("; did you mean `{s}`?"));
            }
            Err(d.with_note("functions are `exp`, `ln`, `sqrt`, `sigmoid`, `tanh`, `relu`, `leaky_relu`, `softplus`, `step`, or one defined with `fn`"))
        }
    }
}

pub(super) fn scalar_sym(kind: Kind) -> Option<Sym> {
    match kind {
        Kind::Input(i) => Some(Sym::Input(i)),
        Kind::Param(i) => Some(Sym::Param(i)),
        Kind::Const(i) => Some(Sym::Const(i)),
        _ => None,
    }
}

/// Names inside a neuron's net input.
pub(super) struct NetResolver<'a, 's> {
    l: &'a Lowerer<'s>,
    layer: u32,
    first_of_layer: u32,
    this: u32,
}

impl Resolver for NetResolver<'_, '_> {
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic> {
        let Some(decl) = self.l.decls.get(name) else {
            let layer = self.layer;
            let first = self.first_of_layer;
            return Err(self.l.unknown_name(name, span, &|k| match k {
                Kind::Neuron(n) => n < first && layer > 0,
                k => scalar_sym(k).is_some(),
            }));
        };
        match decl.kind {
            Kind::Neuron(n) if n == self.this => Err(Diagnostic::new(
                span,
                format!("neuron `{name}` uses its own output"),
            )
            .with_note("a neuron may only use neurons of earlier layers")),
            Kind::Neuron(n) if n >= self.first_of_layer => {
                let same = self.l.neuron_layers.get(n as usize) == Some(&self.layer);
                Err(Diagnostic::new(
                    span,
                    format!(
                        "`{name}` is in {} layer; a neuron may only use neurons of earlier layers",
                        if same { "the same" } else { "a later" }
                    ),
                ))
            }
            Kind::Neuron(n) => Ok(Sym::Out(n)),
            Kind::Layer(_) | Kind::Function(_) | Kind::Vector => Err(Diagnostic::new(
                span,
                format!("`{name}` is {}, not a value", decl.kind.noun()),
            )),
            k => Ok(scalar_sym(k).expect("scalar kinds")),
        }
    }

    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
        resolve_func(self.l, name, argc, span)
    }
}

/// Names inside a user function's body: its arguments and fixed numbers.
pub(super) struct FnResolver<'a, 's> {
    l: &'a Lowerer<'s>,
    args: &'a [String],
}

impl Resolver for FnResolver<'_, '_> {
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic> {
        if let Some(k) = self.args.iter().position(|a| a == name) {
            return Ok(Sym::Arg(k as u32));
        }
        match self.l.decls.get(name).map(|d| d.kind) {
            Some(k) if scalar_sym(k).is_some() => Ok(scalar_sym(k).expect("scalar")),
            Some(k) => Err(Diagnostic::new(
                span,
                format!("`{name}` is {}; a function body may use its arguments, inputs, params and consts", k.noun()),
            )),
            None => {
                let args = self.args.iter().map(String::as_str);
                let mut d = Diagnostic::new(span, format!("unknown name `{name}` in a function body"));
                if let Some(s) = closest(name, args) {
                    d.message.push_str(&format!("; did you mean `{s}`?"));
                }
                Err(d.with_note("a function body may use its arguments, inputs, params and consts"))
            }
        }
    }

    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
        resolve_func(self.l, name, argc, span)
    }
}

/// Names inside `loss E = …`: `target`, `out` and consts.
pub(super) struct LossResolver<'a, 's> {
    l: &'a Lowerer<'s>,
}

impl Resolver for LossResolver<'_, '_> {
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic> {
        match name {
            "target" => return Ok(Sym::LossTarget),
            "out" => return Ok(Sym::LossOut),
            _ => {}
        }
        match self.l.decls.get(name).map(|d| d.kind) {
            Some(Kind::Const(i)) => Ok(Sym::Const(i)),
            _ => {
                let mut d = Diagnostic::new(span, format!("unknown name `{name}` in the loss"));
                if let Some(s) = closest(name, ["target", "out"].into_iter()) {
                    d.message.push_str(&format!("; did you mean `{s}`?"));
                }
                Err(d.with_note("a custom loss may use `target`, `out`, numbers and consts"))
            }
        }
    }

    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
        resolve_func(self.l, name, argc, span)
    }
}
