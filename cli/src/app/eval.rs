//! `tinytune eval`: a saved model's accuracy, per-class precision and recall, and confusion
//! matrix on a labelled CSV file.
//!
//! Definitions, for class `c` with the confusion matrix `M[true][predicted]`:
//! precision `M[c][c] / Σ_t M[t][c]` (undefined, shown `-` / `null`, when nothing is predicted
//! `c`); recall `M[c][c] / Σ_p M[c][p]` (undefined when no sample has label `c`); accuracy
//! `Σ_c M[c][c] / samples`. The prediction is the largest logit (the first on ties).

use serde_json::json;

use super::args::EvalArgs;
use super::mlp::logits;
use super::report::{create_out_dir, fixed4, json_number, print_json, Table};
use super::saved::{self, model_path};
use super::{dataset, plot, AppError};
use crate::csv::{load_labeled_csv, LABEL_COLUMN};
use tinytune::train::loss::argmax;

/// The figures of an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// `confusion[true][predicted]`: sample counts, `K × K`.
    pub confusion: Vec<Vec<usize>>,
}

impl Metrics {
    /// Tallies `predictions` against `labels` for `classes` classes (pairs with a value `≥
    /// classes` are ignored; the callers check labels first).
    pub fn new(classes: usize, labels: &[u32], predictions: &[usize]) -> Self {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&t, &p) in labels.iter().zip(predictions) {
            if let Some(cell) = confusion.get_mut(t as usize).and_then(|r| r.get_mut(p)) {
                *cell += 1;
            }
        }
        Metrics { confusion }
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    /// Fraction predicted correctly (NaN with no samples).
    pub fn accuracy(&self) -> f32 {
        let correct: usize = (0..self.confusion.len()).map(|c| self.cell(c, c)).sum();
        correct as f32 / self.samples() as f32
    }

    fn cell(&self, t: usize, p: usize) -> usize {
        self.confusion
            .get(t)
            .and_then(|r| r.get(p))
            .copied()
            .unwrap_or(0)
    }

    /// Samples with label `c`.
    pub fn support(&self, c: usize) -> usize {
        self.confusion.get(c).map_or(0, |r| r.iter().sum())
    }

    /// Precision of class `c` (NaN if nothing is predicted `c`).
    pub fn precision(&self, c: usize) -> f32 {
        let predicted: usize = (0..self.confusion.len()).map(|t| self.cell(t, c)).sum();
        self.cell(c, c) as f32 / predicted as f32
    }

    /// Recall of class `c` (NaN if no sample has label `c`).
    pub fn recall(&self, c: usize) -> f32 {
        self.cell(c, c) as f32 / self.support(c) as f32
    }
}

/// Loads a labelled CSV file for a saved model: the feature count must match (names may differ:
/// a warning) and every label must be one of the model's classes. The features are returned as
/// read, not standardised.
///
/// # Errors
/// The CSV loader's errors, or a message naming the file, line and column at fault.
pub fn load_matching(
    model: &saved::SavedModel,
    model_arg: &std::path::Path,
    data_path: &std::path::Path,
) -> Result<crate::csv::Dataset, AppError> {
    let file = data_path.display().to_string();
    let data = load_labeled_csv(data_path)?;
    if data.is_empty() {
        return Err(AppError::new(format!(
            "{file}: no samples (the file has a header but no data lines)"
        )));
    }
    if data.features != model.inputs {
        return Err(AppError::new(format!(
            "{file}, line 1: {} feature columns, but the model {} takes {}",
            data.features,
            model_path(model_arg).display(),
            model.inputs
        )));
    }
    if data.feature_names != model.feature_names {
        eprintln!(
            "tinytune: warning: {file}: the feature column names differ from the model's \
             (features are matched by position)"
        );
    }
    if let Some(i) = data
        .labels
        .iter()
        .position(|&y| y as usize >= model.outputs)
    {
        return Err(AppError::new(format!(
            "{file}, line {}, column {} ({LABEL_COLUMN}): label {} is not a class of the model \
             (labels 0..{})",
            i + 2, // the header is line 1 and the loader rejects blank lines
            data.features + 1,
            data.labels[i],
            model.outputs - 1
        )));
    }
    Ok(data)
}

