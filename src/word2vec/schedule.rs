//! The learning-rate schedule of `word2vec.c`: linear decay to a floor.

/// Linear decay of the learning rate over the whole run:
/// `α = α₀ · (1 − done / (total + 1))`, never below `α₀ · 10⁻⁴`.
///
/// `total` is every word the run will see, `epochs · train_words` (before subsampling, as
/// `word2vec.c` counts them); `done` those seen so far.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Schedule {
    /// The initial learning rate α₀.
    pub alpha0: f32,
    /// Words in the whole run.
    pub total_words: u64,
}

impl Schedule {
    /// The floor as a fraction of α₀.
    pub const FLOOR: f32 = 1e-4;

    /// The learning rate after `words_done` words.
    pub fn alpha(&self, words_done: u64) -> f32 {
        let progress = words_done as f64 / (self.total_words as f64 + 1.0);
        let alpha = self.alpha0 as f64 * (1.0 - progress);
        let floor = self.alpha0 as f64 * Self::FLOOR as f64;
        if alpha < floor {
            floor as f32
        } else {
            alpha as f32
        }
    }
}
