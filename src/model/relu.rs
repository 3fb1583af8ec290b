//! The ReLU family of a model's activation ops (ReLU, ReLU6, leaky ReLU; f32 and int8), checked
//! and run straight on the kernels instead of through the activation layers.
//!
//! Why: [`ActivationConfig`] and [`ActivationS8Config`] hold every function in one `init` and
//! one `forward` (the int8 `init` builds the sigmoid, tanh and GELU tables; the forwards call
//! exp, erf and softmax), so a model runner that went through them would link all of that
//! even for a model with no such activation. Here the ReLU family needs only its clamps. The
//! runner uses this in a build with `ops-activation` but without `ops-exp-activations`; with
//! the latter the layers are linked anyway and run every function (no second copy). The
//! checks are those of the layers' `init`s and the results bit for bit theirs; the tests below
//! compare both on every case, in every build.

use crate::error::{Error, ShapeError};
use crate::kernels::generic::activation::{
    leaky_relu_f32, leaky_relu_s8, relu6_f32, relu6_range_s8, relu_f32, relu_range_s8,
    LeakyReluParamsS8,
};
use crate::kernels::ActivationS8;
use crate::layers::activation::{ActivationConfig, ActivationKind};
use crate::layers::s8::{ActivationKindS8, ActivationS8Config};
use crate::model::Op;
use crate::num::quant::QuantParams;

/// A validated activation of the ReLU family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Relu {
    /// f32 ReLU, ReLU6 or leaky ReLU.
    F32 {
        /// Values per sample.
        len: usize,
        /// The function.
        kind: ReluF32,
    },
    /// int8 ReLU or ReLU6: a clamp in the quantized domain (input and output share their
    /// quantization).
    Clamp {
        /// Values per sample.
        len: usize,
        /// The range.
        act: ActivationS8,
    },
    /// int8 leaky ReLU.
    Leaky {
        /// Values per sample.
        len: usize,
        /// Its requantization.
        params: LeakyReluParamsS8,
    },
}

/// An f32 function of the ReLU family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ReluF32 {
    Relu,
    Relu6,
    Leaky(f32),
}

/// `Some` for an activation op of the ReLU family, validated as its layer's `init` validates
/// it; `None` for any other op (the sigmoid, tanh, GELU and softmax activations among them).
///
/// # Errors
/// As [`ActivationConfig::init`] and [`ActivationS8Config::init`]: [`ShapeError::Dimension`]
/// for `len == 0`; [`Error::Config`] for a leaky ReLU `alpha` that is not finite;
/// [`Error::Quant`] for int8 quantization parameters out of range.
pub(crate) fn relu(op: &Op<'_>) -> Option<Result<Relu, Error>> {
    match *op {
        Op::Activation(c) => f32_relu(c),
        Op::ActivationS8(c) => s8_relu(c),
        _ => None,
    }
}

fn f32_relu(c: ActivationConfig) -> Option<Result<Relu, Error>> {
    let kind = match c.kind {
        ActivationKind::Relu => ReluF32::Relu,
        ActivationKind::Relu6 => ReluF32::Relu6,
        ActivationKind::LeakyRelu { alpha } => ReluF32::Leaky(alpha),
        _ => return None,
    };
    Some(if c.len == 0 {
        Err(ShapeError::Dimension.into())
    } else if matches!(kind, ReluF32::Leaky(alpha) if !alpha.is_finite()) {
        Err(Error::Config)
    } else {
        Ok(Relu::F32 { len: c.len, kind })
    })
}

fn s8_relu(c: ActivationS8Config) -> Option<Result<Relu, Error>> {
    let len = c.len;
    let relu = match c.kind {
        ActivationKindS8::Relu { quant } => {
            QuantParams::new(quant.scale, quant.zero_point).map(|q| Relu::Clamp {
                len,
                act: relu_range_s8(q.zero_point),
            })
        }
        ActivationKindS8::Relu6 { quant } => {
            relu6_range_s8(quant.scale, quant.zero_point).map(|act| Relu::Clamp { len, act })
        }
        ActivationKindS8::LeakyRelu(params) => Ok(Relu::Leaky { len, params }),
        _ => return None,
    };
    // The layer checks the length first.
    Some(if len == 0 {
        Err(ShapeError::Dimension.into())
    } else {
        relu.map_err(Error::from)
    })
}

impl Relu {
    /// Values per sample, in and out.
    pub(crate) fn len(&self) -> usize {
        match *self {
            Relu::F32 { len, .. } | Relu::Clamp { len, .. } | Relu::Leaky { len, .. } => len,
        }
    }

    /// Whether it takes and gives f32 values (else int8).
    pub(crate) fn is_f32(&self) -> bool {
        matches!(self, Relu::F32 { .. })
    }

    /// Applies an f32 function to `x`, writing `y` (of `x`'s length). An int8 one writes
    /// nothing.
    pub(crate) fn forward_f32(&self, x: &[f32], y: &mut [f32]) -> Result<(), Error> {
        let Relu::F32 { kind, .. } = *self else {
            return Err(Error::Config);
        };
        let y = y.get_mut(..x.len()).ok_or(ShapeError::Dimension)?;
        y.copy_from_slice(x);
        match kind {
            ReluF32::Relu => relu_f32(y),
            ReluF32::Relu6 => relu6_f32(y),
            ReluF32::Leaky(alpha) => leaky_relu_f32(y, alpha),
        }
        Ok(())
    }

