//! The batch group of an exercise with a `data` block: E_total, every
//! gradient and update combined over the samples, and what each mistake
//! gives combined the same way.

use super::*;

/// The batch: E_total and every gradient and update combined over the
/// samples, with what each mistake gives combined the same way.
pub(super) fn batch(net: &Network, d: &Derivation) -> Group {
    let rows = d.samples.len();
    let scale = match net.batch {
        crate::model::Batch::Mean => 1.0 / rows as f64,
        crate::model::Batch::Sum => 1.0,
    };
    let plain = NetNames::new(net, Notation::NetOut);
    // Each sample's table for E_total and every gradient.
    let mut qs = vec![Quantity::Value(Sym::ErrTotal)];
    qs.extend((0..net.params.len() as u32).map(|p| Quantity::Partial {
        of: Sym::ErrTotal,
        wrt: Sym::Param(p),
    }));
    let tables: Vec<_> = (0..rows)
        .map(|k| mistake_values(&net.one_sample(k), &qs))
        .collect();
    // The L2 term, the batch's: E_reg, then each param's λ·p.
    let mut penalty = vec![d.penalty.unwrap_or(0.0)];
    penalty.extend(d.params.iter().map(|g| g.penalty.unwrap_or(0.0)));
    // A mistake's combined value: the same mistake in every sample.
    let combined = |i: usize| -> Vec<(crate::check::Mistake, f64, String)> {
        let mut out = Vec::new();
        for m in &tables[0][i].1 {
            let mut sum = 0.0;
            let mut all = true;
            for t in &tables {
                match t[i]
                    .1
                    .iter()
                    .find(|x| x.mistake == m.mistake && x.words == m.words)
                {
                    Some(x) => sum += x.value,
                    None => all = false,
                }
            }
            if all && !out.iter().any(|(mm, _, _)| *mm == m.mistake) {
                out.push((m.mistake, scale * sum + penalty[i], m.words.clone()));
            }
        }
        out
    };
    let to_js = |list: Vec<(crate::check::Mistake, f64, String)>| -> Vec<MistakeJs> {
        list.into_iter()
            .map(|(m, value, words)| MistakeJs {
                code: m.code(),
                value,
                words,
            })
            .collect()
    };
    let mut sections = Vec::new();
    let total = Item {
        quantity: Quantity::Value(Sym::ErrTotal),
        name: "E_total".to_string(),
        latex: "E_{total}".to_string(),
        value: d.total,
        mistakes: to_js(combined(0)),
        formula: None,
    };
    sections.push(Section {
        id: "batch-error".to_string(),
        heading_math: String::new(),
        kind: "error",
        items: vec![total],
        blocks: Vec::new(),
    });
    for (p, param) in net.params.iter().enumerate() {
        let psym = Sym::Param(p as u32);
        let gname = format!("dE_total/d{}", plain.plain(psym));
        let g = &d.params[p];
        let mistakes = combined(p + 1);
        // An update with a wrong gradient is wrong the same way; the
        // update's own mistakes apply to the right gradient.
        let mut updates: Vec<MistakeJs> = mistakes
            .iter()
            .map(|(m, v, w)| MistakeJs {
                code: m.code(),
                value: param.value - net.rate * v,
                words: w.clone(),
            })
            .collect();
        for (m, v) in [
            (
                crate::check::Mistake::AddedUpdate,
                param.value + net.rate * g.value,
            ),
            (crate::check::Mistake::MissingRate, param.value - g.value),
        ] {
            updates.push(MistakeJs {
                code: m.code(),
                value: v,
                words: crate::check::mistake_words(m),
            });
        }
        let pname = plain.plain(psym);
        let items = vec![
            Item {
                quantity: Quantity::Partial {
                    of: Sym::ErrTotal,
                    wrt: psym,
                },
                name: gname.clone(),
                latex: format!(
                    "\\frac{{\\partial E_{{total}}}}{{\\partial {}}}",
                    plain.latex(psym)
                ),
                value: g.value,
                mistakes: to_js(mistakes),
                formula: None,
            },
            Item {
                quantity: Quantity::Updated(p as u32),
                name: format!("{pname}+"),
                latex: format!("{}^{{+}}", plain.latex(psym)),
                value: g.updated,
                mistakes: updates,
                formula: Some(first_update_js(
                    net,
                    &format!("v({})", js::string(&pname)),
                    &format!("v({})", js::string(&gname)),
                )),
            },
        ];
        sections.push(Section {
            id: format!("batch-{}", crate::render::page::anchor(&pname)),
            heading_math: format!("\\partial E_{{total}} / \\partial {}", plain.latex(psym)),
            kind: "gradient",
            items,
            blocks: Vec::new(),
        });
    }
    if d.after_problem.is_none() {
        sections.push(Section {
            id: "batch-after".to_string(),
            heading_math: String::new(),
            kind: "after",
            items: vec![Item {
                quantity: Quantity::After(Sym::ErrTotal),
                name: "E_total+".to_string(),
                latex: "E_{total}^{+}".to_string(),
                value: d.total_after,
                mistakes: Vec::new(),
                formula: None,
            }],
            blocks: Vec::new(),
        });
    }
    let mut fixed = fixed_values(net);
    // Targets differ by sample; the batch reads params and the rate only.
    fixed.retain(|k, _| !k.starts_with("target_"));
    Group {
        id: "batch".to_string(),
        fixed,
        sections,
    }
}
