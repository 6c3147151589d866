//! What a drawing of a network shows, read once from the net inputs: each
//! additive term with a source (an input or an earlier neuron's output) is
//! an edge through the term's weights; a term that is a param or const
//! alone is that neuron's bias. Both drawings (the HTML page's SVG and the
//! exam sheet's LaTeX picture) read this.

use crate::expr::Sym;
use crate::model::Network;

/// An edge: `from` feeds neuron `to` through `weights`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// `Sym::Input` or `Sym::Out` of an earlier neuron.
    pub from: Sym,
    /// The neuron fed.
    pub to: u32,
    /// The params and consts of the term (the weight, usually one).
    pub weights: Vec<Sym>,
    /// Whether it is the term's first source: the one that carries the label.
    pub labelled: bool,
}

/// The edges and biases of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Every edge, layer by layer, neuron by neuron, term by term.
    pub links: Vec<Link>,
    /// For each layer, its biases: (neuron, the bias param or const).
    pub biases: Vec<Vec<(u32, Sym)>>,
}

impl Topology {
    /// Reads the edges and biases of `net`.
    pub fn of(net: &Network) -> Topology {
        let mut links = Vec::new();
        let mut biases = vec![Vec::new(); net.layers.len()];
        for (li, layer) in net.layers.iter().enumerate() {
            for x in layer.neurons.clone() {
                for (_, term) in net.neurons[x as usize].net.additive_terms() {
                    let mut sources = Vec::new();
                    let mut weights = Vec::new();
                    term.visit_syms(&mut |s| match s {
                        Sym::Input(_) | Sym::Out(_) if !sources.contains(&s) => sources.push(s),
                        Sym::Param(_) | Sym::Const(_) if !weights.contains(&s) => weights.push(s),
                        _ => {}
                    });
                    match (sources.as_slice(), weights.as_slice()) {
                        ([], [w]) => biases[li].push((x, *w)),
                        // A number alone is a fixed offset: not drawn.
                        ([], _) => {}
                        (srcs, _) => {
                            for (k, s) in srcs.iter().enumerate() {
                                links.push(Link {
                                    from: *s,
                                    to: x,
                                    weights: weights.clone(),
                                    labelled: k == 0,
                                });
                            }
                        }
                    }
                }
            }
        }
        Topology { links, biases }
    }
}

/// Whether every bias of a layer is the same quantity (drawn as one node
/// named after it), and that quantity.
pub fn shared_bias(biases: &[(u32, Sym)]) -> Option<Sym> {
    let first = biases.first()?.1;
    biases.iter().all(|(_, w)| *w == first).then_some(first)
}
