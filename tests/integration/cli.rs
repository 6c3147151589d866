//! The command line on the bundled example, checked against the published
//! numbers of the classic worked example (to 9 decimals).

use crate::support::Test;

fn json(args: &[&str]) -> serde_json::Value {
    let r = Test::new().args(args).status(0);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

fn round9(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

#[test]
fn mazur_json_reproduces_the_published_numbers() {
    let v = json(&["solve", "examples/mazur.nn", "-f", "json"]);
    let val = |k: &str| v["values"][k].as_f64().expect(k);
    let grad = |k: &str| v["gradients"][k].as_f64().expect(k);
    let upd = |k: &str| v["updated"][k].as_f64().expect(k);
    assert_eq!(round9(val("E_total")), 0.298371109);
    assert_eq!(round9(val("net_h1")), 0.3775);
    assert_eq!(round9(val("out_h1")), 0.593269992);
    assert_eq!(round9(val("out_o1")), 0.75136507);
    assert_eq!(round9(val("E_o1")), 0.274811083);
    assert_eq!(round9(grad("w5")), 0.082167041);
    assert_eq!(round9(grad("w1")), 0.000438568);
    let published = [
        ("w1", 0.149780716),
        ("w2", 0.19956143),
        ("w3", 0.24975114),
        ("w4", 0.29950229),
        ("w5", 0.35891648),
        ("w6", 0.408666186),
        ("w7", 0.511301270),
        ("w8", 0.561370121),
    ];
    // Published to 8 or 9 decimals: compare at the digits printed.
    for (p, want) in published {
        let digits = format!("{want}").split('.').nth(1).map_or(0, str::len) as i32;
        let scale = 10f64.powi(digits);
        assert_eq!((upd(p) * scale).round() / scale, want, "{p}⁺");
    }
    // The biases have gradients too: b2 sums over both outputs.
    let b2 = grad("b2");
    let d_o1 = v["deltas"]["o1"]["dE_total/dnet"].as_f64().unwrap();
    let d_o2 = v["deltas"]["o2"]["dE_total/dnet"].as_f64().unwrap();
    assert!((b2 - (d_o1 + d_o2)).abs() < 1e-15);
    assert!(grad("b1") > 0.0);
}

#[test]
fn factors_of_w5_are_the_textbook_ones() {
    let v = json(&["solve", "examples/mazur.nn", "-f", "json"]);
    let w5 = v["derivations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["param"] == "w5")
        .expect("w5");
    let f = w5["factors"].as_array().unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(f[0]["symbolic"], "-(target_o1 - out_o1)");
    assert_eq!(round9(f[0]["value"].as_f64().unwrap()), 0.74136507);
    assert_eq!(f[1]["symbolic"], "out_o1*(1 - out_o1)");
    assert_eq!(round9(f[1]["value"].as_f64().unwrap()), 0.186815602);
    assert_eq!(f[2]["symbolic"], "out_h1");
    assert_eq!(round9(f[2]["value"].as_f64().unwrap()), 0.593269992);
}

#[test]
fn standard_input_and_example_command() {
    let text = Test::new().args(["example", "mazur"]).status(0).stdout;
    assert_eq!(text, std::fs::read_to_string("examples/mazur.nn").unwrap());
    let r = Test::new()
        .args(["solve", "-", "-f", "json"])
        .stdin(&text)
        .status(0);
    assert!(r.stdout.contains("\"E_total\": 0.2983711087600027"));
}

#[test]
fn output_is_deterministic() {
    let a = Test::new()
        .args(["solve", "examples/mazur.nn"])
        .status(0)
        .stdout;
    let b = Test::new()
        .args(["solve", "examples/mazur.nn"])
        .status(0)
        .stdout;
    assert_eq!(a, b);
}

#[test]
fn plain_formulas_parse_back() {
    let text = std::fs::read_to_string("examples/mazur.nn").unwrap();
    let net = chainrule::parse::parse_network("mazur.nn", &text).unwrap();
    let names = chainrule::notation::NetNames::new(&net, Default::default());
    for src in [
        "-(target_o1 - out_o1)",
        "out_o1*(1 - out_o1)",
        "-w1^2",
        "(out_o1 - target_o1)*out_o1*(1 - out_o1)*out_h1",
        "-2*(target_o1 - out_o1)",
        "2^3^w1",
        "(2^3)^w1",
        "w2 - (w3 - w4)",
        "-target_o1/out_o1",
        "sigmoid(net_h1)*(1 - sigmoid(net_h1))",
        "step(net_h1, 0.2) + 1e-7",
        "w1*(-3) - (-w2)",
    ] {
        let e =
            chainrule::parse::parse_formula(&net, src).unwrap_or_else(|d| panic!("{src}: {d:?}"));
        let printed = e.plain(&names);
        let again = chainrule::parse::parse_formula(&net, &printed).unwrap();
        assert_eq!(e, again, "{src} → {printed}");
        assert_eq!(printed, src, "prints as written");
    }
}
