//! Checks shared by the tests of the linear layers (dense, conv1d, conv2d, depthwise conv2d).
//!
//! The reference for every layer is its list of taps from `reference::linear` (written from the
//! TensorFlow definitions, independently of tinytune's kernels), evaluated here in f64. Gradients
//! are compared with central differences of that f64 forward of `L = Σ g ⊙ y`.

#![allow(dead_code)] // each test binary uses a subset

use tinytune::layers::Layer;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::{FanMode, Init};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::reference::linear::{eval_f64, within_tolerance, Tap};
use tinytune_host_tests::rng::SplitMix64;

/// `y = bias[channel] + Σ x * w` over the taps, in f64, padded inputs being 0.
pub fn forward_f64(taps: &[Tap], x: &[f64], w: &[f64], bias: Option<&[f64]>) -> Vec<f64> {
    taps.iter()
        .map(|tap| {
            let b = bias.map_or(0.0, |b| b[tap.channel]);
            tap.pairs
                .iter()
                .fold(b, |acc, &(i, wi)| acc + i.map_or(0.0, |i| x[i]) * w[wi])
        })
        .collect()
}

/// Compares analytic gradients with central differences of the f64 reference forward of
/// `L = Σ g ⊙ y` with respect to the input, the weights and (if any) the bias.
#[allow(clippy::too_many_arguments)]
pub fn check_gradients(
    what: &str,
    taps: &[Tap],
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    g: &[f32],
    grad_input: &[f32],
    grad_weights: &[f32],
    grad_bias: Option<&[f32]>,
) {
    let (x64, w64) = (to_f64(x), to_f64(w));
    let b64 = bias.map(to_f64);
    let num_x = numeric_grad(&x64, |x| {
        weighted_sum(g, &forward_f64(taps, x, &w64, b64.as_deref()))
    });
    assert_close(&format!("{what}: dL/dinput"), grad_input, &num_x);
    let num_w = numeric_grad(&w64, |w| {
        weighted_sum(g, &forward_f64(taps, &x64, w, b64.as_deref()))
    });
    assert_close(&format!("{what}: dL/dweights"), grad_weights, &num_w);
    match (b64.as_deref(), grad_bias) {
        (Some(b64), Some(grad_bias)) => {
            let num_b = numeric_grad(b64, |b| {
                weighted_sum(g, &forward_f64(taps, &x64, &w64, Some(b)))
            });
            assert_close(&format!("{what}: dL/dbias"), grad_bias, &num_b);
        }
        (None, None) => {}
        _ => panic!("{what}: bias and bias gradient disagree"),
    }
}

/// Runs a trainable layer forward and backward on random data and checks:
///
/// - its per-sample lengths against the taps (so its geometry is the reference's);
/// - the f32 forward against the f64 reference (`|y - ref| <= 1e-5 (1 + Σ|terms|)`);
/// - input, weight and bias gradients against central differences (relative 1e-3);
/// - that `grad_input` is overwritten (it starts at 1e3, which would show in the comparison);
/// - that computing only the input or only the parameter gradients gives identical values;
/// - that a second call adds into `grad_params` (result within 1e-5 of twice the first).
pub fn check_layer<L: Layer>(
    what: &str,
    layer: &L,
    batch: usize,
    taps: &[Tap],
    weights_len: usize,
    rng: &mut SplitMix64,
) {
    assert_eq!(
        layer.output_len() * batch,
        taps.len(),
        "{what}: output length"
    );
    let n_in = layer.input_len() * batch;
    let n_out = layer.output_len() * batch;
    let x = rng.f32_vec(n_in, -1.0, 1.0);
    let g = rng.f32_vec(n_out, -1.0, 1.0);
    let (w, b) = layer.params().split_at(weights_len);
    let bias = (!b.is_empty()).then_some(b);

    let mut y = vec![f32::NAN; n_out];
    layer.forward(batch, &x, &mut y).unwrap();
    let want = eval_f64(taps, &x, w, bias, f32::NEG_INFINITY, f32::INFINITY);
    for (i, (&got, want)) in y.iter().zip(&want).enumerate() {
        assert!(
            within_tolerance(got, want),
            "{what}: output[{i}] = {got}, reference {}",
            want.value
        );
    }

    let mut gi = vec![1e3f32; n_in];
    let mut gp = vec![0.0f32; layer.param_len()];
    layer
        .backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp))
        .unwrap();
    let (gw, gb) = gp.split_at(weights_len);
    let gb = (!gb.is_empty()).then_some(gb);
    check_gradients(what, taps, &x, w, bias, &g, &gi, gw, gb);

    let mut gi_only = vec![-7.0f32; n_in];
    layer
        .backward(batch, &x, &y, &[], &g, Some(&mut gi_only), None)
        .unwrap();
    assert_eq!(gi_only, gi, "{what}: input gradient alone");
    let mut gp_only = vec![0.0f32; layer.param_len()];
    layer
        .backward(batch, &x, &y, &[], &g, None, Some(&mut gp_only))
        .unwrap();
    assert_eq!(gp_only, gp, "{what}: parameter gradients alone");

    let first = gp.clone();
    layer
        .backward(batch, &x, &y, &[], &g, None, Some(&mut gp))
        .unwrap();
    let max = first.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for (i, (&twice, &once)) in gp.iter().zip(&first).enumerate() {
        assert!(
            (twice - 2.0 * once).abs() <= 1e-5 * (2.0 * max + 1e-6),
            "{what}: grad_params[{i}] after two calls {twice}, once {once}"
        );
    }
}

