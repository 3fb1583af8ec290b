//! `tinytune word2vec`: word vectors trained by skip-gram with negative sampling (or
//! hierarchical softmax) on a text corpus, with the core's [`tinytune::word2vec`] trainer.
//!
//! The pieces: the flags ([`args`]), reading the corpus into sentences of word ids
//! ([`corpus`]), the vocabulary ([`vocab`]), the training loop ([`train`]) with its progress bar
//! ([`progress`]), and the output files: the word2vec text format and the vocabulary
//! ([`text_format`]), the vectors as a `.ttm` Embedding layer ([`embedding`]).
//!
//! Single-threaded and reproducible: everything random draws from one generator seeded with
//! `--seed`, so the same flags give byte-identical files.

pub mod args;
pub mod corpus;
pub mod embedding;
pub mod progress;
pub mod text_format;
pub mod train;
pub mod vocab;

use serde_json::json;
use tinytune::word2vec::Objective;

pub use args::Word2vecArgs;

use super::report::{print_json, write_file};
use super::AppError;
use corpus::{Sentences, MAX_SENTENCE};
use progress::WordBar;
use train::{Settings, Trained};
use vocab::{Vocab, VocabError};

/// Runs `word2vec`.
///
/// # Errors
/// An unreadable or non-UTF-8 corpus (naming the file and line), no word reaching
/// `--min-count`, `--save-context` with `--hs`, or an output file that cannot be written.
pub fn run(args: &Word2vecArgs) -> Result<(), AppError> {
    if args.hs && args.save_context.is_some() {
        return Err(AppError {
            message: "--save-context cannot be used with --hs: hierarchical softmax has no \
                      context vector per word (its output vectors are the vocab − 1 inner \
                      nodes of the Huffman tree); train with negative sampling to save them"
                .into(),
            exit_code: 2,
        });
    }
    let text = corpus::read(&args.corpus)?;
    let vocab = build_vocab(&text, args)?;
    let sentences = Sentences::encode(&text, &vocab, MAX_SENTENCE);
    drop(text);
    let settings = Settings {
        dim: args.dim,
        window: args.window,
        negative: args.negative,
        sample: args.sample,
        alpha: args.alpha,
        epochs: args.epochs,
        objective: if args.hs {
            Objective::HierarchicalSoftmax
        } else {
            Objective::NegativeSampling
        },
        seed: args.seed,
    };
    let total = vocab.train_words().saturating_mul(args.epochs as u64);
    let mut bar = WordBar::new(total, args.epochs);
    let trained = train::train(&vocab, &sentences, &settings, |done, alpha, epoch| {
        bar.update(done, alpha, epoch);
    });
    bar.finish();
    let trained = trained?;
    write_outputs(args, &vocab, &trained)?;
    summary(args, &vocab, &trained);
    Ok(())
}

/// The vocabulary of `text` with `--min-count`, or a message saying why there is none.
fn build_vocab(text: &str, args: &Word2vecArgs) -> Result<Vocab, AppError> {
    let min_count = args.min_count as u64;
    Vocab::build(corpus::tokens(text))
        .finish(min_count)
        .map_err(|e| {
            let path = args.corpus.display();
            AppError::new(match e {
                VocabError::NoTokens => format!("{path}: the corpus has no words"),
                VocabError::BelowMinCount { min_count, top } => format!(
                    "{path}: empty vocabulary: no word occurs at least {min_count} times \
                     (--min-count {min_count}); the most frequent word, {:?}, occurs {} times",
                    top.word, top.count
                ),
                VocabError::TooLarge(n) => {
                    format!("{path}: {n} distinct words, more than 2^32 ids")
                }
            })
        })
}

/// Writes `--out` and the optional files.
fn write_outputs(args: &Word2vecArgs, vocab: &Vocab, trained: &Trained) -> Result<(), AppError> {
    let dim = args.dim;
    text_format::write_to(&args.out, |w| {
        text_format::write_vectors(w, vocab.words(), &trained.input, dim)
    })?;
    if let Some(path) = &args.save_vocab {
        text_format::write_to(path, |w| {
            text_format::write_vocab(w, vocab.words(), vocab.counts())
        })?;
    }
    if let Some(path) = &args.ttm {
        let bytes = embedding::embedding_ttm(&trained.input, vocab.len(), dim)?;
        write_file(path, &bytes)?;
    }
    if let Some(path) = &args.save_context {
        let bytes = embedding::embedding_ttm(&trained.output, vocab.len(), dim)?;
        write_file(path, &bytes)?;
    }
    Ok(())
}

/// The one-line summary on stdout (and the JSON line with `--json`).
fn summary(args: &Word2vecArgs, vocab: &Vocab, t: &Trained) {
    let per_second = if t.seconds > 0.0 {
        t.words as f64 / t.seconds
    } else {
        0.0
    };
    let loss = if t.last_epoch_pairs == 0 {
        // Possible on a tiny corpus: subsampling can drop every word of every sentence.
        "no pairs trained in the last epoch (try --sample 0)".to_string()
    } else {
        format!("mean loss per pair {:.4} (last epoch)", t.last_epoch_loss)
    };
    println!(
        "word2vec: vocab {} words, {} train words, {} epochs, {:.2} s, {:.0} words/s, \
         {loss}; wrote {}",
        vocab.len(),
        vocab.train_words(),
        args.epochs,
        t.seconds,
        per_second,
        args.out.display()
    );
    if args.json {
        print_json(&json!({
            "vocab": vocab.len(),
            "train_words": vocab.train_words(),
            "epochs": args.epochs,
            "dim": args.dim,
            "words": t.words,
            "kept_words": t.kept_words,
            "seconds": t.seconds,
            "words_per_second": per_second,
            "mean_loss": t.last_epoch_loss,
            "pairs": t.last_epoch_pairs,
            "final_alpha": t.final_alpha,
        }));
    }
}