/// Runs `tinytune eval`.
///
/// # Errors
/// An unreadable or invalid model or data file, data that do not fit the model, or an output
/// directory that cannot be written.
pub fn run(args: &EvalArgs) -> Result<(), AppError> {
    if let Some(out) = &args.out {
        create_out_dir(out)?;
    }
    let Predictions {
        labels,
        classes,
        predictions,
        outputs_crc32,
    } = predict(&args.model, &args.data)?;
    let metrics = Metrics::new(classes, &labels, &predictions);
    // A second model on the same data: how often the two agree (for an int8 file against the
    // f32 model it was quantized from).
    let reference = match &args.reference {
        Some(r) => {
            let Predictions {
                classes: ref_classes,
                predictions: ref_pred,
                ..
            } = predict(r, &args.data)?;
            if ref_classes != classes {
                return Err(AppError::new(format!(
                    "{}: {ref_classes} classes, but {} has {classes}",
                    r.display(),
                    args.model.display()
                )));
            }
            let agree = ref_pred
                .iter()
                .zip(&predictions)
                .filter(|(a, b)| a == b)
                .count();
            Some((
                Metrics::new(classes, &labels, &ref_pred).accuracy(),
                agree as f32 / labels.len() as f32,
            ))
        }
        None => None,
    };

    print!("{}", metrics_text(&metrics));
    if let (Some((ref_acc, agreement)), Some(r)) = (reference, &args.reference) {
        println!(
            "\nreference {}: accuracy {}; the two models agree on {} of the samples",
            r.display(),
            fixed4(ref_acc),
            fixed4(agreement)
        );
    }
    if let Some(crc) = outputs_crc32 {
        println!(
            "\nmodel outputs: {} values, CRC-32 of their little-endian f32 bytes {crc:#010x}",
            labels.len() * classes
        );
    }
    if let Some(out) = &args.out {
        let path = out.join("confusion.png");
        plot::confusion(&path, &metrics.confusion)?;
        println!("wrote {}", path.display());
    }
    if args.json {
        let mut j = metrics_json(&metrics);
        if let Some((ref_acc, agreement)) = reference {
            j["reference_accuracy"] = json_number(ref_acc);
            j["agreement"] = json_number(agreement);
        }
        if let Some(crc) = outputs_crc32 {
            j["outputs_crc32"] = json!(format!("{crc:#010x}"));
        }
        print_json(&j);
    }
    Ok(())
}

/// What [`predict`] returns.
#[derive(Clone, Debug)]
pub struct Predictions {
    /// The labels of the data file.
    pub labels: Vec<u32>,
    /// The model's number of classes.
    pub classes: usize,
    /// The predicted class of every sample.
    pub predictions: Vec<usize>,
    /// For a `.ttm` file: the CRC-32 of every output value (sample after sample) as
    /// little-endian `f32` bytes, to compare bit for bit with a device running the same file
    /// (the boards' demo prints the same checksum).
    pub outputs_crc32: Option<u32>,
}

/// The labels of a labelled CSV file, the model's number of classes, and its prediction for
/// every sample. The model is a `tinytune train` output (directory or `model.json`: the file's
/// features are standardised with its scaler) or a `.ttm` file (run by the core's `Model::run`,
/// which applies the file's own preprocessing).
///
/// # Errors
/// An unreadable or invalid model or data file, or data that do not fit the model (the message
/// names the file, line and column).
pub fn predict(
    model_arg: &std::path::Path,
    data_path: &std::path::Path,
) -> Result<Predictions, AppError> {
    if model_arg.extension().is_some_and(|e| e == "ttm") {
        return predict_ttm(model_arg, data_path);
    }
    let model = saved::load(model_arg)?;
    let mut data = load_matching(&model, model_arg, data_path)?;
    dataset::standardize(&mut data, &model.scaler_params())?;
    let spec = model.spec();
    let z = logits(&spec, &model.params, &data.data)
        .map_err(|e| AppError::new(format!("cannot run the model: {e}")))?;
    let predictions = z.chunks_exact(spec.outputs).map(argmax).collect();
    Ok(Predictions {
        labels: data.labels,
        classes: spec.outputs,
        predictions,
        outputs_crc32: None,
    })
}

