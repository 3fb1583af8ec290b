//! [`OwnedOp`]: an [`Op`] that owns its tensors.

use tinytune::layers::activation::ActivationConfig;
use tinytune::layers::attention::{
    SequenceConfig, SinusoidalEncodingConfig, TransformerEncoderConfig,
};
use tinytune::layers::batch_norm::BatchNormConfig;
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::s8::attention::{PositionalAddS8Config, TransformerEncoderS8Config};
use tinytune::layers::s8::{
    ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config, DepthwiseConv2dS8Config,
    GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config,
};
use tinytune::model::{EncoderTensorsS8, Op, TensorsS8};
use tinytune::num::quant::{QuantParams, Requantizer};

/// The owned int8 tensors of a layer with weights (see [`TensorsS8`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedTensorsS8 {
    /// Symmetric int8 weights in the layer's layout.
    pub weights: Vec<i8>,
    /// int32 bias, one per output channel.
    pub bias: Option<Vec<i32>>,
    /// Interleaved `(multiplier, shift)` pairs: `2` or `2 · channels` values.
    pub requant: Vec<i32>,
}

impl OwnedTensorsS8 {
    /// Borrowed view.
    pub fn as_tensors(&self) -> TensorsS8<'_> {
        TensorsS8 {
            weights: &self.weights,
            bias: self.bias.as_deref(),
            requant: &self.requant,
        }
    }

    /// From a borrowed view (copies).
    pub fn from_tensors(t: &TensorsS8<'_>) -> Self {
        OwnedTensorsS8 {
            weights: t.weights.to_vec(),
            bias: t.bias.map(<[i32]>::to_vec),
            requant: t.requant.to_vec(),
        }
    }

    /// From int8 weights, int32 bias and requantizers (flattened to pairs).
    pub fn new(weights: Vec<i8>, bias: Option<Vec<i32>>, requant: &[Requantizer]) -> Self {
        OwnedTensorsS8 {
            weights,
            bias,
            requant: requant_pairs(requant),
        }
    }
}

/// The owned int8 tensors of a transformer encoder block (see [`EncoderTensorsS8`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedEncoderTensorsS8 {
    /// `Wq, Wk, Wv, Wo, W1, W2`.
    pub weights: Vec<i8>,
    /// `bq, bk, bv, bo, b1, b2`.
    pub bias: Vec<i32>,
    /// Interleaved `(multiplier, shift)` pairs, one per bias value.
    pub requant: Vec<i32>,
    /// Folded LN1 then LN2 gammas.
    pub ln_multiplier: Vec<i32>,
    /// Folded LN1 then LN2 betas.
    pub ln_offset: Vec<i64>,
}

impl OwnedEncoderTensorsS8 {
    /// Borrowed view.
    pub fn as_tensors(&self) -> EncoderTensorsS8<'_> {
        EncoderTensorsS8 {
            weights: &self.weights,
            bias: &self.bias,
            requant: &self.requant,
            ln_multiplier: &self.ln_multiplier,
            ln_offset: &self.ln_offset,
        }
    }

    /// From a borrowed view (copies).
    pub fn from_tensors(t: &EncoderTensorsS8<'_>) -> Self {
        OwnedEncoderTensorsS8 {
            weights: t.weights.to_vec(),
            bias: t.bias.to_vec(),
            requant: t.requant.to_vec(),
            ln_multiplier: t.ln_multiplier.to_vec(),
            ln_offset: t.ln_offset.to_vec(),
        }
    }
}

/// Requantizers as interleaved `(multiplier, shift)` pairs.
pub fn requant_pairs(requant: &[Requantizer]) -> Vec<i32> {
    requant
        .iter()
        .flat_map(|r| [r.multiplier, r.shift])
        .collect()
}

/// Interleaved `(multiplier, shift)` pairs as requantizers; `None` for an odd length.
pub fn requantizers_from_pairs(pairs: &[i32]) -> Option<Vec<Requantizer>> {
    if pairs.len() % 2 != 0 {
        return None;
    }
    Some(
        pairs
            .chunks_exact(2)
            .map(|p| Requantizer {
                multiplier: p[0],
                shift: p[1],
            })
            .collect(),
    )
}

