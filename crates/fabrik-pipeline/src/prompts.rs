//! Prompts per stage. Each stage gets what it needs and no more: execution gets the frozen
//! plan and the verifier's open issues (not the discovery transcript); the verifier gets the
//! plan, the diff and the gate results (not the builder's reasoning).
//!
//! The text lives in minijinja templates embedded in the binary (`src/prompts/<stage>.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, Value, context};

use fabrik_core::contract::{GateResult, GateStatus, Issue};

/// The stages that have a prompt template, in pipeline order (`reask` re-asks for a verdict).
pub const STAGES: [&str; 7] = [
    "discovery",
    "planning",
    "review",
    "execution",
    "verification",
    "ship",
    "reask",
];

/// The embedded template of a stage (`None` for an unknown stage name).
#[must_use]
pub fn embedded(stage: &str) -> Option<&'static str> {
    Some(match stage {
        "discovery" => include_str!("prompts/discovery.md"),
        "planning" => include_str!("prompts/planning.md"),
        "review" => include_str!("prompts/review.md"),
        "execution" => include_str!("prompts/execution.md"),
        "verification" => include_str!("prompts/verification.md"),
        "ship" => include_str!("prompts/ship.md"),
        "reask" => include_str!("prompts/reask.md"),
        _ => return None,
    })
}

/// Where a repository keeps its prompt overrides (`<root>/.fabrik/prompts/<stage>.md`).
#[must_use]
pub fn override_path(root: &Path, stage: &str) -> PathBuf {
    root.join(".fabrik")
        .join("prompts")
        .join(format!("{stage}.md"))
}

/// A prompt template that does not parse or render (the run fails with exit 3 before any
/// agent is called).
#[derive(Debug, thiserror::Error)]
#[error("prompt template {}{}: {reason}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct TemplateError {
    /// The override file.
    pub path: PathBuf,
    /// The line minijinja points at, when it does.
    pub line: Option<usize>,
    /// minijinja's message.
    pub reason: String,
}

/// The effective templates of a run: the repository's overrides, else the embedded ones.
#[derive(Debug, Clone, Default)]
pub struct Prompts {
    overrides: BTreeMap<&'static str, String>,
}

impl Prompts {
    /// Loads and validates `<root>/.fabrik/prompts/<stage>.md` for every stage: each must
    /// parse and render with a sample context.
    ///
    /// # Errors
    /// The first override that cannot be read, parsed or rendered.
    pub fn load(root: &Path) -> Result<Prompts, TemplateError> {
        let mut overrides = BTreeMap::new();
        for stage in STAGES {
            let path = override_path(root, stage);
            let source = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(TemplateError {
                        path,
                        line: None,
                        reason: e.to_string(),
                    });
                }
            };
            try_render(stage, &source, &sample(stage)).map_err(|e| TemplateError {
                path: path.clone(),
                line: e.line(),
                reason: e
                    .detail()
                    .map_or_else(|| e.kind().to_string(), |d| format!("{}: {d}", e.kind())),
            })?;
            overrides.insert(stage, source);
        }
        Ok(Prompts { overrides })
    }

    /// The override of `stage`, if the repository has one.
    #[must_use]
    pub fn override_of(&self, stage: &str) -> Option<&str> {
        self.overrides.get(stage).map(String::as_str)
    }

    fn render(&self, stage: &str, ctx: &Value) -> String {
        let source = self
            .override_of(stage)
            .or_else(|| embedded(stage))
            .unwrap_or_default();
        // Overrides were rendered once with a sample context when loaded and the embedded
        // templates are tested, so an error here is unexpected: the agent gets the message.
        try_render(stage, source, ctx)
            .unwrap_or_else(|e| format!("fabrik: prompt template {stage} failed: {e:#}"))
    }

    /// Discovery: read the repository, write a specification.
    #[must_use]
    pub fn discovery(&self, task: &str) -> String {
        self.render("discovery", &context! { task })
    }

    /// Planning: the plan contract, task and discovery output.
    #[must_use]
    pub fn planning(&self, task: &str, discovery: Option<&str>, feedback: &[String]) -> String {
        self.render(
            "planning",
            &context! {
                task,
                has_discovery => discovery.is_some(),
                discovery => discovery.unwrap_or_default(),
                contract => fabrik_plan::CONTRACT,
                feedback,
            },
        )
    }

    /// Plan review: the reviewer returns a JSON verdict.
    #[must_use]
    pub fn review(&self, task: &str, plan: &str) -> String {
        self.render("review", &context! { task, plan })
    }

    /// Execution: task, frozen plan and the verifier's open issues.
    #[must_use]
    pub fn execution(
        &self,
        task: &str,
        plan: Option<&str>,
        issues: &[Issue],
        iteration: u32,
    ) -> String {
        let issues: Vec<String> = issues.iter().map(issue_line).collect();
        self.render(
            "execution",
            &context! {
                task,
                has_plan => plan.is_some(),
                plan => plan.unwrap_or_default(),
                issues,
                iteration,
            },
        )
    }

    /// Verification: plan, diff and gate results; a JSON verdict.
    #[must_use]
    pub fn verification(
        &self,
        task: &str,
        plan: Option<&str>,
        diff: &str,
        gates: &[GateResult],
    ) -> String {
        let gates: Vec<String> = gates.iter().map(gate_lines).collect();
        self.render(
            "verification",
            &context! {
                task,
                has_plan => plan.is_some(),
                plan => plan.unwrap_or_default(),
                diff,
                gates,
            },
        )
    }

    /// Ship: update docs for user-visible changes.
    #[must_use]
    pub fn ship(&self, task: &str, changed: &[String]) -> String {
        self.render("ship", &context! { task, changed })
    }

    /// Re-ask after an unparseable verdict.
    #[must_use]
    pub fn reask(&self, previous: &str) -> String {
        self.render("reask", &context! { previous })
    }
}

