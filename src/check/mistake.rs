//! The known mistakes of hand derivations, each with a stable code, and the
//! variants of the computation that reproduce them.

use super::graph::{is_bias, ActMode, UpdateRule, Variant};
use crate::model::claim::Quantity;
use crate::model::{Activation, Loss, Network};

/// A known mistake. The codes ([`Mistake::code`]) are stable: grading
/// scripts read them from the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mistake {
    /// The ½ of E = ½(target − out)² left out.
    ForgotHalf,
    /// The sign flipped (∂E/∂out taken as target − out, or the result negated).
    SignFlip,
    /// ∂out/∂net left out of the chain.
    MissingActivationDerivative,
    /// net used where out belongs.
    NetForOut,
    /// A hidden gradient taken through only one of the outputs it feeds.
    SingleOutputSum,
    /// Output-layer weights updated before the hidden gradients were taken.
    EarlyUpdate,
    /// The bias left out of the net input.
    MissingBias,
    /// The update added: p + η·g.
    AddedUpdate,
    /// The learning rate left out of the update: p − g.
    MissingRate,
    /// σ′ taken as net(1 − net).
    DerivativeOfNet,
    /// Right for the student's own earlier wrong value.
    CarriedForward,
    /// A param (or E_total) written as it was before the update, or the
    /// update too small to show at the digits written.
    NotUpdated,
    /// A link of a chain of working that does not follow from the one
    /// before it (`0.7414 * 0.1868 * 0.5933 = 0.0862`).
    Arithmetic,
    /// out used where out(1 − out) belongs in ∂out/∂net.
    OutForDerivative,
    /// The factors of the chain rule added instead of multiplied.
    AddedFactors,
    /// The value of a sibling neuron or weight (out_h2 for out_h1,
    /// ∂E_total/∂w6 for ∂E_total/∂w5).
    WrongNeuron,
    /// Adam's m and v used without their bias corrections.
    BiasCorrectionForgotten,
    /// β and 1 − β swapped in Adam's moments.
    BetasSwapped,
    /// ε inside the square root of Adam's update: √(v̂ + ε).
    EpsilonInsideSqrt,
    /// The optimizer's update applied with the raw gradient: p − η·g.
    RawGradientUpdate,
    /// The L2 term ½λΣp² left out of E_total, and its λ·p out of the gradient.
    L2Forgotten,
    /// The L2 term's ½ and the 2 of p² not cancelled: 2λ·p (or λ·p/2) in
    /// the gradient.
    L2Factor,
}

impl Mistake {
    /// Every mistake, in the order diagnoses are tried.
    pub const ALL: [Mistake; 22] = [
        Mistake::CarriedForward,
        Mistake::ForgotHalf,
        Mistake::SignFlip,
        Mistake::MissingActivationDerivative,
        Mistake::NetForOut,
        Mistake::SingleOutputSum,
        Mistake::EarlyUpdate,
        Mistake::MissingBias,
        Mistake::AddedUpdate,
        Mistake::MissingRate,
        Mistake::DerivativeOfNet,
        Mistake::NotUpdated,
        Mistake::Arithmetic,
        Mistake::OutForDerivative,
        Mistake::AddedFactors,
        Mistake::WrongNeuron,
        Mistake::BiasCorrectionForgotten,
        Mistake::BetasSwapped,
        Mistake::EpsilonInsideSqrt,
        Mistake::RawGradientUpdate,
        Mistake::L2Forgotten,
        Mistake::L2Factor,
    ];

    /// The stable code (`forgot_half`, `sign_flip`, …).
    pub fn code(self) -> &'static str {
        match self {
            Mistake::ForgotHalf => "forgot_half",
            Mistake::SignFlip => "sign_flip",
            Mistake::MissingActivationDerivative => "missing_activation_derivative",
            Mistake::NetForOut => "net_for_out",
            Mistake::SingleOutputSum => "single_output_sum",
            Mistake::EarlyUpdate => "early_update",
            Mistake::MissingBias => "missing_bias",
            Mistake::AddedUpdate => "added_update",
            Mistake::MissingRate => "missing_rate",
            Mistake::DerivativeOfNet => "derivative_of_net",
            Mistake::CarriedForward => "carried_forward",
            Mistake::NotUpdated => "not_updated",
            Mistake::Arithmetic => "arithmetic",
            Mistake::OutForDerivative => "out_for_derivative",
            Mistake::AddedFactors => "added_factors",
            Mistake::WrongNeuron => "wrong_neuron",
            Mistake::BiasCorrectionForgotten => "bias_correction_forgotten",
            Mistake::BetasSwapped => "betas_swapped",
            Mistake::EpsilonInsideSqrt => "epsilon_inside_sqrt",
            Mistake::RawGradientUpdate => "raw_gradient_update",
            Mistake::L2Forgotten => "l2_forgotten",
            Mistake::L2Factor => "l2_factor",
        }
    }
}