/// One operation of an [`OwnedModel`](super::OwnedModel): the variants and parameter layouts of
/// [`Op`], with owned tensors.
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedOp {
    /// f32 dense: weights `[out, in]` then bias `[out]`.
    Dense(DenseConfig, Vec<f32>),
    /// f32 1-D convolution: weights `[out_c, kernel, in_c]` then bias.
    Conv1d(Conv1dConfig, Vec<f32>),
    /// f32 2-D convolution: weights OHWI `[out_c, kh, kw, in_c]` then bias.
    Conv2d(Conv2dConfig, Vec<f32>),
    /// f32 depthwise convolution: weights `[kh, kw, in_c · multiplier]` then bias.
    DepthwiseConv2d(DepthwiseConv2dConfig, Vec<f32>),
    /// f32 batch norm (inference): gamma and beta, then running mean and variance.
    BatchNorm(BatchNormConfig, Vec<f32>, Vec<f32>),
    /// f32 layer norm: gamma then beta.
    LayerNorm(LayerNormConfig, Vec<f32>),
    /// f32 embedding: the table `[vocab, dim]`.
    Embedding(EmbeddingConfig, Vec<f32>),
    /// f32 pooling over a sequence.
    Pool1d(Pool1dConfig),
    /// f32 pooling over an image.
    Pool2d(Pool2dConfig),
    /// f32 global average pooling.
    GlobalAvgPool(GlobalAvgPoolConfig),
    /// Reshape (f32 or int8).
    Reshape(ReshapeConfig),
    /// f32 activation.
    Activation(ActivationConfig),
    /// f32 → int8.
    Quantize {
        /// Values per sample.
        len: usize,
        /// Parameters of the int8 side.
        params: QuantParams,
    },
    /// int8 → f32.
    Dequantize {
        /// Values per sample.
        len: usize,
        /// Parameters of the int8 side.
        params: QuantParams,
    },
    /// int8 dense.
    DenseS8(DenseS8Config, OwnedTensorsS8),
    /// int8 1-D convolution.
    Conv1dS8(Conv1dS8Config, OwnedTensorsS8),
    /// int8 2-D convolution.
    Conv2dS8(Conv2dS8Config, OwnedTensorsS8),
    /// int8 depthwise convolution.
    DepthwiseConv2dS8(DepthwiseConv2dS8Config, OwnedTensorsS8),
    /// int8 pooling over a sequence.
    Pool1dS8(Pool1dS8Config),
    /// int8 pooling over an image.
    Pool2dS8(Pool2dS8Config),
    /// int8 global average pooling.
    GlobalAvgPoolS8(GlobalAvgPoolS8Config),
    /// int8 activation.
    ActivationS8(ActivationS8Config),
    /// f32 sinusoidal positional encoding.
    SinusoidalEncoding(SinusoidalEncodingConfig),
    /// f32 learned positional encoding: the table `[seq, width]`.
    LearnedPositionalEncoding(SequenceConfig, Vec<f32>),
    /// f32 pre-LN transformer encoder block: `ln1.gamma, ln1.beta, Wq, bq, Wk, bk, Wv, bv, Wo,
    /// bo, ln2.gamma, ln2.beta, W1 [ff, width], b1, W2 [width, ff], b2`.
    TransformerEncoder(TransformerEncoderConfig, Vec<f32>),
    /// int8 positional encoding: the quantized table `[seq, width]`.
    PositionalAddS8(PositionalAddS8Config, Vec<i8>),
    /// int8 pre-LN transformer encoder block.
    TransformerEncoderS8(TransformerEncoderS8Config, OwnedEncoderTensorsS8),
}

