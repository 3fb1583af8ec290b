//! The int8 model being built, one folded f32 operation at a time.

use super::encoder::{positional_add, quantize_block, StageRanges};
use super::weights::{quantize_layer, Axis};
use super::Plan;
use crate::model::{op_at, At, OwnedModel, OwnedOp, PipelineError, Result};
use tinytune::kernels::generic::activation::{
    LeakyReluParamsS8, SIGMOID_OUTPUT_SCALE, SIGMOID_OUTPUT_ZERO_POINT, TANH_OUTPUT_SCALE,
    TANH_OUTPUT_ZERO_POINT,
};
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationF32, ActivationS8};
use tinytune::layers::activation::ActivationKind;
use tinytune::layers::pool::PoolKind;
use tinytune::layers::s8::{
    activation_range_s8, ActivationKindS8, ActivationS8Config, Conv1dS8Config, Conv2dS8Config,
    DenseS8Config, DepthwiseConv2dS8Config, GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config,
    PoolKindS8, SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT,
};
use tinytune::num::quant::QuantParams;

/// The int8 model being built.
pub(super) struct Builder {
    pub(super) ops: Vec<OwnedOp>,
    pub(super) plans: Vec<Plan>,
    /// Quantization of the current activations (`None`: f32).
    pub(super) cur: Option<QuantParams>,
    /// Quantization of the first `Quantize`.
    pub(super) input: Option<QuantParams>,
    pub(super) per_channel: bool,
    /// The calibrated internal ranges of each encoder block, by folded operation index.
    pub(super) encoder_stages: Vec<Option<StageRanges>>,
}

/// Asymmetric parameters of a calibrated range.
fn asym(range: (f32, f32), at: &str) -> Result<QuantParams> {
    QuantParams::asymmetric_from_min_max(range.0, range.1).at(|| at.to_string())
}

impl Builder {
    /// The current int8 quantization, emitting a `Quantize` of `len` values with the calibrated
    /// range `range` if the activations are f32.
    fn ensure_s8(&mut self, len: usize, range: (f32, f32), at: &str) -> Result<QuantParams> {
        if let Some(q) = self.cur {
            return Ok(q);
        }
        let q = asym(range, at)?;
        self.ops.push(OwnedOp::Quantize { len, params: q });
        self.input.get_or_insert(q);
        self.cur = Some(q);
        Ok(q)
    }

    /// Records the last emitted operation as a layer.
    fn plan(&mut self, name: String, f32_index: usize, range: (f32, f32)) {
        self.plans.push(Plan {
            name,
            f32_index,
            op: self.ops.len() - 1,
            quant: self.cur,
            range,
        });
    }

