//! The named parameter tensors of an f32 model: names, shapes and where their values live.

use crate::model::{op_at, OwnedModel, OwnedOp, PipelineError, Result};

/// Tensor layout of a file: this crate's or PyTorch's (see the
/// [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The layers' own layouts (OHWI convolutions, `[kh, kw, C]` depthwise).
    Tinytune,
    /// PyTorch's: `Conv2d` `[out, in, kh, kw]`, `Conv1d` `[out, in, k]`, depthwise `Conv2d`
    /// (`groups = in_c`) `[C, 1, kh, kw]`; everything else as [`Layout::Tinytune`].
    Pytorch,
}

/// Which buffer of an operation a tensor lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The parameters (weights, bias, gamma, beta, table).
    Params,
    /// A batch norm's running statistics.
    Stats,
}

/// How a tensor's axes differ between the two layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Same layout in both.
    Plain,
    /// 1-D convolution weights.
    Conv1d,
    /// 2-D convolution weights.
    Conv2d,
    /// Depthwise weights.
    Depthwise,
}

/// One parameter tensor of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// `layers.{op}.{kind}.{param}`.
    pub name: String,
    /// Shape in this crate's layout.
    pub shape: Vec<usize>,
    /// Index of the operation.
    pub op: usize,
    pub(crate) slot: Slot,
    pub(crate) start: usize,
    pub(crate) kind: Kind,
}

impl TensorSpec {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape in `layout`.
    pub fn shape_in(&self, layout: Layout) -> Vec<usize> {
        let s = &self.shape;
        match (layout, self.kind, s.as_slice()) {
            (Layout::Pytorch, Kind::Conv1d, &[o, k, i]) => vec![o, i, k],
            (Layout::Pytorch, Kind::Conv2d, &[o, kh, kw, i]) => vec![o, i, kh, kw],
            (Layout::Pytorch, Kind::Depthwise, &[kh, kw, c]) => vec![c, 1, kh, kw],
            _ => s.clone(),
        }
    }

    /// Values in this crate's layout → values in `layout`.
    pub(crate) fn to_layout(&self, values: &[f32], layout: Layout) -> Vec<f32> {
        match (layout, self.kind, self.shape.as_slice()) {
            (Layout::Pytorch, Kind::Conv1d, &[o, k, i]) => permute(values, &[o, k, i], &[0, 2, 1]),
            (Layout::Pytorch, Kind::Conv2d, &[o, kh, kw, i]) => {
                permute(values, &[o, kh, kw, i], &[0, 3, 1, 2])
            }
            (Layout::Pytorch, Kind::Depthwise, &[kh, kw, c]) => {
                permute(values, &[kh, kw, c], &[2, 0, 1])
            }
            _ => values.to_vec(),
        }
    }

    /// Values in `layout` → values in this crate's layout.
    pub(crate) fn to_tinytune(&self, values: &[f32], layout: Layout) -> Vec<f32> {
        match (layout, self.kind, self.shape.as_slice()) {
            (Layout::Pytorch, Kind::Conv1d, &[o, k, i]) => permute(values, &[o, i, k], &[0, 2, 1]),
            (Layout::Pytorch, Kind::Conv2d, &[o, kh, kw, i]) => {
                permute(values, &[o, i, kh, kw], &[0, 2, 3, 1])
            }
            (Layout::Pytorch, Kind::Depthwise, &[kh, kw, c]) => {
                permute(values, &[c, kh, kw], &[1, 2, 0])
            }
            _ => values.to_vec(),
        }
    }
}

/// Transposes row-major `values` of shape `shape` so that axis `a` of the result is axis
/// `perm[a]` of the input. `values` must hold `shape`'s product of values (callers check it).
fn permute(values: &[f32], shape: &[usize], perm: &[usize]) -> Vec<f32> {
    let n = shape.len();
    let mut strides = vec![1usize; n];
    for a in (0..n.saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * shape[a + 1];
    }
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let out_strides: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
    let total: usize = shape.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; n];
    for _ in 0..total {
        let src: usize = idx.iter().zip(&out_strides).map(|(i, s)| i * s).sum();
        out.push(values.get(src).copied().unwrap_or(0.0));
        // Next output index, last axis fastest.
        for a in (0..n).rev() {
            idx[a] += 1;
            if idx[a] < out_shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// `a * b * …`, or an error at `at` on overflow.
fn prod(dims: &[usize], at: &str) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| PipelineError::invalid(at, format!("shape {dims:?} overflows")))
}

