//! [`PipelineError`]: the error of the host-side model pipeline (model building, running,
//! quantization, safetensors), always saying where it happened.

use std::fmt;
use std::path::PathBuf;

/// An error of the host-side model pipeline. Its `Display` names the operation or tensor at
/// fault (`op 3 (dense)`, `tensor layers.0.dense.weight`, …) and what is wrong.
#[derive(Debug)]
pub enum PipelineError {
    /// A core function rejected the data of an operation (a shape, a quantization parameter…).
    Core {
        /// Where: the operation (`op 2 (conv2d)`) and the step.
        at: String,
        /// The core error.
        error: tinytune::Error,
    },
    /// The model, an argument or a file is not usable, for the stated reason.
    Invalid {
        /// Where: the operation, tensor or argument.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

impl PipelineError {
    /// A [`PipelineError::Invalid`].
    pub fn invalid(at: impl Into<String>, reason: impl Into<String>) -> Self {
        PipelineError::Invalid {
            at: at.into(),
            reason: reason.into(),
        }
    }

    /// A [`PipelineError::Core`].
    pub fn core(at: impl Into<String>, error: impl Into<tinytune::Error>) -> Self {
        PipelineError::Core {
            at: at.into(),
            error: error.into(),
        }
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::Core { at, error } => write!(f, "{at}: {error}"),
            PipelineError::Invalid { at, reason } => write!(f, "{at}: {reason}"),
            PipelineError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for PipelineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PipelineError::Core { error, .. } => Some(error),
            PipelineError::Io { error, .. } => Some(error),
            PipelineError::Invalid { .. } => None,
        }
    }
}

/// Result of the pipeline.
pub type Result<T> = std::result::Result<T, PipelineError>;

/// Adds a location to a core result.
pub(crate) trait At<T> {
    /// Maps the error to [`PipelineError::Core`] at `at()`.
    fn at(self, at: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<tinytune::Error>> At<T> for std::result::Result<T, E> {
    fn at(self, at: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| PipelineError::core(at(), e))
    }
}
