//! The trainable head of a model: where it starts, which ops it may hold, its layers (a dense
//! op with the elementwise ops that follow it) and its sizes.

use crate::error::{Error, ShapeError};
use crate::layers::activation::{ActivationConfig, ActivationKind};
use crate::layers::s8::{ActivationKindS8, ActivationS8Config};
use crate::model::{Model, Op};
use crate::num::quant::{QuantParams, Requantizer};
use core::iter::Peekable;

/// The weights of one head layer, as the file stores them.
#[derive(Clone, Copy, Debug)]
pub(super) enum Weights<'m> {
    /// f32 dense: weights `[out, in]`, then the bias `[out]` if `bias`.
    F32 { params: &'m [f32], bias: bool },
    /// int8 dense: symmetric weights `[out, in]`, optional int32 bias, requantizer pairs
    /// (one or one per output), and the input and output quantization.
    S8 {
        weights: &'m [i8],
        bias: Option<&'m [i32]>,
        requant: &'m [i32],
        input: QuantParams,
        output: QuantParams,
    },
}

/// One layer of the head: a dense op and whether a ReLU follows it (fused or as an op).
#[derive(Clone, Copy, Debug)]
pub(super) struct HeadLayer<'m> {
    pub weights: Weights<'m>,
    pub in_len: usize,
    pub out_len: usize,
    pub relu: bool,
}

impl HeadLayer<'_> {
    /// The real scale of output channel `o`'s int8 weights, recovered from its requantizer
    /// (`real multiplier = in_scale · w_scale / out_scale`); 1 for f32 weights.
    pub fn weight_scale(&self, o: usize) -> f64 {
        match self.weights {
            Weights::F32 { .. } => 1.0,
            Weights::S8 {
                requant,
                input,
                output,
                ..
            } => {
                // One pair is a per-tensor requantizer shared by every channel.
                let at = if requant.len() == 2 { 0 } else { 2 * o };
                let pair = requant.get(at..at + 2).unwrap_or(&[0, 0]);
                let (multiplier, shift) = match *pair {
                    [m, s] => (m, s),
                    _ => (0, 0),
                };
                Requantizer { multiplier, shift }.to_real() * f64::from(output.scale)
                    / f64::from(input.scale)
            }
        }
    }

    /// The real weight `[o, i]`: the f32 value, or the int8 value times `scale`, its
    /// channel's [`weight_scale`](Self::weight_scale) (passed in: it is the same for a row).
    pub fn weight(&self, o: usize, i: usize, scale: f64) -> f32 {
        let at = o.saturating_mul(self.in_len).saturating_add(i);
        match self.weights {
            Weights::F32 { params, .. } => params.get(at).copied().unwrap_or(0.0),
            Weights::S8 { weights, .. } => {
                let q = weights.get(at).copied().unwrap_or(0);
                (scale * f64::from(q)) as f32
            }
        }
    }

    /// The real bias of output `o` (0 without a bias); int8 biases are at the accumulator's
    /// scale `in_scale · w_scale`.
    pub fn bias(&self, o: usize) -> f32 {
        match self.weights {
            Weights::F32 { params, bias } => {
                let at = self.out_len.saturating_mul(self.in_len).saturating_add(o);
                if bias {
                    params.get(at).copied().unwrap_or(0.0)
                } else {
                    0.0
                }
            }
            Weights::S8 { bias, input, .. } => {
                let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0);
                (f64::from(b) * f64::from(input.scale) * self.weight_scale(o)) as f32
            }
        }
    }

    /// Weights and bias: `out · in + out` (every layer gets a trainable bias, zero if the file
    /// has none).
    pub fn param_len(&self) -> Result<usize, Error> {
        self.out_len
            .checked_mul(self.in_len)
            .and_then(|w| w.checked_add(self.out_len))
            .ok_or(ShapeError::Dimension.into())
    }
}

/// Whether an op holds learned parameters (what "the last N weighted layers" counts).
pub(super) fn is_weighted(op: &Op<'_>) -> bool {
    matches!(
        op,
        Op::Dense(..)
            | Op::Conv1d(..)
            | Op::Conv2d(..)
            | Op::DepthwiseConv2d(..)
            | Op::BatchNorm(..)
            | Op::LayerNorm(..)
            | Op::Embedding(..)
            | Op::DenseS8(..)
            | Op::Conv1dS8(..)
            | Op::Conv2dS8(..)
            | Op::DepthwiseConv2dS8(..)
            | Op::LearnedPositionalEncoding(..)
            | Op::TransformerEncoder(..)
            | Op::TransformerEncoderS8(..)
    )
}

/// The layers of the head, from the first head op on: each starts at a dense op and takes the
/// ReLUs, reshapes, dequantizes and the trailing softmax after it. Yields one error (and then
/// nothing) at the first op the head cannot hold.
pub(super) struct Layers<I: Iterator> {
    ops: Peekable<I>,
    failed: bool,
}

