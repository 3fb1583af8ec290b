//! # tinytune
//!
//! A `no_std`, allocation-free kit for running **and training** small neural networks on
//! microcontrollers (Cortex-M0+/M4F/M7, RV32).
//!
//! The crate is built in layers, each using only the ones below it:
//!
//! - [`num`]: fixed-point arithmetic (Q7/Q15/Q31), int8 affine quantization with a TFLite-exact
//!   requantizer, and the f32 math functions (`libm`, or short polynomials with the `fast-math` feature).
//! - [`kernels`]: pure functions over caller-owned slices, CMSIS-NN style: dense, batched matmul,
//!   convolutions, pooling, elementwise and activation kernels, in f32 and int8, and the f32
//!   backward kernels (`kernels::generic::grad`).
//! - [`layers`]: layers configured once (`Config { … }.init(params)`), borrowing their parameters
//!   from flash (frozen) or RAM (trainable); f32 forward and backward, int8 inference
//!   ([`layers::s8`]), and [`layers::Sequential`], a model over caller-owned buffers with
//!   mini-batch training.
//! - [`train`]: weight initialisation, losses, optimizer steps, early stopping, distillation,
//!   and [`train::finetune`], thresholded fine-tuning of a deployed model on the device.
//! - [`data`] and [`ensemble`]: preprocessing, augmentation, sampling; combining classifiers.
//! - [`model`]: the `.ttm` model file read in place from flash, inference ([`model::Model::run`]),
//!   and [`model::persist`], fine-tuned parameters kept in NOR flash across power loss.
//! - [`word2vec`]: word vectors by skip-gram with negative sampling (or hierarchical softmax),
//!   trained on the host or on the device, and similarity queries on them.
//! - [`rng`]: the seeded generator and the distributions; randomness is always injected.
//!
//! Every buffer belongs to the caller. Kernels check the lengths of the slices they are given once,
//! on entry, and return a [`ShapeError`] instead of panicking; the loops behind that check do no
//! further bounds work the compiler cannot remove.
//!
//! # Features
//!
//! - `defmt`: derives `defmt::Format` on public types and turns the internal logging shim on.
//! - `fast-math`: `num::math` computes exp, ln and sqrt with short range-reduced polynomials
//!   instead of libm (errors stated per function; micromath's approximations measured too coarse).
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]

#[macro_use]
mod fmt;

pub mod data;
pub mod ensemble;
pub mod error;
pub mod kernels;
pub mod layers;
pub mod model;
pub mod num;
pub mod rng;
pub mod train;
pub mod word2vec;

pub use error::{Buffer, Error, QuantError, ShapeError};
