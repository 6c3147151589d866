//! `chainrule exam`: N variants of one network, each with numbers drawn from
//! the `--vary` grids by a seeded generator, the questions asked about every
//! variant (quantities named as `check` names them), and the files a teacher
//! hands out and grades with: question sheets and answer keys (Markdown and
//! LaTeX, keys with the full worked solution of each variant), `answers.csv`,
//! a Moodle XML quiz, and each variant as its own `.nn` file.
//!
//! Drawing is specified exactly, so a seed gives the same variants on every
//! platform: one [`SplitMix64`] stream seeded with `--seed`; a draw takes one
//! value per varied number (inputs, params, consts, targets, each in
//! declaration order), value index = [`SplitMix64::below`]`(count)`. A draw
//! that repeats an earlier variant, gives an asked value that rounds to 0 at
//! the shown decimals, makes any value NaN or infinite, or has an answer
//! that a classic mistake also gives ([`marking`]) is rejected and the next
//! one drawn, at most [`max_draws`] times in all.

mod given;
pub mod marking;
pub mod sheets;
mod source;
pub mod vary;

use std::collections::HashSet;
use std::fmt;

use crate::check::{self, Quantity};
use crate::derivation::{DAct, Options as DeriveOptions};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};
use crate::expr::Sym;
use crate::model::Network;
use crate::notation::NetNames;
use crate::number;
use crate::parse::{parse_network, parse_quantity};
use crate::rng::SplitMix64;
use crate::solution::Solution;
pub use marking::Precision;
pub use vary::{VaryError, VarySpec};

/// The most variants one run makes.
pub const MAX_VARIANTS: usize = 10_000;

/// What an exam is made of.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many variants.
    pub variants: usize,
    /// The seed of the generator.
    pub seed: u64,
    /// The `--vary` specs, in the order given.
    pub vary: Vec<VarySpec>,
    /// The `--ask` list as written (`E_total, dE_total/dw5, w5+`), or `None`
    /// for the default questions.
    pub ask: Option<String>,
    /// How precisely answers are asked (and so the Moodle tolerances).
    pub precision: Precision,
    /// Language of the fixed prose.
    pub lang: String,
}

/// Why no exam could be made.
#[derive(Debug)]
pub enum ExamError {
    /// A `--vary` spec is malformed or matches nothing.
    Vary(VaryError),
    /// `--ask` names something that is not a quantity of the network.
    Ask(Diagnostics),
    /// The grids cannot give the variants asked for; the message says why.
    Degenerate(String),
    /// Anything else (a language that does not exist, a template error).
    Other(anyhow::Error),
}

impl fmt::Display for ExamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExamError::Vary(e) => write!(f, "{e}"),
            ExamError::Ask(d) => write!(f, "{d}"),
            ExamError::Degenerate(m) => write!(f, "{m}"),
            ExamError::Other(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ExamError {}

impl From<VaryError> for ExamError {
    fn from(e: VaryError) -> ExamError {
        ExamError::Vary(e)
    }
}

impl From<anyhow::Error> for ExamError {
    fn from(e: anyhow::Error) -> ExamError {
        ExamError::Other(e)
    }
}

/// The files of an exam: paths relative to the output directory, and their
/// contents, in the order they are listed in the README.
#[derive(Debug, Clone)]
pub struct Exam {
    /// `(path, contents)`; `/` separates directories.
    pub files: Vec<(String, String)>,
    /// What the drawing took, in a sentence: how many draws were redrawn
    /// and why, how many answers ask more digits.
    pub summary: String,
}

/// How the variants were drawn.
#[derive(Debug, Clone, Default)]
pub(crate) struct DrawStats {
    pub(crate) draws: usize,
    /// Draws rejected because a classic mistake gave an answer's key.
    pub(crate) mistaken: usize,
    /// Draws rejected for repeating a variant, a zero or a non-finite value.
    pub(crate) other: usize,
    /// Answers asked with more digits than the exam's precision.
    pub(crate) extra_digits: usize,
}

/// The most draws made for `n` variants before giving up: 1000 + 100·n.
pub fn max_draws(n: usize) -> usize {
    1000 + 100 * n
}

/// One asked quantity: what it is and its canonical name.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub(crate) quantity: Quantity,
    /// `dE_total/dw5`, as `check` and `answers.csv` write it.
    pub(crate) name: String,
}

