//! The training loops of [`super::pipeline`]: the joint teacher–student run (the core's
//! `tinytune::train::distill::joint_epoch`, Rocket Launching) over a shared bottom, a teacher
//! head and a student head ([`fit_joint`]), and the same student trained alone ([`fit_alone`]),
//! both with Adam (L2 penalty as weight decay) and early stopping on the student's validation
//! loss (the best epoch's parameters are restored).
//!
//! The architectures and their parameter layout are in [`arch`] ([`DistillArch`]).

pub mod arch;

use tinytune::data::sample::shuffle_rows;
use tinytune::layers::{AnyLayer, Layer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{joint_buffer_lens, joint_epoch, JointBuffers, JointConfig};
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::{argmax, softmax_cross_entropy};
use tinytune::train::optim::{Adam, Optimizer};
use tinytune::{Error, ShapeError};

pub use arch::{build_layers, param_len, ArchKind, DistillArch, LayerSpec};

use super::fit::{EpochStats, Split};
use super::mlp::sequential;

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
    /// Parameters of the teacher ([`DistillArch::teacher`]).
    pub fn teacher(&self) -> Vec<f32> {
        [self.bottom.as_slice(), &self.teacher_head].concat()
    }

    /// Parameters of the deployable student ([`DistillArch::student`]).
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
    /// `γ` and the optional Hinton term (not used by [`fit_alone`]).
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

/// The result of [`fit_alone`].
#[derive(Clone, Debug)]
pub struct AloneTrained {
    /// The student's parameters of the best epoch (layout of [`DistillArch::student`]).
    pub params: Vec<f32>,
    /// The figures after every epoch.
    pub history: Vec<EpochStats>,
    /// 1-based best epoch, if any had a finite validation loss.
    pub best_epoch: Option<usize>,
}

/// Samples per forward call when evaluating a whole split (bounds the scratch memory).
const CHUNK: usize = 256;

/// Logits `[samples, classes]` of the layers `specs` over `params` for `data`.
///
/// # Errors
/// Wrong lengths of `params` or `data`; as [`build_layers`].
pub fn logits(specs: &[LayerSpec], params: &[f32], data: &[f32]) -> Result<Vec<f32>, Error> {
    let layers = build_layers(specs, params)?;
    // The layer counts of the students (MLP 3, conv 5) and teachers (MLP 5, conv 9).
    match layers.len() {
        3 => logits_n::<3>(layers, data),
        5 => logits_n::<5>(layers, data),
        9 => logits_n::<9>(layers, data),
        _ => Err(ShapeError::Dimension.into()),
    }
}

fn logits_n<const N: usize>(layers: Vec<AnyLayer<'_>>, data: &[f32]) -> Result<Vec<f32>, Error> {
    let model = sequential::<N>(layers)?;
    let (f, k) = (model.input_len().max(1), model.output_len());
    let samples = data.len() / f;
    if samples * f != data.len() {
        return Err(ShapeError::Length {
            buffer: tinytune::Buffer::Input,
            expected: samples * f,
            actual: data.len(),
        }
        .into());
    }
    let mut out = vec![0.0f32; samples * k];
    let mut scratch = vec![0.0f32; model.scratch_len(CHUNK.min(samples.max(1)))];
    for (x, y) in data.chunks(CHUNK * f).zip(out.chunks_mut(CHUNK * k)) {
        model.forward(x.len() / f, x, y, &mut scratch)?;
    }
    Ok(out)
}

/// Mean softmax cross-entropy and accuracy of `specs` over `params` on `split`.
///
/// # Errors
/// As [`logits`]; a label out of range.
pub fn evaluate(
    specs: &[LayerSpec],
    params: &[f32],
    classes: usize,
    split: Split<'_>,
) -> Result<(f32, f32), Error> {
    let z = logits(specs, params, split.data)?;
    let mut grad = vec![0.0f32; z.len()];
    let loss = softmax_cross_entropy(classes, &z, split.labels, &mut grad)?;
    let correct = z
        .chunks_exact(classes.max(1))
        .zip(split.labels)
        .filter(|(z, &y)| argmax(z) == y as usize)
        .count();
    Ok((loss, correct as f32 / split.labels.len().max(1) as f32))
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
    match arch.kind {
        ArchKind::Mlp { .. } => fit_joint_n::<2, 3, 1>(arch, config, train, val, on_epoch),
        ArchKind::Conv { .. } => fit_joint_n::<2, 7, 3>(arch, config, train, val, on_epoch),
    }
}

/// The three models over `params` (`[bottom | teacher head | student head]`), trainable.
type Models<'a, const B: usize, const T: usize, const S: usize> = (
    Sequential<AnyLayer<'a>, B>,
    Sequential<AnyLayer<'a>, T>,
    Sequential<AnyLayer<'a>, S>,
);

