//! int8 layer normalisation layer (integer mean, variance and square root).

use super::ScratchS8;
use crate::error::{product, Error, ShapeError};
use crate::kernels::generic::layer_norm_s8::{
    layer_norm_eps_steps, layer_norm_s8, LayerNormS8Args, LAYER_NORM_S8_MAX_WIDTH,
};
use crate::layers::check_io;
use crate::num::quant::QuantParams;

/// Configuration of an int8 layer norm: each of the `positions` rows of `width` values per
/// sample is normalised in integer arithmetic
/// ([`layer_norm_s8`](crate::kernels::generic::layer_norm_s8::layer_norm_s8)).
///
/// `gamma` and `beta` are folded beforehand into int32 multipliers, int64 offsets and the
/// exponent `shift` by [`fold_layer_norm`](crate::kernels::generic::layer_norm_s8::fold_layer_norm)
/// for this `output` quantization; [`init`](Self::init) borrows the first two.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerNormS8Config {
    /// Rows per sample.
    pub positions: usize,
    /// Values per row, in `1..=65536`.
    pub width: usize,
    /// Quantization of the input (only its scale matters, through `eps`).
    pub input: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// Added to the variance (in real units²); finite and `>= 0`.
    pub eps: f32,
    /// The exponent returned by `fold_layer_norm`, in `1..=62`.
    pub shift: u32,
}

impl LayerNormS8Config {
    /// Validates the configuration and borrows the folded parameters (`[width]` each).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for a zero `positions` or `width`, a `width` above 65536, an
    /// overflowing size or a `shift` outside `1..=62`; [`ShapeError::Length`] (`Requant`) for a
    /// wrong parameter length; [`Error::Quant`] for invalid quantization parameters or `eps`.
    pub fn init<'a>(
        self,
        multiplier: &'a [i32],
        offset: &'a [i64],
    ) -> Result<LayerNormS8<'a>, Error> {
        if self.positions == 0
            || self.width == 0
            || self.width > LAYER_NORM_S8_MAX_WIDTH
            || !(1..=62).contains(&self.shift)
        {
            return Err(ShapeError::Dimension.into());
        }
        let len = product(&[self.positions, self.width])?;
        QuantParams::new(self.input.scale, self.input.zero_point)?;
        QuantParams::new(self.output.scale, self.output.zero_point)?;
        let eps_steps = layer_norm_eps_steps(self.width, self.eps, self.input.scale)?;
        let args = LayerNormS8Args {
            width: self.width,
            eps_steps,
            multiplier,
            offset,
            shift: self.shift,
            output_zero_point: self.output.zero_point,
        };
        // Checks the parameter lengths once, on an empty input.
        layer_norm_s8(&args, &[], &mut [])?;
        Ok(LayerNormS8 {
            config: self,
            args,
            len,
        })
    }
}

/// An int8 layer norm, built by [`LayerNormS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct LayerNormS8<'a> {
    config: LayerNormS8Config,
    args: LayerNormS8Args<'a>,
    len: usize,
}

impl LayerNormS8<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &LayerNormS8Config {
        &self.config
    }

    /// Values per sample, `positions · width` (input and output).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a validated layer has at least one value per sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Scratch needed by [`forward`](Self::forward): none.
    pub fn scratch_len(&self) -> super::ScratchLen {
        super::ScratchLen::default()
    }

    /// Normalises every row of `input` into `output`.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, positions, width]`; `scratch`: unused (any length).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input` or `Output`) for a wrong buffer length. Nothing is written on error.
    pub fn forward(
        &self,
        batch: usize,
        input: &[i8],
        output: &mut [i8],
        _scratch: &mut ScratchS8<'_>,
    ) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        layer_norm_s8(&self.args, input, output)?;
        Ok(())
    }
}
