//! Numbers of a [`Graph`] at one point: leaf values, the quantities
//! computed from them, partials by the chain rule, the update, and the
//! forward pass run again after it. A student's own values may replace any
//! quantity, so that later steps can be recomputed from them.

use std::cell::{OnceCell, RefCell};
use std::hash::{BuildHasherDefault, Hasher};

/// A map with a small, fast, deterministic hash: the maps of a point are
/// looked up for every quantity of every step.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fx>>;

/// The multiply-rotate hash of rustc (`FxHasher`), for small keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Fx {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
use std::rc::Rc;

use super::graph::{flag, Graph, UpdateRule};
use crate::eval::eval;
use crate::expr::Sym;
use crate::model::claim::Quantity;
use crate::model::Activation;

/// How a partial is expanded by the chain rule when the student's own
/// numbers are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// From the denominator up (backpropagation: ∂E_total/∂w1 =
    /// ∂E_total/∂net_h1 · ∂net_h1/∂w1), switching to the numerator's side
    /// where the student gave a partial of one of its parts
    /// (∂E_total/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1).
    Backward,
    /// From the numerator down: ∂A/∂B = Σ_P ∂A/∂P · ∂P/∂B over A's parents.
    Forward,
}

/// Numbers of a graph at one point: leaf values, and quantities the
/// student gave, which replace the computed ones.
pub(crate) struct Point<'g, 'n> {
    g: &'g Graph<'n>,
    leaf: Rc<HashMap<Sym, f64>>,
    overrides: HashMap<Quantity, f64>,
    route: Route,
    values: RefCell<HashMap<Sym, f64>>,
    partials: RefCell<HashMap<(Sym, Sym), f64>>,
    updated: RefCell<HashMap<u32, f64>>,
    after: OnceCell<Box<Point<'g, 'n>>>,
}

impl<'g, 'n> Point<'g, 'n> {
    /// The point of the network's own numbers.
    pub(crate) fn actual(g: &'g Graph<'n>) -> Point<'g, 'n> {
        Point::shared(g, g.actual_leaves())
    }

    /// The point with these leaf values.
    pub(crate) fn at(
        g: &'g Graph<'n>,
        leaf: impl IntoIterator<Item = (Sym, f64)>,
    ) -> Point<'g, 'n> {
        Point::shared(g, Rc::new(leaf.into_iter().collect()))
    }

    fn shared(g: &'g Graph<'n>, leaf: Rc<HashMap<Sym, f64>>) -> Point<'g, 'n> {
        Point {
            g,
            leaf,
            overrides: HashMap::default(),
            route: Route::Backward,
            values: RefCell::new(HashMap::default()),
            partials: RefCell::new(HashMap::default()),
            updated: RefCell::new(HashMap::default()),
            after: OnceCell::new(),
        }
    }

    /// The same leaves with the student's values of some quantities.
    pub(crate) fn with_overrides(
        g: &'g Graph<'n>,
        overrides: HashMap<Quantity, f64>,
        route: Route,
    ) -> Point<'g, 'n> {
        let mut p = Point::actual(g);
        p.overrides = overrides;
        p.route = route;
        p
    }

    /// The leaf values.
    pub(crate) fn leaf_values(&self) -> &HashMap<Sym, f64> {
        &self.leaf
    }

    /// The value of a quantity.
    pub(crate) fn quantity(&self, q: Quantity) -> f64 {
        match q {
            Quantity::Value(s) => self.value(s),
            Quantity::Partial { of, wrt } => self.partial(of, wrt),
            Quantity::Updated(p) => self.updated(p),
            Quantity::After(s) => self.after().value(s),
            Quantity::State(k, p, t) => {
                if let Some(v) = self.overrides.get(&q) {
                    return *v;
                }
                let step = if t <= 1 {
                    self.first_step(p)
                } else {
                    self.second_step(p)
                };
                k.of(&step).unwrap_or(f64::NAN)
            }
        }
    }

