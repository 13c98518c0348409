//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::Command;

/// Writes `content` to `root/rel`, creating directories.
pub(crate) fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Runs git in `dir`, panicking with its stderr on failure.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Python function of about a dozen lines with the given names.
pub(crate) fn function(name: &str, arg: &str, acc: &str, item: &str) -> String {
    format!(
        "def {name}({arg}, limit=10):\n    {acc} = []\n    for {item} in {arg}.split(','):\n        {item} = {item}.strip()\n        if not {item} or {item}.startswith('#'):\n            continue\n        key, _, value = {item}.partition('=')\n        {acc}.append((key.strip().lower(), value.strip()))\n        if len({acc}) >= limit:\n            break\n    return dict({acc})\n"
    )
}

/// Another function, unlike [`function`].
pub(crate) fn other_function(name: &str) -> String {
    format!(
        "class {name}:\n    def __init__(self, width, height):\n        self.width = width\n        self.height = height\n        self.cells = [[0] * width for _ in range(height)]\n\n    def neighbours(self, x, y):\n        for dx in (-1, 0, 1):\n            for dy in (-1, 0, 1):\n                if (dx or dy) and 0 <= x + dx < self.width and 0 <= y + dy < self.height:\n                    yield self.cells[y + dy][x + dx]\n"
    )
}

/// Sets the modification time of every file under `root` an hour back and waits until
/// their ctime (which that moves to now) is over 2 s old, so the cache trusts their stat:
/// files changed in the last seconds are always read again.
pub(crate) fn age(root: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in walk_files(root) {
        std::fs::File::options()
            .write(true)
            .open(&entry)
            .and_then(|f| f.set_modified(past))
            .unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n == ".git" || n == ".fabrik")
        {
            continue;
        }
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}
