//! No input may make the program panic or hang (SPEC §1 "Errors").
//!
//! Arbitrary text, token soup and mutations of `examples/mazur.nn` go
//! through `parse_network`, and whatever parses through `derive` and the
//! JSON output; each call must return. Then pathological inputs one by
//! one: they are refused with a located error, or solved, quickly.
//!
//! These run on the test harness's threads (2 MiB of stack): the limits of
//! `chainrule::parse` keep every tree shallow enough for that.

use std::time::{Duration, Instant};

use chainrule::derivation::{derive, Options};
use chainrule::parse::{parse_formula, parse_network};
use chainrule::solution::Solution;
use proptest::prelude::*;

use crate::support::Test;

const MAZUR: &str = include_str!("../../examples/mazur.nn");

/// Runs the whole pipeline on `src`; `Ok` with whether it solved, or the
/// rendered messages. Panics are the failure this file looks for.
fn solve(src: &str) -> Result<String, String> {
    let net = parse_network("fuzz.nn", src).map_err(|d| d.to_string())?;
    let sol =
        Solution::new(&net, Options::default(), Default::default()).map_err(|e| e.to_string())?;
    // The hand-rounded derivation takes other paths through the numbers.
    let _ = derive(&net, Options::default().with_hand_rounding(3));
    Ok(chainrule::render::json::render(&sol))
}

/// `solve`, which must end: a hang guard, not a speed goal (a loaded
/// machine is slow; the speed figures are in the benches).
fn solve_in_time(src: &str) -> Result<String, String> {
    let start = Instant::now();
    let r = solve(src);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "took {took:?} on {} bytes",
        src.len()
    );
    r
}

/// Pieces of the language and of what goes wrong with it.
const TOKENS: &[&str] = &[
    "network",
    "input",
    "param",
    "const",
    "fn",
    "layer",
    "target",
    "loss",
    "rate",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softmax",
    "softplus",
    "identity",
    "exp",
    "ln",
    "sqrt",
    "step",
    "mse",
    "ce",
    "bce",
    "E",
    "out",
    "target",
    "i1",
    "w1",
    "b1",
    "h1",
    "o1",
    "x",
    "f",
    "(",
    ")",
    "{",
    "}",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "·",
    "#",
    "\"",
    "\n",
    "0",
    "0.5",
    "-1",
    "1e308",
    "1e400",
    "1e-320",
    ".5",
    "5.",
    "NaN",
    "inf",
    "\t",
    "\u{FEFF}",
    "가",
    "é",
    "\r\n",
    "\\",
];

fn token_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(TOKENS), 0..60).prop_map(|ts| ts.join(" "))
}

