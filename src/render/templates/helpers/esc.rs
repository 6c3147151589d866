//! `{{esc TEXT}}`: user text (a title, a name) escaped for the page's
//! markup, so that it reads as written: Markdown's `_` and `*` are
//! backslashed, LaTeX's specials spelled as commands.

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, RenderContext,
};

use crate::render::page::Markup;
use crate::render::templates::{escape_latex, escape_markdown};

/// The `esc` helper of a registry for one markup.
pub(super) struct Esc(pub(super) Markup);

impl HelperDef for Esc {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let s = super::arg(h, 0)?.render();
        out.write(&match self.0 {
            Markup::Markdown => escape_markdown(&s),
            Markup::Latex => escape_latex(&s),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn escapes_for_the_markup() {
        // `%` too in Markdown: no `{%` is left for Liquid (Jekyll).
        let data = serde_json::json!({ "s": "a_b & 50%" });
        assert_eq!(
            render_with(Markup::Markdown, "{{esc s}}", data.clone()),
            "a\\_b \\& 50\\%"
        );
        assert_eq!(
            render_with(Markup::Latex, "{{esc s}}", data),
            "a\\_b \\& 50\\%"
        );
    }
}
