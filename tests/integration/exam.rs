//! `chainrule exam`: answers that agree with `solve` for every variant, LaTeX
//! that compiles (English and Korean), a Moodle quiz in Moodle's XML format,
//! byte-identical reruns, and the errors for bad specs and degenerate grids.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::netgen;
use crate::support::{pdflatex, Test};

const GRID: &str = "w*=0.05..0.95/0.05";

/// A fresh directory under the target dir.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("exam-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `exam` on `examples/mazur.nn` into `dir` with `args` after it.
fn exam(dir: &Path, args: &[&str]) -> crate::support::Run {
    let mut all = vec!["exam", "examples/mazur.nn", "-o", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    Test::new().args(all).run()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The rows of `answers.csv`: (variant, quantity, value text).
fn csv_rows(dir: &Path) -> Vec<(usize, String, String)> {
    csv_keys(dir)
        .into_iter()
        .map(|(v, q, x, _, _)| (v, q, x))
        .collect()
}

/// The rows of `answers.csv` with the key and its tolerance: (variant,
/// quantity, value, key, tolerance). The key is the value rounded to its
/// last written digit, and the tolerance half a unit of that digit.
fn csv_keys(dir: &Path) -> Vec<(usize, String, String, String, String)> {
    let csv = read(dir, "answers.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("variant,quantity,value,key,tolerance"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 5, "{l}");
            let (x, key, tol): (f64, f64, f64) = (
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
                f[4].parse().unwrap(),
            );
            assert_eq!(tol, 0.5 * last_unit(f[3]), "{l}");
            assert!((x - key).abs() <= tol * (1.0 + 1e-9), "{l}");
            (
                f[0].parse().unwrap(),
                f[1].to_string(),
                f[2].to_string(),
                f[3].to_string(),
                f[4].to_string(),
            )
        })
        .collect()
}

/// The unit of the last digit of a decimal text: 0.0001 for `0.2984`.
fn last_unit(text: &str) -> f64 {
    match text.split_once('.') {
        Some((_, frac)) => 10f64.powi(-(frac.len() as i32)),
        None => {
            let zeros = text.len() - text.trim_end_matches('0').len();
            10f64.powi(zeros as i32)
        }
    }
}

/// The number at `path` (object keys) in the pretty JSON `text`, read from
/// its digits: serde_json's own reading of floats may be one unit in the
/// last place off, and the check here is for the exact double.
fn json_number(text: &str, path: &[&str]) -> f64 {
    let mut at = 0;
    for key in path {
        let pat = format!("\"{key}\": ");
        at += text[at..]
            .find(&pat)
            .unwrap_or_else(|| panic!("{path:?} not in the JSON"))
            + pat.len();
    }
    let end = text[at..].find([',', '\n', '}']).unwrap() + at;
    text[at..end].trim().parse().unwrap()
}

/// The value of a quantity in `solve -f json` output.
fn json_value(json: &str, quantity: &str) -> f64 {
    if let Some(p) = quantity.strip_prefix("dE_total/d") {
        match p.split_once('_') {
            Some(("net", n)) => json_number(json, &["deltas", n, "dE_total/dnet"]),
            Some(("out", n)) => json_number(json, &["deltas", n, "dE_total/dout"]),
            _ => json_number(json, &["gradients", p]),
        }
    } else if let Some(p) = quantity.strip_suffix('+') {
        json_number(json, &["updated", p])
    } else {
        json_number(json, &["values", quantity])
    }
}

#[test]
fn thirty_variants_agree_with_solve_and_compile() {
    let dir = tempdir("thirty");
    let r = exam(
        &dir,
        &["--variants", "30", "--seed", "2024", "--vary", GRID],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "answers.csv",
            "answers.md",
            "answers.tex",
            "moodle.xml",
            "questions.md",
            "questions.tex",
            "variants"
        ]
    );

    let rows = csv_rows(&dir);
    let keys: BTreeMap<(usize, String), String> = csv_keys(&dir)
        .into_iter()
        .map(|(v, q, _, key, _)| ((v, q), key))
        .collect();
    assert_eq!(rows.len(), 30 * 5);
    let asked: Vec<&str> = rows[..5].iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        asked,
        ["E_total", "dE_total/dw5", "dE_total/dw1", "w5+", "w1+"]
    );
    let mut by_variant: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    for (v, q, x) in rows {
        by_variant.entry(v).or_default().push((q, x));
    }
    assert_eq!(
        by_variant.keys().copied().collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    let answers_md = read(&dir, "answers.md");
    let mut seen = std::collections::HashSet::new();
    for (v, answers) in &by_variant {
        let file = dir.join(format!("variants/{v:02}.nn"));
        let text = std::fs::read_to_string(&file).unwrap();
        // Every drawn weight is a grid value, written exactly.
        for line in text.lines().filter(|l| l.starts_with("param")) {
            for item in line["param".len()..].split(',') {
                let value = item.split('=').nth(1).unwrap().trim();
                let name = item.split('=').next().unwrap().trim();
                if name.starts_with('w') {
                    let x: f64 = value.parse().unwrap();
                    let k = (x * 100.0).round() as i64;
                    assert!(k % 5 == 0 && (5..=95).contains(&k), "{name} = {value}");
                    assert!(value.len() <= 4, "{name} = {value} in {}", file.display());
                }
            }
        }
        let params: Vec<&str> = text.lines().filter(|l| l.starts_with("param")).collect();
        assert!(
            seen.insert(params.join("\n")),
            "variant {v} repeats an earlier one"
        );

        let json = Test::new()
            .args(["solve", file.to_str().unwrap(), "-f", "json"])
            .status(0)
            .stdout;
        let mut claims = String::new();
        for (q, x) in answers {
            let csv_value: f64 = x.parse().unwrap();
            assert_eq!(
                csv_value.to_bits(),
                json_value(&json, q).to_bits(),
                "variant {v}, {q}: csv {x} vs solve"
            );
            // Full precision: the text is the shortest that reads back.
            assert_eq!(csv_value.to_string(), *x);
            claims.push_str(&format!("{q} = {}\n", keys[&(*v, q.clone())]));
        }
        // The key shows the same numbers, and `check` accepts them.
        let section = answers_md
            .split(&format!("## Variant {v:02}\n"))
            .nth(1)
            .unwrap();
        let table: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| "))
            .take(7)
            .collect();
        for (q, _) in answers {
            let shown = &keys[&(*v, q.clone())];
            assert!(
                table.iter().any(|l| l.contains(&format!("$ | {shown} | "))),
                "variant {v}: {q} = {shown} not in {table:?}"
            );
        }
        if *v <= 3 {
            let claims_file = dir.join(format!("claims{v}.txt"));
            std::fs::write(&claims_file, claims).unwrap();
            Test::new()
                .args([
                    "check",
                    file.to_str().unwrap(),
                    claims_file.to_str().unwrap(),
                ])
                .status(0);
            std::fs::remove_file(claims_file).unwrap();
        }
    }

    let questions = read(&dir, "questions.md");
    assert_eq!(questions.matches("\n## Variant ").count(), 30);
    assert!(!questions.contains("NUMERICAL") && !questions.contains("Forward pass"));

    pdflatex(&dir, "questions");
    pdflatex(&dir, "answers");
    markdown_math_is_valid(&dir);
    moodle_quiz(&dir, &by_variant);
}

