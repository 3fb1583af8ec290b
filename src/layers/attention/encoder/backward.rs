//! The encoder block's backward pass.

use super::norm::renormalise;
use super::TransformerEncoder;
use crate::error::{check_len, Buffer, Error};
use crate::kernels::generic::grad::activation::gelu_backward_f32;
use crate::kernels::generic::grad::dense::dense_backward_f32;
use crate::kernels::generic::grad::norm::layer_norm_backward_f32;
use crate::layers::attention::common::{check_scratch, mask, sub_mut, take, take_mut};
use crate::num::math;

impl TransformerEncoder<'_> {
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
    /// [`ShapeError::Length`](crate::ShapeError::Length) naming the first wrong buffer
    /// (`Input`, `Output`, `Input2`, `Cache`, `GradOutput`, `GradInput`, `GradParams`,
    /// `Scratch`); [`Error::Frozen`] if `grad_params` is given for frozen parameters. Nothing
    /// is written on error.
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
            let gx = grad_input.as_deref_mut().map(|g| sub_mut(g, b * sw, sw));
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
