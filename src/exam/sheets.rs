//! The files of an exam from its solved variants: the view model the
//! `templates/exam-*.hbs` templates read (documented field by field, like
//! the solution page's), the worked solution of each variant as a section of
//! the answer keys, `answers.csv`, and the variants' `.nn` files.

use anyhow::anyhow;
use handlebars::Handlebars;
use serde::Serialize;

use super::{asked_values, picture, source, Asked, Exam, ExamError, Options, Variant};
use crate::check::Quantity;
use crate::derivation::Options as DeriveOptions;
use crate::expr::{Names, Sym};
use crate::model::{Activation, Network};
use crate::notation::{latex_name, NetNames};
use crate::number;
use crate::render::latex::{chain_lines, visible_width, Printer};
use crate::render::page::{self, Markup, Page, PageOptions};
use crate::render::templates;
use crate::solution::Solution;

/// The question sheet in Markdown.
pub const QUESTIONS_MD: &str = include_str!("../../templates/exam-questions.md.hbs");
/// The question sheet in LaTeX.
pub const QUESTIONS_TEX: &str = include_str!("../../templates/exam-questions.tex.hbs");
/// The answer key in Markdown.
pub const ANSWERS_MD: &str = include_str!("../../templates/exam-answers.md.hbs");
/// The answer key in LaTeX.
pub const ANSWERS_TEX: &str = include_str!("../../templates/exam-answers.tex.hbs");
/// The Moodle XML quiz.
pub const MOODLE_XML: &str = include_str!("../../templates/exam-moodle.xml.hbs");

/// Visible characters of a net input and its output side by side, at most.
const PAIR_WIDTH: usize = 56;

/// What every file of one exam shares.
pub(crate) struct Context<'a> {
    /// The network file's name, without directories.
    pub(crate) file: &'a str,
    /// The network as given.
    pub(crate) net: &'a Network,
    pub(crate) opts: &'a Options,
    /// The fixed prose of the language.
    pub(crate) strings: serde_json::Value,
    pub(crate) asked: &'a [Asked],
}

/// Everything the exam templates show.
#[derive(Debug, Clone, Serialize)]
pub struct ExamView {
    /// The network's title (escape it: `{{esc title}}`).
    pub title: String,
    /// Fixed prose in the exam's language, by key.
    pub t: serde_json::Value,
    /// The language code.
    pub lang: String,
    /// Decimals of the answers.
    pub decimals: usize,
    /// How many variants.
    pub count: usize,
    /// The seed.
    pub seed: u64,
    /// The network file's name.
    pub file: String,
    /// The `--vary` specs as written.
    pub specs: Vec<String>,
    /// The Moodle tolerance: half a unit of the last decimal shown (`0.00005`).
    pub tolerance: String,
    /// The Moodle question category: `chainrule/` and the title, without `/`.
    pub category: String,
    /// The questions, the same for every variant.
    pub questions: Vec<QuestionView>,
    /// Lines of an `aligned` block: each neuron's net input and output, the
    /// activations' definitions, the loss. The same for every variant.
    pub equations: Vec<String>,
    /// The network drawn in LaTeX `picture` mode (names only, no values).
    pub picture: String,
    /// The variants.
    pub variants: Vec<VariantView>,
}

/// One question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionView {
    /// Its number, from 1.
    pub n: usize,
    /// The quantity's canonical name (`dE_total/dw5`).
    pub quantity: String,
    /// Its LaTeX (`\frac{\partial E_{total}}{\partial w_{5}}`).
    pub latex: String,
    /// What it is, in words (`Gradient`).
    pub text: String,
}

/// A row of a variant's table of given values.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    /// What the row holds (`Inputs`).
    pub label: String,
    /// Its names and values.
    pub items: Vec<ItemView>,
}

/// A given value.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    /// LaTeX of the name.
    pub latex: String,
    /// The value, exactly as in the variant's file.
    pub value: String,
}

