//! Scale benchmark: `solve` on networks from the classic 2-2-2 to a dense
//! 100-100-100-10 (about 21k params) and a 30-layer narrow one, in JSON and
//! in Markdown with every derivation; the time per param shows that the
//! cost is linear. Then the same derivation as a computer algebra system
//! does it (SymPy's `diff` of E_total by every param, when python3 with
//! sympy is installed), timed in the same run.
//!
//! `cargo bench --bench scale` (release build of the real binary; wall time
//! is the median of three runs, peak memory from GNU time when present).

#[path = "common/process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A dense sigmoid network with explicit values: `widths[0]` inputs, then
/// the layers. Weight k (counted over the whole network) is
/// `((7k) mod 19)/40 − 0.2`, biases 0.1, inputs 0.1·i, targets 0.5.
fn dense(widths: &[usize]) -> String {
    let mut s = String::from("network \"bench\"\n");
    let xs: Vec<String> = (1..=widths[0])
        .map(|i| format!("{}", 0.1 * i as f64))
        .collect();
    s += &format!("input x[{}] = [{}]\n", widths[0], xs.join(", "));
    let mut prev = "x".to_string();
    let mut prev_names: Vec<String> = (1..=widths[0]).map(|i| format!("x{i}")).collect();
    let mut k = 0usize;
    let mut params = Vec::new();
    let last = widths.len() - 1;
    for (l, &w) in widths.iter().enumerate().skip(1) {
        let name = if l == last {
            "y".to_string()
        } else {
            format!("h{l}_")
        };
        s += &format!("layer {name}[{w}] sigmoid dense {prev}\n");
        let mut names = Vec::new();
        for j in 1..=w {
            let neuron = format!("{name}{j}");
            for src in &prev_names {
                k += 1;
                let v = ((k * 7) % 19) as f64 / 40.0 - 0.2;
                params.push(format!("w_{neuron}_{src} = {v}"));
            }
            params.push(format!("b_{neuron} = 0.1"));
            names.push(neuron);
        }
        prev = name;
        prev_names = names;
    }
    for chunk in params.chunks(50) {
        s += &format!("param {}\n", chunk.join(", "));
    }
    let t: Vec<&str> = vec!["0.5"; widths[last]];
    s += &format!("target y = [{}]\n", t.join(", "));
    s
}

/// Mean µs per param of the whole pipeline on `src`, over `reps` runs.
fn in_process(src: &str, reps: usize) -> f64 {
    use chainrule::render::page::{self, Markup, PageOptions};
    use chainrule::render::templates;
    let start = Instant::now();
    let mut params = 0;
    for _ in 0..reps {
        let net = chainrule::parse::parse_network("bench", src).expect("parses");
        params = net.params.len();
        let sol = chainrule::solution::Solution::new(&net, Default::default(), Default::default())
            .expect("solves");
        let json = chainrule::render::json::render(&sol);
        let opts = PageOptions {
            decimals: 9,
            full: true,
            ..Default::default()
        };
        let mut pg = page::build(
            &sol,
            &opts,
            Markup::Markdown,
            "en",
            templates::strings("en").expect("en"),
        );
        let hb = templates::registry(Markup::Markdown, None, 9).expect("registry");
        let md = templates::render(&hb, &mut pg, "solution.md.hbs").expect("renders");
        assert!(!json.is_empty() && !md.is_empty());
    }
    start.elapsed().as_secs_f64() * 1e6 / (reps * params) as f64
}

fn params_of(widths: &[usize]) -> usize {
    widths.windows(2).map(|w| (w[0] + 1) * w[1]).sum()
}

/// Median wall seconds of three runs, and peak resident memory in MiB.
fn measure(args: &[&str]) -> (f64, Option<f64>) {
    process::measure(Path::new("."), args, &|c| c == Some(0))
}

