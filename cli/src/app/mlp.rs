//! A multi-layer perceptron of any depth up to [`MAX_HIDDEN_LAYERS`], built from the core's
//! layers: for each hidden width `h`, `Dense → ReLU → Dropout`, then a `Dense` head giving one
//! logit per class.
//!
//! The core's [`Sequential`] holds its layers in an array of a length fixed at compile time, so
//! the functions here are generic over that length and `with_sequential!`
//! picks the instance for the run-time depth (`3 · hidden layers + 1` layers).
//!
//! # Parameter layout
//! One flat `f32` buffer: each dense layer in order (first hidden … head), each as its weights
//! `[out, in]` row-major then its bias `[out]` (the core's `Dense` layout).

use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::dropout::DropoutConfig;
use tinytune::layers::{AnyLayer, Sequential};
use tinytune::Error;

pub use super::arch::MAX_HIDDEN_LAYERS;

/// The shape of an MLP.
#[derive(Clone, Debug, PartialEq)]
pub struct MlpSpec {
    /// Input features.
    pub inputs: usize,
    /// Hidden layer widths (1 to [`MAX_HIDDEN_LAYERS`]).
    pub hidden: Vec<usize>,
    /// Output logits (classes).
    pub outputs: usize,
    /// Dropout rate after each hidden layer (0: the dropout layers pass values through).
    pub dropout: f32,
}

impl MlpSpec {
    /// The dense layers, first hidden to head.
    pub fn dense_layers(&self) -> Vec<DenseConfig> {
        let mut sizes = Vec::with_capacity(self.hidden.len() + 2);
        sizes.push(self.inputs);
        sizes.extend_from_slice(&self.hidden);
        sizes.push(self.outputs);
        sizes
            .windows(2)
            .map(|w| DenseConfig {
                in_features: w[0],
                out_features: w[1],
                bias: true,
            })
            .collect()
    }

    /// Number of parameters (see the [module docs](self) for their layout).
    ///
    /// # Errors
    /// [`Error::Shape`] if a size is 0 or the count overflows.
    pub fn param_len(&self) -> Result<usize, Error> {
        self.dense_layers().iter().try_fold(0usize, |sum, d| {
            sum.checked_add(d.param_len()?)
                .ok_or(tinytune::ShapeError::Dimension.into())
        })
    }

    /// Number of layers of the [`Sequential`] model: `3 · hidden.len() + 1`.
    pub fn layer_count(&self) -> usize {
        3 * self.hidden.len() + 1
    }

    /// The layers over `params` (trainable if `params` is `&mut`, frozen if `&`).
    ///
    /// # Errors
    /// [`Error::Shape`] if `params` does not have [`param_len`](Self::param_len) values or a
    /// size is 0; [`Error::Config`] for a bad dropout rate.
    pub fn layers<'a, P: SplitParams<'a>>(&self, params: P) -> Result<Vec<AnyLayer<'a>>, Error> {
        let dense = self.dense_layers();
        let expected = self.param_len()?;
        if params.len() != expected {
            return Err(tinytune::ShapeError::Length {
                buffer: tinytune::Buffer::Params,
                expected,
                actual: params.len(),
            }
            .into());
        }
        let mut layers = Vec::with_capacity(self.layer_count());
        let mut rest = params;
        for (i, d) in dense.iter().enumerate() {
            let (mine, tail) = rest.split(d.param_len()?);
            rest = tail;
            layers.push(mine.dense(*d)?);
            if i + 1 < dense.len() {
                let len = d.out_features;
                let relu = ActivationConfig {
                    kind: ActivationKind::Relu,
                    len,
                };
                layers.push(relu.init()?.into());
                let rate = self.dropout;
                layers.push(DropoutConfig { len, rate }.init()?.into());
            }
        }
        Ok(layers)
    }
}

/// A parameter buffer that can be cut into the dense layers' parts: `&[f32]` (frozen layers) or
/// `&mut [f32]` (trainable layers).
pub trait SplitParams<'a>: Sized {
    /// Number of values.
    fn len(&self) -> usize;
    /// Whether there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first `n` values and the rest (`n ≤ len()`, checked by the caller).
    fn split(self, n: usize) -> (Self, Self);
    /// A dense layer over these values.
    ///
    /// # Errors
    /// As [`DenseConfig::init`].
    fn dense(self, config: DenseConfig) -> Result<AnyLayer<'a>, Error>;
}

