//! chainrule turns a small neural network, written in the `.nn` language,
//! into the worked backpropagation solution a teacher writes by hand: the
//! forward pass, the loss, every ∂E_total/∂p expanded by the chain rule
//! factor by factor, and the gradient-descent update.
//!
//! The pipeline: text → [`parse`] → [`model`] → [`derivation`] (built on
//! [`expr`] and [`diff`], evaluated exactly) → [`solution`] (the view model
//! every output format reads). [`check`] judges a student's hand derivation
//! against the same numbers; [`exam`] draws seeded variants of a network
//! (with [`rng`]) and writes their question sheets and answer keys.

pub mod derivation;
pub mod diagnostic;
pub mod diff;
pub mod expr;
pub mod model;
pub mod notation;
pub mod parse;

pub mod check;
pub mod cli;
pub mod eval;
pub mod exam;
pub mod exercise;
pub mod number;
pub mod optimizer;
pub mod render;
pub mod rng;
pub mod solution;
pub mod steps;
pub mod train;
