//! Finding the `fabrik-fake-agent` binary from another package's tests.
//!
//! Cargo only exposes `CARGO_BIN_EXE_<name>` for binaries of the package under test, so
//! `fabrik-cli`'s tests look next to their own `fabrik` binary, and build the fake agent
//! (once per test process) when a filtered build left it out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::Deserialize;

/// File name of the fake agent in a target directory.
const FAKE_AGENT: &str = "fabrik-fake-agent";

/// The fake agent next to the running test executable (`target/<profile>/`), else built.
///
/// # Panics
/// When it is not there and `cargo build` fails.
#[must_use]
pub fn fake_agent_bin() -> PathBuf {
    let exe = std::env::current_exe()
        .unwrap_or_else(|e| panic!("cannot locate the running test executable: {e}"));
    fake_agent_bin_near(&exe)
}

/// The fake agent in the directory of `sibling` (e.g. `env!("CARGO_BIN_EXE_fabrik")`),
/// or, for a test executable under `deps/`, the directory above; built with
/// `cargo build -p fabrik-testkit --bin fabrik-fake-agent` when missing.
///
/// # Panics
/// When it is not there and `cargo build` fails.
#[must_use]
pub fn fake_agent_bin_near(sibling: &Path) -> PathBuf {
    let file = format!("{FAKE_AGENT}{}", std::env::consts::EXE_SUFFIX);
    let mut dir = sibling.parent();
    if dir.is_some_and(|d| d.ends_with("deps")) {
        dir = dir.and_then(Path::parent);
    }
    match dir.map(|d| d.join(&file)) {
        Some(candidate) if candidate.is_file() => candidate,
        _ => built_fake_agent().clone(),
    }
}

/// Builds the fake agent once per process and returns where cargo put it.
fn built_fake_agent() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| cargo_build().unwrap_or_else(|e| panic!("{e}")))
}

fn cargo_build() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = Command::new(&cargo)
        .args(["build", "-p", "fabrik-testkit", "--bin", FAKE_AGENT])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "failed to run `{}` to build {FAKE_AGENT}: {e}",
                cargo.display()
            )
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p fabrik-testkit --bin {FAKE_AGENT}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .find(|m| m.reason == "compiler-artifact" && m.target.name == FAKE_AGENT)
        .and_then(|m| m.executable)
        .ok_or_else(|| format!("cargo built no `{FAKE_AGENT}` executable:\n{stdout}"))
}

/// The part of a cargo JSON message needed to find an executable.
#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Target,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
struct Target {
    #[serde(default)]
    name: String,
}
