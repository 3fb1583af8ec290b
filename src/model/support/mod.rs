//! Which op kinds this build of the crate reads and runs: the core's `ops-*` cargo features
//! (all on by default). A kind needs the feature of its family (`ops-conv`, …; none for int8
//! dense, quantize, dequantize and reshape) and, if it computes in f32, `ops-f32`. The reader,
//! the checker and the runner have no arm for a left-out kind, so its layer, kernels and
//! validation are never linked: the reader reports its record, as one of an unknown kind,
//! with [`unknown_kind`] or [`unknown_activation`]; the writer refuses it when built in code
//! ([`check_op_kind`]). Both give [`FormatError::Unsupported`] naming the missing feature.

use super::format::record::tag;
use crate::error::{FormatError, OpFeature};
use crate::layers::activation::ActivationKind;
use crate::layers::s8::ActivationKindS8;
use crate::model::Op;

/// A cargo feature of the core that adds op kinds, and whether this build has it.
#[derive(Clone, Copy)]
struct Feature {
    id: OpFeature,
    on: bool,
}

const F32: Feature = Feature {
    id: OpFeature::F32,
    on: cfg!(feature = "ops-f32"),
};
const CONV: Feature = Feature {
    id: OpFeature::Conv,
    on: cfg!(feature = "ops-conv"),
};
const POOL: Feature = Feature {
    id: OpFeature::Pool,
    on: cfg!(feature = "ops-pool"),
};
const NORM: Feature = Feature {
    id: OpFeature::Norm,
    on: cfg!(feature = "ops-norm"),
};
const EMBEDDING: Feature = Feature {
    id: OpFeature::Embedding,
    on: cfg!(feature = "ops-embedding"),
};
const ATTENTION: Feature = Feature {
    id: OpFeature::Attention,
    on: cfg!(feature = "ops-attention"),
};
const ACTIVATION: Feature = Feature {
    id: OpFeature::Activation,
    on: cfg!(feature = "ops-activation"),
};
/// Sigmoid, tanh, GELU and softmax, in activation records of either kind.
const EXP_ACTIVATIONS: Feature = Feature {
    id: OpFeature::ExpActivations,
    on: cfg!(feature = "ops-exp-activations"),
};

/// What the kind `t` needs: the feature of its family (`None` for the kinds always in, and for
/// unknown tags, which the reader reports as [`FormatError::LayerKind`]), and whether it
/// computes in f32 (then it needs `ops-f32` too).
const fn needs(t: u32) -> (Option<Feature>, bool) {
    match t {
        tag::DENSE => (None, true),
        tag::ACTIVATION => (Some(ACTIVATION), true),
        tag::ACTIVATION_S8 => (Some(ACTIVATION), false),
        tag::CONV1D | tag::CONV2D | tag::DEPTHWISE_CONV2D => (Some(CONV), true),
        tag::CONV1D_S8 | tag::CONV2D_S8 | tag::DEPTHWISE_CONV2D_S8 => (Some(CONV), false),
        tag::POOL1D | tag::POOL2D | tag::GLOBAL_AVG_POOL => (Some(POOL), true),
        tag::POOL1D_S8 | tag::POOL2D_S8 | tag::GLOBAL_AVG_POOL_S8 => (Some(POOL), false),
        tag::BATCH_NORM | tag::LAYER_NORM => (Some(NORM), true),
        tag::EMBEDDING => (Some(EMBEDDING), true),
        tag::SINUSOIDAL_ENCODING | tag::LEARNED_POSITIONAL_ENCODING | tag::TRANSFORMER_ENCODER => {
            (Some(ATTENTION), true)
        }
        tag::POSITIONAL_ADD_S8 | tag::TRANSFORMER_ENCODER_S8 => (Some(ATTENTION), false),
        _ => (None, false),
    }
}

/// The first feature the kind `t` needs that this build lacks (its family's, then `ops-f32`).
const fn missing(t: u32) -> Option<Feature> {
    match needs(t) {
        (Some(family), _) if !family.on => Some(family),
        (_, true) if !F32.on => Some(F32),
        _ => None,
    }
}

/// Accepts a record of kind `t` at `layer` if this build reads it.
///
/// # Errors
/// [`FormatError::Unsupported`] for a kind that needs a feature this build lacks.
fn check_tag(layer: usize, t: u32) -> Result<(), FormatError> {
    match missing(t) {
        Some(f) => Err(FormatError::Unsupported {
            layer,
            tag: t,
            feature: f.id,
        }),
        None => Ok(()),
    }
}

/// Accepts activation function `code` (the record's kind word: 0 ReLU, 1 ReLU6, 2 leaky ReLU,
/// 3 sigmoid, 4 tanh, 5 GELU, 6 softmax, in f32 and int8 records alike) of a record of kind
/// `t` at `layer` if this build runs it.
///
/// # Errors
/// [`FormatError::Unsupported`] for sigmoid, tanh, GELU and softmax without
/// `ops-exp-activations`.
fn check_activation(layer: usize, t: u32, code: u32) -> Result<(), FormatError> {
    if (3..=6).contains(&code) && !EXP_ACTIVATIONS.on {
        return Err(FormatError::Unsupported {
            layer,
            tag: t,
            feature: EXP_ACTIVATIONS.id,
        });
    }
    Ok(())
}

