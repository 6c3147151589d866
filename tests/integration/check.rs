//! `chainrule check` on the classic example. Every wrong value below is
//! computed here, by the textbook formulas from the example's own numbers,
//! not by the code under test.

use serde_json::Value;

use crate::support::Test;

const MAZUR: &str = "examples/mazur.nn";
/// The classic example as the tutorial trains it: biases are consts.
const FIXED_BIAS: &str = "tests/check/mazur-fixed-bias.nn";

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The classic 2-2-2 example worked by hand.
struct Classic {
    i: [f64; 2],
    w: [f64; 9], // w[1]..w[8]
    b1: f64,
    b2: f64,
    t: [f64; 2],
    eta: f64,
    net_h: [f64; 2],
    out_h: [f64; 2],
    net_o: [f64; 2],
    out_o: [f64; 2],
    /// δ_o = (out_o − target_o)·out_o·(1 − out_o)
    delta_o: [f64; 2],
}

impl Classic {
    fn new() -> Classic {
        let i = [0.05, 0.10];
        let w = [0.0, 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55];
        let (b1, b2) = (0.35, 0.60);
        let t = [0.01, 0.99];
        let net_h = [
            w[1] * i[0] + w[2] * i[1] + b1,
            w[3] * i[0] + w[4] * i[1] + b1,
        ];
        let out_h = net_h.map(sigmoid);
        let net_o = [
            w[5] * out_h[0] + w[6] * out_h[1] + b2,
            w[7] * out_h[0] + w[8] * out_h[1] + b2,
        ];
        let out_o = net_o.map(sigmoid);
        let delta_o = [0, 1].map(|k| (out_o[k] - t[k]) * out_o[k] * (1.0 - out_o[k]));
        Classic {
            i,
            w,
            b1,
            b2,
            t,
            eta: 0.5,
            net_h,
            out_h,
            net_o,
            out_o,
            delta_o,
        }
    }

    fn e_o1(&self) -> f64 {
        0.5 * (self.t[0] - self.out_o[0]).powi(2)
    }

    /// ∂E_total/∂w5 = δ_o1 · out_h1
    fn d_w5(&self) -> f64 {
        self.delta_o[0] * self.out_h[0]
    }

    /// ∂E_total/∂w1 with w5, w7 as given.
    fn d_w1_with(&self, w5: f64, w7: f64) -> f64 {
        let d_out_h1 = self.delta_o[0] * w5 + self.delta_o[1] * w7;
        d_out_h1 * self.out_h[0] * (1.0 - self.out_h[0]) * self.i[0]
    }
}

/// Runs `check NET - -f json` on `answers`, expecting `status`.
fn judge(net: &str, answers: &str, status: i32) -> Value {
    let r = Test::new()
        .args(["check", net, "-", "-f", "json"])
        .stdin(answers)
        .status(status);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

/// The verdict on the claim of `line`.
fn claim(v: &Value, line: u64) -> &Value {
    v["claims"]
        .as_array()
        .expect("claims")
        .iter()
        .find(|c| c["line"] == line)
        .unwrap_or_else(|| panic!("no claim on line {line}: {v:#}"))
}

/// Asserts that the claim of `line` is wrong with `code`.
fn diagnosed(v: &Value, line: u64, code: &str) {
    let c = claim(v, line);
    assert_eq!(c["ok"], false, "{c:#}");
    assert_eq!(c["diagnosis"], code, "{c:#}");
}

/// `x` to `places` decimals, as a student writes it.
fn dec(x: f64, places: usize) -> String {
    format!("{x:.places$}")
}

#[test]
fn a_fully_right_derivation_passes() {
    let r = Test::new()
        .args(["check", MAZUR, "tests/check/mazur-right.txt"])
        .status(0);
    assert!(!r.stdout.contains('✗'), "{}", r.stdout);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("all ") && last.ends_with(" right"),
        "{last}"
    );

    let text = std::fs::read_to_string("tests/check/mazur-right.txt").unwrap();
    let v = judge(MAZUR, &text, 0);
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(v["wrong"], 0);
    assert_eq!(v["right"], claims.len());
    // Every kind of quantity is there, in canonical form.
    for q in [
        "net_h1",
        "net_h2",
        "out_h2",
        "target_o1",
        "E_o1",
        "E_total",
        "dout_o1/dnet_o1",
        "dnet_o1/dw5",
        "dnet_o1/dout_h1",
        "dE_o1/dout_h1",
        "dE_total/dout_h1",
        "dE_total/dnet_o1",
        "dE_total/dw5",
        "dE_total/dw1",
        "w5+",
        "w1+",
        "E_total+",
    ] {
        assert!(claims.iter().any(|c| c["quantity"] == q), "{q} missing");
    }
    for c in claims {
        assert_eq!(c["diagnosis"], Value::Null);
        assert_eq!(c["carried_from"], Value::Null);
        assert_eq!(c["message"], "right");
    }
}

