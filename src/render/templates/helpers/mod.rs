//! The handlebars helpers of the page templates, one a file: what each
//! writes is in its doc comment, and its test shows it.

mod align;
mod aligned;
mod esc;
mod num;
mod texnum;
mod yaml;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, RenderContext,
    RenderErrorReason,
};

use crate::render::page::Markup;

/// Registers every helper; `esc` escapes for `markup`, `num` shows
/// `decimals` decimals.
pub(super) fn register(hb: &mut Handlebars<'_>, markup: Markup, decimals: usize) {
    hb.register_helper("esc", Box::new(esc::Esc(markup)));
    // These write their output as it is: it is already in the page's
    // format, and a user template's escaping must not touch it.
    hb.register_helper("yaml", Box::new(Writer(yaml::yaml)));
    hb.register_helper("texnum", Box::new(Writer(texnum::texnum)));
    hb.register_helper("aligned", Box::new(Writer(aligned::aligned)));
    hb.register_helper("align", Box::new(Writer(align::align)));
    hb.register_helper("num", Box::new(num::Num(decimals)));
}

/// A helper of one argument that writes `f` of it as it is.
struct Writer(fn(&serde_json::Value) -> String);

impl HelperDef for Writer {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        out.write(&(self.0)(arg(h, 0)?))?;
        Ok(())
    }
}

/// Argument `i` of a helper call.
fn arg<'a>(h: &'a Helper<'_>, i: usize) -> Result<&'a serde_json::Value, RenderErrorReason> {
    h.param(i)
        .map(|p| p.value())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("helper", i))
}

/// `\begin{ENV}` … `\end{ENV}` around lines joined by `\\`.
fn environment(env: &str, lines: &serde_json::Value) -> String {
    let lines: Vec<String> = lines
        .as_array()
        .map(|a| a.iter().map(|l| l.render()).collect())
        .unwrap_or_default();
    format!(
        "\\begin{{{env}}}\n{}\n\\end{{{env}}}",
        lines.join(" \\\\\n")
    )
}

/// `template` rendered with `data` by a registry of `markup` with 4 decimals.
#[cfg(test)]
fn render_with(markup: Markup, template: &str, data: serde_json::Value) -> String {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    register(&mut hb, markup, 4);
    hb.render_template(template, &data).expect("renders")
}
