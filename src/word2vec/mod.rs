//! word2vec: dense word vectors learned by skip-gram, with negative sampling (SGNS, the default)
//! or hierarchical softmax, over caller-owned buffers, as in Mikolov et al.'s `word2vec.c`.
//!
//! Words are ids `0..vocab`; the host builds the vocabulary (words with at least a minimum
//! count, sorted by descending count) and passes the counts. The pieces:
//!
//! - [`Word2Vec`]: the word (input) vectors `[vocab, dim]` and context (output) vectors, the
//!   updates for one (centre, context) pair ([`Word2Vec::update_negative`],
//!   [`Word2Vec::update_hierarchical`]) and skip-gram over a sentence
//!   ([`Word2Vec::train_sentence`]: frequent-word subsampling, a dynamic window);
//! - [`NegativeTable`]: negatives drawn from the unigram distribution raised to 0.75;
//! - [`HuffmanTree`]: the hierarchical softmax's tree, the older alternative (`word2vec.c`'s
//!   `-hs 1`): one sigmoid per tree level instead of `1 + negative`, better for rare words on big
//!   corpora, worse vectors for frequent ones; SGNS is the default as in `word2vec.c`;
//! - [`Subsampler`] and [`Schedule`]: keep probabilities and the learning-rate decay;
//! - queries on any `[vocab, dim]` table, in RAM or in flash: [`cosine`], [`most_similar`],
//!   [`analogy`] (`a − b + c`).
//!
//! # The update (skip-gram with negative sampling)
//!
//! For centre word `c` and each target `t`, the context word (label 1) and `negative` words
//! drawn from the table (label 0; a negative equal to the context word is skipped):
//! `f = in[c]·out[t]`, `g = α·(label − σ(f))` with σ taken as 0 below −6 and 1 above 6,
//! `e += g·out[t]`, `out[t] += g·in[c]`; then `in[c] += e`. That is one step of gradient descent
//! of `−ln σ(in[c]·out[ctx]) − Σ ln σ(−in[c]·out[neg])` with step `α`.
//!
//! # Memory
//!
//! Training needs the word vectors and the context vectors (`4·vocab·dim` bytes each; the
//! hierarchical softmax's node vectors are `4·(vocab − 1)·dim`), `4·dim` bytes of scratch, the
//! negative table (`4·len`, any `len`; `word2vec.c` uses 10⁸ entries, a few per word are enough
//! for small vocabularies) or the tree (`4·(2·vocab − 1)`), the counts the [`Subsampler`]
//! reads (`8·vocab`), and a buffer of `4·n` bytes for the words kept of a sentence of `n` words
//! (besides the sentence itself). For example 200 words of 16 dimensions with a 1,024-entry
//! table and sentences of up to 20 words: 12,800 + 12,800 + 64 + 4,096 + 1,600 + 80 bytes.
//! [`Word2VecConfig::training_bytes`] adds it up. Queries need none of it: a table in flash is
//! enough.

mod huffman;
mod query;
mod schedule;
mod sentence;
mod sgns;
mod subsample;
mod table;

pub use huffman::{HuffmanTree, Path};
pub use query::{analogy, cosine, most_similar, Neighbor};
pub use schedule::Schedule;
pub use sentence::{SentenceStats, Targets};
pub use sgns::Word2Vec;
pub use subsample::Subsampler;
pub use table::NegativeTable;

use crate::error::{product, Error, ShapeError};

/// Which output layer the skip-gram model predicts its context words with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Objective {
    /// Skip-gram with negative sampling (the default): the context word against `negative`
    /// words drawn from a [`NegativeTable`]; context vectors `[vocab, dim]`.
    NegativeSampling,
    /// Hierarchical softmax over a [`HuffmanTree`] of the word counts (the older alternative):
    /// node vectors `[vocab − 1, dim]`.
    HierarchicalSoftmax,
}

/// The hyper-parameters of a [`Word2Vec`] model (`word2vec.c`'s names in brackets).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Word2VecConfig {
    /// Number of words; ids are `0..vocab`, sorted by descending count (id 0 most frequent).
    pub vocab: usize,
    /// Length of each vector (`-size`, default 100 in `word2vec.c`).
    pub dim: usize,
    /// Largest window (`-window`, 5): for each centre word the window is drawn from
    /// `1..=window`, so near words count more.
    pub window: usize,
    /// Negative samples per context word (`-negative`, 5); ignored by the hierarchical softmax.
    pub negative: usize,
    /// Subsampling threshold (`-sample`, 1e-3): see [`Subsampler`]; 0 keeps every word.
    pub sample: f32,
    /// Initial learning rate (`-alpha`, 0.025 for skip-gram).
    pub alpha: f32,
    /// The output layer (`-hs 0 -negative 5` by default).
    pub objective: Objective,
}

