//! The tiny transformer classifier for the digits read as sequences (8 rows of 8 pixels): the
//! command line's model and training loop (`tinytune_cli::app::transformer`), re-exported for
//! the host tests.

pub use tinytune_cli::app::transformer::{fit, Spec, Train, Trained};