    /// The second step of the network's update rule for param `q`: the
    /// state of the first carried on, the gradient taken where the first
    /// step left every param.
    fn second_step(&self, q: u32) -> crate::optimizer::ParamStep {
        let first = self.first_step(q);
        let mut state = crate::optimizer::State {
            t: 1,
            m: vec![first.m.unwrap_or(0.0)],
            v: vec![first.v.unwrap_or(0.0)],
        };
        let grad = self.after().partial(Sym::ErrTotal, Sym::Param(q));
        let rule = self.g.net.update_rule();
        crate::optimizer::step(&rule, &mut state, &[self.updated(q)], &[grad])[0]
    }

    /// The first step of the network's update rule for param `q`, with the
    /// variant's slip.
    fn first_step(&self, q: u32) -> crate::optimizer::ParamStep {
        let p = self.value(Sym::Param(q));
        let grad = self.partial(Sym::ErrTotal, Sym::Param(q));
        crate::optimizer::first_step(&self.g.net.update_rule(), self.g.variant.slip, p, grad)
    }

    /// The value of `s`.
    pub(crate) fn value(&self, s: Sym) -> f64 {
        if let Some(v) = self.overrides.get(&Quantity::Value(s)) {
            return *v;
        }
        if let Some(v) = self.leaf.get(&s) {
            return *v;
        }
        if let Some(v) = self.values.borrow().get(&s) {
            return *v;
        }
        // A cycle cannot happen in a checked network; NaN if it did.
        self.values.borrow_mut().insert(s, f64::NAN);
        let v = self.compute_value(s);
        self.values.borrow_mut().insert(s, v);
        v
    }

    fn compute_value(&self, s: Sym) -> f64 {
        let g = self.g;
        if let Sym::Out(n) = s {
            let li = g.layer(n);
            let layer = &g.net.layers[li as usize];
            if layer.activation == Activation::Softmax && !flag(&g.variant.out_is_net, li) {
                // out_j = e^(net_j − m) / Σ_k e^(net_k − m), m = max_k net_k.
                let nets: Vec<f64> = layer
                    .neurons
                    .clone()
                    .map(|k| self.value(Sym::Net(k)))
                    .collect();
                let m = nets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = nets.iter().map(|x| (x - m).exp()).sum();
                let own = self.value(Sym::Net(n));
                return (own - m).exp() / sum;
            }
        }
        match g.def(s) {
            Some(e) => eval(e, &|t| self.value(t), &g.net.functions),
            None => f64::NAN,
        }
    }

    /// ∂a/∂b through the graph.
    pub(crate) fn partial(&self, a: Sym, b: Sym) -> f64 {
        if let Some(v) = self.overrides.get(&Quantity::Partial { of: a, wrt: b }) {
            return *v;
        }
        if a == b {
            return 1.0;
        }
        if !self.g.depends(a, b) {
            return 0.0;
        }
        if let Some(v) = self.partials.borrow().get(&(a, b)) {
            return *v;
        }
        self.partials.borrow_mut().insert((a, b), f64::NAN);
        let v = self.compute_partial(a, b);
        self.partials.borrow_mut().insert((a, b), v);
        v
    }

    fn compute_partial(&self, a: Sym, b: Sym) -> f64 {
        let g = self.g;
        if let (Some(k), Sym::Out(_), Sym::ErrTotal | Sym::Err(_)) = (g.variant.single_via, b, a) {
            let nets = g
                .children(b)
                .iter()
                .filter(|c| matches!(c, Sym::Net(_)))
                .count();
            let via = Sym::Net(k);
            if nets >= 2 && g.children(b).contains(&via) && g.depends(a, via) {
                return self.partial(a, via) * self.local(via, b);
            }
        }
        if let Some(k) = g.variant.single_output {
            if a == Sym::ErrTotal && g.outputs_fed(b) >= 2 {
                return self.partial(Sym::Err(k), b);
            }
        }
        let on_path = |p: Sym| p == b || g.depends(p, b);
        let forward = match self.route {
            Route::Forward => true,
            Route::Backward => g.parents(a).iter().any(|&p| {
                on_path(p)
                    && self
                        .overrides
                        .contains_key(&Quantity::Partial { of: p, wrt: b })
            }),
        };
        if forward {
            g.parents(a)
                .iter()
                .filter(|&&p| on_path(p))
                .map(|&p| self.local(a, p) * self.partial(p, b))
                .sum()
        } else {
            g.children(b)
                .iter()
                .filter(|&&c| c == a || g.depends(a, c))
                .map(|&c| self.partial(a, c) * self.local(c, b))
                .sum()
        }
    }

