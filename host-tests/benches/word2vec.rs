//! Words per second of word2vec training on the host: one epoch of skip-gram over a generated
//! corpus of 100,000 words (the planted-cluster corpus of the tests: 50 clusters of 20 words and
//! 20 fillers, 10-word sentences), `word2vec.c`'s defaults (window 5, negative 5, sample 1e-3,
//! alpha 0.025), single-threaded. Criterion reports the throughput in words (elements) per
//! second; the README quotes it.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tinytune::word2vec::{Objective, Word2VecConfig};
use tinytune_host_tests::word2vec::{planted_clusters, train};

fn bench(c: &mut Criterion) {
    let (corpus, _) = planted_clusters(50, 20, 20, 10_000, 1);
    let mut group = c.benchmark_group("word2vec_epoch_100k_words");
    group.throughput(Throughput::Elements(corpus.words()));
    group.sample_size(10);
    for (name, dim, objective) in [
        ("sgns_dim50", 50, Objective::NegativeSampling),
        ("sgns_dim100", 100, Objective::NegativeSampling),
        ("hs_dim100", 100, Objective::HierarchicalSoftmax),
    ] {
        let config = Word2VecConfig {
            objective,
            ..Word2VecConfig::new(0, dim)
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(train(&corpus, config, 1, 0).last_loss))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
