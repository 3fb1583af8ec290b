//! `cargo xtask <command>`: the one entry point for CI.
//!
//! - `ci`: formatting, clippy (host and the three targets), the host tests, docs, the no_std
//!   cross builds of the core, and the on-target tests of every emulated board. Every step runs
//!   even if an earlier one failed; the run ends with one line `N passed, N failed` (each host
//!   and on-target test counts once, each other step as one check).
//! - `size`: flash and RAM of each firmware (release build, `llvm-size`).
//! - `bench`: instruction counts of the kernels, one inference and one fine-tuning step on
//!   every emulated board (their `bench` firmware), one line each, then a table next to the
//!   CMSIS-NN figures and the targets. A measurement: missed targets do not fail it.
//! - `bless`: runs the emulated boards' demos (and the transformer and word2vec showcases) and writes their
//!   summary lines to `boards/<board>/expected/<bin>.txt`, which `ci` compares with (after an
//!   intended change).
//! - `vectors`: regenerates the committed on-target test vectors from the host references.
//! - `demo-data`: regenerates the boards' demo data (`boards/common/data/`: the distilled
//!   student and the held-out samples, the transformer student, the word2vec vectors);
//!   `demo-data word2vec` only the word2vec vectors (seconds instead of minutes).

mod bench;
mod boards;
mod ci;
mod demo_check;
mod size;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = util::workspace_root();
    match args.first().map(String::as_str) {
        Some("ci") => ci::run(&root),
        Some("size") => size::run(&root),
        Some("bench") => bench::run(&root),
        Some("bless") => demo_check::bless(&root),
        Some(cmd @ ("vectors" | "demo-data")) => {
            let bins: &[&str] = match (cmd, args.get(1).map(String::as_str)) {
                ("vectors", _) => &["gen-vectors"],
                (_, Some("word2vec")) => &["gen_word2vec_data"],
                _ => &["gen_demo_data", "gen_word2vec_data"],
            };
            let run = |bin: &str| {
                util::cargo(
                    &root,
                    &[
                        "run",
                        "--release",
                        "--quiet",
                        "-p",
                        "tinytune-host-tests",
                        "--bin",
                        bin,
                    ],
                )
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
            };
            if bins.iter().all(|bin| run(bin)) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | size | bench | bless | vectors | demo-data [word2vec]>"
            );
            ExitCode::from(2)
        }
    }
}
