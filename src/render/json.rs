//! The JSON form of a solution (SPEC §4): every value, gradient, update and
//! derivation, full f64 precision, keys in a stable order whatever the
//! notation. Written straight from typed records (no intermediate tree), so
//! a network of 20k params serialises in a fraction of a second.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::derivation::{DAct, DOut, Factor, Pass, Via};
use crate::diff::Rule;
use crate::expr::{Names, Sym};
use crate::model::Batch;
use crate::notation::NetNames;
use crate::render::page::schedule::TermNumbers;
use crate::solution::Solution;

/// A JSON object with keys in the order given.
struct Ordered<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Ordered<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One factor: a local partial derivative.
#[derive(serde::Serialize)]
struct FactorJ<'a> {
    /// Its number on the page (absent when not numbered).
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<usize>,
    of: String,
    wrt: String,
    rule: String,
    latex: String,
    /// The plain formula, or null where it is a sum written elsewhere.
    symbolic: Option<String>,
    /// The neuron under `deltas` whose sum this factor is.
    #[serde(skip_serializing_if = "Option::is_none")]
    see: Option<&'a str>,
    value: f64,
    /// Terms of a sum (hidden neurons, softmax layers).
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<Vec<TermJ<'a>>>,
}

impl FactorJ<'_> {
    /// The factor without its terms (as the flat list shows it).
    fn copy(&self) -> Self {
        FactorJ {
            n: self.n,
            of: self.of.clone(),
            wrt: self.wrt.clone(),
            rule: self.rule.clone(),
            latex: self.latex.clone(),
            symbolic: self.symbolic.clone(),
            see: self.see,
            value: self.value,
            terms: None,
        }
    }
}

/// δ_Y · ∂net_Y/∂x, or one ∂out_j/∂net_X of a softmax column.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum TermJ<'a> {
    Edge {
        via: &'a str,
        delta: f64,
        factor: FactorJ<'a>,
        value: f64,
    },
    Factor(FactorJ<'a>),
}

#[derive(serde::Serialize)]
struct DeltaJ<'a> {
    #[serde(rename = "dE_total/dout")]
    d_out_value: f64,
    #[serde(rename = "dE_total/dnet")]
    delta: f64,
    d_out: FactorJ<'a>,
    d_act: FactorJ<'a>,
}

#[derive(serde::Serialize)]
struct ParamTermJ<'a> {
    via: &'a str,
    /// Absent for a term through a net input; `activation` for a param of
    /// the activation function, `loss` for a param of the loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    through: Option<&'static str>,
    /// δ of `via` (a term through a net input).
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<f64>,
    /// ∂E_total/∂out of `via` (a term through the activation).
    #[serde(rename = "dE_total/dout", skip_serializing_if = "Option::is_none")]
    d_out: Option<f64>,
    value: f64,
    factors: Vec<FactorJ<'a>>,
}

#[derive(serde::Serialize)]
struct DerivationJ<'a> {
    param: &'a str,
    value: f64,
    updated: f64,
    terms: Vec<ParamTermJ<'a>>,
    /// ∂E_reg/∂p = λ·p, the L2 term's part of `value`.
    #[serde(rename = "dE_reg", skip_serializing_if = "Option::is_none")]
    penalty: Option<f64>,
    factors: Vec<FactorJ<'a>>,
}

#[derive(serde::Serialize)]
struct SampleJ<'a> {
    inputs: Ordered<&'a str, f64>,
    targets: Ordered<&'a str, f64>,
    values: Ordered<String, f64>,
    gradients: Ordered<&'a str, f64>,
}

#[derive(serde::Serialize)]
struct OptimizerJ {
    name: &'static str,
    spec: String,
    weight_decay: f64,
}

#[derive(serde::Serialize)]
struct L2J<'a> {
    lambda: f64,
    params: Vec<&'a str>,
    /// Whether the file named them (else: every weight).
    named: bool,
}

#[derive(serde::Serialize)]
struct StepJ<'a> {
    t: u32,
    #[serde(rename = "E_total")]
    total: f64,
    params: Ordered<&'a str, crate::optimizer::ParamStep>,
    #[serde(rename = "E_total_after")]
    total_after: f64,
}

