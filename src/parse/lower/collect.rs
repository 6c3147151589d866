//! First pass: every statement read, every name declared, the values of
//! `input`, `param` and `const` lines and the settings read.

use super::*;

impl Lowerer<'_> {
    /// First pass: read every statement, declare every name.
    pub(super) fn collect<'i>(&mut self, file: Pair<'i, Rule>) -> Raw<'i> {
        let mut raw = Raw {
            title: None,
            layers: Vec::new(),
            functions: Vec::new(),
            targets: Vec::new(),
            loss: None,
            rate: None,
            optimizer: None,
            weight_decay: None,
            l2: None,
            init: None,
            data: None,
        };
        for stmt in file.into_inner() {
            let span = Span::of(stmt.as_span());
            match stmt.as_rule() {
                Rule::network_stmt => self.title_stmt(stmt, span, &mut raw),
                Rule::input_stmt | Rule::param_stmt | Rule::const_stmt => self.scalar_stmt(stmt),
                Rule::target_stmt => {
                    for a in stmt.into_inner().skip(1) {
                        for (name, span, value) in self.assignment(a, false) {
                            raw.targets.push((name, value, span));
                        }
                    }
                }
                Rule::fn_stmt => self.fn_stmt(stmt, &mut raw),
                Rule::layer_stmt => self.layer_stmt(stmt, &mut raw),
                Rule::init_stmt if self.first_time(raw.init.map(|i| i.2), span, "`init`") => {
                    raw.init = self.init(stmt, span);
                }
                Rule::init_stmt => {}
                Rule::loss_stmt => {
                    let body = stmt.into_inner().nth(1).expect("loss body");
                    if self.first_time(raw.loss.as_ref().map(|l| l.1), span, "`loss`") {
                        raw.loss = Some((body, span));
                    }
                }
                Rule::data_stmt => {
                    let body = stmt.into_inner().nth(1).expect("data body");
                    if self.first_time(raw.data.as_ref().map(|d| d.2), span, "`data` block") {
                        raw.data = Some((body.as_str().to_string(), body.as_span().start(), span));
                    }
                }
                Rule::batch_stmt => {
                    let b = stmt.into_inner().nth(1).expect("batch kind");
                    self.net.batch = match b.as_str() {
                        "mean" => Batch::Mean,
                        "sum" => Batch::Sum,
                        other => {
                            self.error(
                                Span::of(b.as_span()),
                                format!("unknown batch `{other}`; it is `mean` or `sum`"),
                            );
                            Batch::Mean
                        }
                    };
                }
                Rule::optimizer_stmt => self.optimizer_stmt(stmt, span, &mut raw),
                Rule::weight_decay_stmt => {
                    let n = stmt.into_inner().nth(1).expect("weight decay value");
                    let nspan = Span::of(n.as_span());
                    match read_number(n.as_str(), nspan) {
                        Ok(v) if v >= 0.0 => {
                            let first = raw.weight_decay.map(|w| w.1);
                            if self.first_time(first, span, "`weight_decay`") {
                                raw.weight_decay = Some((v, span));
                            }
                        }
                        Ok(_) => self.error(nspan, "the weight decay must be 0 or more"),
                        Err(d) => self.errors.push(d),
                    }
                }
                Rule::l2_stmt => self.l2_stmt(stmt, span, &mut raw),
                Rule::rate_stmt => {
                    let n = stmt.into_inner().nth(1).expect("rate value");
                    let nspan = Span::of(n.as_span());
                    match read_number(n.as_str(), nspan) {
                        Ok(v) if v > 0.0 => {
                            if self.first_time(raw.rate.map(|r| r.1), span, "`rate`") {
                                raw.rate = Some((v, span));
                            }
                        }
                        Ok(_) => self.error(nspan, "the learning rate must be greater than 0"),
                        Err(d) => self.errors.push(d),
                    }
                }
                _ => {} // EOI
            }
        }
        // Neurons are declared after the scalars so that a clash names the
        // earlier statement, whatever order the file uses.
        let mut next = 0u32;
        for (li, layer) in raw.layers.iter().enumerate() {
            for (name, span, _) in &layer.neurons {
                self.declare(name, *span, Kind::Neuron(next));
                self.neuron_layers.push(li as u32);
                next += 1;
            }
        }
        if let Some((body, offset, span)) = raw.data.clone() {
            self.data(&body, offset, span, raw.layers.len());
        }
        raw
    }

    /// `l2 λ` or `l2 λ on NAMES`: λ (0 or more) and the names as written.
    fn l2_stmt<'i>(&mut self, stmt: Pair<'i, Rule>, span: Span, raw: &mut Raw<'i>) {
        let mut parts = stmt.into_inner().skip(1);
        let n = parts.next().expect("l2 value");
        let nspan = Span::of(n.as_span());
        let lambda = match read_number(n.as_str(), nspan) {
            Ok(v) if v >= 0.0 => v,
            Ok(_) => return self.error(nspan, "λ of the L2 term must be 0 or more"),
            Err(d) => return self.errors.push(d),
        };
        let names = parts.find(|p| p.as_rule() == Rule::l2_names).map(|list| {
            list.into_inner()
                .map(|g| (g.as_str().to_string(), Span::of(g.as_span())))
                .collect()
        });
        let first = raw.l2.as_ref().map(|l| l.2);
        if self.first_time(first, span, "`l2`") {
            raw.l2 = Some((lambda, names, span));
        }
    }

    /// `network "title"`: the title, its characters checked.
    fn title_stmt<'i>(&mut self, stmt: Pair<'i, Rule>, span: Span, raw: &mut Raw<'i>) {
        let s = stmt.into_inner().nth(1).expect("title");
        // One quote off each end: `"say \"hi\""` is `say "hi"`.
        let quoted = s.as_str();
        let inner = quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or(quoted);
        let text = unescape(inner);
        let start = s.as_span().start();
        for (i, c) in inner.char_indices() {
            if !is_text(c) {
                self.errors.push(
                    Diagnostic::new(
                        Span::new(start + 1 + i, start + 1 + i + c.len_utf8()),
                        format!(
                            "the title has U+{:04X}, which is not a character of text",
                            c as u32
                        ),
                    )
                    .with_note("remove it: titles go into HTML, LaTeX and XML files"),
                );
                break;
            }
        }
        let first = raw.title.as_ref().map(|t| t.1);
        if self.first_time(first, span, "`network` title") {
            raw.title = Some((text, span));
        }
    }

    /// `input`, `param` or `const` lines: each name declared with its value.
    fn scalar_stmt(&mut self, stmt: Pair<'_, Rule>) {
        let rule = stmt.as_rule();
        for a in stmt.into_inner().skip(1) {
            for (name, nspan, value) in self.assignment(a, true) {
                let list = match rule {
                    Rule::input_stmt => &self.net.inputs,
                    Rule::param_stmt => &self.net.params,
                    _ => &self.net.consts,
                };
                let idx = list.len() as u32;
                let kind = match rule {
                    Rule::input_stmt => Kind::Input(idx),
                    Rule::param_stmt => Kind::Param(idx),
                    _ => Kind::Const(idx),
                };
                if self.declare(&name, nspan, kind) {
                    let s = Scalar {
                        name,
                        value,
                        span: nspan,
                    };
                    match rule {
                        Rule::input_stmt => self.net.inputs.push(s),
                        Rule::param_stmt => self.net.params.push(s),
                        _ => self.net.consts.push(s),
                    }
                }
            }
        }
    }

    /// `fn name(args) = body`: the name declared, the body kept for later.
    fn fn_stmt<'i>(&mut self, stmt: Pair<'i, Rule>, raw: &mut Raw<'i>) {
        let mut it = stmt.into_inner().skip(1);
        let name = it.next().expect("fn name");
        let params = it.next().expect("fn params");
        let body = it.next().expect("fn body");
        let nspan = Span::of(name.as_span());
        let mut args: Vec<String> = Vec::new();
        for p in params.into_inner() {
            let a = p.as_str().to_string();
            let aspan = Span::of(p.as_span());
            if args.contains(&a) {
                self.error(aspan, format!("argument `{a}` is named twice"));
            } else if is_builtin_name(&a) || KEYWORDS.contains(&a.as_str()) {
                self.error(
                    aspan,
                    format!("`{a}` is a built-in name and cannot name an argument"),
                );
            }
            args.push(a);
        }
        let idx = raw.functions.len() as u32;
        if self.declare(name.as_str(), nspan, Kind::Function(idx)) {
            raw.functions
                .push((name.as_str().to_string(), args, body, nspan));
        }
    }

    /// `layer NAME ACT { … }` or `layer NAME[n] ACT dense SRC`.
    fn layer_stmt<'i>(&mut self, stmt: Pair<'i, Rule>, raw: &mut Raw<'i>) {
        let mut it = stmt.into_inner().skip(1).peekable();
        let name = it.next().expect("layer name");
        let size = match it.peek().map(|p| p.as_rule()) {
            Some(Rule::size) => it.next().map(|p| self.size(p)),
            _ => None,
        };
        let act = it.next().expect("activation");
        let body = it.next().expect("layer body");
        let lspan = Span::of(name.as_span());
        let lname = name.as_str().to_string();
        let idx = raw.layers.len() as u32;
        self.declare(&lname, lspan, Kind::Layer(idx));
        let mut neurons = Vec::new();
        let mut dense = None;
        if body.as_rule() == Rule::dense {
            let src = body.into_inner().nth(1).expect("dense source");
            dense = Some((src.as_str().to_string(), Span::of(src.as_span())));
            match size {
                Some(Some(n)) => {
                    for k in 1..=n {
                        neurons.push((format!("{lname}{k}"), lspan, None));
                    }
                }
                Some(None) => {}
                None => self.errors.push(
                    Diagnostic::new(lspan, format!("dense layer `{lname}` needs a size"))
                        .with_note(format!("write `layer {lname}[4] … dense …`")),
                ),
            }
        } else {
            for n in body.into_inner() {
                let mut ni = n.into_inner();
                let nname = ni.next().expect("neuron name");
                let expr = ni.next().expect("neuron expr");
                neurons.push((
                    nname.as_str().to_string(),
                    Span::of(nname.as_span()),
                    Some(expr),
                ));
            }
            if let Some(Some(n)) = size {
                if n != neurons.len() {
                    self.error(
                        lspan,
                        format!(
                            "layer `{lname}` is declared with {n} neurons but lists {}",
                            neurons.len()
                        ),
                    );
                }
            }
        }
        if neurons.is_empty() && dense.is_none() {
            self.error(lspan, format!("layer `{lname}` has no neurons"));
        }
        raw.layers.push(RawLayer {
            name: lname,
            span: lspan,
            act,
            neurons,
            dense,
        });
    }

    /// `optimizer NAME(args)`.
    fn optimizer_stmt<'i>(&mut self, stmt: Pair<'i, Rule>, span: Span, raw: &mut Raw<'i>) {
        let mut it = stmt.into_inner().skip(1);
        let name = it.next().expect("optimizer name");
        let mut args = Vec::new();
        let mut ok = true;
        for a in it.flat_map(|a| a.into_inner()) {
            match read_number(a.as_str(), Span::of(a.as_span())) {
                Ok(v) => args.push(v),
                Err(d) => {
                    ok = false;
                    self.errors.push(d);
                }
            }
        }
        if self.first_time(raw.optimizer.map(|o| o.1), span, "`optimizer`") && ok {
            match crate::optimizer::Optimizer::from_parts(name.as_str(), &args) {
                Ok(o) => raw.optimizer = Some((o, span)),
                Err(m) => self.error(span, m),
            }
        }
    }

    /// The scalars of an assignment: one for `w = 0.1`, one per element for
    /// `x[3] = [0.1, 0.5, -0.2]` (named x1, x2, x3). With `declare_vector`
    /// the vector's name is declared too, so that `dense x` finds it.
    pub(super) fn assignment(
        &mut self,
        a: Pair<'_, Rule>,
        declare_vector: bool,
    ) -> Vec<(String, Span, f64)> {
        let mut it = a.into_inner().peekable();
        let name = it.next().expect("name");
        let nspan = Span::of(name.as_span());
        let size = match it.peek().map(|p| p.as_rule()) {
            Some(Rule::size) => it
                .next()
                .map(|p| (self.size(p.clone()), Span::of(p.as_span()))),
            _ => None,
        };
        let value = it.next().expect("value");
        if value.as_rule() == Rule::vector {
            let mut out = Vec::new();
            let mut names = Vec::new();
            for (k, n) in value.into_inner().enumerate() {
                match read_number(n.as_str(), Span::of(n.as_span())) {
                    Ok(v) => {
                        let elem = format!("{}{}", name.as_str(), k + 1);
                        names.push(elem.clone());
                        out.push((elem, nspan, v));
                    }
                    Err(d) => self.errors.push(d),
                }
            }
            if let Some((Some(n), sspan)) = size {
                if n != names.len() {
                    self.error(
                        sspan,
                        format!(
                            "`{}` is declared with {n} elements but has {}",
                            name.as_str(),
                            names.len()
                        ),
                    );
                }
            }
            if names.is_empty() {
                self.error(nspan, format!("`{}` is an empty vector", name.as_str()));
            }
            if declare_vector && self.declare(name.as_str(), nspan, Kind::Vector) {
                self.vectors.insert(name.as_str().to_string(), names);
            }
            return out;
        }
        if let Some((_, sspan)) = size {
            self.error(
                sspan,
                "a size needs a vector of values, like `x[2] = [0.1, 0.2]`",
            );
        }
        // A number out of range is reported, and the name still declared
        // (with 0) so that its uses are not reported as unknown as well.
        let v = read_number(value.as_str(), Span::of(value.as_span())).unwrap_or_else(|d| {
            self.errors.push(d);
            0.0
        });
        vec![(name.as_str().to_string(), nspan, v)]
    }

    /// The number of a `[n]` size; refuses 0 and sizes past the limit.
    pub(super) fn size(&mut self, p: Pair<'_, Rule>) -> Option<usize> {
        let span = Span::of(p.as_span());
        let text = p.into_inner().next().map_or("", |i| i.as_str());
        match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LAYER_WIDTH).contains(&n) => Some(n),
            _ => {
                self.errors.push(
                    Diagnostic::new(span, format!("size `{text}` is out of range")).with_note(
                        format!("a size is a whole number from 1 to {MAX_LAYER_WIDTH}"),
                    ),
                );
                None
            }
        }
    }

    /// Reads `init DIST(args) seed S`.
    pub(super) fn init(
        &mut self,
        stmt: Pair<'_, Rule>,
        span: Span,
    ) -> Option<(InitDist, u64, Span)> {
        let mut it = stmt.into_inner().skip(1);
        let dist = it.next().expect("distribution");
        let dspan = Span::of(dist.as_span());
        let mut args = Vec::new();
        let mut seed = 0u64;
        for p in it {
            match p.as_rule() {
                Rule::signed_number => match read_number(p.as_str(), Span::of(p.as_span())) {
                    Ok(v) => args.push(v),
                    Err(d) => {
                        self.errors.push(d);
                        return None;
                    }
                },
                Rule::integer => match p.as_str().parse::<u64>() {
                    Ok(s) => seed = s,
                    Err(_) => {
                        self.error(
                            Span::of(p.as_span()),
                            "the seed must be a whole number below 2^64",
                        );
                        return None;
                    }
                },
                _ => {}
            }
        }
        let d = match (dist.as_str(), args.as_slice()) {
            ("uniform", [a, b]) if a < b => InitDist::Uniform(*a, *b),
            ("uniform", [_, _]) => {
                self.error(dspan, "uniform(a, b) needs a < b");
                return None;
            }
            ("normal", [m, sd]) if *sd > 0.0 => InitDist::Normal(*m, *sd),
            ("normal", [_, _]) => {
                self.error(dspan, "normal(mean, sd) needs sd > 0");
                return None;
            }
            ("xavier", []) => InitDist::Xavier,
            (name @ ("uniform" | "normal" | "xavier"), _) => {
                let want = if name == "xavier" {
                    "no arguments"
                } else {
                    "two arguments"
                };
                self.error(dspan, format!("`{name}` takes {want}"));
                return None;
            }
            (other, _) => {
                let mut d = Diagnostic::new(dspan, format!("unknown initialisation `{other}`"));
                if let Some(s) = closest(other, ["uniform", "normal", "xavier"].into_iter()) {
                    d.message.push_str(&format!("; did you mean `{s}`?"));
                }
                self.errors
                    .push(d.with_note("use `uniform(a, b)`, `normal(mean, sd)` or `xavier`"));
                return None;
            }
        };
        Some((d, seed, span))
    }
}

/// Whether `c` may stand in a title: no control character (tabs aside) and
/// no Unicode noncharacter (U+FFFE, U+FFFF, U+FDD0…), which XML forbids.
pub(super) fn is_text(c: char) -> bool {
    let n = c as u32;
    let nonchar = (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE;
    (c == '\t' || !c.is_control()) && !nonchar
}

pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}
