//! Lexical checks on repository paths written in a plan: absolute forms (POSIX, Windows
//! drive and UNC, `~`), `..` escapes, control characters, over-long names, `.git/`, and the
//! normalised form used to compare plan paths with git's.

/// Why a plan path cannot name a file in the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathProblem {
    Absolute,
    Escapes,
    Invalid(&'static str),
}

/// Normalises a repository-relative path (`./a//b/../c` -> `a/c`, `\` -> `/`), keeping a
/// trailing `/` as the mark of a directory. Globs are accepted only with `allow_glob`.
pub(crate) fn normalize(raw: &str, allow_glob: bool) -> Result<String, PathProblem> {
    let p = raw.trim();
    if p.is_empty() {
        return Err(PathProblem::Invalid("empty path"));
    }
    if p.chars().any(char::is_control) {
        return Err(PathProblem::Invalid(
            "control character (NUL, newline, tab) in path",
        ));
    }
    if p.len() > 4096 {
        return Err(PathProblem::Invalid("path longer than 4096 bytes"));
    }
    if is_absolute(p) {
        return Err(PathProblem::Absolute);
    }
    if !allow_glob && p.contains(['*', '?', '[', ']', '{', '}']) {
        return Err(PathProblem::Invalid(
            "glob in a manifest path (globs belong in the DO-NOT-TOUCH list)",
        ));
    }
    let p = p.replace('\\', "/");
    let dir = p.ends_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathProblem::Escapes);
                }
            }
            c if c.len() > 255 => {
                return Err(PathProblem::Invalid("path component longer than 255 bytes"));
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(PathProblem::Invalid("path names the repository root"));
    }
    if parts[0] == ".git" {
        return Err(PathProblem::Invalid(
            "path inside `.git/` (hooks and config run code)",
        ));
    }
    let mut out = parts.join("/");
    if dir {
        out.push('/');
    }
    Ok(out)
}

/// `/x`, `~/x`, `~user/x`, `C:\x`, `C:/x`, `\\server\share`.
pub(crate) fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/')
        || p.starts_with('\\')
        || p.starts_with('~')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Whether normalised `path` is `entry` or, when `entry` is a directory (`a/`), lies under it.
pub(crate) fn covers(entry: &str, path: &str) -> bool {
    entry == path
        || (entry.ends_with('/') && path.starts_with(entry))
        || entry.strip_suffix('/') == Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects() {
        assert_eq!(
            normalize("./src//a/../lib.rs", false),
            Ok("src/lib.rs".into())
        );
        assert_eq!(
            normalize("tests/fixtures/", false),
            Ok("tests/fixtures/".into())
        );
        assert_eq!(
            normalize("../../etc/passwd", false),
            Err(PathProblem::Escapes)
        );
        assert_eq!(normalize("a/../../b", false), Err(PathProblem::Escapes));
        for abs in [
            "/etc/passwd",
            "C:\\Windows\\x",
            "\\\\server\\share",
            "~/.ssh/id_rsa",
            "c:/x",
        ] {
            assert_eq!(normalize(abs, false), Err(PathProblem::Absolute), "{abs}");
        }
        assert!(matches!(
            normalize(".git/hooks/pre-commit", false),
            Err(PathProblem::Invalid(_))
        ));
        assert!(matches!(
            normalize("a\0b", false),
            Err(PathProblem::Invalid(_))
        ));
        assert!(matches!(
            normalize("src/*.rs", false),
            Err(PathProblem::Invalid(_))
        ));
        assert_eq!(normalize("src/*.rs", true), Ok("src/*.rs".into()));
    }

    #[test]
    fn directory_entries_cover_their_files() {
        assert!(covers("tests/fixtures/", "tests/fixtures/a.txt"));
        assert!(covers("src/a.rs", "src/a.rs"));
        assert!(!covers("src/a.rs", "src/a.rs.bak"));
        assert!(!covers("src/a", "src/ab"));
    }
}
