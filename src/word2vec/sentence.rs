//! Skip-gram over a sentence: subsampling, the dynamic window, the updates.

use super::{HuffmanTree, NegativeTable, Objective, Subsampler, Word2Vec};
use crate::error::{Buffer, Error, ShapeError};
use crate::rng::RngCore;

/// Where the targets of an update come from: a [`NegativeTable`] for negative sampling, a
/// [`HuffmanTree`] for the hierarchical softmax (it must match the model's objective).
#[derive(Clone, Copy, Debug)]
pub enum Targets<'s, 't> {
    /// Negatives drawn from the table.
    Negative(&'s NegativeTable<'t>),
    /// The context word's path in the tree.
    Hierarchical(&'s HuffmanTree<'t>),
}

/// What one [`Word2Vec::train_sentence`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SentenceStats {
    /// Words kept after subsampling.
    pub words: usize,
    /// (centre, context) pairs updated.
    pub pairs: usize,
    /// Sum of the pairs' losses before their updates (see [`Word2Vec::update_negative`]).
    pub loss: f32,
}

impl Word2Vec<'_> {
    /// Skip-gram over one sentence of word ids, as `word2vec.c` does it: each word is first kept
    /// or dropped by `subsample` (none: every word kept); then for each kept word, the centre,
    /// a window `b` is drawn from `1..=window` and each kept word up to `b` positions before or
    /// after it is a context word, updated with `targets` ([`update_negative`](Self::update_negative)
    /// with `negative` words drawn from the table, or
    /// [`update_hierarchical`](Self::update_hierarchical)) at learning rate `alpha`.
    ///
    /// Randomness, in order: one draw per word for subsampling (only for words whose keep
    /// probability is below 1), one per centre word for its window, one per negative.
    ///
    /// # Shapes
    /// - `sentence`: `[n]` word ids
    /// - `kept`: at least `[n]`: receives the words kept, in order
    ///
    /// # Errors
    /// [`Error::Index`] with the position in `sentence` of the first id outside `0..vocab`;
    /// [`ShapeError::Length`] with [`Buffer::Scratch`] if `kept` is shorter than `sentence`;
    /// [`Error::Config`] if `targets` does not match the model's objective or `alpha` is not
    /// finite. Nothing is changed on error.
    pub fn train_sentence<R: RngCore + ?Sized>(
        &mut self,
        sentence: &[u32],
        kept: &mut [u32],
        targets: Targets<'_, '_>,
        subsample: Option<&Subsampler<'_>>,
        alpha: f32,
        rng: &mut R,
    ) -> Result<SentenceStats, Error> {
        let config = *self.config();
        match (targets, config.objective) {
            (Targets::Negative(_), Objective::NegativeSampling) => {}
            (Targets::Hierarchical(tree), Objective::HierarchicalSoftmax)
                if tree.vocab() == config.vocab => {}
            _ => return Err(Error::Config),
        }
        if !alpha.is_finite() {
            return Err(Error::Config);
        }
        if let Some(position) = sentence.iter().position(|&w| w as usize >= config.vocab) {
            return Err(Error::Index {
                position,
                len: config.vocab,
            });
        }
        if kept.len() < sentence.len() {
            return Err(ShapeError::Length {
                buffer: Buffer::Scratch,
                expected: sentence.len(),
                actual: kept.len(),
            }
            .into());
        }

        let mut n = 0;
        for &w in sentence {
            if subsample.is_none_or(|s| s.keep(w, rng)) {
                if let Some(slot) = kept.get_mut(n) {
                    *slot = w;
                    n += 1;
                }
            }
        }
        let words = kept.get(..n).unwrap_or(&[]);

        let mut stats = SentenceStats {
            words: n,
            ..SentenceStats::default()
        };
        for (i, &center) in words.iter().enumerate() {
            let b = 1 + (rng.next_u32() as usize % config.window);
            let start = i.saturating_sub(b);
            let end = i.saturating_add(b).min(n - 1);
            for j in start..=end {
                if j == i {
                    continue;
                }
                let Some(&context) = words.get(j) else {
                    continue;
                };
                let loss = match targets {
                    Targets::Negative(table) => {
                        self.update_drawn(center, context, table, alpha, rng)
                    }
                    Targets::Hierarchical(tree) => {
                        self.update_hierarchical(center, context, tree, alpha)?
                    }
                };
                stats.pairs += 1;
                stats.loss += loss;
            }
        }
        Ok(stats)
    }

    /// [`update_negative`](Self::update_negative) with `negative` words drawn from `table`
    /// one at a time (no buffer for them); the ids were checked.
    fn update_drawn<R: RngCore + ?Sized>(
        &mut self,
        center: u32,
        context: u32,
        table: &NegativeTable<'_>,
        alpha: f32,
        rng: &mut R,
    ) -> f32 {
        let negative = self.config().negative;
        let vocab = self.config().vocab as u32;
        let mut loss = self.begin_pair(center, context, alpha);
        for _ in 0..negative {
            let n = table.sample(rng);
            // A table built from more counts than the model has words could give an id past
            // the vocabulary: skipped, like a negative equal to the context word.
            if n != context && n < vocab {
                loss += self.negative_target(center, n, alpha);
            }
        }
        self.finish_pair(center);
        loss
    }
}
