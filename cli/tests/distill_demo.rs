//! `tinytune demo` and `tinytune distill` end to end.

mod common;

use common::{assert_fails, scratch, tinytune, write};

/// `demo --json` runs on the bundled digits and its last stdout line is one JSON object with
/// every documented key: accuracies as fractions in [0, 1], sizes as positive integers, the
/// convolutional architecture (the 64 features are an 8×8 image) with its 1,370-parameter
/// student, and the table lists the four models.
#[test]
fn demo_json_last_line_has_every_key() {
    let out = scratch("demo");
    let run = tinytune(&[
        "demo".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--epochs".as_ref(),
        "20".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j = run.json();
    for key in [
        "teacher_acc",
        "student_alone_acc",
        "student_distilled_acc",
        "student_int8_acc",
    ] {
        let acc = j[key].as_f64().unwrap_or_else(|| panic!("{key}: {j}"));
        assert!((0.0..=1.0).contains(&acc), "{key} = {acc}");
    }
    for key in ["params", "flash_bytes", "arena_bytes"] {
        assert!(j[key].as_u64().unwrap_or(0) > 0, "{key}: {j}");
    }
    assert!(j["student_int8_acc"].as_f64().unwrap_or(0.0) >= 0.9, "{j}");
    assert_eq!(j["architecture"], "conv", "{j}");
    // The deployable int8 student is the file whose size the table reports.
    let ttm = std::fs::metadata(out.join("student.ttm")).expect("student.ttm written");
    assert_eq!(Some(ttm.len()), j["flash_bytes"].as_u64(), "{j}");
    assert!(out.join("student.safetensors").is_file());
    assert_eq!(j["params"], 9 * 8 + 8 + 128 * 10 + 10, "{j}");
    for row in [
        "teacher",
        "student alone",
        "distilled student (f32)",
        "(int8)",
    ] {
        assert!(
            run.stdout.contains(row),
            "table lacks {row}:\n{}",
            run.stdout
        );
    }
    assert!(out.join("summary.json").exists());
}

/// `distill` on a well-formed CSV with fewer samples than 3 per class exits with status 1 and
/// says so; on a malformed CSV (a non-numeric value) it names the line; a KD temperature
/// without its alpha is a usage error (status 2).
#[test]
fn distill_rejects_too_small_and_malformed_data() {
    let dir = scratch("distill-bad");
    let small = write(
        &dir,
        "small.csv",
        "a,b,label\n0,1,0\n1,0,1\n0.5,0.5,2\n1,1,0\n",
    );
    let out = dir.join("out");
    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        small.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_fails(&run, 1, &["too few samples", "3 classes"]);

    let bad = write(&dir, "bad.csv", "a,b,label\n0,1,0\n1,x,1\n");
    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        bad.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_fails(&run, 1, &["bad.csv", "line 3"]);

    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        small.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--kd-temperature".as_ref(),
        "3".as_ref(),
    ]);
    assert_fails(&run, 2, &["--kd-alpha"]);
}

/// `distill` on a small but sufficient synthetic data set (3 separable classes, 30 samples
/// each, two features: not an image, so the MLP architecture) with a KD term runs and reports a
/// distilled student far above chance.
#[test]
fn distill_small_synthetic_data_with_kd_runs() {
    let dir = scratch("distill-small");
    let mut text = String::from("x,y,label\n");
    for i in 0..90 {
        let class = i % 3;
        let jitter = (i / 3) as f32 * 0.01;
        let (x, y) = [(0.0, 0.0), (3.0, 0.0), (0.0, 3.0)][class];
        text.push_str(&format!("{},{},{class}\n", x + jitter, y - jitter));
    }
    let data = write(&dir, "three.csv", &text);
    let out = dir.join("out");
    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--kd-temperature".as_ref(),
        "3".as_ref(),
        "--kd-alpha".as_ref(),
        "0.5".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j = run.json();
    assert!(
        j["student_distilled_acc"].as_f64().unwrap_or(0.0) >= 0.9,
        "{j}"
    );
    assert_eq!(j["kd_temperature"], 3.0);
    assert_eq!(j["architecture"], "mlp", "{j}");
}
