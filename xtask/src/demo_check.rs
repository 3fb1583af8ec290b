//! Checks of the emulated boards' demo output: the summary line (the run's last line) must
//! equal the board's committed `expected/demo.txt`, and the checksum of the int8 outputs the
//! board printed must equal what `tinytune eval` computes on the host for the same model file
//! and samples (bit-for-bit agreement of device and host). `cargo xtask bless` rewrites the
//! expected files from fresh runs after an intended change.

use crate::boards::BOARDS;
use crate::util::cargo;
use std::path::Path;
use std::process::ExitCode;

/// Prefix of the demo's summary line.
pub const SUMMARY: &str = "tinytune-demo: acc_clean=";
/// Prefix of the demo's checksum line.
const CRC: &str = "tinytune-demo: outputs_crc32=";

/// The committed expected summary line of a board.
pub fn expected_path(root: &Path, board: &str) -> std::path::PathBuf {
    root.join("boards").join(board).join("expected/demo.txt")
}

/// The summary line, if it is the last non-empty line of `output` (stdout of `cargo run`).
pub fn summary_line(output: &str) -> Option<&str> {
    let last = output.lines().rev().find(|l| !l.trim().is_empty())?.trim();
    last.starts_with(SUMMARY).then_some(last)
}

/// The `outputs_crc32=0x…` value the board printed.
pub fn board_crc(output: &str) -> Option<&str> {
    let line = output.lines().find(|l| l.trim().starts_with(CRC))?.trim();
    line.strip_prefix(CRC)?.split_whitespace().next()
}

/// The checksum `tinytune eval --json` prints for the demo's model and samples (the CLI as
/// the host tests built it, so nothing is rebuilt).
pub fn host_crc(root: &Path) -> Result<String, String> {
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
            &data.join("student.ttm").display().to_string(),
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

/// Compares a board's demo output with its expected summary and the host's checksum; returns
/// the two verdicts with an explanation for a failure.
pub fn check(
    root: &Path,
    board: &str,
    output: &str,
    host_crc: &Result<String, String>,
) -> [(String, Result<(), String>); 2] {
    let expected = std::fs::read_to_string(expected_path(root, board))
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("no expected output: {e}"));
    let summary = match (summary_line(output), expected) {
        (Some(got), Ok(want)) if got == want => Ok(()),
        (Some(got), Ok(want)) => Err(format!(
            "summary differs from expected/demo.txt\n  got:  {got}\n  want: {want}\n  (after an intended change: cargo xtask bless)"
        )),
        (None, _) => Err("the run's last line is not the demo's summary".into()),
        (_, Err(e)) => Err(e),
    };
    let crc = match (board_crc(output), host_crc) {
        (Some(b), Ok(h)) if b == h => Ok(()),
        (Some(b), Ok(h)) => Err(format!("board outputs CRC {b}, tinytune eval {h}")),
        (None, _) => Err("the board printed no outputs_crc32".into()),
        (_, Err(e)) => Err(e.clone()),
    };
    [
        (format!("{board} demo summary matches expected"), summary),
        (format!("{board} int8 outputs equal tinytune eval"), crc),
    ]
}

/// `cargo xtask bless`: runs every emulated board's demo and writes its summary line to
/// `expected/demo.txt`.
pub fn bless(root: &Path) -> ExitCode {
    let mut ok = true;
    for board in BOARDS.iter().filter(|b| b.demo) {
        let dir = root.join("boards").join(board.dir);
        let out = cargo(&dir, &["run", "--release"]).output();
        let text = out
            .as_ref()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        match summary_line(&text) {
            Some(line) => {
                let path = expected_path(root, board.dir);
                let written = path
                    .parent()
                    .map(std::fs::create_dir_all)
                    .transpose()
                    .and_then(|_| std::fs::write(&path, format!("{line}\n")));
                match written {
                    Ok(()) => println!("{}: {line}", board.dir),
                    Err(e) => {
                        println!("{}: cannot write {}: {e}", board.dir, path.display());
                        ok = false;
                    }
                }
            }
            None => {
                println!("{}: the demo printed no summary line", board.dir);
                ok = false;
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
            summary_line(out),
            Some("tinytune-demo: acc_clean=0.5 reload=ok")
        );
        assert_eq!(board_crc(out), Some("0x0000abcd"));
        assert_eq!(
            summary_line("tinytune-demo: acc_clean=1\nstack: 3 B\n"),
            None
        );
    }
}
