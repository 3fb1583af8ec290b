//! `tinytune distill --student transformer`: two-stage distillation into a transformer student.
//!
//! 1. **Data**: the pipeline's stratified split (same seed rule), standardised by the
//!    pipeline's scaler fitted on the training split, or with `--teacher` by the teacher's own.
//! 2. **Teacher**: the pipeline's teacher for the data ([`DistillArch::teacher`]: the
//!    convolutional one on square images, the wide MLP otherwise) trained alone with the
//!    pipeline's settings ([`fit_teacher`]); or the `--teacher` `tinytune train` output. It is
//!    frozen: its inference logits on the training split are computed once.
//! 3. **Students**, with the same budget (epochs, batch 32, Adam 0.002, early stopping on the
//!    validation cross-entropy with the pipeline's patience, best epoch restored, seed): the
//!    transformer trained alone (cross-entropy), and the same transformer trained with
//!    `α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE` against the teacher's logits `v`
//!    (`tinytune::train::loss::distillation`; default `T = 4`, `α = 0.7`).
//! 4. **int8**: the distilled student exported ([`Spec::to_model`]) and quantized by
//!    [`crate::quantize::quantize`] (min/max calibration on the training split).
//!
//! Writes `student.ttm` (int8), `student-f32.ttm` and `summary.json`; prints the table of
//! test accuracies (teacher, student alone, distilled student f32 and int8) and says whether
//! distillation beat the student trained alone.

use std::time::Instant;

use tinytune::train::distill::{JointConfig, KdConfig};

use super::arch::{self as tarch, FileKeys};
use super::fit::{fit_run, RunConfig, RunTrained, Teacher};
use super::spec::{accuracy_of, Spec};
use super::train::model_accuracy;
use crate::app::args::{DistillArgs, OptimizerKind};
use crate::app::dataset::{check_classes, fit_standard, split, standardize};
use crate::app::fit::{EpochStats, Split};
use crate::app::joint::{self, fit_teacher, DistillArch, JointFitConfig};
use crate::app::pipeline::{model_file, PipelineConfig, MIN_PER_CLASS};
use crate::app::progress::EpochBar;
use crate::app::report::{create_out_dir, print_json, write_file};
use crate::app::two_stage::{load_teacher, DEFAULT_KD};
use crate::app::AppError;
use crate::csv::{load_labeled_csv, Dataset};
use crate::model::OwnedModel;
use crate::quantize::{quantize, QuantizeOptions};
use crate::safetensors::Layout;

/// The f32 student's file name.
pub const F32_FILE: &str = "student-f32.ttm";
/// The int8 student's file name.
pub const INT8_FILE: &str = "student.ttm";

/// The training runs, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The pipeline's teacher trained alone.
    Teacher,
    /// The transformer trained alone (the baseline).
    Alone,
    /// The transformer distilled from the teacher.
    Distilled,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct TransformerDistilled {
    /// The student's shape.
    pub spec: Spec,
    /// What the teacher is (`"pipeline teacher: …"` or `"--teacher: …"`).
    pub teacher_text: String,
    /// Test accuracy: teacher, student alone, distilled student (f32), distilled (int8).
    pub acc: [f32; 4],
    /// Parameters of the teacher and of the student.
    pub params: [usize; 2],
    /// The distilled student, f32 and int8 (input: standardised features).
    pub student: [OwnedModel; 2],
    /// The scaler (offsets then scales), the students' preprocessing.
    pub scaler: Vec<f32>,
    /// Class names (`"0"`, `"1"`, …).
    pub class_names: Vec<String>,
    /// Epochs run by the teacher (0 for `--teacher`), the student alone, the distilled one.
    pub epochs_run: [usize; 3],
    /// Samples in the train, validation and test splits.
    pub samples: [usize; 3],
}

