//! The attack suite: what a hostile or unlucky user tries, each case through
//! the real binary. Memory-hungry cases run under an address-space limit of
//! 2 GB and must end with exit 2 and a message naming the limit, never an
//! abort. CONTRIBUTING.md says how to add a case.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::Test;

const BIN: &str = env!("CARGO_BIN_EXE_chainrule");
const MAZUR: &str = include_str!("../../examples/mazur.nn");

/// A fresh directory under the target dir.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("attack-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The outcome of a run: status (or −signal) and stderr.
struct Out {
    status: i32,
    stderr: String,
}

impl Out {
    /// Asserts exit 2 with a message containing every one of `words`, and
    /// no panic or abort.
    fn refused(&self, words: &[&str]) {
        assert_eq!(self.status, 2, "exit status; stderr:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(
            !self.stderr.contains("memory allocation"),
            "{}",
            self.stderr
        );
        for w in words {
            assert!(self.stderr.contains(w), "`{w}` not in:\n{}", self.stderr);
        }
    }
}

/// Held by the runs that take much memory or time, one at a time, so that
/// the suite leaves the machine to the other tests.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// `chainrule ARGS` in `dir` under an address-space limit of 2 GB, with
/// `stdin` written to it (as much as it takes).
/// One such run at a time.
fn limited(
    dir: &Path,
    args: &[&str],
    stdin: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>>,
) -> Out {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child
    // before exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let _one_at_a_time = heavy();
    let mut child = cmd.spawn().expect("chainrule runs");
    let feeder = match (stdin, child.stdin.take()) {
        (Some(f), Some(pipe)) => Some(std::thread::spawn(move || f(pipe))),
        _ => None,
    };
    let out = child.wait_with_output().expect("chainrule finishes");
    if let Some(f) = feeder {
        let _ = f.join();
    }
    Out {
        status: out.status.code().unwrap_or_else(|| {
            -std::os::unix::process::ExitStatusExt::signal(&out.status).unwrap_or(0)
        }),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A dense network `x[n]` → `h[m]` → one output.
fn dense(n: usize, m: usize) -> String {
    format!(
        "input x[{n}] = [{}]\nlayer h[{m}] sigmoid dense x\nlayer y[1] sigmoid dense h\ntarget y = [1]\ninit uniform(-0.5, 0.5) seed 1\n",
        vec!["0.1"; n].join(", ")
    )
}

/// The entries of `dir` whose names start with `.` (temporary files).
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

// ---- 1. temporary files ----

#[test]
fn links_planted_at_temporary_names_are_never_followed() {
    let dir = tempdir("links");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // Links at the names a process-id scheme would use, for the next PIDs.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(std::process::id);
    for pid in last..last + 3000 {
        std::os::unix::fs::symlink(&victim, out_dir.join(format!(".out.md.{pid}.tmp"))).unwrap();
    }
    let links = hidden(&out_dir).len();
    Test::new()
        .args(["solve", "examples/mazur.nn", "-o"])
        .args([out_dir.join("out.md").to_str().unwrap()])
        .status(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(out_dir.join("out.md")).unwrap();
    assert!(meta.file_type().is_file());
    assert!(std::fs::read_to_string(out_dir.join("out.md"))
        .unwrap()
        .starts_with("# Mazur 2-2-2"));
    // Nothing left behind but the planted links.
    assert_eq!(hidden(&out_dir).len(), links);
}

// ---- 2. templates ----

const TITLE_XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

fn with_title(title: &str) -> String {
    MAZUR.replacen(
        "network \"Mazur 2-2-2\"",
        &format!("network \"{title}\""),
        1,
    )
}

#[test]
fn a_title_with_a_script_is_escaped_in_user_templates() {
    let dir = tempdir("xss");
    std::fs::write(dir.join("net.nn"), with_title(TITLE_XSS)).unwrap();
    // The README's example template.
    std::fs::write(
        dir.join("t.hbs"),
        "{{title}}: {{#each summary}}{{name}} {{num raw.[1]}} → {{num raw.[2]}}; {{/each}}",
    )
    .unwrap();
    let run = |format: &str, template: &str| {
        Test::new()
            .current_dir(&dir)
            .args(["solve", "net.nn", "-f", format, "--template", template])
            .status(0)
            .stdout
    };
    let html = run("html", "t.hbs");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
    let md = run("md", "t.hbs");
    assert!(!md.contains('<'), "{md}");
    let tex = run("tex", "t.hbs");
    assert!(
        tex.starts_with("\\textless{}script\\textgreater{}"),
        "{tex}"
    );
    // Asked for raw, the value is written raw, and the HTML writer shows
    // the markup as text instead of running it.
    std::fs::write(dir.join("raw.hbs"), "{{{title}}}\n").unwrap();
    let html = run("html", "raw.hbs");
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(run("md", "raw.hbs").starts_with(TITLE_XSS));
    // The built-in partials still write their LaTeX as it is.
    std::fs::write(
        dir.join("full.hbs"),
        "{{> md-head}}{{#each backward}}{{> md-step}}{{/each}}{{> md-tail}}",
    )
    .unwrap();
    let builtin = Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn"])
        .status(0)
        .stdout;
    assert_eq!(run("md", "full.hbs"), builtin);
}

#[test]
fn no_script_from_a_title_runs_in_chromium() {
    let dir = tempdir("xss-chromium");
    let script = "<script>document.body.setAttribute('data-x','ran')</script><img src=x onerror=\\\"document.body.setAttribute('data-y','ran')\\\">";
    std::fs::write(dir.join("net.nn"), with_title(script)).unwrap();
    std::fs::write(dir.join("t.hbs"), "{{title}}\n\n{{{title}}}\n").unwrap();
    let html = Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-f", "html", "--template", "t.hbs"])
        .status(0)
        .stdout;
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    if !crate::support::external("chromium") {
        return;
    }
    let page = dir.join("t.html");
    std::fs::write(&page, &html).unwrap();
    let dom = crate::html::chromium(&dir, &page, "--dump-dom");
    assert!(dom.contains("&lt;script&gt;"), "{dom}");
    assert!(!dom.contains("\"ran\""), "{dom}");
}

#[test]
fn the_html_writer_passes_only_the_pages_own_markup() {
    use chainrule::render::html::safe_html;
    assert!(safe_html("<a id=\"w5\"></a>"));
    assert!(safe_html(
        "<figure class=\"diagram\"><svg class=\"network\"><g><circle cx=\"1\"/></g></svg></figure>"
    ));
    for bad in [
        "<script>x</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<iframe src=x>",
        "<!-- x -->",
        "<a href=\"https://example.com\">x</a>",
    ] {
        assert!(!safe_html(bad), "{bad}");
    }
}

// ---- 3. bounds on work, output and input ----

#[test]
fn a_dense_1000_by_1000_layer_is_refused_before_the_work() {
    let dir = tempdir("dense1000");
    std::fs::write(dir.join("net.nn"), dense(1000, 1000)).unwrap();
    assert!(dense(1000, 1000).len() < 6000);
    limited(&dir, &["solve", "net.nn", "-f", "json"], None)
        .refused(&["the work limit", "--max-work"]);
    limited(
        &dir,
        &[
            "exam",
            "net.nn",
            "--variants",
            "2",
            "--seed",
            "1",
            "-o",
            "ex",
        ],
        None,
    )
    .refused(&["--max-work"]);
    assert!(!dir.join("ex").exists() && hidden(&dir).is_empty());
}

#[test]
fn a_dense_10000_by_10000_layer_is_refused_before_it_is_made() {
    let dir = tempdir("dense10000");
    std::fs::write(dir.join("net.nn"), dense(10_000, 10_000)).unwrap();
    limited(&dir, &["solve", "net.nn"], None).refused(&[
        "net.nn:2:7:",
        "100010000 params",
        "limit of 2000000 params",
    ]);
}

#[test]
fn a_million_data_rows_are_refused_by_the_work_limit() {
    let dir = tempdir("rows");
    let mut text = String::from(
        "layer o sigmoid { o1 = w1*i1 + w2*i2 + b1 }\nparam w1 = 0.1, w2 = 0.2, b1 = 0.3\ndata {\n i1, i2 -> o1\n",
    );
    for _ in 0..1_000_000 {
        text.push_str("0, 1 -> 1\n");
    }
    text.push_str("}\n");
    std::fs::write(dir.join("net.nn"), &text).unwrap();
    limited(&dir, &["solve", "net.nn"], None).refused(&["4000000", "--max-work"]);
    // One row more than the data limit is refused before its rows are read.
    let more = text.replacen(
        "data {\n i1, i2 -> o1\n",
        "data {\n i1, i2 -> o1\n1, 1 -> 0\n",
        1,
    );
    std::fs::write(dir.join("more.nn"), more).unwrap();
    limited(&dir, &["solve", "more.nn"], None).refused(&[
        "more.nn:3:1:",
        "1000001 rows",
        "limit of 1000000 rows",
    ]);
}

#[test]
fn training_that_would_record_ten_million_steps_is_refused() {
    let dir = tempdir("train");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    limited(
        &dir,
        &[
            "train", "net.nn", "--steps", "10000000", "--every", "1", "-f", "csv",
        ],
        None,
    )
    .refused(&["the output limit", "--max-output"]);
    limited(
        &dir,
        &[
            "train",
            "net.nn",
            "--steps",
            "100000000",
            "--every",
            "1000000",
        ],
        None,
    )
    .refused(&["--max-output"]);
}

#[test]
fn a_64_mb_answers_file_is_refused_unread() {
    let dir = tempdir("answers");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    let line = "dE_total/dw5 = 0.0822\n";
    std::fs::write(dir.join("big.txt"), line.repeat((64 << 20) / line.len())).unwrap();
    limited(&dir, &["check", "net.nn", "big.txt", "-f", "json"], None)
        .refused(&["big.txt: more than 1 MiB, the limit of an answers file"]);
}

#[test]
fn a_template_partial_that_calls_itself_is_refused() {
    let dir = tempdir("recursive");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    for (file, text) in [
        ("r.hbs", "{{#*inline \"r\"}}x{{> r}}{{/inline}}{{> r}}"),
        ("ab.hbs", "{{#*inline \"a\"}}{{> b}}{{/inline}}{{#*inline \"b\"}}{{#if title}}{{> a}}{{/if}}{{/inline}}{{> a}}"),
        ("head.hbs", "{{#*inline \"md-head\"}}{{> md-head}}{{/inline}}{{> md-head}}"),
    ] {
        std::fs::write(dir.join(file), text).unwrap();
        limited(&dir, &["solve", "net.nn", "--template", file], None)
            .refused(&[&format!("template {file}: the inline partial"), "calls itself"]);
    }
    std::fs::write(dir.join("dyn.hbs"), "{{> (lookup this \"title\")}}").unwrap();
    limited(&dir, &["solve", "net.nn", "--template", "dyn.hbs"], None)
        .refused(&["a partial named by an expression"]);
}

#[test]
fn endless_inputs_are_read_only_to_the_limit() {
    let dir = tempdir("endless");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    limited(&dir, &["solve", "/dev/zero"], None)
        .refused(&["/dev/zero: more than 64 MiB, the limit of an input file"]);
    limited(&dir, &["solve", "net.nn", "--template", "/dev/zero"], None)
        .refused(&["/dev/zero: more than 1 MiB, the limit of a template"]);
    // `yes | chainrule solve -`
    let yes: Box<dyn FnOnce(std::process::ChildStdin) + Send> = Box::new(|mut pipe| {
        let chunk = "y\n".repeat(4096);
        while pipe.write_all(chunk.as_bytes()).is_ok() {}
    });
    limited(&dir, &["solve", "-"], Some(yes))
        .refused(&["<stdin>: more than 64 MiB, the limit of an input file"]);
}

// ---- 5. outputs ----

#[test]
fn an_output_that_is_the_input_is_refused() {
    let dir = tempdir("same");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    for args in [
        &["solve", "net.nn", "-o", "net.nn"][..],
        &["solve", "net.nn", "-o", "./net.nn"],
        &["solve", "net.nn", "--diagram", "net.nn"],
        &[
            "train",
            "net.nn",
            "--steps",
            "3",
            "-o",
            "../attack-same/net.nn",
        ],
        &["train", "net.nn", "--steps", "3", "--plot", "net.nn"],
    ] {
        let r = Test::new().current_dir(&dir).args(args).status(2);
        assert!(
            r.stderr.contains("is the input file"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(std::fs::read_to_string(dir.join("net.nn")).unwrap(), MAZUR);
    }
    let r = Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-o", "a.md", "--diagram", "a.md"])
        .status(2);
    assert!(r.stderr.contains("both name a.md"), "{}", r.stderr);
}

#[test]
fn permissions_of_a_replaced_file_are_kept() {
    let dir = tempdir("perms");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    std::fs::write(dir.join("key.md"), "old").unwrap();
    std::fs::set_permissions(dir.join("key.md"), std::fs::Permissions::from_mode(0o600)).unwrap();
    Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-o", "key.md"])
        .status(0);
    let meta = std::fs::metadata(dir.join("key.md")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(meta.len() > 1000);
    // An exam's 0600 answer key stays 0600 when the exam is made again.
    let grid = "w*=0.05..0.95/0.05";
    let exam = |seed: &str| {
        Test::new()
            .current_dir(&dir)
            .args([
                "exam",
                "net.nn",
                "--variants",
                "2",
                "--seed",
                seed,
                "--vary",
                grid,
            ])
            .args(["-o", "ex", "--force"])
            .status(0);
    };
    exam("1");
    std::fs::set_permissions(
        dir.join("ex/answers.md"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    exam("2");
    let mode = std::fs::metadata(dir.join("ex/answers.md"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn devices_and_fifos_are_written_to_not_replaced() {
    let dir = tempdir("fifo");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    // `/dev/stdout` is a link to `/proc/self/fd/1`, the pipe the test
    // reads. A link of the same kind in the test's directory stands for it,
    // so that a regression replaces that link and not the machine's.
    let stdout_link = dir.join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout_link).unwrap();
    for out in [stdout_link.to_str().unwrap(), "/proc/self/fd/1"] {
        let r = Test::new()
            .current_dir(&dir)
            .args(["solve", "net.nn", "-o", out])
            .status(0);
        assert!(r.stdout.starts_with("# Mazur 2-2-2"), "{out}: {}", r.stderr);
    }
    let link = std::fs::symlink_metadata(&stdout_link).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-o", "/dev/null"])
        .status(0);
    let null = std::fs::metadata("/dev/null").unwrap();
    assert!(!null.is_file());
    // A FIFO: the output arrives through it, and it stays a FIFO.
    let fifo = dir.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string and mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-f", "json", "-o", "pipe"])
        .status(0);
    let got = reader.join().unwrap();
    assert!(got.contains("\"E_total\""), "{got}");
    use std::os::unix::fs::FileTypeExt as _;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn side_files_are_not_written_when_the_main_output_fails() {
    let dir = tempdir("side");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    let r = Test::new()
        .current_dir(&dir)
        .args([
            "solve",
            "net.nn",
            "-o",
            "missing/out.md",
            "--diagram",
            "net.svg",
        ])
        .status(2);
    assert!(r.stderr.contains("writing missing/out.md"), "{}", r.stderr);
    assert!(!dir.join("net.svg").exists());
    Test::new()
        .current_dir(&dir)
        .args([
            "train",
            "net.nn",
            "--steps",
            "3",
            "-o",
            "missing/t.md",
            "--plot",
            "loss.svg",
        ])
        .status(2);
    assert!(!dir.join("loss.svg").exists());
    assert!(hidden(&dir).is_empty(), "{:?}", hidden(&dir));
}

#[test]
fn a_253_byte_file_name_works() {
    let dir = tempdir("long-name");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    let name = format!("{}.md", "a".repeat(250));
    assert_eq!(name.len(), 253);
    Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn", "-o", &name])
        .status(0);
    assert!(std::fs::read_to_string(dir.join(&name))
        .unwrap()
        .starts_with("# Mazur"));
    assert!(hidden(&dir).is_empty());
}

/// The exam's files in `dir`, relative path and bytes, sorted.
fn exam_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn exam_replaces_its_files_as_a_whole_and_force_keeps_the_users() {
    let dir = tempdir("exam-swap");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    let grid = "w*=0.05..0.95/0.05";
    let exam = |args: &[&str]| {
        Test::new()
            .current_dir(&dir)
            .args(["exam", "net.nn", "--vary", grid, "-o", "ex", "--force"])
            .args(args)
            .run()
    };
    assert_eq!(exam(&["--variants", "3", "--seed", "1"]).status, 0);
    std::fs::write(dir.join("ex/notes.txt"), "mine").unwrap();
    std::fs::write(dir.join("ex/variants/README"), "also mine").unwrap();
    let before = exam_files(&dir.join("ex"));
    // A run that fails leaves the whole old set as it was.
    let r = exam(&["--variants", "3", "--seed", "2", "--ask", "dE_total/dw99"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert_eq!(exam_files(&dir.join("ex")), before);
    assert!(hidden(&dir).is_empty(), "{:?}", hidden(&dir));
    // A smaller run: the new set, the user's files, nothing of the old set.
    assert_eq!(exam(&["--variants", "2", "--seed", "2"]).status, 0);
    let after = exam_files(&dir.join("ex"));
    let names: Vec<&str> = after.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "answers.csv",
            "answers.md",
            "answers.tex",
            "moodle.xml",
            "notes.txt",
            "questions.md",
            "questions.tex",
            "variants/01.nn",
            "variants/02.nn",
            "variants/README",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("ex/notes.txt")).unwrap(),
        "mine"
    );
    let csv = std::fs::read_to_string(dir.join("ex/answers.csv")).unwrap();
    let old_csv = &before.iter().find(|(n, _)| n == "answers.csv").unwrap().1;
    assert_ne!(csv.as_bytes(), &old_csv[..]);
    assert!(hidden(&dir).is_empty(), "{:?}", hidden(&dir));
}

#[test]
fn sigterm_and_sigint_leave_no_temporary_files() {
    let _one_at_a_time = heavy();
    for (signal, name) in [(libc::SIGTERM, "term"), (libc::SIGINT, "int")] {
        let dir = tempdir(&format!("signal-{name}"));
        std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
        let mut child = Command::new(BIN)
            .args(["exam", "net.nn", "--variants", "10000", "--seed", "1"])
            .args([
                "--vary",
                "w*=0.01..0.99/0.01",
                "--vary",
                "b*=0.01..0.99/0.01",
            ])
            .args(["--vary", "t:o*=0.01..0.99/0.01", "-o", "ex"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The exam's staging directory appears while the variants are made.
        let mut seen = false;
        for _ in 0..20_000 {
            if !hidden(&dir).is_empty() {
                seen = true;
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(seen, "no staging directory was seen");
        // SAFETY: a plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + signal), "{status:?}");
        assert!(hidden(&dir).is_empty(), "{:?}", hidden(&dir));
        assert!(!dir.join("ex").exists());
    }
}

// ---- 7. closed and full standard output ----

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    for args in [
        &["example"][..],
        &["example", "mazur"],
        &["solve", "examples/mazur.nn"],
    ] {
        // `| head -c 0`: the reading end is closed before anything is written.
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
        // `> /dev/full`
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(BIN)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("No space left on device") && !err.contains("panicked"),
            "{err}"
        );
    }
}

// ---- 6. terminal safety ----

/// `chainrule solve` of `text` (written to a file in a fresh directory);
/// returns the run.
fn solve_text(name: &str, text: &[u8], args: &[&str]) -> crate::support::Run {
    let dir = tempdir(name);
    std::fs::write(dir.join("net.nn"), text).unwrap();
    Test::new()
        .current_dir(&dir)
        .args(["solve", "net.nn"])
        .args(args)
        .run()
}

#[test]
fn control_characters_in_messages_are_escaped() {
    let text = MAZUR.replacen("input  i1", "input i1\u{1b}[2J\u{8}", 1);
    let r = solve_text("esc", text.as_bytes(), &[]);
    assert_eq!(r.status, 2);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{8}'),
        "{:?}",
        r.stderr
    );
    assert!(r.stderr.contains("i1\\u{1b}[2J\\u{8}"), "{}", r.stderr);
    assert!(
        r.stderr.contains("U+001B a CONTROL CHARACTER"),
        "{}",
        r.stderr
    );
    // The caret stays under the escaped character.
    let lines: Vec<&str> = r.stderr.lines().collect();
    let col = lines[3].find('^').unwrap();
    assert_eq!(&lines[2][col..col + 7], "\\u{1b}[");
    // From the command line too.
    let r = Test::new()
        .args(["solve", "examples/mazur.nn", "--only", "w\u{1b}]0;x\u{7}"])
        .status(2);
    assert!(r.stderr.contains("`w\\u{1b}]0;x\\u{7}`"), "{:?}", r.stderr);
}

#[test]
fn invisible_characters_are_named() {
    for (ch, name) in [
        ("\u{200b}", "U+200B ZERO WIDTH SPACE"),
        ("\u{a0}", "U+00A0 NO-BREAK SPACE"),
        ("\u{301}", "U+0301 a COMBINING MARK"),
    ] {
        let text = MAZUR.replacen("w1*i1", &format!("w1{ch}*i1"), 1);
        let r = solve_text("invisible", text.as_bytes(), &[]);
        assert_eq!(r.status, 2);
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
        assert!(!r.stderr.contains(ch), "{name}: {}", r.stderr);
    }
}

// ---- 8. bugs found along the way ----

fn title_of(r: &crate::support::Run) -> String {
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["title"].as_str().unwrap().to_string()
}

fn e_total(r: &crate::support::Run) -> f64 {
    assert_eq!(r.status, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["values"]["E_total"].as_f64().unwrap()
}

#[test]
fn quotes_and_parentheses_in_titles() {
    let text = with_title("say \\\"hi\\\"");
    assert_eq!(
        title_of(&solve_text("quote", text.as_bytes(), &["-f", "json"])),
        "say \"hi\""
    );
    let text = with_title("a \\\\ b");
    assert_eq!(
        title_of(&solve_text("backslash", text.as_bytes(), &["-f", "json"])),
        "a \\ b"
    );
    // Parentheses in a title are text, not nesting.
    let parens = "(".repeat(400);
    let text = with_title(&parens);
    assert_eq!(
        title_of(&solve_text("parens", text.as_bytes(), &["-f", "json"])),
        parens
    );
    // U+FFFF would make moodle.xml malformed: refused at its place.
    let text = with_title("x\u{ffff}");
    let r = solve_text("ffff", text.as_bytes(), &[]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("net.nn:2:11: the title has U+FFFF"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_brace_in_a_comment_does_not_end_a_data_block() {
    let base = "layer o sigmoid { o1 = w1*i1 + w2*i2 + b1 }\nparam w1 = 0.1, w2 = 0.2, b1 = 0.3\n";
    let plain = format!("{base}data {{\n i1, i2 -> o1\n 0, 1 -> 1\n 1, 0 -> 0\n}}\n");
    let commented =
        format!("{base}data {{ # the rows {{ }}\n i1, i2 -> o1 # }}\n 0, 1 -> 1 # a }} here\n 1, 0 -> 0\n}}\n");
    let a = e_total(&solve_text("data-plain", plain.as_bytes(), &["-f", "json"]));
    let b = e_total(&solve_text(
        "data-comment",
        commented.as_bytes(),
        &["-f", "json"],
    ));
    assert_eq!(a, b);
}

#[test]
fn nul_in_a_comment_is_refused() {
    let text = format!("# a\0b\n{MAZUR}");
    let r = solve_text("nul", text.as_bytes(), &[]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.starts_with("net.nn:1:4: NUL byte in the text"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("# a\\u{0}b"), "{}", r.stderr);
}

#[test]
fn old_mac_line_ends_read_as_line_ends() {
    let lf = e_total(&solve_text("lf", MAZUR.as_bytes(), &["-f", "json"]));
    let cr = MAZUR.replace('\n', "\r");
    assert_eq!(
        e_total(&solve_text("cr", cr.as_bytes(), &["-f", "json"])),
        lf
    );
    // And errors are located on their line.
    let bad = MAZUR.replace("sigmoid", "sigmod").replace('\n', "\r");
    let r = solve_text("cr-bad", bad.as_bytes(), &[]);
    let want = MAZUR.lines().position(|l| l.contains("sigmoid")).unwrap() + 1;
    assert!(
        r.stderr.starts_with(&format!("net.nn:{want}:")),
        "{}",
        r.stderr
    );
}

#[test]
fn utf16_without_a_bom_is_located_at_its_first_nul() {
    let bytes: Vec<u8> = MAZUR.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let r = solve_text("utf16", &bytes, &[]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.starts_with("net.nn:1:2: NUL byte in the text"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("looks like UTF-16; save it as UTF-8"),
        "{}",
        r.stderr
    );
}

const DENSE_2_2_1: &str = "network \"dense\"\ninput x[2] = [0.1, 0.5]\nlayer h[2] sigmoid dense x\nlayer y[1] sigmoid dense h\ntarget y = [1]\ninit uniform(-0.5, 0.5) seed 1\n";

#[test]
fn exam_varies_a_dense_param_and_agrees_with_solve() {
    let dir = tempdir("dense-vary");
    std::fs::write(dir.join("net.nn"), DENSE_2_2_1).unwrap();
    Test::new()
        .current_dir(&dir)
        .args(["exam", "net.nn", "--variants", "2", "--seed", "1"])
        .args(["--vary", "w_y1_h1={0.6,0.7}", "-o", "ex"])
        .status(0);
    let csv = std::fs::read_to_string(dir.join("ex/answers.csv")).unwrap();
    for k in 1..=2 {
        let file = format!("ex/variants/0{k}.nn");
        let r = Test::new()
            .current_dir(&dir)
            .args(["solve", &file, "-f", "json"])
            .status(0);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let row = |q: &str| -> f64 {
            // variant,quantity,value,key,tolerance: the exact value.
            csv.lines()
                .find_map(|l| l.strip_prefix(&format!("{k},{q},")))
                .unwrap_or_else(|| panic!("{q} of {k} in {csv}"))
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(row("E_total"), v["values"]["E_total"].as_f64().unwrap());
        assert_eq!(
            row("dE_total/dw_y1_h1"),
            v["gradients"]["w_y1_h1"].as_f64().unwrap()
        );
        let w = v["updated"]["w_y1_h1"].as_f64().unwrap() + 0.5 * row("dE_total/dw_y1_h1");
        assert!([0.6, 0.7].iter().any(|x| (x - w).abs() < 1e-12), "{w}");
    }
}

#[test]
fn a_param_line_changes_one_init_value_and_no_other() {
    let json = |text: &str| {
        let r = solve_text("param-line", text.as_bytes(), &["-f", "json"]);
        assert_eq!(r.status, 0, "{}", r.stderr);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let plain = json(DENSE_2_2_1);
    let set = json(&format!("{DENSE_2_2_1}param w_y1_h1 = 0.7\n"));
    // Every param but w_y1_h1 keeps its value (updated − η·gradient).
    let old = |v: &serde_json::Value, p: &str| {
        v["updated"][p].as_f64().unwrap() + 0.5 * v["gradients"][p].as_f64().unwrap()
    };
    for p in [
        "w_h1_x1", "w_h1_x2", "b_h1", "w_h2_x1", "w_h2_x2", "b_h2", "w_y1_h2", "b_y1",
    ] {
        assert!((old(&plain, p) - old(&set, p)).abs() < 1e-12, "{p}");
    }
    assert!((old(&set, "w_y1_h1") - 0.7).abs() < 1e-12);
}

#[test]
fn a_file_name_with_a_newline_stays_in_its_comment() {
    let dir = tempdir("newline-name");
    std::fs::write(dir.join("a\nlayer z.nn"), MAZUR).unwrap();
    Test::new()
        .current_dir(&dir)
        .args(["exam", "a\nlayer z.nn", "--variants", "2", "--seed", "1"])
        .args(["--vary", "w*=0.05..0.95/0.05", "-o", "ex"])
        .status(0);
    let v = std::fs::read_to_string(dir.join("ex/variants/01.nn")).unwrap();
    assert!(v.starts_with("# a\\u{a}layer z.nn, variant 1 of 2"), "{v}");
    assert!(!v.lines().any(|l| l.starts_with("layer z")), "{v}");
}

#[test]
fn liquid_tags_in_a_title_are_escaped_in_markdown() {
    let text = with_title("{% include x %} {{ site.secret }} 100%");
    // With front matter the title is a YAML string, and the body has none.
    let r = solve_text("liquid", text.as_bytes(), &["-f", "md", "--front-matter"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let body = r.stdout.splitn(3, "---\n").nth(2).unwrap();
    assert!(!body.contains("{%") && !body.contains("{{"), "{body}");
    let r = solve_text("liquid", text.as_bytes(), &["-f", "md"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let heading = r.stdout.lines().find(|l| l.starts_with("# ")).unwrap();
    assert!(
        !heading.contains("{%") && !heading.contains("{{"),
        "{heading}"
    );
    assert_eq!(
        heading,
        "# \\{\\% include x \\%\\} \\{\\{ site.secret \\}\\} 100\\%"
    );
}

#[test]
fn greek_korean_and_emoji_titles_in_english_latex() {
    let dir = tempdir("scripts");
    for (name, title) in [
        ("greek", "Μάθημα: νευρωνικά δίκτυα Ω"),
        ("korean", "신경망 연습"),
    ] {
        std::fs::write(dir.join(format!("{name}.nn")), with_title(title)).unwrap();
        Test::new()
            .current_dir(&dir)
            .args([
                "solve",
                &format!("{name}.nn"),
                "-f",
                "tex",
                "-o",
                &format!("{name}.tex"),
            ])
            .status(0);
        crate::support::pdflatex(&dir, name);
    }
    let greek = std::fs::read_to_string(dir.join("greek.tex")).unwrap();
    assert!(
        greek.contains("\\title{\\ensuremath{\\mathrm{M}}\\ensuremath{\\alpha}"),
        "{greek}"
    );
    let korean = std::fs::read_to_string(dir.join("korean.tex")).unwrap();
    assert!(korean.contains("\\usepackage{kotex}"));
    // Emoji: said, with what to change, in either language.
    std::fs::write(dir.join("emoji.nn"), with_title("Fun 😀")).unwrap();
    for lang in ["en", "ko"] {
        let r = Test::new()
            .current_dir(&dir)
            .args(["solve", "emoji.nn", "-f", "tex", "--lang", lang])
            .status(2);
        assert!(
            r.stderr
                .contains("`😀` (U+1F600), which pdflatex cannot typeset"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("remove it from the title"),
            "{}",
            r.stderr
        );
    }
    let r = Test::new()
        .current_dir(&dir)
        .args(["exam", "korean.nn", "--variants", "2", "--seed", "1"])
        .args(["--vary", "w*=0.05..0.95/0.05", "-o", "ex"])
        .status(2);
    assert!(r.stderr.contains("give --lang ko"), "{}", r.stderr);
}

// ---- 4. slow corners (bounded work; the figures are in benches) ----

#[test]
fn a_100000_character_name_gets_no_suggestion_and_no_search() {
    let dir = tempdir("long-unknown");
    let name = "a".repeat(100_000);
    let text = MAZUR.replacen("w1*i1", &format!("{name}*i1"), 1);
    std::fs::write(dir.join("net.nn"), text).unwrap();
    let r = limited(&dir, &["solve", "net.nn"], None);
    r.refused(&["unknown name `aaaa"]);
    assert!(!r.stderr.contains("did you mean"), "{}", &r.stderr[..200]);
    // A short misspelling still gets one.
    let text = MAZUR.replacen("w1*i1", "w11*i1", 1);
    let r = solve_text("short-unknown", text.as_bytes(), &[]);
    assert!(r.stderr.contains("did you mean `w1`?"), "{}", r.stderr);
}

#[test]
fn thousands_of_problems_are_counted_after_fifty() {
    let text = format!(
        "input i1 = 0.05\nlayer o sigmoid {{ o1 = {} }}\ntarget o1 = 0.5\n",
        (0..3000)
            .map(|k| format!("q{k}*i1"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    let r = solve_text("many-problems", text.as_bytes(), &[]);
    assert_eq!(r.status, 2);
    assert_eq!(r.stderr.matches("unknown name").count(), 50);
    assert!(
        r.stderr
            .ends_with("net.nn: and 2950 more problems after these\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn many_calls_of_a_large_function_are_refused_by_the_network_total() {
    // g11 expands to about 28 000 nodes, within the limit of a term; 300
    // terms of it are not within the limit of a network.
    let mut text = String::from("input i1 = 0.5\nparam w = 0.1\nfn g0(x) = x*x + x\n");
    for k in 1..12 {
        text.push_str(&format!("fn g{k}(x) = g{}(x) + g{}(x)\n", k - 1, k - 1));
    }
    let terms = vec!["g11(w*i1)"; 300].join(" + ");
    text.push_str(&format!(
        "layer o sigmoid {{ o1 = {terms} }}\ntarget o1 = 0.5\n"
    ));
    let dir = tempdir("expanded-total");
    std::fs::write(dir.join("net.nn"), &text).unwrap();
    limited(&dir, &["solve", "net.nn", "-f", "json"], None).refused(&[
        "net.nn:15:19:",
        "more than 1000000 nodes once the functions it calls are expanded",
    ]);
    // Thirty are fine.
    let fewer = text.replace(&terms, &vec!["g11(w*i1)"; 30].join(" + "));
    std::fs::write(dir.join("fewer.nn"), &fewer).unwrap();
    let r = limited(&dir, &["solve", "fewer.nn", "-f", "json"], None);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

#[test]
fn a_full_html_page_counts_six_times() {
    // 24 801 params and 401 neurons: within the limit as JSON, not as a
    // full HTML page, which holds the Markdown, the MathML and the page.
    let dir = tempdir("full-html");
    std::fs::write(dir.join("net.nn"), dense(60, 400)).unwrap();
    limited(&dir, &["solve", "net.nn", "-f", "html", "--full"], None).refused(&[
        "this run is 151212 params and neurons × samples × 6 for a full page",
        "--max-work 151212",
    ]);
}

#[test]
fn exam_into_the_current_directory() {
    let dir = tempdir("exam-dot");
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    let exam = |variants: &str, seed: &str| {
        Test::new()
            .current_dir(&dir)
            .args(["exam", "net.nn", "--variants", variants, "--seed", seed])
            .args(["--vary", "w*=0.05..0.95/0.05", "-o", ".", "--force"])
            .status(0);
    };
    exam("3", "1");
    exam("2", "2");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("variants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["01.nn", "02.nn"]);
    assert_eq!(std::fs::read_to_string(dir.join("net.nn")).unwrap(), MAZUR);
    assert!(hidden(&dir).is_empty(), "{:?}", hidden(&dir));
}

#[test]
fn exam_into_a_directory_whose_parent_is_read_only() {
    // Needs another user: run as root, the binary is started as `nobody`.
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let dir = tempdir("read-only-parent");
    let parent = dir.join("parent");
    let exam_dir = parent.join("exam");
    std::fs::create_dir_all(&exam_dir).unwrap();
    std::fs::write(dir.join("net.nn"), MAZUR).unwrap();
    for p in [&dir, &parent] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(dir.join("net.nn"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let nobody = std::ffi::CString::new(exam_dir.to_str().unwrap()).unwrap();
    // SAFETY: a valid path; 65534 is `nobody`.
    assert_eq!(unsafe { libc::chown(nobody.as_ptr(), 65534, 65534) }, 0);
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
        .args([
            "exam",
            dir.join("net.nn").to_str().unwrap(),
            "--variants",
            "2",
        ])
        .args(["--seed", "1", "--vary", "w*=0.05..0.95/0.05", "-o"])
        .arg(&exam_dir)
        .output()
        .unwrap();
    if out.status.code() == Some(126) || out.status.code() == Some(127) {
        eprintln!("skipped: `nobody` cannot run the binary here");
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(exam_dir.join("variants/02.nn").exists());
    assert!(hidden(&exam_dir).is_empty() && hidden(&parent).is_empty());
}

#[test]
fn check_echoes_an_answers_files_control_characters_escaped() {
    let dir = tempdir("check-escape");
    std::fs::write(dir.join("m.nn"), MAZUR).unwrap();
    std::fs::write(
        dir.join("a.txt"),
        "net_h1 = 0.3775 \u{1b}[31mred\u{1b}[0m\nout_h1 = 0.5\u{1b}]0;title\u{7}\n",
    )
    .unwrap();
    let r = Test::new()
        .current_dir(&dir)
        .args(["check", "m.nn", "a.txt"])
        .run();
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'),
        "{:?}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u{1b}[31mred"), "{}", r.stdout);
}
