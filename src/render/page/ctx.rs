//! What every part of the page shares: the solution and the derivation
//! shown, the names' LaTeX worked out once, and the number and LaTeX
//! helpers (partials, circled factor numbers, symbolic = substituted =
//! value lines).

use super::Markup;
use crate::derivation::{Factor, Pass, Values};
use crate::expr::{Expr, Func, Names, Sym};
use crate::notation::{latex_name, NetNames};
use crate::number;
use crate::render::latex::{chain_lines, Part, Printer};
use crate::solution::Solution;

/// The solution, the derivation shown and how numbers are written.
pub(super) struct Ctx<'s, 'a> {
    pub(super) sol: &'s Solution<'a>,
    /// The pass shown: the network's, or one sample's.
    pub(super) pass: &'s Pass,
    /// The fixed values it was computed with.
    pub(super) values: Values,
    pub(super) names: CachedNames<'a>,
    pub(super) decimals: usize,
    pub(super) markup: Markup,
}

/// The page's names with the LaTeX of every symbol worked out once.
pub(super) struct CachedNames<'a> {
    pub(super) inner: NetNames<'a>,
    net: Vec<String>,
    out: Vec<String>,
    params: Vec<String>,
    /// δ of each neuron (`\delta_{o_1}`).
    pub(super) deltas: Vec<String>,
    err_total: String,
}

impl<'a> CachedNames<'a> {
    fn new(inner: NetNames<'a>) -> CachedNames<'a> {
        let n = inner.net.neurons.len() as u32;
        CachedNames {
            net: (0..n).map(|i| inner.latex(Sym::Net(i))).collect(),
            out: (0..n).map(|i| inner.latex(Sym::Out(i))).collect(),
            params: (0..inner.net.params.len() as u32)
                .map(|i| inner.latex(Sym::Param(i)))
                .collect(),
            deltas: inner
                .net
                .neurons
                .iter()
                .map(|x| latex_name(&format!("d_{}", x.name)).replacen("d_", "\\delta_", 1))
                .collect(),
            err_total: inner.latex(Sym::ErrTotal),
            inner,
        }
    }
}

impl Names for CachedNames<'_> {
    fn plain(&self, sym: Sym) -> String {
        self.inner.plain(sym)
    }

    fn latex(&self, sym: Sym) -> String {
        match sym {
            Sym::Net(i) => self.net[i as usize].clone(),
            Sym::Out(i) => self.out[i as usize].clone(),
            Sym::Param(i) => self.params[i as usize].clone(),
            Sym::ErrTotal => self.err_total.clone(),
            s => self.inner.latex(s),
        }
    }

    fn func(&self, func: Func) -> String {
        self.inner.func(func)
    }
}

impl<'s, 'a> Ctx<'s, 'a> {
    /// The context of pass `pass` of `sol`, with sample `sample`'s
    /// inputs and targets (the network's own without a data block).
    pub(super) fn new(
        sol: &'s Solution<'a>,
        pass: &'s Pass,
        sample: usize,
        decimals: usize,
        markup: Markup,
    ) -> Ctx<'s, 'a> {
        Ctx {
            sol,
            pass,
            values: Values::of(sol.net).sample(sol.net, sample),
            names: CachedNames::new(sol.names()),
            decimals,
            markup,
        }
    }

    pub(super) fn value(&self, s: Sym) -> Option<f64> {
        let d = self.pass;
        match s {
            Sym::Net(n) => Some(d.forward.net[n as usize]),
            Sym::Out(n) => Some(d.forward.out[n as usize]),
            Sym::Err(n) => Some(d.forward.err[n as usize]),
            Sym::ErrTotal => Some(d.forward.total),
            s => self.values.get(s),
        }
    }

