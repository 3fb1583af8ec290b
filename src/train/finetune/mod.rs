//! On-device fine-tuning of a deployed model: [`FineTuner`] keeps a validated `.ttm`
//! [`Model`](crate::model::Model) in flash and trains a small part of it, the *head* (its last
//! weighted layers), from labelled samples met in the field, only when a sample is wrong or
//! unsure.
//!
//! # What runs where
//!
//! - **Backbone**: the ops before the head, frozen, run exactly as [`Model::run`] runs them
//!   (scaler, int8 in the arena; no activation is stored). Its output is the head's input,
//!   read in place from the arena; an int8 one is dequantized with the first head layer's
//!   `input` parameters.
//! - **Head**: the last `N` weighted layers (ops with parameters) and every op after the first
//!   of them, run in f32 on real values. It may hold [`Op::Dense`](crate::model::Op::Dense) and
//!   [`Op::DenseS8`](crate::model::Op::DenseS8) (fused clamp none or ReLU, i.e. the clamp at the
//!   output zero point), ReLU activations (f32 or int8), reshapes, dequantizes, and a trailing
//!   softmax over the whole output (f32 or int8), which is ignored: the head's output is the
//!   logits. Anything else in the head is [`Error::Config`].
//! - **Parameters** (`params`, caller RAM, f32): per head layer its weights `[out, in]` and its
//!   bias `[out]` (zero if the file has none). int8 weights are dequantized with the
//!   per-channel scale recovered from the requantizer, `w_scale = M·2^(shift−31)·out_scale /
//!   in_scale`, and int32 biases as `b · in_scale · w_scale`.
//!
//! Until the first update (or [`FineTuner::load_params`]), [`FineTuner::predict`] and
//! [`FineTuner::logits`] run the whole model and give exactly [`Model::run`]'s outputs, so
//! deploying the fine-tuner changes nothing until it has learned. From the first update on the
//! head runs in f32 from `params`. The switch itself costs a little: the f32 head on the
//! model's own (dequantized) weights skips the int8 rounding of the head's activations, so
//! near-ties may flip (`host-tests/tests/train_finetune.rs` measures ≥ 95 % argmax agreement
//! on random inputs).
//!
//! # The rule
//!
//! [`FineTuner::learn`] runs the backbone and the f32 head, takes `p_true = softmax(z)[label]`
//! and weighs the sample with the thresholded rule of
//! [`thresholded_softmax_cross_entropy`](crate::train::loss::thresholded_softmax_cross_entropy)
//! (batch 1): with the hard step, a sample with `p_true > m` (the margin) is **skipped**, no
//! parameter changes; any other gets the cross-entropy gradient `λ·(softmax(z) − onehot)`,
//! backpropagated through the head, and one SGD step `p ← p − lr·g` (with momentum `μ`:
//! `v ← μ·v + g`, `p ← p − lr·v`, as [`Sgd`](crate::train::optim::Sgd)). Every gradient is
//! taken at the parameters before the step. [`FinetuneStats`] counts the samples seen,
//! updated and skipped; a non-finite input or logit counts as seen and skipped and changes
//! nothing.
//!
//! # Modes and memory
//!
//! | [`Trainable`] | params | state (momentum only) | scratch |
//! |---|---|---|---|
//! | `Bias` | `classes` | `params` | `classes` (output) + `classes` (gradient) + `classes` (weight scales, int8 only) |
//! | `LastLayer` = `LastLayers(1)` | `out·in + out` | `params` | `out` + `out` |
//! | `LastLayers(n)` | `Σ (out·in + out)` | `params` | `Σ out` + `2 · max out` (`n ≥ 2`) |
//!
//! In bias mode the last layer's weights stay in flash (int8 ones are used dequantized on the
//! fly, `w_scale[o] · Σ q[o, i]·x[i]`). The arena and requantizers are the model's own
//! ([`Model::arena_len`]`(1)`, [`Model::requant_len`]); nothing else is needed.
//!
//! For the int8 digits student (`Quantize{64} → Conv2dS8 → Pool2dS8 → Reshape → DenseS8(128→10)
//! → Dequantize{10}`), [`FinetuneLens::ram_bytes`] gives:
//!
//! | mode | momentum | params | state | scratch | RAM |
//! |---|---|---|---|---|---|
//! | `Bias` | 0 | 10 | 0 | 30 | 160 B |
//! | `Bias` | > 0 | 10 | 10 | 30 | 200 B |
//! | `LastLayer` / `LastLayers(1)` | 0 | 1290 | 0 | 20 | 5240 B |
//! | `LastLayer` / `LastLayers(1)` | > 0 | 1290 | 1290 | 20 | 10400 B |
//!
//! (`LastLayers(2)` puts the `Conv2dS8` in the head: [`Error::Config`].)
//!
//! # Usage
//!
//! ```ignore
//! use tinytune::model::Model;
//! use tinytune::num::quant::Requantizer;
//! use tinytune::train::finetune::{FineTuner, FinetuneConfig, Trainable};
//!
//! let model = Model::from_bytes(tinytune::include_model!("../student.ttm"))?;
//! let config = FinetuneConfig::new(Trainable::LastLayer, 0.01);
//! let lens = FineTuner::lens(&model, &config)?;       // 1290 params, 20 scratch
//! let (mut params, mut scratch) = ([0f32; 1290], [0f32; 20]);
//! let mut tuner = FineTuner::new(model, config, &mut params, &mut [], &mut scratch)?;
//! let mut arena = [0u8; 1024];                          // >= model.arena_len(1)
//! let mut requant = [Requantizer::ZERO; 16];            // >= model.requant_len()
//! let class = tuner.predict(&features, &mut arena, &mut requant)?;
//! // later, when the true label is known:
//! let outcome = tuner.learn(&features, label, &mut arena, &mut requant)?;
//! if outcome.updated { /* persist tuner.params() now and then */ }
//! ```
//!
//! [`Model::run`]: crate::model::Model::run
//! [`Model::arena_len`]: crate::model::Model::arena_len
//! [`Model::requant_len`]: crate::model::Model::requant_len

