//! The integration tests: one binary, a module per feature.

// Test helpers are `pub` for the sibling modules of this one binary.
#![allow(unreachable_pub)]

mod attacks;
mod check;
mod cli;
mod drawing;
mod errors;
mod exam;
mod exercise;
mod expressions;
mod extremes;
mod fuzz_cli;
mod gradients;
mod html;
mod l2;
mod netgen;
mod optimizers;
mod pages;
mod robustness;
mod rules;
mod support;
mod train;