/// One variant: its number (from 1), its `.nn` text and its network.
pub(crate) struct Variant {
    pub(crate) number: usize,
    /// How each asked answer is asked and marked.
    pub(crate) marks: Vec<marking::Marked>,
    pub(crate) label: String,
    pub(crate) source: String,
    pub(crate) net: Network,
}

/// Makes the exam of `net`, read from the text `src` of the file `file`.
/// `progress(done, total)` is called as the variants are written out.
pub fn generate(
    file: &str,
    src: &str,
    net: &Network,
    opts: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Exam, ExamError> {
    if !(1..=MAX_VARIANTS).contains(&opts.variants) {
        return Err(ExamError::Degenerate(format!(
            "an exam has 1 to {MAX_VARIANTS} variants, not {}",
            opts.variants
        )));
    }
    let strings = crate::render::templates::strings(&opts.lang)?;
    let varied = vary::resolve(net, &opts.vary)?;
    let asked = match &opts.ask {
        Some(list) => parse_ask(net, list)?,
        None => default_ask(net),
    };
    if asked.is_empty() {
        return Err(ExamError::Degenerate(
            "the network has no quantity to ask about".to_string(),
        ));
    }
    // With several samples only the combined quantities have one answer.
    if net.data.is_some() {
        if let Some(q) = asked.iter().find(|a| !a.quantity.is_combined()) {
            return Err(ExamError::Degenerate(format!(
                "`{}` has one value per sample of the data; with a `data` block ask for E_total, gradients dE_total/dp, updates p+ and E_total+",
                q.name
            )));
        }
    }

    let (spans, elsewhere) = source::value_spans(net, src);
    // A param without a number of its own in the file (drawn by `init`) is
    // written as a `param` line, which overrides `init`; anything else
    // without one (a vector element, a value of the data) is not varied.
    let mut appended = false;
    for v in &varied {
        if elsewhere.contains(&v.slot) {
            match v.slot {
                vary::Slot::Param(_) => appended = true,
                _ => {
                    return Err(ExamError::Vary(VaryError {
                        spec: opts.vary[v.spec].text.clone(),
                        message: format!(
                            "`{}` has no `name = number` of its own in {file} (it is a vector element or comes from the data), so it cannot be varied",
                            v.name
                        ),
                    }))
                }
            }
        }
    }
    // `init` draws its values in declaration order for the params no
    // `param` line sets, and params set by `param` lines are declared
    // first: with one drawn param written as a line, every param `init`
    // drew is written as one, in the original's order, so that the variant
    // declares its params in the same order with the same other values.
    let init_drawn: Vec<u32> = if !appended {
        Vec::new()
    } else {
        let mut v: Vec<u32> = elsewhere
            .iter()
            .filter_map(|slot| match *slot {
                vary::Slot::Param(p) => Some(p),
                _ => None,
            })
            .collect();
        v.sort_unstable();
        v
    };
    // A variant's text after its header: the file with the drawn numbers.
    let body = |drawn: &[f64]| -> String {
        let mut text = source::rewrite(src, &spans, |slot| {
            varied.iter().position(|v| v.slot == slot).map(|i| drawn[i])
        });
        if !init_drawn.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("# drawn for this variant, and the other values `init` drew\n");
            for &p in &init_drawn {
                let slot = vary::Slot::Param(p);
                let value = varied
                    .iter()
                    .position(|v| v.slot == slot)
                    .map_or(net.params[p as usize].value, |i| drawn[i]);
                text.push_str(&format!(
                    "param {} = {}\n",
                    net.params[p as usize].name,
                    source::shortest(value)
                ));
            }
        }
        text
    };
    // Each draw is judged as the network its file reads as.
    let realize = |drawn: &[f64]| -> Result<Network, ExamError> {
        parse_network("variant.nn", &body(drawn)).map_err(|d| {
            ExamError::Other(anyhow::anyhow!(
                "a variant does not read back (this is a bug in chainrule):\n{d}"
            ))
        })
    };
    let (draws, stats) = draw(&varied, &opts.vary, &asked, opts, &realize)?;
    let base = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let width = opts.variants.to_string().len().max(2);
    let mut variants = Vec::with_capacity(draws.len());
    for (k, (drawn, marks, vnet)) in draws.into_iter().enumerate() {
        let number = k + 1;
        let label = format!("{number:0width$}");
        let mut text = header(&base, number, opts, &varied, &drawn);
        text.push_str(&body(&drawn));
        // `vnet` is the variant's file as it read back when it was judged
        // (without its header, which is comments only).
        // A `param` line added for a dense layer's param declares it
        // earlier than the layer did: the variant is the original network
        // with the drawn values, its file checked to read back by name.
        let mut exact = net.clone();
        for (v, &x) in varied.iter().zip(&drawn) {
            v.slot.set(&mut exact, x);
            let name = match v.slot {
                vary::Slot::Param(i) => Some(&net.params[i as usize].name),
                _ => None,
            };
            let back = match name.and_then(|n| vnet.params.iter().find(|p| &p.name == n)) {
                Some(p) => p.value,
                None => v.slot.get(&vnet),
            };
            if back.to_bits() != x.to_bits() {
                return Err(anyhow::anyhow!(
                    "variant {label}: `{}` reads back as {back} instead of {x} (this is a bug in chainrule)",
                    v.name,
                )
                .into());
            }
        }
        let vnet = exact;
        variants.push(Variant {
            number,
            marks,
            label,
            source: text,
            net: vnet,
        });
    }
    sheets::write(
        &sheets::Context {
            file: &base,
            net,
            opts,
            strings,
            asked: &asked,
            stats: &stats,
        },
        &variants,
        progress,
    )
}