fn models<'a, const B: usize, const T: usize, const S: usize>(
    arch: &DistillArch,
    params: &'a mut [f32],
) -> Result<Models<'a, B, T, S>, Error> {
    let [nb, nt, _] = arch.part_lens()?;
    if params.len() < nb + nt {
        return Err(ShapeError::Dimension.into());
    }
    let (b, rest) = params.split_at_mut(nb);
    let (t, s) = rest.split_at_mut(nt);
    Ok((
        sequential::<B>(build_layers(&arch.bottom(), b)?)?,
        sequential::<T>(build_layers(&arch.teacher_head(), t)?)?,
        sequential::<S>(build_layers(&arch.student_head(), s)?)?,
    ))
}

fn fit_joint_n<const B: usize, const T: usize, const S: usize>(
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
        let (mut b, mut t, mut s) = models::<B, T, S>(arch, &mut params)?;
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
    let student_specs = arch.student();
    let mut history = Vec::new();
    for epoch in 0..config.epochs {
        shuffle_rows(&mut rng, &mut x, arch.inputs, &mut y)?;
        {
            let (mut b, mut t, mut s) = models::<B, T, S>(arch, &mut params)?;
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
        let stats = epoch_stats(&student_specs, &student, arch.classes, epoch, train, val)?;
        history.push(stats);
        on_epoch(&stats);
        if stopper.observe(epoch, stats.val_loss, &params, &mut best)? == Decision::Stop {
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

fn epoch_stats(
    specs: &[LayerSpec],
    params: &[f32],
    classes: usize,
    epoch: usize,
    train: Split<'_>,
    val: Split<'_>,
) -> Result<EpochStats, Error> {
    let (train_loss, train_acc) = evaluate(specs, params, classes, train)?;
    let (val_loss, val_acc) = evaluate(specs, params, classes, val)?;
    Ok(EpochStats {
        epoch: epoch + 1,
        train_loss,
        train_acc,
        val_loss,
        val_acc,
    })
}

/// Trains the deployable student ([`DistillArch::student`]) alone with softmax cross-entropy and
/// the same budget as [`fit_joint`]: He initialisation, Adam with the L2 penalty, the same
/// epochs, batch, patience and seed, and the best epoch (lowest validation loss) restored.
///
/// # Errors
/// A core error (sizes, a label out of range, a bad learning rate).
pub fn fit_alone(
    arch: &DistillArch,
    config: &JointFitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<AloneTrained, Error> {
    fit_layers(&arch.student(), arch, config, train, val, on_epoch)
}

/// Trains the teacher ([`DistillArch::teacher`]) alone, exactly as [`fit_alone`] trains the
/// student: the frozen teacher of a two-stage distillation to another student.
///
/// # Errors
/// As [`fit_alone`].
pub fn fit_teacher(
    arch: &DistillArch,
    config: &JointFitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<AloneTrained, Error> {
    fit_layers(&arch.teacher(), arch, config, train, val, on_epoch)
}

/// [`fit_alone`] of the layers `specs` (a student or a teacher of `arch`).
fn fit_layers(
    specs: &[LayerSpec],
    arch: &DistillArch,
    config: &JointFitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<AloneTrained, Error> {
    // The layer counts of the students (MLP 3, conv 5) and teachers (MLP 5, conv 9).
    match specs.len() {
        3 => fit_alone_n::<3>(specs, arch, config, train, val, on_epoch),
        5 => fit_alone_n::<5>(specs, arch, config, train, val, on_epoch),
        9 => fit_alone_n::<9>(specs, arch, config, train, val, on_epoch),
        _ => Err(ShapeError::Dimension.into()),
    }
}

fn fit_alone_n<const N: usize>(
    specs: &[LayerSpec],
    arch: &DistillArch,
    config: &JointFitConfig,
    train: Split<'_>,
    val: Split<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<AloneTrained, Error> {
    let mut rng = SeededRng::seed_from_u64(config.seed);
    let mut params = vec![0.0f32; param_len(specs)?];
    let mut best = vec![0.0f32; params.len()];
    let mut opt = Adam::new(config.lr).with_weight_decay(config.l2);
    opt.validate()?;
    let mut stopper = EarlyStopping::new(config.patience, 0.0)?;
    let mut history = Vec::new();
    {
        let mut model = sequential::<N>(build_layers(specs, params.as_mut_slice())?)?;
        model.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)?;
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
        let classes = arch.classes;
        for epoch in 0..config.epochs {
            shuffle_rows(&mut rng, &mut x, arch.inputs, &mut y)?;
            model.train_epoch(
                &x,
                &y,
                batch,
                &mut bufs,
                &mut rng,
                |z, labels, grad| softmax_cross_entropy(classes, z, labels, grad),
                &mut opt,
            )?;
            flat.clear();
            flat.extend(model.layers().iter().flat_map(|l| l.params()));
            let stats = epoch_stats(specs, &flat, classes, epoch, train, val)?;
            history.push(stats);
            on_epoch(&stats);
            if stopper.observe(epoch, stats.val_loss, &flat, &mut best)? == Decision::Stop {
                break;
            }
        }
    }
    stopper.restore(&mut params, &best)?;
    Ok(AloneTrained {
        params,
        history,
        best_epoch: stopper.best_epoch().map(|e| e + 1),
    })
}
