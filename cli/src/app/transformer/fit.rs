//! Training the transformer: mini-batches of reshuffled samples, softmax cross-entropy (or
//! Hinton's KD loss against a frozen teacher's logits), Adam or SGD over the one flat parameter
//! vector, and optionally early stopping on a validation split.
//!
//! [`fit`] is the plain loop (fixed epochs, no validation); [`fit_run`] adds the validation
//! figures of every epoch, early stopping with the best epoch restored, the optimizer choice,
//! an L2 penalty and the KD loss. With no validation split, no teacher, Adam and no L2 penalty
//! both follow the same trajectory.

use tinytune::rng::{RngCore, SeedableRng, SeededRng};
use tinytune::train::distill::KdConfig;
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::loss::{distillation, softmax_cross_entropy};
use tinytune::train::optim::{Adam, Optimizer, Sgd};
use tinytune::{Error, ShapeError};

use super::net::Acts;
use super::spec::{accuracy_of, Spec};
use crate::app::args::OptimizerKind;
use crate::app::fit::{EpochStats, Split};
use crate::csv::Dataset;

/// Mixed into the seed for the shuffles and dropout masks, so they do not repeat the
/// initialisation's draws.
const STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// Training settings of [`fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Train {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per mini-batch (the last batch of an epoch may be smaller).
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Seed of the initialisation, the shuffles and the dropout masks.
    pub seed: u64,
}

/// The result of [`fit`].
#[derive(Clone, Debug)]
pub struct Trained {
    /// The trained parameters.
    pub params: Vec<f32>,
    /// Mean training loss of each epoch (over its mini-batches, in training mode).
    pub losses: Vec<f32>,
}

/// Trains fresh parameters (from `train.seed`) on `data` with Adam and softmax cross-entropy
/// for `train.epochs` epochs, shuffling the samples every epoch.
///
/// # Errors
/// As the layers' configurations and passes; [`Error::Config`] for a zero batch size.
pub fn fit(spec: &Spec, train: &Train, data: &Dataset) -> Result<Trained, Error> {
    let config = RunConfig {
        epochs: train.epochs,
        batch: train.batch,
        optimizer: OptimizerKind::Adam,
        lr: train.lr,
        l2: 0.0,
        patience: None,
        seed: train.seed,
    };
    let split = Split {
        data: &data.data,
        labels: &data.labels,
    };
    let run = fit_run(spec, &config, split, None, None, &mut |_| {})?;
    Ok(Trained {
        params: run.params,
        losses: run.losses,
    })
}

/// Settings of [`fit_run`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunConfig {
    /// Epoch limit.
    pub epochs: usize,
    /// Mini-batch size (clamped to the training set's size).
    pub batch: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// L2 penalty (coupled weight decay `l2 · p` on every parameter).
    pub l2: f32,
    /// Early-stopping patience on the validation loss (`None`: run every epoch, keep the
    /// last parameters). Needs a validation split.
    pub patience: Option<usize>,
    /// Seed of the initialisation, the shuffles and the dropout masks.
    pub seed: u64,
}

/// The frozen teacher of a distillation run: its logits on the training samples, in their
/// order (`[samples, classes]`), and the KD setting.
#[derive(Clone, Copy, Debug)]
pub struct Teacher<'a> {
    /// Logits of every training sample.
    pub logits: &'a [f32],
    /// Temperature and weight of the soft term.
    pub kd: KdConfig,
}

/// The result of [`fit_run`].
#[derive(Clone, Debug)]
pub struct RunTrained {
    /// The parameters kept: the best epoch's with early stopping, else the last.
    pub params: Vec<f32>,
    /// Mean training loss of each epoch (over its mini-batches, in training mode; the KD loss
    /// with a teacher).
    pub losses: Vec<f32>,
    /// Inference-mode figures after every epoch (empty without a validation split).
    pub history: Vec<EpochStats>,
    /// 1-based best epoch (early stopping), if any had a finite validation loss.
    pub best_epoch: Option<usize>,
}

fn optimizer(config: &RunConfig) -> Result<Box<dyn Optimizer>, Error> {
    Ok(match config.optimizer {
        OptimizerKind::Adam => {
            let adam = Adam::new(config.lr).with_weight_decay(config.l2);
            adam.validate()?;
            Box::new(adam)
        }
        OptimizerKind::Sgd => {
            let sgd = Sgd::new(config.lr).with_weight_decay(config.l2);
            sgd.validate()?;
            Box::new(sgd)
        }
    })
}

/// Mean softmax cross-entropy and accuracy of `params` on `split` (inference mode).
///
/// # Errors
/// As [`Spec::logits_of`]; a label out of range.
pub fn evaluate(spec: &Spec, params: &[f32], split: Split<'_>) -> Result<(f32, f32), Error> {
    let z = spec.logits_of(params, split.data)?;
    let mut grad = vec![0.0f32; z.len()];
    let loss = softmax_cross_entropy(spec.classes, &z, split.labels, &mut grad)?;
    Ok((loss, accuracy_of(&z, split.labels, spec.classes)))
}

