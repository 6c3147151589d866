//! pest pairs of a `file` → a checked [`Network`]. Names are collected
//! first, so statements may come in any order; then every expression is
//! resolved. All problems are gathered and returned together.

use std::collections::HashMap;

use pest::iterators::Pair;

use super::{limits, read_expr, read_number, Resolver, Rule};
use crate::diagnostic::{line_col, Diagnostic, Span};
use crate::expr::{BinOp, Builtin, Expr, Func, Sym};
use crate::model::{Activation, Batch, Data, Function, Layer, Loss, Network, Neuron, Scalar};

/// The widest layer or vector accepted.
pub(crate) const MAX_LAYER_WIDTH: usize = 100_000;

/// Words of the language that cannot name anything.
pub(crate) const KEYWORDS: [&str; 16] = [
    "network",
    "input",
    "param",
    "const",
    "fn",
    "layer",
    "target",
    "loss",
    "rate",
    "init",
    "seed",
    "dense",
    "data",
    "batch",
    "optimizer",
    "weight_decay",
];

/// What a declared name is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Input(u32),
    Param(u32),
    Const(u32),
    Neuron(u32),
    Layer(u32),
    Function(u32),
    Vector,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Input(_) => "an input",
            Kind::Param(_) => "a param",
            Kind::Const(_) => "a const",
            Kind::Neuron(_) => "a neuron",
            Kind::Layer(_) => "a layer",
            Kind::Function(_) => "a function",
            Kind::Vector => "a vector",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Decl {
    kind: Kind,
    span: Span,
}

/// Statements as read, before names are resolved.
struct Raw<'i> {
    title: Option<(String, Span)>,
    layers: Vec<RawLayer<'i>>,
    functions: Vec<(String, Vec<String>, Pair<'i, Rule>, Span)>,
    targets: Vec<(String, f64, Span)>,
    loss: Option<(Pair<'i, Rule>, Span)>,
    rate: Option<(f64, Span)>,
    optimizer: Option<(crate::optimizer::Optimizer, Span)>,
    weight_decay: Option<(f64, Span)>,
    init: Option<(InitDist, u64, Span)>,
    data: Option<(String, usize, Span)>,
}

struct RawLayer<'i> {
    name: String,
    span: Span,
    act: Pair<'i, Rule>,
    neurons: Vec<(String, Span, Option<Pair<'i, Rule>>)>,
    /// `dense SRC`: the source's name and place.
    dense: Option<(String, Span)>,
}

/// `init …`: how dense layers' params get values.
#[derive(Debug, Clone, Copy)]
enum InitDist {
    Uniform(f64, f64),
    Normal(f64, f64),
    Xavier,
}

struct Lowerer<'s> {
    src: &'s str,
    errors: Vec<Diagnostic>,
    decls: HashMap<String, Decl>,
    /// The layer of each neuron, by index.
    neuron_layers: Vec<u32>,
    /// Vectors (`input x[3] = …`): name → element names.
    vectors: HashMap<String, Vec<String>>,
    net: Network,
}

/// Lowers a parsed `file` into a network, checking every rule of the language.
pub fn lower(file: Pair<'_, Rule>, src: &str) -> Result<Network, Vec<Diagnostic>> {
    let mut l = Lowerer {
        src,
        errors: Vec::new(),
        decls: HashMap::new(),
        neuron_layers: Vec::new(),
        vectors: HashMap::new(),
        net: Network {
            title: None,
            inputs: Vec::new(),
            params: Vec::new(),
            consts: Vec::new(),
            functions: Vec::new(),
            layers: Vec::new(),
            neurons: Vec::new(),
            targets: Vec::new(),
            target_spans: Vec::new(),
            loss: Loss::Mse,
            loss_span: None,
            rate: 0.5,
            optimizer: Default::default(),
            weight_decay: 0.0,
            data: None,
            batch: Default::default(),
        },
    };
    let raw = l.collect(file);
    l.resolve(raw);
    if l.errors.is_empty() {
        Ok(l.net)
    } else {
        Err(l.errors)
    }
}