/// One variant.
#[derive(Debug, Clone, Serialize)]
pub struct VariantView {
    /// Its number, from 1.
    pub number: usize,
    /// Its number as written in file names (`03`).
    pub label: String,
    /// Its network file (`variants/03.nn`).
    pub file: String,
    /// The given values: inputs, params, consts, targets, learning rate.
    pub rows: Vec<RowView>,
    /// The answers, in the order of the questions.
    pub answers: Vec<AnswerView>,
    /// The worked solution as sections of the key (answer keys only; empty
    /// for the question sheets).
    pub solution: String,
}

/// The answer to one question of one variant.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerView {
    /// The question's number.
    pub n: usize,
    /// The quantity's canonical name.
    pub quantity: String,
    /// Its LaTeX.
    pub latex: String,
    /// What it is, in words.
    pub text: String,
    /// The value rounded to the exam's decimals.
    pub value: String,
    /// The value, full precision.
    pub raw: f64,
    /// The Moodle cloze field: `{1:NUMERICAL:=0.2984:0.00005}`.
    pub cloze: String,
}

/// Renders every file of the exam.
pub(crate) fn write(
    ctx: &Context<'_>,
    variants: &[Variant],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Exam, ExamError> {
    let opts = ctx.opts;
    let decimals = opts.decimals;
    let names = NetNames::new(ctx.net, Default::default());
    let text = |key: &str| -> String {
        ctx.strings
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let questions: Vec<QuestionView> = ctx
        .asked
        .iter()
        .enumerate()
        .map(|(i, a)| QuestionView {
            n: i + 1,
            quantity: a.name.clone(),
            latex: quantity_latex(&names, a.quantity),
            text: text(kind_key(a.quantity)),
        })
        .collect();
    let tolerance = tolerance(decimals);
    let only: Vec<String> = ctx
        .asked
        .iter()
        .filter_map(|a| match a.quantity {
            Quantity::Partial {
                of: Sym::ErrTotal,
                wrt: Sym::Param(p),
            }
            | Quantity::Updated(p) => Some(ctx.net.params[p as usize].name.clone()),
            _ => None,
        })
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    let page_opts = PageOptions {
        decimals,
        only,
        front_matter: false,
        fragment: true,
        // A key carries the whole worked solution.
        full: true,
        steps: Vec::new(),
    };
    let hb_md = templates::registry(Markup::Markdown, None, decimals)?;
    let hb_tex = templates::registry(Markup::Latex, None, decimals)?;

    let mut views = Vec::with_capacity(variants.len());
    let mut solutions_md = Vec::with_capacity(variants.len());
    let mut solutions_tex = Vec::with_capacity(variants.len());
    let mut csv = String::from("variant,quantity,value\n");
    let mut loss_latex = String::new();
    let mut function_lines = Vec::new();
    for (k, v) in variants.iter().enumerate() {
        let sol = Solution::new(&v.net, DeriveOptions::default(), Default::default())
            .map_err(|e| anyhow!("variant {}: {e} (this is a bug in chainrule)", v.label))?;
        let values = asked_values(&sol, ctx.asked);
        let answers: Vec<AnswerView> = questions
            .iter()
            .zip(&values)
            .map(|(q, &x)| {
                let shown = number::format(x, decimals);
                AnswerView {
                    n: q.n,
                    quantity: q.quantity.clone(),
                    latex: q.latex.clone(),
                    text: q.text.clone(),
                    cloze: format!("{{1:NUMERICAL:={shown}:{tolerance}}}"),
                    value: shown,
                    raw: x,
                }
            })
            .collect();
        for a in &answers {
            // Display of f64 is the shortest text that reads back the same.
            csv.push_str(&format!("{},{},{}\n", v.number, a.quantity, a.raw));
        }
        let anchor = format!("v{}-", v.label);
        let mut md = page::build(
            &sol,
            &page_opts,
            Markup::Markdown,
            &opts.lang,
            ctx.strings.clone(),
        );
        prefix_anchors(&mut md, &anchor);
        let md_text = templates::render(&hb_md, &md, "solution.md.hbs")?;
        solutions_md.push(demote_markdown(&md_text));
        let mut tex = page::build(
            &sol,
            &page_opts,
            Markup::Latex,
            &opts.lang,
            ctx.strings.clone(),
        );
        prefix_anchors(&mut tex, &anchor);
        let tex_text = templates::render(&hb_tex, &tex, "solution.tex.hbs")?;
        solutions_tex.push(demote_latex(&tex_text));
        if k == 0 {
            loss_latex = tex.network.loss_latex.clone();
            function_lines = tex
                .network
                .functions
                .iter()
                .map(|f| f.latex.replacen(" = ", " &= ", 1))
                .collect();
        }
        views.push(VariantView {
            number: v.number,
            label: v.label.clone(),
            file: format!("variants/{}.nn", v.label),
            rows: rows(&v.net, &text),
            answers,
            solution: String::new(),
        });
        progress(k + 1, variants.len());
    }

    let mut equations = neuron_lines(ctx.net, decimals);
    equations.extend(function_lines);
    equations.push(loss_latex.replacen(" = ", " &= ", 1));
    let title = ctx
        .net
        .title
        .clone()
        .unwrap_or_else(|| "Backpropagation".to_string());
    let mut view = ExamView {
        category: format!("chainrule/{}", title.replace('/', "-")),
        title,
        t: ctx.strings.clone(),
        lang: opts.lang.clone(),
        decimals,
        count: variants.len(),
        seed: opts.seed,
        file: ctx.file.to_string(),
        specs: opts.vary.iter().map(|s| s.text.clone()).collect(),
        tolerance,
        questions,
        equations,
        picture: picture::picture(ctx.net),
        variants: views,
    };

    let mut files = Vec::new();
    let mut hb_md = hb_md;
    let mut hb_tex = hb_tex;
    let register = |hb: &mut Handlebars<'static>, name: &str, text: &str| {
        hb.register_template_string(name, text)
            .map_err(|e| anyhow!("template {name}: {e}"))
    };
    register(&mut hb_md, "exam-questions.md.hbs", QUESTIONS_MD)?;
    register(&mut hb_md, "exam-answers.md.hbs", ANSWERS_MD)?;
    register(&mut hb_tex, "exam-questions.tex.hbs", QUESTIONS_TEX)?;
    register(&mut hb_tex, "exam-answers.tex.hbs", ANSWERS_TEX)?;
    let mut hb_xml = Handlebars::new();
    hb_xml.set_strict_mode(true);
    hb_xml.register_escape_fn(escape_xml);
    register(&mut hb_xml, "exam-moodle.xml.hbs", MOODLE_XML)?;
    let render = |hb: &Handlebars<'_>, name: &str, view: &ExamView| {
        hb.render(name, view)
            .map_err(|e| anyhow!("template {name}: {e}"))
    };
    files.push((
        "questions.md".to_string(),
        render(&hb_md, "exam-questions.md.hbs", &view)?,
    ));
    files.push((
        "questions.tex".to_string(),
        render(&hb_tex, "exam-questions.tex.hbs", &view)?,
    ));
    files.push((
        "moodle.xml".to_string(),
        render(&hb_xml, "exam-moodle.xml.hbs", &view)?,
    ));
    for (v, s) in view.variants.iter_mut().zip(solutions_md) {
        v.solution = s;
    }
    files.push((
        "answers.md".to_string(),
        render(&hb_md, "exam-answers.md.hbs", &view)?,
    ));
    for (v, s) in view.variants.iter_mut().zip(solutions_tex) {
        v.solution = s;
    }
    files.push((
        "answers.tex".to_string(),
        render(&hb_tex, "exam-answers.tex.hbs", &view)?,
    ));
    files.push(("answers.csv".to_string(), csv));
    for v in variants {
        files.push((format!("variants/{}.nn", v.label), v.source.clone()));
    }
    // Files in the order of the README; moodle.xml after the keys.
    let order = |p: &str| match p {
        "questions.md" => 0,
        "questions.tex" => 1,
        "answers.md" => 2,
        "answers.tex" => 3,
        "answers.csv" => 4,
        "moodle.xml" => 5,
        _ => 6,
    };
    files.sort_by_key(|(p, _)| order(p));
    Ok(Exam { files })
}

