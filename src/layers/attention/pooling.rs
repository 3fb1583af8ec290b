//! Sequence classification poolings: `[seq, width]` to one `[width]` vector, by the class
//! token's row or by the mean over the valid positions.

use super::common::{check_lengths, seq_len, valid};
use crate::error::{Buffer, Error, ShapeError};
use crate::layers::{check_backward, check_io, Layer};

/// Pooling configuration: `[seq, width]` per sample in, `[width]` out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PoolConfig {
    /// Positions per sample.
    pub seq: usize,
    /// Features per position.
    pub width: usize,
}

impl PoolConfig {
    /// The class-token pooling: row 0 of each sample.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `width` is zero or the size overflows.
    pub fn first_token(self) -> Result<FirstToken, Error> {
        let len = seq_len(self.seq, self.width)?;
        Ok(FirstToken { config: self, len })
    }

    /// The mean over each sample's valid positions.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `width` is zero or the size overflows.
    pub fn mean(self) -> Result<MeanPool, Error> {
        let len = seq_len(self.seq, self.width)?;
        Ok(MeanPool { config: self, len })
    }
}

/// Takes row 0 of each sample (the class token's output): `[seq, width]` → `[width]`.
/// Backward routes the gradient to row 0 and zeros the other rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstToken {
    config: PoolConfig,
    len: usize,
}

impl FirstToken {
    /// Scratch values any call needs: 0.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }
}

impl Layer for FirstToken {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.config.width
    }

    /// Copies row 0 of each sample.
    ///
    /// # Shapes
    /// `input`: `[batch, seq, width]`; `output`: `[batch, width]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] for a wrong input or
    /// output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        let w = self.config.width;
        check_io(batch, self.len, w, input.len(), output.len())?;
        for (x, y) in input.chunks_exact(self.len).zip(output.chunks_exact_mut(w)) {
            y.copy_from_slice(x.split_at(w).0);
        }
        Ok(())
    }

    /// `grad_input` row 0 = `grad_output`, other rows 0.
    ///
    /// # Shapes
    /// `input`, `grad_input`: `[batch, seq, width]`; `output`, `grad_output`: `[batch, width]`;
    /// `cache`, `grad_params`: empty.
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
        let w = self.config.width;
        if let Some(gi) = grad_input {
            for (gi, g) in gi
                .chunks_exact_mut(self.len)
                .zip(grad_output.chunks_exact(w))
            {
                let (first, rest) = gi.split_at_mut(w);
                first.copy_from_slice(g);
                rest.fill(0.0);
            }
        }
        Ok(())
    }
}

/// Mean over each sample's valid positions (`lengths`, as for the attention layers; all
/// positions without them): `[seq, width]` → `[width]`. Padded rows get exactly zero
/// gradient; a sample with valid length 0 gives a zero output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeanPool {
    config: PoolConfig,
    len: usize,
}

impl MeanPool {
    /// Values per sample of the input, `seq · width`.
    pub fn input_len(&self) -> usize {
        self.len
    }

    /// Values per sample of the output, `width`.
    pub fn output_len(&self) -> usize {
        self.config.width
    }

    /// Scratch values any call needs: 0.
    pub fn scratch_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// Cache values backward needs: 0.
    pub fn cache_len(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// The mean of rows `0..valid` of each sample.
    ///
    /// # Shapes
    /// - `lengths`: `[batch]`, or `None`
    /// - `input`: `[batch, seq, width]`; `output`: `[batch, width]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] naming the first wrong
    /// buffer (`Input`, `Output`, `Input2` for `lengths`). Nothing is written on error.
    pub fn forward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        input: &[f32],
        output: &mut [f32],
    ) -> Result<(), Error> {
        let w = self.config.width;
        check_io(batch, self.len, w, input.len(), output.len())?;
        check_lengths(lengths, batch)?;
        for (b, (x, y)) in input
            .chunks_exact(self.len)
            .zip(output.chunks_exact_mut(w))
            .enumerate()
        {
            let n = valid(lengths, b, self.config.seq);
            y.fill(0.0);
            for row in x.chunks_exact(w).take(n) {
                for (y, &v) in y.iter_mut().zip(row) {
                    *y += v;
                }
            }
            if n > 0 {
                let inv = 1.0 / n as f32;
                for y in y.iter_mut() {
                    *y *= inv;
                }
            }
        }
        Ok(())
    }

    /// `grad_input[b, p] = grad_output[b] / valid` for valid rows `p`, 0 for padded rows.
    ///
    /// # Shapes
    /// - `lengths`: as given to [`forward`](Self::forward)
    /// - `grad_output`: `[batch, width]`; `grad_input`: `[batch, seq, width]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0`; [`ShapeError::Length`] naming the first wrong
    /// buffer (`GradInput`, `GradOutput`, `Input2`). Nothing is written on error.
    pub fn backward(
        &self,
        batch: usize,
        lengths: Option<&[usize]>,
        grad_output: &[f32],
        grad_input: &mut [f32],
    ) -> Result<(), Error> {
        let w = self.config.width;
        check_io(batch, self.len, w, grad_input.len(), grad_output.len()).map_err(|e| match e {
            ShapeError::Length {
                buffer: Buffer::Input,
                expected,
                actual,
            } => ShapeError::Length {
                buffer: Buffer::GradInput,
                expected,
                actual,
            },
            ShapeError::Length {
                buffer: Buffer::Output,
                expected,
                actual,
            } => ShapeError::Length {
                buffer: Buffer::GradOutput,
                expected,
                actual,
            },
            e => e,
        })?;
        check_lengths(lengths, batch)?;
        let samples = grad_input
            .chunks_exact_mut(self.len)
            .zip(grad_output.chunks_exact(w));
        for (b, (gi, g)) in samples.enumerate() {
            let n = valid(lengths, b, self.config.seq);
            let inv = if n > 0 { 1.0 / n as f32 } else { 0.0 };
            for (p, row) in gi.chunks_exact_mut(w).enumerate() {
                if p < n {
                    for (d, &g) in row.iter_mut().zip(g) {
                        *d = g * inv;
                    }
                } else {
                    row.fill(0.0);
                }
            }
        }
        Ok(())
    }
}