/// Checks the error paths of `forward` and `backward` of a trainable layer with batch 2: each
/// wrong buffer is named, and no output buffer is written on error.
pub fn check_errors<L: Layer>(layer: &L) {
    let batch = 2;
    let (n_in, n_out, n_p) = (
        layer.input_len() * batch,
        layer.output_len() * batch,
        layer.param_len(),
    );
    let x = vec![0.5f32; n_in];
    let mut y = vec![9.0f32; n_out];
    let len = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(
        layer.forward(0, &[], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        layer.forward(batch, &x[1..], &mut y),
        len(Buffer::Input, n_in, n_in - 1)
    );
    assert_eq!(
        layer.forward(batch, &x, &mut y[1..]),
        len(Buffer::Output, n_out, n_out - 1)
    );
    assert!(y.iter().all(|&v| v == 9.0), "output written on error");

    let g = vec![1.0f32; n_out];
    let mut gi = vec![9.0f32; n_in];
    let mut gp = vec![9.0f32; n_p];
    let untouched = |gi: &[f32], gp: &[f32]| {
        assert!(gi.iter().all(|&v| v == 9.0), "grad_input written on error");
        assert!(gp.iter().all(|&v| v == 9.0), "grad_params written on error");
    };
    assert_eq!(
        layer.backward(batch, &x, &y, &[0.0], &g, Some(&mut gi), Some(&mut gp)),
        len(Buffer::Cache, 0, 1)
    );
    assert_eq!(
        layer.backward(batch, &x, &y, &[], &g[1..], Some(&mut gi), Some(&mut gp)),
        len(Buffer::GradOutput, n_out, n_out - 1)
    );
    assert_eq!(
        layer.backward(batch, &x, &y, &[], &g, Some(&mut gi[1..]), Some(&mut gp)),
        len(Buffer::GradInput, n_in, n_in - 1)
    );
    assert_eq!(
        layer.backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp[1..])),
        len(Buffer::GradParams, n_p, n_p - 1)
    );
    assert_eq!(
        layer.backward(batch, &x[1..], &y, &[], &g, Some(&mut gi), Some(&mut gp)),
        len(Buffer::Input, n_in, n_in - 1)
    );
    assert_eq!(
        layer.backward(0, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp)),
        Err(Error::Shape(ShapeError::Dimension))
    );
    untouched(&gi, &gp);
}