/// Half a unit of the last decimal shown: `0.00005` for 4 decimals. An
/// answer within it of the key's value rounds to that value.
fn tolerance(decimals: usize) -> String {
    if decimals == 0 {
        "0.5".to_string()
    } else {
        format!("0.{}5", "0".repeat(decimals))
    }
}

/// The strings key of a question's words.
fn kind_key(q: Quantity) -> &'static str {
    match q {
        Quantity::Value(Sym::ErrTotal) => "exam_q_total",
        Quantity::Value(Sym::Err(_)) => "exam_q_error",
        Quantity::Value(Sym::Net(_)) => "exam_q_net",
        Quantity::Value(Sym::Out(_)) => "exam_q_out",
        Quantity::Value(_) => "exam_q_value",
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Param(_),
        } => "exam_q_gradient",
        Quantity::Partial { .. } => "exam_q_partial",
        Quantity::Updated(_) => "exam_q_updated",
        Quantity::After(_) => "exam_q_after",
    }
}

/// The LaTeX of a quantity: `E_{total}`, `\frac{\partial E_{total}}{\partial
/// w_{5}}`, `w_{5}^{+}`.
fn quantity_latex(names: &NetNames<'_>, q: Quantity) -> String {
    match q {
        Quantity::Value(s) => names.latex(s),
        Quantity::Partial { of, wrt } => format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            names.latex(of),
            names.latex(wrt)
        ),
        Quantity::Updated(p) => format!("{}^{{+}}", names.latex(Sym::Param(p))),
        Quantity::After(s) => format!("{}^{{+}}", names.latex(s)),
    }
}

