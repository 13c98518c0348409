//! Gate commands proposed from the files at the repository root.

use std::path::Path;

use serde::Serialize;

/// A proposed `[[gates.command]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Gate {
    /// `name`.
    pub(crate) name: String,
    /// `run`.
    pub(crate) run: String,
    /// `timeout`.
    pub(crate) timeout: &'static str,
    /// Written active (`true`) or commented out.
    pub(crate) enabled: bool,
    /// The file it was proposed from, and why (a comment in the file).
    pub(crate) reason: String,
}

fn gate(name: &str, run: &str, timeout: &'static str, enabled: bool, reason: String) -> Gate {
    Gate {
        name: name.to_owned(),
        run: run.to_owned(),
        timeout,
        enabled,
        reason,
    }
}

/// The gates for the project at `root`: Rust, Python, JavaScript and Go, in that order.
pub(crate) fn propose(root: &Path) -> Vec<Gate> {
    let mut gates = Vec::new();
    if root.join("Cargo.toml").is_file() {
        let why = |what: &str| format!("Cargo.toml: {what}");
        gates.push(gate(
            "fmt",
            "cargo fmt --check",
            "5m",
            true,
            why("the code is formatted"),
        ));
        gates.push(gate(
            "clippy",
            "cargo clippy --all-targets -- -D warnings",
            "20m",
            true,
            why("no lint warning, tests and examples included"),
        ));
        gates.push(gate(
            "tests",
            "cargo test",
            "20m",
            true,
            why("the tests pass"),
        ));
    }
    python(root, &mut gates);
    node(root, &mut gates);
    if root.join("go.mod").is_file() {
        gates.push(gate(
            "go-vet",
            "go vet ./...",
            "10m",
            true,
            "go.mod: go vet finds nothing".to_owned(),
        ));
        gates.push(gate(
            "go-test",
            "go test ./...",
            "20m",
            true,
            "go.mod: the tests pass".to_owned(),
        ));
    }
    gates
}

fn read(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(name)).unwrap_or_default()
}

/// Whether `text` has a table header starting with `prefix` (e.g. `[tool.ruff`).
fn has_section(text: &str, prefix: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with(prefix))
}

fn python(root: &Path, gates: &mut Vec<Gate>) {
    let pyproject = root.join("pyproject.toml").is_file();
    let setup_cfg = root.join("setup.cfg").is_file();
    if !pyproject && !setup_cfg {
        return;
    }
    let py = read(root, "pyproject.toml");
    let cfg = read(root, "setup.cfg");
    let file = if pyproject {
        "pyproject.toml"
    } else {
        "setup.cfg"
    };
    let tools: [(&str, &str, &'static str, bool, &str); 3] = [
        (
            "ruff",
            "ruff check .",
            "5m",
            has_section(&py, "[tool.ruff")
                || root.join("ruff.toml").is_file()
                || root.join(".ruff.toml").is_file(),
            "[tool.ruff]",
        ),
        (
            "mypy",
            "mypy .",
            "10m",
            has_section(&py, "[tool.mypy")
                || has_section(&cfg, "[mypy")
                || root.join("mypy.ini").is_file(),
            "[tool.mypy]",
        ),
        (
            "pytest",
            "pytest",
            "20m",
            has_section(&py, "[tool.pytest")
                || has_section(&cfg, "[tool:pytest")
                || root.join("pytest.ini").is_file(),
            "[tool.pytest.ini_options]",
        ),
    ];
    for (name, run, timeout, configured, section) in tools {
        let reason = if configured {
            format!("{file}: {name} is configured")
        } else {
            format!("{file}: no {section} section, so proposed commented out")
        };
        gates.push(gate(name, run, timeout, configured, reason));
    }
}

/// The default `test` script `npm init` writes: it always fails.
const NPM_INIT_TEST: &str = "no test specified";

fn node(root: &Path, gates: &mut Vec<Gate>) {
    if !root.join("package.json").is_file() {
        return;
    }
    let pm = if root.join("pnpm-lock.yaml").is_file() {
        "pnpm"
    } else if root.join("yarn.lock").is_file() {
        "yarn"
    } else {
        "npm"
    };
    let json: serde_json::Value =
        serde_json::from_str(&read(root, "package.json")).unwrap_or_default();
    let script = |name: &str| {
        json.get("scripts")
            .and_then(|s| s.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let lint = script("lint");
    let reason = match &lint {
        Some(_) => "package.json: its `lint` script".to_owned(),
        None => "package.json has no `lint` script, so proposed commented out".to_owned(),
    };
    gates.push(gate(
        "lint",
        &format!("{pm} run lint"),
        "10m",
        lint.is_some(),
        reason,
    ));
    let test = script("test");
    let real = test.as_deref().is_some_and(|t| !t.contains(NPM_INIT_TEST));
    let reason = match &test {
        Some(_) if real => "package.json: its `test` script".to_owned(),
        Some(_) => {
            "package.json: its `test` script is npm's placeholder, so proposed commented out"
                .to_owned()
        }
        None => "package.json has no `test` script, so proposed commented out".to_owned(),
    };
    gates.push(gate("test", &format!("{pm} test"), "20m", real, reason));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(root: &Path) -> Vec<(String, bool)> {
        propose(root)
            .into_iter()
            .map(|g| (g.run, g.enabled))
            .collect()
    }

    fn own(v: &[(&str, bool)]) -> Vec<(String, bool)> {
        v.iter().map(|(r, e)| ((*r).to_owned(), *e)).collect()
    }

    #[test]
    fn cargo_and_go() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(d.path().join("go.mod"), "module x\n").unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[
                ("cargo fmt --check", true),
                ("cargo clippy --all-targets -- -D warnings", true),
                ("cargo test", true),
                ("go vet ./...", true),
                ("go test ./...", true),
            ])
        );
    }

    #[test]
    fn python_tools_are_active_only_when_configured() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.ruff]\nline-length = 100\n[tool.pytest.ini_options]\n",
        )
        .unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[("ruff check .", true), ("mypy .", false), ("pytest", true)])
        );
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("setup.cfg"), "[mypy]\nstrict = True\n").unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[("ruff check .", false), ("mypy .", true), ("pytest", false)])
        );
    }

    #[test]
    fn node_scripts_with_the_lockfiles_package_manager() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("package.json"),
            r#"{"scripts": {"lint": "eslint .", "test": "vitest run"}}"#,
        )
        .unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[("npm run lint", true), ("npm test", true)])
        );
        std::fs::write(d.path().join("pnpm-lock.yaml"), "").unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[("pnpm run lint", true), ("pnpm test", true)])
        );
        std::fs::remove_file(d.path().join("pnpm-lock.yaml")).unwrap();
        std::fs::write(d.path().join("yarn.lock"), "").unwrap();
        std::fs::write(
            d.path().join("package.json"),
            r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}"#,
        )
        .unwrap();
        assert_eq!(
            runs(d.path()),
            own(&[("yarn run lint", false), ("yarn test", false)])
        );
    }

    #[test]
    fn nothing_known_proposes_nothing() {
        let d = tempfile::tempdir().unwrap();
        assert!(propose(d.path()).is_empty());
    }
}
