//! Finding the files to scan: `.gitignore` respected, hidden files and symlinks not
//! followed (so symlink loops cannot happen), ignore globs and the language filter applied,
//! the result sorted by path so that nothing depends on the order of the file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::lang::Language;
use crate::model::{SkipReason, Skipped};
use crate::options::Options;
use crate::{Error, Result};

/// A file to scan.
#[derive(Clone, Debug)]
pub(crate) struct SourceFile {
    /// Where to read it.
    pub(crate) path: PathBuf,
    /// How reports name it: relative to the working directory, `/`-separated.
    pub(crate) name: String,
    pub(crate) lang: Language,
}

/// The files found, sorted by name, and the entries that could not be read.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) skipped: Vec<Skipped>,
}

/// Builds the ignore globs; `*` also crosses `/` so `*.min.js` ignores at any depth.
pub(crate) fn globs(patterns: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .build()
            .map_err(|source| Error::Glob {
                glob: pattern.clone(),
                source,
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|source| Error::Glob {
        glob: patterns.join(","),
        source,
    })
}

/// Walks `paths` (relative to `cwd` or absolute).
pub(crate) fn walk(cwd: &Path, paths: &[PathBuf], opts: &Options) -> Result<Walked> {
    let globs = globs(&opts.ignore)?;
    let mut found = BTreeMap::new();
    let mut skipped = Vec::new();
    for path in paths {
        let root = cwd.join(path);
        let meta = std::fs::metadata(&root).map_err(|e| Error::io(&root, e))?;
        if meta.is_file() {
            let lang = Language::from_path(&root).unwrap_or(Language::Generic);
            add(&mut found, cwd, root, lang, opts);
            continue;
        }
        walk_dir(cwd, &root, &globs, opts, &mut found, &mut skipped);
    }
    Ok(Walked {
        files: found.into_values().collect(),
        skipped,
    })
}

fn walk_dir(
    cwd: &Path,
    root: &Path,
    globs: &GlobSet,
    opts: &Options,
    found: &mut BTreeMap<String, SourceFile>,
    skipped: &mut Vec<Skipped>,
) {
    let filter_globs = globs.clone();
    let filter_root = root.to_path_buf();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .follow_links(false)
        .git_ignore(opts.gitignore)
        .git_exclude(opts.gitignore)
        .ignore(opts.gitignore)
        .git_global(false)
        .parents(opts.gitignore)
        .require_git(false)
        .filter_entry(move |entry| !is_ignored(&filter_globs, &filter_root, entry.path()))
        .build();
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                if let Some(lang) = Language::from_path(entry.path()) {
                    add(found, cwd, entry.into_path(), lang, opts);
                }
            }
            Ok(_) => {}
            Err(err) => skipped.push(Skipped {
                path: error_path(&err).map_or_else(|| root.display().to_string(), display),
                reason: SkipReason::Unreadable(err.to_string()),
            }),
        }
    }
}

fn is_ignored(globs: &GlobSet, root: &Path, path: &Path) -> bool {
    if globs.is_empty() {
        return false;
    }
    let relative = path.strip_prefix(root).unwrap_or(path);
    !relative.as_os_str().is_empty() && (globs.is_match(relative) || globs.is_match(path))
}

fn add(
    found: &mut BTreeMap<String, SourceFile>,
    cwd: &Path,
    path: PathBuf,
    lang: Language,
    opts: &Options,
) {
    if !opts.languages.is_empty() && !opts.languages.contains(&lang) {
        return;
    }
    let name = name_of(cwd, &path);
    found
        .entry(name.clone())
        .or_insert(SourceFile { path, name, lang });
}

/// The report name of `path`: relative to `cwd` when inside it, `/`-separated.
pub(crate) fn name_of(cwd: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(cwd).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .filter_map(|part| match part {
            std::path::Component::CurDir => None,
            std::path::Component::RootDir => Some(String::new()),
            other => Some(other.as_os_str().to_string_lossy().into_owned()),
        })
        .collect();
    parts.join("/")
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_and_slashed() {
        let cwd = Path::new("/repo");
        assert_eq!(name_of(cwd, Path::new("/repo/./src/a.rs")), "src/a.rs");
        assert_eq!(name_of(cwd, Path::new("/other/b.rs")), "/other/b.rs");
    }

    #[test]
    fn walk_respects_globs_gitignore_and_languages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "a.py",
            "b.rs",
            "vendor/c.py",
            "d.md",
            "gen/e.py",
            ".hidden/f.py",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x = 1\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "gen/\n").unwrap();
        let opts = Options {
            ignore: vec!["**/vendor/**".into()],
            languages: vec![Language::Python],
            ..Options::default()
        };
        let walked = walk(root, &[PathBuf::from(".")], &opts).unwrap();
        let names: Vec<_> = walked.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.py"]);
    }

    #[test]
    fn missing_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = walk(dir.path(), &[PathBuf::from("nope")], &Options::default()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_do_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("d/loop")).unwrap();
        std::fs::write(dir.path().join("d/a.py"), "x = 1\n").unwrap();
        let walked = walk(dir.path(), &[PathBuf::from(".")], &Options::default()).unwrap();
        assert_eq!(walked.files.len(), 1);
    }
}
