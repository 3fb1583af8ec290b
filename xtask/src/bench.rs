//! `cargo xtask bench`: runs the `bench` firmware of every emulated board (release, under
//! QEMU's `-icount`, exact instruction counts), prints the `bench <core> <name> insns=… macs=…
//! insns_per_mac=…` lines it printed, then one markdown table of every measurement next to the
//! CMSIS-NN figures and the targets. It is a measurement: a missed target does not fail it; a
//! firmware that fails or prints no measurement does.

use crate::boards::BOARDS;
use crate::util::cargo;
use std::path::Path;
use std::process::{ExitCode, Stdio};

/// One measurement line of a board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `m4`, `m0` or `rv32`.
    pub core: String,
    /// The bench's name (`dense_s8_640x128`, …).
    pub name: String,
    /// Guest instructions of the call.
    pub insns: u64,
    /// Multiply-accumulates of the call (0 for the softmax, counted per call).
    pub macs: u64,
}

/// A reference figure and the target for one bench on one core. `per_call` figures are
/// instructions per call, the others instructions per MAC.
struct Anchor {
    core: &'static str,
    name: &'static str,
    /// What the figure is from.
    source: &'static str,
    figure: f64,
    target: Option<f64>,
    per_call: bool,
}

/// Instruction counts on QEMU 7.2 (`-icount`, SysTick), as `boards/common/src/bench.rs` counts:
/// CMSIS-NN at commit 99f736a built with arm-none-eabi-gcc 12.2 `-O2`, default configuration,
/// the DSP (SMLAD) path on the M4 and the ARMv6-M code on the M0; for the f32 dense, a naive C
/// loop with hard-float FMA. The targets are the figures tinytune aims for.
const ANCHORS: &[Anchor] = &[
    anchor("m4", "dense_s8_640x128", "CMSIS-NN", 1.954, Some(1.9)),
    anchor("m4", "dense_s8_128x128", "CMSIS-NN", 2.270, Some(2.2)),
    anchor("m4", "dense_s8_128x8", "CMSIS-NN", 2.398, Some(2.4)),
    anchor("m4", "conv2d_s8_3x3_16x16x16", "CMSIS-NN", 2.331, Some(2.3)),
    anchor(
        "m4",
        "depthwise_s8_3x3_16x16x16",
        "CMSIS-NN",
        8.285,
        Some(4.0),
    ),
    Anchor {
        per_call: true,
        ..anchor("m4", "softmax_s8_10", "CMSIS-NN", 5385.0, Some(2500.0))
    },
    anchor("m4", "dense_f32_640x128", "naive C", 5.014, Some(2.5)),
    anchor("m0", "dense_s8_640x128", "CMSIS-NN", 6.187, Some(5.5)),
    anchor("m0", "dense_s8_128x128", "CMSIS-NN", 6.809, None),
    anchor("m0", "dense_s8_128x8", "CMSIS-NN", 7.563, None),
    anchor("m0", "conv2d_s8_3x3_16x16x16", "CMSIS-NN", 7.556, None),
    anchor("m0", "depthwise_s8_3x3_16x16x16", "CMSIS-NN", 38.06, None),
    Anchor {
        per_call: true,
        ..anchor("m0", "softmax_s8_10", "CMSIS-NN", 19689.0, None)
    },
];

const fn anchor(
    core: &'static str,
    name: &'static str,
    source: &'static str,
    figure: f64,
    target: Option<f64>,
) -> Anchor {
    Anchor {
        core,
        name,
        source,
        figure,
        target,
        per_call: false,
    }
}

/// The measurement in a `bench <core> <name> insns=<n> macs=<n> insns_per_mac=<x>` line
/// (surrounding whitespace allowed), or `None` for any other line.
pub fn parse_line(line: &str) -> Option<Line> {
    let mut words = line.split_whitespace();
    if words.next()? != "bench" {
        return None;
    }
    let core = words.next()?.to_string();
    let name = words.next()?.to_string();
    let field = |word: Option<&str>, key: &str| -> Option<u64> {
        word?.strip_prefix(key)?.strip_prefix('=')?.parse().ok()
    };
    let insns = field(words.next(), "insns")?;
    let macs = field(words.next(), "macs")?;
    words.next()?.strip_prefix("insns_per_mac=")?;
    Some(Line {
        core,
        name,
        insns,
        macs,
    })
}

/// Every measurement line of a run's output.
pub fn parse(output: &str) -> Vec<Line> {
    output.lines().filter_map(parse_line).collect()
}

/// `meets`, or `misses by X %` (how far above the target, one decimal).
fn verdict(measured: f64, target: f64) -> String {
    if measured <= target {
        "meets".into()
    } else {
        format!("misses by {:.1} %", (measured / target - 1.0) * 100.0)
    }
}

