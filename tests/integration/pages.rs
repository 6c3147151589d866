//! Markdown and LaTeX pages: the published numbers in their places, every
//! option, math valid for KaTeX and MathJax, LaTeX that compiles, golden files.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::netgen;
use crate::support::{mazur_with_template, pdflatex, Test};

fn solve(args: &[&str]) -> String {
    let mut all = vec!["solve", "examples/mazur.nn"];
    all.extend_from_slice(args);
    Test::new().args(all).status(0).stdout
}

/// The value an equation chain for `lhs` ends with: the text after the last
/// `=` before the next line that starts another equation.
fn value_of(page: &str, lhs: &str) -> Vec<String> {
    let lines: Vec<&str> = page.lines().collect();
    let mut found = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with(&format!("{lhs} &=")) {
            let mut end = i;
            while end + 1 < lines.len() && lines[end + 1].starts_with("&") {
                end += 1;
            }
            let last = lines[end].trim_end_matches(" \\\\");
            found.push(last.rsplit("= ").next().unwrap_or("").trim().to_string());
        }
    }
    found
}

fn assert_value(page: &str, lhs: &str, want: &str) {
    let got = value_of(page, lhs);
    assert!(
        got.iter().any(|g| g == want),
        "{lhs} should equal {want}; found {got:?}"
    );
}

#[test]
fn markdown_shows_the_published_numbers_in_their_places() {
    let md = solve(&["-f", "md"]);
    let p = |a: &str, b: &str| format!("\\frac{{\\partial {a}}}{{\\partial {b}}}");
    assert_value(&md, "net_{h_1}", "0.3775");
    assert_value(&md, "out_{h_1}", "0.593269992");
    assert_value(&md, "net_{o_1}", "1.105905967");
    assert_value(&md, "out_{o_1}", "0.75136507");
    assert_value(&md, "E_{o_1}", "0.274811083");
    assert_value(&md, "E_{total}", "0.298371109");
    assert_value(&md, &p("E_{total}", "out_{o_1}"), "0.74136507");
    assert_value(&md, &p("out_{o_1}", "net_{o_1}"), "0.186815602");
    assert_value(&md, &p("E_{total}", "w_{5}"), "0.082167041");
    assert_value(&md, "w_{5}^{+}", "0.35891648");
    assert_value(
        &md,
        &format!("\\delta_{{o_1}} = {}", p("E_{total}", "net_{o_1}")),
        "0.138498562",
    );
    assert_value(&md, &p("E_{o_1}", "out_{h_1}"), "0.055399425");
    assert_value(&md, &p("E_{total}", "out_{h_1}"), "0.036350306");
    assert_value(&md, &p("out_{h_1}", "net_{h_1}"), "0.241300709");
    assert_value(&md, &p("E_{total}", "w_{1}"), "0.000438568");
    assert_value(&md, "w_{1}^{+}", "0.149780716");
    // Output layer first, each δ derived once and referred to afterwards.
    let w5 = md.find("id=\"dw5\"").unwrap();
    let w1 = md.find("id=\"dw1\"").unwrap();
    assert!(w5 < w1);
    assert_eq!(md.matches("\\delta_{o_1} = \\frac").count(), 1);
    assert!(md.contains("derived in the step for [$\\partial E_{total} / \\partial w_{5}$](#dw5)"));
}

#[test]
fn decimals_notation_and_only() {
    let md = solve(&["--decimals", "5"]);
    assert_value(&md, "E_{total}", "0.29837");
    let md = solve(&["--notation", "sum-output"]);
    assert!(md.contains("sum_{h_1}") && md.contains("output_{h_1}"));
    assert!(!md.contains("net_{h_1}") && !md.contains("out_{h_1}"));
    let md = solve(&["--notation", "z-a"]);
    assert!(md.contains("z_{h_1} &=") && md.contains("a_{h_1} &="));
    let md = solve(&["--only", "w5,b1"]);
    assert!(md.contains("id=\"dw5\"") && md.contains("id=\"db1\""));
    assert!(!md.contains("id=\"dw6\"") && !md.contains("id=\"dw1\""));
    // b1 needs δ_o1 and δ_o2: derived right there, since no shown step did.
    assert!(md.contains("\\delta_{o_2}"));
    let r = Test::new()
        .args(["solve", "examples/mazur.nn", "--only", "w9"])
        .status(2);
    assert!(r.stderr.contains("`w9` is not a param"), "{}", r.stderr);
}

