//! `tinytune distill --teacher`: classic two-stage distillation from a teacher trained
//! elsewhere (a `tinytune train` output, optionally with its parameters replaced by a
//! safetensors file, e.g. from PyTorch).
//!
//! 1. **Teacher**: the `model.json` MLP ([`saved::load`]); with `--teacher-weights`, its
//!    parameters are replaced by the file's tensors (`layers.{i}.dense.weight/bias`, see
//!    [`crate::safetensors`]), checked name by name and shape by shape.
//! 2. **Data**: the pipeline's stratified split ([`split`], same seed rule) but standardised
//!    with the **teacher's own scaler** for every model: the teacher expects its own inputs,
//!    and using one scaler for teacher and student lets the core feed both the same batch.
//!    The written `student.ttm` carries that scaler as its preprocessing.
//! 3. **Students**: the pipeline's deployable student ([`DistillArch::for_data`],
//!    [`DistillArch::student`]) trained alone ([`fit_alone`]) and trained by
//!    [`distill_epoch`] (teacher frozen, inference logits; loss
//!    `α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE`) with the same budget: He
//!    initialisation, Adam with the L2 penalty, epochs, batch, patience and seed, best
//!    validation-loss epoch restored. Without `--kd-temperature/--kd-alpha`: `T = 4`, `α = 0.7`
//!    ([`DEFAULT_KD`]).
//! 4. **int8**: the distilled student quantized as in the pipeline; test accuracy of all four.

use std::path::Path;

