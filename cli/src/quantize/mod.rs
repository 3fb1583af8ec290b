//! Post-training int8 quantization of an f32 [`OwnedModel`], with calibration, batch-norm
//! folding and a per-layer quality report.
//!
//! [`quantize`] turns an f32 model into the int8 operations the core runs, as the TFLite
//! converter does:
//!
//! 1. **Batch norms are folded** ([`fold_batch_norms`]) into the dense / conv1d / conv2d /
//!    depthwise operation right before each; a batch norm anywhere else is an error.
//! 2. **Calibration**: the folded f32 model runs on the calibration samples, and each
//!    operation's output range is taken per tensor ([`Calibration::MinMax`] or
//!    [`Calibration::Percentile`]), extended to contain 0, and turned into asymmetric int8
//!    parameters ([`QuantParams::asymmetric_from_min_max`]). The model input's range is taken the
//!    same way from the calibration samples. An encoder block's 13 internal activations
//!    ([`EncoderStage`](tinytune::layers::attention::EncoderStage): layer norms, Q, K, V, heads,
//!    projections, residual sums, feed-forward) are taken the same way, observed by
//!    [`forward_observed`](tinytune::layers::attention::TransformerEncoder::forward_observed).
//! 3. **Operations** map to their int8 forms:
//!    - dense / conv1d / conv2d / depthwise → `…S8` with per-channel (or per-tensor, see
//!      [`QuantizeOptions::per_channel`]) symmetric int8 weights, int32 biases and requantizers.
//!      A directly following ReLU or ReLU6 is **fused** into the layer's clamp
//!      ([`activation_range_s8`](tinytune::layers::s8::activation_range_s8)), its output range being the activation's.
//!    - pooling and global average pooling → their `…S8` forms, which keep their input's
//!      quantization; reshape stays as is (it copies int8 as well as f32).
//!    - activations → [`ActivationS8Config`](tinytune::layers::s8::ActivationS8Config): ReLU/ReLU6 keep the input quantization; leaky
//!      ReLU and GELU get their calibrated output range; sigmoid (1/256, −128), tanh (1/128, 0)
//!      and softmax (1/256, −128, `beta = 1`) have fixed output quantization.
//!    - sinusoidal and learned positional encodings → `PositionalAddS8`: the `[seq, width]`
//!      table (the sinusoid's values as the f32 layer computes them, or the learned parameters)
//!      quantized with its own min/max range, added by TFLite's int8 ADD, the output at the
//!      operation's calibrated range.
//!    - transformer encoder block → `TransformerEncoderS8` by the core's
//!      [`quantize_encoder`](tinytune::layers::s8::attention::quantize_encoder) from the
//!      calibrated internal ranges (per-channel int8 weights, folded layer norms), its input
//!      quantized as the activations it receives (no requantization in between; a block after
//!      a block takes the previous one's output quantization), its output at the block
//!      output's range. Global average pooling after it (mean over the positions) keeps that
//!      quantization, as any pooling.
//!    - layer norm and embedding have no int8 form: they stay f32 between a `Dequantize` and a
//!      `Quantize` (an embedding first in the model simply runs before the first `Quantize`).
//!    - a `Quantize` is emitted where f32 activations enter int8 operations (at the start) and
//!      a `Dequantize` where they leave (at the end).
//! 4. **Report** ([`QuantReport`]): for each layer of the result (a fused layer + activation
//!    counts as one), the SQNR of its int8 output against the f32 model's output at the same
//!    point, on the calibration samples: `10 · log10(Σ f² / Σ (f − q)²)` dB, where `f` is the f32
//!    (folded) model's output and `q` the dequantized output of the int8 model when the **int8
//!    model** runs from the start (so errors accumulate as they will on the device). A perfect
//!    match gives `+∞`, an all-zero `f` with errors `−∞`.

mod builder;
mod calibrate;
mod encoder;
mod fold;
mod weights;

pub use calibrate::{tensor_range, Calibration};
pub use fold::fold_batch_norms;

use crate::model::{op_at, Activations, OwnedModel, OwnedOp, PipelineError, Result};
use builder::Builder;
use tinytune::num::quant::QuantParams;

/// Options of [`quantize`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantizeOptions {
    /// How activation ranges are chosen.
    pub calibration: Calibration,
    /// One weight scale per output channel (`true`, the TFLite default) or one per tensor.
    pub per_channel: bool,
}

impl Default for QuantizeOptions {
    /// Min/max calibration, per-channel weights.
    fn default() -> Self {
        QuantizeOptions {
            calibration: Calibration::MinMax,
            per_channel: true,
        }
    }
}

/// The quality of one layer of a quantized model.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerReport {
    /// `layers.{i}.{kind}` with `i` the operation's index in the f32 model given to
    /// [`quantize`], and `+relu`/`+relu6` appended for a fused activation.
    pub name: String,
    /// Index of the layer's operation in the quantized model.
    pub op: usize,
    /// SQNR of the layer's dequantized int8 output against the f32 output, in dB (see the
    /// [module documentation](self)).
    pub sqnr_db: f64,
    /// The calibrated range of the layer's f32 output (min/max or percentiles, extended to
    /// contain 0); the output quantization is derived from it, except where it is fixed
    /// (sigmoid, tanh, softmax) or inherited (pooling, reshape, ReLU/ReLU6 layers).
    pub range: (f32, f32),
    /// The output's quantization (`None` for an operation left in f32).
    pub quant: Option<QuantParams>,
}