/// The comment at the top of a variant's file.
fn header(
    base: &str,
    number: usize,
    opts: &Options,
    varied: &[vary::Varied],
    drawn: &[f64],
) -> String {
    // A file name is one comment line, whatever it holds.
    let base = crate::diagnostic::escape_for_terminal(base);
    let mut s = format!(
        "# {base}, variant {number} of {} (chainrule exam --seed {}).\n",
        opts.variants, opts.seed
    );
    if !varied.is_empty() {
        let mut line = "# Drawn:".to_string();
        for (i, (v, x)) in varied.iter().zip(drawn).enumerate() {
            let item = format!(
                " {} = {}{}",
                v.name,
                source::shortest(*x),
                if i + 1 < varied.len() { "," } else { "" }
            );
            if line.len() + item.len() > 78 {
                s.push_str(&line);
                s.push('\n');
                line = "#".to_string();
            }
            line.push_str(&item);
        }
        s.push_str(&line);
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Reads the `--ask` list: quantities separated by commas.
fn parse_ask(net: &Network, list: &str) -> Result<Vec<Asked>, ExamError> {
    let names = NetNames::new(net, Default::default());
    let mut asked: Vec<Asked> = Vec::new();
    let mut errors = Vec::new();
    let mut at = 0;
    for item in list.split(',') {
        let lead = item.len() - item.trim_start().len();
        let text = item.trim();
        let start = at + lead;
        at += item.len() + 1;
        if text.is_empty() {
            errors.push(Diagnostic::new(
                Span::new(start, start),
                "expected a quantity (`E_total`, `dE_total/dw5`, `w5+`) between the commas",
            ));
            continue;
        }
        match parse_quantity(net, text) {
            Ok(q) => {
                let name = q.name(&names);
                if asked.iter().any(|a| a.quantity == q) {
                    errors.push(Diagnostic::new(
                        Span::new(start, start + text.len()),
                        format!("`{name}` is asked twice"),
                    ));
                } else {
                    asked.push(Asked { quantity: q, name });
                }
            }
            Err(d) if d.message.starts_with("unknown") => {
                // Suggest a whole quantity (`dE_total/dw1` for
                // `dE_total/dw9`), not only the name inside it.
                let candidates = ask_names(net);
                let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
                let mut e = Diagnostic::new(
                    Span::new(start, start + text.len()),
                    format!("unknown quantity `{text}`"),
                );
                if let Some(c) = crate::parse::closest_name(text, &candidates) {
                    e.message.push_str(&format!("; did you mean `{c}`?"));
                }
                e.notes = d.notes;
                errors.push(e);
            }
            Err(mut d) => {
                d.span = Span::new(d.span.start + start, d.span.end + start);
                d.message = d
                    .message
                    .replace("end of file", "`,` or the end of the list");
                errors.push(d);
            }
        }
    }
    if errors.is_empty() {
        Ok(asked)
    } else {
        Err(ExamError::Ask(Diagnostics::new("--ask", list, errors)))
    }
}

/// The names of the quantities an exam is most likely to ask about, for
/// suggestions: values, gradients, δ's, activation derivatives, updates.
fn ask_names(net: &Network) -> Vec<String> {
    let mut v: Vec<String> = crate::parse::quantity_names(net)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for p in &net.params {
        v.push(format!("dE_total/d{}", p.name));
        v.push(format!("{}+", p.name));
    }
    for n in &net.neurons {
        v.push(format!("dE_total/dnet_{}", n.name));
        v.push(format!("dE_total/dout_{}", n.name));
        v.push(format!("dout_{0}/dnet_{0}", n.name));
    }
    v.push("E_total+".to_string());
    v
}

/// E_total, the gradient of the first param of the output layer and of the
/// first param of a hidden layer (declaration order), then their updates.
fn default_ask(net: &Network) -> Vec<Asked> {
    let names = NetNames::new(net, Default::default());
    let last = net.layers.len().saturating_sub(1) as u32;
    let depth = |p: u32| {
        net.neurons
            .iter()
            .filter(|n| n.net.mentions(Sym::Param(p)))
            .map(|n| n.layer)
            .max()
    };
    let params = 0..net.params.len() as u32;
    let output = params.clone().find(|&p| depth(p) == Some(last));
    let hidden = params.clone().find(|&p| depth(p).is_some_and(|d| d < last));
    let mut qs = vec![Quantity::Value(Sym::ErrTotal)];
    let chosen: Vec<u32> = [output, hidden].into_iter().flatten().collect();
    for &p in &chosen {
        qs.push(Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(p),
        });
    }
    for &p in &chosen {
        qs.push(Quantity::Updated(p));
    }
    qs.into_iter()
        .map(|quantity| Asked {
            quantity,
            name: quantity.name(&names),
        })
        .collect()
}

/// The values of the asked quantities of a solved network: from the
/// derivation where it has them (so they are exactly what `solve -f json`
/// shows), else as `check` computes them.
pub(crate) fn asked_values(sol: &Solution<'_>, asked: &[Asked]) -> Vec<f64> {
    let d = &sol.derivation;
    let w = d.worked();
    let net = sol.net;
    let direct = |q: Quantity| -> Option<f64> {
        Some(match q {
            Quantity::Value(Sym::Net(x)) => w.forward.net[x as usize],
            Quantity::Value(Sym::Out(x)) => w.forward.out[x as usize],
            Quantity::Value(Sym::Err(x)) => w.forward.err[x as usize],
            Quantity::Value(Sym::ErrTotal) => d.total,
            Quantity::Value(s) => net.fixed_value(s)?,
            Quantity::Partial {
                of: Sym::ErrTotal,
                wrt,
            } => match wrt {
                Sym::Param(p) => d.params[p as usize].value,
                Sym::Net(x) => w.neurons[x as usize].delta,
                Sym::Out(x) => w.neurons[x as usize].d_out_value,
                _ => return None,
            },
            Quantity::Partial {
                of: Sym::Out(x),
                wrt: Sym::Net(y),
            } if x == y => match &w.neurons[x as usize].d_act {
                DAct::Elementwise(f) => f.value,
                DAct::Softmax(_) => return None,
            },
            Quantity::Updated(p) => d.params[p as usize].updated,
            Quantity::After(Sym::ErrTotal) => d.total_after,
            _ => return None,
        })
    };
    let mut values: Vec<Option<f64>> = asked.iter().map(|a| direct(a.quantity)).collect();
    let missing: Vec<Quantity> = asked
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(a, _)| a.quantity)
        .collect();
    if !missing.is_empty() {
        let mut rest = check::evaluate(net, &missing).into_iter();
        for v in values.iter_mut().filter(|v| v.is_none()) {
            *v = rest.next();
        }
    }
    values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

/// Why draws were rejected.
#[derive(Default)]
struct Rejects {
    mistaken: usize,
    mistaken_example: Option<String>,
    repeated: usize,
    zero: usize,
    zero_example: Option<String>,
    not_finite: usize,
    not_finite_example: Option<String>,
}

/// Draws the varied numbers of `opts.variants` good, distinct variants.
fn draw(
    varied: &[vary::Varied],
    specs: &[VarySpec],
    asked: &[Asked],
    opts: &Options,
    realize: &(dyn Fn(&[f64]) -> Result<Network, ExamError> + Sync),
) -> Result<(Vec<Drawn>, DrawStats), ExamError> {
    let n = opts.variants;
    // How many different variants the grids can give at most.
    let combos = varied.iter().fold(1u128, |acc, v| {
        acc.saturating_mul(specs[v.spec].values.len() as u128)
    });
    if combos < n as u128 {
        return Err(ExamError::Degenerate(if varied.is_empty() {
            format!(
                "without --vary every variant is the same network, and {n} were asked for; \
                 vary some numbers, like --vary 'w*=0.05..0.95/0.05'"
            )
        } else {
            let sizes: Vec<String> = varied
                .iter()
                .map(|v| format!("`{}` {}", v.name, specs[v.spec].values.len()))
                .collect();
            format!(
                "the --vary values give at most {combos} different variants ({}), fewer than the {n} asked for; \
                 widen a grid or ask for fewer variants",
                sizes.join(" × ")
            )
        }));
    }
    let mut rng = SplitMix64::new(opts.seed);
    let mut seen: HashSet<Vec<u64>> = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut rejects = Rejects::default();
    let limit = max_draws(n);
    let mut draws = 0;
    while out.len() < n && draws < limit {
        // The next draws' picks, in the order the rng gives them whatever
        // becomes of each; their networks are judged on all cores ahead of
        // being taken in turn below (a draw past the last one taken is
        // judged for nothing).
        let ahead = (n - out.len()).clamp(1, 512).min(limit - draws);
        let batch: Vec<Vec<u64>> = (0..ahead)
            .map(|_| {
                varied
                    .iter()
                    .map(|v| rng.below(specs[v.spec].values.len()))
                    .collect()
            })
            .collect();
        let values_of = |picks: &[u64]| -> Vec<f64> {
            varied
                .iter()
                .zip(picks)
                .map(|(v, &k)| specs[v.spec].values.get(k))
                .collect()
        };
        let seen_before = &seen;
        let (judged, ()) = crate::render::parallel::chunks(
            &batch,
            |group| {
                group
                    .iter()
                    .map(|picks| {
                        (!seen_before.contains(picks)).then(|| {
                            realize(&values_of(picks)).map(|trial| {
                                judge(&trial, asked, opts.precision).map(|marks| (marks, trial))
                            })
                        })
                    })
                    .collect::<Vec<_>>()
            },
            || (),
        );
        let judged = judged
            .into_iter()
            .flat_map(|chunk| chunk.expect("an exam thread panicked (this is a bug in chainrule)"));
        for (picks, verdict) in batch.into_iter().zip(judged) {
            if out.len() == n || draws == limit {
                break;
            }
            draws += 1;
            // A repeat of a variant taken earlier in this batch was judged
            // too: it is still a repeat.
            let verdict = match verdict {
                Some(v) if !seen.contains(&picks) => v?,
                _ => {
                    rejects.repeated += 1;
                    continue;
                }
            };
            match verdict {
                Ok((marks, trial)) => {
                    out.push((values_of(&picks), marks, trial));
                    seen.insert(picks);
                }
                Err(Reject::Mistaken(what)) => {
                    rejects.mistaken += 1;
                    rejects.mistaken_example.get_or_insert(what);
                }
                Err(Reject::Zero(name)) => {
                    rejects.zero += 1;
                    rejects.zero_example.get_or_insert(name);
                }
                Err(Reject::NotFinite(what)) => {
                    rejects.not_finite += 1;
                    rejects.not_finite_example.get_or_insert(what);
                }
            }
        }
    }
    if out.len() < n {
        let mut why = Vec::new();
        if rejects.repeated > 0 {
            why.push(format!("{} repeated an earlier variant", rejects.repeated));
        }
        if rejects.zero > 0 {
            why.push(format!(
                "{} had an asked value that rounds to 0 at {} (first: `{}`)",
                rejects.zero,
                match opts.precision {
                    Precision::Decimals(d) => format!("{d} decimals"),
                    Precision::Sig(_) => "10^-12".to_string(),
                },
                rejects.zero_example.unwrap_or_default()
            ));
        }
        if rejects.mistaken > 0 {
            why.push(format!(
                "{} had an answer that a classic mistake also gives, even with {} more digits (first: {})",
                rejects.mistaken,
                marking::MAX_EXTRA,
                rejects.mistaken_example.unwrap_or_default()
            ));
        }
        if rejects.not_finite > 0 {
            why.push(format!(
                "{} gave a value that is not a finite number (first: {})",
                rejects.not_finite,
                rejects.not_finite_example.unwrap_or_default()
            ));
        }
        return Err(ExamError::Degenerate(format!(
            "only {} of the {n} variants could be drawn in {draws} draws: {}; \
             widen the --vary grids, ask other quantities, or ask more figures (--sig)",
            out.len(),
            why.join(", ")
        )));
    }
    let stats = DrawStats {
        draws,
        mistaken: rejects.mistaken,
        other: draws - n - rejects.mistaken,
        extra_digits: out
            .iter()
            .flat_map(|(_, m, _)| m)
            .filter(|m| m.extra > 0)
            .count(),
    };
    Ok((out, stats))
}

/// A drawn variant: its varied values, how its answers are marked, and its
/// file's network as it read back.
type Drawn = (Vec<f64>, Vec<marking::Marked>, Network);

enum Reject {
    Zero(String),
    NotFinite(String),
    Mistaken(String),
}

/// Whether a drawn network makes a good variant, and if so how its answers
/// are asked and marked.
fn judge(
    net: &Network,
    asked: &[Asked],
    precision: Precision,
) -> Result<Vec<marking::Marked>, Reject> {
    let sol = Solution::new(net, DeriveOptions::default(), Default::default())
        .map_err(|e| Reject::NotFinite(e.to_string()))?;
    let values = asked_values(&sol, asked);
    for (a, &v) in asked.iter().zip(&values) {
        if !v.is_finite() {
            return Err(Reject::NotFinite(format!("`{}`", a.name)));
        }
        let zero = match precision {
            Precision::Decimals(d) => rounds_to_zero(v, d),
            Precision::Sig(_) => v.abs() < 1e-12,
        };
        if zero {
            return Err(Reject::Zero(a.name.clone()));
        }
    }
    let quantities: Vec<Quantity> = asked.iter().map(|a| a.quantity).collect();
    let wrong = marking::wrong_values(net, &quantities, &values, sol.derivation.total);
    let mut marks = Vec::with_capacity(asked.len());
    for (i, (a, &v)) in asked.iter().zip(&values).enumerate() {
        let wrong: Vec<(marking::Slip, f64)> = wrong.iter().map(|(s, w)| (*s, w[i])).collect();
        match marking::mark(v, precision, &wrong) {
            Ok(m) => marks.push(m),
            Err(code) => return Err(Reject::Mistaken(format!("`{}` and `{code}`", a.name))),
        }
    }
    Ok(marks)
}

/// Whether `v` shows as 0 with `decimals` decimals.
fn rounds_to_zero(v: f64, decimals: usize) -> bool {
    v.abs() < 0.5 * 10f64.powi(-(decimals as i32)) || number::round(v, decimals) == 0.0
}

#[cfg(test)]
mod init_tests {
    use super::*;

    /// A variant of a dense network varies the params asked and keeps every
    /// other value `init` drew for the original.
    #[test]
    fn a_variant_keeps_the_other_drawn_params() {
        let src =
            "input x[3] = [0.1, 0.5, -0.2]\nlayer h[4] tanh dense x\nlayer y[2] sigmoid dense h\n\
                   target y = [0, 1]\ninit uniform(-0.5, 0.5) seed 7\n";
        let net = parse_network("dense.nn", src).unwrap();
        let opts = Options {
            variants: 3,
            seed: 3,
            vary: vec![VarySpec::parse("w_h2_*=-0.9..0.9/0.1").unwrap()],
            ask: Some("E_total, dE_total/dw_h2_x1".to_string()),
            precision: Precision::Sig(4),
            lang: "en".to_string(),
        };
        let exam = generate("dense.nn", src, &net, &opts, &mut |_, _| {}).unwrap();
        for (path, text) in exam
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("variants/"))
        {
            let v = parse_network(path, text).unwrap();
            let mut varied = 0;
            for (a, b) in net.params.iter().zip(&v.params) {
                assert_eq!(a.name, b.name);
                if a.name.starts_with("w_h2_") {
                    varied += usize::from(a.value != b.value);
                } else {
                    assert_eq!(a.value, b.value, "{path}: {}", a.name);
                }
            }
            assert!(varied > 0, "{path}");
        }
    }
}
