//! A one-hidden-layer MLP harness for the digits acceptance tests: the model is built from the
//! core's layers (`Dense → ReLU → Dropout → Dense`, dropout rate 0 being the identity) and trained
//! with the core's `Sequential::train_epoch`, losses and optimizers; only the loop around them
//! (epochs, shuffling, validation) lives here.

use crate::csv::Dataset;
use tinytune::data::augment::gaussian_noise;
use tinytune::data::sample::shuffle_rows;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::dropout::DropoutConfig;
use tinytune::layers::{AnyLayer, Layer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::{
    argmax, binary_cross_entropy_with_logits, softmax_cross_entropy,
    thresholded_binary_cross_entropy, ThresholdedConfig,
};
use tinytune::train::optim::{Adam, Optimizer, Sgd};

/// The model: `inputs → hidden (ReLU, dropout) → outputs` logits.
#[derive(Clone, Copy, Debug)]
pub struct Mlp {
    /// Input features.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Output logits (classes, or 1 for a binary head).
    pub outputs: usize,
    /// Dropout rate after the hidden layer (0: none).
    pub dropout: f32,
}

/// The built model type.
pub type Model<'a> = Sequential<AnyLayer<'a>, 4>;

impl Mlp {
    fn dense(&self) -> (DenseConfig, DenseConfig) {
        (
            DenseConfig {
                in_features: self.inputs,
                out_features: self.hidden,
                bias: true,
            },
            DenseConfig {
                in_features: self.hidden,
                out_features: self.outputs,
                bias: true,
            },
        )
    }

    /// Number of parameters (both dense layers, weights then bias each).
    pub fn param_len(&self) -> usize {
        let (a, b) = self.dense();
        a.param_len().unwrap() + b.param_len().unwrap()
    }

    fn middle(&self) -> [AnyLayer<'static>; 2] {
        [
            ActivationConfig {
                kind: ActivationKind::Relu,
                len: self.hidden,
            }
            .init()
            .unwrap()
            .into(),
            DropoutConfig {
                len: self.hidden,
                rate: self.dropout,
            }
            .init()
            .unwrap()
            .into(),
        ]
    }

    /// The model over trainable parameters.
    pub fn model_mut<'a>(&self, params: &'a mut [f32]) -> Model<'a> {
        let (a, b) = self.dense();
        let (p1, p2) = params.split_at_mut(a.param_len().unwrap());
        let [relu, dropout] = self.middle();
        Sequential::new([
            a.init(p1).unwrap().into(),
            relu,
            dropout,
            b.init(p2).unwrap().into(),
        ])
        .unwrap()
    }

    /// The model over frozen parameters.
    pub fn model<'a>(&self, params: &'a [f32]) -> Model<'a> {
        let (a, b) = self.dense();
        let (p1, p2) = params.split_at(a.param_len().unwrap());
        let [relu, dropout] = self.middle();
        Sequential::new([
            a.init(p1).unwrap().into(),
            relu,
            dropout,
            b.init(p2).unwrap().into(),
        ])
        .unwrap()
    }

    /// Logits of every sample.
    pub fn logits(&self, params: &[f32], data: &Dataset) -> Vec<f32> {
        let model = self.model(params);
        let mut out = vec![0.0f32; data.len() * self.outputs];
        let mut scratch = vec![0.0f32; model.scratch_len(data.len())];
        model
            .forward(data.len(), &data.data, &mut out, &mut scratch)
            .unwrap();
        out
    }
}

/// What the model is trained to predict.
#[derive(Clone, Copy, Debug)]
pub enum Objective {
    /// All classes, softmax cross-entropy.
    Classes,
    /// One class against the rest, one logit: binary cross-entropy, or the thresholded loss.
    OneVsRest {
        /// The positive class.
        positive: u32,
        /// `Some`: the thresholded cross-entropy with this configuration.
        thresholded: Option<ThresholdedConfig>,
    },
}

impl Objective {
    /// The 0/1 target of a label for a one-vs-rest objective.
    fn target(positive: u32, label: u32) -> f32 {
        if label == positive {
            1.0
        } else {
            0.0
        }
    }

