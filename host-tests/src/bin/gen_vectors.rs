//! Writes the on-target test vectors (`boards/test-vectors/src/lib.rs`) from the host references.
use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(tinytune_host_tests::vectors::PATH);
    std::fs::write(&path, tinytune_host_tests::vectors::generate())?;
    println!("wrote {}", tinytune_host_tests::vectors::PATH);
    Ok(())
}
