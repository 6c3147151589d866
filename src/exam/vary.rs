//! `--vary` specs: which fixed numbers of a network an exam draws, and from
//! which values.
//!
//! ```text
//! spec    = pattern "=" values
//! pattern = a glob over names: `*` any run of characters, `?` one
//!           character; `t:GLOB` is `target_GLOB` (the targets of the
//!           outputs whose names match)
//! values  = a ".." b "/" step      a grid: a, a + step, …, b
//!         | "{" v ("," v)* "}"     a list
//!         | v                      one value
//! ```
//!
//! Numbers are plain decimals (`0.05`, `-1.5`, `2`), at most 15 significant
//! digits. A grid's values are worked out on integers, k·step from a in
//! units of the finest decimal place written, and read back from their
//! decimal text, so 0.1 + 0.2 gives the double nearest 0.3, never
//! 0.30000000000000004.

use std::fmt;

use crate::model::Network;
use crate::notation::glob;

/// The most significant digits a value of a spec may have.
const MAX_DIGITS: usize = 15;

/// A `--vary` spec that cannot be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct VaryError {
    /// The spec as written.
    pub spec: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for VaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--vary `{}`: {}", self.spec, self.message)
    }
}

impl std::error::Error for VaryError {}

/// A decimal number: `digits` · 10^−`scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    digits: i128,
    scale: u32,
}

impl Decimal {
    /// Reads `-1.25`, `0.05`, `3`: an optional sign, digits, an optional
    /// point and digits.
    fn parse(text: &str) -> Result<Decimal, String> {
        let t = text.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if t.is_empty() {
            return Err("a number is missing".to_string());
        }
        let exponent = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
        if body.contains(['e', 'E']) && exponent {
            return Err(format!(
                "`{t}` is written with an exponent; write it as a plain decimal"
            ));
        }
        if (int.is_empty() && frac.is_empty()) || !plain(int) || !plain(frac) {
            return Err(format!("`{t}` is not a number"));
        }
        let all = format!("{int}{frac}");
        let significant = all.trim_start_matches('0').len();
        if significant > MAX_DIGITS {
            return Err(format!(
                "`{t}` has more than {MAX_DIGITS} significant digits"
            ));
        }
        // Leading zeros are not significant, but they must stay few enough
        // for every value of a grid to fit in an i128 at the finest scale.
        if frac.len() > 18 {
            return Err(format!("`{t}` has too many decimals"));
        }
        let digits: i128 = if all.trim_start_matches('0').is_empty() {
            0
        } else {
            all.trim_start_matches('0')
                .parse()
                .map_err(|_| format!("`{t}` is not a number"))?
        };
        Ok(Decimal {
            digits: if neg { -digits } else { digits },
            scale: frac.len() as u32,
        })
    }

    /// The digits at `scale` (≥ own scale).
    fn at(self, scale: u32) -> i128 {
        self.digits * 10i128.pow(scale - self.scale)
    }
}

/// The decimal text of `digits` · 10^−`scale`: `-0.05`, `2`, `0.3`.
fn decimal_text(digits: i128, scale: u32) -> String {
    let neg = digits < 0;
    let s = digits.unsigned_abs().to_string();
    let scale = scale as usize;
    let (int, frac) = if s.len() > scale {
        (
            s[..s.len() - scale].to_string(),
            s[s.len() - scale..].to_string(),
        )
    } else {
        (
            "0".to_string(),
            format!("{}{s}", "0".repeat(scale - s.len())),
        )
    };
    let frac = frac.trim_end_matches('0');
    let body = if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

/// The values a spec draws from.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// `a..b/step`: `first + k·step` for k in 0..count, in units of
    /// 10^−scale.
    Grid {
        /// a, in units of 10^−scale.
        first: i128,
        /// The step, in units of 10^−scale (> 0).
        step: i128,
        /// How many values.
        count: u64,
        /// The decimal places of the units.
        scale: u32,
    },
    /// `{v1, v2, …}`, as written, no two the same.
    List(Vec<f64>),
}

impl Values {
    /// How many values there are (≥ 1).
    pub fn len(&self) -> u64 {
        match self {
            Values::Grid { count, .. } => *count,
            Values::List(v) => v.len() as u64,
        }
    }

    /// Whether there are none (never, for a spec that was read).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value number `k` (< [`len`](Self::len)): the double nearest the
    /// decimal value.
    pub fn get(&self, k: u64) -> f64 {
        match self {
            Values::Grid {
                first, step, scale, ..
            } => decimal_text(first + step * k as i128, *scale)
                .parse()
                .unwrap_or(f64::NAN),
            Values::List(v) => v[k as usize],
        }
    }
}

/// One `--vary` spec, read.
#[derive(Debug, Clone, PartialEq)]
pub struct VarySpec {
    /// The spec as written.
    pub text: String,
    /// The glob over names (`t:o1` already turned into `target_o1`).
    pub pattern: String,
    /// The values.
    pub values: Values,
}

