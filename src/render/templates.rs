//! The handlebars registry: the embedded templates, per-language strings,
//! and the helpers (`esc`, `yaml`, `aligned`, `align`, `num`). Markdown and
//! LaTeX registries do not HTML-escape; `esc` escapes for the format.

use anyhow::{anyhow, Context as _};
use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderErrorReason,
};

use super::page::{Markup, Page};
use crate::number;

/// Largest user template read.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// The built-in Markdown template: head, one step per param, tail.
pub const SOLUTION_MD: &str = include_str!("../../templates/solution.md.hbs");
/// The built-in LaTeX template.
pub const SOLUTION_TEX: &str = include_str!("../../templates/solution.tex.hbs");

/// The page of a training run.
pub const TRAIN_MD: &str = include_str!("../../templates/train.md.hbs");

/// The partials of the built-in templates, by name.
pub const PARTIALS: &[(&str, &str)] = &[
    (
        "md-head",
        include_str!("../../templates/partials/md-head.hbs"),
    ),
    (
        "md-step",
        include_str!("../../templates/partials/md-step.hbs"),
    ),
    (
        "md-tail",
        include_str!("../../templates/partials/md-tail.hbs"),
    ),
    (
        "tex-head",
        include_str!("../../templates/partials/tex-head.hbs"),
    ),
    (
        "tex-step",
        include_str!("../../templates/partials/tex-step.hbs"),
    ),
    (
        "tex-tail",
        include_str!("../../templates/partials/tex-tail.hbs"),
    ),
];

/// Languages of the fixed prose: code and strings file.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/lang/en.json")),
    ("ko", include_str!("../../templates/lang/ko.json")),
];

/// The HTML page around a rendered body.
pub const PAGE_HTML: &str = include_str!("../../templates/page.html.hbs");
/// The page's style sheet.
pub const PAGE_CSS: &str = include_str!("../../templates/page.css");

/// Wraps an HTML body in the standalone page (HTML-escaping registry).
pub fn html_page(title: &str, lang: &str, body: &str) -> anyhow::Result<String> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("page", PAGE_HTML)
        .map_err(|e| anyhow!("{}", template_error("page.html.hbs", &e.to_string())))?;
    let data = serde_json::json!({ "title": title, "lang": lang, "css": PAGE_CSS, "body": body });
    hb.render("page", &data)
        .map_err(|e| anyhow!("{}", template_error("page.html.hbs", &e.to_string())))
}

/// The fixed prose of language `lang`.
pub fn strings(lang: &str) -> anyhow::Result<serde_json::Value> {
    let (_, text) = LANGUAGES
        .iter()
        .find(|(code, _)| *code == lang)
        .ok_or_else(|| {
            let known: Vec<&str> = LANGUAGES.iter().map(|(c, _)| *c).collect();
            anyhow!(
                "no language `{lang}`; the languages are {}",
                known.join(", ")
            )
        })?;
    serde_json::from_str(text)
        .context("the built-in strings file is not valid JSON (this is a bug in chainrule)")
}

/// Escapes user text for Markdown.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '!' | '|' | '$' | '~' | '^'
            | '&' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes user text for LaTeX.
pub fn escape_latex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A double-quoted YAML string.
pub fn yaml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The helpers that need nothing but their argument.
mod helpers {
    // The macro makes a public struct for each helper.
    #![allow(missing_docs, unreachable_pub)]
    use super::{environment, yaml_string};

    handlebars::handlebars_helper!(yaml: |s: str| yaml_string(s));
    // A number as a page shows it, written for math: `1e-300` → `1 \times 10^{-300}`.
    handlebars::handlebars_helper!(texnum: |s: str| crate::number::latex_of(s));
    handlebars::handlebars_helper!(aligned: |lines: Json| environment("aligned", lines));
    handlebars::handlebars_helper!(align: |lines: Json| environment("align*", lines));
}
use helpers::{align, aligned, texnum, yaml};

/// `\begin{ENV}` … `\end{ENV}` around lines joined by `\\`.
fn environment(env: &str, lines: &serde_json::Value) -> String {
    format!(
        "\\begin{{{env}}}\n{}\n\\end{{{env}}}",
        lines_of(lines).join(" \\\\\n")
    )
}

fn param_str<'a>(h: &'a Helper<'_>, i: usize) -> Result<&'a serde_json::Value, RenderErrorReason> {
    h.param(i)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", i))
}

fn lines_of(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|l| l.render()).collect())
        .unwrap_or_default()
}

