//! The joint teacher–student training loop of [`super::pipeline`]: the core's
//! `tinytune::train::distill::joint_epoch` (Rocket Launching) over a shared bottom, a teacher
//! head and a student head, with Adam and early stopping on the student's validation loss.
//!
//! # Models and parameter layout
//! With `F` features, bottom width `H`, teacher width `T` and `K` classes ([`DistillArch`]):
//! - bottom: `Dense(F→H) → ReLU`
//! - teacher head: `Dense(H→T) → ReLU → Dense(T→K)`
//! - student head: `Dense(H→K)`
//!
//! One flat buffer holds `[bottom | teacher head | student head]`, each dense layer as weights
//! `[out, in]` then bias. The teacher (bottom + teacher head) is then exactly the
//! [`MlpSpec`] `F → H → T → K` over `bottom ++ teacher head`, and the deployable student
//! (bottom + student head) the [`MlpSpec`] `F → H → K` over `bottom ++ student head` (the
//! layouts of [`super::mlp`]).

use tinytune::data::sample::shuffle_rows;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Sequential};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{joint_buffer_lens, joint_epoch, JointBuffers, JointConfig};
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::optim::Adam;
use tinytune::{Error, ShapeError};

use super::fit::{evaluate, EpochStats, Split};
use super::mlp::{sequential, MlpSpec};

/// The shapes of the three joint models (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistillArch {
    /// Input features `F`.
    pub inputs: usize,
    /// Width `H` of the shared bottom (the student's only hidden layer).
    pub hidden: usize,
    /// Width `T` of the teacher head's hidden layer.
    pub teacher_hidden: usize,
    /// Classes `K`.
    pub classes: usize,
}

impl DistillArch {
    /// The architecture picked from the data's shape: `H = next_power_of_two(⌈√(F·K)⌉)` clamped
    /// to `8..=64`, and `T = 4·H`. The student is kept small (one hidden layer of `H`, so it is
    /// not already saturated and has something to learn from the teacher); the teacher is
    /// deeper (one more layer) and wider (`4·H`). Digits (`F = 64`, `K = 10`): `H = 32`,
    /// `T = 128`, a student of 2,410 parameters and a teacher of 7,594.
    pub fn for_data(features: usize, classes: usize) -> Self {
        let geo = (features.saturating_mul(classes) as f64).sqrt().ceil() as usize;
        let hidden = geo.max(1).next_power_of_two().clamp(8, 64);
        DistillArch {
            inputs: features,
            hidden,
            teacher_hidden: 4 * hidden,
            classes,
        }
    }

    fn bottom(&self) -> DenseConfig {
        dense(self.inputs, self.hidden)
    }

    fn teacher_head(&self) -> [DenseConfig; 2] {
        [
            dense(self.hidden, self.teacher_hidden),
            dense(self.teacher_hidden, self.classes),
        ]
    }

    fn student_head(&self) -> DenseConfig {
        dense(self.hidden, self.classes)
    }

    /// Parameter counts of bottom, teacher head and student head.
    ///
    /// # Errors
    /// A zero size or an overflow.
    pub fn part_lens(&self) -> Result<[usize; 3], Error> {
        let [t1, t2] = self.teacher_head();
        let teacher = t1
            .param_len()?
            .checked_add(t2.param_len()?)
            .ok_or(ShapeError::Dimension)?;
        Ok([
            self.bottom().param_len()?,
            teacher,
            self.student_head().param_len()?,
        ])
    }

    /// The teacher as an MLP (`F → H → T → K`, ReLU).
    pub fn teacher_spec(&self) -> MlpSpec {
        mlp(
            self.inputs,
            vec![self.hidden, self.teacher_hidden],
            self.classes,
        )
    }

    /// The deployable student as an MLP (`F → H → K`, ReLU); also the architecture of the
    /// student trained alone.
    pub fn student_spec(&self) -> MlpSpec {
        mlp(self.inputs, vec![self.hidden], self.classes)
    }
}

fn dense(in_features: usize, out_features: usize) -> DenseConfig {
    DenseConfig {
        in_features,
        out_features,
        bias: true,
    }
}

fn mlp(inputs: usize, hidden: Vec<usize>, outputs: usize) -> MlpSpec {
    MlpSpec {
        inputs,
        hidden,
        outputs,
        dropout: 0.0,
    }
}

/// Trained joint parameters, split into the three parts.
#[derive(Clone, Debug)]
pub struct JointParams {
    /// The shared bottom's parameters.
    pub bottom: Vec<f32>,
    /// The teacher head's parameters.
    pub teacher_head: Vec<f32>,
    /// The student head's parameters.
    pub student_head: Vec<f32>,
}

impl JointParams {
    /// Parameters of the teacher MLP ([`DistillArch::teacher_spec`]).
    pub fn teacher(&self) -> Vec<f32> {
        [self.bottom.as_slice(), &self.teacher_head].concat()
    }

    /// Parameters of the student MLP ([`DistillArch::student_spec`]).
    pub fn student(&self) -> Vec<f32> {
        [self.bottom.as_slice(), &self.student_head].concat()
    }
}

/// How to train (shared by the joint run and the student trained alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JointFitConfig {
    /// Epoch limit.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Early-stopping patience on the student's validation loss.
    pub patience: usize,
    /// Seed of the initialisation and the shuffling.
    pub seed: u64,
    /// L2 penalty (Adam's weight decay), on every parameter.
    pub l2: f32,
    /// `γ` and the optional Hinton term.
    pub joint: JointConfig,
}

