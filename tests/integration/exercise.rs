//! `chainrule exercise`: the page's contract, its tables against an
//! independent hand computation of the Mazur network, and the page driven in
//! headless Chromium (through puppeteer-core) as a student would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{external, Test};

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("exercise-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn exercise(args: &[&str]) -> String {
    let mut all = vec!["exercise"];
    all.extend_from_slice(args);
    Test::new().args(all).status(0).stdout
}

/// The Mazur network worked by hand, with the early-update mistake: the
/// hidden gradients taken with the output weights already updated.
struct Mazur {
    out_h: [f64; 2],
    delta_o: [f64; 2],
    dw1: f64,
    dw1_early: f64,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn mazur() -> Mazur {
    let (i1, i2) = (0.05, 0.10);
    let (w1, w2, w3, w4) = (0.15, 0.20, 0.25, 0.30);
    let (w5, w6, w7, w8) = (0.40, 0.45, 0.50, 0.55);
    let (b1, b2, t1, t2, eta) = (0.35, 0.60, 0.01, 0.99, 0.5);
    let h1 = sigmoid(w1 * i1 + w2 * i2 + b1);
    let h2 = sigmoid(w3 * i1 + w4 * i2 + b1);
    let o1 = sigmoid(w5 * h1 + w6 * h2 + b2);
    let o2 = sigmoid(w7 * h1 + w8 * h2 + b2);
    let d1 = (o1 - t1) * o1 * (1.0 - o1);
    let d2 = (o2 - t2) * o2 * (1.0 - o2);
    let dh1 = |w5: f64, w7: f64| (d1 * w5 + d2 * w7) * h1 * (1.0 - h1) * i1;
    let (w5p, w7p) = (w5 - eta * d1 * h1, w7 - eta * d2 * h1);
    Mazur {
        out_h: [h1, h2],
        delta_o: [d1, d2],
        dw1: dh1(w5, w7),
        dw1_early: dh1(w5p, w7p),
    }
}

/// A value as a student types it: nine significant digits.
fn typed(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let digits = 9 - 1 - x.abs().log10().floor() as i32;
    format!("{:.*}", digits.clamp(0, 17) as usize, x)
}

/// Every quantity of `solve -f json` of `src`, by the exercise's names.
fn right_values(src: &str) -> BTreeMap<String, f64> {
    let json = Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(src)
        .status(0)
        .stdout;
    let v: Value = serde_json::from_str(&json).unwrap();
    let mut out = BTreeMap::new();
    for (k, x) in v["values"].as_object().unwrap() {
        out.insert(k.clone(), x.as_f64().unwrap());
    }
    for (n, d) in v["deltas"].as_object().unwrap() {
        out.insert(
            format!("dE_total/dout_{n}"),
            d["dE_total/dout"].as_f64().unwrap(),
        );
        out.insert(format!("delta_{n}"), d["dE_total/dnet"].as_f64().unwrap());
        if let Some(x) = d["d_act"]["value"].as_f64() {
            if d["d_act"]["of"] == format!("out_{n}") {
                out.insert(format!("dout_{n}/dnet_{n}"), x);
            }
        }
    }
    for d in v["derivations"].as_array().unwrap() {
        for t in d["terms"].as_array().unwrap() {
            for f in t["factors"].as_array().unwrap() {
                let (of, wrt) = (f["of"].as_str().unwrap(), f["wrt"].as_str().unwrap());
                if let Some(x) = f["value"].as_f64() {
                    out.entry(format!("d{of}/d{wrt}")).or_insert(x);
                }
            }
        }
    }
    for (p, g) in v["gradients"].as_object().unwrap() {
        out.insert(format!("dE_total/d{p}"), g.as_f64().unwrap());
    }
    for (p, u) in v["updated"].as_object().unwrap() {
        out.insert(format!("{p}+"), u.as_f64().unwrap());
    }
    out.insert("E_total+".into(), v["E_total_after"].as_f64().unwrap());
    out
}

fn boxes(html: &str) -> Vec<String> {
    html.split("data-quantity=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn the_mazur_page_has_every_quantity_and_loads_nothing() {
    let html = exercise(&["examples/mazur.nn"]);
    assert!(html.len() < 200_000, "{} bytes", html.len());
    // (`http://` appears only as the MathML and SVG namespaces.)
    for needle in [
        "<link",
        " src=",
        "@import",
        "url(",
        "href=\"http",
        "fetch(",
        "XMLHttpRequest",
        "import(",
    ] {
        assert!(!html.contains(needle), "loads nothing: found {needle}");
    }
    let names = boxes(&html);
    // 4 neurons × (net, out), 2 errors and E_total, 10 gradients and
    // updates, the factors and δ's, E_total after.
    for q in [
        "net_h1",
        "out_o2",
        "E_o1",
        "E_total",
        "dE_total/dout_o1",
        "dout_o1/dnet_o1",
        "delta_o1",
        "dnet_o1/dw5",
        "dE_total/dw5",
        "w5+",
        "dE_total/dout_h1",
        "delta_h1",
        "dE_total/dw1",
        "w1+",
        "b1+",
        "E_total+",
    ] {
        assert!(names.contains(&q.to_string()), "no box {q}");
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "each quantity once");
    assert_eq!(names.len(), 56);
    // In the order of the solution: the forward pass, the error, then the
    // output layer's steps before the hidden layer's.
    let at = |q: &str| names.iter().position(|n| n == q).unwrap();
    assert!(at("out_o2") < at("E_total") && at("E_total") < at("w5+") && at("w5+") < at("w1+"));
    // Every box has its verdict element.
    for q in &names {
        assert!(html.contains(&format!("data-verdict-for=\"{q}\"")), "{q}");
    }
    // Deterministic.
    assert_eq!(html, exercise(&["examples/mazur.nn"]));
    // Korean.
    let ko = exercise(&["examples/mazur.nn", "--lang", "ko"]);
    assert!(ko.contains("<html lang=\"ko\">") && ko.contains("순전파"));
}

#[test]
fn the_tables_hold_the_classic_mistakes_computed_by_hand() {
    let json = exercise(&["examples/mazur.nn", "-f", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let items: BTreeMap<String, Value> = v["groups"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap().clone())
        .map(|i| (i["name"].as_str().unwrap().to_string(), i))
        .collect();
    let m = mazur();
    let value = |q: &str| items[q]["value"].as_f64().unwrap();
    let mistake = |q: &str, code: &str| -> Vec<f64> {
        items[q]["mistakes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["code"] == code)
            .map(|x| x["value"].as_f64().unwrap())
            .collect()
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
    assert!(close(value("out_h1"), m.out_h[0]));
    assert!(close(value("delta_o1"), m.delta_o[0]));
    assert!(close(value("dE_total/dw1"), m.dw1));
    assert!(
        mistake("dE_total/dw1", "early_update")
            .iter()
            .any(|&x| close(x, m.dw1_early)),
        "early update of dE_total/dw1: {} by hand, table {:?}",
        m.dw1_early,
        mistake("dE_total/dw1", "early_update")
    );
    assert!(mistake("delta_o1", "sign_flip")
        .iter()
        .any(|&x| close(x, -m.delta_o[0])));
    // net for out: out_h1 written as net_h1 = 0.3775.
    assert!(mistake("out_h1", "net_for_out")
        .iter()
        .any(|&x| close(x, 0.3775)));
    // The formula of net_o1 reads the student's out_h1.
    let f = items["net_o1"]["formula"].as_str().unwrap();
    assert!(
        f.contains("v(\"out_h1\")") && f.contains("v(\"w5\")"),
        "{f}"
    );
}

/// Runs a scenario of `tests/browser/exercise.mjs` on `page`.
fn drive(page: &Path, steps: Value, screenshot: Option<&Path>) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/puppeteer-core").exists(),
        "the browser tests need `npm ci` in tests/browser (scripts/test does it)"
    );
    let mut scenario = serde_json::json!({ "page": page.to_str().unwrap(), "steps": steps });
    if let Some(s) = screenshot {
        scenario["screenshot"] = s.to_str().unwrap().into();
    }
    let mut child = Command::new("node")
        .arg(dir.join("exercise.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scenario.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["errors"], serde_json::json!([]), "script errors");
    assert_eq!(
        r["requests"],
        serde_json::json!([]),
        "the page makes no request"
    );
    r
}

/// Asserts every box of a verdict map is right.
fn all_right(step: &Value, group: &str) {
    for (q, v) in step.as_object().unwrap() {
        assert_eq!(
            v["ok"], "true",
            "{group}: {q} = {} gives {}",
            v["value"], v["text"]
        );
        assert_eq!(v["diagnosis"], "", "{group}: {q}");
    }
}

fn typing(values: &BTreeMap<String, f64>, names: &[String]) -> Value {
    let map: serde_json::Map<String, Value> = names
        .iter()
        .map(|q| {
            let x = values.get(q).unwrap_or_else(|| panic!("no value for {q}"));
            (q.clone(), Value::String(typed(*x)))
        })
        .collect();
    Value::Object(map)
}

#[test]
fn the_mazur_page_in_chromium() {
    if !external("Chromium through puppeteer-core") {
        return;
    }
    let dir = tempdir("mazur");
    let page = dir.join("mazur.html");
    let html = exercise(&["examples/mazur.nn"]);
    std::fs::write(&page, &html).unwrap();
    let src = std::fs::read_to_string("examples/mazur.nn").unwrap();
    let right = right_values(&src);
    let names = boxes(&html);
    let m = mazur();
    // out_h1 = 0.61 is wrong; net_o1 computed from it: w5·0.61 + w6·out_h2 + b2.
    let net_o1_from_own = 0.4 * 0.61 + 0.45 * m.out_h[1] + 0.6;
    let r = drive(
        &page,
        serde_json::json!([
            { "type": typing(&right, &names) },
            { "type": {
                "dE_total/dw1": typed(m.dw1_early),
                "delta_o1": typed(-m.delta_o[0]),
                "out_h1": "0.61",
                "net_o1": typed(net_o1_from_own),
            } },
            { "reload": true },
            { "keyboard": "0.3775" },
        ]),
        Some(&dir.join("mazur.png")),
    );
    let steps = r["steps"].as_array().unwrap();
    all_right(&steps[0], "mazur");
    let after = &steps[1];
    assert_eq!(
        after["dE_total/dw1"]["diagnosis"], "early_update",
        "{}",
        after["dE_total/dw1"]
    );
    assert_eq!(after["delta_o1"]["diagnosis"], "sign_flip");
    assert_eq!(after["delta_o1"]["ok"], "false");
    assert_eq!(after["out_h1"]["ok"], "false");
    assert_eq!(
        after["net_o1"]["diagnosis"], "carried_forward",
        "{}",
        after["net_o1"]
    );
    assert_eq!(after["net_o1"]["ok"], "true");
    // Reloading keeps every answer, and its verdict.
    let reloaded = &steps[2];
    for (q, v) in after.as_object().unwrap() {
        assert_eq!(reloaded[q]["value"], v["value"], "{q}");
        assert_eq!(reloaded[q]["diagnosis"], v["diagnosis"], "{q}");
    }
    // Enter moves on to the next box; the verdict is announced.
    assert_eq!(r["focused"], "out_h1");
    assert!(
        r["live"].as_str().unwrap().starts_with("net_h1: ✓"),
        "{}",
        r["live"]
    );
}

#[test]
fn the_xor_page_by_sample_and_batch_in_chromium() {
    if !external("Chromium through puppeteer-core") {
        return;
    }
    let dir = tempdir("xor");
    let page = dir.join("xor.html");
    let html = exercise(&["examples/xor.nn"]);
    std::fs::write(&page, &html).unwrap();
    // Sample 2 (i1 = 0, i2 = 1, target 1) as a network of its own.
    let xor = std::fs::read_to_string("examples/xor.nn").unwrap();
    let body = &xor[..xor.find("data {").unwrap()];
    let one = format!("{body}input i1 = 0, i2 = 1\ntarget o1 = 1\nrate 1\n");
    let right2 = right_values(&one);
    let group = |g: &str| -> Vec<String> {
        let start = html.find(&format!("data-group=\"{g}\"")).unwrap();
        let rest = &html[start..];
        let end = rest[1..]
            .find("class=\"group\"")
            .map_or(rest.len(), |e| e + 1);
        boxes(&rest[..end])
    };
    // The batch: combined E_total, gradients and updates of `solve`.
    let json = Test::new()
        .args(["solve", "examples/xor.nn", "-f", "json"])
        .status(0)
        .stdout;
    let v: Value = serde_json::from_str(&json).unwrap();
    let mut batch = BTreeMap::new();
    batch.insert(
        "E_total".to_string(),
        v["values"]["E_total"].as_f64().unwrap(),
    );
    for (p, g) in v["gradients"].as_object().unwrap() {
        batch.insert(format!("dE_total/d{p}"), g.as_f64().unwrap());
    }
    for (p, u) in v["updated"].as_object().unwrap() {
        batch.insert(format!("{p}+"), u.as_f64().unwrap());
    }
    batch.insert("E_total+".into(), v["E_total_after"].as_f64().unwrap());
    let r = drive(
        &page,
        serde_json::json!([
            { "group": "s2", "select": true, "type": typing(&right2, &group("s2")) },
            { "group": "batch", "select": true, "type": typing(&batch, &group("batch")) },
        ]),
        None,
    );
    let steps = r["steps"].as_array().unwrap();
    all_right(&steps[0], "sample 2");
    all_right(&steps[1], "batch");
    assert!(group("batch").contains(&"dE_total/dw1".to_string()));
}

#[test]
fn the_softmax_page_in_chromium() {
    if !external("Chromium through puppeteer-core") {
        return;
    }
    let dir = tempdir("softmax");
    let page = dir.join("softmax.html");
    let html = exercise(&["tests/networks/softmax.nn"]);
    std::fs::write(&page, &html).unwrap();
    let src = std::fs::read_to_string("tests/networks/softmax.nn").unwrap();
    let right = right_values(&src);
    let r = drive(
        &page,
        serde_json::json!([{ "type": typing(&right, &boxes(&html)) }]),
        None,
    );
    all_right(&r["steps"][0], "softmax");
}

#[test]
fn exam_writes_an_exercise_page_per_variant() {
    let dir = tempdir("exam");
    Test::new()
        .args([
            "exam",
            "examples/mazur.nn",
            "--variants",
            "3",
            "--seed",
            "5",
            "--vary",
            "w*=0.1..0.9/0.1",
            "--exercise",
            "-o",
            dir.to_str().unwrap(),
        ])
        .status(0);
    let mut seen = std::collections::BTreeSet::new();
    for k in 1..=3 {
        let variant = dir.join(format!("variants/0{k}.nn"));
        let page = std::fs::read_to_string(dir.join(format!("exercises/0{k}.html"))).unwrap();
        // The page is the variant's own exercise, byte for byte.
        let own = exercise(&[variant.to_str().unwrap()]);
        assert_eq!(page, own, "variant {k}");
        seen.insert(page);
    }
    assert_eq!(seen.len(), 3, "three different pages");
}

/// With an optimizer, the formula of `w5+` (for carried-forward credit) is
/// the rule's first step: evaluated with the exact values it gives the key.
#[test]
fn update_formulas_follow_the_optimizer() {
    if !external("node") {
        return;
    }
    let dir = tempdir("optimizers");
    let mazur = std::fs::read_to_string("examples/mazur.nn").unwrap();
    for (i, line) in [
        "optimizer sgd\nweight_decay 0.01",
        "optimizer momentum(0.9)",
        "optimizer nesterov(0.9)\nweight_decay 0.001",
        "optimizer adagrad",
        "optimizer rmsprop",
        "optimizer adam",
        "optimizer adamw",
    ]
    .iter()
    .enumerate()
    {
        let json = Test::new()
            .args(["exercise", "-", "-f", "json"])
            .stdin(&format!("{mazur}\n{line}\n"))
            .status(0)
            .stdout;
        let path = dir.join(format!("o{i}.json"));
        std::fs::write(&path, json).unwrap();
        let script = format!(
            "const ex = require({:?}); const g = ex.groups[0]; const items = {{}};\
             for (const s of g.sections) for (const it of s.items) items[it.name] = it;\
             const v = (n) => (n in g.fixed ? g.fixed[n] : items[n].value);\
             const it = items['w5+']; const got = new Function('v', 'return ' + it.formula)(v);\
             if (Math.abs(got - it.value) > 1e-12 * Math.max(1, Math.abs(it.value))) {{\
               console.log(got, it.value); process.exit(1); }}",
            path.to_str().unwrap()
        );
        let out = Command::new("node").args(["-e", &script]).output().unwrap();
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
