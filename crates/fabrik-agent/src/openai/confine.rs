//! Confinement of tool paths to the workspace.
//!
//! A path from the model is relative to the workspace. It is refused when it is absolute,
//! when `..` climbs above the workspace, or when a symlink on the way resolves outside:
//! the deepest existing ancestor is canonicalized and must stay under the canonical
//! workspace, and the components after it do not exist yet, so they hold no symlink.

use std::path::{Component, Path, PathBuf};

/// The canonical workspace root.
#[derive(Clone, Debug)]
pub(crate) struct Root {
    root: PathBuf,
}

impl Root {
    /// Canonicalizes `workspace`.
    ///
    /// # Errors
    /// The I/O error of canonicalization (a missing workspace).
    pub(crate) fn new(workspace: &Path) -> std::io::Result<Root> {
        Ok(Root {
            root: workspace.canonicalize()?,
        })
    }

    /// The canonical root.
    pub(crate) fn path(&self) -> &Path {
        &self.root
    }

    /// Resolves `rel` inside the workspace, or says why it is refused.
    ///
    /// # Errors
    /// The refusal text sent back to the model.
    pub(crate) fn resolve(&self, rel: &str) -> Result<PathBuf, String> {
        let given = Path::new(rel);
        if given.is_absolute() {
            return Err(format!(
                "refused: `{rel}` is an absolute path; use a path relative to the workspace"
            ));
        }
        let mut lexical: Vec<&std::ffi::OsStr> = Vec::new();
        for c in given.components() {
            match c {
                Component::Normal(p) => lexical.push(p),
                Component::CurDir => {}
                Component::ParentDir => {
                    if lexical.pop().is_none() {
                        return Err(format!("refused: `{rel}` leaves the workspace"));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(format!("refused: `{rel}` is an absolute path"));
                }
            }
        }
        let full: PathBuf = lexical.iter().fold(self.root.clone(), |p, c| p.join(c));
        // The deepest ancestor that exists (as an entry: a dangling symlink counts).
        let mut existing = full.as_path();
        let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
        while existing.symlink_metadata().is_err() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name);
                    existing = parent;
                }
                _ => return Err(format!("refused: `{rel}` cannot be resolved")),
            }
        }
        let canonical = existing
            .canonicalize()
            .map_err(|_| format!("refused: `{rel}` goes through a symlink that points nowhere"))?;
        if !canonical.starts_with(&self.root) {
            return Err(format!(
                "refused: `{rel}` resolves outside the workspace (through a symlink)"
            ));
        }
        Ok(rest.iter().rev().fold(canonical, |p, c| p.join(c)))
    }

    /// `path` relative to the root, for messages (`.` for the root itself).
    pub(crate) fn display(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(p) if p.as_os_str().is_empty() => ".".to_owned(),
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(_) => path.to_string_lossy().into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn inside_paths_resolve_and_escapes_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        std::fs::create_dir(ws.path().join("src")).unwrap();
        std::fs::write(ws.path().join("src/a.rs"), "x").unwrap();
        symlink(outside.path(), ws.path().join("out")).unwrap();
        symlink("src", ws.path().join("in")).unwrap();
        symlink("/nonexistent/x", ws.path().join("dangling")).unwrap();
        let root = Root::new(ws.path()).unwrap();
        let r = root.path().to_path_buf();

        assert_eq!(root.resolve("src/a.rs").unwrap(), r.join("src/a.rs"));
        assert_eq!(
            root.resolve("./src/../src/a.rs").unwrap(),
            r.join("src/a.rs")
        );
        assert_eq!(
            root.resolve("new/dir/f.txt").unwrap(),
            r.join("new/dir/f.txt")
        );
        assert_eq!(root.resolve("in/a.rs").unwrap(), r.join("src/a.rs"));
        assert_eq!(root.resolve("").unwrap(), r);
        assert_eq!(root.resolve(".").unwrap(), r);

        for bad in [
            "../x",
            "../../etc/passwd",
            "src/../../x",
            "/etc/passwd",
            "out/secret",
            "out",
            "dangling",
            "dangling/x",
        ] {
            let e = root.resolve(bad).unwrap_err();
            assert!(e.starts_with("refused:"), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        /// Whatever the model asks for, a resolved path is inside the workspace.
        #[test]
        fn resolved_paths_stay_inside(
            parts in proptest::collection::vec(
                proptest::sample::select(
                    vec!["a", "b", "..", ".", "out", "in", "up", "dangling", "x.txt"],
                ),
                0..8,
            ),
            absolute in proptest::bool::ANY,
        ) {
            let outside = tempfile::tempdir().unwrap();
            let ws = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(ws.path().join("a/b")).unwrap();
            symlink(outside.path(), ws.path().join("out")).unwrap();
            symlink("a/b", ws.path().join("in")).unwrap();
            symlink("../../..", ws.path().join("a/b/up")).unwrap();
            symlink("/nonexistent", ws.path().join("dangling")).unwrap();
            let root = Root::new(ws.path()).unwrap();
            let rel = format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"));
            if let Ok(p) = root.resolve(&rel) {
                proptest::prop_assert!(p.starts_with(root.path()), "{rel} -> {}", p.display());
                // Whatever exists of it resolves inside too.
                if let Ok(c) = p.canonicalize() {
                    proptest::prop_assert!(c.starts_with(root.path()), "{rel} -> {}", c.display());
                }
            }
        }
    }
}
