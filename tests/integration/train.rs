//! Training runs against the published figures, several samples, softmax
//! with cross-entropy, and gradients checked by finite differences.

use chainrule::derivation::{derive, Options, Plan, Values};
use chainrule::parse::parse_network;

use crate::pages::tempdir;
use crate::support::Test;

fn json(args: &[&str]) -> serde_json::Value {
    let r = Test::new().args(args).status(0);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

/// `x` rounded to `sig` significant digits.
fn sig(x: f64, sig: i32) -> f64 {
    let e = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(sig - 1 - e);
    (x * scale).round() / scale
}

#[test]
fn mazur_fixed_bias_trains_to_the_correct_figures() {
    let v = json(&[
        "train",
        "examples/mazur-fixed-bias.nn",
        "--steps",
        "10000",
        "--every",
        "1",
        "-f",
        "json",
    ]);
    let h = v["history"].as_array().unwrap();
    assert_eq!(h[0]["step"], 0);
    assert_eq!(sig(h[0]["E_total"].as_f64().unwrap(), 9), 0.298371109);
    // Correct gradient descent: all gradients before any update.
    assert_eq!(sig(h[1]["E_total"].as_f64().unwrap(), 9), 0.291027774);
    let f = &v["final"];
    assert_eq!(f["step"], 10000);
    assert_eq!(sig(f["E_total"].as_f64().unwrap(), 9), 3.51018778e-5);
    assert_eq!(sig(f["outputs"]["o1"].as_f64().unwrap(), 9), 0.0159136204);
    assert_eq!(sig(f["outputs"]["o2"].as_f64().unwrap(), 9), 0.984064274);
    assert_eq!(h.len(), 10001);
    // With the biases trained too.
    let v = json(&[
        "train",
        "examples/mazur.nn",
        "--steps",
        "10000",
        "-f",
        "json",
    ]);
    assert_eq!(
        sig(v["final"]["E_total"].as_f64().unwrap(), 9),
        4.35532107e-6
    );
    assert_eq!(
        v["history"].as_array().unwrap().len(),
        11,
        "every 1000 steps by default"
    );
}

#[test]
fn xor_learns() {
    let v = json(&["train", "examples/xor.nn", "--steps", "20000", "-f", "json"]);
    let first = v["history"][0]["E_total"].as_f64().unwrap();
    let last = v["final"]["E_total"].as_f64().unwrap();
    assert!(first / last > 10.0, "{first} → {last}");
    let outs: Vec<f64> = v["final"]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["o1"].as_f64().unwrap().round())
        .collect();
    assert_eq!(outs, vec![0.0, 1.0, 1.0, 0.0]);
    let sgd = json(&[
        "train",
        "examples/xor.nn",
        "--steps",
        "20000",
        "--stochastic",
        "-f",
        "json",
    ]);
    let s_last = sgd["final"]["E_total"].as_f64().unwrap();
    assert!(s_last < first / 10.0 && s_last != last);
}

fn finite_difference(src: &str) {
    let net = parse_network("t.nn", src).unwrap();
    let d = derive(&net, Options::default()).unwrap();
    let plan = Plan::new(&net);
    let base = Values::of(&net);
    let fast = plan.gradients(&base).unwrap();
    assert!((fast.total - d.total).abs() <= 1e-15 * d.total.abs().max(1.0));
    for (p, param) in net.params.iter().enumerate() {
        let h = 1e-6 * param.value.abs().max(1.0);
        let e = |dv: f64| {
            let mut v = base.clone();
            v.params[p] += dv;
            plan.derive(&v, Options::default()).unwrap().total
        };
        let fd = (e(h) - e(-h)) / (2.0 * h);
        let g = d.params[p].value;
        assert!(
            (g - fd).abs() <= 1e-6 * g.abs().max(1e-3),
            "{}: symbolic {g}, finite difference {fd}",
            param.name
        );
        assert!(
            (fast.params[p] - g).abs() <= 1e-14 * g.abs().max(1e-12),
            "fast path for {}",
            param.name
        );
    }
}

