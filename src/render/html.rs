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
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    match error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
