//! Markdown flavors: the same page written for the engine that publishes it.
//!
//! The templates write the `dollar` flavor (`$…$` inline, `$$` display
//! blocks on lines of their own, `<a id>` anchors after headings); the other
//! flavors are rewritten from it here, so that every math span reaches the
//! engine's math renderer byte for byte:
//!
//! | flavor | inline | display | anchors |
//! | --- | --- | --- | --- |
//! | `dollar` | `$x$` | `$$` block | `<a id>` |
//! | `github` | `` $`x`$ `` | ```` ```math ```` block | `<a id>` |
//! | `jekyll` | `<span markdown="0">$x$</span>` | `<div markdown="0">` around a `$$` block | `{#id}` |
//! | `hugo` | `\\(x\\)`, x escaped | `\\[ … \\]`, escaped | `{#id}` |
//! | `pandoc` | `$x$` | `$$` block | `<a id>` |
//! | `commonmark` | `$x$`, x escaped | `$$` block, escaped | `<a id>` |
//!
//! "Escaped" means that each character CommonMark would act on is written
//! with a backslash, so that a parser without math support gives the TeX
//! back as it was.

use super::templates::yaml_string;

/// A Markdown flavor (`--flavor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Flavor {
    /// $…$ and $$ blocks: markdown-it, remark, Obsidian, Typora, MkDocs, Docusaurus, pandoc without front matter.
    #[default]
    Dollar,
    /// $`…`$ and ```math blocks: GitHub and GitLab.
    Github,
    /// Jekyll (kramdown): $…$ and $$ blocks in raw HTML that kramdown leaves alone, for MathJax 2 or 3.
    Jekyll,
    /// Hugo, with or without the passthrough extension: \(…\) and \[…\], escaped; heading ids.
    Hugo,
    /// pandoc: $…$ and $$ blocks, front matter without pandoc's variables (no `math`).
    Pandoc,
    /// Any CommonMark parser without math (cmark, old Hugo): $…$ and $$ blocks with the TeX escaped.
    Commonmark,
}

/// What a page's front matter says.
#[derive(Debug, Clone)]
pub struct FrontMatter<'a> {
    /// The page's title.
    pub title: &'a str,
    /// Its language code.
    pub lang: &'a str,
    /// The Jekyll layout.
    pub layout: &'a str,
}

impl Flavor {
    /// The YAML between the `---` lines (each line ends with a newline).
    pub fn front_matter(self, fm: &FrontMatter<'_>) -> String {
        let title = yaml_string(fm.title);
        match self {
            Flavor::Dollar | Flavor::Github | Flavor::Commonmark | Flavor::Hugo => {
                format!("title: {title}\nmath: true\n")
            }
            Flavor::Jekyll => format!(
                "layout: {}\ntitle: {title}\nmath: true\nuse_math: true\n",
                yaml_string(fm.layout)
            ),
            // `math` is pandoc's own variable (the MathJax script): a page
            // must not set it. pandoc reads the title as Markdown.
            Flavor::Pandoc => format!(
                "title: {}\nlang: {}\n",
                yaml_string(&super::templates::escape_markdown(fm.title)),
                yaml_string(fm.lang)
            ),
        }
    }

