//! The words of `chainrule check`'s verdicts, in one place so that they can
//! be reviewed (and, later, translated) together.

use super::mistake::Mistake;

/// The message of a right claim.
pub(crate) const RIGHT: &str = "right";

/// The message of a wrong formula that fits no known mistake.
pub(crate) const NOT_EQUAL: &str = "not equal to the derived formula";

/// `expected 0.082167041`
pub(crate) fn expected(value: &str) -> String {
    format!("expected {value}")
}

/// `expected -(target_o1 - out_o1)*… = 0.082167041`
pub(crate) fn expected_formula(formula: &str, value: &str) -> String {
    format!("expected {formula} = {value}")
}

/// What a wrong formula gives at the network's values.
pub(crate) fn formula_gives(value: &str) -> String {
    format!("your formula gives {value} here")
}

/// A formula that is not a number at the network's values.
pub(crate) const FORMULA_NAN: &str = "your formula is not a number at the network's values";

/// `the sign is flipped (that gives -0.082167041)`
pub(crate) fn gives(mistake: &str, value: &str) -> String {
    format!("{mistake} (that gives {value})")
}

/// Names a formula uses that the quantity cannot depend on.
pub(crate) fn unrelated(names: &[String], quantity: &str) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let list = match list.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => list.concat(),
    };
    format!("it uses {list}, which {quantity} cannot depend on")
}

/// The likely mistake, in words. `neuron` is the neuron the mistake
/// concerns, when there is one (`o1`).
pub(crate) fn mistake(m: Mistake, neuron: Option<&str>) -> String {
    match (m, neuron) {
        (Mistake::ForgotHalf, _) => "the ½ of E = ½(target − out)² was left out".to_string(),
        (Mistake::SignFlip, Some(k)) => {
            format!("the sign of ∂E_{k}/∂out_{k} is flipped (it is −(target − out))")
        }
        (Mistake::SignFlip, None) => "the sign is flipped".to_string(),
        (Mistake::MissingActivationDerivative, _) => {
            "the activation derivative ∂out/∂net was left out of the chain".to_string()
        }
        (Mistake::NetForOut, _) => "net was used where out belongs".to_string(),
        (Mistake::SingleOutputSum, Some(k)) => format!(
            "the hidden gradient went through {k} only; it sums over every output the neuron feeds"
        ),
        (Mistake::SingleOutputSum, None) => {
            "the hidden gradient went through one output only; it sums over every output the neuron feeds"
                .to_string()
        }
        (Mistake::EarlyUpdate, _) => "the output-layer weights were updated before the hidden \
gradients were taken; every gradient uses the original weights"
            .to_string(),
        (Mistake::MissingBias, _) => "the bias was left out of the net input".to_string(),
        (Mistake::AddedUpdate, _) => {
            "the update was added; it is p⁺ = p − η·∂E_total/∂p".to_string()
        }
        (Mistake::MissingRate, _) => {
            "the learning rate η was left out of the update p⁺ = p − η·∂E_total/∂p".to_string()
        }
        (Mistake::DerivativeOfNet, _) => {
            "∂out/∂net was taken at net instead of out: σ′ is out(1 − out), not net(1 − net)"
                .to_string()
        }
        (Mistake::CarriedForward, _) => "it follows from an earlier value".to_string(),
        (Mistake::NotUpdated, _) => "this is the value before the update".to_string(),
        (Mistake::Arithmetic, _) => "a slip in the arithmetic".to_string(),
        (Mistake::OutForDerivative, _) => {
            "∂out/∂net was taken as out; for a sigmoid it is out(1 − out)".to_string()
        }
        (Mistake::AddedFactors, _) => {
            "the factors of the chain rule were added; they are multiplied".to_string()
        }
        (Mistake::WrongNeuron, Some(k)) => format!("this is the value of {k}"),
        (Mistake::WrongNeuron, None) => {
            "this is the value of a neighbouring neuron or weight".to_string()
        }
        (Mistake::BiasCorrectionForgotten, _) => {
            "the bias corrections were left out: m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ)".to_string()
        }
        (Mistake::BetasSwapped, _) => {
            "β and 1 − β were swapped: m = β₁·m + (1 − β₁)·g, v = β₂·v + (1 − β₂)·g²".to_string()
        }
        (Mistake::EpsilonInsideSqrt, _) => {
            "ε went inside the square root; it is added after: m̂/(√v̂ + ε)".to_string()
        }
        (Mistake::L2Forgotten, _) => {
            "the L2 term was left out: E_total has ½λΣp², and ∂E_total/∂p has λ·p".to_string()
        }
        (Mistake::L2Factor, _) => {
            "the L2 term's ½ and the 2 of p² cancel: ∂(½λp²)/∂p = λ·p".to_string()
        }
        (Mistake::RawGradientUpdate, _) => {
            "the update used the raw gradient, p − η·g; Adam steps by η·m̂/(√v̂ + ε)".to_string()
        }
    }
}

