//! `tinytune train`: load, split, scale, train, save, report (see the command's `--help` and
//! [`args::TrainArgs`](super::args::TrainArgs)). A transformer (`--model transformer`) is
//! trained and saved by [`super::transformer::train`]; what follows is the MLP's.
//!
//! # Output directory
//! - `model.json`: the trained model, see [`super::saved`];
//! - `test.csv`: the test split, raw (unscaled) features, so
//!   `tinytune eval --model DIR --data DIR/test.csv` reproduces the reported test accuracy;
//! - `learning_curve.png`: see [`super::plot`];
//! - `summary.json`: the same object `--json` prints.

use std::path::Path;

use serde_json::json;

use super::arch::{self, TrainSettings};
use super::args::TrainArgs;
use super::dataset::{check_classes, fit_standard, split, standardize, SPLIT_FRACTIONS};
use super::fit::{evaluate, fit, FitConfig, Split, Trained};
use super::mlp::MlpSpec;
use super::progress::EpochBar;
use super::report::{
    create_out_dir, dataset_csv, fixed4, json_number, print_json, write_file, Table,
};
use super::saved::{self, SavedModel, SavedScaler};
use super::{plot, AppError};
use crate::csv::{load_labeled_csv, Dataset};

/// Most parameters a model may have (400 MB of f32).
pub const MAX_PARAMS: usize = 100_000_000;

/// Runs `tinytune train`.
///
/// # Errors
/// Bad settings, data, or an output directory that cannot be written (see [`AppError`]).
pub fn run(args: &TrainArgs) -> Result<(), AppError> {
    let settings = arch::resolve(args)?;
    if let Some(t) = &settings.transformer {
        return super::transformer::train::run(args, &settings, t);
    }
    create_out_dir(&args.out)?;
    let file = args.data.display().to_string();
    let data = load_labeled_csv(&args.data)?;
    let classes = check_classes(&file, &data)?;
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
    let spec = MlpSpec {
        inputs: data.features,
        hidden: settings.hidden.clone(),
        outputs: classes,
        dropout: settings.dropout,
    };
    let params = spec
        .param_len()
        .ok()
        .filter(|&n| n <= MAX_PARAMS)
        .ok_or_else(|| {
            AppError::new(format!(
                "the architecture {} has too many parameters (limit {MAX_PARAMS})",
                arch_text(&spec)
            ))
        })?;
    let config = FitConfig {
        epochs: settings.epochs,
        batch: settings.batch,
        optimizer: settings.optimizer,
        lr: settings.lr,
        l2: settings.l2,
        patience: settings.patience,
        seed: settings.seed,
    };
    let bar = EpochBar::new(settings.epochs);
    let trained = fit(&spec, &config, as_split(&train), as_split(&val), &mut |s| {
        bar.epoch(s)
    });
    bar.finish();
    let trained = trained.map_err(|e| AppError::new(format!("training failed: {e}")))?;
    let figures = [&train, &val, &test]
        .map(|d| evaluate(&spec, &trained.params, as_split(d)))
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::new(format!("evaluation failed: {e}")))?;

    let out = &args.out;
    let model = SavedModel {
        format: saved::FORMAT.into(),
        version: saved::VERSION,
        inputs: spec.inputs,
        hidden: spec.hidden.clone(),
        outputs: spec.outputs,
        activation: "relu".into(),
        feature_names: data.feature_names.clone(),
        scaler: SavedScaler {
            kind: "standard".into(),
            offsets: scaler[..data.features].to_vec(),
            scales: scaler[data.features..].to_vec(),
        },
        params: trained.params.clone(),
    };
    saved::save(&model, &out.join(saved::FILE_NAME))?;
    write_file(&out.join("test.csv"), dataset_csv(&parts.test).as_bytes())?;
    plot::learning_curve(
        &out.join("learning_curve.png"),
        &trained.history,
        trained.best_epoch,
    )?;
    let sizes = [train.len(), val.len(), test.len()];
    let summary = summary_json(&settings, &spec, params, &trained, &figures, sizes, out);
    write_file(
        &out.join("summary.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;

    print!(
        "{}",
        summary_text(&settings, &spec, params, &trained, &figures, sizes)
    );
    println!(
        "wrote model.json, test.csv, learning_curve.png, summary.json to {}",
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

/// The architecture as `inputs → hidden… → outputs`.
fn arch_text(spec: &MlpSpec) -> String {
    let mut sizes = vec![spec.inputs];
    sizes.extend(&spec.hidden);
    sizes.push(spec.outputs);
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}

fn summary_text(
    s: &TrainSettings,
    spec: &MlpSpec,
    params: usize,
    trained: &Trained,
    figures: &[(f32, f32)],
    sizes: [usize; 3],
) -> String {
    let mut table = Table::new(["split", "samples", "loss", "accuracy"]);
    for ((name, &(loss, acc)), n) in ["train", "validation", "test"]
        .iter()
        .zip(figures)
        .zip(sizes)
    {
        table.row([name.to_string(), n.to_string(), fixed4(loss), fixed4(acc)]);
    }
    let best = trained
        .best_epoch
        .map_or("none".to_string(), |e| e.to_string());
    format!(
        "model: {} (ReLU), {params} parameters\n\
         training: {:?}, lr {}, batch {}, l2 {}, dropout {}, seed {}\n\
         epochs run: {} of {} (best epoch {best}, patience {})\n\n{}",
        arch_text(spec),
        s.optimizer,
        s.lr,
        s.batch,
        s.l2,
        s.dropout,
        s.seed,
        trained.history.len(),
        s.epochs,
        s.patience,
        table.render()
    )
}

fn summary_json(
    s: &TrainSettings,
    spec: &MlpSpec,
    params: usize,
    trained: &Trained,
    figures: &[(f32, f32)],
    sizes: [usize; 3],
    out: &Path,
) -> serde_json::Value {
    let fig = |i: usize, loss: bool| {
        figures.get(i).map_or(serde_json::Value::Null, |&(l, a)| {
            json_number(if loss { l } else { a })
        })
    };
    json!({
        "command": "train",
        "train_acc": fig(0, false),
        "val_acc": fig(1, false),
        "test_acc": fig(2, false),
        "train_loss": fig(0, true),
        "val_loss": fig(1, true),
        "test_loss": fig(2, true),
        "epochs": trained.history.len(),
        "best_epoch": trained.best_epoch,
        "params": params,
        "features": spec.inputs,
        "classes": spec.outputs,
        "hidden": spec.hidden,
        "samples": { "train": sizes[0], "val": sizes[1], "test": sizes[2] },
        "split": SPLIT_FRACTIONS.map(json_number),
        "optimizer": format!("{:?}", s.optimizer).to_lowercase(),
        "lr": json_number(s.lr),
        "batch": s.batch,
        "l2": json_number(s.l2),
        "dropout": json_number(s.dropout),
        "patience": s.patience,
        "seed": s.seed,
        "out": out.display().to_string(),
        "learning_curve": trained.history.iter().map(|e| json!({
            "epoch": e.epoch,
            "train_loss": json_number(e.train_loss),
            "val_loss": json_number(e.val_loss),
            "train_acc": json_number(e.train_acc),
            "val_acc": json_number(e.val_acc),
        })).collect::<Vec<_>>(),
    })
}
