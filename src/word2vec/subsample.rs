//! Frequent-word subsampling.

use crate::rng::{uniform_f32, RngCore};

/// Discards frequent words at random, as `word2vec.c` does: word `w` with count `c` out of
/// `N` words is kept with probability `√(s·N/c) + s·N/c` (1 or more for words rarer than about
/// `s·N·2.6`), `s` the threshold (`1e-3` by default, `1e-5` for large corpora).
#[derive(Clone, Copy, Debug)]
pub struct Subsampler<'a> {
    counts: &'a [u64],
    /// `s · N`.
    threshold: f32,
}

impl<'a> Subsampler<'a> {
    /// Subsampling of the words counted in `counts` (word id → count) with threshold `sample`;
    /// a threshold of 0 (or a non-finite or negative one) keeps every word.
    pub fn new(counts: &'a [u64], sample: f32) -> Self {
        let total: u64 = counts.iter().fold(0u64, |s, &c| s.saturating_add(c));
        let threshold = if sample.is_finite() && sample > 0.0 {
            (sample as f64 * total as f64) as f32
        } else {
            0.0
        };
        Subsampler { counts, threshold }
    }

    /// The probability of keeping `word` (above 1 means always; 1 for ids without a count and
    /// words counted 0, so unknown words are never dropped here).
    pub fn keep_probability(&self, word: u32) -> f32 {
        let count = self.counts.get(word as usize).copied().unwrap_or(0);
        if self.threshold <= 0.0 || count == 0 {
            return 1.0;
        }
        let ratio = self.threshold / count as f32;
        crate::num::math::sqrt(ratio) + ratio
    }

    /// Whether to keep this occurrence of `word`. Draws one number from `rng` when the
    /// probability is below 1 and none otherwise.
    pub fn keep<R: RngCore + ?Sized>(&self, word: u32, rng: &mut R) -> bool {
        let p = self.keep_probability(word);
        p >= 1.0 || uniform_f32(rng) < p
    }
}
