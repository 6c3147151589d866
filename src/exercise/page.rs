//! The exercise as one offline HTML page: the network drawn, then a box for
//! every quantity, and a small hand-written script (`templates/exercise.js`)
//! that compares what is typed with the values computed here.

use anyhow::{anyhow, Context as _};
use handlebars::Handlebars;
use serde::Serialize;

use super::{js, Exercise, Group};
use crate::render::html::mathml;

const TEMPLATE: &str = include_str!("../../templates/exercise.html.hbs");
const SCRIPT: &str = include_str!("../../templates/exercise.js");
const CSS: &str = include_str!("../../templates/exercise.css");
const PAGE_CSS: &str = include_str!("../../templates/page.css");
const STRINGS: [(&str, &str); 2] = [
    ("en", include_str!("../../templates/lang/exercise-en.json")),
    ("ko", include_str!("../../templates/lang/exercise-ko.json")),
];

#[derive(Serialize)]
struct ItemView {
    name: String,
    id: String,
    label: String,
}

#[derive(Serialize)]
struct BlockView {
    label: String,
    title: String,
    math: String,
}

#[derive(Serialize)]
struct SectionView {
    id: String,
    kind: &'static str,
    heading: String,
    heading_math: String,
    items: Vec<ItemView>,
    blocks: Vec<BlockView>,
    hints: bool,
}

#[derive(Serialize)]
struct GroupView {
    id: String,
    label: String,
    hidden: bool,
    sections: Vec<SectionView>,
}

/// What the network is, as a short list under the drawing.
#[derive(Serialize)]
pub struct Given {
    /// Rows of (label, MathML).
    pub rows: Vec<(String, String)>,
}

/// The exercise page's fixed prose in language `lang`.
pub fn strings(lang: &str) -> anyhow::Result<serde_json::Value> {
    let (_, text) = STRINGS
        .iter()
        .find(|(code, _)| *code == lang)
        .ok_or_else(|| anyhow!("no language `{lang}`; the languages are en, ko"))?;
    serde_json::from_str(text)
        .context("the exercise strings are not valid JSON (this is a bug in chainrule)")
}

/// MathML of `tex`, without the TeX source kept beside it (the page is
/// for reading, and smaller without it).
fn math(tex: &str, display: bool) -> anyhow::Result<String> {
    let m = mathml(tex, display).map_err(|e| anyhow!("turning `{tex}` into MathML: {e}"))?;
    Ok(strip_annotation(&m))
}

/// `<semantics>…<annotation …>TeX</annotation></semantics>` → `…`.
fn strip_annotation(m: &str) -> String {
    match (m.find("<annotation"), m.find("</annotation>")) {
        (Some(a), Some(b)) if a < b => {
            let mut out = String::with_capacity(m.len());
            out.push_str(&m[..a]);
            out.push_str(&m[b + "</annotation>".len()..]);
            out.replace("<semantics>", "").replace("</semantics>", "")
        }
        _ => m.to_string(),
    }
}

