//! The network drawn as a teacher sketches it: layers as columns of circles
//! (inputs left, outputs right), each node's name inside and its value under
//! it, edges labelled with the weight's name and value, biases as a node per
//! layer. Labels are placed along their edge where they overlap nothing
//! already drawn; where no place is free (large layers) they are left out.

use std::fmt::Write as _;

use super::topology::{shared_bias, Topology};
use crate::expr::{Names, Sym};
use crate::notation::NetNames;
use crate::number;
use crate::solution::Solution;

const COL_GAP: f64 = 250.0;
const MARGIN_X: f64 = 60.0;
const MARGIN_Y: f64 = 50.0;
/// Above this many nodes in a column, nodes are drawn small and unlabelled.
const SMALL_AFTER: usize = 10;

struct Node {
    x: f64,
    y: f64,
    r: f64,
    name: String,
    value: Option<String>,
    extra: Option<String>,
    bias: bool,
}

struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
}

#[derive(Clone, Copy)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
}

/// Escapes text for SVG/XML.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A name as SVG text with trailing digits as a subscript: `h1` → h₁.
fn name_tspans(name: &str) -> String {
    let (base, sub) = match name.split_once('_') {
        Some((b, s)) => (b, s.to_string()),
        None => {
            let cut = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            if cut == 0 || cut == name.len() {
                (name, String::new())
            } else {
                (&name[..cut], name[cut..].to_string())
            }
        }
    };
    if sub.is_empty() {
        xml(base)
    } else {
        format!(
            "{}<tspan class=\"sub\" dy=\"4\">{}</tspan>",
            xml(base),
            xml(&sub.replace('_', ","))
        )
    }
}

/// The SVG drawing of a solved network.
pub fn diagram(sol: &Solution<'_>, decimals: usize) -> String {
    draw(sol, decimals, true)
}

/// The drawing with the given numbers only (inputs, weights, targets), no
/// computed output under a neuron: for an exercise.
pub fn diagram_given(sol: &Solution<'_>, decimals: usize) -> String {
    draw(sol, decimals, false)
}

