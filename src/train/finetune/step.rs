//! The f32 head's arithmetic: forward from the parameters, backward of the loss gradient and
//! the SGD update, one layer at a time (the gradient of a layer's parameters is never stored:
//! each weight is updated as soon as its gradient `g[o] · x[i]` is known).

use super::head::{layers, locate, Head, HeadLayer, Weights};
use crate::error::{Buffer, Error, ShapeError};
use crate::model::Model;
use crate::num::math;
use crate::num::quant::QuantParams;

/// The head's input, read in place from the arena: f32 values, or int8 values with the
/// parameters that dequantize them (exactly as a `Dequantize` op would).
#[derive(Clone, Copy, Debug)]
pub(super) enum Input<'a> {
    F32(&'a [f32]),
    S8(&'a [i8], QuantParams),
}

impl<'a> Input<'a> {
    pub fn len(&self) -> usize {
        match self {
            Input::F32(x) => x.len(),
            Input::S8(x, _) => x.len(),
        }
    }

    /// The real values, in order.
    pub fn values(self) -> impl Iterator<Item = f32> + 'a {
        const IDENTITY: QuantParams = QuantParams {
            scale: 1.0,
            zero_point: 0,
        };
        let (f, q, p) = match self {
            Input::F32(x) => (x, &[][..], IDENTITY),
            Input::S8(x, p) => (&[][..], x, p),
        };
        f.iter()
            .copied()
            .chain(q.iter().map(move |&v| p.dequantize(v)))
    }
}

/// What a step is allowed to change.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mode {
    /// Only the last layer's bias is a parameter; its weights are read from the file.
    pub bias_only: bool,
    pub lr: f32,
    pub momentum: f32,
}

fn short(buffer: Buffer, expected: usize, actual: usize) -> Error {
    ShapeError::Length {
        buffer,
        expected,
        actual,
    }
    .into()
}

/// `len` values of `s` from `at` (a `Scratch`/`Params` length error if they are not there;
/// unreachable after the tuner's length checks).
fn part(s: &[f32], at: usize, len: usize, buffer: Buffer) -> Result<&[f32], Error> {
    at.checked_add(len)
        .and_then(|end| s.get(at..end))
        .ok_or(short(buffer, at.saturating_add(len), s.len()))
}

fn part_mut(s: &mut [f32], at: usize, len: usize, buffer: Buffer) -> Result<&mut [f32], Error> {
    let actual = s.len();
    at.checked_add(len)
        .and_then(|end| s.get_mut(at..end))
        .ok_or(short(buffer, at.saturating_add(len), actual))
}

/// Runs the f32 head on `x0`: writes every layer's output (after its ReLU) into `outs`, one
/// after the other; the last `classes` values are the logits.
///
/// `scales` holds the last layer's per-channel weight scales in bias-only mode with int8
/// weights (empty otherwise).
pub(super) fn forward(
    model: &Model<'_>,
    head: &Head,
    mode: Mode,
    x0: Input<'_>,
    params: &[f32],
    outs: &mut [f32],
    scales: &[f32],
) -> Result<(), Error> {
    let (mut param_at, mut out_at) = (0usize, 0usize);
    for (l, layer) in layers(model, head.cut).enumerate() {
        let layer = layer?;
        let (done, rest) = outs.split_at_mut(out_at.min(outs.len()));
        let y = part_mut(rest, 0, layer.out_len, Buffer::Scratch)?;
        let x = if l == 0 {
            x0
        } else {
            let at = out_at.checked_sub(layer.in_len).ok_or(Error::Config)?;
            Input::F32(part(done, at, layer.in_len, Buffer::Scratch)?)
        };
        if x.len() != layer.in_len {
            return Err(short(Buffer::Input, layer.in_len, x.len()));
        }
        if mode.bias_only {
            let b = part(params, 0, layer.out_len, Buffer::Params)?;
            fixed_dense(&layer, x, b, scales, y)?;
        } else {
            let w = part(params, param_at, layer.param_len()?, Buffer::Params)?;
            let (w, b) = w.split_at(layer.out_len * layer.in_len);
            for ((y, row), &b) in y.iter_mut().zip(w.chunks_exact(layer.in_len)).zip(b) {
                *y = b + dot(x, row);
            }
        }
        if layer.relu {
            for v in y.iter_mut() {
                // A comparison, not `max`, so that NaN stays NaN.
                if *v < 0.0 {
                    *v = 0.0;
                }
            }
        }
        param_at = param_at.saturating_add(layer.param_len()?);
        out_at = out_at.saturating_add(layer.out_len);
    }
    Ok(())
}

/// `Σ_i x[i] · w[i]`.
fn dot(x: Input<'_>, w: &[f32]) -> f32 {
    x.values().zip(w).fold(0.0, |s, (x, &w)| s + x * w)
}