/// The page: `ex` with the drawing `svg`, the given numbers `given`, in
/// language `lang`; `key` names the page's saved progress.
pub fn render(
    ex: &Exercise,
    svg: &str,
    given: &Given,
    lang: &str,
    key: &str,
) -> anyhow::Result<String> {
    let t = strings(lang)?;
    let text = |k: &str| t[k].as_str().unwrap_or_default().to_string();
    let mut groups = Vec::new();
    for (gi, g) in ex.groups.iter().enumerate() {
        let label = match g.id.as_str() {
            "main" => String::new(),
            "batch" => text("batch"),
            s => format!("{} {} ({})", text("sample"), &s[1..], ex.samples[gi]),
        };
        let mut sections = Vec::new();
        for s in &g.sections {
            let heading = match s.kind {
                "forward" => format!(
                    "{} {}",
                    text("forward"),
                    s.id.rsplit("-forward-").next().unwrap_or_default()
                ),
                k => text(k),
            };
            let heading_math = if s.heading_math.is_empty() {
                String::new()
            } else {
                math(&s.heading_math, false)?
            };
            let items = s
                .items
                .iter()
                .map(|it| {
                    Ok(ItemView {
                        name: it.name.clone(),
                        id: format!("{}-{}", g.id, slug(&it.name)),
                        label: math(&format!("\\displaystyle {}", it.latex), false)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let blocks = s
                .blocks
                .iter()
                .filter(|b| !b.lines.is_empty())
                .map(|b| {
                    let body = format!(
                        "\\begin{{aligned}}\n{}\n\\end{{aligned}}",
                        b.lines.join(" \\\\\n")
                    );
                    Ok(BlockView {
                        label: b.label.clone(),
                        title: if b.title.is_empty() {
                            String::new()
                        } else {
                            math(&b.title, false)?
                        },
                        math: math(&body, true)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            sections.push(SectionView {
                id: s.id.clone(),
                kind: s.kind,
                heading,
                heading_math,
                hints: s.kind == "gradient" && blocks.len() > 1,
                items,
                blocks,
            });
        }
        groups.push(GroupView {
            id: g.id.clone(),
            label,
            hidden: gi > 0,
            sections,
        });
    }
    // The words of the mistakes, once each; boxes refer to them by index.
    let mut words: Vec<&str> = Vec::new();
    for m in ex
        .groups
        .iter()
        .flat_map(|g| &g.sections)
        .flat_map(|s| &s.items)
        .flat_map(|i| &i.mistakes)
    {
        if !words.contains(&m.words.as_str()) {
            words.push(&m.words);
        }
    }
    let data =
        format!(
        "const WORDS = [{}];\nconst EXERCISE = {{ key: {}, groups: {{\n{}\n}} }};\nconst U = {};",
        words.iter().map(|w| js::string(w)).collect::<Vec<_>>().join(", "),
        js::string(key),
        ex.groups
            .iter()
            .map(|g| group_js(g, &words))
            .collect::<Vec<_>>()
            .join(",\n"),
        ex.functions,
    );
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("exercise", TEMPLATE)
        .map_err(|e| anyhow!("templates/exercise.html.hbs: {e}"))?;
    let view = serde_json::json!({
        "lang": lang,
        "title": if ex.title.is_empty() { text("untitled") } else { ex.title.clone() },
        "t": t,
        "css": format!("{PAGE_CSS}\n{CSS}"),
        "svg": svg,
        "given": given.rows,
        "groups": groups,
        "several": ex.groups.len() > 1,
        // Inside <script>, "</" would end the element.
        "data": data.replace("</", "<\\/"),
        "t_json": t.to_string().replace("</", "<\\/"),
        "script": SCRIPT,
    });
    hb.render("exercise", &view)
        .map_err(|e| anyhow!("templates/exercise.html.hbs: {e}"))
}

/// An id-safe form of a quantity name (`dE_total/dw5` → `dE_total-dw5`).
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' => c,
            '+' => 'p',
            _ => '-',
        })
        .collect()
}

/// One group as a JavaScript object literal: its fixed values and, per box,
/// the value, the mistakes and the formula as a function of `v`.
fn group_js(g: &Group, words: &[&str]) -> String {
    let fixed: Vec<String> = g
        .fixed
        .iter()
        .map(|(k, v)| format!("{}: {v:?}", js::string(k)))
        .collect();
    let items: Vec<String> = g
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .map(|it| {
            let mistakes: Vec<String> = it
                .mistakes
                .iter()
                .map(|m| {
                    let w = words.iter().position(|w| *w == m.words).unwrap_or(0);
                    format!("[{}, {:?}, {w}]", js::string(m.code), m.value)
                })
                .collect();
            let f = match &it.formula {
                Some(f) => format!("function (v) {{ return {f}; }}"),
                None => "null".to_string(),
            };
            format!(
                "    {}: {{ value: {:?}, mistakes: [{}], f: {f} }}",
                js::string(&it.name),
                it.value,
                mistakes.join(", ")
            )
        })
        .collect();
    format!(
        "  {}: {{\n    fixed: {{ {} }},\n    items: {{\n{}\n    }}\n  }}",
        js::string(&g.id),
        fixed.join(", "),
        items.join(",\n")
    )
}
