//! Reading a page template's text: which built-in partials it calls, and
//! whether its steps can render apart from the rest of the page.

use super::PARTIALS;

/// The built-in partials `text` calls, with those they call in turn, each
/// once. Only these are compiled.
pub(super) fn partials_called(text: &str) -> Vec<(&'static str, &'static str)> {
    let mut found: Vec<(&'static str, &'static str)> = Vec::new();
    let mut queue = vec![text];
    while let Some(t) = queue.pop() {
        for name in partial_names(t) {
            if let Some(&(n, body)) = PARTIALS.iter().find(|(n, _)| *n == name) {
                if !found.iter().any(|(f, _)| *f == n) {
                    found.push((n, body));
                    queue.push(body);
                }
            }
        }
    }
    found
}

/// The names after `{{>` (or `{{~>`) in `text`.
pub(super) fn partial_names(text: &str) -> impl Iterator<Item = &str> {
    tags(text).filter_map(|tag| {
        let rest = tag.strip_prefix('>')?.trim_start();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

/// The inside of every `{{…}}` tag of `text`, without `~` and spaces.
fn tags(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("{{")?;
        let len = rest[start..].find("}}")?;
        let tag = &rest[start + 2..start + len];
        rest = &rest[start + len + 2..];
        Some(tag.trim_matches(|c: char| c == '~' || c.is_whitespace()))
    })
}

/// A template around its steps.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Apart<'t> {
    /// Before `{{#each backward}}`.
    pub(super) head: &'t str,
    /// The body of the block, rendered once a step.
    pub(super) step: &'t str,
    /// After the block's `{{/each}}`.
    pub(super) tail: &'t str,
    /// The head or tail reads `backward` itself.
    pub(super) frame_reads_steps: bool,
}

/// `text` split around its one `{{#each backward}}` block, when the block's
/// body (with the partials it calls) reads only the step's fields and
/// `@root.t`: no `../`, no other `@root.` field, no `@index`, `@first`,
/// `@last`, `@key` or `this` of the block itself, no `{{else}}`. Rendered
/// with the step's fields at the root next to `t`, such a body writes what
/// it writes inside the block.
pub(super) fn steps_apart(text: &str) -> Option<Apart<'_>> {
    let Apart {
        head, step, tail, ..
    } = around_steps(text)?;
    let mut body = step.to_string();
    for (_, partial) in partials_called(step) {
        body.push_str(partial);
    }
    if !reads_only_the_step(&body) {
        return None;
    }
    let mut frame = format!("{head}{tail}");
    for (_, partial) in partials_called(&frame.clone()) {
        frame.push_str(partial);
    }
    Some(Apart {
        head,
        step,
        tail,
        frame_reads_steps: reads_backward(&frame),
    })
}

/// `text` split around its one `{{#each backward}}` block, without
/// reading what the block's body or the rest read: for the built-in pages,
/// whose steps are known to render apart.
pub(super) fn around_steps(text: &str) -> Option<Apart<'_>> {
    const OPEN: &str = "{{#each backward}}";
    let start = text.find(OPEN)?;
    if text[start + 1..].contains(OPEN) {
        return None;
    }
    let body_start = start + OPEN.len();
    let (body_end, after) = block_end(&text[body_start..])?;
    Some(Apart {
        head: &text[..start],
        step: &text[body_start..body_start + body_end],
        tail: &text[body_start + after..],
        frame_reads_steps: false,
    })
}

/// Where the `{{/each}}` closing the block that `body` starts in begins, and
/// where it ends; `None` at an `{{else}}` of the block.
fn block_end(body: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut pos = 0;
    loop {
        let start = pos + body[pos..].find("{{")?;
        let end = start + body[start..].find("}}")? + 2;
        let tag = body[start + 2..end - 2].trim_matches(|c: char| c == '~' || c.is_whitespace());
        if tag.starts_with("#each") || tag.starts_with("#with") {
            depth += 1;
        } else if tag.starts_with("/each") || tag.starts_with("/with") {
            if depth == 0 {
                return tag.starts_with("/each").then_some((start, end));
            }
            depth -= 1;
        } else if depth == 0 && (tag == "else" || tag.starts_with("else ")) {
            return None;
        }
        pos = end;
    }
}

