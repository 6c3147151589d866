//! The Markdown flavors through the engines people publish with (Jekyll,
//! Hugo, pandoc, cmark-gfm, markdown-it, remark), rendered and read back in
//! headless Chromium by `tests/js/engines.mjs`: every math span must reach
//! MathJax or KaTeX byte for byte, no raw TeX may show, tables must be
//! tables and in-page links must resolve.
//!
//! A test binary of its own: cargo runs test binaries one after another, so
//! the browsers and site builds here never share the machine with the other
//! integration tests.

// Test helpers are `pub` for the sibling modules of this binary.
#![allow(unreachable_pub)]

#[path = "integration/netgen.rs"]
#[allow(dead_code)]
mod netgen;
#[path = "integration/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Test;

/// A fresh directory under the target dir.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("engines-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const FLAVORS: &[&str] = &["dollar", "github", "jekyll", "hugo", "pandoc", "commonmark"];

/// Writes the pages of `flavor` into `dir/src/FLAVOR/`: the Mazur page in
/// English and Korean, a data block, training, an exam's key and questions.
fn pages(dir: &Path, flavor: &str) {
    let out = dir.join("src").join(flavor);
    std::fs::create_dir_all(&out).unwrap();
    let mut common = vec!["--flavor", flavor];
    // Site generators read the front matter; the others get the # title.
    if matches!(flavor, "jekyll" | "hugo" | "pandoc") {
        common.push("--front-matter");
    }
    let file = |name: &str| out.join(name).to_string_lossy().into_owned();
    // Images in a folder beside the pages, named as from the shell (relative
    // to the working directory): each engine must find them from the page.
    let from_shell = |name: &str| {
        let path = out.join(name);
        path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned()
    };
    let (diagram, plot) = (from_shell("img/mazur.svg"), from_shell("img/loss.svg"));
    std::fs::create_dir_all(out.join("img")).unwrap();
    let runs: [(&str, Vec<&str>); 4] = [
        (
            "mazur.md",
            vec!["solve", "examples/mazur.nn", "--diagram", &diagram],
        ),
        (
            "mazur-ko.md",
            vec!["solve", "examples/mazur.nn", "--lang", "ko"],
        ),
        ("xor.md", vec!["solve", "examples/xor.nn"]),
        (
            "train.md",
            vec![
                "train",
                "examples/mazur-fixed-bias.nn",
                "--steps",
                "1000",
                "--plot",
                &plot,
            ],
        ),
    ];
    for (name, args) in runs {
        let target = file(name);
        Test::new()
            .args(args)
            .args(&common)
            .args(["-o", &target])
            .status(0);
    }
    let exam = dir.join(format!("exam-{flavor}"));
    let _ = std::fs::remove_dir_all(&exam);
    Test::new()
        .args([
            "exam",
            "examples/mazur.nn",
            "--variants",
            "2",
            "--seed",
            "1",
        ])
        .args(["--vary", "w*=0.05..0.95/0.05", "-o", exam.to_str().unwrap()])
        .args(&common)
        .status(0);
    for sheet in ["answers.md", "questions.md"] {
        std::fs::copy(exam.join(sheet), out.join(sheet)).unwrap();
    }
}

