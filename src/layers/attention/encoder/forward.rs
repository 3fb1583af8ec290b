//! The encoder block's forward passes: inference (plain or observed) and training.

use super::norm::normalise;
use super::{EncoderStage, TransformerEncoder};
use crate::error::{check_len, Buffer, Error};
use crate::kernels::generic::dense::dense_f32;
use crate::kernels::ActivationF32;
use crate::layers::attention::common::{check_scratch, mask, sub_mut, take_mut};
use crate::num::math;
use crate::rng::{bernoulli, RngCore};

impl TransformerEncoder<'_> {
    /// Inference (no dropout).
    ///
    /// # Shapes
    /// - `lengths`: `[batch]` valid lengths, or `None`
    /// - `input`, `output`: `[batch, seq, width]`
    /// - `scratch`: at least [`scratch_len`](Self::scratch_len) values, overwritten
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `batch == 0`;
    /// [`ShapeError::Length`](crate::ShapeError::Length) naming the first wrong buffer
    /// (`Input`, `Output`, `Input2` for `lengths`, `Scratch`). Nothing is written on error.
    pub fn forward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        self.infer(batch, lengths, input, output, scratch, |_, _| {})
    }

    /// Inference as [`forward`](Self::forward) (the same arithmetic, so the same output bit for
    /// bit), calling `observe` with every intermediate activation as it is computed: for each
    /// sample in order, once per [`EncoderStage`] in the order of [`EncoderStage::ALL`], with
    /// that sample's values (`[seq, ff]` for [`Ff1`](EncoderStage::Ff1) and
    /// [`Gelu`](EncoderStage::Gelu), `[seq, width]` for the others). Nothing is allocated; the
    /// slices are views of `input`, `output` and `scratch`. Calibrating an int8 block takes the
    /// range of each stage over calibration samples this way.
    ///
    /// # Shapes
    /// As [`forward`](Self::forward).
    ///
    /// # Errors
    /// As [`forward`](Self::forward); `observe` is not called when the buffers are rejected.
    pub fn forward_observed(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
        observe: &mut dyn FnMut(EncoderStage, &[f32]),
    ) -> Result<(), Error> {
        self.infer(batch, lengths, input, output, scratch, observe)
    }

    /// The inference pass behind [`forward`](Self::forward) and
    /// [`forward_observed`](Self::forward_observed): one body, so both compute the same.
    fn infer<F: FnMut(EncoderStage, &[f32])>(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
        scratch: &mut [f32],
        mut observe: F,
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
            observe(EncoderStage::Input, x);
            normalise(x, p.ln1, eps, h, None);
            observe(EncoderStage::Ln1, h);
            let m = mask(self.config.causal, lengths, b, d.mha.seq);
            let work = sub_mut(rest, 0, d.mha.saved);
            d.mha.forward(p.mha, m, h, out, work)?;
            let [q, k, v, heads] = d.mha.saved_parts(work);
            observe(EncoderStage::Q, q);
            observe(EncoderStage::K, k);
            observe(EncoderStage::V, v);
            observe(EncoderStage::Attn, heads);
            observe(EncoderStage::Mha, out);
            for (o, &x) in out.iter_mut().zip(x) {
                *o += x;
            }
            observe(EncoderStage::Resid, out);
            normalise(out, p.ln2, eps, h, None);
            observe(EncoderStage::Ln2, h);
            let z = sub_mut(rest, 0, d.sf);
            dense_f32(d.ff1(), h, p.w1, Some(p.b1), ActivationF32::NONE, z)?;
            observe(EncoderStage::Ff1, z);
            for v in z.iter_mut() {
                *v = math::gelu(*v);
            }
            observe(EncoderStage::Gelu, z);
            dense_f32(d.ff2(), z, p.w2, Some(p.b2), ActivationF32::NONE, h)?;
            observe(EncoderStage::Ff2, h);
            for (o, &f) in out.iter_mut().zip(h.iter()) {
                *o += f;
            }
            observe(EncoderStage::Output, out);
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
    /// As [`forward`](Self::forward), and
    /// [`ShapeError::Length`](crate::ShapeError::Length) with [`Buffer::Cache`].
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
}
