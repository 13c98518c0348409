//! `fabrik init`: writes a commented `fabrik.toml` at the repository root that maps the
//! seed's stage table onto the agent CLIs found on PATH and proposes gate commands from
//! the project's files, and keeps `.fabrik/` out of git.

mod gates;
mod mapping;
mod render;

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use fabrik_core::exit;
use serde::Serialize;

use crate::commands::Ctx;
use crate::{CliError, Outcome};

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Overwrite an existing fabrik.toml (the old one is kept as fabrik.toml.bak).
    #[arg(long)]
    pub(crate) force: bool,
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Summary {
    path: PathBuf,
    written: bool,
    backup: Option<PathBuf>,
    agents_found: Vec<&'static str>,
    agents: Vec<mapping::AgentDef>,
    stages: Option<mapping::Stages>,
    gates: Vec<gates::Gate>,
    warnings: Vec<String>,
}

/// The file's text for the project at `root`, with `path_var` as PATH.
fn plan(root: &Path, path_var: &OsStr) -> (mapping::Mapping, Vec<gates::Gate>, String) {
    let found = mapping::find_clis(path_var);
    let m = mapping::map(&found);
    let gates = gates::propose(root);
    let mut sources: Vec<String> = Vec::new();
    for g in &gates {
        let file = g.reason.split(':').next().unwrap_or_default();
        let file = file.split(' ').next().unwrap_or_default().to_owned();
        if !sources.contains(&file) {
            sources.push(file);
        }
    }
    let text = render::render(&m, &gates, &sources);
    (m, gates, text)
}

pub(crate) fn run(args: &InitArgs, ctx: &Ctx<'_>) -> Outcome {
    let root = ctx.root();
    let path = root.join(fabrik_config::FILE_NAME);
    let io = |e: std::io::Error, p: &Path| {
        CliError::Usage(format!("cannot write `{}`: {e}", p.display()))
    };
    exclude(&root)?;
    let mut stderr = std::io::stderr().lock();
    if path.exists() && !args.force {
        let msg = format!("{} exists; --force to overwrite", fabrik_config::FILE_NAME);
        let _ = writeln!(stderr, "{msg}");
        if ctx.printer.json {
            ctx.printer.json(&Summary {
                path,
                written: false,
                backup: None,
                agents_found: mapping::find_clis(&path_var()),
                agents: Vec::new(),
                stages: None,
                gates: Vec::new(),
                warnings: vec![msg],
            })?;
        }
        return Ok(exit::SUCCESS);
    }
    let (m, gates, text) = plan(&root, &path_var());
    // The file must load: a bug here must not leave the user a config that fails.
    if let Err(e) = fabrik_config::from_str(&text, &path) {
        return Err(CliError::Usage(format!(
            "internal error: the generated fabrik.toml does not load: {e}"
        )));
    }
    let backup = if path.exists() {
        let bak = root.join(format!("{}.bak", fabrik_config::FILE_NAME));
        std::fs::copy(&path, &bak).map_err(|e| io(e, &bak))?;
        Some(bak)
    } else {
        None
    };
    let tmp = root.join(format!(".{}.tmp", fabrik_config::FILE_NAME));
    std::fs::write(&tmp, &text).map_err(|e| io(e, &tmp))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(e, &path))?;
    for w in &m.warnings {
        let _ = writeln!(stderr, "warning: {w}");
    }
    if ctx.printer.json {
        ctx.printer.json(&Summary {
            path,
            written: true,
            backup,
            agents_found: m.found.clone(),
            agents: m.agents.clone(),
            stages: Some(m.stages.clone()),
            gates,
            warnings: m.warnings.clone(),
        })?;
        return Ok(exit::SUCCESS);
    }
    let mut lines = vec![format!("wrote {}", path.display())];
    if let Some(b) = &backup {
        lines.push(format!("  previous file kept as {}", b.display()));
    }
    let found = if m.found.is_empty() {
        "none".to_owned()
    } else {
        m.found.join(", ")
    };
    lines.push(format!("  agent CLIs found: {found}"));
    let st = &m.stages;
    lines.push(format!("  discovery:    {}", st.discovery.join(" + ")));
    lines.push(format!(
        "  planning:     {} (review: {})",
        st.planning,
        st.reviewers.join(", ")
    ));
    lines.push(format!("  execution:    {}", st.execution));
    lines.push(format!("  verification: {}", st.verification));
    lines.push(format!("  ship:         {}", st.ship));
    let active: Vec<&str> = gates
        .iter()
        .filter(|g| g.enabled)
        .map(|g| g.run.as_str())
        .collect();
    lines.push(format!(
        "  gates: {}",
        if active.is_empty() {
            "none proposed (add [[gates.command]])".to_owned()
        } else {
            active.join("; ")
        }
    ));
    lines.push("check it with `fabrik agents` and `fabrik --dry-run \"<task>\"`".to_owned());
    for l in lines {
        ctx.printer.line(&l);
    }
    Ok(exit::SUCCESS)
}

