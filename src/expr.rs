//! Symbolic expressions over the quantities of a network, their simplifier,
//! and two printers: a plain one whose output parses back to the same tree,
//! and a LaTeX one with the fewest parentheses that keep the meaning.
//!
//! Trees mirror what a person writes: `a - b` stays a subtraction and
//! `-(target_o1 - out_o1)` stays a negated difference, so that derivatives
//! read as in a textbook.
//!
//! # Boxed trees, not an arena
//!
//! An arena (egg's `RecExpr`: nodes in one vector, children before their
//! parents) was measured against these boxed trees on the expressions of a
//! real derivation, `cargo bench --bench expr`: the 5 840 net inputs and
//! factors of the dense 50-50-50-10 network (28 310 nodes, 5 610 params),
//! release build, 2 cores, three runs. Evaluating them all takes 0.08–0.26 ms
//! boxed and 0.11–0.25 ms in arenas; cloning 0.85–1.6 ms and 0.5–0.6 ms;
//! freeing 0.37 ms and 0.07 ms; building the arenas from the trees 0.7–1.3
//! ms. The whole `--full` page of that network takes 135 ms and its JSON
//! 80 ms: an arena would save about 1 ms of them, under 2 %, and would
//! mean rewriting the parser, `diff`, the simplifier and both printers,
//! which walk and build trees by pattern matching (`a - b` by `Bin(Sub, a,
//! b)`). The trees stay. The large stacks (the main thread's, the render
//! threads') are for recursion on deep sums — a dense layer's net input is
//! a sum of one term an input, leaning left — and `parse/limits.rs` bounds
//! the depth a file can ask for.

use std::fmt::Write as _;

/// A quantity an expression can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sym {
    /// Network input `i`.
    Input(u32),
    /// Trainable parameter `p`.
    Param(u32),
    /// Fixed constant.
    Const(u32),
    /// Net input of neuron `n` (`net_h1`).
    Net(u32),
    /// Output of neuron `n` (`out_h1`).
    Out(u32),
    /// Target of output neuron `n` (`target_o1`).
    Target(u32),
    /// Error of output neuron `n` (`E_o1`).
    Err(u32),
    /// The total error `E_total`.
    ErrTotal,
    /// Argument `k` of the user function whose body this is.
    Arg(u32),
    /// `target` in a custom loss: the target of the output at hand.
    LossTarget,
    /// `out` in a custom loss: the output at hand.
    LossOut,
}

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `exp(x)`
    Exp,
    /// `ln(x)`
    Ln,
    /// `sqrt(x)`
    Sqrt,
    /// `sigmoid(x)` = 1/(1 + e^(−x))
    Sigmoid,
    /// `tanh(x)`
    Tanh,
    /// `relu(x)` = max(0, x)
    Relu,
    /// `leaky_relu(x)` or `leaky_relu(x, a)`: x for x > 0, a·x otherwise (a = 0.01)
    LeakyRelu,
    /// `softplus(x)` = ln(1 + eˣ)
    Softplus,
    /// `step(x)` or `step(x, a)`: 1 for x > 0, a otherwise (a = 0); the derivative of relu
    Step,
}

impl Builtin {
    /// Every built-in function, in the order they are documented.
    pub const ALL: [Builtin; 9] = [
        Builtin::Exp,
        Builtin::Ln,
        Builtin::Sqrt,
        Builtin::Sigmoid,
        Builtin::Tanh,
        Builtin::Relu,
        Builtin::LeakyRelu,
        Builtin::Softplus,
        Builtin::Step,
    ];

