//! The shipped digits data set (`data/digits.csv`): its shape, value ranges, class counts and
//! checksum match `data/README.md`; the fixed split is stratified, disjoint and reproducible.
//! (What models reach on it: `toolkit_digits.rs`.)

use sha2::{Digest, Sha256};
use tinytune_host_tests::csv::Dataset;
use tinytune_host_tests::digits;

/// Rows per class 0..=9, counted when the file was exported (classes 0–4 agree with the UCI
/// test-set distribution); also in `data/README.md`.
const CLASS_COUNTS: [usize; 10] = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

#[test]
fn file_has_1797_rows_of_64_integer_pixels_in_0_to_16_and_labels_0_to_9() {
    let d = digits::load().unwrap();
    assert_eq!(d.len(), digits::ROWS);
    assert_eq!(d.features, digits::FEATURES);
    assert_eq!(d.data.len(), 1797 * 64);
    let names: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
    assert_eq!(d.feature_names, names);
    assert!(d
        .data
        .iter()
        .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0));
    // Both ends of the range occur.
    assert!(d.data.contains(&0.0) && d.data.contains(&16.0));
    let mut counts = [0usize; 10];
    for &y in &d.labels {
        counts[y as usize] += 1; // panics (fails) on a label above 9
    }
    assert_eq!(counts, CLASS_COUNTS);
    // First image as exported (sklearn's `load_digits().data[0]`, a zero), spot-checked.
    assert_eq!(d.labels[..5], [0, 1, 2, 3, 4]);
    assert_eq!(
        d.row(0).unwrap()[..16],
        [0., 0., 5., 13., 9., 1., 0., 0., 0., 0., 13., 15., 10., 15., 5., 0.]
    );
}

#[test]
fn readme_class_table_matches_the_counts() {
    let readme = std::fs::read_to_string(digits::path().with_file_name("README.md")).unwrap();
    let row: String = CLASS_COUNTS.iter().map(|c| format!(" {c} |")).collect();
    assert!(readme.contains(&row), "README lacks the row {row:?}");
}

#[test]
fn sha256_of_the_csv_matches_the_readme() {
    let bytes = std::fs::read(digits::path()).unwrap();
    let readme = std::fs::read_to_string(digits::path().with_file_name("README.md")).unwrap();
    let stated = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("sha256: "))
        .expect("README has a `sha256: ` line");
    assert_eq!(hex(&Sha256::digest(&bytes)), stated);
}

#[test]
fn split_is_stratified_60_20_20_disjoint_complete_and_reproducible() {
    let d = digits::load().unwrap();
    let (train, val, test) = digits::split(&d, digits::SPLIT_SEED);
    assert_eq!(train.len() + val.len() + test.len(), d.len());
    // Recover each split's rows in the original file by content+label (rows may repeat, so
    // compare multisets): sorted row keys of the union equal those of the whole file.
    let keys = |s: &Dataset| -> Vec<(Vec<u8>, u32)> {
        (0..s.len())
            .map(|i| {
                let row = s.row(i).unwrap().iter().map(|&v| v as u8).collect();
                (row, s.labels[i])
            })
            .collect()
    };
    let mut all = keys(&d);
    let mut union = [keys(&train), keys(&val), keys(&test)].concat();
    all.sort();
    union.sort();
    assert_eq!(all, union);
    for (class, &n) in CLASS_COUNTS.iter().enumerate() {
        let count = |s: &Dataset| s.labels.iter().filter(|&&y| y as usize == class).count();
        let (a, b) = (count(&train), count(&val));
        // round-half-up shares of n, checked against hand arithmetic: |a - 0.6 n| ≤ 0.5.
        assert!(
            (a as f64 - 0.6 * n as f64).abs() <= 0.5,
            "class {class}: {a}"
        );
        assert!(
            (b as f64 - 0.2 * n as f64).abs() <= 0.5,
            "class {class}: {b}"
        );
        assert_eq!(count(&test), n - a - b);
    }
    // 178 zeros: 107 / 36 / 35.
    let zeros = |s: &Dataset| s.labels.iter().filter(|&&y| y == 0).count();
    assert_eq!((zeros(&train), zeros(&val), zeros(&test)), (107, 36, 35));
    assert_eq!(
        digits::split(&d, digits::SPLIT_SEED),
        (train.clone(), val, test)
    );
    assert_ne!(digits::split(&d, digits::SPLIT_SEED + 1).0, train);
}

#[test]
fn scaling_divides_by_16() {
    let mut d = digits::load().unwrap();
    let raw = d.data.clone();
    digits::scale_to_unit(&mut d);
    assert!(raw.iter().zip(&d.data).all(|(&r, &s)| s == r / 16.0));
    assert!(d.data.iter().all(|v| (0.0..=1.0).contains(v)));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
