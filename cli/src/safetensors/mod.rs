//! Export and import of an f32 [`OwnedModel`]'s parameters as
//! [safetensors](https://huggingface.co/docs/safetensors).
//!
//! # Names
//!
//! Operation `i` of the model (its index in [`OwnedModel::ops`], counting every operation,
//! parameter-free ones included) stores its tensors as `layers.{i}.{kind}.{param}`, where
//! `kind` is [`OwnedOp::kind_name`](crate::model::OwnedOp::kind_name):
//!
//! | kind | tensors (this crate's layout) | PyTorch module and layout |
//! |---|---|---|
//! | `dense` | `weight` `[out, in]`, `bias` `[out]` | `nn.Linear`: `weight` `[out, in]` (the same) |
//! | `conv1d` | `weight` `[out_c, k, in_c]`, `bias` `[out_c]` | `nn.Conv1d`: `[out_c, in_c, k]` |
//! | `conv2d` | `weight` OHWI `[out_c, kh, kw, in_c]`, `bias` `[out_c]` | `nn.Conv2d`: OIHW `[out_c, in_c, kh, kw]` |
//! | `depthwise_conv2d` | `weight` `[kh, kw, C]` (`C = in_c · multiplier`), `bias` `[C]` | `nn.Conv2d(groups = in_c)`: `[C, 1, kh, kw]` |
//! | `batch_norm` | `gamma`, `beta`, `running_mean`, `running_var`, each `[channels]` | `nn.BatchNorm*d`: `weight`, `bias`, `running_mean`, `running_var` |
//! | `layer_norm` | `gamma`, `beta`, each `[dim]` | `nn.LayerNorm`: `weight`, `bias` |
//! | `embedding` | `table` `[vocab, dim]` | `nn.Embedding`: `weight` `[vocab, dim]` (the same) |
//!
//! `bias` is present exactly when the layer's configuration has `bias: true`. Every tensor is
//! `F32`, row-major. Output channel `o` of a depthwise layer is input channel `o / multiplier`,
//! as in PyTorch with `groups = in_c`. With [`Layout::Pytorch`], the convolution weights are
//! written and read in PyTorch's axis order (and transposed to and from this crate's); every
//! other tensor has the same layout in both. Names stay the ones above in both layouts: a
//! PyTorch `state_dict` is renamed to them (e.g. `0.weight` → `layers.0.dense.weight`) before
//! import; a `num_batches_tracked` tensor is ignored with [`Layout::Pytorch`].
//!
//! # Import
//!
//! [`import`] requires exactly the model's tensors ([`tensor_specs`]): every expected name must
//! be present, be `F32` and have the expected shape (in the file's layout), and no other tensor
//! may be present. The error names the tensor and what differs; on error the model is not
//! changed.

mod specs;

pub use specs::{tensor_specs, Layout, TensorSpec};

/// The `safetensors` crate this module reads and writes with, re-exported so callers (and
/// tests) build and inspect files with the same version.
pub use ::safetensors as safetensors_crate;

use crate::model::{OwnedModel, PipelineError, Result};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::path::Path;

/// Serializes the parameters of the f32 `model` in `layout` (see the
/// [module documentation](self)).
///
/// # Errors
/// As [`tensor_specs`]; [`PipelineError::Invalid`] if safetensors rejects the data.
pub fn export(model: &OwnedModel, layout: Layout) -> Result<Vec<u8>> {
    let specs = tensor_specs(model)?;
    let mut copy = model.clone();
    let mut bytes: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(specs.len());
    for spec in &specs {
        let values = specs::buffer_mut(&mut copy, spec).ok_or_else(|| {
            PipelineError::invalid(format!("tensor {}", spec.name), "no such buffer")
        })?;
        let data: Vec<u8> = spec
            .to_layout(values, layout)
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        bytes.push((spec.name.clone(), spec.shape_in(layout), data));
    }
    let mut views = Vec::with_capacity(bytes.len());
    for (name, shape, data) in &bytes {
        let view = TensorView::new(Dtype::F32, shape.clone(), data)
            .map_err(|e| PipelineError::invalid(format!("tensor {name}"), e.to_string()))?;
        views.push((name.clone(), view));
    }
    safetensors::serialize(views, &None)
        .map_err(|e| PipelineError::invalid("safetensors", e.to_string()))
}

/// [`export`] into the file `path`.
///
/// # Errors
/// As [`export`]; [`PipelineError::Io`] if the file cannot be written.
pub fn export_file(model: &OwnedModel, layout: Layout, path: &Path) -> Result<()> {
    let bytes = export(model, layout)?;
    std::fs::write(path, bytes).map_err(|error| PipelineError::Io {
        path: path.to_path_buf(),
        error,
    })
}

/// Reads the parameters of `model` (an f32 model, whose configuration fixes the expected names
/// and shapes) from safetensors `bytes` in `layout`. All or nothing: on error `model` is
/// unchanged.
///
/// # Errors
/// As [`tensor_specs`]; [`PipelineError::Invalid`] for bytes that are not safetensors, and,
/// naming the tensor (`tensor layers.0.dense.weight`), for a missing tensor, a dtype other than
/// `F32`, a shape other than the expected one (both shown), or a tensor the model does not have.
pub fn import(bytes: &[u8], model: &mut OwnedModel, layout: Layout) -> Result<()> {
    let specs = tensor_specs(model)?;
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| PipelineError::invalid("safetensors", format!("not readable: {e}")))?;
    let mut names: Vec<&String> = file.names();
    names.sort();
    for name in names {
        let known = specs.iter().any(|s| &s.name == name);
        let ignored = layout == Layout::Pytorch && name.ends_with(".num_batches_tracked");
        if !known && !ignored {
            return Err(PipelineError::invalid(
                format!("tensor {name}"),
                "is not a parameter of the model",
            ));
        }
    }
    let mut updated = model.clone();
    for spec in &specs {
        let at = || format!("tensor {}", spec.name);
        let view = file
            .tensor(&spec.name)
            .map_err(|_| PipelineError::invalid(at(), "is missing"))?;
        if view.dtype() != Dtype::F32 {
            return Err(PipelineError::invalid(
                at(),
                format!("has dtype {:?}, expected F32", view.dtype()),
            ));
        }
        let expected = spec.shape_in(layout);
        if view.shape() != expected.as_slice() {
            return Err(PipelineError::invalid(
                at(),
                format!("has shape {:?}, expected {expected:?}", view.shape()),
            ));
        }
        let data = view.data();
        if data.len() != spec.len().saturating_mul(4) {
            return Err(PipelineError::invalid(
                at(),
                format!("holds {} bytes, expected {}", data.len(), spec.len() * 4),
            ));
        }
        let values: Vec<f32> = data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let values = spec.to_tinytune(&values, layout);
        let target = specs::buffer_mut(&mut updated, spec)
            .ok_or_else(|| PipelineError::invalid(at(), "no such buffer in the model"))?;
        for (t, v) in target.iter_mut().zip(&values) {
            *t = *v;
        }
    }
    *model = updated;
    Ok(())
}

/// [`import`] from the file `path`.
///
/// # Errors
/// As [`import`]; [`PipelineError::Io`] if the file cannot be read.
pub fn import_file(path: &Path, model: &mut OwnedModel, layout: Layout) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|error| PipelineError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    import(&bytes, model, layout)
}
