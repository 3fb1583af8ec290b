//! The firmware crates under `boards/` and their target triples.

/// A board crate: its directory under `boards/`, its target triple, and whether QEMU runs it.
pub struct Board {
    /// Directory name under `boards/`.
    pub dir: &'static str,
    /// Rust target triple (must match the crate's `.cargo/config.toml`).
    pub target: &'static str,
    /// The firmware binaries `cargo xtask size` reports.
    pub bins: &'static [&'static str],
    /// Self-check binaries and the exit status each must end with (fault paths).
    pub expected_exits: &'static [(&'static str, i32)],
}

/// Every board crate. All of them are emulated today, so CI runs their on-target tests.
pub const BOARDS: &[Board] = &[Board {
    dir: "qemu-m4",
    target: "thumbv7em-none-eabihf",
    bins: &["demo"],
    expected_exits: &[("hardfault", 3), ("panic", 101)],
}];

/// The targets the no_std core must build for.
pub const CORE_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imc-unknown-none-elf",
];