#[test]
fn the_classic_numbers_as_published() {
    let answers = "\
net_h1 = 0.3775
out_h1 = 0.593269992
out_h2 = 0.596884378
net_o1 = 1.105905967
out_o1 = 0.75136507
out_o2 = 0.772928465
E_o1 = 0.274811083
E_total = 0.298371109
dE_total/dout_o1 = 0.74136507
dout_o1/dnet_o1 = 0.186815602
dE_total/dw5 = 0.082167041
w5+ = 0.35891648
dE_o1/dout_h1 = 0.055399425
dE_total/dout_h1 = 0.036350306
dout_h1/dnet_h1 = 0.241300709
dE_total/dw1 = 0.000438568
w1+ = 0.149780716
";
    let v = judge(MAZUR, answers, 0);
    assert_eq!(v["right"], 17);
    // The tutorial keeps its biases fixed: then E_total after the update is
    // its 0.291027774 (and 0.291027924 with the published shortcut).
    judge(FIXED_BIAS, "E_total+ = 0.291027774\n", 0);
}

#[test]
fn numbers_agree_to_the_digits_written() {
    // 0.593269992: 0.5933 is right, 0.5932 and 0.5934 are one unit off
    // (rounding carried from earlier steps), 0.5931 is wrong.
    let c = Classic::new();
    assert_eq!(dec(c.out_h[0], 4), "0.5933");
    let answers = "\
out_h1 = 0.5933
out_h1 = 0.5932
out_h1 = 0.5934
out_h1 = 0.5931
out_h1 = 0.59327
out_h1 = 0.6
out_h1 = 0.7
dnet_o1/db2 = 1
dnet_o1/db2 = 0
dnet_o1/db2 = 1.0
";
    let v = judge(MAZUR, answers, 1);
    let ok: Vec<bool> = (1..=10)
        .map(|l| claim(&v, l)["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(
        ok,
        [true, true, true, false, true, true, false, true, false, true]
    );
    assert_eq!(claim(&v, 4)["expected"].as_f64().unwrap(), c.out_h[0]);
}

#[test]
fn tolerance_replaces_the_written_digits() {
    let answers = "out_h1 = 0.59\nE_total = 0.2984\n";
    // 0.59 vs 0.593269992 is 0.0033 off: right to 2 places, not within 1e-3.
    judge(MAZUR, answers, 0);
    let v = Test::new()
        .args(["check", MAZUR, "-", "-f", "json", "--tolerance", "1e-3"])
        .stdin(answers)
        .status(1)
        .stdout;
    let v: Value = serde_json::from_str(&v).unwrap();
    assert_eq!(claim(&v, 1)["ok"], false);
    assert_eq!(claim(&v, 2)["ok"], true);
    // 1% of 0.593 is 0.0059: 0.59 is within it.
    Test::new()
        .args(["check", MAZUR, "-", "--tolerance", "1%"])
        .stdin(answers)
        .status(0);
    let r = Test::new()
        .args(["check", MAZUR, "-", "--tolerance", "abc"])
        .stdin(answers)
        .status(2);
    assert!(
        r.stderr.contains("`abc` is not a tolerance"),
        "{}",
        r.stderr
    );
}

#[test]
fn forgot_half() {
    let c = Classic::new();
    // E_o1 = (target − out)² without the ½; the gradient doubles.
    let e = (c.t[0] - c.out_o[0]).powi(2);
    let answers = format!(
        "E_o1 = {}\ndE_total/dw5 = {}\n",
        dec(e, 6),
        dec(2.0 * c.d_w5(), 6)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 1, "forgot_half");
    diagnosed(&v, 2, "forgot_half");
    assert!((claim(&v, 1)["expected"].as_f64().unwrap() - c.e_o1()).abs() < 1e-12);
    let msg = claim(&v, 1)["message"].as_str().unwrap();
    assert!(msg.starts_with("expected 0.274811083; the ½"), "{msg}");
}

#[test]
fn sign_flip() {
    let c = Classic::new();
    let answers = format!(
        "dE_total/dw5 = {}\ndE_total/dout_o1 = {}\n",
        dec(-c.d_w5(), 6),
        dec(c.t[0] - c.out_o[0], 6)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 1, "sign_flip");
    diagnosed(&v, 2, "sign_flip");
}

#[test]
fn missing_activation_derivative() {
    let c = Classic::new();
    // ∂E_total/∂w5 without ∂out_o1/∂net_o1.
    let v = (c.out_o[0] - c.t[0]) * c.out_h[0];
    let answers = format!("dE_total/dw5 = {}\n", dec(v, 6));
    diagnosed(
        &judge(MAZUR, &answers, 1),
        1,
        "missing_activation_derivative",
    );
}

#[test]
fn net_for_out() {
    let c = Classic::new();
    // ∂net_o1/∂w5 taken as net_h1 instead of out_h1; out_h1 given as net_h1.
    let answers = format!(
        "dE_total/dw5 = {}\nout_h1 = {}\n",
        dec(c.delta_o[0] * c.net_h[0], 6),
        dec(c.net_h[0], 4)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 1, "net_for_out");
    diagnosed(&v, 2, "net_for_out");
}

#[test]
fn single_output_sum() {
    let c = Classic::new();
    // ∂E_total/∂out_h1 through o1 only: δ_o1·w5 (0.055399425, which is
    // ∂E_o1/∂out_h1), and ∂E_total/∂w1 built on it.
    let through_o1 = c.delta_o[0] * c.w[5];
    assert_eq!(dec(through_o1, 9), "0.055399425");
    let d_w1 = through_o1 * c.out_h[0] * (1.0 - c.out_h[0]) * c.i[0];
    let v = judge(
        MAZUR,
        &format!("dE_total/dout_h1 = {}\n", dec(through_o1, 6)),
        1,
    );
    diagnosed(&v, 1, "single_output_sum");
    assert!(claim(&v, 1)["message"]
        .as_str()
        .unwrap()
        .contains("through o1 only"));
    let v = judge(MAZUR, &format!("dE_total/dw1 = {}\n", dec(d_w1, 9)), 1);
    diagnosed(&v, 1, "single_output_sum");
}

#[test]
fn early_update() {
    let c = Classic::new();
    // The tutorial's own shortcut: w5..w8 updated first, then the hidden
    // gradients taken with them. g(k) = ∂E_total/∂wk = δ_o·out_h for the
    // output weights w5 (o1, h1), w6 (o1, h2), w7 (o2, h1), w8 (o2, h2).
    let g = |wk: usize| {
        let (o, h) = ((wk - 5) / 2, (wk - 5) % 2);
        c.delta_o[o] * c.out_h[h]
    };
    let w_new = |wk: usize| c.w[wk] - c.eta * g(wk);
    let early_d_w1 = c.d_w1_with(w_new(5), w_new(7));
    let answers = format!(
        "dE_total/dw1 = {}\nE_total+ = 0.291027924\n",
        dec(early_d_w1, 9)
    );
    let v = judge(FIXED_BIAS, &answers, 1);
    diagnosed(&v, 1, "early_update");
    diagnosed(&v, 2, "early_update");
    assert_eq!(
        dec(claim(&v, 2)["expected"].as_f64().unwrap(), 9),
        "0.291027774"
    );
    // Independently: the whole round by hand, both ways.
    let e_after = |w: &[f64; 9]| {
        let h = [
            sigmoid(w[1] * c.i[0] + w[2] * c.i[1] + c.b1),
            sigmoid(w[3] * c.i[0] + w[4] * c.i[1] + c.b1),
        ];
        let o = [
            sigmoid(w[5] * h[0] + w[6] * h[1] + c.b2),
            sigmoid(w[7] * h[0] + w[8] * h[1] + c.b2),
        ];
        0.5 * (c.t[0] - o[0]).powi(2) + 0.5 * (c.t[1] - o[1]).powi(2)
    };
    let hidden = |w5: f64, w6: f64, w7: f64, w8: f64| {
        let dh = [
            (c.delta_o[0] * w5 + c.delta_o[1] * w7) * c.out_h[0] * (1.0 - c.out_h[0]),
            (c.delta_o[0] * w6 + c.delta_o[1] * w8) * c.out_h[1] * (1.0 - c.out_h[1]),
        ];
        [
            dh[0] * c.i[0],
            dh[0] * c.i[1],
            dh[1] * c.i[0],
            dh[1] * c.i[1],
        ]
    };
    let round = |gh: [f64; 4]| {
        let mut w = c.w;
        for k in 1..=4 {
            w[k] -= c.eta * gh[k - 1];
        }
        for (k, wk) in w.iter_mut().enumerate().skip(5) {
            *wk = w_new(k);
        }
        e_after(&w)
    };
    let right = round(hidden(c.w[5], c.w[6], c.w[7], c.w[8]));
    let early = round(hidden(w_new(5), w_new(6), w_new(7), w_new(8)));
    assert_eq!(dec(right, 9), "0.291027774");
    assert_eq!(dec(early, 9), "0.291027924");
}

#[test]
fn missing_bias() {
    let c = Classic::new();
    let net_h1 = c.w[1] * c.i[0] + c.w[2] * c.i[1];
    let out_h1 = sigmoid(net_h1);
    let out_h2 = sigmoid(c.w[3] * c.i[0] + c.w[4] * c.i[1]);
    let out_o1 = sigmoid(c.w[5] * out_h1 + c.w[6] * out_h2);
    let answers = format!("net_h1 = {}\nout_o1 = {}\n", dec(net_h1, 4), dec(out_o1, 6));
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 1, "missing_bias");
    diagnosed(&v, 2, "missing_bias");
}

