//! Writes the on-target test vectors of the emulated boards (see `boards/qemu-m4/tests/`).
fn main() {
    eprintln!("no vectors yet");
}
