//! The parameter storage of the dense and convolution layers: weights, then an optional bias,
//! in one borrowed slice.

use super::Params;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// Weights followed by an optional bias in one [`Params`] slice.
#[derive(Debug)]
pub(crate) struct WeightsBias<'a> {
    params: Params<'a>,
    weights_len: usize,
    has_bias: bool,
}

impl<'a> WeightsBias<'a> {
    /// Checks that `params` holds `weights_len` weights and `bias_len` bias values (0: no bias).
    pub(crate) fn new(
        params: Params<'a>,
        weights_len: usize,
        bias_len: usize,
    ) -> Result<Self, Error> {
        let total = weights_len
            .checked_add(bias_len)
            .ok_or(ShapeError::Dimension)?;
        check_len(Buffer::Params, total, params.len())?;
        Ok(WeightsBias {
            params,
            weights_len,
            has_bias: bias_len > 0,
        })
    }

    /// The weights.
    pub(crate) fn weights(&self) -> &[f32] {
        // In range: `new` checked the length.
        &self.params.as_slice()[..self.weights_len]
    }

    /// The bias, or `None` without bias.
    pub(crate) fn bias(&self) -> Option<&[f32]> {
        self.has_bias
            .then(|| &self.params.as_slice()[self.weights_len..])
    }

    /// Splits a parameter gradient of the full parameter length into its weight and bias parts.
    pub(crate) fn split_grads<'g>(
        &self,
        grad_params: Option<&'g mut [f32]>,
    ) -> (Option<&'g mut [f32]>, Option<&'g mut [f32]>) {
        match grad_params.and_then(|g| g.split_at_mut_checked(self.weights_len)) {
            Some((gw, gb)) => (Some(gw), self.has_bias.then_some(gb)),
            None => (None, None),
        }
    }

    /// Weights from `init` with `fans`, bias zero.
    pub(crate) fn init<R: RngCore + ?Sized>(
        &mut self,
        init: Init,
        fans: Fans,
        rng: &mut R,
    ) -> Result<(), Error> {
        let weights_len = self.weights_len;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        let (weights, bias) = params.split_at_mut(weights_len);
        init.fill(weights, fans, rng)?;
        bias.fill(0.0);
        Ok(())
    }
}

/// The four parameter methods of [`Layer`](super::Layer) for a layer whose parameters are the
/// field `$field` (a [`Params`] or a [`WeightsBias`], both with `params()`-like access through
/// [`AsParams`]).
macro_rules! layer_params {
    ($field:ident) => {
        fn param_len(&self) -> usize {
            $crate::layers::weighted::AsParams::as_params(&self.$field).len()
        }

        fn params(&self) -> &[f32] {
            $crate::layers::weighted::AsParams::as_params(&self.$field).as_slice()
        }

        fn params_mut(&mut self) -> Option<&mut [f32]> {
            $crate::layers::weighted::AsParams::as_params_mut(&mut self.$field).as_mut_slice()
        }

        fn is_trainable(&self) -> bool {
            $crate::layers::weighted::AsParams::as_params(&self.$field).is_trainable()
        }
    };
}
pub(crate) use layer_params;

/// Access to the [`Params`] inside a layer's parameter field.
pub(crate) trait AsParams<'a> {
    /// The parameters.
    fn as_params(&self) -> &Params<'a>;
    /// The parameters, mutably.
    fn as_params_mut(&mut self) -> &mut Params<'a>;
}

impl<'a> AsParams<'a> for Params<'a> {
    fn as_params(&self) -> &Params<'a> {
        self
    }
    fn as_params_mut(&mut self) -> &mut Params<'a> {
        self
    }
}

impl<'a> AsParams<'a> for WeightsBias<'a> {
    fn as_params(&self) -> &Params<'a> {
        &self.params
    }
    fn as_params_mut(&mut self) -> &mut Params<'a> {
        &mut self.params
    }
}