#[test]
fn added_update() {
    let c = Classic::new();
    let answers = format!("w5+ = {}\n", dec(c.w[5] + c.eta * c.d_w5(), 8));
    diagnosed(&judge(MAZUR, &answers, 1), 1, "added_update");
}

#[test]
fn missing_rate() {
    let c = Classic::new();
    // With η = 0.5 and the mse's ½, w5 − g is also what forgetting the ½
    // gives; the right gradient on the line before rules that out.
    let answers = format!(
        "dE_total/dw5 = {}\nw5+ = {}\n",
        dec(c.d_w5(), 9),
        dec(c.w[5] - c.d_w5(), 8)
    );
    let v = judge(MAZUR, &answers, 1);
    assert_eq!(claim(&v, 1)["ok"], true);
    diagnosed(&v, 2, "missing_rate");
    assert_eq!(claim(&v, 2)["carried_from"], Value::Null);
    // Alone, the update's own mistake is the likelier one.
    let alone = format!("w5+ = {}\n", dec(c.w[5] - c.d_w5(), 8));
    diagnosed(&judge(MAZUR, &alone, 1), 1, "missing_rate");
}

#[test]
fn derivative_of_net() {
    let c = Classic::new();
    let sigma_net = c.net_o[0] * (1.0 - c.net_o[0]);
    let answers = format!("dout_o1/dnet_o1 = {}\n", dec(sigma_net, 6));
    diagnosed(&judge(MAZUR, &answers, 1), 1, "derivative_of_net");
    let d_w5 = (c.out_o[0] - c.t[0]) * sigma_net * c.out_h[0];
    let answers = format!("dE_total/dw5 = {}\n", dec(d_w5, 6));
    diagnosed(&judge(MAZUR, &answers, 1), 1, "derivative_of_net");
    // After the wrong factor on an earlier line, the gradient is right for it.
    let answers = format!(
        "dout_o1/dnet_o1 = {}\ndE_total/dw5 = {}\n",
        dec(sigma_net, 6),
        dec(d_w5, 6)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 2, "carried_forward");
    assert_eq!(claim(&v, 2)["carried_from"], 1);
}

