//! Shared helpers of the CLI integration tests: run the built binary, make scratch directories
//! and files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's digits data.
pub fn digits() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/digits.csv")
}

/// A fresh, empty scratch directory for the test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// The result of one run of the binary.
pub struct Run {
    /// Exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The last line of stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        let last = self.stdout.lines().last().expect("stdout is empty");
        serde_json::from_str(last).unwrap_or_else(|e| panic!("last line {last:?}: {e}"))
    }
}

/// Runs `tinytune args…`.
pub fn tinytune<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_tinytune"))
        .args(args)
        .output()
        .expect("run tinytune");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Asserts that the run failed with `code`, without a panic, and that stderr contains every
/// string of `needles`.
pub fn assert_fails(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(
        run.code,
        Some(code),
        "exit status; stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "the process panicked:\n{}",
        run.stderr
    );
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "stderr lacks {n:?}:\n{}",
            run.stderr
        );
    }
}
