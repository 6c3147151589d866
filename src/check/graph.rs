//! The network as a graph of named quantities, and their numbers at a point.
//!
//! Every computed quantity has a definition over the quantities it reads:
//! `net_X` over params, inputs and earlier outputs, `out_X = act(net_X)`,
//! `E_k` over `out_k` and `target_k`, `E_total = Σ_k E_k`. Inputs, params,
//! consts and targets are the leaves. A partial ∂A/∂B is the total
//! derivative through the graph, with the leaves and B held as independent
//! variables: Σ over the paths from B to A of the product of the local
//! partials along the path. So ∂E_o1/∂out_h1 goes through net_o1 only, and
//! ∂E_total/∂out_h1 sums over every output out_h1 feeds.
//!
//! A [`Variant`] changes the computation the way a known mistake does (the
//! ½ of the loss forgotten, the activation derivative left out, …); the
//! default variant is the correct one. A [`Point`] holds the leaf values and
//! may override any quantity with a value a student wrote, so that later
//! steps can be recomputed from the student's own earlier numbers.

use std::cell::RefCell;
use std::rc::Rc;

use super::point::HashMap;

use crate::diff::{activation_derivative, differentiate, loss_expr, softmax_derivative};
use crate::expr::{self, BinOp, Builtin, Expr, Func, Sym};
use crate::model::{Activation, Function, Loss, Network};

/// How a variant takes ∂out/∂net of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ActMode {
    /// The textbook derivative (out(1 − out) for a sigmoid).
    #[default]
    Textbook,
    /// Left out of the chain: 1.
    One,
    /// The textbook form with net where out belongs: net(1 − net).
    OfNet,
    /// out alone where out(1 − out) belongs.
    Out,
}

/// How a variant updates a param.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum UpdateRule {
    /// p − η·g
    #[default]
    Descent,
    /// p + η·g
    Added,
    /// p − g
    WithoutRate,
}

/// A way of computing the solution: the correct one (`Variant::default()`)
/// or one with a known mistake.
#[derive(Debug, Clone, Default)]
pub(crate) struct Variant {
    /// The loss of the error values E_k, when not the network's.
    pub(crate) value_loss: Option<Loss>,
    /// The loss whose derivative gives ∂E_k/∂out_k, when not the network's.
    pub(crate) deriv_loss: Option<Loss>,
    /// By layer: bias terms left out of the net inputs.
    pub(crate) no_bias: Vec<bool>,
    /// By layer: out taken as net in the forward pass.
    pub(crate) out_is_net: Vec<bool>,
    /// By layer: how ∂out/∂net is taken.
    pub(crate) act: Vec<ActMode>,
    /// ∂net/∂p factors read net where out belongs (∂net_o1/∂w5 = net_h1).
    pub(crate) net_in_factors: bool,
    /// ∂E_k/∂out_k reads net_k where out_k belongs.
    pub(crate) net_in_loss: bool,
    /// Outputs whose ∂E_k/∂out_k has its sign flipped.
    pub(crate) flipped: Vec<u32>,
    /// Hidden gradients through this output only.
    pub(crate) single_output: Option<u32>,
    /// ∂E_total/∂out of a neuron feeding this one and others of its layer
    /// taken through this one only.
    pub(crate) single_via: Option<u32>,
    /// Later layers' params updated before earlier layers' gradients are taken.
    pub(crate) early_update: bool,
    /// The update rule.
    pub(crate) update: UpdateRule,
    /// A slip in working the optimizer's step (Adam).
    pub(crate) slip: Option<crate::optimizer::Slip>,
    /// How the L2 term enters E_total.
    pub(crate) l2: L2Mode,
}

/// How a variant takes the L2 term of E_total.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) enum L2Mode {
    /// ½λΣp².
    #[default]
    Textbook,
    /// Left out.
    Off,
    /// Times this factor (2: λΣp², whose derivative is 2λp).
    Scaled(f64),
}

pub(super) fn flag(v: &[bool], layer: u32) -> bool {
    v.get(layer as usize).copied().unwrap_or(false)
}

