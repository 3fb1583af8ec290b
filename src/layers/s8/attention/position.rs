//! int8 positional encoding: a constant `[seq, width]` table added to every sample.

use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::elementwise::{add_s8, AddParamsS8};
use crate::kernels::ActivationS8;
use crate::layers::check_io;
use crate::layers::s8::LayerS8;
use crate::num::quant::QuantParams;

/// Configuration of an int8 positional encoding: `out = x + table` per sample, with TFLite's
/// int8 ADD arithmetic ([`add_s8`]). The table holds the quantized encoding (sinusoidal or
/// learned), so the device computes no sine.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PositionalAddS8Config {
    /// Positions per sample.
    pub seq: usize,
    /// Values per position.
    pub width: usize,
    /// Quantization of the input activations.
    pub input: QuantParams,
    /// Quantization of the table.
    pub table: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
}

impl PositionalAddS8Config {
    /// Values of the table and of each sample, `seq · width`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is 0 or the product overflows.
    pub fn len(&self) -> Result<usize, ShapeError> {
        if self.seq == 0 || self.width == 0 {
            return Err(ShapeError::Dimension);
        }
        product(&[self.seq, self.width])
    }

    /// Whether the table has no values (`seq` or `width` is 0; [`init`](Self::init) rejects
    /// such a configuration).
    pub fn is_empty(&self) -> bool {
        self.seq == 0 || self.width == 0
    }

    /// Validates the configuration and borrows the table (`[seq, width]`).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] as [`len`](Self::len); [`ShapeError::Length`] (`Weights`) for
    /// a table of the wrong length; [`Error::Quant`] for invalid quantization parameters.
    pub fn init(self, table: &[i8]) -> Result<PositionalAddS8<'_>, Error> {
        let len = self.len()?;
        check_len(Buffer::Weights, len, table.len())?;
        let add = AddParamsS8::new(
            self.input.scale,
            self.input.zero_point,
            self.table.scale,
            self.table.zero_point,
            self.output.scale,
            self.output.zero_point,
            ActivationS8::NONE,
        )?;
        Ok(PositionalAddS8 {
            config: self,
            table,
            add,
            len,
        })
    }
}

/// An int8 positional encoding, built by [`PositionalAddS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct PositionalAddS8<'a> {
    config: PositionalAddS8Config,
    table: &'a [i8],
    add: AddParamsS8,
    len: usize,
}

impl PositionalAddS8<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &PositionalAddS8Config {
        &self.config
    }

    /// The borrowed table `[seq, width]`.
    pub fn table(&self) -> &[i8] {
        self.table
    }
}

impl LayerS8 for PositionalAddS8<'_> {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.len
    }

    /// Adds the table to each sample.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`.
    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        for (x, y) in input
            .chunks_exact(self.len)
            .zip(output.chunks_exact_mut(self.len))
        {
            add_s8(&self.add, x, self.table, y)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(scale: f32, zero_point: i32) -> QuantParams {
        QuantParams { scale, zero_point }
    }

    /// Hand-worked: with equal scales 0.5 on every side and zero points 0, `x + t` is exact
    /// integer addition (clamped to int8).
    #[test]
    fn equal_scales_add_exactly() {
        let c = PositionalAddS8Config {
            seq: 2,
            width: 2,
            input: q(0.5, 0),
            table: q(0.5, 0),
            output: q(0.5, 0),
        };
        let table = [1i8, -2, 3, 100];
        let l = c.init(&table).unwrap();
        let x = [10i8, 10, -10, 100, 0, 0, 0, 0];
        let mut y = [0i8; 8];
        l.forward(2, &x, &mut y).unwrap();
        assert_eq!(y, [11, 8, -7, 127, 1, -2, 3, 100]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let c = PositionalAddS8Config {
            seq: 2,
            width: 2,
            input: q(0.5, 0),
            table: q(0.5, 0),
            output: q(0.5, 0),
        };
        assert!(c.init(&[0; 3]).is_err());
        assert!(PositionalAddS8Config { seq: 0, ..c }.init(&[]).is_err());
        assert!(PositionalAddS8Config { width: 0, ..c }.is_empty());
        assert!(!c.is_empty());
        let l = c.init(&[0; 4]).unwrap();
        let mut y = [0i8; 4];
        assert!(l.forward(1, &[0; 3], &mut y).is_err());
        assert!(l.forward(0, &[], &mut []).is_err());
    }
}