#[test]
fn every_flavor_survives_its_engine() {
    let dir = tempdir("engines");
    for flavor in FLAVORS {
        pages(&dir, flavor);
    }
    // The flavors differ only in how math is delimited and escaped.
    let reference = std::fs::read_to_string(dir.join("src/dollar/mazur.md")).unwrap();
    for flavor in FLAVORS {
        let page = std::fs::read_to_string(dir.join("src").join(flavor).join("mazur.md")).unwrap();
        if *flavor != "dollar" && *flavor != "pandoc" {
            assert_ne!(page, reference, "{flavor} is written differently");
        }
    }
    if !support::external("Jekyll, Hugo, pandoc, cmark-gfm, node and Chromium") {
        return;
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let out = Command::new("node")
        .arg(js.join("engines.mjs"))
        .arg(&dir)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(out.status.success(), "{text}\n{err}");
    // One line per engine, all with the same number of spans: every span of
    // the six pages, each compared with its source.
    let counts: Vec<usize> = text
        .lines()
        .filter_map(|l| l.split(": ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(counts.len(), 11, "{text}");
    assert!(counts.iter().all(|&c| c == counts[0] && c > 500), "{text}");
}

#[test]
fn front_matter_by_flavor_and_no_repeated_title() {
    let solve = |args: &[&str]| {
        Test::new()
            .args(["solve", "examples/mazur.nn", "--front-matter"])
            .args(args)
            .status(0)
            .stdout
    };
    let jekyll = solve(&["--flavor", "jekyll", "--layout", "single"]);
    assert!(
        jekyll.starts_with(
            "---\nlayout: \"single\"\ntitle: \"Mazur 2-2-2\"\nmath: true\nuse_math: true\n---\n\n"
        ),
        "{jekyll}"
    );
    // `math` is pandoc's own template variable (its MathJax script).
    let pandoc = solve(&["--flavor", "pandoc", "--lang", "ko"]);
    assert!(
        pandoc.starts_with("---\ntitle: \"Mazur 2-2-2\"\nlang: \"ko\"\n---\n\n"),
        "{pandoc}"
    );
    for page in [&jekyll, &pandoc, &solve(&["--flavor", "hugo"])] {
        assert!(!page.lines().any(|l| l.starts_with("# ")), "{page}");
    }

    let dir = tempdir("exam-front-matter");
    let exam = dir.join("exam");
    Test::new()
        .args([
            "exam",
            "examples/mazur.nn",
            "--variants",
            "2",
            "--seed",
            "3",
        ])
        .args(["--vary", "w*=0.05..0.95/0.05"])
        .args([
            "--front-matter",
            "--flavor",
            "hugo",
            "-o",
            exam.to_str().unwrap(),
        ])
        .status(0);
    let answers = std::fs::read_to_string(exam.join("answers.md")).unwrap();
    assert!(
        answers.starts_with("---\ntitle: \"Mazur 2-2-2 — Answer key\"\nmath: true\n---\n\n"),
        "{answers}"
    );
    let questions = std::fs::read_to_string(exam.join("questions.md")).unwrap();
    assert!(questions.starts_with("---\ntitle: \"Mazur 2-2-2 — Questions\"\n"));
    for sheet in [&answers, &questions] {
        assert!(!sheet.lines().any(|l| l.starts_with("# ")));
        assert!(!sheet.contains("<a id="), "hugo drops raw HTML anchors");
    }
    // Each variant's steps keep their own heading ids.
    assert!(answers.contains("{#v01-dw1}") && answers.contains("(#v01-dw1)"));
}

#[test]
fn image_paths_are_relative_to_the_page() {
    let dir = tempdir("image-paths");
    let page = dir.join("blog/post.md");
    let svg = dir.join("blog/img/mazur.svg");
    std::fs::create_dir_all(svg.parent().unwrap()).unwrap();
    // Paths as a shell in the repository gives them, relative to it.
    let rel = |p: &Path| {
        p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_else(|_| p.to_string_lossy().into_owned())
    };
    Test::new()
        .args([
            "solve",
            "examples/mazur.nn",
            "--diagram",
            &rel(&svg),
            "-o",
            &rel(&page),
        ])
        .status(0);
    let md = std::fs::read_to_string(&page).unwrap();
    assert!(md.contains("](<img/mazur.svg>)"), "{md}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    let plot = dir.join("static/loss.svg");
    std::fs::create_dir_all(plot.parent().unwrap()).unwrap();
    Test::new()
        .args([
            "train",
            "examples/xor.nn",
            "--steps",
            "10",
            "--plot",
            &rel(&plot),
        ])
        .args(["-o", &rel(&page)])
        .status(0);
    let md = std::fs::read_to_string(&page).unwrap();
    assert!(md.contains("](<../static/loss.svg>)"), "{md}");
}

/// The math spans of a `dollar` page in order, as the JS check reads them.
fn dollar_spans(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    if lines.first() == Some(&"---") {
        i = lines[1..].iter().position(|l| *l == "---").unwrap() + 2;
    }
    while i < lines.len() {
        let line = lines[i];
        if line == "$$" {
            let end = i + 1 + lines[i + 1..].iter().position(|l| *l == "$$").unwrap();
            out.push(lines[i + 1..end].join("\n"));
            i = end + 1;
            continue;
        }
        let b = line.as_bytes();
        let mut j = 0;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 2,
                b'`' => {
                    let run = b[j..].iter().take_while(|&&c| c == b'`').count();
                    let fence = &line[j..j + run];
                    j = match line[j + run..].find(fence) {
                        Some(k) => j + run + k + run,
                        None => j + run,
                    };
                }
                b'$' => match line[j + 1..].find('$') {
                    Some(k) if k > 0 => {
                        out.push(line[j + 1..j + 1 + k].to_string());
                        j += k + 2;
                    }
                    _ => j += 1,
                },
                _ => j += 1,
            }
        }
        i += 1;
    }
    out
}

/// The math a CommonMark parser (pulldown-cmark) gives back from a page of
/// `flavor`, in order: what a math renderer in the browser would receive.
fn parsed_spans(md: &str, flavor: &str) -> Vec<String> {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
    let mut opts = Options::ENABLE_TABLES
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    if flavor == "dollar" {
        opts |= Options::ENABLE_MATH;
    }
    // The text of the page, block by block; math the parser itself found
    // (and GitHub's code spans between dollars) between \u{1} and \u{2}.
    let mut text = String::new();
    let mut in_math_block = false;
    let mut strip_dollar = false;
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                text.push('\u{1}');
                text.push_str(&t);
                text.push('\u{2}');
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) if &*lang == "math" => {
                in_math_block = true;
                text.push('\u{1}');
            }
            Event::End(TagEnd::CodeBlock) if in_math_block => {
                in_math_block = false;
                if text.ends_with('\n') {
                    text.pop();
                }
                text.push('\u{2}');
            }
            Event::Text(t) => {
                let t = if strip_dollar {
                    t.strip_prefix('$').unwrap_or(&t).to_string()
                } else {
                    t.to_string()
                };
                strip_dollar = false;
                text.push_str(&t);
            }
            Event::Code(t) => {
                if flavor == "github" && text.ends_with('$') {
                    text.pop();
                    text.push('\u{1}');
                    text.push_str(&t);
                    text.push('\u{2}');
                    strip_dollar = true;
                } else {
                    text.push('`');
                    text.push_str(&t);
                    text.push('`');
                }
            }
            Event::SoftBreak | Event::HardBreak => text.push('\n'),
            Event::End(_) => text.push('\u{0}'),
            _ => {}
        }
    }
    let (open, close): (&[&str], &[&str]) = match flavor {
        "hugo" => (&["\u{1}", "\\(", "\\["], &["\u{2}", "\\)", "\\]"]),
        "commonmark" => (&["\u{1}", "$$", "$"], &["\u{2}", "$$", "$"]),
        _ => (&["\u{1}"], &["\u{2}"]),
    };
    let mut out = Vec::new();
    let mut rest = text.as_str();
    loop {
        let next = open
            .iter()
            .enumerate()
            .filter_map(|(k, o)| rest.find(o).map(|at| (at, k)))
            .min_by_key(|&(at, k)| (at, k));
        let Some((at, k)) = next else { break };
        let body = &rest[at + open[k].len()..];
        let end = body.find(close[k]).expect("a closed span");
        out.push(body[..end].to_string());
        rest = &body[end + close[k].len()..];
    }
    out
}