/// One way of reproducing a mistake.
pub(crate) struct Candidate {
    /// The mistake.
    pub(crate) mistake: Mistake,
    /// The neuron it concerns, when it is about one (the output of
    /// `single_output_sum`).
    pub(crate) neuron: Option<u32>,
    /// The computation with the mistake; `None` for the negated result.
    pub(crate) variant: Option<Variant>,
    /// The one layer the mistake is made in, when it is in one layer only
    /// (of several).
    pub(crate) layer: Option<usize>,
}

impl Candidate {
    /// Whether this candidate can explain a wrong value of `q`.
    pub(crate) fn applies_to(&self, q: Quantity) -> bool {
        let update = matches!(q, Quantity::Updated(_) | Quantity::After(_));
        let state = matches!(q, Quantity::State(..));
        match self.mistake {
            Mistake::AddedUpdate | Mistake::MissingRate => update,
            Mistake::BiasCorrectionForgotten | Mistake::BetasSwapped => update || state,
            Mistake::EpsilonInsideSqrt | Mistake::RawGradientUpdate => update,
            // A flipped ∂E/∂out shows in partials; a flipped update is
            // `added_update`.
            Mistake::SignFlip => self.variant.is_none() || matches!(q, Quantity::Partial { .. }),
            _ => true,
        }
    }
}

/// The candidates for `net`, in the order diagnoses are tried.
pub(crate) fn candidates(net: &Network) -> Vec<Candidate> {
    let layers = net.layers.len();
    let outputs: Vec<u32> = net.outputs().collect();
    let mut out = Vec::new();
    let mut push = |mistake, neuron, variant: Option<Variant>| {
        let layer = variant.as_ref().and_then(|v| single_layer(v, layers));
        out.push(Candidate {
            mistake,
            neuron,
            variant,
            layer,
        })
    };
    // Layer sets: all layers, then each one alone (when there are several).
    let layer_sets = |relevant: &dyn Fn(usize) -> bool| -> Vec<Vec<bool>> {
        let chosen: Vec<usize> = (0..layers).filter(|&l| relevant(l)).collect();
        let mut sets = Vec::new();
        if chosen.is_empty() {
            return sets;
        }
        sets.push((0..layers).map(|l| chosen.contains(&l)).collect());
        if chosen.len() > 1 {
            for &l in &chosen {
                sets.push((0..layers).map(|m| m == l).collect());
            }
        }
        sets
    };
    let v = Variant::default;

    if net.loss == Loss::Mse {
        for (value, deriv) in [(true, true), (false, true), (true, false)] {
            let variant = Variant {
                value_loss: value.then_some(Loss::Sse),
                deriv_loss: deriv.then_some(Loss::Sse),
                ..v()
            };
            push(Mistake::ForgotHalf, None, Some(variant));
        }
    }

    if net.l2.is_some() {
        use super::graph::L2Mode;
        push(
            Mistake::L2Forgotten,
            None,
            Some(Variant {
                l2: L2Mode::Off,
                ..v()
            }),
        );
        for scale in [2.0, 0.5] {
            push(
                Mistake::L2Factor,
                None,
                Some(Variant {
                    l2: L2Mode::Scaled(scale),
                    ..v()
                }),
            );
        }
    }

    push(Mistake::SignFlip, None, None);
    push(
        Mistake::SignFlip,
        None,
        Some(Variant {
            flipped: outputs.clone(),
            ..v()
        }),
    );
    if outputs.len() > 1 {
        for &k in &outputs {
            push(
                Mistake::SignFlip,
                Some(k),
                Some(Variant {
                    flipped: vec![k],
                    ..v()
                }),
            );
        }
    }

    let elementwise = |l: usize| net.layers[l].activation != Activation::Identity;
    for set in layer_sets(&elementwise) {
        let act = set
            .iter()
            .map(|&on| if on { ActMode::One } else { ActMode::Textbook })
            .collect();
        push(
            Mistake::MissingActivationDerivative,
            None,
            Some(Variant { act, ..v() }),
        );
    }

    for variant in [
        Variant {
            net_in_factors: true,
            ..v()
        },
        Variant {
            net_in_loss: true,
            ..v()
        },
        Variant {
            net_in_factors: true,
            net_in_loss: true,
            ..v()
        },
    ] {
        push(Mistake::NetForOut, None, Some(variant));
    }
    for set in layer_sets(&elementwise) {
        push(
            Mistake::NetForOut,
            None,
            Some(Variant {
                out_is_net: set,
                ..v()
            }),
        );
    }

    if outputs.len() > 1 && layers > 1 {
        for &k in &outputs {
            push(
                Mistake::SingleOutputSum,
                Some(k),
                Some(Variant {
                    single_output: Some(k),
                    ..v()
                }),
            );
        }
    }

    // Between hidden layers: through one neuron of the next layer only.
    if layers > 2 {
        for li in 1..layers - 1 {
            let layer = &net.layers[li];
            if layer.neurons.len() < 2 {
                continue;
            }
            for k in layer.neurons.clone() {
                push(
                    Mistake::SingleOutputSum,
                    Some(k),
                    Some(Variant {
                        single_via: Some(k),
                        ..v()
                    }),
                );
            }
        }
    }

    if layers > 1 {
        push(
            Mistake::EarlyUpdate,
            None,
            Some(Variant {
                early_update: true,
                ..v()
            }),
        );
    }

    let has_bias = |l: usize| {
        net.layers[l].neurons.clone().any(|n| {
            net.neurons[n as usize]
                .net
                .additive_terms()
                .iter()
                .any(|(_, t)| is_bias(t, &net.functions))
        })
    };
    for set in layer_sets(&has_bias) {
        push(
            Mistake::MissingBias,
            None,
            Some(Variant {
                no_bias: set,
                ..v()
            }),
        );
    }

    push(
        Mistake::AddedUpdate,
        None,
        Some(Variant {
            update: UpdateRule::Added,
            ..v()
        }),
    );
    if net.rate != 1.0 {
        push(
            Mistake::MissingRate,
            None,
            Some(Variant {
                update: UpdateRule::WithoutRate,
                ..v()
            }),
        );
    }

    // σ′ as net(1 − net): only where the textbook form reads out.
    let reads_out = |l: usize| {
        matches!(
            net.layers[l].activation,
            Activation::Sigmoid | Activation::Tanh | Activation::Softmax
        )
    };
    for set in layer_sets(&reads_out) {
        let act = set
            .iter()
            .map(|&on| {
                if on {
                    ActMode::OfNet
                } else {
                    ActMode::Textbook
                }
            })
            .collect();
        push(Mistake::DerivativeOfNet, None, Some(Variant { act, ..v() }));
    }
    for set in layer_sets(&reads_out) {
        let act = set
            .iter()
            .map(|&on| if on { ActMode::Out } else { ActMode::Textbook })
            .collect();
        push(
            Mistake::OutForDerivative,
            None,
            Some(Variant { act, ..v() }),
        );
    }
    // The slips of working an Adam step by hand.
    if matches!(
        net.optimizer,
        crate::optimizer::Optimizer::Adam(..) | crate::optimizer::Optimizer::AdamW(..)
    ) {
        use crate::optimizer::Slip;
        for (mistake, slip) in [
            (Mistake::BiasCorrectionForgotten, Slip::NoBiasCorrection),
            (Mistake::BetasSwapped, Slip::BetasSwapped),
            (Mistake::EpsilonInsideSqrt, Slip::EpsilonInsideSqrt),
            (Mistake::RawGradientUpdate, Slip::RawGradient),
        ] {
            push(
                mistake,
                None,
                Some(Variant {
                    slip: Some(slip),
                    ..v()
                }),
            );
        }
    }
    out
}