#[test]
fn softmax_cross_entropy_and_data_gradients_match_finite_differences() {
    finite_difference(&std::fs::read_to_string("tests/networks/softmax.nn").unwrap());
    finite_difference(&std::fs::read_to_string("examples/xor.nn").unwrap());
    let summed = std::fs::read_to_string("examples/xor.nn")
        .unwrap()
        .replace("loss mse", "loss mse\nbatch sum");
    finite_difference(&summed);
    let hidden_softmax = "input x1 = 0.3, x2 = -0.7
        layer h tanh { h1 = a*x1 + b*x2  h2 = c*x1 - b*x2 + d }
        layer o softmax { o1 = e*h1 + f*h2  o2 = g*h1*h2 + d  o3 = h2 - e*h1 }
        param a = 0.4, b = -0.2, c = 0.7, d = 0.1, e = 0.9, f = -0.5, g = 0.3
        target o1 = 0.2, o2 = 0.5, o3 = 0.3
        loss ce";
    finite_difference(hidden_softmax);
    let bce = std::fs::read_to_string("examples/mazur.nn")
        .unwrap()
        .replace("loss   mse", "loss   bce");
    finite_difference(&bce);
}

#[test]
fn softmax_and_bce_pages_show_the_simplification() {
    let md = Test::new()
        .args(["solve", "tests/networks/softmax.nn"])
        .status(0)
        .stdout;
    assert!(md.contains("\\delta_{o_1} &= out_{o_1} - target_{o_1}"));
    // The forward pass shows the normalisation.
    assert!(md.contains(
        "out_{o_1} &= \\frac{e^{net_{o_1}}}{e^{net_{o_1}} + e^{net_{o_2}} + e^{net_{o_3}}}"
    ));
    // ∂out_j/∂net_k for j ≠ k.
    assert!(md.contains(
        "\\frac{\\partial out_{o_2}}{\\partial net_{o_1}} &= -(out_{o_2} \\cdot out_{o_1})"
    ));
    let src = std::fs::read_to_string("examples/mazur.nn")
        .unwrap()
        .replace("loss   mse", "loss   bce");
    let md = Test::new()
        .args(["solve", "-"])
        .stdin(&src)
        .status(0)
        .stdout;
    assert!(md.contains("\\delta_{o_1} &= out_{o_1} - target_{o_1}"));
    let md = Test::new()
        .args(["solve", "examples/mazur.nn"])
        .status(0)
        .stdout;
    assert!(
        !md.contains("out_{o_1} - target_{o_1} ="),
        "mse has no such simplification"
    );
}

#[test]
fn training_outputs_csv_plot_and_pages() {
    let dir = tempdir("train");
    let plot = dir.join("loss.svg");
    let r = Test::new()
        .args([
            "train",
            "examples/xor.nn",
            "--steps",
            "200",
            "--every",
            "100",
            "-f",
            "csv",
        ])
        .args(["--plot", plot.to_str().unwrap()])
        .status(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "step,E_total,out_o1[1],out_o1[2],out_o1[3],out_o1[4]"
    );
    assert_eq!(lines.len(), 4);
    assert!(lines[1].starts_with("0,0.12508588541877505,"));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<path class=\"curve\"") && svg.contains("Total error during training"));
    let md = Test::new()
        .args([
            "train",
            "examples/xor.nn",
            "--steps",
            "200",
            "--every",
            "100",
        ])
        .args(["--plot", plot.to_str().unwrap()])
        .status(0)
        .stdout;
    assert!(md.contains(&format!("](<{}>)", plot.display())));
    assert!(md.contains("| 200 |"));
    let html = Test::new()
        .args(["train", "examples/mazur.nn", "--steps", "100", "-f", "html"])
        .status(0)
        .stdout;
    assert!(
        html.contains("<svg") && html.contains("class=\"loss-plot\"") && !html.contains("<script")
    );
}

#[test]
fn data_pages_show_every_sample_and_the_mean() {
    let md = Test::new()
        .args(["solve", "examples/xor.nn"])
        .status(0)
        .stdout;
    for k in 1..=4 {
        assert!(md.contains(&format!("### Sample {k}: ")), "sample {k}");
    }
    assert!(md.contains(
        "E_{total} &= \\frac{1}{4} \\left(E^{(1)} + E^{(2)} + E^{(3)} + E^{(4)}\\right)"
    ));
    assert!(md.contains("## Gradients by sample"));
    let v = json(&["solve", "examples/xor.nn", "-f", "json"]);
    let mean: f64 = (0..4)
        .map(|k| v["samples"][k]["gradients"]["w5"].as_f64().unwrap())
        .sum::<f64>()
        / 4.0;
    assert!((mean - v["gradients"]["w5"].as_f64().unwrap()).abs() < 1e-15);
}
