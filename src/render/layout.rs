//! One layout of the network drawing for every writer (the HTML page's SVG,
//! the Moodle question's SVG, the LaTeX `picture` of the exam sheet and of
//! the handout): the topology ([`Topology`]) gives nodes and edges, the
//! layout gives them positions, and then places each edge's label.
//!
//! Layers are columns of circles (inputs left), a bias node per layer at
//! the foot of the column before it. An edge that skips a column bends
//! around the nodes between. Each weight label is a box centred on its own
//! edge, placed where it overlaps no node (nor the text under it), no other
//! label and, where possible, no other edge. When some label finds no such
//! place, the columns move apart and the labels are placed again; a network
//! too large for labels (over [`SMALL_AFTER`] nodes in a column) is drawn
//! with small unnamed nodes and no labels. The unit is the SVG pixel; the
//! LaTeX writer scales it.

use std::collections::HashMap;

use super::topology::{shared_bias, Topology};
use crate::expr::{Names, Sym};
use crate::model::Network;
use crate::notation::{latex_name, NetNames};

/// Above this many nodes in a column, nodes are small, unnamed, unlabelled.
pub const SMALL_AFTER: usize = 10;
/// Above this many labels, none is drawn: the drawing would be a thicket.
pub const MOST_LABELS: usize = 80;
/// Width of a label's character, in px (12 px serif, generous).
pub const CHAR_W: f64 = 6.8;
/// Height of a label's box, in px.
pub const LABEL_H: f64 = 17.0;
/// Height of a line of text under a node, in px.
pub const LINE_H: f64 = 15.0;
/// Width of a character of the text under a node, in px (13 px).
pub const BELOW_CHAR_W: f64 = 7.0;

const MARGIN: f64 = 30.0;
const COL_GAP: f64 = 250.0;
const ROW_GAP: f64 = 110.0;
const RADIUS: f64 = 24.0;
/// Space kept free around nodes and between labels, in px.
const PAD: f64 = 3.0;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A network input.
    Input,
    /// A neuron of a hidden layer.
    Hidden,
    /// A neuron of the output layer.
    Output,
    /// A layer's bias node.
    Bias,
}

/// A node, placed.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its centre.
    pub x: f64,
    /// Its centre (y grows downwards).
    pub y: f64,
    /// Its radius.
    pub r: f64,
    /// Its name, plain (`h1`, `b1`, `1`).
    pub name: String,
    /// Its name, LaTeX.
    pub latex: String,
    /// What it is.
    pub kind: Kind,
    /// Lines of text under it (its value, its target), plain.
    pub below: Vec<String>,
}

/// An edge: a quadratic Bézier curve from `p0` through control `c` to `p1`
/// (a straight line when `c` is the midpoint).
#[derive(Debug, Clone)]
pub struct Edge {
    /// The node it leaves.
    pub from: usize,
    /// The node it enters.
    pub to: usize,
    /// Start point, on the border of `from`.
    pub p0: (f64, f64),
    /// Control point.
    pub c: (f64, f64),
    /// End point, on the border of `to`.
    pub p1: (f64, f64),
}

impl Edge {
    /// The point at `t` ∈ [0, 1].
    pub fn at(&self, t: f64) -> (f64, f64) {
        let u = 1.0 - t;
        (
            u * u * self.p0.0 + 2.0 * u * t * self.c.0 + t * t * self.p1.0,
            u * u * self.p0.1 + 2.0 * u * t * self.c.1 + t * t * self.p1.1,
        )
    }
}

/// An axis-parallel box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left.
    pub x0: f64,
    /// Top.
    pub y0: f64,
    /// Right.
    pub x1: f64,
    /// Bottom.
    pub y1: f64,
}

impl Rect {
    /// The box of width `w` and height `h` centred at (`x`, `y`).
    pub fn centred(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect {
            x0: x - w / 2.0,
            y0: y - h / 2.0,
            x1: x + w / 2.0,
            y1: y + h / 2.0,
        }
    }

    /// Whether the boxes share interior points.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    /// The box grown by `d` on every side.
    pub fn grown(&self, d: f64) -> Rect {
        Rect {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }

    /// Whether (`x`, `y`) is inside.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        self.x0 <= x && x <= self.x1 && self.y0 <= y && y <= self.y1
    }
}

