//! Comparison helpers shared by the on-target kernel tests.

use defmt::assert;
use tinytune::kernels::{ActivationF32, ActivationS8};
use tinytune::num::quant::Requantizer;

/// Room for the per-channel requantizers of every case.
pub const MAX_CHANNELS: usize = 16;

/// Builds the requantizers of a case from its `(multiplier, shift)` columns.
pub fn requants(m: &[i32], s: &[i32]) -> ([Requantizer; MAX_CHANNELS], usize) {
    let mut out = [Requantizer::ZERO; MAX_CHANNELS];
    for (slot, (&multiplier, &shift)) in out.iter_mut().zip(m.iter().zip(s)) {
        *slot = Requantizer { multiplier, shift };
    }
    (out, m.len())
}

/// The clamp of an int8 case.
pub fn act_s8(min: i8, max: i8) -> ActivationS8 {
    ActivationS8 { min, max }
}

/// The clamp of an f32 case.
pub fn act_f32(min: f32, max: f32) -> ActivationF32 {
    ActivationF32 { min, max }
}

/// `None` for an empty bias column.
pub fn bias<T>(b: &[T]) -> Option<&[T]> {
    (!b.is_empty()).then_some(b)
}

/// int8 outputs must equal the reference bit for bit.
pub fn exact<T: PartialEq + defmt::Format>(got: &[T], want: &[T]) {
    assert!(got.len() == want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g == w, "element {}: got {}, want {}", i, g, w);
    }
}

/// f32 outputs must be within `1e-5 * (1 + magnitude)` of the f64 reference, the bound of the
/// host tests (an f32 sum of n <= 150 products errs by at most `(n + 1) * 2^-24 * magnitude`).
pub fn close(got: &[f32], want: &[f32], magnitude: &[f32]) {
    assert!(got.len() == want.len() && want.len() == magnitude.len());
    for i in 0..got.len() {
        let err = (got[i] - want[i]).abs();
        assert!(
            err <= 1e-5 * (1.0 + magnitude[i]),
            "element {}: got {}, want {}",
            i,
            got[i],
            want[i]
        );
    }
}
