//! Memory planning: the exact arena a [`Model`] needs, its requantizer scratch, and a per-op
//! summary (kind, lengths, parameters, multiply-accumulates) for `tinytune inspect`.
//!
//! # Arena layout
//!
//! `arena_len(batch) = 3 + 2 · align8(batch · widest) + scratch_len(batch)` bytes, where
//! `widest` is the largest activation of one sample in bytes: the f32 input (`4 · input_len`) or
//! any op's output (4 bytes per value for f32, 1 for int8). The first up-to-3 bytes are skipped
//! to reach a 4-byte aligned address (so any `&mut [u8]` works); then come the two ping-pong
//! buffers: op `i` reads one and writes the other. The scaler is applied to the copy of the
//! input in the first buffer, never to the caller's input.
//!
//! After the two buffers (so 4-byte aligned) comes the scratch region of the transformer
//! encoder blocks, [`Model::scratch_len`] bytes: the largest over the ops of
//! - f32 [`TransformerEncoder`](crate::layers::attention::TransformerEncoder):
//!   `4 · scratch_len(batch)` bytes (f32 values);
//! - int8 [`TransformerEncoderS8`](crate::layers::s8::attention::TransformerEncoderS8):
//!   `4 · words + bytes` of its `scratch_len()`, the `i32` words first, then the `i8` bytes;
//! - 0 for every other op, so a model without encoder blocks has no scratch region.
//!
//! Not in the arena:
//! - the int8 layers' requantizers, which the file stores as `(multiplier, shift)` `i32` pairs
//!   and which are rebuilt into a caller `&mut [Requantizer]` of
//!   [`Model::requant_len`] values (a byte arena cannot be viewed as `Requantizer`s without
//!   `unsafe`);
//! - the 256-byte lookup tables of int8 sigmoid/tanh/GELU, built on the stack when the layer
//!   runs (the layer object holds its table; about 264 bytes of stack; the int8 encoder block
//!   holds its GELU table the same way).

use crate::error::{Error, ShapeError};
use crate::model::check::check_op;
use crate::model::format::ALIGN;
use crate::model::{Model, Op};

/// Bytes reserved to align the arena to 4 bytes.
pub(crate) const ARENA_SLACK: usize = 3;

/// One line of a model summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OpSummary {
    /// The [`Op`] variant's name (`"Dense"`, `"Conv2dS8"`, …).
    pub kind_name: &'static str,
    /// Values per sample in.
    pub input_len: usize,
    /// Values per sample out.
    pub output_len: usize,
    /// Learned parameter values: weights, biases, normalisation parameters and statistics
    /// (not the requantizers, which are quantization metadata).
    pub params: usize,
    /// Multiply-accumulates per sample: dense `in · out`; convolutions
    /// `output_len · kernel_h · kernel_w · in_c` (1-D: `output_len · kernel · in_c`);
    /// depthwise `output_len · kernel_h · kernel_w`; transformer encoder blocks (f32 and int8)
    /// `4·s·w² + 2·s·w·f + 2·w·P` for `s, w, f` = seq, width, ff: the four attention
    /// projections, the two feed-forward layers, and `Q·Kᵀ` plus `P·V` over the `P` visible
    /// query-key pairs (`s²`, or `s·(s+1)/2` when causal; the kernels skip masked keys); 0 for
    /// other ops (additions, normalisations, pooling, softmax and GELU are not counted).
    pub macs: usize,
}

impl OpSummary {
    /// Summarises one op (lengths are 0 if the op is invalid).
    pub fn of(op: &Op<'_>) -> Self {
        let (input_len, output_len) = check_op(op).map_or((0, 0), |i| (i.input_len, i.output_len));
        let out = output_len;
        let (kind_name, params, macs) = match *op {
            Op::Dense(c, p) => (
                "Dense",
                p.len(),
                c.in_features.saturating_mul(c.out_features),
            ),
            Op::Conv1d(c, p) => ("Conv1d", p.len(), mul(&[out, c.kernel, c.in_c])),
            Op::Conv2d(c, p) => (
                "Conv2d",
                p.len(),
                mul(&[out, c.kernel_h, c.kernel_w, c.in_c]),
            ),
            Op::DepthwiseConv2d(c, p) => (
                "DepthwiseConv2d",
                p.len(),
                mul(&[out, c.kernel_h, c.kernel_w]),
            ),
            Op::BatchNorm(_, p, s) => ("BatchNorm", p.len() + s.len(), 0),
            Op::LayerNorm(_, p) => ("LayerNorm", p.len(), 0),
            Op::Embedding(_, p) => ("Embedding", p.len(), 0),
            Op::Pool1d(_) => ("Pool1d", 0, 0),
            Op::Pool2d(_) => ("Pool2d", 0, 0),
            Op::GlobalAvgPool(_) => ("GlobalAvgPool", 0, 0),
            Op::Reshape(_) => ("Reshape", 0, 0),
            Op::Activation(_) => ("Activation", 0, 0),
            Op::Quantize { .. } => ("Quantize", 0, 0),
            Op::Dequantize { .. } => ("Dequantize", 0, 0),
            Op::DenseS8(c, t) => (
                "DenseS8",
                s8_params(t),
                c.in_features.saturating_mul(c.out_features),
            ),
            Op::Conv1dS8(c, t) => ("Conv1dS8", s8_params(t), mul(&[out, c.kernel, c.in_c])),
            Op::Conv2dS8(c, t) => (
                "Conv2dS8",
                s8_params(t),
                mul(&[out, c.kernel_h, c.kernel_w, c.in_c]),
            ),
            Op::DepthwiseConv2dS8(c, t) => (
                "DepthwiseConv2dS8",
                s8_params(t),
                mul(&[out, c.kernel_h, c.kernel_w]),
            ),
            Op::Pool1dS8(_) => ("Pool1dS8", 0, 0),
            Op::Pool2dS8(_) => ("Pool2dS8", 0, 0),
            Op::GlobalAvgPoolS8(_) => ("GlobalAvgPoolS8", 0, 0),
            Op::ActivationS8(_) => ("ActivationS8", 0, 0),
            Op::SinusoidalEncoding(_) => ("SinusoidalEncoding", 0, 0),
            Op::LearnedPositionalEncoding(_, p) => ("LearnedPositionalEncoding", p.len(), 0),
            Op::TransformerEncoder(c, p) => (
                "TransformerEncoder",
                p.len(),
                encoder_macs(c.seq, c.width, c.ff, c.causal),
            ),
            Op::PositionalAddS8(_, t) => ("PositionalAddS8", t.len(), 0),
            Op::TransformerEncoderS8(c, t) => (
                "TransformerEncoderS8",
                [
                    t.weights.len(),
                    t.bias.len(),
                    t.ln_multiplier.len(),
                    t.ln_offset.len(),
                ]
                .iter()
                .fold(0usize, |a, &n| a.saturating_add(n)),
                encoder_macs(c.seq, c.width, c.ff, c.causal),
            ),
        };
        OpSummary {
            kind_name,
            input_len,
            output_len,
            params,
            macs,
        }
    }
}

