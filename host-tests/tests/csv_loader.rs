//! The labelled-CSV loader: well-formed files parse to the expected values, and every malformed
//! input is rejected with a message naming the file, the 1-based line and the 1-based column
//! with its header name (checked as exact strings).

use tinytune_host_tests::csv::{load_labeled_csv, parse_labeled_csv, CsvErrorKind, Dataset};

/// The error message for `text` parsed under the name `t.csv`; panics if it parses.
fn message(text: &str) -> String {
    match parse_labeled_csv("t.csv", text) {
        Ok(d) => panic!("{text:?} parsed: {d:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_values_labels_and_names() {
    let text = "a, b ,label\r\n1,2.5,0\n-3e-1 , 4 ,7\n+0.5,1e3,+2";
    let d = parse_labeled_csv("t.csv", text).unwrap();
    assert_eq!(
        d,
        Dataset {
            features: 2,
            data: vec![1.0, 2.5, -0.3, 4.0, 0.5, 1000.0],
            labels: vec![0, 7, 2],
            feature_names: vec!["a".into(), "b".into()],
        }
    );
    assert_eq!(d.len(), 3);
    assert_eq!(d.row(1), Some(&[-0.3f32, 4.0][..]));
    assert_eq!(d.row(3), None);
    let picked = d.select(&[2, 0, 2]).unwrap();
    assert_eq!(picked.labels, vec![2, 0, 2]);
    assert_eq!(picked.data, vec![0.5, 1000.0, 1.0, 2.5, 0.5, 1000.0]);
    assert!(d.select(&[3]).is_none());
}

#[test]
fn header_only_file_is_an_empty_data_set_and_trailing_newline_and_bom_are_accepted() {
    let d = parse_labeled_csv("t.csv", "x,label\n").unwrap();
    assert!(d.is_empty());
    assert_eq!(d.features, 1);
    let d = parse_labeled_csv("t.csv", "\u{feff}x,label\n4,1\n").unwrap();
    assert_eq!((d.data, d.labels), (vec![4.0], vec![1]));
}

#[test]
fn empty_file_and_missing_header() {
    assert_eq!(message(""), "t.csv, line 1: empty file: no header");
    assert_eq!(
        message("1,2,3\n4,5,6\n"),
        "t.csv, line 1: missing header: the first line holds numbers, not column names"
    );
}

#[test]
fn header_problems_name_the_column() {
    assert_eq!(
        message("a,b,class\n1,2,3\n"),
        "t.csv, line 1, column 3 (class): the last column must be named `label`, found \"class\""
    );
    assert_eq!(
        message("label\n1\n"),
        "t.csv, line 1, column 1 (label): no feature columns before `label`"
    );
    assert_eq!(
        message("a,,label\n"),
        "t.csv, line 1, column 2: empty column name"
    );
    assert_eq!(
        message("a,b,a,label\n"),
        "t.csv, line 1, column 3 (a): duplicate column name"
    );
}

#[test]
fn wrong_column_count_points_at_first_missing_or_extra_column() {
    // Line 3 is short: column 3 (`label`) is missing.
    assert_eq!(
        message("a,b,label\n1,2,0\n1,2\n"),
        "t.csv, line 3, column 3 (label): expected 3 columns, found 2"
    );
    // Line 2 is long: column 4 is extra and has no name.
    assert_eq!(
        message("a,b,label\n1,2,0,9\n"),
        "t.csv, line 2, column 4: expected 3 columns, found 4"
    );
    assert_eq!(
        message("a,b,label\n1,2,0\n\n3,4,1\n"),
        "t.csv, line 3: blank line"
    );
}

#[test]
fn non_numeric_and_non_finite_values() {
    assert_eq!(
        message("a,b,label\n1,2,0\n1,x,0\n"),
        "t.csv, line 3, column 2 (b): not a number: \"x\""
    );
    assert_eq!(
        message("a,b,label\n,2,0\n"),
        "t.csv, line 2, column 1 (a): not a number: \"\""
    );
    for bad in ["NaN", "nan", "inf", "-inf", "infinity", "1e39"] {
        assert_eq!(
            message(&format!("a,b,label\n1,2,0\n3,{bad},1\n")),
            format!("t.csv, line 3, column 2 (b): not a finite number: \"{bad}\"")
        );
    }
}

#[test]
fn bad_labels() {
    let cases = [
        ("-1", "negative label: \"-1\""),
        ("-0", "negative label: \"-0\""),
        ("1.5", "label is not an integer: \"1.5\""),
        ("3.0", "label is not an integer: \"3.0\""),
        ("1e2", "label is not an integer: \"1e2\""),
        ("cat", "label is not an integer: \"cat\""),
        ("", "label is not an integer: \"\""),
        ("NaN", "label is not an integer: \"NaN\""),
        ("4294967296", "label too large for u32: \"4294967296\""),
    ];
    for (label, problem) in cases {
        assert_eq!(
            message(&format!("a,b,label\n1,2,0\n3,4,0\n5,6,{label}\n")),
            format!("t.csv, line 4, column 3 (label): {problem}")
        );
    }
    // The largest u32 is accepted.
    let d = parse_labeled_csv("t.csv", "a,label\n1,4294967295\n").unwrap();
    assert_eq!(d.labels, vec![u32::MAX]);
}

#[test]
fn the_first_error_in_reading_order_is_reported() {
    // Line 2 column 2 comes before line 2 column 3 and before line 3.
    assert_eq!(
        message("a,b,label\n1,y,-1\nz,2,0\n"),
        "t.csv, line 2, column 2 (b): not a number: \"y\""
    );
}

#[test]
fn error_carries_structured_position() {
    let e = parse_labeled_csv("f.csv", "a,b,label\n1,2,0\n1,2,x\n").unwrap_err();
    assert_eq!(e.file, "f.csv");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.column, Some(3));
    assert_eq!(e.column_name.as_deref(), Some("label"));
    assert!(matches!(e.kind, CsvErrorKind::NonIntegerLabel(ref v) if v == "x"));
}

#[test]
fn load_reads_a_file_and_names_it_in_errors() {
    let dir = std::env::temp_dir().join(format!("tinytune-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.csv");
    std::fs::write(&good, "u,v,label\n0.25,8,3\n").unwrap();
    let d = load_labeled_csv(&good).unwrap();
    assert_eq!((d.data, d.labels), (vec![0.25, 8.0], vec![3]));

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "u,v,label\n0.25,8,3\n1,2\n").unwrap();
    let e = load_labeled_csv(&bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}, line 3, column 3 (label): expected 3 columns, found 2",
            bad.display()
        )
    );

    let missing = dir.join("missing.csv");
    let e = load_labeled_csv(&missing).unwrap_err();
    assert!(matches!(e.kind, CsvErrorKind::Io(_)));
    assert_eq!(e.line, None);
    assert!(e
        .to_string()
        .starts_with(&format!("{}: cannot read: ", missing.display())));
    std::fs::remove_dir_all(&dir).unwrap();
}
