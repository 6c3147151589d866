//! The lines of one param's update as a teacher writes them: for plain
//! gradient descent p⁺ = p − η·∂E_total/∂p, for an optimizer its state (the
//! momentum buffer, the moments m and v, their bias corrections m̂ and v̂)
//! and then the update. Numbers only come from the [`ParamStep`]: nothing
//! is computed here.

use crate::optimizer::{Optimizer, ParamStep, Rule};
use crate::render::latex::chain_lines;

/// How numbers are written: this many significant digits.
pub(crate) struct Nums {
    pub(crate) digits: usize,
}

impl Nums {
    fn num(&self, x: f64) -> String {
        crate::number::latex_significant(x, self.digits)
    }

    /// Squared: `0.5^{2}`, `(-0.5)^{2}`, `(4.4 \times 10^{-4})^{2}`.
    fn squared(&self, x: f64) -> String {
        let s = self.num(x);
        if s.starts_with('-') || s.contains("\\times") {
            format!("({s})^{{2}}")
        } else {
            format!("{s}^{{2}}")
        }
    }

    /// As a factor in a product: negatives in brackets.
    fn factor(&self, x: f64) -> String {
        let s = self.num(x);
        if s.starts_with('-') {
            format!("({s})")
        } else {
            s
        }
    }
}

/// The lines of step `t` of param `p` (LaTeX `pl`), whose gradient is
/// written `gradient` (`\frac{∂E_total}{∂w_5}`), with the state before the
/// step `prev` = (m, v).
pub(crate) fn lines(
    rule: &Rule,
    pl: &str,
    gradient: &str,
    s: &ParamStep,
    prev: (f64, f64),
    t: u32,
    n: &Nums,
) -> Vec<String> {
    let num = |x: f64| n.num(x);
    let factor = |x: f64| n.factor(x);
    let eta = factor(rule.rate);
    let lambda = factor(rule.weight_decay);
    let sup = |x: &str| {
        if t == 1 {
            x.to_string()
        } else {
            format!("{x}^{{({t})}}")
        }
    };
    let after = if t == 1 {
        format!("{pl}^{{+}}")
    } else {
        format!("{pl}^{{({t})}}")
    };
    let before = if t <= 2 {
        if t == 1 {
            pl.to_string()
        } else {
            format!("{pl}^{{+}}")
        }
    } else {
        format!("{pl}^{{({})}}", t - 1)
    };
    let mut out = Vec::new();
    let g_name = format!("\\tilde{{g}}_{{{pl}}}");
    let coupled = !matches!(rule.optimizer, Optimizer::AdamW(..)) && rule.weight_decay != 0.0;
    // The gradient the rule uses.
    let g = if coupled {
        out.extend(chain_lines(
            &sup(&g_name),
            &[
                vec![format!("{gradient} + \\lambda \\cdot {before}")],
                vec![format!(
                    "{} + {lambda} \\cdot {}",
                    num(s.gradient),
                    factor(s.before)
                )],
                vec![num(s.g)],
            ],
        ));
        sup(&g_name)
    } else {
        gradient.to_string()
    };
    let gv = factor(s.g);
    let c = Shared {
        rule,
        pl,
        g: &g,
        gv: &gv,
        before: &before,
        after: &after,
        eta: &eta,
        lambda: &lambda,
        t,
        prev,
        s,
        n,
    };
    match rule.optimizer {
        Optimizer::Sgd => out.extend(chain_lines(
            &after,
            &[
                vec![format!("{before} - \\eta \\cdot {g}")],
                vec![format!("{} - {eta} \\cdot {gv}", num(s.before))],
                vec![num(s.after)],
            ],
        )),
        Optimizer::Momentum(mu) | Optimizer::Nesterov(mu) => momentum(&c, mu, &mut out),
        Optimizer::Adagrad(eps) | Optimizer::RmsProp(_, eps) => adaptive(&c, eps, &mut out),
        Optimizer::Adam(b1, b2, eps) | Optimizer::AdamW(b1, b2, eps) => {
            adam(&c, (b1, b2, eps), &mut out)
        }
    }
    out
}

