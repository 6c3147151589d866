//! The JSON form of a solution (SPEC §4): every value, gradient, update and
//! derivation, full f64 precision, keys in a stable order whatever the
//! notation.

use serde_json::{json, Map, Value};

use crate::derivation::{DAct, DOut, Factor};
use crate::expr::Names;
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

    let mut deltas = Map::new();
    for (x, neuron) in net.neurons.iter().enumerate() {
        let g = &d.neurons[x];
        deltas.insert(
            neuron.name.clone(),
            json!({ "dE_total/dout": g.d_out_value, "dE_total/dnet": g.delta }),
        );
    }

    let mut gradients = Map::new();
    let mut updated = Map::new();
    for (p, param) in net.params.iter().enumerate() {
        gradients.insert(param.name.clone(), json!(d.params[p].value));
        updated.insert(param.name.clone(), json!(d.params[p].updated));
    }

    let factor = |f: &Factor, n: usize| -> Value {
        json!({
            "n": n,
            "of": names.plain(f.of),
            "wrt": names.plain(f.wrt),
            "rule": f.rule.name(),
            "latex": sol.partial_latex(f.of, f.wrt),
            "symbolic": f.symbolic.plain(&names),
            "value": f.value,
        })
    };

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
                DOut::Sum(edges) => {
                    let sum: Vec<Value> = edges
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
                        "n": n,
                        "of": "E_total",
                        "wrt": names.plain(crate::expr::Sym::Out(y)),
                        "rule": crate::diff::Rule::SumOverOutputs.name(),
                        "latex": sol.partial_latex(crate::expr::Sym::ErrTotal, crate::expr::Sym::Out(y)),
                        "symbolic": sol.sum_symbolic(y),
                        "value": ng.d_out_value,
                        "sum": sum,
                    })
                }
            };
            fs.push(d_out);
            // ∂out_Y/∂net_Y
            n += 1;
            match &ng.d_act {
                DAct::Elementwise(f) => fs.push(factor(f, n)),
                DAct::Softmax(col) => {
                    let parts: Vec<Value> = col.iter().map(|f| factor(f, 0)).collect();
                    fs.push(json!({
                        "n": n,
                        "of": "E_total",
                        "wrt": names.plain(crate::expr::Sym::Net(y)),
                        "rule": "d-softmax",
                        "latex": sol.partial_latex(crate::expr::Sym::ErrTotal, crate::expr::Sym::Net(y)),
                        "symbolic": sol.softmax_symbolic(y),
                        "value": ng.delta,
                        "sum": parts,
                    }));
                }
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