/// Trains fresh parameters (from `config.seed`) on `train`: every epoch reshuffles the
/// samples and takes one optimizer step per mini-batch on the cross-entropy, or with `teacher`
/// on `α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE` (`tinytune::train::loss::distillation`).
/// With `val`, the training and validation loss and accuracy are measured after every epoch
/// (`on_epoch` sees them) and, with `config.patience`, training stops early and the best
/// epoch's parameters are restored.
///
/// # Errors
/// As the layers' configurations and passes; [`Error::Config`] for a zero batch, a bad
/// optimizer setting, a KD setting out of range or a patience without a validation split;
/// [`ShapeError::Length`] for teacher logits or data of the wrong length.
pub fn fit_run(
    spec: &Spec,
    config: &RunConfig,
    train: Split<'_>,
    val: Option<Split<'_>>,
    teacher: Option<Teacher<'_>>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<RunTrained, Error> {
    if config.batch == 0 || (config.patience.is_some() && val.is_none()) {
        return Err(Error::Config);
    }
    let n = train.labels.len();
    let sample = spec.sample_len();
    let classes = spec.classes;
    if sample == 0 || train.data.len() != n.saturating_mul(sample) {
        return Err(shape(n.saturating_mul(sample), train.data.len()));
    }
    if let Some(t) = teacher {
        t.kd.validate()?;
        if t.logits.len() != n.saturating_mul(classes) {
            return Err(shape(n.saturating_mul(classes), t.logits.len()));
        }
    }
    let mut params = spec.init_params(config.seed)?;
    let mut opt = optimizer(config)?;
    let mut state = vec![0.0; opt.state_len(params.len())];
    let mut grads = vec![0.0; params.len()];
    let mut best = vec![0.0; params.len()];
    let mut stopper = match config.patience {
        Some(p) => Some(EarlyStopping::new(p, 0.0)?),
        None => None,
    };
    let mut rng = SeededRng::seed_from_u64(config.seed ^ STREAM);
    let mut order: Vec<usize> = (0..n).collect();
    let mut losses = Vec::with_capacity(config.epochs);
    let mut history = Vec::new();
    let batch_max = config.batch.min(n.max(1));
    let mut x = Vec::with_capacity(batch_max * sample);
    let mut labels = Vec::with_capacity(batch_max);
    let mut soft = Vec::with_capacity(batch_max * classes);
    for epoch in 0..config.epochs {
        shuffle(&mut order, &mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(batch_max) {
            let batch = chunk.len();
            x.clear();
            labels.clear();
            soft.clear();
            for &i in chunk {
                x.extend_from_slice(rows(train.data, i, sample)?);
                labels.push(*train.labels.get(i).ok_or(ShapeError::Dimension)?);
                if let Some(t) = teacher {
                    soft.extend_from_slice(rows(t.logits, i, classes)?);
                }
            }
            grads.fill(0.0);
            let layers = spec.layers_mut(&mut params)?;
            let mut scratch = vec![0.0; layers.scratch];
            let mut acts = Acts::new(spec, batch);
            layers.forward(batch, &x, &mut acts, &mut scratch, Some(&mut rng))?;
            let mut g_logits = vec![0.0; batch * classes];
            let loss = match teacher {
                None => softmax_cross_entropy(classes, &acts.logits, &labels, &mut g_logits)?,
                Some(t) => {
                    let (temp, alpha) = (t.kd.temperature, t.kd.alpha);
                    distillation(
                        classes,
                        &acts.logits,
                        &soft,
                        &labels,
                        temp,
                        alpha,
                        &mut g_logits,
                    )?
                    .loss
                }
            };
            total += f64::from(loss) * batch as f64;
            layers.backward(batch, &x, &acts, &g_logits, &mut grads, &mut scratch)?;
            drop(layers);
            opt.begin_step(&mut grads);
            opt.update(&mut params, &grads, &mut state);
        }
        losses.push((total / n.max(1) as f64) as f32);
        let Some(val) = val else { continue };
        let (train_loss, train_acc) = evaluate(spec, &params, train)?;
        let (val_loss, val_acc) = evaluate(spec, &params, val)?;
        let stats = EpochStats {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            val_loss,
            val_acc,
        };
        history.push(stats);
        on_epoch(&stats);
        if let Some(s) = stopper.as_mut() {
            if s.observe(epoch, val_loss, &params, &mut best)? == Decision::Stop {
                break;
            }
        }
    }
    let best_epoch = match &stopper {
        Some(s) => {
            s.restore(&mut params, &best)?;
            s.best_epoch().map(|e| e + 1)
        }
        None => None,
    };
    Ok(RunTrained {
        params,
        losses,
        history,
        best_epoch,
    })
}

fn shape(expected: usize, actual: usize) -> Error {
    ShapeError::Length {
        buffer: tinytune::Buffer::Input,
        expected,
        actual,
    }
    .into()
}

/// Row `i` of a row-major `[_, width]` buffer.
fn rows(data: &[f32], i: usize, width: usize) -> Result<&[f32], Error> {
    let start = i.checked_mul(width).ok_or(ShapeError::Dimension)?;
    data.get(start..start.saturating_add(width))
        .ok_or_else(|| ShapeError::Dimension.into())
}

/// Fisher–Yates shuffle with draws from `rng` (modulo bias is negligible at these sizes).
fn shuffle(items: &mut [usize], rng: &mut SeededRng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
