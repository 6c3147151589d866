//! Names of quantities: `net_h1`/`out_h1` (the tutorial's), `sum_h1`/
//! `output_h1` or `z_h1`/`a_h1`, and the LaTeX of any name (`w5` → `w_{5}`,
//! `net_h1` → `net_{h_1}`, `eta` → `\eta`).
//!
//! Plain names, used in JSON and in formulas that must parse back, are
//! always the tutorial's; the notation only changes what pages show.

use crate::expr::{Func, Names, Sym};
use crate::model::Network;

/// How net inputs and outputs of neurons are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Notation {
    /// `net_h1`, `out_h1`
    #[default]
    NetOut,
    /// `sum_h1`, `output_h1`
    SumOutput,
    /// `z_h1`, `a_h1`
    ZA,
}

impl Notation {
    /// The prefixes for net input and output.
    pub fn prefixes(self) -> (&'static str, &'static str) {
        match self {
            Notation::NetOut => ("net", "out"),
            Notation::SumOutput => ("sum", "output"),
            Notation::ZA => ("z", "a"),
        }
    }
}

const GREEK: [&str; 24] = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "varepsilon",
];

/// The LaTeX of a word: a Greek letter's command, else the word itself.
fn latex_word(w: &str) -> String {
    let lower = w.to_ascii_lowercase();
    if GREEK.contains(&lower.as_str()) {
        let cap = w.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        // Capital Greek letters that look like Latin ones have no command.
        if cap
            && ![
                "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
                "Omega",
            ]
            .contains(&w)
        {
            return w.to_string();
        }
        return format!("\\{w}");
    }
    w.to_string()
}

/// Splits trailing digits: `h12` → (`h`, `12`).
fn split_digits(w: &str) -> (&str, &str) {
    let cut = w.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    w.split_at(cut)
}

/// A subscript part: `h1` → `h_1`, `h12` → `h_{12}`, `total` → `total`.
fn latex_sub(part: &str) -> String {
    let (base, digits) = split_digits(part);
    if base.is_empty() || digits.is_empty() {
        return latex_word(part);
    }
    let base = latex_word(base);
    if digits.len() == 1 {
        format!("{base}_{digits}")
    } else {
        format!("{base}_{{{digits}}}")
    }
}

/// The LaTeX of a name.
///
/// `w5` → `w_{5}`; `net_h1` → `net_{h_1}`; `w_h3_x2` → `w_{h3,x2}`;
/// `E_total` → `E_{total}`; `eta` → `\eta`; `x` → `x`.
pub fn latex_name(name: &str) -> String {
    let name = name.trim_start_matches('_');
    if let Some((base, rest)) = name.split_once('_') {
        let base = latex_word(base);
        let parts: Vec<&str> = rest.split('_').filter(|p| !p.is_empty()).collect();
        let sub = match parts.as_slice() {
            [] => return base,
            [one] => latex_sub(one),
            many => many
                .iter()
                .map(|p| latex_word(p))
                .collect::<Vec<_>>()
                .join(","),
        };
        return format!("{base}_{{{sub}}}");
    }
    let (base, digits) = split_digits(name);
    if base.is_empty() || digits.is_empty() {
        return latex_word(name);
    }
    format!("{}_{{{digits}}}", latex_word(base))
}

/// Names of a network's quantities in a notation.
#[derive(Clone, Copy)]
pub struct NetNames<'a> {
    /// The network.
    pub net: &'a Network,
    /// The notation pages use.
    pub notation: Notation,
    /// Argument names, when printing a user function's body.
    pub args: Option<&'a [String]>,
}

impl<'a> NetNames<'a> {
    /// Names of `net` in `notation`.
    pub fn new(net: &'a Network, notation: Notation) -> NetNames<'a> {
        NetNames {
            net,
            notation,
            args: None,
        }
    }

    /// The plain name of `sym` in notation `notation`.
    pub fn name_in(&self, sym: Sym, notation: Notation) -> String {
        let (n, o) = notation.prefixes();
        let neuron = |i: u32| self.net.neurons[i as usize].name.as_str();
        match sym {
            Sym::Input(i) => self.net.inputs[i as usize].name.clone(),
            Sym::Param(i) => self.net.params[i as usize].name.clone(),
            Sym::Const(i) => self.net.consts[i as usize].name.clone(),
            Sym::Net(i) => format!("{n}_{}", neuron(i)),
            Sym::Out(i) => format!("{o}_{}", neuron(i)),
            Sym::Target(i) => format!("target_{}", neuron(i)),
            Sym::Err(i) => format!("E_{}", neuron(i)),
            Sym::ErrTotal => "E_total".to_string(),
            Sym::Arg(k) => self
                .args
                .and_then(|a| a.get(k as usize))
                .cloned()
                .unwrap_or_else(|| format!("x{k}")),
            Sym::LossTarget => "target".to_string(),
            Sym::LossOut => "out".to_string(),
        }
    }

    /// The name pages show for `sym` (in the page's notation).
    pub fn shown(&self, sym: Sym) -> String {
        self.name_in(sym, self.notation)
    }
}

impl Names for NetNames<'_> {
    fn plain(&self, sym: Sym) -> String {
        self.name_in(sym, Notation::NetOut)
    }

    fn latex(&self, sym: Sym) -> String {
        latex_name(&self.shown(sym))
    }

    fn func(&self, func: Func) -> String {
        match func {
            Func::Builtin(b) => b.name().to_string(),
            Func::User(u) => self.net.functions[u as usize].name.clone(),
        }
    }
}

/// Whether `name` matches the glob `pat` (`*` any run, `?` one character).
pub fn glob(pat: &[u8], name: &[u8]) -> bool {
    // The classic two-pointer match with backtracking to the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::latex_name;

    #[test]
    fn latex_of_names() {
        assert_eq!(latex_name("w5"), "w_{5}");
        assert_eq!(latex_name("net_h1"), "net_{h_1}");
        assert_eq!(latex_name("sum_h1"), "sum_{h_1}");
        assert_eq!(latex_name("E_total"), "E_{total}");
        assert_eq!(latex_name("eta"), "\\eta");
        assert_eq!(latex_name("w_h3_x2"), "w_{h3,x2}");
        assert_eq!(latex_name("b_h12"), "b_{h_{12}}");
        assert_eq!(latex_name("x"), "x");
        assert_eq!(latex_name("alpha2"), "\\alpha_{2}");
    }
}
