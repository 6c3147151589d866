//! The loss curve of a training run as SVG: axes, ticks, labels, a title;
//! a logarithmic y axis by default (losses span decades), linear on request.

use std::fmt::Write as _;

const W: f64 = 760.0;
const H: f64 = 440.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 64.0;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A map from values to y positions.
type Scale = Box<dyn Fn(f64) -> f64>;

/// Ticks at 1, 2 or 5 × 10^k covering [lo, hi], about `want` of them.
fn nice_ticks(lo: f64, hi: f64, want: usize) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / want.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= want as f64 + 0.5)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick label: whole numbers plainly, others with few digits.
fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 {
        return format!("{v:.0e}");
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `10^k` with the exponent as a superscript.
fn power_label(k: i32) -> String {
    format!("10<tspan dy=\"-7\" font-size=\"11\">{k}</tspan>")
}

/// The loss curve of `curve` (E_total at steps 0, 1, …). `log` chooses a
/// logarithmic y axis (values ≤ 0 are then left out of the line).
pub fn loss_curve(curve: &[f64], log: bool, title: &str, y_label: &str, x_label: &str) -> String {
    loss_curves(&[("", curve)], log, title, y_label, x_label)
}

/// Colours of overlaid curves, told apart also by their dash pattern.
const CURVES: [(&str, &str); 6] = [
    ("#0b5394", "none"),
    ("#c0392b", "8 4"),
    ("#1a7f37", "2 3"),
    ("#9a6700", "10 3 2 3"),
    ("#6f42c1", "4 4"),
    ("#24292f", "1 2"),
];

/// Several loss curves on one plot, each `(label, curve)`, with a legend
/// when there is more than one.
pub fn loss_curves(
    curves: &[(&str, &[f64])],
    log: bool,
    title: &str,
    y_label: &str,
    x_label: &str,
) -> String {
    let n = curves
        .iter()
        .map(|(_, c)| c.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let steps = (n - 1).max(1) as f64;
    // At most ~1500 points: every k-th step, and always the last.
    let stride = n.div_ceil(1500).max(1);
    let lines: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|(_, curve)| sampled(curve, stride, log))
        .collect();
    let (mut lo, mut hi) = lines
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, v)| {
            (a.min(*v), b.max(*v))
        });
    if !lo.is_finite() {
        lo = 0.0;
        hi = 1.0;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x_of = |s: f64| LEFT + pw * s / steps;
    let (y_of, y_ticks) = y_scale(lo, hi, log, ph);
    // Several curves: their legend below the plot, two to a row.
    let legend_rows = if curves.len() > 1 {
        curves.len().div_ceil(2)
    } else {
        0
    };
    let height = H + 22.0 * legend_rows as f64 + if legend_rows > 0 { 8.0 } else { 0.0 };
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"loss-plot\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        xml(title)
    );
    s.push_str(
        "<style>.loss-plot{font-family:\"Latin Modern Roman\",\"DejaVu Serif\",Georgia,serif;max-width:100%;height:auto}\
.loss-plot .grid{stroke:#e3e6ea;stroke-width:1}.loss-plot .axis{stroke:#24292f;stroke-width:1.2}\
.loss-plot .tick{font-size:13px;fill:#24292f}.loss-plot .label{font-size:14px;fill:#24292f}\
.loss-plot .title{font-size:17px;font-weight:bold;fill:#24292f}\
.loss-plot .curve{fill:none;stroke:#0b5394;stroke-width:2;stroke-linejoin:round}</style>",
    );
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    y_grid(&mut s, &y_ticks, &y_of, log, (pw, ph));
    x_grid(&mut s, steps, &x_of, ph);
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{:.1}\"/>",
        TOP + ph
    );
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
        TOP + ph,
        LEFT + pw,
        TOP + ph
    );
    // The curves.
    for (k, points) in lines.iter().enumerate() {
        let mut d = String::new();
        for (i, (x, v)) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                x_of(*x),
                y_of(*v)
            );
        }
        if curves.len() == 1 {
            let _ = write!(s, "<path class=\"curve\" d=\"{d}\"/>");
        } else {
            let (colour, dash) = CURVES[k % CURVES.len()];
            let _ = write!(
                s,
                "<path class=\"curve\" d=\"{d}\" style=\"stroke:{colour}\" stroke-dasharray=\"{dash}\"/>"
            );
        }
    }
    // The legend, under the axis label.
    if curves.len() > 1 {
        legend(&mut s, curves, pw);
    }
    // Title and axis labels.
    let _ = write!(
        s,
        "<text class=\"title\" x=\"{:.1}\" y=\"32\" text-anchor=\"middle\">{}</text>",
        LEFT + pw / 2.0,
        xml(title)
    );
    let _ = write!(
        s,
        "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        LEFT + pw / 2.0,
        H - 18.0,
        xml(x_label)
    );
    let _ = write!(
        s,
        "<text class=\"label\" transform=\"translate(22 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        TOP + ph / 2.0,
        xml(y_label)
    );
    s.push_str("</svg>");
    s
}

