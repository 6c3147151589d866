//! The standalone HTML page: the Markdown page rendered by pulldown-cmark,
//! every math span turned into MathML by pulldown-latex (TeX source kept in
//! an `<annotation>`), the network drawn as inline SVG, CSS inline. No
//! JavaScript, nothing loaded from the network.

use pulldown_cmark::{html, Event, Options, Parser};
use pulldown_latex::config::{DisplayMode, RenderConfig};
use pulldown_latex::{mathml::push_mathml, Storage};

/// The pulldown-cmark options every Markdown reading uses.
pub fn cmark_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_MATH | Options::ENABLE_STRIKETHROUGH
}

/// MathML of a TeX math span; `None` when the TeX is not understood.
pub fn mathml(tex: &str, display: bool) -> Result<String, String> {
    let storage = Storage::new();
    let parser = pulldown_latex::Parser::new(tex, &storage);
    let events: Vec<_> = parser.collect();
    if let Some(err) = events.iter().find_map(|e| e.as_ref().err()) {
        return Err(err.to_string());
    }
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        annotation: Some(tex),
        ..Default::default()
    };
    let mut out = String::new();
    push_mathml(&mut out, events.into_iter(), config).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The HTML body of a Markdown page, math as MathML.
pub fn body(markdown: &str) -> Result<String, String> {
    let mut error = None;
    let events = Parser::new_ext(markdown, cmark_options()).map(|ev| match ev {
        Event::InlineMath(tex) => match mathml(&tex, false) {
            Ok(m) => Event::InlineHtml(m.into()),
            Err(e) => {
                error.get_or_insert(format!("{e} in `{tex}`"));
                Event::Code(tex)
            }
        },
        Event::DisplayMath(tex) => match mathml(&tex, true) {
            Ok(m) => Event::InlineHtml(m.into()),
            Err(e) => {
                error.get_or_insert(format!("{e} in `{tex}`"));
                Event::Code(tex)
            }
        },
        // Raw HTML in the Markdown passes only when every tag in it is one
        // the page's own markup uses, without scripts or event handlers;
        // other raw HTML (from a title written raw by a template) is shown
        // as text.
        Event::Html(h) | Event::InlineHtml(h) if !safe_html(&h) => Event::Text(h),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    match error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Elements raw HTML in a page may use: the anchors, the figure around the
/// drawing, and the drawing's SVG.
const SAFE_TAGS: &[&str] = &[
    "a",
    "b",
    "br",
    "circle",
    "code",
    "defs",
    "desc",
    "div",
    "ellipse",
    "em",
    "figcaption",
    "figure",
    "g",
    "i",
    "line",
    "marker",
    "p",
    "path",
    "polygon",
    "polyline",
    "rect",
    "small",
    "span",
    "strong",
    "style",
    "sub",
    "sup",
    "svg",
    "text",
    "title",
    "tspan",
];

/// Whether raw HTML `h` has only the page's own tags (`SAFE_TAGS`), no event-handler
/// attribute (`onload=`), no `style` attribute and no `javascript:` or
/// other link out of the page (a `style` element of the drawing is fine). A comment or declaration is not safe.
pub fn safe_html(h: &str) -> bool {
    let lower = h.to_ascii_lowercase();
    if lower.contains("javascript:") || lower.contains("<!") {
        return false;
    }
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(off) = lower[i..].find('<') {
        let start = i + off + 1;
        let mut j = start;
        if bytes.get(j) == Some(&b'/') {
            j += 1;
        }
        let name_start = j;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b':')
        {
            j += 1;
        }
        let name = &lower[name_start..j];
        if !SAFE_TAGS.contains(&name) {
            return false;
        }
        // The attributes, up to the end of the tag.
        let end = lower[j..].find('>').map_or(lower.len(), |e| j + e);
        let attrs = &lower[j..end];
        let mut words = attrs
            .split(|c: char| c.is_whitespace() || c == '/')
            .filter(|w| !w.is_empty());
        if words.any(|w| {
            let name = w.split('=').next().unwrap_or("");
            name.starts_with("on")
                || name == "style"
                || name == "href" && !w.contains("=\"#")
                || name == "xlink:href"
                || name == "src"
                || name == "srcdoc"
        }) {
            return false;
        }
        i = end.min(lower.len());
        if i >= lower.len() {
            break;
        }
    }
    true
}