#[derive(serde::Serialize)]
struct SolutionJ<'a> {
    title: String,
    loss: &'a str,
    rate: f64,
    hand_rounding: Option<usize>,
    values: Ordered<String, f64>,
    deltas: Ordered<&'a str, DeltaJ<'a>>,
    gradients: Ordered<&'a str, f64>,
    updated: Ordered<&'a str, f64>,
    derivations: Vec<DerivationJ<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<Vec<SampleJ<'a>>>,
    #[serde(rename = "E_total_after")]
    total_after: f64,
    /// The update rule, when not plain gradient descent.
    #[serde(skip_serializing_if = "Option::is_none")]
    optimizer: Option<OptimizerJ>,
    /// The L2 term of the loss, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    l2: Option<L2J<'a>>,
    /// With `--steps K`: every update, each param's optimizer state.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<StepJ<'a>>>,
    /// Why `E_total_after` is null: it cannot be computed.
    #[serde(
        rename = "E_total_after_problem",
        skip_serializing_if = "Option::is_none"
    )]
    after_problem: Option<String>,
}

struct Writer<'s, 'a> {
    sol: &'s Solution<'a>,
    names: NetNames<'a>,
    steps: &'s [crate::steps::Step],
}

impl<'s, 'a: 's> Writer<'s, 'a> {
    fn factor(&self, f: &Factor, n: Option<usize>) -> FactorJ<'s> {
        FactorJ {
            n,
            of: self.names.plain(f.of),
            wrt: self.names.plain(f.wrt),
            rule: f.rule.name(),
            latex: self.sol.partial_latex(f.of, f.wrt),
            symbolic: Some(f.symbolic.plain(&self.names)),
            see: None,
            value: f.value,
            terms: None,
        }
    }

    /// A factor whose sum is written under `deltas` (`"see"`).
    fn sum_ref(
        &self,
        of: Sym,
        wrt: Sym,
        rule: String,
        y: u32,
        value: f64,
        n: Option<usize>,
    ) -> FactorJ<'s> {
        FactorJ {
            n,
            of: self.names.plain(of),
            wrt: self.names.plain(wrt),
            rule,
            latex: self.sol.partial_latex(of, wrt),
            symbolic: None,
            see: Some(self.sol.net.neurons[y as usize].name.as_str()),
            value,
            terms: None,
        }
    }

    /// Each neuron's backward step, once: ∂E_total/∂out_X (the loss
    /// derivative, or the sum over the neurons X feeds), ∂out_X/∂net_X, δ_X.
    fn deltas(&self) -> Vec<(&'s str, DeltaJ<'s>)> {
        let sol = self.sol;
        let net = sol.net;
        let d = sol.derivation.worked();
        let neuron = |x: u32| net.neurons[x as usize].name.as_str();
        net.neurons
            .iter()
            .enumerate()
            .map(|(x, n)| {
                let g = &d.neurons[x];
                let xs = x as u32;
                let d_out = match &g.d_out {
                    DOut::Loss(f) => self.factor(f, None),
                    DOut::Sum(edges) => FactorJ {
                        n: None,
                        of: "E_total".into(),
                        wrt: self.names.plain(Sym::Out(xs)),
                        rule: Rule::SumOverOutputs.name(),
                        latex: sol.partial_latex(Sym::ErrTotal, Sym::Out(xs)),
                        symbolic: Some(sol.sum_symbolic(xs)),
                        see: None,
                        value: g.d_out_value,
                        terms: Some(
                            edges
                                .iter()
                                .map(|e| TermJ::Edge {
                                    via: neuron(e.to),
                                    delta: d.neurons[e.to as usize].delta,
                                    factor: self.factor(&e.factor, None),
                                    value: e.value,
                                })
                                .collect(),
                        ),
                    },
                };
                let d_act = match &g.d_act {
                    DAct::Elementwise(f) => self.factor(f, None),
                    DAct::Softmax(col) => FactorJ {
                        n: None,
                        of: "E_total".into(),
                        wrt: self.names.plain(Sym::Net(xs)),
                        rule: Rule::Softmax.name(),
                        latex: sol.partial_latex(Sym::ErrTotal, Sym::Net(xs)),
                        symbolic: Some(sol.softmax_symbolic(xs)),
                        see: None,
                        value: g.delta,
                        terms: Some(
                            col.iter()
                                .map(|f| TermJ::Factor(self.factor(f, None)))
                                .collect(),
                        ),
                    },
                };
                (
                    n.name.as_str(),
                    DeltaJ {
                        d_out_value: g.d_out_value,
                        delta: g.delta,
                        d_out,
                        d_act,
                    },
                )
            })
            .collect()
    }

    /// Param `p`'s derivation: its terms, each with its factors, and all
    /// the factors numbered as the page numbers them (`numbers`, one a
    /// term): a δ derived in an earlier step is one factor there.
    fn derivation(&self, p: usize, name: &'s str, numbers: &[TermNumbers]) -> DerivationJ<'s> {
        let net = self.sol.net;
        let d = &self.sol.derivation;
        let neuron = |x: u32| net.neurons[x as usize].name.as_str();
        let g = &d.params[p];
        let w = d.worked();
        let mut terms = Vec::with_capacity(w.gradients[p].terms.len());
        let mut flat = Vec::new();
        for (edge, num) in w.gradients[p].terms.iter().zip(numbers) {
            let y = edge.to;
            let ng = &w.neurons[y as usize];
            let d_out = || match &ng.d_out {
                DOut::Loss(f) => self.factor(f, num.d_out),
                DOut::Sum(_) => self.sum_ref(
                    Sym::ErrTotal,
                    Sym::Out(y),
                    Rule::SumOverOutputs.name(),
                    y,
                    ng.d_out_value,
                    num.d_out,
                ),
            };
            let local = self.factor(&edge.factor, Some(num.local));
            let (fs, through, delta, out_value) = match edge.via() {
                Via::Out(_) => (
                    vec![d_out(), local],
                    Some("activation"),
                    None,
                    Some(ng.d_out_value),
                ),
                Via::Err(_) => (vec![local], Some("loss"), None, None),
                Via::Net(_) => {
                    // ∂out_Y/∂net_Y (for softmax, δ_Y itself)
                    let d_act = match &ng.d_act {
                        DAct::Elementwise(f) => self.factor(f, num.d_act),
                        DAct::Softmax(_) => self.sum_ref(
                            Sym::ErrTotal,
                            Sym::Net(y),
                            Rule::Softmax.name(),
                            y,
                            ng.delta,
                            num.d_act,
                        ),
                    };
                    (vec![d_out(), d_act, local], None, Some(ng.delta), None)
                }
            };
            if let Some(n) = num.delta {
                // δ_Y derived before: one factor on the page.
                flat.push(self.sum_ref(
                    Sym::ErrTotal,
                    Sym::Net(y),
                    "delta".to_string(),
                    y,
                    ng.delta,
                    Some(n),
                ));
            }
            flat.extend(fs.iter().filter(|f| f.n.is_some()).map(FactorJ::copy));
            terms.push(ParamTermJ {
                via: neuron(y),
                through,
                delta,
                d_out: out_value,
                value: edge.value,
                factors: fs,
            });
        }
        flat.sort_by_key(|f| f.n);
        DerivationJ {
            param: name,
            value: g.value,
            updated: g.updated,
            terms,
            penalty: g.penalty,
            factors: flat,
        }
    }

    fn values(&self, d: &Pass) -> Ordered<String, f64> {
        let net = self.sol.net;
        let mut v = Vec::with_capacity(net.neurons.len() * 2 + 4);
        for (x, neuron) in net.neurons.iter().enumerate() {
            v.push((format!("net_{}", neuron.name), d.forward.net[x]));
            v.push((format!("out_{}", neuron.name), d.forward.out[x]));
        }
        for x in net.outputs() {
            v.push((
                format!("E_{}", net.neurons[x as usize].name),
                d.forward.err[x as usize],
            ));
        }
        v.push(("E_total".to_string(), d.forward.total));
        Ordered(v)
    }

    fn document(&self) -> SolutionJ<'s> {
        let sol = self.sol;
        let net = sol.net;
        let d = &sol.derivation;
        let neuron = |x: u32| net.neurons[x as usize].name.as_str();

        let deltas = self.deltas();
        let numbers = crate::render::page::schedule::page_numbers(net, d.worked());
        let derivations = net
            .params
            .iter()
            .enumerate()
            .map(|(p, param)| self.derivation(p, param.name.as_str(), &numbers[p]))
            .collect();

        let samples = net.data.is_some().then(|| {
            let data = net.data.as_ref().expect("samples come from data");
            d.samples
                .iter()
                .enumerate()
                .map(|(k, sd)| SampleJ {
                    inputs: Ordered(
                        data.inputs
                            .iter()
                            .zip(&data.rows[k].0)
                            .map(|(&i, v)| (net.inputs[i as usize].name.as_str(), *v))
                            .collect(),
                    ),
                    targets: Ordered(
                        data.outputs
                            .iter()
                            .zip(&data.rows[k].1)
                            .map(|(&o, v)| (neuron(o), *v))
                            .collect(),
                    ),
                    values: self.values(sd),
                    gradients: Ordered(
                        net.params
                            .iter()
                            .enumerate()
                            .map(|(p, s)| (s.name.as_str(), sd.gradients[p].value))
                            .collect(),
                    ),
                })
                .collect()
        });
        let values = if samples.is_some() {
            // The combined E_total only: per-neuron values belong to samples.
            Ordered(vec![("E_total".to_string(), d.total)])
        } else {
            self.values(d.worked())
        };
        let mut values = values;
        if let Some(r) = d.penalty {
            // E_reg before E_total, which includes it.
            let total = values.0.pop().expect("E_total is last");
            values.0.push(("E_reg".to_string(), r));
            values.0.push(("E_total".to_string(), d.total));
            debug_assert_eq!(total.0, "E_total");
        }
        SolutionJ {
            title: sol.title(),
            loss: net.loss.keyword(),
            rate: net.rate,
            hand_rounding: d.hand,
            values,
            deltas: Ordered(deltas),
            gradients: Ordered(
                net.params
                    .iter()
                    .enumerate()
                    .map(|(p, s)| (s.name.as_str(), d.params[p].value))
                    .collect(),
            ),
            updated: Ordered(
                net.params
                    .iter()
                    .enumerate()
                    .map(|(p, s)| (s.name.as_str(), d.params[p].updated))
                    .collect(),
            ),
            derivations,
            batch: samples.as_ref().map(|_| match net.batch {
                Batch::Mean => "mean",
                Batch::Sum => "sum",
            }),
            samples,
            total_after: d.total_after,
            after_problem: d.after_problem.as_ref().map(|e| e.to_string()),
            l2: net.l2.as_ref().map(|l| L2J {
                lambda: l.lambda,
                params: l
                    .params
                    .iter()
                    .map(|&p| net.params[p as usize].name.as_str())
                    .collect(),
                named: l.named,
            }),
            optimizer: {
                let r = net.update_rule();
                (!r.is_plain()).then(|| OptimizerJ {
                    name: r.optimizer.name(),
                    spec: r.optimizer.spec(),
                    weight_decay: r.weight_decay,
                })
            },
            steps: (!self.steps.is_empty()).then(|| {
                self.steps
                    .iter()
                    .map(|st| StepJ {
                        t: st.t,
                        total: st.total,
                        params: Ordered(
                            net.params
                                .iter()
                                .zip(&st.params)
                                .map(|(p, s)| (p.name.as_str(), *s))
                                .collect(),
                        ),
                        total_after: st.total_after,
                    })
                    .collect()
            }),
        }
    }
}

/// The solution as a JSON value.
pub fn to_json(sol: &Solution<'_>) -> serde_json::Value {
    let w = Writer {
        sol,
        names: sol.plain_names(),
        steps: &[],
    };
    serde_json::to_value(w.document()).unwrap_or(serde_json::Value::Null)
}

/// The JSON text, pretty-printed, ending with a newline.
pub fn render(sol: &Solution<'_>) -> String {
    render_steps(sol, &[])
}

/// The JSON text with the updates of `--steps K`.
pub fn render_steps(sol: &Solution<'_>, steps: &[crate::steps::Step]) -> String {
    let w = Writer {
        sol,
        names: sol.plain_names(),
        steps,
    };
    // About 2.4 KB a param: sized once, not grown by copying.
    let mut out = Vec::with_capacity((16 << 10) + sol.net.params.len() * 2560);
    let _ = serde_json::to_writer_pretty(&mut out, &w.document());
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}
