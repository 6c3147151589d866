//! The handlebars registry: the embedded templates, per-language strings,
//! and the helpers (one a file in `helpers/`). Markdown and LaTeX registries
//! do not HTML-escape; `esc` escapes for the format.
//!
//! The template files are the single source of the pages: `solve`, the
//! exam's keys and `--template` all render through [`registry`] and
//! [`render`].

mod helpers;
mod split;

use anyhow::{anyhow, Context as _};
use handlebars::{Context, Handlebars, Template};

use super::page::{Markup, Page};

/// The built-in Markdown template: head, one step per param, tail.
pub const SOLUTION_MD: &str = include_str!("../../../templates/solution.md.hbs");
/// The built-in LaTeX template.
pub const SOLUTION_TEX: &str = include_str!("../../../templates/solution.tex.hbs");

/// The page of a training run.
pub const TRAIN_MD: &str = include_str!("../../../templates/train.md.hbs");

/// The partials of the built-in templates, by name. `md-head`, `md-tail`,
/// `tex-head` and `tex-tail` only call the others: a template is compiled
/// in a time that grows with the square of its length.
pub const PARTIALS: &[(&str, &str)] = &[
    (
        "md-head",
        include_str!("../../../templates/partials/md-head.hbs"),
    ),
    (
        "md-title",
        include_str!("../../../templates/partials/md-title.hbs"),
    ),
    (
        "md-network",
        include_str!("../../../templates/partials/md-network.hbs"),
    ),
    (
        "md-layers",
        include_str!("../../../templates/partials/md-layers.hbs"),
    ),
    (
        "md-drawing",
        include_str!("../../../templates/partials/md-drawing.hbs"),
    ),
    (
        "md-forward",
        include_str!("../../../templates/partials/md-forward.hbs"),
    ),
    (
        "md-backward-intro",
        include_str!("../../../templates/partials/md-backward-intro.hbs"),
    ),
    (
        "md-step",
        include_str!("../../../templates/partials/md-step.hbs"),
    ),
    (
        "md-tail",
        include_str!("../../../templates/partials/md-tail.hbs"),
    ),
    (
        "md-sample-gradients",
        include_str!("../../../templates/partials/md-sample-gradients.hbs"),
    ),
    (
        "md-summary",
        include_str!("../../../templates/partials/md-summary.hbs"),
    ),
    (
        "md-after",
        include_str!("../../../templates/partials/md-after.hbs"),
    ),
    (
        "tex-head",
        include_str!("../../../templates/partials/tex-head.hbs"),
    ),
    (
        "tex-preamble",
        include_str!("../../../templates/partials/tex-preamble.hbs"),
    ),
    (
        "tex-network",
        include_str!("../../../templates/partials/tex-network.hbs"),
    ),
    (
        "tex-network-params",
        include_str!("../../../templates/partials/tex-network-params.hbs"),
    ),
    (
        "tex-data",
        include_str!("../../../templates/partials/tex-data.hbs"),
    ),
    (
        "tex-forward",
        include_str!("../../../templates/partials/tex-forward.hbs"),
    ),
    (
        "tex-backward-intro",
        include_str!("../../../templates/partials/tex-backward-intro.hbs"),
    ),
    (
        "tex-step",
        include_str!("../../../templates/partials/tex-step.hbs"),
    ),
    (
        "tex-tail",
        include_str!("../../../templates/partials/tex-tail.hbs"),
    ),
    (
        "tex-sample-gradients",
        include_str!("../../../templates/partials/tex-sample-gradients.hbs"),
    ),
    (
        "tex-summary",
        include_str!("../../../templates/partials/tex-summary.hbs"),
    ),
    (
        "tex-after",
        include_str!("../../../templates/partials/tex-after.hbs"),
    ),
];

/// Languages of the fixed prose: code and strings file.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", include_str!("../../../templates/lang/en.json")),
    ("ko", include_str!("../../../templates/lang/ko.json")),
];

