//! The network drawings are legible, checked on the geometry of the SVG
//! itself: every weight labelled once, each label centred on its own edge
//! and turned along it, no two label boxes meeting, no label box on a node,
//! no edge through a node it does not join. Which edge a weight belongs to
//! is read here from the network file's neuron lines, apart from the code
//! under test. The LaTeX handout draws the same picture, and compiles.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{pdflatex, Test};

/// A node of the drawing: name, centre, radius.
#[derive(Debug, Clone)]
struct Node {
    name: String,
    x: f64,
    y: f64,
    r: f64,
}

/// A label: the weight it names, its box (centre, size, turn in degrees).
#[derive(Debug, Clone)]
struct Label {
    weight: String,
    text: String,
    cx: f64,
    cy: f64,
    w: f64,
    h: f64,
    angle: f64,
}

impl Label {
    fn axes(&self) -> [(f64, f64); 2] {
        let (s, c) = self.angle.to_radians().sin_cos();
        [(c, s), (-s, c)]
    }

    fn corners(&self) -> Vec<(f64, f64)> {
        let [u, v] = self.axes();
        let (a, b) = (self.w / 2.0, self.h / 2.0);
        [(-a, -b), (a, -b), (a, b), (-a, b)]
            .iter()
            .map(|(p, q)| (self.cx + p * u.0 + q * v.0, self.cy + p * u.1 + q * v.1))
            .collect()
    }

    /// Whether two boxes share interior points (separating axis theorem).
    fn meets(&self, o: &Label) -> bool {
        let (ca, cb) = (self.corners(), o.corners());
        self.axes().iter().chain(o.axes().iter()).all(|ax| {
            let span = |c: &[(f64, f64)]| {
                let p: Vec<f64> = c.iter().map(|q| q.0 * ax.0 + q.1 * ax.1).collect();
                (
                    p.iter().cloned().fold(f64::INFINITY, f64::min),
                    p.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                )
            };
            let ((a0, a1), (b0, b1)) = (span(&ca), span(&cb));
            a0 < b1 - 1e-9 && b0 < a1 - 1e-9
        })
    }

    /// The distance from the box to a point (0 inside).
    fn distance(&self, x: f64, y: f64) -> f64 {
        let [u, v] = self.axes();
        let (dx, dy) = (x - self.cx, y - self.cy);
        let a = ((dx * u.0 + dy * u.1).abs() - self.w / 2.0).max(0.0);
        let b = ((dx * v.0 + dy * v.1).abs() - self.h / 2.0).max(0.0);
        (a * a + b * b).sqrt()
    }
}

/// An edge: a quadratic Bézier curve.
#[derive(Debug, Clone)]
struct Curve([f64; 6]);

impl Curve {
    fn at(&self, t: f64) -> (f64, f64) {
        let [x0, y0, cx, cy, x1, y1] = self.0;
        let u = 1.0 - t;
        (
            u * u * x0 + 2.0 * u * t * cx + t * t * x1,
            u * u * y0 + 2.0 * u * t * cy + t * t * y1,
        )
    }

    /// The parameter of the curve's point nearest (`x`, `y`), and the distance.
    fn nearest(&self, x: f64, y: f64) -> (f64, f64) {
        (0..=2000)
            .map(|k| {
                let t = k as f64 / 2000.0;
                let p = self.at(t);
                (t, ((p.0 - x).powi(2) + (p.1 - y).powi(2)).sqrt())
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
    }
}

fn attr(tag: &str, name: &str) -> Option<f64> {
    let pat = format!(" {name}=\"");
    let at = tag.find(&pat)? + pat.len();
    tag[at..].split('"').next()?.parse().ok()
}

/// Text without its tags: `w<tspan …>5</tspan> = 0.4` → `w5 = 0.4`.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in s.chars() {
        match c {
            '<' => tag = true,
            '>' => tag = false,
            c if !tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
}

/// The drawing's size, nodes, edges and labels.
fn read_svg(svg: &str) -> ((f64, f64), Vec<Node>, Vec<Curve>, Vec<Label>) {
    let size = (attr(svg, "width").unwrap(), attr(svg, "height").unwrap());
    let mut nodes = Vec::new();
    for part in svg.split("<circle class=\"node\"").skip(1) {
        let tag = &part[..part.find("/>").unwrap()];
        let name = part
            .split("<text class=\"name\"")
            .nth(1)
            .map(|t| plain(&t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()]))
            .unwrap_or_default();
        nodes.push(Node {
            name,
            x: attr(tag, "cx").unwrap(),
            y: attr(tag, "cy").unwrap(),
            r: attr(tag, "r").unwrap(),
        });
    }
    let mut edges = Vec::new();
    for part in svg.split("<path class=\"edge\" d=\"M").skip(1) {
        let d = &part[..part.find('"').unwrap()];
        let v: Vec<f64> = d
            .replace('Q', " ")
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        edges.push(Curve(v.try_into().unwrap()));
    }
    let mut labels = Vec::new();
    for part in svg
        .split("<g class=\"labels\">")
        .nth(1)
        .unwrap()
        .split("<g")
        .skip(1)
    {
        let angle = part
            .split_once("rotate(")
            .map_or(0.0, |(_, r)| r.split(' ').next().unwrap().parse().unwrap());
        let rect = &part[part.find("<rect class=\"wlb\"").unwrap()..];
        let rect = &rect[..rect.find("/>").unwrap()];
        let (x, y, w, h) = (
            attr(rect, "x").unwrap(),
            attr(rect, "y").unwrap(),
            attr(rect, "width").unwrap(),
            attr(rect, "height").unwrap(),
        );
        let t = &part[part.find("<text class=\"wl\"").unwrap()..];
        let text = plain(&t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()]);
        labels.push(Label {
            weight: text.split(" = ").next().unwrap().to_string(),
            text,
            cx: x + w / 2.0,
            cy: y + h / 2.0,
            w,
            h,
            angle,
        });
    }
    (size, nodes, edges, labels)
}

