//! Deployable models: [`Op`], the operations a model holds; the `.ttm` file that stores them
//! ([`write()`], [`Model::from_bytes`]); arena planning ([`Model::arena_len`]) and inference
//! ([`Model::run`]); fine-tuned parameters kept in NOR flash across power loss ([`persist`]).
//!
//! The byte-level format is specified in `docs/ttm-format.md`. A device typically does:
//!
//! ```ignore
//! use tinytune::model::Model;
//! use tinytune::num::quant::Requantizer;
//! let model = Model::from_bytes(tinytune::include_model!("../model.ttm"))?;
//! let mut arena = [0u8; 4096];              // >= model.arena_len(1)
//! let mut requant = [Requantizer::ZERO; 64]; // >= model.requant_len()
//! let class = model.predict(&features, &mut arena, &mut requant)?;
//! ```
//!
//! Nothing here allocates or panics; the parser validates every byte it uses, the runner every
//! buffer length.

mod check;
mod check_encoder;
pub mod format;
mod op;
pub mod persist;
pub mod plan;
mod run;

pub use crate::error::{DType, FormatError};
pub use format::{crc32, crc32_update, encoded_len, write, Aligned, ClassNames, Meta, Model};
pub use op::{EncoderTensorsS8, Op, TensorsS8};
pub use plan::OpSummary;