impl VarySpec {
    /// Reads a spec: `w*=0.05..0.95/0.05`, `t:o*={0.01, 0.99}`, `i1=0.5`.
    pub fn parse(text: &str) -> Result<VarySpec, VaryError> {
        let fail = |message: String| VaryError {
            spec: text.to_string(),
            message,
        };
        let Some((pattern, values)) = text.split_once('=') else {
            return Err(fail(
                "expected `NAMES=VALUES`, like `w*=0.05..0.95/0.05` or `b1={0.1, 0.35}`".into(),
            ));
        };
        let pattern = pattern.trim();
        let pattern = match pattern.strip_prefix("t:") {
            Some(rest) => format!("target_{}", rest.trim()),
            None => pattern.to_string(),
        };
        if pattern.is_empty() || pattern == "target_" {
            return Err(fail("no names before `=`".into()));
        }
        if let Some(c) = pattern
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?')))
        {
            return Err(fail(format!(
                "`{c}` cannot be in a name pattern; use names, `*` and `?` (and `t:` for targets)"
            )));
        }
        let values = parse_values(values.trim()).map_err(fail)?;
        Ok(VarySpec {
            text: text.to_string(),
            pattern,
            values,
        })
    }

    /// Whether the spec's pattern matches `name`.
    pub fn matches(&self, name: &str) -> bool {
        glob(self.pattern.as_bytes(), name.as_bytes())
    }
}

fn parse_values(v: &str) -> Result<Values, String> {
    if v.is_empty() {
        return Err("no values after `=`".into());
    }
    if let Some(inner) = v.strip_prefix('{') {
        let Some(inner) = inner.strip_suffix('}') else {
            return Err("a list of values ends with `}`".into());
        };
        let mut out: Vec<f64> = Vec::new();
        for item in inner.split(',') {
            let d = Decimal::parse(item)?;
            let x: f64 = decimal_text(d.digits, d.scale)
                .parse()
                .map_err(|_| format!("`{}` is not a number", item.trim()))?;
            if out.contains(&x) {
                return Err(format!("`{}` is listed twice", item.trim()));
            }
            out.push(x);
        }
        return Ok(Values::List(out));
    }
    if v.contains('}') || v.contains(',') {
        return Err("a list of values is written in braces: `{0.1, 0.25, 0.4}`".into());
    }
    let Some((a, rest)) = v.split_once("..") else {
        let d = Decimal::parse(v)?;
        return Ok(Values::List(vec![decimal_text(d.digits, d.scale)
            .parse()
            .map_err(|_| format!("`{v}` is not a number"))?]));
    };
    let Some((b, step)) = rest.split_once('/') else {
        return Err(format!(
            "a grid needs a step: `{}..{}/STEP`, like `0.05..0.95/0.05`",
            a.trim(),
            rest.trim()
        ));
    };
    let (da, db, ds) = (
        Decimal::parse(a)?,
        Decimal::parse(b)?,
        Decimal::parse(step)?,
    );
    let scale = da.scale.max(db.scale).max(ds.scale);
    let (ia, ib, is) = (da.at(scale), db.at(scale), ds.at(scale));
    let (a, b, step) = (a.trim(), b.trim(), step.trim());
    if is <= 0 {
        return Err(format!("the step `{step}` must be greater than 0"));
    }
    if ib < ia {
        return Err(format!("the grid runs backwards: `{b}` is less than `{a}`"));
    }
    let span = ib - ia;
    if span % is != 0 {
        let below = ia + span / is * is;
        return Err(format!(
            "`{b}` is not a whole number of steps of `{step}` from `{a}`; end the grid at `{}` or `{}`",
            decimal_text(below, scale),
            decimal_text(below + is, scale)
        ));
    }
    let limit = 10i128.pow(MAX_DIGITS as u32);
    if ia.abs() >= limit || ib.abs() >= limit {
        return Err(format!(
            "the values need more than {MAX_DIGITS} significant digits"
        ));
    }
    let count = span / is + 1;
    Ok(Values::Grid {
        first: ia,
        step: is,
        count: u64::try_from(count).unwrap_or(u64::MAX),
        scale,
    })
}

/// A fixed number of a network that an exam can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slot {
    /// Input `i`.
    Input(u32),
    /// Param `i`.
    Param(u32),
    /// Const `i`.
    Const(u32),
    /// The target of neuron `n`.
    Target(u32),
}

impl Slot {
    /// Every slot of `net` with its name (`target_o1` for targets), in the
    /// order variants draw them: inputs, params, consts, targets, each as
    /// declared.
    pub fn all(net: &Network) -> Vec<(Slot, String)> {
        let mut v = Vec::new();
        for (i, s) in net.inputs.iter().enumerate() {
            v.push((Slot::Input(i as u32), s.name.clone()));
        }
        for (i, s) in net.params.iter().enumerate() {
            v.push((Slot::Param(i as u32), s.name.clone()));
        }
        for (i, s) in net.consts.iter().enumerate() {
            v.push((Slot::Const(i as u32), s.name.clone()));
        }
        for n in net.outputs() {
            v.push((
                Slot::Target(n),
                format!("target_{}", net.neurons[n as usize].name),
            ));
        }
        v
    }

