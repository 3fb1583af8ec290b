//! The boards' word2vec showcase run on the host: the same code, data files, seeds and
//! sentences as on the emulated boards. f32 arithmetic is IEEE on all of them (the M4F's FPU,
//! RV32's software floats, x86), so the host must end with the same word vectors, bit for bit:
//! the CRC-32 each board prints in its summary line (`boards/qemu-m4/expected/word2vec.txt`,
//! `boards/qemu-riscv/expected/word2vec.txt`) is checked here against the host's.

use tinytune_board_common::word2vec::{self, Buffers, Report};
use tinytune_board_common::{Platform, RamNorFlash};

/// The host has no instruction counter.
struct Host;

impl Platform for Host {
    fn instructions(&mut self) -> u64 {
        0
    }
}

/// The boards' RAM-backed NOR flash: 4-byte writes, 4 KiB pages.
type Flash<'a> = RamNorFlash<'a, 4, 4096>;

fn run() -> Report {
    let mut bufs = Box::new(Buffers::new());
    let mut bytes = vec![0xFF; word2vec::flash_len::<Flash>()];
    word2vec::run(&mut Host, Flash::new(&mut bytes), &mut bufs).unwrap()
}

/// The value of `key=` in a summary line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn the_host_prints_the_boards_summary_but_for_the_instruction_count() {
    let r = run();
    let mut line = String::new();
    r.write_summary(&mut line).unwrap();
    println!("{line}");
    for board in ["qemu-m4", "qemu-riscv"] {
        let path = format!(
            "{}/../boards/{board}/expected/word2vec.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        let expected = std::fs::read_to_string(&path).unwrap();
        same_but_instructions(&line, expected.trim(), board);
    }
}

fn same_but_instructions(line: &str, expected: &str, board: &str) {
    for key in [
        "vocab",
        "dim",
        "flash_gap",
        "recovery",
        "rel_before",
        "rel_after",
        "preserved",
        "pairs_per_sentence",
        "ram_bytes",
        "vectors_crc32",
        "reload",
    ] {
        assert_eq!(
            field(line, key),
            field(expected, key),
            "{key}\n host:  {line}\n {board}: {expected}"
        );
    }
}

#[test]
fn clusters_are_found_in_flash_and_kept_while_the_new_relation_is_learned() {
    let r = run();
    println!("{r:?}");
    assert!(r.passes(), "{r:?}");
    assert!(r.reload_ok);
    assert_eq!(r.ram_bytes, 7904);
}

/// The word vectors of `word2vec.ttm` and each row's topic, read with the host's own loader.
fn flash_table() -> (Vec<Vec<f64>>, Vec<Option<usize>>) {
    use tinytune::model::Op;
    use tinytune_board_common::word2vec_corpus::{topic, word_id};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../boards/common/data/");
    let bytes =
        tinytune_cli::ttm::load(std::path::Path::new(&format!("{dir}word2vec.ttm"))).unwrap();
    let model = bytes.model().unwrap();
    let Some(Op::Embedding(c, t)) = model.ops().next() else {
        panic!("not an embedding");
    };
    let rows = t
        .chunks(c.dim)
        .map(|r| r.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let vocab = std::fs::read_to_string(format!("{dir}word2vec-vocab.txt")).unwrap();
    let counts: Vec<u64> = vocab
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|p| p[0] >= p[1]),
        "ids by descending count"
    );
    let topics = vocab
        .lines()
        .map(|l| topic(word_id(l.split_whitespace().next().unwrap()).unwrap()))
        .collect();
    (rows, topics)
}

fn cos64(a: &[f64], b: &[f64]) -> f64 {
    let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

/// The flash figures recomputed in f64 from the file (not through the device code or the
/// core's queries): the cluster gap, the recovery and the moved word's relation to food.
#[test]
fn flash_figures_agree_with_an_f64_recomputation() {
    let r = run();
    let (rows, topics) = flash_table();
    let n = rows.len();
    let (mut same, mut cross) = (Vec::new(), Vec::new());
    for a in 0..n {
        for b in a + 1..n {
            if let (Some(ta), Some(tb)) = (topics[a], topics[b]) {
                let c = cos64(&rows[a], &rows[b]);
                if ta == tb {
                    same.push(c)
                } else {
                    cross.push(c)
                }
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let gap = mean(&same) - mean(&cross);
    assert!(
        (gap * 1e4 - f64::from(r.flash_gap)).abs() <= 2.0,
        "{gap} {r:?}"
    );

    let (mut hits, mut total) = (0, 0);
    for w in 0..n {
        let Some(t) = topics[w] else { continue };
        let mut others: Vec<(f64, usize)> = (0..n)
            .filter(|&o| o != w)
            .map(|o| (cos64(&rows[w], &rows[o]), o))
            .collect();
        others.sort_by(|a, b| b.0.total_cmp(&a.0));
        let k = topics.iter().filter(|&&o| o == Some(t)).count() - 1;
        hits += others[..k]
            .iter()
            .filter(|&&(_, o)| topics[o] == Some(t))
            .count();
        total += k;
    }
    let recovery = hits as f64 / total as f64;
    assert!(
        (recovery * 1e4 - f64::from(r.recovery)).abs() <= 1.0,
        "{recovery} {r:?}"
    );

    let vocab = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../boards/common/data/word2vec-vocab.txt"
    ))
    .unwrap();
    let duck = vocab.lines().position(|l| l.starts_with("duck ")).unwrap();
    let to = |t: usize| {
        let v: Vec<f64> = (0..n)
            .filter(|&o| topics[o] == Some(t))
            .map(|o| cos64(&rows[duck], &rows[o]))
            .collect();
        v
    };
    let unrelated: Vec<f64> = [2, 3].iter().flat_map(|&t| to(t)).collect();
    let rel = mean(&to(1)) - mean(&unrelated);
    assert!(
        (rel * 1e4 - f64::from(r.rel_before)).abs() <= 2.0,
        "{rel} {r:?}"
    );
}