/// A gradient between hidden layers taken through one neuron `k` only.
pub(crate) fn single_next(k: &str) -> String {
    format!(
        "the hidden gradient went through {k} only; it sums over every neuron of the next layer"
    )
}

/// A param written as before the update.
pub(crate) fn not_updated(
    quantity: &str,
    before: &str,
    by: &str,
    after: &str,
    places: usize,
    shown: &str,
) -> String {
    format!(
        "not updated: {quantity} was {before} before the update, which moves it by {by} to \
{after}; {places} decimals ({shown}) show the update"
    )
}

/// A link of a chain that does not follow from the one before it.
pub(crate) fn arithmetic(link: &str, value: &str, next: &str) -> String {
    format!("a slip in the arithmetic: `{link}` is {value}, not {next}")
}

/// A right number too short to tell the answer from a known mistake.
pub(crate) fn more_digits(code: &str, value: &str, written: &str) -> String {
    format!("right; give more digits: the mistake `{code}` gives {value}, which also rounds to {written}")
}

/// A line that cannot be read.
pub(crate) fn unreadable(col: usize, why: &str, how: &str) -> String {
    format!("cannot read this line (column {col}): {why}; {how}")
}

/// Carried forward from line `line`: `wrong_there` says whether that value
/// was wrong or only rounded.
pub(crate) fn carried(line: usize, wrong_there: bool) -> String {
    if wrong_there {
        format!("this step is right for your value on line {line}, which is wrong")
    } else {
        format!("this step is right for your rounded value on line {line}; keep more digits")
    }
}

/// A mistake made on top of the student's own value from line `line`.
pub(crate) fn with_carried(mistake: &str, line: usize) -> String {
    format!("{mistake}, with your value from line {line}")
}

/// The summary line: `7 right, 1 wrong, 10 right for your earlier value,
/// 1 unreadable`.
pub(crate) fn summary(right: usize, wrong: usize, carried: usize, unreadable: usize) -> String {
    let mut s = match (right, wrong, carried, unreadable) {
        (r, 0, 0, 0) => return format!("all {r} right"),
        (r, w, _, _) => format!("{r} right, {w} wrong"),
    };
    if carried > 0 {
        s.push_str(&format!(", {carried} right for your earlier value"));
    }
    if unreadable > 0 {
        s.push_str(&format!(", {unreadable} unreadable"));
    }
    s
}

/// A claim of several samples judged against the sample its number fits.
pub(crate) fn judged_as_sample(k: usize) -> String {
    format!("judged as sample {k}; put the values of one sample under a `Sample {k}` heading")
}

/// A combined quantity given as the sum over the samples.
pub(crate) const BATCH_SUM: &str =
    "this is the sum over the samples; the batch's E_total and gradients are their mean";

/// A combined quantity given as one sample's value.
pub(crate) fn one_sample(k: usize) -> String {
    format!("this is sample {k}'s value; the batch combines every sample")
}

/// A combined quantity that fits nothing known.
pub(crate) const BATCH: &str =
    "outside a `Sample K` heading, E_total, its gradients and the updates are the batch's";