fn markdown_math_is_valid(dir: &Path) {
    if !crate::support::external("KaTeX through node") {
        return;
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        js.join("node_modules/katex").exists(),
        "the math checker needs `npm ci` in tests/js (scripts/test does it)"
    );
    let out = Command::new("node")
        .arg(js.join("check-math.mjs"))
        .arg(dir.join("questions.md"))
        .arg(dir.join("answers.md"))
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
}

#[test]
fn korean_sheets_compile() {
    let dir = tempdir("ko");
    let r = exam(
        &dir,
        &[
            "--variants",
            "4",
            "--seed",
            "7",
            "--vary",
            GRID,
            "--vary",
            "t:o*={0.01, 0.5, 0.99}",
            "--lang",
            "ko",
            "--decimals",
            "3",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let q = read(&dir, "questions.tex");
    assert!(q.contains("\\usepackage{kotex}") && q.contains("유형 01") && q.contains("학번"));
    assert!(read(&dir, "answers.md").contains("## 유형 04"));
    pdflatex(&dir, "questions");
    pdflatex(&dir, "answers");
    let rows = csv_rows(&dir);
    let by_variant = rows.into_iter().fold(BTreeMap::new(), |mut m, (v, q, x)| {
        m.entry(v).or_insert_with(Vec::new).push((q, x));
        m
    });
    moodle_quiz(&dir, &by_variant);
    // At 3 decimals every key has 3 decimals, or the more its question asks.
    for (_, q, _, key, _) in csv_keys(&dir) {
        let decimals = key.split_once('.').map_or(0, |(_, f)| f.len());
        assert!((3..=6).contains(&decimals), "{q} = {key}");
    }
}

#[test]
fn deeper_networks_draw_and_compile() {
    let dir = tempdir("deep");
    let src = netgen::network(5, 3, &[4, 3, 2]);
    std::fs::write(dir.join("net.nn"), &src).unwrap();
    let out = dir.join("out");
    let r = Test::new()
        .args([
            "exam",
            dir.join("net.nn").to_str().unwrap(),
            "--variants",
            "3",
            "--seed",
            "1",
            "--vary",
            "*=-1..1/0.25",
            "--decimals",
            "5",
            "-o",
            out.to_str().unwrap(),
        ])
        .run();
    assert_eq!(r.status, 0, "{}", r.stderr);
    pdflatex(&out, "questions");
    pdflatex(&out, "answers");
    for v in ["01", "02", "03"] {
        Test::new()
            .args([
                "solve",
                out.join(format!("variants/{v}.nn")).to_str().unwrap(),
                "-f",
                "json",
            ])
            .status(0);
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (a, b) = (tempdir("same-a"), tempdir("same-b"));
    let args = [
        "--variants",
        "12",
        "--seed",
        "99",
        "--vary",
        GRID,
        "--vary",
        "b1={0.2, 0.35, 0.5}",
        "--ask",
        "E_total, dE_total/db1, w2+, dout_o1/dnet_o1",
    ];
    assert_eq!(exam(&a, &args).status, 0);
    assert_eq!(exam(&b, &args).status, 0);
    let files = |d: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        for sub in ["", "variants"] {
            for e in std::fs::read_dir(d.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    let key = p.strip_prefix(d).unwrap().to_string_lossy().into_owned();
                    m.insert(key, std::fs::read(&p).unwrap());
                }
            }
        }
        m
    };
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), 6 + 12);
    assert!(fa == fb, "two runs with the same seed differ");
    // Another seed draws other variants.
    let c = tempdir("same-c");
    let mut other = args;
    other[3] = "100";
    assert_eq!(exam(&c, &other).status, 0);
    assert_ne!(read(&a, "answers.csv"), read(&c, "answers.csv"));
}

