//! The flags of `tinytune word2vec`.

use std::path::PathBuf;

use clap::Args;

use crate::app::arch::{parse_l2, parse_lr, parse_positive_usize, parse_usize};

/// Flags of `tinytune word2vec`.
#[derive(Clone, Debug, Args)]
pub struct Word2vecArgs {
    /// The corpus: UTF-8 text, one sentence per line, words separated by whitespace and taken
    /// as they are (case and punctuation kept).
    #[arg(long, value_name = "FILE.txt")]
    pub corpus: PathBuf,
    /// The word vectors in the word2vec text format (`<count> <dim>`, then `word v1 … vdim` per
    /// line, words in vocabulary order).
    #[arg(long, value_name = "FILE.txt")]
    pub out: PathBuf,
    /// Dimension of the vectors.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = parse_positive_usize)]
    pub dim: usize,
    /// Largest context window: for each centre word the window is drawn from 1..=N.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_positive_usize)]
    pub window: usize,
    /// Negative samples per context word (skip-gram with negative sampling).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_positive_usize,
          conflicts_with = "hs")]
    pub negative: usize,
    /// Passes over the corpus.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_positive_usize)]
    pub epochs: usize,
    /// Words occurring fewer times are left out of the vocabulary and of the sentences.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = parse_usize)]
    pub min_count: usize,
    /// Subsampling threshold of frequent words (a word of frequency f is kept with probability
    /// √(s/f) + s/f); 0 keeps every word.
    #[arg(long, value_name = "S", default_value_t = 1e-3, value_parser = parse_l2)]
    pub sample: f32,
    /// Initial learning rate; it decays linearly to 0.0001 of it over all epochs.
    #[arg(long, value_name = "X", default_value_t = 0.025, value_parser = parse_lr)]
    pub alpha: f32,
    /// Seed of the initialisation, the windows, the subsampling and the negatives: the same
    /// seed gives byte-identical files.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Hierarchical softmax over a Huffman tree of the counts instead of negative sampling
    /// (the older alternative; no `--negative`, no `--save-context`).
    #[arg(long)]
    pub hs: bool,
    /// Also write the vectors as a `.ttm` model: one f32 Embedding layer (vocab, dim,
    /// seq_len 1), rows in vocabulary order.
    #[arg(long, value_name = "FILE.ttm")]
    pub ttm: Option<PathBuf>,
    /// Also write the vocabulary, one `word count` line per word in id order (word2vec.c's
    /// `-save-vocab` format).
    #[arg(long, value_name = "FILE.txt")]
    pub save_vocab: Option<PathBuf>,
    /// Also write the context (output) vectors as a `.ttm` Embedding layer, which training
    /// continued on the device needs (negative sampling only).
    #[arg(long, value_name = "FILE.ttm")]
    pub save_context: Option<PathBuf>,
    /// Print one JSON object with the figures as the last line of stdout.
    #[arg(long)]
    pub json: bool,
}
