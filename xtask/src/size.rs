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

/// Flash (`.vector_table` + `.text` + `.rodata` + `.data`) and RAM (`.data` + `.bss` + `.uninit`)
/// from the section list of `llvm-size -A`.
fn flash_ram(sections: &str) -> (u64, u64) {
    let (mut flash, mut ram) = (0, 0);
    for line in sections.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some(size)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<u64>() else {
            continue;
        };
        match name {
            ".vector_table" | ".text" | ".rodata" | ".eh_frame" => flash += size,
            ".data" => {
                flash += size;
                ram += size;
            }
            ".bss" | ".uninit" => ram += size,
            _ => {}
        }
    }
    (flash, ram)
}

pub fn run(root: &Path) -> ExitCode {
    let size = llvm_size();
    let mut ok = true;
    println!(
        "{:<12} {:<10} {:>10} {:>10}",
        "board", "firmware", "flash (B)", "RAM (B)"
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
        let bin_dir = root
            .join("target/boards")
            .join(board.target)
            .join("release");
        for bin in board.bins {
            let elf = bin_dir.join(bin);
            match Command::new(&size).arg("-A").arg(&elf).output() {
                Ok(out) if out.status.success() => {
                    let (flash, ram) = flash_ram(&String::from_utf8_lossy(&out.stdout));
                    println!("{:<12} {:<10} {:>10} {:>10}", board.dir, bin, flash, ram);
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