/// The shape of a network's graph, the same under every variant (a
/// variant only drops terms, whose local partials are then 0): parents,
/// children, ancestors.
struct Shape {
    /// Inputs, params, consts and targets.
    leaves: Vec<Sym>,
    parents: HashMap<Sym, Vec<Sym>>,
    children: HashMap<Sym, Vec<Sym>>,
    /// Symbols as dense indices.
    index: SymIndex,
    /// By the index of a computed quantity: its ancestors, as a bit set
    /// of indices.
    ancestors: Vec<Option<Vec<u64>>>,
    /// By param: the first layer whose net inputs use it.
    first_layer: Vec<Option<u32>>,
    /// The network's own values of the leaves.
    actual: Rc<HashMap<Sym, f64>>,
}

/// The quantities of a network under one variant: definitions, parents,
/// children, ancestors, and the local partials (symbolic, built on demand).
pub(crate) struct Graph<'n> {
    pub(crate) net: &'n Network,
    pub(crate) variant: Variant,
    shape: Rc<Shape>,
    /// The correct definitions, shared by every variant.
    base: Rc<HashMap<Sym, Expr>>,
    /// The definitions this variant changes.
    own: HashMap<Sym, Expr>,
    /// The local partials of the correct computation, shared by every
    /// variant for the pairs it does not change.
    shared_locals: Rc<Locals>,
    /// The local partials this variant changes.
    locals: Locals,
}

/// Local partials ∂a/∂p by (a, p), built on demand.
type Locals = RefCell<HashMap<(Sym, Sym), Rc<Expr>>>;

/// The definitions of every computed quantity under `variant`, in order.
fn definitions(net: &Network, variant: &Variant) -> (Vec<Sym>, HashMap<Sym, Expr>) {
    let mut nodes = Vec::new();
    let mut defs = HashMap::default();
    for (li, layer) in net.layers.iter().enumerate() {
        let li = li as u32;
        for n in layer.neurons.clone() {
            nodes.push(Sym::Net(n));
            defs.insert(Sym::Net(n), net_def(net, variant, n));
        }
        for n in layer.neurons.clone() {
            nodes.push(Sym::Out(n));
            let def = if flag(&variant.out_is_net, li) {
                Expr::Var(Sym::Net(n))
            } else if layer.activation == Activation::Softmax {
                softmax_expr(layer.neurons.clone(), n)
            } else {
                crate::derivation::activation_expr(layer.activation, n)
            };
            defs.insert(Sym::Out(n), def);
        }
    }
    let count = net.outputs().len();
    let loss = variant.value_loss.as_ref().unwrap_or(&net.loss);
    for k in net.outputs() {
        nodes.push(Sym::Err(k));
        defs.insert(Sym::Err(k), loss_expr(loss, k, count));
    }
    nodes.push(Sym::ErrTotal);
    defs.insert(Sym::ErrTotal, total_def(net, variant));
    (nodes, defs)
}

/// E_total = Σ_k E_k, and the L2 term as `variant` takes it.
fn total_def(net: &Network, variant: &Variant) -> Expr {
    let mut total: Option<Expr> = None;
    for k in net.outputs() {
        let e = Expr::Var(Sym::Err(k));
        total = Some(match total {
            None => e,
            Some(t) => Expr::bin(BinOp::Add, t, e),
        });
    }
    let mut total = total.unwrap_or(Expr::Num(0.0));
    if let Some(l2) = &net.l2 {
        let scale = match variant.l2 {
            L2Mode::Textbook => Some(1.0),
            L2Mode::Off => None,
            L2Mode::Scaled(s) => Some(s),
        };
        if let Some(s) = scale {
            total = Expr::bin(BinOp::Add, total, penalty_expr(l2, s));
        }
    }
    total
}

/// `scale`·½λ·(p₁² + p₂² + …), the sum balanced so that its depth grows
/// with the logarithm of the number of params.
fn penalty_expr(l2: &crate::model::L2, scale: f64) -> Expr {
    fn sum(ps: &[u32]) -> Expr {
        match ps {
            [] => Expr::Num(0.0),
            [p] => Expr::bin(BinOp::Pow, Expr::Var(Sym::Param(*p)), Expr::Num(2.0)),
            _ => {
                let (a, b) = ps.split_at(ps.len() / 2);
                Expr::bin(BinOp::Add, sum(a), sum(b))
            }
        }
    }
    Expr::bin(
        BinOp::Mul,
        Expr::Num(scale * 0.5 * l2.lambda),
        sum(&l2.params),
    )
}

