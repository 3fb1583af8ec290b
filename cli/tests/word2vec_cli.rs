//! `tinytune word2vec` end to end: the files it writes (word2vec text format, `.ttm` Embedding
//! layers, the vocabulary), reproducibility from the seed, the minimum count, and the messages
//! of bad input.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{assert_fails, scratch, tinytune, write};
use tinytune::model::{Model, Op};

/// A deterministic corpus of `lines` sentences over two planted topics: words `a0..a9` only
/// ever appear with each other, and so do `b0..b9`; `the` appears everywhere. A tiny linear
/// congruential generator (written here, independent of the crate's) picks the words.
fn topic_corpus(lines: usize) -> String {
    let mut state: u64 = 12345;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut text = String::new();
    for _ in 0..lines {
        let topic = if next() % 2 == 0 { 'a' } else { 'b' };
        let len = 5 + next() % 8;
        let words: Vec<String> = (0..len)
            .map(|_| {
                if next() % 4 == 0 {
                    "the".to_string()
                } else {
                    format!("{topic}{}", next() % 10)
                }
            })
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    text
}

/// Runs `tinytune word2vec --corpus <corpus> --out <out> args…`.
fn word2vec(corpus: &Path, out: &Path, args: &[&str]) -> common::Run {
    let mut all = vec![
        "word2vec".to_string(),
        "--corpus".into(),
        corpus.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    tinytune(&all)
}

/// A parsed word2vec text file: the header and each `(word, vector)` line.
struct Vectors {
    count: usize,
    dim: usize,
    rows: Vec<(String, Vec<f32>)>,
}

/// Parses the word2vec text format strictly: header `<count> <dim>`, then `count` lines of a
/// word and exactly `dim` numbers.
fn read_vectors(path: &Path) -> Vectors {
    let text = std::fs::read_to_string(path).expect("read vectors");
    let mut lines = text.lines();
    let header: Vec<usize> = lines
        .next()
        .expect("header")
        .split(' ')
        .map(|f| f.parse().expect("header number"))
        .collect();
    let [count, dim] = header[..] else {
        panic!("header {header:?}")
    };
    let rows: Vec<(String, Vec<f32>)> = lines
        .map(|line| {
            let mut fields = line.split(' ');
            let word = fields.next().expect("word").to_string();
            let v: Vec<f32> = fields
                .map(|f| f.parse().unwrap_or_else(|_| panic!("{f:?} in {line:?}")))
                .collect();
            assert_eq!(v.len(), dim, "line {line:?}");
            assert!(v.iter().all(|x| x.is_finite()), "line {line:?}");
            (word, v)
        })
        .collect();
    assert_eq!(rows.len(), count, "lines after the header");
    assert!(text.ends_with('\n'));
    Vectors { count, dim, rows }
}

/// Counts of the whitespace-separated tokens of `text` kept with `min_count`, sorted by
/// descending count, ties by first occurrence: the vocabulary order, computed here by hand.
fn expected_vocab(text: &str, min_count: u64) -> Vec<(String, u64)> {
    let mut first: Vec<String> = Vec::new();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in text.split_whitespace() {
        let c = counts.entry(w.to_string()).or_insert(0);
        if *c == 0 {
            first.push(w.to_string());
        }
        *c += 1;
    }
    let mut v: Vec<(String, u64)> = first
        .into_iter()
        .map(|w| {
            let c = counts[&w];
            (w, c)
        })
        .filter(|&(_, c)| c >= min_count)
        .collect();
    v.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    v
}

/// The f32 table of a `.ttm` file holding one Embedding op, with its vocab and dim.
fn read_embedding(path: &Path) -> (usize, usize, Vec<f32>) {
    let bytes = std::fs::read(path).expect("read ttm");
    // Model::from_bytes needs an 8-byte-aligned buffer.
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        *w = u64::from_ne_bytes(b);
    }
    let view = &bytemuck::cast_slice::<u64, u8>(&words)[..bytes.len()];
    let model = Model::from_bytes(view).expect("valid .ttm");
    let ops: Vec<Op<'_>> = model.ops().collect();
    assert_eq!(ops.len(), 1, "one op");
    match ops[0] {
        Op::Embedding(c, table) => {
            assert_eq!(c.seq_len, 1);
            assert_eq!(model.input_len(), 1);
            assert_eq!(model.output_len(), c.dim);
            (c.vocab, c.dim, table.to_vec())
        }
        ref other => panic!("expected an Embedding op, got {other:?}"),
    }
}

/// Every output file of one run: vectors, `.ttm`, vocabulary, context `.ttm`.
fn run_all(dir: &Path, corpus: &Path, name: &str, extra: &[&str]) -> [PathBuf; 4] {
    let files = [
        dir.join(format!("{name}.txt")),
        dir.join(format!("{name}.ttm")),
        dir.join(format!("{name}.vocab")),
        dir.join(format!("{name}-context.ttm")),
    ];
    let mut args = vec![
        "--dim",
        "8",
        "--epochs",
        "2",
        "--min-count",
        "2",
        "--ttm",
        files[1].to_str().expect("path"),
        "--save-vocab",
        files[2].to_str().expect("path"),
        "--save-context",
        files[3].to_str().expect("path"),
    ];
    args.extend_from_slice(extra);
    let run = word2vec(corpus, &files[0], &args);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    files
}

/// The text file has the header `<vocab> <dim>`, one parseable line per word in the order
/// counted by hand (descending count, ties by first occurrence); the vocabulary file lists the
/// same words with their counts.
#[test]
fn text_format_round_trip_in_vocabulary_order() {
    let dir = scratch("w2v-format");
    let text = format!("{}rare once\nx-é y\n", topic_corpus(200));
    let corpus = write(&dir, "corpus.txt", &text);
    let [vectors, _, vocab, _] = run_all(&dir, &corpus, "v", &[]);
    let expected = expected_vocab(&text, 2);
    let v = read_vectors(&vectors);
    assert_eq!((v.count, v.dim), (expected.len(), 8));
    let words: Vec<&str> = v.rows.iter().map(|(w, _)| w.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(words, want);
    assert_eq!(words[0], "the");
    assert!(!words.contains(&"rare") && !words.contains(&"x-é"));
    let vocab_text = std::fs::read_to_string(&vocab).expect("vocab");
    let want_vocab: String = expected.iter().map(|(w, c)| format!("{w} {c}\n")).collect();
    assert_eq!(vocab_text, want_vocab);
    // Trained vectors are not all equal and not all zero.
    assert!(v.rows.iter().any(|(_, r)| r.iter().any(|&x| x != 0.0)));
    assert_ne!(v.rows[0].1, v.rows[1].1);
}

/// The same seed gives byte-identical files; another seed gives other vectors.
#[test]
fn same_seed_same_bytes_other_seed_other_vectors() {
    let dir = scratch("w2v-seed");
    let corpus = write(&dir, "corpus.txt", &topic_corpus(150));
    let a = run_all(&dir, &corpus, "a", &["--seed", "7"]);
    let b = run_all(&dir, &corpus, "b", &["--seed", "7"]);
    let c = run_all(&dir, &corpus, "c", &["--seed", "8"]);
    for (fa, fb) in a.iter().zip(&b) {
        let (x, y) = (std::fs::read(fa).expect("a"), std::fs::read(fb).expect("b"));
        assert!(x == y, "{} and {} differ", fa.display(), fb.display());
    }
    for i in [0, 1, 3] {
        let (x, y) = (
            std::fs::read(&a[i]).expect("a"),
            std::fs::read(&c[i]).expect("c"),
        );
        assert!(x != y, "seeds 7 and 8 gave the same {}", a[i].display());
    }
    // The vocabulary does not depend on the seed.
    assert_eq!(
        std::fs::read(&a[2]).expect("a"),
        std::fs::read(&c[2]).expect("c")
    );
}

/// `--ttm` is a valid model of one Embedding op whose table equals the text vectors to the
/// printed precision (6 decimals); `--save-context` is one of the same shape holding other
/// (the context) vectors.
#[test]
fn ttm_embedding_equals_the_text_vectors() {
    let dir = scratch("w2v-ttm");
    let corpus = write(&dir, "corpus.txt", &topic_corpus(150));
    let [vectors, ttm, _, context] = run_all(&dir, &corpus, "v", &[]);
    let v = read_vectors(&vectors);
    let (vocab, dim, table) = read_embedding(&ttm);
    assert_eq!((vocab, dim), (v.count, v.dim));
    for (i, (word, row)) in v.rows.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            let t = table[i * dim + j];
            assert!((t - x).abs() <= 5.1e-7, "{word}[{j}]: .ttm {t} vs text {x}");
        }
    }
    let (cv, cd, ctable) = read_embedding(&context);
    assert_eq!((cv, cd), (vocab, dim));
    assert_ne!(ctable, table);
    assert!(
        ctable.iter().any(|&x| x != 0.0),
        "context vectors were trained"
    );
}

