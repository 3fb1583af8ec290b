//! Error bounds of `num::math`, measured against f64 references computed by std (and by libm's
//! f64 `erf`, a different algorithm from the f32 one under test), over the domains stated in
//! the docs. The same tests run with and without `fast-math`; each asserts its variant's bound.

use super::*;

/// A deterministic table of inputs: a uniform grid over `[lo, hi]` plus pseudo-random points.
fn table(lo: f32, hi: f32) -> Vec<f32> {
    let n = 20_000;
    let mut v: Vec<f32> = (0..=n)
        .map(|i| lo + (hi - lo) * (i as f32 / n as f32))
        .collect();
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let u = (s >> 40) as f32 / (1u64 << 24) as f32;
        v.push(lo + (hi - lo) * u);
    }
    v.retain(|x| *x >= lo && *x <= hi);
    v
}

/// Positive finite f32 across the whole exponent range, subnormals included, from random bits.
fn positive_table() -> Vec<f32> {
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v = vec![f32::MIN_POSITIVE, f32::MAX, 1.0, 1e-45, 0.5, 2.0];
    for _ in 0..50_000 {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let bits = ((s >> 32) as u32) % 0x7f80_0000;
        if bits != 0 {
            v.push(f32::from_bits(bits));
        }
    }
    // and densely around 1, where ln cancels
    v.extend(table(0.5, 2.0));
    v
}

