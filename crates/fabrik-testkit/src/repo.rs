//! [`TestRepo`]: a throwaway git repository with one commit on `main`.
//!
//! Every git command it runs ignores the system and global git configuration (so a
//! developer's hooks, signing or templates cannot leak in); identity and `commit.gpgsign`
//! live in the repository's own config, so fabrik's own git calls work in it too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// Environment variables that would point git at another repository.
const GIT_REPO_VARS: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CEILING_DIRECTORIES",
];

/// A temporary git repository, deleted on drop.
#[derive(Debug)]
pub struct TestRepo {
    dir: TempDir,
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRepo {
    /// `git init -b main`, local identity, a `README.md` and an initial commit.
    ///
    /// # Panics
    /// When the directory cannot be created or git fails.
    #[must_use]
    pub fn new() -> Self {
        let repo = Self::without_commit();
        repo.write("README.md", "# test repo\n");
        repo.commit_all("initial commit");
        repo
    }

    /// Like [`TestRepo::new`] but with no file and no commit (HEAD is unborn).
    ///
    /// # Panics
    /// When the directory cannot be created or git fails.
    #[must_use]
    pub fn without_commit() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("fabrik-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("failed to create a temporary directory: {e}"));
        let repo = Self { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        for (key, value) in [
            ("user.name", "Fabrik Test"),
            ("user.email", "test@fabrik.invalid"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ] {
            repo.git(&["config", key, value]);
        }
        repo
    }

    /// The repository root (the work tree).
    #[must_use]
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` under the root.
    #[must_use]
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path().join(rel)
    }

    /// Writes a file (parents created); returns `self` for chaining.
    ///
    /// # Panics
    /// On any I/O error.
    pub fn write(&self, rel: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &Self {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("failed to create `{}`: {e}", parent.display()));
        }
        std::fs::write(&path, content)
            .unwrap_or_else(|e| panic!("failed to write `{}`: {e}", path.display()));
        self
    }

    /// Reads a file as UTF-8.
    ///
    /// # Panics
    /// When it is missing or not UTF-8.
    #[must_use]
    pub fn read(&self, rel: impl AsRef<Path>) -> String {
        let path = self.join(rel);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()))
    }

    /// Whether `rel` exists in the work tree.
    #[must_use]
    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.join(rel).exists()
    }

    /// `git add -A && git commit -q -m msg` (allowing an empty commit); returns the new HEAD.
    ///
    /// # Panics
    /// When git fails.
    pub fn commit_all(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.head()
    }

    /// A `git` command in the repository with the isolated environment and nothing else.
    #[must_use]
    pub fn git_command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        for var in GIT_REPO_VARS {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs git and returns its output whatever the exit status.
    ///
    /// # Panics
    /// When git cannot be started.
    #[must_use]
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.git_command()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("failed to run git {args:?}: {e}"))
    }

    /// Runs git and returns its stdout with surrounding whitespace trimmed.
    ///
    /// # Panics
    /// When git fails; the message holds its stderr.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} in `{}` failed ({}):\n{}",
            self.path().display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// The full sha of HEAD.
    ///
    /// # Panics
    /// When HEAD is unborn.
    #[must_use]
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// `git status --porcelain` (untracked files included), trimmed.
    #[must_use]
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }

    /// No staged, unstaged or untracked change (ignored files do not count).
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.status().is_empty()
    }

    /// `git ls-tree -r <rev>`: mode, type, blob id and path of every file in a commit.
    #[must_use]
    pub fn tree_of(&self, rev: &str) -> String {
        self.git(&["ls-tree", "-r", rev])
    }

    /// Every file of the work tree (`.git` excluded, ignored and untracked files included)
    /// as `(relative path with '/', sha256 hex of the content)`, sorted by path. A symlink
    /// is listed as `symlink:<target>` instead of a hash.
    ///
    /// Compare two listings to prove a run left the user's tree untouched; drop the
    /// `.fabrik/` entries first if the run may have written its store there.
    #[must_use]
    pub fn tree_listing(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        list_dir(self.path(), "", &mut out);
        out.sort();
        out
    }
}

fn list_dir(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("failed to list `{}`: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("failed to list `{}`: {e}", dir.display()));
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefix.is_empty() && name == ".git" {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("failed to stat `{}`: {e}", path.display()));
        if kind.is_symlink() {
            let target = std::fs::read_link(&path)
                .unwrap_or_else(|e| panic!("failed to read link `{}`: {e}", path.display()));
            out.push((rel, format!("symlink:{}", target.display())));
        } else if kind.is_dir() {
            list_dir(&path, &format!("{rel}/"), out);
        } else {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()));
            out.push((rel, sha256_hex(&bytes)));
        }
    }
}

/// Lowercase hex sha256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
