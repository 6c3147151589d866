//! The network drawn for a question sheet in LaTeX `picture` mode (no
//! drawing package; `color` for the white boxes behind edge labels): layers
//! as columns of circles (inputs left), each node's name inside, edges
//! labelled with their weight's name, a bias node per layer. No values: the
//! sheet's table gives them, and the rest is the student's to compute.
//!
//! The kernel's `\line` draws few slopes, so edges are `\qbezier` curves
//! whose control point is the midpoint, which are straight lines of any
//! slope; kernel circles are at most 40pt wide, so nodes stay small.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::expr::{Names, Sym};
use crate::model::Network;
use crate::notation::{latex_name, NetNames};
use crate::render::topology::{shared_bias, Topology};

/// Distance between columns, in mm.
const COL_GAP: f64 = 34.0;
/// Largest distance between nodes of a column, in mm.
const ROW_GAP: f64 = 17.0;
/// Tallest drawing, in mm.
const MAX_HEIGHT: f64 = 110.0;
/// Above this many nodes in a column, nodes are dots without names.
const SMALL_AFTER: usize = 8;

struct Node {
    x: f64,
    y: f64,
    r: f64,
    label: String,
}

struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
}

#[derive(Clone, Copy)]
struct Rect(f64, f64, f64, f64);

impl Rect {
    fn overlaps(&self, o: &Rect) -> bool {
        self.0 < o.2 && o.0 < self.2 && self.1 < o.3 && o.1 < self.3
    }
}