/// The error for a record of kind `t` that the reader has no arm for:
/// [`FormatError::Unsupported`] if a feature this build lacks adds the kind, else
/// [`FormatError::LayerKind`] (a tag no version defines).
pub(crate) fn unknown_kind(layer: usize, t: u32) -> FormatError {
    match check_tag(layer, t) {
        Err(e) => e,
        Ok(()) => FormatError::LayerKind { layer, tag: t },
    }
}

/// The error for activation function `code` of a record of kind `t` that the reader has no
/// arm for: [`FormatError::Unsupported`] if `ops-exp-activations` adds it, else `unknown`.
#[cfg(feature = "ops-activation")]
pub(crate) fn unknown_activation(
    layer: usize,
    t: u32,
    code: u32,
    unknown: FormatError,
) -> FormatError {
    match check_activation(layer, t, code) {
        Err(e) => e,
        Ok(()) => unknown,
    }
}

/// The kind tag of `op` (as the writer stores it) and, for an activation, its function code.
fn kind_of(op: &Op<'_>) -> (u32, Option<u32>) {
    let f32_code = |k: ActivationKind| match k {
        ActivationKind::Relu => 0,
        ActivationKind::Relu6 => 1,
        ActivationKind::LeakyRelu { .. } => 2,
        ActivationKind::Sigmoid => 3,
        ActivationKind::Tanh => 4,
        ActivationKind::Gelu => 5,
        ActivationKind::Softmax { .. } => 6,
    };
    let s8_code = |k: ActivationKindS8| match k {
        ActivationKindS8::Relu { .. } => 0,
        ActivationKindS8::Relu6 { .. } => 1,
        ActivationKindS8::LeakyRelu(_) => 2,
        ActivationKindS8::Sigmoid { .. } => 3,
        ActivationKindS8::Tanh { .. } => 4,
        ActivationKindS8::Gelu { .. } => 5,
        ActivationKindS8::Softmax { .. } => 6,
    };
    match *op {
        Op::Dense(..) => (tag::DENSE, None),
        Op::Conv1d(..) => (tag::CONV1D, None),
        Op::Conv2d(..) => (tag::CONV2D, None),
        Op::DepthwiseConv2d(..) => (tag::DEPTHWISE_CONV2D, None),
        Op::BatchNorm(..) => (tag::BATCH_NORM, None),
        Op::LayerNorm(..) => (tag::LAYER_NORM, None),
        Op::Embedding(..) => (tag::EMBEDDING, None),
        Op::Pool1d(..) => (tag::POOL1D, None),
        Op::Pool2d(..) => (tag::POOL2D, None),
        Op::GlobalAvgPool(..) => (tag::GLOBAL_AVG_POOL, None),
        Op::Reshape(..) => (tag::RESHAPE, None),
        Op::Activation(c) => (tag::ACTIVATION, Some(f32_code(c.kind))),
        Op::Quantize { .. } => (tag::QUANTIZE, None),
        Op::Dequantize { .. } => (tag::DEQUANTIZE, None),
        Op::DenseS8(..) => (tag::DENSE_S8, None),
        Op::Conv1dS8(..) => (tag::CONV1D_S8, None),
        Op::Conv2dS8(..) => (tag::CONV2D_S8, None),
        Op::DepthwiseConv2dS8(..) => (tag::DEPTHWISE_CONV2D_S8, None),
        Op::Pool1dS8(..) => (tag::POOL1D_S8, None),
        Op::Pool2dS8(..) => (tag::POOL2D_S8, None),
        Op::GlobalAvgPoolS8(..) => (tag::GLOBAL_AVG_POOL_S8, None),
        Op::ActivationS8(c) => (tag::ACTIVATION_S8, Some(s8_code(c.kind))),
        Op::SinusoidalEncoding(..) => (tag::SINUSOIDAL_ENCODING, None),
        Op::LearnedPositionalEncoding(..) => (tag::LEARNED_POSITIONAL_ENCODING, None),
        Op::TransformerEncoder(..) => (tag::TRANSFORMER_ENCODER, None),
        Op::PositionalAddS8(..) => (tag::POSITIONAL_ADD_S8, None),
        Op::TransformerEncoderS8(..) => (tag::TRANSFORMER_ENCODER_S8, None),
    }
}

/// Accepts `op` at `layer` if this build reads and runs its kind (as [`check_tag`] and
/// [`check_activation`] for its record).
///
/// # Errors
/// [`FormatError::Unsupported`] for a kind or activation whose feature is off.
pub(crate) fn check_op_kind(layer: usize, op: &Op<'_>) -> Result<(), FormatError> {
    let (t, code) = kind_of(op);
    check_tag(layer, t)?;
    match code {
        Some(code) => check_activation(layer, t, code),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
