//! The tool loop of write stages (execution, ship) and its six tools.
//!
//! The model gets `read_file`, `list_dir`, `search`, `write_file`, `apply_patch` and
//! `run_command`; each turn's calls run in order and their results go back as `tool`
//! messages, until the model answers without a call (its text is the final text) or
//! [`MAX_TURNS`] requests were made. Every path goes through [`Root::resolve`]; a refused or
//! failed call is a tool result the model can react to, not a failure of the stage. Only
//! fabrik's own limits end the loop early: the deadline and Ctrl-C.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fabrik_core::process::{self, CancelToken, Limits, SpawnError, Spec, StopReason};
use fabrik_core::redact::Redactor;
use serde::Deserialize;
use serde_json::json;

use super::agent::Conversation;
use super::confine::Root;
use super::wire::{Message, OutFunction, OutToolCall, ToolKind};
use crate::{Error, Result};

/// Requests per call at most (each may carry several tool calls).
pub(crate) const MAX_TURNS: usize = 30;
/// Tool names, in the order they are offered.
pub(crate) const NAMES: [&str; 6] = [
    "read_file",
    "list_dir",
    "search",
    "write_file",
    "apply_patch",
    "run_command",
];
/// Bytes of a file `read_file` returns at most.
const READ_CAP: usize = 256 << 10;
/// Entries `list_dir` returns at most.
const LIST_CAP: usize = 500;
/// Matches and bytes `search` returns at most; files larger than `SEARCH_FILE_CAP` are skipped.
const SEARCH_MATCHES: usize = 200;
const SEARCH_BYTES: usize = 64 << 10;
const SEARCH_FILE_CAP: u64 = 4 << 20;
/// Bytes kept of each stream of a command (head and tail each).
const COMMAND_KEEP: usize = 16 << 10;
/// Longest a single command may run (the stage deadline may cut it shorter).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

const SYSTEM: &str = "You are a coding agent working in a repository (the workspace). \
Use the tools to inspect and change files; every path is relative to the workspace root and \
cannot leave it. Prefer apply_patch (a unified diff) for edits to existing files and \
write_file for new files. run_command runs `sh -c` in the workspace. When the task is done, \
answer with a short summary of what you changed and make no further tool call.";

/// What the tools need besides the conversation.
pub(crate) struct ToolCtx<'a> {
    pub(crate) root: Root,
    /// The explicit environment of `run_command` and `git apply`.
    pub(crate) env: Vec<(OsString, OsString)>,
    pub(crate) redactor: &'a Redactor,
    pub(crate) cancel: &'a CancelToken,
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) grace: Duration,
    pub(crate) agent: &'a str,
}

/// The JSON schemas of the tools.
pub(crate) fn specs() -> Vec<serde_json::Value> {
    let f = |name: &str, description: &str, properties: serde_json::Value, required: &[&str]| {
        json!({
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "parameters": {"type": "object", "properties": properties, "required": required},
            }
        })
    };
    let path = json!({"type": "string", "description": "path relative to the workspace root"});
    vec![
        f(
            "read_file",
            "Read a text file of the workspace.",
            json!({"path": path}),
            &["path"],
        ),
        f(
            "list_dir",
            "List a directory of the workspace (directories end in /).",
            json!({"path": path}),
            &["path"],
        ),
        f(
            "search",
            "Find lines containing a substring in the files under a directory (default: the whole workspace).",
            json!({"query": {"type": "string"}, "path": path}),
            &["query"],
        ),
        f(
            "write_file",
            "Create or overwrite a file with the given content (parent directories are created).",
            json!({"path": path, "content": {"type": "string"}}),
            &["path", "content"],
        ),
        f(
            "apply_patch",
            "Apply a unified diff (as produced by `git diff`, paths a/... b/...) to the workspace.",
            json!({"patch": {"type": "string"}}),
            &["patch"],
        ),
        f(
            "run_command",
            "Run a shell command (sh -c) in the workspace root; returns exit status and output.",
            json!({"command": {"type": "string"}}),
            &["command"],
        ),
    ]
}

