//! The L2 term `l2 λ [on NAMES]`: E_total = Σ E_k + ½λΣp², checked against
//! the published Mazur numbers plus the term worked by hand, against a run
//! of the same network without the term, and through `check`, `exam`,
//! `exercise` and the errors of the language.

use serde_json::Value;

use crate::support::{close, Test};

fn mazur() -> String {
    std::fs::read_to_string("examples/mazur.nn").unwrap()
}

fn json(src: &str, extra: &[&str]) -> Value {
    let mut args = vec!["solve", "-", "-f", "json"];
    args.extend_from_slice(extra);
    let out = Test::new().args(args).stdin(src).status(0).stdout;
    serde_json::from_str(&out).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Mazur's weights and biases, as the example file gives them.
const WEIGHTS: [(&str, f64); 8] = [
    ("w1", 0.15),
    ("w2", 0.20),
    ("w3", 0.25),
    ("w4", 0.30),
    ("w5", 0.40),
    ("w6", 0.45),
    ("w7", 0.50),
    ("w8", 0.55),
];

#[test]
fn mazur_with_an_l2_term_over_the_weights() {
    let plain = json(&mazur(), &[]);
    let v = json(&format!("{}\nl2 0.01\n", mazur()), &[]);
    let lambda = 0.01;
    // By hand: ½λ(0.15² + 0.2² + … + 0.55²) = 0.005 · 1.13 = 0.00565.
    let reg = 0.5 * lambda * WEIGHTS.iter().map(|(_, w)| w * w).sum::<f64>();
    close(reg, 0.00565, 1e-15);
    close(num(&v["values"]["E_reg"]), reg, 1e-15);
    // The published E_total of the example, plus the term.
    close(num(&v["values"]["E_total"]), 0.298371109 + 0.00565, 1e-9);
    close(
        num(&v["values"]["E_total"]),
        num(&plain["values"]["E_total"]) + reg,
        1e-15,
    );
    for (name, w) in WEIGHTS {
        let g = num(&v["gradients"][name]);
        let g0 = num(&plain["gradients"][name]);
        close(g, g0 + lambda * w, 1e-15);
        close(num(&v["updated"][name]), w - 0.5 * g, 1e-15);
    }
    // ∂E_total/∂w5: the published 0.082167041 plus λ·w5 = 0.004.
    close(num(&v["gradients"]["w5"]), 0.082167041 + 0.004, 1e-9);
    // Biases are not weights: untouched unless named.
    for b in ["b1", "b2"] {
        assert_eq!(v["gradients"][b], plain["gradients"][b], "{b}");
    }
    assert_eq!(v["l2"]["params"].as_array().unwrap().len(), 8);
    assert_eq!(v["l2"]["named"], false);
    let w5 = v["derivations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["param"] == "w5")
        .unwrap();
    close(num(&w5["dE_reg"]), 0.004, 1e-15);
}

#[test]
fn e_total_after_the_update_has_the_term_at_the_new_values() {
    let v = json(&format!("{}\nl2 0.01\n", mazur()), &[]);
    // The network run again at the updated params, without the term …
    let mut src = mazur();
    let mut sum = 0.0;
    for (name, w) in WEIGHTS.iter().chain(&[("b1", 0.35), ("b2", 0.60)]) {
        let new = num(&v["updated"][*name]);
        src = src.replace(&format!("{name} = {w:.2}"), &format!("{name} = {new}"));
        if name.starts_with('w') {
            sum += new * new;
        }
    }
    assert!(!src.contains("w5 = 0.40"), "the values were replaced");
    let after = json(&src, &[]);
    // … plus ½λΣ(w⁺)².
    close(
        num(&v["E_total_after"]),
        num(&after["values"]["E_total"]) + 0.005 * sum,
        1e-13,
    );
}

#[test]
fn named_params_and_globs() {
    let plain = json(&mazur(), &[]);
    let v = json(&format!("{}\nl2 0.1 on b*, w5, w5\n", mazur()), &[]);
    let names: Vec<&str> = v["l2"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(names, ["w5", "b1", "b2"]);
    assert_eq!(v["l2"]["named"], true);
    close(
        num(&v["values"]["E_reg"]),
        0.05 * (0.4 * 0.4 + 0.35 * 0.35 + 0.6 * 0.6),
        1e-15,
    );
    close(
        num(&v["gradients"]["b1"]),
        num(&plain["gradients"]["b1"]) + 0.1 * 0.35,
        1e-15,
    );
    assert_eq!(v["gradients"]["w6"], plain["gradients"]["w6"]);
    // A vector of params stands for its elements.
    let src = "input x[2] = [0.5, -0.2]\nlayer o sigmoid { o1 = w1*x1 + w2*x2 + b }\n\
               param w[2] = [0.3, -0.4]\nparam b = 0.1\ntarget o1 = 1\nl2 0.5 on w\n";
    let v = json(src, &[]);
    assert_eq!(v["l2"]["params"], serde_json::json!(["w1", "w2"]));
}

#[test]
fn mistakes_in_the_statement_are_located() {
    // The statement, the message, and the line it is reported at (the
    // file has 22 lines; a missing word is found at the end, line 24).
    for (line, message, at) in [
        ("l2 -0.1", "λ of the L2 term must be 0 or more", 23),
        (
            "l2 0.1 on h1",
            "`h1` is a neuron; the L2 term covers params",
            23,
        ),
        ("l2 0.1 on x*", "`x*` matches no param", 23),
        (
            "l2 0.1 on w55",
            "unknown name `w55`; did you mean `w5`?",
            23,
        ),
        (
            "l2 0.1 on i1",
            "`i1` is an input; the L2 term covers params",
            23,
        ),
        ("l2 0.1\nl2 0.2", "the network has a second `l2`", 24),
        ("l2", "expected a number", 24),
        ("l2 0.1 on", "expected param names or globs like `w*`", 24),
    ] {
        let src = format!("{}{line}\n", mazur());
        let run = Test::new().args(["solve", "-"]).stdin(&src).status(2);
        assert!(
            run.stderr.contains(message),
            "{line}: {message} not in\n{}",
            run.stderr
        );
        let at = format!("<stdin>:{at}:");
        assert!(run.stderr.contains(&at), "{line}:\n{}", run.stderr);
    }
    // `l2` and `on` are words of the statement only: names elsewhere.
    let src = "input on = 1\nlayer l sigmoid { l2 = w*on }\nparam w = 0.5\ntarget l2 = 1\nl2 0.1\n";
    let v = json(src, &[]);
    assert!(v["values"]["E_reg"].is_number());
}

#[test]
fn the_page_shows_the_term_in_the_error_and_in_each_step() {
    let page = Test::new()
        .args(["solve", "-"])
        .stdin(&format!("{}\nl2 0.01\n", mazur()))
        .status(0)
        .stdout;
    for line in [
        r"E_{reg} &= \frac{\lambda}{2} (w_{1}^{2} + w_{2}^{2} + w_{3}^{2} + w_{4}^{2} + w_{5}^{2} + w_{6}^{2} + w_{7}^{2} + w_{8}^{2}) \\",
        r"&= \frac{0.01}{2} \cdot (0.15^{2} + 0.2^{2} + 0.25^{2} + 0.3^{2} + 0.4^{2} + 0.45^{2} + 0.5^{2} + 0.55^{2}) \\",
        r"E_{total} &= E_{o_1} + E_{o_2} + E_{reg} \\",
        r"&= 0.274811083 + 0.023560026 + 0.00565 \\",
        r"\frac{\partial E_{reg}}{\partial w_{5}} &= \lambda \cdot w_{5} = 0.01 \cdot 0.4 = 0.004",
        r"\frac{\partial E_{total}}{\partial w_{5}} &= 0.74136507 \cdot 0.186815602 \cdot 0.593269992 + 0.004 = 0.086167041",
        r"E_{total} &= \frac{1}{2} (target_{o_1} - out_{o_1})^{2} + E_{o_2} + E_{reg} \\",
        "| L2 term |",
    ] {
        assert!(page.contains(line), "missing: {line}");
    }
    // A bias's step has no L2 term: 8 steps of the 10 have one.
    assert_eq!(page.matches("The L2 term $E_{reg}$").count(), 8);
    // In Korean too.
    let ko = Test::new()
        .args(["solve", "-", "--lang", "ko"])
        .stdin(&format!("{}\nl2 0.01\n", mazur()))
        .status(0)
        .stdout;
    assert!(ko.contains("L2 항"));
}

#[test]
fn a_batch_adds_the_term_once() {
    let xor = std::fs::read_to_string("examples/xor.nn").unwrap();
    for batch in ["mean", "sum"] {
        let base = format!("{}\nbatch {batch}\n", xor.replace("batch mean", ""));
        let plain = json(&base, &[]);
        let v = json(&format!("{base}l2 0.05\n"), &[]);
        // w1…w6 of examples/xor.nn.
        let w = [0.5, 0.9, -0.7, -0.4, 0.3, -0.6];
        let reg = 0.025 * w.iter().map(|x| x * x).sum::<f64>();
        close(
            num(&v["values"]["E_total"]),
            num(&plain["values"]["E_total"]) + reg,
            1e-14,
        );
        close(
            num(&v["gradients"]["w3"]),
            num(&plain["gradients"]["w3"]) + 0.05 * -0.7,
            1e-14,
        );
        // Each sample's own gradient has no term.
        assert_eq!(
            v["samples"][0]["gradients"]["w3"],
            plain["samples"][0]["gradients"]["w3"]
        );
        // `check` combines the samples the same way.
        let answers = format!(
            "E_total = {}\ndE_total/dw3 = {}\nw3+ = {}\nE_total+ = {}\n",
            v["values"]["E_total"], v["gradients"]["w3"], v["updated"]["w3"], v["E_total_after"]
        );
        let dir = tempfile::tempdir().unwrap();
        let nn = dir.path().join("x.nn");
        std::fs::write(&nn, format!("{base}l2 0.05\n")).unwrap();
        let ans = dir.path().join("a.txt");
        std::fs::write(&ans, answers).unwrap();
        let out = Test::new()
            .args(["check", nn.to_str().unwrap(), ans.to_str().unwrap()])
            .status(0)
            .stdout;
        assert!(out.contains("all 4 right"), "{batch}:\n{out}");
    }
}

#[test]
fn check_names_the_l2_slips() {
    // Expected marking, written from the page's numbers before the run:
    // line 1 right; 2 without λ·w6 (0.082667628); 3 with 2λ·w7
    // (−0.022602540 + 0.01); 4 E_total without E_reg (0.298371109).
    let answers = "E_total = 0.304021109\n\
                   dE_total/dw6 = 0.082667628\n\
                   dE_total/dw7 = -0.01260254\n\
                   E_total = 0.298371109\n";
    let dir = tempfile::tempdir().unwrap();
    let nn = dir.path().join("m.nn");
    std::fs::write(&nn, format!("{}\nl2 0.01\n", mazur())).unwrap();
    let ans = dir.path().join("a.txt");
    std::fs::write(&ans, answers).unwrap();
    let out = Test::new()
        .args([
            "check",
            nn.to_str().unwrap(),
            ans.to_str().unwrap(),
            "-f",
            "json",
        ])
        .status(1)
        .stdout;
    let v: Value = serde_json::from_str(&out).unwrap();
    let claims = v["claims"].as_array().unwrap();
    let diagnoses: Vec<&Value> = claims.iter().map(|c| &c["diagnosis"]).collect();
    assert_eq!(claims[0]["ok"], true);
    assert_eq!(diagnoses[1], "l2_forgotten");
    assert_eq!(diagnoses[2], "l2_factor");
    assert_eq!(diagnoses[3], "l2_forgotten");
}

#[test]
fn exam_keys_rule_out_the_l2_slips_and_sheets_give_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let nn = dir.path().join("m.nn");
    std::fs::write(&nn, format!("{}\nl2 0.01\n", mazur())).unwrap();
    let out = dir.path().join("exam");
    Test::new()
        .args([
            "exam",
            nn.to_str().unwrap(),
            "--variants",
            "2",
            "--seed",
            "5",
            "--vary",
            "w*=0.1..0.9/0.1",
            "-o",
            out.to_str().unwrap(),
        ])
        .status(0);
    let answers = std::fs::read_to_string(out.join("answers.md")).unwrap();
    let total = answers.lines().find(|l| l.contains("Total error")).unwrap();
    assert!(total.contains("l2\\_forgotten"), "{total}");
    let questions = std::fs::read_to_string(out.join("questions.md")).unwrap();
    assert!(
        questions.contains("| L2 term ($w_{1}, w_{2}, w_{3}, w_{4}, w_{5}, w_{6}, w_{7}, w_{8}$) | $\\lambda = 0.01$ |"),
        "{questions}"
    );
    // The key of each variant is what `solve` gives for its file.
    let csv = std::fs::read_to_string(out.join("answers.csv")).unwrap();
    let v01 = json(
        &std::fs::read_to_string(out.join("variants/01.nn")).unwrap(),
        &[],
    );
    let row = csv.lines().nth(1).unwrap();
    let e = format!("{:.4}", num(&v01["values"]["E_total"]));
    assert!(row.contains(&e[..5]), "{row} vs {e}");
}

#[test]
fn exercise_formulas_carry_the_term() {
    let out = Test::new()
        .args(["exercise", "-", "-f", "json"])
        .stdin(&format!("{}\nl2 0.01\n", mazur()))
        .status(0)
        .stdout;
    let v: Value = serde_json::from_str(&out).unwrap();
    let items: Vec<&Value> = v["groups"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap())
        .collect();
    let find = |n: &str| *items.iter().find(|i| i["name"] == n).unwrap();
    let total = find("E_total");
    assert!(total["formula"]
        .as_str()
        .unwrap()
        .ends_with("0.005 * (v(\"w1\") * v(\"w1\") + v(\"w2\") * v(\"w2\") + v(\"w3\") * v(\"w3\") + v(\"w4\") * v(\"w4\") + v(\"w5\") * v(\"w5\") + v(\"w6\") * v(\"w6\") + v(\"w7\") * v(\"w7\") + v(\"w8\") * v(\"w8\"))"));
    let g = find("dE_total/dw5");
    assert!(g["formula"]
        .as_str()
        .unwrap()
        .ends_with("+ 0.01 * v(\"w5\")"));
    close(num(&g["value"]), 0.082167041 + 0.004, 1e-9);
    let codes: Vec<&str> = g["mistakes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"l2_forgotten"), "{codes:?}");
}

#[test]
fn training_descends_the_loss_with_its_term() {
    let src = format!("{}\nl2 0.01\n", mazur());
    let v: Value = serde_json::from_str(
        &Test::new()
            .args(["train", "-", "--steps", "1", "-f", "json"])
            .stdin(&src)
            .status(0)
            .stdout,
    )
    .unwrap();
    let solved = json(&src, &[]);
    let history = v["history"].as_array().unwrap();
    close(
        num(&history[0]["E_total"]),
        num(&solved["values"]["E_total"]),
        1e-15,
    );
    close(
        num(&history[1]["E_total"]),
        num(&solved["E_total_after"]),
        1e-15,
    );
}
