//! From text to a checked [`Network`]: the pest parser of
//! `grammar/chainrule.pest`, the conversion of its errors into
//! [`Diagnostic`]s, and the expression reader shared by network files and
//! answers files. No pest type leaves this module and `lower`.

mod answers;
mod formula;
mod limits;
mod lower;

use std::cell::RefCell;
use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::expr::{self, BinOp, Expr, Func, Sym};
use crate::model::Network;

pub use answers::{parse_answers, parse_quantity};
pub use formula::{parse_formula, quantity_names, resolve_quantity};
pub use limits::{
    solution_work, MAX_DEPTH, MAX_EXPANDED_SIZE, MAX_EXPANDED_TOTAL, MAX_OUTPUT_BYTES, MAX_TERMS,
    MAX_TRAIN_WORK, MAX_WORK,
};
pub use lower::lower;

/// The widest layer or vector accepted.
pub const MAX_LAYER_WIDTH: usize = lower::MAX_LAYER_WIDTH;

/// The name in `names` closest to `name`, if one is close enough to suggest.
pub fn closest_name<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    lower::closest(name, names.iter().copied())
}

mod generated {
    // The grammar's rules are documented in the grammar file itself.
    #![allow(missing_docs)]
    /// The pest parser generated from the grammar.
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/chainrule.pest"]
    pub(crate) struct NnParser;
}
pub(crate) use generated::{NnParser, Rule};

/// Deepest nesting of parentheses accepted; deeper input is refused with a
/// located error instead of exhausting the stack.
pub const MAX_NESTING: usize = 256;

/// Largest source text accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64 << 20;

/// Parses and checks a network file. `file` is the name used in messages.
pub fn parse_network(file: &str, src: &str) -> Result<Network, Diagnostics> {
    let pair = parse_rule(Rule::file, src).map_err(|d| Diagnostics::new(file, src, vec![d]))?;
    lower(pair, src).map_err(|items| Diagnostics::new(file, src, items))
}

/// Runs the pest rule `rule` over all of `src`, after the checks that keep
/// the parser within its stack.
pub(crate) fn parse_rule(rule: Rule, src: &str) -> Result<Pair<'_, Rule>, Diagnostic> {
    precheck(src)?;
    pest::set_call_limit(Some(
        std::num::NonZeroUsize::new(50_000_000).expect("nonzero"),
    ));
    let mut pairs = NnParser::parse(rule, src).map_err(|e| {
        if stopped_inside_statement(&e, src) {
            if let Some(d) = detailed_error(rule, src) {
                return d;
            }
        }
        from_pest(&e, src)
    })?;
    pairs
        .next()
        .ok_or_else(|| Diagnostic::new(Span::new(0, 0), "empty parse (this is a bug in chainrule)"))
}

/// Refuses what would make the recursive-descent parser too deep, or that
/// is not text: NUL bytes and parentheses nested past [`MAX_NESTING`].
fn precheck(src: &str) -> Result<(), Diagnostic> {
    if src.len() > MAX_SOURCE_BYTES {
        return Err(Diagnostic::new(
            Span::new(0, 0),
            format!(
                "the file is {} bytes, more than the limit of {} bytes",
                src.len(),
                MAX_SOURCE_BYTES
            ),
        ));
    }
    let mut depth = 0usize;
    let mut in_comment = false;
    let mut in_string = false;
    let mut escaped = false;
    let bytes = src.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == 0 {
            // In a comment too: NUL is never text.
            let mut d = Diagnostic::new(Span::new(i, i + 1), "NUL byte in the text");
            let nuls = bytes.iter().take(64).filter(|&&b| b == 0).count();
            if nuls * 4 >= bytes.len().min(64) {
                d = d.with_note("the file looks like UTF-16; save it as UTF-8");
            }
            return Err(d);
        }
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'\n' | b'\r' => in_comment = false,
            _ if in_comment => {}
            b'#' => in_comment = true,
            // Parentheses in a title are text, not nesting.
            b'"' => in_string = true,
            b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::new(
                        Span::new(i, i + 1),
                        format!("parentheses nested more than {MAX_NESTING} deep"),
                    )
                    .with_note("split the expression with a user function (`fn`)"));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Words for what the parser expected, by rule.