fn try_render(stage: &str, source: &str, ctx: &Value) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template(stage, source)?;
    env.get_template(stage)?.render(ctx)
}

/// A context with every variable a stage's template gets, for validating overrides.
fn sample(stage: &str) -> Value {
    let list = vec!["one".to_owned(), "two".to_owned()];
    match stage {
        "reask" => context! { previous => "answer" },
        _ => context! {
            task => "task",
            has_discovery => true,
            discovery => "discovery",
            contract => "contract",
            feedback => list.clone(),
            plan => "plan",
            has_plan => true,
            issues => list.clone(),
            iteration => 2,
            diff => "diff",
            gates => list.clone(),
            changed => list,
        },
    }
}

/// Discovery with the embedded template.
#[must_use]
pub fn discovery(task: &str) -> String {
    Prompts::default().discovery(task)
}

/// Planning with the embedded template.
#[must_use]
pub fn planning(task: &str, discovery: Option<&str>, feedback: &[String]) -> String {
    Prompts::default().planning(task, discovery, feedback)
}

/// Review with the embedded template.
#[must_use]
pub fn review(task: &str, plan: &str) -> String {
    Prompts::default().review(task, plan)
}

/// Execution with the embedded template.
#[must_use]
pub fn execution(task: &str, plan: Option<&str>, issues: &[Issue], iteration: u32) -> String {
    Prompts::default().execution(task, plan, issues, iteration)
}

/// Verification with the embedded template.
#[must_use]
pub fn verification(task: &str, plan: Option<&str>, diff: &str, gates: &[GateResult]) -> String {
    Prompts::default().verification(task, plan, diff, gates)
}

/// Ship with the embedded template.
#[must_use]
pub fn ship(task: &str, changed: &[String]) -> String {
    Prompts::default().ship(task, changed)
}

/// Re-ask with the embedded template.
#[must_use]
pub fn reask(previous: &str) -> String {
    Prompts::default().reask(previous)
}

/// One gate for the verifier: `- name: STATUS`, then the tail of its output (built-in
/// gates report what they saw, e.g. known clones; the verifier should know).
fn gate_lines(g: &GateResult) -> String {
    // No duration: it changes from run to run, and a prompt should be a function of the
    // work (so recordings replay and provider prompt caches hit).
    let mut s = format!("- {}: {}", g.name, g.status.label());
    let tail = g.output_tail.trim();
    if !tail.is_empty() && g.status != GateStatus::Skip {
        let start = tail.char_indices().rev().nth(1500).map_or(0, |(i, _)| i);
        s.push_str("\n  output:\n  ");
        s.push_str(&tail[start..].replace('\n', "\n  "));
    }
    s
}

/// One issue as a line.
#[must_use]
pub fn issue_line(i: &Issue) -> String {
    let loc = match (&i.file, i.line) {
        (Some(f), Some(l)) => format!("{f}:{l}: "),
        (Some(f), None) => format!("{f}: "),
        _ => String::new(),
    };
    format!("[{}] {loc}{}", i.severity.as_str(), i.message)
}

#[cfg(test)]
mod tests {
    use fabrik_core::contract::{GateResult, GateStatus, Issue, Severity};

    /// The `format!`-based prompts the templates replaced; the templates must render the
    /// same bytes.
    #[allow(clippy::pedantic)]
    mod old {
        use std::fmt::Write as _;

        use fabrik_core::contract::{GateResult, Issue};

        use super::super::issue_line;