    /// ∂def(a)/∂p at this point (a claimed value of it, if there is one).
    pub(crate) fn local(&self, a: Sym, p: Sym) -> f64 {
        if let Some(v) = self.overrides.get(&Quantity::Partial { of: a, wrt: p }) {
            return *v;
        }
        let g = self.g;
        let e = g.local_expr(a, p);
        let early = match (a, p) {
            (Sym::Net(y), Sym::Out(_)) if g.variant.early_update => Some(y),
            _ => None,
        };
        eval(
            &e,
            &|s| match (s, early) {
                (Sym::Param(q), Some(y)) if g.early(q, y) => self.updated(q),
                _ => self.value(s),
            },
            &g.net.functions,
        )
    }

    /// The param `q` after the update.
    pub(crate) fn updated(&self, q: u32) -> f64 {
        if let Some(v) = self.overrides.get(&Quantity::Updated(q)) {
            return *v;
        }
        if let Some(v) = self.updated.borrow().get(&q) {
            return *v;
        }
        self.updated.borrow_mut().insert(q, f64::NAN);
        let p = self.value(Sym::Param(q));
        let grad = self.partial(Sym::ErrTotal, Sym::Param(q));
        let rate = self.g.net.rate;
        let v = match self.g.variant.update {
            // The network's own rule (p − η·g for plain gradient descent).
            UpdateRule::Descent => self.first_step(q).after,
            UpdateRule::Added => p + rate * grad,
            UpdateRule::WithoutRate => p - grad,
        };
        self.updated.borrow_mut().insert(q, v);
        v
    }

