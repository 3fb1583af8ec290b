//! Bad input never panics: each case gives a message naming what is wrong and where, and a
//! non-zero exit status (1 for a failing command, 2 for a usage error or a command not
//! available yet).

mod common;

use common::{assert_fails, digits, scratch, tinytune, write};
use std::path::Path;

/// `tinytune train --data <data> --out <dir>/out --epochs 2 extra…`.
fn train(data: &Path, dir: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "train".to_string(),
        "--data".into(),
        data.display().to_string(),
        "--out".into(),
        dir.join("out").display().to_string(),
        "--epochs".into(),
        "2".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tinytune(&args)
}

#[test]
fn missing_data_file() {
    let dir = scratch("missing");
    let data = dir.join("nope.csv");
    let run = train(&data, &dir, &[]);
    assert_fails(&run, 1, &["nope.csv", "cannot read"]);
}

#[test]
fn malformed_csv_names_file_line_and_column() {
    let dir = scratch("malformed");
    let data = write(&dir, "bad.csv", "a,b,label\n1,2,0\n3,x,1\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["bad.csv", "line 3", "column 2 (b)", "not a number"],
    );
    let data = write(&dir, "short.csv", "a,b,label\n1,2,0\n3,1\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &[
            "short.csv",
            "line 3",
            "column 3",
            "expected 3 columns, found 2",
        ],
    );
    let data = write(&dir, "nolabel.csv", "a,b,c\n1,2,0\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["nolabel.csv", "line 1", "label"],
    );
    let data = write(&dir, "float_label.csv", "a,label\n1,0\n2,1.5\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &[
            "float_label.csv",
            "line 3",
            "column 2 (label)",
            "not an integer",
        ],
    );
}

#[test]
fn empty_data() {
    let dir = scratch("empty");
    let data = write(&dir, "empty.csv", "");
    assert_fails(&train(&data, &dir, &[]), 1, &["empty.csv", "empty file"]);
    let data = write(&dir, "header_only.csv", "a,b,label\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["header_only.csv", "no samples"],
    );
}

#[test]
fn single_class() {
    let dir = scratch("single");
    let data = write(&dir, "one.csv", "a,label\n1,0\n2,0\n3,0\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["one.csv", "at least 2 classes"],
    );
}

/// Labels must be 0..K-1 with every class present: labels 1 and 2 (no 0) are refused with the
/// missing class named.
#[test]
fn labels_not_zero_based() {
    let dir = scratch("labels");
    let mut text = String::from("a,label\n");
    for i in 0..40 {
        text.push_str(&format!("{i},{}\n", 1 + i % 2));
    }
    let data = write(&dir, "one_based.csv", &text);
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["one_based.csv", "no sample has label 0", "0..K-1"],
    );
}

#[test]
fn too_few_samples_to_split() {
    let dir = scratch("tiny");
    let data = write(&dir, "tiny.csv", "a,label\n1,0\n2,1\n");
    assert_fails(
        &train(&data, &dir, &[]),
        1,
        &["tiny.csv", "too few samples"],
    );
}

#[test]
fn non_numeric_and_out_of_range_flags_are_usage_errors() {
    let dir = scratch("flags");
    let d = digits();
    for (flag, value) in [
        ("--epochs", "ten"),
        ("--epochs", "0"),
        ("--batch", "x3"),
        ("--patience", "-1"),
        ("--lr", "fast"),
        ("--lr", "0"),
        ("--lr", "NaN"),
        ("--dropout", "1"),
        ("--l2", "-1"),
        ("--seed", "x"),
        ("--optimizer", "rmsprop"),
        ("--arch", "64,abc"),
        ("--arch", "0"),
        ("--arch", "1,1,1,1,1,1,1,1,1"),
    ] {
        // `--flag=value`, so a negative number is read as a value, not as a flag.
        let run = train(&d, &dir, &[&format!("{flag}={value}")]);
        assert_fails(&run, 2, &[flag]);
    }
    let run = train(&d, &dir, &["--bogus"]);
    assert_fails(&run, 2, &["--bogus"]);
    let run = tinytune(&["train"]);
    assert_fails(&run, 2, &["--data"]);
}

