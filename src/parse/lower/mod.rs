//! pest pairs of a `file` → a checked [`Network`]. Names are collected
//! first, so statements may come in any order; then every expression is
//! resolved. All problems are gathered and returned together.

use std::collections::HashMap;

use pest::iterators::Pair;

use super::{limits, read_expr, read_number, Resolver, Rule};

mod collect;
mod data;
mod dense;
mod l2;
mod resolve;
mod suggest;

use crate::diagnostic::{line_col, Diagnostic, Span};
use crate::expr::{BinOp, Builtin, Expr, Func, Sym};
use crate::model::{Activation, Batch, Data, Function, Layer, Loss, Network, Neuron, Scalar};
pub(crate) use suggest::{closest, is_builtin_name};

/// The widest layer or vector accepted.
pub(crate) const MAX_LAYER_WIDTH: usize = 100_000;

/// Most rows of a `data` block.
pub(crate) const MAX_DATA_ROWS: usize = 1_000_000;

/// Most params dense layers may generate in one network: checked before
/// they are made, so that a few bytes (`layer h[100000] … dense x`) never
/// allocate without bound.
pub(crate) const MAX_GENERATED_PARAMS: usize = 2_000_000;

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
    l2: Option<RawL2>,
    init: Option<(InitDist, u64, Span)>,
    data: Option<(String, usize, Span)>,
}

/// `l2 λ [on NAMES]` as read: λ, the names or globs with their places, and
/// the statement.
type RawL2 = (f64, Option<Vec<(String, Span)>>, Span);

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
            l2: None,
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

    /// Whether a statement that may appear once (`rate`, `loss`, …) is
    /// the first of its kind: `earlier` is where one already stands, and
    /// then the second is an error that points back at it.
    fn first_time(&mut self, earlier: Option<Span>, span: Span, what: &str) -> bool {
        match earlier {
            None => true,
            Some(first) => {
                let at = self.at(first);
                self.errors.push(
                    Diagnostic::new(span, format!("the network has a second {what}"))
                        .with_note(format!("the first is at {at}")),
                );
                false
            }
        }
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
}
