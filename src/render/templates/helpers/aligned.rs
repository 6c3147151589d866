//! `{{aligned LINES}}`: the lines of an array in an `aligned` block, joined
//! by `\\` (inside `$$…$$` on Markdown pages).

pub(super) fn aligned(lines: &serde_json::Value) -> String {
    super::environment("aligned", lines)
}

#[cfg(test)]
mod tests {
    use super::super::render_with;
    use crate::render::page::Markup;

    #[test]
    fn joins_the_lines_in_an_aligned_block() {
        let data = serde_json::json!({ "l": ["a &= 1", "b &= 2"] });
        assert_eq!(
            render_with(Markup::Markdown, "{{aligned l}}", data),
            "\\begin{aligned}\na &= 1 \\\\\nb &= 2\n\\end{aligned}"
        );
    }
}