/// Runs the tool loop for `prompt` and returns the model's final text.
///
/// # Errors
/// The conversation's errors (transport, status, bad output), Timeout, Cancelled, and
/// BadOutput when the model still calls tools after [`MAX_TURNS`] requests.
pub(crate) fn run(conv: &mut Conversation<'_>, ctx: &ToolCtx<'_>, prompt: &str) -> Result<String> {
    let specs = specs();
    let mut messages = vec![
        Message::System {
            content: SYSTEM.to_owned(),
        },
        Message::User {
            content: prompt.to_owned(),
        },
    ];
    for turn in 1..=MAX_TURNS {
        let reply = conv.complete(&messages, &specs)?;
        let calls = reply.tool_calls.unwrap_or_default();
        if calls.is_empty() {
            return conv.final_text(reply.content);
        }
        let mut echoed = Vec::with_capacity(calls.len());
        let mut results = Vec::with_capacity(calls.len());
        for (i, call) in calls.into_iter().enumerate() {
            let id = call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| format!("call_{turn}_{i}"));
            let (name, args) = match &call.function {
                Some(f) => (f.name.clone(), f.arguments.as_text()),
                None => (String::new(), "{}".to_owned()),
            };
            let result = if call.kind == ToolKind::Unknown || call.function.is_none() {
                "error: unsupported tool call; use one of the function tools".to_owned()
            } else {
                if ctx.cancel.is_cancelled() {
                    return Err(Error::Cancelled {
                        agent: ctx.agent.to_owned(),
                    });
                }
                execute(ctx, &name, &args)?
            };
            conv.log(&format!(
                "turn {turn}: {name} {args} -> {}",
                first_line(&result)
            ));
            echoed.push(OutToolCall {
                id: id.clone(),
                kind: "function",
                function: OutFunction {
                    name,
                    arguments: args,
                },
            });
            results.push(Message::Tool {
                tool_call_id: id,
                content: result,
            });
        }
        messages.push(Message::Assistant {
            content: reply.content,
            tool_calls: echoed,
        });
        messages.extend(results);
    }
    Err(conv.bad_output(&format!(
        "the model was still calling tools after {MAX_TURNS} requests"
    )))
}

#[derive(Deserialize)]
struct PathArgs {
    #[serde(default)]
    path: String,
}

#[derive(Deserialize)]
struct SearchArgs {
    query: String,
    #[serde(default)]
    path: String,
}

#[derive(Deserialize)]
struct WriteArgs {
    path: String,
    content: String,
}

#[derive(Deserialize)]
struct PatchArgs {
    patch: String,
}

#[derive(Deserialize)]
struct CommandArgs {
    command: String,
}

/// Runs one tool; the `Ok` text is the tool result (refusals and failures included).
///
/// # Errors
/// Only fabrik's own limits: Cancelled, Timeout.
pub(crate) fn execute(ctx: &ToolCtx<'_>, name: &str, args: &str) -> Result<String> {
    fn parse<'de, T: Deserialize<'de>>(args: &'de str) -> std::result::Result<T, String> {
        serde_json::from_str(args).map_err(|e| format!("error: invalid arguments: {e}"))
    }
    let text = match name {
        "read_file" => parse::<PathArgs>(args).and_then(|a| read_file(&ctx.root, &a.path)),
        "list_dir" => parse::<PathArgs>(args).and_then(|a| list_dir(&ctx.root, &a.path)),
        "search" => parse::<SearchArgs>(args).and_then(|a| search(&ctx.root, &a.path, &a.query)),
        "write_file" => {
            parse::<WriteArgs>(args).and_then(|a| write_file(&ctx.root, &a.path, &a.content))
        }
        "apply_patch" => match parse::<PatchArgs>(args) {
            Ok(a) => apply_patch(ctx, &a.patch)?,
            Err(e) => Err(e),
        },
        "run_command" => match parse::<CommandArgs>(args) {
            Ok(a) => run_command(ctx, &a.command)?,
            Err(e) => Err(e),
        },
        other => Err(format!(
            "error: unknown tool `{other}`; the tools are {}",
            NAMES.join(", ")
        )),
    };
    Ok(text.unwrap_or_else(|e| e))
}

