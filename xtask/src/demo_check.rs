//! Checks of the emulated boards' demo output: the summary line (the run's last line) must
//! equal the board's committed `expected/demo.txt`, and the checksum of the int8 outputs the
//! board printed must equal what `tinytune eval` computes on the host for the same model file
//! and samples (bit-for-bit agreement of device and host). A showcase without a model to
//! evaluate (word2vec) carries its checksum in the summary line, and a host test reproduces
//! it. `cargo xtask bless` rewrites the expected files from fresh runs after an intended
//! change.

use crate::boards::BOARDS;
use crate::util::cargo;
use std::path::Path;
use std::process::ExitCode;

/// A firmware run whose output CI checks: its last line against a committed expected file, and
/// (with a model) the checksum of its int8 outputs against `tinytune eval` on the host.
pub struct Showcase {
    /// The binary (`cargo run --release --bin <bin>`).
    pub bin: &'static str,
    /// The expected summary line, `boards/<board>/expected/<expected>`.
    pub expected: &'static str,
    /// Prefix of the summary line (the run's last line).
    pub summary: &'static str,
    /// Prefix of the checksum line (unused without a model).
    pub crc: &'static str,
    /// The model file the board runs, under `boards/common/data/` (evaluated on
    /// `holdout.csv` there); `None` for a showcase whose checksum is in its summary line and
    /// checked by a host test instead.
    pub model: Option<&'static str>,
}

/// The fine-tuning demo (every emulated board).
pub const DEMO: Showcase = Showcase {
    bin: "demo",
    expected: "demo.txt",
    summary: "tinytune-demo: acc_clean=",
    crc: "tinytune-demo: outputs_crc32=",
    model: Some("student.ttm"),
};

/// The transformer student (the Cortex-M4F).
pub const TRANSFORMER: Showcase = Showcase {
    bin: "transformer",
    expected: "transformer.txt",
    summary: "transformer: acc_f32=",
    crc: "transformer: outputs_crc32=",
    model: Some("transformer-int8.ttm"),
};

/// Word vectors looked up in flash and trained further on the device (the Cortex-M4F). The
/// summary line ends with the CRC-32 of the trained vectors, which the host test
/// `host-tests/tests/word2vec_device.rs` reproduces from the same data and seeds.
pub const WORD2VEC: Showcase = Showcase {
    bin: "word2vec",
    expected: "word2vec.txt",
    summary: "word2vec: vocab=",
    crc: "",
    model: None,
};

impl Showcase {
    /// The committed expected summary line of a board.
    pub fn expected_path(&self, root: &Path, board: &str) -> std::path::PathBuf {
        root.join("boards")
            .join(board)
            .join("expected")
            .join(self.expected)
    }

    /// The summary line, if it is the last non-empty line of `output` (stdout of `cargo run`).
    pub fn summary_line<'a>(&self, output: &'a str) -> Option<&'a str> {
        let last = output.lines().rev().find(|l| !l.trim().is_empty())?.trim();
        last.starts_with(self.summary).then_some(last)
    }

    /// The `outputs_crc32=0x…` value the board printed.
    pub fn board_crc<'a>(&self, output: &'a str) -> Option<&'a str> {
        let line = output
            .lines()
            .find(|l| l.trim().starts_with(self.crc))?
            .trim();
        line.strip_prefix(self.crc)?.split_whitespace().next()
    }

    /// The checksum `tinytune eval --json` prints for the model and samples (the CLI as the
    /// host tests built it, so nothing is rebuilt).
    pub fn host_crc(&self, root: &Path) -> Result<String, String> {
        let model = self
            .model
            .ok_or_else(|| format!("{} has no model to evaluate", self.bin))?;
        let data = root.join("boards/common/data");
        let out = cargo(
            root,
            &[
                "run",
                "--quiet",
                "--profile",
                "test",
                "-p",
                "tinytune-cli",
                "--bin",
                "tinytune",
                "--",
                "eval",
                "--model",
                &data.join(model).display().to_string(),
                "--data",
                &data.join("holdout.csv").display().to_string(),
                "--json",
            ],
        )
        .output()
        .map_err(|e| format!("cannot run tinytune eval: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let json = text.lines().last().unwrap_or_default();
        let key = "\"outputs_crc32\":\"";
        let start = json
            .find(key)
            .ok_or_else(|| format!("tinytune eval printed no outputs_crc32: {json}"))?
            + key.len();
        let end = json[start..]
            .find('"')
            .ok_or_else(|| format!("malformed JSON: {json}"))?;
        Ok(json[start..start + end].to_string())
    }

    /// Compares a board's output with its expected summary and (with a model) the host's
    /// checksum; returns the verdicts with an explanation for a failure.
    pub fn check(
        &self,
        root: &Path,
        board: &str,
        output: &str,
        host_crc: &Result<String, String>,
    ) -> Vec<(String, Result<(), String>)> {
        let expected = std::fs::read_to_string(self.expected_path(root, board))
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("no expected output: {e}"));
        let summary = match (self.summary_line(output), expected) {
            (Some(got), Ok(want)) if got == want => Ok(()),
            (Some(got), Ok(want)) => Err(format!(
                "summary differs from expected/{}\n  got:  {got}\n  want: {want}\n  (after an intended change: cargo xtask bless)",
                self.expected
            )),
            (None, _) => Err(format!("the run's last line is not the {} summary", self.bin)),
            (_, Err(e)) => Err(e),
        };
        let mut verdicts = vec![(
            format!("{board} {} summary matches expected", self.bin),
            summary,
        )];
        if self.model.is_some() {
            let crc = match (self.board_crc(output), host_crc) {
                (Some(b), Ok(h)) if b == h => Ok(()),
                (Some(b), Ok(h)) => Err(format!("board outputs CRC {b}, tinytune eval {h}")),
                (None, _) => Err("the board printed no outputs_crc32".into()),
                (_, Err(e)) => Err(e.clone()),
            };
            verdicts.push((
                format!("{board} {} int8 outputs equal tinytune eval", self.bin),
                crc,
            ));
        }
        verdicts
    }
}