/// The `picture` environment of `net` (unit: 1 mm).
pub(crate) fn picture(net: &Network) -> String {
    let names = NetNames::new(net, Default::default());
    let mut nodes: Vec<Node> = Vec::new();
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut node_of: HashMap<Sym, usize> = HashMap::new();
    let node = |nodes: &mut Vec<Node>, label: String| {
        nodes.push(Node {
            x: 0.0,
            y: 0.0,
            r: 0.0,
            label,
        });
        nodes.len() - 1
    };
    let mut col = Vec::new();
    for (i, s) in net.inputs.iter().enumerate() {
        let k = node(&mut nodes, latex_name(&s.name));
        node_of.insert(Sym::Input(i as u32), k);
        col.push(k);
    }
    columns.push(col);
    for layer in &net.layers {
        let mut col = Vec::new();
        for x in layer.neurons.clone() {
            let k = node(&mut nodes, latex_name(&net.neurons[x as usize].name));
            node_of.insert(Sym::Out(x), k);
            col.push(k);
        }
        columns.push(col);
    }

    // Edges, labelled with their weights, and a bias node per layer at the
    // foot of the column before it: named after the bias when the layer
    // shares one, else `1` with labelled edges.
    let topology = Topology::of(net);
    let mut edges = Vec::new();
    for link in &topology.links {
        if let Some(&from) = node_of.get(&link.from) {
            let label = (link.labelled && !link.weights.is_empty()).then(|| {
                link.weights
                    .iter()
                    .map(|&w| names.latex(w))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            edges.push(Edge {
                from,
                to: node_of[&Sym::Out(link.to)],
                label,
            });
        }
    }
    for (li, terms) in topology.biases.iter().enumerate() {
        if terms.is_empty() {
            continue;
        }
        let shared = shared_bias(terms);
        let b = node(
            &mut nodes,
            shared.map_or_else(|| "1".to_string(), |w| names.latex(w)),
        );
        columns[li].push(b);
        for &(x, w) in terms {
            edges.push(Edge {
                from: b,
                to: node_of[&Sym::Out(x)],
                label: shared.is_none().then(|| names.latex(w)),
            });
        }
    }

    // Layout: columns centred on the tallest, y growing downwards.
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let small = tallest > SMALL_AFTER;
    let gap = if tallest > 1 {
        ROW_GAP.min(MAX_HEIGHT / (tallest - 1) as f64)
    } else {
        ROW_GAP
    };
    let r = if small { 1.2 } else { 4.5 };
    let margin = 6.0;
    let height = gap * (tallest - 1) as f64 + 2.0 * margin;
    let width = COL_GAP * (columns.len() - 1) as f64 + 2.0 * margin;
    for (c, col) in columns.iter().enumerate() {
        let top = margin + gap * (tallest - col.len()) as f64 / 2.0;
        for (k, &n) in col.iter().enumerate() {
            nodes[n].x = margin + COL_GAP * c as f64;
            nodes[n].y = top + gap * k as f64;
            nodes[n].r = r;
        }
    }

    let mut s = String::new();
    let _ = writeln!(s, "\\setlength{{\\unitlength}}{{1mm}}");
    let _ = writeln!(s, "\\begin{{picture}}({width:.1},{height:.1})");
    // Picture mode's y grows upwards.
    let y = |v: f64| height - v;
    for e in &edges {
        let (a, b) = (&nodes[e.from], &nodes[e.to]);
        let (x0, y0, x1, y1) = (a.x + a.r, y(a.y), b.x - b.r, y(b.y));
        let _ = writeln!(
            s,
            "\\qbezier({x0:.2},{y0:.2})({:.2},{:.2})({x1:.2},{y1:.2})",
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0
        );
    }
    let labels = if small {
        String::new()
    } else {
        edge_labels(&nodes, &edges, &y)
    };
    s.push_str(&labels);
    let mut node_text = String::new();
    for n in &nodes {
        let _ = writeln!(
            node_text,
            "\\put({:.2},{:.2}){{\\circle{{{:.1}}}}}",
            n.x,
            y(n.y),
            2.0 * n.r
        );
        if !small {
            let _ = writeln!(
                node_text,
                "\\put({:.2},{:.2}){{\\makebox(0,0){{${}$}}}}",
                n.x,
                y(n.y),
                n.label
            );
        }
    }
    s.push_str(&node_text);
    s.push_str("\\end{picture}");
    s
}

/// The edge labels: each on its edge in a white box, where it overlaps no
/// node, no other label and no other edge (so never on a crossing). When an
/// edge has no such place (dense layers), no edge is labelled: a few labels
/// would mislead more than none, and the sheet's equations name every weight.
fn edge_labels(nodes: &[Node], edges: &[Edge], y: &dyn Fn(f64) -> f64) -> String {
    let mut out = String::new();
    let mut taken: Vec<Rect> = nodes
        .iter()
        .map(|n| {
            Rect(
                n.x - n.r - 0.5,
                n.y - n.r - 0.5,
                n.x + n.r + 0.5,
                n.y + n.r + 0.5,
            )
        })
        .collect();
    let segments: Vec<[f64; 4]> = edges
        .iter()
        .map(|e| {
            let (a, b) = (&nodes[e.from], &nodes[e.to]);
            [a.x + a.r, a.y, b.x - b.r, b.y]
        })
        .collect();
    for (i, e) in edges.iter().enumerate() {
        let Some(label) = &e.label else { continue };
        let [x0, y0, x1, y1] = segments[i];
        let (w, h) = (1.6 * visible_chars(label) as f64 + 1.2, 3.4);
        let spot = [0.25, 0.75, 0.35, 0.65, 0.5, 0.18, 0.82]
            .into_iter()
            .find_map(|t| {
                let (cx, cy) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
                let rect = Rect(cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0);
                let free = taken.iter().all(|o| !o.overlaps(&rect))
                    && segments
                        .iter()
                        .enumerate()
                        .all(|(j, s)| j == i || rect_distance(&rect, s) >= 0.8);
                free.then_some((cx, cy, rect))
            });
        let Some((cx, cy, rect)) = spot else {
            return String::new();
        };
        taken.push(rect);
        let _ = writeln!(
            out,
            "\\put({cx:.2},{:.2}){{\\makebox(0,0){{\\colorbox{{white}}{{\\footnotesize${label}$}}}}}}",
            y(cy)
        );
    }
    out
}

/// The distance from the rectangle `r` to the segment `s` = [x0, y0, x1, y1]
/// (0 when they meet), sampled along the segment.
fn rect_distance(r: &Rect, s: &[f64; 4]) -> f64 {
    let steps = 64;
    (0..=steps)
        .map(|k| {
            let t = k as f64 / steps as f64;
            let (x, y) = (s[0] + (s[2] - s[0]) * t, s[1] + (s[3] - s[1]) * t);
            let dx = (r.0 - x).max(x - r.2).max(0.0);
            let dy = (r.1 - y).max(y - r.3).max(0.0);
            (dx * dx + dy * dy).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Roughly how many characters `latex` shows (`w_{5}` → 2).
fn visible_chars(latex: &str) -> usize {
    let mut n = 0;
    let mut chars = latex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    chars.next();
                }
                n += 1;
            }
            '{' | '}' | '_' | '^' | ' ' => {}
            _ => n += 1,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_has_every_edge_and_bias() {
        let net = crate::parse::parse_network("mazur.nn", include_str!("../../examples/mazur.nn"))
            .unwrap();
        let p = super::picture(&net);
        assert_eq!(p.matches("\\qbezier").count(), 12);
        assert_eq!(p.matches("\\circle{").count(), 8);
        for w in ["w_{1}", "w_{8}", "b_{1}", "b_{2}", "i_{2}", "o_{1}"] {
            assert!(p.contains(&format!("${w}$")), "{w}");
        }
    }
}
