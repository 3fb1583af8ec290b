//! `tinytune train --model transformer`: the data prepared as for the MLP (stratified split,
//! z-score scaling fitted on the training split), the transformer trained with early stopping,
//! exported and quantized.
//!
//! # Output directory
//! - `model.ttm`: the f32 model ([`Spec::to_model`]) with the scaler and class names;
//! - `model-int8.ttm`: the same quantized by [`crate::quantize::quantize`] (min/max
//!   calibration on the training split, per-channel weights);
//! - `test.csv`, `learning_curve.png`, `summary.json`: as for the MLP.

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use super::arch::TransformerArch;
use super::fit::{evaluate, fit_run, RunConfig, RunTrained};
use super::spec::{accuracy_of, Spec};
use crate::app::arch::TrainSettings;
use crate::app::args::TrainArgs;
use crate::app::dataset::{check_classes, fit_standard, split, standardize, SPLIT_FRACTIONS};
use crate::app::fit::Split;
use crate::app::pipeline::{deployed_size, model_file};
use crate::app::progress::EpochBar;
use crate::app::report::{
    create_out_dir, dataset_csv, fixed4, json_number, print_json, write_file, Table,
};
use crate::app::train::MAX_PARAMS;
use crate::app::{plot, AppError};
use crate::csv::{load_labeled_csv, Dataset};
use crate::model::OwnedModel;
use crate::quantize::{quantize, QuantizeOptions};

/// The f32 model file's name.
pub const F32_FILE: &str = "model.ttm";
/// The int8 model file's name.
pub const INT8_FILE: &str = "model-int8.ttm";

/// Runs `tinytune train` for a transformer.
///
/// # Errors
/// Bad settings or data, a training, export or quantization failure, an output file that
/// cannot be written.
pub fn run(
    args: &TrainArgs,
    settings: &TrainSettings,
    arch: &TransformerArch,
) -> Result<(), AppError> {
    create_out_dir(&args.out)?;
    let file = args.data.display().to_string();
    let data = load_labeled_csv(&args.data)?;
    let classes = check_classes(&file, &data)?;
    let spec = arch.spec(data.features, classes, settings.dropout, &file)?;
    let params = spec
        .param_len()
        .ok()
        .filter(|&n| n <= MAX_PARAMS)
        .ok_or_else(|| {
            AppError::new(format!(
                "the {} has too many parameters (limit {MAX_PARAMS})",
                spec.describe()
            ))
        })?;
    let started = Instant::now();
    let parts = split(&file, &data, settings.seed)?;
    let scaler = fit_standard(&parts.train)?;
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
    let config = RunConfig {
        epochs: settings.epochs,
        batch: settings.batch,
        optimizer: settings.optimizer,
        lr: settings.lr,
        l2: settings.l2,
        patience: Some(settings.patience),
        seed: settings.seed,
    };
    let bar = EpochBar::new(settings.epochs);
    let trained = fit_run(
        &spec,
        &config,
        as_split(&train),
        Some(as_split(&val)),
        None,
        &mut |s| bar.epoch(s),
    );
    bar.finish();
    let trained = trained.map_err(|e| AppError::new(format!("training failed: {e}")))?;
    let figures = [&train, &val, &test]
        .map(|d| evaluate(&spec, &trained.params, as_split(d)))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::new(format!("evaluation failed: {e}")))?;

    let model = spec
        .to_model(&trained.params)
        .map_err(|e| AppError::new(format!("internal error: exporting the model: {e}")))?;
    let (int8, _) = quantize(&model, &train.data, QuantizeOptions::default())
        .map_err(|e| AppError::new(format!("quantizing the transformer failed: {e}")))?;
    let int8_acc = model_accuracy(&int8, true, &test, classes)?;
    let seconds = started.elapsed().as_secs_f64();

    let out = &args.out;
    let names: Vec<String> = (0..classes).map(|k| k.to_string()).collect();
    write_file(&out.join(F32_FILE), &model_file(&model, &scaler, &names)?)?;
    write_file(&out.join(INT8_FILE), &model_file(&int8, &scaler, &names)?)?;
    let sizes = [
        deployed_size(&model, &scaler, &names)?,
        deployed_size(&int8, &scaler, &names)?,
    ];
    write_file(&out.join("test.csv"), dataset_csv(&parts.test).as_bytes())?;
    plot::learning_curve(
        &out.join("learning_curve.png"),
        &trained.history,
        trained.best_epoch,
    )?;
    let run = Run {
        settings,
        spec: &spec,
        params,
        trained: &trained,
        figures: &figures,
        int8_acc,
        sizes,
        samples: [train.len(), val.len(), test.len()],
        seconds,
    };
    let summary = run.json(out);
    write_file(
        &out.join("summary.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;
    print!("{}", run.text());
    println!(
        "wrote {F32_FILE} (f32), {INT8_FILE} (int8), test.csv, learning_curve.png, summary.json \
         to {}",
        out.display()
    );
    if args.json {
        print_json(&summary);
    }
    Ok(())
}

fn as_split(d: &Dataset) -> Split<'_> {
    Split {
        data: &d.data,
        labels: &d.labels,
    }
}