/// `cargo xtask bless`: runs every emulated board's showcases and writes each summary line to
/// its expected file.
pub fn bless(root: &Path) -> ExitCode {
    let mut ok = true;
    for board in BOARDS {
        for show in board.showcases {
            let dir = root.join("boards").join(board.dir);
            let out = cargo(&dir, &["run", "--release", "--bin", show.bin]).output();
            let text = out
                .as_ref()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            match show.summary_line(&text) {
                Some(line) => {
                    let path = show.expected_path(root, board.dir);
                    let written = path
                        .parent()
                        .map(std::fs::create_dir_all)
                        .transpose()
                        .and_then(|_| std::fs::write(&path, format!("{line}\n")));
                    match written {
                        Ok(()) => println!("{} {}: {line}", board.dir, show.bin),
                        Err(e) => {
                            println!("{}: cannot write {}: {e}", board.dir, path.display());
                            ok = false;
                        }
                    }
                }
                None => {
                    println!("{} {}: no summary line", board.dir, show.bin);
                    ok = false;
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_summary_only_as_the_last_line() {
        let out = "x\ntinytune-demo: outputs_crc32=0x0000abcd clean=1/2\ntinytune-demo: acc_clean=0.5 reload=ok\n\n";
        assert_eq!(
            DEMO.summary_line(out),
            Some("tinytune-demo: acc_clean=0.5 reload=ok")
        );
        assert_eq!(DEMO.board_crc(out), Some("0x0000abcd"));
        assert_eq!(
            DEMO.summary_line("tinytune-demo: acc_clean=1\nstack: 3 B\n"),
            None
        );
        assert_eq!(TRANSFORMER.summary_line(out), None);
        assert_eq!(WORD2VEC.summary_line(out), None);
        let w = "word2vec: vocab=42 dim=16 vectors_crc32=0x1\n";
        assert_eq!(
            WORD2VEC.summary_line(w),
            Some("word2vec: vocab=42 dim=16 vectors_crc32=0x1")
        );
    }

    #[test]
    fn a_showcase_without_a_model_is_checked_on_its_summary_alone() {
        let root = crate::util::workspace_root();
        let want = std::fs::read_to_string(WORD2VEC.expected_path(&root, "qemu-m4")).unwrap();
        let verdicts = WORD2VEC.check(&root, "qemu-m4", &want, &Ok(String::new()));
        assert_eq!(verdicts.len(), 1);
        assert!(verdicts[0].1.is_ok(), "{:?}", verdicts[0]);
        let other = want.replace("vectors_crc32=0x", "vectors_crc32=0x0");
        let verdicts = WORD2VEC.check(&root, "qemu-m4", &other, &Ok(String::new()));
        assert!(verdicts[0].1.is_err());
        assert!(WORD2VEC.host_crc(&root).is_err());
    }
}
