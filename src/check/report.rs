//! A [`Report`] as text for the student (one line a claim, a summary; colour
//! on request) or as JSON for grading scripts.

use serde_json::{json, Value};

use super::{words, Report, Verdict};

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
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
        let mark = if v.ok {
            paint(GREEN, "✓")
        } else {
            paint(RED, "✗")
        };
        out.push_str(&format!(
            "{mark} {:>width$}  {} = {}",
            v.line, v.written, v.given
        ));
        if !v.ok {
            out.push_str(" — ");
            out.push_str(&v.message);
        }
        out.push('\n');
    }
    let summary = words::summary(report.right(), report.wrong());
    let summary = if report.wrong() == 0 {
        paint(GREEN, &summary)
    } else {
        paint(RED, &summary)
    };
    out.push_str(&paint(BOLD, &summary));
    out.push('\n');
    out
}

fn verdict_json(v: &Verdict) -> Value {
    json!({
        "line": v.line,
        "quantity": v.quantity,
        "given": v.given,
        "ok": v.ok,
        "expected": if v.expected.is_finite() { json!(v.expected) } else { Value::Null },
        "diagnosis": v.diagnosis.map(|m| m.code()),
        "carried_from": v.carried_from,
        "message": v.message,
    })
}

/// `{"claims": [...], "right": N, "wrong": N}`, pretty-printed.
pub fn render_json(report: &Report) -> String {
    let claims: Vec<Value> = report.verdicts.iter().map(verdict_json).collect();
    let doc = json!({
        "claims": claims,
        "right": report.right(),
        "wrong": report.wrong(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}
