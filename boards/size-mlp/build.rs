//! Puts memory.x on the linker search path (cortex-m-rt's link.x includes it), and turns the
//! sample of `data/sample.csv` and the host's answer for it (`data/expected.txt`) into the
//! constants of `src/bin/mlp.rs` (`$OUT_DIR/sample.rs`).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("memory.x is next to build.rs");
    println!("cargo:rustc-link-search={}", out.display());

    // data/sample.csv: a header, then one row of 64 pixel values (0..=16) and the label.
    let csv = fs::read_to_string("data/sample.csv").expect("data/sample.csv");
    let row = csv
        .lines()
        .nth(1)
        .expect("data/sample.csv has a header and one row");
    let values: Vec<u8> = row
        .split(',')
        .map(|v| v.trim().parse().expect("data/sample.csv: integer values"))
        .collect();
    let (label, pixels) = values
        .split_last()
        .expect("data/sample.csv: a non-empty row");
    // data/expected.txt: `class N` and `outputs_crc32 0x...`, as `tinytune eval` printed them.
    let expected = fs::read_to_string("data/expected.txt").expect("data/expected.txt");
    let field = |name: &str| {
        expected
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("data/expected.txt: no `{name}` line"))
    };
    let class: u32 = field("class").parse().expect("class N");
    let crc = field("outputs_crc32");
    let crc = u32::from_str_radix(crc.trim_start_matches("0x"), 16).expect("outputs_crc32 0x...");
    let code = format!(
        "/// The sample's pixels (`data/sample.csv`).\n\
         const PIXELS: [u8; {}] = {pixels:?};\n\
         /// Its label in the data set.\n\
         const LABEL: u32 = {label};\n\
         /// The class the host's `Model::run` gives it (`tinytune eval`).\n\
         const EXPECTED_CLASS: u32 = {class};\n\
         /// CRC-32 of the host's output values, little-endian `f32` bytes (`tinytune eval`).\n\
         const EXPECTED_CRC: u32 = {crc:#010x};\n",
        pixels.len()
    );
    fs::write(out.join("sample.rs"), code).expect("OUT_DIR is writable");
    for f in [
        "memory.x",
        "build.rs",
        "data/sample.csv",
        "data/expected.txt",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }
}
