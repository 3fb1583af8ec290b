//! The architectures of the joint teacher–student models ([`DistillArch`]), described as lists
//! of [`LayerSpec`]s and built over flat parameter buffers.
//!
//! # The rule ([`DistillArch::for_data`])
//! - **Square single-channel images**: `F = s²` with `s ≥ 4` features (e.g. the 8×8 digits) get
//!   the convolutional architecture ([`ArchKind::Conv`]); the features are read as an `s × s`
//!   image, row-major (NHWC with one channel).
//! - **Any other shape**: the MLP architecture ([`ArchKind::Mlp`]).
//!
//! # Parameter layout
//! One flat buffer holds `[bottom | teacher head | student head]`; inside each part the layers
//! with parameters in order, each in the core's layout (dense: weights `[out, in]` then bias;
//! conv: weights OHWI `[out_c, kh, kw, in_c]` then bias). The teacher is `bottom ++ teacher
//! head`, the deployable student `bottom ++ student head`, each a plain layer list
//! ([`DistillArch::teacher`], [`DistillArch::student`]).

use tinytune::kernels::Padding;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::conv::Conv2dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::pool::{Pool2dConfig, PoolKind};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::{AnyLayer, Params};
use tinytune::{Error, ShapeError};

use crate::app::mlp::SplitParams;

/// One layer of a joint model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerSpec {
    /// Fully connected.
    Dense(DenseConfig),
    /// 2-D convolution (NHWC).
    Conv2d(Conv2dConfig),
    /// 2-D max or average pooling (NHWC).
    Pool2d(Pool2dConfig),
    /// Flatten of this many values per sample.
    Flatten(usize),
    /// ReLU over this many values per sample.
    Relu(usize),
}

impl LayerSpec {
    /// Number of parameters (0 for the layers without any).
    ///
    /// # Errors
    /// A zero size or an overflow.
    pub fn param_len(&self) -> Result<usize, Error> {
        match self {
            LayerSpec::Dense(c) => c.param_len(),
            LayerSpec::Conv2d(c) => c.param_len(),
            _ => Ok(0),
        }
    }

    fn build<'a, P: SplitParams<'a> + Into<Params<'a>>>(
        &self,
        params: P,
    ) -> Result<AnyLayer<'a>, Error> {
        Ok(match *self {
            LayerSpec::Dense(c) => c.init(params)?.into(),
            LayerSpec::Conv2d(c) => c.init(params)?.into(),
            LayerSpec::Pool2d(c) => c.init()?.into(),
            LayerSpec::Flatten(len) => ReshapeConfig { len }.init()?.into(),
            LayerSpec::Relu(len) => ActivationConfig {
                kind: ActivationKind::Relu,
                len,
            }
            .init()?
            .into(),
        })
    }
}

/// Total parameters of `specs`.
///
/// # Errors
/// A zero size or an overflow.
pub fn param_len(specs: &[LayerSpec]) -> Result<usize, Error> {
    specs.iter().try_fold(0usize, |sum, s| {
        sum.checked_add(s.param_len()?)
            .ok_or(ShapeError::Dimension.into())
    })
}

/// The layers of `specs` over `params` (trainable if `&mut`, frozen if `&`).
///
/// # Errors
/// `params` not of [`param_len`] values, or a layer's configuration error.
pub fn build_layers<'a, P: SplitParams<'a> + Into<Params<'a>>>(
    specs: &[LayerSpec],
    params: P,
) -> Result<Vec<AnyLayer<'a>>, Error> {
    let expected = param_len(specs)?;
    if params.len() != expected {
        return Err(ShapeError::Length {
            buffer: tinytune::Buffer::Params,
            expected,
            actual: params.len(),
        }
        .into());
    }
    let mut rest = params;
    let mut layers = Vec::with_capacity(specs.len());
    for spec in specs {
        let (mine, tail) = rest.split(spec.param_len()?);
        rest = tail;
        layers.push(spec.build(mine)?);
    }
    Ok(layers)
}