/// The parameter tensors of `model` (an f32 model), in order, with their names and shapes in
/// this crate's layout (see the [module documentation](super)).
///
/// # Errors
/// [`PipelineError::Invalid`] naming the operation if the model holds an int8 operation or an
/// operation's parameter buffer does not have the length its configuration implies.
pub fn tensor_specs(model: &OwnedModel) -> Result<Vec<TensorSpec>> {
    let mut specs = Vec::new();
    for (i, op) in model.ops.iter().enumerate() {
        let at = op_at(i, op);
        if op.is_int8() {
            return Err(PipelineError::invalid(
                at,
                "safetensors holds f32 models only",
            ));
        }
        // (param name, shape, layout kind, slot) of each tensor, in buffer order.
        let mut list: Vec<(&str, Vec<usize>, Kind, Slot)> = Vec::new();
        let mut weighted = |w: Vec<usize>, kind: Kind, out: usize, bias: bool| {
            list.push(("weight", w, kind, Slot::Params));
            if bias {
                list.push(("bias", vec![out], Kind::Plain, Slot::Params));
            }
        };
        let (params_len, stats_len) = match op {
            OwnedOp::Dense(c, p) => {
                weighted(
                    vec![c.out_features, c.in_features],
                    Kind::Plain,
                    c.out_features,
                    c.bias,
                );
                (p.len(), 0)
            }
            OwnedOp::Conv1d(c, p) => {
                weighted(
                    vec![c.out_c, c.kernel, c.in_c],
                    Kind::Conv1d,
                    c.out_c,
                    c.bias,
                );
                (p.len(), 0)
            }
            OwnedOp::Conv2d(c, p) => {
                let w = vec![c.out_c, c.kernel_h, c.kernel_w, c.in_c];
                weighted(w, Kind::Conv2d, c.out_c, c.bias);
                (p.len(), 0)
            }
            OwnedOp::DepthwiseConv2d(c, p) => {
                let ch = prod(&[c.in_c, c.multiplier], &at)?;
                weighted(
                    vec![c.kernel_h, c.kernel_w, ch],
                    Kind::Depthwise,
                    ch,
                    c.bias,
                );
                (p.len(), 0)
            }
            OwnedOp::BatchNorm(c, p, s) => {
                for name in ["gamma", "beta"] {
                    list.push((name, vec![c.channels], Kind::Plain, Slot::Params));
                }
                for name in ["running_mean", "running_var"] {
                    list.push((name, vec![c.channels], Kind::Plain, Slot::Stats));
                }
                (p.len(), s.len())
            }
            OwnedOp::LayerNorm(c, p) => {
                for name in ["gamma", "beta"] {
                    list.push((name, vec![c.dim], Kind::Plain, Slot::Params));
                }
                (p.len(), 0)
            }
            OwnedOp::Embedding(c, p) => {
                list.push(("table", vec![c.vocab, c.dim], Kind::Plain, Slot::Params));
                (p.len(), 0)
            }
            _ => continue,
        };
        let (mut params_at, mut stats_at) = (0usize, 0usize);
        for (param, shape, kind, slot) in list {
            let len = prod(&shape, &at)?;
            let start = match slot {
                Slot::Params => &mut params_at,
                Slot::Stats => &mut stats_at,
            };
            specs.push(TensorSpec {
                name: format!("layers.{i}.{}.{param}", op.kind_name()),
                shape,
                op: i,
                slot,
                start: *start,
                kind,
            });
            *start = start.checked_add(len).unwrap_or(usize::MAX);
        }
        if params_at != params_len || stats_at != stats_len {
            return Err(PipelineError::invalid(
                at,
                format!(
                    "holds {params_len} parameters and {stats_len} statistics, its configuration \
                     implies {params_at} and {stats_at}"
                ),
            ));
        }
    }
    Ok(specs)
}

/// The buffer of `model` a spec lives in (`None` if the operation has no such buffer).
pub(crate) fn buffer_mut<'m>(
    model: &'m mut OwnedModel,
    spec: &TensorSpec,
) -> Option<&'m mut [f32]> {
    let op = model.ops.get_mut(spec.op)?;
    let buf: &mut Vec<f32> = match (op, spec.slot) {
        (OwnedOp::BatchNorm(_, _, s), Slot::Stats) => s,
        (
            OwnedOp::Dense(_, p)
            | OwnedOp::Conv1d(_, p)
            | OwnedOp::Conv2d(_, p)
            | OwnedOp::DepthwiseConv2d(_, p)
            | OwnedOp::BatchNorm(_, p, _)
            | OwnedOp::LayerNorm(_, p)
            | OwnedOp::Embedding(_, p),
            Slot::Params,
        ) => p,
        _ => return None,
    };
    buf.get_mut(spec.start..spec.start.checked_add(spec.len())?)
}