#[test]
fn carried_forward() {
    let c = Classic::new();
    // out_h1 wrong (0.61); net_o1 and out_o1 then right for it.
    let net_o1 = c.w[5] * 0.61 + c.w[6] * c.out_h[1] + c.b2;
    let out_o1 = sigmoid(net_o1);
    let answers = format!(
        "# forward pass\nout_h1 = 0.61\nnet_o1 = {}\nout_o1 = {}\nout_o2 = {}\n",
        dec(net_o1, 6),
        dec(out_o1, 6),
        dec(c.out_o[1], 6)
    );
    let v = judge(MAZUR, &answers, 1);
    assert_eq!(claim(&v, 2)["ok"], false);
    assert_eq!(claim(&v, 2)["diagnosis"], Value::Null);
    diagnosed(&v, 3, "carried_forward");
    assert_eq!(claim(&v, 3)["carried_from"], 2);
    diagnosed(&v, 4, "carried_forward");
    // out_o1 follows from net_o1, itself right for the wrong out_h1: the
    // line actually wrong is named.
    assert_eq!(claim(&v, 4)["carried_from"], 2);
    assert_eq!(claim(&v, 5)["ok"], true);
    let msg = claim(&v, 3)["message"].as_str().unwrap();
    assert!(
        msg.contains("right for your value on line 2, which is wrong"),
        "{msg}"
    );

    // A wrong ∂E_total/∂out_h1 carried into ∂E_total/∂w1.
    let wrong = 0.0400;
    let d_w1 = wrong * c.out_h[0] * (1.0 - c.out_h[0]) * c.i[0];
    let answers = format!(
        "dE_total/dout_h1 = {}\ndout_h1/dnet_h1 = {}\ndE_total/dw1 = {}\n",
        dec(wrong, 4),
        dec(c.out_h[0] * (1.0 - c.out_h[0]), 9),
        dec(d_w1, 9)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 3, "carried_forward");
    assert_eq!(claim(&v, 3)["carried_from"], 1);

    // ∂E_total/∂out_h1 summed from the student's own (wrong) ∂E_o1/∂out_h1.
    let d_o2 = c.delta_o[1] * c.w[7];
    let answers = format!(
        "dE_o1/dout_h1 = 0.0600\ndE_o2/dout_h1 = {}\ndE_total/dout_h1 = {}\n",
        dec(d_o2, 9),
        dec(0.06 + d_o2, 9)
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 3, "carried_forward");
    assert_eq!(claim(&v, 3)["carried_from"], 1);
}

