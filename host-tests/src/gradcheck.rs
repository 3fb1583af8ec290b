//! Finite-difference gradient checks in f64.
//!
//! A layer's backward pass (f32) is compared with central differences of an **independent f64
//! re-implementation** of its forward pass (from `reference`), so neither the function under test
//! nor f32 rounding enters the numeric gradient. The scalar checked is `L = Σ g ⊙ y` for a fixed
//! random `g` (the upstream gradient), so `dL/dy = g` and every output contributes.

/// Step of the central difference. With f64 and O(1) values the truncation error (~h²) and the
/// rounding error (~1e-16 / h) are both far below the 1e-3 tolerance.
pub const STEP: f64 = 1e-6;

/// Relative tolerance of [`assert_close`].
pub const REL_TOL: f64 = 1e-3;

/// `Σ g ⊙ y` in f64.
pub fn weighted_sum(g: &[f32], y: &[f64]) -> f64 {
    assert_eq!(g.len(), y.len(), "weighted_sum: length mismatch");
    g.iter().zip(y).map(|(&g, &y)| g as f64 * y).sum()
}

/// Central differences `(f(x + h e_i) - f(x - h e_i)) / 2h` of a scalar function of `x`, for
/// every coordinate.
pub fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let orig = probe[i];
            probe[i] = orig + STEP;
            let plus = f(&probe);
            probe[i] = orig - STEP;
            let minus = f(&probe);
            probe[i] = orig;
            (plus - minus) / (2.0 * STEP)
        })
        .collect()
}

/// Widens an f32 slice.
pub fn to_f64(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// Asserts that every analytic gradient element matches the numeric one within a relative error
/// of [`REL_TOL`]: `|a - n| <= REL_TOL * max(|n|, floor)`, where the floor, `1e-2 * max|n|` (at
/// least 1e-6), keeps elements that are zero up to rounding from demanding an exact match.
pub fn assert_close(what: &str, analytic: &[f32], numeric: &[f64]) {
    assert_eq!(
        analytic.len(),
        numeric.len(),
        "{what}: gradient lengths differ"
    );
    let max_abs = numeric.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (1e-2 * max_abs).max(1e-6);
    for (i, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        let err = (a as f64 - n).abs();
        let scale = n.abs().max(floor);
        assert!(
            err <= REL_TOL * scale,
            "{what}[{i}]: analytic {a} vs numeric {n} (relative error {:.2e}, max |grad| {max_abs:.3e})",
            err / scale
        );
    }
}
