//! `quantize`, `inspect` and `export` end to end on the digits data: a model trained by `train`
//! becomes an int8 `.ttm` within one point of its f32 accuracy, `inspect` reads it back, `export`
//! writes the f32 file, the firmware snippet and safetensors; corrupt files are clear errors.

mod common;

use common::{assert_fails, digits, scratch, tinytune, write};

/// Trains a small model into `dir` and returns its path.
fn trained(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("trained");
    let run = tinytune(&[
        "train",
        "--data",
        digits().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "15",
        "--arch",
        "32",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    out
}

#[test]
fn quantize_inspect_and_export_a_trained_model() {
    let dir = scratch("ttm-commands");
    let model = trained(&dir);
    let q_out = dir.join("int8");
    let run = tinytune(&[
        "quantize",
        "--model",
        model.to_str().unwrap(),
        "--data",
        digits().to_str().unwrap(),
        "--out",
        q_out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let q = run.json();
    let (f32_acc, int8_acc) = (
        q["f32_acc"].as_f64().unwrap(),
        q["int8_acc"].as_f64().unwrap(),
    );
    assert!(f32_acc > 0.9, "{q}");
    assert!((f32_acc - int8_acc).abs() <= 0.01, "{q}");
    let ttm = q_out.join("model.ttm");
    assert_eq!(
        std::fs::metadata(&ttm).unwrap().len() as u64,
        q["flash_bytes"].as_u64().unwrap()
    );

    // `eval` runs the int8 file through the core's `Model::run` and compares it with the f32
    // model it came from: the same figures as `quantize` printed.
    let run = tinytune(&[
        "eval",
        "--model",
        ttm.to_str().unwrap(),
        "--reference",
        model.to_str().unwrap(),
        "--data",
        digits().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let e = run.json();
    assert_eq!(e["accuracy"].as_f64(), q["int8_acc"].as_f64(), "{e}");
    assert_eq!(
        e["reference_accuracy"].as_f64(),
        q["f32_acc"].as_f64(),
        "{e}"
    );
    assert_eq!(e["agreement"].as_f64(), q["agreement"].as_f64(), "{e}");

    let run = tinytune(&["inspect", ttm.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let i = run.json();
    assert_eq!(i["flash_bytes"], q["flash_bytes"]);
    assert_eq!(i["arena_bytes"], q["arena_bytes"]);
    assert_eq!(i["input_len"], 64);
    assert_eq!(i["classes"], 10);
    // 64·32 + 32·10 weights and 32 + 10 biases; MACs the weights.
    assert_eq!(i["params"], 64 * 32 + 32 * 10 + 32 + 10);
    assert_eq!(i["macs"], 64 * 32 + 32 * 10);
    assert!(run.stdout.contains("DenseS8"), "{}", run.stdout);

    let e_out = dir.join("export");
    let run = tinytune(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--out",
        e_out.to_str().unwrap(),
        "--safetensors",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for f in ["model.ttm", "model.rs", "model.safetensors"] {
        assert!(e_out.join(f).is_file(), "{f} missing");
    }
    let snippet = std::fs::read_to_string(e_out.join("model.rs")).unwrap();
    assert!(
        snippet.contains("include_model!(\"model.ttm\")"),
        "{snippet}"
    );
    let run = tinytune(&["inspect", e_out.join("model.ttm").to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("Dense"), "{}", run.stdout);

    // A .ttm as export input is validated and copied.
    let c_out = dir.join("copy");
    let run = tinytune(&[
        "export",
        "--model",
        ttm.to_str().unwrap(),
        "--out",
        c_out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        std::fs::read(c_out.join("model.ttm")).unwrap(),
        std::fs::read(&ttm).unwrap()
    );
}

#[test]
fn corrupt_or_missing_model_files_are_clear_errors() {
    let dir = scratch("ttm-corrupt");
    let text = write(&dir, "not-a-model.ttm", "hello, this is not a model");
    let run = tinytune(&["inspect", text.to_str().unwrap()]);
    assert_fails(&run, 1, &["not-a-model.ttm", "model file"]);
    let run = tinytune(&["inspect", dir.join("missing.ttm").to_str().unwrap()]);
    assert_fails(&run, 1, &["missing.ttm"]);

    // A valid file with one flipped byte in the middle: the CRC names the damage.
    let model = trained(&dir);
    let out = dir.join("e");
    let run = tinytune(&[
        "export",
        "--model",
        model.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut bytes = std::fs::read(out.join("model.ttm")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    let bad = dir.join("flipped.ttm");
    std::fs::write(&bad, &bytes).unwrap();
    let run = tinytune(&["inspect", bad.to_str().unwrap()]);
    assert_fails(&run, 1, &["flipped.ttm"]);
    let run = tinytune(&[
        "eval",
        "--model",
        bad.to_str().unwrap(),
        "--data",
        digits().to_str().unwrap(),
    ]);
    assert_fails(&run, 1, &["flipped.ttm"]);
    // A good model file with data of the wrong width: the data file and line are named.
    let narrow = write(&dir, "narrow.csv", "a,b,label\n1,2,0\n");
    let run = tinytune(&[
        "eval",
        "--model",
        out.join("model.ttm").to_str().unwrap(),
        "--data",
        narrow.to_str().unwrap(),
    ]);
    assert_fails(&run, 1, &["narrow.csv", "line 1", "64"]);
    let run = tinytune(&[
        "quantize",
        "--model",
        bad.to_str().unwrap(),
        "--data",
        digits().to_str().unwrap(),
        "--out",
        dir.join("q").to_str().unwrap(),
    ]);
    assert_fails(&run, 1, &[]);
}

/// Bitwise CRC-32 (zlib), written out independently of the crate's table-driven one.
fn crc32_bitwise(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn eval_prints_the_checksum_of_every_output_a_device_compares_with() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ttm = root.join("boards/common/data/student.ttm");
    let csv = root.join("boards/common/data/holdout.csv");
    let run = tinytune(&[
        "eval",
        "--model",
        ttm.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let printed = run.json()["outputs_crc32"].as_str().unwrap().to_string();

    // The same model run one sample at a time, as a device does.
    let file = tinytune_cli::ttm::load(&ttm).unwrap();
    let model = file.model().unwrap();
    let data = tinytune_cli::csv::load_labeled_csv(&csv).unwrap();
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    let mut requant = vec![tinytune::num::quant::Requantizer::ZERO; model.requant_len()];
    let mut out = vec![0f32; model.output_len()];
    let mut all = Vec::new();
    for i in 0..data.len() {
        model
            .run(1, data.row(i).unwrap(), &mut arena, &mut requant, &mut out)
            .unwrap();
        all.extend(out.iter().flat_map(|v| v.to_le_bytes()));
    }
    assert_eq!(all.len(), data.len() * 10 * 4);
    assert_eq!(printed, format!("{:#010x}", crc32_bitwise(&all)));
}