/// A box turned by `angle`: a label's, along its edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turned {
    /// Its centre.
    pub cx: f64,
    /// Its centre.
    pub cy: f64,
    /// Its length, along the edge.
    pub w: f64,
    /// Its height, across the edge.
    pub h: f64,
    /// The edge's direction there, in degrees, clockwise from the x axis
    /// (y grows downwards), between −90 and 90: text reads left to right.
    pub angle: f64,
}

impl Turned {
    /// Its unit vectors: along and across.
    fn axes(&self) -> ((f64, f64), (f64, f64)) {
        let (s, c) = self.angle.to_radians().sin_cos();
        ((c, s), (-s, c))
    }

    /// (`x`, `y`) in the box's own frame: along, across, from the centre.
    pub fn local(&self, x: f64, y: f64) -> (f64, f64) {
        let (u, v) = self.axes();
        let (dx, dy) = (x - self.cx, y - self.cy);
        (dx * u.0 + dy * u.1, dx * v.0 + dy * v.1)
    }

    /// Whether (`x`, `y`) is inside the box grown by `pad`.
    pub fn contains(&self, x: f64, y: f64, pad: f64) -> bool {
        let (a, b) = self.local(x, y);
        a.abs() <= self.w / 2.0 + pad && b.abs() <= self.h / 2.0 + pad
    }

    /// Its four corners.
    pub fn corners(&self) -> [(f64, f64); 4] {
        let (u, v) = self.axes();
        let (a, b) = (self.w / 2.0, self.h / 2.0);
        [(-a, -b), (a, -b), (a, b), (-a, b)]
            .map(|(p, q)| (self.cx + p * u.0 + q * v.0, self.cy + p * u.1 + q * v.1))
    }

