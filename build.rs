//! Selects the architecture-specific kernels at compile time.
//!
//! Stable Rust does not expose ARM target features (`dsp`, `v6m`, …) to `cfg`, so the core
//! derives them from the target triple, as the `cortex-m` crate does:
//!
//! - `tinytune_dsp`: ARMv7E-M (`thumbv7em-*`: Cortex-M4, M7), whose DSP extension provides
//!   `SXTB16`/`SMLAD`; the int8 kernels of `kernels::cortex_m` use them.
//! - `tinytune_armv6m`: ARMv6-M (`thumbv6m-*`: Cortex-M0, M0+, M1), the kernels' Thumb-1 path.
//!
//! Every other target (RISC-V, the host) uses the portable Rust kernels.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tinytune_dsp)");
    println!("cargo::rustc-check-cfg=cfg(tinytune_armv6m)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=tinytune_dsp");
    } else if target.starts_with("thumbv6m") {
        println!("cargo::rustc-cfg=tinytune_armv6m");
    }
}
