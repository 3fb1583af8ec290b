//! The transformer operations in int8: calibration of an encoder block's internal activations,
//! the block's quantization, and the positional encodings as int8 adds.

use super::calibrate::{tensor_range, Calibration};
use crate::model::{op_at, requant_pairs, At, OwnedEncoderTensorsS8, OwnedOp, PipelineError};
use crate::model::{Activations, Result};
use tinytune::layers::attention::{EncoderStage, SequenceConfig, TransformerEncoderConfig};
use tinytune::layers::s8::attention::{
    encoder_s8_storage_len, quantize_encoder, EncoderRanges, EncoderS8Storage, EncoderShapeS8,
    PositionalAddS8Config,
};
use tinytune::layers::Params;
use tinytune::num::quant::{QuantParams, Requantizer};

/// The calibrated `(min, max)` of each [`EncoderStage`] of one block, in the order of
/// [`EncoderStage::ALL`].
pub(super) type StageRanges = [(f32, f32); 13];

/// For every operation of `model` that is an f32 encoder block, the ranges of its 13 internal
/// activations on the calibration samples (`None` for the other operations): each block runs
/// by [`forward_observed`](tinytune::layers::attention::TransformerEncoder::forward_observed) on
/// its input in the f32 trace (`input` for operation 0), every stage's values gathered over the
/// samples and reduced by `method` (extended to contain 0, as every range here).
pub(super) fn encoder_stage_ranges(
    ops: &[OwnedOp],
    batch: usize,
    input: &[f32],
    trace: &[Activations],
    method: Calibration,
) -> Result<Vec<Option<StageRanges>>> {
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let OwnedOp::TransformerEncoder(c, p) = op else {
            out.push(None);
            continue;
        };
        let x = match i.checked_sub(1).map(|j| trace.get(j)) {
            None => input,
            Some(Some(Activations::F32(x))) => x.as_slice(),
            Some(_) => return Err(PipelineError::invalid(op_at(i, op), "input is not f32")),
        };
        out.push(Some(stage_ranges(i, op, c, p, batch, x, method)?));
    }
    Ok(out)
}

/// The 13 ranges of one block (see [`encoder_stage_ranges`]).
fn stage_ranges(
    i: usize,
    op: &OwnedOp,
    c: &TransformerEncoderConfig,
    p: &[f32],
    batch: usize,
    x: &[f32],
    method: Calibration,
) -> Result<StageRanges> {
    let at = || op_at(i, op);
    let enc = c.init(Params::Frozen(p)).at(at)?;
    let mut scratch = vec![0.0f32; enc.scratch_len(batch)];
    let mut y = vec![0.0f32; x.len()];
    let mut values: [Vec<f32>; 13] = Default::default();
    enc.forward_observed(batch, None, x, &mut y, &mut scratch, &mut |stage, v| {
        if let Some(all) = values.get_mut(stage.index()) {
            all.extend_from_slice(v);
        }
    })
    .at(at)?;
    let mut ranges = [(0.0f32, 0.0f32); 13];
    for ((r, v), stage) in ranges.iter_mut().zip(&values).zip(EncoderStage::ALL) {
        *r = tensor_range(v, method, &format!("{} {stage:?}", at()))?;
    }
    Ok(ranges)
}