impl<'n> Graph<'n> {
    /// The graph of `net` under `variant`.
    pub(crate) fn new(net: &'n Network, variant: Variant) -> Graph<'n> {
        let mut leaves = Vec::new();
        leaves.extend((0..net.inputs.len() as u32).map(Sym::Input));
        leaves.extend((0..net.params.len() as u32).map(Sym::Param));
        leaves.extend((0..net.consts.len() as u32).map(Sym::Const));
        leaves.extend(net.outputs().map(Sym::Target));
        // The shape is that of the correct computation, which has every term.
        let (nodes, full) = definitions(net, &Variant::default());

        let mut parents = HashMap::default();
        let mut children: HashMap<Sym, Vec<Sym>> = HashMap::default();
        let index = SymIndex::new(net);
        let words = index.len().div_ceil(64);
        let mut ancestors: Vec<Option<Vec<u64>>> = vec![None; index.len()];
        for &node in &nodes {
            let mut ps = Vec::new();
            syms_deep(&full[&node], &net.functions, &mut ps, 0);
            let mut anc = vec![0u64; words];
            for &p in &ps {
                children.entry(p).or_default().push(node);
                if let Some(i) = index.of(p) {
                    anc[i / 64] |= 1 << (i % 64);
                    if let Some(Some(a)) = ancestors.get(i) {
                        for (w, x) in anc.iter_mut().zip(a) {
                            *w |= x;
                        }
                    }
                }
            }
            if let Some(i) = index.of(node) {
                ancestors[i] = Some(anc);
            }
            parents.insert(node, ps);
        }

        let mut first_layer = vec![None; net.params.len()];
        for (li, layer) in net.layers.iter().enumerate() {
            for n in layer.neurons.clone() {
                for p in &parents[&Sym::Net(n)] {
                    if let Sym::Param(q) = p {
                        let slot = &mut first_layer[*q as usize];
                        if slot.is_none() {
                            *slot = Some(li as u32);
                        }
                    }
                }
            }
        }
        let actual = Rc::new(
            leaves
                .iter()
                .map(|&s| (s, net.fixed_value(s).unwrap_or(f64::NAN)))
                .collect(),
        );
        let shape = Rc::new(Shape {
            actual,
            leaves,
            parents,
            children,
            index,
            ancestors,
            first_layer,
        });
        let graph = Graph {
            net,
            variant: Variant::default(),
            shape,
            base: Rc::new(full),
            own: HashMap::default(),
            shared_locals: Rc::new(RefCell::new(HashMap::default())),
            locals: RefCell::new(HashMap::default()),
        };
        if variant_is_default(&variant) {
            graph
        } else {
            graph.with_variant(variant)
        }
    }

    /// The same network under another variant, sharing the shape.
    pub(crate) fn with_variant(&self, variant: Variant) -> Graph<'n> {
        let own = changed_definitions(self.net, &variant);
        Graph {
            net: self.net,
            variant,
            shape: Rc::clone(&self.shape),
            base: Rc::clone(&self.base),
            own,
            shared_locals: Rc::clone(&self.shared_locals),
            locals: RefCell::new(HashMap::default()),
        }
    }

    /// The definition of a computed quantity under this variant.
    pub(crate) fn def(&self, s: Sym) -> Option<&Expr> {
        self.own.get(&s).or_else(|| self.base.get(&s))
    }

