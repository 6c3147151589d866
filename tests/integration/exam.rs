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
    let csv = read(dir, "answers.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("variant,quantity,value"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].parse().unwrap(), f[1].to_string(), f[2].to_string())
        })
        .collect()
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
            claims.push_str(&format!("{q} = {}\n", round4(csv_value)));
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
        for (q, x) in answers {
            let shown = round4(x.parse().unwrap());
            assert!(
                table.iter().any(|l| l.ends_with(&format!("| {shown} |"))),
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
    moodle_quiz(&dir, &by_variant, 4);
}

/// `x` as the key shows it with 4 decimals.
fn round4(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
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
    moodle_quiz(&dir, &by_variant, 3);
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
    let cases: [(&[&str], &str); 6] = [
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
/// question a variant with a NUMERICAL field an answer, whose value is the
/// key's and whose tolerance is half a unit of the last decimal shown.
fn moodle_quiz(dir: &Path, answers: &BTreeMap<usize, Vec<(String, String)>>, decimals: i32) {
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
    let tolerance = 0.5 * 10f64.powi(-decimals);
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
            let (value, tol) = field.split_once(':').unwrap();
            let (value, tol): (f64, f64) = (value.parse().unwrap(), tol.parse().unwrap());
            assert_eq!(tol, tolerance, "{quantity}");
            let exact: f64 = exact.parse().unwrap();
            // The key's value is the exact one rounded: within the tolerance.
            assert!(
                (value - exact).abs() <= tolerance * (1.0 + 1e-9),
                "{quantity}"
            );
            let rounded: f64 = format!("{exact:.*}", decimals as usize).parse().unwrap();
            assert_eq!(value, rounded, "{quantity}");
        }
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
        assert!(text.contains("# drawn for this variant\nparam w_h1_x1 = "));
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
