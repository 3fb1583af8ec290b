//! `tinytune quantize`: a model trained by `tinytune train` to an int8 `.ttm` file, calibrated
//! and evaluated on a labelled CSV file.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;
use tinytune::data::preprocess::ScalerKind;
use tinytune::train::loss::argmax;

use super::eval::load_matching;
use super::report::{create_out_dir, fixed4, json_number, print_json, Table};
use super::{dataset, saved, AppError};
use crate::model::OwnedModel;
use crate::quantize::{quantize, Calibration, QuantizeOptions};
use crate::ttm::{self, Preprocessing};

/// How activation ranges are calibrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalibrationKind {
    /// The smallest and largest value seen.
    Minmax,
    /// The `--percentile` of the absolute values seen (clips rare outliers).
    Percentile,
}

/// Flags of `tinytune quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// A trained model: the output directory of `tinytune train`, or its `model.json`.
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub model: PathBuf,
    /// Labelled CSV file (the model's features): calibration data, and the data on which f32 and
    /// int8 are compared.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Output directory: `model.ttm` (int8, with the model's preprocessing) is written there.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Activation range calibration.
    #[arg(long, value_enum, default_value = "minmax")]
    pub calibration: CalibrationKind,
    /// Percentile for `--calibration percentile`, in [50, 100].
    #[arg(long, value_name = "P", default_value_t = 99.99)]
    pub percentile: f32,
    /// One weight scale per tensor instead of per output channel.
    #[arg(long)]
    pub per_tensor: bool,
    /// Print one JSON object with the figures as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `quantize`.
///
/// # Errors
/// An unreadable or invalid model or data file, a quantization failure (naming the layer), or
/// an output directory that cannot be written.
pub fn run(args: &QuantizeArgs) -> Result<(), AppError> {
    create_out_dir(&args.out)?;
    let saved = saved::load(&args.model)?;
    let mut data = load_matching(&saved, &args.model, &args.data)?;
    let scaler = saved.scaler_params();
    dataset::standardize(&mut data, &scaler)?;
    let spec = saved.spec();
    let layers = spec
        .layers(&saved.params[..])
        .map_err(|e| AppError::new(format!("cannot build the model: {e}")))?;
    let f32_model = OwnedModel::from_layers(&layers);
    let options = QuantizeOptions {
        calibration: match args.calibration {
            CalibrationKind::Minmax => Calibration::MinMax,
            CalibrationKind::Percentile => Calibration::Percentile(args.percentile),
        },
        per_channel: !args.per_tensor,
    };
    let fail = |e: crate::model::PipelineError| AppError::new(e.to_string());
    let (int8, report) = quantize(&f32_model, &data.data, options).map_err(fail)?;

    let n = data.len();
    let f32_logits = f32_model.forward_f32(n, &data.data).map_err(fail)?;
    let int8_logits = int8.forward_int8(n, &data.data).map_err(fail)?;
    let classes = spec.outputs;
    let pred = |z: &[f32]| -> Vec<usize> { z.chunks_exact(classes).map(argmax).collect() };
    let (p32, p8) = (pred(&f32_logits), pred(&int8_logits));
    let acc = |p: &[usize]| {
        p.iter()
            .zip(&data.labels)
            .filter(|(p, &y)| **p == y as usize)
            .count() as f32
            / n as f32
    };
    let (acc32, acc8) = (acc(&p32), acc(&p8));
    let agreement = p32.iter().zip(&p8).filter(|(a, b)| a == b).count() as f32 / n as f32;

    let names: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
    let prep = Preprocessing {
        kind: ScalerKind::Standard,
        params: scaler,
    };
    let bytes = ttm::encode(&int8, Some(&prep), classes, &names).map_err(fail)?;
    let path = args.out.join("model.ttm");
    ttm::save(&path, &bytes).map_err(fail)?;
    let file = ttm::AlignedBytes::new(&bytes);
    let model = file.model().map_err(fail)?;
    let arena = model
        .arena_len(1)
        .map_err(|e| AppError::new(e.to_string()))?;

    let mut table = Table::new(["layer", "SQNR (dB)", "range"]);
    for l in &report.layers {
        table.row([
            l.name.clone(),
            format!("{:.1}", l.sqnr_db),
            format!("[{:.3}, {:.3}]", l.range.0, l.range.1),
        ]);
    }
    println!("{}", table.render());
    println!(
        "accuracy on {}: f32 {}, int8 {}; same prediction on {} of the samples",
        args.data.display(),
        fixed4(acc32),
        fixed4(acc8),
        fixed4(agreement)
    );
    println!(
        "wrote {} ({} B flash; arena {arena} B and {} requantizers for one sample)",
        path.display(),
        bytes.len(),
        model.requant_len()
    );
    if args.json {
        print_json(&json!({
            "f32_acc": json_number(acc32),
            "int8_acc": json_number(acc8),
            "agreement": json_number(agreement),
            "flash_bytes": bytes.len(),
            "arena_bytes": arena,
            "sqnr_db": report.layers.iter().map(|l| l.sqnr_db).collect::<Vec<_>>(),
        }));
    }
    Ok(())
}
