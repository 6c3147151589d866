//! The order of the steps, where each δ is first derived, and so the
//! number of every factor: one numbering, read by the page (①②③) and by
//! the JSON (`factors[].n`).

use crate::derivation::{DAct, DOut, Pass, Via};
use crate::model::{Activation, Network};

/// Where each δ is first derived, decided step by step so that the steps
/// can then be built independently (and in parallel).
pub(crate) struct Schedule {
    /// The index of the step that derives δ_y (`usize::MAX` if none does).
    pub(crate) at: Vec<usize>,
    /// For each step and each of its terms, the δ's of later layers that the
    /// term's neuron needs and no earlier step derived, in the order they are
    /// derived (a δ after the δ's it sums over).
    pub(crate) ahead: Vec<Vec<Vec<u32>>>,
}

/// The layer of the deepest neuron whose net input uses param `p`; -1 when
/// none does.
pub(crate) fn depth(net: &Network, der: &Pass, p: usize) -> i64 {
    der.gradients[p]
        .terms
        .iter()
        .map(|e| net.neurons[e.to as usize].layer as i64)
        .max()
        .unwrap_or(-1)
}

/// The params whose steps the page shows, in order: output layer first,
/// then as declared, or as `only` lists them; none unless `all` or `only`.
pub(crate) fn order(net: &Network, der: &Pass, all: bool, only: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..net.params.len()).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(depth(net, der, p)));
    if !all {
        order.clear();
    }
    if !only.is_empty() {
        order.retain(|&p| only.contains(&net.params[p].name));
        order.sort_by_key(|&p| {
            (
                std::cmp::Reverse(depth(net, der, p)),
                only.iter().position(|o| *o == net.params[p].name),
            )
        });
    }
    order
}

/// The neurons whose δ a hidden neuron's ∂E_total/∂out sums over, and for
/// softmax layers the layer's neurons whose ∂E_total/∂out the δ needs.
fn needed(der: &Pass, x: u32) -> Vec<u32> {
    match &der.neurons[x as usize].d_out {
        DOut::Sum(edges) => edges.iter().map(|e| e.to).collect(),
        DOut::Loss(_) => Vec::new(),
    }
}

/// The neurons whose ∂E_total/∂out δ_y needs: y, or its softmax layer.
fn feeders(net: &Network, y: u32) -> Vec<u32> {
    let layer = net.layer_of(y);
    if layer.activation == Activation::Softmax {
        layer.neurons.clone().collect()
    } else {
        vec![y]
    }
}

/// The schedule of the steps of `order`.
pub(crate) fn schedule(net: &Network, der: &Pass, order: &[usize]) -> Schedule {
    let mut s = Schedule {
        at: vec![usize::MAX; net.neurons.len()],
        ahead: Vec::with_capacity(order.len()),
    };
    /// Marks, depth first, the δ's that `x`'s ∂E_total/∂out sums over.
    fn ensure(
        (net, der): (&Network, &Pass),
        x: u32,
        i: usize,
        at: &mut [usize],
        list: &mut Vec<u32>,
    ) {
        for y in needed(der, x) {
            if at[y as usize] != usize::MAX {
                continue;
            }
            for f in feeders(net, y) {
                ensure((net, der), f, i, at, list);
            }
            at[y as usize] = i;
            list.push(y);
        }
    }
    for (i, &p) in order.iter().enumerate() {
        let mut per_term = Vec::new();
        for edge in &der.gradients[p].terms {
            let y = edge.to;
            let mut list = Vec::new();
            match edge.via() {
                Via::Net(_) => {}
                // ∂E_total/∂out_Y is derived in the step itself, from the
                // δ's it sums over; δ_Y is not needed.
                Via::Out(_) => ensure((net, der), y, i, &mut s.at, &mut list),
                Via::Err(_) => {}
            }
            if let Via::Net(_) = edge.via() {
                if s.at[y as usize] == usize::MAX {
                    ensure((net, der), y, i, &mut s.at, &mut list);
                    s.at[y as usize] = i;
                }
                // The term's own neuron is derived in the step itself.
                list.retain(|&z| z != y);
            }
            per_term.push(list);
        }
        s.ahead.push(per_term);
    }
    s
}

/// The numbers of one term's factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TermNumbers {
    /// δ_Y as one factor, derived in an earlier step or term.
    pub(crate) delta: Option<usize>,
    /// ∂E_total/∂out_Y, derived here.
    pub(crate) d_out: Option<usize>,
    /// ∂out_Y/∂net_Y, derived here (a softmax layer's δ_Y, as a sum).
    pub(crate) d_act: Option<usize>,
    /// The term's own factor: ∂net_Y/∂p, ∂out_Y/∂p or ∂E_Y/∂p.
    pub(crate) local: usize,
}

/// The numbers of the factors of step `i` (param `p`), as the page shows
/// them: a δ derived in an earlier step, or earlier in this one, is one
/// factor; else ∂E_total/∂out and ∂out/∂net are two (a softmax δ one).
pub(crate) fn numbers(der: &Pass, s: &Schedule, i: usize, p: usize) -> Vec<TermNumbers> {
    let mut here: Vec<u32> = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut terms = Vec::new();
    for (ti, edge) in der.gradients[p].terms.iter().enumerate() {
        let y = edge.to;
        let mut t = TermNumbers::default();
        match edge.via() {
            Via::Out(_) => {
                here.extend(&s.ahead[i][ti]);
                t.d_out = Some(next());
            }
            Via::Err(_) => {}
            Via::Net(_) if s.at[y as usize] < i || here.contains(&y) => {
                t.delta = Some(next());
            }
            Via::Net(_) => {
                here.extend(&s.ahead[i][ti]);
                match der.neurons[y as usize].d_act {
                    DAct::Softmax(_) => t.d_act = Some(next()),
                    DAct::Elementwise(_) => {
                        t.d_out = Some(next());
                        t.d_act = Some(next());
                    }
                }
                here.push(y);
            }
        }
        t.local = next();
        terms.push(t);
    }
    terms
}

/// The page's numbers of every param's factors (by param), in the order
/// of a page that shows every step.
pub(crate) fn page_numbers(net: &Network, der: &Pass) -> Vec<Vec<TermNumbers>> {
    let order = order(net, der, true, &[]);
    let s = schedule(net, der, &order);
    let mut out = vec![Vec::new(); net.params.len()];
    for (i, &p) in order.iter().enumerate() {
        out[p] = numbers(der, &s, i, p);
    }
    out
}
