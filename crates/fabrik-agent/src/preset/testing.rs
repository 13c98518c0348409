//! Test helpers: the observed-run fixtures and a checker that extracts the flags (and the
//! values a flag accepts) from a CLI's real `--help` text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::agent::{CallCtx, Output};
use crate::{Autonomy, SessionPolicy};

/// A fixture file's text.
pub(crate) fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One observed run: `<name>.exit`, `<name>.stdout`, `<name>.stderr`.
pub(crate) struct Case {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Case {
    pub(crate) fn load(name: &str) -> Case {
        let exit: i32 = fixture(&format!("{name}.exit")).trim().parse().unwrap();
        Case {
            // 124 is the observer's `timeout`: the process was killed.
            code: (exit != 124).then_some(exit),
            stdout: fixture(&format!("{name}.stdout")),
            stderr: fixture(&format!("{name}.stderr")),
        }
    }

    pub(crate) fn output(&self) -> Output<'_> {
        Output {
            code: self.code,
            stdout: &self.stdout,
            stderr: &self.stderr,
            side: "",
            resumed: false,
        }
    }
}

/// The part of a help file under `header` (a `#`/`##` line), up to the next header.
pub(crate) fn section<'a>(help: &'a str, header: &str) -> &'a str {
    let start = help
        .find(header)
        .unwrap_or_else(|| panic!("no section {header:?}"));
    let body = &help[start + header.len()..];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| body[i..].starts_with("# ") || body[i..].starts_with("## "))
        .unwrap_or(body.len());
    &body[..end]
}

/// The option spec of a help line ("-o, --output-format <format>  Output format" ->
/// ["-o", "--output-format"]), or nothing when the line does not define an option.
fn spec_flags(line: &str) -> Vec<String> {
    let t = line.trim_start();
    // Definitions are indented 2-6 columns; deeper lines are wrapped descriptions, which
    // may start with a flag they mention ("--output-format=stream-json)").
    if !t.starts_with('-') || line.len() - t.len() > 8 {
        return Vec::new();
    }
    // The spec ends at the first run of two spaces (the description column).
    let spec = t.split("  ").next().unwrap_or(t);
    spec.split([' ', ',', '='])
        .filter(|w| w.starts_with('-') && w.len() > 1)
        .map(|w| {
            w.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .collect()
}

/// Every flag the help defines.
pub(crate) fn flags(help: &str) -> BTreeSet<String> {
    help.lines().flat_map(spec_flags).collect()
}

/// The values the help lists for `flag`: `(choices: "a", "b")`, `[choices: "a", "b"]`,
/// `[possible values: a, b]` or `a|b|c`, from its definition line and the lines after it.
pub(crate) fn choices(help: &str, flag: &str) -> Vec<String> {
    let lines: Vec<&str> = help.lines().collect();
    let at = lines
        .iter()
        .position(|l| spec_flags(l).iter().any(|f| f == flag))
        .unwrap_or_else(|| panic!("{flag} is not in the help"));
    let end = lines[at + 1..]
        .iter()
        .position(|l| !spec_flags(l).is_empty())
        .map_or(lines.len(), |i| at + 1 + i);
    let blob = lines[at..end].join(" ");
    let mut out = Vec::new();
    if let Some(i) = blob.find("choices:") {
        let rest = &blob[i..];
        let rest = &rest[..rest.find([')', ']']).unwrap_or(rest.len())];
        out.extend(rest.split('"').skip(1).step_by(2).map(str::to_owned));
    }
    if let Some(i) = blob.find("[possible values:") {
        let rest = &blob[i + "[possible values:".len()..];
        let rest = &rest[..rest.find(']').unwrap_or(rest.len())];
        out.extend(rest.split(',').map(|s| s.trim().to_owned()));
    }
    for w in blob
        .split_whitespace()
        .filter(|w| w.contains('|') && !w.starts_with('-'))
    {
        out.extend(w.split('|').map(str::to_owned));
    }
    out
}

/// Asserts that every flag in `args` is defined in `help` (values and positionals are
/// skipped: they do not start with `-`; a lone `-` means stdin).
pub(crate) fn assert_known_flags(args: &[String], help: &str) {
    let known = flags(help);
    for a in args {
        if a.starts_with('-') && a != "-" {
            let flag = a.split('=').next().unwrap_or(a);
            assert!(
                known.contains(flag),
                "`{flag}` is not in the help; argv: {args:?}"
            );
        }
    }
}

/// Asserts that `flag`'s value in `args` is one the help lists.
pub(crate) fn assert_valid_value(args: &[String], flag: &str, help: &str) {
    let v = value(args, flag).unwrap_or_else(|| panic!("{flag} missing in {args:?}"));
    let allowed = choices(help, flag);
    assert!(
        allowed.iter().any(|c| c == v),
        "{flag} {v}: not one of {allowed:?}"
    );
}

/// The value after `flag` in `args`.
pub(crate) fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

/// Every autonomy with a new and a resumed session.
pub(crate) fn matrix() -> Vec<(Autonomy, SessionPolicy)> {
    let mut out = Vec::new();
    for a in [Autonomy::ReadOnly, Autonomy::Write] {
        out.push((a, SessionPolicy::New));
        out.push((a, SessionPolicy::Resume("0199-abc".into())));
    }
    out
}

/// A call context with fixed paths.
pub(crate) fn ctx<'a>(
    autonomy: Autonomy,
    session: &'a SessionPolicy,
    env: &'a BTreeMap<String, String>,
    extra: &'a [String],
) -> CallCtx<'a> {
    CallCtx {
        model: Some("m-1"),
        autonomy,
        session,
        workspace: "/ws",
        prompt_file: "/tmp/p/prompt.md",
        scratch: "/tmp/p",
        side_file: "/run/agents/execution-1.aider-analytics.jsonl",
        env,
        extra,
    }
}

#[test]
fn the_checker_reads_all_help_styles() {
    let claude = fixture("claude-help.txt");
    assert!(flags(&claude).contains("--allowedTools"));
    assert!(flags(&claude).contains("--allowed-tools"));
    assert!(choices(&claude, "--permission-mode").contains(&"dontAsk".to_owned()));
    let codex = fixture("codex-help.txt");
    let exec = section(&codex, "# codex exec --help");
    assert_eq!(
        choices(exec, "-s"),
        ["read-only", "workspace-write", "danger-full-access"]
    );
    let droid = fixture("droid-help.txt");
    assert_eq!(
        choices(section(&droid, "# droid exec --help"), "--auto"),
        ["low", "medium", "high"]
    );
    let aider = fixture("aider-help.txt");
    assert!(flags(&aider).contains("--no-auto-commits"));
    assert!(flags(&aider).contains("--message-file"));
    assert!(!flags(&aider).contains("--cwd"));
}