    /// Whether this variant takes the local partial ∂a/∂p its own way.
    fn changes_local(&self, a: Sym, p: Sym) -> bool {
        let v = &self.variant;
        match (a, p) {
            (Sym::Out(n), Sym::Net(k)) if self.layer(n) == self.layer(k) => {
                let li = self.layer(n);
                flag(&v.out_is_net, li)
                    || v.act.get(li as usize).copied().unwrap_or_default() != ActMode::Textbook
            }
            (Sym::Err(n), Sym::Out(m)) if n == m => {
                v.deriv_loss.is_some() || v.net_in_loss || v.flipped.contains(&n)
            }
            (Sym::Net(n), Sym::Param(_) | Sym::Input(_) | Sym::Const(_)) => {
                v.net_in_factors || self.own.contains_key(&Sym::Net(n))
            }
            _ => self.own.contains_key(&a),
        }
    }

    /// The network's own values of the leaves.
    pub(crate) fn actual_leaves(&self) -> Rc<HashMap<Sym, f64>> {
        Rc::clone(&self.shape.actual)
    }

    /// The first layer whose net inputs use param `q`.
    pub(crate) fn first_layer(&self, q: u32) -> Option<u32> {
        self.shape.first_layer.get(q as usize).copied().flatten()
    }

    /// Inputs, params, consts and targets.
    pub(crate) fn leaves(&self) -> &[Sym] {
        &self.shape.leaves
    }

    /// Whether `s` is a quantity of the graph (leaf or computed).
    pub(crate) fn contains(&self, s: Sym) -> bool {
        self.base.contains_key(&s) || self.shape.leaves.contains(&s)
    }

    /// Whether `a` depends on `b` through the graph (`a ≠ b`).
    pub(crate) fn depends(&self, a: Sym, b: Sym) -> bool {
        let shape = &*self.shape;
        let (Some(i), Some(j)) = (shape.index.of(a), shape.index.of(b)) else {
            return false;
        };
        match &shape.ancestors[i] {
            Some(bits) => bits[j / 64] & (1 << (j % 64)) != 0,
            None => false,
        }
    }

    /// The leaves `s` is computed from (itself, for a leaf).
    pub(crate) fn leaves_of(&self, s: Sym) -> Vec<Sym> {
        let shape = &*self.shape;
        match shape.index.of(s).and_then(|i| shape.ancestors[i].as_ref()) {
            Some(bits) => (0..shape.index.len())
                .filter(|j| bits[j / 64] & (1 << (j % 64)) != 0)
                .map(|j| shape.index.sym(j))
                .filter(|a| {
                    matches!(
                        a,
                        Sym::Input(_) | Sym::Param(_) | Sym::Const(_) | Sym::Target(_)
                    )
                })
                .collect(),
            None => vec![s],
        }
    }

    pub(super) fn parents(&self, s: Sym) -> &[Sym] {
        self.shape.parents.get(&s).map_or(&[], Vec::as_slice)
    }

    pub(super) fn children(&self, s: Sym) -> &[Sym] {
        self.shape.children.get(&s).map_or(&[], Vec::as_slice)
    }

    pub(super) fn layer(&self, n: u32) -> u32 {
        self.net.neurons[n as usize].layer
    }

    /// The number of outputs whose error depends on `b`.
    pub(super) fn outputs_fed(&self, b: Sym) -> usize {
        self.net
            .outputs()
            .filter(|&k| Sym::Err(k) == b || self.depends(Sym::Err(k), b))
            .count()
    }

    /// ∂def(a)/∂p, symbolic, as this variant takes it.
    pub(crate) fn local_expr(&self, a: Sym, p: Sym) -> Rc<Expr> {
        let cache = if self.changes_local(a, p) {
            &self.locals
        } else {
            &*self.shared_locals
        };
        if let Some(e) = cache.borrow().get(&(a, p)) {
            return Rc::clone(e);
        }
        let e = Rc::new(self.build_local(a, p));
        cache.borrow_mut().insert((a, p), Rc::clone(&e));
        e
    }

