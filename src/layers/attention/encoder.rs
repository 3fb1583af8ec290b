//! The pre-LN transformer encoder block.

use super::common::{check_lengths, check_scratch, mask, take, take_mut, take_opt};
use super::mha::{init_mha, Dims};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::dense::{dense_f32, DenseShape};
use crate::kernels::generic::grad::activation::gelu_backward_f32;
use crate::kernels::generic::grad::dense::dense_backward_f32;
use crate::kernels::generic::grad::norm::layer_norm_backward_f32;
use crate::kernels::ActivationF32;
use crate::layers::{check_io, Params};
use crate::num::math;
use crate::rng::{bernoulli, RngCore};
use crate::train::init::{Fans, Init};

/// Configuration of a [`TransformerEncoder`] block.
///
/// # Buffers
/// - parameters ([`param_len`](Self::param_len) `= 4·w + 4·(w² + w) + 2·f·w + f + w` for
///   width `w` and feed-forward width `f`), in order: `ln1.gamma [w], ln1.beta [w]`, the
///   [`MultiHeadAttention`](super::MultiHeadAttention) parameters (`Wq, bq, Wk, bk, Wv, bv,
///   Wo, bo`), `ln2.gamma [w], ln2.beta [w], W1 [f, w], b1 [f], W2 [w, f], b2 [w]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransformerEncoderConfig {
    /// Positions per sample.
    pub seq: usize,
    /// Features per position.
    pub width: usize,
    /// Attention heads; divides `width`.
    pub heads: usize,
    /// Width of the feed-forward hidden layer.
    pub ff: usize,
    /// Dropout rate in training, in `[0, 1)`, on the attention output and on the feed-forward
    /// output before each residual addition.
    pub dropout: f32,
    /// Whether attention is causal.
    pub causal: bool,
    /// Layer-norm epsilon; finite and `> 0`.
    pub eps: f32,
}

impl TransformerEncoderConfig {
    /// A configuration without dropout, not causal, with `eps = 1e-5`.
    pub fn new(seq: usize, width: usize, heads: usize, ff: usize) -> Self {
        TransformerEncoderConfig {
            seq,
            width,
            heads,
            ff,
            dropout: 0.0,
            causal: false,
            eps: 1e-5,
        }
    }

    fn dims(&self) -> Result<EncDims, Error> {
        let mha = Dims::new(self.seq, self.width, self.heads)?;
        if self.ff == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let (s, w, f) = (self.seq, self.width, self.ff);
        let sf = product(&[s, f])?;
        let fw = product(&[f, w])?;
        let add = |xs: &[usize]| {
            xs.iter()
                .try_fold(0usize, |a, &x| a.checked_add(x))
                .ok_or(ShapeError::Dimension)
        };
        let w4 = product(&[4, w])?;
        let params = add(&[w4, mha.params, fw, f, fw, w])?;
        let s4 = product(&[4, s])?;
        let sw3 = product(&[3, mha.sw])?;
        let cache = add(&[s4, mha.saved, sw3, sf])?;
        let fwd = add(&[mha.sw, mha.saved.max(sf)])?;
        let bwd = add(&[
            product(&[2, mha.sw])?,
            product(&[2, sf])?.max(product(&[6, mha.sw])?),
        ])?;
        Ok(EncDims {
            mha,
            ff: f,
            sf,
            params,
            cache,
            scratch: fwd.max(bwd),
        })
    }

