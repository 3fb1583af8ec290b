//! [`FineTuner`]: a deployed model with a trainable head in caller RAM.

use super::head::Head;
use super::layout::{fill, lens_of, regions};
use super::step::{self, argmax, probability, Input, Mode};
use super::{FinetuneConfig, FinetuneLens, FinetuneStats, Outcome, Trainable};
use crate::error::{check_len, Buffer, DType, Error, ShapeError};
use crate::model::Model;
use crate::num::quant::Requantizer;
use crate::train::loss::thresholded_softmax_cross_entropy;

/// A deployed [`Model`] that keeps learning: its backbone runs from flash as the model runs it,
/// its head in f32 from parameters in caller RAM (see the [module docs](super)).
///
/// Until the first update (or [`load_params`](Self::load_params)) [`predict`](Self::predict)
/// and [`logits`](Self::logits) run the whole model, bit-identical to [`Model::run`]; after it
/// they run the f32 head on [`params`](Self::params).
#[derive(Debug)]
pub struct FineTuner<'m, 'b> {
    model: Model<'m>,
    config: FinetuneConfig,
    head: Head,
    lens: FinetuneLens,
    params: &'b mut [f32],
    state: &'b mut [f32],
    scratch: &'b mut [f32],
    tuned: bool,
    stats: FinetuneStats,
}

impl<'m, 'b> FineTuner<'m, 'b> {
    /// The buffer lengths [`new`](Self::new) needs for `model` with `config` (f32 counts; the
    /// arena and requantizer scratch are those of [`Model::run`]).
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid `config` ([`FinetuneConfig::validate`]), more
    /// trainable layers than the model has weighted ops, or a head holding an op it cannot
    /// train through (see the [module docs](super)); [`ShapeError::Dimension`] if a size
    /// overflows.
    pub fn lens(model: &Model<'_>, config: &FinetuneConfig) -> Result<FinetuneLens, Error> {
        config.validate()?;
        let head = Head::find(model, config.trainable.layers())?;
        Ok(lens_of(&head, config))
    }

    /// Builds the fine-tuner and fills `params` with the model's own head weights (int8 ones
    /// dequantized), `state` with zeros; untuned.
    ///
    /// # Shapes
    /// `params`: exactly `lens.params`; `state`: exactly `lens.state`; `scratch`: at least
    /// `lens.scratch` (`lens` from [`lens`](Self::lens)).
    ///
    /// # Errors
    /// As [`lens`](Self::lens); [`ShapeError::Length`] naming `Params`, `OptimizerState` or
    /// `Scratch` for a wrong buffer length.
    pub fn new(
        model: Model<'m>,
        config: FinetuneConfig,
        params: &'b mut [f32],
        state: &'b mut [f32],
        scratch: &'b mut [f32],
    ) -> Result<Self, Error> {
        config.validate()?;
        let head = Head::find(&model, config.trainable.layers())?;
        let lens = lens_of(&head, &config);
        check_len(Buffer::Params, lens.params, params.len())?;
        check_len(Buffer::OptimizerState, lens.state, state.len())?;
        if scratch.len() < lens.scratch {
            return Err(ShapeError::Length {
                buffer: Buffer::Scratch,
                expected: lens.scratch,
                actual: scratch.len(),
            }
            .into());
        }
        let mut tuner = FineTuner {
            model,
            config,
            head,
            lens,
            params,
            state,
            scratch,
            tuned: false,
            stats: FinetuneStats::default(),
        };
        tuner.fill()?;
        Ok(tuner)
    }

    fn bias_only(&self) -> bool {
        self.config.trainable == Trainable::Bias
    }

    fn mode(&self) -> Mode {
        Mode {
            bias_only: self.bias_only(),
            lr: self.config.learning_rate,
            momentum: self.config.momentum,
        }
    }

    /// Copies the model's own head into `params` (and the bias-only weight scales into scratch).
    fn fill(&mut self) -> Result<(), Error> {
        let bias_only = self.bias_only();
        fill(
            &self.model,
            &self.head,
            bias_only,
            self.params,
            self.state,
            self.scratch,
            &self.lens,
        )
    }

    /// Runs the backbone (scaler and ops before the head) and returns the head's input, read
    /// in place from the arena.
    fn backbone<'r>(
        &self,
        input: &[f32],
        arena: &'r mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<Input<'r>, Error> {
        let (dtype, bytes) = self
            .model
            .run_prefix(self.head.cut, 1, input, arena, requant)?;
        match (dtype, self.head.input) {
            (DType::S8, Some(p)) => Ok(Input::S8(bytemuck::cast_slice(bytes), p)),
            (DType::F32, None) => bytemuck::try_cast_slice(bytes)
                .map(Input::F32)
                .map_err(|_| Error::Config),
            // The file's chain check makes the head's first layer take what the backbone gives.
            _ => Err(Error::Config),
        }
    }

