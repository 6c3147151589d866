//! `{{align LINES}}`: the lines of an array as a displayed `align*`
//! environment, joined by `\\` (LaTeX documents).

pub(super) fn align(lines: &serde_json::Value) -> String {
    super::environment("align*", lines)
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn displays_the_lines_in_align_star() {
        let data = serde_json::json!({ "l": ["x &= 1"] });
        assert_eq!(
            render_with(Markup::Latex, "{{align l}}", data),
            "\\begin{align*}\nx &= 1\n\\end{align*}"
        );
    }
}