/// One edit of a text.
#[derive(Debug, Clone)]
enum Edit {
    DeleteChar(usize),
    Insert(usize, &'static str),
    DuplicateChar(usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteChar),
        (any::<usize>(), proptest::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Insert(i, t)),
        any::<usize>().prop_map(Edit::DuplicateChar),
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

/// The byte offset of the `i`-th character boundary (modulo their number).
fn boundary(s: &str, i: usize) -> usize {
    let bounds: Vec<usize> = s
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(s.len()))
        .collect();
    bounds[i % bounds.len()]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_string();
    for e in edits {
        match *e {
            Edit::DeleteChar(i) if !s.is_empty() => {
                let at = boundary(&s, i % s.chars().count());
                s.remove(at);
            }
            Edit::Insert(i, t) => {
                let at = boundary(&s, i);
                s.insert_str(at, t);
            }
            Edit::DuplicateChar(i) if !s.is_empty() => {
                let at = boundary(&s, i % s.chars().count());
                let c = s[at..].chars().next().unwrap();
                s.insert(at, c);
            }
            Edit::DeleteLine(i) | Edit::DuplicateLine(i) | Edit::SwapLines(i, _) => {
                let mut lines: Vec<&str> = s.split('\n').collect();
                let n = lines.len();
                match *e {
                    Edit::DeleteLine(_) => {
                        lines.remove(i % n);
                    }
                    Edit::DuplicateLine(_) => lines.insert(i % n, lines[i % n]),
                    Edit::SwapLines(_, j) => lines.swap(i % n, j % n),
                    _ => {}
                }
                s = lines.join("\n");
            }
            _ => {}
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: crate::support::cases(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        let _ = solve_in_time(&src);
    }

    #[test]
    fn printable_text_never_panics(src in "[ -~\n\t]{0,300}") {
        let _ = solve_in_time(&src);
    }

    #[test]
    fn token_soup_never_panics(src in token_soup()) {
        let _ = solve_in_time(&src);
    }

    #[test]
    fn token_soup_after_a_network_never_panics(tail in token_soup()) {
        // Past the first statements, so that later rules are reached.
        let _ = solve_in_time(&format!("{MAZUR}\n{tail}"));
    }

    #[test]
    fn edited_example_never_panics(edits in proptest::collection::vec(edit(), 1..8)) {
        let _ = solve_in_time(&apply(MAZUR, &edits));
    }

    #[test]
    fn formulas_never_panic(src in token_soup()) {
        let net = parse_network("mazur.nn", MAZUR).unwrap();
        let _ = parse_formula(&net, &src);
    }
}

/// Asserts that `src` is refused and that the first message says `what`.
fn refused(src: &str, what: &str) -> String {
    let err = solve_in_time(src).expect_err("refused");
    let first = err.lines().next().unwrap_or("");
    assert!(first.contains(what), "expected `{what}` in:\n{err}");
    err
}

fn one_output(net_input: &str) -> String {
    format!(
        "input i1 = 0.5\nparam w = 0.1\nlayer o sigmoid {{ o1 = {net_input} }}\ntarget o1 = 1\n"
    )
}

#[test]
fn twenty_thousand_nested_parentheses() {
    let src = one_output(&format!("{}i1{}", "(".repeat(20_000), ")".repeat(20_000)));
    let err = refused(&src, "parentheses nested more than 256 deep");
    // The message shows a window of the line, not 40 000 characters.
    assert!(err.lines().all(|l| l.chars().count() < 200), "{err}");
}

#[test]
fn parentheses_at_the_limit_are_fine() {
    let src = one_output(&format!("w*{}i1{}", "(".repeat(256), ")".repeat(256)));
    solve_in_time(&src).unwrap();
}

#[test]
fn thirty_thousand_terms() {
    let src = one_output(&format!("w*i1{}", " + i1".repeat(30_000)));
    refused(
        &src,
        "the expression adds up 30001 terms, more than the limit of 10000",
    );
}

#[test]
fn ten_thousand_terms_are_fine() {
    // A long sum is walked in loops, not by recursion.
    let src = one_output(&format!("w*i1{}", " + i1".repeat(9_999)));
    let json = solve_in_time(&src).unwrap();
    assert!(json.contains("\"w\": "));
}

#[test]
fn a_long_sum_that_fails_names_it() {
    let src = one_output(&format!("w*i1{} + ln(-1)", " + i1".repeat(9_000)));
    refused(&src, "`net_o1` = `w*i1 + i1 + i1");
}

#[test]
fn long_chains_of_operators() {
    for (chain, what) in [
        (
            "w*i1".to_string() + &"*i1".repeat(30_000),
            "nested 30002 levels deep",
        ),
        (
            "w".to_string() + &"^w".repeat(30_000),
            "nested 30001 levels deep",
        ),
        ("-".repeat(30_000) + "w", "nested 30001 levels deep"),
        (
            "w".to_string() + &"/i1".repeat(1_000),
            "nested 1001 levels deep",
        ),
        (
            "exp(".repeat(200) + "w" + &"*i1".repeat(100) + &")".repeat(200),
            "nested 301 levels deep",
        ),
    ] {
        refused(&one_output(&chain), what);
    }
}

#[test]
fn operator_chains_at_the_limit_are_fine() {
    // Derivatives of these grow quadratically; still quick at the limit.
    for chain in [
        "w".to_string() + &"*w".repeat(255),
        "w".to_string() + &"^i1".repeat(255),
        "sigmoid(".repeat(250) + "w*i1" + &")".repeat(250),
    ] {
        solve_in_time(&one_output(&chain)).unwrap();
    }
}

#[test]
fn a_function_calling_itself() {
    let src = format!("fn f(x) = f(x)\n{}", one_output("f(w*i1)"));
    refused(&src, "function `f` is recursive (f → f)");
}

#[test]
fn overflow_in_a_net_input() {
    refused(
        &one_output("w*i1 + 1e308*1e308"),
        "`net_o1` = `w*i1 + 1e308*1e308` is infinite (inf)",
    );
}

#[test]
fn deeply_nested_user_functions() {
    // Each function doubles the one before: 2^40 nodes once expanded.
    let mut src = String::from("fn f0(x) = x*x\n");
    for k in 1..=40 {
        src.push_str(&format!("fn f{k}(x) = f{}(f{}(x))\n", k - 1, k - 1));
    }
    src.push_str(&one_output("f40(w*i1)"));
    refused(
        &src,
        "function `f4` has 223077 nodes once the functions it calls are expanded",
    );

    // A long chain of calls, each one level deeper.
    let mut src = String::from("fn g0(x) = x + 1\n");
    for k in 1..=3_000 {
        src.push_str(&format!("fn g{k}(x) = g{}(x) + 1\n", k - 1));
    }
    src.push_str(&one_output("g3000(w*i1)"));
    refused(&src, "function `g128` is nested 258 levels deep");

    // And nested calls in the net input itself.
    let src = format!(
        "fn h(x) = x*x + 1\n{}",
        one_output(&("h(".repeat(200) + "w" + &")".repeat(200)))
    );
    refused(&src, "the net input of `o1` is nested");
}

#[test]
fn a_huge_file_is_refused_by_the_command_line() {
    // Past the size limit, before any parsing.
    let big = "#".repeat(chainrule::parse::MAX_SOURCE_BYTES + 1);
    let r = Test::new().args(["solve", "-"]).stdin(&big).status(2);
    assert!(
        r.stderr
            .contains("more than 64 MiB, the limit of an input file"),
        "{}",
        r.stderr
    );
}