/// The result of [`fit_joint`].
#[derive(Clone, Debug)]
pub struct JointTrained {
    /// The parameters of the best epoch (lowest student validation loss).
    pub params: JointParams,
    /// The student's figures after every epoch.
    pub history: Vec<EpochStats>,
    /// 1-based best epoch, if any had a finite validation loss.
    pub best_epoch: Option<usize>,
}

/// The three models over `params` (`[bottom | teacher head | student head]`), trainable.
type Models<'a> = (
    Sequential<AnyLayer<'a>, 2>,
    Sequential<AnyLayer<'a>, 3>,
    Sequential<AnyLayer<'a>, 1>,
);

fn models<'a>(arch: &DistillArch, params: &'a mut [f32]) -> Result<Models<'a>, Error> {
    let [nb, nt, ns] = arch.part_lens()?;
    let total = nb.saturating_add(nt).saturating_add(ns);
    if params.len() != total {
        return Err(ShapeError::Length {
            buffer: tinytune::Buffer::Params,
            expected: total,
            actual: params.len(),
        }
        .into());
    }
    let (b, rest) = params.split_at_mut(nb);
    let (t, s) = rest.split_at_mut(nt);
    let [t1, t2] = arch.teacher_head();
    let (t1p, t2p) = t.split_at_mut(t1.param_len()?);
    let relu = |len| ActivationConfig {
        kind: ActivationKind::Relu,
        len,
    };
    let bottom = sequential::<2>(vec![
        arch.bottom().init(b)?.into(),
        relu(arch.hidden).init()?.into(),
    ])?;
    let teacher = sequential::<3>(vec![
        t1.init(t1p)?.into(),
        relu(arch.teacher_hidden).init()?.into(),
        t2.init(t2p)?.into(),
    ])?;
    let student = sequential::<1>(vec![arch.student_head().init(s)?.into()])?;
    Ok((bottom, teacher, student))
}

/// Trains the three models jointly from He initialisation (biases zero) with Adam, one
/// `joint_epoch` per epoch on the reshuffled training rows, and keeps the parameters of the
/// epoch with the lowest student validation loss (early stopping with `config.patience`).
/// `on_epoch` sees the student's figures after every epoch.
///
/// # Errors
/// A core error (sizes, a label out of range, a bad `γ`/KD setting or learning rate).
pub fn fit_joint(
    arch: &DistillArch,
    config: &JointFitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<JointTrained, Error> {
    config.joint.validate()?;
    let mut rng = SeededRng::seed_from_u64(config.seed);
    let [nb, nt, ns] = arch.part_lens()?;
    let mut params = vec![0.0f32; nb + nt + ns];
    let mut opt = Adam::new(config.lr).with_weight_decay(config.l2);
    opt.validate()?;
    let batch = config.batch.clamp(1, train.labels.len().max(1));
    let lens = {
        let (mut b, mut t, mut s) = models(arch, &mut params)?;
        let he = Init::HeNormal(FanMode::FanIn);
        b.init_params(he, &mut rng)?;
        t.init_params(he, &mut rng)?;
        s.init_params(he, &mut rng)?;
        joint_buffer_lens(&b, &t, &s, batch, &opt)
    };
    let mut cache = vec![0.0f32; lens.cache];
    let mut logit_grads = vec![0.0f32; lens.logit_grads];
    let mut hidden_grads = vec![0.0f32; lens.hidden_grads];
    let mut grads = vec![0.0f32; lens.grads];
    let mut scratch = vec![0.0f32; lens.scratch];
    let mut opt_state = vec![0.0f32; lens.opt_state];
    let mut best = vec![0.0f32; params.len()];
    let mut stopper = EarlyStopping::new(config.patience, 0.0)?;
    let (mut x, mut y) = (train.data.to_vec(), train.labels.to_vec());
    let spec = arch.student_spec();
    let mut history = Vec::new();
    for epoch in 0..config.epochs {
        shuffle_rows(&mut rng, &mut x, arch.inputs, &mut y)?;
        {
            let (mut b, mut t, mut s) = models(arch, &mut params)?;
            let mut bufs = JointBuffers {
                cache: &mut cache,
                logit_grads: &mut logit_grads,
                hidden_grads: &mut hidden_grads,
                grads: &mut grads,
                scratch: &mut scratch,
                opt_state: &mut opt_state,
            };
            joint_epoch(
                &mut b,
                &mut t,
                &mut s,
                &x,
                &y,
                batch,
                &mut bufs,
                &mut rng,
                &config.joint,
                &mut opt,
            )?;
        }
        let student = [&params[..nb], &params[nb + nt..]].concat();
        let (train_loss, train_acc) = evaluate(&spec, &student, train)?;
        let (val_loss, val_acc) = evaluate(&spec, &student, val)?;
        let stats = EpochStats {
            epoch: epoch + 1,
            train_loss,
            train_acc,
            val_loss,
            val_acc,
        };
        history.push(stats);
        on_epoch(&stats);
        if stopper.observe(epoch, val_loss, &params, &mut best)? == Decision::Stop {
            break;
        }
    }
    stopper.restore(&mut params, &best)?;
    let (b, rest) = params.split_at(nb);
    let (t, s) = rest.split_at(nt);
    Ok(JointTrained {
        params: JointParams {
            bottom: b.to_vec(),
            teacher_head: t.to_vec(),
            student_head: s.to_vec(),
        },
        history,
        best_epoch: stopper.best_epoch().map(|e| e + 1),
    })
}