/// Which edge each weight labels, from the neuron lines of a network file
/// (`h1 = w1*x1 + w2*x2 + b1`): weight → (source, neuron). A bias alone is
/// on the edge from a node named `1`, when the layer's biases differ.
fn weights_of(nn: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let mut layer_biases: Vec<(String, String)> = Vec::new();
    let flush = |biases: &mut Vec<(String, String)>, out: &mut BTreeMap<_, _>| {
        // A layer whose neurons share one bias draws it as a node named
        // after it, with unlabelled edges.
        let shared = biases.windows(2).all(|w| w[0].0 == w[1].0);
        if !shared {
            for (b, n) in biases.iter() {
                out.insert(b.clone(), ("1".to_string(), n.clone()));
            }
        }
        biases.clear();
    };
    for line in nn.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.starts_with("layer") || line == "}" {
            flush(&mut layer_biases, &mut out);
            continue;
        }
        let Some((neuron, sum)) = line.split_once(" = ") else {
            continue;
        };
        if neuron.contains(' ') || !sum.contains('*') && !sum.contains('+') {
            continue;
        }
        for term in sum.split('+') {
            let term = term.trim();
            match term.split_once('*') {
                Some((w, src)) => {
                    out.insert(w.to_string(), (src.to_string(), neuron.to_string()));
                }
                None => layer_biases.push((term.to_string(), neuron.to_string())),
            }
        }
    }
    flush(&mut layer_biases, &mut out);
    out
}

/// Asserts the drawing `svg` of the network file `nn` is legible.
pub fn assert_legible(svg: &str, nn: &str) {
    let ((width, height), nodes, edges, labels) = read_svg(svg);
    let weights = weights_of(nn);
    let ends = |c: &Curve| -> (String, String) {
        let near = |x: f64, y: f64| {
            nodes
                .iter()
                .min_by(|a, b| {
                    let d = |n: &Node| ((n.x - x).powi(2) + (n.y - y).powi(2)).sqrt() - n.r;
                    d(a).total_cmp(&d(b))
                })
                .unwrap()
                .name
                .clone()
        };
        (near(c.0[0], c.0[1]), near(c.0[4], c.0[5]))
    };
    // Every weight labelled, once.
    let mut named: Vec<&str> = labels.iter().map(|l| l.weight.as_str()).collect();
    named.sort();
    let mut expected: Vec<&str> = weights.keys().map(String::as_str).collect();
    expected.sort();
    assert_eq!(named, expected, "labels");
    for l in &labels {
        // On its own edge, along it.
        let (from, to) = &weights[&l.weight];
        let edge = edges
            .iter()
            .find(|c| {
                let (a, b) = ends(c);
                a == *from && b == *to
            })
            .unwrap_or_else(|| panic!("no edge {from} → {to} for {}", l.weight));
        let (t, d) = edge.nearest(l.cx, l.cy);
        assert!(d < 0.6, "{} is {d} px off its edge {from} → {to}", l.text);
        let (a, b) = (edge.at(t - 0.01), edge.at(t + 0.01));
        let mut dir = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
        if dir > 90.0 {
            dir -= 180.0;
        }
        assert!(
            (dir - l.angle).abs() < 1.5,
            "{} turned {} on an edge at {dir}",
            l.text,
            l.angle
        );
        // Long enough for its text, and inside the drawing.
        assert!(
            l.w >= 6.0 * l.text.chars().count() as f64,
            "{} in {} px",
            l.text,
            l.w
        );
        for (x, y) in l.corners() {
            assert!(
                (0.0..=width).contains(&x) && (0.0..=height).contains(&y),
                "{} outside",
                l.text
            );
        }
        // On no node.
        for n in &nodes {
            assert!(
                l.distance(n.x, n.y) > n.r,
                "{} covers node {}",
                l.text,
                n.name
            );
        }
    }
    for (i, a) in labels.iter().enumerate() {
        for b in &labels[i + 1..] {
            assert!(!a.meets(b), "{} and {} overlap", a.text, b.text);
        }
    }
    // No edge through a node it does not join.
    for c in &edges {
        let (a, b) = ends(c);
        for n in nodes.iter().filter(|n| n.name != a && n.name != b) {
            let (_, d) = c.nearest(n.x, n.y);
            assert!(d > n.r, "the edge {a} → {b} crosses node {}", n.name);
        }
    }
}

