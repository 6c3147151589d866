//! `check` at scale: a 10 KB answers file (right and wrong numbers, chains,
//! formulas, updates) against a network of 300 one-neuron sigmoid layers,
//! and the corpus of `tests/check/corpus/`. Prints wall time (median of
//! three runs of the release binary) and peak memory (GNU time, when
//! present) of the whole process.
//!
//! `cargo bench --bench check`

#[path = "common/process.rs"]
mod process;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chainrule::check::{evaluate, Quantity};
use chainrule::expr::Sym;

/// 300 layers of one neuron each: n_k = w_k·n_(k−1) + b_k.
fn deep(layers: usize) -> String {
    let mut s = String::from("network \"deep\"\ninput x = 0.5\n");
    for k in 1..=layers {
        let prev = if k == 1 {
            "x".to_string()
        } else {
            format!("n{}", k - 1)
        };
        s += &format!("layer l{k} sigmoid {{ n{k} = w{k}*{prev} + b{k} }}\n");
    }
    for k in 1..=layers {
        let w = 0.8 + 0.4 * ((k * 7) % 11) as f64 / 11.0;
        s += &format!("param w{k} = {w:.3}, b{k} = 0.1\n");
    }
    s += &format!("target n{layers} = 0.2\nloss mse\nrate 0.5\n");
    s
}

/// About `bytes` of claims about the deep network: right and wrong values,
/// chains, formulas, gradients and updates, in every layer.
fn answers(net_src: &str, layers: usize, bytes: usize) -> String {
    let net = chainrule::parse::parse_network("deep.nn", net_src).expect("parses");
    let param = |name: &str| net.params.iter().position(|p| p.name == name).unwrap() as u32;
    let mut out = String::new();
    let mut k = 0usize;
    while out.len() < bytes {
        let l = k % layers + 1;
        let n = (l - 1) as u32;
        let w = param(&format!("w{l}"));
        let v = evaluate(
            &net,
            &[
                Quantity::Value(Sym::Net(n)),
                Quantity::Value(Sym::Out(n)),
                Quantity::Partial {
                    of: Sym::ErrTotal,
                    wrt: Sym::Param(w),
                },
                Quantity::Updated(w),
            ],
        );
        out += &match k % 6 {
            0 => format!("net_n{l} = {:.4}\n", v[0]),
            1 => format!("out_n{l} = {:.4}\n", v[1] * 1.05),
            2 => format!("dE_total/dw{l} = {:.4e}\n", v[2]),
            3 => format!("w{l}+ = {:.6}\n", 2.0 * net.params[w as usize].value - v[3]),
            4 => format!("out_n{l} = sigmoid({:.4}) = {:.4}\n", v[0], v[1]),
            _ => format!("dout_n{l}/dnet_n{l} = out_n{l}*(1 - out_n{l})\n"),
        };
        k += 1;
    }
    out
}

/// About `bytes` of wrong claims in every layer: gradients, updates,
/// formulas and chains, each one diagnosed against every known mistake and
/// the student's own earlier values.
fn wrong_answers(layers: usize, bytes: usize) -> String {
    let mut out = String::new();
    let mut k = 0usize;
    while out.len() < bytes {
        let l = k % layers + 1;
        let prev = l.saturating_sub(1).max(1);
        out += &format!("dE_total/dw{l} = 1.2345\nw{l}+ = 0.1\n");
        out += &format!("dE_total/dnet_n{l} = out_n{l}*(1-out_n{l})\n");
        out += &format!("net_n{l} = w{l}*out_n{prev} + b{l} = 0.77\n");
        k += 1;
    }
    out
}

/// Median wall seconds of three runs (exit 0 or 1: wrong claims), and peak
/// resident memory in MiB.
fn measure(args: &[&str]) -> (f64, Option<f64>) {
    process::measure(Path::new("."), args, &|c| matches!(c, Some(0 | 1)))
}

fn main() {
    let dir = std::env::temp_dir().join("chainrule-bench-check");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let layers = 300;
    let src = deep(layers);
    let text = answers(&src, layers, 10 * 1024);
    let net = dir.join("deep.nn");
    let ans = dir.join("answers.txt");
    std::fs::write(&net, &src).expect("write");
    std::fs::write(&ans, &text).expect("write");
    let (secs, mem) = measure(&[
        "check",
        net.to_str().unwrap(),
        ans.to_str().unwrap(),
        "-f",
        "json",
    ]);
    println!(
        "check: {} B of answers ({} lines), {layers} one-neuron layers: {secs:.3} s, {}",
        text.len(),
        text.lines().count(),
        mem.map_or("memory not measured".to_string(), |m| format!(
            "{m:.1} MiB peak"
        ))
    );
    let wrong = wrong_answers(layers, 10 * 1024);
    let hard = dir.join("wrong.txt");
    std::fs::write(&hard, &wrong).expect("write");
    let (secs, mem) = measure(&[
        "check",
        net.to_str().unwrap(),
        hard.to_str().unwrap(),
        "-f",
        "json",
    ]);
    println!(
        "check: {} B of wrong answers ({} lines), {layers} one-neuron layers: {secs:.3} s, {}",
        wrong.len(),
        wrong.lines().count(),
        mem.map_or("memory not measured".to_string(), |m| format!(
            "{m:.1} MiB peak"
        ))
    );
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let t = Instant::now();
    for f in &files {
        let expected = std::fs::read_to_string(f.with_extension("expected")).expect("marking");
        let mut args = vec!["check".to_string()];
        for line in expected.lines() {
            if let Some(n) = line.strip_prefix("network ") {
                args.push(n.trim().to_string());
            }
        }
        args.push(f.to_str().unwrap().to_string());
        for line in expected.lines() {
            if let Some(a) = line.strip_prefix("args ") {
                args.extend(a.split_whitespace().map(str::to_string));
            }
        }
        Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&args)
            .output()
            .expect("runs");
    }
    println!(
        "check: the corpus of {} files: {:.3} s",
        files.len(),
        t.elapsed().as_secs_f64()
    );
}