    /// The name used in source text.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Exp => "exp",
            Builtin::Ln => "ln",
            Builtin::Sqrt => "sqrt",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Tanh => "tanh",
            Builtin::Relu => "relu",
            Builtin::LeakyRelu => "leaky_relu",
            Builtin::Softplus => "softplus",
            Builtin::Step => "step",
        }
    }

    /// The built-in called `name`.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The numbers of arguments it accepts.
    pub fn arity(self) -> std::ops::RangeInclusive<usize> {
        match self {
            Builtin::LeakyRelu | Builtin::Step => 1..=2,
            _ => 1..=1,
        }
    }

    /// Its value at `args` (the arity was checked when the call was built).
    pub fn apply(self, args: &[f64]) -> f64 {
        let x = args.first().copied().unwrap_or(f64::NAN);
        match self {
            Builtin::Exp => x.exp(),
            Builtin::Ln => {
                if x < 0.0 {
                    f64::NAN
                } else {
                    x.ln()
                }
            }
            Builtin::Sqrt => x.sqrt(),
            Builtin::Sigmoid => sigmoid(x),
            Builtin::Tanh => x.tanh(),
            Builtin::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Builtin::LeakyRelu => {
                let a = args.get(1).copied().unwrap_or(0.01);
                if x > 0.0 {
                    x
                } else {
                    a * x
                }
            }
            Builtin::Softplus => softplus(x),
            Builtin::Step => {
                if x > 0.0 {
                    1.0
                } else {
                    args.get(1).copied().unwrap_or(0.0)
                }
            }
        }
    }
}

