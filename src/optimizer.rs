//! The update rules, as PyTorch's `torch.optim` defines them (defaults:
//! no dampening, no learning-rate decay, not centred, no AMSGrad), one
//! param at a time, with every intermediate a teacher writes down.
//!
//! With g the gradient ∂E_total/∂p, λ the weight decay and η the rate, and
//! the state starting at 0 (t counts steps from 1):
//!
//! | optimizer | update |
//! | --- | --- |
//! | `sgd` | g′ = g + λp; p ← p − η·g′ |
//! | `momentum(μ)` | g′ = g + λp; b = g′ at t = 1, else μ·b + g′; p ← p − η·b |
//! | `nesterov(μ)` | as momentum, then p ← p − η·(g′ + μ·b) |
//! | `adagrad(ε)` | g′ = g + λp; s = s + g′²; p ← p − η·g′/(√s + ε) |
//! | `rmsprop(ρ, ε)` | g′ = g + λp; v = ρ·v + (1 − ρ)·g′²; p ← p − η·g′/(√v + ε) |
//! | `adam(β₁, β₂, ε)` | g′ = g + λp; m = β₁m + (1 − β₁)g′; v = β₂v + (1 − β₂)g′²; m̂ = m/(1 − β₁ᵗ); v̂ = v/(1 − β₂ᵗ); p ← p − η·m̂/(√v̂ + ε) |
//! | `adamw(β₁, β₂, ε)` | p ← p·(1 − ηλ) (decoupled), then adam with g′ = g |

use serde::Serialize;

/// An update rule and its constants.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Optimizer {
    /// Plain gradient descent.
    #[default]
    Sgd,
    /// Heavy-ball momentum μ.
    Momentum(f64),
    /// Nesterov momentum μ.
    Nesterov(f64),
    /// Adagrad with ε.
    Adagrad(f64),
    /// RMSprop with smoothing ρ (PyTorch's α) and ε.
    RmsProp(f64, f64),
    /// Adam with β₁, β₂, ε.
    Adam(f64, f64, f64),
    /// AdamW (decoupled weight decay) with β₁, β₂, ε.
    AdamW(f64, f64, f64),
}

/// The optimizers' names, for messages.
pub const NAMES: [&str; 7] = [
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
];

impl Optimizer {
    /// The optimizer `name` with the constants `args`, the defaults filling
    /// those left out; `Err` says what is wrong.
    pub fn from_parts(name: &str, args: &[f64]) -> Result<Optimizer, String> {
        let arg = |i: usize, default: f64| args.get(i).copied().unwrap_or(default);
        let (opt, max) = match name {
            "sgd" => (Optimizer::Sgd, 0),
            "momentum" => (Optimizer::Momentum(arg(0, 0.9)), 1),
            "nesterov" => (Optimizer::Nesterov(arg(0, 0.9)), 1),
            "adagrad" => (Optimizer::Adagrad(arg(0, 1e-10)), 1),
            "rmsprop" => (Optimizer::RmsProp(arg(0, 0.99), arg(1, 1e-8)), 2),
            "adam" => (Optimizer::Adam(arg(0, 0.9), arg(1, 0.999), arg(2, 1e-8)), 3),
            "adamw" => (
                Optimizer::AdamW(arg(0, 0.9), arg(1, 0.999), arg(2, 1e-8)),
                3,
            ),
            other => {
                return Err(format!(
                    "unknown optimizer `{other}`; the optimizers are {}",
                    NAMES.map(|n| format!("`{n}`")).join(", ")
                ))
            }
        };
        if args.len() > max {
            return Err(format!(
                "`{name}` takes at most {max} numbers, not {}",
                args.len()
            ));
        }
        let unit = |x: f64, what: &str| -> Result<(), String> {
            if (0.0..1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("{what} must be at least 0 and below 1, not {x}"))
            }
        };
        let positive = |x: f64| -> Result<(), String> {
            if x > 0.0 {
                Ok(())
            } else {
                Err(format!("ε must be greater than 0, not {x}"))
            }
        };
        match opt {
            Optimizer::Sgd => {}
            Optimizer::Momentum(m) | Optimizer::Nesterov(m) => unit(m, "the momentum")?,
            Optimizer::Adagrad(e) => positive(e)?,
            Optimizer::RmsProp(r, e) => {
                unit(r, "ρ")?;
                positive(e)?
            }
            Optimizer::Adam(b1, b2, e) | Optimizer::AdamW(b1, b2, e) => {
                unit(b1, "β₁")?;
                unit(b2, "β₂")?;
                positive(e)?
            }
        }
        Ok(opt)
    }

    /// Reads `adam(0.9, 0.999, 1e-8)`, `momentum(0.9)`, `sgd`.
    pub fn parse(spec: &str) -> Result<Optimizer, String> {
        let spec = spec.trim();
        let (name, args) = match spec.split_once('(') {
            Some((n, rest)) => {
                let inner = rest
                    .strip_suffix(')')
                    .ok_or_else(|| format!("`{spec}` has no closing `)`"))?;
                let args: Result<Vec<f64>, String> = inner
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse::<f64>()
                            .ok()
                            .filter(|x| x.is_finite())
                            .ok_or_else(|| format!("`{a}` is not a number"))
                    })
                    .collect();
                (n.trim(), args?)
            }
            None => (spec, Vec::new()),
        };
        Optimizer::from_parts(name, &args)
    }

    /// The name and constants as written (`adam(0.9, 0.999, 1e-8)`).
    pub fn spec(&self) -> String {
        // 1e-8 rather than 0.00000001.
        let f = |x: f64| {
            if x != 0.0 && x.abs() < 1e-3 {
                format!("{x:e}")
            } else {
                format!("{x}")
            }
        };
        match *self {
            Optimizer::Sgd => "sgd".to_string(),
            Optimizer::Momentum(m) => format!("momentum({})", f(m)),
            Optimizer::Nesterov(m) => format!("nesterov({})", f(m)),
            Optimizer::Adagrad(e) => format!("adagrad({})", f(e)),
            Optimizer::RmsProp(r, e) => format!("rmsprop({}, {})", f(r), f(e)),
            Optimizer::Adam(a, b, e) => format!("adam({}, {}, {})", f(a), f(b), f(e)),
            Optimizer::AdamW(a, b, e) => format!("adamw({}, {}, {})", f(a), f(b), f(e)),
        }
    }

    /// The name alone.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Momentum(_) => "momentum",
            Optimizer::Nesterov(_) => "nesterov",
            Optimizer::Adagrad(_) => "adagrad",
            Optimizer::RmsProp(..) => "rmsprop",
            Optimizer::Adam(..) => "adam",
            Optimizer::AdamW(..) => "adamw",
        }
    }
}

