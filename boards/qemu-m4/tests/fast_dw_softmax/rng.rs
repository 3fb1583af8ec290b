//! Deterministic test data: a fixed-seed linear congruential generator.

/// Numerical Recipes' LCG; the top bits are the values.
pub struct Lcg(pub u32);

impl Lcg {
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 8) % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u32) as usize
    }

    pub fn i8(&mut self) -> i8 {
        (self.next() >> 24) as i8
    }

    /// int8 values with one in four at an extreme (-128 or 127).
    pub fn i8_extreme(&mut self) -> i8 {
        match self.below(8) {
            0 => i8::MIN,
            1 => i8::MAX,
            _ => self.i8(),
        }
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }
}
