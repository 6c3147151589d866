//! The command line on thousands of mutated networks, and `--vary` specs of
//! any shape: every run ends with 0 or 2 (a run still going after ten seconds is killed as hung), and every refusal
//! is located (`FILE:LINE:COL`) or names the quantity.
//!
//! `FUZZ_RUNS=20000 cargo test --test integration fuzz_cli` runs longer.

use std::time::Duration;

use proptest::prelude::*;

use crate::netgen::Rng;
use crate::support::Test;

const SEEDS: &[&str] = &[
    include_str!("../../examples/mazur.nn"),
    include_str!("../../examples/xor.nn"),
    include_str!("../../examples/mazur-fixed-bias.nn"),
    include_str!("../networks/softmax.nn"),
];

const TOKENS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    "=",
    "->",
    "^",
    "-",
    "*",
    "/",
    "+",
    "1e308",
    "-1e308",
    "0",
    "1e-320",
    "#",
    "\n",
    "\r\n",
    "\t",
    "\u{feff}",
    "é",
    "가",
    "layer",
    "param",
    "data {",
    "dense x",
    "x[3]",
    "init normal(0, 1) seed 3",
    "fn f(x) = f(x)",
    "ln(0)",
    "exp(1000)",
    "sqrt(-1)",
    "step(",
    "loss ce",
    "loss bce",
    "batch sum",
    "softmax",
    "leaky_relu(0.2)",
    "target",
    "h1",
    "o1",
    "w1",
    "\"",
    "\\",
    "\0",
];

/// A random edit of `text`: delete, duplicate or replace a span, or insert tokens.
fn mutate(text: &str, r: &mut Rng) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..1 + r.below(4) {
        let n = s.len().max(1);
        let at = r.below(n);
        match r.below(4) {
            0 => {
                let end = (at + 1 + r.below(12)).min(s.len());
                s.drain(at.min(s.len())..end);
            }
            1 => {
                let end = (at + 1 + r.below(40)).min(s.len());
                let piece: Vec<char> = s[at.min(s.len())..end].to_vec();
                let to = r.below(s.len() + 1);
                s.splice(to..to, piece);
            }
            2 => {
                let tok = TOKENS[r.below(TOKENS.len())];
                let to = r.below(s.len() + 1);
                s.splice(to..to, tok.chars());
            }
            _ => {
                if at < s.len() {
                    let tok: Vec<char> = TOKENS[r.below(TOKENS.len())].chars().collect();
                    s.splice(at..at + 1, tok);
                }
            }
        }
    }
    s.into_iter().collect()
}

/// Whether stderr starts with a location or names a quantity.
fn explained(stderr: &str) -> bool {
    let first = stderr.lines().next().unwrap_or("");
    let located = first.strip_prefix("<stdin>:").is_some_and(|rest| {
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().unwrap_or("");
        let col = parts.next().unwrap_or("");
        !line.is_empty()
            && line.chars().all(|c| c.is_ascii_digit())
            && !col.is_empty()
            && col.chars().all(|c| c.is_ascii_digit())
    });
    located || first.starts_with("<stdin>: `")
}

#[test]
fn mutated_networks_end_cleanly_and_explain_themselves() {
    let runs: usize = std::env::var("FUZZ_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut r = Rng::new(2026);
    let formats = ["json", "md", "tex", "html"];
    let mut refused = 0;
    for k in 0..runs {
        let seed = SEEDS[k % SEEDS.len()];
        let src = mutate(seed, &mut r);
        let format = formats[k % formats.len()];
        // A hang guard, not a speed goal: such a run takes well under a
        // second; ten is a hang (the speed figures are in the benches).
        let run = Test::new()
            .args(["solve", "-", "-f", format])
            .stdin(&src)
            .hang_limit(Duration::from_secs(10))
            .run();
        assert!(!run.hung, "hung on:\n{src}");
        match run.status {
            0 => assert!(!run.stdout.is_empty()),
            2 => {
                refused += 1;
                assert!(
                    explained(&run.stderr),
                    "unexplained refusal of:\n{src}\n---\n{}",
                    run.stderr
                );
                assert!(run.stdout.is_empty(), "no half output");
            }
            other => panic!("exit {other} on:\n{src}\n---\n{}", run.stderr),
        }
    }
    // Mutations mostly break a file; a fuzzer that never did would test little.
    assert!(refused > runs / 3, "{refused} of {runs} refused");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(crate::support::cases(2000)))]

    /// No `--vary` spec, however malformed, makes the reader panic.
    #[test]
    fn any_vary_spec_is_read_or_refused(spec in "[wbit:*?o1-9=.{}, /-]{0,30}|\\PC{0,40}") {
        if let Ok(v) = chainrule::exam::VarySpec::parse(&spec) {
            let src = include_str!("../../examples/mazur.nn");
            let net = chainrule::parse::parse_network("mazur.nn", src).unwrap();
            let _ = chainrule::exam::vary::resolve(&net, &[v]);
        }
    }
}

#[test]
fn pathological_inputs_end_with_a_place_or_a_quantity() {
    let one = |net: &str| {
        format!(
            "input i1 = 0.5\nlayer o sigmoid {{ o1 = {net} }}\nparam w = 0.1\ntarget o1 = 0.5\n"
        )
    };
    let cases = vec![
        (
            "20 000 nested parentheses",
            one(&format!("{}w{}", "(".repeat(20_000), ")".repeat(20_000))),
        ),
        ("a 30 000-term sum", one(&vec!["w*i1"; 30_000].join(" + "))),
        (
            "a recursive function",
            format!("fn f(x) = f(x)\n{}", one("f(w*i1)")),
        ),
        ("1e308·1e308", one("1e308*1e308*w")),
        (
            "a param named like a built-in",
            one("w*i1").replace("param w = 0.1", "param w = 0.1, sigmoid = 2"),
        ),
        (
            "an unclosed string",
            "network \"never closed\ninput i1 = 1\n".to_string(),
        ),
    ];
    for (what, src) in cases {
        // A hang guard (see above), not a speed goal.
        let run = Test::new()
            .args(["solve", "-", "-f", "json"])
            .stdin(&src)
            .hang_limit(Duration::from_secs(10))
            .run();
        assert!(!run.hung, "{what} hung");
        assert_eq!(run.status, 2, "{what}: {}", run.stderr);
        assert!(explained(&run.stderr), "{what}: {}", run.stderr);
    }
}

/// The hang guard itself: a run past its limit is killed and marked.
#[test]
fn the_hang_guard_kills_a_run_past_its_limit() {
    let run = Test::new()
        .args([
            "train",
            "examples/xor.nn",
            "--steps",
            "10000000",
            "-f",
            "csv",
        ])
        .hang_limit(Duration::from_millis(200))
        .run();
    assert!(run.hung && run.status == -1, "status {}", run.status);
}