/// The settings of an update: the rule, the rate η and the weight decay λ.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// The optimizer.
    pub optimizer: Optimizer,
    /// η.
    pub rate: f64,
    /// λ (coupled, added to the gradient; decoupled for `adamw`).
    pub weight_decay: f64,
}

impl Rule {
    /// Whether the update is the plain p − η·g of gradient descent.
    pub fn is_plain(&self) -> bool {
        self.optimizer == Optimizer::Sgd && self.weight_decay == 0.0
    }
}

/// The optimizer's state: per param the first and second accumulators, and
/// the number of steps taken.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Steps taken.
    pub t: u32,
    /// Momentum buffer b, or Adam's first moment m.
    pub m: Vec<f64>,
    /// Adagrad's sum s, RMSprop's and Adam's second moment v.
    pub v: Vec<f64>,
}

impl State {
    /// The state before the first step, for `n` params.
    pub fn new(n: usize) -> State {
        State {
            t: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }
}

/// One param's update, with what a teacher writes on the way.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamStep {
    /// The param before the step.
    pub before: f64,
    /// ∂E_total/∂p.
    pub gradient: f64,
    /// The gradient the rule uses: g + λp (coupled decay), else g.
    pub g: f64,
    /// The param after decoupled decay (`adamw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decayed: Option<f64>,
    /// Momentum buffer or first moment after the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m: Option<f64>,
    /// Second moment or sum of squares after the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<f64>,
    /// m̂ = m/(1 − β₁ᵗ) (Adam).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m_hat: Option<f64>,
    /// v̂ = v/(1 − β₂ᵗ) (Adam).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v_hat: Option<f64>,
    /// The change: after − before.
    pub change: f64,
    /// The param after the step.
    pub after: f64,
}

/// Takes one step of `rule` for every param: `params` and `grads` by param;
/// `state` is advanced.
pub fn step(rule: &Rule, state: &mut State, params: &[f64], grads: &[f64]) -> Vec<ParamStep> {
    state.t += 1;
    let t = state.t;
    let lr = rule.rate;
    let wd = rule.weight_decay;
    params
        .iter()
        .zip(grads)
        .enumerate()
        .map(|(i, (&p, &grad))| {
            let mut s = ParamStep {
                before: p,
                gradient: grad,
                g: grad,
                decayed: None,
                m: None,
                v: None,
                m_hat: None,
                v_hat: None,
                change: 0.0,
                after: p,
            };
            let coupled = !matches!(rule.optimizer, Optimizer::AdamW(..));
            let g = if coupled && wd != 0.0 {
                grad + wd * p
            } else {
                grad
            };
            s.g = g;
            let after = match rule.optimizer {
                Optimizer::Sgd => p - lr * g,
                Optimizer::Momentum(mu) | Optimizer::Nesterov(mu) => {
                    let b = if t == 1 { g } else { mu * state.m[i] + g };
                    state.m[i] = b;
                    s.m = Some(b);
                    let d = if matches!(rule.optimizer, Optimizer::Nesterov(_)) {
                        g + mu * b
                    } else {
                        b
                    };
                    p - lr * d
                }
                Optimizer::Adagrad(eps) => {
                    let sum = state.v[i] + g * g;
                    state.v[i] = sum;
                    s.v = Some(sum);
                    p - lr * g / (sum.sqrt() + eps)
                }
                Optimizer::RmsProp(rho, eps) => {
                    let v = rho * state.v[i] + (1.0 - rho) * g * g;
                    state.v[i] = v;
                    s.v = Some(v);
                    p - lr * g / (v.sqrt() + eps)
                }
                Optimizer::Adam(b1, b2, eps) | Optimizer::AdamW(b1, b2, eps) => {
                    let p = if coupled {
                        p
                    } else {
                        let d = p * (1.0 - lr * wd);
                        s.decayed = Some(d);
                        d
                    };
                    let m = b1 * state.m[i] + (1.0 - b1) * g;
                    let v = b2 * state.v[i] + (1.0 - b2) * g * g;
                    state.m[i] = m;
                    state.v[i] = v;
                    let m_hat = m / (1.0 - b1.powi(t as i32));
                    let v_hat = v / (1.0 - b2.powi(t as i32));
                    s.m = Some(m);
                    s.v = Some(v);
                    s.m_hat = Some(m_hat);
                    s.v_hat = Some(v_hat);
                    p - lr * m_hat / (v_hat.sqrt() + eps)
                }
            };
            s.after = after;
            s.change = after - s.before;
            s
        })
        .collect()
}

