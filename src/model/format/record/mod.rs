//! One layer record of the table: the kind tag, 16 configuration words and 3 tensor
//! references (see `docs/ttm-format.md`, "Layer records", for every kind's word layout).
//!
//! [`encode`] (in `encode.rs`) and [`Reader::decode`] (in `decode.rs`) follow the same word
//! order, kind by kind; the round-trip test over every kind keeps them in step.

use crate::model::{Op, TensorsS8};

/// Number of configuration words in a record.
pub(crate) const WORDS: usize = 16;
/// Number of tensor references in a record.
pub(crate) const TENSORS: usize = 3;
/// Byte offset of the first tensor reference in a record.
pub(crate) const TENSOR_REFS: usize = 4 + 4 * WORDS;

/// Kind tags of the layer records.
pub(crate) mod tag {
    pub const DENSE: u32 = 1;
    pub const CONV1D: u32 = 2;
    pub const CONV2D: u32 = 3;
    pub const DEPTHWISE_CONV2D: u32 = 4;
    pub const BATCH_NORM: u32 = 5;
    pub const LAYER_NORM: u32 = 6;
    pub const EMBEDDING: u32 = 7;
    pub const POOL1D: u32 = 8;
    pub const POOL2D: u32 = 9;
    pub const GLOBAL_AVG_POOL: u32 = 10;
    pub const RESHAPE: u32 = 11;
    pub const ACTIVATION: u32 = 12;
    pub const QUANTIZE: u32 = 13;
    pub const DEQUANTIZE: u32 = 14;
    pub const SINUSOIDAL_ENCODING: u32 = 15;
    pub const LEARNED_POSITIONAL_ENCODING: u32 = 16;
    pub const TRANSFORMER_ENCODER: u32 = 17;
    pub const DENSE_S8: u32 = 32;
    pub const CONV1D_S8: u32 = 33;
    pub const CONV2D_S8: u32 = 34;
    pub const DEPTHWISE_CONV2D_S8: u32 = 35;
    pub const POOL1D_S8: u32 = 36;
    pub const POOL2D_S8: u32 = 37;
    pub const GLOBAL_AVG_POOL_S8: u32 = 38;
    pub const ACTIVATION_S8: u32 = 39;
    pub const POSITIONAL_ADD_S8: u32 = 40;
    pub const TRANSFORMER_ENCODER_S8: u32 = 41;
}

/// The minor format version that introduced kind tag `tag` (the writer stores the highest
/// among a file's ops, so a file of 1.0 kinds stays a 1.0 file).
pub(crate) fn minor_of(tag: u32) -> u16 {
    match tag {
        tag::SINUSOIDAL_ENCODING
        | tag::LEARNED_POSITIONAL_ENCODING
        | tag::TRANSFORMER_ENCODER
        | tag::POSITIONAL_ADD_S8
        | tag::TRANSFORMER_ENCODER_S8 => 1,
        _ => 0,
    }
}

/// A tensor of an op as the writer stores it: `head_len` words derived from the configuration
/// (only the int8 encoder's quantization), then the bytes of each part, in order; and its
/// element count.
#[derive(Clone, Copy)]
pub(crate) struct TensorBytes<'a> {
    head: [u32; QUANT_WORDS],
    head_len: usize,
    parts: [&'a [u8]; 3],
    pub count: usize,
}

impl<'a> TensorBytes<'a> {
    fn of(bytes: &'a [u8], count: usize) -> Self {
        TensorBytes {
            head: [0; QUANT_WORDS],
            head_len: 0,
            parts: [bytes, &[], &[]],
            count,
        }
    }

    /// Bytes the tensor takes in the file (saturating; the writer rejects sizes beyond `u32`).
    pub fn byte_len(&self) -> usize {
        self.parts
            .iter()
            .fold(4 * self.head_len, |a, p| a.saturating_add(p.len()))
    }

    /// Copies the tensor into `out` (which should be [`byte_len`](Self::byte_len) long; a
    /// shorter `out` gets a prefix).
    pub fn write_to(&self, out: &mut [u8]) {
        let head = self
            .head
            .iter()
            .take(self.head_len)
            .map(|w| w.to_le_bytes());
        let mut dst = out.iter_mut();
        for src in head
            .flatten()
            .chain(self.parts.iter().flat_map(|p| p.iter().copied()))
        {
            if let Some(d) = dst.next() {
                *d = src;
            }
        }
    }
}

fn tf32(t: &[f32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes::of(bytemuck::cast_slice(t), t.len()))
}

fn ti32(t: &[i32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes::of(bytemuck::cast_slice(t), t.len()))
}

fn ti8(t: &[i8]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes::of(bytemuck::cast_slice(t), t.len()))
}

fn ts8(t: TensorsS8<'_>) -> [Option<TensorBytes<'_>>; TENSORS] {
    [ti8(t.weights), t.bias.and_then(ti32), ti32(t.requant)]
}

/// The tensors of `op` in reference order (unused slots `None`).
pub(crate) fn tensors<'a>(op: &Op<'a>) -> [Option<TensorBytes<'a>>; TENSORS] {
    match *op {
        Op::Dense(_, p)
        | Op::Conv1d(_, p)
        | Op::Conv2d(_, p)
        | Op::DepthwiseConv2d(_, p)
        | Op::LayerNorm(_, p)
        | Op::Embedding(_, p)
        | Op::LearnedPositionalEncoding(_, p)
        | Op::TransformerEncoder(_, p) => [tf32(p), None, None],
        Op::BatchNorm(_, p, s) => [tf32(p), tf32(s), None],
        Op::DenseS8(_, t)
        | Op::Conv1dS8(_, t)
        | Op::Conv2dS8(_, t)
        | Op::DepthwiseConv2dS8(_, t) => ts8(t),
        Op::PositionalAddS8(_, t) => [ti8(t), None, None],
        Op::TransformerEncoderS8(c, t) => {
            let count = [t.bias.len(), t.requant.len(), t.ln_multiplier.len()]
                .iter()
                .fold(QUANT_WORDS, |a, &n| a.saturating_add(n));
            let block = TensorBytes {
                head: quant_words(&c.quant),
                head_len: QUANT_WORDS,
                parts: [
                    bytemuck::cast_slice(t.bias),
                    bytemuck::cast_slice(t.requant),
                    bytemuck::cast_slice(t.ln_multiplier),
                ],
                count,
            };
            let ln_offset = TensorBytes::of(bytemuck::cast_slice(t.ln_offset), t.ln_offset.len());
            [ti8(t.weights), Some(block), Some(ln_offset)]
        }
        _ => [None, None, None],
    }
}

mod decode;
mod encode;
mod encoder_s8;

pub(crate) use decode::Reader;
pub(crate) use encode::encode;
use encoder_s8::{quant_words, QUANT_WORDS};
