//! The training loop: the core's skip-gram trainer over every sentence of every epoch, one
//! seeded generator, the learning rate decayed linearly over all words.

use std::time::Instant;

use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::word2vec::{
    HuffmanTree, NegativeTable, Objective, Schedule, Subsampler, Targets, Word2Vec, Word2VecConfig,
};

use super::corpus::Sentences;
use super::vocab::Vocab;
use crate::app::AppError;

/// Entries of the negative-sampling table: 100 per word, at least 10⁶ (so even a small
/// vocabulary gets a fine-grained unigram^0.75 distribution) and at most word2vec.c's 10⁸
/// (400 MB).
pub fn table_len(vocab: usize) -> usize {
    vocab.saturating_mul(100).clamp(1_000_000, 100_000_000)
}

/// The training settings (the flags).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Vector dimension.
    pub dim: usize,
    /// Largest window.
    pub window: usize,
    /// Negatives per context word.
    pub negative: usize,
    /// Subsampling threshold (0: off).
    pub sample: f32,
    /// Initial learning rate.
    pub alpha: f32,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Negative sampling or hierarchical softmax.
    pub objective: Objective,
    /// Seed of the one generator everything random draws from.
    pub seed: u64,
}

/// The trained vectors and the run's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Trained {
    /// Word (input) vectors `[vocab, dim]`.
    pub input: Vec<f32>,
    /// Context vectors `[vocab, dim]` (negative sampling) or the tree's node vectors
    /// `[vocab − 1, dim]` (hierarchical softmax).
    pub output: Vec<f32>,
    /// Words processed over all epochs (before subsampling): `epochs · train words`.
    pub words: u64,
    /// Words trained on after subsampling, over all epochs.
    pub kept_words: u64,
    /// Mean loss per (centre, context) pair in the last epoch.
    pub last_epoch_loss: f64,
    /// Pairs in the last epoch.
    pub last_epoch_pairs: u64,
    /// Learning rate at the end.
    pub final_alpha: f32,
    /// Wall-clock seconds of the training loop (vocabulary and files excluded).
    pub seconds: f64,
}

/// Trains on `sentences` (ids of `vocab`), calling `progress(words done, alpha, epoch)` after
/// each sentence.
///
/// # Errors
/// A message with the core's error if it rejects the configuration or a buffer.
pub fn train(
    vocab: &Vocab,
    sentences: &Sentences,
    s: &Settings,
    mut progress: impl FnMut(u64, f32, usize),
) -> Result<Trained, AppError> {
    let core = |what: &str| {
        let what = what.to_string();
        move |e: tinytune::Error| AppError::new(format!("word2vec: {what}: {e}"))
    };
    let config = Word2VecConfig {
        vocab: vocab.len(),
        dim: s.dim,
        window: s.window,
        negative: s.negative,
        sample: s.sample,
        alpha: s.alpha,
        objective: s.objective,
    };
    if s.objective == Objective::HierarchicalSoftmax && vocab.len() < 2 {
        return Err(AppError::new(format!(
            "--hs needs at least 2 words in the vocabulary (a Huffman tree), found {}",
            vocab.len()
        )));
    }
    config.validate().map_err(core("configuration"))?;
    let mut input = vec![0.0f32; config.input_len().map_err(core("word vectors"))?];
    let mut output = vec![0.0f32; config.output_len().map_err(core("context vectors"))?];
    let mut scratch = vec![0.0f32; s.dim];
    let counts = vocab.counts();
    // The table or the tree; the other stays empty.
    let mut table_buf = Vec::new();
    let mut tree_buf = Vec::new();
    let table;
    let tree;
    let targets = match s.objective {
        Objective::NegativeSampling => {
            table_buf.resize(table_len(vocab.len()), 0u32);
            table = NegativeTable::build(counts, &mut table_buf).map_err(core("negative table"))?;
            Targets::Negative(&table)
        }
        Objective::HierarchicalSoftmax => {
            let mut work = vec![0u64; HuffmanTree::work_len(vocab.len())];
            tree_buf.resize(HuffmanTree::tree_len(vocab.len()), 0u32);
            tree = HuffmanTree::build(counts, &mut work, &mut tree_buf)
                .map_err(core("Huffman tree"))?;
            Targets::Hierarchical(&tree)
        }
    };
    let subsampler = Subsampler::new(counts, s.sample);
    let subsample = (s.sample > 0.0).then_some(&subsampler);
    let longest = sentences.iter().map(<[u32]>::len).max().unwrap_or(0);
    let mut kept = vec![0u32; longest];
    let mut rng = SeededRng::seed_from_u64(s.seed);
    let mut model =
        Word2Vec::new(config, &mut input, &mut output, &mut scratch).map_err(core("model"))?;
    model.init(&mut rng);

    let schedule = Schedule {
        alpha0: s.alpha,
        total_words: vocab.train_words().saturating_mul(s.epochs as u64),
    };
    let start = Instant::now();
    let mut done = 0u64;
    let mut kept_words = 0u64;
    let (mut loss, mut pairs) = (0f64, 0u64);
    let mut alpha = s.alpha;
    for epoch in 1..=s.epochs {
        (loss, pairs) = (0.0, 0);
        for sentence in sentences.iter() {
            alpha = schedule.alpha(done);
            let stats = model
                .train_sentence(sentence, &mut kept, targets, subsample, alpha, &mut rng)
                .map_err(core("training"))?;
            done += sentence.len() as u64;
            kept_words += stats.words as u64;
            pairs += stats.pairs as u64;
            loss += f64::from(stats.loss);
            progress(done, alpha, epoch);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Trained {
        input,
        output,
        words: done,
        kept_words,
        last_epoch_loss: if pairs == 0 { 0.0 } else { loss / pairs as f64 },
        last_epoch_pairs: pairs,
        final_alpha: alpha,
        seconds,
    })
}
