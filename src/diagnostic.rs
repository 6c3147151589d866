//! Located user errors: a byte span in a source file and a message, rendered
//! as `FILE:LINE:COL: message`, the source line, and a caret under the place.
//!
//! Spans are byte offsets counted from 0; lines and columns are worked out
//! only when printing and are counted from 1 (columns in characters).

use std::fmt;

/// A byte range `start..end` in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte (equal to `start` for a point).
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The span of a pest pair.
    pub(crate) fn of(span: pest::Span<'_>) -> Span {
        Span::new(span.start(), span.end())
    }
}

/// One problem in a source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub span: Span,
    /// What is wrong, in the user's terms; lower case, no final period.
    pub message: String,
    /// Extra lines printed after the caret (`help: …`).
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a `help:` line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

/// All problems found in one source text, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    /// The name printed before the position (`mazur.nn`, `<stdin>`).
    pub file: String,
    /// The source text the spans point into.
    pub source: String,
    /// The problems, sorted by position.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Collects `items` for the text `source` read from `file`.
    pub fn new(file: &str, source: &str, mut items: Vec<Diagnostic>) -> Diagnostics {
        items.sort_by_key(|d| (d.span.start, d.span.end));
        items.dedup();
        Diagnostics {
            file: file.to_string(),
            source: source.to_string(),
            items,
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Most problems shown of one text; the rest are counted.
pub const MAX_SHOWN: usize = 50;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, d) in self.items.iter().take(MAX_SHOWN).enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            render_one(f, &self.file, &self.source, d)?;
        }
        if self.items.len() > MAX_SHOWN {
            let more = self.items.len() - MAX_SHOWN;
            writeln!(
                f,
                "\n{}: and {more} more problem{} after these",
                escape_for_terminal(&self.file),
                if more == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Widest source line shown in full; longer lines are cut around the caret.
const MAX_LINE_WIDTH: usize = 100;

/// How a character is shown in a message: control and invisible
/// characters as `\u{1b}`, so that no input can move the cursor, recolour
/// the terminal or hide itself; others as they are.
fn shown(c: char) -> Option<String> {
    (c != '\t' && (c.is_control() || invisible(c).is_some()) && c != '\u{FEFF}')
        .then(|| format!("\\u{{{:x}}}", c as u32))
}

/// `text` with control and invisible characters escaped.
pub fn escape_for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match shown(c) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    out
}

/// `text` with control and invisible characters escaped, its line breaks
/// kept.
pub fn escape_lines_for_terminal(text: &str) -> String {
    text.split('\n')
        .map(escape_for_terminal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The name of a character that cannot be seen, or is easily taken for
/// another (a no-break space for a space).
pub fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{034F}' => "COMBINING GRAPHEME JOINER",
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}' => "a COMBINING MARK",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "HANGUL FILLER",
        '\u{180E}' => "MONGOLIAN VOWEL SEPARATOR",
        '\u{2000}'..='\u{200A}' => "a typographic SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a BIDIRECTIONAL CONTROL",
        '\u{202F}' => "NARROW NO-BREAK SPACE",
        '\u{205F}' => "MEDIUM MATHEMATICAL SPACE",
        '\u{2060}' => "WORD JOINER",
        '\u{2061}'..='\u{2064}' => "an INVISIBLE MATH OPERATOR",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{FE00}'..='\u{FE0F}' => "a VARIATION SELECTOR",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE (a byte-order mark)",
        _ => return None,
    })
}

