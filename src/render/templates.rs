//! The handlebars registry: the embedded templates, per-language strings,
//! and the helpers (`esc`, `yaml`, `aligned`, `align`, `num`). Markdown and
//! LaTeX registries do not HTML-escape; `esc` escapes for the format.

use anyhow::{anyhow, Context as _};
use handlebars::template::{Parameter, Template, TemplateElement};
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

/// Escapes user text for Markdown. `{` and `%` are escaped too, so that
/// no `{{` or `{%` is left for Liquid (Jekyll) to read as a tag.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '!' | '|' | '$' | '~' | '^'
            | '&' | '%' => {
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
            '⁺' => out.push_str("\\textsuperscript{+}"),
            '\n' | '\r' => out.push(' '),
            _ => match greek(c) {
                // Greek as math letters: pdflatex sets them without a Greek font.
                Some(cmd) => {
                    out.push_str("\\ensuremath{");
                    out.push_str(cmd);
                    out.push('}');
                }
                None => out.push(c),
            },
        }
    }
    out
}

/// The math command of a Greek letter (unaccented and accented forms).
fn greek(c: char) -> Option<&'static str> {
    const LOWER: [&str; 25] = [
        "\\alpha",
        "\\beta",
        "\\gamma",
        "\\delta",
        "\\epsilon",
        "\\zeta",
        "\\eta",
        "\\theta",
        "\\iota",
        "\\kappa",
        "\\lambda",
        "\\mu",
        "\\nu",
        "\\xi",
        "o",
        "\\pi",
        "\\rho",
        "\\varsigma",
        "\\sigma",
        "\\tau",
        "\\upsilon",
        "\\phi",
        "\\chi",
        "\\psi",
        "\\omega",
    ];
    const UPPER: [&str; 25] = [
        "\\mathrm{A}",
        "\\mathrm{B}",
        "\\Gamma",
        "\\Delta",
        "\\mathrm{E}",
        "\\mathrm{Z}",
        "\\mathrm{H}",
        "\\Theta",
        "\\mathrm{I}",
        "\\mathrm{K}",
        "\\Lambda",
        "\\mathrm{M}",
        "\\mathrm{N}",
        "\\Xi",
        "\\mathrm{O}",
        "\\Pi",
        "\\mathrm{P}",
        "",
        "\\Sigma",
        "\\mathrm{T}",
        "\\Upsilon",
        "\\Phi",
        "\\mathrm{X}",
        "\\Psi",
        "\\Omega",
    ];
    // Accented letters (tonos, dialytika) as their base letter.
    let base = match c {
        'ά' => 'α',
        'έ' => 'ε',
        'ή' => 'η',
        'ί' | 'ϊ' | 'ΐ' => 'ι',
        'ό' => 'ο',
        'ύ' | 'ϋ' | 'ΰ' => 'υ',
        'ώ' => 'ω',
        'Ά' => 'Α',
        'Έ' => 'Ε',
        'Ή' => 'Η',
        'Ί' | 'Ϊ' => 'Ι',
        'Ό' => 'Ο',
        'Ύ' | 'Ϋ' => 'Υ',
        'Ώ' => 'Ω',
        c => c,
    };
    let found = match base {
        'α'..='ω' => LOWER.get(base as usize - 'α' as usize),
        'Α'..='Ω' => UPPER.get(base as usize - 'Α' as usize),
        _ => None,
    };
    found.copied().filter(|s| !s.is_empty())
}

/// Whether `text` has Hangul, which LaTeX sets with `kotex`.
pub fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c, '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7A3}')
    })
}