impl<'s> Lowerer<'s> {
    fn at(&self, span: Span) -> String {
        let (line, col) = line_col(self.src, span.start);
        format!("{line}:{col}")
    }

    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(span, msg));
    }

    /// Declares `name` as `kind`, refusing keywords, built-in names and
    /// duplicates. Returns whether it was declared.
    fn declare(&mut self, name: &str, span: Span, kind: Kind) -> bool {
        if KEYWORDS.contains(&name) {
            self.error(
                span,
                format!("`{name}` is a keyword and cannot be used as a name"),
            );
            return false;
        }
        if is_builtin_name(name) {
            self.error(
                span,
                format!("`{name}` is a built-in name and cannot be redefined"),
            );
            return false;
        }
        if let Some(prev) = self.decls.get(name) {
            let d = Diagnostic::new(span, format!("duplicate name `{name}`")).with_note(format!(
                "`{name}` is already {} (defined at {})",
                prev.kind.noun(),
                self.at(prev.span)
            ));
            self.errors.push(d);
            return false;
        }
        self.decls.insert(name.to_string(), Decl { kind, span });
        true
    }

    /// First pass: read every statement, declare every name.
    fn collect<'i>(&mut self, file: Pair<'i, Rule>) -> Raw<'i> {
        let mut raw = Raw {
            title: None,
            layers: Vec::new(),
            functions: Vec::new(),
            targets: Vec::new(),
            loss: None,
            rate: None,
            optimizer: None,
            weight_decay: None,
            init: None,
            data: None,
        };
        for stmt in file.into_inner() {
            let span = Span::of(stmt.as_span());
            match stmt.as_rule() {
                Rule::network_stmt => {
                    let s = stmt.into_inner().nth(1).expect("title");
                    let text = unescape(s.as_str().trim_matches('"'));
                    if let Some((_, first)) = &raw.title {
                        let at = self.at(*first);
                        self.errors.push(
                            Diagnostic::new(span, "the network has a second `network` title")
                                .with_note(format!("the first is at {at}")),
                        );
                    } else {
                        raw.title = Some((text, span));
                    }
                }
                Rule::input_stmt | Rule::param_stmt | Rule::const_stmt => {
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
                Rule::target_stmt => {
                    for a in stmt.into_inner().skip(1) {
                        for (name, span, value) in self.assignment(a, false) {
                            raw.targets.push((name, value, span));
                        }
                    }
                }
                Rule::fn_stmt => {
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
                Rule::layer_stmt => {
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
                                Diagnostic::new(
                                    lspan,
                                    format!("dense layer `{lname}` needs a size"),
                                )
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
                Rule::init_stmt => {
                    if let Some((_, _, first)) = raw.init {
                        let at = self.at(first);
                        self.errors.push(
                            Diagnostic::new(span, "the network has a second `init`")
                                .with_note(format!("the first is at {at}")),
                        );
                    } else if let Some(init) = self.init(stmt, span) {
                        raw.init = Some(init);
                    }
                }
                Rule::loss_stmt => {
                    let body = stmt.into_inner().nth(1).expect("loss body");
                    if let Some((_, first)) = &raw.loss {
                        let at = self.at(*first);
                        self.errors.push(
                            Diagnostic::new(span, "the network has a second `loss`")
                                .with_note(format!("the first is at {at}")),
                        );
                    } else {
                        raw.loss = Some((body, span));
                    }
                }
                Rule::data_stmt => {
                    let body = stmt.into_inner().nth(1).expect("data body");
                    if let Some((_, _, first)) = &raw.data {
                        let at = self.at(*first);
                        self.errors.push(
                            Diagnostic::new(span, "the network has a second `data` block")
                                .with_note(format!("the first is at {at}")),
                        );
                    } else {
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
                Rule::optimizer_stmt => {
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
                    if let Some((_, first)) = raw.optimizer {
                        let at = self.at(first);
                        self.errors.push(
                            Diagnostic::new(span, "the network has a second `optimizer`")
                                .with_note(format!("the first is at {at}")),
                        );
                    } else if ok {
                        match crate::optimizer::Optimizer::from_parts(name.as_str(), &args) {
                            Ok(o) => raw.optimizer = Some((o, span)),
                            Err(m) => self.error(span, m),
                        }
                    }
                }
                Rule::weight_decay_stmt => {
                    let n = stmt.into_inner().nth(1).expect("weight decay value");
                    let nspan = Span::of(n.as_span());
                    match read_number(n.as_str(), nspan) {
                        Ok(v) if v >= 0.0 => {
                            if let Some((_, first)) = raw.weight_decay {
                                let at = self.at(first);
                                self.errors.push(
                                    Diagnostic::new(
                                        span,
                                        "the network has a second `weight_decay`",
                                    )
                                    .with_note(format!("the first is at {at}")),
                                );
                            } else {
                                raw.weight_decay = Some((v, span));
                            }
                        }
                        Ok(_) => self.error(nspan, "the weight decay must be 0 or more"),
                        Err(d) => self.errors.push(d),
                    }
                }
                Rule::rate_stmt => {
                    let n = stmt.into_inner().nth(1).expect("rate value");
                    let nspan = Span::of(n.as_span());
                    match read_number(n.as_str(), nspan) {
                        Ok(v) if v > 0.0 => {
                            if let Some((_, first)) = raw.rate {
                                let at = self.at(first);
                                self.errors.push(
                                    Diagnostic::new(span, "the network has a second `rate`")
                                        .with_note(format!("the first is at {at}")),
                                );
                            } else {
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

    /// Reads a `data` block: a header `i1, i2 -> o1` and one row a line.
    /// Inputs named in the header that no `input` line declares are
    /// declared here; the first row gives every input and target its value.
    fn data(&mut self, body: &str, offset: usize, block: Span, layers: usize) {
        let mut lines = Vec::new();
        let mut pos = offset;
        for line in body.split_inclusive('\n') {
            let text = line.split('#').next().unwrap_or("").trim_end();
            let lead = text.len() - text.trim_start().len();
            if !text.trim().is_empty() {
                lines.push((text.trim().to_string(), pos + lead));
            }
            pos += line.len();
        }
        let Some(((header, hpos), body_rows)) = lines.split_first() else {
            self.error(block, "the `data` block is empty");
            return;
        };
        let Some((ins, outs)) = header.split_once("->") else {
            self.errors.push(
                Diagnostic::new(
                    Span::new(*hpos, hpos + header.len()),
                    "the first line of `data` names inputs and outputs",
                )
                .with_note("write it like `i1, i2 -> o1`"),
            );
            return;
        };
        let names = |side: &str, base: usize| -> Vec<(String, Span)> {
            let mut out = Vec::new();
            let mut p = base;
            for part in side.split(',') {
                let t = part.trim();
                let lead = part.len() - part.trim_start().len();
                out.push((
                    t.to_string(),
                    Span::new(p + lead, p + lead + t.len().max(1)),
                ));
                p += part.len() + 1;
            }
            out
        };
        let in_names = names(ins, *hpos);
        let out_names = names(outs, hpos + ins.len() + 2);
        let last = layers.saturating_sub(1) as u32;
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        let valid = |n: &str| {
            n.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        for (n, sp) in &in_names {
            if !valid(n) {
                self.error(*sp, format!("`{n}` is not a name"));
                continue;
            }
            match self.decls.get(n).map(|d| d.kind) {
                Some(Kind::Input(i)) => inputs.push(i),
                None => {
                    let idx = self.net.inputs.len() as u32;
                    if self.declare(n, *sp, Kind::Input(idx)) {
                        self.net.inputs.push(Scalar {
                            name: n.clone(),
                            value: 0.0,
                            span: *sp,
                        });
                        inputs.push(idx);
                    }
                }
                Some(k) => self.error(*sp, format!("`{n}` is {}, not an input", k.noun())),
            }
        }
        for (n, sp) in &out_names {
            match self.decls.get(n).map(|d| d.kind) {
                Some(Kind::Neuron(x)) if self.neuron_layers.get(x as usize) == Some(&last) => {
                    outputs.push(x)
                }
                Some(Kind::Neuron(_)) => self.error(
                    *sp,
                    format!("`{n}` is not in the last layer; data gives targets of outputs"),
                ),
                _ => self.error(*sp, format!("`{n}` is not an output neuron")),
            }
        }
        let mut rows = Vec::new();
        let mut spans = Vec::new();
        for (text, p) in rows_of(body_rows) {
            let span = Span::new(p, p + text.len());
            let Some((a, b)) = text.split_once("->") else {
                self.errors.push(Diagnostic::new(
                    span,
                    "a data row needs `->` between inputs and targets",
                ));
                continue;
            };
            let mut nums = |side: &str, base: usize, want: usize, what: &str| -> Option<Vec<f64>> {
                let mut v = Vec::new();
                let mut q = base;
                for part in side.split(',') {
                    let t = part.trim();
                    let lead = part.len() - part.trim_start().len();
                    let sp = Span::new(q + lead, q + lead + t.len().max(1));
                    match t.parse::<f64>() {
                        Ok(x) if x.is_finite() => v.push(x),
                        _ => {
                            self.errors.push(Diagnostic::new(
                                sp,
                                format!("expected a number, found `{t}`"),
                            ));
                            return None;
                        }
                    }
                    q += part.len() + 1;
                }
                if v.len() != want {
                    self.errors.push(Diagnostic::new(
                        Span::new(base, base + side.len()),
                        format!("this row has {} {what}, the header names {want}", v.len()),
                    ));
                    return None;
                }
                Some(v)
            };
            let xs = nums(a, p, in_names.len(), "inputs");
            let ts = nums(b, p + a.len() + 2, out_names.len(), "targets");
            if let (Some(xs), Some(ts)) = (xs, ts) {
                rows.push((xs, ts));
                spans.push(span);
            }
        }
        if rows.is_empty() {
            self.error(block, "the `data` block has no rows");
            return;
        }
        if inputs.len() == in_names.len() && outputs.len() == out_names.len() {
            for (k, &i) in inputs.iter().enumerate() {
                self.net.inputs[i as usize].value = rows[0].0[k];
            }
            self.net.data = Some(Data {
                inputs,
                outputs,
                rows,
                spans,
            });
        }
    }

    /// The scalars of an assignment: one for `w = 0.1`, one per element for
    /// `x[3] = [0.1, 0.5, -0.2]` (named x1, x2, x3). With `declare_vector`
    /// the vector's name is declared too, so that `dense x` finds it.
    fn assignment(&mut self, a: Pair<'_, Rule>, declare_vector: bool) -> Vec<(String, Span, f64)> {
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
    fn size(&mut self, p: Pair<'_, Rule>) -> Option<usize> {
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
    fn init(&mut self, stmt: Pair<'_, Rule>, span: Span) -> Option<(InitDist, u64, Span)> {
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

    /// Second pass: resolve functions, layers, neurons, targets and loss.
    fn resolve(&mut self, raw: Raw<'_>) {
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
        // Functions.
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
        self.check_recursion(&raw);
        // Layers and neurons.
        let mut next = 0u32;
        let mut rng = raw
            .init
            .map(|(_, seed, _)| crate::rng::SplitMix64::new(seed));
        for (li, layer) in raw.layers.iter().enumerate() {
            let activation = self.activation(layer.act.clone());
            let first = next;
            let sources = match &layer.dense {
                Some((src, sspan)) => self.dense_sources(src, *sspan, li as u32),
                None => Vec::new(),
            };
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
        // Targets.
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
        for (name, value, span) in raw.targets {
            match self.decls.get(&name).map(|d| d.kind) {
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
                    if let Some(s) = closest(&name, open) {
                        d.message.push_str(&format!("; did you mean `{s}`?"));
                    }
                    if let Some(last) = self.net.layers.last() {
                        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
                        d = d.with_note(format!(
                            "the outputs (layer `{}`) are {}",
                            last.name,
                            super::join_and(&quoted)
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
        // Loss.
        if let Some((body, span)) = raw.loss {
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
        if self.errors.is_empty() {
            self.check_expanded_sizes();
        }
    }

    /// Refuses trees too deep or too large once the user functions they
    /// call are expanded into them (see [`limits`]). Run only on an
    /// otherwise correct network: it needs the functions free of cycles.
    fn check_expanded_sizes(&mut self) {
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
        self.errors.extend(errors);
    }

    /// The elements a dense layer takes: an input vector or an earlier layer.
    fn dense_sources(&mut self, src: &str, span: Span, layer: u32) -> Vec<(String, Sym)> {
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
    fn dense_net(
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
            if let Some(Decl {
                kind: Kind::Param(p),
                ..
            }) = l.decls.get(&name)
            {
                return Sym::Param(*p);
            }
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
                _ => {
                    *missing += 1;
                    0.0
                }
            };
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

    fn activation(&mut self, act: Pair<'_, Rule>) -> Activation {
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
    fn check_recursion(&mut self, raw: &Raw<'_>) {
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

    fn unknown_name(&self, name: &str, span: Span, allowed: &dyn Fn(Kind) -> bool) -> Diagnostic {
        let candidates = self
            .decls
            .iter()
            .filter(|(_, d)| allowed(d.kind))
            .map(|(n, _)| n.as_str());
        let mut d = Diagnostic::new(span, format!("unknown name `{name}`"));
        if let Some(s) = closest(name, candidates) {
            d.message.push_str(&format!("; did you mean `{s}`?"));
        }
        d.with_note(format!(
            "declare it, e.g. `param {name} = 0.1`, `input {name} = 1` or `const {name} = 1`"
        ))
    }
}

/// The error for a tree beyond the limits once functions are expanded.
fn too_large(span: Span, what: &str, c: &limits::Cost) -> Diagnostic {
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

fn first_inner_expr(custom: Pair<'_, Rule>) -> Pair<'_, Rule> {
    custom
        .into_inner()
        .nth(1)
        .expect("the grammar gives a custom loss an expression")
}

fn rows_of(rows: &[(String, usize)]) -> impl Iterator<Item = (&str, usize)> {
    rows.iter().map(|(t, p)| (t.as_str(), *p))
}

/// The user functions `e` calls, in order of first call.
fn collect_calls(e: &Expr, out: &mut Vec<u32>) {
    // Iterative: a body may be a long sum.
    let mut pending = vec![e];
    while let Some(e) = pending.pop() {
        match e {
            Expr::Num(_) | Expr::Var(_) => {}
            Expr::Neg(a) => pending.push(a),
            Expr::Bin(_, a, b) => {
                pending.push(b);
                pending.push(a);
            }
            Expr::Call(f, args) => {
                if let Func::User(u) = f {
                    if !out.contains(u) {
                        out.push(*u);
                    }
                }
                pending.extend(args.iter().rev());
            }
        }
    }
}

/// Whether `name` is a built-in function or activation.
pub(crate) fn is_builtin_name(name: &str) -> bool {
    Builtin::from_name(name).is_some() || Activation::BUILTIN_NAMES.contains(&name)
}

/// The candidate closest to `name`, if any is close enough to suggest.
///
/// Jaro–Winkler favours a shared start (`sigmod` → `sigmoid`); one edit or
/// one swap of neighbours is close enough too, which short names need
/// (`mes` → `mse`, `b2` → `b1`). Fewer edits win, then the shared start.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<((usize, f64), &str)> = None;
    for c in candidates {
        let jw = strsim::jaro_winkler(name, c);
        let edits = strsim::osa_distance(name, c);
        // 0.7 is reached exactly by two-letter names sharing their first
        // letter; allow for rounding.
        let near = jw >= 0.7 - 1e-9 || (edits <= 1 && name.len() >= 2);
        if !near {
            continue;
        }
        let better = match best {
            None => true,
            Some(((e, s), b)) => edits < e || (edits == e && (jw > s || (jw == s && c < b))),
        };
        if better {
            best = Some(((edits, jw), c));
        }
    }
    best.map(|(_, c)| c)
}

fn unescape(s: &str) -> String {
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

/// Resolves names in a call, shared by every context.
fn resolve_func(l: &Lowerer<'_>, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic> {
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

fn scalar_sym(kind: Kind) -> Option<Sym> {
    match kind {
        Kind::Input(i) => Some(Sym::Input(i)),
        Kind::Param(i) => Some(Sym::Param(i)),
        Kind::Const(i) => Some(Sym::Const(i)),
        _ => None,
    }
}

/// Names inside a neuron's net input.
struct NetResolver<'a, 's> {
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
struct FnResolver<'a, 's> {
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
struct LossResolver<'a, 's> {
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
