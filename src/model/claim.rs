//! What a student claims on one line of an answers file: a quantity of the
//! solution and the number or formula they found for it.

use crate::diagnostic::Span;
use crate::expr::{Expr, Names, Sym};

/// A quantity a claim can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quantity {
    /// A value of the solution (`net_h1`, `out_o1`, `E_o1`, `E_total`) or a
    /// fixed number of the network (`w5`, `i1`, `target_o1`).
    Value(Sym),
    /// ∂of/∂wrt through the network: `dE_total/dw5`, `dE_o1/dout_h1`.
    Partial {
        /// The quantity differentiated.
        of: Sym,
        /// The quantity it is differentiated by.
        wrt: Sym,
    },
    /// A param after the update, p⁺ = p − η·∂E_total/∂p (`w5+`).
    Updated(u32),
    /// A value of the forward pass run again with the updated params
    /// (`E_total+`).
    After(Sym),
    /// The optimizer's state of a param after step `t` (1 or 2): `m_w5`,
    /// `v_w5`, `m_hat_w5`, `v_hat_w5`, and after step 2 `m_w5(2)` and the
    /// param itself, `w5(2)` (after step 1 it is [`Quantity::Updated`]).
    State(StateKind, u32, u8),
}

/// Which part of an optimizer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKind {
    /// The momentum buffer, or Adam's first moment m.
    M,
    /// Adam's or RMSprop's second moment v, or Adagrad's sum of squares.
    V,
    /// m̂ = m/(1 − β₁ᵗ).
    MHat,
    /// v̂ = v/(1 − β₂ᵗ).
    VHat,
    /// The param itself after the step.
    Param,
}

impl StateKind {
    /// The prefix of its names (`m`, `v`, `m_hat`, `v_hat`).
    pub fn prefix(self) -> &'static str {
        match self {
            StateKind::M => "m",
            StateKind::V => "v",
            StateKind::MHat => "m_hat",
            StateKind::VHat => "v_hat",
            StateKind::Param => "",
        }
    }

    /// Its value in a step, when the rule has it.
    pub fn of(self, s: &crate::optimizer::ParamStep) -> Option<f64> {
        match self {
            StateKind::M => s.m,
            StateKind::V => s.v,
            StateKind::MHat => s.m_hat,
            StateKind::VHat => s.v_hat,
            StateKind::Param => Some(s.after),
        }
    }
}

impl Quantity {
    /// Whether it has one value for a whole batch of samples (E_total,
    /// ∂E_total/∂p, p⁺, E_total⁺) rather than one per sample.
    pub fn is_combined(&self) -> bool {
        matches!(
            self,
            Quantity::Value(Sym::ErrTotal)
                | Quantity::Partial {
                    of: Sym::ErrTotal,
                    wrt: Sym::Param(_)
                }
                | Quantity::Updated(_)
                | Quantity::After(Sym::ErrTotal)
        )
    }

    /// The canonical name: `net_h1`, `dE_total/dw5`, `w5+`, `E_total+`.
    pub fn name(&self, names: &dyn Names) -> String {
        match *self {
            Quantity::Value(s) => names.plain(s),
            Quantity::Partial { of, wrt } => {
                format!("d{}/d{}", names.plain(of), names.plain(wrt))
            }
            Quantity::Updated(p) => format!("{}+", names.plain(Sym::Param(p))),
            Quantity::After(s) => format!("{}+", names.plain(s)),
            Quantity::State(k, p, t) => {
                let p = names.plain(Sym::Param(p));
                let base = match k {
                    StateKind::Param => p,
                    k => format!("{}_{p}", k.prefix()),
                };
                if t == 1 {
                    base
                } else {
                    format!("{base}({t})")
                }
            }
        }
    }
}

/// How precisely a number was written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Precision {
    /// An integer written without a point or exponent (`1`, `0`): meant exactly.
    Exact,
    /// Digits after the point (`0.0822` → 4; `8.2e-2` → 3), and how many of
    /// the digits are significant (`0.0822` → 3).
    Places {
        /// The place of the last written digit: its unit is 10^-places.
        places: i32,
        /// Significant digits written.
        significant: u32,
    },
}