/// The grid lines and ticks of the y axis (with minor ticks on a log
/// scale), on a plot `pw` × `ph`.
fn y_grid(
    s: &mut String,
    y_ticks: &[(f64, String)],
    y_of: &Scale,
    log: bool,
    (pw, ph): (f64, f64),
) {
    for (v, label) in y_ticks {
        let y = y_of(*v);
        if !(TOP - 0.5..=TOP + ph + 0.5).contains(&y) {
            continue;
        }
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
            LEFT + pw
        );
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            LEFT - 8.0,
            y + 4.5
        );
    }
    if log {
        // Minor ticks at 2…9 × 10^k.
        for (v, _) in y_ticks {
            for m in 2..10 {
                let y = y_of(v * m as f64);
                if (TOP..=TOP + ph).contains(&y) {
                    let _ = write!(s, "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke-width=\"0.8\"/>", LEFT + 4.0);
                }
            }
        }
    }
}

/// The grid lines and ticks of the x axis (the steps).
fn x_grid(s: &mut String, steps: f64, x_of: &dyn Fn(f64) -> f64, ph: f64) {
    for v in nice_ticks(0.0, steps, 8) {
        let x = x_of(v);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>",
            TOP + ph
        );
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + ph + 20.0,
            tick_label(v)
        );
    }
}

/// The points of `curve` drawn: every `stride`-th step and the last, those
/// with a finite value (and positive, on a log scale).
fn sampled(curve: &[f64], stride: usize, log: bool) -> Vec<(f64, f64)> {
    let len = curve.len();
    curve
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || *i + 1 == len)
        .map(|(i, v)| (i as f64, *v))
        .filter(|(_, v)| v.is_finite() && (!log || *v > 0.0))
        .collect()
}

/// The y of a value between `lo` and `hi` on a plot `ph` high, and the
/// ticks with their labels: powers of ten on a log scale, else round
/// numbers from 0.
fn y_scale(lo: f64, hi: f64, log: bool, ph: f64) -> (Scale, Vec<(f64, String)>) {
    if log {
        let (a, b) = (
            lo.log10().floor(),
            hi.log10().ceil().max(lo.log10().floor() + 1.0),
        );
        let y = move |v: f64| TOP + ph * (b - v.log10()) / (b - a);
        let ticks = (a as i32..=b as i32)
            .map(|k| (10f64.powi(k), power_label(k)))
            .collect();
        (Box::new(y), ticks)
    } else {
        let lo = lo.min(0.0);
        let hi = if hi > lo { hi } else { lo + 1.0 };
        let ticks = nice_ticks(lo, hi, 6);
        let (a, b) = (
            ticks.first().copied().unwrap_or(lo).min(lo),
            ticks.last().copied().unwrap_or(hi).max(hi),
        );
        let y = move |v: f64| TOP + ph * (b - v) / (b - a);
        (
            Box::new(y),
            ticks.into_iter().map(|t| (t, tick_label(t))).collect(),
        )
    }
}

/// The legend of several curves: each one's line and label, two to a row.
fn legend(s: &mut String, curves: &[(&str, &[f64])], pw: f64) {
    for (k, (label, _)) in curves.iter().enumerate() {
        let (colour, dash) = CURVES[k % CURVES.len()];
        let x = LEFT + if k % 2 == 0 { 0.0 } else { pw / 2.0 };
        let y = H + 4.0 + 22.0 * (k / 2) as f64;
        let _ = write!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2.5\" stroke-dasharray=\"{dash}\"/>",
            x + 34.0
        );
        let _ = write!(
            s,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + 42.0,
            y + 4.5,
            xml(label)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(
            nice_ticks(0.0, 10000.0, 8),
            vec![0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0]
        );
        assert_eq!(
            nice_ticks(0.0, 1.0, 6),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(tick_label(0.6000000000000001), "0.6");
    }

    #[test]
    fn log_plot_has_decades() {
        let curve: Vec<f64> = (0..100).map(|i| 0.3 * 0.9f64.powi(i)).collect();
        let svg = loss_curve(&curve, true, "t", "E", "step");
        assert!(svg.contains("10<tspan dy=\"-7\" font-size=\"11\">-1</tspan>"));
        assert!(svg.contains("<path class=\"curve\" d=\"M"));
    }
}