    fn build_local(&self, a: Sym, p: Sym) -> Expr {
        let net = self.net;
        let v = &self.variant;
        let fns = &net.functions;
        let generic = || {
            self.def(a)
                .map_or(Expr::Num(0.0), |d| differentiate(d, p, fns))
        };
        match (a, p) {
            (Sym::Out(n), Sym::Net(k)) if self.layer(n) == self.layer(k) => {
                let li = self.layer(n);
                let same = if n == k { 1.0 } else { 0.0 };
                if flag(&v.out_is_net, li) {
                    return Expr::Num(same);
                }
                let layer = &net.layers[li as usize];
                let textbook = if layer.activation == Activation::Softmax {
                    softmax_derivative(n, k)
                } else if n == k {
                    activation_derivative(layer.activation, n, fns).0
                } else {
                    Expr::Num(0.0)
                };
                match v.act.get(li as usize).copied().unwrap_or_default() {
                    ActMode::Textbook => textbook,
                    ActMode::One => Expr::Num(same),
                    ActMode::OfNet => textbook.substitute(&mut out_to_net),
                    ActMode::Out => {
                        if n == k {
                            Expr::Var(Sym::Out(n))
                        } else {
                            Expr::Num(0.0)
                        }
                    }
                }
            }
            (Sym::Err(n), Sym::Out(m)) if n == m => {
                let loss = v.deriv_loss.as_ref().unwrap_or(&net.loss);
                let e = loss_expr(loss, n, net.outputs().len());
                let mut d = differentiate(&e, Sym::Out(n), fns);
                if v.net_in_loss {
                    d = d.substitute(&mut out_to_net);
                }
                if v.flipped.contains(&n) {
                    d = expr::neg(d);
                }
                d
            }
            (Sym::Net(_), Sym::Param(_) | Sym::Input(_) | Sym::Const(_)) => {
                let d = generic();
                if v.net_in_factors {
                    d.substitute(&mut out_to_net)
                } else {
                    d
                }
            }
            _ => generic(),
        }
    }

    /// Whether the early-update variant uses p⁺ for `q` in ∂net_y/∂out.
    pub(super) fn early(&self, q: u32, y: u32) -> bool {
        self.first_layer(q).is_some_and(|l| l >= self.layer(y))
    }

    /// ∂a/∂b as a sum over the paths from b to a of the products of the
    /// local partials, when there are at most `max_paths` paths.
    pub(crate) fn symbolic_partial(&self, a: Sym, b: Sym, max_paths: usize) -> Option<Expr> {
        let mut paths: Vec<Vec<Sym>> = Vec::new();
        let mut path = vec![a];
        if !self.collect_paths(b, &mut path, &mut paths, max_paths) {
            return None;
        }
        let mut sum: Option<Expr> = None;
        for p in &paths {
            let mut factors = Vec::new();
            let mut negative = false;
            for w in p.windows(2) {
                flatten_product(
                    (*self.local_expr(w[0], w[1])).clone(),
                    &mut negative,
                    &mut factors,
                );
            }
            if factors.iter().any(|f| f.as_num() == Some(0.0)) {
                continue;
            }
            if negative && sum.is_none() {
                // The first term keeps its minus on its first factor:
                // -(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1.
                match factors.first_mut() {
                    Some(f) => *f = expr::neg(f.clone()),
                    None => factors.push(Expr::Num(-1.0)),
                }
            }
            let product = product_of(factors);
            sum = Some(match sum {
                None => product,
                Some(s) if negative => Expr::bin(BinOp::Sub, s, product),
                Some(s) => Expr::bin(BinOp::Add, s, product),
            });
        }
        Some(sum.unwrap_or(Expr::Num(0.0)))
    }

    /// Depth-first paths from the last node of `path` down to `b`.
    fn collect_paths(
        &self,
        b: Sym,
        path: &mut Vec<Sym>,
        out: &mut Vec<Vec<Sym>>,
        max: usize,
    ) -> bool {
        let last = *path.last().expect("a path is never empty");
        if last == b {
            out.push(path.clone());
            return out.len() <= max;
        }
        for &p in self.parents(last) {
            if p == b || self.depends(p, b) {
                path.push(p);
                let ok = self.collect_paths(b, path, out, max);
                path.pop();
                if !ok {
                    return false;
                }
            }
        }
        true
    }
}