/// What every optimizer's lines share: the param's LaTeX `pl`, the
/// gradient used `g` (and its value `gv`), the names before and after the
/// step, η and λ as factors, the step `t`, the state before it, and the
/// step's numbers.
struct Shared<'a> {
    rule: &'a Rule,
    pl: &'a str,
    g: &'a str,
    gv: &'a str,
    before: &'a str,
    after: &'a str,
    eta: &'a str,
    lambda: &'a str,
    t: u32,
    prev: (f64, f64),
    s: &'a ParamStep,
    n: &'a Nums,
}

impl Shared<'_> {
    /// The state `x` of this param at this step (`m_{w_5}^{(2)}`).
    fn state(&self, x: &str) -> String {
        self.sup(&format!("{x}_{{{}}}", self.pl))
    }

    /// The state `x` of this param before this step: 0 before the first.
    fn before_state(&self, x: &str) -> String {
        let pl = self.pl;
        match self.t {
            1 => "0".to_string(),
            2 => format!("{x}_{{{pl}}}"),
            t => format!("{x}_{{{pl}}}^{{({})}}", t - 1),
        }
    }

    /// `x` with the step as a superscript after the first.
    fn sup(&self, x: &str) -> String {
        if self.t == 1 {
            x.to_string()
        } else {
            format!("{x}^{{({})}}", self.t)
        }
    }
}

/// Momentum and Nesterov: the velocity b, then the step.
fn momentum(c: &Shared<'_>, mu: f64, out: &mut Vec<String>) {
    let Shared {
        rule,
        g,
        gv,
        before,
        after,
        eta,
        t,
        prev,
        s,
        n,
        ..
    } = c;
    let (t, prev) = (*t, *prev);
    let num = |x: f64| n.num(x);
    let factor = |x: f64| n.factor(x);
    let b = c.state("b");
    let bv = s.m.unwrap_or_default();
    if t == 1 {
        out.push(format!("{b} &= {g} = {}", num(bv)));
    } else {
        let prev_b = c.before_state("b");
        out.extend(chain_lines(
            &b,
            &[
                vec![format!("\\mu \\cdot {prev_b} + {g}")],
                vec![format!("{} \\cdot {} + {gv}", factor(mu), factor(prev.0))],
                vec![num(bv)],
            ],
        ));
    }
    if matches!(rule.optimizer, Optimizer::Nesterov(_)) {
        out.extend(chain_lines(
            after,
            &[
                vec![format!("{before} - \\eta \\cdot ({g} + \\mu \\cdot {b})")],
                vec![format!(
                    "{} - {eta} \\cdot ({} + {} \\cdot {})",
                    num(s.before),
                    num(s.g),
                    factor(mu),
                    factor(bv)
                )],
                vec![num(s.after)],
            ],
        ));
    } else {
        out.extend(chain_lines(
            after,
            &[
                vec![format!("{before} - \\eta \\cdot {b}")],
                vec![format!("{} - {eta} \\cdot {}", num(s.before), factor(bv))],
                vec![num(s.after)],
            ],
        ));
    }
}

/// Adagrad and RMSprop: the sum (or mean) of squares, then the step.
fn adaptive(c: &Shared<'_>, eps: f64, out: &mut Vec<String>) {
    let Shared {
        rule,
        g,
        before,
        after,
        eta,
        prev,
        s,
        n,
        ..
    } = c;
    let prev = *prev;
    let num = |x: f64| n.num(x);
    let factor = |x: f64| n.factor(x);
    let squared = |x: f64| n.squared(x);
    let letter = if matches!(rule.optimizer, Optimizer::Adagrad(_)) {
        "s"
    } else {
        "v"
    };
    let (v, prev_v) = (c.state(letter), c.before_state(letter));
    let vv = s.v.unwrap_or_default();
    let (sym, nums) = match rule.optimizer {
        Optimizer::RmsProp(rho, _) => (
            format!("\\rho \\cdot {prev_v} + (1 - \\rho) \\cdot \\left({g}\\right)^{{2}}"),
            format!(
                "{} \\cdot {} + {} \\cdot {}",
                factor(rho),
                factor(prev.1),
                factor(1.0 - rho),
                squared(s.g)
            ),
        ),
        _ => (
            format!("{prev_v} + \\left({g}\\right)^{{2}}"),
            format!("{} + {}", num(prev.1), squared(s.g)),
        ),
    };
    out.extend(chain_lines(&v, &[vec![sym], vec![nums], vec![num(vv)]]));
    out.extend(chain_lines(
        after,
        &[
            vec![format!(
                "{before} - \\eta \\cdot \\frac{{{g}}}{{\\sqrt{{{v}}} + \\epsilon}}"
            )],
            vec![format!(
                "{} - {eta} \\cdot \\frac{{{}}}{{\\sqrt{{{}}} + {}}}",
                num(s.before),
                num(s.g),
                num(vv),
                num(eps)
            )],
            vec![num(s.after)],
        ],
    ));
}

