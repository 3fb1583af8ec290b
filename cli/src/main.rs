//! `tinytune`: the command line (see `tinytune --help` and `tinytune_cli::app`).
//!
//! Exit status: 0 on success; 1 when a command fails (the message on stderr says what is wrong
//! and where); 2 for a usage error (unknown flag, bad value) or a command not available yet.

use clap::Parser;
use tinytune_cli::app::{self, args::Cli};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = app::run(cli) {
        eprintln!("tinytune: error: {e}");
        std::process::exit(e.exit_code);
    }
}