use serde_json::json;
use tinytune::data::sample::shuffle_rows;
use tinytune::layers::{AnyLayer, Layer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{
    distill_buffer_lens, distill_epoch, DistillBuffers, JointConfig, KdConfig,
};
use tinytune::train::early_stop::{Decision, EarlyStopping};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::argmax;
use tinytune::train::optim::{Adam, Optimizer};
use tinytune::{Error, ShapeError};

use crate::app::args::DistillArgs;
use crate::app::dataset::{check_classes, split, standardize};
use crate::app::fit::{EpochStats, Split};
use crate::app::joint::{build_layers, evaluate, fit_alone, param_len, ArchKind, DistillArch};
use crate::app::joint::{JointFitConfig, LayerSpec};
use crate::app::mlp::{sequential, with_sequential};
use crate::app::pipeline::{deployed_size, model_file, PipelineConfig, MIN_PER_CLASS};
use crate::app::progress::EpochBar;
use crate::app::report::{create_out_dir, fixed4, json_number, print_json, write_file, Table};
use crate::app::saved::{self, SavedModel};
use crate::app::AppError;
use crate::csv::{load_labeled_csv, Dataset};
use crate::model::{OwnedModel, OwnedOp};
use crate::quantize::{quantize, QuantizeOptions};
use crate::safetensors::Layout;

/// The KD setting when `--teacher` is given without `--kd-temperature/--kd-alpha`: `T = 4`,
/// `α = 0.7` (Hinton's usual range for small students; mostly the teacher's soft targets).
pub const DEFAULT_KD: KdConfig = KdConfig {
    temperature: 4.0,
    alpha: 0.7,
};

/// Loads the teacher `path` (a `train` output directory or its `model.json`); with `weights`,
/// replaces its parameters by the tensors of that safetensors file read in `layout`.
///
/// # Errors
/// An unreadable or invalid model; a safetensors file that cannot be read or whose tensors do
/// not match the teacher's architecture (the message names the tensor).
pub fn load_teacher(
    path: &Path,
    weights: Option<&Path>,
    layout: Layout,
) -> Result<SavedModel, AppError> {
    let mut teacher = saved::load(path)?;
    if let Some(file) = weights {
        let layers = teacher
            .spec()
            .layers(teacher.params.as_slice())
            .map_err(|e| AppError::new(format!("internal error: building the teacher: {e}")))?;
        let mut model = OwnedModel::from_layers(&layers);
        crate::safetensors::import_file(file, &mut model, layout)
            .map_err(|e| AppError::new(format!("{}: {e}", file.display())))?;
        // Back into the flat layout of `model.json`: each dense layer's weights then bias.
        let params: Vec<f32> = model
            .ops
            .iter()
            .filter_map(|op| match op {
                OwnedOp::Dense(_, p) => Some(p.as_slice()),
                _ => None,
            })
            .flatten()
            .copied()
            .collect();
        if params.len() != teacher.params.len() {
            return Err(AppError::new(format!(
                "{}: internal error: {} parameters read back, the teacher has {}",
                file.display(),
                params.len(),
                teacher.params.len()
            )));
        }
        teacher.params = params;
    }
    Ok(teacher)
}

/// Test accuracies and sizes of a two-stage run.
#[derive(Clone, Debug)]
pub struct TwoStageResult {
    /// The student's architecture.
    pub arch: DistillArch,
    /// Teacher, student alone, distilled student (f32), distilled student (int8).
    pub acc: [f32; 4],
    /// Parameters of the teacher and of the student.
    pub params: [usize; 2],
    /// The distilled student, f32 and int8 (input: features standardised by the teacher's
    /// scaler).
    pub student: [OwnedModel; 2],
    /// The teacher's scaler (offsets then scales), the students' preprocessing.
    pub scaler: Vec<f32>,
    /// Class names (`"0"`, `"1"`, …).
    pub class_names: Vec<String>,
    /// Epochs run (student alone, distilled).
    pub epochs_run: [usize; 2],
    /// Samples in the train, validation and test splits.
    pub samples: [usize; 3],
}

/// Runs the two stages (see the [module docs](self)) on `data` with `teacher`.
///
/// # Errors
/// A teacher whose input width or class count differs from the data's; as
/// [`crate::app::pipeline::run_pipeline`].
pub fn run_two_stage(
    file: &str,
    data: &Dataset,
    teacher: &SavedModel,
    config: &PipelineConfig,
    kd: KdConfig,
    on_epoch: &mut dyn FnMut(bool, &EpochStats),
) -> Result<TwoStageResult, AppError> {
    let classes = check_classes(file, data)?;
    if teacher.inputs != data.features {
        return Err(AppError::new(format!(
            "{file}: the teacher takes {} input features, the data have {}",
            teacher.inputs, data.features
        )));
    }
    if teacher.outputs != classes {
        return Err(AppError::new(format!(
            "{file}: the teacher has {} classes, the data have {classes}",
            teacher.outputs
        )));
    }
    if data.len() < MIN_PER_CLASS * classes {
        return Err(AppError::new(format!(
            "{file}: too few samples ({}) for {classes} classes: distillation needs at least \
             {MIN_PER_CLASS} per class",
            data.len()
        )));
    }
    kd.validate().map_err(|_| {
        AppError::new("bad KD settings: the temperature must be finite and > 0, alpha in [0, 1]")
    })?;
    let parts = split(file, data, config.seed)?;
    let scaler = teacher.scaler_params();
    let scaled = |d: &Dataset| -> Result<Dataset, AppError> {
        let mut d = d.clone();
        standardize(&mut d, &scaler)?;
        Ok(d)
    };
    let (train, val, test) = (
        scaled(&parts.train)?,
        scaled(&parts.val)?,
        scaled(&parts.test)?,
    );
    let arch = DistillArch::for_data(data.features, classes);
    let fit = JointFitConfig {
        epochs: config.epochs,
        batch: config.batch,
        lr: config.lr,
        patience: config.patience,
        seed: config.seed,
        l2: config.l2,
        joint: JointConfig::default(),
    };
    let fail = |what: &'static str| move |e: Error| AppError::new(format!("{what}: {e}"));
    let spec = teacher.spec();
    let tz =
        crate::app::mlp::logits(&spec, &teacher.params, &test.data).map_err(fail("teacher"))?;
    let teacher_acc = accuracy_of(&tz, &test.labels, classes);
    let alone = fit_alone(&arch, &fit, split_of(&train), split_of(&val), &mut |s| {
        on_epoch(false, s)
    })
    .map_err(fail("training the student alone failed"))?;
    let job = Job {
        teacher,
        arch: &arch,
        fit: &fit,
        kd,
        train: split_of(&train),
        val: split_of(&val),
    };
    let (distilled, distill_epochs) = with_sequential!(
        spec.hidden.len(),
        distill_with_teacher(&job, &mut |s| on_epoch(true, s)),
        Err(ShapeError::Dimension.into())
    )
    .map_err(fail("distilling the student failed"))?;
    let student_specs = arch.student();
    let owned = |p: &[f32]| -> Result<OwnedModel, AppError> {
        let layers = build_layers(&student_specs, p).map_err(fail("internal error"))?;
        Ok(OwnedModel::from_layers(&layers))
    };
    let (alone_model, student_f32) = (owned(&alone.params)?, owned(&distilled)?);
    let (student_int8, _) = quantize(&student_f32, &train.data, QuantizeOptions::default())
        .map_err(|e| AppError::new(format!("quantizing the student failed: {e}")))?;
    let acc = |m: &OwnedModel, int8: bool| -> Result<f32, AppError> {
        let n = test.len();
        let z = if int8 {
            m.forward_int8(n, &test.data)
        } else {
            m.forward_f32(n, &test.data)
        }
        .map_err(|e| AppError::new(format!("evaluation failed: {e}")))?;
        Ok(accuracy_of(&z, &test.labels, classes))
    };
    Ok(TwoStageResult {
        arch,
        acc: [
            teacher_acc,
            acc(&alone_model, false)?,
            acc(&student_f32, false)?,
            acc(&student_int8, true)?,
        ],
        params: [
            teacher.params.len(),
            param_len(&student_specs).map_err(fail("student"))?,
        ],
        student: [student_f32, student_int8],
        scaler,
        class_names: (0..classes).map(|k| k.to_string()).collect(),
        epochs_run: [alone.history.len(), distill_epochs],
        samples: [train.len(), val.len(), test.len()],
    })
}

fn split_of(d: &Dataset) -> Split<'_> {
    Split {
        data: &d.data,
        labels: &d.labels,
    }
}