/// The values of `quantities` of `net` computed with each known mistake, in
/// the order of [`candidates`]: the mistake and one value per quantity (NaN
/// where the mistake does not apply to it). A one-sample network only.
pub(crate) fn mistaken_values(net: &Network, quantities: &[Quantity]) -> Vec<(Mistake, Vec<f64>)> {
    use super::graph::Graph;
    use super::point::Point;
    let exact = Graph::new(net, Variant::default());
    let right = Point::actual(&exact);
    candidates(net)
        .into_iter()
        .map(|c| {
            let values = match &c.variant {
                None => quantities.iter().map(|&q| -right.quantity(q)).collect(),
                Some(v) => {
                    // The shape and the local partials no variant changes
                    // are shared with the exact graph.
                    let g = exact.with_variant(v.clone());
                    let p = Point::actual(&g);
                    quantities
                        .iter()
                        .map(|&q| {
                            if c.applies_to(q) {
                                p.quantity(q)
                            } else {
                                f64::NAN
                            }
                        })
                        .collect()
                }
            };
            (c.mistake, values)
        })
        .collect()
}

/// The one layer a variant changes, when it changes one layer of several.
fn single_layer(v: &Variant, layers: usize) -> Option<usize> {
    if layers < 2 {
        return None;
    }
    let mut on = std::collections::BTreeSet::new();
    for (l, &b) in v.no_bias.iter().enumerate() {
        if b {
            on.insert(l);
        }
    }
    for (l, &b) in v.out_is_net.iter().enumerate() {
        if b {
            on.insert(l);
        }
    }
    for (l, a) in v.act.iter().enumerate() {
        if *a != ActMode::Textbook {
            on.insert(l);
        }
    }
    match on.len() {
        1 if layers > 1 => on.into_iter().next().filter(|_| {
            let all = v.no_bias.iter().filter(|&&b| b).count()
                + v.out_is_net.iter().filter(|&&b| b).count()
                + v.act.iter().filter(|a| **a != ActMode::Textbook).count();
            all == 1
        }),
        _ => None,
    }
}
