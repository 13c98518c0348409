//! `schemas/` is generated from the Rust types; this test fails when they drift.
//! Regenerate with `FABRIK_UPDATE_SCHEMAS=1 cargo test -p fabrik-pipeline --test schemas`.

use std::path::Path;

#[test]
fn schemas_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let update = std::env::var_os("FABRIK_UPDATE_SCHEMAS").is_some();
    let mut drift = Vec::new();
    for (name, text) in fabrik_pipeline::state::schemas() {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != text {
            drift.push(name);
        }
    }
    assert!(
        drift.is_empty(),
        "schemas out of date: {drift:?}; run `FABRIK_UPDATE_SCHEMAS=1 cargo test -p fabrik-pipeline --test schemas`"
    );
}