    /// Number of parameters, `4·w + 4·(w² + w) + 2·f·w + f + w`.
    ///
    /// # Errors
    /// As [`init`](Self::init), without the parameter length and the configuration values.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(self.dims()?.params)
    }

    /// Validates the configuration and borrows the parameters.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a size is zero or overflows; [`ShapeError::Parameter`] if
    /// `heads` does not divide `width`; [`ShapeError::Length`] with [`Buffer::Params`] for a
    /// wrong parameter length; [`Error::Config`] if `dropout` is outside `[0, 1)` or `eps` is
    /// not finite and positive.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<TransformerEncoder<'a>, Error> {
        let dims = self.dims()?;
        let params = params.into();
        check_len(Buffer::Params, dims.params, params.len())?;
        // Written so that NaN fails.
        if !(self.dropout >= 0.0 && self.dropout < 1.0 && self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::Config);
        }
        Ok(TransformerEncoder {
            config: self,
            dims,
            keep: 1.0 - self.dropout,
            params,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EncDims {
    mha: Dims,
    ff: usize,
    sf: usize,
    params: usize,
    /// Cache values per sample.
    cache: usize,
    /// Scratch values of any call.
    scratch: usize,
}

/// The parameter blocks, in order; each layer norm's gamma and beta as one `[2, w]` block
/// (the layout the layer-norm backward kernel takes for its gradients).
struct Parts<T> {
    ln1: T,
    mha: T,
    ln2: T,
    w1: T,
    b1: T,
    w2: T,
    b2: T,
}

impl<T> Parts<T> {
    fn new([ln1, mha, ln2, w1, b1, w2, b2]: [T; 7]) -> Self {
        Parts {
            ln1,
            mha,
            ln2,
            w1,
            b1,
            w2,
            b2,
        }
    }
}

impl EncDims {
    fn lens(&self) -> [usize; 7] {
        let (w, f) = (self.mha.width, self.ff);
        [2 * w, self.mha.params, 2 * w, f * w, f, w * f, w]
    }

    fn parts<'p>(&self, params: &'p [f32]) -> Parts<&'p [f32]> {
        let mut r = params;
        Parts::new(self.lens().map(|n| take(&mut r, n)))
    }

    fn grad_parts<'p>(&self, grads: Option<&'p mut [f32]>) -> Parts<Option<&'p mut [f32]>> {
        let mut r = grads;
        Parts::new(self.lens().map(|n| take_opt(&mut r, n)))
    }

    fn ff1(&self) -> DenseShape {
        DenseShape {
            batch: self.mha.seq,
            in_features: self.mha.width,
            out_features: self.ff,
        }
    }

    fn ff2(&self) -> DenseShape {
        DenseShape {
            batch: self.mha.seq,
            in_features: self.ff,
            out_features: self.mha.width,
        }
    }
}

/// Layer norm of each row of `x` into `out`; saves each row's mean and `1/sqrt(var + eps)` into
/// `stats` when given (the layout [`layer_norm_backward_f32`] reads).
fn normalise(x: &[f32], ln: &[f32], eps: f32, out: &mut [f32], mut stats: Option<&mut [f32]>) {
    let (gamma, beta) = ln.split_at(ln.len() / 2);
    let w = gamma.len().max(1);
    let n = w as f32;
    for (r, (x, y)) in x.chunks_exact(w).zip(out.chunks_exact_mut(w)).enumerate() {
        let mean = x.iter().sum::<f32>() / n;
        let var = x.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let rstd = 1.0 / math::sqrt(var + eps);
        if let Some([m, s]) = stats
            .as_deref_mut()
            .and_then(|s| s.get_mut(2 * r..2 * r + 2))
        {
            *m = mean;
            *s = rstd;
        }
        renormalise_row(x, mean, rstd, gamma, beta, y);
    }
}

/// One row of the layer norm from its statistics (the same arithmetic in forward and when
/// backward recomputes the normalised values).
fn renormalise_row(x: &[f32], mean: f32, rstd: f32, gamma: &[f32], beta: &[f32], y: &mut [f32]) {
    for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
        *y = g * ((x - mean) * rstd) + b;
    }
}

/// Recomputes a layer norm's output from the saved statistics.
fn renormalise(x: &[f32], stats: &[f32], ln: &[f32], out: &mut [f32]) {
    let (gamma, beta) = ln.split_at(ln.len() / 2);
    let w = gamma.len().max(1);
    let rows = x.chunks_exact(w).zip(out.chunks_exact_mut(w));
    for ((x, y), st) in rows.zip(stats.chunks_exact(2)) {
        if let [m, s] = st {
            renormalise_row(x, *m, *s, gamma, beta, y);
        }
    }
}

/// A pre-LN transformer encoder block (Xiong et al. 2020), per sample `x` `[seq, width]`:
///
/// ```text
/// y   = x + dropout(MHA(LN1(x)))
/// out = y + dropout(W2 · GELU(W1 · LN2(y) + b1) + b2)
/// ```
///
/// with GELU in its exact (erf) form and inverted dropout (training only: each value kept with
/// probability `1 - dropout` and scaled by `1 / (1 - dropout)`; the identity in inference). The
/// masks are drawn from the caller's rng in `forward_train` and kept in the cache, so
/// `backward` uses exactly them. Padding (`lengths`) masks keys as in
/// [`MultiHeadAttention`](super::MultiHeadAttention).
///
/// Like the attention layer it takes explicit scratch and lengths instead of implementing
/// [`Layer`](crate::layers::Layer).
#[derive(Debug)]
pub struct TransformerEncoder<'a> {
    config: TransformerEncoderConfig,
    dims: EncDims,
    /// `1 - dropout`.
    keep: f32,
    params: Params<'a>,
}