    /// Predicted label per sample from logits: a class, or 1/0 for one-vs-rest (logit > 0).
    pub fn predictions(&self, logits: &[f32], outputs: usize) -> Vec<u32> {
        match self {
            Objective::Classes => logits
                .chunks_exact(outputs)
                .map(|z| argmax(z) as u32)
                .collect(),
            Objective::OneVsRest { .. } => logits.iter().map(|&z| u32::from(z > 0.0)).collect(),
        }
    }

    /// The true label in the objective's terms.
    pub fn truth(&self, label: u32) -> u32 {
        match self {
            Objective::Classes => label,
            Objective::OneVsRest { positive, .. } => u32::from(label == *positive),
        }
    }

    /// Mean loss (plain cross-entropy, also for the thresholded objective) and the number of
    /// samples the thresholded loss skipped.
    fn loss(
        &self,
        outputs: usize,
        logits: &[f32],
        labels: &[u32],
        grad: &mut [f32],
    ) -> (f32, usize) {
        match self {
            Objective::Classes => (
                softmax_cross_entropy(outputs, logits, labels, grad).unwrap(),
                0,
            ),
            Objective::OneVsRest {
                positive,
                thresholded,
            } => {
                let t: Vec<f32> = labels.iter().map(|&y| Self::target(*positive, y)).collect();
                match thresholded {
                    None => (
                        binary_cross_entropy_with_logits(logits, &t, grad).unwrap(),
                        0,
                    ),
                    Some(cfg) => {
                        let r = thresholded_binary_cross_entropy(cfg, logits, &t, grad).unwrap();
                        (r.loss, r.skipped)
                    }
                }
            }
        }
    }
}

/// The optimizer.
#[derive(Clone, Copy, Debug)]
pub enum Opt {
    /// SGD with L2 weight decay `l2`.
    Sgd {
        /// Learning rate.
        lr: f32,
        /// L2 penalty (gradient `l2 · p`).
        l2: f32,
    },
    /// Adam with coupled L2 `l2`.
    Adam {
        /// Learning rate.
        lr: f32,
        /// L2 penalty (gradient `l2 · p`).
        l2: f32,
    },
}

/// How to train.
#[derive(Clone, Copy, Debug)]
pub struct Fit {
    /// Epoch limit.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Optimizer.
    pub opt: Opt,
    /// σ of the Gaussian noise added to a fresh copy of the inputs every epoch (0: none).
    pub noise: f32,
    /// Early stopping on the validation loss: `(patience, min_delta)`.
    pub early_stop: Option<(usize, f32)>,
    /// Loss.
    pub objective: Objective,
    /// Seed of initialisation, shuffling, dropout and noise.
    pub seed: u64,
}

/// A training run's result.
#[derive(Clone, Debug)]
pub struct Trained {
    /// Final parameters (with early stopping: the restored best ones).
    pub params: Vec<f32>,
    /// Epochs actually run.
    pub epochs_run: usize,
    /// Validation loss after each epoch (empty without validation data).
    pub val_losses: Vec<f32>,
    /// Early stopping's best epoch and loss.
    pub best: Option<(usize, f32)>,
    /// Samples the thresholded loss skipped, per epoch.
    pub skipped: Vec<usize>,
}

fn optimizer(opt: Opt) -> Box<dyn Optimizer> {
    match opt {
        Opt::Sgd { lr, l2 } => Box::new(Sgd::new(lr).with_weight_decay(l2)),
        Opt::Adam { lr, l2 } => Box::new(Adam::new(lr).with_weight_decay(l2)),
    }
}

/// Mean validation loss of the model (inference mode).
pub fn mean_loss(mlp: &Mlp, objective: &Objective, params: &[f32], data: &Dataset) -> f32 {
    let logits = mlp.logits(params, data);
    let mut grad = vec![0.0f32; logits.len()];
    let plain = match objective {
        Objective::OneVsRest { positive, .. } => Objective::OneVsRest {
            positive: *positive,
            thresholded: None,
        },
        o => *o,
    };
    plain.loss(mlp.outputs, &logits, &data.labels, &mut grad).0
}

