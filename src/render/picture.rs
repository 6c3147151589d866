//! The network drawing in LaTeX `picture` mode (no drawing package:
//! `color` for the white boxes under labels, `graphicx` to shrink a drawing
//! wider than the line), written from the same [`super::layout`] as the
//! SVG: 1 px of the layout is 0.25 mm. Edges are `\qbezier` curves (any
//! slope, and the bent edges that skip a column); kernel circles are at
//! most 40 pt wide, which the layout's nodes (12 mm) are not.

use std::fmt::Write as _;

use super::layout::{layout, Content, Layout, LINE_H};
use crate::model::Network;
use crate::number;
use crate::solution::Solution;

/// The exam sheet's drawing: names only, the sheet's table gives the
/// numbers and the rest is the student's to compute.
pub fn names_only(net: &Network) -> String {
    let l = layout(
        net,
        &Content {
            below: &|_| Vec::new(),
            value: &|_| None,
        },
    );
    emit(&l)
}

/// The handout's drawing: as the HTML page's, every value shown; none for
/// a network too large to name its nodes.
pub fn solved(sol: &Solution<'_>, decimals: usize) -> Option<String> {
    let l = super::layout::solved(sol, decimals, false);
    (!l.small).then(|| emit(&l))
}

/// The `picture` environment of a laid-out drawing, shrunk to the line
/// when wider.
pub fn emit(l: &Layout) -> String {
    let h = l.height;
    let y = |v: f64| h - v;
    let mut s = String::new();
    s.push_str("{\\setlength{\\unitlength}{0.25mm}%\n");
    s.push_str("\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n");
    let _ = writeln!(s, "\\begin{{picture}}({:.1},{:.1})", l.width, l.height);
    for e in &l.edges {
        let _ = writeln!(
            s,
            "\\qbezier({:.1},{:.1})({:.1},{:.1})({:.1},{:.1})",
            e.p0.0,
            y(e.p0.1),
            e.c.0,
            y(e.c.1),
            e.p1.0,
            y(e.p1.1)
        );
    }
    for n in &l.nodes {
        let _ = writeln!(
            s,
            "\\put({:.1},{:.1}){{\\circle{{{:.1}}}}}",
            n.x,
            y(n.y),
            2.0 * n.r
        );
        if !l.small {
            let _ = writeln!(
                s,
                "\\put({:.1},{:.1}){{\\makebox(0,0){{${}$}}}}",
                n.x,
                y(n.y),
                n.latex
            );
            for (k, line) in n.below.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "\\put({:.1},{:.1}){{\\makebox(0,0){{\\footnotesize {}}}}}",
                    n.x,
                    y(n.y + n.r + 13.0 + LINE_H * k as f64),
                    tex_text(line)
                );
            }
        }
    }
    for lab in &l.labels {
        let r = &lab.rect;
        let text = match &lab.value {
            Some(v) => format!("{} = {}", lab.latex, number::latex_of(v)),
            None => lab.latex.clone(),
        };
        // Picture mode turns counter-clockwise, with y upwards.
        let _ = writeln!(
            s,
            "\\put({:.1},{:.1}){{\\rotatebox{{{:.1}}}{{\\makebox(0,0){{\\textcolor{{white}}{{\\rule[{:.1}\\unitlength]{{{:.1}\\unitlength}}{{{:.1}\\unitlength}}}}}}}}}}",
            r.cx,
            y(r.cy),
            -r.angle,
            -r.h / 2.0,
            r.w,
            r.h
        );
        let _ = writeln!(
            s,
            "\\put({:.1},{:.1}){{\\rotatebox{{{:.1}}}{{\\makebox(0,0){{\\footnotesize${text}$}}}}}}",
            r.cx,
            y(r.cy),
            -r.angle
        );
    }
    s.push_str("\\end{picture}}}");
    s
}

/// A line of text under a node as LaTeX: its numbers in math
/// (`1 \\times 10^{-300}`, never `1e-300`), its words as they are.
fn tex_text(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            if w.parse::<f64>().is_ok() {
                format!("${}$", number::latex_of(w))
            } else {
                crate::render::templates::escape_latex(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_has_every_edge_and_bias() {
        let net = crate::parse::parse_network("mazur.nn", include_str!("../../examples/mazur.nn"))
            .unwrap();
        let p = super::names_only(&net);
        assert_eq!(p.matches("\\qbezier").count(), 12);
        assert_eq!(p.matches("\\circle{").count(), 8);
        for w in ["w_{1}", "w_{8}", "b_{1}", "b_{2}", "i_{2}", "o_{1}"] {
            assert!(p.contains(&format!("${w}$")), "{w}");
        }
    }
}
