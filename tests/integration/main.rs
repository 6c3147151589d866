//! The integration tests: one binary, a module per feature.

// Test helpers are `pub` for the sibling modules of this one binary.
#![allow(unreachable_pub)]

mod cli;
mod errors;
mod expressions;
mod gradients;
mod robustness;
mod support;