    pub(super) fn with_printer<R>(&self, f: impl FnOnce(&Printer<'_>) -> R) -> R {
        let value = |s: Sym| self.value(s);
        let p = Printer {
            names: &self.names,
            decimals: self.decimals,
            value: &value,
        };
        f(&p)
    }

    pub(super) fn num(&self, x: f64) -> String {
        number::latex(x, self.decimals)
    }

    /// Numbers of an optimizer's update: significant digits (its second
    /// moments are small by nature), as many as the page has decimals.
    pub(super) fn sig_nums(&self) -> crate::render::update::Nums {
        crate::render::update::Nums {
            digits: self.decimals.max(1),
        }
    }

    /// A number as a factor in a product: negatives in brackets.
    pub(super) fn num_factor(&self, x: f64) -> String {
        let s = self.num(x);
        if s.starts_with('-') {
            format!("({s})")
        } else {
            s
        }
    }

    /// A number squared: `0.5^{2}`, `(-0.5)^{2}`, `(4.4 \times 10^{-4})^{2}`.
    pub(super) fn squared(&self, x: f64) -> String {
        let s = self.num(x);
        if s.starts_with('-') || s.contains(' ') {
            format!("({s})^{{2}}")
        } else {
            format!("{s}^{{2}}")
        }
    }

    /// The L2 term's E_reg = λ/2 (p² + …) = substituted = value, at the
    /// values of the page; none without an L2 term.
    pub(super) fn penalty_lines(&self, value: Option<f64>) -> Vec<String> {
        let (Some(l2), Some(value)) = (self.sol.net.l2.as_ref(), value) else {
            return Vec::new();
        };
        // A long list shows its first three and its last.
        let n = l2.params.len();
        let shown: Vec<Option<u32>> = if n <= 8 {
            l2.params.iter().map(|&p| Some(p)).collect()
        } else {
            let mut v: Vec<Option<u32>> = l2.params[..3].iter().map(|&p| Some(p)).collect();
            v.push(None);
            v.push(Some(l2.params[n - 1]));
            v
        };
        let list = |f: &dyn Fn(u32) -> String, head: &str| -> Part {
            let mut part: Part = shown
                .iter()
                .enumerate()
                .map(|(i, p)| plus(i, p.map_or_else(|| "\\dots".to_string(), f)))
                .collect();
            if let Some(first) = part.first_mut() {
                *first = format!("{head} ({first}");
            }
            if let Some(last) = part.last_mut() {
                last.push(')');
            }
            part
        };
        let sym = list(
            &|p| format!("{}^{{2}}", self.latex(Sym::Param(p))),
            "\\frac{\\lambda}{2}",
        );
        let vals = list(
            &|p| self.squared(self.values.params[p as usize]),
            &format!("\\frac{{{}}}{{2}} \\cdot", self.num(l2.lambda)),
        );
        chain_lines("E_{reg}", &[sym, vals, vec![self.num(value)]])
    }

    pub(super) fn text_num(&self, x: f64) -> String {
        number::format(x, self.decimals)
    }

    pub(super) fn latex(&self, s: Sym) -> String {
        self.names.latex(s)
    }

    /// ∂of/∂wrt where `of` is LaTeX (`E_{reg}`).
    pub(super) fn partial_of(&self, of: &str, wrt: Sym) -> String {
        format!("\\frac{{\\partial {of}}}{{\\partial {}}}", self.latex(wrt))
    }

    pub(super) fn partial(&self, of: Sym, wrt: Sym) -> String {
        format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            self.latex(of),
            self.latex(wrt)
        )
    }

    pub(super) fn inline(&self, of: Sym, wrt: Sym) -> String {
        format!(
            "\\partial {} / \\partial {}",
            self.latex(of),
            self.latex(wrt)
        )
    }

    pub(super) fn delta(&self, n: u32) -> String {
        self.names.deltas[n as usize].clone()
    }

    pub(super) fn circled(&self, n: usize) -> String {
        match self.markup {
            Markup::Markdown => circled_char(n),
            Markup::Latex => format!("\\textcircled{{\\scriptsize {n}}}"),
        }
    }

    pub(super) fn circled_math(&self, n: usize) -> String {
        match self.markup {
            // ASCII only: KaTeX in strict mode, MathJax and pdflatex all
            // set `(1)` with the right metrics; ① is not in their math fonts.
            Markup::Markdown => format!("\\text{{({n})}}"),
            Markup::Latex => format!("\\text{{\\textcircled{{\\scriptsize {n}}}}}"),
        }
    }

    /// symbolic = substituted = value, skipping parts that repeat.
    pub(super) fn expr_parts(&self, e: &Expr, value: f64) -> Vec<Part> {
        self.with_printer(|p| {
            let sym = p.pieces(e, false);
            let sub = p.pieces(e, true);
            let val = self.num(value);
            let mut parts: Vec<Part> = vec![sym.clone()];
            if sub != sym && sub.join(" ") != val {
                parts.push(sub);
            }
            if parts.last().map(|l| l.join(" ")) != Some(val.clone()) {
                parts.push(vec![val]);
            }
            parts
        })
    }

    pub(super) fn factor_lines(&self, f: &Factor) -> Vec<String> {
        chain_lines(
            &self.partial(f.of, f.wrt),
            &self.expr_parts(&f.symbolic, f.value),
        )
    }
}

/// ① … ⑳, then (21) …
fn circled_char(n: usize) -> String {
    match n {
        1..=20 => {
            char::from_u32(0x2460 + n as u32 - 1).map_or_else(|| format!("({n})"), String::from)
        }
        _ => format!("({n})"),
    }
}

pub(super) fn plus(i: usize, s: String) -> String {
    if i == 0 {
        s
    } else {
        format!("+ {s}")
    }
}

pub(super) fn plus_num(ctx: &Ctx<'_, '_>, i: usize, v: f64) -> String {
    let s = ctx.num(v);
    match (i, s.strip_prefix('-')) {
        (0, _) => s,
        (_, Some(abs)) => format!("- {abs}"),
        (_, None) => format!("+ {s}"),
    }
}

pub(super) fn paren_neg(s: &str) -> String {
    if s.starts_with('-') {
        format!("({s})")
    } else {
        s.to_string()
    }
}
