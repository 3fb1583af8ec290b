//! Mutation test of the parser and the runner: 100,000 corrupted files (fixed seed) plus a
//! truncation at every length. For each, `Model::from_bytes` returns `Ok` or a `FormatError`
//! without panicking, and every model it accepts runs without panicking. Half of the mutants
//! get their CRC recomputed, so that the structural checks (not just the CRC) are exercised.

mod model_common;
mod model_transformer_common;

use model_common::*;
use tinytune::layers::dense::DenseConfig;
use tinytune::model::{crc32, Meta, Model, Op};
use tinytune::num::quant::Requantizer;
use tinytune_host_tests::rng::SplitMix64;

/// Number of random mutants (the truncations come on top).
const MUTANTS: usize = 100_000;

/// Uniform in `0..n`.
fn below(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn fix_crc(bytes: &mut [u8]) {
    bytes[16..20].fill(0);
    let c = crc32(bytes);
    bytes[16..20].copy_from_slice(&c.to_le_bytes());
}

/// Values likely to hit edge cases when written into a header or table word.
fn nasty(rng: &mut SplitMix64, len: usize) -> u32 {
    let len = len as u32;
    match rng.next_u64() % 12 {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 8,
        4 => len,
        5 => len.wrapping_sub(8),
        6 => len.wrapping_add(8),
        7 => u32::MAX,
        8 => 0x8000_0000,
        9 => rng.range_i64(0, 64) as u32,
        10 => (rng.range_i64(0, i64::from(len) / 8 + 1) * 8) as u32,
        _ => rng.next_u64() as u32,
    }
}

/// Statistics of a run, to show the test exercised both outcomes.
#[derive(Default, Debug)]
struct Stats {
    ok: usize,
    err: usize,
    ran: usize,
}

fn check(bytes: &[u8], rng: &mut SplitMix64, stats: &mut Stats) {
    match Model::from_bytes(bytes) {
        Err(e) => {
            let _ = e.to_string();
            stats.err += 1;
        }
        Ok(model) => {
            stats.ok += 1;
            let _ = model.summary().count();
            let _ = model.class_names().count();
            let batch = 1 + (rng.next_u64() % 2) as usize;
            let Ok(need) = model.arena_len(batch) else {
                return;
            };
            let n_in = model.input_len() * batch;
            // Skip absurd (but valid) sizes: they would only measure the allocator.
            if need > 1 << 22 || n_in > 1 << 20 || model.requant_len() > 1 << 16 {
                return;
            }
            let mut arena = vec![0u8; need];
            let mut rq = vec![Requantizer::ZERO; model.requant_len()];
            let input: Vec<f32> = (0..n_in).map(|_| rng.uniform(-3.0, 3.0) as f32).collect();
            let mut out = vec![0.0; model.output_len() * batch];
            let _ = model.run(batch, &input, &mut arena, &mut rq, &mut out);
            let _ = model.predict(&input[..model.input_len()], &mut arena, &mut rq);
            stats.ran += 1;
        }
    }
}

fn base_files() -> Vec<AlignedBuf> {
    let mut rng = SplitMix64::new(40);
    let names = ["a", "bb", "ccc", "dddd"];
    let full = Meta {
        scaler: Some(scaler(&mut rng, 32)),
        num_classes: 4,
        class_names: &names,
    };
    let small = vec![Op::Dense(
        DenseConfig {
            in_features: 3,
            out_features: 2,
            bias: true,
        },
        f32s(&mut rng, 8),
    )];
    let small_meta = Meta {
        scaler: Some(scaler(&mut rng, 3)),
        ..Meta::default()
    };
    vec![
        encode(&all_kinds(41), &full),
        encode(&embedding_model(42), &Meta::default()),
        encode(&small, &small_meta),
        // The transformer kinds (1.1): a causal f32 block with a learned table, an int8 block.
        encode(
            &model_transformer_common::f32_model(45, model_transformer_common::SMALL, true),
            &Meta::default(),
        ),
        encode(
            &model_transformer_common::s8_model(46, model_transformer_common::SMALL),
            &Meta::default(),
        ),
    ]
}

#[test]
fn truncation_at_every_length_is_an_error_never_a_panic() {
    let mut rng = SplitMix64::new(43);
    let mut stats = Stats::default();
    for file in base_files() {
        for len in 0..file.len {
            check(&file.bytes()[..len], &mut rng, &mut stats);
            assert!(Model::from_bytes(&file.bytes()[..len]).is_err());
        }
    }
    assert_eq!(stats.ok, 0);
}

/// 100,000 mutants: byte writes, bit flips, truncations, and nasty values in header and table
/// words (offsets, lengths, counts, tags), half with the CRC recomputed.
#[test]
fn hundred_thousand_mutated_files_never_panic_the_parser_or_the_runner() {
    let files = base_files();
    let mut rng = SplitMix64::new(44);
    let mut stats = Stats::default();
    let mut buf = AlignedBuf::zeroed(files[0].len);
    for i in 0..MUTANTS {
        let base = &files[i % files.len()];
        let len = base.len;
        buf.len = len;
        buf.bytes_mut().copy_from_slice(base.bytes());
        let b = buf.bytes_mut();
        let mutations = 1 + below(&mut rng, 3);
        let mut cut = len;
        for _ in 0..mutations {
            let at = below(&mut rng, len);
            match below(&mut rng, 6) {
                0 => b[at] = rng.next_u64() as u8,
                1 => b[at] ^= 1 << below(&mut rng, 8),
                2 => cut = below(&mut rng, len + 1),
                3 => {
                    // A header word.
                    let w = 4 * (1 + below(&mut rng, 11));
                    let v = nasty(&mut rng, len);
                    b[w..w + 4].copy_from_slice(&v.to_le_bytes());
                }
                _ => {
                    // A word of the table or the metadata (aligned 4-byte slot after the header).
                    let w = 48 + 4 * below(&mut rng, (len - 48) / 4);
                    let v = nasty(&mut rng, len);
                    b[w..w + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        if i % 2 == 0 {
            fix_crc(b);
        }
        check(&buf.bytes()[..cut], &mut rng, &mut stats);
    }
    eprintln!("{stats:?}");
    assert_eq!(stats.ok + stats.err, MUTANTS);
    // Both outcomes occur: the mutants reach the runner, and most are rejected.
    assert!(stats.ran > 1000, "{stats:?}");
    assert!(stats.err > MUTANTS / 2, "{stats:?}");
}
