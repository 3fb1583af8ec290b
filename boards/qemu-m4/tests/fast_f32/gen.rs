//! Deterministic inputs and the comparison of the f32 suites.

use defmt::assert;

/// What the generator draws.
#[derive(Clone, Copy)]
pub enum Values {
    /// Finite values of magnitude 2^-8..2^8 and zeros of both signs.
    Moderate,
    /// Also infinities, NaN, subnormals and values near `f32::MAX`.
    Extreme,
}

/// A fixed-seed xorshift32 generator.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(seed | 1)
    }

    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// One value of the kind `values` asks for.
    pub fn value(&mut self, values: Values) -> f32 {
        let r = self.next();
        let sign = r & 0x8000_0000;
        let mantissa = r & 0x007F_FFFF;
        let pick = (r >> 23) & 0x3F;
        let bits = match (values, pick) {
            (_, 0) => sign,
            (Values::Extreme, 1) => sign | 0x7F80_0000,
            (Values::Extreme, 2) => 0x7FC0_0000 | mantissa,
            (Values::Extreme, 3 | 4) => sign | mantissa,
            (Values::Extreme, 5 | 6) => sign | (254 << 23) | mantissa,
            (Values::Extreme, 7 | 8) => sign | (1 << 23) | mantissa,
            // Exponents 2^-8..2^8.
            _ => sign | ((119 + pick % 17) << 23) | mantissa,
        };
        f32::from_bits(bits)
    }

    /// Fills `out` with values of the kind `values` asks for.
    pub fn fill(&mut self, out: &mut [f32], values: Values) {
        for v in out {
            *v = self.value(values);
        }
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

/// `got` must equal `want` bit for bit, a NaN matching any NaN.
pub fn same_bits(got: &[f32], want: &[f32], what: &str) {
    assert!(got.len() == want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{}: element {}: got {=u32:#x}, want {=u32:#x}",
            what,
            i,
            g.to_bits(),
            w.to_bits()
        );
    }
}
