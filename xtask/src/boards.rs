//! The firmware crates under `boards/` and their target triples.

/// A board crate: its directory under `boards/`, its target triple, and what CI runs of it.
pub struct Board {
    /// Directory name under `boards/`.
    pub dir: &'static str,
    /// Rust target triple (must match the crate's `.cargo/config.toml`).
    pub target: &'static str,
    /// The firmware binaries `cargo xtask size` reports.
    pub bins: &'static [&'static str],
    /// Self-check binaries and the exit status each must end with (fault paths).
    pub expected_exits: &'static [(&'static str, i32)],
    /// Whether the crate has on-target test suites (`cargo test` under QEMU); a board without
    /// them skips that step instead of failing for running no test.
    pub on_target_tests: bool,
    /// Whether `cargo run --release` is the fine-tuning demo, whose summary line CI compares
    /// with `expected/demo.txt` and whose output checksum with `tinytune eval`'s.
    pub demo: bool,
}

/// Every board crate; all of them run under QEMU. Boards built for the same triple share one
/// target directory (`target/boards/<triple>`, set in each crate's `.cargo/config.toml`).
pub const BOARDS: &[Board] = &[
    Board {
        dir: "qemu-m4",
        target: "thumbv7em-none-eabihf",
        bins: &["demo", "xor"],
        expected_exits: &[("hardfault", 3), ("panic", 101)],
        on_target_tests: true,
        demo: true,
    },
    Board {
        dir: "qemu-m0",
        target: "thumbv6m-none-eabi",
        bins: &["demo"],
        expected_exits: &[("hardfault", 3), ("panic", 101)],
        on_target_tests: true,
        demo: true,
    },
    Board {
        dir: "qemu-riscv",
        target: "riscv32imac-unknown-none-elf",
        bins: &["demo"],
        expected_exits: &[("trap", 3), ("panic", 101)],
        on_target_tests: true,
        demo: true,
    },
];

/// The targets the no_std core must build for.
pub const CORE_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imc-unknown-none-elf",
];
