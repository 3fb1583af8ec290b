//! The negative-sampling table: word ids repeated in proportion to `count^0.75`.

use crate::error::{Buffer, Error, ShapeError};
use crate::rng::RngCore;

/// Negatives for skip-gram, drawn from the unigram distribution raised to the power 0.75
/// (`word2vec.c`'s `InitUnigramTable`): a table in which word `w` fills a share
/// `count[w]^0.75 / Σ count^0.75` of the entries, sampled uniformly. The power flattens the
/// distribution, so rare words are drawn more often than their frequency.
///
/// The table may be any length: more entries give probabilities closer to the exact ones (a
/// word's share is rounded to whole entries). `word2vec.c` uses 10⁸; a few entries per word
/// suffice for a small vocabulary on a device.
#[derive(Clone, Copy, Debug)]
pub struct NegativeTable<'a> {
    table: &'a [u32],
}

impl<'a> NegativeTable<'a> {
    /// The exponent of the unigram distribution.
    pub const POWER: f64 = 0.75;

    /// Fills `table` from the word counts (`counts[w]` for word id `w`).
    ///
    /// # Errors
    /// [`ShapeError::Length`] with [`Buffer::Table`] if `table` is empty;
    /// [`ShapeError::Dimension`] if `counts` is empty or has more than `u32::MAX` words;
    /// [`Error::Config`] if every count is 0. Nothing is written on error.
    pub fn build(counts: &[u64], table: &'a mut [u32]) -> Result<Self, Error> {
        if table.is_empty() {
            return Err(ShapeError::Length {
                buffer: Buffer::Table,
                expected: 1,
                actual: 0,
            }
            .into());
        }
        if counts.is_empty() || u32::try_from(counts.len()).is_err() {
            return Err(ShapeError::Dimension.into());
        }
        let total: f64 = counts.iter().map(|&c| weight(c)).sum();
        if total <= 0.0 {
            return Err(Error::Config);
        }
        // The inverse of the cumulative distribution at each entry's midpoint (as
        // InitUnigramTable, which walks the words while walking the table). A word of count 0
        // has no share, so it gets no entry; nor do words after the last counted one, whatever
        // the rounding of the sum.
        let last = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        let len = table.len() as f64;
        let mut word = 0usize;
        let mut cumulative = counts.first().map_or(0.0, |&c| weight(c)) / total;
        for (a, entry) in table.iter_mut().enumerate() {
            let position = (a as f64 + 0.5) / len;
            while position > cumulative && word < last {
                word += 1;
                cumulative += counts.get(word).map_or(0.0, |&c| weight(c)) / total;
            }
            *entry = word as u32;
        }
        Ok(NegativeTable { table })
    }

    /// A word drawn from the table (one `u32` from `rng`).
    #[inline]
    pub fn sample<R: RngCore + ?Sized>(&self, rng: &mut R) -> u32 {
        // Multiply-shift maps the 32 random bits onto the table without a division.
        let i = ((rng.next_u32() as u64 * self.table.len() as u64) >> 32) as usize;
        self.table.get(i).copied().unwrap_or(0)
    }

    /// The table's entries.
    pub fn entries(&self) -> &[u32] {
        self.table
    }
}

/// `count^0.75`.
fn weight(count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        libm::pow(count as f64, NegativeTable::POWER)
    }
}
