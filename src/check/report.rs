//! A [`Report`] as text for the student (one line a claim, a summary; colour
//! on request) or as JSON for grading scripts.

use serde_json::{json, Value};

use super::{words, Report, Verdict};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One line a claim, `✓` or `✗`, the expected value and the diagnosis of the
/// wrong ones, then a summary. ANSI colours when `colour` is set.
pub fn render_text(report: &Report, colour: bool) -> String {
    let paint = |code: &'static str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let width = report
        .verdicts
        .iter()
        .map(|v| v.line.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for v in &report.verdicts {
        let mark = match v.ok {
            Some(true) => paint(GREEN, "✓"),
            Some(false) if v.diagnosis == Some(super::Mistake::CarriedForward) => {
                paint(YELLOW, "↳")
            }
            Some(false) => paint(RED, "✗"),
            None => paint(YELLOW, "?"),
        };
        // The student's own text, with control characters escaped: an
        // answers file cannot drive the terminal.
        let (written, given) = (controls_escaped(&v.written), controls_escaped(&v.given));
        if v.ok.is_none() && v.written.is_empty() {
            out.push_str(&format!("{mark} {:>width$}  {given}", v.line));
        } else {
            out.push_str(&format!("{mark} {:>width$}  {written} = {given}", v.line));
        }
        if v.ok != Some(true) || v.message != words::RIGHT {
            out.push_str(" — ");
            out.push_str(&controls_escaped(&v.message));
        }
        out.push('\n');
    }
    let summary = words::summary(
        report.right(),
        report.wrong(),
        report.carried(),
        report.unreadable(),
    );
    let summary = if report.all_right() {
        paint(GREEN, &summary)
    } else {
        paint(RED, &summary)
    };
    out.push_str(&paint(BOLD, &summary));
    out.push('\n');
    out
}

/// `text` with control characters written `\u{1b}`.
fn controls_escaped(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn verdict_json(v: &Verdict) -> Value {
    let mut o = json!({
        "line": v.line,
        "quantity": v.quantity,
        "given": v.given,
        "ok": v.ok,
        "expected": if v.expected.is_finite() { json!(v.expected) } else { Value::Null },
        "diagnosis": v.diagnosis.map(|m| m.code()),
        "carried_from": v.carried_from,
        "message": v.message,
    });
    if let (Some(k), Some(map)) = (v.sample, o.as_object_mut()) {
        map.insert("sample".to_string(), json!(k));
    }
    o
}

/// `{"claims": [...], "right": N, "wrong": N, "carried_forward": N,
/// "unreadable": N}`, pretty-printed. A line that cannot be read has
/// `"ok": null`.
pub fn render_json(report: &Report) -> String {
    let claims: Vec<Value> = report.verdicts.iter().map(verdict_json).collect();
    let doc = json!({
        "claims": claims,
        "right": report.right(),
        "wrong": report.wrong(),
        "carried_forward": report.carried(),
        "unreadable": report.unreadable(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}
