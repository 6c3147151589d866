//! The attack suite's costly inputs, timed: each is refused (or answered)
//! before the work it would take, so each line should read milliseconds and
//! megabytes, whatever the size of the attack.
//!
//! `cargo bench --bench attacks` (release build of the real binary; wall
//! time is the median of three runs, peak memory from GNU time when
//! present).

#[path = "common/process.rs"]
mod process;

use std::path::Path;

/// Median wall seconds of three runs of `args` in `dir` (any exit status),
/// and peak resident memory in MiB.
fn measure(dir: &Path, args: &[&str]) -> (f64, Option<f64>) {
    process::measure(dir, args, &|_| true)
}

fn dense(n: usize, m: usize) -> String {
    format!(
        "input x[{n}] = [{}]\nlayer h[{m}] sigmoid dense x\nlayer y[1] sigmoid dense h\ntarget y = [1]\ninit uniform(-0.5, 0.5) seed 1\n",
        vec!["0.1"; n].join(", ")
    )
}

fn main() {
    let dir = std::env::temp_dir().join("chainrule-bench-attacks");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("write");
    let mazur = include_str!("../examples/mazur.nn");
    write("mazur.nn", mazur);
    write("dense1000.nn", &dense(1000, 1000));
    write("dense10000.nn", &dense(10_000, 10_000));
    let mut rows = String::from(
        "layer o sigmoid { o1 = w1*i1 + w2*i2 + b1 }\nparam w1 = 0.1, w2 = 0.2, b1 = 0.3\ndata {\n i1, i2 -> o1\n",
    );
    rows.push_str(&"0, 1 -> 1\n".repeat(1_000_000));
    rows.push_str("}\n");
    write("rows.nn", &rows);
    let mut calls = String::from("input i1 = 0.5\nparam w = 0.1\nfn g0(x) = x*x + x\n");
    for k in 1..12 {
        calls.push_str(&format!("fn g{k}(x) = g{}(x) + g{}(x)\n", k - 1, k - 1));
    }
    calls.push_str(&format!(
        "layer o sigmoid {{ o1 = {} }}\ntarget o1 = 0.5\n",
        vec!["g11(w*i1)"; 10_000].join(" + ")
    ));
    write("calls.nn", &calls);
    let mut names = String::from("input i1 = 0.05\nparam ");
    names.push_str(
        &(0..2000)
            .map(|k| format!("p{k} = 0.1"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    names.push_str(&format!(
        "\nlayer o sigmoid {{ o1 = {} }}\ntarget o1 = 0.5\n",
        "a".repeat(100_000)
    ));
    write("long-name.nn", &names);
    let template = "{{#*inline \"r\"}}x{{> r}}{{/inline}}{{> r}}";
    write("r.hbs", template);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "dense 1000 × 1000 (5 KB)",
            vec!["solve", "dense1000.nn", "-f", "json"],
        ),
        ("dense 10⁴ × 10⁴", vec!["solve", "dense10000.nn"]),
        ("data block of 10⁶ rows", vec!["solve", "rows.nn"]),
        (
            "train --every 1 --steps 10⁷",
            vec!["train", "mazur.nn", "--steps", "10000000", "--every", "1"],
        ),
        (
            "a self-recursive partial",
            vec!["solve", "mazur.nn", "--template", "r.hbs"],
        ),
        ("/dev/zero as input", vec!["solve", "/dev/zero"]),
        (
            "10 000 calls of a 28 000-node function (120 KB)",
            vec!["solve", "calls.nn"],
        ),
        (
            "a 100 000-character unknown name, 2000 names",
            vec!["solve", "long-name.nn"],
        ),
    ];
    println!("| attack | wall | peak MiB |");
    println!("| --- | ---: | ---: |");
    for (what, args) in cases {
        let (t, mem) = measure(&dir, &args);
        let mem = mem.map_or("–".to_string(), |m| format!("{m:.0}"));
        println!("| {what} | {t:.3} s | {mem} |");
    }
}