/// Runs `tinytune distill --student transformer` (see the [module docs](self)).
///
/// # Errors
/// Bad data or settings, a training, export or quantization failure, an output file that
/// cannot be written.
pub fn run(args: &DistillArgs) -> Result<(), AppError> {
    let common = &args.common;
    if common.gamma.is_some() {
        return Err(AppError {
            message: "--gamma weighs the joint distillation's logit hint: the transformer \
                      student is distilled in two stages (--kd-temperature, --kd-alpha)"
                .into(),
            exit_code: 2,
        });
    }
    let config = crate::app::distill::config(common);
    let kd = match (common.kd_temperature, common.kd_alpha) {
        (Some(temperature), Some(alpha)) => KdConfig { temperature, alpha },
        _ => DEFAULT_KD,
    };
    let arch = tarch::resolve(&args.transformer, &FileKeys::default())?;
    let dataset = load_labeled_csv(&args.data)?;
    let teacher = match &args.teacher {
        Some(path) => {
            let layout = if args.pytorch_layout {
                Layout::Pytorch
            } else {
                Layout::Tinytune
            };
            Some(load_teacher(path, args.teacher_weights.as_deref(), layout)?)
        }
        None => None,
    };
    create_out_dir(&args.out)?;
    let file = args.data.display().to_string();
    let classes = check_classes(&file, &dataset)?;
    let spec = arch.spec(
        dataset.features,
        classes,
        args.dropout.unwrap_or(0.0),
        &file,
    )?;
    let started = Instant::now();
    let mut bar: Option<(Stage, EpochBar)> = None;
    let job = Job {
        file: &file,
        data: &dataset,
        teacher: teacher.as_ref(),
        config: &config,
        kd,
        spec,
    };
    let result = job.run(&mut |stage, s| {
        if bar.as_ref().map(|(st, _)| *st) != Some(stage) {
            if let Some((_, b)) = bar.take() {
                b.finish();
            }
            eprintln!(
                "{}",
                match stage {
                    Stage::Teacher => "training the teacher",
                    Stage::Alone => "training the transformer student alone (baseline)",
                    Stage::Distilled => "distilling the transformer student from the teacher",
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
    let (text, summary) = super::report::distill_report(&r, &config, kd, seconds)?;
    let out = &args.out;
    write_file(
        &out.join("summary.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;
    let [f32_model, int8_model] = &r.student;
    write_file(
        &out.join(INT8_FILE),
        &model_file(int8_model, &r.scaler, &r.class_names)?,
    )?;
    write_file(
        &out.join(F32_FILE),
        &model_file(f32_model, &r.scaler, &r.class_names)?,
    )?;
    print!("{text}");
    println!(
        "wrote summary.json, {INT8_FILE} (int8) and {F32_FILE} (f32) to {}",
        out.display()
    );
    if common.json {
        print_json(&summary);
    }
    Ok(())
}

/// The inputs of one run.
struct Job<'a> {
    file: &'a str,
    data: &'a Dataset,
    teacher: Option<&'a crate::app::saved::SavedModel>,
    config: &'a PipelineConfig,
    kd: KdConfig,
    spec: Spec,
}

/// The prepared splits and the frozen teacher's logits.
struct Prepared {
    scaler: Vec<f32>,
    train: Dataset,
    val: Dataset,
    test: Dataset,
    /// Teacher logits on the training and the test split.
    logits: [Vec<f32>; 2],
    teacher_text: String,
    teacher_params: usize,
    teacher_epochs: usize,
}

fn split_of(d: &Dataset) -> Split<'_> {
    Split {
        data: &d.data,
        labels: &d.labels,
    }
}

fn fail(what: &'static str) -> impl Fn(tinytune::Error) -> AppError {
    move |e| AppError::new(format!("{what}: {e}"))
}

impl Job<'_> {
    fn run(
        &self,
        on_epoch: &mut dyn FnMut(Stage, &EpochStats),
    ) -> Result<TransformerDistilled, AppError> {
        let classes = self.spec.classes;
        let p = self.prepare(on_epoch)?;
        let config = RunConfig {
            epochs: self.config.epochs,
            batch: self.config.batch,
            optimizer: OptimizerKind::Adam,
            lr: tarch::DEFAULT_LR,
            l2: 0.0,
            patience: Some(self.config.patience),
            seed: self.config.seed,
        };
        let spec = &self.spec;
        let (train, val) = (split_of(&p.train), Some(split_of(&p.val)));
        let alone = fit_run(spec, &config, train, val, None, &mut |s| {
            on_epoch(Stage::Alone, s)
        })
        .map_err(fail("training the transformer alone failed"))?;
        let teacher = Teacher {
            logits: &p.logits[0],
            kd: self.kd,
        };
        let distilled = fit_run(spec, &config, train, val, Some(teacher), &mut |s| {
            on_epoch(Stage::Distilled, s)
        })
        .map_err(fail("distilling the transformer failed"))?;
        let f32_model = spec
            .to_model(&distilled.params)
            .map_err(fail("internal error: exporting the student"))?;
        let (int8_model, _) = quantize(&f32_model, &p.train.data, QuantizeOptions::default())
            .map_err(|e| AppError::new(format!("quantizing the student failed: {e}")))?;
        let test_acc = |t: &RunTrained| -> Result<f32, AppError> {
            spec.accuracy(&t.params, &p.test)
                .map_err(fail("evaluation failed"))
        };
        Ok(TransformerDistilled {
            spec: *spec,
            teacher_text: p.teacher_text.clone(),
            acc: [
                accuracy_of(&p.logits[1], &p.test.labels, classes),
                test_acc(&alone)?,
                test_acc(&distilled)?,
                model_accuracy(&int8_model, true, &p.test, classes)?,
            ],
            params: [p.teacher_params, spec.param_len().map_err(fail("student"))?],
            student: [f32_model, int8_model],
            scaler: p.scaler,
            class_names: (0..classes).map(|k| k.to_string()).collect(),
            epochs_run: [
                p.teacher_epochs,
                alone.history.len(),
                distilled.history.len(),
            ],
            samples: [p.train.len(), p.val.len(), p.test.len()],
        })
    }

    /// Splits and scales the data; trains (or loads) the teacher and computes its logits.
    fn prepare(&self, on_epoch: &mut dyn FnMut(Stage, &EpochStats)) -> Result<Prepared, AppError> {
        let (file, data, classes) = (self.file, self.data, self.spec.classes);
        if data.len() < MIN_PER_CLASS * classes {
            return Err(AppError::new(format!(
                "{file}: too few samples ({}) for {classes} classes: distillation needs at \
                 least {MIN_PER_CLASS} per class",
                data.len()
            )));
        }
        self.kd.validate().map_err(|_| {
            AppError::new(
                "bad KD settings: the temperature must be finite and > 0, alpha in [0, 1]",
            )
        })?;
        if let Some(t) = self.teacher {
            if t.inputs != data.features || t.outputs != classes {
                return Err(AppError::new(format!(
                    "{file}: the teacher takes {} features and has {} classes, the data have {} \
                     and {classes}",
                    t.inputs, t.outputs, data.features
                )));
            }
        }
        let parts = split(file, data, self.config.seed)?;
        let scaler = match self.teacher {
            Some(t) => t.scaler_params(),
            None => fit_standard(&parts.train)?,
        };
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
        let (logits, teacher_text, teacher_params, teacher_epochs) = match self.teacher {
            Some(t) => {
                let spec = t.spec();
                let z = |d: &Dataset| {
                    crate::app::mlp::logits(&spec, &t.params, &d.data).map_err(fail("teacher"))
                };
                let sizes: Vec<String> = std::iter::once(t.inputs)
                    .chain(t.hidden.iter().copied())
                    .chain(std::iter::once(t.outputs))
                    .map(|n| n.to_string())
                    .collect();
                (
                    [z(&train)?, z(&test)?],
                    format!("--teacher: MLP {} (ReLU)", sizes.join(" → ")),
                    t.params.len(),
                    0,
                )
            }
            None => {
                let arch = DistillArch::for_data(data.features, classes);
                let c = self.config;
                let fit = JointFitConfig {
                    epochs: c.epochs,
                    batch: c.batch,
                    lr: c.lr,
                    patience: c.patience,
                    seed: c.seed,
                    l2: c.l2,
                    joint: JointConfig::default(),
                };
                let trained =
                    fit_teacher(&arch, &fit, split_of(&train), split_of(&val), &mut |s| {
                        on_epoch(Stage::Teacher, s)
                    })
                    .map_err(fail("training the teacher failed"))?;
                let specs = arch.teacher();
                let z = |d: &Dataset| {
                    joint::logits(&specs, &trained.params, &d.data).map_err(fail("teacher"))
                };
                (
                    [z(&train)?, z(&test)?],
                    format!("pipeline teacher trained alone: {}", arch.describe()),
                    joint::param_len(&specs).map_err(fail("teacher"))?,
                    trained.history.len(),
                )
            }
        };
        Ok(Prepared {
            scaler,
            train,
            val,
            test,
            logits,
            teacher_text,
            teacher_params,
            teacher_epochs,
        })
    }
}
