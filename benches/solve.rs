//! Benchmarks (see the README).
fn main() {}
