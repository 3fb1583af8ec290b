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
//!
//! Which op kinds [`Model`] reads and runs is chosen by the crate's `ops-*` cargo features
//! (all on by default): quantize, dequantize, reshape and int8 dense (with its fused
//! ReLU/ReLU6) are always in; `ops-f32` adds the f32 kinds, `ops-activation` the standalone
//! ReLU family, `ops-exp-activations` sigmoid, tanh, GELU and softmax, `ops-conv`, `ops-pool`,
//! `ops-norm`, `ops-embedding` and `ops-attention` their families. A firmware links the layers
//! and kernels of the kinds it enables only; a file with another kind fails
//! [`Model::from_bytes`] with [`FormatError::Unsupported`], which names the feature (never a
//! panic). The layers themselves are always available.

mod check;
#[cfg(feature = "ops-attention")]
mod check_encoder;
pub mod format;
mod op;
pub mod persist;
pub mod plan;
// The ReLU family without the activation layers: for a build that links no activation
// layer (without `ops-exp-activations`); compiled for the tests in every build, which compare
// it with the layers.
#[cfg(any(
    test,
    all(feature = "ops-activation", not(feature = "ops-exp-activations"))
))]
mod relu;
mod run;
mod support;

pub use crate::error::{DType, FormatError, OpFeature};
pub use format::{crc32, crc32_update, encoded_len, write, Aligned, ClassNames, Meta, Model};
pub use op::{EncoderTensorsS8, Op, TensorsS8};
pub use plan::OpSummary;
