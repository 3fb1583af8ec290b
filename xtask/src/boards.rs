//! The firmware crates under `boards/` and their target triples.

use crate::demo_check::{Showcase, DEMO, TRANSFORMER, WORD2VEC};

/// A board crate: its directory under `boards/`, its target triple, and what CI runs of it.
pub struct Board {
    /// Directory name under `boards/`.
    pub dir: &'static str,
    /// The firmware binaries `cargo xtask size` reports.
    pub bins: &'static [&'static str],
    /// Self-check binaries and the exit status each must end with (fault paths).
    pub expected_exits: &'static [(&'static str, i32)],
    /// Whether the crate has on-target test suites (`cargo test` under QEMU); a board without
    /// them skips that step instead of failing for running no test.
    pub on_target_tests: bool,
    /// Where its binaries land, relative to the repository root: the `target-dir` of the
    /// crate's `.cargo/config.toml`, its target triple, `release`.
    pub bin_dir: &'static str,
    /// Whether QEMU runs it: CI runs an emulated board's firmware and on-target tests, and only
    /// builds a real board's (there is no board on the CI machine).
    pub emulated: bool,
    /// The runs whose summary line CI compares with a committed expected file and whose
    /// output checksum (if they run a model) with `tinytune eval`'s (emulated boards only).
    pub showcases: &'static [&'static Showcase],
    /// Whether it has the `bench` firmware `cargo xtask bench` runs (emulated boards only).
    pub bench: bool,
    /// The model runtime `cargo xtask size` reports (and CI holds to its budget), if the board
    /// measures one.
    pub runtime: Option<Runtime>,
}

/// A firmware that runs an embedded model, measured for what the model runtime costs: its
/// flash less the model file, and that less the flash of a baseline firmware with the same
/// startup, output and exit but no model.
pub struct Runtime {
    /// The firmware that runs the model.
    pub bin: &'static str,
    /// The model file it embeds, relative to the board's directory.
    pub model: &'static str,
    /// The same firmware without the model.
    pub baseline: &'static str,
    /// Bytes CI allows the runtime less the baseline: what running the model adds to a
    /// firmware, weights excluded (README, firmware size).
    pub budget: u64,
}

/// Every board crate. The emulated boards share one target directory per triple
/// (`target/boards/<triple>`, set in each crate's `.cargo/config.toml`), except `size-mlp`,
/// which builds the core with other features; each real board has its own
/// (`target/boards/<crate>`), because its binaries have the same names as an emulated board's
/// of the same triple.
pub const BOARDS: &[Board] = &[
    Board {
        dir: "qemu-m4",
        bin_dir: "target/boards/thumbv7em-none-eabihf/release",
        emulated: true,
        bins: &["demo", "xor", "transformer", "word2vec"],
        expected_exits: &[("hardfault", 3), ("panic", 101)],
        on_target_tests: true,
        showcases: &[&DEMO, &TRANSFORMER, &WORD2VEC],
        bench: true,
        runtime: None,
    },
    Board {
        dir: "qemu-m0",
        bin_dir: "target/boards/thumbv6m-none-eabi/release",
        emulated: true,
        bins: &["demo"],
        expected_exits: &[("hardfault", 3), ("panic", 101)],
        on_target_tests: true,
        showcases: &[&DEMO],
        bench: true,
        runtime: None,
    },
    Board {
        dir: "qemu-riscv",
        bin_dir: "target/boards/riscv32imac-unknown-none-elf/release",
        emulated: true,
        bins: &["demo", "word2vec"],
        expected_exits: &[("trap", 3), ("panic", 101)],
        on_target_tests: true,
        showcases: &[&DEMO, &WORD2VEC],
        bench: true,
        runtime: None,
    },
    // The smallest firmware that runs an int8 MLP `.ttm`, built with only the core's always-in op
    // kinds: what the model runtime costs in flash. Runs under QEMU (exit 0 when its output is
    // the host's); its own target dir, as its core features differ from the other boards'.
    Board {
        dir: "size-mlp",
        bin_dir: "target/boards/size-mlp/thumbv7em-none-eabihf/release",
        emulated: true,
        bins: &["mlp", "baseline"],
        expected_exits: &[("mlp", 0), ("baseline", 0)],
        on_target_tests: false,
        showcases: &[],
        bench: false,
        runtime: Some(Runtime {
            bin: "mlp",
            model: "data/mlp.ttm",
            baseline: "baseline",
            budget: 8 * 1024,
        }),
    },
    Board {
        dir: "microbit-v2",
        bin_dir: "target/boards/microbit-v2/thumbv7em-none-eabihf/release",
        emulated: false,
        bins: &["live", "demo"],
        expected_exits: &[],
        on_target_tests: false,
        showcases: &[],
        bench: false,
        runtime: None,
    },
    Board {
        dir: "rp-pico",
        bin_dir: "target/boards/rp-pico/thumbv6m-none-eabi/release",
        emulated: false,
        bins: &["demo"],
        expected_exits: &[],
        on_target_tests: false,
        showcases: &[],
        bench: false,
        runtime: None,
    },
    Board {
        dir: "esp32c3",
        bin_dir: "target/boards/esp32c3/riscv32imc-unknown-none-elf/release",
        emulated: false,
        bins: &["demo"],
        expected_exits: &[],
        on_target_tests: false,
        showcases: &[],
        bench: false,
        runtime: None,
    },
];

/// The targets the no_std core must build for.
pub const CORE_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imc-unknown-none-elf",
];