/// Hand count of "a b c a b a\nd a b e\nc" with `--min-count 2`: a 4, b 3, c 2 are kept, d and
/// e dropped; 9 train words. With `--min-count 1` all 5 words, 11 train words.
#[test]
fn min_count_filters_the_vocabulary() {
    let dir = scratch("w2v-min-count");
    let corpus = write(&dir, "corpus.txt", "a b c a b a\nd a b e\nc\n");
    let out = dir.join("v.txt");
    let run = word2vec(
        &corpus,
        &out,
        &["--min-count", "2", "--dim", "3", "--epochs", "1", "--json"],
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let v = read_vectors(&out);
    let words: Vec<&str> = v.rows.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(words, ["a", "b", "c"]);
    let j = run.json();
    assert_eq!(j["vocab"], 3);
    assert_eq!(j["train_words"], 9);
    assert_eq!(j["words"], 9);
    assert!(run
        .stdout
        .contains("vocab 3 words, 9 train words, 1 epochs"));
    assert!(run.stdout.contains("words/s"));
    // The progress bar stays off stderr when it is not a terminal.
    assert!(run.stderr.is_empty(), "stderr:\n{}", run.stderr);

    let run = word2vec(
        &corpus,
        &out,
        &["--min-count", "1", "--dim", "3", "--epochs", "2", "--json"],
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j = run.json();
    assert_eq!(j["vocab"], 5);
    assert_eq!(j["train_words"], 11);
    assert_eq!(j["words"], 22);
    let words: Vec<String> = read_vectors(&out).rows.into_iter().map(|r| r.0).collect();
    assert_eq!(words, ["a", "b", "c", "d", "e"]);
}

/// Mean cosine similarity of the word vectors within and across the planted topics.
fn topic_similarity(v: &Vectors) -> (f64, f64) {
    let cos = |a: &[f32], b: &[f32]| {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (na * nb)
    };
    let (mut same, mut ns, mut cross, mut nc) = (0.0, 0, 0.0, 0);
    for (i, (wi, vi)) in v.rows.iter().enumerate() {
        for (wj, vj) in v.rows.iter().skip(i + 1) {
            if wi == "the" || wj == "the" {
                continue;
            }
            if wi[..1] == wj[..1] {
                same += cos(vi, vj);
                ns += 1;
            } else {
                cross += cos(vi, vj);
                nc += 1;
            }
        }
    }
    (same / f64::from(ns), cross / f64::from(nc))
}

/// Training learns something, with either objective: words of the same planted topic end up
/// clearly more similar than words of different topics.
#[test]
fn planted_topics_are_recovered_with_both_objectives() {
    let dir = scratch("w2v-topics");
    let corpus = write(&dir, "corpus.txt", &topic_corpus(1500));
    for (name, extra) in [("ns", &[][..]), ("hs", &["--hs"][..])] {
        let out = dir.join(format!("{name}.txt"));
        let mut args = vec!["--dim", "16", "--epochs", "3", "--sample", "0"];
        args.extend_from_slice(extra);
        let run = word2vec(&corpus, &out, &args);
        assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
        let (same, cross) = topic_similarity(&read_vectors(&out));
        assert!(
            same > cross + 0.3,
            "{name}: same-topic cosine {same:.3}, cross-topic {cross:.3}"
        );
    }
}

#[test]
fn missing_corpus_names_the_file() {
    let dir = scratch("w2v-missing");
    let run = word2vec(&dir.join("nope.txt"), &dir.join("v.txt"), &[]);
    assert_fails(&run, 1, &["nope.txt", "cannot read the corpus"]);
}

#[test]
fn invalid_utf8_names_the_line() {
    let dir = scratch("w2v-utf8");
    let corpus = dir.join("latin1.txt");
    std::fs::write(&corpus, b"the cat\nthe dog\ncaf\xe9 au lait\n").expect("write");
    let run = word2vec(&corpus, &dir.join("v.txt"), &[]);
    assert_fails(
        &run,
        1,
        &["latin1.txt", "line 3, byte 4", "not valid UTF-8"],
    );
    assert!(!dir.join("v.txt").exists());
}

/// No word reaches `--min-count 5`: the message gives the minimum and the most frequent word
/// with its count (a and b occur 3 times each; a comes first). A blank corpus has no words.
#[test]
fn empty_vocabulary_says_min_count_and_top_count() {
    let dir = scratch("w2v-empty-vocab");
    let corpus = write(&dir, "small.txt", "a b a\nb a c b\n");
    let run = word2vec(&corpus, &dir.join("v.txt"), &["--min-count", "5"]);
    assert_fails(
        &run,
        1,
        &[
            "small.txt",
            "empty vocabulary",
            "--min-count 5",
            "\"a\", occurs 3 times",
        ],
    );
    let blank = write(&dir, "blank.txt", "\n  \n\t\n");
    let run = word2vec(&blank, &dir.join("v.txt"), &[]);
    assert_fails(&run, 1, &["blank.txt", "no words"]);
}

/// Zero sizes and negative numbers are usage errors (status 2) naming the flag.
#[test]
fn bad_numbers_are_usage_errors() {
    let dir = scratch("w2v-usage");
    let corpus = write(&dir, "c.txt", "a a a a a\n");
    let out = dir.join("v.txt");
    for (flag, value) in [
        ("--dim", "0"),
        ("--window", "0"),
        ("--epochs", "0"),
        ("--negative", "0"),
        ("--alpha", "0"),
        ("--sample", "-1"),
        ("--min-count", "-2"),
    ] {
        // `--flag=value`: a separate "-1" would be read as a flag.
        let run = word2vec(&corpus, &out, &[&format!("{flag}={value}")]);
        assert_fails(&run, 2, &[flag]);
    }
}

/// `--hs` with `--negative` is a usage error; with `--save-context` an error that says why;
/// with a one-word vocabulary (no tree) an error too.
#[test]
fn hs_conflicts() {
    let dir = scratch("w2v-hs");
    let corpus = write(&dir, "c.txt", "a b a b a b a b a b\n");
    let out = dir.join("v.txt");
    let run = word2vec(&corpus, &out, &["--hs", "--negative", "3"]);
    assert_fails(&run, 2, &["--negative", "--hs"]);
    let ctx = dir.join("ctx.ttm");
    let run = word2vec(
        &corpus,
        &out,
        &["--hs", "--save-context", ctx.to_str().expect("path")],
    );
    assert_fails(&run, 2, &["--save-context", "--hs", "Huffman tree"]);
    assert!(!out.exists() && !ctx.exists());
    let one = write(&dir, "one.txt", "a a a a a\n");
    let run = word2vec(&one, &out, &["--hs", "--min-count", "1"]);
    assert_fails(&run, 1, &["--hs needs at least 2 words", "found 1"]);
}

/// An output file that cannot be created is named.
#[test]
fn unwritable_output_names_the_file() {
    let dir = scratch("w2v-unwritable");
    let corpus = write(&dir, "c.txt", "a b a b a b a b a b\n");
    let out = dir.join("no-such-dir").join("v.txt");
    let run = word2vec(&corpus, &out, &["--min-count", "1", "--dim", "2"]);
    assert_fails(&run, 1, &["no-such-dir", "cannot write"]);
}
