//! Output formats. Each reads the [`crate::solution::Solution`]; none
//! computes anything of its own.

pub mod html;
pub mod json;
pub mod latex;
pub mod page;
pub mod plot;
pub mod svg;
pub mod templates;
