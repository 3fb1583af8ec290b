//! `cargo xtask ci`: every check CI runs, each one run even if others fail. The closing line
//! counts each host test and each on-target test once, and each other step (fmt, clippy, docs,
//! cross builds, the board demo run) as one check.

use crate::boards::{BOARDS, CORE_TARGETS};
use crate::size;
use crate::util::cargo;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Tally of checks.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
        }
    }
}

/// Runs `cmd`, writes its combined output to `target/ci-logs/<name>.log`, prints a one-line
/// verdict (and the log's tail on failure). Returns success and the output.
fn step(root: &Path, name: &str, cmd: Command) -> (bool, String) {
    let (ok, text, _) = step_stdout(root, name, cmd);
    (ok, text)
}

/// [`step`], also returning stdout alone (a firmware's output without cargo's messages).
fn step_stdout(root: &Path, name: &str, mut cmd: Command) -> (bool, String, String) {
    let start = Instant::now();
    let result = cmd.output();
    let secs = start.elapsed().as_secs_f32();
    let (ok, text, stdout) = match result {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut text = stdout.clone();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            (out.status.success(), text, stdout)
        }
        Err(e) => (
            false,
            format!("could not start {cmd:?}: {e}"),
            String::new(),
        ),
    };
    let logs = root.join("target").join("ci-logs");
    let _ = fs::create_dir_all(&logs);
    let log = logs.join(format!("{}.log", name.replace(['/', ' '], "_")));
    let _ = fs::write(&log, &text);
    println!("{} {name} ({secs:.1} s)", if ok { "PASS" } else { "FAIL" });
    if !ok {
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(40)..];
        for line in tail {
            println!("    | {line}");
        }
        println!("    (full log: {})", log.display());
    }
    (ok, text, stdout)
}

/// Counts defmt-test results in the output of `cargo test` on a board: each test binary prints
/// `(k/N) running `name`...` before each test and `all tests passed!` at the end; it stops at the
/// first failing test, so a binary that did not finish counts its last started test and every
/// test it never reached as failed.
pub fn count_defmt_tests(output: &str) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    let mut current: Option<(usize, usize)> = None; // (k, N) of the last started test
    let mut close = |current: &mut Option<(usize, usize)>, all_passed: bool| {
        if let Some((k, n)) = current.take() {
            if all_passed {
                passed += n;
            } else {
                passed += k - 1;
                failed += n - (k - 1);
            }
        }
    };
    for line in output.lines() {
        let line = line.trim();
        if line.starts_with("Running ") {
            close(&mut current, false);
        } else if let Some(rest) = line.strip_prefix('(') {
            if let Some((frac, tail)) = rest.split_once(')') {
                if tail.trim_start().starts_with("running") {
                    if let Some((k, n)) = frac.split_once('/') {
                        if let (Ok(k), Ok(n)) = (k.parse(), n.parse()) {
                            current = Some((k, n));
                        }
                    }
                }
            }
        } else if line.ends_with("all tests passed!") {
            close(&mut current, true);
        }
    }
    close(&mut current, false);
    (passed, failed)
}

/// Sums the `test result: ok. N passed; M failed; ...` lines of `cargo test` output.
pub fn count_cargo_tests(output: &str) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            if let [.., n, kind] = words.as_slice() {
                if let Ok(n) = n.parse::<usize>() {
                    match *kind {
                        "passed" => passed += n,
                        "failed" => failed += n,
                        _ => {}
                    }
                }
            }
        }
    }
    (passed, failed)
}