/// A classic slip in working an Adam step by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slip {
    /// m and v used without their bias corrections: m̂ = m, v̂ = v.
    NoBiasCorrection,
    /// β and 1 − β swapped: m = (1 − β₁)·m + β₁·g, v = (1 − β₂)·v + β₂·g².
    BetasSwapped,
    /// ε inside the square root: √(v̂ + ε).
    EpsilonInsideSqrt,
    /// The update applied with the raw gradient: p − η·g.
    RawGradient,
}

impl Slip {
    /// Every slip.
    pub const ALL: [Slip; 4] = [
        Slip::NoBiasCorrection,
        Slip::BetasSwapped,
        Slip::EpsilonInsideSqrt,
        Slip::RawGradient,
    ];
}

/// The first step of `rule` for one param `p` with gradient `g`, made with
/// `slip` (Adam and AdamW only; other rules have none and step as usual).
pub fn first_step(rule: &Rule, slip: Option<Slip>, p: f64, g: f64) -> ParamStep {
    let mut state = State::new(1);
    let right = step(rule, &mut state, &[p], &[g])[0];
    let (Some(slip), Optimizer::Adam(b1, b2, eps) | Optimizer::AdamW(b1, b2, eps)) =
        (slip, rule.optimizer)
    else {
        return right;
    };
    let mut s = right;
    let base = s.decayed.unwrap_or(s.before);
    let gu = s.g;
    let lr = rule.rate;
    match slip {
        Slip::NoBiasCorrection => {
            let (m, v) = (s.m.unwrap_or(0.0), s.v.unwrap_or(0.0));
            s.m_hat = Some(m);
            s.v_hat = Some(v);
            s.after = base - lr * m / (v.sqrt() + eps);
        }
        Slip::BetasSwapped => {
            let (m, v) = (b1 * gu, b2 * gu * gu);
            let (mh, vh) = (m / (1.0 - b1), v / (1.0 - b2));
            s.m = Some(m);
            s.v = Some(v);
            s.m_hat = Some(mh);
            s.v_hat = Some(vh);
            s.after = base - lr * mh / (vh.sqrt() + eps);
        }
        Slip::EpsilonInsideSqrt => {
            let (mh, vh) = (s.m_hat.unwrap_or(0.0), s.v_hat.unwrap_or(0.0));
            s.after = base - lr * mh / (vh + eps).sqrt();
        }
        Slip::RawGradient => s.after = base - lr * gu,
    }
    s.change = s.after - s.before;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_first_step_moves_by_the_rate() {
        // m̂ = g and v̂ = g² at t = 1: the step is η·g/(|g| + ε) ≈ η.
        let rule = Rule {
            optimizer: Optimizer::Adam(0.9, 0.999, 1e-8),
            rate: 0.5,
            weight_decay: 0.0,
        };
        let mut st = State::new(1);
        let s = step(&rule, &mut st, &[0.4], &[0.082167041]);
        assert!((s[0].after - (0.4 - 0.5 * 0.082167041 / (0.082167041 + 1e-8))).abs() < 1e-15);
        assert!((s[0].m_hat.unwrap() - 0.082167041).abs() < 1e-17);
    }

    #[test]
    fn specs_read_back() {
        for spec in [
            "sgd",
            "momentum(0.9)",
            "adam(0.9, 0.999, 0.00000001)",
            "rmsprop(0.9, 0.001)",
        ] {
            assert_eq!(
                Optimizer::parse(spec).unwrap(),
                Optimizer::parse(&Optimizer::parse(spec).unwrap().spec()).unwrap()
            );
        }
        assert!(Optimizer::parse("adam(1.2)").unwrap_err().contains("β₁"));
        assert!(Optimizer::parse("adma")
            .unwrap_err()
            .contains("unknown optimizer"));
    }
}
