//! `{{yaml S}}`: text as a double-quoted YAML string, for front matter
//! (quotes and backslashes escaped, control characters as `\uXXXX`).

use handlebars::JsonRender as _;

pub(super) fn yaml(v: &serde_json::Value) -> String {
    crate::render::templates::yaml_string(&v.render())
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn quotes_for_yaml() {
        let data = serde_json::json!({ "s": "A \"2-2-2\" net\\" });
        assert_eq!(
            render_with(Markup::Markdown, "title: {{yaml s}}", data),
            "title: \"A \\\"2-2-2\\\" net\\\\\""
        );
    }
}
