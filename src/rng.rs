//! Randomness: the seeded generator used where a board has no hardware RNG, and the two
//! distributions the core draws from (uniform and normal `f32`).
//!
//! Everything random in tinytune (weight initialisation, dropout masks, augmentation, sampling)
//! takes `&mut impl RngCore` from [`rand_core`] 0.6, the version the board HALs' hardware RNGs
//! implement, so a hardware RNG plugs in directly. [`SeededRng`] gives runs that are reproducible
//! from a seed, bit for bit on host and device.
//!
//! The distributions are written here rather than taken from `rand_distr`: they are two short
//! functions over [`num::math`](crate::num::math), where `rand_distr`'s ziggurat tables would cost
//! kilobytes of flash and pull in `rand` and `num-traits`.

pub use rand_core::{RngCore, SeedableRng};

/// The seeded generator: xoshiro128++ (32-bit state words, fast on every core, passes BigCrush),
/// from the `rand_xoshiro` crate. Seed it with [`SeedableRng::seed_from_u64`].
pub type SeededRng = rand_xoshiro::Xoshiro128PlusPlus;

/// A uniform sample in `[0, 1)` with 24 random bits (every representable multiple of 2^-24).
#[inline]
pub fn uniform_f32<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    // The top 24 bits: an f32 mantissa holds them exactly, so the result is never rounded up to 1.
    (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// A uniform sample in `[low, high)`. With `low == high` the result is `low`.
#[inline]
pub fn uniform_range_f32<R: RngCore + ?Sized>(rng: &mut R, low: f32, high: f32) -> f32 {
    low + (high - low) * uniform_f32(rng)
}

/// A standard normal sample (mean 0, variance 1) by the Box–Muller transform.
///
/// Uses two uniform draws per sample (the second Box–Muller value is discarded so the function
/// has no hidden state). The uniform in the logarithm is taken from `(0, 1]`, so the result is
/// always finite: at most `sqrt(-2 ln 2^-24) ≈ 5.77` in magnitude.
pub fn normal_f32<R: RngCore + ?Sized>(rng: &mut R) -> f32 {
    let u1 = 1.0 - uniform_f32(rng); // (0, 1]: ln never sees zero
    let u2 = uniform_f32(rng);
    let radius = crate::num::math::sqrt(-2.0 * crate::num::math::ln(u1));
    radius * crate::num::math::cos(core::f32::consts::TAU * u2)
}

/// A Bernoulli sample: `true` with probability `p` (clamped to `[0, 1]`; NaN counts as 0).
#[inline]
pub fn bernoulli<R: RngCore + ?Sized>(rng: &mut R, p: f32) -> bool {
    uniform_f32(rng) < p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_in_unit_interval_with_mean_one_half() {
        let mut rng = SeededRng::seed_from_u64(1);
        let n = 100_000;
        let mut sum = 0.0f64;
        for _ in 0..n {
            let u = uniform_f32(&mut rng);
            assert!((0.0..1.0).contains(&u));
            sum += u as f64;
        }
        // Standard error of the mean is sqrt(1/12 / n) ≈ 9.1e-4; 5 sigma.
        assert!((sum / n as f64 - 0.5).abs() < 4.6e-3);
    }

    #[test]
    fn normal_has_zero_mean_and_unit_variance() {
        let mut rng = SeededRng::seed_from_u64(2);
        let n = 100_000;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let x = normal_f32(&mut rng) as f64;
            assert!(x.is_finite());
            s1 += x;
            s2 += x * x;
        }
        let mean = s1 / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // Standard errors: mean 1/sqrt(n) ≈ 3.2e-3, variance sqrt(2/n) ≈ 4.5e-3; 5 sigma.
        assert!(mean.abs() < 0.016, "mean {mean}");
        assert!((var - 1.0).abs() < 0.023, "variance {var}");
    }

    #[test]
    fn seeded_generator_is_reproducible() {
        let mut a = SeededRng::seed_from_u64(7);
        let mut b = SeededRng::seed_from_u64(7);
        for _ in 0..100 {
            assert_eq!(a.next_u32(), b.next_u32());
        }
    }
}