/// [`predict`] for a `.ttm` file.
fn predict_ttm(
    model_arg: &std::path::Path,
    data_path: &std::path::Path,
) -> Result<Predictions, AppError> {
    let at = model_arg.display().to_string();
    let file = crate::ttm::load(model_arg).map_err(|e| AppError::new(e.to_string()))?;
    let model = file
        .model()
        .map_err(|e| AppError::new(format!("{at}: {e}")))?;
    let file_name = data_path.display().to_string();
    let data = load_labeled_csv(data_path)?;
    if data.is_empty() {
        return Err(AppError::new(format!(
            "{file_name}: no samples (the file has a header but no data lines)"
        )));
    }
    if data.features != model.input_len() {
        return Err(AppError::new(format!(
            "{file_name}, line 1: {} feature columns, but the model {at} takes {}",
            data.features,
            model.input_len()
        )));
    }
    let classes = model.output_len();
    if let Some(i) = data.labels.iter().position(|&y| y as usize >= classes) {
        return Err(AppError::new(format!(
            "{file_name}, line {}, column {} ({LABEL_COLUMN}): label {} is not a class of the \
             model (labels 0..{})",
            i + 2,
            data.features + 1,
            data.labels[i],
            classes - 1
        )));
    }
    let n = data.len();
    let fail = |e: tinytune::Error| AppError::new(format!("{at}: cannot run the model: {e}"));
    let mut arena = vec![0u8; model.arena_len(n).map_err(fail)?];
    let mut requant = vec![tinytune::num::quant::Requantizer::ZERO; model.requant_len()];
    let mut out = vec![0.0f32; n * classes];
    model
        .run(n, &data.data, &mut arena, &mut requant, &mut out)
        .map_err(fail)?;
    let predictions = out.chunks_exact(classes).map(argmax).collect();
    let bytes: Vec<u8> = out.iter().flat_map(|v| v.to_le_bytes()).collect();
    Ok(Predictions {
        labels: data.labels,
        classes,
        predictions,
        outputs_crc32: Some(tinytune::model::crc32(&bytes)),
    })
}

/// The per-class table and the confusion matrix as text.
pub fn metrics_text(m: &Metrics) -> String {
    let k = m.confusion.len();
    let mut per_class = Table::new(["class", "precision", "recall", "support"]);
    for c in 0..k {
        per_class.row([
            c.to_string(),
            fixed4(m.precision(c)),
            fixed4(m.recall(c)),
            m.support(c).to_string(),
        ]);
    }
    let mut confusion = Table::new(
        std::iter::once("true \\ predicted".to_string()).chain((0..k).map(|c| c.to_string())),
    );
    for (t, row) in m.confusion.iter().enumerate() {
        confusion.row(std::iter::once(t.to_string()).chain(row.iter().map(usize::to_string)));
    }
    format!(
        "accuracy: {} ({} samples)\n\n{}\nconfusion matrix (rows: true class, columns: predicted)\n{}",
        fixed4(m.accuracy()),
        m.samples(),
        per_class.render(),
        confusion.render()
    )
}

/// The JSON result object of `eval`.
pub fn metrics_json(m: &Metrics) -> serde_json::Value {
    let k = m.confusion.len();
    json!({
        "command": "eval",
        "accuracy": json_number(m.accuracy()),
        "samples": m.samples(),
        "classes": k,
        "per_class": (0..k).map(|c| json!({
            "class": c,
            "precision": json_number(m.precision(c)),
            "recall": json_number(m.recall(c)),
            "support": m.support(c),
        })).collect::<Vec<_>>(),
        "confusion": m.confusion,
    })
}
