//! `{{texnum S}}`: a number as the page shows it, written for math:
//! `1e-300` becomes `1 \times 10^{-300}`; other text is left as it is.

use handlebars::JsonRender as _;

pub(super) fn texnum(v: &serde_json::Value) -> String {
    crate::number::latex_of(&v.render())
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn writes_exponents_as_powers_of_ten() {
        let data = serde_json::json!({ "a": "1e-300", "b": "0.25" });
        assert_eq!(
            render_with(Markup::Latex, "{{texnum a}}; {{texnum b}}", data),
            "1 \\times 10^{-300}; 0.25"
        );
    }
}