    /// Whether two boxes, each grown by `pad`, share interior points
    /// (separating axes).
    pub fn overlaps(&self, o: &Turned, pad: f64) -> bool {
        let grow = |t: &Turned| Turned {
            w: t.w + 2.0 * pad,
            h: t.h + 2.0 * pad,
            ..*t
        };
        let (a, b) = (grow(self), grow(o));
        let (ca, cb) = (a.corners(), b.corners());
        let (ua, va) = a.axes();
        let (ub, vb) = b.axes();
        [ua, va, ub, vb].iter().all(|ax| {
            let proj = |c: &[(f64, f64); 4]| {
                c.iter()
                    .map(|p| p.0 * ax.0 + p.1 * ax.1)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                        (lo.min(x), hi.max(x))
                    })
            };
            let ((a0, a1), (b0, b1)) = (proj(&ca), proj(&cb));
            a0 < b1 && b0 < a1
        })
    }

    /// Whether the box, grown by `pad`, meets the axis-parallel box `r`.
    pub fn meets_rect(&self, r: &Rect, pad: f64) -> bool {
        let t = Turned {
            cx: (r.x0 + r.x1) / 2.0,
            cy: (r.y0 + r.y1) / 2.0,
            w: r.x1 - r.x0,
            h: r.y1 - r.y0,
            angle: 0.0,
        };
        self.overlaps(&t, pad / 2.0)
    }

    /// Whether the box, grown by `pad`, meets the disc at (`x`, `y`) of
    /// radius `r`.
    pub fn meets_disc(&self, x: f64, y: f64, r: f64, pad: f64) -> bool {
        let (a, b) = self.local(x, y);
        let da = (a.abs() - self.w / 2.0 - pad).max(0.0);
        let db = (b.abs() - self.h / 2.0 - pad).max(0.0);
        da * da + db * db < r * r
    }

    /// The axis-parallel box around it.
    pub fn bounds(&self) -> Rect {
        let c = self.corners();
        Rect {
            x0: c.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
            y0: c.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
            x1: c.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
            y1: c.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// An edge's label, placed.
#[derive(Debug, Clone)]
pub struct Label {
    /// The edge it names.
    pub edge: usize,
    /// Its box, centred on the edge and turned along it.
    pub rect: Turned,
    /// The weight's name, plain (`w5`), or names joined by `·`.
    pub name: String,
    /// The weight's name, LaTeX.
    pub latex: String,
    /// Its value, when the drawing shows values.
    pub value: Option<String>,
}

impl Label {
    /// The label as plain text: `w5 = 0.4`.
    pub fn text(&self) -> String {
        match &self.value {
            Some(v) => format!("{} = {v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The drawing, laid out.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Its width.
    pub width: f64,
    /// Its height.
    pub height: f64,
    /// The nodes, column by column.
    pub nodes: Vec<Node>,
    /// The nodes of each column, top to bottom.
    pub columns: Vec<Vec<usize>>,
    /// The edges.
    pub edges: Vec<Edge>,
    /// The labels of the edges that carry one.
    pub labels: Vec<Label>,
    /// Whether the network is too large for names and labels.
    pub small: bool,
}

/// What the drawing shows besides names.
pub struct Content<'a> {
    /// The lines of text under a node (`Sym::Input` or `Sym::Out`).
    pub below: &'a dyn Fn(Sym) -> Vec<String>,
    /// The value of a param or const on its label, if the drawing shows it.
    pub value: &'a dyn Fn(Sym) -> Option<String>,
}

/// A label to place: its edge, names and value.
struct Wanted {
    edge: usize,
    name: String,
    latex: String,
    value: Option<String>,
}

impl Wanted {
    fn width(&self) -> f64 {
        let mut n = self.name.chars().count();
        if let Some(v) = &self.value {
            n += 3 + v.chars().count();
        }
        n as f64 * CHAR_W + 8.0
    }
}

/// The nodes of the inputs and the neurons, unplaced, by column (the
/// inputs, then each layer), and the node of each input and neuron output.
fn neuron_nodes(
    net: &Network,
    content: &Content<'_>,
) -> (Vec<Node>, Vec<Vec<usize>>, HashMap<Sym, usize>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut columns: Vec<Vec<usize>> = Vec::new();
    let mut node_of: HashMap<Sym, usize> = HashMap::new();
    let mut col = Vec::new();
    for (i, s) in net.inputs.iter().enumerate() {
        node_of.insert(Sym::Input(i as u32), nodes.len());
        col.push(nodes.len());
        nodes.push(Node {
            x: 0.0,
            y: 0.0,
            r: 0.0,
            name: s.name.clone(),
            latex: latex_name(&s.name),
            kind: Kind::Input,
            below: (content.below)(Sym::Input(i as u32)),
        });
    }
    columns.push(col);
    let last = net.layers.len().saturating_sub(1);
    for (li, layer) in net.layers.iter().enumerate() {
        let mut col = Vec::new();
        for x in layer.neurons.clone() {
            node_of.insert(Sym::Out(x), nodes.len());
            col.push(nodes.len());
            let name = &net.neurons[x as usize].name;
            nodes.push(Node {
                x: 0.0,
                y: 0.0,
                r: 0.0,
                name: name.clone(),
                latex: latex_name(name),
                kind: if li == last {
                    Kind::Output
                } else {
                    Kind::Hidden
                },
                below: (content.below)(Sym::Out(x)),
            });
        }
        columns.push(col);
    }
    (nodes, columns, node_of)
}

/// The drawing of a solved network: each input's and neuron's value under
/// it (and an output's target), the weights' values on their labels, to
/// `decimals` (at most 4). With `data_values` off, a network with a `data`
/// block shows no input or neuron values (they are one sample's).
pub fn solved(sol: &crate::solution::Solution<'_>, decimals: usize, data_values: bool) -> Layout {
    let net = sol.net;
    let d = &sol.derivation;
    let fmt = |x: f64| crate::number::format(x, decimals.min(4));
    let shown = data_values || net.data.is_none();
    let below = |s: Sym| match s {
        Sym::Input(i) if shown => vec![fmt(net.inputs[i as usize].value)],
        Sym::Out(x) if shown => {
            let mut v = vec![fmt(d.worked().forward.out[x as usize])];
            if let Some(t) = net.targets[x as usize] {
                v.push(format!("target {}", fmt(t)));
            }
            v
        }
        _ => Vec::new(),
    };
    let value = |w: Sym| net.fixed_value(w).map(fmt);
    layout(
        net,
        &Content {
            below: &below,
            value: &value,
        },
    )
}

/// Lays out the drawing of `net` showing `content`.
pub fn layout(net: &Network, content: &Content<'_>) -> Layout {
    let names = NetNames::new(net, Default::default());
    let (mut nodes, mut columns, node_of) = neuron_nodes(net, content);

    // Edges and their labels; a bias node per layer.
    let topology = Topology::of(net);
    let mut ends: Vec<(usize, usize)> = Vec::new();
    let mut wanted: Vec<Wanted> = Vec::new();
    let label_of = |weights: &[Sym], edge: usize| -> Option<Wanted> {
        match weights {
            [] => None,
            [w] => Some(Wanted {
                edge,
                name: names.plain(*w),
                latex: names.latex(*w),
                value: (content.value)(*w),
            }),
            many => Some(Wanted {
                edge,
                name: many
                    .iter()
                    .map(|w| names.plain(*w))
                    .collect::<Vec<_>>()
                    .join("·"),
                latex: many
                    .iter()
                    .map(|w| names.latex(*w))
                    .collect::<Vec<_>>()
                    .join(" "),
                value: None,
            }),
        }
    };
    for link in &topology.links {
        if let Some(&from) = node_of.get(&link.from) {
            let edge = ends.len();
            ends.push((from, node_of[&Sym::Out(link.to)]));
            if link.labelled {
                wanted.extend(label_of(&link.weights, edge));
            }
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
            latex: shared.map_or_else(|| "1".into(), |w| names.latex(w)),
            kind: Kind::Bias,
            below: shared
                .and_then(|w| (content.value)(w))
                .into_iter()
                .collect(),
        });
        columns[li].push(b);
        for (x, w) in terms {
            let edge = ends.len();
            ends.push((b, node_of[&Sym::Out(*x)]));
            if shared.is_none() {
                wanted.extend(label_of(&[*w], edge));
            }
        }
    }

    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let small = tallest > SMALL_AFTER;
    // Wide labels need wide columns from the start.
    let widest = wanted.iter().map(Wanted::width).fold(0.0, f64::max);
    let gap = COL_GAP.max(widest * 1.9);
    if small || wanted.len() > MOST_LABELS {
        return place_nodes(nodes, &columns, &ends, gap, small);
    }
    // Labels that cover no other edge, in columns up to half as wide again;
    // else labels that may cross other edges, in columns up to twice as
    // wide; else none.
    for (strict, scale) in [
        (true, 1.0),
        (true, 1.2),
        (true, 1.45),
        (false, 1.0),
        (false, 1.3),
        (false, 1.7),
        (false, 2.2),
    ] {
        let mut l = place_nodes(nodes.clone(), &columns, &ends, gap * scale, small);
        if let Some(labels) = place_labels(&l, &wanted, strict) {
            l.labels = labels;
            return l;
        }
    }
    place_nodes(nodes, &columns, &ends, gap, small)
}

/// Positions, edges and the drawing's size, without labels.
fn place_nodes(
    mut nodes: Vec<Node>,
    columns: &[Vec<usize>],
    ends: &[(usize, usize)],
    gap: f64,
    small: bool,
) -> Layout {
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let row_gap = if small { 26.0 } else { ROW_GAP };
    let radius = if small { 8.0 } else { RADIUS };
    // Room for the longest text under a node of the first and last column.
    let half_text = |c: &Vec<usize>| {
        c.iter()
            .flat_map(|&n| nodes[n].below.iter())
            .map(|s| s.chars().count() as f64 * BELOW_CHAR_W / 2.0)
            .fold(radius, f64::max)
    };
    let left = MARGIN + columns.first().map_or(radius, half_text);
    let right = MARGIN + columns.last().map_or(radius, half_text);
    for (c, col) in columns.iter().enumerate() {
        let top = MARGIN + radius + row_gap * (tallest - col.len()) as f64 / 2.0;
        for (k, &n) in col.iter().enumerate() {
            nodes[n].x = left + gap * c as f64;
            nodes[n].y = top + row_gap * k as f64;
            nodes[n].r = if nodes[n].kind == Kind::Bias {
                radius * 0.75
            } else {
                radius
            };
        }
    }
    let width = left + right + gap * (columns.len() - 1) as f64;
    let column_of: HashMap<usize, usize> = columns
        .iter()
        .enumerate()
        .flat_map(|(c, col)| col.iter().map(move |&n| (n, c)))
        .collect();
    let mut edges: Vec<Edge> = ends
        .iter()
        .map(|&(from, to)| edge(&nodes, columns, &column_of, from, to))
        .collect();
    // Edges bent above the top node move everything down.
    let top = edges
        .iter()
        .flat_map(|e| (0..=16).map(move |k| e.at(k as f64 / 16.0).1))
        .fold(f64::INFINITY, f64::min)
        - LABEL_H;
    if top < MARGIN / 2.0 {
        let shift = MARGIN / 2.0 - top;
        for n in &mut nodes {
            n.y += shift;
        }
        edges = ends
            .iter()
            .map(|&(from, to)| edge(&nodes, columns, &column_of, from, to))
            .collect();
    }
    let mut height: f64 = 0.0;
    for n in &nodes {
        height = height.max(n.y + n.r + LINE_H * n.below.len() as f64 + 6.0);
    }
    for e in &edges {
        for k in 0..=16 {
            height = height.max(e.at(k as f64 / 16.0).1 + LABEL_H);
        }
    }
    Layout {
        width,
        height: height + MARGIN,
        nodes,
        columns: columns.to_vec(),
        edges,
        labels: Vec::new(),
        small,
    }
}

/// The edge from node `a` to node `b`: straight between neighbouring
/// columns, bent around the nodes of the columns it skips.
fn edge(
    nodes: &[Node],
    columns: &[Vec<usize>],
    column_of: &HashMap<usize, usize>,
    a: usize,
    b: usize,
) -> Edge {
    let (na, nb) = (&nodes[a], &nodes[b]);
    let (ca, cb) = (column_of[&a], column_of[&b]);
    let mid = ((na.x + nb.x) / 2.0, (na.y + nb.y) / 2.0);
    let between: Vec<&Node> = columns[ca + 1..cb.max(ca + 1)]
        .iter()
        .flatten()
        .map(|&n| &nodes[n])
        .collect();
    let make = |c: (f64, f64)| {
        let toward = |n: &Node, p: (f64, f64)| {
            let (dx, dy) = (p.0 - n.x, p.1 - n.y);
            let len = (dx * dx + dy * dy).sqrt().max(1e-9);
            (n.x + n.r * dx / len, n.y + n.r * dy / len)
        };
        Edge {
            from: a,
            to: b,
            p0: toward(na, c),
            c,
            p1: toward(nb, c),
        }
    };
    let clear = |e: &Edge| {
        between.iter().all(|n| {
            (0..=48).all(|k| {
                let (x, y) = e.at(k as f64 / 48.0);
                ((x - n.x).powi(2) + (y - n.y).powi(2)).sqrt() > n.r + 2.0 * LABEL_H
            })
        })
    };
    let straight = make(mid);
    if between.is_empty() || clear(&straight) {
        return straight;
    }
    // Bend up for edges in the upper half, down for the lower, more and
    // more until the curve clears the nodes it passes.
    let centre = nodes.iter().map(|n| n.y).sum::<f64>() / nodes.len() as f64;
    let dir = if mid.1 <= centre { -1.0 } else { 1.0 };
    for k in 1..=40 {
        let e = make((mid.0, mid.1 + dir * 20.0 * k as f64));
        if clear(&e) {
            return e;
        }
    }
    straight
}

/// Places every wanted label, or `None` when some label has no free place.
/// `strict`: no label may cover another edge either.
fn place_labels(l: &Layout, wanted: &[Wanted], strict: bool) -> Option<Vec<Label>> {
    // Nodes and the text under them are taken.
    let below: Vec<Rect> = l
        .nodes
        .iter()
        .filter(|n| !n.below.is_empty())
        .map(|n| {
            let w = n
                .below
                .iter()
                .map(|s| s.chars().count() as f64 * BELOW_CHAR_W)
                .fold(0.0, f64::max);
            Rect {
                x0: n.x - w / 2.0,
                y0: n.y + n.r,
                x1: n.x + w / 2.0,
                y1: n.y + n.r + 4.0 + LINE_H * n.below.len() as f64,
            }
        })
        .collect();
    // The box around each edge (its control polygon's): most edges are far
    // from most labels.
    let hulls: Vec<Rect> = l
        .edges
        .iter()
        .map(|e| Rect {
            x0: e.p0.0.min(e.c.0).min(e.p1.0),
            y0: e.p0.1.min(e.c.1).min(e.p1.1),
            x1: e.p0.0.max(e.c.0).max(e.p1.0),
            y1: e.p0.1.max(e.c.1).max(e.p1.1),
        })
        .collect();
    const SPOTS: [f64; 17] = [
        0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9,
    ];
    // Each label's candidate boxes, free of nodes, with their cost: the
    // other edges they cover, then how far they are from the source side.
    let candidates: Vec<Vec<(Turned, f64)>> = wanted
        .iter()
        .map(|w| {
            let e = &l.edges[w.edge];
            let width = w.width();
            SPOTS
                .iter()
                .filter_map(|&t| {
                    let (x, y) = e.at(t);
                    let (a, b) = (e.at(t - 0.01), e.at(t + 0.01));
                    let mut angle = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
                    if angle > 90.0 {
                        angle -= 180.0;
                    } else if angle < -90.0 {
                        angle += 180.0;
                    }
                    let r = Turned {
                        cx: x,
                        cy: y,
                        w: width,
                        h: LABEL_H,
                        angle,
                    };
                    let bb = r.bounds();
                    let inside =
                        bb.x0 >= 0.0 && bb.y0 >= 0.0 && bb.x1 <= l.width && bb.y1 <= l.height;
                    if !inside
                        || l.nodes.iter().any(|n| r.meets_disc(n.x, n.y, n.r, PAD))
                        || below.iter().any(|b| r.meets_rect(b, PAD))
                    {
                        return None;
                    }
                    let crossed = l
                        .edges
                        .iter()
                        .enumerate()
                        .filter(|(j, o)| {
                            *j != w.edge && hulls[*j].overlaps(&bb.grown(2.0)) && covers(&r, o)
                        })
                        .count();
                    if strict && crossed > 0 {
                        return None;
                    }
                    Some((r, crossed as f64 * 10.0 + (t - 0.35).abs()))
                })
                .collect()
        })
        .collect();
    // The most constrained labels first.
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| candidates[i].len());
    let mut placed: Vec<Option<Turned>> = vec![None; wanted.len()];
    for &i in &order {
        let best = candidates[i]
            .iter()
            .filter(|(r, _)| placed.iter().flatten().all(|o| !o.overlaps(r, PAD / 2.0)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        placed[i] = Some(best.0);
    }
    Some(
        wanted
            .iter()
            .zip(placed)
            .filter_map(|(w, r)| {
                Some(Label {
                    edge: w.edge,
                    rect: r?,
                    name: w.name.clone(),
                    latex: w.latex.clone(),
                    value: w.value.clone(),
                })
            })
            .collect(),
    )
}

/// Whether the edge passes through the box (grown by 2 px).
fn covers(r: &Turned, e: &Edge) -> bool {
    (0..=96).any(|k| {
        let (x, y) = e.at(k as f64 / 96.0);
        r.contains(x, y, 2.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, values: bool) -> Layout {
        let net = crate::parse::parse_network("t.nn", src).unwrap();
        let below = |s: Sym| match s {
            Sym::Input(_) => vec!["0.05".to_string()],
            _ => vec!["0.593269992".to_string(), "target 0.01".to_string()],
        };
        let value = |_: Sym| values.then(|| "-0.4312".to_string());
        let l = layout(
            &net,
            &Content {
                below: &below,
                value: &value,
            },
        );
        for (i, a) in l.labels.iter().enumerate() {
            for b in &l.labels[i + 1..] {
                assert!(
                    !a.rect.overlaps(&b.rect, 0.0),
                    "{} and {}",
                    a.text(),
                    b.text()
                );
            }
            for n in &l.nodes {
                assert!(
                    !a.rect.meets_disc(n.x, n.y, n.r, 0.0),
                    "{} on {}",
                    a.text(),
                    n.name
                );
            }
        }
        l
    }

    #[test]
    fn the_example_has_every_label() {
        let l = check(include_str!("../../examples/mazur.nn"), true);
        assert_eq!(l.edges.len(), 12);
        assert_eq!(l.labels.len(), 8);
    }
}