#[test]
fn a_commonmark_parser_gives_every_span_back() {
    let mut pages: Vec<(String, Vec<String>)> = vec![
        (
            "mazur".into(),
            vec!["solve".into(), "examples/mazur.nn".into()],
        ),
        (
            "mazur-ko-hand".into(),
            ["solve", "examples/mazur.nn", "--lang", "ko", "--hand"]
                .map(String::from)
                .to_vec(),
        ),
        ("xor".into(), vec!["solve".into(), "examples/xor.nn".into()]),
        (
            "softmax".into(),
            vec!["solve".into(), "tests/networks/softmax.nn".into()],
        ),
    ];
    let dir = tempdir("cmark-spans");
    for seed in 0..6u64 {
        let widths: &[usize] = match seed % 3 {
            0 => &[3, 2],
            1 => &[2, 3, 2, 1],
            _ => &[4, 1],
        };
        let file = dir.join(format!("random{seed}.nn"));
        std::fs::write(&file, netgen::network(seed, 2, widths)).unwrap();
        pages.push((
            format!("random{seed}"),
            vec!["solve".into(), file.to_string_lossy().into_owned()],
        ));
    }
    let mut total = 0;
    for (name, args) in &pages {
        let run = |flavor: &str| {
            Test::new()
                .args(args)
                .args(["--flavor", flavor])
                .status(0)
                .stdout
        };
        let want = dollar_spans(&run("dollar"));
        assert!(want.len() > 10, "{name}");
        for flavor in ["dollar", "github", "hugo", "commonmark"] {
            let got = parsed_spans(&run(flavor), flavor);
            let trim = |v: &[String]| v.iter().map(|s| s.trim().to_string()).collect::<Vec<_>>();
            let (got, want) = (trim(&got), trim(&want));
            assert_eq!(got.len(), want.len(), "{name} {flavor}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{name} {flavor}");
            }
            total += got.len();
        }
    }
    assert!(total > 2000, "{total}");
}
