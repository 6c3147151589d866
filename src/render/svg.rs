//! The network drawn as a teacher sketches it, in SVG: layers as columns of
//! circles (inputs left, outputs right), each node's name inside and its
//! value under it, edges labelled with the weight's name and value on a
//! white box, biases as a node per layer. Everything is placed by
//! [`super::layout`]; this writer only emits it.

use std::fmt::Write as _;

use super::layout::{layout, Content, Kind, Layout, LINE_H};
use crate::expr::Sym;
use crate::model::Network;
use crate::solution::Solution;

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

/// The SVG drawing of a solved network: every value under its node, the
/// weights' values on their labels.
pub fn diagram(sol: &Solution<'_>, decimals: usize) -> String {
    emit(&super::layout::solved(sol, decimals, true), &sol.title())
}

/// The SVG drawing of a network with only the numbers it is given: inputs
/// under their nodes, weights on their labels, targets under the outputs
/// (none when a `data` block sets them). The exam's picture.
pub fn given(net: &Network) -> String {
    let fmt = |x: f64| {
        if x == 0.0 {
            "0".to_string()
        } else {
            format!("{x}")
        }
    };
    let (data_inputs, data_outputs) = net.data.as_ref().map_or((Vec::new(), Vec::new()), |d| {
        (d.inputs.clone(), d.outputs.clone())
    });
    let below = |s: Sym| match s {
        Sym::Input(i) if !data_inputs.contains(&i) => vec![fmt(net.inputs[i as usize].value)],
        Sym::Out(x) if !data_outputs.contains(&x) => net.targets[x as usize]
            .map(|t| format!("target {}", fmt(t)))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let value = |w: Sym| net.fixed_value(w).map(fmt);
    let l = layout(
        net,
        &Content {
            below: &below,
            value: &value,
        },
    );
    emit(&l, net.title.as_deref().unwrap_or("Network"))
}

/// Writes a laid-out drawing as SVG: edges, nodes with their names and the
/// text under them, then each label on a white box.
pub fn emit(l: &Layout, title: &str) -> String {
    let (width, height) = (l.width, l.height);
    let small = l.small;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"network\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\">",
        xml(title)
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
.network .wlb{fill:#fff;fill-opacity:0.92;stroke:#c5d5e8;stroke-width:0.8}\
.network .wl{font-size:12px;text-anchor:middle;dominant-baseline:central;fill:#0b5394}\
</style>",
    );
    // Edges first, under the nodes.
    svg.push_str("<g class=\"edges\">");
    for e in &l.edges {
        let _ = write!(
            svg,
            "<path class=\"edge\" d=\"M{:.1} {:.1} Q{:.1} {:.1} {:.1} {:.1}\"{}/>",
            e.p0.0,
            e.p0.1,
            e.c.0,
            e.c.1,
            e.p1.0,
            e.p1.1,
            if small { " opacity=\"0.35\"" } else { "" }
        );
    }
    svg.push_str("</g>");
    svg.push_str("<g class=\"nodes\">");
    for n in &l.nodes {
        let class = match n.kind {
            Kind::Bias => "bias",
            Kind::Input => "in",
            Kind::Output => "out",
            Kind::Hidden => "hidden",
        };
        let _ = write!(
            svg,
            "<g class=\"{class}\"><circle class=\"node\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\"/>",
            n.x, n.y, n.r
        );
        if !small {
            let _ = write!(
                svg,
                "<text class=\"name\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                n.x,
                n.y,
                name_tspans(&n.name)
            );
            for (k, line) in n.below.iter().enumerate() {
                let _ = write!(
                    svg,
                    "<text class=\"{}\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    if k == 0 { "val" } else { "extra" },
                    n.x,
                    n.y + n.r + 15.0 + LINE_H * k as f64,
                    xml(line)
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</g>");
    svg.push_str("<g class=\"labels\">");
    for lab in &l.labels {
        let r = &lab.rect;
        let turn = if r.angle.abs() < 0.05 {
            String::new()
        } else {
            format!(
                " transform=\"rotate({:.1} {:.1} {:.1})\"",
                r.angle, r.cx, r.cy
            )
        };
        let _ = write!(
            svg,
            "<g{turn}><rect class=\"wlb\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"/><text class=\"wl\" x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            r.cx - r.w / 2.0,
            r.cy - r.h / 2.0,
            r.w,
            r.h,
            r.cx,
            r.cy,
            label_tspans(&lab.text())
        );
    }
    svg.push_str("</g>");
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