fn draw(sol: &Solution<'_>, decimals: usize, outputs: bool) -> String {
    let net = sol.net;
    let d = &sol.derivation;
    let names = NetNames::new(net, Default::default());
    let shown = decimals.min(4);
    let fmt = |x: f64| number::format(x, shown);

    // Columns: the inputs, then each layer.
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut sym_node: std::collections::HashMap<Sym, usize> = std::collections::HashMap::new();
    let mut col = Vec::new();
    for (i, s) in net.inputs.iter().enumerate() {
        sym_node.insert(Sym::Input(i as u32), nodes.len());
        col.push(nodes.len());
        nodes.push(Node {
            x: 0.0,
            y: 0.0,
            r: 0.0,
            name: s.name.clone(),
            value: Some(fmt(s.value)),
            extra: None,
            bias: false,
        });
    }
    columns.push(col);
    let mut edges: Vec<Edge> = Vec::new();
    for layer in &net.layers {
        let mut col = Vec::new();
        for x in layer.neurons.clone() {
            sym_node.insert(Sym::Out(x), nodes.len());
            col.push(nodes.len());
            let neuron = &net.neurons[x as usize];
            nodes.push(Node {
                x: 0.0,
                y: 0.0,
                r: 0.0,
                name: neuron.name.clone(),
                value: outputs.then(|| fmt(d.forward.out[x as usize])),
                extra: net.targets[x as usize].map(|t| format!("target {}", fmt(t))),
                bias: false,
            });
        }
        columns.push(col);
    }
    // Edges and a bias node per layer (at the foot of the column before it).
    let topology = Topology::of(net);
    let weight_label = |weights: &[Sym]| match weights {
        [w] => Some(format!(
            "{} = {}",
            names.plain(*w),
            fmt(net.fixed_value(*w).unwrap_or(0.0))
        )),
        [] => None,
        many => Some(
            many.iter()
                .map(|w| names.plain(*w))
                .collect::<Vec<_>>()
                .join("·"),
        ),
    };
    for link in &topology.links {
        if let Some(&from) = sym_node.get(&link.from) {
            edges.push(Edge {
                from,
                to: sym_node[&Sym::Out(link.to)],
                label: if link.labelled {
                    weight_label(&link.weights)
                } else {
                    None
                },
            });
        }
    }
    for (li, terms) in topology.biases.iter().enumerate() {
        if terms.is_empty() {
            continue;
        }
        let shared = shared_bias(terms);
        let b = nodes.len();
        nodes.push(Node {
            x: 0.0,
            y: 0.0,
            r: 0.0,
            name: shared.map_or_else(|| "1".into(), |w| names.plain(w)),
            value: shared.map(|w| fmt(net.fixed_value(w).unwrap_or(0.0))),
            extra: None,
            bias: true,
        });
        columns[li].push(b);
        for (x, w) in terms {
            edges.push(Edge {
                from: b,
                to: sym_node[&Sym::Out(*x)],
                label: if shared.is_some() {
                    None
                } else {
                    weight_label(&[*w])
                },
            });
        }
    }

    // Layout.
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let small = tallest > SMALL_AFTER;
    let row_gap = if small { 26.0 } else { 110.0 };
    let radius = if small { 8.0 } else { 24.0 };
    let height = MARGIN_Y * 2.0 + row_gap * (tallest as f64 - 1.0) + if small { 0.0 } else { 20.0 };
    let width = MARGIN_X * 2.0 + COL_GAP * (columns.len() as f64 - 1.0);
    for (c, col) in columns.iter().enumerate() {
        let span = row_gap * (col.len() as f64 - 1.0);
        let top = MARGIN_Y + (row_gap * (tallest as f64 - 1.0) - span) / 2.0;
        for (k, &n) in col.iter().enumerate() {
            nodes[n].x = MARGIN_X + COL_GAP * c as f64;
            nodes[n].y = top + row_gap * k as f64;
            nodes[n].r = if nodes[n].bias { radius * 0.75 } else { radius };
        }
    }

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"network\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\">",
        xml(&sol.title())
    );
    svg.push_str(
        "<style>.network{font-family:\"Latin Modern Roman\",\"DejaVu Serif\",Georgia,serif;max-width:100%;height:auto}\
.network .edge{stroke:#8a8f98;stroke-width:1.3;fill:none}\
.network .node{fill:#fff;stroke:#24292f;stroke-width:1.6}\
.network .out .node{fill:#fff6e5}.network .in .node{fill:#eef5ff}.network .bias .node{fill:#f3f3f3;stroke-dasharray:3 2}\
.network .name{font-size:17px;font-style:italic;text-anchor:middle;dominant-baseline:central}\
.network .sub{font-size:11px;font-style:normal}\
.network .val{font-size:13px;text-anchor:middle;fill:#24292f}\
.network .extra{font-size:11px;text-anchor:middle;fill:#6a737d}\
.network .wl{font-size:12px;text-anchor:middle;dominant-baseline:central;fill:#0b5394;paint-order:stroke;stroke:#fff;stroke-width:4px}\
</style>",
    );
    // Edges first, under the nodes.
    let _ = write!(svg, "<g class=\"edges\">");
    for e in &edges {
        let (a, b) = (&nodes[e.from], &nodes[e.to]);
        let _ = write!(
            svg,
            "<line class=\"edge\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"{}/>",
            a.x + a.r,
            a.y,
            b.x - b.r,
            b.y,
            if small { " opacity=\"0.35\"" } else { "" }
        );
    }
    svg.push_str("</g>");

    // Occupied areas: nodes and their value texts.
    let mut taken: Vec<Rect> = nodes
        .iter()
        .map(|n| Rect {
            x0: n.x - n.r - 4.0,
            y0: n.y - n.r - 4.0,
            x1: n.x + n.r + 4.0,
            y1: n.y + n.r + 36.0,
        })
        .collect();
    let mut labels = String::new();
    if !small {
        for e in &edges {
            let Some(label) = &e.label else { continue };
            let (a, b) = (&nodes[e.from], &nodes[e.to]);
            let w = label.chars().count() as f64 * 6.6 + 6.0;
            let h = 16.0;
            for t in [0.22, 0.32, 0.42, 0.52, 0.62, 0.72, 0.15, 0.8] {
                let (x0, y0) = (a.x + a.r, a.y);
                let (x1, y1) = (b.x - b.r, b.y);
                // Beside the line rather than on it: offset along the normal.
                let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt().max(1.0);
                let (nx, ny) = (-(y1 - y0) / len, (x1 - x0) / len);
                let side = if ny > 0.0 { -1.0 } else { 1.0 };
                let (x, y) = (
                    x0 + (x1 - x0) * t + nx * 9.0 * side,
                    y0 + (y1 - y0) * t + ny * 9.0 * side,
                );
                let r = Rect {
                    x0: x - w / 2.0,
                    y0: y - h / 2.0,
                    x1: x + w / 2.0,
                    y1: y + h / 2.0,
                };
                if taken.iter().all(|o| !o.overlaps(&r)) {
                    taken.push(r);
                    let _ = write!(
                        labels,
                        "<text class=\"wl\" x=\"{x:.1}\" y=\"{y:.1}\">{}</text>",
                        label_tspans(label)
                    );
                    break;
                }
            }
        }
    }
    svg.push_str("<g class=\"nodes\">");
    let first_out = columns.len() - 1;
    for (c, col) in columns.iter().enumerate() {
        for &i in col {
            let n = &nodes[i];
            let class = if n.bias {
                "bias"
            } else if c == 0 {
                "in"
            } else if c == first_out {
                "out"
            } else {
                "hidden"
            };
            let _ = write!(svg, "<g class=\"{class}\"><circle class=\"node\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\"/>", n.x, n.y, n.r);
            if !small {
                let _ = write!(
                    svg,
                    "<text class=\"name\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    n.x,
                    n.y,
                    name_tspans(&n.name)
                );
                if let Some(v) = &n.value {
                    let _ = write!(
                        svg,
                        "<text class=\"val\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                        n.x,
                        n.y + n.r + 16.0,
                        xml(v)
                    );
                }
                if let Some(v) = &n.extra {
                    let _ = write!(
                        svg,
                        "<text class=\"extra\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                        n.x,
                        n.y + n.r + 31.0,
                        xml(v)
                    );
                }
            }
            svg.push_str("</g>");
        }
    }
    svg.push_str("</g>");
    svg.push_str(&labels);
    svg.push_str("</svg>");
    svg
}

/// An edge label `w5 = 0.4` with the name's digits as a subscript.
fn label_tspans(label: &str) -> String {
    match label.split_once(" = ") {
        Some((name, value)) => format!(
            "{} = {}",
            name_tspans(name).replace("dy=\"4\"", "dy=\"3\""),
            xml(value)
        )
        .replacen("</tspan> =", "</tspan><tspan dy=\"-3\"> =</tspan>", 1),
        None => xml(label),
    }
}
