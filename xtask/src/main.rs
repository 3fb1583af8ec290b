//! `cargo xtask`: the one entry point for CI.
fn main() {}