/// Which architecture, and its widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchKind {
    /// bottom `Dense(F→H) → ReLU`; teacher head `Dense(H→T) → ReLU → Dense(T→K)`; student head
    /// `Dense(H→K)`.
    Mlp {
        /// Width `H` of the shared bottom.
        hidden: usize,
        /// Width `T` of the teacher head's hidden layer.
        teacher_hidden: usize,
    },
    /// On an `s × s` one-channel image: bottom `Conv2d(1→C, 3×3, SAME) → ReLU`; teacher head
    /// `Conv2d(C→C_t, 3×3, SAME) → ReLU → MaxPool 2×2 → Flatten → Dense((s/2)²·C_t → T) → ReLU
    /// → Dense(T→K)`; student head `Pool 2×2 (max or average) → Flatten → Dense((s/2)²·C → K)`.
    /// Pools are stride 2, VALID.
    Conv {
        /// Image side `s` (`F = s²`).
        side: usize,
        /// Channels `C` of the shared bottom convolution.
        channels: usize,
        /// Channels `C_t` of the teacher head's convolution.
        teacher_channels: usize,
        /// Width `T` of the teacher head's dense hidden layer.
        teacher_hidden: usize,
        /// The student head's pooling.
        student_pool: PoolKind,
    },
}

/// The shapes of the three joint models (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistillArch {
    /// Input features `F`.
    pub inputs: usize,
    /// Classes `K`.
    pub classes: usize,
    /// The architecture and its widths.
    pub kind: ArchKind,
}

impl DistillArch {
    /// The architecture picked from the data's shape (the rule of the [module docs](self)):
    /// - `F = s²`, `s ≥ 4`: [`ArchKind::Conv`] with `C = 8`, `C_t = 16`, `T = 64` and a
    ///   max-pooling student head. Digits (`s = 8`, `K = 10`): a student of 1,370 parameters
    ///   (conv 80 + dense 1,290) and a teacher of 18,346.
    /// - otherwise [`ArchKind::Mlp`] with `H = next_power_of_two(⌈√(F·K)⌉)` clamped to
    ///   `8..=64`, and `T = 4·H` (the student keeps one small hidden layer, the teacher is one
    ///   layer deeper and four times wider).
    pub fn for_data(features: usize, classes: usize) -> Self {
        match square_side(features) {
            Some(side) => Self::conv(side, classes, 8, 16, 64),
            None => Self::mlp(features, classes),
        }
    }

    /// The MLP architecture of [`for_data`](Self::for_data), whatever the shape.
    pub fn mlp(features: usize, classes: usize) -> Self {
        let geo = (features.saturating_mul(classes) as f64).sqrt().ceil() as usize;
        let hidden = geo.max(1).next_power_of_two().clamp(8, 64);
        DistillArch {
            inputs: features,
            classes,
            kind: ArchKind::Mlp {
                hidden,
                teacher_hidden: 4 * hidden,
            },
        }
    }

    /// The convolutional architecture on an `side × side` image with the given widths and a
    /// max-pooling student head.
    pub fn conv(
        side: usize,
        classes: usize,
        channels: usize,
        teacher_channels: usize,
        teacher_hidden: usize,
    ) -> Self {
        DistillArch {
            inputs: side.saturating_mul(side),
            classes,
            kind: ArchKind::Conv {
                side,
                channels,
                teacher_channels,
                teacher_hidden,
                student_pool: PoolKind::Max,
            },
        }
    }

    /// The shared bottom.
    pub fn bottom(&self) -> Vec<LayerSpec> {
        match self.kind {
            ArchKind::Mlp { hidden, .. } => vec![
                LayerSpec::Dense(dense(self.inputs, hidden)),
                LayerSpec::Relu(hidden),
            ],
            ArchKind::Conv { side, channels, .. } => vec![
                LayerSpec::Conv2d(conv3x3(side, 1, channels)),
                LayerSpec::Relu(side * side * channels),
            ],
        }
    }

