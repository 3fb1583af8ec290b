//! Folding every batch norm into the weighted layer before it.

use crate::model::{build, op_at, op_requantizers, At, OwnedModel, OwnedOp, PipelineError, Result};
use tinytune::layers::fold::{fold_into_conv, fold_into_dense, fold_into_depthwise};
use tinytune::layers::Params;

/// The model with every [`OwnedOp::BatchNorm`] folded into the dense, convolution or depthwise
/// operation right before it (`W' = s · W`, `b' = s · (b − mean) + beta` with
/// `s = gamma / sqrt(var + eps)`, by [`tinytune::layers::fold`]); a weighted layer without a
/// bias gets one (`bias: true`). Inference outputs are unchanged up to f32 rounding.
///
/// # Errors
/// [`PipelineError::Invalid`] naming the batch norm if it is the first operation, does not
/// follow a dense/conv1d/conv2d/depthwise operation (for example after an activation; batch
/// norms in a row after such a layer fold into it one after the other), or has a different channel count or per-sample length than that
/// layer's output; [`PipelineError::Core`] if a layer's data is rejected.
pub fn fold_batch_norms(model: &OwnedModel) -> Result<OwnedModel> {
    Ok(fold_with_origin(model)?.0)
}

/// [`fold_batch_norms`], also returning for each folded operation its index in `model`.
pub(crate) fn fold_with_origin(model: &OwnedModel) -> Result<(OwnedModel, Vec<usize>)> {
    let mut ops: Vec<OwnedOp> = Vec::with_capacity(model.ops.len());
    let mut origin = Vec::with_capacity(model.ops.len());
    for (i, op) in model.ops.iter().enumerate() {
        let OwnedOp::BatchNorm(c, p, s) = op else {
            ops.push(op.clone());
            origin.push(i);
            continue;
        };
        let at = || op_at(i, op);
        let bn = c.init(Params::Frozen(p), Params::Frozen(s)).at(at)?;
        let prev_i = origin.last().copied().unwrap_or(0);
        let no_layer = || {
            PipelineError::invalid(
                at(),
                "a batch norm can only be folded right after a dense, conv1d, conv2d or \
                 depthwise_conv2d operation",
            )
        };
        let prev = ops.last_mut().ok_or_else(no_layer)?;
        let prev_out = {
            let requant = op_requantizers(prev_i, prev)?;
            let lens = build(prev_i, prev, &requant)?.lens();
            lens.1
        };
        let (is_dense, is_depthwise) = (
            matches!(prev, OwnedOp::Dense(..)),
            matches!(prev, OwnedOp::DepthwiseConv2d(..)),
        );
        let bn_len = c.positions.saturating_mul(c.channels);
        let (channels, bias, params) = match prev {
            OwnedOp::Dense(pc, pp) => (pc.out_features, &mut pc.bias, pp),
            OwnedOp::Conv1d(pc, pp) => (pc.out_c, &mut pc.bias, pp),
            OwnedOp::Conv2d(pc, pp) => (pc.out_c, &mut pc.bias, pp),
            OwnedOp::DepthwiseConv2d(pc, pp) => {
                (pc.in_c.saturating_mul(pc.multiplier), &mut pc.bias, pp)
            }
            _ => return Err(no_layer()),
        };
        if channels != c.channels || prev_out != bn_len {
            return Err(PipelineError::invalid(
                at(),
                format!(
                    "has {} channels over {} values per sample, but the layer before (op \
                     {prev_i}) gives {channels} channels over {prev_out} values",
                    c.channels, bn_len
                ),
            ));
        }
        if !*bias {
            params.resize(params.len() + channels, 0.0);
            *bias = true;
        }
        let weights_len = params.len() - channels;
        let (w, b) = params.split_at_mut(weights_len);
        if is_depthwise {
            fold_into_depthwise(&bn, w, b)
        } else if is_dense {
            fold_into_dense(&bn, w, b)
        } else {
            fold_into_conv(&bn, w, b)
        }
        .at(at)?;
    }
    Ok((OwnedModel::new(ops), origin))
}