#[test]
fn hand_rounding_uses_the_shown_values() {
    let md = solve(&["--hand", "--decimals", "4"]);
    assert!(md.contains("rounded to 4 decimals"));
    // Each product of shown factors gives the shown result.
    let line = md
        .lines()
        .find(|l| l.starts_with("\\frac{\\partial E_{total}}{\\partial w_{5}} &= 0."))
        .expect("product line of w5");
    let rhs: Vec<&str> = line
        .trim_end_matches(" \\\\")
        .split("&= ")
        .nth(1)
        .unwrap()
        .split(" = ")
        .collect();
    let factors: f64 = rhs[0]
        .split(" \\cdot ")
        .map(|x| x.parse::<f64>().unwrap())
        .product();
    let shown: f64 = rhs[1].parse().unwrap();
    assert_eq!((factors * 1e4).round() / 1e4, shown, "{line}");
    assert_value(&md, "E_{total}", "0.2984");
}

#[test]
fn front_matter_fragment_output_file_and_user_template() {
    let md = solve(&["--front-matter"]);
    // The front matter gives the title: no `# title` repeats it.
    assert!(
        md.starts_with("---\ntitle: \"Mazur 2-2-2\"\nmath: true\n---\n\nA worked solution"),
        "{md}"
    );
    assert!(!md.lines().any(|l| l.starts_with("# ")));
    let tex = solve(&["-f", "tex", "--fragment"]);
    assert!(!tex.contains("\\documentclass") && !tex.contains("\\end{document}"));
    assert!(tex.contains("\\section*{Forward pass}"));
    let full = solve(&["-f", "tex"]);
    assert!(full.starts_with("\\documentclass") && full.trim_end().ends_with("\\end{document}"));

    let dir = tempdir("front");
    let out = dir.join("page.md");
    let r = Test::new()
        .args(["solve", "examples/mazur.nn", "-o", out.to_str().unwrap()])
        .status(0);
    assert!(r.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), solve(&[]));

    let tpl = dir.join("t.hbs");
    std::fs::write(
        &tpl,
        "{{title}}: {{#each summary}}{{name}}={{num raw.[2]}} {{/each}}E={{error.value}}\n",
    )
    .unwrap();
    let r = mazur_with_template(&tpl, &["--decimals", "4"]).status(0);
    assert!(
        r.stdout.starts_with("Mazur 2-2-2: w1=0.1498 w2=0.1996"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with("E=0.2984"));
    std::fs::write(&tpl, "{{#each summary}}{{nmae}}{{/each}}").unwrap();
    let r = mazur_with_template(&tpl, &[]).status(2);
    assert!(
        r.stderr.contains("t.hbs") && r.stderr.contains("nmae"),
        "{}",
        r.stderr
    );
}

/// A fresh directory under the target dir.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pages-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn node_checker() -> PathBuf {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        js.join("node_modules/katex").exists() && js.join("node_modules/mathjax-full").exists(),
        "the math checker needs `npm ci` in tests/js (scripts/test does it)"
    );
    js.join("check-math.mjs")
}