/// The first character of `text` that pdflatex (utf8 input, T1 fonts,
/// Greek as math, CJK only with `kotex`) cannot set, if any.
pub fn untypesettable(text: &str, kotex: bool) -> Option<char> {
    text.chars().find(|&c| {
        let latin = (' '..='~').contains(&c)
            || ('\u{A0}'..='\u{17F}').contains(&c)
            || "–—‘’‚“”„†‡•…‰‹›€™−".contains(c);
        let cjk = matches!(c,
            '\u{1100}'..='\u{11FF}' | '\u{3000}'..='\u{303F}' | '\u{3130}'..='\u{318F}'
            | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}' | '\u{FF01}'..='\u{FF5E}');
        !(latin || c == '\t' || greek(c).is_some() || (kotex && cjk))
    })
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

/// A helper of one argument that writes `f` of it as it is: its output is
/// already in the page's format, and never escaped again.
fn writer(
    f: fn(&serde_json::Value) -> String,
) -> impl Fn(
    &Helper<'_>,
    &Handlebars<'_>,
    &Context,
    &mut RenderContext<'_, '_>,
    &mut dyn Output,
) -> HelperResult
       + Send
       + Sync {
    move |h, _, _, _, out| {
        out.write(&f(param_str(h, 0)?))?;
        Ok(())
    }
}

fn yaml(v: &serde_json::Value) -> String {
    yaml_string(&v.render())
}

// A number as a page shows it, written for math: `1e-300` → `1 \times 10^{-300}`.
fn texnum(v: &serde_json::Value) -> String {
    number::latex_of(&v.render())
}

fn aligned(lines: &serde_json::Value) -> String {
    environment("aligned", lines)
}

fn align(lines: &serde_json::Value) -> String {
    environment("align*", lines)
}

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
    hb.register_helper("yaml", Box::new(writer(yaml)));
    hb.register_helper("texnum", Box::new(writer(texnum)));
    // Lines of an `aligned` block (inside $$…$$).
    hb.register_helper("aligned", Box::new(writer(aligned)));
    // A displayed `align*` environment (LaTeX documents).
    hb.register_helper("align", Box::new(writer(align)));
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

/// A handlebars registry for a user's template `text` (read from `name`):
/// every `{{value}}` is escaped for `markup` (Markdown or LaTeX), and only
/// `{{{value}}}` writes a value as it is. The built-in partials it may call
/// are trusted and write their values as they are. A template whose inline
/// partials call themselves, or that names a partial by an expression, is
/// refused: it could recurse without end.
pub fn user_registry(
    markup: Markup,
    name: &str,
    text: &str,
    decimals: usize,
) -> anyhow::Result<Handlebars<'static>> {
    let mut hb = registry(markup, None, decimals)?;
    match markup {
        Markup::Markdown => hb.register_escape_fn(escape_markdown),
        Markup::Latex => hb.register_escape_fn(escape_latex),
    }
    for (partial, text) in PARTIALS {
        let mut t = Template::compile_with_name(*text, (*partial).to_string())
            .map_err(|e| anyhow!("{}", template_error(partial, &e.to_string())))?;
        trust(&mut t);
        hb.register_template(partial, t);
    }
    let template = Template::compile_with_name(text, "solution".to_string())
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))?;
    if let Some(problem) = recursion(&template) {
        return Err(anyhow!("template {name}: {problem}"));
    }
    hb.register_template("solution", template);
    Ok(hb)
}

/// Makes every `{{value}}` of a built-in template write as it is.
fn trust(t: &mut Template) {
    for e in &mut t.elements {
        if let TemplateElement::Expression(h) = e {
            *e = TemplateElement::HtmlExpression(h.clone());
        }
        match e {
            TemplateElement::HelperBlock(h) => {
                for t in [&mut h.template, &mut h.inverse].into_iter().flatten() {
                    trust(t);
                }
            }
            TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                if let Some(t) = &mut d.template {
                    trust(t);
                }
            }
            _ => {}
        }
    }
}

/// Why a user's template could recurse without end, if it could: an inline
/// partial that calls itself (directly or through others), or a partial
/// named by an expression.
fn recursion(t: &Template) -> Option<String> {
    use std::collections::{BTreeMap, BTreeSet};
    // The partials each inline partial calls ("" is the template itself).
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problem = None;
    fn walk(
        t: &Template,
        owner: &str,
        calls: &mut BTreeMap<String, BTreeSet<String>>,
        problem: &mut Option<String>,
    ) {
        for e in &t.elements {
            match e {
                TemplateElement::HelperBlock(h) => {
                    for t in [&h.template, &h.inverse].into_iter().flatten() {
                        walk(t, owner, calls, problem);
                    }
                }
                TemplateElement::DecoratorBlock(d) | TemplateElement::DecoratorExpression(d) => {
                    let inline = d.name.as_name() == Some("inline");
                    let defined = d.params.first().and_then(|p| match p {
                        Parameter::Literal(serde_json::Value::String(s)) => Some(s.clone()),
                        p => p.as_name().map(str::to_string),
                    });
                    match (inline, defined, &d.template) {
                        (true, Some(n), Some(body)) => {
                            calls.entry(n.clone()).or_default();
                            walk(body, &n, calls, problem);
                        }
                        (_, _, Some(body)) => walk(body, owner, calls, problem),
                        _ => {}
                    }
                }
                TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                    match &d.name {
                        Parameter::Subexpression(_) => {
                            problem.get_or_insert_with(|| {
                                "a partial named by an expression (`{{> (…)}}`) is not allowed; name it".to_string()
                            });
                        }
                        p => {
                            if let Some(n) = p.as_name() {
                                calls
                                    .entry(owner.to_string())
                                    .or_default()
                                    .insert(n.to_string());
                            }
                        }
                    }
                    if let Some(body) = &d.template {
                        walk(body, owner, calls, problem);
                    }
                }
                _ => {}
            }
        }
    }
    walk(t, "", &mut calls, &mut problem);
    if problem.is_some() {
        return problem;
    }
    // A cycle among the inline partials: depth-first, with colours.
    let inline: BTreeSet<&String> = calls.keys().filter(|k| !k.is_empty()).collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    for start in &inline {
        if state.contains_key(start.as_str()) {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start.as_str(), Vec::new())];
        state.insert(start.as_str(), 1);
        stack[0].1 = calls[start.as_str()].iter().map(String::as_str).collect();
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match next.pop() {
                Some(m) if calls.contains_key(m) && !m.is_empty() => match state.get(m) {
                    Some(1) => {
                        return Some(format!(
                            "the inline partial `{m}` calls itself (through `{node}`), which would never end"
                        ))
                    }
                    Some(_) => {}
                    None => {
                        state.insert(m, 1);
                        let more = calls[m].iter().map(String::as_str).collect();
                        stack.push((m, more));
                    }
                },
                Some(_) => {}
                None => {
                    state.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
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