/// Whether the tags of `body` read only the step's fields and `@root.t`.
fn reads_only_the_step(body: &str) -> bool {
    let mut depth = 0usize;
    for tag in tags(body) {
        if tag.contains("../") {
            return false;
        }
        if tag
            .match_indices("@root.")
            .any(|(i, m)| !tag[i + m.len()..].starts_with("t."))
        {
            return false;
        }
        if tag.starts_with("#each") || tag.starts_with("#with") {
            depth += 1;
            continue;
        }
        if tag.starts_with("/each") || tag.starts_with("/with") {
            depth = depth.saturating_sub(1);
            continue;
        }
        let block_own = ["@index", "@first", "@last", "@key"]
            .iter()
            .any(|w| tag.contains(w))
            || tag
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .any(|w| w == "this" || w == "." || w.starts_with("this."));
        if depth == 0 && block_own {
            return false;
        }
    }
    true
}

/// Whether the tags of `text` read the page's `backward` (not `t.backward`).
fn reads_backward(text: &str) -> bool {
    let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    // A partial's name is not a field.
    tags(text).filter(|tag| !tag.starts_with('>')).any(|tag| {
        tag.match_indices("backward").any(|(i, m)| {
            let before = &tag[..i];
            let after = tag[i + m.len()..].chars().next();
            let whole = !after.is_some_and(name_char) && !before.ends_with(name_char);
            whole
                && (!before.ends_with('.')
                    || before.ends_with("@root.")
                    || before.ends_with("this."))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_pages_render_their_steps_apart() {
        for text in [super::super::SOLUTION_MD, super::super::SOLUTION_TEX] {
            let apart = steps_apart(text).expect("splits");
            assert!(apart.step.starts_with("{{> ") && !apart.frame_reads_steps);
            assert_eq!(around_steps(text), Some(apart));
            let apart = steps_apart(text).expect("splits");
            assert_eq!(
                format!(
                    "{}{{{{#each backward}}}}{}{{{{/each}}}}{}",
                    apart.head, apart.step, apart.tail
                ),
                text
            );
        }
    }

    #[test]
    fn a_step_body_that_reads_the_page_renders_whole() {
        for text in [
            "{{#each backward}}{{@index}}{{/each}}",
            "{{#each backward}}{{../title}}{{/each}}",
            "{{#each backward}}{{@root.title}}{{/each}}",
            "{{#each backward}}{{this}}{{/each}}",
            "{{#each backward}}x{{else}}none{{/each}}",
            "{{#each backward}}{{/each}}{{#each backward}}{{/each}}",
            "no steps",
        ] {
            assert_eq!(steps_apart(text), None, "{text}");
        }
        // A nested block's own @last and the strings are the step's.
        let text = "{{#each backward}}{{@root.t.x}}{{#each factors}}{{#unless @last}},{{/unless}}{{/each}}{{/each}}!";
        let apart = steps_apart(text).expect("splits");
        assert_eq!(apart.tail, "!");
    }

    #[test]
    fn the_head_may_read_the_steps() {
        let text = "{{#each backward}}{{anchor}}{{/each}}{{backward.length}}{{t.backward}}";
        assert!(steps_apart(text).expect("splits").frame_reads_steps);
        let text =
            "{{#each backward}}{{anchor}}{{/each}}{{t.backward_intro}}{{> md-backward-intro}}";
        assert!(!steps_apart(text).expect("splits").frame_reads_steps);
    }

    #[test]
    fn only_the_partials_called_are_compiled() {
        let names: Vec<&str> = partials_called(super::super::SOLUTION_MD)
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(&names[..3], ["md-head", "md-step", "md-tail"]);
        assert!(names.contains(&"md-title") && !names.iter().any(|n| n.starts_with("tex")));
        assert!(partials_called("{{~> tex-head ~}}")
            .iter()
            .any(|(n, _)| *n == "tex-head"));
    }
}
