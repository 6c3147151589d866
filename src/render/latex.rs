//! LaTeX building blocks shared by every page format: expressions with their
//! names or with numbers substituted, and chains `lhs = a = b = value` laid
//! out as lines of an `aligned` block, long sums broken across lines.

use crate::expr::{Expr, LatexStyle, Names, Sym};
use crate::number;

/// Visible characters on one line of an aligned block before it is broken.
pub const LINE_WIDTH: usize = 72;

/// Prints expressions of one solution.
pub struct Printer<'a> {
    /// Names of symbols and functions.
    pub names: &'a dyn Names,
    /// Decimals shown.
    pub decimals: usize,
    /// The value of each symbol, for substitution.
    pub value: &'a dyn Fn(Sym) -> Option<f64>,
}

impl Printer<'_> {
    /// A number as LaTeX.
    pub fn num(&self, x: f64) -> String {
        number::latex(x, self.decimals)
    }

    /// The LaTeX of `e` with names.
    pub fn symbolic(&self, e: &Expr) -> String {
        let num = |x: f64| self.num(x);
        e.latex(&LatexStyle {
            names: self.names,
            num: &num,
            value_of: None,
        })
    }

    /// The LaTeX of `e` with every symbol replaced by its value.
    pub fn substituted(&self, e: &Expr) -> String {
        let num = |x: f64| self.num(x);
        let value_of = |s: Sym| (self.value)(s).map(|v| self.num(v));
        e.latex(&LatexStyle {
            names: self.names,
            num: &num,
            value_of: Some(&value_of),
        })
    }

    /// The terms of `e` as pieces for line breaking: the first term as is,
    /// the others with their sign in front (`+ w_2 \cdot i_2`).
    pub fn pieces(&self, e: &Expr, substitute: bool) -> Vec<String> {
        let terms = e.additive_terms();
        if terms.len() < 3 {
            return vec![if substitute {
                self.substituted(e)
            } else {
                self.symbolic(e)
            }];
        }
        let mut out = Vec::with_capacity(terms.len());
        for (i, (neg, t)) in terms.iter().enumerate() {
            let body = if substitute {
                self.substituted(t)
            } else {
                self.symbolic(t)
            };
            // A term that starts with a minus carries it to the sign between
            // terms: `+ (−0.1·0.5)` is written `− 0.1·0.5`.
            let (neg, body) = match body.strip_prefix('-') {
                Some(rest) if i > 0 => (!neg, rest.to_string()),
                _ => (*neg, body),
            };
            out.push(match (i, neg) {
                (0, false) => body,
                (0, true) => format!("-{body}"),
                (_, false) => format!("+ {body}"),
                (_, true) => format!("- {body}"),
            });
        }
        out
    }
}

/// Rough count of the characters a reader sees in `latex`: a fraction is as
/// wide as its wider part, commands count as one character.
pub fn visible_width(latex: &str) -> usize {
    let mut i = 0;
    width_of(latex.as_bytes(), &mut i, false)
}

/// Width from `i` to the end of the group (or text) that starts there.
fn width_of(c: &[u8], i: &mut usize, in_group: bool) -> usize {
    let mut w = 0;
    while *i < c.len() {
        let ch = c[*i];
        *i += 1;
        match ch {
            b'}' if in_group => return w,
            b'{' => w += width_of(c, i, true),
            b'\\' => {
                let start = *i;
                while *i < c.len() && c[*i].is_ascii_alphabetic() {
                    *i += 1;
                }
                match &c[start..*i] {
                    b"frac" | b"dfrac" => {
                        let a = group(c, i);
                        let b = group(c, i);
                        w += a.max(b);
                    }
                    b"left" | b"right" => {
                        *i += 1;
                        w += 1;
                    }
                    b"quad" => w += 2,
                    b"begin" | b"end" | b"operatorname" | b"text" | b"mathrm" => {}
                    b"" => {
                        *i += 1;
                        w += 1;
                    }
                    _ => w += 1,
                }
            }
            b'_' | b'^' | b'&' | b' ' => {}
            // UTF-8 continuation bytes do not start a character.
            0x80..=0xBF => {}
            _ => w += 1,
        }
    }
    w
}

fn group(c: &[u8], i: &mut usize) -> usize {
    while *i < c.len() && c[*i] == b' ' {
        *i += 1;
    }
    if *i < c.len() && c[*i] == b'{' {
        *i += 1;
        width_of(c, i, true)
    } else if *i < c.len() {
        *i += 1;
        1
    } else {
        0
    }
}

/// One side of an equation chain, as pieces that may be broken between.
pub type Part = Vec<String>;

/// Lays out `lhs = part₁ = part₂ = …` as lines of an `aligned` block.
///
/// It stays on one line when it fits; otherwise each part starts its own
/// `&= ` line, and a part too long for a line is broken between its pieces
/// with the continuation indented by `\quad`.
pub fn chain_lines(lhs: &str, parts: &[Part]) -> Vec<String> {
    let widths: Vec<usize> = parts
        .iter()
        .map(|p| p.iter().map(|x| visible_width(x) + 1).sum::<usize>())
        .collect();
    let lhs_width = visible_width(lhs);
    if lhs_width + widths.iter().map(|w| w + 2).sum::<usize>() <= LINE_WIDTH {
        let joined: Vec<String> = parts.iter().map(|p| p.join(" ")).collect();
        return vec![format!("{lhs} &= {}", joined.join(" = "))];
    }
    let mut lines = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let lead = if i == 0 {
            format!("{lhs} &= ")
        } else {
            "&= ".to_string()
        };
        let mut line = lead.clone();
        let mut width = 2 + lhs_width;
        let mut first = true;
        for piece in part {
            let pw = visible_width(piece) + 1;
            if !first && width + pw > LINE_WIDTH {
                lines.push(line);
                line = "&\\quad ".to_string();
                width = lhs_width + 4;
            }
            if !line.ends_with(' ') {
                line.push(' ');
            }
            line.push_str(piece);
            width += pw;
            first = false;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_chains_stay_on_one_line() {
        let l = chain_lines("x", &[vec!["a".into()], vec!["1".into()]]);
        assert_eq!(l, vec!["x &= a = 1"]);
    }

    #[test]
    fn long_sums_break_between_terms() {
        let part: Part = (0..40)
            .map(|i| format!("+ w_{{{i}}} \\cdot i_{{{i}}}"))
            .collect();
        let l = chain_lines("net", &[part, vec!["2".into()]]);
        assert!(l.len() > 3);
        assert!(l.iter().all(|line| visible_width(line) <= LINE_WIDTH + 12));
        assert!(l[1].starts_with("&\\quad"));
        assert_eq!(l.last().unwrap(), "&= 2");
    }
}