#[test]
fn a_non_empty_directory_needs_force() {
    let dir = tempdir("force");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let r = exam(&dir, &["--variants", "2", "--seed", "1", "--vary", GRID]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("is not empty; give --force"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("answers.csv").exists());
    let r = exam(
        &dir,
        &["--variants", "3", "--seed", "1", "--vary", GRID, "--force"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(read(&dir, "notes.txt"), "mine");
    // A smaller run replaces the variants of the larger one.
    let r = exam(
        &dir,
        &["--variants", "2", "--seed", "1", "--vary", GRID, "--force"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(dir.join("variants/02.nn").exists() && !dir.join("variants/03.nn").exists());
}

#[test]
fn degenerate_grids_are_refused() {
    let dir = tempdir("degenerate");
    let r = exam(
        &dir,
        &[
            "--variants",
            "30",
            "--seed",
            "1",
            "--vary",
            "w1={0.1, 0.2}",
            "--vary",
            "w2=0.1..0.3/0.1",
        ],
    );
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains(
            "at most 6 different variants (`w1` 2 × `w2` 3), fewer than the 30 asked for"
        ),
        "{}",
        r.stderr
    );
    let r = exam(&dir, &["--variants", "3", "--seed", "1"]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("without --vary every variant is the same network"),
        "{}",
        r.stderr
    );
    // ∂E_total/∂w1 is about 0.0004 here: 0 at 2 decimals, whatever w is drawn.
    let r = exam(
        &dir,
        &[
            "--variants",
            "3",
            "--seed",
            "1",
            "--vary",
            "w*=0.1..0.9/0.1",
            "--ask",
            "dE_total/dw1",
            "--decimals",
            "2",
        ],
    );
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("only 0 of the 3 variants could be drawn in 1300 draws")
            && r.stderr
                .contains("rounds to 0 at 2 decimals (first: `dE_total/dw1`)"),
        "{}",
        r.stderr
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn bad_specs_and_questions_are_named() {
    let dir = tempdir("bad");
    let cases: [(&[&str], &str); 7] = [
        (
            &["--vary", "w*=0..1/0.3"],
            "--vary `w*=0..1/0.3`: `1` is not a whole number of steps of `0.3` from `0`; end the grid at `0.9` or `1.2`",
        ),
        (&["--vary", "w*=0.9..0.1/0.1"], "--vary `w*=0.9..0.1/0.1`: the grid runs backwards"),
        (&["--vary", "w*={0.1, 0.1}"], "`0.1` is listed twice"),
        (&["--vary", "v*=0..1/0.5"], "--vary `v*=0..1/0.5`: `v*` matches no input, param, const or target"),
        (
            &["--vary", GRID, "--ask", "E_total, dE_total/dw9"],
            "--ask:1:10: unknown quantity `dE_total/dw9`; did you mean `dE_total/dw1`?",
        ),
        (&["--vary", GRID, "--ask", "E_total, E_total"], "`E_total` is asked twice"),
        (
            &["--vary", GRID, "--sig", "3", "--decimals", "2"],
            "the argument '--sig <SIG>' cannot be used with '--decimals <DECIMALS>'",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["--variants", "3", "--seed", "1"];
        all.extend_from_slice(args);
        let r = exam(&dir, &all);
        assert_eq!(r.status, 2, "{args:?}");
        assert!(r.stderr.contains(message), "{args:?}:\n{}", r.stderr);
    }
    // Targets by `t:` and by their full name.
    for spec in ["t:o1={0.1, 0.2, 0.3}", "target_o*=0..1/0.25"] {
        let r = exam(
            &dir,
            &["--variants", "2", "--seed", "1", "--vary", spec, "--force"],
        );
        assert_eq!(r.status, 0, "{spec}: {}", r.stderr);
        assert!(
            read(&dir, "variants/01.nn").contains("# Drawn: target_o1 = "),
            "{spec}"
        );
    }
}

#[test]
fn language_files_have_the_same_keys() {
    let keys = |f: &str| -> Vec<String> {
        let text = std::fs::read_to_string(format!("templates/lang/{f}")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys("en.json"), keys("ko.json"));
}

/// Decodes standard base64 (no line breaks), independently of the code under test.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {}", c as char),
        }
    };
    assert_eq!(s.len() % 4, 0);
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let n = chunk[..4 - pad]
            .iter()
            .fold(0u32, |acc, &c| (acc << 6) | value(c))
            << (6 * pad);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// A parsed XML element.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> &Element {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }
}

/// A small XML reader: declaration, elements, attributes, text, CDATA and
/// the five predefined entities. Panics on anything not well-formed.
fn parse_xml(s: &str) -> Element {
    let s = s.strip_prefix("<?xml").expect("an XML declaration");
    let s = &s[s.find("?>").expect("end of declaration") + 2..];
    let mut stack = vec![Element::default()];
    let mut rest = s;
    let unescape = |t: &str| -> String {
        let mut out = String::new();
        let mut r = t;
        while let Some(i) = r.find('&') {
            out.push_str(&r[..i]);
            let end = r[i..].find(';').expect("entity end") + i;
            out.push_str(match &r[i + 1..end] {
                "amp" => "&",
                "lt" => "<",
                "gt" => ">",
                "quot" => "\"",
                "apos" => "'",
                e => panic!("unknown entity &{e};"),
            });
            r = &r[end + 1..];
        }
        assert!(!r.contains('<'));
        out.push_str(r);
        out
    };
    while !rest.is_empty() {
        let lt = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..lt];
        stack.last_mut().unwrap().text.push_str(&unescape(text));
        rest = &rest[lt..];
        if rest.is_empty() {
            break;
        }
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").expect("CDATA end");
            stack.last_mut().unwrap().text.push_str(&r[..end]);
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').expect("end tag");
            let name = r[..end].trim();
            let done = stack.pop().expect("an open element");
            assert_eq!(done.name, name, "mismatched end tag");
            stack.last_mut().expect("a parent").children.push(done);
            rest = &r[end + 1..];
        } else {
            let r = &rest[1..];
            let end = r.find('>').expect("tag end");
            let (tag, empty) = match r[..end].strip_suffix('/') {
                Some(t) => (t, true),
                None => (&r[..end], false),
            };
            let mut parts = tag.splitn(2, char::is_whitespace);
            let mut e = Element {
                name: parts.next().unwrap().to_string(),
                ..Element::default()
            };
            let mut attrs = parts.next().unwrap_or("").trim();
            while !attrs.is_empty() {
                let eq = attrs.find("=\"").expect("attribute = \"");
                let close = attrs[eq + 2..].find('"').expect("attribute end") + eq + 2;
                e.attrs.push((
                    attrs[..eq].trim().to_string(),
                    unescape(&attrs[eq + 2..close]),
                ));
                attrs = attrs[close + 1..].trim();
            }
            if empty {
                stack.last_mut().unwrap().children.push(e);
            } else {
                stack.push(e);
            }
            rest = &r[end + 1..];
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert!(doc.text.trim().is_empty());
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

/// moodle.xml is well-formed and a Moodle quiz: a category, then one cloze
/// question a variant with its drawing (an SVG `<file>` the text refers to
/// by `@@PLUGINFILE@@`) and a NUMERICAL field an answer, whose value is the
/// key's and whose tolerance is half a unit of its last digit.
fn moodle_quiz(dir: &Path, answers: &BTreeMap<usize, Vec<(String, String)>>) {
    let keys: BTreeMap<(usize, String), (String, String)> = csv_keys(dir)
        .into_iter()
        .map(|(v, q, _, key, tol)| ((v, q), (key, tol)))
        .collect();
    let text = read(dir, "moodle.xml");
    if crate::support::external("xmllint") {
        let out = Command::new("xmllint")
            .args(["--noout", dir.join("moodle.xml").to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let quiz = parse_xml(&text);
    assert_eq!(quiz.name, "quiz");
    let (category, questions) = quiz.children.split_first().unwrap();
    assert_eq!(category.attr("type"), Some("category"));
    assert!(category
        .child("category")
        .child("text")
        .text
        .starts_with("$course$/top/chainrule/Mazur 2-2-2"));
    assert_eq!(questions.len(), answers.len());
    for (q, (v, values)) in questions.iter().zip(answers) {
        assert_eq!(q.name, "question");
        assert_eq!(q.attr("type"), Some("cloze"));
        assert!(q
            .child("name")
            .child("text")
            .text
            .ends_with(&format!(" {v:02}")));
        let qt = q.child("questiontext");
        assert_eq!(qt.attr("format"), Some("html"));
        let html = &qt.child("text").text;
        let fields: Vec<&str> = html
            .split("{1:NUMERICAL:=")
            .skip(1)
            .map(|f| &f[..f.find('}').unwrap()])
            .collect();
        assert_eq!(fields.len(), values.len(), "{html}");
        for (field, (quantity, exact)) in fields.iter().zip(values) {
            let (value_text, tol_text) = field.split_once(':').unwrap();
            assert_eq!(
                (value_text, tol_text),
                {
                    let (k, t) = &keys[&(*v, quantity.clone())];
                    (k.as_str(), t.as_str())
                },
                "{quantity}"
            );
            let (value, tol): (f64, f64) = (value_text.parse().unwrap(), tol_text.parse().unwrap());
            assert_eq!(tol, 0.5 * last_unit(value_text), "{quantity}");
            let exact: f64 = exact.parse().unwrap();
            // The key's value is the exact one rounded to its last digit.
            let digits = value_text.split_once('.').map_or(0, |(_, f)| f.len());
            let rounded: f64 = format!("{exact:.digits$}").parse().unwrap();
            assert_eq!(value, rounded, "{quantity}");
            assert!((value - exact).abs() <= tol * (1.0 + 1e-9), "{quantity}");
        }
        // The drawing: a base64 SVG file the text shows.
        let file = qt.child("file");
        let name = file.attr("name").unwrap();
        assert_eq!(name, format!("v{v:02}.svg"));
        assert_eq!(file.attr("encoding"), Some("base64"));
        assert_eq!(file.attr("path"), Some("/"));
        assert!(html.contains(&format!("<img src=\"@@PLUGINFILE@@/{name}\"")));
        let svg = String::from_utf8(base64_decode(file.text.trim())).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        parse_xml(&format!("<?xml version=\"1.0\"?>{svg}"));
        crate::drawing::assert_legible(&svg, include_str!("../../examples/mazur.nn"));
        // The variant's own numbers on it.
        let nn = read(dir, &format!("variants/{v:02}.nn"));
        let w5 = nn.split("w5 = ").nth(2).unwrap();
        let w5 = &w5[..w5.find([',', '\n']).unwrap()];
        assert!(
            svg.contains(&format!(
                ">5</tspan><tspan dy=\"-3\"> =</tspan> {w5}</text>"
            )),
            "w5 = {w5}: {svg}"
        );
        q.child("generalfeedback");
        assert!(q.child("penalty").text.parse::<f64>().is_ok());
    }
}

#[test]
fn dense_and_data_networks_make_variants_too() {
    // A dense layer's params drawn by `init`: a variant writes them as
    // `param` lines, and solving the variant file gives the key's values.
    let dir = tempdir("dense");
    let src =
        "input x[3] = [0.1, 0.5, -0.2]\nlayer h[4] tanh dense x\nlayer y[2] sigmoid dense h\n\
               target y = [0, 1]\ninit uniform(-0.5, 0.5) seed 7\n";
    let net = dir.join("dense.nn");
    std::fs::write(&net, src).unwrap();
    let out = dir.join("out");
    Test::new()
        .args([
            "exam",
            net.to_str().unwrap(),
            "--variants",
            "4",
            "--seed",
            "3",
        ])
        .args([
            "--vary",
            "w_h1_*=-0.9..0.9/0.1",
            "--ask",
            "E_total, dE_total/dw_h1_x1, w_h1_x1+",
        ])
        .args(["-o", out.to_str().unwrap()])
        .status(0);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 12);
    for (variant, quantity, value) in rows {
        let file = out.join(format!("variants/{variant:02}.nn"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(
            "# drawn for this variant, and the other values `init` drew\nparam w_h1_x1 = "
        ));
        let json = Test::new()
            .args(["solve", file.to_str().unwrap(), "-f", "json"])
            .status(0)
            .stdout;
        assert_eq!(
            value.parse::<f64>().unwrap(),
            json_value(&json, &quantity),
            "{quantity} of {variant}"
        );
    }
    // With data: combined quantities only, and the data's values are not varied.
    let r = Test::new()
        .args([
            "exam",
            "examples/xor.nn",
            "--variants",
            "2",
            "--seed",
            "1",
            "--vary",
            "i*=0..1/1",
        ])
        .args(["-o", dir.join("x1").to_str().unwrap()])
        .status(2);
    assert!(r.stderr.contains("cannot be varied"), "{}", r.stderr);
    let r = Test::new()
        .args([
            "exam",
            "examples/xor.nn",
            "--variants",
            "2",
            "--seed",
            "1",
            "--vary",
            "w*=-0.9..0.9/0.1",
        ])
        .args([
            "--ask",
            "E_total, out_o1",
            "-o",
            dir.join("x2").to_str().unwrap(),
        ])
        .status(2);
    assert!(r.stderr.contains("one value per sample"), "{}", r.stderr);
    let x3 = dir.join("x3");
    Test::new()
        .args([
            "exam",
            "examples/xor.nn",
            "--variants",
            "3",
            "--seed",
            "1",
            "--vary",
            "w*=-0.9..0.9/0.1",
        ])
        .args(["-o", x3.to_str().unwrap()])
        .status(0);
    // Every sample on the sheet and in the quiz, and the combined loss.
    let q = read(&x3, "questions.md");
    assert!(
        q.contains(
            "| Sample | $i_{1}$ | $i_{2}$ | $target_{o_1}$ |\n| ---: | ---: | ---: | ---: |\n\
             | 1 | 0 | 0 | 0 |\n| 2 | 0 | 1 | 1 |\n| 3 | 1 | 0 | 1 |\n| 4 | 1 | 1 | 0 |\n"
        ),
        "{q}"
    );
    assert!(
        q.contains("E_{total} &= \\frac{1}{4} \\sum_{s=1}^{4} E^{(s)}"),
        "{q}"
    );
    assert!(q.contains("is the mean of the samples' errors"));
    // The sample's inputs and targets are not given as single values.
    assert!(
        !q.contains("$i_{1} = ") && !q.contains("$target_{o_1} = "),
        "{q}"
    );
    let quiz = parse_xml(&read(&x3, "moodle.xml"));
    for question in &quiz.children[1..] {
        let html = &question.child("questiontext").child("text").text;
        assert!(html.contains("<tr><td>4</td><td style=\"text-align: right\">1</td><td style=\"text-align: right\">1</td><td style=\"text-align: right\">0</td></tr>"), "{html}");
        assert!(html.contains("\\(E_{total}\\) is the mean"), "{html}");
    }
    pdflatex(&x3, "questions");
    for (variant, quantity, value) in csv_rows(&x3) {
        let file = x3.join(format!("variants/{variant:02}.nn"));
        let json = Test::new()
            .args(["solve", file.to_str().unwrap(), "-f", "json"])
            .status(0)
            .stdout;
        assert_eq!(
            value.parse::<f64>().unwrap(),
            json_value(&json, &quantity),
            "{quantity} of {variant}"
        );
    }
}

#[test]
fn check_judges_several_samples_as_a_batch() {
    // Without --sample, E_total is the batch's: the mean of the four
    // samples' errors (0.125085885).
    let r = Test::new()
        .args(["check", "examples/xor.nn", "-"])
        .stdin("E_total = 0.1251\n")
        .status(0);
    assert!(r.stdout.contains("all 1 right"), "{}", r.stdout);
}

/// The Mazur 2-2-2 sigmoid network worked out here, apart from chainrule,
/// with the classic mistakes a student makes by hand.
#[derive(Clone, Copy)]
struct Mazur {
    i: [f64; 2],
    /// w1…w8
    w: [f64; 8],
    b: [f64; 2],
    t: [f64; 2],
    eta: f64,
}

/// Which mistakes a hand calculation makes.
#[derive(Clone, Copy, Default)]
struct Slips {
    no_dact_out: bool,
    no_dact_hidden: bool,
    no_bias: bool,
    /// ∂E/∂out_h1 through this output only.
    single: Option<usize>,
    /// w5, w7 updated before ∂E/∂w1 is taken.
    early: bool,
    /// ∂net_o1/∂w5 taken as net_h1.
    net_for_out: bool,
}

impl Mazur {
    fn read(text: &str) -> Mazur {
        // The statements that give numbers, not comments or neuron lines.
        let given: String = text
            .lines()
            .filter(|l| {
                ["input", "param", "target"]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .map(|l| format!(" {}\n", l.replace(',', " ,")))
            .collect();
        let value = |name: &str| -> f64 {
            let pat = format!(" {name} = ");
            let at = given.find(&pat).unwrap_or_else(|| panic!("{name}")) + pat.len();
            let end = given[at..].find([',', '\n', ' ']).unwrap() + at;
            given[at..end].parse().unwrap()
        };
        Mazur {
            i: [value("i1"), value("i2")],
            w: std::array::from_fn(|k| value(&format!("w{}", k + 1))),
            b: [value("b1"), value("b2")],
            t: [value("o1"), value("o2")],
            eta: 0.5,
        }
    }

    /// E_total, ∂E/∂w5, ∂E/∂w1, w5⁺, w1⁺ as the hand calculation with
    /// `s` gives them.
    fn answers(&self, s: Slips) -> [f64; 5] {
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let w = &self.w;
        let bias = |k: usize| if s.no_bias { 0.0 } else { self.b[k] };
        let net_h = [
            w[0] * self.i[0] + w[1] * self.i[1] + bias(0),
            w[2] * self.i[0] + w[3] * self.i[1] + bias(0),
        ];
        let h = [sig(net_h[0]), sig(net_h[1])];
        let net_o = [
            w[4] * h[0] + w[5] * h[1] + bias(1),
            w[6] * h[0] + w[7] * h[1] + bias(1),
        ];
        let o = [sig(net_o[0]), sig(net_o[1])];
        let e = 0.5 * (self.t[0] - o[0]).powi(2) + 0.5 * (self.t[1] - o[1]).powi(2);
        let d_out = |k: usize| {
            if s.no_dact_out {
                1.0
            } else {
                o[k] * (1.0 - o[k])
            }
        };
        let delta = [(o[0] - self.t[0]) * d_out(0), (o[1] - self.t[1]) * d_out(1)];
        let g5 = delta[0] * if s.net_for_out { net_h[0] } else { h[0] };
        let g7 = delta[1] * h[0];
        let (w5, w7) = if s.early {
            (w[4] - self.eta * g5, w[6] - self.eta * g7)
        } else {
            (w[4], w[6])
        };
        let via = [delta[0] * w5, delta[1] * w7];
        let d_h1 = match s.single {
            Some(k) => via[k],
            None => via[0] + via[1],
        };
        let d_act_h = if s.no_dact_hidden {
            1.0
        } else {
            h[0] * (1.0 - h[0])
        };
        let g1 = d_h1 * d_act_h * self.i[0];
        [e, g5, g1, w[4] - self.eta * g5, w[0] - self.eta * g1]
    }

    /// The classic wrong answers to the five questions: (mistake, values).
    fn wrong(&self) -> Vec<(&'static str, [f64; 5])> {
        let right = self.answers(Slips::default());
        let with = |s: Slips| self.answers(s);
        let mut v = vec![
            (
                "no activation derivative at the output",
                with(Slips {
                    no_dact_out: true,
                    ..Default::default()
                }),
            ),
            (
                "no activation derivative at the hidden layer",
                with(Slips {
                    no_dact_hidden: true,
                    ..Default::default()
                }),
            ),
            (
                "missing bias",
                with(Slips {
                    no_bias: true,
                    ..Default::default()
                }),
            ),
            (
                "single-output sum through o1",
                with(Slips {
                    single: Some(0),
                    ..Default::default()
                }),
            ),
            (
                "single-output sum through o2",
                with(Slips {
                    single: Some(1),
                    ..Default::default()
                }),
            ),
            (
                "early update",
                with(Slips {
                    early: true,
                    ..Default::default()
                }),
            ),
            (
                "net for out",
                with(Slips {
                    net_for_out: true,
                    ..Default::default()
                }),
            ),
        ];
        let [e, g5, g1, _, _] = right;
        let (w5, w1, eta) = (self.w[4], self.w[0], self.eta);
        v.push((
            "doubled gradient",
            [
                e,
                2.0 * g5,
                2.0 * g1,
                w5 - 2.0 * eta * g5,
                w1 - 2.0 * eta * g1,
            ],
        ));
        v.push((
            "negated gradient",
            [e, -g5, -g1, w5 + eta * g5, w1 + eta * g1],
        ));
        v.push(("no update", [e, g5, g1, w5, w1]));
        v.push(("added update", [e, g5, g1, w5 + eta * g5, w1 + eta * g1]));
        v
    }
}

/// `x` rounded to `n` significant figures.
fn round_sig(x: f64, n: usize) -> f64 {
    format!("{:.*e}", n - 1, x).parse().unwrap()
}

/// Whether Moodle's NUMERICAL field `key ± tol` accepts `answer`: its
/// nominal tolerance, widened as `qtype_numerical_answer::
/// get_tolerance_interval` does by 10^-precision · max(1, |key|), PHP's
/// `precision` being 14 by default.
fn moodle_accepts(key: f64, tol: f64, answer: f64) -> bool {
    let tol = tol + 1e-14 * key.abs().max(1.0);
    key - tol <= answer && answer <= key + tol
}

#[test]
fn three_hundred_variants_reject_the_classic_mistakes() {
    let dir = tempdir("fair");
    let r = exam(&dir, &["--variants", "300", "--seed", "16", "--vary", GRID]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let quiz = parse_xml(&read(&dir, "moodle.xml"));
    let questions = &quiz.children[1..];
    assert_eq!(questions.len(), 300);
    let csv = csv_rows(&dir);
    let (mut wrong, mut accepted, mut examples) = (0usize, 0usize, Vec::new());
    // The same wrong answers against fields of a fixed 4 decimals.
    let mut accepted_at_4_decimals = 0;
    for (k, q) in questions.iter().enumerate() {
        let net = Mazur::read(&read(&dir, &format!("variants/{:03}.nn", k + 1)));
        let right = net.answers(Slips::default());
        for (j, row) in csv[5 * k..5 * k + 5].iter().enumerate() {
            let key: f64 = row.2.parse().unwrap();
            assert!(
                (key - right[j]).abs() <= 1e-12 * right[j].abs(),
                "variant {}: {} is {key}, computed here {}",
                k + 1,
                row.1,
                right[j]
            );
        }
        let html = &q.child("questiontext").child("text").text;
        // Each field and the significant figures it asks for.
        let fields: Vec<(f64, f64, usize)> = html
            .split("{1:NUMERICAL:=")
            .skip(1)
            .map(|f| {
                let (field, rest) = f.split_once('}').unwrap();
                let (key, tol) = field.split_once(':').unwrap();
                let n = rest.trim_start().strip_prefix('(').unwrap();
                let n = n.split(' ').next().unwrap().parse().unwrap();
                (key.parse().unwrap(), tol.parse().unwrap(), n)
            })
            .collect();
        assert_eq!(fields.len(), 5, "{html}");
        for (j, &(key, tol, n)) in fields.iter().enumerate() {
            assert!(n >= 4, "variant {}: {n} figures", k + 1);
            // Half a unit of the key's n-th significant digit.
            let unit = 10f64.powi(key.abs().log10().floor() as i32 - (n as i32 - 1));
            assert!(
                (tol / (0.5 * unit) - 1.0).abs() < 1e-9,
                "variant {}: tolerance {tol} for {key} at {n} figures",
                k + 1
            );
            let student = round_sig(right[j], n);
            assert!(
                moodle_accepts(key, tol, student),
                "variant {}, question {}: the right answer {student} is refused ({key} ± {tol})",
                k + 1,
                j + 1
            );
        }
        for (mistake, values) in net.wrong() {
            for (j, &(key, tol, n)) in fields.iter().enumerate() {
                let x = values[j];
                if (x - right[j]).abs() <= 1e-12 * right[j].abs() {
                    continue; // this mistake does not change this answer
                }
                wrong += 1;
                let at4 = |v: f64| format!("{v:.4}").parse::<f64>().unwrap();
                if moodle_accepts(at4(right[j]), 0.00005, at4(x)) {
                    accepted_at_4_decimals += 1;
                }
                if moodle_accepts(key, tol, round_sig(x, n)) {
                    accepted += 1;
                    examples.push(format!("variant {}, question {}: {mistake}", k + 1, j + 1));
                }
            }
        }
    }
    eprintln!(
        "{accepted} of {wrong} classic wrong answers accepted ({:.3}%; at a fixed 4 decimals {accepted_at_4_decimals}); {}",
        100.0 * accepted as f64 / wrong as f64,
        r.stderr.trim()
    );
    assert!(wrong > 300 * 20, "{wrong}");
    // The check can fail: fields of a fixed 4 decimals fail it.
    assert!(
        accepted_at_4_decimals * 100 > wrong,
        "{accepted_at_4_decimals}"
    );
    assert!(
        accepted * 100 <= wrong,
        "{accepted} of {wrong} wrong answers accepted: {examples:?}"
    );
}
