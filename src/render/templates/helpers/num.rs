//! `{{num X}}`: a number with the page's decimals, trailing zeros dropped
//! (`0.5` with 9 decimals is `0.5`, `1/3` is `0.333333333`).

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
};

/// The `num` helper with the page's decimals.
pub(super) struct Num(pub(super) usize);

impl HelperDef for Num {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let x = super::arg(h, 0)?
            .as_f64()
            .ok_or(RenderErrorReason::InvalidParamType("number"))?;
        out.write(&crate::number::format(x, self.0))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn rounds_to_the_decimals_and_drops_trailing_zeros() {
        // The test registry shows 4 decimals.
        let data = serde_json::json!({ "a": 1.0 / 3.0, "b": 0.5, "c": 2.0 });
        assert_eq!(
            render_with(Markup::Markdown, "{{num a}} {{num b}} {{num c}}", data),
            "0.3333 0.5 2"
        );
    }
}