    /// Applies an int8 function to `x`, writing `y` (of `x`'s length). An f32 one writes
    /// nothing.
    pub(crate) fn forward_s8(&self, x: &[i8], y: &mut [i8]) -> Result<(), Error> {
        let y = y.get_mut(..x.len()).ok_or(ShapeError::Dimension)?;
        match self {
            Relu::Clamp { act, .. } => {
                for (o, &v) in y.iter_mut().zip(x) {
                    *o = act.clamp(i32::from(v));
                }
            }
            Relu::Leaky { params, .. } => leaky_relu_s8(params, x, y)?,
            Relu::F32 { .. } => return Err(Error::Config),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Each case against the activation layer itself (`init`, then `forward`), which the model
    //! used to run: the same error, or the same output bits.
    use super::{relu, Relu};
    use crate::kernels::generic::activation::LeakyReluParamsS8;
    use crate::layers::activation::{ActivationConfig, ActivationKind};
    use crate::layers::s8::{ActivationKindS8, ActivationS8Config, LayerS8};
    use crate::layers::Layer;
    use crate::model::Op;
    use crate::num::quant::{QuantParams, Requantizer};

    const F32_INPUT: [f32; 9] = [-7.5, -1.0, -0.0, 0.0, 0.25, 5.999, 6.0, 1e9, f32::NAN];

    fn f32_case(kind: ActivationKind, len: usize) {
        let c = ActivationConfig { kind, len };
        let ours = relu(&Op::Activation(c)).expect("a ReLU-family activation");
        match (ours, c.init()) {
            (Ok(r), Ok(layer)) => {
                assert!(r.is_f32());
                assert_eq!(r.len(), len);
                let x = &F32_INPUT[..len];
                let (mut a, mut b) = ([0f32; 9], [0f32; 9]);
                r.forward_f32(x, &mut a[..len]).unwrap();
                layer.forward(1, x, &mut b[..len]).unwrap();
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a[..len]), bits(&b[..len]), "{kind:?}");
            }
            (Err(e), Err(f)) => assert_eq!(e, f, "{kind:?} len {len}"),
            (ours, layer) => panic!("{kind:?} len {len}: {ours:?} vs {:?}", layer.err()),
        }
    }

    #[test]
    fn f32_relus_check_and_compute_as_the_layer() {
        for len in [0, 1, 9] {
            for kind in [
                ActivationKind::Relu,
                ActivationKind::Relu6,
                ActivationKind::LeakyRelu { alpha: 0.1 },
                ActivationKind::LeakyRelu { alpha: -3.0 },
                ActivationKind::LeakyRelu { alpha: f32::NAN },
                ActivationKind::LeakyRelu {
                    alpha: f32::INFINITY,
                },
            ] {
                f32_case(kind, len);
            }
        }
    }

    fn s8_case(kind: ActivationKindS8, len: usize) {
        let c = ActivationS8Config { len, kind };
        let ours = relu(&Op::ActivationS8(c)).expect("a ReLU-family activation");
        match (ours, c.init()) {
            (Ok(r), Ok(layer)) => {
                assert!(!r.is_f32());
                assert_eq!(r.len(), len);
                let x: Vec<i8> = (0..len)
                    .map(|i| (i as i32 * 53 % 256 - 128) as i8)
                    .collect();
                let (mut a, mut b) = (vec![0i8; len], vec![0i8; len]);
                r.forward_s8(&x, &mut a).unwrap();
                LayerS8::forward(&layer, 1, &x, &mut b).unwrap();
                assert_eq!(a, b, "{kind:?}");
            }
            (Err(e), Err(f)) => assert_eq!(e, f, "{kind:?} len {len}"),
            (ours, layer) => panic!("{kind:?} len {len}: {ours:?} vs {:?}", layer.err()),
        }
    }

    #[test]
    fn int8_relus_check_and_compute_as_the_layer() {
        let scales = [
            0.0,
            -1.0,
            f32::NAN,
            f32::INFINITY,
            1e-30,
            0.01,
            0.05,
            1.0,
            100.0,
        ];
        let zero_points = [-129, -128, -5, 0, 17, 127, 128];
        let leaky = LeakyReluParamsS8::from_parts(
            3,
            -2,
            Requantizer::from_real(0.9).unwrap(),
            Requantizer::from_real(0.1).unwrap(),
        )
        .unwrap();
        for len in [0, 1, 256] {
            for &scale in &scales {
                for &zero_point in &zero_points {
                    let quant = QuantParams { scale, zero_point };
                    s8_case(ActivationKindS8::Relu { quant }, len);
                    s8_case(ActivationKindS8::Relu6 { quant }, len);
                }
            }
            s8_case(ActivationKindS8::LeakyRelu(leaky), len);
        }
    }

    #[test]
    fn other_activations_are_left_to_the_layers() {
        let input = QuantParams {
            scale: 0.1,
            zero_point: 0,
        };
        for op in [
            Op::Activation(ActivationConfig {
                kind: ActivationKind::Sigmoid,
                len: 4,
            }),
            Op::Activation(ActivationConfig {
                kind: ActivationKind::Softmax { depth: 2 },
                len: 4,
            }),
            Op::ActivationS8(ActivationS8Config {
                len: 4,
                kind: ActivationKindS8::Tanh { input },
            }),
            Op::Reshape(crate::layers::reshape::ReshapeConfig { len: 4 }),
        ] {
            assert!(relu(&op).is_none(), "{op:?}");
        }
        // A kind of the wrong element type writes nothing.
        let f = Relu::F32 {
            len: 1,
            kind: super::ReluF32::Relu,
        };
        assert!(f.forward_s8(&[1], &mut [7]).is_err());
    }
}
