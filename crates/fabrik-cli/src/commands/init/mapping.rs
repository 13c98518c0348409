//! Which agent CLIs are installed, and the seed's stage table mapped onto them.
//!
//! The seed (DESIGN §5): discovery = codex + gemini, planning = claude sonnet reviewed by
//! codex, execution = droid swe-1.5, verification = codex, ship = claude haiku. A stage
//! whose CLI is missing falls back to an installed one; the verifier (and the plan
//! reviewer) never runs on the CLI that did the work when another CLI is installed.

use std::ffi::OsStr;
use std::path::Path;

use serde::Serialize;

/// One agent CLI fabrik has a preset for.
#[derive(Debug)]
pub(crate) struct CliInfo {
    /// Binary name (as the preset runs it) and preset name.
    pub(crate) program: &'static str,
    /// How to install it (as the preset's own hint says).
    pub(crate) install: &'static str,
    /// The agent defined for it.
    pub(crate) agent: &'static str,
    /// That agent's model (`None`: the CLI's default).
    pub(crate) model: Option<&'static str>,
}

/// The CLIs, in `fabrik_config::PRESETS` order; install hints as in
/// `fabrik-agent/src/preset/<cli>.rs` (checked by a test).
pub(crate) const CLIS: &[CliInfo] = &[
    CliInfo {
        program: "droid",
        install: "npm install -g @factory/cli",
        agent: "swe",
        model: Some("swe-1.5"),
    },
    CliInfo {
        program: "claude",
        install: "npm install -g @anthropic-ai/claude-code",
        agent: "sonnet",
        model: Some("sonnet"),
    },
    CliInfo {
        program: "codex",
        install: "npm install -g @openai/codex",
        agent: "codex",
        model: Some("gpt-5.3-codex"),
    },
    CliInfo {
        program: "gemini",
        install: "npm install -g @google/gemini-cli",
        agent: "gemini",
        model: Some("gemini-2.5-pro"),
    },
    CliInfo {
        program: "aider",
        install: "pip install aider-chat",
        agent: "aider",
        model: Some("sonnet"),
    },
    CliInfo {
        program: "opencode",
        install: "npm install -g opencode-ai",
        agent: "opencode",
        model: None,
    },
];

/// The CLI named `program`.
pub(crate) fn cli(program: &str) -> &'static CliInfo {
    CLIS.iter()
        .find(|c| c.program == program)
        .unwrap_or(&CLIS[0])
}

/// The CLIs of [`CLIS`] found as executable files in the directories of `path_var` (a
/// `PATH` value), in [`CLIS`] order.
pub(crate) fn find_clis(path_var: &OsStr) -> Vec<&'static str> {
    let dirs: Vec<_> = std::env::split_paths(path_var)
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    CLIS.iter()
        .map(|c| c.program)
        .filter(|p| dirs.iter().any(|d| is_executable(&d.join(p))))
        .collect()
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// An `[agents.<name>]` table to write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct AgentDef {
    /// Table name.
    pub(crate) name: String,
    /// Preset (= binary name).
    pub(crate) preset: &'static str,
    /// Model, when one is set.
    pub(crate) model: Option<String>,
    /// Whether the binary was found.
    pub(crate) available: bool,
    /// Why it is defined (a comment in the file).
    #[serde(skip)]
    pub(crate) note: String,
}

/// The stage table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Stages {
    /// Discovery agents (one or two).
    pub(crate) discovery: Vec<String>,
    /// The planner.
    pub(crate) planning: String,
    /// The plan reviewers.
    pub(crate) reviewers: Vec<String>,
    /// The builder.
    pub(crate) execution: String,
    /// The verifier.
    pub(crate) verification: String,
    /// The docs writer.
    pub(crate) ship: String,
}

/// The result of mapping the seed onto the installed CLIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// CLIs found, in [`CLIS`] order.
    pub(crate) found: Vec<&'static str>,
    /// Agent tables, in the order they are written.
    pub(crate) agents: Vec<AgentDef>,
    /// The stage table.
    pub(crate) stages: Stages,
    /// Per stage (`discovery`, `planning`, `execution`, `verification`, `ship`): comment
    /// lines explaining a departure from the seed.
    pub(crate) notes: Vec<(&'static str, String)>,
    /// What the user should know (also on stderr).
    pub(crate) warnings: Vec<String>,
}

