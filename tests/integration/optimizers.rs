//! Optimizers against an independent implementation: `tests/fixtures/
//! optimizers.py` works the Mazur and XOR gradients out by the textbook
//! formulas and applies PyTorch's update rules in plain Python; its output,
//! `optimizers.json`, is compared here with `solve --steps 3` and `train`.

use serde_json::Value;

use crate::support::Test;

fn fixtures() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string("tests/fixtures/optimizers.json").unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

fn network(key: &str, line: &str) -> String {
    let file = if key.starts_with("mazur") {
        "examples/mazur.nn"
    } else {
        "examples/xor.nn"
    };
    format!("{}\n{line}\n", std::fs::read_to_string(file).unwrap())
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn three_steps_of_every_optimizer_agree_with_the_reference() {
    let mut compared = 0;
    let mut compared_totals = 0;
    for (key, run) in fixtures() {
        let src = network(&key, run["line"].as_str().unwrap());
        let json = Test::new()
            .args(["solve", "-", "--steps", "3", "-f", "json"])
            .stdin(&src)
            .status(0)
            .stdout;
        let v: Value = serde_json::from_str(&json).unwrap();
        let steps = v["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 3, "{key}");
        for (t, want) in run["steps"].as_array().unwrap().iter().enumerate() {
            for (p, x) in want.as_object().unwrap() {
                let got = steps[t]["params"][p]["after"].as_f64().unwrap();
                let x = x.as_f64().unwrap();
                assert!(
                    relative(got, x) <= 1e-9,
                    "{key}, step {}, {p}: {got} vs {x}",
                    t + 1
                );
                compared += 1;
            }
        }
        // With an L2 term, E_total (with ½λΣp²) before each step.
        if let Some(totals) = run.get("E_total").and_then(Value::as_array) {
            for (t, want) in totals.iter().enumerate() {
                let got = steps[t]["E_total"].as_f64().unwrap();
                let want = want.as_f64().unwrap();
                assert!(
                    relative(got, want) <= 1e-9,
                    "{key}, E_total before step {}: {got} vs {want}",
                    t + 1
                );
                compared_totals += 1;
            }
            assert!(
                relative(
                    v["values"]["E_total"].as_f64().unwrap(),
                    totals[0].as_f64().unwrap()
                ) <= 1e-9
            );
        }
        // The first step is also the derivation's own update.
        for (p, x) in run["steps"][0].as_object().unwrap() {
            let got = v["updated"][p].as_f64().unwrap();
            assert!(relative(got, x.as_f64().unwrap()) <= 1e-9, "{key}: {p}⁺");
        }
        // `train` takes the same steps.
        let train = Test::new()
            .args(["train", "-", "--steps", "3", "-f", "json"])
            .stdin(&src)
            .status(0)
            .stdout;
        let tv: Value = serde_json::from_str(&train).unwrap();
        for (p, x) in run["steps"][2].as_object().unwrap() {
            let got = tv["final"]["params"][p]
                .as_f64()
                .unwrap_or_else(|| panic!("train JSON: {tv}"));
            assert!(
                relative(got, x.as_f64().unwrap()) <= 1e-9,
                "train {key}: {p}"
            );
        }
    }
    // 9 optimizers and 3 runs with an L2 term × (10 Mazur + 9 XOR params)
    // × 3 steps.
    assert_eq!(compared, 12 * (10 + 9) * 3);
    assert_eq!(compared_totals, 3 * 2 * 3);
}

#[test]
fn the_adam_page_writes_the_state_out() {
    let src = network("mazur", "optimizer adam(0.9, 0.999, 1e-8)");
    let md = Test::new()
        .args(["solve", "-", "--steps", "2"])
        .stdin(&src)
        .status(0)
        .stdout;
    assert!(
        md.contains("| Update rule | `adam(0.9, 0.999, 1e-8)`"),
        "{md}"
    );
    // Step 1: m, v, their bias corrections, the update, for w5.
    assert!(md.contains("m_{w_{5}} &= \\beta_1 \\cdot 0 + (1 - \\beta_1) \\cdot \\frac{\\partial E_{total}}{\\partial w_{5}}"));
    assert!(md.contains("\\hat{m}_{w_{5}} &= \\frac{m_{w_{5}}}{1 - \\beta_1^{1}}"));
    // Step 2 carries the state: β₁·m of step 1.
    assert!(md.contains("## The next updates") && md.contains("### Step 2"));
    assert!(md.contains(
        "m_{w_{5}}^{(2)} &= \\beta_1 \\cdot m_{w_{5}} + (1 - \\beta_1) \\cdot g_{w_{5}}^{(2)}"
    ));
    // Plain gradient descent with one step: the page is as it always was.
    let plain = Test::new()
        .args(["solve", "examples/mazur.nn"])
        .status(0)
        .stdout;
    assert!(!plain.contains("Update rule") && !plain.contains("next updates"));
}

#[test]
fn optimizer_mistakes_are_located() {
    for (line, message) in [
        ("optimizer adma", "unknown optimizer `adma`"),
        ("optimizer adam(1.5)", "β₁ must be at least 0 and below 1"),
        (
            "optimizer momentum(0.9, 0.1)",
            "`momentum` takes at most 1 numbers",
        ),
        ("weight_decay -1", "the weight decay must be 0 or more"),
    ] {
        let src = network("mazur", line);
        let r = Test::new().args(["solve", "-"]).stdin(&src).status(2);
        assert!(r.stderr.contains(message), "{line}: {}", r.stderr);
        assert!(r.stderr.contains("<stdin>:"), "located: {}", r.stderr);
    }
}

/// Every optimizer's page of three steps compiles with pdflatex, and its
/// Markdown math is valid for KaTeX and MathJax.
#[test]
fn every_optimizer_page_compiles() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("optimizer-pages");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut md_files = Vec::new();
    for (i, (key, run)) in fixtures().into_iter().enumerate() {
        let src = network(&key, run["line"].as_str().unwrap());
        for (format, ext) in [("tex", "tex"), ("md", "md")] {
            let text = Test::new()
                .args(["solve", "-", "--steps", "3", "-f", format])
                .stdin(&src)
                .status(0)
                .stdout;
            let path = dir.join(format!("o{i}.{ext}"));
            std::fs::write(&path, text).unwrap();
            if ext == "md" {
                md_files.push(path);
            }
        }
        crate::support::pdflatex(&dir, &format!("o{i}"));
    }
    if !crate::support::external("KaTeX and MathJax through node") {
        return;
    }
    let out = std::process::Command::new("node")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/check-math.mjs"))
        .args(&md_files)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// One Adam step of the Mazur network worked by hand in the test: w5's
/// gradient by the textbook formula, then the right step and each slip.
fn mazur_adam_w5() -> (f64, [f64; 4], [(String, &'static str); 4]) {
    let s = |x: f64| 1.0 / (1.0 + (-x).exp());
    let h1 = s(0.15 * 0.05 + 0.2 * 0.1 + 0.35);
    let h2 = s(0.25 * 0.05 + 0.3 * 0.1 + 0.35);
    let o1 = s(0.4 * h1 + 0.45 * h2 + 0.6);
    let g = (o1 - 0.01) * o1 * (1.0 - o1) * h1;
    let (b1, b2, eps, lr, p) = (0.9f64, 0.999f64, 1e-8f64, 0.5, 0.4);
    let (m, v) = ((1.0 - b1) * g, (1.0 - b2) * g * g);
    let (mh, vh) = (m / (1.0 - b1), v / (1.0 - b2));
    let right = p - lr * mh / (vh.sqrt() + eps);
    let slips = [
        (p - lr * m / (v.sqrt() + eps), "bias_correction_forgotten"),
        (
            p - lr * (b1 * g / (1.0 - b1)) / ((b2 * g * g / (1.0 - b2)).sqrt() + eps),
            "betas_swapped",
        ),
        (p - lr * mh / (vh + eps).sqrt(), "epsilon_inside_sqrt"),
        (p - lr * g, "raw_gradient_update"),
    ];
    (
        right,
        [m, v, mh, vh],
        slips.map(|(x, code)| (format!("{x:.9}"), code)),
    )
}

#[test]
fn check_judges_an_adam_step_and_names_each_slip() {
    let src = network("mazur", "optimizer adam(0.9, 0.999, 1e-8)");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("adam-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("adam.nn"), &src).unwrap();
    let (right, [m, v, mh, vh], slips) = mazur_adam_w5();
    let mut answers = format!(
        "m_w5 = {m:.9e}\nv_w5 = {v:.9e}\nm̂_w5 = {mh:.9e}\nv_hat_w5 = {vh:.9e}\nw5+ = {right:.9}\n"
    );
    for (value, _) in &slips {
        answers.push_str(&format!("w5+ = {value}\n"));
    }
    std::fs::write(dir.join("answers.txt"), &answers).unwrap();
    let run = Test::new()
        .args([
            "check",
            dir.join("adam.nn").to_str().unwrap(),
            dir.join("answers.txt").to_str().unwrap(),
            "-f",
            "json",
        ])
        .run();
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{}", run.stdout));
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 9, "{}", run.stdout);
    for c in &claims[..5] {
        assert_eq!(c["ok"], true, "{c}");
    }
    for (c, (_, code)) in claims[5..].iter().zip(&slips) {
        assert_eq!(c["ok"], false, "{c}");
        assert_eq!(c["diagnosis"], *code, "{c}");
    }
}

#[test]
fn exam_asks_for_the_optimizer_state() {
    let src = network("mazur", "optimizer adam(0.9, 0.999, 1e-8)");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("adam-exam");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("adam.nn"), &src).unwrap();
    Test::new()
        .args(["exam", dir.join("adam.nn").to_str().unwrap()])
        .args([
            "--variants",
            "2",
            "--seed",
            "1",
            "--vary",
            "w*=0.1..0.9/0.1",
        ])
        .args([
            "--ask",
            "m_w5,v_hat_w5,w5(2),m_w5(2)",
            "-o",
            dir.join("ex").to_str().unwrap(),
        ])
        .status(0);
    let csv = std::fs::read_to_string(dir.join("ex/answers.csv")).unwrap();
    for k in 1..=2 {
        let variant = dir.join(format!("ex/variants/0{k}.nn"));
        let json = Test::new()
            .args([
                "solve",
                variant.to_str().unwrap(),
                "--steps",
                "2",
                "-f",
                "json",
            ])
            .status(0)
            .stdout;
        let v: Value = serde_json::from_str(&json).unwrap();
        let w5 = &v["steps"][0]["params"]["w5"];
        let w5_2 = &v["steps"][1]["params"]["w5"];
        for (q, want) in [
            ("m_w5", w5["m"].as_f64()),
            ("v_hat_w5", w5["v_hat"].as_f64()),
            ("w5(2)", w5_2["after"].as_f64()),
            ("m_w5(2)", w5_2["m"].as_f64()),
        ] {
            let got: f64 = csv
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k},{q},")))
                .unwrap_or_else(|| panic!("{q} in {csv}"))
                .split(',')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(relative(got, want.unwrap()) <= 1e-12, "{q} of {k}: {got}");
        }
    }
    let questions = std::fs::read_to_string(dir.join("ex/questions.md")).unwrap();
    assert!(
        questions.contains("| Update rule (adam) | $\\beta_1 = 0.9$"),
        "{questions}"
    );
    assert!(questions.contains("$\\hat{v}_{w_{5}} = {}$"));
    assert!(questions.contains("$m_{w_{5}}^{(2)} = {}$"), "{questions}");
}

/// The second step's state and param, as `check` reads them, against
/// `solve --steps 2`; a value of the first step given for the second is
/// not right.
#[test]
fn check_judges_the_second_step() {
    let src = network("mazur", "optimizer momentum(0.9)");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("momentum-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("m.nn"), &src).unwrap();
    let json = Test::new()
        .args([
            "solve",
            dir.join("m.nn").to_str().unwrap(),
            "--steps",
            "2",
            "-f",
            "json",
        ])
        .status(0)
        .stdout;
    let v: Value = serde_json::from_str(&json).unwrap();
    let (s1, s2) = (
        &v["steps"][0]["params"]["w1"],
        &v["steps"][1]["params"]["w1"],
    );
    let f = |x: &Value| format!("{:.12e}", x.as_f64().unwrap());
    let answers = format!(
        "m_w1 = {}\nw1+ = {}\nm_w1(2) = {}\nw1(2) = {}\nw1(2) = {}\n",
        f(&s1["m"]),
        f(&s1["after"]),
        f(&s2["m"]),
        f(&s2["after"]),
        f(&s1["after"])
    );
    std::fs::write(dir.join("a.txt"), answers).unwrap();
    let run = Test::new()
        .args(["check", dir.join("m.nn").to_str().unwrap()])
        .args([dir.join("a.txt").to_str().unwrap(), "-f", "json"])
        .run();
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    let ok: Vec<Value> = r["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ok"].clone())
        .collect();
    assert_eq!(
        ok,
        [true, true, true, true, false].map(Value::Bool).to_vec(),
        "{}",
        run.stdout
    );
}

#[test]
fn an_adam_exam_rules_out_the_adam_slips_without_drawing_again() {
    // Adam's first step moves w5 by about η whatever the size of its
    // gradient: a gradient mistake that keeps the sign gives the same w5+,
    // in every variant. Those are not reasons to draw again; the slips of
    // the step itself are ruled out.
    let src = network("mazur", "optimizer adam(0.9, 0.999, 1e-8)");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("adam-exam-draws");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("adam.nn"), &src).unwrap();
    let run = Test::new()
        .args(["exam", dir.join("adam.nn").to_str().unwrap()])
        .args(["--variants", "20", "--seed", "1"])
        .args(["--vary", "w*=0.1..0.9/0.1", "-o"])
        .args([dir.join("ex").to_str().unwrap()])
        .status(0);
    assert!(
        run.stderr.contains("20 variants in 20 draws"),
        "{}",
        run.stderr
    );
    let answers = std::fs::read_to_string(dir.join("ex/answers.md")).unwrap();
    let w5 = answers
        .lines()
        .find(|l| l.contains("$w_{5}^{+}$ |"))
        .unwrap();
    for slip in [
        "bias\\_correction\\_forgotten",
        "betas\\_swapped",
        "raw\\_gradient\\_update",
    ] {
        assert!(w5.contains(slip), "{slip}: {w5}");
    }
}