/// Checks a layer over frozen parameters against the same layer over trainable ones holding the
/// same values: same forward and input gradient; `grad_params` and `init_params` refuse with
/// [`Error::Frozen`] and write nothing.
pub fn check_frozen<L: Layer>(frozen: &mut L, trainable: &L) {
    assert!(frozen.params_mut().is_none());
    let batch = 2;
    let mut rng = SplitMix64::new(99);
    let x = rng.f32_vec(frozen.input_len() * batch, -1.0, 1.0);
    let g = rng.f32_vec(frozen.output_len() * batch, -1.0, 1.0);
    let mut y_frozen = vec![0.0f32; g.len()];
    let mut y = vec![0.0f32; g.len()];
    frozen.forward(batch, &x, &mut y_frozen).unwrap();
    trainable.forward(batch, &x, &mut y).unwrap();
    assert_eq!(y_frozen, y);

    let mut gi = vec![9.0f32; x.len()];
    let mut gp = vec![9.0f32; frozen.param_len()];
    assert_eq!(
        frozen.backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp)),
        Err(Error::Frozen)
    );
    assert!(gi.iter().chain(&gp).all(|&v| v == 9.0), "written on error");
    frozen
        .backward(batch, &x, &y, &[], &g, Some(&mut gi), None)
        .unwrap();
    let mut gi_trainable = vec![0.0f32; x.len()];
    trainable
        .backward(batch, &x, &y, &[], &g, Some(&mut gi_trainable), None)
        .unwrap();
    assert_eq!(gi, gi_trainable);

    let before = frozen.params().to_vec();
    let mut seeded = SeededRng::seed_from_u64(1);
    assert_eq!(
        frozen.init_params(Init::XavierUniform, &mut seeded),
        Err(Error::Frozen)
    );
    assert_eq!(frozen.params(), &before[..]);
}

/// Checks `init_params` statistically, for every scaled scheme: the weights' sample variance is
/// within 5 standard errors (`5 * sqrt(2 / n)`, relative) of the variance the scheme defines for
/// fans `(fan_in, fan_out)`, written out here from the definitions; the sample mean within 5
/// standard errors of 0; uniform schemes stay within `±sqrt(3 var)`; the bias is all zeros.
/// Callers choose `fan_in` and `fan_out` far enough apart that a layer passing the wrong fans
/// fails. Fixed seed. Also checks an invalid explicit scheme writes nothing.
pub fn check_init<L: Layer>(layer: &mut L, weights_len: usize, fan_in: usize, fan_out: usize) {
    let (fi, fo) = (fan_in as f64, fan_out as f64);
    let schemes = [
        (Init::XavierUniform, 2.0 / (fi + fo), true),
        (Init::XavierNormal, 2.0 / (fi + fo), false),
        (Init::HeUniform(FanMode::FanIn), 2.0 / fi, true),
        (Init::HeUniform(FanMode::FanOut), 2.0 / fo, true),
        (Init::HeNormal(FanMode::FanIn), 2.0 / fi, false),
        (Init::HeNormal(FanMode::FanOut), 2.0 / fo, false),
        (Init::LeCunUniform, 1.0 / fi, true),
        (Init::LeCunNormal, 1.0 / fi, false),
    ];
    let mut rng = SeededRng::seed_from_u64(2024);
    for (init, var, uniform) in schemes {
        layer.params_mut().unwrap().fill(7.0);
        layer.init_params(init, &mut rng).unwrap();
        let (w, b) = layer.params().split_at(weights_len);
        assert!(b.iter().all(|&v| v == 0.0), "{init:?}: bias not zero");
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        let sample_var = w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(
            (sample_var / var - 1.0).abs() <= 5.0 * (2.0 / n).sqrt(),
            "{init:?}: variance {sample_var}, scheme {var}"
        );
        assert!(
            mean.abs() <= 5.0 * (var / n).sqrt(),
            "{init:?}: mean {mean}"
        );
        if uniform {
            let bound = (3.0 * var).sqrt() as f32 * (1.0 + 1e-6);
            assert!(
                w.iter().all(|v| v.abs() <= bound),
                "{init:?}: out of bounds"
            );
        }
    }
    let before = layer.params().to_vec();
    let bad = Init::Uniform {
        low: 1.0,
        high: 0.0,
    };
    assert_eq!(layer.init_params(bad, &mut rng), Err(Error::Config));
    assert_eq!(layer.params(), &before[..], "written on error");
}
