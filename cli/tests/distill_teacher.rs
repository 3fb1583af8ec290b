//! `tinytune distill --teacher`: two-stage distillation from a `tinytune train` output, with
//! and without `--teacher-weights`, and its errors.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{assert_fails, digits, scratch, tinytune, write};

/// A teacher trained once per test binary: `train --data digits --arch 128 --epochs 20`
/// (seed 0, the same split as `distill`'s default seed).
fn teacher() -> &'static PathBuf {
    static TEACHER: OnceLock<PathBuf> = OnceLock::new();
    TEACHER.get_or_init(|| {
        let dir = scratch("distill_teacher_T");
        let run = tinytune(&[
            "train".as_ref(),
            "--data".as_ref(),
            digits().as_os_str(),
            "--arch".as_ref(),
            "128".as_ref(),
            "--epochs".as_ref(),
            "20".as_ref(),
            "--out".as_ref(),
            dir.as_os_str(),
        ]);
        assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
        dir
    })
}

/// `distill --data digits --teacher T [extra…] --out out --epochs 8 --json`.
fn distill(out: &Path, extra: &[&std::ffi::OsStr]) -> common::Run {
    let data = digits();
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "distill".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--teacher".as_ref(),
        teacher().as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--epochs".as_ref(),
        "8".as_ref(),
        "--json".as_ref(),
    ];
    args.extend_from_slice(extra);
    tinytune(&args)
}

/// The test accuracy `train` reported for the teacher (its `summary.json`).
fn train_test_acc() -> f64 {
    let text = std::fs::read_to_string(teacher().join("summary.json")).expect("summary.json");
    let j: serde_json::Value = serde_json::from_str(&text).expect("json");
    j["test_acc"].as_f64().expect("test_acc")
}

/// The teacher is evaluated on the same test split and standardisation as `train` used, so its
/// accuracy is exactly the one `train` reported; the student distilled for 8 epochs (seed 0)
/// reaches ≥ 0.9 in f32 and int8; the default KD setting is T 4, α 0.7; `student.ttm` is the
/// file whose size is reported. Then the teacher's weights exported as safetensors and read
/// back with `--teacher-weights` give bit-identical results (the round trip is exact), also
/// read with `--pytorch-layout` (dense tensors are laid out alike).
#[test]
fn distill_from_teacher_and_from_its_safetensors_export() {
    let out = scratch("distill_teacher_D");
    let run = distill(&out, &[]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j = run.json();
    assert_eq!(j["mode"], "two-stage", "{j}");
    let teacher_acc = j["teacher_acc"].as_f64().expect("teacher_acc");
    assert_eq!(teacher_acc, train_test_acc(), "{j}");
    assert!(teacher_acc >= 0.9, "{j}");
    for key in [
        "student_distilled_acc",
        "student_int8_acc",
        "student_alone_acc",
    ] {
        let acc = j[key].as_f64().unwrap_or(0.0);
        assert!(acc >= 0.9, "{key} = {acc}: {j}");
    }
    assert_eq!(j["kd_temperature"], 4.0, "{j}");
    assert_eq!(j["kd_alpha"], 0.7, "{j}");
    assert_eq!(j["teacher_params"], 64 * 128 + 128 + 128 * 10 + 10, "{j}");
    let ttm = std::fs::metadata(out.join("student.ttm")).expect("student.ttm written");
    assert_eq!(Some(ttm.len()), j["flash_bytes"].as_u64(), "{j}");
    assert!(out.join("student.safetensors").is_file());

    let exported = scratch("distill_teacher_E");
    let run = tinytune(&[
        "export".as_ref(),
        "--model".as_ref(),
        teacher().as_os_str(),
        "--out".as_ref(),
        exported.as_os_str(),
        "--safetensors".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let weights = exported.join("model.safetensors");
    let out2 = scratch("distill_teacher_D2");
    let run = distill(&out2, &["--teacher-weights".as_ref(), weights.as_os_str()]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let j2 = run.json();
    for key in [
        "teacher_acc",
        "student_alone_acc",
        "student_distilled_acc",
        "student_int8_acc",
    ] {
        assert_eq!(j[key], j2[key], "{key}: {j} vs {j2}");
    }
    // Dense weights have the same layout in PyTorch's convention: the same teacher again.
    let out3 = scratch("distill_teacher_D3");
    let run = distill(
        &out3,
        &[
            "--teacher-weights".as_ref(),
            weights.as_os_str(),
            "--pytorch-layout".as_ref(),
        ],
    );
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    assert_eq!(j["teacher_acc"], run.json()["teacher_acc"]);
}

/// Weights of another architecture (a teacher with 64 hidden units, exported) for the
/// 128-unit teacher: exit status 1, the message names the first layer's weight tensor.
#[test]
fn teacher_weights_of_the_wrong_shape_name_the_tensor() {
    let dir = scratch("distill_teacher_wrong");
    let small = dir.join("small");
    let run = tinytune(&[
        "train".as_ref(),
        "--data".as_ref(),
        digits().as_os_str(),
        "--arch".as_ref(),
        "64".as_ref(),
        "--epochs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        small.as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let exported = dir.join("E");
    let run = tinytune(&[
        "export".as_ref(),
        "--model".as_ref(),
        small.as_os_str(),
        "--out".as_ref(),
        exported.as_os_str(),
        "--safetensors".as_ref(),
    ]);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let weights = exported.join("model.safetensors");
    let run = distill(
        &dir.join("D"),
        &["--teacher-weights".as_ref(), weights.as_os_str()],
    );
    assert_fails(&run, 1, &["layers.0.dense.weight", "model.safetensors"]);
}

/// A CSV of 3 features for the 64-input teacher: exit status 1, the message gives both
/// widths; `--teacher-weights` without `--teacher` is a usage error (status 2).
#[test]
fn teacher_of_another_input_width_is_an_error() {
    let dir = scratch("distill_teacher_width");
    let mut csv = String::from("a,b,c,label\n");
    for i in 0..30 {
        csv.push_str(&format!("{i},{},{},{}\n", i * 2, i % 7, i % 2));
    }
    let data: PathBuf = write(&dir, "narrow.csv", &csv);
    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--teacher".as_ref(),
        teacher().as_os_str(),
        "--out".as_ref(),
        dir.join("D").as_os_str(),
    ]);
    assert_fails(&run, 1, &["teacher takes 64 input features", "have 3"]);
    let run = tinytune(&[
        "distill".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--teacher-weights".as_ref(),
        "w.safetensors".as_ref(),
        "--out".as_ref(),
        dir.join("D").as_os_str(),
    ]);
    assert_fails(&run, 2, &["--teacher"]);
}