#[test]
fn every_math_span_is_valid_for_katex_and_mathjax() {
    let dir = tempdir("katex");
    let mut files = Vec::new();
    let mut write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        files.push(p);
    };
    write("mazur.md", solve(&[]));
    write(
        "mazur-hand.md",
        solve(&["--hand", "--notation", "sum-output"]),
    );
    write("mazur-ko.md", solve(&["--lang", "ko"]));
    for file in ["examples/xor.nn", "tests/networks/softmax.nn"] {
        let md = Test::new().args(["solve", file]).status(0).stdout;
        write(&file.replace('/', "_"), md);
    }
    let dense =
        "input x[3] = [0.1, 0.5, -0.2]\nlayer h[4] tanh dense x\nlayer y[2] sigmoid dense h\n\
                 target y = [0, 1]\ninit uniform(-0.5, 0.5) seed 7\n";
    write(
        "dense.md",
        Test::new()
            .args(["solve", "-"])
            .stdin(dense)
            .status(0)
            .stdout,
    );
    for seed in 0..6u64 {
        let widths: Vec<usize> = match seed % 3 {
            0 => vec![3, 2],
            1 => vec![2, 3, 2, 1],
            _ => vec![4, 1],
        };
        let src = netgen::network(seed, 2 + seed as usize % 2, &widths);
        let md = Test::new()
            .args(["solve", "-"])
            .stdin(&src)
            .status(0)
            .stdout;
        write(&format!("random{seed}.md"), md);
    }
    if !crate::support::external("KaTeX and MathJax through node") {
        return;
    }
    let out = Command::new("node")
        .arg(node_checker())
        .args(&files)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let spans: usize = text.split_whitespace().next().unwrap().parse().unwrap();
    assert!(spans > 500, "{text}");
}

#[test]
fn latex_compiles_for_examples_and_deeper_random_networks() {
    let dir = tempdir("tex");
    let examples = std::fs::read_dir("examples").unwrap();
    let networks = std::fs::read_dir("tests/networks").unwrap();
    for entry in examples.chain(networks) {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let tex = Test::new()
            .args(["solve", path.to_str().unwrap(), "-f", "tex"])
            .status(0)
            .stdout;
        std::fs::write(dir.join(format!("{name}.tex")), &tex).unwrap();
        pdflatex(&dir, &name);
    }
    for seed in 10..13u64 {
        let src = netgen::network(seed, 3, &[5, 4, 4, 2]);
        let tex = Test::new()
            .args(["solve", "-", "-f", "tex"])
            .stdin(&src)
            .status(0)
            .stdout;
        std::fs::write(dir.join(format!("random{seed}.tex")), &tex).unwrap();
        pdflatex(&dir, &format!("random{seed}"));
    }
    let wide = netgen::network(99, 12, &[12, 2]);
    let tex = Test::new()
        .args(["solve", "-", "-f", "tex"])
        .stdin(&wide)
        .status(0)
        .stdout;
    std::fs::write(dir.join("wide.tex"), &tex).unwrap();
    pdflatex(&dir, "wide");
}

