//! Activation layer: every kind's forward against f64 (`|y - r| <= 1e-5 max(|r|, 1)`), input
//! gradients against central differences of the f64 forward (relative error ≤ 1e-3), the
//! derivative conventions at the kinks, NaN propagation, error paths.

mod common_b;

use common_b::{check_forward, check_input_grad, values_away_from};
use tinytune::layers::activation::{Activation, ActivationConfig, ActivationKind};
use tinytune::layers::Layer;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::reference::activation::{erf, sigmoid};
use tinytune_host_tests::reference::softmax::softmax_f64;
use tinytune_host_tests::rng::SplitMix64;

fn layer(kind: ActivationKind, len: usize) -> Activation {
    ActivationConfig { kind, len }.init().unwrap()
}

/// The f64 definition of each function (softmax per group of `depth`).
fn reference(kind: ActivationKind, x: &[f64]) -> Vec<f64> {
    let map = |f: &dyn Fn(f64) -> f64| x.iter().map(|&v| f(v)).collect();
    match kind {
        ActivationKind::Relu => map(&|v| v.max(0.0)),
        ActivationKind::Relu6 => map(&|v| v.clamp(0.0, 6.0)),
        ActivationKind::LeakyRelu { alpha } => {
            let a = alpha as f64;
            map(&|v| if v < 0.0 { a * v } else { v })
        }
        ActivationKind::Sigmoid => map(&sigmoid),
        ActivationKind::Tanh => map(&f64::tanh),
        ActivationKind::Gelu => map(&|v| 0.5 * v * (1.0 + erf(v / std::f64::consts::SQRT_2))),
        ActivationKind::Softmax { depth } => softmax_f64(depth, x),
    }
}

/// Every kind, on inputs at least 1e-3 from its kinks (0 for the ReLUs, also 6 for ReLU6).
const KINDS: [ActivationKind; 9] = [
    ActivationKind::Relu,
    ActivationKind::Relu6,
    ActivationKind::LeakyRelu { alpha: 0.1 },
    ActivationKind::LeakyRelu { alpha: -0.5 },
    ActivationKind::Sigmoid,
    ActivationKind::Tanh,
    ActivationKind::Gelu,
    ActivationKind::Softmax { depth: 4 },
    ActivationKind::Softmax { depth: 12 },
];

#[test]
fn forward_and_input_gradient_match_f64_reference() {
    for (k, kind) in KINDS.iter().copied().enumerate() {
        for (batch, len, lo, hi) in [(1, 12, -3.0, 3.0), (3, 24, -8.0, 8.0), (2, 36, -1.0, 7.5)] {
            let l = layer(kind, len);
            assert_eq!(
                (l.input_len(), l.output_len(), l.cache_len(batch)),
                (len, len, 0)
            );
            let mut rng = SplitMix64::new(10 * k as u64 + len as u64);
            let x = values_away_from(&mut rng, batch * len, lo, hi, &[0.0, 6.0]);
            let what = format!("{kind:?} batch {batch} len {len}");
            check_forward(&what, &l, batch, &x, |x| reference(kind, x));
            check_input_grad(&what, &l, batch, &x, 77 + k as u64, |x| reference(kind, x));
        }
    }
}

/// The piecewise-linear functions are exact in f32: the forward equals the f64 definition bit
/// for bit (rounded back to f32).
#[test]
fn piecewise_linear_forward_is_exact() {
    let mut rng = SplitMix64::new(3);
    let x = rng.f32_vec(200, -10.0, 10.0);
    for kind in [
        ActivationKind::Relu,
        ActivationKind::Relu6,
        ActivationKind::LeakyRelu { alpha: 0.25 },
    ] {
        let l = layer(kind, 50);
        let mut y = vec![f32::NAN; 200];
        l.forward(4, &x, &mut y).unwrap();
        let r = reference(kind, &x.iter().map(|&v| v as f64).collect::<Vec<_>>());
        for (&y, &r) in y.iter().zip(&r) {
            assert_eq!(y, r as f32, "{kind:?}");
        }
    }
}

/// GELU and its derivative over the tails `[-10, 10]` (where `x φ(x)` and `Φ(x)` under- or
/// saturate), and softmax with large inputs (max subtraction keeps it finite).
#[test]
fn gelu_tails_and_large_softmax_inputs_match_f64() {
    let x: Vec<f32> = (0..=80).map(|i| -10.0 + 0.25 * i as f32 + 0.0123).collect();
    let l = layer(ActivationKind::Gelu, x.len());
    check_forward("gelu tails", &l, 1, &x, |x| {
        reference(ActivationKind::Gelu, x)
    });
    check_input_grad("gelu tails", &l, 1, &x, 5, |x| {
        reference(ActivationKind::Gelu, x)
    });
    let kind = ActivationKind::Softmax { depth: 5 };
    let x = [
        80.0, 81.0, 79.5, -40.0, 80.2, -200.0, -201.0, -199.0, -200.5, -202.0,
    ];
    let l = layer(kind, 10);
    check_forward("softmax large", &l, 1, &x, |x| reference(kind, x));
    check_input_grad("softmax large", &l, 1, &x, 6, |x| reference(kind, x));
}

