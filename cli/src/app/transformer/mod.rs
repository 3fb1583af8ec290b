//! A tiny transformer classifier over the features read as a sequence, trained on the host in
//! f32, exported as an [`OwnedModel`](crate::model::OwnedModel) and quantized to int8:
//! `tinytune train --model transformer` ([`train`]) and `tinytune distill --student
//! transformer` ([`distill`]).
//!
//! # The model ([`Spec`])
//! Each sample of `seq · features` values is a sequence of `seq` positions of `features`
//! consecutive values (the 8×8 digits: 8 rows of 8 pixels). The model: a per-position dense
//! `features → width` (one dense layer over `batch · seq` rows), plus the sinusoidal
//! positional encoding, `blocks` pre-LN transformer encoder blocks, mean pooling over the
//! positions, a dense `width → classes` head, softmax cross-entropy. Forward and backward chain
//! the core's layers by hand (the private `net` module).
//!
//! # Parameter layout
//! One flat vector: the embedding (weights `[width, features]` then bias), each block in the
//! core's `TransformerEncoderConfig` layout, the head (weights `[classes, width]` then bias).
//! One optimizer step updates all of it.
//!
//! # Deployed form ([`Spec::to_model`])
//! `Conv1d` (kernel 1: the embedding of every position), `SinusoidalEncoding`, one
//! `TransformerEncoder` per block, `GlobalAvgPool` over the positions, `Dense`.
//!
//! # Measured
//! On the digits (fixed 60/20/20 split of the host tests, 30 epochs, batch 32, Adam 0.002,
//! seed 1), width 16, 2 heads, ff 32, 1 block (2,538 parameters): 94.72 % test accuracy.

pub mod arch;
pub mod distill;
pub mod fit;
mod net;
pub mod report;
pub mod spec;
pub mod train;

pub use fit::{evaluate, fit, fit_run, RunConfig, RunTrained, Teacher, Train, Trained};
pub use spec::{accuracy_of, Spec};
