//! The Markdown flavors through the engines people publish with (Jekyll,
//! Hugo, pandoc, cmark-gfm, markdown-it, remark), rendered and read back in
//! headless Chromium by `tests/js/engines.mjs`: every math span must reach
//! MathJax or KaTeX byte for byte, no raw TeX may show, tables must be
//! tables and in-page links must resolve.

use std::path::Path;
use std::process::Command;

use crate::support::Test;

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
    let runs: [(&str, Vec<&str>); 4] = [
        ("mazur.md", vec!["solve", "examples/mazur.nn"]),
        (
            "mazur-ko.md",
            vec!["solve", "examples/mazur.nn", "--lang", "ko"],
        ),
        ("xor.md", vec!["solve", "examples/xor.nn"]),
        (
            "train.md",
            vec!["train", "examples/mazur-fixed-bias.nn", "--steps", "1000"],
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
    let dir = crate::pages::tempdir("engines");
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
    if !crate::support::external("Jekyll, Hugo, pandoc, cmark-gfm, node and Chromium") {
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

    let dir = crate::pages::tempdir("exam-front-matter");
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
    let dir = crate::pages::tempdir("image-paths");
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
    assert!(md.contains("](img/mazur.svg)"), "{md}");
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
