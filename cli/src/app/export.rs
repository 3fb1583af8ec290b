//! `tinytune export`: a trained model as a `.ttm` file (f32) and the Rust snippet that embeds it
//! in firmware; optionally its weights as safetensors. A `.ttm` given as input (for example the
//! int8 file of `tinytune quantize`) is validated and copied.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;
use tinytune::data::preprocess::ScalerKind;

use super::report::{create_out_dir, print_json, write_file};
use super::{saved, AppError};
use crate::model::OwnedModel;
use crate::safetensors::{export as export_safetensors, Layout};
use crate::ttm::{self, Preprocessing};

/// Flags of `tinytune export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A trained model (the output directory of `tinytune train`, or its `model.json`), or a
    /// `.ttm` file.
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub model: PathBuf,
    /// Output directory: `model.ttm` and `model.rs` (the firmware snippet) are written there.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also write the f32 weights as `model.safetensors` (tensor names and layouts: see the
    /// `tinytune_cli::safetensors` docs).
    #[arg(long)]
    pub safetensors: bool,
    /// With `--safetensors`: store convolution weights in PyTorch's layout (OIHW).
    #[arg(long, requires = "safetensors")]
    pub pytorch_layout: bool,
    /// Print one JSON object with the figures as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `export`.
///
/// # Errors
/// An unreadable or invalid model, a model the format rejects (naming the layer), or an output
/// directory that cannot be written.
pub fn run(args: &ExportArgs) -> Result<(), AppError> {
    create_out_dir(&args.out)?;
    let fail = |e: crate::model::PipelineError| AppError::new(e.to_string());
    let is_ttm = args.model.extension().is_some_and(|e| e == "ttm");
    let bytes = if is_ttm {
        if args.safetensors {
            return Err(AppError::new(format!(
                "{}: --safetensors needs a trained f32 model (a `train` output), not a .ttm",
                args.model.display()
            )));
        }
        let file = ttm::load(&args.model).map_err(fail)?;
        file.model()
            .map_err(|e| AppError::new(format!("{}: {e}", args.model.display())))?;
        file.bytes().to_vec()
    } else {
        let saved = saved::load(&args.model)?;
        let spec = saved.spec();
        let layers = spec
            .layers(&saved.params[..])
            .map_err(|e| AppError::new(format!("cannot build the model: {e}")))?;
        let model = OwnedModel::from_layers(&layers);
        if args.safetensors {
            let layout = if args.pytorch_layout {
                Layout::Pytorch
            } else {
                Layout::Tinytune
            };
            let st = export_safetensors(&model, layout).map_err(fail)?;
            write_file(&args.out.join("model.safetensors"), &st)?;
        }
        let names: Vec<String> = (0..spec.outputs).map(|c| c.to_string()).collect();
        let prep = Preprocessing {
            kind: ScalerKind::Standard,
            params: saved.scaler_params(),
        };
        ttm::encode(&model, Some(&prep), spec.outputs, &names).map_err(fail)?
    };
    let ttm_path = args.out.join("model.ttm");
    write_file(&ttm_path, &bytes)?;
    let file = ttm::AlignedBytes::new(&bytes);
    let model = file.model().map_err(fail)?;
    let snippet = ttm::rust_snippet("model.ttm", &model);
    write_file(&args.out.join("model.rs"), snippet.as_bytes())?;
    println!(
        "wrote {} ({} B) and {}",
        ttm_path.display(),
        bytes.len(),
        args.out.join("model.rs").display()
    );
    print!("{snippet}");
    if args.json {
        print_json(&json!({
            "flash_bytes": bytes.len(),
            "arena_bytes": model.arena_len(1).unwrap_or(0),
            "requantizers": model.requant_len(),
        }));
    }
    Ok(())
}
