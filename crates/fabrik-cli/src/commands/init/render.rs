//! The text of the `fabrik.toml` that `fabrik init` writes: the mapping and the gates,
//! with the explanations of the commented defaults (`fabrik_config::DEFAULT_TOML`).

use std::fmt::Write as _;

use super::gates::Gate;
use super::mapping::{AgentDef, CLIS, Mapping};

/// The part of the defaults from the line starting with `from` up to (not including) the
/// line starting with `to` (or the end); `None` when `from` is not there.
fn defaults_between(from: &str, to: Option<&str>) -> Option<&'static str> {
    let text = fabrik_config::DEFAULT_TOML;
    let start = line_start(text, from)?;
    let end = to
        .and_then(|t| line_start(&text[start..], t).map(|e| start + e))
        .unwrap_or(text.len());
    Some(text[start..end].trim_end())
}

fn line_start(text: &str, prefix: &str) -> Option<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(prefix) {
            return Some(at);
        }
        at += line.len();
    }
    None
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(names: &[String]) -> String {
    let items: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    format!("[{}]", items.join(", "))
}

const COMMAND_EXAMPLE: &str = "\
# Agents. `preset` drives a known CLI; `kind = \"command\"` runs any program:
#   [agents.mybot]
#   kind = \"command\"
#   argv = [\"mybot\", \"--model\", \"{model}\"]  # {prompt} {prompt_file} {model} {cwd} {session} {stage} {run_id}
#   prompt_via = \"stdin\"                     # stdin | arg | file
#   timeout = \"20m\"
#   env = { MYBOT_MODE = \"fast\" }";

/// The whole file.
pub(crate) fn render(m: &Mapping, gates: &[Gate], sources: &[String]) -> String {
    let mut s = String::new();
    header(&mut s, m);
    s.push('\n');
    s.push_str(
        defaults_between("[pipeline]", Some("# Agents."))
            .unwrap_or("[pipeline]\nmax_verify = 2\nworkspace = \"worktree\"\ngrace = \"5s\""),
    );
    s.push_str("\n\n");
    s.push_str(defaults_between("# Agents.", Some("[agents.")).unwrap_or(COMMAND_EXAMPLE));
    s.push_str(
        "\n# Presets also take `timeout`, `env` (e.g. ANTHROPIC_BASE_URL to use a gateway) and\n# `argv_extra` (flags appended to the command line). `fabrik agents` prints every command line.\n",
    );
    for a in &m.agents {
        agent(&mut s, a);
    }
    stages(&mut s, m);
    gates_section(&mut s, gates, sources);
    s
}

fn header(s: &mut String, m: &Mapping) {
    s.push_str(
        "# fabrik.toml: how fabrik runs your agents, written by `fabrik init`.\n\
         # Every key is optional (a key left out takes the built-in default, the seed's stage\n\
         # table); unknown keys are errors, so typos never pass silently. Check it with\n\
         # `fabrik agents` and `fabrik --dry-run \"<task>\"`.\n#\n",
    );
    if m.found.is_empty() {
        s.push_str(
            "# No agent CLI was found on PATH: the stage table below is the seed's, and none of its\n\
             # agents can run until you install their CLIs:\n",
        );
        for c in CLIS {
            let _ = writeln!(s, "#   {:<9} {}", c.program, c.install);
        }
        s.push_str(
            "# or point a stage at any program with a `kind = \"command\"` agent (example below).\n",
        );
    } else {
        let _ = writeln!(s, "# Agent CLIs found on PATH: {}.", m.found.join(", "));
        let missing: Vec<&str> = CLIS
            .iter()
            .map(|c| c.program)
            .filter(|p| !m.found.contains(p))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(s, "# Not found: {}.", missing.join(", "));
        }
        for w in &m.warnings {
            let _ = writeln!(s, "# - {w}");
        }
    }
}

fn agent(s: &mut String, a: &AgentDef) {
    let _ = writeln!(s, "\n# {}", a.note);
    let _ = writeln!(s, "[agents.{}]", a.name);
    let _ = writeln!(s, "preset = {}", quoted(a.preset));
    if let Some(model) = &a.model {
        let _ = writeln!(s, "model = {}", quoted(model));
    }
}

fn notes(s: &mut String, m: &Mapping, stage: &str) {
    for n in m.notes_for(stage) {
        let _ = writeln!(s, "# {n}");
    }
}