pub fn run(root: &Path) -> ExitCode {
    let mut t = Tally::default();
    let check = |t: &mut Tally, name: &str, cmd: Command| {
        let (ok, _) = step(root, name, cmd);
        t.record(name, ok);
    };

    check(
        &mut t,
        "fmt",
        cargo(root, &["fmt", "--all", "--", "--check"]),
    );
    check(
        &mut t,
        "clippy host",
        cargo(
            root,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    check(
        &mut t,
        "clippy host all-features",
        cargo(
            root,
            &[
                "clippy",
                "-p",
                "tinytune",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    // Host tests count one by one: a failing step without a result line (a build error)
    // counts as one failure.
    for (name, args) in [
        ("test", &["test", "--workspace"][..]),
        (
            "test fast-math",
            &["test", "-p", "tinytune", "--lib", "--features", "fast-math"][..],
        ),
        // The core with only its always-in op kinds: the int8 MLP path runs, every other
        // kind is refused by name (`model::support`'s tests check both sides).
        (
            "test no-default-features",
            &["test", "-p", "tinytune", "--lib", "--no-default-features"][..],
        ),
    ] {
        let (ok, out) = step(root, name, cargo(root, args));
        let (p, f) = count_cargo_tests(&out);
        println!("    {name}: {p} passed, {f} failed");
        t.passed += p;
        t.failed += f;
        if !ok && f == 0 {
            t.failed += 1;
        }
        if !ok {
            t.failures.push(name.to_string());
        }
    }
    let mut doc = cargo(
        root,
        &[
            "doc",
            "-p",
            "tinytune",
            "-p",
            "tinytune-cli",
            "-p",
            "tinytune-board-common",
            "--no-deps",
            "--all-features",
        ],
    );
    doc.env("RUSTDOCFLAGS", "-D warnings");
    check(&mut t, "doc", doc);

    // The core alone, as its own package, so no std dependency of a host crate can leak in
    // through feature unification; with its default features (every op kind), with none (the
    // op kinds a small firmware keeps) and with all.
    for target in CORE_TARGETS {
        for (label, features) in [
            ("default features", None),
            ("no default features", Some("--no-default-features")),
            ("all features", Some("--all-features")),
        ] {
            let mut build = vec!["build", "-p", "tinytune", "--release", "--target", target];
            build.extend(features);
            check(
                &mut t,
                &format!("build {target} {label}"),
                cargo(root, &build),
            );
            let mut clippy = vec!["clippy", "-p", "tinytune", "--target", target];
            clippy.extend(features);
            clippy.extend(["--", "-D", "warnings"]);
            check(
                &mut t,
                &format!("clippy {target} {label}"),
                cargo(root, &clippy),
            );
        }
    }

    let mut host_crcs = std::collections::HashMap::new();
    for board in BOARDS {
        let dir = root.join("boards").join(board.dir);
        check(
            &mut t,
            &format!("{} fmt", board.dir),
            cargo(&dir, &["fmt", "--", "--check"]),
        );
        check(
            &mut t,
            &format!("{} clippy", board.dir),
            cargo(
                &dir,
                &[
                    "clippy",
                    "--release",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ),
        );
        if !board.emulated {
            check(
                &mut t,
                &format!("{} build", board.dir),
                cargo(&dir, &["build", "--release", "--bins"]),
            );
            continue;
        }
        let run_name = format!("{} build", board.dir);
        let (ok, _, _) = step_stdout(
            root,
            &run_name,
            cargo(&dir, &["build", "--release", "--bins"]),
        );
        t.record(&run_name, ok);
        if let Some(rt) = &board.runtime {
            let name = format!("{} model runtime within {} B", board.dir, rt.budget);
            let verdict = size::runtime(root, board, rt).and_then(|r| {
                if r.runtime() <= rt.budget {
                    Ok(r.line(rt))
                } else {
                    Err(r.line(rt))
                }
            });
            let ok = verdict.is_ok();
            println!("{} {name}", if ok { "PASS" } else { "FAIL" });
            println!("    | {}", verdict.unwrap_or_else(|e| e));
            t.record(&name, ok);
        }
        for show in board.showcases {
            let name = format!("{} {}", board.dir, show.bin);
            let (ok, _, out) = step_stdout(
                root,
                &name,
                cargo(&dir, &["run", "--release", "--bin", show.bin]),
            );
            t.record(&name, ok);
            // Only a showcase with a model has a host checksum to compute.
            let host = host_crcs.entry(show.model).or_insert_with(|| {
                show.model
                    .map_or(Ok(String::new()), |_| show.host_crc(root))
            });
            for (name, verdict) in show.check(root, board.dir, &out, host) {
                println!("{} {name}", if verdict.is_ok() { "PASS" } else { "FAIL" });
                if let Err(why) = &verdict {
                    for line in why.lines() {
                        println!("    | {line}");
                    }
                }
                t.record(&name, verdict.is_ok());
            }
        }
        for &(bin, code) in board.expected_exits {
            let name = format!("{} {bin} exits {code}", board.dir);
            let result = cargo(&dir, &["run", "--release", "--bin", bin]).output();
            let got = result.as_ref().ok().and_then(|o| o.status.code());
            let ok = got == Some(code);
            println!("{} {name} (got {got:?})", if ok { "PASS" } else { "FAIL" });
            t.record(&name, ok);
        }
        if !board.on_target_tests {
            println!("    {}: no on-target tests", board.dir);
            continue;
        }
        let name = format!("{} on-target tests", board.dir);
        let (ok, out) = step(
            root,
            &name,
            cargo(&dir, &["test", "--release", "--no-fail-fast"]),
        );
        let (p, f) = count_defmt_tests(&out);
        println!("    {}: {p} passed, {f} failed on target", board.dir);
        t.passed += p;
        t.failed += f;
        if !ok || f > 0 || p == 0 {
            t.failed += usize::from(f == 0);
            t.failures.push(name);
        }
    }

    if !t.failures.is_empty() {
        println!("failed: {}", t.failures.join("; "));
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    if t.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::count_defmt_tests;

    #[test]
    fn counts_a_clean_run() {
        let out = "     Running tests/a.rs (x)\n(1/2) running `a`...\n(2/2) running `b`...\nall tests passed!\n";
        assert_eq!(count_defmt_tests(out), (2, 0));
    }

    #[test]
    fn counts_a_failure_and_the_tests_never_reached() {
        let out = "Running tests/a.rs\n(1/3) running `a`...\n(2/3) running `b`...\npanicked\n\
                   Running tests/b.rs\n(1/1) running `c`...\nall tests passed!\n";
        assert_eq!(count_defmt_tests(out), (2, 2));
    }

    #[test]
    fn sums_cargo_test_result_lines() {
        let out = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out\n\
                   test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(super::count_cargo_tests(out), (15, 2));
    }

    #[test]
    fn counts_nothing_without_output() {
        assert_eq!(count_defmt_tests("error: could not compile"), (0, 0));
    }
}
