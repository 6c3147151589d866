//! The files of an exam from its solved variants: the view model the
//! `templates/exam-*.hbs` templates read (documented field by field, like
//! the solution page's), the worked solution of each variant as a section of
//! the answer keys, `answers.csv`, and the variants' `.nn` files.

use anyhow::anyhow;
use base64::Engine as _;
use handlebars::Handlebars;
use serde::Serialize;

use super::given::{data_view, kind_key, neuron_lines, quantity_latex, rows};
use super::marking::{tolerance_text, Precision, MAX_EXTRA};
use super::{asked_values, Asked, DrawStats, Exam, ExamError, Options, Variant};
use crate::check::Quantity;
use crate::derivation::Options as DeriveOptions;
use crate::expr::Sym;
use crate::model::Network;
use crate::notation::NetNames;
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
    /// How the variants were drawn.
    pub(crate) stats: &'a DrawStats,
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
    /// How answers are to be given, in a sentence of the exam's language
    /// (`… round each answer to 4 significant figures …`).
    pub rounding: String,
    /// How the key is rounded and marked, in a sentence.
    pub key_intro: String,
    /// How the variants were drawn (redraws, extra digits), in a sentence.
    pub drawing: String,
    /// How many variants.
    pub count: usize,
    /// The seed.
    pub seed: u64,
    /// The network file's name.
    pub file: String,
    /// The `--vary` specs as written.
    pub specs: Vec<String>,
    /// With a `data` block: every sample, and how their errors combine.
    pub data: Option<DataView>,
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

/// The samples of a `data` block, as the sheets show them.
#[derive(Debug, Clone, Serialize)]
pub struct DataView {
    /// LaTeX of the inputs each sample sets.
    pub inputs: Vec<String>,
    /// LaTeX of the targets each sample gives.
    pub targets: Vec<String>,
    /// One row per sample.
    pub rows: Vec<page::DataRow>,
    /// How E_total combines the samples' errors, in a sentence.
    pub batch: String,
    /// The same with `\\(…\\)` for math, for HTML with MathJax.
    pub batch_html: String,
    /// The combined loss, LaTeX (`E_{total} = \frac{1}{4} \sum_{s=1}^{4} E^{(s)}`).
    pub combined: String,
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
    /// The file name of its drawing in the Moodle question (`v03.svg`).
    pub picture_name: String,
    /// Its drawing, SVG with the variant's numbers, in base64.
    pub picture_base64: String,
    /// The drawing's width in px.
    pub picture_width: String,
    /// The drawing's height in px.
    pub picture_height: String,
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
    /// The key: the value rounded as asked, trailing zeros kept.
    pub value: String,
    /// The value, full precision.
    pub raw: f64,
    /// How it is asked (`4 significant figures`).
    pub asked: String,
    /// How it is asked when that is more than the exam's precision
    /// (`6 significant figures`), else empty.
    pub more: String,
    /// The Moodle tolerance: half a unit of the last asked digit (`0.00005`).
    pub tolerance: String,
    /// The Moodle cloze field: `{1:NUMERICAL:=0.2984:0.00005}`.
    pub cloze: String,
    /// The codes of the classic mistakes this answer rules out, comma-separated.
    pub rules_out: String,
}