impl<'a> SplitParams<'a> for &'a [f32] {
    fn len(&self) -> usize {
        <[f32]>::len(self)
    }
    fn split(self, n: usize) -> (Self, Self) {
        self.split_at(n.min(<[f32]>::len(self)))
    }
    fn dense(self, config: DenseConfig) -> Result<AnyLayer<'a>, Error> {
        Ok(config.init(self)?.into())
    }
}

impl<'a> SplitParams<'a> for &'a mut [f32] {
    fn len(&self) -> usize {
        <[f32]>::len(self)
    }
    fn split(self, n: usize) -> (Self, Self) {
        let n = n.min(<[f32]>::len(self));
        self.split_at_mut(n)
    }
    fn dense(self, config: DenseConfig) -> Result<AnyLayer<'a>, Error> {
        Ok(config.init(self)?.into())
    }
}

/// Chains `layers` into a [`Sequential`] of exactly `N` layers.
///
/// # Errors
/// [`tinytune::ShapeError::Dimension`] if there are not `N` layers; as [`Sequential::new`].
pub fn sequential<const N: usize>(
    layers: Vec<AnyLayer<'_>>,
) -> Result<Sequential<AnyLayer<'_>, N>, Error> {
    let array: [AnyLayer<'_>; N] = layers
        .try_into()
        .map_err(|_| Error::from(tinytune::ShapeError::Dimension))?;
    Sequential::new(array)
}

/// Calls the generic function `$f::<N>($args…)` with `N` the layer count of an MLP with
/// `$hidden` hidden layers (1 to [`MAX_HIDDEN_LAYERS`]); `$otherwise` for any other count.
macro_rules! with_sequential {
    ($hidden:expr, $f:ident ( $($arg:expr),* $(,)? ), $otherwise:expr) => {
        match $hidden {
            1 => $f::<4>($($arg),*),
            2 => $f::<7>($($arg),*),
            3 => $f::<10>($($arg),*),
            4 => $f::<13>($($arg),*),
            5 => $f::<16>($($arg),*),
            6 => $f::<19>($($arg),*),
            7 => $f::<22>($($arg),*),
            8 => $f::<25>($($arg),*),
            _ => $otherwise,
        }
    };
}
pub(crate) use with_sequential;

/// Samples per forward call when computing logits of a whole data set (bounds the scratch
/// memory).
const CHUNK: usize = 512;

fn logits_n<const N: usize>(
    spec: &MlpSpec,
    params: &[f32],
    data: &[f32],
) -> Result<Vec<f32>, Error> {
    let model = sequential::<N>(spec.layers(params)?)?;
    let samples = data.len() / spec.inputs.max(1);
    let mut out = vec![0.0f32; samples * spec.outputs];
    let mut scratch = vec![0.0f32; model.scratch_len(CHUNK.min(samples.max(1)))];
    for (x, y) in data
        .chunks(CHUNK * spec.inputs)
        .zip(out.chunks_mut(CHUNK * spec.outputs))
    {
        model.forward(x.len() / spec.inputs, x, y, &mut scratch)?;
    }
    Ok(out)
}

/// The logits `[samples, outputs]` of the model for `data` `[samples, inputs]` (inference mode:
/// dropout off).
///
/// # Errors
/// [`Error::Shape`] if `params` or `data` has the wrong length or the depth is not supported.
pub fn logits(spec: &MlpSpec, params: &[f32], data: &[f32]) -> Result<Vec<f32>, Error> {
    if spec.inputs == 0 || data.len() % spec.inputs != 0 {
        return Err(tinytune::ShapeError::Length {
            buffer: tinytune::Buffer::Input,
            expected: data.len() / spec.inputs.max(1) * spec.inputs,
            actual: data.len(),
        }
        .into());
    }
    with_sequential!(
        spec.hidden.len(),
        logits_n(spec, params, data),
        Err(tinytune::ShapeError::Dimension.into())
    )
}
