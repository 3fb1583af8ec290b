//! [`Op`] → the kind tag and configuration words of its record (word layouts in
//! `docs/ttm-format.md`).

use super::{tag, WORDS};
use crate::error::FormatError;
use crate::kernels::{ActivationS8, Padding};
use crate::layers::activation::ActivationKind;
use crate::layers::pool::PoolKind;
use crate::layers::s8::{ActivationKindS8, PoolKindS8};
use crate::model::Op;
use crate::num::quant::QuantParams;

/// Builds the configuration words of a record, in order.
struct Words {
    w: [u32; WORDS],
    n: usize,
    too_large: bool,
}

impl Words {
    fn raw(mut self, v: u32) -> Self {
        if let Some(slot) = self.w.get_mut(self.n) {
            *slot = v;
        }
        self.n += 1;
        self
    }
    /// Dimensions; one beyond `u32` marks the record as too large.
    fn u(mut self, dims: &[usize]) -> Self {
        for &d in dims {
            let v = u32::try_from(d).unwrap_or_else(|_| {
                self.too_large = true;
                0
            });
            self = self.raw(v);
        }
        self
    }
    fn f(self, v: f32) -> Self {
        self.raw(v.to_bits())
    }
    fn i(self, v: i32) -> Self {
        self.raw(v as u32)
    }
    fn b(self, v: bool) -> Self {
        self.raw(u32::from(v))
    }
    fn pad(self, p: Padding) -> Self {
        self.raw(match p {
            Padding::Valid => 0,
            Padding::Same => 1,
        })
    }
    fn q(self, q: QuantParams) -> Self {
        self.f(q.scale).i(q.zero_point)
    }
    fn act(self, a: ActivationS8) -> Self {
        self.raw(u32::from(a.min as u8) | (u32::from(a.max as u8) << 8))
    }
    /// Pool kind: 0 max, 1 average.
    fn pool(self, max: bool) -> Self {
        self.raw(if max { 0 } else { 1 })
    }
}