/// The definitions `variant` changes: the net inputs of layers without
/// their bias, the outputs of layers taken as net, the errors of another loss.
fn changed_definitions(net: &Network, variant: &Variant) -> HashMap<Sym, Expr> {
    let mut own = HashMap::default();
    for (li, layer) in net.layers.iter().enumerate() {
        let li = li as u32;
        if flag(&variant.no_bias, li) {
            for n in layer.neurons.clone() {
                own.insert(Sym::Net(n), net_def(net, variant, n));
            }
        }
        if flag(&variant.out_is_net, li) {
            for n in layer.neurons.clone() {
                own.insert(Sym::Out(n), Expr::Var(Sym::Net(n)));
            }
        }
    }
    if let Some(loss) = &variant.value_loss {
        let count = net.outputs().len();
        for k in net.outputs() {
            own.insert(Sym::Err(k), loss_expr(loss, k, count));
        }
    }
    if net.l2.is_some() && variant.l2 != L2Mode::Textbook {
        own.insert(Sym::ErrTotal, total_def(net, variant));
    }
    own
}

/// Symbols of a network as dense indices: inputs, params, consts, targets
/// (by neuron), net inputs, outputs, errors (by neuron), E_total.
#[derive(Debug, Clone, Copy)]
struct SymIndex {
    inputs: usize,
    params: usize,
    consts: usize,
    neurons: usize,
}

impl SymIndex {
    fn new(net: &Network) -> SymIndex {
        SymIndex {
            inputs: net.inputs.len(),
            params: net.params.len(),
            consts: net.consts.len(),
            neurons: net.neurons.len(),
        }
    }

    fn len(&self) -> usize {
        self.inputs + self.params + self.consts + 4 * self.neurons + 1
    }

    fn of(&self, s: Sym) -> Option<usize> {
        let (base, i, count) = match s {
            Sym::Input(i) => (0, i as usize, self.inputs),
            Sym::Param(i) => (self.inputs, i as usize, self.params),
            Sym::Const(i) => (self.inputs + self.params, i as usize, self.consts),
            Sym::Target(n) => (self.leaf_end(), n as usize, self.neurons),
            Sym::Net(n) => (self.leaf_end() + self.neurons, n as usize, self.neurons),
            Sym::Out(n) => (self.leaf_end() + 2 * self.neurons, n as usize, self.neurons),
            Sym::Err(n) => (self.leaf_end() + 3 * self.neurons, n as usize, self.neurons),
            Sym::ErrTotal => (self.leaf_end() + 4 * self.neurons, 0, 1),
            _ => return None,
        };
        (i < count).then_some(base + i)
    }

    fn leaf_end(&self) -> usize {
        self.inputs + self.params + self.consts
    }

    fn sym(&self, j: usize) -> Sym {
        let n = self.neurons;
        let mut k = j;
        for (count, make) in [
            (self.inputs, Sym::Input as fn(u32) -> Sym),
            (self.params, Sym::Param),
            (self.consts, Sym::Const),
            (n, Sym::Target),
            (n, Sym::Net),
            (n, Sym::Out),
            (n, Sym::Err),
        ] {
            if k < count {
                return make(k as u32);
            }
            k -= count;
        }
        Sym::ErrTotal
    }
}

/// Whether a variant is the correct computation.
fn variant_is_default(v: &Variant) -> bool {
    v.value_loss.is_none()
        && v.deriv_loss.is_none()
        && !v.no_bias.iter().any(|&b| b)
        && !v.out_is_net.iter().any(|&b| b)
        && v.act.iter().all(|&a| a == ActMode::Textbook)
        && !v.net_in_factors
        && !v.net_in_loss
        && v.flipped.is_empty()
        && v.single_output.is_none()
        && v.single_via.is_none()
        && !v.early_update
        && v.update == UpdateRule::Descent
        && v.slip.is_none()
        && v.l2 == L2Mode::Textbook
}

/// out_X → net_X, anything else as it is.
fn out_to_net(s: Sym) -> Expr {
    match s {
        Sym::Out(n) => Expr::Var(Sym::Net(n)),
        s => Expr::Var(s),
    }
}