impl OwnedOp {
    /// The borrowed view the core (and the `.ttm` writer) works on.
    pub fn as_op(&self) -> Op<'_> {
        match self {
            OwnedOp::Dense(c, p) => Op::Dense(*c, p),
            OwnedOp::Conv1d(c, p) => Op::Conv1d(*c, p),
            OwnedOp::Conv2d(c, p) => Op::Conv2d(*c, p),
            OwnedOp::DepthwiseConv2d(c, p) => Op::DepthwiseConv2d(*c, p),
            OwnedOp::BatchNorm(c, p, s) => Op::BatchNorm(*c, p, s),
            OwnedOp::LayerNorm(c, p) => Op::LayerNorm(*c, p),
            OwnedOp::Embedding(c, p) => Op::Embedding(*c, p),
            OwnedOp::Pool1d(c) => Op::Pool1d(*c),
            OwnedOp::Pool2d(c) => Op::Pool2d(*c),
            OwnedOp::GlobalAvgPool(c) => Op::GlobalAvgPool(*c),
            OwnedOp::Reshape(c) => Op::Reshape(*c),
            OwnedOp::Activation(c) => Op::Activation(*c),
            OwnedOp::Quantize { len, params } => Op::Quantize {
                len: *len,
                params: *params,
            },
            OwnedOp::Dequantize { len, params } => Op::Dequantize {
                len: *len,
                params: *params,
            },
            OwnedOp::DenseS8(c, t) => Op::DenseS8(*c, t.as_tensors()),
            OwnedOp::Conv1dS8(c, t) => Op::Conv1dS8(*c, t.as_tensors()),
            OwnedOp::Conv2dS8(c, t) => Op::Conv2dS8(*c, t.as_tensors()),
            OwnedOp::DepthwiseConv2dS8(c, t) => Op::DepthwiseConv2dS8(*c, t.as_tensors()),
            OwnedOp::Pool1dS8(c) => Op::Pool1dS8(*c),
            OwnedOp::Pool2dS8(c) => Op::Pool2dS8(*c),
            OwnedOp::GlobalAvgPoolS8(c) => Op::GlobalAvgPoolS8(*c),
            OwnedOp::ActivationS8(c) => Op::ActivationS8(*c),
            OwnedOp::SinusoidalEncoding(c) => Op::SinusoidalEncoding(*c),
            OwnedOp::LearnedPositionalEncoding(c, p) => Op::LearnedPositionalEncoding(*c, p),
            OwnedOp::TransformerEncoder(c, p) => Op::TransformerEncoder(*c, p),
            OwnedOp::PositionalAddS8(c, t) => Op::PositionalAddS8(*c, t),
            OwnedOp::TransformerEncoderS8(c, t) => Op::TransformerEncoderS8(*c, t.as_tensors()),
        }
    }

    /// An owned copy of a borrowed operation.
    pub fn from_op(op: &Op<'_>) -> Self {
        match *op {
            Op::Dense(c, p) => OwnedOp::Dense(c, p.to_vec()),
            Op::Conv1d(c, p) => OwnedOp::Conv1d(c, p.to_vec()),
            Op::Conv2d(c, p) => OwnedOp::Conv2d(c, p.to_vec()),
            Op::DepthwiseConv2d(c, p) => OwnedOp::DepthwiseConv2d(c, p.to_vec()),
            Op::BatchNorm(c, p, s) => OwnedOp::BatchNorm(c, p.to_vec(), s.to_vec()),
            Op::LayerNorm(c, p) => OwnedOp::LayerNorm(c, p.to_vec()),
            Op::Embedding(c, p) => OwnedOp::Embedding(c, p.to_vec()),
            Op::Pool1d(c) => OwnedOp::Pool1d(c),
            Op::Pool2d(c) => OwnedOp::Pool2d(c),
            Op::GlobalAvgPool(c) => OwnedOp::GlobalAvgPool(c),
            Op::Reshape(c) => OwnedOp::Reshape(c),
            Op::Activation(c) => OwnedOp::Activation(c),
            Op::Quantize { len, params } => OwnedOp::Quantize { len, params },
            Op::Dequantize { len, params } => OwnedOp::Dequantize { len, params },
            Op::DenseS8(c, ref t) => OwnedOp::DenseS8(c, OwnedTensorsS8::from_tensors(t)),
            Op::Conv1dS8(c, ref t) => OwnedOp::Conv1dS8(c, OwnedTensorsS8::from_tensors(t)),
            Op::Conv2dS8(c, ref t) => OwnedOp::Conv2dS8(c, OwnedTensorsS8::from_tensors(t)),
            Op::DepthwiseConv2dS8(c, ref t) => {
                OwnedOp::DepthwiseConv2dS8(c, OwnedTensorsS8::from_tensors(t))
            }
            Op::Pool1dS8(c) => OwnedOp::Pool1dS8(c),
            Op::Pool2dS8(c) => OwnedOp::Pool2dS8(c),
            Op::GlobalAvgPoolS8(c) => OwnedOp::GlobalAvgPoolS8(c),
            Op::ActivationS8(c) => OwnedOp::ActivationS8(c),
            Op::SinusoidalEncoding(c) => OwnedOp::SinusoidalEncoding(c),
            Op::LearnedPositionalEncoding(c, p) => {
                OwnedOp::LearnedPositionalEncoding(c, p.to_vec())
            }
            Op::TransformerEncoder(c, p) => OwnedOp::TransformerEncoder(c, p.to_vec()),
            Op::PositionalAddS8(c, t) => OwnedOp::PositionalAddS8(c, t.to_vec()),
            Op::TransformerEncoderS8(c, ref t) => {
                OwnedOp::TransformerEncoderS8(c, OwnedEncoderTensorsS8::from_tensors(t))
            }
        }
    }

    /// Short snake-case name of the operation kind (`dense`, `conv2d`, `batch_norm`,
    /// `dense_s8`, …): used in error locations, reports and safetensors names.
    pub fn kind_name(&self) -> &'static str {
        match self {
            OwnedOp::Dense(..) => "dense",
            OwnedOp::Conv1d(..) => "conv1d",
            OwnedOp::Conv2d(..) => "conv2d",
            OwnedOp::DepthwiseConv2d(..) => "depthwise_conv2d",
            OwnedOp::BatchNorm(..) => "batch_norm",
            OwnedOp::LayerNorm(..) => "layer_norm",
            OwnedOp::Embedding(..) => "embedding",
            OwnedOp::Pool1d(..) => "pool1d",
            OwnedOp::Pool2d(..) => "pool2d",
            OwnedOp::GlobalAvgPool(..) => "global_avg_pool",
            OwnedOp::Reshape(..) => "reshape",
            OwnedOp::Activation(..) => "activation",
            OwnedOp::Quantize { .. } => "quantize",
            OwnedOp::Dequantize { .. } => "dequantize",
            OwnedOp::DenseS8(..) => "dense_s8",
            OwnedOp::Conv1dS8(..) => "conv1d_s8",
            OwnedOp::Conv2dS8(..) => "conv2d_s8",
            OwnedOp::DepthwiseConv2dS8(..) => "depthwise_conv2d_s8",
            OwnedOp::Pool1dS8(..) => "pool1d_s8",
            OwnedOp::Pool2dS8(..) => "pool2d_s8",
            OwnedOp::GlobalAvgPoolS8(..) => "global_avg_pool_s8",
            OwnedOp::ActivationS8(..) => "activation_s8",
            OwnedOp::SinusoidalEncoding(..) => "sinusoidal_encoding",
            OwnedOp::LearnedPositionalEncoding(..) => "learned_positional_encoding",
            OwnedOp::TransformerEncoder(..) => "transformer_encoder",
            OwnedOp::PositionalAddS8(..) => "positional_add_s8",
            OwnedOp::TransformerEncoderS8(..) => "transformer_encoder_s8",
        }
    }

    /// Whether the operation takes or gives int8 activations (the int8 layers and the
    /// quantize/dequantize boundaries; [`OwnedOp::Reshape`] counts as f32).
    pub fn is_int8(&self) -> bool {
        matches!(
            self,
            OwnedOp::Quantize { .. }
                | OwnedOp::Dequantize { .. }
                | OwnedOp::DenseS8(..)
                | OwnedOp::Conv1dS8(..)
                | OwnedOp::Conv2dS8(..)
                | OwnedOp::DepthwiseConv2dS8(..)
                | OwnedOp::Pool1dS8(..)
                | OwnedOp::Pool2dS8(..)
                | OwnedOp::GlobalAvgPoolS8(..)
                | OwnedOp::ActivationS8(..)
                | OwnedOp::PositionalAddS8(..)
                | OwnedOp::TransformerEncoderS8(..)
        )
    }
}
