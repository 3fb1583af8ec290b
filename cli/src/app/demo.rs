//! `tinytune demo`: the distillation [`pipeline`](super::pipeline) on the bundled handwritten
//! digits, one table (teacher / student alone / distilled / int8: accuracy, parameters, flash
//! and arena bytes) and with `--json` one JSON object as the last stdout line.
//!
//! The data default to [`DIGITS`]: `data/digits.csv` of the repository, found from the
//! `tinytune-cli` crate's `CARGO_MANIFEST_DIR` at compile time (so a binary moved away from
//! its source tree needs `--data`).

use super::args::DemoArgs;
use super::AppError;

/// The bundled digits data: `CARGO_MANIFEST_DIR/../data/digits.csv`, fixed at compile time.
pub const DIGITS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv");

/// Runs `tinytune demo`.
///
/// # Errors
/// As [`super::distill::run`] (e.g. the digits file is not where it was at build time).
pub fn run(args: &DemoArgs) -> Result<(), AppError> {
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(DIGITS));
    super::distill::run_on("demo", &data, &args.out, &args.common, true)
}
