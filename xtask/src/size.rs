//! `cargo xtask size`: flash and RAM of each firmware, from `llvm-size`; for a board that
//! measures a model runtime (`boards/size-mlp`), that runtime: the firmware's flash less its
//! embedded model, and that less a baseline firmware's.

use crate::boards::{Board, Runtime, BOARDS};
use crate::util::cargo;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// `llvm-size` from rustup's `llvm-tools` component, else from PATH.
fn llvm_size() -> PathBuf {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(root) = sysroot {
        if let Ok(entries) = std::fs::read_dir(Path::new(&root).join("lib/rustlib")) {
            for e in entries.flatten() {
                let candidate = e.path().join("bin/llvm-size");
                if candidate.exists() {
                    return candidate;
                }
            }
        }
    }
    PathBuf::from("llvm-size")
}

/// Bytes of one firmware, from the section list of `llvm-size -A`.
#[derive(Debug, Default, PartialEq)]
pub struct Sizes {
    /// What the flash holds: code, read-only data, and the initial values of `.data`.
    pub flash: u64,
    /// Initialized statics (in RAM, copied from flash at reset).
    pub data: u64,
    /// Zeroed and uninitialized statics.
    pub bss: u64,
}

/// The sizes of a built firmware `bin` of `board`.
pub fn firmware(root: &Path, board: &Board, bin: &str) -> Result<Sizes, String> {
    let elf = root.join(board.bin_dir).join(bin);
    match Command::new(llvm_size()).arg("-A").arg(&elf).output() {
        Ok(out) if out.status.success() => Ok(sizes(&String::from_utf8_lossy(&out.stdout))),
        Ok(out) => Err(format!(
            "llvm-size failed on {}: {}",
            elf.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("cannot run llvm-size on {}: {e}", elf.display())),
    }
}

/// A model runtime measured (see [`Runtime`]).
#[derive(Debug, PartialEq)]
pub struct RuntimeSizes {
    /// Flash of the firmware that runs the model.
    pub flash: u64,
    /// Bytes of the embedded model file.
    pub model: u64,
    /// Flash of the baseline firmware (startup, output, exit).
    pub baseline: u64,
}

impl RuntimeSizes {
    /// Flash less the model: everything but the weights.
    pub fn with_startup(&self) -> u64 {
        self.flash.saturating_sub(self.model)
    }

    /// That less the baseline: what running the model adds to a firmware.
    pub fn runtime(&self) -> u64 {
        self.with_startup().saturating_sub(self.baseline)
    }

    /// The line `cargo xtask size` prints.
    pub fn line(&self, rt: &Runtime) -> String {
        format!(
            "model runtime of {}: flash {} B - model {} ({} B) = {} B; - baseline {} B = {} B (budget {} B)",
            rt.bin,
            self.flash,
            rt.model,
            self.model,
            self.with_startup(),
            self.baseline,
            self.runtime(),
            rt.budget
        )
    }
}

/// Measures `rt` of `board` from its built firmwares and its model file.
pub fn runtime(root: &Path, board: &Board, rt: &Runtime) -> Result<RuntimeSizes, String> {
    let path = root.join("boards").join(board.dir).join(rt.model);
    let model = std::fs::metadata(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    Ok(RuntimeSizes {
        flash: firmware(root, board, rt.bin)?.flash,
        model,
        baseline: firmware(root, board, rt.baseline)?.flash,
    })
}

/// Sorts the sections: cortex-m-rt's `.vector_table`, riscv-rt's `.init`/`.init.rust` and
/// `.eh_frame`, and `.text`/`.rodata` are flash; `.data` is both; `.bss`/`.uninit` are RAM. The
/// NOLOAD `.heap` and `.stack` reservations of riscv-rt (all the RAM left) are not statics.
fn sizes(sections: &str) -> Sizes {
    let mut s = Sizes::default();
    for line in sections.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(size)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        match name {
            ".vector_table" | ".init" | ".init.rust" | ".text" | ".rodata" | ".eh_frame" => {
                s.flash += size
            }
            ".data" => {
                s.flash += size;
                s.data += size;
            }
            ".bss" | ".uninit" => s.bss += size,
            _ => {}
        }
    }
    s
}

pub fn run(root: &Path) -> ExitCode {
    let mut ok = true;
    let mut runtimes = Vec::new();
    println!(
        "{:<12} {:<10} {:>10} {:>10} {:>10}",
        "board", "firmware", "flash (B)", ".data (B)", ".bss (B)"
    );
    for board in BOARDS {
        let dir = root.join("boards").join(board.dir);
        if !cargo(&dir, &["build", "--release", "--bins"])
            .status()
            .is_ok_and(|s| s.success())
        {
            println!("{:<12} build failed", board.dir);
            ok = false;
            continue;
        }
        for bin in board.bins {
            match firmware(root, board, bin) {
                Ok(s) => println!(
                    "{:<12} {:<10} {:>10} {:>10} {:>10}",
                    board.dir, bin, s.flash, s.data, s.bss
                ),
                Err(e) => {
                    println!("{:<12} {:<10} {e}", board.dir, bin);
                    ok = false;
                }
            }
        }
        if let Some(rt) = &board.runtime {
            match runtime(root, board, rt) {
                Ok(r) => runtimes.push(format!("{}: {}", board.dir, r.line(rt))),
                Err(e) => {
                    runtimes.push(format!("{}: {e}", board.dir));
                    ok = false;
                }
            }
        }
    }
    for line in runtimes {
        println!("{line}");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::{sizes, RuntimeSizes, Sizes};

    #[test]
    fn the_runtime_leaves_out_the_model_then_the_baseline() {
        let r = RuntimeSizes {
            flash: 12_552,
            model: 3_888,
            baseline: 1_276,
        };
        assert_eq!(r.with_startup(), 8_664);
        assert_eq!(r.runtime(), 7_388);
    }

    #[test]
    fn sorts_cortex_m_sections() {
        let out = "demo  :\nsection size addr\n.vector_table 192 0\n.text 3972 192\n\
                   .rodata 632 4164\n.data 8 536870912\n.bss 44 536870920\n.uninit 4 0\n\
                   .debug_info 9999 0\nTotal 191440\n";
        let want = Sizes {
            flash: 192 + 3972 + 632 + 8,
            data: 8,
            bss: 48,
        };
        assert_eq!(sizes(out), want);
    }

    #[test]
    fn leaves_out_riscv_rt_stack_and_heap_reservations() {
        let out = ".text.dummy 0 0\n.text 4580 0\n.init.rust 22 0\n.rodata 908 0\n\
                   .eh_frame 1180 0\n.data 0 0\n.bss 65556 0\n.heap 0 0\n.stack 4128748 0\n";
        let want = Sizes {
            flash: 4580 + 22 + 908 + 1180,
            data: 0,
            bss: 65556,
        };
        assert_eq!(sizes(out), want);
    }
}
