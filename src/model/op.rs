//! [`Op`]: one operation of a deployable model, a layer configuration with borrowed views of its
//! tensors. The `.ttm` parser yields `Op`s that borrow from the file bytes (weights read in place
//! from flash); the host's quantizer and exporter build them over their own buffers.

use crate::layers::activation::ActivationConfig;
use crate::layers::attention::{
    SequenceConfig, SinusoidalEncodingConfig, TransformerEncoderConfig,
};
use crate::layers::batch_norm::BatchNormConfig;
use crate::layers::conv::{Conv1dConfig, Conv2dConfig};
use crate::layers::dense::DenseConfig;
use crate::layers::depthwise::DepthwiseConv2dConfig;
use crate::layers::embedding::EmbeddingConfig;
use crate::layers::layer_norm::LayerNormConfig;
use crate::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig};
use crate::layers::reshape::ReshapeConfig;
use crate::layers::s8::attention::{PositionalAddS8Config, TransformerEncoderS8Config};
use crate::layers::s8::{
    ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config, DepthwiseConv2dS8Config,
    GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config,
};
use crate::num::quant::QuantParams;

/// The int8 tensors of a layer with weights: symmetric int8 weights, optional int32 bias, and the
/// requantizers as interleaved `(multiplier, shift)` pairs (`2` or `2 · channels` values: one
/// per-tensor requantizer or one per output channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorsS8<'a> {
    /// Weights in the layer's layout.
    pub weights: &'a [i8],
    /// Bias, one per output channel.
    pub bias: Option<&'a [i32]>,
    /// `(multiplier, shift)` pairs of the [`Requantizer`](crate::num::quant::Requantizer)s.
    pub requant: &'a [i32],
}

/// The int8 tensors of a transformer encoder block, in the layout of
/// [`EncoderS8Params`](crate::layers::s8::attention::EncoderS8Params), with the requantizers
/// as interleaved `(multiplier, shift)` pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderTensorsS8<'a> {
    /// `Wq, Wk, Wv, Wo, W1, W2`: `4·width² + 2·ff·width` values.
    pub weights: &'a [i8],
    /// `bq, bk, bv, bo, b1, b2`: `5·width + ff` values.
    pub bias: &'a [i32],
    /// One `(multiplier, shift)` pair per bias value: `2·(5·width + ff)` values.
    pub requant: &'a [i32],
    /// Folded LN1 then LN2 gammas, `2·width`.
    pub ln_multiplier: &'a [i32],
    /// Folded LN1 then LN2 betas, `2·width`.
    pub ln_offset: &'a [i64],
}

/// One operation of a deployable model.
///
/// f32 operations take and give f32 activations; int8 operations int8 activations. A model
/// crosses between the two only through [`Op::Quantize`] and [`Op::Dequantize`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op<'a> {
    /// f32 dense; parameters as [`DenseConfig`].
    Dense(DenseConfig, &'a [f32]),
    /// f32 1-D convolution; parameters as [`Conv1dConfig`].
    Conv1d(Conv1dConfig, &'a [f32]),
    /// f32 2-D convolution; parameters as [`Conv2dConfig`].
    Conv2d(Conv2dConfig, &'a [f32]),
    /// f32 depthwise convolution; parameters as [`DepthwiseConv2dConfig`].
    DepthwiseConv2d(DepthwiseConv2dConfig, &'a [f32]),
    /// f32 batch norm in inference mode: gamma and beta, then running mean and variance.
    BatchNorm(BatchNormConfig, &'a [f32], &'a [f32]),
    /// f32 layer norm: gamma and beta.
    LayerNorm(LayerNormConfig, &'a [f32]),
    /// f32 embedding: the table `[vocab, dim]`.
    Embedding(EmbeddingConfig, &'a [f32]),
    /// f32 pooling over a sequence.
    Pool1d(Pool1dConfig),
    /// f32 pooling over an image.
    Pool2d(Pool2dConfig),
    /// f32 global average pooling.
    GlobalAvgPool(GlobalAvgPoolConfig),
    /// Reshape/flatten (a copy; f32 or int8 alike).
    Reshape(ReshapeConfig),
    /// f32 activation.
    Activation(ActivationConfig),
    /// f32 → int8 with these parameters, over `len` values per sample.
    Quantize {
        /// Values per sample.
        len: usize,
        /// Parameters of the int8 side.
        params: QuantParams,
    },
    /// int8 → f32 with these parameters, over `len` values per sample.
    Dequantize {
        /// Values per sample.
        len: usize,
        /// Parameters of the int8 side.
        params: QuantParams,
    },
    /// int8 dense.
    DenseS8(DenseS8Config, TensorsS8<'a>),
    /// int8 1-D convolution.
    Conv1dS8(Conv1dS8Config, TensorsS8<'a>),
    /// int8 2-D convolution.
    Conv2dS8(Conv2dS8Config, TensorsS8<'a>),
    /// int8 depthwise convolution.
    DepthwiseConv2dS8(DepthwiseConv2dS8Config, TensorsS8<'a>),
    /// int8 pooling over a sequence.
    Pool1dS8(Pool1dS8Config),
    /// int8 pooling over an image.
    Pool2dS8(Pool2dS8Config),
    /// int8 global average pooling.
    GlobalAvgPoolS8(GlobalAvgPoolS8Config),
    /// int8 activation (tables built when the model is loaded).
    ActivationS8(ActivationS8Config),
    /// f32 sinusoidal positional encoding, added to `[seq, width]` (computed on the device).
    SinusoidalEncoding(SinusoidalEncodingConfig),
    /// f32 learned positional encoding: the table `[seq, width]`, added.
    LearnedPositionalEncoding(SequenceConfig, &'a [f32]),
    /// f32 pre-LN transformer encoder block (inference: dropout off, no padding mask);
    /// parameters as [`TransformerEncoderConfig`].
    TransformerEncoder(TransformerEncoderConfig, &'a [f32]),
    /// int8 positional encoding: the quantized table `[seq, width]`, added.
    PositionalAddS8(PositionalAddS8Config, &'a [i8]),
    /// int8 pre-LN transformer encoder block.
    TransformerEncoderS8(TransformerEncoderS8Config, EncoderTensorsS8<'a>),
}