fn describe(rule: &Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::statement
        | Rule::network_stmt
        | Rule::input_stmt
        | Rule::param_stmt
        | Rule::const_stmt
        | Rule::fn_stmt
        | Rule::layer_stmt
        | Rule::target_stmt
        | Rule::loss_stmt
        | Rule::rate_stmt
        | Rule::init_stmt
        | Rule::kw_init
        | Rule::data_stmt
        | Rule::batch_stmt
        | Rule::kw_data
        | Rule::kw_batch
        | Rule::kw_network
        | Rule::kw_input
        | Rule::kw_param
        | Rule::kw_const
        | Rule::kw_fn
        | Rule::kw_layer
        | Rule::kw_target
        | Rule::kw_loss
        | Rule::kw_rate
        | Rule::optimizer_stmt
        | Rule::weight_decay_stmt
        | Rule::kw_optimizer
        | Rule::kw_weight_decay
        | Rule::l2_stmt
        | Rule::kw_l2 => {
            "a statement (`network`, `input`, `param`, `const`, `fn`, `layer`, `target`, `loss`, `rate`, `init`, `data`, `batch`, `optimizer`, `weight_decay` or `l2`)"
        }
        Rule::kw_on => "`on` and the params of the L2 term",
        Rule::l2_names | Rule::name_glob => "param names or globs like `w*`",
        Rule::optimizer_args => "the optimizer's numbers, like `(0.9, 0.999, 1e-8)`",
        Rule::size => "a size like `[3]`",
        Rule::integer => "a whole number",
        Rule::vector => "a vector like `[0.1, 0.5]`",
        Rule::layer_body => "`{` and the layer's neurons",
        Rule::dense | Rule::kw_dense => "`{` or `dense`",
        Rule::kw_seed => "`seed`",
        Rule::data_body | Rule::data_row | Rule::data_nums => "data rows",
        Rule::data_header | Rule::data_names => "the names of a data block's columns",
        Rule::data_space => "white space",
        Rule::assignment => "`name = number`",
        Rule::ident => "a name",
        Rule::number | Rule::signed_number => "a number",
        Rule::string | Rule::string_inner => "a quoted title",
        Rule::activation => "an activation",
        Rule::neuron => "a neuron line like `h1 = w1*i1 + b1`",
        Rule::fn_params => "argument names",
        Rule::custom_loss => "a loss (`mse`, `mse_mean`, `sse`, `bce`, `ce`) or `E = expression`",
        Rule::expr | Rule::expr_only | Rule::call | Rule::neg => "an expression",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow | Rule::infix => "an operator",
        Rule::prefix | Rule::primary => "an expression",
        Rule::claim_line | Rule::claim => "a claim like `net_h1 = 0.3775`",
        Rule::quantity | Rule::quantity_only | Rule::partial | Rule::delta | Rule::updated => {
            "a quantity (`net_h1`, `dE_total/dw5`, `w5+`)"
        }
        Rule::equals => "`=`",
        Rule::d_sign => "`d` or `∂`",
        Rule::slash => "`/`",
        Rule::update_mark => "`+`",
        Rule::file => "a statement",
        Rule::WHITESPACE | Rule::COMMENT | Rule::ident_char => "white space",
    }
}

/// Turns a pest error into a diagnostic that says, in words, what was
/// expected and what was found.
fn from_pest(e: &pest::error::Error<Rule>, src: &str) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let found = found_at(src, pos);
    let message = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let words = expected_words(positives, &Context::at(src, pos));
            if words.is_empty() {
                format!("unexpected {}", found.0)
            } else {
                format!("expected {}, found {}", join_or(&words), found.0)
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    Diagnostic::new(Span::new(pos, pos + found.1), message)
}

/// What the parser expected at a place, in words. pest names only rules,
/// so the closing `}` or `)` and a call's `,` are added from the context.
fn expected_words(positives: &[Rule], ctx: &Context<'_>) -> Vec<&'static str> {
    let is_op = |r: &Rule| {
        matches!(
            r,
            Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow | Rule::infix
        )
    };
    let has_op = positives.iter().any(is_op);
    // A number or a name where an expression may start is just that.
    let has_expr = positives.iter().any(|r| {
        matches!(
            r,
            Rule::expr | Rule::neg | Rule::prefix | Rule::primary | Rule::call
        )
    });
    let mut words: Vec<&'static str> = Vec::new();
    let mut push = |w: &'static str| {
        if !words.contains(&w) && w != "white space" {
            words.push(w);
        }
    };
    for r in positives {
        let w = match r {
            Rule::number | Rule::ident if has_expr => "an expression",
            // After a complete net input, a name starts the next neuron.
            Rule::ident if has_op && ctx.in_block => "a new neuron line",
            Rule::ident => match ctx.last_words {
                [_, "loss"] => describe(&Rule::custom_loss),
                [_, "layer"] => "a layer name",
                ["layer", _] => "an activation (`sigmoid`, `tanh`, `relu`, …)",
                _ => describe(r),
            },
            r => describe(r),
        };
        push(w);
    }
    let closes_block = positives.contains(&Rule::neuron) || has_op;
    if has_op && !ctx.parens.is_empty() {
        if ctx.parens.last() == Some(&true) {
            push("`,`");
        }
        push("`)`");
    } else if closes_block && ctx.in_block {
        push("`}`");
    }
    words
}

