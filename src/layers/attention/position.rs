//! Positional encodings (sinusoidal, learned) and the class token: layers that add to or extend
//! a `[seq, width]` sequence.

use super::common::seq_len;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::weighted::layer_params;
use crate::layers::{check_backward, check_io, Layer, Params};
use crate::num::math;
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// Copies `grad_output` into `grad_input` when given (the gradient of an addition).
fn pass_through(grad_output: &[f32], grad_input: Option<&mut [f32]>) {
    if let Some(gi) = grad_input {
        gi.copy_from_slice(grad_output);
    }
}

/// Configuration of a [`SinusoidalEncoding`]: `[seq, width]` per sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SinusoidalEncodingConfig {
    /// Positions per sample.
    pub seq: usize,
    /// Features per position.
    pub width: usize,
}

impl SinusoidalEncodingConfig {
    /// Validates the configuration.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `width` is zero or the size overflows.
    pub fn init(self) -> Result<SinusoidalEncoding, Error> {
        let len = seq_len(self.seq, self.width)?;
        Ok(SinusoidalEncoding { config: self, len })
    }
}

/// Adds the sinusoidal positional encoding of Vaswani et al. (no parameters):
/// `PE[p, 2i] = sin(p · ω_i)`, `PE[p, 2i+1] = cos(p · ω_i)`, `ω_i = 10000^(-2i/width)`.
///
/// The values are computed on the fly (no table in memory). The angle `p · ω_i` is rounded
/// to f32, so the absolute error of `PE` grows like `p · 2⁻²⁴` (about `1e-6` at position 16,
/// `1e-5` at 128). Backward passes the gradient through unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinusoidalEncoding {
    config: SinusoidalEncodingConfig,
    len: usize,
}

impl SinusoidalEncoding {
    /// The configuration.
    pub fn config(&self) -> &SinusoidalEncodingConfig {
        &self.config
    }

    /// `PE[pos, col]`.
    pub fn value(&self, pos: usize, col: usize) -> f32 {
        // ω = 10000^(-2i/width) = exp(-(2i/width) ln 10000)
        const LN_10000: f32 = 9.210_340_4;
        let i2 = (col / 2 * 2) as f32;
        let omega = math::exp(-i2 / self.config.width as f32 * LN_10000);
        let angle = pos as f32 * omega;
        if col.is_multiple_of(2) {
            // sin(a) = cos(a - π/2): the math module has no sine.
            math::cos(angle - core::f32::consts::FRAC_PI_2)
        } else {
            math::cos(angle)
        }
    }

    /// Scratch values any call needs: 0.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }
}

impl Layer for SinusoidalEncoding {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.len
    }

    /// `output = input + PE`.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] for a wrong input or
    /// output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        let w = self.config.width;
        for (x, y) in input
            .chunks_exact(self.len)
            .zip(output.chunks_exact_mut(self.len))
        {
            for (k, (y, &x)) in y.iter_mut().zip(x).enumerate() {
                *y = x + self.value(k / w, k % w);
            }
        }
        Ok(())
    }

    /// `grad_input = grad_output`.
    ///
    /// # Shapes
    /// `input`, `output`, `grad_output`, `grad_input`: `[batch, seq, width]`; `cache`,
    /// `grad_params`: empty.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length. Nothing is written on error.
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        pass_through(grad_output, grad_input);
        Ok(())
    }
}

/// Configuration of a [`LearnedPositionalEncoding`] or a [`ClassToken`]: `[seq, width]` per
/// sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SequenceConfig {
    /// Positions per sample (without the class token).
    pub seq: usize,
    /// Features per position.
    pub width: usize,
}

impl SequenceConfig {
    /// A learned positional encoding; parameters `[seq, width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `width` is zero or the size overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`] if `params` is not `seq · width` long.
    pub fn learned_positions<'a>(
        self,
        params: impl Into<Params<'a>>,
    ) -> Result<LearnedPositionalEncoding<'a>, Error> {
        let len = seq_len(self.seq, self.width)?;
        let params = params.into();
        check_len(Buffer::Params, len, params.len())?;
        Ok(LearnedPositionalEncoding {
            config: self,
            len,
            params,
        })
    }

    /// A class token; parameters `[width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `width` is zero or a size overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`] if `params` is not `width` long.
    pub fn class_token<'a>(self, params: impl Into<Params<'a>>) -> Result<ClassToken<'a>, Error> {
        let len = seq_len(self.seq, self.width)?;
        let out = len.checked_add(self.width).ok_or(ShapeError::Dimension)?;
        let params = params.into();
        check_len(Buffer::Params, self.width, params.len())?;
        Ok(ClassToken {
            config: self,
            len,
            out,
            params,
        })
    }
}