        /// Discovery: read the repository, write a specification.
        #[must_use]
        pub(super) fn discovery(task: &str) -> String {
            format!(
                "You are the discovery agent of a gated pipeline. Do not edit any file.\n\n\
                 TASK:\n{task}\n\n\
                 Read the repository and write a specification for this task:\n\
                 1. The existing files, functions, components and database fields that are relevant \
                 (paths and symbol names; say which must be reused rather than re-created).\n\
                 2. What must change, and what must not.\n\
                 3. Risks, edge cases and how each will be tested.\n\
                 Be concrete: name paths, symbols and commands."
            )
        }

        /// Planning: the plan contract, task and discovery output.
        #[must_use]
        pub(super) fn planning(task: &str, discovery: Option<&str>, feedback: &[String]) -> String {
            let mut p = format!(
                "You are the planner of a gated pipeline. Do not edit any file. Return only the plan, as markdown.\n\n\
                 TASK:\n{task}\n\n"
            );
            if let Some(d) = discovery {
                let _ = write!(p, "DISCOVERY (from two independent agents):\n{d}\n\n");
            }
            p.push_str(fabrik_plan::CONTRACT);
            if !feedback.is_empty() {
                p.push_str("\n\nYOUR PREVIOUS PLAN WAS NOT ACCEPTED. Fix these points:\n");
                for f in feedback {
                    let _ = writeln!(p, "- {f}");
                }
            }
            p
        }

        /// Plan review: the reviewer returns a JSON verdict.
        #[must_use]
        pub(super) fn review(task: &str, plan: &str) -> String {
            format!(
                "You review a plan for a coding task. Do not edit any file.\n\nTASK:\n{task}\n\nPLAN:\n{plan}\n\n\
                 Check that the plan is grounded in the repository (the files and symbols it names exist), \
                 reuses what exists, and is specific enough to implement without guessing.\n\n{VERDICT_FORMAT}"
            )
        }

        /// Execution: task, frozen plan and the verifier's open issues.
        #[must_use]
        pub(super) fn execution(
            task: &str,
            plan: Option<&str>,
            issues: &[Issue],
            iteration: u32,
        ) -> String {
            let mut p = format!(
                "You are the builder. Implement the task in this repository.\n\nTASK:\n{task}\n\n"
            );
            if let Some(plan) = plan {
                let _ = write!(
                    p,
                    "FROZEN PLAN (follow it exactly; touch only the files in its manifest; reuse what it says to reuse):\n{plan}\n\n"
                );
            }
            if !issues.is_empty() {
                let _ = writeln!(
                    p,
                    "ITERATION {iteration}: an independent verifier rejected the previous attempt. Fix every issue:"
                );
                for i in issues {
                    let _ = writeln!(p, "- {}", issue_line(i));
                }
                p.push('\n');
            }
            p.push_str("Do not re-create code, components or database fields that already exist: search first and reuse. Do not commit; fabrik commits.");
            p
        }

        /// Verification: plan, diff and gate results; a JSON verdict.
        #[must_use]
        pub(super) fn verification(
            task: &str,
            plan: Option<&str>,
            diff: &str,
            gates: &[GateResult],
        ) -> String {
            let mut p = format!(
                "You are an independent verifier. You did not write this change. Do not edit any file.\n\nTASK:\n{task}\n\n"
            );
            if let Some(plan) = plan {
                let _ = write!(p, "FROZEN PLAN:\n{plan}\n\n");
            }
            let _ = write!(p, "DIFF:\n{diff}\n\nPRE-FLIGHT GATES:\n");
            if gates.is_empty() {
                p.push_str("(none configured)\n");
            }
            for g in gates {
                let _ = writeln!(p, "- {}: {}", g.name, g.status.label());
                // Built-in gates report what they saw (e.g. known clones); the verifier should know.
                let tail = g.output_tail.trim();
                if !tail.is_empty() && g.status != fabrik_core::contract::GateStatus::Skip {
                    let start = tail.char_indices().rev().nth(1500).map_or(0, |(i, _)| i);
                    let _ = writeln!(p, "  output:\n  {}", tail[start..].replace('\n', "\n  "));
                }
            }
            let _ = write!(
                p,
                "\nCheck the change against the task and the plan: correctness, scope, reuse, tests.\n\n{VERDICT_FORMAT}"
            );
            p
        }

