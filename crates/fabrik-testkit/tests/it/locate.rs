//! Finding the fake agent binary from a test executable.

use std::path::Path;

use fabrik_testkit::{fake_agent_bin, fake_agent_bin_near};
use pretty_assertions::assert_eq;

use crate::support::FAKE_AGENT;

fn canonical(path: &Path) -> std::path::PathBuf {
    path.canonicalize().unwrap()
}

#[test]
fn found_next_to_the_test_executable() {
    assert_eq!(
        canonical(&fake_agent_bin()),
        canonical(Path::new(FAKE_AGENT))
    );
}

#[test]
fn found_next_to_a_sibling_binary() {
    let sibling = Path::new(FAKE_AGENT).with_file_name("fabrik");
    assert_eq!(
        canonical(&fake_agent_bin_near(&sibling)),
        canonical(Path::new(FAKE_AGENT))
    );
}

#[test]
fn built_with_cargo_when_not_next_to_the_sibling() {
    let dir = tempfile::tempdir().unwrap();
    let bin = fake_agent_bin_near(&dir.path().join("fabrik"));
    assert!(bin.is_file(), "{}", bin.display());
    assert_eq!(bin.file_name().unwrap(), "fabrik-fake-agent");
}
