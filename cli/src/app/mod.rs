//! The `tinytune` command line as a library: argument definitions ([`args`]), the commands
//! ([`train`], [`eval`]) and what they are built from (the multi-layer perceptron in [`mlp`] and
//! its training loop in [`fit`], the data preparation in [`dataset`], the saved-model file in
//! [`saved`], tables and JSON in [`report`], PNG plots in [`plot`], progress bars in
//! [`progress`], architectures from flags or TOML in [`arch`]).
//!
//! Every failure is an [`AppError`] whose message says what is wrong and where (file, line,
//! column or field); `main` prints it and exits with status 1. Commands that are declared but
//! not built yet exit with status 2 (see [`NOT_AVAILABLE_EXIT`]).

pub mod arch;
pub mod args;
pub mod dataset;
pub mod demo;
pub mod distill;
pub mod eval;
pub mod fit;
pub mod joint;
pub mod mlp;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod report;
pub mod saved;
pub mod train;

use std::fmt;

use args::{Cli, Command};

/// Exit status of an error in a command (bad data, unreadable file, …).
pub const ERROR_EXIT: i32 = 1;
/// Exit status of a declared command that is not available yet (and of clap's usage errors).
pub const NOT_AVAILABLE_EXIT: i32 = 2;

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
/// The command's [`AppError`]; a command that is not available yet gives one with exit status
/// [`NOT_AVAILABLE_EXIT`].
pub fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Train(a) => train::run(&a),
        Command::Eval(a) => eval::run(&a),
        // Extension points: these commands are declared so `--help` lists them; each is wired
        // to its module once that exists (distillation: `tinytune::train::distill`; quantize,
        // inspect, export: `crate::{model, quantize, safetensors}`; demo: a board session).
        Command::Distill(a) => distill::run(&a),
        Command::Quantize(_) => not_available("quantize"),
        Command::Inspect(_) => not_available("inspect"),
        Command::Export(_) => not_available("export"),
        Command::Demo(a) => demo::run(&a),
    }
}

/// The error of a declared command that is not built yet.
fn not_available(command: &str) -> Result<(), AppError> {
    Err(AppError {
        message: format!("`tinytune {command}` is not available yet"),
        exit_code: NOT_AVAILABLE_EXIT,
    })
}
