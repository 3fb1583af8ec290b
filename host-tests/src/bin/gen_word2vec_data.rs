//! Writes the data of the M4F's word2vec showcase into `boards/common/data/`: word vectors
//! trained with skip-gram and negative sampling (the core's `tinytune::word2vec`, seed 0) on
//! sentences of the seeded generator with planted topics (`tinytune_board_common::
//! word2vec_corpus`, seed [`CORPUS_SEED`]):
//!
//! - `word2vec.ttm`: the word vectors as one f32 Embedding op `[vocab, dim]` (sequence length
//!   1), the table the device looks words up in, in place in flash;
//! - `word2vec-context.ttm`: the context vectors in the same form, which the device needs to
//!   keep training;
//! - `word2vec-vocab.txt`: the vocabulary as `word2vec.c -save-vocab` writes it, `word count`
//!   per line in id order (descending count).
//!
//! The loop is `word2vec.c`'s: one generator for initialisation and training, the unigram^0.75
//! table over the counts, subsampling with threshold 1e-3, the learning rate decaying linearly
//! over all epochs' words, one `train_sentence` per sentence.
use std::fmt::Write as _;
use std::path::Path;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::word2vec::{NegativeTable, Schedule, Subsampler, Targets, Word2Vec, Word2VecConfig};
use tinytune_board_common::word2vec_corpus::{Generator, MAX_SENTENCE, NAMES, WORDS};
use tinytune_cli::model::{OwnedModel, OwnedOp};

/// The generator's seed for the training sentences.
const CORPUS_SEED: u64 = 1;
/// Sentences in the training corpus.
const SENTENCES: usize = 3000;
/// The seed of initialisation and training.
const SEED: u64 = 0;
/// Vector length.
const DIM: usize = 16;
/// Passes over the corpus.
const EPOCHS: usize = 5;
/// Entries of the negative-sampling table.
const TABLE: usize = 1 << 16;

fn ttm(vocab: usize, table: &[f32]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let config = EmbeddingConfig {
        vocab,
        dim: DIM,
        seq_len: 1,
    };
    let model = OwnedModel::new(vec![OwnedOp::Embedding(config, table.to_vec())]);
    Ok(tinytune_cli::ttm::encode(&model, None, 0, &[]).map_err(|e| e.to_string())?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("boards/common/data");

    // The corpus, in generator ids, and the counts.
    let mut gen = Generator::new(CORPUS_SEED);
    let mut corpus: Vec<Vec<u32>> = Vec::with_capacity(SENTENCES);
    let mut buf = [0u32; MAX_SENTENCE];
    for _ in 0..SENTENCES {
        let n = gen.sentence(&mut buf);
        corpus.push(buf[..n].to_vec());
    }
    let mut gen_counts = [0u64; WORDS];
    for &w in corpus.iter().flatten() {
        gen_counts[w as usize] += 1;
    }
    assert!(gen_counts.iter().all(|&c| c > 0), "a word never occurs");

    // The vocabulary: descending count, ties by generator id (a stable sort).
    let mut order: Vec<usize> = (0..WORDS).collect();
    order.sort_by(|&a, &b| gen_counts[b].cmp(&gen_counts[a]));
    let mut id_of = [0u32; WORDS];
    for (id, &g) in order.iter().enumerate() {
        id_of[g] = id as u32;
    }
    let counts: Vec<u64> = order.iter().map(|&g| gen_counts[g]).collect();
    let sentences: Vec<Vec<u32>> = corpus
        .iter()
        .map(|s| s.iter().map(|&w| id_of[w as usize]).collect())
        .collect();
    let train_words: u64 = counts.iter().sum();

    let config = Word2VecConfig::new(WORDS, DIM);
    let (mut input, mut output, mut scratch) = (
        vec![0f32; WORDS * DIM],
        vec![0f32; WORDS * DIM],
        [0f32; DIM],
    );
    let mut model =
        Word2Vec::new(config, &mut input, &mut output, &mut scratch).map_err(|e| e.to_string())?;
    let mut rng = SeededRng::seed_from_u64(SEED);
    model.init(&mut rng);
    let mut table_buf = vec![0u32; TABLE];
    let table = NegativeTable::build(&counts, &mut table_buf).map_err(|e| e.to_string())?;
    let subsampler = Subsampler::new(&counts, config.sample);
    let schedule = Schedule {
        alpha0: config.alpha,
        total_words: EPOCHS as u64 * train_words,
    };
    let mut kept = [0u32; MAX_SENTENCE];
    let mut done = 0u64;
    for epoch in 0..EPOCHS {
        let (mut loss, mut pairs) = (0f64, 0usize);
        for s in &sentences {
            let alpha = schedule.alpha(done);
            let stats = model
                .train_sentence(
                    s,
                    &mut kept,
                    Targets::Negative(&table),
                    Some(&subsampler),
                    alpha,
                    &mut rng,
                )
                .map_err(|e| e.to_string())?;
            loss += f64::from(stats.loss);
            pairs += stats.pairs;
            done += s.len() as u64;
        }
        println!(
            "epoch {}: {pairs} pairs, mean loss {:.4}",
            epoch + 1,
            loss / pairs.max(1) as f64
        );
    }

    std::fs::write(out.join("word2vec.ttm"), ttm(WORDS, &input)?)?;
    std::fs::write(out.join("word2vec-context.ttm"), ttm(WORDS, &output)?)?;
    let mut vocab = String::new();
    for &g in &order {
        let _ = writeln!(vocab, "{} {}", NAMES[g], gen_counts[g]);
    }
    std::fs::write(out.join("word2vec-vocab.txt"), vocab)?;
    println!(
        "wrote word2vec.ttm, word2vec-context.ttm and word2vec-vocab.txt ({WORDS} words, {train_words} corpus words, dim {DIM}) to boards/common/data"
    );
    Ok(())
}
