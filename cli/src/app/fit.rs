//! The training loop of `train`: mini-batch training of an [`MlpSpec`] with the core's
//! `Sequential::train_epoch`, softmax cross-entropy, Adam or SGD, and early stopping on the
//! validation loss (the best epoch's parameters are restored at the end).
//!
//! Each epoch: shuffle the training rows, one pass in mini-batches (dropout on), then the
//! training and validation loss and accuracy in inference mode (dropout off). The reported
//! training loss is that inference-mode loss, so training and validation curves compare.

use tinytune::data::sample::shuffle_rows;
use tinytune::layers::{Layer, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::{argmax, softmax_cross_entropy};
use tinytune::train::optim::{Adam, Optimizer, Sgd};
use tinytune::Error;

use super::args::OptimizerKind;
use super::mlp::{logits, sequential, with_sequential, MlpSpec};

/// Features `[samples, features]` and labels `[samples]` of one split.
#[derive(Clone, Copy, Debug)]
pub struct Split<'a> {
    /// Row-major features.
    pub data: &'a [f32],
    /// Class labels, each in `0..classes`.
    pub labels: &'a [u32],
}

/// How to train.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitConfig {
    /// Epoch limit.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// L2 penalty (gradient `l2 · p`, on every parameter).
    pub l2: f32,
    /// Early-stopping patience (see `tinytune::train::early_stop::EarlyStopping`).
    pub patience: usize,
    /// Seed of the initialisation, shuffling and dropout.
    pub seed: u64,
}

/// The figures of one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss (inference mode, after the epoch).
    pub train_loss: f32,
    /// Training accuracy (inference mode).
    pub train_acc: f32,
    /// Mean validation loss.
    pub val_loss: f32,
    /// Validation accuracy.
    pub val_acc: f32,
}

/// A training run's result.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The parameters of the best epoch (lowest validation loss).
    pub params: Vec<f32>,
    /// Every epoch run, in order.
    pub history: Vec<EpochStats>,
    /// 1-based number of the best epoch (whose parameters are kept), if any epoch had a finite
    /// validation loss.
    pub best_epoch: Option<usize>,
}

/// Mean softmax cross-entropy and accuracy of the model on `split` (inference mode).
///
/// # Errors
/// As [`logits`] and `softmax_cross_entropy` (a label `≥ outputs`).
pub fn evaluate(spec: &MlpSpec, params: &[f32], split: Split<'_>) -> Result<(f32, f32), Error> {
    let z = logits(spec, params, split.data)?;
    let mut grad = vec![0.0f32; z.len()];
    let loss = softmax_cross_entropy(spec.outputs, &z, split.labels, &mut grad)?;
    let correct = z
        .chunks_exact(spec.outputs)
        .zip(split.labels)
        .filter(|(z, &y)| argmax(z) == y as usize)
        .count();
    Ok((loss, correct as f32 / split.labels.len().max(1) as f32))
}

/// Trains `spec` from He initialisation (biases zero) on `train`, validating on `val` after each
/// epoch; `on_epoch` sees every epoch's figures.
///
/// # Errors
/// A core error (bad sizes, a label out of range, an invalid optimizer setting), or
/// [`tinytune::ShapeError::Dimension`] for an unsupported depth.
pub fn fit(
    spec: &MlpSpec,
    config: &FitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Trained, Error> {
    with_sequential!(
        spec.hidden.len(),
        fit_n(spec, config, train, val, on_epoch),
        Err(tinytune::ShapeError::Dimension.into())
    )
}

fn optimizer(config: &FitConfig) -> Result<Box<dyn Optimizer>, Error> {
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

fn fit_n<const N: usize>(
    spec: &MlpSpec,
    config: &FitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<Trained, Error> {
    let mut rng = SeededRng::seed_from_u64(config.seed);
    let mut params = vec![0.0f32; spec.param_len()?];
    let mut best = vec![0.0f32; params.len()];
    let mut opt = optimizer(config)?;
    let mut stopper = EarlyStopping::new(config.patience, 0.0)?;
    let mut history = Vec::new();
    {
        let mut model = sequential::<N>(spec.layers(params.as_mut_slice())?)?;
        model.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)?;
        // A batch larger than the training set is the whole set: clamping keeps the buffers
        // (sized for one batch) from growing with an absurd `--batch`.
        let batch = config.batch.clamp(1, train.labels.len().max(1));
        let lens = model.train_buffer_lens(batch);
        let (mut cache, mut grad_output, mut grads, mut scratch) = (
            vec![0.0f32; lens.cache],
            vec![0.0f32; lens.grad_output],
            vec![0.0f32; lens.grads],
            vec![0.0f32; lens.scratch],
        );
        let mut state = vec![0.0f32; opt.state_len(model.param_len())];
        let mut bufs = TrainBuffers {
            cache: &mut cache,
            grad_output: &mut grad_output,
            grads: &mut grads,
            scratch: &mut scratch,
            opt_state: &mut state,
        };
        let (mut x, mut y) = (train.data.to_vec(), train.labels.to_vec());
        let mut flat = Vec::with_capacity(best.len());
        for epoch in 0..config.epochs {
            shuffle_rows(&mut rng, &mut x, spec.inputs, &mut y)?;
            let classes = spec.outputs;
            model.train_epoch(
                &x,
                &y,
                batch,
                &mut bufs,
                &mut rng,
                |z, labels, grad| softmax_cross_entropy(classes, z, labels, grad),
                opt.as_mut(),
            )?;
            flat.clear();
            flat.extend(model.layers().iter().flat_map(|l| l.params()));
            let (train_loss, train_acc) = evaluate(spec, &flat, train)?;
            let (val_loss, val_acc) = evaluate(spec, &flat, val)?;
            let stats = EpochStats {
                epoch: epoch + 1,
                train_loss,
                train_acc,
                val_loss,
                val_acc,
            };
            history.push(stats);
            on_epoch(&stats);
            if stopper.observe(epoch, val_loss, &flat, &mut best)? == Decision::Stop {
                break;
            }
        }
    }
    stopper.restore(&mut params, &best)?;
    Ok(Trained {
        params,
        history,
        best_epoch: stopper.best_epoch().map(|e| e + 1),
    })
}