/// The bias-only forward: `y[o] = b[o] + Σ_i w[o, i] x[i]` with the weights of the file
/// (int8 ones as `scales[o] · Σ_i q[o, i] x[i]`).
fn fixed_dense(
    layer: &HeadLayer<'_>,
    x: Input<'_>,
    b: &[f32],
    scales: &[f32],
    y: &mut [f32],
) -> Result<(), Error> {
    let n = layer.in_len;
    let w_len = layer.out_len.saturating_mul(n);
    match layer.weights {
        Weights::F32 { params, .. } => {
            let w = part(params, 0, w_len, Buffer::Weights)?;
            for ((y, row), &b) in y.iter_mut().zip(w.chunks_exact(n)).zip(b) {
                *y = b + dot(x, row);
            }
        }
        Weights::S8 { weights, .. } => {
            let w = weights
                .get(..w_len)
                .ok_or(short(Buffer::Weights, w_len, weights.len()))?;
            let s = part(scales, 0, layer.out_len, Buffer::Scratch)?;
            for (((y, row), &b), &s) in y.iter_mut().zip(w.chunks_exact(n)).zip(b).zip(s) {
                let acc = x
                    .values()
                    .zip(row)
                    .fold(0.0f32, |a, (x, &q)| a + x * f32::from(q));
                *y = b + s * acc;
            }
        }
    }
    Ok(())
}

/// One SGD step of parameter `p` with gradient `g`: plain, or heavy-ball momentum with
/// velocity `v` (as [`Sgd`](crate::train::optim::Sgd)).
#[inline]
fn sgd(p: &mut f32, v: Option<&mut f32>, g: f32, mode: Mode) {
    match v {
        Some(v) => {
            *v = mode.momentum * *v + g;
            *p -= mode.lr * *v;
        }
        None => *p -= mode.lr * g,
    }
}

/// Backpropagates the logits' gradient `grad` (in `g_a`, `classes` values) through the head
/// and updates the parameters, last layer first. `outs` holds the forward pass of the same
/// parameters; `g_a`, `g_b` are two gradient buffers of `widest` values (`g_b` may be empty
/// for a one-layer head). Every gradient is taken at the parameters before the step.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward<'g>(
    model: &Model<'_>,
    head: &Head,
    mode: Mode,
    x0: Input<'_>,
    params: &mut [f32],
    state: &mut [f32],
    outs: &[f32],
    mut g_a: &'g mut [f32],
    mut g_b: &'g mut [f32],
) -> Result<(), Error> {
    let momentum = mode.momentum != 0.0;
    for l in (0..head.layers).rev() {
        let at = locate(model, head.cut, l)?;
        let layer = at.layer;
        let (n_in, n_out) = (layer.in_len, layer.out_len);
        let y = part(outs, at.out_at, n_out, Buffer::Scratch)?;
        let g = part_mut(g_a, 0, n_out, Buffer::Scratch)?;
        if layer.relu {
            // ReLU's derivative from its output: 1 where it is positive, 0 elsewhere.
            for (g, &y) in g.iter_mut().zip(y) {
                if y <= 0.0 {
                    *g = 0.0;
                }
            }
        }
        let x = if l == 0 {
            x0
        } else {
            let prev = at.out_at.checked_sub(n_in).ok_or(Error::Config)?;
            Input::F32(part(outs, prev, n_in, Buffer::Scratch)?)
        };
        if mode.bias_only {
            // Without momentum `state` is empty, so every `get_mut` is `None`.
            let b = part_mut(params, 0, n_out, Buffer::Params)?;
            for (o, (p, &g)) in b.iter_mut().zip(g.iter()).enumerate() {
                sgd(p, state.get_mut(o), g, mode);
            }
            return Ok(());
        }
        let len = layer.param_len()?;
        let p = part_mut(params, at.param_at, len, Buffer::Params)?;
        let (w, b) = p.split_at_mut(n_out * n_in);
        let v = if momentum {
            part_mut(state, at.param_at, len, Buffer::OptimizerState)?
        } else {
            &mut []
        };
        let (v_w, v_b) = v.split_at_mut((n_out * n_in).min(v.len()));
        if l > 0 {
            // The input's gradient, with the weights before their update.
            let g_in = part_mut(g_b, 0, n_in, Buffer::Scratch)?;
            g_in.fill(0.0);
            for (row, &g) in w.chunks_exact(n_in).zip(g.iter()) {
                for (gi, &w) in g_in.iter_mut().zip(row) {
                    *gi += w * g;
                }
            }
        }
        for (o, ((row, bias), &g)) in w.chunks_exact_mut(n_in).zip(b).zip(g.iter()).enumerate() {
            let v_row = v_w.get_mut(o * n_in..(o + 1) * n_in).unwrap_or(&mut []);
            let mut v_row = v_row.iter_mut();
            for (w, x) in row.iter_mut().zip(x.values()) {
                sgd(w, v_row.next(), g * x, mode);
            }
            sgd(bias, v_b.get_mut(o), g, mode);
        }
        core::mem::swap(&mut g_a, &mut g_b);
    }
    Ok(())
}

/// The index of the largest value, NaN never chosen, 0 if all are NaN, ties to the first (as
/// [`Model::predict`]).
pub(super) fn argmax(v: &[f32]) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in v.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// `softmax(z)[y]`, computed as the thresholded loss computes it.
pub(super) fn probability(z: &[f32], y: usize) -> f32 {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum = z.iter().fold(0.0f32, |s, &v| s + math::exp(v - max));
    z.get(y)
        .map_or(f32::NAN, |&v| math::exp(v - max) * (1.0 / sum))
}
