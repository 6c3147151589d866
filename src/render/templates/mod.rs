//! The handlebars registry: the embedded templates, per-language strings,
//! and the helpers (one a file in `helpers/`). Markdown and LaTeX registries
//! do not HTML-escape; `esc` escapes for the format.
//!
//! The template files are the single source of the pages: `solve`, the
//! exam's keys and `--template` all render through [`registry`] and
//! [`render`].

mod compiled;
mod helpers;
mod split;

use anyhow::{anyhow, Context as _};
use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Context, Handlebars, Template};

use super::page::{Markup, Page};

/// Largest user template read.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

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
    build(markup, template, decimals, false)
}

/// A handlebars registry for a user's template `text` (read from `name`):
/// every `{{value}}` is escaped for `markup` (Markdown or LaTeX), and only
/// `{{{value}}}` writes a value as it is. The built-in partials it may call
/// are trusted and write their values as they are (so `{{> md-head}}…` gives
/// the built-in page). A template whose inline partials call themselves, or
/// that names a partial by an expression, is refused: it could recurse
/// without end.
pub fn user_registry(
    markup: Markup,
    name: &str,
    text: &str,
    decimals: usize,
) -> anyhow::Result<Handlebars<'static>> {
    build(markup, Some((name, text)), decimals, true)
}

/// [`registry`], or with `user` [`user_registry`].
fn build(
    markup: Markup,
    template: Option<(&str, &str)>,
    decimals: usize,
    user: bool,
) -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    match (user, markup) {
        (false, _) => hb.register_escape_fn(handlebars::no_escape),
        (true, Markup::Markdown) => hb.register_escape_fn(escape_markdown),
        (true, Markup::Latex) => hb.register_escape_fn(escape_latex),
    }
    helpers::register(&mut hb, markup, decimals);
    let built_in = template.is_none();
    let (name, text) = template.unwrap_or(match markup {
        Markup::Markdown => ("solution.md.hbs", SOLUTION_MD),
        Markup::Latex => ("solution.tex.hbs", SOLUTION_TEX),
    });
    // The built-in partials the template calls, and those they call in turn.
    let mut queue: Vec<&'static str> = split::partial_names(text).filter_map(known).collect();
    while let Some(partial) = queue.pop() {
        if hb.has_template(partial) {
            continue;
        }
        let Some((partial, mut compiled)) = builtin(partial) else {
            continue;
        };
        partials_called(&compiled, &mut queue);
        if user {
            trust(&mut compiled);
        }
        hb.register_template(partial, compiled);
    }
    let solution = Template::compile_with_name(text, "solution".to_string())
        .map_err(|e| anyhow!("{}", template_error(name, &e.to_string())))?;
    if user {
        if let Some(problem) = recursion(&solution) {
            return Err(anyhow!("template {name}: {problem}"));
        }
    }
    hb.register_template("solution", solution);
    // The built-in pages' steps render apart (a test says so); a template
    // given is read for it.
    let parts = match built_in {
        true => split::around_steps(text),
        false => split::steps_apart(text),
    };
    if let Some(parts) = parts {
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

/// The built-in partial `name` (its name as `'static`), as `build.rs`
/// compiled it.
fn builtin(name: &str) -> Option<(&'static str, Template)> {
    const COMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/partials.bin"));
    let mut r = compiled::Reader::new(COMPILED);
    while !r.is_empty() {
        let found = r.str()?;
        let bytes = r.bytes()?;
        if found == name {
            return Some((found, compiled::Reader::new(bytes).template()?));
        }
    }
    None
}

/// The built-in partial named `name`, if there is one.
fn known(name: &str) -> Option<&'static str> {
    PARTIALS.iter().map(|(n, _)| *n).find(|n| *n == name)
}

/// Adds to `names` the built-in partials `t` calls.
fn partials_called(t: &Template, names: &mut Vec<&'static str>) {
    for e in &t.elements {
        match e {
            TemplateElement::HelperBlock(h) => {
                for t in [&h.template, &h.inverse].into_iter().flatten() {
                    partials_called(t, names);
                }
            }
            TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => {
                names.extend(d.name.as_name().and_then(known));
                if let Some(t) = &d.template {
                    partials_called(t, names);
                }
            }
            TemplateElement::DecoratorBlock(d) => {
                if let Some(t) = &d.template {
                    partials_called(t, names);
                }
            }
            _ => {}
        }
    }
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
                let n = partial.elements.len();
                elements.extend(partial.elements);
                if partial.mapping.len() == n {
                    mapping.extend(partial.mapping);
                } else if let Some(call) = old_mapping.get(i) {
                    // A built-in partial has no line numbers: its call's.
                    mapping.extend(std::iter::repeat(call.clone()).take(n));
                }
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