    /// Quantizes folded operation `k` (and a fused activation after it); returns the index of
    /// the next operation to quantize.
    pub(super) fn step(
        &mut self,
        model: &OwnedModel,
        origin: &[usize],
        k: usize,
        before: (f32, f32),
        ranges: &[(f32, f32)],
    ) -> Result<usize> {
        let op = &model.ops[k];
        let at = op_at(origin[k], op);
        let in_len = model.op_lens(k)?.0;
        let name = format!("layers.{}.{}", origin[k], op.kind_name());
        let weighted = matches!(
            op,
            OwnedOp::Dense(..)
                | OwnedOp::Conv1d(..)
                | OwnedOp::Conv2d(..)
                | OwnedOp::DepthwiseConv2d(..)
        );
        if weighted {
            let input = self.ensure_s8(in_len, before, &at)?;
            let (last, fused, suffix) = match model.ops.get(k + 1) {
                Some(OwnedOp::Activation(c)) if c.kind == ActivationKind::Relu => {
                    (k + 1, ActivationF32::RELU, "+relu")
                }
                Some(OwnedOp::Activation(c)) if c.kind == ActivationKind::Relu6 => {
                    (k + 1, ActivationF32::RELU6, "+relu6")
                }
                _ => (k, ActivationF32::NONE, ""),
            };
            let output = asym(ranges[last], &at)?;
            let act = activation_range_s8(fused, output).at(|| at.clone())?;
            let pc = self.per_channel;
            let new = match op {
                OwnedOp::Dense(c, p) => {
                    let t = quantize_layer(
                        &at,
                        Axis::First,
                        (p, c.bias, c.out_features),
                        input,
                        output,
                        pc,
                    )?;
                    let cfg = DenseS8Config {
                        in_features: c.in_features,
                        out_features: c.out_features,
                        input,
                        output,
                        act,
                    };
                    OwnedOp::DenseS8(cfg, t)
                }
                OwnedOp::Conv1d(c, p) => {
                    let t =
                        quantize_layer(&at, Axis::First, (p, c.bias, c.out_c), input, output, pc)?;
                    let cfg = Conv1dS8Config {
                        len: c.len,
                        in_c: c.in_c,
                        out_c: c.out_c,
                        kernel: c.kernel,
                        stride: c.stride,
                        dilation: c.dilation,
                        padding: c.padding,
                        input,
                        output,
                        act,
                    };
                    OwnedOp::Conv1dS8(cfg, t)
                }
                OwnedOp::Conv2d(c, p) => {
                    let t =
                        quantize_layer(&at, Axis::First, (p, c.bias, c.out_c), input, output, pc)?;
                    let cfg = Conv2dS8Config {
                        in_h: c.in_h,
                        in_w: c.in_w,
                        in_c: c.in_c,
                        out_c: c.out_c,
                        kernel_h: c.kernel_h,
                        kernel_w: c.kernel_w,
                        stride_h: c.stride_h,
                        stride_w: c.stride_w,
                        dilation_h: c.dilation_h,
                        dilation_w: c.dilation_w,
                        padding: c.padding,
                        input,
                        output,
                        act,
                    };
                    OwnedOp::Conv2dS8(cfg, t)
                }
                OwnedOp::DepthwiseConv2d(c, p) => {
                    let channels = c.in_c.saturating_mul(c.multiplier);
                    let t =
                        quantize_layer(&at, Axis::Last, (p, c.bias, channels), input, output, pc)?;
                    let cfg = DepthwiseConv2dS8Config {
                        in_h: c.in_h,
                        in_w: c.in_w,
                        in_c: c.in_c,
                        multiplier: c.multiplier,
                        kernel_h: c.kernel_h,
                        kernel_w: c.kernel_w,
                        stride_h: c.stride_h,
                        stride_w: c.stride_w,
                        dilation_h: c.dilation_h,
                        dilation_w: c.dilation_w,
                        padding: c.padding,
                        input,
                        output,
                        act,
                    };
                    OwnedOp::DepthwiseConv2dS8(cfg, t)
                }
                _ => return Err(PipelineError::invalid(at, "not a weighted layer")),
            };
            self.ops.push(new);
            self.cur = Some(output);
            self.plan(format!("{name}{suffix}"), last, ranges[last]);
            return Ok(last + 1);
        }
        match op {
            OwnedOp::Pool1d(_) | OwnedOp::Pool2d(_) | OwnedOp::GlobalAvgPool(_) => {
                self.ensure_s8(in_len, before, &at)?;
                let kind = |k: PoolKind| match k {
                    PoolKind::Max => PoolKindS8::Max,
                    PoolKind::Avg => PoolKindS8::Avg,
                };
                let act = ActivationS8::NONE;
                self.ops.push(match op {
                    OwnedOp::Pool1d(c) => OwnedOp::Pool1dS8(Pool1dS8Config {
                        len: c.len,
                        channels: c.channels,
                        window: c.window,
                        stride: c.stride,
                        padding: c.padding,
                        kind: kind(c.kind),
                        act,
                    }),
                    OwnedOp::Pool2d(c) => OwnedOp::Pool2dS8(Pool2dS8Config {
                        in_h: c.in_h,
                        in_w: c.in_w,
                        channels: c.channels,
                        window_h: c.window_h,
                        window_w: c.window_w,
                        stride_h: c.stride_h,
                        stride_w: c.stride_w,
                        padding: c.padding,
                        kind: kind(c.kind),
                        act,
                    }),
                    OwnedOp::GlobalAvgPool(c) => OwnedOp::GlobalAvgPoolS8(GlobalAvgPoolS8Config {
                        spatial: c.positions,
                        channels: c.channels,
                        act,
                    }),
                    _ => return Err(PipelineError::invalid(at, "not a pooling layer")),
                });
            }
            OwnedOp::Reshape(_) => self.ops.push(op.clone()),
            OwnedOp::SinusoidalEncoding(_) | OwnedOp::LearnedPositionalEncoding(..) => {
                let input = self.ensure_s8(in_len, before, &at)?;
                let output = asym(ranges[k], &at)?;
                self.ops.push(positional_add(&at, op, input, output)?);
                self.cur = Some(output);
            }
            OwnedOp::TransformerEncoder(c, p) => {
                let input = self.ensure_s8(in_len, before, &at)?;
                let stages = self.encoder_stages.get(k).copied().flatten();
                let stages = stages.ok_or_else(|| PipelineError::invalid(&at, "not calibrated"))?;
                let (new, output) = quantize_block(&at, c, p, &stages, input)?;
                self.ops.push(new);
                self.cur = Some(output);
            }
            OwnedOp::Activation(c) => {
                let input = self.ensure_s8(in_len, before, &at)?;
                let (kind, output) = self.activation(c.kind, input, ranges[k], &at)?;
                self.ops.push(OwnedOp::ActivationS8(ActivationS8Config {
                    len: c.len,
                    kind,
                }));
                self.cur = Some(output);
            }
            OwnedOp::LayerNorm(..) | OwnedOp::Embedding(..) => {
                if let Some(params) = self.cur.take() {
                    self.ops.push(OwnedOp::Dequantize {
                        len: in_len,
                        params,
                    });
                }
                self.ops.push(op.clone());
            }
            _ => {
                return Err(PipelineError::invalid(
                    at,
                    "has no int8 form (a batch norm must follow a weighted layer)",
                ))
            }
        }
        self.plan(name, k, ranges[k]);
        Ok(k + 1)
    }

