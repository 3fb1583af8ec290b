//! `.ttm` files on the host: encoding an [`OwnedModel`] with its preprocessing and class names,
//! reading a file back into an 8-byte-aligned buffer for [`Model::from_bytes`], and the Rust
//! snippet that embeds a model in firmware.

use std::path::Path;

use tinytune::data::preprocess::{Scaler, ScalerKind};
use tinytune::model::{encoded_len, write, Meta, Model};

use crate::model::{OwnedModel, PipelineError, Result};

/// The preprocessing a model file carries: the scaler kind and its `2 · features` parameters
/// (offsets, then scales), as fitted on the training data.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocessing {
    /// The transform.
    pub kind: ScalerKind,
    /// Offsets then scales, one per input feature.
    pub params: Vec<f32>,
}

/// Encodes `model` as a `.ttm` file with its preprocessing and class names (empty: none).
///
/// # Errors
/// [`PipelineError::Invalid`] naming what the format rejected (the core's `FormatError`
/// message: the layer and field).
pub fn encode(
    model: &OwnedModel,
    preprocessing: Option<&Preprocessing>,
    num_classes: usize,
    class_names: &[String],
) -> Result<Vec<u8>> {
    let ops = model.ops();
    let scaler = match preprocessing {
        Some(p) => Some(
            Scaler::new(p.kind, p.params.len() / 2, &p.params).map_err(|e| {
                PipelineError::Core {
                    at: "preprocessing".into(),
                    error: e,
                }
            })?,
        ),
        None => None,
    };
    let names: Vec<&str> = class_names.iter().map(String::as_str).collect();
    let meta = Meta {
        scaler,
        num_classes,
        class_names: &names,
    };
    let invalid =
        |e: tinytune::model::FormatError| PipelineError::invalid("model file", e.to_string());
    let len = encoded_len(&ops, &meta).map_err(invalid)?;
    let mut out = vec![0u8; len];
    let written = write(&ops, &meta, &mut out).map_err(invalid)?;
    out.truncate(written);
    Ok(out)
}

/// Writes the bytes to `path`.
///
/// # Errors
/// [`PipelineError::Io`] naming the file.
pub fn save(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|error| PipelineError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// A `.ttm` file held in an 8-byte-aligned buffer, as [`Model::from_bytes`] requires (a
/// `Vec<u8>` has no alignment guarantee; a `Vec<u64>` has).
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into an aligned buffer.
    pub fn new(bytes: &[u8]) -> Self {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_ne_bytes(b);
        }
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }

    /// The file's bytes, 8-byte aligned.
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }

    /// Parses the model.
    ///
    /// # Errors
    /// [`PipelineError::Invalid`] with the format error (what is wrong, and where).
    pub fn model(&self) -> Result<Model<'_>> {
        Model::from_bytes(self.bytes())
            .map_err(|e| PipelineError::invalid("model file", e.to_string()))
    }
}

/// Reads a `.ttm` file into an aligned buffer.
///
/// # Errors
/// [`PipelineError::Io`] naming the file.
pub fn load(path: &Path) -> Result<AlignedBytes> {
    let bytes = std::fs::read(path).map_err(|error| PipelineError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(AlignedBytes::new(&bytes))
}

/// The firmware snippet that embeds `file_name` (a path relative to the source file that uses
/// it) and classifies one sample with it.
pub fn rust_snippet(file_name: &str, model: &Model<'_>) -> String {
    let arena = model.arena_len(1).unwrap_or(0);
    let requant = model.requant_len().max(1);
    let inputs = model.input_len();
    format!(
        "// The model, 8-byte aligned in flash.\n\
         static MODEL: &[u8] = tinytune::include_model!(\"{file_name}\");\n\n\
         /// The class of one sample ({arena} B of arena, {requant} requantizers on the stack).\n\
         fn classify(features: &[f32; {inputs}]) -> Option<usize> {{\n\
         \x20   let model = tinytune::model::Model::from_bytes(MODEL).ok()?;\n\
         \x20   let mut arena = [0u8; {arena}];\n\
         \x20   let mut requant = [tinytune::num::quant::Requantizer::ZERO; {requant}];\n\
         \x20   model.predict(features, &mut arena, &mut requant).ok()\n\
         }}\n"
    )
}
