//! A small builder that runs the real `chainrule` binary.

use std::io::Write;
use std::process::{Command, Stdio};

/// The output of one run.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// Whether the run was killed for outliving its time limit (a hang).
    pub hung: bool,
}

/// A run of `chainrule` with arguments and optional standard input.
#[derive(Default)]
pub struct Test {
    args: Vec<String>,
    stdin: Option<String>,
    dir: Option<std::path::PathBuf>,
    limit: Option<std::time::Duration>,
}

/// How long a run may take before it is killed as hung when no
/// [`Test::hang_limit`] is given: far past any run of the suite.
const DEFAULT_HANG_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

impl Test {
    pub fn new() -> Test {
        Test::default()
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Test {
        self.args
            .extend(args.into_iter().map(|s| s.as_ref().to_string()));
        self
    }

    pub fn stdin(mut self, s: &str) -> Test {
        self.stdin = Some(s.to_string());
        self
    }

    /// Kills the run after `limit` and marks it [`Run::hung`]: a guard
    /// against a hang, set about ten times what the run usually takes, never
    /// a speed goal (speed is measured in the benches).
    #[allow(dead_code)]
    pub fn hang_limit(mut self, limit: std::time::Duration) -> Test {
        self.limit = Some(limit);
        self
    }

    /// Runs in `d` instead of the project's directory.
    pub fn current_dir(mut self, d: &std::path::Path) -> Test {
        self.dir = Some(d.to_path_buf());
        self
    }

    pub fn run(self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chainrule"));
        cmd.args(&self.args)
            .current_dir(
                self.dir
                    .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
            )
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("chainrule runs");
        // The watchdog kills the child if it outlives its limit.
        let pid = child.id() as libc::pid_t;
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let hung = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watchdog = {
            let hung = hung.clone();
            let limit = self.limit.unwrap_or(DEFAULT_HANG_LIMIT);
            std::thread::spawn(move || {
                if finished.recv_timeout(limit).is_err() {
                    hung.store(true, std::sync::atomic::Ordering::SeqCst);
                    // SAFETY: kill(2) on the child's pid; the child is not
                    // reaped before this thread is told it finished.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                    }
                }
            })
        };
        if let Some(input) = &self.stdin {
            // A run that does not read its standard input may end before
            // all of it is written: a closed pipe is not a failure.
            if let Err(e) = child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
            {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
            }
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().expect("chainrule finishes");
        let _ = done.send(());
        let _ = watchdog.join();
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            hung: hung.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    /// Runs and asserts the exit status; returns the run.
    pub fn status(self, code: i32) -> Run {
        let r = self.run();
        assert_eq!(
            r.status, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r
    }
}

/// Asserts |a − b| ≤ tol.
#[allow(dead_code)]
pub fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
}

/// The number of cases a property test runs: `PROPTEST_CASES` when set
/// (for a longer run), else `default`.
#[allow(dead_code)]
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether the tests that need tools outside Rust (pdflatex, Chromium,
/// node, pdftotext, xmllint) run: only when `CHAINRULE_EXTERNAL_TESTS` is
/// set, as `scripts/test` does after installing them. A plain `cargo test`
/// skips those parts and says so on stderr; with the variable set, a missing
/// tool fails the test.
#[allow(dead_code)]
pub fn external(what: &str) -> bool {
    let on = std::env::var_os("CHAINRULE_EXTERNAL_TESTS").is_some_and(|v| v != "0");
    if !on {
        eprintln!("skipped: {what} (set CHAINRULE_EXTERNAL_TESTS=1, as scripts/test does)");
    }
    on
}

/// Compiles `DIR/NAME.tex` twice with `pdflatex -halt-on-error` (for the
/// references) and fails on an error or an overfull line over 20pt.
#[allow(dead_code)]
pub fn pdflatex(dir: &std::path::Path, name: &str) {
    if !external("pdflatex") {
        return;
    }
    for _ in 0..2 {
        let out = Command::new("pdflatex")
            .args([
                "-halt-on-error",
                "-interaction=nonstopmode",
                &format!("{name}.tex"),
            ])
            .current_dir(dir)
            .output()
            .expect("pdflatex runs (scripts/test installs texlive-latex-base)");
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}.tex does not compile:\n{log}");
        let overfull: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with("Overfull \\hbox") && hbox_points(l) > 20.0)
            .collect();
        assert!(overfull.is_empty(), "{name}: {overfull:?}");
    }
}

/// The width in points of an `Overfull \hbox (12.3pt too wide)` line.
fn hbox_points(line: &str) -> f64 {
    line.split('(')
        .nth(1)
        .and_then(|s| s.split("pt").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0)
}

/// `chainrule solve examples/mazur.nn --template TEMPLATE` with `extra` options.
#[allow(dead_code)]
pub fn mazur_with_template(template: &std::path::Path, extra: &[&str]) -> Test {
    Test::new()
        .args(["solve", "examples/mazur.nn"])
        .args(extra)
        .args(["--template", template.to_str().expect("UTF-8 path")])
}

/// The lines where `want` and `got` differ, after their common first and
/// last lines: `-` the expected, `+` what came, at most 40 of each, with
/// the line number where they start.
pub fn line_diff(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let head = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let tail = w[head..]
        .iter()
        .rev()
        .zip(g[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = format!("@@ line {} @@\n", head + 1);
    for (sign, lines) in [
        ("-", &w[head..w.len() - tail]),
        ("+", &g[head..g.len() - tail]),
    ] {
        for l in lines.iter().take(40) {
            out.push_str(&format!("{sign} {l}\n"));
        }
        if lines.len() > 40 {
            out.push_str(&format!("{sign} … {} lines more\n", lines.len() - 40));
        }
    }
    if w.len() == g.len() && head == w.len() {
        out.push_str("(the same lines; the line endings differ)\n");
    }
    out
}

#[test]
fn line_diff_shows_the_lines_that_differ() {
    let d = line_diff("a\nb\nc\nd\n", "a\nB\nx\nd\n");
    assert_eq!(d, "@@ line 2 @@\n- b\n- c\n+ B\n+ x\n");
}