fn stages(s: &mut String, m: &Mapping) {
    let st = &m.stages;
    s.push_str("\n# Stage 1: discovery writes a specification (high-risk tasks only). Seed: codex + gemini.\n");
    notes(s, m, "discovery");
    let _ = writeln!(
        s,
        "[stages.discovery]\nagents = {}   # run concurrently, outputs merged\ntimeout = \"20m\"",
        list(&st.discovery)
    );
    s.push_str("\n# Stage 2: a phased plan, reviewed, then frozen. Seed: claude sonnet, reviewed by codex.\n");
    notes(s, m, "planning");
    let _ = writeln!(
        s,
        "[stages.planning]\nagent = {}\nreviewers = {}\nmax_revisions = 2\n\
         # Lint the plan against the Stage-2 contract and ground it in the repository\n\
         # (`fabrik plan lint --repo`); a failing plan is sent back once with the findings.\n\
         lint = true\ntimeout = \"20m\"",
        quoted(&st.planning),
        list(&st.reviewers)
    );
    s.push_str("\n# Stage 3: the builder edits the workspace. Seed: droid swe-1.5.\n");
    notes(s, m, "execution");
    let _ = writeln!(
        s,
        "[stages.execution]\nagent = {}\ntimeout = \"30m\"",
        quoted(&st.execution)
    );
    s.push_str("\n# Stage 4: an independent audit that ends with a JSON verdict. Seed: codex.\n");
    notes(s, m, "verification");
    let _ = writeln!(
        s,
        "[stages.verification]\nagent = {}                # always a fresh session\ntimeout = \"20m\"",
        quoted(&st.verification)
    );
    s.push_str("\n# Stage 5: docs and changelog, cheap and fast. Seed: claude haiku.\n");
    notes(s, m, "ship");
    let _ = writeln!(
        s,
        "[stages.ship]\nagent = {}\ntimeout = \"10m\"",
        quoted(&st.ship)
    );
}

fn gates_section(s: &mut String, gates: &[Gate], sources: &[String]) {
    s.push('\n');
    s.push_str(
        defaults_between("[gates]", Some("# Command gates")).unwrap_or(
            "[gates]\nbefore_execution = false\nbuiltin = [\"scope\", \"clones\", \"schema\"]",
        ),
    );
    s.push_str(
        "\n\n# Command gates run before every verification, in the workspace, with `sh -c`; a\n\
         # non-zero exit fails the run (exit 4), a missing program reports `tool_missing`.\n\
         # `when = \"changed:<glob>\"` runs a gate only when a changed file matches.\n",
    );
    if gates.is_empty() {
        s.push_str(
            "# No Cargo.toml, pyproject.toml, setup.cfg, package.json or go.mod at the root: add yours.\n\
             # [[gates.command]]\n# name = \"tests\"\n# run = \"make test\"\n# timeout = \"10m\"\n# when = \"always\"\n",
        );
        return;
    }
    let _ = writeln!(s, "# Proposed from: {}.", sources.join(", "));
    for g in gates {
        let _ = writeln!(s, "\n# {}", g.reason);
        let p = if g.enabled { "" } else { "# " };
        let _ = writeln!(s, "{p}[[gates.command]]");
        let _ = writeln!(s, "{p}name = {}", quoted(&g.name));
        let _ = writeln!(s, "{p}run = {}", quoted(&g.run));
        let _ = writeln!(s, "{p}timeout = {}", quoted(g.timeout));
        let _ = writeln!(s, "{p}when = \"always\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_have_the_sections_we_reuse() {
        let pipeline = defaults_between("[pipeline]", Some("# Agents.")).unwrap();
        assert!(pipeline.contains("max_verify = 2") && pipeline.contains("[risk]"));
        assert!(!pipeline.contains("[agents."));
        let agents = defaults_between("# Agents.", Some("[agents.")).unwrap();
        assert!(
            agents.contains("kind = \"command\"") && agents.lines().all(|l| l.starts_with('#'))
        );
        let gates = defaults_between("[gates]", Some("# Command gates")).unwrap();
        assert!(
            gates.contains("builtin = [\"scope\", \"clones\", \"schema\"]"),
            "{gates}"
        );
        assert!(!gates.contains("[[gates.command]]"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }
}
