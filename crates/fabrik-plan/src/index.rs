//! A one-pass index of a repository for grounding: every file (relative, `/`-separated)
//! and, on demand, every identifier-shaped token in text files. Walks with `ignore`
//! (`.gitignore`, `.git/info/exclude` honoured; hidden files included, `.git/` skipped)
//! and tokenizes in parallel with rayon, so large repositories index in well under a second
//! per hundred thousand lines.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Files larger than this are not tokenized (generated or vendored blobs).
const MAX_TOKENIZE_BYTES: u64 = 2 * 1024 * 1024;

pub(crate) struct RepoIndex {
    files: HashSet<String>,
    by_name: HashMap<String, Vec<String>>,
    idents: HashSet<Box<str>>,
    walked: Vec<PathBuf>,
}

impl RepoIndex {
    /// Lists the files under `root` (not yet their identifiers).
    pub(crate) fn build(root: &Path) -> Self {
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        let mut files = HashSet::new();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        let mut walked = Vec::new();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if let Some(name) = rel.rsplit('/').next() {
                by_name
                    .entry(name.to_owned())
                    .or_default()
                    .push(rel.clone());
            }
            files.insert(rel);
            walked.push(entry.into_path());
        }
        Self {
            files,
            by_name,
            idents: HashSet::new(),
            walked,
        }
    }

    /// Tokenizes every listed file (once).
    pub(crate) fn index_identifiers(&mut self) {
        if !self.idents.is_empty() {
            return;
        }
        self.idents = self
            .walked
            .par_iter()
            .fold(HashSet::new, |mut set: HashSet<Box<str>>, path| {
                if let Some(text) = read_text(path, MAX_TOKENIZE_BYTES) {
                    for id in identifiers(&text) {
                        if !set.contains(id) {
                            set.insert(id.into());
                        }
                    }
                }
                set
            })
            .reduce(HashSet::new, |mut a, b| {
                if a.len() < b.len() {
                    return b.into_iter().fold(a, |mut acc, x| {
                        acc.insert(x);
                        acc
                    });
                }
                a.extend(b);
                a
            });
    }

    pub(crate) fn has_identifier(&self, id: &str) -> bool {
        self.idents.contains(id)
    }

    /// Whether a (non-ignored) file with this relative path exists.
    pub(crate) fn has_file(&self, rel: &str) -> bool {
        self.files.contains(rel)
    }

    /// Relative paths of the files with this base name.
    pub(crate) fn by_name(&self, name: &str) -> &[String] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

/// Reads a file as text when it is small enough and not binary (no NUL in the first 8 KiB).
pub(crate) fn read_text(path: &Path, limit: u64) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > limit || bytes.iter().take(8192).any(|&b| b == 0) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// ASCII identifier tokens (`[A-Za-z_][A-Za-z0-9_]*`) of `text`.
pub(crate) fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_alphabetic() || b == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                return Some(&text[start..i]);
            }
            // Skip a number with its suffix (`0x1f`, `10usize`) so it is not split into an identifier.
            if b.is_ascii_digit() {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_identifiers() {
        let ids: Vec<_> =
            identifiers("fn run_droid_exec(x: u8) -> 10usize { é UserService::new() }").collect();
        assert_eq!(
            ids,
            ["fn", "run_droid_exec", "x", "u8", "UserService", "new"]
        );
    }
}
