//! The JSON form of a solution (SPEC §4): every value, gradient, update and
//! derivation, full f64 precision, keys in a stable order whatever the
//! notation.

use serde_json::{json, Map, Value};

use crate::derivation::{DAct, DOut, Factor};
use crate::diff::Rule;
use crate::expr::{Names, Sym};
use crate::solution::Solution;

/// The solution as a JSON value.
pub fn to_json(sol: &Solution<'_>) -> Value {
    let net = sol.net;
    let d = &sol.derivation;
    let names = sol.plain_names();
    let mut values = Map::new();
    for (x, neuron) in net.neurons.iter().enumerate() {
        values.insert(format!("net_{}", neuron.name), json!(d.forward.net[x]));
        values.insert(format!("out_{}", neuron.name), json!(d.forward.out[x]));
    }
    for x in net.outputs() {
        values.insert(
            format!("E_{}", net.neurons[x as usize].name),
            json!(d.forward.err[x as usize]),
        );
    }
    values.insert("E_total".into(), json!(d.forward.total));

    let mut gradients = Map::new();
    let mut updated = Map::new();
    for (p, param) in net.params.iter().enumerate() {
        gradients.insert(param.name.clone(), json!(d.params[p].value));
        updated.insert(param.name.clone(), json!(d.params[p].updated));
    }

    // A factor; `n` is its number on the page (0: not numbered).
    let factor = |f: &Factor, n: usize| -> Value {
        let mut m = Map::new();
        if n > 0 {
            m.insert("n".into(), json!(n));
        }
        m.insert("of".into(), json!(names.plain(f.of)));
        m.insert("wrt".into(), json!(names.plain(f.wrt)));
        m.insert("rule".into(), json!(f.rule.name()));
        m.insert("latex".into(), json!(sol.partial_latex(f.of, f.wrt)));
        m.insert("symbolic".into(), json!(f.symbolic.plain(&names)));
        m.insert("value".into(), json!(f.value));
        Value::Object(m)
    };

    // Each neuron's backward step, once: ∂E_total/∂out_X (the loss
    // derivative, or the sum over the neurons X feeds), ∂out_X/∂net_X, δ_X.
    let mut deltas = Map::new();
    for (x, neuron) in net.neurons.iter().enumerate() {
        let g = &d.neurons[x];
        let xs = x as u32;
        let d_out = match &g.d_out {
            DOut::Loss(f) => factor(f, 0),
            DOut::Sum(edges) => {
                let terms: Vec<Value> = edges
                    .iter()
                    .map(|e| {
                        json!({
                            "via": net.neurons[e.to as usize].name,
                            "delta": d.neurons[e.to as usize].delta,
                            "factor": factor(&e.factor, 0),
                            "value": e.value,
                        })
                    })
                    .collect();
                json!({
                    "of": "E_total",
                    "wrt": names.plain(Sym::Out(xs)),
                    "rule": Rule::SumOverOutputs.name(),
                    "latex": sol.partial_latex(Sym::ErrTotal, Sym::Out(xs)),
                    "symbolic": sol.sum_symbolic(xs),
                    "value": g.d_out_value,
                    "terms": terms,
                })
            }
        };
        let d_act = match &g.d_act {
            DAct::Elementwise(f) => factor(f, 0),
            DAct::Softmax(col) => {
                let parts: Vec<Value> = col.iter().map(|f| factor(f, 0)).collect();
                json!({
                    "of": "E_total",
                    "wrt": names.plain(Sym::Net(xs)),
                    "rule": "d-softmax",
                    "latex": sol.partial_latex(Sym::ErrTotal, Sym::Net(xs)),
                    "symbolic": sol.softmax_symbolic(xs),
                    "value": g.delta,
                    "terms": parts,
                })
            }
        };
        deltas.insert(
            neuron.name.clone(),
            json!({
                "dE_total/dout": g.d_out_value,
                "dE_total/dnet": g.delta,
                "d_out": d_out,
                "d_act": d_act,
            }),
        );
    }

    let mut derivations = Vec::new();
    for (p, param) in net.params.iter().enumerate() {
        let g = &d.params[p];
        let mut n = 0usize;
        let mut terms = Vec::new();
        let mut flat = Vec::new();
        for edge in &g.terms {
            let y = edge.to;
            let ng = &d.neurons[y as usize];
            let mut fs = Vec::new();
            // ∂E_total/∂out_Y
            n += 1;
            let d_out = match &ng.d_out {
                DOut::Loss(f) => factor(f, n),
                // The sum is in `deltas`, once per neuron, not once per param.
                DOut::Sum(_) => json!({
                    "n": n,
                    "of": "E_total",
                    "wrt": names.plain(Sym::Out(y)),
                    "rule": Rule::SumOverOutputs.name(),
                    "latex": sol.partial_latex(Sym::ErrTotal, Sym::Out(y)),
                    "symbolic": null,
                    "see": net.neurons[y as usize].name,
                    "value": ng.d_out_value,
                }),
            };
            fs.push(d_out);
            // ∂out_Y/∂net_Y
            n += 1;
            match &ng.d_act {
                DAct::Elementwise(f) => fs.push(factor(f, n)),
                DAct::Softmax(_) => fs.push(json!({
                    "n": n,
                    "of": "E_total",
                    "wrt": names.plain(Sym::Net(y)),
                    "rule": "d-softmax",
                    "latex": sol.partial_latex(Sym::ErrTotal, Sym::Net(y)),
                    "symbolic": null,
                    "see": net.neurons[y as usize].name,
                    "value": ng.delta,
                })),
            }
            // ∂net_Y/∂p
            n += 1;
            fs.push(factor(&edge.factor, n));
            flat.extend(fs.iter().cloned());
            terms.push(json!({
                "via": net.neurons[y as usize].name,
                "delta": ng.delta,
                "value": edge.value,
                "factors": fs,
            }));
        }
        derivations.push(json!({
            "param": param.name,
            "value": g.value,
            "updated": g.updated,
            "terms": terms,
            "factors": flat,
        }));
    }

    let mut top = Map::new();
    top.insert("title".into(), json!(sol.title()));
    top.insert("loss".into(), json!(net.loss.keyword()));
    top.insert("rate".into(), json!(net.rate));
    top.insert("hand_rounding".into(), json!(d.hand));
    top.insert("values".into(), Value::Object(values));
    top.insert("deltas".into(), Value::Object(deltas));
    top.insert("gradients".into(), Value::Object(gradients));
    top.insert("updated".into(), Value::Object(updated));
    top.insert("derivations".into(), Value::Array(derivations));
    Value::Object(top)
}

/// The JSON text, pretty-printed, ending with a newline.
pub fn render(sol: &Solution<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&to_json(sol)).unwrap_or_default();
    s.push('\n');
    s
}