/// Adds a learned `[seq, width]` table to each sample. Backward passes the gradient through
/// and adds its sum over the batch to the table's gradient.
#[derive(Debug)]
pub struct LearnedPositionalEncoding<'a> {
    config: SequenceConfig,
    len: usize,
    params: Params<'a>,
}

impl LearnedPositionalEncoding<'_> {
    /// The configuration.
    pub fn config(&self) -> &SequenceConfig {
        &self.config
    }

    /// Scratch values any call needs: 0.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }
}

impl Layer for LearnedPositionalEncoding<'_> {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.len
    }

    layer_params!(params);

    /// `output = input + table`.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] for a wrong input or
    /// output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        let table = self.params.as_slice();
        for (x, y) in input
            .chunks_exact(self.len)
            .zip(output.chunks_exact_mut(self.len))
        {
            for ((y, &x), &p) in y.iter_mut().zip(x).zip(table) {
                *y = x + p;
            }
        }
        Ok(())
    }

    /// `grad_input = grad_output`; `grad_params += Σ_batch grad_output`.
    ///
    /// # Shapes
    /// `input`, `output`, `grad_output`, `grad_input`: `[batch, seq, width]`; `cache` empty;
    /// `grad_params`: `[seq, width]`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length; [`Error::Frozen`] if `grad_params` is given
    /// for frozen parameters. Nothing is written on error.
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        pass_through(grad_output, grad_input);
        if let Some(gp) = grad_params {
            for g in grad_output.chunks_exact(self.len) {
                for (p, &g) in gp.iter_mut().zip(g) {
                    *p += g;
                }
            }
        }
        Ok(())
    }

    /// The table from `init` (fans `width`, `width`).
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen; [`Error::Config`] as [`Init::fill`].
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let w = self.config.width;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        init.fill(
            params,
            Fans {
                fan_in: w,
                fan_out: w,
            },
            rng,
        )
    }
}

/// Prepends a learned `[width]` class token to each sample: `[seq, width]` →
/// `[seq + 1, width]`, the token at row 0. Pair it with [`FirstToken`](super::FirstToken) for classification
/// (and, with padding, give the attention layers after it lengths one larger).
#[derive(Debug)]
pub struct ClassToken<'a> {
    config: SequenceConfig,
    /// `seq · width`.
    len: usize,
    /// `(seq + 1) · width`.
    out: usize,
    params: Params<'a>,
}

impl ClassToken<'_> {
    /// The configuration.
    pub fn config(&self) -> &SequenceConfig {
        &self.config
    }

    /// Scratch values any call needs: 0.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }
}

impl Layer for ClassToken<'_> {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.out
    }

    layer_params!(params);

    /// Row 0 of each output sample is the token, rows `1..=seq` the input.
    ///
    /// # Shapes
    /// `input`: `[batch, seq, width]`; `output`: `[batch, seq + 1, width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] for a wrong input or
    /// output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.len, self.out, input.len(), output.len())?;
        let w = self.config.width;
        for (x, y) in input
            .chunks_exact(self.len)
            .zip(output.chunks_exact_mut(self.out))
        {
            let (token, rest) = y.split_at_mut(w);
            token.copy_from_slice(self.params.as_slice());
            rest.copy_from_slice(x);
        }
        Ok(())
    }

    /// `grad_input` = rows `1..` of `grad_output`; `grad_params += Σ_batch` row 0.
    ///
    /// # Shapes
    /// `input`, `grad_input`: `[batch, seq, width]`; `output`, `grad_output`:
    /// `[batch, seq + 1, width]`; `cache` empty; `grad_params`: `[width]`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length; [`Error::Frozen`] if `grad_params` is given
    /// for frozen parameters. Nothing is written on error.
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        mut grad_input: Option<&mut [f32]>,
        mut grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        let w = self.config.width;
        for (b, g) in grad_output.chunks_exact(self.out).enumerate() {
            let (token, rest) = g.split_at(w);
            if let Some(gp) = grad_params.as_deref_mut() {
                for (p, &g) in gp.iter_mut().zip(token) {
                    *p += g;
                }
            }
            if let Some(gi) = grad_input.as_deref_mut() {
                let start = b * self.len;
                if let Some(gi) = gi.get_mut(start..start + self.len) {
                    gi.copy_from_slice(rest);
                }
            }
        }
        Ok(())
    }

    /// The token from `init` (fans `width`, `width`).
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen; [`Error::Config`] as [`Init::fill`].
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let w = self.config.width;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        init.fill(
            params,
            Fans {
                fan_in: w,
                fan_out: w,
            },
            rng,
        )
    }
}
