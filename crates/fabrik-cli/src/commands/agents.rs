//! `fabrik agents`: each configured agent, whether it can run here, and the exact command
//! line every stage that uses it would run (secrets redacted).

use std::io::Write;

use fabrik_agent::Agent;
use fabrik_config::{AgentConfig, AgentKind, Config};
use fabrik_core::exit;

/// Writes the report to `out`. Exit code 0 when every agent a stage uses can run, else
/// [`exit::CONFIG_ERROR`] (a missing binary, a preset without its required model, or a
/// backend this build does not have).
///
/// # Errors
/// Only when writing to `out` fails.
pub(crate) fn run(config: &Config, out: &mut dyn Write) -> std::io::Result<u8> {
    let uses = stage_uses(config);
    let mut code = exit::SUCCESS;
    if config.agents.is_empty() {
        writeln!(
            out,
            "no agents configured: add `[agents.<name>]` to fabrik.toml"
        )?;
    }
    for (i, (name, agent_config)) in config.agents.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let roles: Vec<&str> = uses
            .iter()
            .filter(|(_, agent)| agent == name)
            .map(|(role, _)| *role)
            .collect();
        let ready = report(agent_config, &roles, out)?;
        if !ready && !roles.is_empty() {
            code = exit::CONFIG_ERROR;
        }
    }
    Ok(code)
}

/// One agent's block; returns whether it can run.
fn report(config: &AgentConfig, roles: &[&str], out: &mut dyn Write) -> std::io::Result<bool> {
    let model = config.model.as_deref().unwrap_or("(the CLI's default)");
    writeln!(out, "{}  [{}]  model: {model}", config.name, kind(config))?;
    let agent = match fabrik_agent::build(config) {
        Ok(agent) => agent,
        Err(e) => {
            writeln!(out, "  status: {}", unavailable(&e))?;
            return Ok(false);
        }
    };
    let ready = match agent.preflight() {
        Ok(()) => {
            writeln!(out, "  status: ready (binary found on PATH)")?;
            true
        }
        Err(e) => {
            writeln!(out, "  status: {}", unavailable(&e))?;
            false
        }
    };
    commands(&*agent, roles, out)?;
    Ok(ready)
}

fn commands(agent: &dyn Agent, roles: &[&str], out: &mut dyn Write) -> std::io::Result<()> {
    if roles.is_empty() {
        return writeln!(out, "  (no stage uses it)");
    }
    let width = roles.iter().map(|r| r.len()).max().unwrap_or(0);
    for role in roles {
        writeln!(out, "  {role:<width$}  $ {}", agent.describe(role))?;
    }
    Ok(())
}

fn unavailable(e: &fabrik_agent::Error) -> String {
    match e {
        fabrik_agent::Error::Unavailable { reason, hint, .. } if !hint.is_empty() => {
            format!("unavailable: {reason}\n  hint: {hint}")
        }
        e => format!("unavailable: {e}"),
    }
}

fn kind(config: &AgentConfig) -> String {
    match config.kind {
        AgentKind::Preset => format!("preset {}", config.preset.as_deref().unwrap_or("?")),
        AgentKind::Command => "command".to_owned(),
        AgentKind::Openai => "openai".to_owned(),
        AgentKind::Replay => "replay".to_owned(),
    }
}

/// `(role, agent)` for every agent call the stages make, in pipeline order; `role` is the
/// `FABRIK_STAGE` value (plan reviewers are `review`).
fn stage_uses(config: &Config) -> Vec<(&'static str, String)> {
    let s = &config.stages;
    let mut uses = Vec::new();
    let mut add = |role: &'static str, agents: &[String]| {
        for a in agents {
            if !uses.iter().any(|(r, x)| *r == role && x == a) {
                uses.push((role, a.clone()));
            }
        }
    };
    add("discovery", &s.discovery.agents);
    add("planning", &s.planning.agents);
    add("review", &s.planning.reviewers);
    add("execution", &s.execution.agents);
    add("verification", &s.verification.agents);
    add("ship", &s.ship.agents);
    uses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_for(toml: &str) -> (String, u8) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fabrik.toml"), toml).unwrap();
        let config = fabrik_config::load(dir.path(), None).unwrap();
        let mut out = Vec::new();
        let code = run(&config, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), code)
    }

    const STAGES: &str = r#"
[stages.discovery]
agents = ["reader"]
[stages.planning]
agent = "reader"
reviewers = ["reader"]
[stages.execution]
agent = "builder"
[stages.verification]
agent = "reader"
[stages.ship]
agent = "builder"
"#;

    #[test]
    fn lists_each_stage_command_and_fails_when_a_binary_is_missing() {
        let toml = format!(
            r#"
[agents.reader]
preset = "codex"
model = "gpt-5.3-codex"
env = {{ PATH = "/nonexistent" }}
[agents.builder]
kind = "command"
argv = ["sh", "-c", "cat"]
[agents.spare]
preset = "gemini"
{STAGES}"#
        );
        let (text, code) = report_for(&toml);
        assert_eq!(code, exit::CONFIG_ERROR, "{text}");
        assert!(
            text.contains("reader  [preset codex]  model: gpt-5.3-codex"),
            "{text}"
        );
        assert!(text.contains("`codex` was not found on PATH"), "{text}");
        assert!(text.contains("npm install -g @openai/codex"), "{text}");
        for role in ["discovery", "planning", "review", "verification"] {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(role)
                    && l.ends_with("$ codex exec --json --skip-git-repo-check -C <workspace> -s read-only -m gpt-5.3-codex - < <prompt>")),
                "{role}: {text}"
            );
        }
        assert!(text.contains("builder  [command]"), "{text}");
        assert!(text.contains("status: ready"), "{text}");
        assert!(text.contains("execution  $ sh -c cat < prompt"), "{text}");
        assert!(
            text.contains("spare  [preset gemini]  model: (the CLI's default)"),
            "{text}"
        );
        assert!(text.contains("(no stage uses it)"), "{text}");
    }

    #[test]
    fn ready_when_every_used_agent_can_run() {
        let toml = format!(
            r#"
[agents.reader]
kind = "command"
argv = ["sh", "-c", "cat"]
[agents.builder]
kind = "command"
argv = ["sh", "-c", "cat"]
{STAGES}"#
        );
        let (text, code) = report_for(&toml);
        assert_eq!(code, exit::SUCCESS, "{text}");
    }
}