/// Accuracy of an exported model (f32 or int8) on `data`.
///
/// # Errors
/// The model cannot run (the message names the operation).
pub fn model_accuracy(
    model: &OwnedModel,
    int8: bool,
    data: &Dataset,
    classes: usize,
) -> Result<f32, AppError> {
    let n = data.len();
    let z = if int8 {
        model.forward_int8(n, &data.data)
    } else {
        model.forward_f32(n, &data.data)
    }
    .map_err(|e| AppError::new(format!("evaluating the exported model failed: {e}")))?;
    Ok(accuracy_of(&z, &data.labels, classes))
}

/// What the report shows.
struct Run<'a> {
    settings: &'a TrainSettings,
    spec: &'a Spec,
    params: usize,
    trained: &'a RunTrained,
    /// (loss, accuracy) on train, validation, test.
    figures: &'a [(f32, f32)],
    int8_acc: f32,
    /// (flash, arena) bytes of the f32 and int8 files.
    sizes: [(usize, usize); 2],
    samples: [usize; 3],
    seconds: f64,
}

impl Run<'_> {
    fn fig(&self, i: usize) -> (f32, f32) {
        self.figures.get(i).copied().unwrap_or((f32::NAN, f32::NAN))
    }

    fn text(&self) -> String {
        let s = self.settings;
        let mut table = Table::new(["split", "samples", "loss", "accuracy"]);
        for (i, name) in ["train", "validation", "test"].iter().enumerate() {
            let (loss, acc) = self.fig(i);
            let n = self.samples.get(i).copied().unwrap_or(0);
            table.row([name.to_string(), n.to_string(), fixed4(loss), fixed4(acc)]);
        }
        let mut files = Table::new(["model file", "test accuracy", "flash bytes", "arena bytes"]);
        let [(f32_flash, f32_arena), (int8_flash, int8_arena)] = self.sizes;
        files.row([
            format!("{F32_FILE} (f32)"),
            fixed4(self.fig(2).1),
            f32_flash.to_string(),
            f32_arena.to_string(),
        ]);
        files.row([
            format!("{INT8_FILE} (int8)"),
            fixed4(self.int8_acc),
            int8_flash.to_string(),
            int8_arena.to_string(),
        ]);
        let best = self
            .trained
            .best_epoch
            .map_or("none".to_string(), |e| e.to_string());
        format!(
            "model: {}, {} parameters\n\
             training: {:?}, lr {}, batch {}, l2 {}, dropout {}, seed {}\n\
             epochs run: {} of {} (best epoch {best}, patience {}); {:.1} s\n\n{}\n{}",
            self.spec.describe(),
            self.params,
            s.optimizer,
            s.lr,
            s.batch,
            s.l2,
            s.dropout,
            s.seed,
            self.trained.history.len(),
            s.epochs,
            s.patience,
            self.seconds,
            table.render(),
            files.render()
        )
    }

    fn json(&self, out: &Path) -> serde_json::Value {
        let s = self.settings;
        let spec = self.spec;
        let [(f32_flash, f32_arena), (int8_flash, int8_arena)] = self.sizes;
        let (train, val, test) = (self.fig(0), self.fig(1), self.fig(2));
        json!({
            "command": "train",
            "model": "transformer",
            "train_acc": json_number(train.1),
            "val_acc": json_number(val.1),
            "test_acc": json_number(test.1),
            "test_acc_int8": json_number(self.int8_acc),
            "train_loss": json_number(train.0),
            "val_loss": json_number(val.0),
            "test_loss": json_number(test.0),
            "epochs": self.trained.history.len(),
            "best_epoch": self.trained.best_epoch,
            "params": self.params,
            "features": spec.seq * spec.features,
            "classes": spec.classes,
            "arch": {
                "kind": "transformer",
                "seq": spec.seq,
                "features_per_position": spec.features,
                "width": spec.width,
                "heads": spec.heads,
                "ff": spec.ff,
                "blocks": spec.blocks,
                "dropout": json_number(spec.dropout),
            },
            "architecture_text": spec.describe(),
            "files": {
                "f32": { "name": F32_FILE, "flash_bytes": f32_flash, "arena_bytes": f32_arena },
                "int8": { "name": INT8_FILE, "flash_bytes": int8_flash, "arena_bytes": int8_arena },
            },
            "samples": { "train": self.samples[0], "val": self.samples[1], "test": self.samples[2] },
            "split": SPLIT_FRACTIONS.map(json_number),
            "optimizer": format!("{:?}", s.optimizer).to_lowercase(),
            "lr": json_number(s.lr),
            "batch": s.batch,
            "l2": json_number(s.l2),
            "dropout": json_number(s.dropout),
            "patience": s.patience,
            "seed": s.seed,
            "seconds": (self.seconds * 100.0).round() / 100.0,
            "out": out.display().to_string(),
            "learning_curve": self.trained.history.iter().map(|e| json!({
                "epoch": e.epoch,
                "train_loss": json_number(e.train_loss),
                "val_loss": json_number(e.val_loss),
                "train_acc": json_number(e.train_acc),
                "val_acc": json_number(e.val_acc),
            })).collect::<Vec<_>>(),
        })
    }
}
