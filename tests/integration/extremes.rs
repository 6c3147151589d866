//! Numeric extremes and safe output files.

use crate::pages::tempdir;
use crate::support::{mazur_with_template, Test};

fn one_neuron(act: &str, w: &str, extra: &str) -> String {
    format!("input x = 1\nlayer o {act} {{ o1 = w*x }}\nparam w = {w}\ntarget o1 = 0.5\n{extra}\n")
}

#[test]
fn sigmoid_and_softplus_are_stable_for_large_inputs() {
    for w in ["1000", "-1000"] {
        for act in ["sigmoid", "softplus", "tanh"] {
            let r = Test::new()
                .args(["solve", "-", "-f", "json"])
                .stdin(&one_neuron(act, w, ""))
                .status(0);
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let out = v["values"]["out_o1"].as_f64().unwrap();
            let g = v["gradients"]["w"].as_f64().unwrap();
            assert!(
                out.is_finite() && g.is_finite(),
                "{act}({w}): out {out}, gradient {g}"
            );
            match (act, w) {
                ("sigmoid", "1000") => assert_eq!(out, 1.0),
                ("sigmoid", "-1000") => assert_eq!(out, 0.0),
                ("softplus", "1000") => assert_eq!(out, 1000.0),
                _ => {}
            }
            if act == "sigmoid" {
                // σ' = out(1 − out) = 0 at saturation, not NaN.
                assert_eq!(g, 0.0);
            }
            if act == "softplus" && w == "1000" {
                // ∂E/∂w = −(t − out)·σ(net)·x = 999.5.
                assert_eq!(g, 999.5);
            }
        }
    }
}

#[test]
fn overflow_and_ln_of_zero_are_located_errors() {
    let r = Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(&one_neuron(
            "identity",
            "1e308",
            "const big = 1e308\nloss E = (target - out*big)^2",
        ))
        .status(2);
    assert!(r.stderr.starts_with("<stdin>:"), "{}", r.stderr);
    assert!(r.stderr.contains("is infinite"), "{}", r.stderr);
    // A sigmoid output of exactly 1 under binary cross-entropy: ln(1 − 1).
    let r = Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(&one_neuron("sigmoid", "1000", "loss bce"))
        .status(2);
    assert!(
        r.stderr.contains("E_o1") && r.stderr.contains("ln(1 - out_o1)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("out_o1 = 1"), "{}", r.stderr);
}

#[test]
fn tiny_and_huge_values_format_in_every_format() {
    let src = "input x = 1e-300\nlayer o identity { o1 = w*x + b }\nparam w = 1e300, b = 1e-300\ntarget o1 = 2e-300\n";
    for f in ["md", "tex", "html", "json"] {
        let out = Test::new()
            .args(["solve", "-", "-f", f])
            .stdin(src)
            .status(0)
            .stdout;
        assert!(!out.contains("NaN") && !out.contains("inf"), "{f}");
        match f {
            // In math, never `1e-300` (read as 1·e − 300).
            "md" => assert!(
                out.contains("$x = 1 \\times 10^{-300}$") && out.contains("10^{300}"),
                "{f}"
            ),
            "html" => assert!(
                out.contains("<msup><mn>10</mn><mrow><mi>−</mi><mn>300</mn>")
                    && !out.contains("<mi>e</mi><mo>−</mo><mn>300</mn>"),
                "{f}"
            ),
            "tex" => {
                assert!(out.contains("1 \\times 10^{300}") && out.contains("1 \\times 10^{-300}"));
                assert!(!out.contains("e-300") && !out.contains("e300"), "{f}");
            }
            _ => assert!(out.contains("1e+300") && out.contains("1e-300")),
        }
    }
}

#[test]
fn a_failed_run_leaves_output_files_as_they_were() {
    let dir = tempdir("atomic");
    let existing = dir.join("page.md");
    std::fs::write(&existing, "my page\n").unwrap();
    let bad = "input x = 1\nlayer o sigmod { o1 = w*x }\nparam w = 1\ntarget o1 = 1\n";
    Test::new()
        .args(["solve", "-", "-o", existing.to_str().unwrap()])
        .stdin(bad)
        .status(2);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "my page\n");
    // An evaluation error, after parsing succeeded, as well.
    Test::new()
        .args(["solve", "-", "-o", existing.to_str().unwrap()])
        .stdin(&one_neuron("sigmoid", "1000", "loss bce"))
        .status(2);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "my page\n");
    let fresh = dir.join("new.md");
    Test::new()
        .args(["solve", "-", "-o", fresh.to_str().unwrap()])
        .stdin(bad)
        .status(2);
    assert!(!fresh.exists());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["page.md".to_string()],
        "no temporary files left"
    );
    // A directory that does not exist: an error, nothing written.
    let r = Test::new()
        .args([
            "solve",
            "examples/mazur.nn",
            "-o",
            dir.join("no/such/dir/x.md").to_str().unwrap(),
        ])
        .status(2);
    assert!(r.stderr.contains("writing"), "{}", r.stderr);
}

#[test]
fn template_errors_name_the_file_and_line() {
    let dir = tempdir("template-errors");
    let tpl = dir.join("broken.hbs");
    std::fs::write(&tpl, "ok\n{{#each summary}}{{name}}{{/eac}}").unwrap();
    let r = mazur_with_template(&tpl, &[]).status(2);
    assert!(
        r.stderr.contains("broken.hbs") && r.stderr.contains(":2:"),
        "{}",
        r.stderr
    );
    // Templates cannot read files: a partial is only ever a built-in one.
    std::fs::write(&tpl, "{{> /etc/hostname}}").unwrap();
    let r = mazur_with_template(&tpl, &[]).status(2);
    assert!(r.stderr.contains("Partial not found"), "{}", r.stderr);
}