    /// Rewrites a page of the `dollar` flavor into this flavor (borrowed
    /// when nothing changes: pages can be large).
    pub fn convert(self, md: &str) -> std::borrow::Cow<'_, str> {
        if matches!(self, Flavor::Dollar | Flavor::Pandoc) {
            return std::borrow::Cow::Borrowed(md);
        }
        let mut out = String::with_capacity(md.len() + md.len() / 4);
        let mut lines = md.split_inclusive('\n').peekable();
        // Front matter: copied as it is.
        if md.starts_with("---\n") {
            if let Some(first) = lines.next() {
                out.push_str(first);
            }
            for line in lines.by_ref() {
                out.push_str(line);
                if line.trim_end() == "---" {
                    break;
                }
            }
        }
        let mut fenced = false;
        while let Some(line) = lines.next() {
            let bare = line.trim_end_matches(['\n', '\r']);
            if bare.starts_with("```") {
                fenced = !fenced;
                out.push_str(line);
                continue;
            }
            if fenced {
                out.push_str(line);
                continue;
            }
            if bare == "$$" {
                let mut body = Vec::new();
                let mut closed = false;
                for inner in lines.by_ref() {
                    if inner.trim_end_matches(['\n', '\r']) == "$$" {
                        closed = true;
                        break;
                    }
                    body.push(inner.trim_end_matches(['\n', '\r']));
                }
                if !closed {
                    // Not a block the templates write: leave it as it was.
                    out.push_str(line);
                    for b in &body {
                        out.push_str(b);
                        out.push('\n');
                    }
                    continue;
                }
                self.display(&body.join("\n"), &mut out);
                out.push('\n');
                continue;
            }
            let ending = &line[bare.len()..];
            let table = bare.starts_with('|');
            let bare = self.heading_anchor(bare);
            self.inline_line(&bare, table, &mut out);
            out.push_str(ending);
        }
        std::borrow::Cow::Owned(out)
    }

    /// `### Title <a id="x"></a>` → `### Title {#x}` where the engine reads it.
    fn heading_anchor(self, line: &str) -> String {
        if !matches!(self, Flavor::Hugo | Flavor::Jekyll) || !line.starts_with('#') {
            return line.to_string();
        }
        if let Some(head) = line.strip_suffix("\"></a>") {
            if let Some(at) = head.rfind(" <a id=\"") {
                let id = &head[at + 8..];
                if !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return format!("{} {{#{id}}}", &head[..at]);
                }
            }
        }
        line.to_string()
    }

    fn display(self, tex: &str, out: &mut String) {
        match self {
            Flavor::Dollar | Flavor::Pandoc => {
                out.push_str("$$\n");
                out.push_str(tex);
                out.push_str("\n$$");
            }
            Flavor::Github => {
                out.push_str("```math\n");
                out.push_str(tex);
                out.push_str("\n```");
            }
            Flavor::Jekyll => {
                out.push_str("<div class=\"math\" markdown=\"0\">\n$$\n");
                out.push_str(&escape_html(tex));
                out.push_str("\n$$\n</div>");
            }
            Flavor::Hugo => {
                out.push_str("\\\\[\n");
                out.push_str(&escape_commonmark(tex));
                out.push_str("\n\\\\]");
            }
            Flavor::Commonmark => {
                out.push_str("$$\n");
                out.push_str(&escape_commonmark(tex));
                out.push_str("\n$$");
            }
        }
    }

    fn inline(self, tex: &str, table: bool, out: &mut String) {
        match self {
            Flavor::Dollar | Flavor::Pandoc => {
                out.push('$');
                out.push_str(tex);
                out.push('$');
            }
            Flavor::Github => {
                out.push_str("$`");
                if table {
                    out.push_str(&tex.replace('|', "\\|"));
                } else {
                    out.push_str(tex);
                }
                out.push_str("`$");
            }
            Flavor::Jekyll => {
                out.push_str("<span class=\"math\" markdown=\"0\">$");
                out.push_str(&escape_html(tex));
                out.push_str("$</span>");
            }
            Flavor::Hugo => {
                out.push_str("\\\\(");
                out.push_str(&escape_commonmark_inline(tex));
                out.push_str("\\\\)");
            }
            Flavor::Commonmark => {
                out.push('$');
                out.push_str(&escape_commonmark_inline(tex));
                out.push('$');
            }
        }
    }

    /// A line outside display math: its `$…$` spans rewritten, code spans
    /// and backslash escapes kept.
    fn inline_line(self, line: &str, table: bool, out: &mut String) {
        let b = line.as_bytes();
        let mut i = 0;
        let mut copied = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'`' => {
                    let run = b[i..].iter().take_while(|&&c| c == b'`').count();
                    let fence = &line[i..i + run];
                    match line[i + run..].find(fence) {
                        Some(end) => i += run + end + run,
                        None => i += run,
                    }
                }
                b'$' => match line[i + 1..].find('$') {
                    Some(len) if len > 0 => {
                        out.push_str(&line[copied..i]);
                        self.inline(&line[i + 1..i + 1 + len], table, out);
                        i += len + 2;
                        copied = i;
                    }
                    _ => i += 1,
                },
                _ => i += 1,
            }
        }
        out.push_str(&line[copied.min(line.len())..]);
    }
}