#[test]
fn golden_pages() {
    // Each case: its network, and the formats whose whole output is kept in
    // tests/golden/CASE/expected.FORMAT.
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "mazur",
            "tests/golden/mazur/input.nn",
            &["md", "tex", "json", "html"],
        ),
        // softmax and cross-entropy
        ("softmax", "tests/networks/softmax.nn", &["md", "json"]),
        // a data block: every sample, and their mean
        ("xor", "examples/xor.nn", &["md", "tex", "json"]),
        (
            "custom-loss",
            "tests/golden/custom-loss/input.nn",
            &["md", "tex", "json"],
        ),
    ];
    let mut failures = Vec::new();
    for (case, input, formats) in cases {
        for format in *formats {
            let got = Test::new()
                .args(["solve", input, "-f", format])
                .status(0)
                .stdout;
            let path = Path::new("tests/golden")
                .join(case)
                .join(format!("expected.{format}"));
            if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &got).unwrap();
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if got != want {
                failures.push(format!(
                    "{} differs:\n{}",
                    path.display(),
                    crate::support::line_diff(&want, &got)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(review, then run with SNAPSHOTS=overwrite)",
        failures.join("\n")
    );
}

#[test]
fn the_template_files_drive_solve() {
    // `solve` renders templates/solution.*.hbs as read from disk here, in
    // one context, though it renders the steps apart on all cores: a line
    // added to the file shows in `solve` and in this rendering alike.
    use chainrule::render::page::{self, Markup, PageOptions};
    use chainrule::render::templates;
    let src = netgen::network(5, 3, &[6, 5, 3]);
    let net = chainrule::parse::parse_network("net.nn", &src).unwrap();
    let sol =
        chainrule::solution::Solution::new(&net, Default::default(), Default::default()).unwrap();
    for (format, markup) in [("md", Markup::Markdown), ("tex", Markup::Latex)] {
        let file = format!("templates/solution.{format}.hbs");
        let text = std::fs::read_to_string(&file).unwrap();
        let hb = templates::registry(markup, Some((&file, &text)), 9).unwrap();
        let opts = PageOptions {
            decimals: 9,
            ..Default::default()
        };
        let pg = page::build(&sol, &opts, markup, "en", templates::strings("en").unwrap());
        let whole = templates::render_whole(&hb, &pg, &file).unwrap();
        let solved = Test::new()
            .args(["solve", "-", "-f", format])
            .stdin(&src)
            .status(0)
            .stdout;
        assert!(solved == whole, "{format} differs");
        assert!(solved.matches("Gradient of").count() >= 40);
    }
}

#[test]
fn a_template_renders_the_same_whole_or_apart() {
    // A --template with the built-in shape and a marker after it renders
    // its steps apart; one that reads the page in its steps renders whole.
    let dir = tempdir("apart");
    let src = netgen::network(5, 3, &[6, 5, 3]);
    let solved = Test::new()
        .args(["solve", "-", "-f", "md"])
        .stdin(&src)
        .status(0)
        .stdout;
    let plain = std::fs::read_to_string("templates/solution.md.hbs").unwrap();
    for (text, extra) in [
        (format!("{plain}MARKER"), String::from("MARKER")),
        (
            plain.replace(
                "{{> md-step}}",
                "{{> md-step}}{{#if @last}}{{@root.title}}{{/if}}",
            ),
            String::new(),
        ),
    ] {
        let tpl = dir.join("page.hbs");
        std::fs::write(&tpl, &text).unwrap();
        let got = Test::new()
            .args([
                "solve",
                "-",
                "-f",
                "md",
                "--template",
                tpl.to_str().unwrap(),
            ])
            .stdin(&src)
            .status(0)
            .stdout;
        if extra.is_empty() {
            // The title once more, after the last step.
            let title = solved.lines().next().unwrap().trim_start_matches("# ");
            assert!(got.len() == solved.len() + title.len(), "{text}");
        } else {
            assert!(got == format!("{solved}{extra}"));
        }
    }
}

#[test]
fn the_network_table_is_one_table() {
    let md = solve(&[]);
    let html = chainrule::render::html::body(&md).unwrap();
    let first = &html[html.find("<table>").unwrap()..html.find("</table>").unwrap()];
    // Header, inputs, params, two layers, targets, loss, rate.
    assert_eq!(first.matches("<tr>").count(), 8, "{first}");
}

#[test]
fn large_networks_show_a_summary_unless_full_or_only() {
    let src = netgen::network(3, 8, &[8, 8, 3]);
    let md = Test::new()
        .args(["solve", "-"])
        .stdin(&src)
        .status(0)
        .stdout;
    assert!(md.contains("parameters, so only the summary below is shown"));
    assert_eq!(md.matches("### Gradient of").count(), 0);
    assert!(md.contains("### Output layer `L3`") && md.contains("### Hidden layer `L1`"));
    let full = Test::new()
        .args(["solve", "-", "--full"])
        .stdin(&src)
        .status(0)
        .stdout;
    let params = full.matches("### Gradient of").count();
    assert!(params > 100, "{params}");
    let only = Test::new()
        .args(["solve", "-", "--only", "w1_1_1,w3_1_1"])
        .stdin(&src)
        .status(0)
        .stdout;
    assert_eq!(only.matches("### Gradient of").count(), 2);
}

#[test]
fn the_readme_template_example_works() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find("```handlebars\n").expect("an example") + "```handlebars\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempdir("readme-template");
    let tpl = dir.join("summary.hbs");
    std::fs::write(&tpl, &readme[start..end]).unwrap();
    let out = mazur_with_template(&tpl, &["--decimals", "4"])
        .status(0)
        .stdout;
    assert!(
        out.starts_with("Mazur 2-2-2: w1 0.0004 → 0.1498; w2 0.0009 → 0.1996;"),
        "{out}"
    );
}

#[test]
fn params_that_differ_in_case_have_anchors_of_their_own() {
    let src = "input i = 1\nlayer h sigmoid {\n    h1 = W1*i\n}\nlayer o sigmoid {\n    o1 = w1*h1 + w2*h1\n}\nparam W1 = 0.1, w1 = 0.2, w2 = 0.3\ntarget o1 = 0.5\n";
    let md = Test::new().args(["solve", "-"]).stdin(src).status(0).stdout;
    let ids: Vec<&str> = md
        .split("<a id=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(ids.len(), 3, "{md}");
    for (i, a) in ids.iter().enumerate() {
        assert!(!ids[..i].contains(a), "anchor {a} twice");
    }
    // Every link lands on an anchor, and W1's step is not w1's.
    let links: Vec<&str> = md
        .split("](#")
        .skip(1)
        .map(|s| &s[..s.find(')').unwrap()])
        .collect();
    assert!(!links.is_empty());
    assert!(links.iter().all(|l| ids.contains(l)), "{links:?} {ids:?}");
    let w1 = md.find("<a id=\"dw1\"").unwrap();
    assert!(md[..w1]
        .rfind("### ")
        .is_some_and(|h| md[h..w1].contains("w_{1}")));
}

#[test]
fn json_numbers_the_factors_as_the_page_does() {
    // Per step: each label ①②… on the page, and whether it is a δ derived
    // before; the JSON's factors of that param: `n`, and whether the rule
    // is `delta`.
    for file in [
        "examples/mazur.nn",
        "tests/networks/softmax.nn",
        "tests/networks/net-3-4-2.nn",
        "tests/networks/skip.nn",
    ] {
        let md = Test::new().args(["solve", file]).status(0).stdout;
        let json = Test::new()
            .args(["solve", file, "-f", "json"])
            .status(0)
            .stdout;
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut checked = 0;
        for step in md.split("<a id=\"d").skip(1) {
            let anchor = &step[..step.find('"').unwrap()];
            let page: Vec<(usize, bool)> = step
                .lines()
                .filter(|l| l.starts_with("**"))
                .map(|l| {
                    let label = l[2..].chars().next().unwrap();
                    let n = label as usize - 0x2460 + 1;
                    (n, l.contains("derived in the step for"))
                })
                .collect();
            let derivation = json["derivations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["param"].as_str().unwrap().to_ascii_lowercase() == anchor)
                .unwrap();
            let numbered: Vec<(usize, bool)> = derivation["factors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["n"].as_u64().unwrap() as usize, f["rule"] == "delta"))
                .collect();
            assert_eq!(page, numbered, "{file}: {anchor}");
            checked += page.iter().filter(|(_, r)| *r).count();
        }
        assert!(checked > 0, "{file}: no δ derived before");
    }
    // w6: ① is δ_o1, derived in w5's step; ② is ∂net_o1/∂w6.
    let json = Test::new()
        .args(["solve", "examples/mazur.nn", "-f", "json"])
        .status(0)
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let w6 = &json["derivations"][5];
    assert_eq!(w6["param"], "w6");
    assert_eq!(w6["factors"][1]["n"], 2);
    assert_eq!(w6["factors"][1]["of"], "net_o1");
    assert_eq!(w6["factors"][1]["wrt"], "w6");
}