fn accuracy_of(z: &[f32], labels: &[u32], classes: usize) -> f32 {
    let correct = z
        .chunks_exact(classes.max(1))
        .zip(labels)
        .filter(|(z, &y)| argmax(z) == y as usize)
        .count();
    correct as f32 / labels.len().max(1) as f32
}

/// What the distillation loop needs.
struct Job<'a> {
    teacher: &'a SavedModel,
    arch: &'a DistillArch,
    fit: &'a JointFitConfig,
    kd: KdConfig,
    train: Split<'a>,
    val: Split<'a>,
}

/// Builds the frozen teacher as a `Sequential` of `T` layers and trains the student with it.
fn distill_with_teacher<const T: usize>(
    job: &Job<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<(Vec<f32>, usize), Error> {
    let teacher = sequential::<T>(job.teacher.spec().layers(job.teacher.params.as_slice())?)?;
    match job.arch.kind {
        ArchKind::Mlp { .. } => distill_student::<T, 3>(&teacher, job, on_epoch),
        ArchKind::Conv { .. } => distill_student::<T, 5>(&teacher, job, on_epoch),
    }
}

/// The student trained by [`distill_epoch`] from He initialisation with Adam (L2 as weight
/// decay), early stopping on its validation cross-entropy, best epoch restored. Returns its
/// parameters and the epochs run.
fn distill_student<const T: usize, const S: usize>(
    teacher: &Sequential<AnyLayer<'_>, T>,
    job: &Job<'_>,
    on_epoch: &mut dyn FnMut(&EpochStats),
) -> Result<(Vec<f32>, usize), Error> {
    let specs: Vec<LayerSpec> = job.arch.student();
    let (config, classes) = (job.fit, job.arch.classes);
    let mut rng = SeededRng::seed_from_u64(config.seed);
    let mut params = vec![0.0f32; param_len(&specs)?];
    let mut best = vec![0.0f32; params.len()];
    let mut opt = Adam::new(config.lr).with_weight_decay(config.l2);
    opt.validate()?;
    let mut stopper = EarlyStopping::new(config.patience, 0.0)?;
    let mut epochs_run = 0;
    {
        let mut model = sequential::<S>(build_layers(&specs, params.as_mut_slice())?)?;
        model.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)?;
        let batch = config.batch.clamp(1, job.train.labels.len().max(1));
        let lens = distill_buffer_lens(teacher, &model, batch);
        let (mut cache, mut grad_output, mut grads, mut scratch, mut logits) = (
            vec![0.0f32; lens.train.cache],
            vec![0.0f32; lens.train.grad_output],
            vec![0.0f32; lens.train.grads],
            vec![0.0f32; lens.train.scratch],
            vec![0.0f32; lens.teacher_logits],
        );
        let mut state = vec![0.0f32; opt.state_len(lens.train.grads)];
        let mut bufs = DistillBuffers {
            train: TrainBuffers {
                cache: &mut cache,
                grad_output: &mut grad_output,
                grads: &mut grads,
                scratch: &mut scratch,
                opt_state: &mut state,
            },
            teacher_logits: &mut logits,
        };
        let (mut x, mut y) = (job.train.data.to_vec(), job.train.labels.to_vec());
        let mut flat = Vec::with_capacity(best.len());
        for epoch in 0..config.epochs {
            shuffle_rows(&mut rng, &mut x, job.arch.inputs, &mut y)?;
            distill_epoch(
                teacher, &mut model, &x, &y, batch, &job.kd, &mut bufs, &mut rng, &mut opt,
            )?;
            flat.clear();
            flat.extend(model.layers().iter().flat_map(|l| l.params()));
            let (train_loss, train_acc) = evaluate(&specs, &flat, classes, job.train)?;
            let (val_loss, val_acc) = evaluate(&specs, &flat, classes, job.val)?;
            on_epoch(&EpochStats {
                epoch: epoch + 1,
                train_loss,
                train_acc,
                val_loss,
                val_acc,
            });
            epochs_run = epoch + 1;
            if stopper.observe(epoch, val_loss, &flat, &mut best)? == Decision::Stop {
                break;
            }
        }
    }
    stopper.restore(&mut params, &best)?;
    Ok((params, epochs_run))
}