/// Renders every file of the exam.
pub(crate) fn write(
    ctx: &Context<'_>,
    variants: &[Variant],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Exam, ExamError> {
    let opts = ctx.opts;
    // The worked solutions show every digit an answer may ask for.
    let decimals = match opts.precision {
        Precision::Sig(_) => 9,
        Precision::Decimals(d) => (d + MAX_EXTRA).max(6),
    };
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
    let asked_words = |p: Precision| match p {
        Precision::Sig(n) => text("exam_figures").replace("{n}", &n.to_string()),
        Precision::Decimals(n) => text("exam_decimals").replace("{n}", &n.to_string()),
    };
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
    let mut csv = String::from("variant,quantity,value,key,tolerance\n");
    let mut loss_latex = String::new();
    let mut function_lines = Vec::new();
    // Each variant's key and picture, on all cores, a batch at a time so
    // that progress is reported as the batches are done.
    let one = |k: usize, v: &Variant| -> anyhow::Result<Written> {
        let sol = Solution::new(&v.net, DeriveOptions::default(), Default::default())
            .map_err(|e| anyhow!("variant {}: {e} (this is a bug in chainrule)", v.label))?;
        let values = asked_values(&sol, ctx.asked);
        let answers: Vec<AnswerView> = questions
            .iter()
            .zip(&values)
            .zip(&v.marks)
            .map(|((q, &x), m)| {
                let tolerance = tolerance_text(m.exp);
                let asked = asked_words(opts.precision.more(m.extra));
                AnswerView {
                    n: q.n,
                    quantity: q.quantity.clone(),
                    latex: q.latex.clone(),
                    text: q.text.clone(),
                    cloze: format!("{{1:NUMERICAL:={}:{tolerance}}}", m.key),
                    value: m.key.clone(),
                    raw: x,
                    more: if m.extra > 0 {
                        asked.clone()
                    } else {
                        String::new()
                    },
                    asked,
                    tolerance,
                    rules_out: m.rules_out.join(", "),
                }
            })
            .collect();
        let mut csv_rows = String::new();
        for a in &answers {
            // Display of f64 is the shortest text that reads back the same.
            csv_rows.push_str(&format!(
                "{},{},{},{},{}\n",
                v.number, a.quantity, a.raw, a.value, a.tolerance
            ));
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
        let md_text = templates::render(&hb_md, &mut md, "solution.md.hbs")?;
        let md_solution = demote_markdown(&md_text);
        let mut tex = page::build(
            &sol,
            &page_opts,
            Markup::Latex,
            &opts.lang,
            ctx.strings.clone(),
        );
        prefix_anchors(&mut tex, &anchor);
        let tex_text = templates::render(&hb_tex, &mut tex, "solution.tex.hbs")?;
        let tex_solution = demote_latex(&tex_text);
        let first = (k == 0).then(|| {
            (
                tex.network.loss_latex.clone(),
                tex.network
                    .functions
                    .iter()
                    .map(|f| f.latex.replacen(" = ", " &= ", 1))
                    .collect::<Vec<_>>(),
            )
        });
        let svg = crate::render::svg::given(&v.net);
        let size = |attr: &str| {
            let at = svg
                .find(&format!(" {attr}=\""))
                .map_or(0, |i| i + attr.len() + 3);
            svg[at..].split('"').next().unwrap_or("").to_string()
        };
        let view = VariantView {
            number: v.number,
            label: v.label.clone(),
            file: format!("variants/{}.nn", v.label),
            rows: rows(&v.net, &text),
            answers,
            solution: String::new(),
            picture_name: format!("v{}.svg", v.label),
            picture_width: size("width"),
            picture_height: size("height"),
            picture_base64: base64::engine::general_purpose::STANDARD.encode(svg.as_bytes()),
        };
        Ok(Written {
            csv_rows,
            md: md_solution,
            tex: tex_solution,
            view,
            first,
        })
    };
    let indexed: Vec<(usize, &Variant)> = variants.iter().enumerate().collect();
    for batch in indexed.chunks(128) {
        let (parts, ()) = crate::render::parallel::chunks(
            batch,
            |group| group.iter().map(|&(k, v)| one(k, v)).collect::<Vec<_>>(),
            || (),
        );
        for part in parts {
            let part =
                part.ok_or_else(|| anyhow!("an exam thread failed (this is a bug in chainrule)"))?;
            for written in part {
                let written = written?;
                csv.push_str(&written.csv_rows);
                solutions_md.push(written.md);
                solutions_tex.push(written.tex);
                if let Some((loss, functions)) = written.first {
                    loss_latex = loss;
                    function_lines = functions;
                }
                views.push(written.view);
                progress(views.len(), variants.len());
            }
        }
    }

    let mut equations = neuron_lines(ctx.net, decimals);
    equations.extend(function_lines);
    let data = ctx.net.data.as_ref().map(|d| data_view(ctx.net, d, &text));
    match &data {
        // Each sample's error, then E_total combining them.
        Some(dv) => {
            equations.push(
                loss_latex
                    .replacen("E_{total}", "E^{(s)}", 1)
                    .replacen(" = ", " &= ", 1),
            );
            equations.push(dv.combined.replacen(" = ", " &= ", 1));
        }
        None => equations.push(loss_latex.replacen(" = ", " &= ", 1)),
    }
    let base_words = asked_words(opts.precision);
    let fill = |key: &str| {
        text(key)
            .replace("{asked}", &base_words)
            .replace("{max}", &MAX_EXTRA.to_string())
    };
    let stats = ctx.stats;
    let drawing = text("exam_drawing")
        .replace("{draws}", &stats.draws.to_string())
        .replace("{variants}", &variants.len().to_string())
        .replace("{mistaken}", &stats.mistaken.to_string())
        .replace("{other}", &stats.other.to_string())
        .replace("{extra}", &stats.extra_digits.to_string());
    let title = ctx
        .net
        .title
        .clone()
        .unwrap_or_else(|| "Backpropagation".to_string());
    let view = ExamView {
        category: format!("chainrule/{}", title.replace('/', "-")),
        title,
        t: ctx.strings.clone(),
        lang: opts.lang.clone(),
        rounding: fill("exam_rounding"),
        key_intro: fill("exam_key_intro"),
        drawing: drawing.clone(),
        count: variants.len(),
        seed: opts.seed,
        file: ctx.file.to_string(),
        specs: opts.vary.iter().map(|s| s.text.clone()).collect(),
        data,
        questions,
        equations,
        picture: crate::render::picture::names_only(ctx.net),
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
    // The view is turned into JSON once, and copied once: the LaTeX files
    // are rendered on a thread of their own while this one renders the
    // Markdown files and the quiz.
    let view = serde_json::to_value(&view).map_err(|e| anyhow!("{e}"))?;
    let tex_job = std::sync::Mutex::new(Some((view.clone(), solutions_tex)));
    let hb_tex = &hb_tex;
    let (tex, md) = std::thread::scope(|scope| {
        let tex = crate::render::run_scoped(scope, || {
            let (view, solutions) = tex_job
                .lock()
                .ok()
                .and_then(|mut j| j.take())
                .ok_or_else(|| anyhow!("an exam thread failed (this is a bug in chainrule)"))?;
            render_files(
                hb_tex,
                view,
                ("exam-answers.tex.hbs", solutions),
                &["exam-questions.tex.hbs"],
            )
        });
        let md = render_files(
            &hb_md,
            view,
            ("exam-answers.md.hbs", solutions_md),
            &["exam-questions.md.hbs"],
        )
        .and_then(|(answers, mut rest, ctx)| {
            rest.push(
                hb_xml
                    .render_with_context("exam-moodle.xml.hbs", &ctx)
                    .map_err(|e| anyhow!("template exam-moodle.xml.hbs: {e}"))?,
            );
            Ok((answers, rest))
        });
        (tex.join(), md)
    });
    let (answers_md, mut sheets_md) = md?;
    let (answers_tex, mut sheets_tex, _) =
        tex.ok_or_else(|| anyhow!("an exam thread failed (this is a bug in chainrule)"))??;
    files.push(("questions.md".to_string(), sheets_md.remove(0)));
    files.push(("questions.tex".to_string(), sheets_tex.remove(0)));
    files.push(("moodle.xml".to_string(), sheets_md.remove(0)));
    files.push(("answers.md".to_string(), answers_md));
    files.push(("answers.tex".to_string(), answers_tex));
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
    Ok(Exam {
        files,
        summary: drawing,
    })
}

/// Renders the answer key `key` with each variant's solution (in the
/// variants' order) in `view`, then `others` with the solutions left out:
/// the key, the others, and the context they were rendered in.
fn render_files(
    hb: &Handlebars<'_>,
    mut view: serde_json::Value,
    (key, solutions): (&str, Vec<String>),
    others: &[&str],
) -> anyhow::Result<(String, Vec<String>, handlebars::Context)> {
    let render = |name: &str, ctx: &handlebars::Context| {
        hb.render_with_context(name, ctx)
            .map_err(|e| anyhow!("template {name}: {e}"))
    };
    let set = |view: &mut serde_json::Value, solutions: &mut dyn Iterator<Item = String>| {
        if let Some(vs) = view.get_mut("variants").and_then(|v| v.as_array_mut()) {
            for v in vs.iter_mut() {
                v["solution"] = serde_json::Value::String(solutions.next().unwrap_or_default());
            }
        }
    };
    set(&mut view, &mut solutions.into_iter());
    let mut ctx = handlebars::Context::from(view);
    let answers = render(key, &ctx)?;
    set(ctx.data_mut(), &mut std::iter::empty());
    let rest = others
        .iter()
        .map(|name| render(name, &ctx))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((answers, rest, ctx))
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

/// `$x$` as `\\(x\\)`: inline math as Moodle's MathJax filter reads it.
pub(super) fn dollars_to_parens(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut open = false;
    for c in s.chars() {
        if c == '$' {
            out.push_str(if open { "\\)" } else { "\\(" });
            open = !open;
        } else {
            out.push(c);
        }
    }
    out
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

/// What one variant adds to the files: its CSV rows, its worked solutions,
/// its view, and for the first, the loss and functions in LaTeX.
struct Written {
    csv_rows: String,
    md: String,
    tex: String,
    view: VariantView,
    first: Option<(String, Vec<String>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