/// Where a byte offset is in the text: inside a layer's `{ … }`, inside
/// which parentheses, and after which words.
struct Context<'s> {
    in_block: bool,
    /// Open parentheses, innermost last: `true` for a call's arguments.
    parens: Vec<bool>,
    /// The last two words before the place (`""` when there are fewer).
    last_words: [&'s str; 2],
}

impl<'s> Context<'s> {
    fn at(src: &'s str, pos: usize) -> Context<'s> {
        let head = src.get(..pos).unwrap_or(src);
        let bytes = head.as_bytes();
        let mut ctx = Context {
            in_block: false,
            parens: Vec::new(),
            last_words: ["", ""],
        };
        let mut prev = b' ';
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'{' | b'}' => {
                    ctx.in_block = b == b'{';
                    ctx.parens.clear();
                }
                b'(' => ctx
                    .parens
                    .push(prev.is_ascii_alphanumeric() || prev == b'_'),
                b')' => {
                    ctx.parens.pop();
                }
                _ => {}
            }
            if !b.is_ascii_whitespace() {
                prev = b;
            }
            i += 1;
        }
        // The last two words, without comments.
        let mut words = head
            .lines()
            .rev()
            .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace().rev());
        let last = words.next().unwrap_or("");
        ctx.last_words = [words.next().unwrap_or(""), last];
        ctx
    }
}

/// Whether pest blames the start of a statement that is there: it does so
/// when the statement stopped at a literal token (`(`, `=`, `{` …), which
/// its ordinary errors do not track.
fn stopped_inside_statement(e: &pest::error::Error<Rule>, src: &str) -> bool {
    use pest::error::{ErrorVariant, InputLocation};
    let ErrorVariant::ParsingError { positives, .. } = &e.variant else {
        return false;
    };
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let statement_level = positives
        .iter()
        .all(|r| matches!(r, Rule::file | Rule::EOI) || describe(r) == describe(&Rule::statement));
    let word = src
        .get(pos..)
        .unwrap_or("")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    statement_level && lower::KEYWORDS.contains(&word)
}

/// Parses again with pest's error detail, which records the furthest place
/// reached and the literal tokens expected there. Only done for an error:
/// the detail makes parsing slower, and its switch is global, hence the lock.
fn detailed_error(rule: Rule, src: &str) -> Option<Diagnostic> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let attempts = {
        let _guard = DETAIL.lock().unwrap_or_else(|e| e.into_inner());
        pest::set_error_detail(true);
        let result = NnParser::parse(rule, src);
        pest::set_error_detail(false);
        result.err()?.parse_attempts()?
    };
    let pos = attempts.max_position.min(src.len());
    let mut words: Vec<String> = Vec::new();
    let mut statement = false;
    for token in attempts.expected_tokens().iter().map(|t| t.to_string()) {
        match token.as_str() {
            "(" | ")" | "{" | "}" | "=" | "," | "\"" => words.push(format!("`{token}`")),
            t if lower::KEYWORDS.contains(&t) => statement = true,
            _ => {}
        }
    }
    if statement {
        words.push(describe(&Rule::statement).to_string());
    }
    if words.is_empty() {
        return None;
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let found = found_at(src, pos);
    Some(Diagnostic::new(
        Span::new(pos, pos + found.1),
        format!("expected {}, found {}", join_or(&words), found.0),
    ))
}

/// A description of the token at `pos` and its length in bytes.
fn found_at(src: &str, pos: usize) -> (String, usize) {
    let rest = src.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".to_string(), 0);
    }
    let len = if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
        rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.'))
            .unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    (format!("`{}`", &rest[..len]), len)
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn join_or(words: &[&str]) -> String {
    join_with(words, "or")
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_and(words: &[&str]) -> String {
    join_with(words, "and")
}

fn join_with(words: &[&str], conj: &str) -> String {
    match words {
        [] => String::new(),
        [a] => a.to_string(),
        [init @ .., last] => format!("{} {conj} {}", init.join(", "), last),
    }
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
        .op(Op::infix(Rule::pow, Assoc::Right))
});

/// What a name or a call in an expression means, in the context at hand.
pub(crate) trait Resolver {
    /// The symbol `name` stands for, or a diagnostic at `span`.
    fn name(&self, name: &str, span: Span) -> Result<Sym, Diagnostic>;
    /// The function `name` with `argc` arguments, or a diagnostic at `span`.
    fn func(&self, name: &str, argc: usize, span: Span) -> Result<Func, Diagnostic>;
}