fn render_one(f: &mut fmt::Formatter<'_>, file: &str, src: &str, d: &Diagnostic) -> fmt::Result {
    let start = floor_char_boundary(src, d.span.start.min(src.len()));
    let (line, col) = line_col(src, start);
    let file = escape_for_terminal(file);
    writeln!(
        f,
        "{file}:{line}:{col}: {}",
        escape_for_terminal(&d.message)
    )?;
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let text = src[line_start..line_end].trim_end_matches('\r');
    let gutter = line.to_string();
    let pad = " ".repeat(gutter.len());
    let lead: usize = src[line_start..start].chars().map(display_width).sum();
    let end = floor_char_boundary(src, d.span.end.clamp(start, line_end.max(start)));
    let width: usize = src[start..end]
        .trim_end_matches(['\r', '\n'])
        .chars()
        .map(display_width)
        .sum::<usize>()
        .max(1);
    // A very long line is shown as a window of it around the caret.
    let total: usize = text.chars().map(display_width).sum();
    let (from, to) = if total > MAX_LINE_WIDTH {
        let from = lead.saturating_sub(MAX_LINE_WIDTH / 2);
        (from, (from + MAX_LINE_WIDTH).min(total))
    } else {
        (0, total)
    };
    // Tabs are shown as four spaces so that the caret stays under its place.
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let mut at = 0;
    for c in text.chars() {
        let w = display_width(c);
        if at >= from && at + w <= to {
            match c {
                '\t' => shown.push_str("    "),
                c => match self::shown(c) {
                    Some(e) => shown.push_str(&e),
                    None => shown.push(c),
                },
            }
        }
        at += w;
    }
    if to < total {
        shown.push('…');
    }
    // The caret, cut at the end of the window.
    let width = if lead < to && to < total {
        width.min(to - lead)
    } else {
        width
    };
    let lead = lead - from + usize::from(from > 0);
    writeln!(f, "{pad} |")?;
    writeln!(f, "{gutter} | {shown}")?;
    writeln!(f, "{pad} | {}{}", " ".repeat(lead), "^".repeat(width))?;
    // Characters under the caret that cannot be seen are named.
    let under_end = floor_char_boundary(src, d.span.end.clamp(start, line_end.max(start)));
    let under = src[start..under_end]
        .chars()
        .chain(src[start..].chars().take(1))
        .filter_map(|c| {
            invisible(c)
                .or((c.is_control() && c != '\t' && c != '\n' && c != '\r')
                    .then_some("a CONTROL CHARACTER"))
                .map(|n| (c, n))
        })
        .next();
    if let Some((c, name)) = under {
        writeln!(
            f,
            "{pad} = note: here is U+{:04X} {name}, which does not show as what it is; delete it or type it again",
            c as u32
        )?;
    }
    for note in &d.notes {
        writeln!(f, "{pad} = help: {}", escape_for_terminal(note))?;
    }
    Ok(())
}

/// Columns a character takes in a terminal: tabs four, East Asian wide two.
fn display_width(c: char) -> usize {
    if let Some(e) = shown(c) {
        return e.len();
    }
    match c {
        '\t' => 4,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{1F300}'..='\u{1FAFF}' => 2,
        '\u{FEFF}' => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_line_and_caret() {
        let src = "network \"x\"\nlayer h sigmod {\n}\n";
        let d = Diagnostic::new(Span::new(20, 26), "unknown activation `sigmod`");
        let out = Diagnostics::new("m.nn", src, vec![d]).to_string();
        assert_eq!(
            out,
            "m.nn:2:9: unknown activation `sigmod`\n  |\n2 | layer h sigmod {\n  |         ^^^^^^\n"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let src = format!("x = {}y{}", "a + ".repeat(100), " + b".repeat(100));
        let at = src.find('y').unwrap();
        let d = Diagnostic::new(Span::new(at, at + 1), "m");
        let out = Diagnostics::new("f", &src, vec![d]).to_string();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "f:1:405: m");
        assert!(lines[2].starts_with("1 | …") && lines[2].ends_with('…'));
        assert!(lines[2].chars().count() <= 4 + 2 + MAX_LINE_WIDTH);
        // The caret is under the `y`.
        let col = lines[3].find('^').unwrap();
        assert_eq!(lines[2].chars().nth(col), Some('y'));
    }

    #[test]
    fn caret_counts_wide_characters() {
        let src = "# 가중치\nx";
        let d = Diagnostic::new(Span::new(src.len() - 1, src.len()), "m");
        let out = Diagnostics::new("f", src, vec![d]).to_string();
        assert!(out.starts_with("f:2:1: m\n"));
    }
}
