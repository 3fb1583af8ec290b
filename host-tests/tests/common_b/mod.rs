//! Helpers shared by the tests of the parameterless layers (pooling, activation, reshape,
//! dropout): f64 reference forwards written independently of the library, random data, and the
//! forward and gradient checks every layer goes through.
// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use tinytune::layers::Layer;
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::rng::SplitMix64;

/// Output length and padding before along one axis, straight from TensorFlow's definition:
/// `Valid`: `floor((len - window) / stride) + 1`; `Same`: `ceil(len / stride)` outputs, total
/// padding `max(0, (out - 1) * stride + window - len)`, the smaller half before.
pub fn axis_ref(len: usize, window: usize, stride: usize, same: bool) -> Option<(usize, usize)> {
    if same {
        let out = len.div_ceil(stride);
        let total = ((out - 1) * stride + window).saturating_sub(len);
        Some((out, total / 2))
    } else if window > len {
        None
    } else {
        Some(((len - window) / stride + 1, 0))
    }
}

/// A 2-D pooling problem for the f64 reference.
#[derive(Clone, Copy, Debug)]
pub struct PoolRef {
    pub max: bool,
    pub batch: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub window: (usize, usize),
    pub stride: (usize, usize),
    pub same: bool,
}

impl PoolRef {
    /// `(out_h, out_w)`, or `None` if the window does not fit (`Valid`).
    pub fn output_hw(&self) -> Option<(usize, usize)> {
        let (oh, _) = axis_ref(self.in_h, self.window.0, self.stride.0, self.same)?;
        let (ow, _) = axis_ref(self.in_w, self.window.1, self.stride.1, self.same)?;
        Some((oh, ow))
    }

    /// f64 pooling over NHWC `x`: every window tap is visited in signed coordinates and taps
    /// outside the input are skipped (padding is not a value).
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let (oh, pt) = axis_ref(self.in_h, self.window.0, self.stride.0, self.same).unwrap();
        let (ow, pl) = axis_ref(self.in_w, self.window.1, self.stride.1, self.same).unwrap();
        let c = self.channels;
        let mut out = Vec::new();
        for b in 0..self.batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..c {
                        let mut taps = Vec::new();
                        for ky in 0..self.window.0 {
                            for kx in 0..self.window.1 {
                                let iy = (oy * self.stride.0 + ky) as isize - pt as isize;
                                let ix = (ox * self.stride.1 + kx) as isize - pl as isize;
                                if iy < 0
                                    || ix < 0
                                    || iy >= self.in_h as isize
                                    || ix >= self.in_w as isize
                                {
                                    continue;
                                }
                                let i = ((b * self.in_h + iy as usize) * self.in_w + ix as usize)
                                    * c
                                    + ch;
                                taps.push(x[i]);
                            }
                        }
                        assert!(!taps.is_empty(), "a window lies entirely in the padding");
                        out.push(if self.max {
                            taps.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                        } else {
                            taps.iter().sum::<f64>() / taps.len() as f64
                        });
                    }
                }
            }
        }
        out
    }
}

/// `n` values centred on 0, pairwise at least 0.04 apart (a shuffled grid of step 0.05 with
/// jitter below 0.01), so a maximum never changes under the finite-difference step and there
/// are no ties.
pub fn distinct_values(rng: &mut SplitMix64, n: usize) -> Vec<f32> {
    let mut v: Vec<f64> = (0..n)
        .map(|i| 0.05 * (i as f64 - n as f64 / 2.0) + rng.uniform(0.0, 0.01))
        .collect();
    for i in (1..n).rev() {
        let j = rng.range_i64(0, i as i64) as usize;
        v.swap(i, j);
    }
    v.into_iter().map(|x| x as f32).collect()
}

/// `n` values uniform in `[lo, hi)` that stay at least `1e-3` away from every point in `kinks`.
pub fn values_away_from(
    rng: &mut SplitMix64,
    n: usize,
    lo: f64,
    hi: f64,
    kinks: &[f64],
) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let x = rng.uniform(lo, hi) as f32;
        if kinks.iter().all(|&k| (x as f64 - k).abs() >= 1e-3) {
            out.push(x);
        }
    }
    out
}

/// Checks the layer's f32 forward against the f64 reference: `|y - r| <= 1e-5 * max(|r|, 1)`.
pub fn check_forward<L: Layer>(
    what: &str,
    layer: &L,
    batch: usize,
    x: &[f32],
    reference: impl Fn(&[f64]) -> Vec<f64>,
) {
    let mut y = vec![f32::NAN; batch * layer.output_len()];
    layer.forward(batch, x, &mut y).unwrap();
    let r = reference(&to_f64(x));
    assert_eq!(y.len(), r.len(), "{what}: output length");
    for (i, (&y, &r)) in y.iter().zip(&r).enumerate() {
        let err = (y as f64 - r).abs();
        assert!(
            err <= 1e-5 * r.abs().max(1.0),
            "{what}[{i}]: f32 {y} vs f64 {r} (error {err:.2e})"
        );
    }
}

/// Runs forward, then backward with a random upstream gradient `g`, and compares the input
/// gradient with central differences of `Σ g ⊙ reference(x)` (relative error ≤ 1e-3). The input
/// gradient buffer starts as NaN, so an element backward does not write fails the check.
/// Returns the analytic gradient.
pub fn check_input_grad<L: Layer>(
    what: &str,
    layer: &L,
    batch: usize,
    x: &[f32],
    seed: u64,
    reference: impl Fn(&[f64]) -> Vec<f64>,
) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let n_out = batch * layer.output_len();
    let g = rng.f32_vec(n_out, -1.0, 1.0);
    let mut y = vec![0.0; n_out];
    layer.forward(batch, x, &mut y).unwrap();
    let mut gi = vec![f32::NAN; x.len()];
    layer
        .backward(batch, x, &y, &[], &g, Some(&mut gi), None)
        .unwrap();
    let numeric = numeric_grad(&to_f64(x), |xx| weighted_sum(&g, &reference(xx)));
    assert_close(what, &gi, &numeric);
    gi
}