fn mul(dims: &[usize]) -> usize {
    dims.iter().fold(1usize, |a, &d| a.saturating_mul(d))
}

/// Multiply-accumulates of an encoder block per sample (see [`OpSummary::macs`]), saturating.
fn encoder_macs(s: usize, w: usize, f: usize, causal: bool) -> usize {
    let pairs = if causal {
        mul(&[s, s.saturating_add(1)]) / 2
    } else {
        mul(&[s, s])
    };
    mul(&[4, s, w, w])
        .saturating_add(mul(&[2, s, w, f]))
        .saturating_add(mul(&[2, w, pairs]))
}

fn s8_params(t: crate::model::TensorsS8<'_>) -> usize {
    t.weights.len() + t.bias.map_or(0, <[i32]>::len)
}

impl Model<'_> {
    /// Bytes of arena [`run`](Self::run) needs for `batch` samples (layout in the
    /// [module docs](self)).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the size overflows.
    pub fn arena_len(&self, batch: usize) -> Result<usize, Error> {
        let scratch = self.scratch_len(batch)?;
        self.buffer_len(batch)?
            .checked_mul(2)
            .and_then(|b| b.checked_add(ARENA_SLACK))
            .and_then(|b| b.checked_add(scratch))
            .ok_or(ShapeError::Dimension.into())
    }

    /// Bytes of each of the two activation buffers of the arena, `align8(batch · widest)`.
    pub(crate) fn buffer_len(&self, batch: usize) -> Result<usize, Error> {
        if batch == 0 {
            return Err(ShapeError::Dimension.into());
        }
        batch
            .checked_mul(self.chain().widest)
            .and_then(|n| n.checked_add(ALIGN - 1))
            .map(|n| n & !(ALIGN - 1))
            .ok_or(ShapeError::Dimension.into())
    }

    /// Bytes of the arena's scratch region for `batch` samples (part of
    /// [`arena_len`](Self::arena_len)): the most any transformer encoder block needs (layout
    /// in the [module docs](self)); 0 for a model without one.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the size overflows.
    pub fn scratch_len(&self, batch: usize) -> Result<usize, Error> {
        if batch == 0 {
            return Err(ShapeError::Dimension.into());
        }
        // The int8 blocks' scratch is fixed (checked in), the f32 blocks' grows with the batch.
        #[cfg_attr(
            not(all(feature = "ops-attention", feature = "ops-f32")),
            allow(unused_mut)
        )]
        let mut need = self.chain().scratch;
        #[cfg(all(feature = "ops-attention", feature = "ops-f32"))]
        if self.chain().f32_encoder {
            for op in self.ops() {
                if let Op::TransformerEncoder(c, p) = op {
                    let values = c.init(p)?.scratch_len(batch);
                    need = need.max(values.checked_mul(4).ok_or(ShapeError::Dimension)?);
                }
            }
        }
        Ok(need)
    }

    /// Requantizers [`run`](Self::run) needs as scratch: the most any int8 layer borrows
    /// (0 for an f32-only model).
    pub fn requant_len(&self) -> usize {
        self.chain().requant
    }

    /// One [`OpSummary`] per op, in order.
    pub fn summary(&self) -> impl Iterator<Item = OpSummary> + '_ {
        self.ops().map(|op| OpSummary::of(&op))
    }

    /// Total multiply-accumulates per sample.
    pub fn macs(&self) -> usize {
        self.summary().fold(0usize, |a, s| a.saturating_add(s.macs))
    }
}
