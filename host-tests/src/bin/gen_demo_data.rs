//! Writes the data of the boards' fine-tuning demo into `boards/common/data/`: the distilled
//! int8 digits student (`student.ttm`, from `tinytune demo`'s pipeline with seed 0) and the
//! samples it never trained on (its validation and test split, in this order), as raw `u8`
//! features and labels for flash, and as a CSV file for `tinytune eval`; and the transformer
//! student of the M4F's showcase (`transformer-f32.ttm`, `transformer-int8.ttm`, from
//! `tinytune distill --student transformer` with the same seed, hence the same split: the
//! held-out samples are held out for it too).
use clap::Parser;
use std::fmt::Write as _;
use std::path::Path;
use tinytune_cli::app::args::{Cli, DistillCommon};
use tinytune_cli::app::dataset::split;
use tinytune_cli::app::demo::DIGITS;
use tinytune_cli::app::distill::run_on;
use tinytune_cli::csv::{load_labeled_csv, Dataset};

/// The seed of the split and of training (as `tinytune demo`'s default).
const SEED: u64 = 0;

fn append(data: &Dataset, features: &mut Vec<u8>, labels: &mut Vec<u8>, csv: &mut String) {
    for (i, &label) in data.labels.iter().enumerate() {
        let row = data.row(i).expect("row in range");
        for &v in row {
            // The digits are counts of set pixels in 4×4 blocks: integers 0..=16.
            assert!(
                v.fract() == 0.0 && (0.0..=255.0).contains(&v),
                "not a u8: {v}"
            );
            features.push(v as u8);
        }
        labels.push(u8::try_from(label).expect("label fits u8"));
        let values: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        let _ = writeln!(csv, "{},{label}", values.join(","));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("boards/common/data");
    let work = root.join("target/demo-data");
    let common = DistillCommon {
        seed: SEED,
        json: false,
        epochs: None,
        gamma: None,
        kd_temperature: None,
        kd_alpha: None,
    };
    run_on("demo", Path::new(DIGITS), &work, &common, true).map_err(|e| e.to_string())?;
    std::fs::copy(work.join("student.ttm"), out.join("student.ttm"))?;

    let work_t = root.join("target/demo-data-transformer");
    let seed = SEED.to_string();
    let cli = Cli::try_parse_from([
        "tinytune",
        "distill",
        "--student",
        "transformer",
        "--data",
        DIGITS,
        "--out",
        &work_t.display().to_string(),
        "--seed",
        &seed,
    ])?;
    tinytune_cli::app::run(cli).map_err(|e| e.to_string())?;
    std::fs::copy(
        work_t.join("student-f32.ttm"),
        out.join("transformer-f32.ttm"),
    )?;
    std::fs::copy(work_t.join("student.ttm"), out.join("transformer-int8.ttm"))?;

    let data = load_labeled_csv(DIGITS)?;
    let parts = split(DIGITS, &data, SEED).map_err(|e| e.to_string())?;
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    let mut csv = String::new();
    let header: Vec<String> = data.feature_names.clone();
    let _ = writeln!(csv, "{},label", header.join(","));
    append(&parts.val, &mut features, &mut labels, &mut csv);
    append(&parts.test, &mut features, &mut labels, &mut csv);
    std::fs::write(out.join("holdout-features.bin"), &features)?;
    std::fs::write(out.join("holdout-labels.bin"), &labels)?;
    std::fs::write(out.join("holdout.csv"), csv)?;
    println!(
        "wrote student.ttm and {} held-out samples ({} validation, then {} test) to boards/common/data",
        labels.len(),
        parts.val.len(),
        parts.test.len()
    );
    Ok(())
}
