//! A written number against a value: to the digits written, or within a
//! tolerance.

use super::*;

impl Matcher {
    /// The exact value rounded to the written place.
    pub(super) fn round(&self, v: f64) -> f64 {
        match self.precision {
            Precision::Places { places, .. } => {
                let f = 10f64.powi(places.clamp(-300, 300));
                let r = (v * f).round() / f;
                if r.is_finite() {
                    r
                } else {
                    v
                }
            }
            Precision::Exact => v,
        }
    }

    /// The allowed difference from the rounded value, and the unit of the
    /// last written place.
    pub(super) fn slack(&self) -> (f64, f64) {
        match self.precision {
            Precision::Places {
                places,
                significant,
            } => {
                let unit = 10f64.powi(places.clamp(-300, 300));
                let unit = 1.0 / unit;
                (if significant >= 2 { unit } else { 0.0 }, unit)
            }
            Precision::Exact => (0.0, 1.0),
        }
    }

    /// Whether the written number agrees with the value `v`.
    pub(super) fn agrees(&self, v: f64) -> bool {
        self.same(self.given, v, true)
    }

    /// Whether `a` and `b` cannot be told apart at the written precision
    /// (`a_written`: `a` is the written number itself).
    pub(super) fn same(&self, a: f64, b: f64, a_written: bool) -> bool {
        if !a.is_finite() || !b.is_finite() {
            return false;
        }
        match self.tolerance {
            Some(Tolerance::Absolute(t)) => (a - b).abs() <= t + 1e-12 * b.abs(),
            Some(Tolerance::Relative(r)) => (a - b).abs() <= r * b.abs().max(a.abs()) + 1e-300,
            None => match self.precision {
                Precision::Exact => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                Precision::Places { .. } => {
                    let (allowance, unit) = self.slack();
                    let a = if a_written { a } else { self.round(a) };
                    (a - self.round(b)).abs() <= allowance + unit * 1e-6
                }
            },
        }
    }

    /// How far the written number is from `v`, in units of the written place.
    pub(super) fn distance(&self, v: f64) -> f64 {
        let scale = match self.tolerance {
            Some(Tolerance::Absolute(t)) => t,
            Some(Tolerance::Relative(r)) => r * v.abs(),
            None => self.slack().1,
        };
        (self.given - v).abs() / scale.max(1e-300)
    }
}

/// The matcher of a number or of arithmetic with numbers.
pub(super) fn matcher_of(g: &Given, tolerance: Option<Tolerance>) -> Option<Matcher> {
    match *g {
        Given::Number { value, precision } => Some(Matcher {
            given: value,
            precision,
            tolerance,
        }),
        Given::Arithmetic { value, err } => {
            let own = err + 1e-9 * value.abs();
            let t = match tolerance {
                Some(Tolerance::Absolute(t)) => Tolerance::Absolute(t.max(own)),
                Some(Tolerance::Relative(r)) => Tolerance::Absolute((r * value.abs()).max(own)),
                None => Tolerance::Absolute(own),
            };
            Some(Matcher {
                given: value,
                precision: Precision::Exact,
                tolerance: Some(t),
            })
        }
        Given::Formula(_) => None,
    }
}

/// Equal up to floating-point rounding.
pub(super) fn close(a: f64, b: f64) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return false;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-15
}
