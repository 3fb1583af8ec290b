//! Where everything of a fine-tuner lives: the buffer lengths of each mode, the regions of
//! the scratch, and the initial parameters copied from the model.

use super::head::{layers, locate, Head};
use super::{FinetuneConfig, FinetuneLens, Trainable};
use crate::error::{Buffer, Error, ShapeError};
use crate::model::Model;

/// The scratch regions: layer outputs, two gradient buffers, the bias-only weight scales.
pub(super) struct Scratch<'s> {
    pub outs: &'s mut [f32],
    pub g_a: &'s mut [f32],
    pub g_b: &'s mut [f32],
    pub scales: &'s mut [f32],
}

/// Lengths of the gradient buffers: one of `classes` for a one-layer head, else two of the
/// widest layer output (a layer's input gradient is the previous layer's output gradient).
fn grad_lens(head: &Head) -> (usize, usize) {
    if head.layers == 1 {
        (head.classes, 0)
    } else {
        (head.widest, head.widest)
    }
}

/// The buffer lengths of a fine-tuner of `head` with `config`.
pub(super) fn lens_of(head: &Head, config: &FinetuneConfig) -> FinetuneLens {
    let bias_only = config.trainable == Trainable::Bias;
    let params = if bias_only {
        head.classes
    } else {
        head.weights
    };
    let state = if config.momentum != 0.0 { params } else { 0 };
    let (g_a, g_b) = grad_lens(head);
    let scales = if bias_only && head.last_s8 {
        head.classes
    } else {
        0
    };
    let scratch = head
        .outs
        .saturating_add(g_a)
        .saturating_add(g_b)
        .saturating_add(scales);
    FinetuneLens {
        params,
        state,
        scratch,
    }
}

/// Splits the scratch into its regions (lengths checked in `new`).
pub(super) fn regions<'s>(
    scratch: &'s mut [f32],
    head: &Head,
    lens: &FinetuneLens,
) -> Result<Scratch<'s>, Error> {
    let (g_a, g_b) = grad_lens(head);
    let short = ShapeError::Length {
        buffer: Buffer::Scratch,
        expected: lens.scratch,
        actual: scratch.len(),
    };
    let s = scratch.get_mut(..lens.scratch).ok_or(short)?;
    let (outs, s) = s.split_at_mut(head.outs.min(s.len()));
    let (g_a, s) = s.split_at_mut(g_a.min(s.len()));
    let (g_b, scales) = s.split_at_mut(g_b.min(s.len()));
    Ok(Scratch {
        outs,
        g_a,
        g_b,
        scales,
    })
}

/// Copies the model's own head parameters into `params` (and the bias-only weight scales
/// into scratch), zeroes the state.
pub(super) fn fill(
    model: &Model<'_>,
    head: &Head,
    bias_only: bool,
    params: &mut [f32],
    state: &mut [f32],
    scratch: &mut [f32],
    lens: &FinetuneLens,
) -> Result<(), Error> {
    state.fill(0.0);
    if bias_only {
        let last = locate(model, head.cut, head.layers.saturating_sub(1))?.layer;
        for (o, p) in params.iter_mut().enumerate() {
            *p = last.bias(o);
        }
        let r = regions(scratch, head, lens)?;
        for (o, s) in r.scales.iter_mut().enumerate() {
            *s = last.weight_scale(o) as f32;
        }
        return Ok(());
    }
    let mut rest = params;
    for layer in layers(model, head.cut) {
        let layer = layer?;
        let n = layer.param_len()?;
        let (p, tail) = rest.split_at_mut(n.min(rest.len()));
        let (w, b) = p.split_at_mut((layer.out_len * layer.in_len).min(p.len()));
        for (o, row) in w.chunks_exact_mut(layer.in_len).enumerate() {
            let scale = layer.weight_scale(o);
            for (i, w) in row.iter_mut().enumerate() {
                *w = layer.weight(o, i, scale);
            }
        }
        for (o, b) in b.iter_mut().enumerate() {
            *b = layer.bias(o);
        }
        rest = tail;
    }
    Ok(())
}
