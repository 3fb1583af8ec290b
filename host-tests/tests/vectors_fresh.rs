//! The committed on-target test vectors are exactly what the generator produces today: a change to
//! a reference or to the generator must come with regenerated vectors (`cargo xtask vectors`).

#[test]
fn committed_vectors_match_the_generator() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let committed = std::fs::read_to_string(root.join(tinytune_host_tests::vectors::PATH))
        .expect("boards/test-vectors/src/lib.rs exists");
    assert!(
        committed == tinytune_host_tests::vectors::generate(),
        "boards/test-vectors/src/lib.rs is stale: run `cargo xtask vectors`"
    );
}