/// TeX as HTML text: the browser gives the renderer the same characters.
fn escape_html(tex: &str) -> String {
    tex.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// TeX for a CommonMark parser without math: what it reads back is `tex`.
/// Every character it could take as markup gets a backslash; a line that
/// could start a block (a list, a quote, a heading) has its first character
/// escaped.
pub fn escape_commonmark(tex: &str) -> String {
    let mut out = String::with_capacity(tex.len() + tex.len() / 4);
    for (n, line) in tex.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&escape_line(line, true));
    }
    out
}

/// [`escape_commonmark`] for a span inside a line of prose.
fn escape_commonmark_inline(tex: &str) -> String {
    escape_line(tex, false)
}

fn escape_line(line: &str, block: bool) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let chars: Vec<char> = line.chars().collect();
    // Digits then `.` or `)` at the start of a line: an ordered list.
    let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '!' | '~' | '|' | '\'' | '"'
            | '$' => true,
            // `--` and `...` (typographers), `#`, `+`, `-`, `=` starting a block.
            '-' => next == Some('-') || (block && i == 0),
            '.' => next == Some('.') || (block && digits > 0 && i == digits),
            ')' => block && digits > 0 && i == digits,
            '+' | '#' | '=' => block && i == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The path of `target` as a page at `page` links to it: relative to the
/// page's directory, with `/` between parts. Both are taken from the
/// working directory when relative.
pub fn relative_link(page: &std::path::Path, target: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &std::path::Path| normalize(&cwd.join(p));
    let target_abs = abs(target);
    let dir = abs(page).parent().map(normalize).unwrap_or_default();
    let rel = pathdiff::diff_paths(&target_abs, &dir).unwrap_or(target_abs);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugo_rewrites_spans_blocks_and_anchors() {
        let md = "### Gradient of $w_{5}$ <a id=\"dw5\"></a>\n\n$$\n\\begin{aligned}\na_{1} &= 2 \\\\\n-b &= 3\n\\end{aligned}\n$$\n\nsee [$x_{1}$](#dw5), `$a$` and \\$5\n";
        let got = Flavor::Hugo.convert(md);
        assert_eq!(
            got,
            "### Gradient of \\\\(w\\_{5}\\\\) {#dw5}\n\n\\\\[\n\\\\begin{aligned}\na\\_{1} \\&= 2 \\\\\\\\\n\\-b \\&= 3\n\\\\end{aligned}\n\\\\]\n\nsee [\\\\(x\\_{1}\\\\)](#dw5), `$a$` and \\$5\n"
        );
    }

    #[test]
    fn github_uses_code_spans_and_math_blocks() {
        let md = "| a | $x|y$ |\n\n$$\nx_{1}\n$$\n";
        assert_eq!(
            Flavor::Github.convert(md),
            "| a | $`x\\|y`$ |\n\n```math\nx_{1}\n```\n"
        );
    }

    #[test]
    fn dollar_and_pandoc_are_unchanged() {
        let md = "# T\n\n$a_{1}$\n\n$$\nb\n$$\n";
        assert_eq!(Flavor::Dollar.convert(md), md);
        assert_eq!(Flavor::Pandoc.convert(md), md);
    }

    #[test]
    fn front_matter_keeps_pandoc_variables_free() {
        let fm = FrontMatter {
            title: "A *b*",
            lang: "ko",
            layout: "single",
        };
        assert_eq!(
            Flavor::Pandoc.front_matter(&fm),
            "title: \"A \\\\*b\\\\*\"\nlang: \"ko\"\n"
        );
        assert!(Flavor::Jekyll
            .front_matter(&fm)
            .starts_with("layout: \"single\"\n"));
    }

    #[test]
    fn links_are_relative_to_the_page() {
        use std::path::Path;
        assert_eq!(
            relative_link(Path::new("out/page.md"), Path::new("out/img/d.svg")),
            "img/d.svg"
        );
        assert_eq!(
            relative_link(Path::new("site/posts/p.md"), Path::new("site/static/d.svg")),
            "../static/d.svg"
        );
        assert_eq!(
            relative_link(Path::new("p.md"), Path::new("d.svg")),
            "d.svg"
        );
    }
}
