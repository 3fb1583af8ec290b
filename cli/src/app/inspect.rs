//! `tinytune inspect FILE.ttm`: a model file's operations, parameters, MACs, and the flash and
//! RAM it needs on the device.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::report::{print_json, Table};
use super::AppError;
use crate::ttm;

/// Flags of `tinytune inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The model file (`.ttm`).
    #[arg(value_name = "FILE.ttm")]
    pub file: PathBuf,
    /// Print one JSON object with the figures as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `inspect`.
///
/// # Errors
/// An unreadable file, or a file the format rejects (the message names what is wrong and
/// where, e.g. `layer 2, field …`).
pub fn run(args: &InspectArgs) -> Result<(), AppError> {
    let at = args.file.display().to_string();
    let file = ttm::load(&args.file).map_err(|e| AppError::new(e.to_string()))?;
    let model = file
        .model()
        .map_err(|e| AppError::new(format!("{at}: {e}")))?;
    let mut table = Table::new(["#", "op", "input", "output", "params", "MACs"]);
    let (mut params, mut macs) = (0usize, 0usize);
    for (i, op) in model.summary().enumerate() {
        params += op.params;
        macs += op.macs;
        table.row([
            i.to_string(),
            op.kind_name.to_string(),
            op.input_len.to_string(),
            op.output_len.to_string(),
            op.params.to_string(),
            op.macs.to_string(),
        ]);
    }
    let arena = model
        .arena_len(1)
        .map_err(|e| AppError::new(format!("{at}: {e}")))?;
    let requant = model.requant_len();
    // A requantizer is two i32: the caller provides them beside the arena.
    let ram = arena + 8 * requant;
    let preprocessing = model.scaler().map(|s| format!("{:?}", s.kind()));
    let names: Vec<&str> = model.class_names().collect();
    println!("{}", table.render());
    println!(
        "{} ops, {params} parameters, {macs} MACs per sample",
        model.len()
    );
    println!(
        "flash {} B (the file); RAM for one sample: arena {arena} B + {requant} requantizers ({} B) = {ram} B",
        model.flash_len(),
        8 * requant
    );
    println!(
        "input {} values{}, output {} values, {} classes{}",
        model.input_len(),
        preprocessing
            .as_deref()
            .map_or(String::new(), |k| format!(" (preprocessing: {k})")),
        model.output_len(),
        model.num_classes(),
        if names.is_empty() {
            String::new()
        } else {
            format!(": {}", names.join(", "))
        }
    );
    if args.json {
        print_json(&json!({
            "ops": model.len(),
            "params": params,
            "macs": macs,
            "flash_bytes": model.flash_len(),
            "arena_bytes": arena,
            "requantizers": requant,
            "ram_bytes": ram,
            "input_len": model.input_len(),
            "output_len": model.output_len(),
            "classes": model.num_classes(),
        }));
    }
    Ok(())
}