fn read_file(root: &Root, rel: &str) -> std::result::Result<String, String> {
    let path = root.resolve(rel)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("error: cannot read `{rel}`: {e}"))?;
    let shown = &bytes[..bytes.len().min(READ_CAP)];
    let mut text = String::from_utf8_lossy(shown).into_owned();
    if bytes.len() > READ_CAP {
        let _ = write!(
            text,
            "\n[truncated: the file has {} bytes; the first {READ_CAP} are shown]",
            bytes.len()
        );
    }
    Ok(text)
}

fn list_dir(root: &Root, rel: &str) -> std::result::Result<String, String> {
    let path = root.resolve(rel)?;
    let entries =
        std::fs::read_dir(&path).map_err(|e| format!("error: cannot list `{rel}`: {e}"))?;
    let mut names: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .map(|e| {
            let mut n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                n.push('/');
            }
            n
        })
        .collect();
    names.sort();
    let total = names.len();
    names.truncate(LIST_CAP);
    let mut text = names.join("\n");
    if total > LIST_CAP {
        let _ = write!(text, "\n[{} more entries not shown]", total - LIST_CAP);
    }
    if total == 0 {
        text = "(empty directory)".to_owned();
    }
    Ok(text)
}

fn search(root: &Root, rel: &str, query: &str) -> std::result::Result<String, String> {
    if query.is_empty() {
        return Err("error: `query` is empty".to_owned());
    }
    let start = root.resolve(rel)?;
    let mut out = String::new();
    let mut matches = 0usize;
    let mut stack = vec![start];
    let mut full = false;
    while let Some(path) = stack.pop() {
        let Ok(meta) = path.symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if let Ok(rd) = std::fs::read_dir(&path) {
                let mut children: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                children.sort();
                // Reversed so the stack pops them in order.
                stack.extend(children.into_iter().rev());
            }
            continue;
        }
        // Symlinks are not followed: their targets may lie outside the workspace.
        if !meta.is_file() || meta.len() > SEARCH_FILE_CAP {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes[..bytes.len().min(8192)].contains(&0) {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        let shown = root.display(&path);
        for (n, line) in text.lines().enumerate() {
            if line.contains(query) {
                matches += 1;
                let line = cut(line.trim_end(), 300);
                let _ = writeln!(out, "{shown}:{}: {line}", n + 1);
                if matches >= SEARCH_MATCHES || out.len() >= SEARCH_BYTES {
                    full = true;
                    break;
                }
            }
        }
        if full {
            break;
        }
    }
    if matches == 0 {
        return Ok(format!("no match for `{query}`"));
    }
    if full {
        let _ = write!(
            out,
            "[stopped after {matches} matches; narrow the query or the path]"
        );
    }
    Ok(out)
}

fn write_file(root: &Root, rel: &str, content: &str) -> std::result::Result<String, String> {
    let path = root.resolve(rel)?;
    if path == root.path() || path.is_dir() {
        return Err(format!("error: `{rel}` is a directory"));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("error: cannot create the directory of `{rel}`: {e}"))?;
    }
    std::fs::write(&path, content).map_err(|e| format!("error: cannot write `{rel}`: {e}"))?;
    Ok(format!(
        "wrote {} bytes to {}",
        content.len(),
        root.display(&path)
    ))
}