/// Absurd sizes are refused or clamped, never an allocation failure.
#[test]
fn huge_architecture_and_batch() {
    let dir = scratch("huge");
    let d = digits();
    let run = train(&d, &dir, &["--arch", "65536,65536,65536"]);
    assert_fails(&run, 1, &["too many parameters"]);
    let run = train(
        &d,
        &dir,
        &["--batch", "18446744073709551615", "--arch", "4"],
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
}

#[test]
fn bad_config_file_names_file_and_position() {
    let dir = scratch("config");
    let d = digits();
    let cfg = write(&dir, "typo.toml", "[model]\nhiden = [8]\n");
    let run = train(&d, &dir, &["--config", cfg.to_str().expect("utf-8")]);
    assert_fails(&run, 1, &["typo.toml", "line 2", "hiden"]);
    let cfg = write(&dir, "range.toml", "[train]\nlr = -1.0\n");
    let run = train(&d, &dir, &["--config", cfg.to_str().expect("utf-8")]);
    assert_fails(&run, 1, &["range.toml", "[train] lr"]);
    let missing = dir.join("none.toml");
    let run = train(&d, &dir, &["--config", missing.to_str().expect("utf-8")]);
    assert_fails(&run, 1, &["none.toml", "cannot read"]);
}

/// An output path below a regular file cannot be created (a permission test would not work
/// when the tests run as root).
#[test]
fn unwritable_out() {
    let dir = scratch("unwritable");
    let file = write(&dir, "file", "x");
    let run = tinytune(&[
        "train".as_ref(),
        "--data".as_ref(),
        digits().as_os_str(),
        "--out".as_ref(),
        file.join("sub").as_os_str(),
    ]);
    assert_fails(&run, 1, &["sub", "cannot use as the output directory"]);
}

#[test]
fn eval_errors() {
    let dir = scratch("eval");
    let missing = tinytune(&[
        "eval".as_ref(),
        "--model".as_ref(),
        dir.join("no_model").as_os_str(),
        "--data".as_ref(),
        digits().as_os_str(),
    ]);
    assert_fails(&missing, 1, &["no_model", "cannot read the model"]);

    let broken = write(
        &dir,
        "model.json",
        "{\"format\": \"tinytune-mlp\",\n  \"version\": }",
    );
    let run = tinytune(&[
        "eval".as_ref(),
        "--model".as_ref(),
        broken.as_os_str(),
        "--data".as_ref(),
        digits().as_os_str(),
    ]);
    assert_fails(&run, 1, &["model.json", "line 2", "column"]);

    // A real model (tiny, 1 epoch) and data that do not fit it.
    let out = dir.join("trained");
    let ok = tinytune(&[
        "train".as_ref(),
        "--data".as_ref(),
        digits().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--arch".as_ref(),
        "4".as_ref(),
    ]);
    assert_eq!(ok.code, Some(0), "stderr:\n{}", ok.stderr);
    let eval = |data: &Path| {
        tinytune(&[
            "eval".as_ref(),
            "--model".as_ref(),
            out.as_os_str(),
            "--data".as_ref(),
            data.as_os_str(),
        ])
    };
    let narrow = write(&dir, "narrow.csv", "a,b,label\n1,2,0\n");
    assert_fails(
        &eval(&narrow),
        1,
        &["narrow.csv", "2 feature columns", "takes 64"],
    );
    let mut text = (0..64).map(|i| format!("p{i},")).collect::<String>() + "label\n";
    text += &("0,".repeat(64) + "3\n");
    text += &("0,".repeat(64) + "12\n");
    let big_label = write(&dir, "big_label.csv", &text);
    assert_fails(
        &eval(&big_label),
        1,
        &["big_label.csv", "line 3", "column 65 (label)", "label 12"],
    );
    let header_only = write(&dir, "header_only.csv", "a,label\n");
    assert_fails(&eval(&header_only), 1, &["header_only.csv", "no samples"]);
}

#[test]
fn unknown_flags_of_every_command_exit_2() {
    for cmd in [
        "train", "eval", "distill", "quantize", "inspect", "export", "demo",
    ] {
        let run = tinytune(&[cmd, "--anything", "x"]);
        assert_fails(&run, 2, &["--anything"]);
    }
}

#[test]
fn help_lists_every_command_and_flag() {
    let top = tinytune(&["--help"]);
    assert_eq!(top.code, Some(0));
    for cmd in [
        "train", "eval", "distill", "quantize", "inspect", "export", "demo",
    ] {
        assert!(
            top.stdout.contains(cmd),
            "--help lacks {cmd}:\n{}",
            top.stdout
        );
    }
    let train = tinytune(&["train", "--help"]);
    assert_eq!(train.code, Some(0));
    for flag in [
        "--data",
        "--out",
        "--seed",
        "--json",
        "--arch",
        "--config",
        "--epochs",
        "--batch",
        "--lr",
        "--optimizer",
        "--dropout",
        "--l2",
        "--patience",
        "70 %",
    ] {
        assert!(train.stdout.contains(flag), "train --help lacks {flag}");
    }
    let eval = tinytune(&["eval", "--help"]);
    for flag in ["--model", "--data", "--json", "--out"] {
        assert!(eval.stdout.contains(flag), "eval --help lacks {flag}");
    }
}