    /// The point after the update: every param replaced by its updated value.
    fn after(&self) -> &Point<'g, 'n> {
        self.after.get_or_init(|| {
            let mut leaf = (*self.leaf).clone();
            for q in 0..self.g.net.params.len() as u32 {
                leaf.insert(Sym::Param(q), self.updated(q));
            }
            let mut p = Point::at(self.g, leaf);
            p.route = self.route;
            p.overrides = self
                .overrides
                .iter()
                .filter_map(|(q, v)| match q {
                    Quantity::After(s) => Some((Quantity::Value(*s), *v)),
                    _ => None,
                })
                .collect();
            Box::new(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::graph::Variant;
    use crate::derivation::{derive, Options};
    use crate::model::Network;

    fn mazur() -> Network {
        let src = include_str!("../../examples/mazur.nn");
        crate::parse::parse_network("mazur.nn", src).expect("mazur parses")
    }

    /// The tutorial trains the weights only: its biases are consts.
    fn mazur_fixed_bias() -> Network {
        let src = include_str!("../../tests/check/mazur-fixed-bias.nn");
        crate::parse::parse_network("mazur-fixed-bias.nn", src).expect("parses")
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{a} vs {b}");
    }

    #[test]
    fn agrees_with_the_derivation() {
        let net = mazur();
        let d = derive(&net, Options::default()).unwrap();
        let g = Graph::new(&net, Variant::default());
        let p = Point::actual(&g);
        let w = d.worked();
        for (x, ng) in w.neurons.iter().enumerate() {
            let x = x as u32;
            close(p.value(Sym::Net(x)), w.forward.net[x as usize]);
            close(p.value(Sym::Out(x)), w.forward.out[x as usize]);
            close(p.partial(Sym::ErrTotal, Sym::Out(x)), ng.d_out_value);
            close(p.partial(Sym::ErrTotal, Sym::Net(x)), ng.delta);
        }
        close(p.value(Sym::ErrTotal), d.total);
        for (q, pg) in d.params.iter().enumerate() {
            close(p.partial(Sym::ErrTotal, Sym::Param(q as u32)), pg.value);
            close(p.updated(q as u32), pg.updated);
        }
    }

    /// Activations and losses other than the tutorial's, a shared bias, a
    /// user function and a net input that is not linear.
    const MIXED: &str = "
        input x1 = 0.5, x2 = -0.3
        fn swish(x) = x * sigmoid(x)
        layer h tanh { h1 = w1*x1 + w2*x2 + b1
                       h2 = w3*x1*x2 + b1 }
        layer g swish { g1 = v1*h1 + v2*h2 }
        layer o softmax { o1 = u1*g1 + c
                          o2 = u2*g1 - c
                          o3 = u3*g1 }
        param w1 = 0.1, w2 = -0.2, w3 = 0.3, b1 = 0.05, v1 = 0.7, v2 = -0.4
        param u1 = 0.2, u2 = -0.5, u3 = 0.9
        const c = 0.1
        target o1 = 0, o2 = 1, o3 = 0
        loss ce
        rate 0.1";

    #[test]
    fn agrees_with_the_derivation_beyond_sigmoid() {
        let net = crate::parse::parse_network("mixed.nn", MIXED).expect("parses");
        let d = derive(&net, Options::default()).unwrap();
        let g = Graph::new(&net, Variant::default());
        let p = Point::actual(&g);
        let w = d.worked();
        for (x, ng) in w.neurons.iter().enumerate() {
            let x = x as u32;
            close(p.value(Sym::Out(x)), w.forward.out[x as usize]);
            close(p.partial(Sym::ErrTotal, Sym::Net(x)), ng.delta);
        }
        close(p.value(Sym::ErrTotal), d.total);
        for (q, pg) in d.params.iter().enumerate() {
            close(p.partial(Sym::ErrTotal, Sym::Param(q as u32)), pg.value);
            close(p.updated(q as u32), pg.updated);
        }
    }

    #[test]
    fn partials_through_one_output() {
        let net = mazur();
        let g = Graph::new(&net, Variant::default());
        let p = Point::actual(&g);
        let (h1, o1) = (0, 2);
        let v = p.partial(Sym::Err(o1), Sym::Out(h1));
        assert!((v - 0.055399425).abs() < 5e-10, "{v}");
        let v = p.partial(Sym::ErrTotal, Sym::Out(h1));
        assert!((v - 0.036350306).abs() < 5e-10, "{v}");
        let v = p.quantity(Quantity::After(Sym::ErrTotal));
        assert!((v - 0.285750887).abs() < 5e-10, "{v}");
        let net = mazur_fixed_bias();
        let g = Graph::new(&net, Variant::default());
        let v = Point::actual(&g).quantity(Quantity::After(Sym::ErrTotal));
        assert!((v - 0.291027774).abs() < 5e-10, "{v}");
    }

    #[test]
    fn early_update_gives_the_published_error() {
        let net = mazur_fixed_bias();
        let g = Graph::new(
            &net,
            Variant {
                early_update: true,
                ..Variant::default()
            },
        );
        let p = Point::actual(&g);
        let v = p.quantity(Quantity::After(Sym::ErrTotal));
        assert!((v - 0.291027924).abs() < 5e-10, "{v}");
    }

    #[test]
    fn symbolic_partial_of_an_output_weight() {
        let net = mazur();
        let g = Graph::new(&net, Variant::default());
        let names = crate::notation::NetNames::new(&net, Default::default());
        let e = g.symbolic_partial(Sym::ErrTotal, Sym::Param(4), 4).unwrap();
        assert_eq!(
            e.plain(&names),
            "-(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1"
        );
    }
}