    /// Runs the backbone and the f32 head; the logits are the last `classes` values of
    /// `outs`.
    fn forward_head(
        &mut self,
        input: &[f32],
        arena: &mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<(), Error> {
        let x0 = self.backbone(input, arena, requant)?;
        let mode = self.mode();
        let r = regions(self.scratch, &self.head, &self.lens)?;
        step::forward(
            &self.model,
            &self.head,
            mode,
            x0,
            self.params,
            r.outs,
            r.scales,
        )
    }

    /// The logits in the scratch after [`forward_head`](Self::forward_head).
    fn head_logits(&self) -> &[f32] {
        let at = self.head.outs.saturating_sub(self.head.classes);
        self.scratch.get(at..self.head.outs).unwrap_or(&[])
    }

    /// The model's output for one sample: before the first update exactly [`Model::run`]'s
    /// (for a model ending in softmax, probabilities), after it the f32 head's logits (the
    /// values before a trailing softmax).
    ///
    /// # Shapes
    /// - `input`: `[model.input_len()]` (raw features: the model's scaler is applied)
    /// - `arena`: at least `model.arena_len(1)` bytes; `requant`: at least
    ///   `model.requant_len()`
    /// - `out`: `[model.output_len()]`
    ///
    /// # Errors
    /// As [`Model::run`]: [`ShapeError::Length`] naming `Input`, `Output`, `Scratch` (the
    /// arena) or `Requant`. `out` is written only on success.
    pub fn logits(
        &mut self,
        input: &[f32],
        arena: &mut [u8],
        requant: &mut [Requantizer],
        out: &mut [f32],
    ) -> Result<(), Error> {
        if !self.tuned {
            return self.model.run(1, input, arena, requant, out);
        }
        check_len(Buffer::Output, self.head.classes, out.len())?;
        self.forward_head(input, arena, requant)?;
        out.copy_from_slice(self.head_logits());
        Ok(())
    }

    /// The predicted class: the index of the largest output of [`logits`](Self::logits) (NaN
    /// never chosen, 0 if all are NaN, the first of ties; before the first update exactly
    /// [`Model::predict`]).
    ///
    /// # Shapes
    /// As [`logits`](Self::logits), without `out`.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn predict(
        &mut self,
        input: &[f32],
        arena: &mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<usize, Error> {
        if !self.tuned {
            return self.model.predict(input, arena, requant);
        }
        self.forward_head(input, arena, requant)?;
        Ok(argmax(self.head_logits()))
    }

    /// Learns from one labelled sample with the thresholded rule (see the
    /// [module docs](super)): runs the backbone and the f32 head, and unless the sample is
    /// skipped, backpropagates the λ-weighted cross-entropy through the head and takes one SGD
    /// step. The [`Outcome`] reports the f32 head's prediction and `p_true` before the step
    /// (the values the rule judged).
    ///
    /// A non-finite `input` or non-finite logits change nothing: the outcome has
    /// `p_true = NaN`, `updated = false`, and the sample counts as seen and skipped.
    ///
    /// # Shapes
    /// As [`predict`](Self::predict); `label` in `0..model.output_len()`.
    ///
    /// # Errors
    /// [`Error::Index`] (`position` 0, `len` the classes) for a label out of range; otherwise
    /// as [`predict`](Self::predict). Nothing changes and nothing is counted on error.
    pub fn learn(
        &mut self,
        input: &[f32],
        label: u32,
        arena: &mut [u8],
        requant: &mut [Requantizer],
    ) -> Result<Outcome, Error> {
        let classes = self.head.classes;
        let y = label as usize;
        if y >= classes {
            return Err(Error::Index {
                position: 0,
                len: classes,
            });
        }
        let x0 = self.backbone(input, arena, requant)?;
        let mode = self.mode();
        let head = self.head;
        let r = regions(self.scratch, &head, &self.lens)?;
        step::forward(&self.model, &head, mode, x0, self.params, r.outs, r.scales)?;
        let logits = r
            .outs
            .get(head.outs.saturating_sub(classes)..)
            .unwrap_or(&[]);
        let predicted = argmax(logits);
        self.stats.seen = self.stats.seen.saturating_add(1);
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        let mut outcome = Outcome {
            predicted,
            p_true: f32::NAN,
            updated: false,
        };
        if !(finite(input) && finite(logits)) {
            self.stats.skipped = self.stats.skipped.saturating_add(1);
            return Ok(outcome);
        }
        outcome.p_true = probability(logits, y);
        let grad = r.g_a.get_mut(..classes).unwrap_or(&mut []);
        let loss = thresholded_softmax_cross_entropy(
            &self.config.threshold,
            classes,
            logits,
            &[label],
            grad,
        )?;
        if loss.skipped > 0 {
            self.stats.skipped = self.stats.skipped.saturating_add(1);
            return Ok(outcome);
        }
        step::backward(
            &self.model,
            &head,
            mode,
            x0,
            self.params,
            self.state,
            r.outs,
            r.g_a,
            r.g_b,
        )?;
        self.stats.updated = self.stats.updated.saturating_add(1);
        self.tuned = true;
        outcome.updated = true;
        Ok(outcome)
    }

    /// Counts of [`learn`](Self::learn) calls since [`new`](Self::new) or
    /// [`reset`](Self::reset).
    pub fn stats(&self) -> FinetuneStats {
        self.stats
    }

    /// Bytes of RAM the fine-tuner borrows: `4 · (params + state + scratch)` of the buffers
    /// given to [`new`](Self::new) (the arena and requantizers are the model's own).
    pub fn ram_bytes(&self) -> usize {
        self.params
            .len()
            .saturating_add(self.state.len())
            .saturating_add(self.scratch.len())
            .saturating_mul(4)
    }

    /// The trainable parameters, the values to persist: per head layer its weights
    /// `[out, in]` then its bias `[out]`, layer after layer; in bias mode the last layer's bias
    /// only.
    ///
    /// # Shapes
    /// `[lens.params]` (see [`lens`](Self::lens)).
    pub fn params(&self) -> &[f32] {
        self.params
    }

    /// Restores parameters saved from [`params`](Self::params): copies them, zeroes the
    /// momentum state and marks the head as tuned (it runs from these parameters from now on).
    ///
    /// # Shapes
    /// `p`: `[params().len()]`.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Params`) for a wrong length; [`Error::Config`] if a value is
    /// NaN or infinite. Nothing changes on error.
    pub fn load_params(&mut self, p: &[f32]) -> Result<(), Error> {
        check_len(Buffer::Params, self.params.len(), p.len())?;
        if !p.iter().all(|v| v.is_finite()) {
            return Err(Error::Config);
        }
        self.params.copy_from_slice(p);
        self.state.fill(0.0);
        self.tuned = true;
        Ok(())
    }

    /// Restores parameters in place, without a second buffer: `read` fills the parameter
    /// buffer (for example [`ParamStore::load`](crate::model::persist::ParamStore::load), which
    /// leaves it untouched on error). On success the momentum state is zeroed and the head is
    /// tuned, as after [`load_params`](Self::load_params); if `read` fails, or leaves a NaN or
    /// infinite value, the model's own weights are put back and the head stays untuned.
    ///
    /// # Shapes
    /// `read` gets `[params().len()]`.
    ///
    /// # Errors
    /// `read`'s error, or `on_bad` if a restored value is not finite.
    pub fn restore<T, E>(
        &mut self,
        read: impl FnOnce(&mut [f32]) -> Result<T, E>,
        on_bad: E,
    ) -> Result<T, E> {
        let result = read(self.params).and_then(|t| {
            if self.params.iter().all(|v| v.is_finite()) {
                Ok(t)
            } else {
                Err(on_bad)
            }
        });
        match result {
            Ok(t) => {
                self.state.fill(0.0);
                self.tuned = true;
                Ok(t)
            }
            Err(e) => {
                // Same fill as `new` ran successfully on the same model: it cannot fail now.
                let _ = self.fill();
                self.state.fill(0.0);
                self.tuned = false;
                Err(e)
            }
        }
    }

    /// Whether the head runs from [`params`](Self::params) (after an update or
    /// [`load_params`](Self::load_params)) rather than as the model itself.
    pub fn is_tuned(&self) -> bool {
        self.tuned
    }

    /// Back to the state [`new`](Self::new) left: the model's own weights in `params`, zero
    /// state, untuned, zero counts.
    pub fn reset(&mut self) {
        // `new` ran the same fill on the same model successfully; it cannot fail now.
        let _ = self.fill();
        self.tuned = false;
        self.stats = FinetuneStats::default();
    }

    /// The deployed model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// The configuration.
    pub fn config(&self) -> &FinetuneConfig {
        &self.config
    }

    /// The buffer lengths this fine-tuner was built for.
    pub fn buffer_lens(&self) -> FinetuneLens {
        self.lens
    }

    /// Number of classes: the head's (and the model's) output length.
    pub fn classes(&self) -> usize {
        self.head.classes
    }
}
