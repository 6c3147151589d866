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
}

impl Quantity {
    /// The canonical name: `net_h1`, `dE_total/dw5`, `w5+`, `E_total+`.
    pub fn name(&self, names: &dyn Names) -> String {
        match *self {
            Quantity::Value(s) => names.plain(s),
            Quantity::Partial { of, wrt } => {
                format!("d{}/d{}", names.plain(of), names.plain(wrt))
            }
            Quantity::Updated(p) => format!("{}+", names.plain(Sym::Param(p))),
            Quantity::After(s) => format!("{}+", names.plain(s)),
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
    /// A formula over the quantities of the solution.
    Formula(Expr),
}

/// One claim of an answers file.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Its line, counted from 1.
    pub line: usize,
    /// Where the quantity is written.
    pub quantity_span: Span,
    /// What the claim is about.
    pub quantity: Quantity,
    /// The quantity as written (`∂E/∂w5`).
    pub written: String,
    /// The right-hand side as written.
    pub given_text: String,
    /// The right-hand side, read.
    pub given: Given,
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
