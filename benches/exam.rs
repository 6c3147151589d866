//! Exam benchmark: 1000 variants of the example network with every file
//! (question sheets, answer keys with full worked solutions in Markdown and
//! LaTeX, CSV, Moodle XML, variant files); prints the time and the size.
//!
//! `cargo bench --bench exam`

use std::time::Instant;

use chainrule::exam::{self, VarySpec};
use chainrule::parse::parse_network;

fn main() -> anyhow::Result<()> {
    let src = include_str!("../examples/mazur.nn");
    let net = parse_network("mazur.nn", src).map_err(|d| anyhow::anyhow!("{d}"))?;
    // `cargo test --all-targets` runs this unoptimised, as a smoke test.
    let sizes: &[usize] = if cfg!(debug_assertions) {
        &[30]
    } else {
        &[30, 1000]
    };
    for &variants in sizes {
        let opts = exam::Options {
            variants,
            seed: 1,
            vary: vec![
                VarySpec::parse("w*=0.05..0.95/0.05")?,
                VarySpec::parse("b*=0.1..0.9/0.1")?,
            ],
            ask: None,
            precision: chainrule::exam::Precision::Sig(4),
            lang: "en".to_string(),
        };
        let start = Instant::now();
        let made = exam::generate("mazur.nn", src, &net, &opts, &mut |_, _| {})?;
        let took = start.elapsed();
        let bytes: usize = made.files.iter().map(|(_, t)| t.len()).sum();
        println!(
            "{variants:>5} variants: {:8.1} ms ({:.2} ms a variant), {} files, {:.1} MB",
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() * 1e3 / variants as f64,
            made.files.len(),
            bytes as f64 / 1e6
        );
    }
    Ok(())
}
