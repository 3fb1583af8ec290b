//! The handwritten-digits data set shipped in `data/digits.csv` (see `data/README.md`): 1,797
//! images of 8×8 pixels with integer values 0..=16, labels 0..=9; plus the fixed split and the
//! pixel scaling the tests use.

use std::path::PathBuf;

use tinytune::rng::{RngCore, SeedableRng, SeededRng};

use crate::csv::{load_labeled_csv, CsvError, Dataset};

/// Pixels per image (8×8).
pub const FEATURES: usize = 64;
/// Classes (digits 0..=9).
pub const CLASSES: usize = 10;
/// Images in the file.
pub const ROWS: usize = 1797;
/// Largest pixel value (a count of set pixels in a 4×4 block).
pub const PIXEL_MAX: f32 = 16.0;

/// The CSV's location: `data/digits.csv` at the repository root, found from this crate's
/// manifest directory so tests run from any working directory.
pub fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("data")
        .join("digits.csv")
}

/// Loads the data set with raw pixel values (0..=16), in file order.
///
/// # Errors
/// As [`load_labeled_csv`]: the file is missing or malformed.
pub fn load() -> Result<Dataset, CsvError> {
    load_labeled_csv(path())
}

/// Scales the pixels to `[0, 1]` in place: every value divided by [`PIXEL_MAX`] (16).
pub fn scale_to_unit(data: &mut Dataset) {
    for v in &mut data.data {
        *v /= PIXEL_MAX;
    }
}

/// Fraction of each class that goes to the training split (the rest: [`VAL_FRACTION`] to
/// validation, the remainder to test).
pub const TRAIN_FRACTION: f64 = 0.6;
/// Fraction of each class that goes to the validation split.
pub const VAL_FRACTION: f64 = 0.2;

/// The seed of the fixed split the tests use: `split(&data, SPLIT_SEED)`.
pub const SPLIT_SEED: u64 = 0;

/// Splits `data` into train / validation / test, stratified 60 / 20 / 20, reproducibly from
/// `seed`.
///
/// For each class in turn (0, 1, …, up to the largest label), the indices of its samples in file
/// order are shuffled by Fisher–Yates with one [`SeededRng`] seeded once with `seed`; of the `n`
/// shuffled indices the first `round(0.6 n)` go to train, the next `round(0.2 n)` to validation
/// and the rest to test (rounding half up). Each split then lists its samples in file order. So
/// the three splits are disjoint, together cover every sample, and each holds every class in
/// the same proportion up to rounding. The same `seed` always gives the same split (the
/// generator is xoshiro128++, bit-exact across platforms).
pub fn split(data: &Dataset, seed: u64) -> (Dataset, Dataset, Dataset) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let classes = data.labels.iter().max().map_or(0, |&m| m as usize + 1);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &label) in data.labels.iter().enumerate() {
        if let Some(members) = by_class.get_mut(label as usize) {
            members.push(i);
        }
    }
    let (mut train, mut val, mut test) = (Vec::new(), Vec::new(), Vec::new());
    for members in &mut by_class {
        shuffle(members, &mut rng);
        let n = members.len();
        let n_train = round_share(n, TRAIN_FRACTION);
        let n_val = round_share(n, VAL_FRACTION).min(n - n_train);
        train.extend_from_slice(&members[..n_train]);
        val.extend_from_slice(&members[n_train..n_train + n_val]);
        test.extend_from_slice(&members[n_train + n_val..]);
    }
    let take = |mut indices: Vec<usize>| {
        indices.sort_unstable();
        // Every index came from `data.labels`'s own range, so `select` cannot fail; an empty
        // set is the fallback that keeps this function panic-free.
        data.select(&indices).unwrap_or_else(|| Dataset {
            features: data.features,
            data: Vec::new(),
            labels: Vec::new(),
            feature_names: data.feature_names.clone(),
        })
    };
    (take(train), take(val), take(test))
}

/// `round(n · fraction)`, half up, at most `n`.
fn round_share(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction + 0.5).floor() as usize).min(n)
}

/// Fisher–Yates shuffle of `items` with uniform draws from `rng`.
fn shuffle<T>(items: &mut [T], rng: &mut SeededRng) {
    for i in (1..items.len()).rev() {
        items.swap(i, below(rng, i as u64 + 1) as usize);
    }
}

/// A uniform integer in `0..bound` (`bound ≥ 1`) by rejection, so without modulo bias.
fn below(rng: &mut SeededRng, bound: u64) -> u64 {
    // The largest multiple of `bound` that fits: draws at or above it are redrawn.
    let bound = bound.max(1);
    let zone = u64::MAX - u64::MAX % bound;
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % bound;
        }
    }
}