/// An integer with commas between groups of three digits (`5,385`).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The markdown table of `lines`: per measurement its instructions, MACs, instructions per
/// MAC, the reference figure on the same core and the target with the verdict (`–` where
/// there is none). Softmax figures are per call.
pub fn table(lines: &[Line]) -> String {
    let mut out = String::from(
        "| bench | core | instructions | MACs | instr/MAC | reference (same core) | target | |\n\
         |---|---|---:|---:|---:|---|---:|---|\n",
    );
    for l in lines {
        let anchor = ANCHORS
            .iter()
            .find(|a| a.core == l.core && a.name == l.name);
        let per_mac = (l.macs > 0).then(|| l.insns as f64 / l.macs as f64);
        let ratio = per_mac.map_or("–".into(), |r| format!("{r:.3}"));
        let (reference, target, verdict) = match anchor {
            Some(a) => {
                // Per-call figures are whole instructions; targets are given to one decimal.
                let fmt = |v: f64, decimals: usize| {
                    if a.per_call {
                        grouped(v as u64)
                    } else {
                        format!("{v:.decimals$}")
                    }
                };
                let measured = if a.per_call {
                    Some(l.insns as f64)
                } else {
                    per_mac
                };
                let target = a.target.map_or("–".into(), |t| format!("≤ {}", fmt(t, 1)));
                let verdict = match (a.target, measured) {
                    (Some(t), Some(m)) => verdict(m, t),
                    _ => "–".into(),
                };
                let unit = if a.per_call { " per call" } else { "" };
                (
                    format!("{} {}{unit}", a.source, fmt(a.figure, 3)),
                    target,
                    verdict,
                )
            }
            None => ("–".into(), "–".into(), "–".into()),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
            l.name,
            l.core,
            grouped(l.insns),
            grouped(l.macs),
            ratio,
            reference,
            target,
            verdict
        ));
    }
    out
}

/// Runs the `bench` firmware of every emulated board, prints the measurement lines and the
/// table. Fails if a firmware fails or prints no measurement.
pub fn run(root: &Path) -> ExitCode {
    let mut lines = Vec::new();
    let mut ok = true;
    for board in BOARDS.iter().filter(|b| b.emulated && b.bench) {
        let dir = root.join("boards").join(board.dir);
        // Build messages go to the terminal; the firmware's output is collected.
        let out = cargo(&dir, &["run", "--release", "--quiet", "--bin", "bench"])
            .stderr(Stdio::inherit())
            .output();
        let (status, text) = match &out {
            Ok(o) => (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            ),
            Err(e) => {
                println!("{}: cannot run cargo: {e}", board.dir);
                (None, String::new())
            }
        };
        let found = parse(&text);
        for l in text.lines().filter(|l| parse_line(l).is_some()) {
            println!("{}", l.trim());
        }
        if status != Some(0) || found.is_empty() {
            println!(
                "{}: the bench firmware failed (exit status {status:?}); its output:\n{text}",
                board.dir
            );
            ok = false;
        }
        lines.extend(found);
    }
    println!();
    print!("{}", table(&lines));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(core: &str, name: &str, insns: u64, macs: u64) -> Line {
        Line {
            core: core.into(),
            name: name.into(),
            insns,
            macs,
        }
    }

    #[test]
    fn parses_measurement_lines_only() {
        let out = "meter m4: an empty region counts 33 instructions\n\
                   bench m4 dense_s8_128x8 insns=2048 macs=1024 insns_per_mac=2.000\n\
                   \x20 bench m0 softmax_s8_10 insns=7000 macs=0 insns_per_mac=- \n\
                   bench m4 broken insns=12 macs=x insns_per_mac=1.000\n\
                   bench m4 short insns=12\n\
                   benchmark m4 x insns=1 macs=1 insns_per_mac=1.000\n\
                   stack: 6924 B used at most, of 7188 B\n";
        assert_eq!(
            parse(out),
            vec![
                line("m4", "dense_s8_128x8", 2048, 1024),
                line("m0", "softmax_s8_10", 7000, 0),
            ]
        );
    }

    #[test]
    fn table_compares_with_the_anchors_and_targets() {
        let lines = [
            // 1.8 instr/MAC against a target of 1.9: met.
            line("m4", "dense_s8_640x128", 147_456, 81_920),
            // 2.5 against 2.2: 13.636… % over.
            line("m4", "dense_s8_128x128", 40_960, 16_384),
            // Per call: 3,000 against 2,500: 20 % over.
            line("m4", "softmax_s8_10", 3000, 0),
            // An anchor without a target.
            line("m0", "dense_s8_128x8", 8192, 1024),
            // No anchor at all.
            line("rv32", "model_digits_student", 100_000, 4000),
        ];
        let t = table(&lines);
        let rows: Vec<&str> = t.lines().collect();
        assert_eq!(rows.len(), 2 + lines.len());
        assert_eq!(
            rows[2],
            "| `dense_s8_640x128` | m4 | 147,456 | 81,920 | 1.800 | CMSIS-NN 1.954 | ≤ 1.9 | meets |"
        );
        assert_eq!(
            rows[3],
            "| `dense_s8_128x128` | m4 | 40,960 | 16,384 | 2.500 | CMSIS-NN 2.270 | ≤ 2.2 | misses by 13.6 % |"
        );
        assert_eq!(
            rows[4],
            "| `softmax_s8_10` | m4 | 3,000 | 0 | – | CMSIS-NN 5,385 per call | ≤ 2,500 | misses by 20.0 % |"
        );
        assert_eq!(
            rows[5],
            "| `dense_s8_128x8` | m0 | 8,192 | 1,024 | 8.000 | CMSIS-NN 7.563 | – | – |"
        );
        assert_eq!(
            rows[6],
            "| `model_digits_student` | rv32 | 100,000 | 4,000 | 25.000 | – | – | – |"
        );
    }

    #[test]
    fn a_target_met_exactly_is_met() {
        assert_eq!(verdict(2.4, 2.4), "meets");
        assert_eq!(verdict(4.4, 4.0), "misses by 10.0 %");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(10_658_952), "10,658,952");
    }
}