/// Adam and AdamW: the moments, their bias corrections, then the step.
fn adam(c: &Shared<'_>, (b1, b2, eps): (f64, f64, f64), out: &mut Vec<String>) {
    let Shared {
        pl,
        g,
        gv,
        before,
        after,
        eta,
        lambda,
        t,
        prev,
        s,
        n,
        ..
    } = c;
    let (t, prev) = (*t, *prev);
    let num = |x: f64| n.num(x);
    let factor = |x: f64| n.factor(x);
    let squared = |x: f64| n.squared(x);
    let sup = |x: &str| c.sup(x);
    let mut p_used = before.to_string();
    if let Some(d) = s.decayed {
        let tilde = format!("\\tilde{{{pl}}}");
        out.extend(chain_lines(
            &tilde,
            &[
                vec![format!("{before} \\cdot (1 - \\eta \\lambda)")],
                vec![format!(
                    "{} \\cdot (1 - {eta} \\cdot {lambda})",
                    num(s.before)
                )],
                vec![num(d)],
            ],
        ));
        p_used = tilde;
    }
    let (m, v) = (c.state("m"), c.state("v"));
    let prev_name = |x: &str| c.before_state(x);
    let (mv, vv) = (s.m.unwrap_or_default(), s.v.unwrap_or_default());
    out.extend(chain_lines(
        &m,
        &[
            vec![format!(
                "\\beta_1 \\cdot {} + (1 - \\beta_1) \\cdot {g}",
                prev_name("m")
            )],
            vec![format!(
                "{} \\cdot {} + {} \\cdot {gv}",
                factor(b1),
                factor(prev.0),
                factor(1.0 - b1)
            )],
            vec![num(mv)],
        ],
    ));
    out.extend(chain_lines(
        &v,
        &[
            vec![format!(
                "\\beta_2 \\cdot {} + (1 - \\beta_2) \\cdot \\left({g}\\right)^{{2}}",
                prev_name("v")
            )],
            vec![format!(
                "{} \\cdot {} + {} \\cdot {}",
                factor(b2),
                factor(prev.1),
                factor(1.0 - b2),
                squared(s.g)
            )],
            vec![num(vv)],
        ],
    ));
    let (mh, vh) = (
        sup(&format!("\\hat{{m}}_{{{pl}}}")),
        sup(&format!("\\hat{{v}}_{{{pl}}}")),
    );
    out.extend(chain_lines(
        &mh,
        &[
            vec![format!("\\frac{{{m}}}{{1 - \\beta_1^{{{t}}}}}")],
            vec![format!("\\frac{{{}}}{{1 - {}^{{{t}}}}}", num(mv), num(b1))],
            vec![num(s.m_hat.unwrap_or_default())],
        ],
    ));
    out.extend(chain_lines(
        &vh,
        &[
            vec![format!("\\frac{{{v}}}{{1 - \\beta_2^{{{t}}}}}")],
            vec![format!("\\frac{{{}}}{{1 - {}^{{{t}}}}}", num(vv), num(b2))],
            vec![num(s.v_hat.unwrap_or_default())],
        ],
    ));
    out.extend(chain_lines(
        after,
        &[
            vec![format!(
                "{p_used} - \\eta \\cdot \\frac{{{mh}}}{{\\sqrt{{{vh}}} + \\epsilon}}"
            )],
            vec![format!(
                "{} - {eta} \\cdot \\frac{{{}}}{{\\sqrt{{{}}} + {}}}",
                num(s.decayed.unwrap_or(s.before)),
                num(s.m_hat.unwrap_or_default()),
                num(s.v_hat.unwrap_or_default()),
                num(eps)
            )],
            vec![num(s.after)],
        ],
    ));
}