/// Splits a product into its factors without signs: `-(a·b)` gives
/// `[a, b]` and flips `negative`; so does `(-a)/b`, giving `[a/b]`.
fn flatten_product(e: Expr, negative: &mut bool, out: &mut Vec<Expr>) {
    match e {
        Expr::Bin(BinOp::Mul, a, b) => {
            flatten_product(*a, negative, out);
            flatten_product(*b, negative, out);
        }
        Expr::Neg(a) => {
            *negative = !*negative;
            flatten_product(*a, negative, out);
        }
        Expr::Num(x) if x < 0.0 => {
            *negative = !*negative;
            out.push(Expr::Num(-x));
        }
        Expr::Bin(BinOp::Div, a, b)
            if matches!(*a, Expr::Neg(_)) || a.as_num().is_some_and(|x| x < 0.0) =>
        {
            let mut inner = Vec::new();
            flatten_product(*a, negative, &mut inner);
            out.push(Expr::bin(BinOp::Div, product_of(inner), *b));
        }
        e if e.as_num() == Some(1.0) => {}
        e => out.push(e),
    }
}

/// The product of `factors`, left to right.
fn product_of(factors: Vec<Expr>) -> Expr {
    let mut it = factors.into_iter();
    let first = it.next().unwrap_or(Expr::Num(1.0));
    it.fold(first, |acc, f| Expr::bin(BinOp::Mul, acc, f))
}

/// net_n as the variant computes it: bias terms (terms that read no input
/// and no output) dropped in the layers where the variant leaves them out.
fn net_def(net: &Network, v: &Variant, n: u32) -> Expr {
    let neuron = &net.neurons[n as usize];
    if !flag(&v.no_bias, neuron.layer) {
        return neuron.net.clone();
    }
    let mut acc: Option<Expr> = None;
    for (negative, term) in neuron.net.additive_terms() {
        if is_bias(term, &net.functions) {
            continue;
        }
        let t = term.clone();
        acc = Some(match (acc, negative) {
            (None, false) => t,
            (None, true) => Expr::Neg(Box::new(t)),
            (Some(a), false) => Expr::bin(BinOp::Add, a, t),
            (Some(a), true) => Expr::bin(BinOp::Sub, a, t),
        });
    }
    acc.unwrap_or(Expr::Num(0.0))
}

/// Whether a term of a net input is a bias: it reads no input and no output.
pub(crate) fn is_bias(term: &Expr, fns: &[Function]) -> bool {
    let mut syms = Vec::new();
    syms_deep(term, fns, &mut syms, 0);
    !syms
        .iter()
        .any(|s| matches!(s, Sym::Input(_) | Sym::Out(_)))
}

/// e^(net_n) / Σ_k e^(net_k) over the layer.
pub(crate) fn softmax_expr(layer: std::ops::Range<u32>, n: u32) -> Expr {
    let exp = |k: u32| Expr::Call(Func::Builtin(Builtin::Exp), vec![Expr::Var(Sym::Net(k))]);
    let mut sum: Option<Expr> = None;
    for k in layer {
        sum = Some(match sum {
            None => exp(k),
            Some(s) => Expr::bin(BinOp::Add, s, exp(k)),
        });
    }
    Expr::bin(BinOp::Div, exp(n), sum.unwrap_or(Expr::Num(1.0)))
}

/// The quantities `e` reads, looking into user functions' bodies.
fn syms_deep(e: &Expr, fns: &[Function], out: &mut Vec<Sym>, depth: usize) {
    match e {
        Expr::Num(_) => {}
        Expr::Var(s) => {
            if !matches!(s, Sym::Arg(_) | Sym::LossTarget | Sym::LossOut) && !out.contains(s) {
                out.push(*s);
            }
        }
        Expr::Neg(a) => syms_deep(a, fns, out, depth),
        Expr::Bin(_, a, b) => {
            syms_deep(a, fns, out, depth);
            syms_deep(b, fns, out, depth);
        }
        Expr::Call(f, args) => {
            for a in args {
                syms_deep(a, fns, out, depth);
            }
            if let Func::User(u) = f {
                if depth < 64 {
                    if let Some(func) = fns.get(*u as usize) {
                        syms_deep(&func.body, fns, out, depth + 1);
                    }
                }
            }
        }
    }
}
