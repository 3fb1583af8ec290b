//! Deployable models: [`Op`], the operations a model file holds.
//!
//! (The `.ttm` format, arena planning and inference are being added.)

mod op;

pub use op::{Op, TensorsS8};