/// The derivative at the kinks is a convention; these are the documented ones: ReLU 0 at 0,
/// ReLU6 0 at 0 and at 6, leaky ReLU 1 at 0 (the forward takes the `x >= 0` branch there).
#[test]
fn derivative_conventions_at_kinks() {
    let x = [0.0, 6.0, -0.0, 1e-30];
    let g = [1.0f32; 4];
    let grad = |kind| {
        let l = layer(kind, 4);
        let mut y = [0.0; 4];
        l.forward(1, &x, &mut y).unwrap();
        let mut gi = [f32::NAN; 4];
        l.backward(1, &x, &y, &[], &g, Some(&mut gi), None).unwrap();
        gi
    };
    assert_eq!(grad(ActivationKind::Relu), [0.0, 1.0, 0.0, 1.0]);
    assert_eq!(grad(ActivationKind::Relu6), [0.0, 0.0, 0.0, 1.0]);
    assert_eq!(
        grad(ActivationKind::LeakyRelu { alpha: 0.2 }),
        [1.0, 1.0, 1.0, 1.0]
    );
}

#[test]
fn nan_input_gives_nan_output_and_gradient() {
    for kind in KINDS {
        let len = 12;
        let mut x = [0.5f32; 12];
        x[3] = f32::NAN;
        let l = layer(kind, len);
        let mut y = [0.0; 12];
        l.forward(1, &x, &mut y).unwrap();
        assert!(y[3].is_nan(), "{kind:?}: {y:?}");
        let mut gi = [0.0; 12];
        l.backward(1, &x, &y, &[], &[1.0; 12], Some(&mut gi), None)
            .unwrap();
        assert!(gi[3].is_nan(), "{kind:?}: {gi:?}");
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let init = |kind, len| ActivationConfig { kind, len }.init().map(|_| ());
    let dim = Err(Error::Shape(ShapeError::Dimension));
    assert_eq!(init(ActivationKind::Relu, 0), dim);
    assert_eq!(init(ActivationKind::Softmax { depth: 0 }, 4), dim);
    assert_eq!(
        init(ActivationKind::Softmax { depth: 5 }, 12),
        Err(Error::Shape(ShapeError::Parameter))
    );
    assert_eq!(init(ActivationKind::Softmax { depth: 4 }, 12), Ok(()));
    for alpha in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(
            init(ActivationKind::LeakyRelu { alpha }, 4),
            Err(Error::Config)
        );
    }
}

fn length(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn wrong_lengths_are_reported_and_nothing_is_written() {
    for kind in KINDS {
        let l = layer(kind, 12);
        let (batch, n) = (2, 24);
        let x = vec![0.5f32; n];
        let mut y = vec![7.0f32; n];
        assert_eq!(
            l.forward(0, &x, &mut y),
            Err(Error::Shape(ShapeError::Dimension))
        );
        assert_eq!(
            l.forward(batch, &x[..n - 1], &mut y),
            Err(length(Buffer::Input, n, n - 1))
        );
        assert_eq!(
            l.forward(batch, &x, &mut y[..n - 1]),
            Err(length(Buffer::Output, n, n - 1))
        );
        assert!(
            y.iter().all(|&v| v == 7.0),
            "{kind:?}: forward wrote on error"
        );

        let g = vec![1.0f32; n];
        let mut gi = vec![7.0f32; n];
        let bad = [
            (
                length(Buffer::Input, n, n - 1),
                &x[1..],
                &y[..],
                &[][..],
                &g[..],
            ),
            (
                length(Buffer::Output, n, n - 1),
                &x[..],
                &y[1..],
                &[][..],
                &g[..],
            ),
            (
                length(Buffer::Cache, 0, 1),
                &x[..],
                &y[..],
                &[0.0][..],
                &g[..],
            ),
            (
                length(Buffer::GradOutput, n, n - 1),
                &x[..],
                &y[..],
                &[][..],
                &g[1..],
            ),
        ];
        for (err, x, y, cache, g) in bad {
            assert_eq!(
                l.backward(batch, x, y, cache, g, Some(&mut gi), None),
                Err(err)
            );
        }
        assert_eq!(
            l.backward(batch, &x, &y, &[], &g, Some(&mut gi[1..]), None),
            Err(length(Buffer::GradInput, n, n - 1))
        );
        assert_eq!(
            l.backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut [0.0])),
            Err(length(Buffer::GradParams, 0, 1))
        );
        assert!(
            gi.iter().all(|&v| v == 7.0),
            "{kind:?}: backward wrote on error"
        );
        assert_eq!(l.backward(batch, &x, &y, &[], &g, None, None), Ok(()));
    }
}

/// Backward overwrites the input gradient: a second call gives the same values, not twice them.
#[test]
fn backward_overwrites_grad_input() {
    for kind in KINDS {
        let l = layer(kind, 12);
        let mut rng = SplitMix64::new(11);
        let x = values_away_from(&mut rng, 24, -4.0, 8.0, &[0.0, 6.0]);
        let g = rng.f32_vec(24, -1.0, 1.0);
        let mut y = vec![0.0; 24];
        l.forward(2, &x, &mut y).unwrap();
        let mut first = vec![0.0; 24];
        l.backward(2, &x, &y, &[], &g, Some(&mut first), None)
            .unwrap();
        let mut second = first.clone();
        l.backward(2, &x, &y, &[], &g, Some(&mut second), None)
            .unwrap();
        assert_eq!(first, second, "{kind:?}");
    }
}