/// The logistic function, computed without overflow for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + eˣ), computed without overflow for large |x|.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// The function of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// A built-in function.
    Builtin(Builtin),
    /// The user function with this index in the network.
    User(u32),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a ^ b`
    Pow,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => " + ",
            BinOp::Sub => " - ",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
        }
    }
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number. Negative numbers come from literals like `-3` and folding.
    Num(f64),
    /// A named quantity.
    Var(Sym),
    /// `-a`
    Neg(Box<Expr>),
    /// `a OP b`
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `f(a, b, …)`
    Call(Func, Vec<Expr>),
}

// Binding strengths, loosest first, as in the grammar.
const P_ADD: u8 = 1;
const P_MUL: u8 = 2;
const P_NEG: u8 = 3;
const P_POW: u8 = 4;
const P_ATOM: u8 = 5;

impl Expr {
    /// `a op b` without simplification.
    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Bin(op, Box::new(a), Box::new(b))
    }

    /// The number, if this is one.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Expr::Num(x) => Some(*x),
            _ => None,
        }
    }

    fn prec(&self) -> u8 {
        match self {
            Expr::Num(x) if *x < 0.0 || (*x == 0.0 && x.is_sign_negative()) => P_NEG,
            Expr::Num(_) | Expr::Var(_) | Expr::Call(..) => P_ATOM,
            Expr::Neg(_) => P_NEG,
            Expr::Bin(BinOp::Add | BinOp::Sub, ..) => P_ADD,
            Expr::Bin(BinOp::Mul | BinOp::Div, ..) => P_MUL,
            Expr::Bin(BinOp::Pow, ..) => P_POW,
        }
    }

    /// Whether `sym` occurs in the expression.
    pub fn mentions(&self, sym: Sym) -> bool {
        match self {
            Expr::Num(_) => false,
            Expr::Var(s) => *s == sym,
            Expr::Neg(a) => a.mentions(sym),
            Expr::Bin(_, a, b) => a.mentions(sym) || b.mentions(sym),
            Expr::Call(_, args) => args.iter().any(|a| a.mentions(sym)),
        }
    }

    /// Calls `f` on every symbol, left to right.
    pub fn visit_syms(&self, f: &mut impl FnMut(Sym)) {
        // Iterative: a long sum is a deep tree.
        let mut pending = vec![self];
        while let Some(e) = pending.pop() {
            match e {
                Expr::Num(_) => {}
                Expr::Var(s) => f(*s),
                Expr::Neg(a) => pending.push(a),
                Expr::Bin(_, a, b) => {
                    pending.push(b);
                    pending.push(a);
                }
                Expr::Call(_, args) => pending.extend(args.iter().rev()),
            }
        }
    }

    /// Calls `f` with the index of every user function called, left to right.
    pub fn visit_calls(&self, f: &mut impl FnMut(u32)) {
        let mut pending = vec![self];
        while let Some(e) = pending.pop() {
            match e {
                Expr::Num(_) | Expr::Var(_) => {}
                Expr::Neg(a) => pending.push(a),
                Expr::Bin(_, a, b) => {
                    pending.push(b);
                    pending.push(a);
                }
                Expr::Call(func, args) => {
                    if let Func::User(u) = func {
                        f(*u);
                    }
                    pending.extend(args.iter().rev());
                }
            }
        }
    }

    /// Number of nodes.
    pub fn size(&self) -> usize {
        match self {
            Expr::Num(_) | Expr::Var(_) => 1,
            Expr::Neg(a) => 1 + a.size(),
            Expr::Bin(_, a, b) => 1 + a.size() + b.size(),
            Expr::Call(_, args) => 1 + args.iter().map(Expr::size).sum::<usize>(),
        }
    }

    /// The expression with every symbol replaced by `f(sym)`.
    pub fn substitute(&self, f: &mut impl FnMut(Sym) -> Expr) -> Expr {
        match self {
            Expr::Num(x) => Expr::Num(*x),
            Expr::Var(s) => f(*s),
            Expr::Neg(a) => Expr::Neg(Box::new(a.substitute(f))),
            Expr::Bin(op, a, b) => Expr::bin(*op, a.substitute(f), b.substitute(f)),
            Expr::Call(func, args) => {
                Expr::Call(*func, args.iter().map(|a| a.substitute(f)).collect())
            }
        }
    }

    /// The top-level terms of a sum, each with its sign (`true` for minus):
    /// `a - b + c` gives `[(a, +), (b, −), (c, +)]`.
    pub fn additive_terms(&self) -> Vec<(bool, &Expr)> {
        // Iterative: a long sum is a deep tree.
        let mut out = Vec::new();
        let mut pending = vec![(false, self)];
        while let Some((neg, e)) = pending.pop() {
            match e {
                Expr::Bin(BinOp::Add, a, b) => {
                    pending.push((neg, b));
                    pending.push((neg, a));
                }
                Expr::Bin(BinOp::Sub, a, b) => {
                    pending.push((!neg, b));
                    pending.push((neg, a));
                }
                _ => out.push((neg, e)),
            }
        }
        out
    }

    /// The plain, re-parseable form, with names from `names`.
    pub fn plain(&self, names: &dyn Names) -> String {
        let mut s = String::new();
        self.write_plain(names, &mut s);
        s
    }

    fn write_plain(&self, names: &dyn Names, s: &mut String) {
        match self {
            Expr::Num(x) => {
                let _ = write!(s, "{}", PlainNum(*x));
            }
            Expr::Var(sym) => s.push_str(&names.plain(*sym)),
            Expr::Neg(a) => {
                s.push('-');
                wrap_plain(a, a.prec() <= P_NEG, names, s);
            }
            Expr::Bin(BinOp::Add | BinOp::Sub, ..) => {
                // A long sum is a deep tree leaning left: print its left
                // side in a loop (it needs no parentheses), then each right
                // operand in order.
                let mut rights = Vec::new();
                let mut first = self;
                while let Expr::Bin(op @ (BinOp::Add | BinOp::Sub), a, b) = first {
                    rights.push((*op, b));
                    first = a;
                }
                first.write_plain(names, s);
                for (op, b) in rights.into_iter().rev() {
                    s.push_str(op.symbol());
                    wrap_plain(b, b.prec() <= P_ADD || b.prec() == P_NEG, names, s);
                }
            }
            Expr::Bin(op, a, b) => {
                let p = self.prec();
                // Left operand: parenthesised when it binds more loosely, and
                // for `^` (right-associative) also when it binds equally or
                // is negative (`(-2)^x`).
                let left_paren = match op {
                    BinOp::Pow => a.prec() <= P_POW,
                    _ => a.prec() < p,
                };
                wrap_plain(a, left_paren, names, s);
                s.push_str(op.symbol());
                // Right operand: for `-` and `/` also at equal binding
                // (`a - (b - c)`); negatives always in parentheses.
                let right_paren = match op {
                    BinOp::Pow => b.prec() < P_POW,
                    BinOp::Add | BinOp::Mul => b.prec() <= p || b.prec() == P_NEG,
                    BinOp::Sub | BinOp::Div => b.prec() <= p || b.prec() == P_NEG,
                };
                wrap_plain(b, right_paren, names, s);
            }
            Expr::Call(func, args) => {
                s.push_str(&names.func(*func));
                s.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    a.write_plain(names, s);
                }
                s.push(')');
            }
        }
    }
}

fn wrap_plain(e: &Expr, paren: bool, names: &dyn Names, s: &mut String) {
    if paren {
        s.push('(');
        e.write_plain(names, s);
        s.push(')');
    } else {
        e.write_plain(names, s);
    }
}

/// Shortest decimal form that parses back to the same f64, without exponent
/// for ordinary magnitudes.
struct PlainNum(f64);

impl std::fmt::Display for PlainNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        let a = x.abs();
        if a != 0.0 && !(1e-6..1e16).contains(&a) {
            write!(f, "{x:e}")
        } else {
            write!(f, "{x}")
        }
    }
}

/// How symbols and functions are named in printed expressions.
pub trait Names {
    /// The plain name of a symbol (`out_h1`).
    fn plain(&self, sym: Sym) -> String;
    /// The LaTeX of a symbol (`out_{h_1}`).
    fn latex(&self, sym: Sym) -> String;
    /// The name of a function.
    fn func(&self, func: Func) -> String;
}

/// Options of the LaTeX printer.
pub struct LatexStyle<'a> {
    /// Names of symbols and functions.
    pub names: &'a dyn Names,
    /// How a number is written (decimals applied).
    pub num: &'a dyn Fn(f64) -> String,
    /// Replace each symbol by this LaTeX (numbers substituted) instead of its name.
    pub value_of: Option<&'a dyn Fn(Sym) -> Option<String>>,
}

impl Expr {
    /// The LaTeX form.
    pub fn latex(&self, style: &LatexStyle<'_>) -> String {
        let mut s = String::new();
        self.write_latex(style, &mut s);
        s
    }

    fn latex_prec(&self, style: &LatexStyle<'_>) -> u8 {
        match self {
            Expr::Var(sym) => {
                if let Some(v) = style.value_of.and_then(|f| f(*sym)) {
                    if v.starts_with('-') {
                        return P_NEG;
                    }
                }
                P_ATOM
            }
            Expr::Num(x) if (style.num)(*x).starts_with('-') => P_NEG,
            _ => self.prec(),
        }
    }

    /// Whether the LaTeX starts with a number or sign (then `\cdot` is needed after a number).
    fn latex_starts_with_digit(&self, style: &LatexStyle<'_>) -> bool {
        match self {
            Expr::Num(_) => true,
            Expr::Var(sym) => style.value_of.and_then(|f| f(*sym)).is_some(),
            Expr::Neg(_) => true,
            Expr::Bin(BinOp::Div, ..) => false,
            Expr::Bin(_, a, _) => a.latex_starts_with_digit(style),
            Expr::Call(..) => false,
        }
    }

    fn write_latex(&self, style: &LatexStyle<'_>, s: &mut String) {
        match self {
            Expr::Num(x) => s.push_str(&(style.num)(*x)),
            Expr::Var(sym) => match style.value_of.and_then(|f| f(*sym)) {
                Some(v) => s.push_str(&v),
                None => s.push_str(&style.names.latex(*sym)),
            },
            Expr::Neg(a) => {
                s.push('-');
                let paren = a.latex_prec(style) <= P_NEG
                    && !matches!(**a, Expr::Bin(BinOp::Div, ..))
                    || matches!(**a, Expr::Bin(BinOp::Add | BinOp::Sub, ..));
                latex_wrap(a, paren, style, s);
            }
            Expr::Bin(BinOp::Div, a, b) => {
                // (−a)/b is written −a/b as a fraction with the sign in front.
                if let Expr::Neg(inner) = &**a {
                    s.push('-');
                    return Expr::bin(BinOp::Div, (**inner).clone(), (**b).clone())
                        .write_latex(style, s);
                }
                if let Some(x) = a.as_num().filter(|x| *x < 0.0) {
                    s.push('-');
                    return Expr::bin(BinOp::Div, Expr::Num(-x), (**b).clone())
                        .write_latex(style, s);
                }
                s.push_str("\\frac{");
                a.write_latex(style, s);
                s.push_str("}{");
                b.write_latex(style, s);
                s.push('}');
            }
            Expr::Bin(BinOp::Pow, a, b) => {
                let base_paren = a.latex_prec(style) <= P_POW
                    || matches!(**a, Expr::Bin(BinOp::Div, ..))
                    // A substituted value as a base: (0.4)^{2}, not 0.4^{2}.
                    || matches!(**a, Expr::Var(sym) if style.value_of.and_then(|f| f(sym)).is_some());
                latex_wrap(a, base_paren, style, s);
                s.push_str("^{");
                b.write_latex(style, s);
                s.push('}');
            }
            Expr::Bin(op, a, b) => {
                let p = self.prec();
                let lp = a.latex_prec(style);
                let left_paren = lp < p && !matches!(**a, Expr::Bin(BinOp::Div, ..));
                latex_wrap(a, left_paren, style, s);
                let rp = b.latex_prec(style);
                let right_paren = match op {
                    BinOp::Add => rp == P_NEG,
                    BinOp::Sub => rp <= P_ADD || rp == P_NEG,
                    BinOp::Mul => {
                        (rp < P_MUL || rp == P_NEG) && !matches!(**b, Expr::Bin(BinOp::Div, ..))
                    }
                    _ => false,
                };
                match op {
                    BinOp::Add => s.push_str(" + "),
                    BinOp::Sub => s.push_str(" - "),
                    BinOp::Mul => {
                        // A numeric coefficient before a bracket or a name is
                        // written without a dot: ½(t − o)², 2x; numbers after
                        // a number always get one.
                        let left_is_coeff = matches!(**a, Expr::Num(_))
                            || matches!(**a, Expr::Bin(BinOp::Div, ref n, ref d) if n.as_num().is_some() && d.as_num().is_some());
                        let tight = left_is_coeff
                            && style.value_of.is_none()
                            && (right_paren || !b.latex_starts_with_digit(style));
                        if tight {
                            s.push(' ');
                        } else {
                            s.push_str(" \\cdot ");
                        }
                    }
                    _ => unreachable!("handled above"),
                }
                latex_wrap(b, right_paren, style, s);
            }
            Expr::Call(func, args) => {
                let name = style.names.func(*func);
                match (func, args.as_slice()) {
                    (Func::Builtin(Builtin::Exp), [a]) => {
                        s.push_str("e^{");
                        a.write_latex(style, s);
                        s.push('}');
                    }
                    (Func::Builtin(Builtin::Sqrt), [a]) => {
                        s.push_str("\\sqrt{");
                        a.write_latex(style, s);
                        s.push('}');
                    }
                    (Func::Builtin(Builtin::Sigmoid), [a]) => {
                        s.push_str("\\sigma");
                        push_parens(&a.latex(style), s);
                    }
                    (Func::Builtin(Builtin::Step), [a, rest @ ..]) => {
                        let other = rest
                            .first()
                            .map(|r| r.latex(style))
                            .unwrap_or_else(|| "0".to_string());
                        s.push_str("\\begin{cases} 1 & ");
                        a.write_latex(style, s);
                        s.push_str(" > 0 \\\\ ");
                        s.push_str(&other);
                        s.push_str(" & \\text{otherwise} \\end{cases}");
                    }
                    _ => {
                        match func {
                            Func::Builtin(b) => match b {
                                Builtin::Ln | Builtin::Tanh => {
                                    let _ = write!(s, "\\{name}");
                                }
                                _ => {
                                    let _ =
                                        write!(s, "\\operatorname{{{}}}", name.replace('_', "\\_"));
                                }
                            },
                            Func::User(_) => {
                                let _ = write!(s, "\\operatorname{{{}}}", name.replace('_', "\\_"));
                            }
                        }
                        let inner: Vec<String> = args.iter().map(|a| a.latex(style)).collect();
                        push_parens(&inner.join(", "), s);
                    }
                }
            }
        }
    }
}

fn latex_wrap(e: &Expr, paren: bool, style: &LatexStyle<'_>, s: &mut String) {
    if paren {
        let inner = e.latex(style);
        push_parens(&inner, s);
    } else {
        e.write_latex(style, s);
    }
}

/// `(inner)`, with `\left(`…`\right)` only around tall content (fractions).
fn push_parens(inner: &str, s: &mut String) {
    if inner.contains("\\frac") || inner.contains("\\begin") {
        s.push_str("\\left(");
        s.push_str(inner);
        s.push_str("\\right)");
    } else {
        s.push('(');
        s.push_str(inner);
        s.push(')');
    }
}

// ---------------------------------------------------------------------------
// Simplification: smart constructors that fold constants and apply the 0/1
// identities, and never reorder what a person wrote.
// ---------------------------------------------------------------------------

/// Splits `e` into a numeric coefficient and the rest: `-2*x` → (−2, x).
fn split_coeff(e: Expr) -> (f64, Option<Expr>) {
    match e {
        Expr::Num(c) => (c, None),
        Expr::Neg(a) => {
            let (c, r) = split_coeff(*a);
            (-c, r)
        }
        Expr::Bin(BinOp::Mul, a, b) if a.as_num().is_some() => {
            let c = a.as_num().unwrap_or(1.0);
            let (k, r) = split_coeff(*b);
            (c * k, r)
        }
        // (k·a)/b = k·(a/b)
        Expr::Bin(BinOp::Div, a, b) => {
            let original = Expr::Bin(BinOp::Div, a.clone(), b.clone());
            let (k, r) = split_coeff(*a);
            if k == 1.0 {
                (1.0, Some(original))
            } else {
                (k, Some(div(r.unwrap_or(Expr::Num(1.0)), *b)))
            }
        }
        other => (1.0, Some(other)),
    }
}

fn with_coeff(c: f64, rest: Option<Expr>) -> Expr {
    match rest {
        None => Expr::Num(c),
        Some(r) if c == 1.0 => r,
        Some(r) if c == -1.0 => neg(r),
        Some(_) if c == 0.0 => Expr::Num(0.0),
        Some(r) => Expr::bin(BinOp::Mul, Expr::Num(c), r),
    }
}

/// `-a`, simplified.
pub fn neg(a: Expr) -> Expr {
    match a {
        Expr::Num(x) => Expr::Num(-x + 0.0),
        Expr::Neg(inner) => *inner,
        // −(a/b) = (−a)/b, printed `-a/b`
        Expr::Bin(BinOp::Div, a, b) if !matches!(*a, Expr::Bin(BinOp::Add | BinOp::Sub, ..)) => {
            Expr::Bin(BinOp::Div, Box::new(neg(*a)), b)
        }
        Expr::Bin(BinOp::Mul, c, r) if c.as_num().is_some() => {
            with_coeff(-c.as_num().unwrap_or(1.0), Some(*r))
        }
        other => Expr::Neg(Box::new(other)),
    }
}

/// `a + b`, simplified.
pub fn add(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Num(x), Expr::Num(y)) => Expr::Num(x + y),
        (Expr::Num(z), b) if z == 0.0 => b,
        (a, Expr::Num(z)) if z == 0.0 => a,
        (a, Expr::Neg(b)) => sub(a, *b),
        (a, Expr::Num(y)) if y < 0.0 => sub(a, Expr::Num(-y)),
        (a, b) => Expr::bin(BinOp::Add, a, b),
    }
}

/// `a - b`, simplified.
pub fn sub(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Num(x), Expr::Num(y)) => Expr::Num(x - y),
        (a, Expr::Num(z)) if z == 0.0 => a,
        (Expr::Num(z), b) if z == 0.0 => neg(b),
        (a, b) if a == b => Expr::Num(0.0),
        (a, Expr::Neg(b)) => add(a, *b),
        (a, b) => Expr::bin(BinOp::Sub, a, b),
    }
}

/// `a * b`, simplified: numeric factors are gathered in front.
pub fn mul(a: Expr, b: Expr) -> Expr {
    let (ca, ra) = split_coeff(a);
    let (cb, rb) = split_coeff(b);
    let c = ca * cb;
    if c == 0.0 {
        return Expr::Num(0.0);
    }
    let rest = match (ra, rb) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x),
        // a·(1/b) = a/b
        (Some(x), Some(Expr::Bin(BinOp::Div, one, d))) if one.as_num() == Some(1.0) => {
            Some(Expr::Bin(BinOp::Div, Box::new(x), d))
        }
        (Some(Expr::Bin(BinOp::Div, one, d)), Some(y)) if one.as_num() == Some(1.0) => {
            Some(Expr::Bin(BinOp::Div, Box::new(y), d))
        }
        (Some(x), Some(y)) => Some(Expr::bin(BinOp::Mul, x, y)),
    };
    with_coeff(c, rest)
}

/// `a / b`, simplified.
pub fn div(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Num(x), Expr::Num(y)) if y != 0.0 && (x / y) * y == x => Expr::Num(x / y),
        (Expr::Num(z), _) if z == 0.0 => Expr::Num(0.0),
        (a, Expr::Num(o)) if o == 1.0 => a,
        (a, Expr::Num(o)) if o == -1.0 => neg(a),
        (Expr::Num(c), b) if c < 0.0 => Expr::bin(BinOp::Div, neg(Expr::Num(-c)), b),
        (a, b) => Expr::bin(BinOp::Div, a, b),
    }
}

/// `a ^ b`, simplified.
pub fn pow(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (_, Expr::Num(z)) if z == 0.0 => Expr::Num(1.0),
        (a, Expr::Num(o)) if o == 1.0 => a,
        (Expr::Num(x), Expr::Num(y)) if x.powf(y).fract() == 0.0 && x.powf(y).abs() < 1e15 => {
            Expr::Num(x.powf(y))
        }
        (a, b) => Expr::bin(BinOp::Pow, a, b),
    }
}

/// `f(args)`; calls are kept as written.
pub fn call(f: Func, args: Vec<Expr>) -> Expr {
    Expr::Call(f, args)
}

/// The expression rebuilt through the simplifying constructors.
pub fn simplify(e: &Expr) -> Expr {
    match e {
        Expr::Num(x) => Expr::Num(*x),
        Expr::Var(s) => Expr::Var(*s),
        Expr::Neg(a) => neg(simplify(a)),
        Expr::Bin(op, a, b) => {
            let (a, b) = (simplify(a), simplify(b));
            match op {
                BinOp::Add => add(a, b),
                BinOp::Sub => sub(a, b),
                BinOp::Mul => mul(a, b),
                BinOp::Div => div(a, b),
                BinOp::Pow => pow(a, b),
            }
        }
        Expr::Call(f, args) => call(*f, args.iter().map(simplify).collect()),
    }
}
