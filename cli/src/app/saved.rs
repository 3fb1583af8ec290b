//! The saved-model file of `train`, `model.json` (until the `.ttm` format replaces it).
//!
//! # Format
//! One JSON object:
//!
//! | key | value |
//! |---|---|
//! | `format` | `"tinytune-mlp"` |
//! | `version` | `1` |
//! | `inputs` | number of features |
//! | `hidden` | hidden layer widths, e.g. `[64, 32]` |
//! | `outputs` | number of classes `K` (labels `0..K`) |
//! | `activation` | `"relu"` (after each hidden layer) |
//! | `feature_names` | the CSV header's feature columns |
//! | `scaler` | `{"kind": "standard", "offsets": [...], "scales": [...]}`: each input is mapped to `(x − offset) / scale` before the first layer |
//! | `params` | every parameter, `f32`, in the layout of [`mlp`](super::mlp): per dense layer its weights `[out, in]` row-major then its bias |
//!
//! Numbers are written in the shortest form that reads back to the same `f32`, so a saved model
//! reloads bit-exactly. Dropout is not stored (inference does not use it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::mlp::MlpSpec;
use super::AppError;

/// The `format` tag.
pub const FORMAT: &str = "tinytune-mlp";
/// The `version` written and accepted.
pub const VERSION: u32 = 1;
/// The file name inside an output directory.
pub const FILE_NAME: &str = "model.json";

/// The `scaler` object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedScaler {
    /// `"standard"`.
    pub kind: String,
    /// Per-feature offsets (means).
    pub offsets: Vec<f32>,
    /// Per-feature scales (standard deviations).
    pub scales: Vec<f32>,
}

/// The whole file (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedModel {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Features.
    pub inputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Classes.
    pub outputs: usize,
    /// `"relu"`.
    pub activation: String,
    /// Feature names.
    pub feature_names: Vec<String>,
    /// Input scaling.
    pub scaler: SavedScaler,
    /// Parameters.
    pub params: Vec<f32>,
}

impl SavedModel {
    /// The model's shape (dropout 0: inference).
    pub fn spec(&self) -> MlpSpec {
        MlpSpec {
            inputs: self.inputs,
            hidden: self.hidden.clone(),
            outputs: self.outputs,
            dropout: 0.0,
        }
    }

    /// The scaler parameters as one buffer: offsets then scales.
    pub fn scaler_params(&self) -> Vec<f32> {
        let mut p = self.scaler.offsets.clone();
        p.extend_from_slice(&self.scaler.scales);
        p
    }

    /// Checks every field against the others.
    ///
    /// # Errors
    /// A message naming the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "field `format`: expected {FORMAT:?}, found {:?}",
                self.format
            ));
        }
        if self.version != VERSION {
            return Err(format!(
                "field `version`: version {} is not supported (expected {VERSION})",
                self.version
            ));
        }
        if self.activation != "relu" {
            return Err(format!(
                "field `activation`: only \"relu\" is supported, found {:?}",
                self.activation
            ));
        }
        if self.inputs == 0 {
            return Err("field `inputs`: must be at least 1".into());
        }
        if self.outputs < 2 {
            return Err("field `outputs`: a classifier needs at least 2 classes".into());
        }
        super::arch::check_hidden(&self.hidden).map_err(|e| format!("field `hidden`: {e}"))?;
        if self.feature_names.len() != self.inputs {
            return Err(format!(
                "field `feature_names`: {} names for {} inputs",
                self.feature_names.len(),
                self.inputs
            ));
        }
        if self.scaler.kind != "standard" {
            return Err(format!(
                "field `scaler.kind`: only \"standard\" is supported, found {:?}",
                self.scaler.kind
            ));
        }
        for (name, v) in [
            ("scaler.offsets", &self.scaler.offsets),
            ("scaler.scales", &self.scaler.scales),
        ] {
            if v.len() != self.inputs {
                return Err(format!(
                    "field `{name}`: {} values for {} inputs",
                    v.len(),
                    self.inputs
                ));
            }
        }
        if let Some(i) = self
            .scaler
            .scales
            .iter()
            .position(|&s| !s.is_finite() || s <= 0.0)
        {
            return Err(format!(
                "field `scaler.scales`: value {} is not a finite number > 0",
                i + 1
            ));
        }
        if let Some(i) = self.scaler.offsets.iter().position(|s| !s.is_finite()) {
            return Err(format!(
                "field `scaler.offsets`: value {} is not finite",
                i + 1
            ));
        }
        let expected = self
            .spec()
            .param_len()
            .map_err(|e| format!("fields `inputs`/`hidden`/`outputs`: {e}"))?;
        if self.params.len() != expected {
            return Err(format!(
                "field `params`: {} values, but the architecture needs {expected}",
                self.params.len()
            ));
        }
        Ok(())
    }
}

/// The model file a `--model` argument names: `DIR/model.json` for a directory, else the path
/// itself.
pub fn model_path(arg: &Path) -> PathBuf {
    if arg.is_dir() {
        arg.join(FILE_NAME)
    } else {
        arg.to_path_buf()
    }
}

/// Loads and checks a model file (or `DIR/model.json`).
///
/// # Errors
/// The file cannot be read, is not valid JSON of this format (the message names the line and
/// column), or a field is inconsistent (the message names the field).
pub fn load(arg: &Path) -> Result<SavedModel, AppError> {
    let path = model_path(arg);
    let name = path.display();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| AppError::new(format!("{name}: cannot read the model: {e}")))?;
    let model: SavedModel = serde_json::from_str(&text).map_err(|e| {
        // serde_json's message ends with "at line L column C".
        AppError::new(format!("{name}: not a {FORMAT} model file: {e}"))
    })?;
    model
        .validate()
        .map_err(|e| AppError::new(format!("{name}: {e}")))?;
    Ok(model)
}

/// Writes `model` as JSON to `path`.
///
/// # Errors
/// The file cannot be written.
pub fn save(model: &SavedModel, path: &Path) -> Result<(), AppError> {
    let text = serde_json::to_string(model)
        .map_err(|e| AppError::new(format!("cannot encode the model: {e}")))?;
    super::report::write_file(path, text.as_bytes())
}