impl Precision {
    /// The precision of the unsigned number literal `text`.
    pub fn of_literal(text: &str) -> Precision {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        let exp: i32 = exponent
            .map(|e| e.trim_start_matches('+').parse::<i32>().unwrap_or(0))
            .unwrap_or(0)
            .clamp(-400, 400);
        let decimals = mantissa
            .split_once('.')
            .map_or(0, |(_, frac)| frac.len() as i32);
        if exponent.is_none() && !mantissa.contains('.') {
            return Precision::Exact;
        }
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches('0').len() as u32;
        Precision::Places {
            places: decimals - exp,
            significant,
        }
    }
}

/// The right-hand side of a claim.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    /// A number, with the precision it was written to.
    Number {
        /// Its value.
        value: f64,
        /// How precisely it was written.
        precision: Precision,
    },
    /// Arithmetic with numbers only (`0.7414 * 0.1868 * 0.5933`): the
    /// number the student computed, and how far the rounding of the written
    /// numbers can move it.
    Arithmetic {
        /// Its value.
        value: f64,
        /// The bound on the rounding of the written numbers.
        err: f64,
    },
    /// A formula over the quantities of the solution. Partials written in
    /// it (`dE_total/dw5`) are the symbols `Sym::Const(PARTIAL_BASE + k)`,
    /// `k` indexing [`Claim::partials`].
    Formula(Expr),
}

/// Where the symbols of partials written inside a formula start.
pub const PARTIAL_BASE: u32 = 0x4000_0000;

/// One right-hand side of a chain before the last: `a = LINK = … = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// It, read.
    pub given: Given,
    /// As written.
    pub text: String,
}

/// A line that looks like a claim but cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// Its line, counted from 1.
    pub line: usize,
    /// The column (in characters, from 1) where the trouble is.
    pub col: usize,
    /// The text of the line, trimmed.
    pub text: String,
    /// Why it cannot be read.
    pub why: String,
    /// How to write it.
    pub how: String,
}

/// What an answers file says: its claims and the lines that could not be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers {
    /// The claims, in file order.
    pub claims: Vec<Claim>,
    /// The lines that look like claims but cannot be read.
    pub unreadable: Vec<Unreadable>,
}

/// One claim of an answers file.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Its line, counted from 1.
    pub line: usize,
    /// Where the quantity is written: columns (in characters, from 0) of
    /// its line.
    pub quantity_span: Span,
    /// What the claim is about.
    pub quantity: Quantity,
    /// The quantity as written (`∂E/∂w5`).
    pub written: String,
    /// The right-hand side as written.
    pub given_text: String,
    /// The right-hand side, read (the last one of a chain).
    pub given: Given,
    /// The earlier right-hand sides of a chain (`net_h1 = 0.15*0.05 + … =
    /// 0.3775`), in order.
    pub links: Vec<Link>,
    /// The partials written inside formulas of this claim.
    pub partials: Vec<Quantity>,
    /// The sample of a `data` block the claim is about, from a heading
    /// (`Sample 2`), counted from 1; `None` outside such a section.
    pub sample: Option<usize>,
    /// The reading taken of an ambiguous name.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::Precision;

    #[test]
    fn precision_of_literals() {
        let p = |places, significant| Precision::Places {
            places,
            significant,
        };
        assert_eq!(Precision::of_literal("0.0822"), p(4, 3));
        assert_eq!(Precision::of_literal("0.3775"), p(4, 4));
        assert_eq!(Precision::of_literal("8.2e-2"), p(3, 2));
        assert_eq!(Precision::of_literal("4e-4"), p(4, 1));
        assert_eq!(Precision::of_literal("1"), Precision::Exact);
        assert_eq!(Precision::of_literal("1."), p(0, 1));
        assert_eq!(Precision::of_literal("0.000"), p(3, 0));
    }
}