/// The given values of a variant, by kind.
fn rows(net: &Network, text: &dyn Fn(&str) -> String) -> Vec<RowView> {
    let item = |name: &str, v: f64| ItemView {
        latex: latex_name(name),
        value: source::shortest(v),
    };
    let mut rows = Vec::new();
    for (key, scalars) in [
        ("inputs", &net.inputs),
        ("params", &net.params),
        ("consts", &net.consts),
    ] {
        if !scalars.is_empty() {
            rows.push(RowView {
                label: text(key),
                items: scalars.iter().map(|s| item(&s.name, s.value)).collect(),
            });
        }
    }
    rows.push(RowView {
        label: text("targets"),
        items: net
            .outputs()
            .map(|n| {
                item(
                    &format!("target_{}", net.neurons[n as usize].name),
                    net.targets[n as usize].unwrap_or(f64::NAN),
                )
            })
            .collect(),
    });
    rows.push(RowView {
        label: text("rate"),
        items: vec![ItemView {
            latex: "\\eta".to_string(),
            value: source::shortest(net.rate),
        }],
    });
    rows
}

/// Each neuron's net input and output as `aligned` lines, then the
/// definitions of the activations used.
fn neuron_lines(net: &Network, decimals: usize) -> Vec<String> {
    let names = NetNames::new(net, Default::default());
    let none = |_: Sym| None;
    let p = Printer {
        names: &names,
        decimals,
        value: &none,
    };
    // (net, its sum, out, activation) of each neuron.
    let mut rows = Vec::new();
    let mut sigmoid = false;
    for layer in &net.layers {
        for x in layer.neurons.clone() {
            let n = names.latex(Sym::Net(x));
            let sum = p.symbolic(&net.neurons[x as usize].net);
            let out = names.latex(Sym::Out(x));
            let act = match layer.activation {
                Activation::Sigmoid => {
                    sigmoid = true;
                    format!("\\sigma({n})")
                }
                Activation::Tanh => format!("\\tanh({n})"),
                Activation::Relu => format!("\\max(0, {n})"),
                Activation::LeakyRelu(a) => {
                    format!("\\max({} \\cdot {n}, {n})", number::latex(a, 9))
                }
                Activation::Identity => n.clone(),
                Activation::Softplus => format!("\\ln(1 + e^{{{n}}})"),
                Activation::Softmax => {
                    let all: Vec<String> = layer
                        .neurons
                        .clone()
                        .map(|k| format!("e^{{{}}}", names.latex(Sym::Net(k))))
                        .collect();
                    format!("\\frac{{e^{{{n}}}}}{{{}}}", all.join(" + "))
                }
                Activation::User(f) => format!(
                    "\\operatorname{{{}}}({n})",
                    net.functions[f as usize].name.replace('_', "\\_")
                ),
            };
            rows.push((x, n, sum, out, act));
        }
    }
    // Net inputs and outputs side by side when every pair fits on a line,
    // else one under the other, long sums broken between terms.
    let pairs = rows.iter().all(|(_, n, sum, out, act)| {
        [n, sum, out, act]
            .iter()
            .map(|t| visible_width(t))
            .sum::<usize>()
            <= PAIR_WIDTH
    });
    let mut lines = Vec::new();
    for (x, n, sum, out, act) in rows {
        if pairs {
            lines.push(format!("{n} &= {sum}, &\\qquad {out} &= {act}"));
        } else {
            lines.extend(chain_lines(
                &n,
                &[p.pieces(&net.neurons[x as usize].net, false)],
            ));
            lines.push(format!("{out} &= {act}"));
        }
    }
    if sigmoid {
        lines.push("\\sigma(x) &= \\frac{1}{1 + e^{-x}}".to_string());
    }
    lines
}

