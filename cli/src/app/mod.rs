//! The `tinytune` command line as a library: argument definitions ([`args`]), the commands
//! ([`train`], [`eval`], [`distill`], [`quantize`], [`inspect`], [`export`], [`demo`]) and what
//! they are built from (the multi-layer perceptron in [`mlp`] and
//! its training loop in [`fit`], the data preparation in [`dataset`], the saved-model file in
//! [`saved`], tables and JSON in [`report`], PNG plots in [`plot`], progress bars in
//! [`progress`], architectures from flags or TOML in [`arch`], the transformer classifier of
//! `train --model transformer` and `distill --student transformer` in [`transformer`]).
//!
//! Every failure is an [`AppError`] whose message says what is wrong and where (file, line,
//! column or field); `main` prints it and exits with status 1. Usage errors (clap) exit with
//! status 2.

pub mod arch;
pub mod args;
pub mod dataset;
pub mod demo;
pub mod distill;
pub mod eval;
pub mod export;
pub mod fit;
pub mod inspect;
pub mod joint;
pub mod mlp;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod quantize;
pub mod report;
pub mod saved;
pub mod train;
pub mod transformer;
pub mod two_stage;
pub mod word2vec;

use std::fmt;

use args::{Cli, Command};

/// Exit status of an error in a command (bad data, unreadable file, …).
pub const ERROR_EXIT: i32 = 1;

/// A failure of a command: a complete, human-readable message (it names the file and the line,
/// column or field at fault where there is one) and the process exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// What went wrong, and where.
    pub message: String,
    /// The exit status for it.
    pub exit_code: i32,
}

impl AppError {
    /// An error with exit status [`ERROR_EXIT`].
    pub fn new(message: impl Into<String>) -> Self {
        AppError {
            message: message.into(),
            exit_code: ERROR_EXIT,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<crate::csv::CsvError> for AppError {
    fn from(e: crate::csv::CsvError) -> Self {
        AppError::new(e.to_string())
    }
}

/// Runs the parsed command line. What a command prints goes to stdout (results) and stderr
/// (progress, warnings).
///
/// # Errors
/// The command's [`AppError`].
pub fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Train(a) => train::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Distill(a) => distill::run(&a),
        Command::Quantize(a) => quantize::run(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Word2vec(a) => word2vec::run(&a),
    }
}
