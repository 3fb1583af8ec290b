//! `cargo xtask size`: flash and RAM of each firmware, from `llvm-size`.

use crate::boards::BOARDS;
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
struct Sizes {
    /// What the flash holds: code, read-only data, and the initial values of `.data`.
    flash: u64,
    /// Initialized statics (in RAM, copied from flash at reset).
    data: u64,
    /// Zeroed and uninitialized statics.
    bss: u64,
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
    let size = llvm_size();
    let mut ok = true;
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
        let bin_dir = root.join(board.bin_dir);
        for bin in board.bins {
            let elf = bin_dir.join(bin);
            match Command::new(&size).arg("-A").arg(&elf).output() {
                Ok(out) if out.status.success() => {
                    let s = sizes(&String::from_utf8_lossy(&out.stdout));
                    println!(
                        "{:<12} {:<10} {:>10} {:>10} {:>10}",
                        board.dir, bin, s.flash, s.data, s.bss
                    );
                }
                _ => {
                    println!(
                        "{:<12} {:<10} llvm-size failed on {}",
                        board.dir,
                        bin,
                        elf.display()
                    );
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
    use super::{sizes, Sizes};

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