/// The HTML page around a rendered body.
pub const PAGE_HTML: &str = include_str!("../../../templates/page.html.hbs");
/// The page's style sheet.
pub const PAGE_CSS: &str = include_str!("../../../templates/page.css");

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
            '⁺' => out.push_str("\\textsuperscript{+}"),
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

/// A handlebars registry for `markup`, with `template` (or the built-in
/// `solution.md.hbs` / `solution.tex.hbs`) as `solution`. Only the partials
/// the template calls are compiled: compiling is most of the cost of a small
/// page.
///
/// When the template's steps are one `{{#each backward}}` block whose body
/// reads only the step and `@root.t` (as the built-in templates' steps do),
/// the template is also registered in three parts, so that [`render`] can
/// render the steps on all cores, each in a context of its own.
pub fn registry(
    markup: Markup,
    template: Option<(&str, &str)>,
    decimals: usize,
) -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    helpers::register(&mut hb, markup, decimals);
    let (name, text) = template.unwrap_or(match markup {
        Markup::Markdown => ("solution.md.hbs", SOLUTION_MD),
        Markup::Latex => ("solution.tex.hbs", SOLUTION_TEX),
    });
    for (partial, compiled) in compile_all(&split::partials_called(text)) {
        let compiled =
            compiled.map_err(|e| anyhow!("{}", template_error(partial, &e.to_string())))?;
        hb.register_template(partial, compiled);
    }
    hb.register_template_string("solution", text)
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))?;
    if let Some(parts) = split::steps_apart(text) {
        let registered = [(HEAD, parts.head), (STEP, parts.step), (TAIL, parts.tail)]
            .iter()
            .all(|(part, text)| register_part(&mut hb, part, text));
        if !registered {
            for part in [HEAD, STEP, TAIL] {
                hb.unregister_template(part);
            }
        } else if parts.frame_reads_steps {
            hb.register_template_string(FRAME_READS_STEPS, "")
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    Ok(hb)
}

/// Compiles `partials` on two threads (compiling is most of the cost of a
/// small page), split into two halves of about the same length.
fn compile_all(
    partials: &[(&'static str, &'static str)],
) -> Vec<(&'static str, Result<Template, handlebars::TemplateError>)> {
    let compile = |(name, text): &(&'static str, &'static str)| {
        (
            *name,
            Template::compile_with_name(text, (*name).to_string()),
        )
    };
    let mut by_length: Vec<_> = partials.to_vec();
    by_length.sort_by_key(|(_, text)| std::cmp::Reverse(text.len()));
    let (mut there, mut here) = (Vec::new(), Vec::new());
    let (mut there_len, mut here_len) = (0, 0);
    for p in by_length {
        if there_len <= here_len {
            there_len += p.1.len();
            there.push(p);
        } else {
            here_len += p.1.len();
            here.push(p);
        }
    }
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .spawn_scoped(scope, || there.iter().map(compile).collect::<Vec<_>>())
            .ok();
        let mut out: Vec<_> = here.iter().map(compile).collect();
        match thread.and_then(|t| t.join().ok()) {
            Some(done) => out.extend(done),
            None => out.extend(there.iter().map(compile)),
        }
        out
    })
}

/// Registers `text` as `part`, with every call of a built-in partial
/// without arguments replaced by the partial's own elements: a call copies
/// the context, which for a step rendered apart doubles the time and
/// memory of a large page.
fn register_part(hb: &mut Handlebars<'static>, part: &str, text: &str) -> bool {
    match Template::compile_with_name(text, part.to_string()) {
        Ok(t) => {
            let t = inline_partials(hb, t, 0);
            hb.register_template(part, t);
            true
        }
        Err(_) => false,
    }
}

