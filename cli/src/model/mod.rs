//! [`OwnedModel`]: a deployable model as a list of operations that own their tensors.
//!
//! An [`OwnedModel`] is what the host pipeline works on: built from a trained f32
//! [`Sequential`] (or from [`Op`]s), run in f32 ([`OwnedModel::forward_f32`]), quantized to int8
//! by [`crate::quantize`], run in int8 ([`OwnedModel::forward_int8`]), exported to and imported
//! from safetensors by [`crate::safetensors`], and handed to the `.ttm` writer as borrowed
//! [`Op`]s ([`OwnedModel::ops`]).
//!
//! Each operation is an [`OwnedOp`], the owned twin of [`Op`] with the same configurations and
//! the same parameter layouts (documented on [`OwnedOp`]). Running a model builds each core
//! layer from exactly the operation's data, so a device building its layers from the same
//! operations computes the same values (bit for bit in int8).
//!
//! Errors are [`PipelineError`]s naming the operation (`op 3 (dense)`) and the problem; nothing
//! here panics on bad input.

mod error;
mod forward;
mod op;

pub use error::{PipelineError, Result};
pub use forward::Activations;
pub use op::{
    requant_pairs, requantizers_from_pairs, OwnedEncoderTensorsS8, OwnedOp, OwnedTensorsS8,
};

pub(crate) use error::At;
pub(crate) use forward::{build, op_at, op_requantizers};

use tinytune::layers::{AnyLayer, Layer, Sequential};
use tinytune::model::Op;

/// A deployable model: operations run in order, each owning its tensors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OwnedModel {
    /// The operations, first to last.
    pub ops: Vec<OwnedOp>,
}

impl OwnedModel {
    /// A model of these operations.
    pub fn new(ops: Vec<OwnedOp>) -> Self {
        OwnedModel { ops }
    }

    /// The operations as borrowed [`Op`]s (for the `.ttm` writer).
    pub fn ops(&self) -> Vec<Op<'_>> {
        self.ops.iter().map(OwnedOp::as_op).collect()
    }

    /// An owned copy of borrowed operations.
    pub fn from_ops(ops: &[Op<'_>]) -> Self {
        OwnedModel {
            ops: ops.iter().map(OwnedOp::from_op).collect(),
        }
    }

    /// The f32 model of a list of core layers, copying each layer's configuration and parameters
    /// (batch norm: its running statistics too). Dropout is the identity in inference and is
    /// left out.
    pub fn from_layers(layers: &[AnyLayer<'_>]) -> Self {
        let ops = layers
            .iter()
            .filter_map(|layer| {
                let p = layer.params().to_vec();
                Some(match layer {
                    AnyLayer::Dense(l) => OwnedOp::Dense(*l.config(), p),
                    AnyLayer::Conv1d(l) => OwnedOp::Conv1d(*l.config(), p),
                    AnyLayer::Conv2d(l) => OwnedOp::Conv2d(*l.config(), p),
                    AnyLayer::DepthwiseConv2d(l) => OwnedOp::DepthwiseConv2d(*l.config(), p),
                    AnyLayer::BatchNorm(l) => {
                        OwnedOp::BatchNorm(*l.config(), p, l.stats().to_vec())
                    }
                    AnyLayer::LayerNorm(l) => OwnedOp::LayerNorm(*l.config(), p),
                    AnyLayer::Embedding(l) => OwnedOp::Embedding(*l.config(), p),
                    AnyLayer::Pool1d(l) => OwnedOp::Pool1d(*l.config()),
                    AnyLayer::Pool2d(l) => OwnedOp::Pool2d(*l.config()),
                    AnyLayer::GlobalAvgPool(l) => OwnedOp::GlobalAvgPool(*l.config()),
                    AnyLayer::Reshape(l) => OwnedOp::Reshape(*l.config()),
                    AnyLayer::Activation(l) => OwnedOp::Activation(*l.config()),
                    AnyLayer::Dropout(_) => return None,
                })
            })
            .collect();
        OwnedModel { ops }
    }

    /// The f32 model of a trained [`Sequential`] (see [`from_layers`](Self::from_layers)).
    pub fn from_sequential<const N: usize>(model: &Sequential<AnyLayer<'_>, N>) -> Self {
        Self::from_layers(model.layers())
    }

    /// Whether every operation is f32 (no int8 layer, no quantize/dequantize).
    pub fn is_f32(&self) -> bool {
        !self.ops.iter().any(OwnedOp::is_int8)
    }

    /// Per-sample `(input, output)` lengths of operation `i`.
    ///
    /// # Errors
    /// [`PipelineError::Invalid`] if `i` is out of range; [`PipelineError::Core`] if the
    /// operation's data is rejected by its layer.
    pub fn op_lens(&self, i: usize) -> Result<(usize, usize)> {
        let op = self.ops.get(i).ok_or_else(|| {
            PipelineError::invalid(
                format!("op {i}"),
                format!("out of range (the model has {} operations)", self.ops.len()),
            )
        })?;
        let requant = op_requantizers(i, op)?;
        let lens = build(i, op, &requant)?.lens();
        Ok(lens)
    }

    /// Values per sample of the model's input (operation 0's input).
    ///
    /// # Errors
    /// As [`op_lens`](Self::op_lens) (an empty model has no operation 0).
    pub fn input_len(&self) -> Result<usize> {
        Ok(self.op_lens(0)?.0)
    }

    /// Values per sample of the model's output (the last operation's output).
    ///
    /// # Errors
    /// As [`op_lens`](Self::op_lens).
    pub fn output_len(&self) -> Result<usize> {
        Ok(self.op_lens(self.ops.len().saturating_sub(1))?.1)
    }
}
