//! The integration tests: one binary, a module per feature.

mod cli;
mod support;