fn main() {
    let dir = std::env::temp_dir().join("chainrule-bench-scale");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let mazur = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/mazur.nn");
    let mut cases: Vec<(String, PathBuf, usize)> = vec![("mazur 2-2-2".into(), mazur, 10)];
    for widths in [
        vec![25, 25, 25, 5],
        vec![50, 50, 50, 10],
        vec![100, 100, 100, 10],
    ] {
        let name = widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-");
        let p = write(&format!("{name}.nn"), &dense(&widths));
        cases.push((format!("dense {name}"), p, params_of(&widths)));
    }
    let deep: Vec<usize> = vec![2; 31];
    let p = write("deep.nn", &dense(&deep));
    cases.push(("deep 30×2".into(), p, params_of(&deep)));

    let out = dir.join("out");
    let out = out.to_str().expect("utf-8 path");
    println!(
        "{:<22} {:>7} {:>10} {:>9} {:>10} {:>9} {:>10} {:>9}",
        "network", "params", "json s", "µs/param", "md --full", "µs/param", "json MiB", "md MiB"
    );
    for (name, path, params) in &cases {
        let p = path.to_str().expect("utf-8 path");
        let (tj, mj) = measure(&["solve", p, "-f", "json", "-o", out]);
        let (tm, mm) = measure(&["solve", p, "-f", "md", "--full", "-o", out]);
        let mib = |m: Option<f64>| m.map_or("-".to_string(), |m| format!("{m:.0}"));
        println!(
            "{:<22} {:>7} {:>10.3} {:>9.1} {:>10.3} {:>9.1} {:>10} {:>9}",
            name,
            params,
            tj,
            tj * 1e6 / *params as f64,
            tm,
            tm * 1e6 / *params as f64,
            mib(mj),
            mib(mm)
        );
    }

    // Depth costs nothing extra: a 30-layer narrow network and a shallow one
    // of about the same size, in process (parse, derive, JSON, Markdown).
    println!();
    for (name, widths) in [
        ("deep 2×30 layers", vec![2; 31]),
        ("shallow 2-44-2", vec![2, 44, 2]),
    ] {
        let src = dense(&widths);
        let per = in_process(&src, 200);
        println!(
            "{name:<18} {:>4} params: {:>6.2} µs/param (parse + derive + json + md)",
            params_of(&widths),
            per
        );
    }

    // exam with 1000 variants and keys; check with 1000 claims.
    println!();
    let ex = dir.join("exam");
    let mazur = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/mazur.nn");
    let m = mazur.to_str().expect("utf-8 path");
    let (t, mem) = measure(&[
        "exam",
        m,
        "--variants",
        "1000",
        "--seed",
        "1",
        "--vary",
        "w*=0.05..0.95/0.05",
        "--vary",
        "b*=0.1..0.9/0.1",
        "-o",
        ex.to_str().expect("utf-8"),
        "--force",
    ]);
    println!(
        "exam 1000 variants with keys: {t:.3} s, {} MiB",
        mem.map_or("-".into(), |m| format!("{m:.0}"))
    );
    let claims = [
        "net_h1 = 0.3775",
        "out_h1 = 0.5933",
        "E_total = 0.2984",
        "dE_total/dw5 = 0.0822",
        "dout_o1/dnet_o1 = 0.1868",
        "w5+ = 0.3589",
        "dE_total/dw1 = 0.00044",
        "w1+ = 0.1498",
        "dE_total/dw5 = (out_o1 - target_o1)*out_o1*(1 - out_o1)*out_h1",
        "E_total+ = 0.2858",
    ];
    let answers: Vec<&str> = claims.iter().cycle().take(1000).copied().collect();
    let a = write("answers.txt", &(answers.join("\n") + "\n"));
    let bin = env!("CARGO_BIN_EXE_chainrule");
    let t0 = Instant::now();
    let checked = Command::new(bin)
        .args(["check", m, a.to_str().expect("utf-8"), "-f", "json"])
        .output()
        .expect("runs");
    println!(
        "check 1000 claims: {:.3} s (exit {})",
        t0.elapsed().as_secs_f64(),
        checked.status.code().unwrap_or(-1)
    );

    // The computer algebra comparison on the same networks, both timed in
    // process (no process start-up on either side).
    println!();
    for widths in [vec![2, 2, 2], vec![4, 4, 4]] {
        let name = widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-");
        let src = dense(&widths);
        // The same work: every chain-rule factor derived symbolically and
        // evaluated, every gradient, from the parsed network (as SymPy
        // starts from the expressions it built).
        let reps = 2000;
        let net = chainrule::parse::parse_network("cas", &src).expect("parses");
        let start = Instant::now();
        for _ in 0..reps {
            let sol =
                chainrule::solution::Solution::new(&net, Default::default(), Default::default())
                    .expect("solves");
            assert!(sol.derivation.params[0].value.is_finite());
        }
        let ours = start.elapsed().as_secs_f64() / reps as f64;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/cas/sympy_gradients.py");
        let args: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
        for mode in ["full", "factors"] {
            let cas = Command::new("python3")
                .arg(&script)
                .args(&args)
                .arg(mode)
                .output();
            match cas {
                Ok(o) if o.status.success() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    let secs: f64 = text
                        .split_whitespace()
                        .next()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(f64::NAN);
                    let what = if mode == "full" {
                        "diff of E_total by every param"
                    } else {
                        "diff of each chain-rule factor"
                    };
                    println!(
                        "{name}: chainrule derivation {:.1} µs; SymPy {what} {:.3} s: {:.0}× faster",
                        ours * 1e6,
                        secs,
                        secs / ours
                    );
                }
                _ => {
                    println!("{name}: SymPy comparison skipped (python3 with sympy not installed)")
                }
            }
        }
    }
}