fn max_rel(xs: &[f32], f: impl Fn(f32) -> f32, r: impl Fn(f64) -> f64) -> (f64, f32) {
    xs.iter()
        .map(|&x| {
            let want = r(x as f64);
            let got = f(x) as f64;
            let err = if want == 0.0 {
                got.abs()
            } else {
                ((got - want) / want).abs()
            };
            (err, x)
        })
        .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

fn max_abs(xs: &[f32], f: impl Fn(f32) -> f32, r: impl Fn(f64) -> f64) -> (f64, f32) {
    xs.iter()
        .map(|&x| ((f(x) as f64 - r(x as f64)).abs(), x))
        .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

/// `(libm bound, fast-math bound)` -> the one that applies to this build.
fn bound(libm: f64, fast: f64) -> f64 {
    if cfg!(feature = "fast-math") {
        fast
    } else {
        libm
    }
}

fn check(name: &str, (err, at): (f64, f32), limit: f64) {
    println!("{name}: max error {err:.3e} at {at:e} (bound {limit:.1e})");
    assert!(
        err <= limit,
        "{name}: error {err:e} at x = {at:e} exceeds {limit:e}"
    );
}

#[test]
fn exp_bound() {
    let xs = table(-87.0, 88.0);
    check("exp", max_rel(&xs, exp, f64::exp), bound(1.2e-7, 3e-7));
    let small = table(-1.0, 1.0);
    check(
        "exp small",
        max_rel(&small, exp, f64::exp),
        bound(1.2e-7, 3e-7),
    );
}

#[test]
fn ln_bound() {
    check(
        "ln",
        max_rel(&positive_table(), ln, f64::ln),
        bound(1.2e-7, 3e-7),
    );
}

#[test]
fn sqrt_bound() {
    check(
        "sqrt",
        max_rel(&positive_table(), sqrt, f64::sqrt),
        bound(6e-8, 1.2e-7),
    );
}

#[test]
fn tanh_bound() {
    let xs = table(-12.0, 12.0);
    check("tanh", max_abs(&xs, tanh, f64::tanh), bound(1.2e-7, 2.5e-7));
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn sigmoid_bound() {
    let xs = table(-100.0, 100.0);
    check(
        "sigmoid",
        max_abs(&xs, sigmoid, sigmoid64),
        bound(1.2e-7, 1.2e-7),
    );
}

#[test]
fn erf_bound() {
    let xs = table(-6.0, 6.0);
    check("erf", max_abs(&xs, erf, libm::erf), bound(1.2e-7, 4e-7));
}

fn gelu64(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x / core::f64::consts::SQRT_2))
}

fn gelu_tanh64(x: f64) -> f64 {
    let k = (2.0 / core::f64::consts::PI).sqrt();
    0.5 * x * (1.0 + (k * (x + 0.044_715 * x * x * x)).tanh())
}

#[test]
fn gelu_bounds() {
    let xs = table(-10.0, 10.0);
    check("gelu", max_abs(&xs, gelu, gelu64), bound(1e-6, 1e-6));
    check(
        "gelu_tanh",
        max_abs(&xs, gelu_tanh, gelu_tanh64),
        bound(1e-6, 1e-6),
    );
}

#[test]
fn special_values() {
    let inf = f32::INFINITY;
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-inf), 0.0);
    assert_eq!(exp(inf), inf);
    assert_eq!(exp(89.0), inf);
    assert_eq!(exp(-104.0), 0.0);
    assert!(exp(f32::NAN).is_nan());
    assert_eq!(ln(1.0), 0.0);
    assert_eq!(ln(0.0), -inf);
    assert_eq!(ln(-0.0), -inf);
    assert_eq!(ln(inf), inf);
    assert!(ln(-1.0).is_nan());
    assert!(ln(-inf).is_nan());
    assert!(ln(f32::NAN).is_nan());
    assert_eq!(sqrt(0.0), 0.0);
    assert!(sqrt(-0.0) == 0.0 && sqrt(-0.0).is_sign_negative());
    assert_eq!(sqrt(4.0), 2.0);
    assert_eq!(sqrt(inf), inf);
    assert!(sqrt(-1.0).is_nan());
    assert!(sqrt(f32::NAN).is_nan());
    assert_eq!(tanh(0.0), 0.0);
    assert_eq!(tanh(inf), 1.0);
    assert_eq!(tanh(-inf), -1.0);
    assert_eq!(tanh(1e30), 1.0);
    assert!(tanh(f32::NAN).is_nan());
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(inf), 1.0);
    assert_eq!(sigmoid(-inf), 0.0);
    assert_eq!(sigmoid(f32::MAX), 1.0);
    assert_eq!(sigmoid(-f32::MAX), 0.0);
    assert!(sigmoid(f32::NAN).is_nan());
    assert_eq!(erf(0.0), 0.0);
    assert_eq!(erf(inf), 1.0);
    assert_eq!(erf(-inf), -1.0);
    assert!(erf(f32::NAN).is_nan());
    for g in [gelu, gelu_tanh] {
        assert_eq!(g(0.0), 0.0);
        assert_eq!(g(inf), inf);
        let m = g(-inf);
        assert!(m == 0.0 && m.is_sign_negative());
        assert_eq!(g(-1e30), 0.0);
        assert_eq!(g(1e30), 1e30);
        assert!(g(f32::NAN).is_nan());
    }
}

/// Why the `fast-math` build does not call micromath for these: its errors, measured the same
/// way, are orders of magnitude above the bounds above.
#[cfg(feature = "fast-math")]
#[test]
fn micromath_is_too_coarse() {
    use micromath::F32;
    let (e, _) = max_rel(&table(-20.0, 20.0), |x| F32(x).exp().0, f64::exp);
    let (l, _) = max_abs(&table(0.01, 100.0), |x| F32(x).ln().0, f64::ln);
    let (s, _) = max_rel(&table(0.01, 100.0), |x| F32(x).sqrt().0, f64::sqrt);
    println!("micromath: exp rel {e:.2e}, ln abs {l:.2e}, sqrt rel {s:.2e}");
    assert!(e > 1e-4 && l > 1e-5 && s > 1e-2);
}

#[test]
fn cos_bound() {
    let tau = core::f32::consts::TAU;
    check("cos", max_abs(&table(-tau, tau), cos, f64::cos), 1.2e-7);
}
