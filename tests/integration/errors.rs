//! Error messages are tests: each `tests/errors/<case>.nn` is solved with
//! `chainrule solve tests/errors/<case>.nn -f json`, which must exit with
//! status 2, print nothing on standard output, and print on standard error
//! exactly `tests/errors/<case>.stderr`. A case whose name starts with
//! `stdin` is given on standard input (`solve -`), so its messages name
//! `<stdin>`.
//!
//! `SNAPSHOTS=overwrite cargo test errors` rewrites the `.stderr` files from
//! what the program prints; review the diff before committing it.

use std::path::{Path, PathBuf};

use crate::support::Test;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/errors exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .collect();
    cases.sort();
    cases
}

#[test]
fn error_messages_match_their_snapshots() {
    let overwrite = std::env::var("SNAPSHOTS").is_ok_and(|v| v == "overwrite");
    let cases = cases();
    assert!(!cases.is_empty(), "no cases in tests/errors");
    let mut failures = Vec::new();
    for path in &cases {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/errors/{name}.nn");
        let run = if name.starts_with("stdin") {
            let text = std::fs::read_to_string(path).unwrap();
            Test::new()
                .args(["solve", "-", "-f", "json"])
                .stdin(&text)
                .run()
        } else {
            Test::new().args(["solve", &rel, "-f", "json"]).run()
        };
        if run.status != 2 || !run.stdout.is_empty() {
            failures.push(format!(
                "{rel}: exit status {} (want 2), stdout:\n{}\nstderr:\n{}",
                run.status, run.stdout, run.stderr
            ));
            continue;
        }
        let expected_path = path.with_extension("stderr");
        if overwrite {
            std::fs::write(&expected_path, &run.stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if run.stderr != expected {
            failures.push(format!(
                "{rel}: standard error differs from {name}.stderr\n--- expected\n{expected}--- got\n{}",
                run.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (SNAPSHOTS=overwrite rewrites them):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every `.stderr` file belongs to a case, so none is left behind when a
/// case is renamed.
#[test]
fn no_stray_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "stderr") {
            assert!(
                p.with_extension("nn").exists(),
                "{} has no .nn",
                p.display()
            );
        }
    }
}
