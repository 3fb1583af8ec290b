//! `tinytune train` and `eval` end to end on the repository's digits data (`data/digits.csv`).

mod common;

use common::{digits, scratch, tinytune};

/// A 15-epoch run (64 → 64 → 10, Adam, seed 0) reaches a test accuracy ≥ 0.9 and reports it in
/// the JSON last line; its files appear in `--out`; `eval` on the saved model and the saved test
/// split reproduces the test accuracy exactly, with a consistent confusion matrix.
#[test]
fn digits_train_15_epochs_test_acc_at_least_0_9_and_eval_reproduces_it() {
    let out = scratch("digits");
    let run = tinytune(&[
        "train".as_ref(),
        "--data".as_ref(),
        digits().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--epochs".as_ref(),
        "15".as_ref(),
        "--seed".as_ref(),
        "0".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j = run.json();
    let test_acc = j["test_acc"].as_f64().expect("test_acc");
    assert!(test_acc >= 0.9, "test accuracy {test_acc}");
    assert!(j["train_acc"].as_f64().expect("train_acc") >= test_acc - 0.1);
    assert!(j["val_acc"].as_f64().expect("val_acc") >= 0.85);
    let epochs = j["epochs"].as_u64().expect("epochs");
    assert!((1..=15).contains(&epochs));
    assert_eq!(j["params"], 64 * 64 + 64 + 64 * 10 + 10);
    let samples = &j["samples"];
    let total: u64 = ["train", "val", "test"]
        .iter()
        .map(|k| samples[k].as_u64().expect("count"))
        .sum();
    assert_eq!(total, 1797);
    assert!(
        run.stdout.contains("test"),
        "summary table:\n{}",
        run.stdout
    );
    for f in [
        "model.json",
        "test.csv",
        "learning_curve.png",
        "summary.json",
    ] {
        let meta = std::fs::metadata(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 0, "{f} is empty");
    }
    let png = std::fs::read(out.join("learning_curve.png")).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");

    let eval_dir = scratch("digits-eval");
    let eval = tinytune(&[
        "eval".as_ref(),
        "--model".as_ref(),
        out.as_os_str(),
        "--data".as_ref(),
        out.join("test.csv").as_os_str(),
        "--out".as_ref(),
        eval_dir.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(eval.code, Some(0), "stderr:\n{}", eval.stderr);
    let e = eval.json();
    assert_eq!(e["accuracy"].as_f64(), Some(test_acc));
    assert_eq!(e["samples"], samples["test"]);
    let confusion = e["confusion"].as_array().expect("confusion");
    assert_eq!(confusion.len(), 10);
    let diag: u64 = (0..10)
        .map(|c| confusion[c][c].as_u64().expect("count"))
        .sum();
    let n = samples["test"].as_u64().expect("count");
    assert!((diag as f64 / n as f64 - test_acc).abs() < 1e-6);
    assert!(eval.stdout.contains("confusion matrix"));
    assert!(std::fs::metadata(eval_dir.join("confusion.png")).is_ok());

    // The model file path works as well as its directory, and without --out no plot is made.
    let again = tinytune(&[
        "eval".as_ref(),
        "--model".as_ref(),
        out.join("model.json").as_os_str(),
        "--data".as_ref(),
        out.join("test.csv").as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(again.code, Some(0), "stderr:\n{}", again.stderr);
    assert_eq!(again.json()["accuracy"], e["accuracy"]);
}

/// The same seed gives the same figures; the TOML config sets the architecture.
#[test]
fn toml_config_sets_architecture_and_runs_are_reproducible() {
    let dir = scratch("toml");
    let config = common::write(
        &dir,
        "small.toml",
        "[model]\nhidden = [16, 8]\n\n[train]\nepochs = 3\nbatch = 64\noptimizer = \"sgd\"\nseed = 7\n",
    );
    let run = |out: &str| {
        tinytune(&[
            "train".as_ref(),
            "--data".as_ref(),
            digits().as_os_str(),
            "--out".as_ref(),
            dir.join(out).as_os_str(),
            "--config".as_ref(),
            config.as_os_str(),
            "--json".as_ref(),
        ])
    };
    let (a, b) = (run("a"), run("b"));
    assert_eq!(a.code, Some(0), "stderr:\n{}", a.stderr);
    let (ja, jb) = (a.json(), b.json());
    assert_eq!(ja["hidden"], serde_json::json!([16, 8]));
    assert_eq!(ja["params"], 64 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10);
    assert_eq!(ja["optimizer"], "sgd");
    assert_eq!(ja["seed"], 7);
    assert_eq!(ja["epochs"], 3);
    assert_eq!(ja["test_acc"], jb["test_acc"]);
    assert_eq!(ja["learning_curve"], jb["learning_curve"]);
}