    /// Its value in `net`.
    pub fn get(self, net: &Network) -> f64 {
        match self {
            Slot::Input(i) => net.inputs[i as usize].value,
            Slot::Param(i) => net.params[i as usize].value,
            Slot::Const(i) => net.consts[i as usize].value,
            Slot::Target(n) => net.targets[n as usize].unwrap_or(f64::NAN),
        }
    }

    /// Sets its value in `net`.
    pub fn set(self, net: &mut Network, value: f64) {
        match self {
            Slot::Input(i) => net.inputs[i as usize].value = value,
            Slot::Param(i) => net.params[i as usize].value = value,
            Slot::Const(i) => net.consts[i as usize].value = value,
            Slot::Target(n) => net.targets[n as usize] = Some(value),
        }
    }
}

/// A varied number: its slot, its name and the spec it is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Varied {
    /// Where the number is.
    pub slot: Slot,
    /// Its name (`w1`, `target_o1`).
    pub name: String,
    /// Index of the spec in the list given.
    pub spec: usize,
}

/// The numbers `specs` vary in `net`, in drawing order. A later spec
/// overrides an earlier one for the names both match; a spec that matches
/// no name is an error listing the names there are.
pub fn resolve(net: &Network, specs: &[VarySpec]) -> Result<Vec<Varied>, VaryError> {
    let slots = Slot::all(net);
    let mut chosen: Vec<Option<usize>> = vec![None; slots.len()];
    for (k, spec) in specs.iter().enumerate() {
        let mut any = false;
        for (i, (_, name)) in slots.iter().enumerate() {
            if spec.matches(name) {
                chosen[i] = Some(k);
                any = true;
            }
        }
        if !any {
            let names: Vec<&str> = slots.iter().map(|(_, n)| n.as_str()).collect();
            let hint = crate::parse::closest_name(&spec.pattern, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(VaryError {
                spec: spec.text.clone(),
                message: format!(
                    "`{}` matches no input, param, const or target{hint} (the names are {})",
                    spec.pattern,
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    Ok(slots
        .into_iter()
        .zip(chosen)
        .filter_map(|((slot, name), spec)| spec.map(|spec| Varied { slot, name, spec }))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(spec: &str) -> Vec<String> {
        let s = VarySpec::parse(spec).unwrap();
        (0..s.values.len())
            .map(|k| s.values.get(k).to_string())
            .collect()
    }

    fn error(spec: &str) -> String {
        VarySpec::parse(spec).unwrap_err().to_string()
    }

    #[test]
    fn grids_are_exact_decimals() {
        assert_eq!(
            values("w*=0.1..0.5/0.1"),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        assert_eq!(values("w=0.05..0.95/0.05").len(), 19);
        assert!(values("w=0.05..0.95/0.05").iter().all(|v| v.len() <= 4));
        assert_eq!(
            values("w=-0.5..0.5/0.25"),
            ["-0.5", "-0.25", "0", "0.25", "0.5"]
        );
        assert_eq!(values("w=1..3/1"), ["1", "2", "3"]);
        assert_eq!(values("w=0.7..0.7/0.1"), ["0.7"]);
        assert_eq!(values("w = { 0.1, 0.25 ,0.4 }"), ["0.1", "0.25", "0.4"]);
        assert_eq!(values("w=0.35"), ["0.35"]);
        // 0.1 + 0.2 is 0.30000000000000004 in floating point; not here.
        assert_eq!(values("w=0.1..0.3/0.1")[2], "0.3");
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        assert!(error("w1").contains("expected `NAMES=VALUES`"));
        assert!(error("w*=0.95..0.05/0.05").contains("runs backwards"));
        assert!(error("w*=0..1/0.3").contains("end the grid at `0.9` or `1.2`"));
        assert!(error("w*=0..1/0").contains("greater than 0"));
        assert!(error("w*=0..1").contains("needs a step"));
        assert!(error("w*={0.1, 0.1}").contains("listed twice"));
        assert!(error("w*={0.1, x}").contains("`x` is not a number"));
        assert!(error("w*=1e-3").contains("exponent"));
        assert!(error("w-1=0.5").contains("cannot be in a name pattern"));
        assert!(error("w*=0.1, 0.2").contains("braces"));
        assert!(error("=0.1").contains("no names"));
        assert!(error("w=").contains("no values"));
        assert!(error("w=0.1234567890123456").contains("significant digits"));
        assert!(error("w*=0..1/0.3").starts_with("--vary `w*=0..1/0.3`: "));
    }

    #[test]
    fn globs() {
        assert!(glob(b"w*", b"w12"));
        assert!(glob(b"*", b"target_o1"));
        assert!(glob(b"w?", b"w5"));
        assert!(!glob(b"w?", b"w15"));
        assert!(glob(b"*_o*", b"target_o1"));
        assert!(!glob(b"b*", b"w1"));
        assert!(glob(b"w1", b"w1"));
        assert!(!glob(b"w1", b"w10"));
        assert_eq!(
            VarySpec::parse("t:o1=0.5").unwrap().pattern,
            "target_o1".to_string()
        );
    }
}