/// `t` with its calls of registered partials without arguments (and not
/// standalone on an indented line) replaced by the partials' elements, to a
/// depth of 8.
fn inline_partials(hb: &Handlebars<'static>, mut t: Template, depth: usize) -> Template {
    use handlebars::template::{Parameter, TemplateElement};
    if depth == 8 {
        return t;
    }
    let mut elements = Vec::with_capacity(t.elements.len());
    let mut mapping = Vec::with_capacity(t.mapping.len());
    let old_mapping = std::mem::take(&mut t.mapping);
    for (i, e) in std::mem::take(&mut t.elements).into_iter().enumerate() {
        let called = match &e {
            TemplateElement::PartialExpression(d)
                if d.params.is_empty()
                    && d.hash.is_empty()
                    && d.template.is_none()
                    && d.indent.is_none() =>
            {
                match &d.name {
                    Parameter::Name(n) => hb.get_template(n).cloned(),
                    _ => None,
                }
            }
            _ => None,
        };
        match called {
            Some(partial) => {
                let partial = inline_partials(hb, partial, depth + 1);
                elements.extend(partial.elements);
                mapping.extend(partial.mapping);
            }
            None => {
                elements.push(e);
                if let Some(m) = old_mapping.get(i) {
                    mapping.push(m.clone());
                }
            }
        }
    }
    t.elements = elements;
    t.mapping = mapping;
    t
}

/// The parts of a template split by [`split::steps_apart`].
const HEAD: &str = "solution-head";
const STEP: &str = "solution-step";
const TAIL: &str = "solution-tail";
/// Registered (empty) when the head or tail reads `backward` itself.
const FRAME_READS_STEPS: &str = "solution-frame-reads-steps";

fn template_error(name: &str, msg: &str) -> String {
    // Handlebars calls the template by its registered name; say the file.
    let mut msg = msg.to_string();
    for registered in ["solution", HEAD, STEP, TAIL] {
        msg = msg.replace(&format!("\"{registered}\""), &format!("\"{name}\""));
    }
    format!("template {name}: {msg}")
}

/// Renders `page` with the registry's `solution` template (`name` is its
/// file, for messages): the steps on all cores when the registry holds the
/// template in parts, else in one context. Both give the same text; the
/// first hands the steps to the threads that render them, and leaves
/// `page.backward` empty.
pub fn render(hb: &Handlebars<'_>, page: &mut Page, name: &str) -> anyhow::Result<String> {
    if hb.has_template(STEP) {
        render_apart(hb, page, name)
    } else {
        render_whole(hb, page, name)
    }
}

/// Renders `page` with the `solution` template in one context.
pub fn render_whole(hb: &Handlebars<'_>, page: &Page, name: &str) -> anyhow::Result<String> {
    hb.render("solution", page)
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))
}

/// Renders the head and tail with the page and each step with the step
/// alone (its fields at the root, next to the page's strings `t`). Large
/// pages render in a fraction of the time, since no step waits for another
/// and the page is converted to JSON once.
fn render_apart(hb: &Handlebars<'_>, page: &mut Page, name: &str) -> anyhow::Result<String> {
    let fail = |e: handlebars::RenderError| anyhow!("{}", template_error(name, &e.to_string()));
    // The steps are rendered (and freed) on their threads; the head and
    // tail do not read them unless the template says so.
    let steps = if hb.has_template(FRAME_READS_STEPS) {
        page.backward.clone()
    } else {
        std::mem::take(&mut page.backward)
    };
    let strings = &page.t;
    let page_ref: &Page = page;
    let (rendered, frame) = super::parallel::chunks_owned(
        steps,
        |group| -> anyhow::Result<String> {
            // One context per thread holds the strings; each step's fields
            // are put next to them in turn.
            let mut ctx = Context::wraps(serde_json::json!({ "t": strings })).map_err(fail)?;
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
                out.push_str(&hb.render_with_context(STEP, &ctx).map_err(fail)?);
            }
            Ok(out)
        },
        || -> anyhow::Result<(String, String)> {
            let page_ctx = Context::wraps(page_ref).map_err(fail)?;
            let head = hb.render_with_context(HEAD, &page_ctx).map_err(fail)?;
            let tail = hb.render_with_context(TAIL, &page_ctx).map_err(fail)?;
            Ok((head, tail))
        },
    );
    let (head, tail) = frame?;
    let mut parts = Vec::with_capacity(rendered.len());
    for r in rendered {
        parts.push(r.unwrap_or_else(|| {
            Err(anyhow!(
                "a render thread failed (this is a bug in chainrule)"
            ))
        })?);
    }
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