/// Paths a unified diff touches (from its `---`/`+++` and `diff --git` headers, prefixes
/// `a/`/`b/` removed when `strip`).
fn patch_paths(patch: &str, strip: bool) -> Vec<String> {
    let mut paths = Vec::new();
    for line in patch.lines() {
        if let Some(p) = line
            .strip_prefix("--- ")
            .or_else(|| line.strip_prefix("+++ "))
        {
            let p = p.split('\t').next().unwrap_or(p).trim();
            if p == "/dev/null" || p.is_empty() {
                continue;
            }
            let p = if strip {
                p.strip_prefix("a/")
                    .or_else(|| p.strip_prefix("b/"))
                    .unwrap_or(p)
            } else {
                p
            };
            if !paths.iter().any(|q| q == p) {
                paths.push(p.to_owned());
            }
        } else if let Some(p) = line
            .strip_prefix("rename to ")
            .or_else(|| line.strip_prefix("copy to "))
        {
            // Rename targets carry no a/ b/ prefix.
            paths.push(p.trim().to_owned());
        }
    }
    paths
}

fn apply_patch(ctx: &ToolCtx<'_>, patch: &str) -> Result<std::result::Result<String, String>> {
    // -p1 when the headers carry git's a/ b/ prefixes, else -p0.
    let strip = patch
        .lines()
        .any(|l| l.starts_with("+++ b/") || l.starts_with("--- a/"));
    let paths = patch_paths(patch, strip);
    if paths.is_empty() {
        return Ok(Err(
            "error: no file headers (--- a/path, +++ b/path) found in the patch".to_owned(),
        ));
    }
    for p in &paths {
        if let Err(refusal) = ctx.root.resolve(p) {
            return Ok(Err(refusal));
        }
    }
    let mut patch = patch.to_owned();
    if !patch.ends_with('\n') {
        patch.push('\n');
    }
    let strip_arg = if strip { "-p1" } else { "-p0" };
    let args = ["apply", "--recount", "--whitespace=nowarn", strip_arg, "-"];
    let out = run_in_workspace(ctx, "git", &args, Some(patch.into_bytes()))?;
    Ok(match out {
        Ran::Done { code: Some(0), .. } => Ok(format!("patch applied to {}", paths.join(", "))),
        Ran::Done { output, .. } => Err(format!("error: the patch did not apply:\n{output}")),
        Ran::Failed(msg) => Err(msg),
    })
}

fn run_command(ctx: &ToolCtx<'_>, command: &str) -> Result<std::result::Result<String, String>> {
    Ok(match run_in_workspace(ctx, "sh", &["-c", command], None)? {
        Ran::Done { code, output } => Ok(format!(
            "{}\n{output}",
            code.map_or_else(
                || "killed by a signal".to_owned(),
                |c| format!("exit code {c}")
            )
        )),
        Ran::Failed(msg) => Err(msg),
    })
}

enum Ran {
    Done { code: Option<i32>, output: String },
    Failed(String),
}

