//! [`TuningBuffers`]: every buffer a fine-tuning firmware needs, with capacities fixed at
//! compile time, so a board keeps them in one static and the linker proves they fit in RAM.

use tinytune::model::Model;
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::{FineTuner, FinetuneConfig};

/// Capacities: the inference arena in bytes, requantizers, trainable parameters, optimizer
/// state and fine-tuning scratch in `f32`s, and the values of one sample.
pub struct TuningBuffers<
    const ARENA: usize,
    const REQUANT: usize,
    const PARAMS: usize,
    const STATE: usize,
    const SCRATCH: usize,
    const WIDTH: usize,
> {
    arena: [u8; ARENA],
    requant: [Requantizer; REQUANT],
    params: [f32; PARAMS],
    state: [f32; STATE],
    scratch: [f32; SCRATCH],
    sample: [f32; WIDTH],
}

/// The buffers inference uses next to a [`FineTuner`]: the arena, the requantizers and one
/// sample of the requested width.
pub struct Work<'b> {
    /// The model's activation arena.
    pub arena: &'b mut [u8],
    /// Scratch for the int8 layers' requantizers.
    pub requant: &'b mut [Requantizer],
    /// One sample.
    pub sample: &'b mut [f32],
}

/// Why [`TuningBuffers::split`] failed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitError {
    /// A capacity is smaller than the model, its head or the sample width needs.
    Capacity,
    /// The fine-tuner rejected the model or the configuration.
    Tuner(tinytune::Error),
}

impl<
        const ARENA: usize,
        const REQUANT: usize,
        const PARAMS: usize,
        const STATE: usize,
        const SCRATCH: usize,
        const WIDTH: usize,
    > TuningBuffers<ARENA, REQUANT, PARAMS, STATE, SCRATCH, WIDTH>
{
    /// Capacity for trainable parameters (what the flash slots are sized for).
    pub const PARAMS: usize = PARAMS;

    /// Zeroed buffers.
    pub const fn new() -> Self {
        Self {
            arena: [0; ARENA],
            requant: [Requantizer::ZERO; REQUANT],
            params: [0.0; PARAMS],
            state: [0.0; STATE],
            scratch: [0.0; SCRATCH],
            sample: [0.0; WIDTH],
        }
    }

    /// A fresh fine-tuner for `model` (its parameters filled from the model) and the inference
    /// buffers, for samples of `width` values. Call again for a fresh fine-tuner once the
    /// previous one and its [`Work`] are no longer used.
    ///
    /// # Errors
    /// [`SplitError::Capacity`] if a buffer is too small; [`SplitError::Tuner`] with the
    /// fine-tuner's error.
    pub fn split<'m>(
        &mut self,
        model: Model<'m>,
        config: FinetuneConfig,
        width: usize,
    ) -> Result<(FineTuner<'m, '_>, Work<'_>), SplitError> {
        let lens = FineTuner::lens(&model, &config).map_err(SplitError::Tuner)?;
        let fits = model.arena_len(1).is_ok_and(|n| n <= ARENA) && model.requant_len() <= REQUANT;
        let (Some(params), Some(state), Some(scratch), Some(sample), true) = (
            self.params.get_mut(..lens.params),
            self.state.get_mut(..lens.state),
            self.scratch.get_mut(..lens.scratch),
            self.sample.get_mut(..width),
            fits,
        ) else {
            return Err(SplitError::Capacity);
        };
        let tuner =
            FineTuner::new(model, config, params, state, scratch).map_err(SplitError::Tuner)?;
        let work = Work {
            arena: &mut self.arena,
            requant: &mut self.requant,
            sample,
        };
        Ok((tuner, work))
    }
}

impl<
        const ARENA: usize,
        const REQUANT: usize,
        const PARAMS: usize,
        const STATE: usize,
        const SCRATCH: usize,
        const WIDTH: usize,
    > Default for TuningBuffers<ARENA, REQUANT, PARAMS, STATE, SCRATCH, WIDTH>
{
    fn default() -> Self {
        Self::new()
    }
}