/// Accuracy of the model on `data` under `objective`.
pub fn accuracy(mlp: &Mlp, objective: &Objective, params: &[f32], data: &Dataset) -> f32 {
    let pred = objective.predictions(&mlp.logits(params, data), mlp.outputs);
    let correct = pred
        .iter()
        .zip(&data.labels)
        .filter(|(&p, &y)| p == objective.truth(y))
        .count();
    correct as f32 / data.len() as f32
}

/// Trains `mlp` from He initialisation on `train`, validating on `val` after each epoch.
pub fn fit(mlp: &Mlp, fit: &Fit, train: &Dataset, val: Option<&Dataset>) -> Trained {
    let mut rng = SeededRng::seed_from_u64(fit.seed);
    let mut params = vec![0.0f32; mlp.param_len()];
    let mut opt = optimizer(fit.opt);
    let mut stopper = fit
        .early_stop
        .map(|(patience, delta)| EarlyStopping::new(patience, delta).unwrap());
    let mut best = vec![0.0f32; params.len()];
    let (mut val_losses, mut skipped) = (Vec::new(), Vec::new());
    let mut epochs_run = 0;
    {
        let mut model = mlp.model_mut(&mut params);
        model
            .init_params(Init::HeNormal(FanMode::FanIn), &mut rng)
            .unwrap();
        let lens = model.train_buffer_lens(fit.batch);
        let (mut c, mut go, mut g, mut s) = (
            vec![0.0f32; lens.cache],
            vec![0.0f32; lens.grad_output],
            vec![0.0f32; lens.grads],
            vec![0.0f32; lens.scratch],
        );
        let mut state = vec![0.0f32; opt.state_len(model.param_len())];
        let mut bufs = TrainBuffers {
            cache: &mut c,
            grad_output: &mut go,
            grads: &mut g,
            scratch: &mut s,
            opt_state: &mut state,
        };
        let (mut x, mut y) = (train.data.clone(), train.labels.clone());
        for epoch in 0..fit.epochs {
            shuffle_rows(&mut rng, &mut x, train.features, &mut y).unwrap();
            let mut input = x.clone();
            if fit.noise > 0.0 {
                gaussian_noise(&mut rng, &mut input, fit.noise).unwrap();
            }
            let mut epoch_skipped = 0;
            let objective = fit.objective;
            let outputs = mlp.outputs;
            model
                .train_epoch(
                    &input,
                    &y,
                    fit.batch,
                    &mut bufs,
                    &mut rng,
                    |logits, labels, grad| {
                        let (loss, skip) = objective.loss(outputs, logits, labels, grad);
                        epoch_skipped += skip;
                        Ok(loss)
                    },
                    opt.as_mut(),
                )
                .unwrap();
            skipped.push(epoch_skipped);
            epochs_run = epoch + 1;
            if let Some(val) = val {
                let flat: Vec<f32> = model
                    .layers()
                    .iter()
                    .flat_map(|l| l.params())
                    .copied()
                    .collect();
                let loss = mean_loss(mlp, &fit.objective, &flat, val);
                val_losses.push(loss);
                if let Some(stopper) = stopper.as_mut() {
                    if stopper.observe(epoch, loss, &flat, &mut best).unwrap() == Decision::Stop {
                        break;
                    }
                }
            }
        }
    }
    let best_info = stopper.as_ref().and_then(|s| {
        s.restore(&mut params, &best).unwrap();
        s.best_epoch().map(|e| (e, s.best_loss()))
    });
    Trained {
        params,
        epochs_run,
        val_losses,
        best: best_info,
        skipped,
    }
}

/// Euclidean norm of the weights (biases excluded) of both dense layers.
pub fn weight_norm(mlp: &Mlp, params: &[f32]) -> f32 {
    let (a, _) = mlp.dense();
    let w1 = a.in_features * a.out_features;
    let split = a.param_len().unwrap();
    let w2 = mlp.hidden * mlp.outputs;
    params[..w1]
        .iter()
        .chain(&params[split..split + w2])
        .map(|w| w * w)
        .sum::<f32>()
        .sqrt()
}