    /// The int8 form of an activation and its output quantization.
    fn activation(
        &self,
        kind: ActivationKind,
        input: QuantParams,
        out_range: (f32, f32),
        at: &str,
    ) -> Result<(ActivationKindS8, QuantParams)> {
        let fixed = |scale: f32, zp: i32| QuantParams::new(scale, zp).at(|| at.to_string());
        Ok(match kind {
            ActivationKind::Relu => (ActivationKindS8::Relu { quant: input }, input),
            ActivationKind::Relu6 => (ActivationKindS8::Relu6 { quant: input }, input),
            ActivationKind::LeakyRelu { alpha } => {
                let out = asym(out_range, at)?;
                let p = LeakyReluParamsS8::new(
                    input.scale,
                    input.zero_point,
                    alpha,
                    out.scale,
                    out.zero_point,
                )
                .at(|| at.to_string())?;
                (ActivationKindS8::LeakyRelu(p), out)
            }
            ActivationKind::Sigmoid => (
                ActivationKindS8::Sigmoid { input },
                fixed(SIGMOID_OUTPUT_SCALE, SIGMOID_OUTPUT_ZERO_POINT)?,
            ),
            ActivationKind::Tanh => (
                ActivationKindS8::Tanh { input },
                fixed(TANH_OUTPUT_SCALE, TANH_OUTPUT_ZERO_POINT)?,
            ),
            ActivationKind::Gelu => {
                let output = asym(out_range, at)?;
                (ActivationKindS8::Gelu { input, output }, output)
            }
            ActivationKind::Softmax { depth } => {
                let params = SoftmaxParamsS8::new(input.scale, 1.0).at(|| at.to_string())?;
                (
                    ActivationKindS8::Softmax { params, depth },
                    fixed(SOFTMAX_OUTPUT_SCALE, SOFTMAX_OUTPUT_ZERO_POINT)?,
                )
            }
        })
    }
}