        /// Ship: update docs for user-visible changes.
        #[must_use]
        pub(super) fn ship(task: &str, changed: &[String]) -> String {
            format!(
                "You update documentation after a change. TASK was:\n{task}\n\nCHANGED FILES:\n{}\n\n\
                 If the change is user-visible, update CHANGELOG.md and the relevant docs. \
                 If there is nothing to document, change nothing and reply `nothing to document`.",
                changed
                    .iter()
                    .map(|f| format!("- {f}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }

        /// Re-ask after an unparseable verdict.
        #[must_use]
        pub(super) fn reask(previous: &str) -> String {
            format!(
                "{previous}\n\nYOUR PREVIOUS ANSWER HAD NO PARSEABLE JSON VERDICT. Answer again, ending with the verdict.\n\n{VERDICT_FORMAT}"
            )
        }

        const VERDICT_FORMAT: &str = "End your answer with the verdict in a ```json fence, exactly this shape:\n\
        ```json\n{\"approved\": true, \"issues\": [{\"severity\": \"blocker|major|minor\", \"file\": \"path\", \"line\": 1, \"message\": \"what is wrong and what to do\"}], \"summary\": \"one paragraph\"}\n```";
    }

    const TASKS: [&str; 4] = [
        "add a flag",
        "",
        "multi\nline {{ not jinja }} {% raw %}",
        "trailing\n",
    ];

    #[test]
    fn every_stage_has_an_embedded_template() {
        for s in super::STAGES {
            assert!(super::embedded(s).is_some(), "{s}");
        }
        assert!(super::embedded("nope").is_none());
    }

    #[test]
    fn discovery_matches_the_old_prompt() {
        for t in TASKS {
            assert_eq!(super::discovery(t), old::discovery(t));
        }
    }

    #[test]
    fn planning_matches_the_old_prompt() {
        let fb = ["first".to_owned(), "second {{ x }}".to_owned()];
        for t in TASKS {
            for d in [None, Some(""), Some("two agents said\nthings")] {
                for f in [&[][..], &fb[..1], &fb[..]] {
                    assert_eq!(super::planning(t, d, f), old::planning(t, d, f));
                }
            }
        }
    }

    #[test]
    fn review_matches_the_old_prompt() {
        for t in TASKS {
            for p in ["", "# Plan\n\n- step\n"] {
                assert_eq!(super::review(t, p), old::review(t, p));
            }
        }
    }

    fn issues() -> Vec<Issue> {
        serde_json::from_str(
            r#"[{"severity":"blocker","file":"src/a.rs","line":3,"message":"broken"},
                {"severity":"minor","file":"b.rs","message":"style"},
                {"severity":"major","message":"no tests"}]"#,
        )
        .unwrap_or_default()
    }

    #[test]
    fn execution_matches_the_old_prompt() {
        let issues = issues();
        assert_eq!(issues.len(), 3);
        assert!(matches!(issues[0].severity, Severity::Blocker));
        for t in TASKS {
            for p in [None, Some(""), Some("the plan\n")] {
                for i in [&[][..], &issues[..1], &issues[..]] {
                    for n in [1, 4] {
                        assert_eq!(super::execution(t, p, i, n), old::execution(t, p, i, n));
                    }
                }
            }
        }
    }

    fn gates() -> Vec<GateResult> {
        let mut out = Vec::new();
        for (i, status) in [GateStatus::Pass, GateStatus::Fail, GateStatus::Skip]
            .into_iter()
            .enumerate()
        {
            let mut g = GateResult::new(format!("gate{i}"), "cmd");
            g.status = status;
            g.duration_ms = 12;
            g.output_tail = "line one\nline two\n".repeat(200 * i);
            out.push(g);
        }
        out
    }

    #[test]
    fn verification_matches_the_old_prompt() {
        let gates = gates();
        for t in TASKS {
            for p in [None, Some("the plan")] {
                for d in ["", "diff --git a/x b/x\n+1\n"] {
                    for g in [&[][..], &gates[..1], &gates[..]] {
                        assert_eq!(
                            super::verification(t, p, d, g),
                            old::verification(t, p, d, g)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn ship_matches_the_old_prompt() {
        let files = ["a.rs".to_owned(), "docs/b.md".to_owned()];
        for t in TASKS {
            for f in [&[][..], &files[..1], &files[..]] {
                assert_eq!(super::ship(t, f), old::ship(t, f));
            }
        }
    }

    #[test]
    fn reask_matches_the_old_prompt() {
        for t in TASKS {
            assert_eq!(super::reask(t), old::reask(t));
        }
    }

    #[test]
    fn an_override_replaces_the_embedded_template() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = super::override_path(dir.path(), "discovery");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "Look at {{ task }} only.\n").expect("write");
        let p = super::Prompts::load(dir.path()).expect("valid");
        assert_eq!(p.discovery("x"), "Look at x only.");
        assert_eq!(p.review("t", "p"), super::review("t", "p"));
    }

    #[test]
    fn a_broken_override_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = super::override_path(dir.path(), "ship");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "line one\n{% if task %}\nno end\n").expect("write");
        let e = super::Prompts::load(dir.path()).expect_err("broken");
        assert_eq!(e.path, path);
        assert!(e.line.is_some(), "{e}");
        let shown = e.to_string();
        assert!(
            shown.contains(&format!("{}:{}", path.display(), e.line.unwrap_or(0))),
            "{shown}"
        );
    }
}
