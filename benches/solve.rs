//! How the pipeline scales: parse, derive and JSON rendering timed apart on
//! the Mazur example and on dense sigmoid networks of about 1k, 5k and 20k
//! params, written as `.nn` text with one explicit line per neuron
//! (`h1_1 = w1_1_1*i1 + … + b1_1`).
//!
//! `cargo bench --bench solve` prints, for each network, the median time of
//! each stage over several runs and the time per param; a flat ns/param
//! column means linear growth. `cargo bench --bench solve -- --quick` runs
//! each stage once (a smoke test).

use std::time::{Duration, Instant};

use chainrule::derivation::{derive, Options};
use chainrule::parse::parse_network;
use chainrule::render::json::render;
use chainrule::solution::Solution;

/// A dense network: `widths[0]` inputs, then a sigmoid layer of each
/// further width, every neuron connected to every unit before it, with its
/// own bias; the last layer gets targets and `mse`.
fn dense(widths: &[usize]) -> String {
    let mut s = String::new();
    s.push_str(&format!("network \"dense {widths:?}\"\n"));
    let inputs: Vec<String> = (1..=widths[0])
        .map(|i| format!("i{i} = {}", 0.01 * (i % 97) as f64))
        .collect();
    s.push_str(&format!("input {}\n", inputs.join(", ")));
    let mut params = Vec::new();
    let last = widths.len() - 1;
    for l in 1..widths.len() {
        let unit = |j: usize| {
            if l == 1 {
                format!("i{j}")
            } else {
                format!("h{}_{j}", l - 1)
            }
        };
        let name = |k: usize| {
            if l == last {
                format!("o{k}")
            } else {
                format!("h{l}_{k}")
            }
        };
        s.push_str(&format!("layer L{l} sigmoid {{\n"));
        for k in 1..=widths[l] {
            let mut terms = Vec::with_capacity(widths[l - 1] + 1);
            for j in 1..=widths[l - 1] {
                let w = format!("w{l}_{k}_{j}");
                params.push(format!(
                    "{w} = {}",
                    0.001 * ((k * 31 + j * 17) % 200) as f64 - 0.1
                ));
                terms.push(format!("{w}*{}", unit(j)));
            }
            let b = format!("b{l}_{k}");
            params.push(format!("{b} = 0.1"));
            terms.push(b);
            s.push_str(&format!("    {} = {}\n", name(k), terms.join(" + ")));
        }
        s.push_str("}\n");
    }
    for chunk in params.chunks(8) {
        s.push_str(&format!("param {}\n", chunk.join(", ")));
    }
    let targets: Vec<String> = (1..=widths[last])
        .map(|k| format!("o{k} = {}", 0.1 + 0.8 * (k % 2) as f64))
        .collect();
    s.push_str(&format!(
        "target {}\nloss mse\nrate 0.5\n",
        targets.join(", ")
    ));
    s
}

/// The median time of `f` over `runs` runs.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = std::hint::black_box(f());
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (times[runs / 2], last.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let cases: Vec<(String, String)> = vec![
        (
            "mazur 2-2-2".to_string(),
            include_str!("../examples/mazur.nn").to_string(),
        ),
        ("dense 20-20-20-10".to_string(), dense(&[20, 20, 20, 10])),
        ("dense 48-48-48-10".to_string(), dense(&[48, 48, 48, 10])),
        ("dense 98-98-98-10".to_string(), dense(&[98, 98, 98, 10])),
    ];
    println!(
        "{:<18} {:>6} {:>9} | {:>9} {:>9} {:>9} | {:>8} {:>8} {:>8} | {:>9}",
        "network",
        "params",
        "text KiB",
        "parse ms",
        "derive ms",
        "json ms",
        "parse",
        "derive",
        "json",
        "json KiB"
    );
    println!(
        "{:<18} {:>6} {:>9} | {:>9} {:>9} {:>9} | {:>26} |",
        "", "", "", "", "", "", "ns per param"
    );
    for (name, text) in &cases {
        let runs = if quick {
            1
        } else if text.len() > 200_000 {
            5
        } else {
            11
        };
        let (t_parse, net) = median(runs, || parse_network("bench.nn", text).expect("parses"));
        let (t_derive, d) = median(runs, || derive(&net, Options::default()).expect("derives"));
        let sol = Solution {
            net: &net,
            derivation: d,
            notation: Default::default(),
        };
        let (t_json, json) = median(runs, || render(&sol));
        let p = net.params.len() as f64;
        let per = |t: Duration| t.as_secs_f64() * 1e9 / p;
        println!(
            "{:<18} {:>6} {:>9.1} | {:>9.3} {:>9.3} {:>9.3} | {:>8.0} {:>8.0} {:>8.0} | {:>9.0}",
            name,
            net.params.len(),
            text.len() as f64 / 1024.0,
            ms(t_parse),
            ms(t_derive),
            ms(t_json),
            per(t_parse),
            per(t_derive),
            per(t_json),
            json.len() as f64 / 1024.0,
        );
    }
}
