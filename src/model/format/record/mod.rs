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
    pub const DENSE_S8: u32 = 32;
    pub const CONV1D_S8: u32 = 33;
    pub const CONV2D_S8: u32 = 34;
    pub const DEPTHWISE_CONV2D_S8: u32 = 35;
    pub const POOL1D_S8: u32 = 36;
    pub const POOL2D_S8: u32 = 37;
    pub const GLOBAL_AVG_POOL_S8: u32 = 38;
    pub const ACTIVATION_S8: u32 = 39;
}

/// A tensor of an op as the writer stores it: its bytes and its element count.
#[derive(Clone, Copy)]
pub(crate) struct TensorBytes<'a> {
    pub bytes: &'a [u8],
    pub count: usize,
}

fn tf32(t: &[f32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes {
        bytes: bytemuck::cast_slice(t),
        count: t.len(),
    })
}

fn ti32(t: &[i32]) -> Option<TensorBytes<'_>> {
    Some(TensorBytes {
        bytes: bytemuck::cast_slice(t),
        count: t.len(),
    })
}

fn ts8(t: TensorsS8<'_>) -> [Option<TensorBytes<'_>>; TENSORS] {
    [
        Some(TensorBytes {
            bytes: bytemuck::cast_slice(t.weights),
            count: t.weights.len(),
        }),
        t.bias.and_then(ti32),
        ti32(t.requant),
    ]
}

/// The tensors of `op` in reference order (unused slots `None`).
pub(crate) fn tensors<'a>(op: &Op<'a>) -> [Option<TensorBytes<'a>>; TENSORS] {
    match *op {
        Op::Dense(_, p)
        | Op::Conv1d(_, p)
        | Op::Conv2d(_, p)
        | Op::DepthwiseConv2d(_, p)
        | Op::LayerNorm(_, p)
        | Op::Embedding(_, p) => [tf32(p), None, None],
        Op::BatchNorm(_, p, s) => [tf32(p), tf32(s), None],
        Op::DenseS8(_, t)
        | Op::Conv1dS8(_, t)
        | Op::Conv2dS8(_, t)
        | Op::DepthwiseConv2dS8(_, t) => ts8(t),
        _ => [None, None, None],
    }
}

mod decode;
mod encode;

pub(crate) use decode::Reader;
pub(crate) use encode::encode;