fn diagram(nn: &str, dir: &Path, name: &str) -> String {
    let svg = dir.join(format!("{name}.svg"));
    Test::new()
        .args([
            "solve",
            nn,
            "--diagram",
            svg.to_str().unwrap(),
            "-o",
            dir.join(format!("{name}.md")).to_str().unwrap(),
        ])
        .status(0);
    std::fs::read_to_string(svg).unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("drawing-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn drawings_are_legible() {
    let dir = tempdir("svg");
    for (name, nn, labels) in [
        ("mazur", "examples/mazur.nn", 8),
        ("net-3-4-2", "tests/networks/net-3-4-2.nn", 26),
        ("skip", "tests/networks/skip.nn", 10),
    ] {
        let text = std::fs::read_to_string(nn).unwrap();
        let svg = diagram(nn, &dir, name);
        assert_eq!(read_svg(&svg).3.len(), labels, "{name}");
        assert_legible(&svg, &text);
    }
}

#[test]
fn a_broken_drawing_is_caught() {
    // The checks can fail: two labels moved onto one spot, a label moved
    // off its edge, a label moved onto a node.
    let dir = tempdir("broken");
    let text = std::fs::read_to_string("examples/mazur.nn").unwrap();
    let svg = diagram("examples/mazur.nn", &dir, "mazur");
    let (_, nodes, _, labels) = read_svg(&svg);
    let moved = |from: &Label, to: (f64, f64)| {
        let (x, y) = (from.cx - from.w / 2.0, from.cy - from.h / 2.0);
        svg.replacen(
            &format!("<rect class=\"wlb\" x=\"{x:.1}\" y=\"{y:.1}\""),
            &format!(
                "<rect class=\"wlb\" x=\"{:.1}\" y=\"{:.1}\"",
                to.0 - from.w / 2.0,
                to.1 - from.h / 2.0
            ),
            1,
        )
    };
    let h1 = nodes.iter().find(|n| n.name == "h1").unwrap();
    for broken in [
        moved(&labels[0], (labels[1].cx, labels[1].cy)),
        moved(&labels[0], (labels[0].cx, labels[0].cy + 20.0)),
        moved(&labels[0], (h1.x, h1.y)),
    ] {
        assert_ne!(broken, svg);
        let caught = std::panic::catch_unwind(|| assert_legible(&broken, &text));
        assert!(caught.is_err());
    }
}

#[test]
fn the_handout_draws_the_network_and_compiles() {
    let dir = tempdir("tex");
    for (name, nn, labels) in [
        ("mazur", "examples/mazur.nn", 8),
        ("net-3-4-2", "tests/networks/net-3-4-2.nn", 26),
        ("skip", "tests/networks/skip.nn", 10),
    ] {
        let out = dir.join(format!("{name}.tex"));
        Test::new()
            .args(["solve", nn, "-f", "tex", "-o", out.to_str().unwrap()])
            .status(0);
        let tex = std::fs::read_to_string(&out).unwrap();
        let picture = &tex[tex.find("\\begin{picture}").expect("a picture")..];
        let picture = &picture[..picture.find("\\end{picture}").unwrap()];
        // The labels of the SVG, at the same places (y flipped).
        let svg = diagram(nn, &dir, name);
        let ((_, height), _, _, svg_labels) = read_svg(&svg);
        let puts: Vec<(f64, f64)> = picture
            .lines()
            .filter(|l| l.contains("\\footnotesize$"))
            .map(|l| {
                let (a, b) = l["\\put(".len()..l.find(')').unwrap()]
                    .split_once(',')
                    .unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        assert_eq!(puts.len(), labels, "{name}");
        // The SVG's height is rounded to a whole pixel.
        for l in &svg_labels {
            assert!(
                puts.iter()
                    .any(|p| (p.0 - l.cx).abs() < 0.2 && (p.1 - (height - l.cy)).abs() < 0.7),
                "{name}: {} not at ({}, {}) in {puts:?}",
                l.text,
                l.cx,
                height - l.cy
            );
        }
        pdflatex(&dir, name);
    }
}