#[test]
fn formulas_are_judged_as_functions() {
    let answers = "\
dE_total/dw5 = (out_o1 - target_o1)*out_o1*(1 - out_o1)*out_h1
dE_total/dw5 = out_h1*(out_o1^2 - out_o1^3 - target_o1*out_o1 + target_o1*out_o1^2)
dE_total/dw5 = (out_o1 - target_o1)*out_o1*(1 - out_o1)*out_h2
dE_total/dw5 = (target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1
dE_total/dw5 = (out_o1 - target_o1)*out_h1
dE_total/dw5 = (out_o1 - target_o1)*out_o1*(1 - out_o1)*out_o2
dout_o1/dnet_o1 = sigmoid(net_o1)*(1 - sigmoid(net_o1))
dout_o1/dnet_o1 = 0.186815602 + 0*w1
dout_o1/dnet_o1 = out_o1*(1 - out_o1) + 0.0000001
";
    let v = judge(MAZUR, answers, 1);
    assert_eq!(claim(&v, 1)["ok"], true);
    assert_eq!(claim(&v, 2)["ok"], true);
    // Wrong: out_h2 for out_h1. Equal nowhere, fits no known mistake.
    let c3 = claim(&v, 3);
    assert_eq!(c3["ok"], false);
    assert_eq!(c3["diagnosis"], Value::Null);
    let c = Classic::new();
    assert_eq!(
        c3["message"],
        format!(
            "expected -(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1 = {}; \
your formula gives {} here; not equal to the derived formula",
            dec(c.d_w5(), 9),
            dec(c.delta_o[0] * c.out_h[1], 9)
        )
    );
    diagnosed(&v, 4, "sign_flip");
    diagnosed(&v, 5, "missing_activation_derivative");
    let c6 = claim(&v, 6)["message"].as_str().unwrap();
    assert!(
        c6.ends_with("it uses `out_o2`, which dE_total/dw5 cannot depend on"),
        "{c6}"
    );
    assert_eq!(claim(&v, 7)["ok"], true);
    // The right number at the network's values is not the right function.
    assert_eq!(claim(&v, 8)["ok"], false);
    assert_eq!(claim(&v, 9)["ok"], false);
}

#[test]
fn text_output_for_the_student() {
    let c = Classic::new();
    let answers = format!(
        "out_h1 = 0.59327\ndE_total/dw5 = {}   # my answer\n",
        dec(2.0 * c.d_w5(), 4)
    );
    let r = Test::new()
        .args(["check", MAZUR, "-"])
        .stdin(&answers)
        .status(1);
    assert_eq!(
        r.stdout,
        "✓ 1  out_h1 = 0.59327\n\
✗ 2  dE_total/dw5 = 0.1643 — expected 0.082167041; the ½ of E = ½(target − out)² was left out (that gives 0.164334081)\n\
1 right, 1 wrong\n"
    );
    assert!(!r.stdout.contains('\x1b'), "no colour when piped");
}

#[test]
fn notation_of_the_messages() {
    let answers = "dE_total/dw5 = (out_o1 - target_o1)*out_h1\n";
    let r = Test::new()
        .args(["check", MAZUR, "-", "--notation", "sum-output"])
        .stdin(answers)
        .status(1);
    assert!(
        r.stdout
            .contains("expected -(target_o1 - output_o1)*output_o1*(1 - output_o1)*output_h1"),
        "{}",
        r.stdout
    );
    let r = Test::new()
        .args(["check", MAZUR, "-", "--notation", "z-a"])
        .stdin(answers)
        .status(1);
    assert!(r.stdout.contains("*a_h1 = 0.082167041"), "{}", r.stdout);
}

#[test]
fn unknown_quantities_are_reported_alone() {
    let r = Test::new()
        .args(["check", MAZUR, "-"])
        .stdin("net_h1 = 0.3775\n  out_h3 = 0.59\n")
        .status(1);
    assert_eq!(
        r.stdout,
        "✓ 1  net_h1 = 0.3775\n? 2  out_h3 = 0.59 — cannot read this line (column 3): `out_h3` is not a quantity of this network; did you mean `out_h1`?; name a quantity before `=`: `net_h1`, `out_o1`, `E_total`, `dE_total/dw5`, `δ_o1`, `w5+`, `E_total+`\n1 right, 0 wrong, 1 unreadable\n"
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn lines_that_cannot_be_read_never_refuse_the_file() {
    // (line, column, start of why)
    let cases = [
        ("dE_total/dw5 0.08\n", 13, "there is no `=`"),
        ("dE_total/dw9 = 0.08\n", 11, "`w9` is not a quantity"),
        (
            "dw5/dE_total = 0.08\n",
            1,
            "`w5` does not depend on `E_total`",
        ),
        ("dE_total/dw5 = out_o3*2\n", 16, "unknown name `out_o3`"),
        ("i1+ = 0.05\n", 1, "`i1` is not updated: only params change"),
        ("dE_total/dw5 = 0.0822 * * 2\n", 16, "unexpected `*`"),
        ("dE_total/dw6 = (0.7414*0.1868\n", 16, "a `(` is not closed"),
    ];
    for (answers, col, why) in cases {
        let text = format!("net_h1 = 0.3775\n{answers}out_h1 = 0.5933\n");
        let v = judge(MAZUR, &text, 1);
        let c = claim(&v, 2);
        assert_eq!(c["ok"], Value::Null, "{answers}: {c:#}");
        let msg = c["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("cannot read this line (column {col}): {why}")),
            "{answers}: {msg}"
        );
        assert_eq!(claim(&v, 1)["ok"], true);
        assert_eq!(claim(&v, 3)["ok"], true);
        assert_eq!(v["unreadable"], 1);
        assert_eq!(v["right"], 2);
    }
    // No claim at all: said, not refused.
    let r = Test::new()
        .args(["check", MAZUR, "-"])
        .stdin("# nothing\n\n")
        .status(1);
    assert!(r.stdout.starts_with("no claims"), "{}", r.stdout);
    // Only a text that is not text is refused.
    let r = Test::new()
        .args(["check", MAZUR, "-"])
        .stdin("net_h1 = 0.3775\0\n")
        .status(2);
    assert!(r.stderr.contains("not text"), "{}", r.stderr);
}

#[test]
fn output_is_deterministic() {
    let text = std::fs::read_to_string("tests/check/mazur-wrong.txt").unwrap();
    let a = judge(MAZUR, &text, 1);
    let b = judge(MAZUR, &text, 1);
    assert_eq!(a, b);
}

#[test]
fn the_readme_sessions_are_real() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = "$ chainrule check examples/mazur.nn tests/check/corpus/m17-messy-chain.txt\n";
    let from = readme.find(start).expect("the session is in the README") + start.len();
    let to = from + readme[from..].find("$ echo $?").expect("the session ends");
    let r = Test::new()
        .args(["check", MAZUR, "tests/check/corpus/m17-messy-chain.txt"])
        .status(1);
    assert_eq!(r.stdout, &readme[from..to]);
    // The marking shown is the one beside the file.
    let marking = std::fs::read_to_string("tests/check/corpus/m17-messy-chain.expected").unwrap();
    assert!(readme.contains(&format!("```\n{marking}```")));
    // The JSON example.
    let start = "| chainrule check examples/mazur.nn - -f json\n";
    let from = readme.find(start).expect("the JSON is in the README") + start.len();
    let to = from + readme[from..].find("```").expect("the JSON ends");
    let r = Test::new()
        .args(["check", MAZUR, "-", "-f", "json"])
        .stdin("dE_total/dw5 = 0.0822\nw5+ = 0.4411\nb1+ = 0.35\n")
        .status(1);
    assert_eq!(r.stdout, &readme[from..to]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// No answers file, however malformed, makes `check` panic.
    #[test]
    fn any_answers_file_is_judged_or_refused(
        lines in proptest::collection::vec(
            "(net_h1|out_o1|dE_total/dw5|∂E/∂w1|w5\\+|E_total\\+|δ_o2|dw5/dE|x|d)? ?=? ?\
             (0\\.[0-9]{1,6}|-?[0-9]e-?[0-9]|out_h1|\\(|\\)|\\*|/|1/0|ln\\(0\\)|#|[a-z]{1,3}| ){0,6}",
            0..8,
        )
    ) {
        judge_quietly(&lines.join("\n"));
    }

    /// Nor does any text at all.
    #[test]
    fn any_text_is_judged_or_refused(text in "\\PC{0,200}") {
        judge_quietly(&text);
    }
}

/// Parses and checks `text` against the classic example, rendering both ways.
fn judge_quietly(text: &str) {
    let src = std::fs::read_to_string(MAZUR).unwrap();
    let net = chainrule::parse::parse_network("mazur.nn", &src).unwrap();
    match chainrule::parse::parse_answers(&net, "a.txt", text) {
        Ok(claims) => {
            let opts = chainrule::check::Options::default();
            let report = chainrule::check::check(&net, &claims, &opts);
            let _ = chainrule::check::render_text(&report, false);
            let _ = chainrule::check::render_json(&report);
        }
        Err(d) => {
            let _ = d.to_string();
        }
    }
}

/// A teacher's mark of one line of a corpus file.
#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Right,
    Wrong(Option<String>),
    Carried(usize),
    Unreadable,
}

/// The marking beside a corpus file: its network, the arguments, and the
/// teacher's mark of each line.
struct Marking {
    network: String,
    args: Vec<String>,
    marks: Vec<(u64, Mark)>,
}

fn read_marking(text: &str) -> Marking {
    let mut m = Marking {
        network: String::new(),
        args: Vec::new(),
        marks: Vec::new(),
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["network", n] => m.network = n.to_string(),
            ["args", rest @ ..] => m.args = rest.iter().map(|s| s.to_string()).collect(),
            [n, "right"] => m.marks.push((n.parse().unwrap(), Mark::Right)),
            [n, "wrong"] => m.marks.push((n.parse().unwrap(), Mark::Wrong(None))),
            [n, "wrong", code] => m
                .marks
                .push((n.parse().unwrap(), Mark::Wrong(Some(code.to_string())))),
            [n, "carried", from] => m
                .marks
                .push((n.parse().unwrap(), Mark::Carried(from.parse().unwrap()))),
            [n, "unreadable"] => m.marks.push((n.parse().unwrap(), Mark::Unreadable)),
            _ => panic!("a marking line of an unknown form: {line}"),
        }
    }
    assert!(!m.network.is_empty(), "a marking names its network");
    m
}

/// check's mark of each line that has verdicts: every claim of the line
/// must be right for `Right`; an unreadable claim makes the line
/// unreadable; the first named diagnosis names a wrong line.
fn marks_of(v: &Value) -> std::collections::BTreeMap<u64, Mark> {
    let mut by_line: std::collections::BTreeMap<u64, Vec<&Value>> = Default::default();
    for c in v["claims"].as_array().expect("claims") {
        by_line
            .entry(c["line"].as_u64().unwrap())
            .or_default()
            .push(c);
    }
    by_line
        .into_iter()
        .map(|(line, cs)| {
            let mark = if cs.iter().any(|c| c["ok"].is_null()) {
                Mark::Unreadable
            } else if cs.iter().all(|c| c["ok"] == true) {
                Mark::Right
            } else if let Some(c) = cs
                .iter()
                .find(|c| c["ok"] == false && c["diagnosis"] != "carried_forward")
            {
                Mark::Wrong(c["diagnosis"].as_str().map(str::to_string))
            } else {
                let c = cs.iter().find(|c| c["ok"] == false).unwrap();
                Mark::Carried(c["carried_from"].as_u64().unwrap_or(0) as usize)
            };
            (line, mark)
        })
        .collect()
}

/// The corpus of `tests/check/corpus/`: answers files written as students
/// write them, each with a teacher's marking beside it (`FILE.expected`,
/// written before `check` was run on the file). `check` must read every
/// file and agree with the teacher on at least 95% of the marks, 85% of the
/// named mistakes and 90% of the lines credited as carried forward.
#[test]
fn the_corpus_is_marked_as_a_teacher_marks_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "expected"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{} files", files.len());
    let (mut marks, mut marks_agree) = (0, 0);
    let (mut named, mut named_agree) = (0, 0);
    let (mut carried, mut carried_agree) = (0, 0);
    let mut disagreements = Vec::new();
    for expected in &files {
        let marking = read_marking(&std::fs::read_to_string(expected).unwrap());
        let answers = expected.with_extension("txt");
        let name = answers.file_name().unwrap().to_string_lossy().to_string();
        let mut args = vec![
            "check".to_string(),
            marking.network.clone(),
            answers.to_string_lossy().to_string(),
            "-f".to_string(),
            "json".to_string(),
        ];
        args.extend(marking.args.iter().cloned());
        let r = Test::new().args(&args).run();
        assert!(
            r.status == 0 || r.status == 1,
            "{name} refused: {}",
            r.stderr
        );
        let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
        let got = marks_of(&v);
        let teacher: std::collections::BTreeMap<u64, Mark> =
            marking.marks.iter().cloned().collect();
        for (line, want) in &teacher {
            marks += 1;
            let have = got.get(line);
            let same_mark = matches!(
                (want, have),
                (Mark::Right, Some(Mark::Right))
                    | (Mark::Wrong(_), Some(Mark::Wrong(_)))
                    | (Mark::Carried(_), Some(Mark::Carried(_)))
                    | (Mark::Unreadable, Some(Mark::Unreadable))
            );
            if same_mark {
                marks_agree += 1;
            }
            if let Mark::Wrong(Some(code)) = want {
                named += 1;
                if have == Some(&Mark::Wrong(Some(code.clone()))) {
                    named_agree += 1;
                }
            }
            if let Mark::Carried(from) = want {
                carried += 1;
                if have == Some(&Mark::Carried(*from)) {
                    carried_agree += 1;
                }
            }
            if have != Some(want) {
                disagreements.push(format!("{name}:{line}: teacher {want:?}, check {have:?}"));
            }
        }
        // A line the teacher left unmarked (text, a heading) that check
        // marks is a disagreement too.
        for (line, have) in &got {
            if !teacher.contains_key(line) {
                marks += 1;
                disagreements.push(format!("{name}:{line}: teacher none, check {have:?}"));
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    eprintln!(
        "corpus: {} files; marks {marks_agree}/{marks} ({:.1}%), named mistakes {named_agree}/{named} ({:.1}%), carried forward {carried_agree}/{carried} ({:.1}%)",
        files.len(),
        pct(marks_agree, marks),
        pct(named_agree, named),
        pct(carried_agree, carried),
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    assert!(pct(marks_agree, marks) >= 95.0, "marks");
    assert!(pct(named_agree, named) >= 85.0, "named mistakes");
    assert!(pct(carried_agree, carried) >= 90.0, "carried forward");
}

#[test]
fn updated_params_written_as_they_were_are_not_updated() {
    let c = Classic::new();
    // ∂E_total/∂b1 = Σ_h δ_h; b1⁺ = 0.35 − 0.5·that ≈ 0.3406.
    let d_out_h = [0, 1].map(|h| c.delta_o[0] * c.w[5 + h] + c.delta_o[1] * c.w[7 + h]);
    let delta_h = [0, 1].map(|h| d_out_h[h] * c.out_h[h] * (1.0 - c.out_h[h]));
    let b1_new = c.b1 - c.eta * (delta_h[0] + delta_h[1]);
    assert_eq!(dec(b1_new, 4), "0.3406");
    let w1_new = c.w[1] - c.eta * c.d_w1_with(c.w[5], c.w[7]);
    let v = judge(
        MAZUR,
        &format!(
            "b1+ = 0.35\nw1+ = 0.15\nw1+ = {}\nb1+ = {}\n",
            dec(w1_new, 4),
            dec(b1_new, 4)
        ),
        1,
    );
    diagnosed(&v, 1, "not_updated");
    diagnosed(&v, 2, "not_updated");
    let msg = claim(&v, 2)["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("4 decimals ({})", dec(w1_new, 4))),
        "{msg}"
    );
    assert_eq!(claim(&v, 3)["ok"], true);
    assert_eq!(claim(&v, 4)["ok"], true);
}

#[test]
fn new_diagnoses_on_the_classic_numbers() {
    let c = Classic::new();
    let d_out_o1 = c.out_o[0] - c.t[0];
    let act_o1 = c.out_o[0] * (1.0 - c.out_o[0]);
    let answers = format!(
        "dE_total/dw5 = {}\ndE_total/dw5 = {}\nout_h1 = {}\ndE_total/dw6 = {}\ndE_total/dw5 = {} * {} * {} = 0.0901\n",
        // out where out(1 − out) belongs
        dec(d_out_o1 * c.out_o[0] * c.out_h[0], 6),
        // the chain's factors added
        dec(d_out_o1 + act_o1 + c.out_h[0], 6),
        // h2's output for h1's
        dec(c.out_h[1], 6),
        // w5's gradient for w6's
        dec(c.d_w5(), 6),
        dec(d_out_o1, 6),
        dec(act_o1, 6),
        dec(c.out_h[0], 6),
    );
    let v = judge(MAZUR, &answers, 1);
    diagnosed(&v, 1, "out_for_derivative");
    diagnosed(&v, 2, "added_factors");
    diagnosed(&v, 3, "wrong_neuron");
    diagnosed(&v, 4, "wrong_neuron");
    assert!(claim(&v, 4)["message"]
        .as_str()
        .unwrap()
        .contains("dE_total/dw5"));
    diagnosed(&v, 5, "arithmetic");
}

#[test]
fn a_batch_is_judged_against_its_combined_quantities() {
    // XOR: four samples, E_total the mean of their errors.
    let w = [0.5, 0.9, -0.7, -0.4, 0.3, -0.6];
    let b = [-0.2, 0.6, 0.1];
    let rows = [
        ([0.0, 0.0], 0.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 0.0], 1.0),
        ([1.0, 1.0], 0.0),
    ];
    let mut errors = Vec::new();
    let mut grad_w5 = Vec::new();
    for (x, t) in rows {
        let h1 = sigmoid(w[0] * x[0] + w[1] * x[1] + b[0]);
        let h2 = sigmoid(w[2] * x[0] + w[3] * x[1] + b[1]);
        let o = sigmoid(w[4] * h1 + w[5] * h2 + b[2]);
        errors.push(0.5 * (t - o) * (t - o));
        grad_w5.push((o - t) * o * (1.0 - o) * h1);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let e = mean(&errors);
    let g = mean(&grad_w5);
    let answers = format!(
        "Sample 2\nE_total = {}\nCombined\nE_total = {}\ndE_total/dw5 = {}\nw5+ = {}\nE_total = {}\n",
        dec(errors[1], 6),
        dec(e, 6),
        dec(g, 8),
        dec(0.3 - g, 6),
        dec(errors.iter().sum::<f64>(), 6),
    );
    let r = Test::new()
        .args(["check", "examples/xor.nn", "-", "-f", "json"])
        .stdin(&answers)
        .status(1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    for line in [2, 4, 5, 6] {
        assert_eq!(claim(&v, line)["ok"], true, "{:#}", claim(&v, line));
    }
    assert_eq!(claim(&v, 2)["sample"], 2);
    assert!(claim(&v, 4).get("sample").is_none());
    assert_eq!(claim(&v, 7)["ok"], false);
    assert!(claim(&v, 7)["message"]
        .as_str()
        .unwrap()
        .contains("the sum over the samples"));
    // --sample keeps judging one sample.
    let r = Test::new()
        .args([
            "check",
            "examples/xor.nn",
            "-",
            "--sample",
            "2",
            "-f",
            "json",
        ])
        .stdin(&format!("E_total = {}\n", dec(errors[1], 6)))
        .status(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(claim(&v, 1)["ok"], true);
}

#[test]
fn a_hidden_gradient_sums_over_the_next_hidden_layer() {
    // tests/check/deep.nn, by hand: x = (0.5, 0.2), layers h, g, o.
    let s = sigmoid;
    let h = [
        s(0.1 * 0.5 + 0.4 * 0.2 + 0.1),
        s(-0.3 * 0.5 + 0.2 * 0.2 + 0.1),
    ];
    let g = [
        s(0.6 * h[0] - 0.1 * h[1] + 0.2),
        s(0.3 * h[0] + 0.8 * h[1] + 0.2),
    ];
    let o = s(0.7 * g[0] - 0.5 * g[1] + 0.3);
    let delta_o = (o - 1.0) * o * (1.0 - o);
    let delta_g = [
        delta_o * 0.7 * g[0] * (1.0 - g[0]),
        delta_o * -0.5 * g[1] * (1.0 - g[1]),
    ];
    let right = delta_g[0] * 0.6 + delta_g[1] * 0.3;
    let via_g1 = delta_g[0] * 0.6;
    let v = judge(
        "tests/check/deep.nn",
        &format!(
            "dE_total/dout_h1 = {}\ndE_total/dout_h1 = {}\n",
            dec(right, 8),
            dec(via_g1, 8)
        ),
        1,
    );
    assert_eq!(claim(&v, 1)["ok"], true);
    diagnosed(&v, 2, "single_output_sum");
    assert!(claim(&v, 2)["message"]
        .as_str()
        .unwrap()
        .contains("through g1 only"));
}

#[test]
fn answers_saved_as_utf16_or_with_a_byte_order_mark_are_read() {
    let dir = std::env::temp_dir().join(format!("chainrule-check-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = "net_h1 = 0.3775\n총 오차 E_total = 0.2984\n";
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend(text.as_bytes());
    for (name, bytes) in [("utf16.txt", utf16), ("bom.txt", bom)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let r = Test::new()
            .args(["check", MAZUR, path.to_str().unwrap()])
            .status(0);
        assert!(r.stdout.ends_with("all 2 right\n"), "{name}: {}", r.stdout);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