/// Makes the page's link targets unique in a document of many variants.
fn prefix_anchors(page: &mut Page, prefix: &str) {
    for step in &mut page.backward {
        step.anchor.insert_str(0, prefix);
        for f in &mut step.factors {
            if let Some(r) = &mut f.reference {
                r.anchor.insert_str(0, prefix);
            }
            for u in &mut f.uses {
                u.anchor.insert_str(0, prefix);
            }
        }
    }
}

/// A Markdown solution page as sections of a variant: from its first `##`
/// section on (the title and introduction dropped), every heading one level
/// down. Lines that start with `#` are headings: user text is escaped.
fn demote_markdown(page: &str) -> String {
    let start = page.find("\n## ").map_or(0, |i| i + 1);
    let mut out = String::with_capacity(page.len() - start + 64);
    for line in page[start..].lines() {
        if line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// A LaTeX solution body as sections of a variant: from its first section
/// on, sections made subsections and subsections subsubsections.
fn demote_latex(body: &str) -> String {
    let start = body.find("\\section*").unwrap_or(0);
    body[start..]
        .replace("\\subsection*{", "\\subsubsection*{")
        .replace("\\section*{", "\\subsection*{")
        .trim_end()
        .to_string()
}

/// Escapes text for XML (and the HTML inside it).
fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not XML.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_are_half_a_unit() {
        assert_eq!(tolerance(4), "0.00005");
        assert_eq!(tolerance(1), "0.05");
        assert_eq!(tolerance(0), "0.5");
    }

    #[test]
    fn headings_go_one_level_down() {
        let md = "# T\n\nintro\n\n## The network\n\n### Layer\n\ntext # not a heading\n";
        assert_eq!(
            demote_markdown(md),
            "### The network\n\n#### Layer\n\ntext # not a heading"
        );
        let tex = "intro\n\\section*{A}\n\\subsection*{B}\n";
        assert_eq!(demote_latex(tex), "\\subsection*{A}\n\\subsubsection*{B}");
    }

    #[test]
    fn xml_escapes() {
        assert_eq!(
            escape_xml("a<b & \"c\"]]>"),
            "a&lt;b &amp; &quot;c&quot;]]&gt;"
        );
    }
}