/// A handlebars registry for `markup`, with `template` as `solution`.
pub fn registry(
    markup: Markup,
    template: Option<(&str, &str)>,
    decimals: usize,
) -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.register_helper(
        "esc",
        Box::new(
            move |h: &Helper<'_>,
                  _: &Handlebars<'_>,
                  _: &Context,
                  _: &mut RenderContext<'_, '_>,
                  out: &mut dyn Output|
                  -> HelperResult {
                let s = param_str(h, 0)?.render();
                out.write(&match markup {
                    Markup::Markdown => escape_markdown(&s),
                    Markup::Latex => escape_latex(&s),
                })?;
                Ok(())
            },
        ),
    );
    hb.register_helper("yaml", Box::new(yaml));
    hb.register_helper("texnum", Box::new(texnum));
    // Lines of an `aligned` block (inside $$…$$).
    hb.register_helper("aligned", Box::new(aligned));
    // A displayed `align*` environment (LaTeX documents).
    hb.register_helper("align", Box::new(align));
    hb.register_helper(
        "num",
        Box::new(
            move |h: &Helper<'_>,
                  _: &Handlebars<'_>,
                  _: &Context,
                  _: &mut RenderContext<'_, '_>,
                  out: &mut dyn Output|
                  -> HelperResult {
                let v = param_str(h, 0)?;
                let x = v
                    .as_f64()
                    .ok_or_else(|| RenderErrorReason::InvalidParamType("number"))?;
                out.write(&number::format(x, decimals))?;
                Ok(())
            },
        ),
    );
    for (name, text) in PARTIALS {
        hb.register_partial(name, *text)
            .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))?;
    }
    let (name, text) = match template {
        Some((name, text)) => (name, text),
        None => (
            "solution",
            match markup {
                Markup::Markdown => SOLUTION_MD,
                Markup::Latex => SOLUTION_TEX,
            },
        ),
    };
    hb.register_template_string("solution", text)
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))?;
    Ok(hb)
}

fn template_error(name: &str, msg: &str) -> String {
    // Handlebars calls the template by its registered name; say the file.
    let msg = msg.replace("\"solution\"", &format!("\"{name}\""));
    format!("template {name}: {msg}")
}

/// Renders `page` with the registry's `solution` template.
pub fn render(hb: &Handlebars<'_>, page: &Page, name: &str) -> anyhow::Result<String> {
    hb.render("solution", page)
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))
}

/// Renders `page` with the built-in template of `markup`, the same text as
/// [`render`] gives, but step by step on all cores: the head and tail with
/// the page, each step's partial with the step alone (its fields at the
/// root, next to the page's strings `t`). Large pages render in a fraction
/// of the time, since no step waits for another and the page is converted
/// to JSON once.
pub fn render_builtin(
    hb: &Handlebars<'_>,
    page: &mut Page,
    markup: Markup,
) -> anyhow::Result<String> {
    let prefix = match markup {
        Markup::Markdown => "md",
        Markup::Latex => "tex",
    };
    let fail = |name: &str, e: handlebars::RenderError| {
        anyhow!("{}", template_error(name, &e.to_string()))
    };
    let steps = std::mem::take(&mut page.backward);
    let head_name = format!("{prefix}-head");
    let tail_name = format!("{prefix}-tail");
    let step_name = format!("{prefix}-step");
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = steps.len().div_ceil(workers).max(64);
    let strings = &page.t;
    let page_ref: &Page = page;
    let (frame, rendered) = std::thread::scope(|scope| {
        let handles: Vec<_> = steps
            .chunks(chunk)
            .map(|group| {
                let step_name = &step_name;
                let fail = &fail;
                super::run_scoped(scope, move || -> anyhow::Result<String> {
                    // One context per thread holds the strings; each step's
                    // fields are put next to them in turn.
                    let mut ctx = Context::wraps(serde_json::json!({ "t": strings }))
                        .map_err(|e| fail(step_name, e))?;
                    let mut out = String::new();
                    for step in group {
                        let serde_json::Value::Object(fields) = serde_json::to_value(step)? else {
                            return Err(anyhow!(
                                "a step is not an object (this is a bug in chainrule)"
                            ));
                        };
                        if let serde_json::Value::Object(root) = ctx.data_mut() {
                            root.extend(fields);
                        }
                        out.push_str(
                            &hb.render_with_context(step_name, &ctx)
                                .map_err(|e| fail(step_name, e))?,
                        );
                    }
                    Ok(out)
                })
            })
            .collect();
        // Head and tail here, while the steps render on the other threads.
        let frame = (|| -> anyhow::Result<(String, String)> {
            let page_ctx = Context::wraps(page_ref).map_err(|e| fail("solution", e))?;
            let head = hb
                .render_with_context(&head_name, &page_ctx)
                .map_err(|e| fail(&head_name, e))?;
            let tail = hb
                .render_with_context(&tail_name, &page_ctx)
                .map_err(|e| fail(&tail_name, e))?;
            Ok((head, tail))
        })();
        let steps: Vec<anyhow::Result<String>> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|| {
                    Err(anyhow!(
                        "a render thread failed (this is a bug in chainrule)"
                    ))
                })
            })
            .collect();
        (frame, steps)
    });
    let (head, tail) = frame?;
    let mut parts = Vec::with_capacity(rendered.len());
    for r in rendered {
        parts.push(r?);
    }
    page.backward = steps;
    let mut out = String::with_capacity(
        head.len() + tail.len() + parts.iter().map(String::len).sum::<usize>(),
    );
    out.push_str(&head);
    for p in &parts {
        out.push_str(p);
    }
    out.push_str(&tail);
    Ok(out)
}