impl Word2VecConfig {
    /// `word2vec.c`'s skip-gram defaults for `vocab` words of `dim` dimensions: window 5,
    /// negative 5, sample 1e-3, alpha 0.025, negative sampling.
    pub const fn new(vocab: usize, dim: usize) -> Self {
        Word2VecConfig {
            vocab,
            dim,
            window: 5,
            negative: 5,
            sample: 1e-3,
            alpha: 0.025,
            objective: Objective::NegativeSampling,
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `vocab` or `dim` is 0, the hierarchical softmax has fewer
    /// than 2 words, or a size overflows; [`Error::Config`] if `window` is 0, `alpha` is not
    /// finite and positive, or `sample` is not finite and non-negative.
    pub fn validate(&self) -> Result<(), Error> {
        if self.vocab == 0 || self.dim == 0 {
            return Err(ShapeError::Dimension.into());
        }
        if self.objective == Objective::HierarchicalSoftmax && self.vocab < 2 {
            return Err(ShapeError::Dimension.into());
        }
        if self.window == 0
            || !(self.alpha.is_finite() && self.alpha > 0.0)
            || !(self.sample.is_finite() && self.sample >= 0.0)
        {
            return Err(Error::Config);
        }
        self.output_len().map(|_| ())
    }

    /// Length of the word vectors, `vocab · dim`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn input_len(&self) -> Result<usize, Error> {
        Ok(product(&[self.vocab, self.dim])?)
    }

    /// Bytes of RAM training needs, as the [module docs](self) count them: the word and
    /// context vectors, `dim` floats of scratch, the negative table of `table_len` entries (for
    /// the hierarchical softmax instead the tree, `4·(2·vocab − 1)`; `table_len` is then
    /// ignored), the subsampler's counts (`8·vocab`) and the kept-words buffer for sentences of
    /// up to `max_sentence` words. Not counted: the sentence itself, and the Huffman tree's
    /// build scratch ([`HuffmanTree::work_len`] `u64`s, needed only while building).
    /// Saturates instead of overflowing.
    pub const fn training_bytes(&self, table_len: usize, max_sentence: usize) -> usize {
        let rows = match self.objective {
            Objective::NegativeSampling => self.vocab,
            Objective::HierarchicalSoftmax => self.vocab.saturating_sub(1),
        };
        let lookup = match self.objective {
            Objective::NegativeSampling => table_len,
            Objective::HierarchicalSoftmax => HuffmanTree::tree_len(self.vocab),
        };
        let floats = self
            .vocab
            .saturating_add(rows)
            .saturating_mul(self.dim)
            .saturating_add(self.dim);
        floats
            .saturating_add(lookup)
            .saturating_add(max_sentence)
            .saturating_mul(4)
            .saturating_add(self.vocab.saturating_mul(8))
    }

    /// Length of the context vectors: `vocab · dim` for negative sampling, `(vocab − 1) · dim`
    /// (one per inner node of the tree) for the hierarchical softmax.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn output_len(&self) -> Result<usize, Error> {
        let rows = match self.objective {
            Objective::NegativeSampling => self.vocab,
            Objective::HierarchicalSoftmax => self.vocab.saturating_sub(1),
        };
        Ok(product(&[rows, self.dim])?)
    }
}

/// `word2vec.c`'s `MAX_EXP`: beyond it σ is taken as saturated.
const MAX_EXP: f32 = 6.0;

/// What an update needs of a score `f`, from one `exp` and one `ln`.
#[derive(Clone, Copy, Debug)]
struct Score {
    /// `σ(f)` as `word2vec.c`'s table gives it: 0 below −6, 1 above 6.
    clipped: f32,
    /// `−ln σ(f)`, the loss of a positive target.
    loss_positive: f32,
    /// `−ln σ(−f)`, the loss of a negative target.
    loss_negative: f32,
}

impl Score {
    /// With `e = exp(−|f|)`: `σ(f)` is `1/(1 + e)` or `e/(1 + e)`, and
    /// `−ln σ(±f) = max(∓f, 0) + ln(1 + e)`, with no overflow for any `f`.
    #[inline]
    fn of(f: f32) -> Self {
        let abs = if f < 0.0 { -f } else { f };
        let e = crate::num::math::exp(-abs);
        let sigma = if f >= 0.0 {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        let clipped = if f > MAX_EXP {
            1.0
        } else if f < -MAX_EXP {
            0.0
        } else {
            sigma
        };
        let l = crate::num::math::ln(1.0 + e);
        Score {
            clipped,
            loss_positive: if f < 0.0 { l - f } else { l },
            loss_negative: if f > 0.0 { l + f } else { l },
        }
    }
}

#[cfg(test)]
mod tests;
