//! Borrowed layer parameters: frozen (read-only, typically in flash) or trainable (in RAM).

/// The parameters of a layer, borrowed from the caller.
///
/// A deployed model reads its weights in place from flash ([`Params::Frozen`]); a model being
/// trained or fine-tuned owns a RAM copy it may change ([`Params::Trainable`]). One layer type
/// serves both, so the layer that trains on the host is the layer that runs on the device.
///
/// Backward computes parameter gradients only for trainable parameters; the optimizer only ever
/// sees those.
#[derive(Debug)]
pub enum Params<'a> {
    /// Read-only parameters; the layer never changes them.
    Frozen(&'a [f32]),
    /// Parameters the optimizer may update.
    Trainable(&'a mut [f32]),
}

impl<'a> Params<'a> {
    /// The parameter values.
    #[inline]
    pub fn as_slice(&self) -> &[f32] {
        match self {
            Params::Frozen(p) => p,
            Params::Trainable(p) => p,
        }
    }

    /// The parameter values for writing, or `None` if they are frozen.
    #[inline]
    pub fn as_mut_slice(&mut self) -> Option<&mut [f32]> {
        match self {
            Params::Frozen(_) => None,
            Params::Trainable(p) => Some(p),
        }
    }

    /// Whether the parameters may be updated.
    #[inline]
    pub fn is_trainable(&self) -> bool {
        matches!(self, Params::Trainable(_))
    }

    /// Number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there are no values.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a [f32]> for Params<'a> {
    fn from(p: &'a [f32]) -> Self {
        Params::Frozen(p)
    }
}

impl<'a> From<&'a mut [f32]> for Params<'a> {
    fn from(p: &'a mut [f32]) -> Self {
        Params::Trainable(p)
    }
}

impl<'a, const N: usize> From<&'a [f32; N]> for Params<'a> {
    fn from(p: &'a [f32; N]) -> Self {
        Params::Frozen(p)
    }
}

impl<'a, const N: usize> From<&'a mut [f32; N]> for Params<'a> {
    fn from(p: &'a mut [f32; N]) -> Self {
        Params::Trainable(p)
    }
}