impl Mapping {
    /// The notes for `stage`.
    pub(crate) fn notes_for(&self, stage: &str) -> impl Iterator<Item = &str> {
        self.notes
            .iter()
            .filter(move |(s, _)| *s == stage)
            .map(|(_, n)| n.as_str())
    }
}

/// Name of the extra verifier definition used when only one CLI is installed.
const VERIFIER: &str = "verifier";

/// A stage's replacement for a missing CLI: (missing program, "stage uses X").
type Substitution = (&'static str, String);

struct Mapper<'a> {
    found: &'a [&'static str],
    subs: Vec<Substitution>,
    notes: Vec<(&'static str, String)>,
}

impl Mapper<'_> {
    fn has(&self, program: &str) -> bool {
        self.found.contains(&program)
    }

    /// The first found program of `order` that `ok` accepts.
    fn first(&self, order: &[&'static str], ok: impl Fn(&str) -> bool) -> Option<&'static str> {
        order.iter().copied().find(|p| self.has(p) && ok(p))
    }

    fn missing(&mut self, stage: &'static str, program: &'static str, uses: &str) {
        self.subs.push((program, format!("{stage} uses {uses}")));
        self.notes.push((
            stage,
            format!(
                "{program} not found, so {uses} (install: {})",
                cli(program).install
            ),
        ));
    }
}

/// Maps the seed's stage table onto `found` (program names, e.g. from [`find_clis`]).
pub(crate) fn map(found: &[&'static str]) -> Mapping {
    if found.is_empty() {
        return unavailable();
    }
    let mut m = Mapper {
        found,
        subs: Vec::new(),
        notes: Vec::new(),
    };
    let any = |_: &str| true;

    // Discovery: codex + gemini, else two distinct installed CLIs, else one.
    const DISCOVERY: [&str; 6] = ["codex", "gemini", "claude", "droid", "opencode", "aider"];
    let mut discovery: Vec<&'static str> = ["codex", "gemini"]
        .into_iter()
        .filter(|p| m.has(p))
        .collect();
    for p in DISCOVERY {
        if discovery.len() < 2 && m.has(p) && !discovery.contains(&p) {
            discovery.push(p);
        }
    }
    let uses = match discovery.as_slice() {
        [one] => format!("{one} alone"),
        several => several.join(" and "),
    };
    for wanted in ["codex", "gemini"] {
        if !m.has(wanted) {
            m.missing("discovery", wanted, &uses);
        }
    }

    // Planning: claude (sonnet), reviewed by codex; the reviewer is another CLI if any.
    const PLANNING: [&str; 6] = ["claude", "codex", "gemini", "droid", "opencode", "aider"];
    let planner = m.first(&PLANNING, any).unwrap_or("claude");
    if planner != "claude" {
        m.missing("planning", "claude", planner);
    }
    const REVIEW: [&str; 6] = ["codex", "gemini", "claude", "droid", "opencode", "aider"];
    let reviewer = m.first(&REVIEW, |p| p != planner).unwrap_or(planner);
    if reviewer != "codex" {
        let uses = if reviewer == planner {
            format!("{reviewer} to review its own plan (no other CLI is installed)")
        } else {
            format!("{reviewer} to review the plan")
        };
        if m.has("codex") {
            m.notes.push((
                "planning",
                format!("codex plans, so {uses}: the review comes from another CLI"),
            ));
        } else {
            m.missing("planning", "codex", &uses);
        }
    }

    // Execution: droid (swe-1.5).
    const EXECUTION: [&str; 6] = ["droid", "claude", "codex", "opencode", "aider", "gemini"];
    let builder = m.first(&EXECUTION, any).unwrap_or("droid");
    if builder != "droid" {
        m.missing("execution", "droid", builder);
    }

    // Verification: codex, never the builder's CLI when another one is installed.
    const VERIFICATION: [&str; 6] = ["codex", "claude", "gemini", "droid", "opencode", "aider"];
    let verifier = m.first(&VERIFICATION, |p| p != builder);
    let verification_agent = match verifier {
        Some(v) => {
            if v != "codex" {
                if m.has("codex") {
                    m.notes.push((
                        "verification",
                        format!(
                            "codex executes, so {v} verifies: an independent CLI audits the work"
                        ),
                    ));
                } else {
                    m.missing("verification", "codex", v);
                }
            }
            cli(v).agent.to_owned()
        }
        None => {
            let uses = format!(
                "{builder} again, as the separate agent `{VERIFIER}` in a fresh session (no other CLI is installed)"
            );
            if m.has("codex") {
                m.notes.push(("verification", uses));
            } else {
                m.missing("verification", "codex", &uses);
            }
            VERIFIER.to_owned()
        }
    };

    // Ship: claude haiku, else the cheapest-looking installed CLI.
    const SHIP: [&str; 5] = ["gemini", "codex", "droid", "opencode", "aider"];
    let ship = if m.has("claude") {
        "haiku".to_owned()
    } else {
        let s = m.first(&SHIP, any).unwrap_or("gemini");
        m.missing("ship", "claude", s);
        cli(s).agent.to_owned()
    };

    let stages = Stages {
        discovery: discovery.iter().map(|p| cli(p).agent.to_owned()).collect(),
        planning: cli(planner).agent.to_owned(),
        reviewers: vec![cli(reviewer).agent.to_owned()],
        execution: cli(builder).agent.to_owned(),
        verification: verification_agent,
        ship,
    };
    let agents = definitions(found, &stages, builder);
    let warnings = group(&m.subs);
    Mapping {
        found: found.to_vec(),
        agents,
        stages,
        notes: m.notes,
        warnings,
    }
}

/// One warning per missing CLI: "codex not found: verification uses claude, ... (install: ...)".
fn group(subs: &[Substitution]) -> Vec<String> {
    CLIS.iter()
        .filter_map(|c| {
            let uses: Vec<&str> = subs
                .iter()
                .filter(|(p, _)| *p == c.program)
                .map(|(_, u)| u.as_str())
                .collect();
            (!uses.is_empty()).then(|| {
                format!(
                    "{} not found: {} (install: {})",
                    c.program,
                    uses.join("; "),
                    c.install
                )
            })
        })
        .collect()
}

/// The agent tables: every one a stage uses, then installed CLIs no stage uses.
fn definitions(found: &[&'static str], stages: &Stages, builder: &'static str) -> Vec<AgentDef> {
    let mut used: Vec<&str> = Vec::new();
    for a in stages
        .discovery
        .iter()
        .chain([&stages.planning])
        .chain(&stages.reviewers)
        .chain([&stages.execution, &stages.verification, &stages.ship])
    {
        if !used.contains(&a.as_str()) {
            used.push(a);
        }
    }
    let mut defs: Vec<AgentDef> = Vec::new();
    for name in used {
        let def = match name {
            "haiku" => AgentDef {
                name: "haiku".to_owned(),
                preset: "claude",
                model: Some("haiku".to_owned()),
                available: found.contains(&"claude"),
                note: "claude with a small, fast model for the docs of the ship stage".to_owned(),
            },
            VERIFIER => {
                let c = cli(builder);
                AgentDef {
                    name: VERIFIER.to_owned(),
                    preset: c.program,
                    model: c.model.map(str::to_owned),
                    available: true,
                    note: format!(
                        "the verifier, a definition of its own so it never shares the builder's; give it another model if {} has one",
                        c.program
                    ),
                }
            }
            _ => {
                let c = CLIS.iter().find(|c| c.agent == name).unwrap_or(&CLIS[0]);
                AgentDef {
                    name: name.to_owned(),
                    preset: c.program,
                    model: c.model.map(str::to_owned),
                    available: found.contains(&c.program),
                    note: format!("{} found on PATH", c.program),
                }
            }
        };
        defs.push(def);
    }
    for c in CLIS {
        if found.contains(&c.program) && !defs.iter().any(|d| d.preset == c.program) {
            defs.push(AgentDef {
                name: c.agent.to_owned(),
                preset: c.program,
                model: c.model.map(str::to_owned),
                available: true,
                note: format!(
                    "{} found on PATH; no stage uses it (e.g. `[stages.execution] agent = \"{}\"`)",
                    c.program, c.agent
                ),
            });
        }
    }
    defs
}

/// No CLI installed: the seed table, every agent marked unavailable.
fn unavailable() -> Mapping {
    let seed = |name: &str, program: &'static str, model: &str| AgentDef {
        name: name.to_owned(),
        preset: program,
        model: Some(model.to_owned()),
        available: false,
        note: format!(
            "UNAVAILABLE: {program} not found on PATH (install: {})",
            cli(program).install
        ),
    };
    let agents = vec![
        seed("codex", "codex", "gpt-5.3-codex"),
        seed("gemini", "gemini", "gemini-2.5-pro"),
        seed("sonnet", "claude", "sonnet"),
        seed("swe", "droid", "swe-1.5"),
        seed("haiku", "claude", "haiku"),
    ];
    let installs: Vec<String> = ["codex", "claude", "droid", "gemini"]
        .iter()
        .map(|p| format!("{p} ({})", cli(p).install))
        .collect();
    Mapping {
        found: Vec::new(),
        agents,
        stages: Stages {
            discovery: vec!["codex".to_owned(), "gemini".to_owned()],
            planning: "sonnet".to_owned(),
            reviewers: vec!["codex".to_owned()],
            execution: "swe".to_owned(),
            verification: "codex".to_owned(),
            ship: "haiku".to_owned(),
        },
        notes: vec![
            ("discovery", "UNAVAILABLE until codex and gemini are installed".to_owned()),
            ("planning", "UNAVAILABLE until claude and codex are installed".to_owned()),
            (
                "execution",
                "UNAVAILABLE until droid is installed, or set `agent` to a `kind = \"command\"` agent".to_owned(),
            ),
            ("verification", "UNAVAILABLE until codex is installed".to_owned()),
            ("ship", "UNAVAILABLE until claude is installed".to_owned()),
        ],
        warnings: vec![format!(
            "no agent CLI found on PATH: fabrik.toml keeps the seed's stage table, which cannot run yet; install {} (or any of {}), or define a `kind = \"command\"` agent",
            installs.join(", "),
            CLIS.iter()
                .map(|c| c.program)
                .collect::<Vec<_>>()
                .join(", ")
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(m: &Mapping) -> (Vec<&str>, &str, Vec<&str>, &str, &str, &str) {
        let s = &m.stages;
        (
            s.discovery.iter().map(String::as_str).collect(),
            &s.planning,
            s.reviewers.iter().map(String::as_str).collect(),
            &s.execution,
            &s.verification,
            &s.ship,
        )
    }

    fn names(m: &Mapping) -> Vec<&str> {
        m.agents.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn all_installed_is_the_seed_table() {
        let m = map(&["droid", "claude", "codex", "gemini", "aider", "opencode"]);
        assert_eq!(
            stages(&m),
            (
                vec!["codex", "gemini"],
                "sonnet",
                vec!["codex"],
                "swe",
                "codex",
                "haiku"
            )
        );
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert_eq!(
            names(&m),
            [
                "codex", "gemini", "sonnet", "swe", "haiku", "aider", "opencode"
            ]
        );
        assert!(m.agents.iter().all(|a| a.available));
    }

    #[test]
    fn none_installed_keeps_the_seed_and_says_what_to_install() {
        let m = map(&[]);
        assert_eq!(
            stages(&m),
            (
                vec!["codex", "gemini"],
                "sonnet",
                vec!["codex"],
                "swe",
                "codex",
                "haiku"
            )
        );
        assert!(m.agents.iter().all(|a| !a.available));
        assert_eq!(m.warnings.len(), 1);
        assert!(
            m.warnings[0].contains("no agent CLI found"),
            "{:?}",
            m.warnings
        );
        assert!(m.warnings[0].contains("npm install -g @openai/codex"));
        assert!(m.warnings[0].contains("kind = \"command\""));
    }

    #[test]
    fn only_claude_uses_it_everywhere_with_a_separate_verifier() {
        let m = map(&["claude"]);
        assert_eq!(
            stages(&m),
            (
                vec!["sonnet"],
                "sonnet",
                vec!["sonnet"],
                "sonnet",
                "verifier",
                "haiku"
            )
        );
        assert_eq!(names(&m), ["sonnet", "verifier", "haiku"]);
        let verifier = &m.agents[1];
        assert_eq!(
            (verifier.preset, verifier.model.as_deref()),
            ("claude", Some("sonnet"))
        );
        let w = m.warnings.join("\n");
        assert!(
            w.contains("codex not found: discovery uses claude alone; planning uses claude to review its own plan (no other CLI is installed); verification uses claude again"),
            "{w}"
        );
        assert!(w.contains("(install: npm install -g @openai/codex)"), "{w}");
        assert!(
            w.contains(
                "droid not found: execution uses claude (install: npm install -g @factory/cli)"
            ),
            "{w}"
        );
        assert!(
            w.contains("gemini not found: discovery uses claude alone"),
            "{w}"
        );
        assert_eq!(m.warnings.len(), 3, "{w}");
    }

    #[test]
    fn only_codex_and_gemini_keep_verification_off_the_builder() {
        let m = map(&["codex", "gemini"]);
        assert_eq!(
            stages(&m),
            (
                vec!["codex", "gemini"],
                "codex",
                vec!["gemini"],
                "codex",
                "gemini",
                "gemini"
            )
        );
        assert_eq!(names(&m), ["codex", "gemini"]);
        let w = m.warnings.join("\n");
        assert!(w.contains("claude not found: planning uses codex; ship uses gemini (install: npm install -g @anthropic-ai/claude-code)"), "{w}");
        assert!(w.contains("droid not found: execution uses codex"), "{w}");
        assert_eq!(m.warnings.len(), 2, "{w}");
        let notes: Vec<&str> = m.notes_for("verification").collect();
        assert_eq!(
            notes,
            ["codex executes, so gemini verifies: an independent CLI audits the work"]
        );
    }

    #[test]
    fn codex_missing_verification_uses_claude() {
        let m = map(&["droid", "claude", "gemini"]);
        assert_eq!(m.stages.verification, "sonnet");
        assert_eq!(m.stages.execution, "swe");
        assert_eq!(m.stages.discovery, ["gemini", "sonnet"]);
        assert_eq!(m.stages.reviewers, ["gemini"]);
        let w = m.warnings.join("\n");
        assert!(
            w.contains("codex not found: discovery uses gemini and claude; planning uses gemini to review the plan; verification uses claude (install: npm install -g @openai/codex)"),
            "{w}"
        );
    }

    #[test]
    fn finds_only_executable_files_on_the_given_path() {
        use std::os::unix::fs::PermissionsExt;
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let exe = |dir: &Path, name: &str, mode: u32| {
            let p = dir.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        exe(a.path(), "codex", 0o755);
        exe(a.path(), "gemini", 0o644);
        exe(b.path(), "claude", 0o755);
        std::fs::create_dir(b.path().join("droid")).unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        assert_eq!(find_clis(&path), ["claude", "codex"]);
        assert!(find_clis(OsStr::new("")).is_empty());
    }

    #[test]
    fn install_hints_match_the_presets() {
        for c in CLIS {
            assert!(fabrik_config::PRESETS.contains(&c.program), "{}", c.program);
            let text = format!(
                "[agents.x]\npreset = \"{}\"\nmodel = \"m\"\nenv = {{ PATH = \"/nonexistent-fabrik-init\" }}\n",
                c.program
            );
            let config = fabrik_config::from_str(&text, Path::new("t.toml")).unwrap();
            let agent = fabrik_agent::build(&config.agents["x"]).unwrap();
            match agent.preflight() {
                Err(fabrik_agent::Error::Unavailable { reason, hint, .. }) => {
                    assert!(reason.contains(&format!("`{}`", c.program)), "{reason}");
                    assert!(hint.contains(c.install), "{}: {hint}", c.program);
                }
                other => panic!("{}: {other:?}", c.program),
            }
        }
    }
}