fn path_var() -> std::ffi::OsString {
    std::env::var_os("PATH").unwrap_or_default()
}

/// Adds `/.fabrik/` to `.git/info/exclude` in a git repository.
fn exclude(root: &Path) -> Result<(), CliError> {
    if root.join(".git").is_dir() {
        fabrik_pipeline::Store::new(root).init()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_path(programs: &[&str]) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        for p in programs {
            let f = d.path().join(p);
            std::fs::write(&f, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        d
    }

    /// Writes the generated file and loads it with `fabrik_config::load`.
    fn generated(programs: &[&str], files: &[(&str, &str)]) -> (String, fabrik_config::Config) {
        let bin = fake_path(programs);
        let repo = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(repo.path().join(name), text).unwrap();
        }
        let (_, _, text) = plan(repo.path(), bin.path().as_os_str());
        std::fs::write(repo.path().join("fabrik.toml"), &text).unwrap();
        let config =
            fabrik_config::load(repo.path(), None).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
        (text, config)
    }

    #[test]
    fn every_mapping_loads() {
        let sets: &[&[&str]] = &[
            &[],
            &["claude"],
            &["codex"],
            &["codex", "gemini"],
            &["droid"],
            &["aider"],
            &["opencode", "gemini"],
            &["droid", "claude", "codex", "gemini", "aider", "opencode"],
        ];
        for set in sets {
            let (text, config) = generated(set, &[("Cargo.toml", "[package]\n")]);
            assert_eq!(
                config.gates.builtin,
                ["scope", "clones", "schema"],
                "{text}"
            );
            assert_eq!(config.gates.command.len(), 3, "{text}");
            let m = mapping::map(&mapping::find_clis(fake_path(set).path().as_os_str()));
            assert_eq!(
                config.stages.execution.agent(),
                m.stages.execution,
                "{text}"
            );
            assert_eq!(
                config.stages.verification.agent(),
                m.stages.verification,
                "{text}"
            );
            assert_eq!(config.stages.discovery.agents, m.stages.discovery, "{text}");
        }
    }

    #[test]
    fn the_file_explains_itself() {
        let (text, config) = generated(&["claude"], &[("package.json", "{}")]);
        assert!(
            text.contains("# Agent CLIs found on PATH: claude."),
            "{text}"
        );
        assert!(
            text.contains("codex not found, so claude again, as the separate agent `verifier`"),
            "{text}"
        );
        assert!(text.contains("# max_verify") || text.contains("max_verify = 2"));
        assert!(
            text.contains("# [[gates.command]]\n# name = \"lint\""),
            "{text}"
        );
        assert!(config.gates.command.is_empty());
        assert_eq!(config.agents["verifier"].preset.as_deref(), Some("claude"));

        let (text, config) = generated(&[], &[]);
        assert!(
            text.contains("UNAVAILABLE: codex not found on PATH"),
            "{text}"
        );
        assert!(text.contains("#   kind = \"command\""), "{text}");
        assert!(text.contains("No agent CLI was found on PATH"), "{text}");
        assert!(
            text.contains("# UNAVAILABLE until droid is installed, or set `agent` to a `kind = \"command\"` agent\n[stages.execution]"),
            "{text}"
        );
        assert_eq!(config.stages.execution.agent(), "swe");
    }
}