/// Reads an `expr` pair into an [`Expr`]. Every problem is pushed to
/// `errors`; the result is then meaningless but still a tree.
///
/// An expression with more than [`MAX_TERMS`] terms, or a term nested more
/// than [`MAX_DEPTH`] deep, is refused before its tree is built.
pub(crate) fn read_expr(
    pair: Pair<'_, Rule>,
    res: &dyn Resolver,
    errors: &mut Vec<Diagnostic>,
) -> Expr {
    let shape = limits::shape(&pair);
    if shape.terms > MAX_TERMS {
        errors.push(Diagnostic::new(
            Span::of(pair.as_span()),
            format!(
                "the expression adds up {} terms, more than the limit of {MAX_TERMS}",
                shape.terms
            ),
        ));
        return Expr::Num(0.0);
    }
    if shape.depth > MAX_DEPTH {
        errors.push(
            Diagnostic::new(
                shape.deepest,
                format!(
                    "this term is nested {} levels deep, more than the limit of {MAX_DEPTH}",
                    shape.depth
                ),
            )
            .with_note(
                "each operator, function call and unary minus that a term of a sum is inside is one level",
            ),
        );
        return Expr::Num(0.0);
    }
    let errs = RefCell::new(std::mem::take(errors));
    let e = read_expr_inner(pair, res, &errs);
    *errors = errs.into_inner();
    e
}

fn read_expr_inner(
    pair: Pair<'_, Rule>,
    res: &dyn Resolver,
    errs: &RefCell<Vec<Diagnostic>>,
) -> Expr {
    PRATT
        .map_primary(|p| read_primary(p, res, errs))
        .map_prefix(|_op, a| match a {
            // A literal with a minus is a negative number: `-3` → Num(−3).
            Expr::Num(x) => Expr::Num(-x),
            a => Expr::Neg(Box::new(a)),
        })
        .map_infix(|a, op, b| {
            let op = match op.as_rule() {
                Rule::add => BinOp::Add,
                Rule::sub => BinOp::Sub,
                Rule::mul => BinOp::Mul,
                Rule::div => BinOp::Div,
                _ => BinOp::Pow,
            };
            Expr::bin(op, a, b)
        })
        .parse(pair.into_inner())
}

fn read_primary(p: Pair<'_, Rule>, res: &dyn Resolver, errs: &RefCell<Vec<Diagnostic>>) -> Expr {
    let span = Span::of(p.as_span());
    match p.as_rule() {
        Rule::number => match read_number(p.as_str(), span) {
            Ok(x) => Expr::Num(x),
            Err(d) => {
                errs.borrow_mut().push(d);
                Expr::Num(0.0)
            }
        },
        Rule::ident => match res.name(p.as_str(), span) {
            Ok(s) => Expr::Var(s),
            Err(d) => {
                errs.borrow_mut().push(d);
                Expr::Num(0.0)
            }
        },
        Rule::call => {
            let mut inner = p.into_inner();
            let name = inner.next().expect("call has a name");
            let args: Vec<Expr> = inner.map(|a| read_expr_inner(a, res, errs)).collect();
            let nspan = Span::of(name.as_span());
            match res.func(name.as_str(), args.len(), nspan) {
                Ok(f) => expr::call(f, args),
                Err(d) => {
                    errs.borrow_mut().push(d);
                    Expr::Num(0.0)
                }
            }
        }
        Rule::expr => read_expr_inner(p, res, errs),
        _ => {
            errs.borrow_mut().push(Diagnostic::new(
                span,
                "unexpected expression part (this is a bug in chainrule)",
            ));
            Expr::Num(0.0)
        }
    }
}

/// A number literal as f64; refuses literals that overflow.
pub(crate) fn read_number(text: &str, span: Span) -> Result<f64, Diagnostic> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(Diagnostic::new(
            span,
            format!("the number `{text}` is too large for a 64-bit float"),
        )),
    }
}

/// Parses a standalone expression with the names of `res` (plain printer
/// round trips, formulas of answers files).
pub(crate) fn parse_expr_with(src: &str, res: &dyn Resolver) -> Result<Expr, Vec<Diagnostic>> {
    let pair = parse_rule(Rule::expr_only, src).map_err(|d| vec![d])?;
    let expr_pair = pair
        .into_inner()
        .next()
        .ok_or_else(|| vec![Diagnostic::new(Span::new(0, 0), "expected an expression")])?;
    let mut errors = Vec::new();
    let e = read_expr(expr_pair, res, &mut errors);
    if errors.is_empty() {
        Ok(e)
    } else {
        Err(errors)
    }
}