/// What [`quantize`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantReport {
    /// Quantization of the model input (of the first `Quantize`).
    pub input: Option<QuantParams>,
    /// One entry per layer, in order.
    pub layers: Vec<LayerReport>,
}

/// A layer of the result, before its SQNR is measured.
struct Plan {
    name: String,
    f32_index: usize,
    op: usize,
    quant: Option<QuantParams>,
    range: (f32, f32),
}

/// Quantizes the f32 `model` to int8 (see the [module documentation](self)).
///
/// # Shapes
/// `calibration`: `[samples, input_len]`, `samples >= 1`.
///
/// # Errors
/// [`PipelineError::Invalid`] for an empty model or one already holding int8 operations, an
/// empty calibration set or one whose length is not a multiple of the input length, a batch
/// norm that cannot be folded, a NaN/infinite calibration value or activation, or a percentile
/// outside `[50, 100]`; [`PipelineError::Core`] naming the operation when the core rejects
/// its data or quantization (for example a leaky ReLU with a negative slope, whose int8 form
/// needs a negative multiplier).
pub fn quantize(
    model: &OwnedModel,
    calibration: &[f32],
    options: QuantizeOptions,
) -> Result<(OwnedModel, QuantReport)> {
    if let Some((i, op)) = model.ops.iter().enumerate().find(|(_, op)| op.is_int8()) {
        return Err(PipelineError::invalid(
            op_at(i, op),
            "the model is already (partly) int8; quantize takes an f32 model",
        ));
    }
    let input_len = model.input_len()?;
    if calibration.is_empty() || calibration.len() % input_len != 0 {
        return Err(PipelineError::invalid(
            "calibration",
            format!(
                "holds {} values, not a non-zero multiple of the input length {input_len}",
                calibration.len()
            ),
        ));
    }
    let batch = calibration.len() / input_len;
    let (folded, origin) = fold::fold_with_origin(model)?;
    let f32_trace = folded.trace(batch, calibration)?;
    let method = options.calibration;
    let input_range = tensor_range(calibration, method, "calibration input")?;
    let mut ranges = Vec::with_capacity(f32_trace.len());
    for (i, t) in f32_trace.iter().enumerate() {
        let Activations::F32(v) = t else {
            return Err(PipelineError::invalid(op_at(i, &folded.ops[i]), "not f32"));
        };
        ranges.push(tensor_range(v, method, &op_at(i, &folded.ops[i]))?);
    }
    let encoder_stages =
        encoder::encoder_stage_ranges(&folded.ops, batch, calibration, &f32_trace, method)?;
    let mut b = Builder {
        ops: Vec::new(),
        plans: Vec::new(),
        cur: None,
        input: None,
        per_channel: options.per_channel,
        encoder_stages,
    };
    let mut k = 0;
    while k < folded.ops.len() {
        let before = if k == 0 { input_range } else { ranges[k - 1] };
        k = b.step(&folded, &origin, k, before, &ranges)?;
    }
    if let Some(q) = b.cur {
        let len = folded.output_len()?;
        b.ops.push(OwnedOp::Dequantize { len, params: q });
    }
    let quantized = OwnedModel::new(b.ops);
    let q_trace = quantized.trace(batch, calibration)?;
    let mut layers = Vec::with_capacity(b.plans.len());
    for p in b.plans {
        let reference = match f32_trace.get(p.f32_index) {
            Some(Activations::F32(v)) => v,
            _ => return Err(PipelineError::invalid(p.name, "no f32 reference output")),
        };
        let q: Vec<f32> = match (q_trace.get(p.op), p.quant) {
            (Some(Activations::S8(v)), Some(qp)) => v.iter().map(|&x| qp.dequantize(x)).collect(),
            (Some(Activations::F32(v)), _) => v.clone(),
            _ => return Err(PipelineError::invalid(p.name, "no int8 output")),
        };
        layers.push(LayerReport {
            sqnr_db: sqnr_db(reference, &q),
            name: p.name,
            op: p.op,
            range: p.range,
            quant: p.quant,
        });
    }
    Ok((
        quantized,
        QuantReport {
            input: b.input,
            layers,
        },
    ))
}

/// `10 · log10(Σ f² / Σ (f − q)²)` in dB (`+∞` when `q == f`).
pub fn sqnr_db(f: &[f32], q: &[f32]) -> f64 {
    let (signal, noise) = f.iter().zip(q).fold((0.0f64, 0.0f64), |(s, n), (&a, &b)| {
        let (a, b) = (f64::from(a), f64::from(b));
        (s + a * a, n + (a - b) * (a - b))
    });
    if noise == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (signal / noise).log10()
}
