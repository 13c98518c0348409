//! Small text helpers shared by the extractors: cell values, placeholders, path-like tokens.

use std::sync::LazyLock;

use regex::Regex;

use crate::markdown::Unit;

/// Matches the labels that introduce a DO-NOT-TOUCH list.
pub(crate) static DO_NOT_TOUCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(do[\s_-]*not[\s_-]*touch|don'?t[\s_-]*touch|off[\s-]*limits|protected\s+paths|explicitly\s+not\s+changed)\b",
    )
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// A path-like token in prose: has a `/` between name characters or ends in a known
/// source/config extension. URLs are excluded by the caller.
static PATH_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[@~]?[A-Za-z0-9_.\-/]*[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_.\-]+)+/?|[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*\.[A-Za-z][A-Za-z0-9]{0,7}")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// Extensions that make a bare `name.ext` a file name rather than prose (`e.g.`, `v1.2`).
const EXTENSIONS: &[&str] = &[
    "rs",
    "toml",
    "lock",
    "md",
    "py",
    "pyi",
    "ts",
    "tsx",
    "js",
    "jsx",
    "mjs",
    "cjs",
    "json",
    "jsonl",
    "yaml",
    "yml",
    "go",
    "java",
    "kt",
    "kts",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "rb",
    "php",
    "swift",
    "sh",
    "bash",
    "zsh",
    "sql",
    "prisma",
    "html",
    "css",
    "scss",
    "vue",
    "svelte",
    "txt",
    "cfg",
    "ini",
    "env",
    "xml",
    "gradle",
    "proto",
    "graphql",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "scala",
    "lua",
    "r",
    "dart",
    "tf",
    "csv",
    "mod",
    "sum",
    "lock",
    "dockerfile",
];

/// Text of a unit with emphasis markers and surrounding whitespace trimmed.
pub(crate) fn clean(s: &str) -> String {
    s.trim()
        .trim_matches(|c: char| matches!(c, '*' | '_' | '`' | '"' | '\''))
        .trim()
        .to_owned()
}

/// The value of a cell or item naming one thing: its first code span when it has one,
/// else its source text (not the rendered text: `a/__init__.py` is not emphasis here), with
/// link syntax reduced to the link text and a leading `@` (editor mentions) dropped.
pub(crate) fn value_of(u: &Unit, src: &str) -> String {
    let v = u
        .codes
        .first()
        .map_or_else(|| raw_value(src), |c| c.text.trim().to_owned());
    v.strip_prefix('@').map(str::to_owned).unwrap_or(v)
}

/// A raw markdown snippet as a plain value: `[text](dest)` -> `text`, `**x**` -> `x`.
pub(crate) fn raw_value(src: &str) -> String {
    let s = src.trim().trim_matches('|').trim();
    let s = match (s.strip_prefix('['), s.find("](")) {
        (Some(_), Some(end)) => &s[1..end],
        _ => s,
    };
    let mut s = s.trim();
    for marker in ["**", "__", "*", "_", "`"] {
        if s.len() > 2 * marker.len() && s.starts_with(marker) && s.ends_with(marker) {
            s = &s[marker.len()..s.len() - marker.len()];
        }
    }
    s.trim().to_owned()
}

/// Whether a cell or section body says nothing: empty, a dash, or a placeholder word.
pub(crate) fn is_placeholder(s: &str) -> bool {
    let t: String = s
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '/' || *c == '<' || *c == '>')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    matches!(
        t.as_str(),
        "" | "tbd"
            | "tba"
            | "todo"
            | "n/a"
            | "na"
            | "none"
            | "placeholder"
            | "to be defined"
            | "to be determined"
            | "fill in"
            | "fixme"
    ) || (t.starts_with('<') && t.ends_with('>'))
}

/// Path-like tokens in `s` with their byte offsets.
pub(crate) fn path_tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    PATH_TOKEN.find_iter(s).filter_map(move |m| {
        let tok = m.as_str().trim_end_matches('.');
        let before = &s[..m.start()];
        if before.ends_with("://")
            || (before.ends_with(':')
                && before.trim_end_matches(':').ends_with(char::is_alphabetic))
        {
            return None;
        }
        if s[m.end()..].starts_with("://") {
            return None;
        }
        is_path_like(tok).then_some((m.start(), tok))
    })
}

/// Whether a token (from prose or a code span) names a file or directory.
pub(crate) fn is_path_like(tok: &str) -> bool {
    let t = tok.trim_start_matches(['@', '~']);
    if t.is_empty() || t.contains(char::is_whitespace) || t.contains("://") {
        return false;
    }
    if !t
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '@' | '~'))
    {
        return false;
    }
    let last = t.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let ext_ok = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    });
    if t.contains('/') {
        // `CREATE/MODIFY`, `read/write`, `I/O` are not paths.
        let upper = t.split('/').all(|p| p.chars().all(|c| !c.is_lowercase()));
        return !upper
            && (ext_ok || t.ends_with('/') || t.starts_with("./") || t.matches('/').count() >= 2);
    }
    ext_ok
        || matches!(
            last,
            "Makefile" | "Dockerfile" | "Justfile" | "Rakefile" | "Gemfile"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_like_tokens() {
        for yes in [
            "src/lib.rs",
            "droid_core.py",
            "docs/",
            "a/b/c",
            "./run",
            "Cargo.toml",
            ".github/workflows/ci.yml",
        ] {
            assert!(is_path_like(yes), "{yes}");
        }
        for no in [
            "CREATE/MODIFY",
            "read/write",
            "I/O",
            "e.g.",
            "v1.2.0",
            "and/or",
            "http://x.io/a.rs",
            "a b.rs",
        ] {
            assert!(!is_path_like(no), "{no}");
        }
        let toks: Vec<_> = path_tokens("see src/lib.rs:42 and https://x.io/a.rs, also README.md.")
            .map(|t| t.1)
            .collect();
        assert_eq!(toks, ["src/lib.rs", "README.md"]);
    }

    #[test]
    fn placeholders() {
        for p in [
            "",
            " TBD ",
            "**TODO**",
            "N/A",
            "<fill me>",
            "-",
            "—",
            "None.",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        assert!(!is_placeholder("src/lib.rs"));
    }
}