    /// The teacher head (on the bottom's output).
    pub fn teacher_head(&self) -> Vec<LayerSpec> {
        let k = self.classes;
        match self.kind {
            ArchKind::Mlp {
                hidden,
                teacher_hidden: t,
            } => vec![
                LayerSpec::Dense(dense(hidden, t)),
                LayerSpec::Relu(t),
                LayerSpec::Dense(dense(t, k)),
            ],
            ArchKind::Conv {
                side,
                channels,
                teacher_channels: ct,
                teacher_hidden: t,
                ..
            } => {
                let flat = pooled(side) * pooled(side) * ct;
                vec![
                    LayerSpec::Conv2d(conv3x3(side, channels, ct)),
                    LayerSpec::Relu(side * side * ct),
                    LayerSpec::Pool2d(pool2x2(PoolKind::Max, side, ct)),
                    LayerSpec::Flatten(flat),
                    LayerSpec::Dense(dense(flat, t)),
                    LayerSpec::Relu(t),
                    LayerSpec::Dense(dense(t, k)),
                ]
            }
        }
    }

    /// The student head (on the bottom's output).
    pub fn student_head(&self) -> Vec<LayerSpec> {
        match self.kind {
            ArchKind::Mlp { hidden, .. } => vec![LayerSpec::Dense(dense(hidden, self.classes))],
            ArchKind::Conv {
                side,
                channels,
                student_pool,
                ..
            } => {
                let flat = pooled(side) * pooled(side) * channels;
                vec![
                    LayerSpec::Pool2d(pool2x2(student_pool, side, channels)),
                    LayerSpec::Flatten(flat),
                    LayerSpec::Dense(dense(flat, self.classes)),
                ]
            }
        }
    }

    /// The teacher: bottom then teacher head.
    pub fn teacher(&self) -> Vec<LayerSpec> {
        [self.bottom(), self.teacher_head()].concat()
    }

    /// The deployable student: bottom then student head; also the student trained alone.
    pub fn student(&self) -> Vec<LayerSpec> {
        [self.bottom(), self.student_head()].concat()
    }

    /// Parameter counts of bottom, teacher head and student head.
    ///
    /// # Errors
    /// A zero size or an overflow.
    pub fn part_lens(&self) -> Result<[usize; 3], Error> {
        Ok([
            param_len(&self.bottom())?,
            param_len(&self.teacher_head())?,
            param_len(&self.student_head())?,
        ])
    }

    /// A one-line description of the teacher and the student.
    pub fn describe(&self) -> String {
        let (f, k) = (self.inputs, self.classes);
        match self.kind {
            ArchKind::Mlp {
                hidden: h,
                teacher_hidden: t,
            } => format!(
                "teacher: {f} → {h} → {t} → {k}; student: {f} → {h} → {k} (dense, ReLU; the \
                 first layer is shared)"
            ),
            ArchKind::Conv {
                side: s,
                channels: c,
                teacher_channels: ct,
                teacher_hidden: t,
                student_pool,
            } => {
                let p = pooled(s);
                let pool = match student_pool {
                    PoolKind::Max => "max",
                    PoolKind::Avg => "avg",
                };
                format!(
                    "{s}×{s} image; shared conv 3×3 1→{c} + ReLU; teacher: conv 3×3 {c}→{ct} + \
                     ReLU, max-pool 2×2, dense {} → {t} → {k}; student: {pool}-pool 2×2, dense \
                     {} → {k}",
                    p * p * ct,
                    p * p * c
                )
            }
        }
    }
}

/// `Some(s)` if `features = s²` with `s ≥ 4`.
fn square_side(features: usize) -> Option<usize> {
    let s = (features as f64).sqrt().round() as usize;
    (s >= 4 && s.checked_mul(s) == Some(features)).then_some(s)
}

/// The side after a 2×2 stride-2 VALID pool.
fn pooled(side: usize) -> usize {
    side / 2
}

fn dense(in_features: usize, out_features: usize) -> DenseConfig {
    DenseConfig {
        in_features,
        out_features,
        bias: true,
    }
}

fn conv3x3(side: usize, in_c: usize, out_c: usize) -> Conv2dConfig {
    Conv2dConfig {
        in_h: side,
        in_w: side,
        in_c,
        out_c,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    }
}

fn pool2x2(kind: PoolKind, side: usize, channels: usize) -> Pool2dConfig {
    Pool2dConfig {
        kind,
        in_h: side,
        in_w: side,
        channels,
        window_h: 2,
        window_w: 2,
        stride_h: 2,
        stride_w: 2,
        padding: Padding::Valid,
    }
}
