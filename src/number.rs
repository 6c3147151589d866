//! How numbers are shown: rounded to N decimals with trailing zeros dropped,
//! tiny values with N significant digits instead of 0. `--hand` rounds with
//! the very same function, so what is shown is what the next step uses.

/// The decimal text of `x` for display with `decimals` places.
///
/// `0.3775` stays `0.3775`; `0.59326999210718` becomes `0.593269992`;
/// a value below 10^-N (but not 0) keeps N significant digits in
/// scientific form, `1.23456789e-10`; huge values are scientific too.
pub fn format(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".to_string()
        } else if x > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    let a = x.abs();
    let tiny = a != 0.0 && a < 0.5 * 10f64.powi(-(decimals as i32));
    if tiny || a >= 1e15 {
        let digits = decimals.max(1);
        let s = format!("{:.*e}", digits - 1, x);
        return trim_scientific(&s);
    }
    let s = format!("{:.*}", decimals, x);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

fn trim_scientific(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            format!("{m}e{e}")
        }
        None => s.to_string(),
    }
}

/// The text of `x` with `digits` significant digits, trailing zeros
/// dropped: decimal from 10⁻³ to 10¹⁵, scientific outside
/// (`1.92341658e-10`). For quantities that are small by nature (an
/// optimizer's second moment), where a fixed number of decimals would show 0.
pub fn significant(x: f64, digits: usize) -> String {
    let a = x.abs();
    if !x.is_finite() || a == 0.0 {
        return format(x, 1);
    }
    let digits = digits.max(1);
    if !(1e-3..1e15).contains(&a) {
        return trim_scientific(&format!("{:.*e}", digits - 1, x));
    }
    let places = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    format(x, places)
}

/// The LaTeX of [`significant()`].
pub fn latex_significant(x: f64, digits: usize) -> String {
    latex_of(&significant(x, digits))
}

/// `x` rounded as [`format()`] shows it.
pub fn round(x: f64, decimals: usize) -> f64 {
    format(x, decimals).parse().unwrap_or(x)
}

/// The LaTeX of a number shown with `decimals`: `1.5e-10` → `1.5 \times 10^{-10}`.
pub fn latex(x: f64, decimals: usize) -> String {
    latex_of(&format(x, decimals))
}

/// The LaTeX of a number as [`format()`] wrote it.
pub fn latex_of(shown: &str) -> String {
    match shown.split_once('e') {
        Some((m, e)) => format!("{m} \\times 10^{{{}}}", e.trim_start_matches('+')),
        None => shown.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(0.082167041234, 9), "0.0821670412");
        assert_eq!(significant(1.92341658e-10, 9), "1.92341658e-10");
        assert_eq!(significant(0.4, 9), "0.4");
        assert_eq!(significant(-1234.5678, 6), "-1234.57");
        assert_eq!(significant(0.0, 9), "0");
    }

    #[test]
    fn drops_trailing_zeros_and_rounds() {
        assert_eq!(format(0.3775, 9), "0.3775");
        assert_eq!(format(0.5932699921071872, 9), "0.593269992");
        assert_eq!(format(0.2983711087600027, 5), "0.29837");
        assert_eq!(format(2.0, 9), "2");
        assert_eq!(format(-0.0000000001, 3), "-1e-10");
        assert_eq!(format(-0.0, 3), "0");
        assert_eq!(format(0.0, 3), "0");
    }

    #[test]
    fn tiny_values_keep_significant_digits() {
        assert_eq!(format(1.234567891234e-12, 9), "1.23456789e-12");
        assert_eq!(latex(1.5e-12, 9), "1.5 \\times 10^{-12}");
        assert_eq!(format(1e300, 9), "1e300");
    }

    #[test]
    fn round_matches_format() {
        assert_eq!(round(0.5932699921071872, 9), 0.593269992);
        assert_eq!(round(0.123456, 2), 0.12);
    }
}