/// The kind tag and configuration words of `op` (layer index `layer` for errors).
///
/// # Errors
/// [`FormatError::TooLarge`] if a dimension exceeds `u32::MAX`.
pub(crate) fn encode(op: &Op<'_>, layer: usize) -> Result<(u32, [u32; WORDS]), FormatError> {
    let w = Words {
        w: [0; WORDS],
        n: 0,
        too_large: false,
    };
    let (t, w) = match *op {
        Op::Dense(c, _) => (tag::DENSE, w.u(&[c.in_features, c.out_features]).b(c.bias)),
        Op::Conv1d(c, _) => (
            tag::CONV1D,
            w.u(&[c.len, c.in_c, c.out_c, c.kernel, c.stride, c.dilation])
                .pad(c.padding)
                .b(c.bias),
        ),
        Op::Conv2d(c, _) => (
            tag::CONV2D,
            w.u(&[c.in_h, c.in_w, c.in_c, c.out_c, c.kernel_h, c.kernel_w])
                .u(&[c.stride_h, c.stride_w, c.dilation_h, c.dilation_w])
                .pad(c.padding)
                .b(c.bias),
        ),
        Op::DepthwiseConv2d(c, _) => (
            tag::DEPTHWISE_CONV2D,
            w.u(&[c.in_h, c.in_w, c.in_c, c.multiplier, c.kernel_h, c.kernel_w])
                .u(&[c.stride_h, c.stride_w, c.dilation_h, c.dilation_w])
                .pad(c.padding)
                .b(c.bias),
        ),
        Op::BatchNorm(c, _, _) => (
            tag::BATCH_NORM,
            w.u(&[c.positions, c.channels]).f(c.eps).f(c.momentum),
        ),
        Op::LayerNorm(c, _) => (tag::LAYER_NORM, w.u(&[c.positions, c.dim]).f(c.eps)),
        Op::Embedding(c, _) => (tag::EMBEDDING, w.u(&[c.vocab, c.dim, c.seq_len])),
        Op::Pool1d(c) => (
            tag::POOL1D,
            w.pool(c.kind == PoolKind::Max)
                .u(&[c.len, c.channels, c.window, c.stride])
                .pad(c.padding),
        ),
        Op::Pool2d(c) => (
            tag::POOL2D,
            w.pool(c.kind == PoolKind::Max)
                .u(&[c.in_h, c.in_w, c.channels, c.window_h, c.window_w])
                .u(&[c.stride_h, c.stride_w])
                .pad(c.padding),
        ),
        Op::GlobalAvgPool(c) => (tag::GLOBAL_AVG_POOL, w.u(&[c.positions, c.channels])),
        Op::Reshape(c) => (tag::RESHAPE, w.u(&[c.len])),
        Op::Activation(c) => {
            let w = w.u(&[c.len]);
            let w = match c.kind {
                ActivationKind::Relu => w.raw(0),
                ActivationKind::Relu6 => w.raw(1),
                ActivationKind::LeakyRelu { alpha } => w.raw(2).f(alpha),
                ActivationKind::Sigmoid => w.raw(3),
                ActivationKind::Tanh => w.raw(4),
                ActivationKind::Gelu => w.raw(5),
                ActivationKind::Softmax { depth } => w.raw(6).u(&[depth]),
            };
            (tag::ACTIVATION, w)
        }
        Op::Quantize { len, params } => (tag::QUANTIZE, w.u(&[len]).q(params)),
        Op::Dequantize { len, params } => (tag::DEQUANTIZE, w.u(&[len]).q(params)),
        Op::DenseS8(c, _) => (
            tag::DENSE_S8,
            w.u(&[c.in_features, c.out_features])
                .q(c.input)
                .q(c.output)
                .act(c.act),
        ),
        Op::Conv1dS8(c, _) => (
            tag::CONV1D_S8,
            w.u(&[c.len, c.in_c, c.out_c, c.kernel, c.stride, c.dilation])
                .pad(c.padding)
                .q(c.input)
                .q(c.output)
                .act(c.act),
        ),
        Op::Conv2dS8(c, _) => (
            tag::CONV2D_S8,
            w.u(&[c.in_h, c.in_w, c.in_c, c.out_c, c.kernel_h, c.kernel_w])
                .u(&[c.stride_h, c.stride_w, c.dilation_h, c.dilation_w])
                .pad(c.padding)
                .q(c.input)
                .q(c.output)
                .act(c.act),
        ),
        Op::DepthwiseConv2dS8(c, _) => (
            tag::DEPTHWISE_CONV2D_S8,
            w.u(&[c.in_h, c.in_w, c.in_c, c.multiplier, c.kernel_h, c.kernel_w])
                .u(&[c.stride_h, c.stride_w, c.dilation_h, c.dilation_w])
                .pad(c.padding)
                .q(c.input)
                .q(c.output)
                .act(c.act),
        ),
        Op::Pool1dS8(c) => (
            tag::POOL1D_S8,
            w.pool(c.kind == PoolKindS8::Max)
                .u(&[c.len, c.channels, c.window, c.stride])
                .pad(c.padding)
                .act(c.act),
        ),
        Op::Pool2dS8(c) => (
            tag::POOL2D_S8,
            w.pool(c.kind == PoolKindS8::Max)
                .u(&[c.in_h, c.in_w, c.channels, c.window_h, c.window_w])
                .u(&[c.stride_h, c.stride_w])
                .pad(c.padding)
                .act(c.act),
        ),
        Op::GlobalAvgPoolS8(c) => (
            tag::GLOBAL_AVG_POOL_S8,
            w.u(&[c.spatial, c.channels]).act(c.act),
        ),
        Op::ActivationS8(c) => {
            let w = w.u(&[c.len]);
            let w = match c.kind {
                ActivationKindS8::Relu { quant } => w.raw(0).q(quant),
                ActivationKindS8::Relu6 { quant } => w.raw(1).q(quant),
                ActivationKindS8::LeakyRelu(p) => w
                    .raw(2)
                    .i(p.input_zero_point())
                    .i(p.output_zero_point())
                    .i(p.identity().multiplier)
                    .i(p.identity().shift)
                    .i(p.alpha().multiplier)
                    .i(p.alpha().shift),
                ActivationKindS8::Sigmoid { input } => w.raw(3).q(input),
                ActivationKindS8::Tanh { input } => w.raw(4).q(input),
                ActivationKindS8::Gelu { input, output } => w.raw(5).q(input).q(output),
                ActivationKindS8::Softmax { params, depth } => w
                    .raw(6)
                    .i(params.input_multiplier)
                    .i(params.input_left_shift)
                    .i(params.diff_min)
                    .u(&[depth]),
            };
            (tag::ACTIVATION_S8, w)
        }
        Op::SinusoidalEncoding(c) => (tag::SINUSOIDAL_ENCODING, w.u(&[c.seq, c.width])),
        Op::LearnedPositionalEncoding(c, _) => {
            (tag::LEARNED_POSITIONAL_ENCODING, w.u(&[c.seq, c.width]))
        }
        // Dropout only acts in training: not stored.
        Op::TransformerEncoder(c, _) => (
            tag::TRANSFORMER_ENCODER,
            w.u(&[c.seq, c.width, c.heads, c.ff]).b(c.causal).f(c.eps),
        ),
        Op::PositionalAddS8(c, _) => (
            tag::POSITIONAL_ADD_S8,
            w.u(&[c.seq, c.width]).q(c.input).q(c.table).q(c.output),
        ),
        // The 13 quantization parameters go at the start of tensor t1 (they need 26 words).
        Op::TransformerEncoderS8(c, _) => (
            tag::TRANSFORMER_ENCODER_S8,
            w.u(&[c.seq, c.width, c.heads, c.ff])
                .b(c.causal)
                .f(c.eps)
                .raw(c.ln1_shift)
                .raw(c.ln2_shift),
        ),
    };
    if w.too_large {
        return Err(FormatError::TooLarge { layer });
    }
    Ok((t, w.w))
}