impl TransformerEncoder<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &TransformerEncoderConfig {
        &self.config
    }

    /// Values per sample of the input and of the output, `seq · width`.
    pub fn io_len(&self) -> usize {
        self.dims.mha.sw
    }

    /// Number of parameters.
    pub fn param_len(&self) -> usize {
        self.dims.params
    }

    /// The parameters, in the documented order.
    pub fn params(&self) -> &[f32] {
        self.params.as_slice()
    }

    /// The parameters for writing, or `None` if frozen.
    pub fn params_mut(&mut self) -> Option<&mut [f32]> {
        self.params.as_mut_slice()
    }

    /// Whether the parameters may be updated.
    pub fn is_trainable(&self) -> bool {
        self.params.is_trainable()
    }

    /// Scratch values every call needs (at least; the same for every `batch`): with
    /// `s, w, h, f` = seq, width, heads, ff,
    /// `max(s·w + max(4·s·w + h·s², s·f), 2·s·w + max(2·s·f, 6·s·w))`.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        self.dims.scratch
    }

    /// Values [`forward_train`](Self::forward_train) saves for backward:
    /// `batch · (4·s + 7·s·w + h·s² + s·f)` (layer-norm statistics, the attention's Q, K, V,
    /// heads and probabilities, the two dropout masks, the first residual sum and the
    /// feed-forward pre-activation). Saturates on overflow (the length checks then fail).
    pub fn cache_len(&self, batch: usize) -> usize {
        batch.saturating_mul(self.dims.cache)
    }

    /// Layer-norm scales 1 and shifts 0, every weight matrix from `init` with its fans, biases 0.
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen; [`Error::Config`] as [`Init::fill`].
    pub fn init_params<R: RngCore + ?Sized>(
        &mut self,
        init: Init,
        rng: &mut R,
    ) -> Result<(), Error> {
        let d = self.dims;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        let mut r = params;
        let [ln1, mha, ln2, w1, b1, w2, b2] = d.lens().map(|n| take_mut(&mut r, n));
        for ln in [ln1, ln2] {
            let (gamma, beta) = ln.split_at_mut(d.mha.width);
            gamma.fill(1.0);
            beta.fill(0.0);
        }
        for b in [b1, b2] {
            b.fill(0.0);
        }
        init_mha(&d.mha, mha, init, rng)?;
        let (w, f) = (d.mha.width, d.ff);
        init.fill(
            w1,
            Fans {
                fan_in: w,
                fan_out: f,
            },
            rng,
        )?;
        init.fill(
            w2,
            Fans {
                fan_in: f,
                fan_out: w,
            },
            rng,
        )
    }

    fn check(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: usize,
        output: usize,
    ) -> Result<(), Error> {
        let sw = self.dims.mha.sw;
        check_io(batch, sw, sw, input, output)?;
        check_lengths(lengths, batch)?;
        Ok(())
    }

    /// Inference (no dropout).
    ///
    /// # Shapes
    /// - `lengths`: `[batch]` valid lengths, or `None`
    /// - `input`, `output`: `[batch, seq, width]`
    /// - `scratch`: at least [`scratch_len`](Self::scratch_len) values, overwritten
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] naming the first
    /// wrong buffer (`Input`, `Output`, `Input2` for `lengths`, `Scratch`). Nothing is written
    /// on error.
    pub fn forward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        check_scratch(self.dims.scratch, scratch.len())?;
        let d = &self.dims;
        let (sw, eps) = (d.mha.sw, self.config.eps);
        let p = d.parts(self.params.as_slice());
        let mut rest = &mut *scratch;
        let h = take_mut(&mut rest, sw);
        let samples = input.chunks_exact(sw).zip(output.chunks_exact_mut(sw));
        for (b, (x, out)) in samples.enumerate() {
            normalise(x, p.ln1, eps, h, None);
            let m = mask(self.config.causal, lengths, b, d.mha.seq);
            let work = super::common::sub_mut(rest, 0, d.mha.saved);
            d.mha.forward(p.mha, m, h, out, work)?;
            for (o, &x) in out.iter_mut().zip(x) {
                *o += x;
            }
            normalise(out, p.ln2, eps, h, None);
            let z = super::common::sub_mut(rest, 0, d.sf);
            dense_f32(d.ff1(), h, p.w1, Some(p.b1), ActivationF32::NONE, z)?;
            for v in z.iter_mut() {
                *v = math::gelu(*v);
            }
            dense_f32(d.ff2(), z, p.w2, Some(p.b2), ActivationF32::NONE, h)?;
            for (o, &f) in out.iter_mut().zip(h.iter()) {
                *o += f;
            }
        }
        Ok(())
    }

    /// Fills `mask` with dropout multipliers (`1 / keep` or 0; all 1 without dropout, drawing
    /// nothing) and multiplies `x` by it.
    fn dropout<R: RngCore + ?Sized>(&self, x: &mut [f32], mask: &mut [f32], rng: &mut R) {
        if self.config.dropout == 0.0 {
            mask.fill(1.0);
            return;
        }
        let scale = 1.0 / self.keep;
        for (x, m) in x.iter_mut().zip(mask.iter_mut()) {
            *m = if bernoulli(rng, self.keep) {
                scale
            } else {
                0.0
            };
            *x *= *m;
        }
    }

    /// Training forward: as [`forward`](Self::forward) with dropout, whose masks (one
    /// [`bernoulli`] draw per value, attention output then feed-forward output, sample by
    /// sample; none without dropout) are saved in `cache` with the other values backward needs.
    ///
    /// # Shapes
    /// As [`forward`](Self::forward), and `cache`: [`cache_len`](Self::cache_len) values.
    ///
    /// # Errors
    /// As [`forward`](Self::forward), and [`ShapeError::Length`] with [`Buffer::Cache`].
    #[allow(clippy::too_many_arguments)]
    pub fn forward_train<R: RngCore + ?Sized>(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
        scratch: &mut [f32],
        rng: &mut R,
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        check_scratch(self.dims.scratch, scratch.len())?;
        let d = &self.dims;
        let (s, sw, eps) = (d.mha.seq, d.mha.sw, self.config.eps);
        let p = d.parts(self.params.as_slice());
        let mut rest = &mut *scratch;
        let h = take_mut(&mut rest, sw);
        let g = take_mut(&mut rest, d.sf);
        let samples = input.chunks_exact(sw).zip(output.chunks_exact_mut(sw));
        for (b, ((x, out), c)) in samples.zip(cache.chunks_exact_mut(d.cache)).enumerate() {
            let mut c = c;
            let stats1 = take_mut(&mut c, 2 * s);
            let saved = take_mut(&mut c, d.mha.saved);
            let mask1 = take_mut(&mut c, sw);
            let y = take_mut(&mut c, sw);
            let stats2 = take_mut(&mut c, 2 * s);
            let z = take_mut(&mut c, d.sf);
            let mask2 = take_mut(&mut c, sw);

            normalise(x, p.ln1, eps, h, Some(stats1));
            let m = mask(self.config.causal, lengths, b, s);
            d.mha.forward(p.mha, m, h, out, saved)?;
            self.dropout(out, mask1, rng);
            for (o, &x) in out.iter_mut().zip(x) {
                *o += x;
            }
            y.copy_from_slice(out);
            normalise(y, p.ln2, eps, h, Some(stats2));
            dense_f32(d.ff1(), h, p.w1, Some(p.b1), ActivationF32::NONE, z)?;
            for (g, &z) in g.iter_mut().zip(z.iter()) {
                *g = math::gelu(z);
            }
            dense_f32(d.ff2(), g, p.w2, Some(p.b2), ActivationF32::NONE, h)?;
            self.dropout(h, mask2, rng);
            for (o, &f) in out.iter_mut().zip(h.iter()) {
                *o += f;
            }
        }
        Ok(())
    }

    /// Backward: overwrites `grad_input` (when given) with `dL/d input` and adds `dL/d params`
    /// into `grad_params` (when given, in the parameter order), through the dropout masks
    /// `forward_train` saved.
    ///
    /// # Shapes
    /// - `lengths`: as given to [`forward_train`](Self::forward_train)
    /// - `input`, `output`, `grad_output`, `grad_input`: `[batch, seq, width]`
    /// - `cache`: as filled by [`forward_train`](Self::forward_train)
    /// - `grad_params`: [`param_len`](Self::param_len) values
    /// - `scratch`: at least [`scratch_len`](Self::scratch_len) values, overwritten
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming the first wrong buffer (`Input`, `Output`, `Input2`,
    /// `Cache`, `GradOutput`, `GradInput`, `GradParams`, `Scratch`); [`Error::Frozen`] if
    /// `grad_params` is given for frozen parameters. Nothing is written on error.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        mut grad_input: Option<&mut [f32]>,
        mut grad_params: Option<&mut [f32]>,
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.check(batch, lengths, input.len(), output.len())?;
        let d = &self.dims;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        check_len(Buffer::GradOutput, output.len(), grad_output.len())?;
        if let Some(g) = grad_input.as_deref() {
            check_len(Buffer::GradInput, input.len(), g.len())?;
        }
        if let Some(g) = grad_params.as_deref() {
            if !self.is_trainable() {
                return Err(Error::Frozen);
            }
            check_len(Buffer::GradParams, d.params, g.len())?;
        }
        check_scratch(d.scratch, scratch.len())?;
        let (s, sw, w) = (d.mha.seq, d.mha.sw, d.mha.width);
        let p = d.parts(self.params.as_slice());
        let per_sample = input
            .chunks_exact(sw)
            .zip(cache.chunks_exact(d.cache))
            .zip(grad_output.chunks_exact(sw));
        for (b, ((x, c), gout)) in per_sample.enumerate() {
            let mut c = c;
            let stats1 = take(&mut c, 2 * s);
            let saved = take(&mut c, d.mha.saved);
            let mask1 = take(&mut c, sw);
            let y = take(&mut c, sw);
            let stats2 = take(&mut c, 2 * s);
            let z = take(&mut c, d.sf);
            let mask2 = take(&mut c, sw);
            let gp = d.grad_parts(grad_params.as_deref_mut());

            let mut rest = &mut *scratch;
            let b1 = take_mut(&mut rest, sw);
            let b2 = take_mut(&mut rest, sw);
            // Feed-forward branch, with `rest` as two [s, f] buffers.
            {
                let mut r = &mut *rest;
                let g = take_mut(&mut r, d.sf);
                let dz = take_mut(&mut r, d.sf);
                for ((b1, &go), &m) in b1.iter_mut().zip(gout).zip(mask2) {
                    *b1 = go * m;
                }
                for (g, &z) in g.iter_mut().zip(z) {
                    *g = math::gelu(z);
                }
                dense_backward_f32(d.ff2(), g, p.w2, b1, None, gp.w2, gp.b2)?;
                // Only the input gradient: `z` stands in for the input, which is read for the
                // weight gradients only, so `g` can be overwritten with dL/dGELU.
                dense_backward_f32(d.ff2(), z, p.w2, b1, Some(&mut *g), None, None)?;
                gelu_backward_f32(z, g, dz)?;
                renormalise(y, stats2, p.ln2, b1);
                dense_backward_f32(d.ff1(), b1, p.w1, dz, Some(&mut *b2), gp.w1, gp.b1)?;
            }
            let gamma2 = p.ln2.split_at(w).0;
            layer_norm_backward_f32(w, y, stats2, gamma2, b2, Some(&mut *b1), gp.ln2)?;
            for (dy, &go) in b1.iter_mut().zip(gout) {
                *dy += go;
            }
            for ((da, &dy), &m) in b2.iter_mut().zip(b1.iter()).zip(mask1) {
                *da = dy * m;
            }
            // Attention branch, with `rest` as LN1(x), its gradient and the attention's work.
            let mut r = &mut *rest;
            let h1 = take_mut(&mut r, sw);
            let dh1 = take_mut(&mut r, sw);
            let work = take_mut(&mut r, 4 * sw);
            renormalise(x, stats1, p.ln1, h1);
            let m = mask(self.config.causal, lengths, b, s);
            d.mha
                .backward(p.mha, m, h1, saved, b2, Some(&mut *dh1), gp.mha, work)?;
            let gx = grad_input
                .as_deref_mut()
                .map(|g| super::common::sub_mut(g, b * sw, sw));
            let (gamma1, ln1) = (p.ln1.split_at(w).0, gp.ln1);
            match gx {
                Some(gx) => {
                    layer_norm_backward_f32(w, x, stats1, gamma1, dh1, Some(&mut *gx), ln1)?;
                    for (g, &dy) in gx.iter_mut().zip(b1.iter()) {
                        *g += dy;
                    }
                }
                None => layer_norm_backward_f32(w, x, stats1, gamma1, dh1, None, ln1)?,
            }
        }
        Ok(())
    }
}