mod head;
mod layout;
mod step;
mod tuner;

pub use tuner::FineTuner;

use crate::error::Error;
use crate::train::loss::ThresholdedConfig;

/// Which part of the model learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Trainable {
    /// Only the last weighted layer's bias; its weights stay in flash.
    Bias,
    /// The last weighted layer's weights and bias (the same as `LastLayers(1)`).
    LastLayer,
    /// The weights and biases of the last `n` weighted layers (`n ≥ 1`).
    LastLayers(usize),
}

impl Trainable {
    /// Number of head layers.
    fn layers(self) -> usize {
        match self {
            Trainable::Bias | Trainable::LastLayer => 1,
            Trainable::LastLayers(n) => n,
        }
    }
}

/// Settings of a [`FineTuner`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FinetuneConfig {
    /// What learns.
    pub trainable: Trainable,
    /// The margin `m` and step of the thresholded rule (hard step by default).
    pub threshold: ThresholdedConfig,
    /// SGD learning rate, finite and `≥ 0`.
    pub learning_rate: f32,
    /// Heavy-ball momentum `μ` in `[0, 1)`; 0 is plain SGD with no state buffer.
    pub momentum: f32,
}

impl FinetuneConfig {
    /// `trainable` at learning rate `learning_rate`, the default threshold (margin 0.6, hard
    /// step), no momentum.
    pub fn new(trainable: Trainable, learning_rate: f32) -> Self {
        FinetuneConfig {
            trainable,
            threshold: ThresholdedConfig::default(),
            learning_rate,
            momentum: 0.0,
        }
    }

    /// Checks the fields.
    ///
    /// # Errors
    /// [`Error::Config`] unless the learning rate is finite and `≥ 0`, the momentum in
    /// `[0, 1)`, the threshold valid ([`ThresholdedConfig::validate`]) and
    /// `LastLayers(n)` has `n ≥ 1`.
    pub fn validate(&self) -> Result<(), Error> {
        self.threshold.validate()?;
        let lr_ok = self.learning_rate.is_finite() && self.learning_rate >= 0.0;
        let mu_ok = (0.0..1.0).contains(&self.momentum);
        if lr_ok && mu_ok && self.trainable.layers() >= 1 {
            Ok(())
        } else {
            Err(Error::Config)
        }
    }
}

/// Buffer lengths of a [`FineTuner`], in `f32` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FinetuneLens {
    /// Trainable parameters (what is persisted).
    pub params: usize,
    /// Optimizer state: one velocity per parameter with momentum, else 0.
    pub state: usize,
    /// Scratch: the head's activations and gradients (and, in bias mode over int8 weights,
    /// the weight scales).
    pub scratch: usize,
}

impl FinetuneLens {
    /// Bytes of RAM: `4 · (params + state + scratch)`.
    pub fn ram_bytes(&self) -> usize {
        self.params
            .saturating_add(self.state)
            .saturating_add(self.scratch)
            .saturating_mul(4)
    }
}

/// Counts of [`FineTuner::learn`] calls that got past argument checking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FinetuneStats {
    /// Samples seen (`updated + skipped`).
    pub seen: u32,
    /// Samples that changed the parameters.
    pub updated: u32,
    /// Samples past the margin, or with a non-finite input or logit.
    pub skipped: u32,
}

/// What [`FineTuner::learn`] did with one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outcome {
    /// The f32 head's predicted class before the update.
    pub predicted: usize,
    /// The f32 head's probability of the true class before the update (NaN for a non-finite
    /// input or logits).
    pub p_true: f32,
    /// Whether the parameters changed.
    pub updated: bool,
}