/// Runs `tinytune distill --teacher …`: loads the data and the teacher, runs
/// [`run_two_stage`] with progress bars, writes `summary.json`, `student.ttm` (int8) and
/// `student.safetensors` (f32) into `--out`, prints the table and, with `--json`, the JSON
/// object as the last stdout line.
///
/// # Errors
/// As [`load_teacher`] and [`run_two_stage`]; an output file that cannot be written.
pub fn run(args: &DistillArgs, teacher_path: &Path) -> Result<(), AppError> {
    let common = &args.common;
    let config = super::distill::config(common);
    let kd = match (common.kd_temperature, common.kd_alpha) {
        (Some(temperature), Some(alpha)) => KdConfig { temperature, alpha },
        _ => DEFAULT_KD,
    };
    let layout = if args.pytorch_layout {
        Layout::Pytorch
    } else {
        Layout::Tinytune
    };
    let teacher = load_teacher(teacher_path, args.teacher_weights.as_deref(), layout)?;
    let dataset = load_labeled_csv(&args.data)?;
    create_out_dir(&args.out)?;
    let file = args.data.display().to_string();
    let started = std::time::Instant::now();
    let mut bar: Option<(bool, EpochBar)> = None;
    let result = run_two_stage(&file, &dataset, &teacher, &config, kd, &mut |stage, s| {
        if bar.as_ref().map(|(st, _)| *st) != Some(stage) {
            if let Some((_, b)) = bar.take() {
                b.finish();
            }
            eprintln!(
                "{}",
                if stage {
                    "distilling the student from the teacher"
                } else {
                    "training the student alone (baseline)"
                }
            );
            bar = Some((stage, EpochBar::new(config.epochs)));
        }
        if let Some((_, b)) = &bar {
            b.epoch(s);
        }
    });
    if let Some((_, b)) = bar {
        b.finish();
    }
    let r = result?;
    let seconds = started.elapsed().as_secs_f64();
    let (text, summary) = report(&r, &config, kd, seconds)?;
    let out = &args.out;
    write_file(
        &out.join("summary.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;
    let [f32_model, int8_model] = &r.student;
    write_file(
        &out.join("student.ttm"),
        &model_file(int8_model, &r.scaler, &r.class_names)?,
    )?;
    let weights = crate::safetensors::export(f32_model, Layout::Tinytune)
        .map_err(|e| AppError::new(e.to_string()))?;
    write_file(&out.join("student.safetensors"), &weights)?;
    print!("{text}");
    println!(
        "wrote summary.json, student.ttm (int8) and student.safetensors (f32) to {}",
        out.display()
    );
    if common.json {
        print_json(&summary);
    }
    Ok(())
}

/// The table (with the run figures above it) and the JSON object of a two-stage run; the same
/// accuracy and size keys as the joint `distill`, plus `"mode": "two-stage"`.
fn report(
    r: &TwoStageResult,
    config: &PipelineConfig,
    kd: KdConfig,
    seconds: f64,
) -> Result<(String, serde_json::Value), AppError> {
    let [f32_model, int8_model] = &r.student;
    let (int8_flash, arena) = deployed_size(int8_model, &r.scaler, &r.class_names)?;
    let (f32_flash, _) = deployed_size(f32_model, &r.scaler, &r.class_names)?;
    let [teacher_params, student_params] = r.params;
    let mut table = Table::new(["model", "test accuracy", "params", "flash bytes"]);
    let rows = [
        (
            "teacher (f32)",
            r.acc[0],
            teacher_params,
            4 * teacher_params,
        ),
        ("student alone (f32)", r.acc[1], student_params, f32_flash),
        (
            "distilled student (f32)",
            r.acc[2],
            student_params,
            f32_flash,
        ),
        (
            "distilled student (int8)",
            r.acc[3],
            student_params,
            int8_flash,
        ),
    ];
    for (name, acc, params, flash) in rows {
        table.row(vec![
            name.to_string(),
            fixed4(acc),
            params.to_string(),
            flash.to_string(),
        ]);
    }
    let text = format!(
        "student: {arch}\n\
         two-stage distillation: KD T {t} alpha {a}, Adam lr {lr}, L2 {l2}, batch {b}, seed {seed}; \
         epochs run: alone {ea}, distilled {ed}; {seconds:.1} s\n\
         samples: {tr} train, {va} validation, {te} test (teacher's standardisation)\n\n{table}",
        arch = r.arch.describe(),
        t = kd.temperature,
        a = kd.alpha,
        lr = config.lr,
        l2 = config.l2,
        b = config.batch,
        seed = config.seed,
        ea = r.epochs_run[0],
        ed = r.epochs_run[1],
        tr = r.samples[0],
        va = r.samples[1],
        te = r.samples[2],
        table = table.render(),
    );
    let summary = json!({
        "command": "distill",
        "mode": "two-stage",
        "teacher_acc": json_number(r.acc[0]),
        "student_alone_acc": json_number(r.acc[1]),
        "student_distilled_acc": json_number(r.acc[2]),
        "student_int8_acc": json_number(r.acc[3]),
        "params": student_params,
        "teacher_params": teacher_params,
        "flash_bytes": int8_flash,
        "arena_bytes": arena,
        "features": r.arch.inputs,
        "classes": r.arch.classes,
        "architecture": match r.arch.kind {
            ArchKind::Mlp { .. } => "mlp",
            ArchKind::Conv { .. } => "conv",
        },
        "architecture_text": r.arch.describe(),
        "kd_temperature": json_number(kd.temperature),
        "kd_alpha": json_number(kd.alpha),
        "l2": json_number(config.l2),
        "epochs": config.epochs,
        "alone_epochs": r.epochs_run[0],
        "distill_epochs": r.epochs_run[1],
        "seed": config.seed,
        "samples": { "train": r.samples[0], "val": r.samples[1], "test": r.samples[2] },
        "seconds": (seconds * 100.0).round() / 100.0,
    });
    Ok((text, summary))
}
