//! Prompts per stage. Each stage gets what it needs and no more: execution gets the frozen
//! plan and the verifier's open issues (not the discovery transcript); the verifier gets the
//! plan, the diff and the gate results (not the builder's reasoning).

use std::fmt::Write as _;

use fabrik_core::contract::{GateResult, Issue};

/// Discovery: read the repository, write a specification.
#[must_use]
pub fn discovery(task: &str) -> String {
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
pub fn planning(task: &str, discovery: Option<&str>, feedback: &[String]) -> String {
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
pub fn review(task: &str, plan: &str) -> String {
    format!(
        "You review a plan for a coding task. Do not edit any file.\n\nTASK:\n{task}\n\nPLAN:\n{plan}\n\n\
         Check that the plan is grounded in the repository (the files and symbols it names exist), \
         reuses what exists, and is specific enough to implement without guessing.\n\n{VERDICT_FORMAT}"
    )
}

/// Execution: task, frozen plan and the verifier's open issues.
#[must_use]
pub fn execution(task: &str, plan: Option<&str>, issues: &[Issue], iteration: u32) -> String {
    let mut p =
        format!("You are the builder. Implement the task in this repository.\n\nTASK:\n{task}\n\n");
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
pub fn verification(task: &str, plan: Option<&str>, diff: &str, gates: &[GateResult]) -> String {
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
        let _ = writeln!(
            p,
            "- {}: {} ({} ms)",
            g.name,
            g.status.label(),
            g.duration_ms
        );
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
pub fn ship(task: &str, changed: &[String]) -> String {
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
pub fn reask(previous: &str) -> String {
    format!(
        "{previous}\n\nYOUR PREVIOUS ANSWER HAD NO PARSEABLE JSON VERDICT. Answer again, ending with the verdict.\n\n{VERDICT_FORMAT}"
    )
}

const VERDICT_FORMAT: &str = "End your answer with the verdict in a ```json fence, exactly this shape:\n\
```json\n{\"approved\": true, \"issues\": [{\"severity\": \"blocker|major|minor\", \"file\": \"path\", \"line\": 1, \"message\": \"what is wrong and what to do\"}], \"summary\": \"one paragraph\"}\n```";

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