impl<'m, I: Iterator<Item = Op<'m>>> Layers<I> {
    /// The next layer, which starts at `op`.
    fn layer(&mut self, op: Op<'m>) -> Result<HeadLayer<'m>, Error> {
        let mut layer = match op {
            Op::Dense(c, params) => HeadLayer {
                weights: Weights::F32 {
                    params,
                    bias: c.bias,
                },
                in_len: c.in_features,
                out_len: c.out_features,
                relu: false,
            },
            Op::DenseS8(c, t) => {
                // The f32 head works on real values, so only clamps it can express in f32 are
                // accepted: none, or ReLU (the clamp at the output's zero point).
                let relu = if i32::from(c.act.min) == c.output.zero_point && c.act.max == i8::MAX {
                    true
                } else if c.act == crate::kernels::ActivationS8::NONE {
                    false
                } else {
                    return Err(Error::Config);
                };
                HeadLayer {
                    weights: Weights::S8 {
                        weights: t.weights,
                        bias: t.bias,
                        requant: t.requant,
                        input: c.input,
                        output: c.output,
                    },
                    in_len: c.in_features,
                    out_len: c.out_features,
                    relu,
                }
            }
            _ => return Err(Error::Config),
        };
        let mut softmax = false;
        while let Some(next) = self.ops.peek() {
            match *next {
                Op::Dense(..) | Op::DenseS8(..) if !softmax => break,
                Op::Activation(ActivationConfig {
                    kind: ActivationKind::Relu,
                    ..
                })
                | Op::ActivationS8(ActivationS8Config {
                    kind: ActivationKindS8::Relu { .. },
                    ..
                }) if !softmax => layer.relu = true,
                // Identities on real values.
                Op::Reshape(_) | Op::Dequantize { .. } => {}
                // A softmax over the whole output, with nothing but identities after it: the
                // head's output is the logits before it (the argmax is the same).
                Op::Activation(ActivationConfig {
                    kind: ActivationKind::Softmax { depth },
                    len,
                })
                | Op::ActivationS8(ActivationS8Config {
                    kind: ActivationKindS8::Softmax { depth, .. },
                    len,
                }) if !softmax && depth == len => softmax = true,
                _ => return Err(Error::Config),
            }
            self.ops.next();
        }
        Ok(layer)
    }
}

impl<'m, I: Iterator<Item = Op<'m>>> Iterator for Layers<I> {
    type Item = Result<HeadLayer<'m>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let op = self.ops.next()?;
        let layer = self.layer(op);
        self.failed = layer.is_err();
        Some(layer)
    }
}

/// The layers of `model`'s head starting at op `cut`.
pub(super) fn layers<'a, 'm>(
    model: &'a Model<'m>,
    cut: usize,
) -> Layers<impl Iterator<Item = Op<'m>> + 'a> {
    Layers {
        ops: model.ops().skip(cut).peekable(),
        failed: false,
    }
}

/// Layer `index` of the head, with the offsets of its parameters and of its output in the
/// head's buffers.
pub(super) struct Located<'m> {
    pub layer: HeadLayer<'m>,
    pub param_at: usize,
    pub out_at: usize,
}

/// Finds layer `index` of the head at `cut` (see [`Located`]).
pub(super) fn locate<'m>(
    model: &Model<'m>,
    cut: usize,
    index: usize,
) -> Result<Located<'m>, Error> {
    let (mut param_at, mut out_at) = (0usize, 0usize);
    for (i, layer) in layers(model, cut).enumerate() {
        let layer = layer?;
        if i == index {
            return Ok(Located {
                layer,
                param_at,
                out_at,
            });
        }
        param_at = param_at
            .checked_add(layer.param_len()?)
            .ok_or(ShapeError::Dimension)?;
        out_at = out_at
            .checked_add(layer.out_len)
            .ok_or(ShapeError::Dimension)?;
    }
    Err(Error::Config)
}

/// What the fine-tuner needs to know about a model's head, found once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Head {
    /// Index of the first head op: ops `0..cut` are the frozen backbone.
    pub cut: usize,
    /// Number of head layers.
    pub layers: usize,
    /// Quantization of the head's input if it is int8 (the first layer's input parameters).
    pub input: Option<QuantParams>,
    /// Outputs of the last layer: the classes.
    pub classes: usize,
    /// Sum of the layers' outputs (the forward activations kept for backward).
    pub outs: usize,
    /// The largest layer output.
    pub widest: usize,
    /// Weights and biases of every head layer.
    pub weights: usize,
    /// Whether the last layer is int8.
    pub last_s8: bool,
}

impl Head {
    /// Finds the head of the last `n` weighted ops of `model` and checks every op in it.
    ///
    /// # Errors
    /// [`Error::Config`] if `n` is 0 or exceeds the weighted ops, or the head holds an op it
    /// cannot train through; [`ShapeError::Dimension`] if a size overflows.
    pub fn find(model: &Model<'_>, n: usize) -> Result<Self, Error> {
        let total = model.ops().filter(is_weighted).count();
        let before = total.checked_sub(n).ok_or(Error::Config)?;
        if n == 0 {
            return Err(Error::Config);
        }
        let cut = model
            .ops()
            .enumerate()
            .filter(|(_, op)| is_weighted(op))
            .nth(before)
            .map(|(i, _)| i)
            .ok_or(Error::Config)?;
        let mut head = Head {
            cut,
            layers: 0,
            input: None,
            classes: 0,
            outs: 0,
            widest: 0,
            weights: 0,
            last_s8: false,
        };
        let add = |a: usize, b: usize| a.checked_add(b).ok_or(ShapeError::Dimension);
        for layer in layers(model, cut) {
            let layer = layer?;
            // The file's own validation rejects these; the loops over rows rely on it.
            if layer.in_len == 0 || layer.out_len == 0 {
                return Err(ShapeError::Dimension.into());
            }
            if head.layers == 0 {
                if let Weights::S8 { input, .. } = layer.weights {
                    head.input = Some(input);
                }
            }
            head.layers += 1;
            head.classes = layer.out_len;
            head.outs = add(head.outs, layer.out_len)?;
            head.widest = head.widest.max(layer.out_len);
            head.weights = add(head.weights, layer.param_len()?)?;
            head.last_s8 = matches!(layer.weights, Weights::S8 { .. });
        }
        // Every head layer starts at a weighted op and every weighted op after the cut starts
        // one, so this holds; checked all the same.
        if head.layers != n || head.classes != model.output_len() {
            return Err(Error::Config);
        }
        Ok(head)
    }
}