/// The int8 block of the f32 block `(c, p)`: weights, biases, requantizers and folded layer
/// norms by the core's [`quantize_encoder`] from the calibrated `stages`, except that the input
/// is quantized as `input` (the activations the block receives, so no requantization is needed
/// before it; calibration gives the same range for a block fed by a calibrated operation).
/// Returns the operation and its output quantization.
pub(super) fn quantize_block(
    at: &str,
    c: &TransformerEncoderConfig,
    p: &[f32],
    stages: &StageRanges,
    input: QuantParams,
) -> Result<(OwnedOp, QuantParams)> {
    let at = || at.to_string();
    let [_, ln1, q, k, v, attn, mha, resid, ln2, ff1, gelu, ff2, output] = *stages;
    let ranges = EncoderRanges {
        input: input_range(input),
        ln1,
        q,
        k,
        v,
        attn,
        mha,
        resid,
        ln2,
        ff1,
        gelu,
        ff2,
        output,
    };
    let (lens, scales_len) = encoder_s8_storage_len(c.width, c.ff).at(at)?;
    let mut weights = vec![0i8; lens.weights];
    let mut bias = vec![0i32; lens.bias];
    let mut requant = vec![Requantizer::ZERO; lens.bias];
    let mut ln_multiplier = vec![0i32; lens.ln];
    let mut ln_offset = vec![0i64; lens.ln];
    let mut scales = vec![0.0f32; scales_len];
    let shape = EncoderShapeS8 {
        seq: c.seq,
        width: c.width,
        heads: c.heads,
        ff: c.ff,
        causal: c.causal,
        eps: c.eps,
    };
    let storage = EncoderS8Storage {
        weights: &mut weights,
        bias: &mut bias,
        requant: &mut requant,
        ln_multiplier: &mut ln_multiplier,
        ln_offset: &mut ln_offset,
        scales: &mut scales,
    };
    let mut cfg = quantize_encoder(shape, p, &ranges, storage).at(at)?;
    // The input's own parameters, exactly (the range above may not round-trip bit for bit).
    cfg.quant.input = input;
    let out = cfg.quant.output;
    let tensors = OwnedEncoderTensorsS8 {
        weights,
        bias,
        requant: requant_pairs(&requant),
        ln_multiplier,
        ln_offset,
    };
    Ok((OwnedOp::TransformerEncoderS8(cfg, tensors), out))
}

/// The real range int8 parameters `q` cover.
fn input_range(q: QuantParams) -> (f32, f32) {
    let lo = q.scale * (i8::MIN as i32 - q.zero_point) as f32;
    let hi = q.scale * (i8::MAX as i32 - q.zero_point) as f32;
    (lo.min(0.0), hi.max(0.0))
}

/// The `[seq, width]` table of an f32 positional encoding: computed from the core's
/// [`SinusoidalEncoding::value`](tinytune::layers::attention::SinusoidalEncoding::value) (the
/// values its forward adds), or the learned parameters.
fn positional_table(at: &str, op: &OwnedOp) -> Result<(SequenceConfig, Vec<f32>)> {
    match op {
        OwnedOp::SinusoidalEncoding(c) => {
            let pe = c.init().at(|| at.to_string())?;
            let table = (0..c.seq)
                .flat_map(|p| (0..c.width).map(move |col| (p, col)))
                .map(|(p, col)| pe.value(p, col))
                .collect();
            let seq = SequenceConfig {
                seq: c.seq,
                width: c.width,
            };
            Ok((seq, table))
        }
        OwnedOp::LearnedPositionalEncoding(c, p) => Ok((*c, p.clone())),
        _ => Err(PipelineError::invalid(at, "not a positional encoding")),
    }
}

/// The int8 positional add of a sinusoidal or learned encoding: the table quantized with its
/// own min/max range (extended to contain 0), added to activations quantized as `input`, the
/// sum quantized as `output` (TFLite's int8 ADD).
pub(super) fn positional_add(
    at: &str,
    op: &OwnedOp,
    input: QuantParams,
    output: QuantParams,
) -> Result<OwnedOp> {
    let (c, table) = positional_table(at, op)?;
    let range = tensor_range(&table, Calibration::MinMax, &format!("{at} table"))?;
    let tq = QuantParams::asymmetric_from_min_max(range.0, range.1).at(|| at.to_string())?;
    let mut t8 = vec![0i8; table.len()];
    tq.quantize_slice(&table, &mut t8).at(|| at.to_string())?;
    let cfg = PositionalAddS8Config {
        seq: c.seq,
        width: c.width,
        input,
        table: tq,
        output,
    };
    // Validates the lengths and the add's constants now rather than when the model first runs.
    cfg.init(&t8).at(|| at.to_string())?;
    Ok(OwnedOp::PositionalAddS8(cfg, t8))
}