/// Runs a program in the workspace with the agent's explicit environment, bounded output
/// and the tighter of [`COMMAND_TIMEOUT`] and the stage deadline.
fn run_in_workspace(
    ctx: &ToolCtx<'_>,
    program: &str,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> Result<Ran> {
    let left = ctx.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::Timeout {
            agent: ctx.agent.to_owned(),
            after: ctx.timeout,
        });
    }
    let limit = left.min(COMMAND_TIMEOUT);
    let mut spec = Spec::new(program, ctx.root.path());
    spec.args = args.iter().map(Into::into).collect();
    spec.env.clone_from(&ctx.env);
    spec.clear_env = true;
    spec.stdin = stdin;
    spec.timeout = Some(limit);
    spec.grace = ctx.grace;
    spec.limits = Limits {
        head: COMMAND_KEEP,
        tail: COMMAND_KEEP,
        file_cap: 0,
    };
    spec.redactor = ctx.redactor.clone();
    let outcome = match process::run(&spec, ctx.cancel) {
        Ok(o) => o,
        Err(e @ SpawnError::NotFound { .. }) => return Ok(Ran::Failed(format!("error: {e}"))),
        Err(e @ SpawnError::Io { .. }) => {
            return Ok(Ran::Failed(format!(
                "error: {e}: {:?}",
                std::error::Error::source(&e)
            )));
        }
    };
    match outcome.stopped {
        Some(StopReason::Cancelled) => {
            return Err(Error::Cancelled {
                agent: ctx.agent.to_owned(),
            });
        }
        Some(StopReason::Timeout) if limit == left => {
            return Err(Error::Timeout {
                agent: ctx.agent.to_owned(),
                after: ctx.timeout,
            });
        }
        Some(StopReason::Timeout) => {
            return Ok(Ran::Failed(format!(
                "error: the command was stopped after {}s",
                limit.as_secs()
            )));
        }
        None => {}
    }
    let mut output = String::new();
    let stdout = outcome.stdout.text();
    let stderr = outcome.stderr.text();
    if !stdout.is_empty() {
        let _ = write!(output, "--- stdout ---\n{stdout}");
    }
    if !stderr.is_empty() {
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        let _ = write!(output, "--- stderr ---\n{stderr}");
    }
    Ok(Ran::Done {
        code: outcome.code,
        output,
    })
}

fn first_line(s: &str) -> &str {
    cut(s.lines().next().unwrap_or(""), 200)
}

/// At most `max` bytes of `s`, on a char boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn ctx<'a>(root: &Path, redactor: &'a Redactor, cancel: &'a CancelToken) -> ToolCtx<'a> {
        ToolCtx {
            root: Root::new(root).unwrap(),
            env: vec![("PATH".into(), std::env::var_os("PATH").unwrap_or_default())],
            redactor,
            cancel,
            deadline: Instant::now() + Duration::from_secs(30),
            timeout: Duration::from_secs(30),
            grace: Duration::from_millis(100),
            agent: "oa",
        }
    }

    #[test]
    fn tools_work_inside_the_workspace() {
        let ws = tempfile::tempdir().unwrap();
        let (r, c) = (Redactor::default(), CancelToken::new());
        let cx = ctx(ws.path(), &r, &c);
        let run =
            |name: &str, args: serde_json::Value| execute(&cx, name, &args.to_string()).unwrap();

        assert_eq!(
            run(
                "write_file",
                json!({"path": "src/a.txt", "content": "one\ntwo\n"})
            ),
            "wrote 8 bytes to src/a.txt"
        );
        assert_eq!(run("read_file", json!({"path": "src/a.txt"})), "one\ntwo\n");
        assert_eq!(run("list_dir", json!({"path": "."})), "src/");
        assert_eq!(run("search", json!({"query": "two"})), "src/a.txt:2: two\n");
        let patch = "--- a/src/a.txt\n+++ b/src/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n";
        assert_eq!(
            run("apply_patch", json!({ "patch": patch })),
            "patch applied to src/a.txt"
        );
        assert_eq!(
            std::fs::read_to_string(ws.path().join("src/a.txt")).unwrap(),
            "one\nthree\n"
        );
        assert_eq!(
            run(
                "run_command",
                json!({"command": "cat src/a.txt; echo err >&2; exit 3"})
            ),
            "exit code 3\n--- stdout ---\none\nthree\n--- stderr ---\nerr\n"
        );
        let e = run("read_file", json!({"path": "../x"}));
        assert!(e.starts_with("refused:"), "{e}");
        let e = run(
            "apply_patch",
            json!({"patch": "--- a/../x\n+++ b/../x\n@@ -0,0 +1 @@\n+x\n"}),
        );
        assert!(e.starts_with("refused:"), "{e}");
        let e = run("nope", json!({}));
        assert!(e.starts_with("error: unknown tool `nope`"), "{e}");
        let e = run("read_file", json!({"file": 1}));
        assert!(e.starts_with("refused:") || e.starts_with("error:"), "{e}");
    }
}
