//! The integration tests: one binary, a module per feature.

// Test helpers are `pub` for the sibling modules of this one binary.
#![allow(unreachable_pub)]

mod check;
mod cli;
mod exam;
mod extremes;
mod html;
mod netgen;
mod pages;
mod support;
mod train;
