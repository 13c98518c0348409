//! The plan lint: every check that needs only the plan text. Structural findings made
//! while extracting (malformed manifest rows, gates without commands, incomplete golden
//! paths) are included; the repository-dependent checks live in [`crate::ground`].

use std::sync::LazyLock;

use regex::Regex;

use crate::markdown::UnitKind;
use crate::plan::{Cx, Plan};
use crate::rules::{Finding, Rule, Severity, sort_findings};
use crate::sections::SectionKind;
use crate::{text, vague};

/// Limits the lint applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintOptions {
    /// More manifest rows than this is `P060 plan-too-big` (default 25).
    pub max_manifest_rows: usize,
    /// Fewer failure-matrix rows than this is `P030` (default 5).
    pub min_failure_rows: usize,
}

impl Default for LintOptions {
    fn default() -> Self {
        Self {
            max_manifest_rows: 25,
            min_failure_rows: 5,
        }
    }
}

static PASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(pass(es|ed)?|succeed(s|ed)?|exit(s)?\s*(code\s*)?[:=]?\s*`?0\b|exits?\s+zero)",
    )
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});
static FAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(fail(s|ed|ure)?|non-?zero|error)\b")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});
static SEPARATE_SESSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(separate|fresh|independent|new|own)\s+(\w+\s+){0,2}sessions?\b")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});
static REVERIFY_CAP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(re-?verif\w*|verification\s+(cycles?|iterations?|loops?))[^.\n]{0,40}?\b[0-2]\b|\b[0-2]\b[^.\n]{0,30}?re-?verif\w*|/\s*2\b")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// Lints `plan` against the contract; findings come sorted by position.
#[must_use]
pub fn lint(plan: &Plan, opts: &LintOptions) -> Vec<Finding> {
    let cx = plan.cx();
    let mut out = plan.notes.clone();
    let empty = sections(plan, &cx, &mut out);
    // An empty section is one finding (P002), not also "no table", "no command"...
    out.retain(|f| {
        f.rule == Rule::EmptySection || !f.span.is_some_and(|s| empty.contains(&s.offset))
    });
    parse_problems(&cx, &mut out);
    unicode_controls(plan, &cx, &mut out);
    content_rules(plan, &cx, opts, &mut out);
    vague::check(&cx, &mut out);
    sort_findings(&mut out);
    out
}

/// P001 missing, P002 empty, P003 none at all. Returns the heading offsets of empty sections.
fn sections(plan: &Plan, cx: &Cx<'_>, out: &mut Vec<Finding>) -> Vec<usize> {
    let mut empty = Vec::new();
    if !SectionKind::ALL.iter().any(|&k| plan.has_section(k)) {
        let what = if plan.text().trim().is_empty() {
            "the plan is empty"
        } else {
            "the plan has none of the eight contract sections"
        };
        out.push(Finding::new(Rule::EmptyPlan, None, what));
        return empty;
    }
    for kind in SectionKind::ALL {
        let chunks: Vec<_> = cx.chunks(kind).filter(|s| !s.folded).collect();
        let Some(first) = chunks.first() else {
            out.push(
                Finding::new(
                    Rule::MissingSection,
                    None,
                    format!("missing section {}. {}", kind.number(), kind.title()),
                )
                .with_hint(format!(
                    "add a heading `## {}. {}` with its content",
                    kind.number(),
                    kind.title()
                )),
            );
            continue;
        };
        let filled = chunks.iter().any(|s| {
            cx.units_in(&s.body).any(|(_, u)| {
                !matches!(u.kind, UnitKind::Heading(_)) && !text::is_placeholder(&u.text)
            })
        });
        if !filled {
            empty.push(first.heading_range.start);
            out.push(Finding::new(
                Rule::EmptySection,
                Some(cx.span(&first.heading_range)),
                format!("section `{}` is empty", first.heading),
            ));
        }
    }
    empty
}

/// P004 nesting, P006 unclosed fences.
fn parse_problems(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for &at in &cx.doc.too_deep {
        out.push(Finding::new(
            Rule::NestingTooDeep,
            Some(cx.span(&(at..at + 1))),
            "lists or quotes nested too deeply; the rest of this block is not checked",
        ));
    }
    for u in &cx.doc.units {
        if let UnitKind::Code { closed: false, .. } = u.kind {
            let opening = u.range.start
                ..cx.slice(&u.range)
                    .find('\n')
                    .map_or(u.range.end, |n| u.range.start + n);
            out.push(Finding::new(
                Rule::UnclosedFence,
                Some(cx.span(&opening)),
                "this code fence is never closed; everything after it is code",
            ));
        }
    }
}

/// P005: bidi overrides and invisible characters; an error inside a gate command.
fn unicode_controls(plan: &Plan, cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (at, c) in plan.text().char_indices() {
        let invisible = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{061c}' | '\u{feff}');
        if !invisible {
            continue;
        }
        let in_gate = plan
            .gates()
            .iter()
            .any(|g| (g.span.offset..g.span.offset + g.span.len).contains(&at));
        let f = Finding::new(
            Rule::UnicodeControl,
            Some(cx.span(&(at..at + c.len_utf8()))),
            format!(
                "invisible control character `\\u{{{:04X}}}`{}",
                u32::from(c),
                if in_gate { " in a gate command" } else { "" }
            ),
        );
        out.push(if in_gate {
            f.with_severity(Severity::Error)
        } else {
            f
        });
    }
}

/// P021, P030, P060, P061, P062: rules about what a present, non-empty section says.
fn content_rules(plan: &Plan, cx: &Cx<'_>, opts: &LintOptions, out: &mut Vec<Finding>) {
    for kind in SectionKind::ALL {
        let Some(sec) = cx.chunks(kind).find(|s| !s.folded) else {
            continue;
        };
        let body: String = cx
            .chunks(kind)
            .filter(|s| !s.folded)
            .map(|s| cx.slice(&(s.heading_range.end..s.body.end)))
            .collect();
        if body.trim().is_empty() {
            continue;
        }
        let message = match kind {
            SectionKind::Gates => gate_conditions(plan, &body),
            SectionKind::FailureMatrix => failure_count(plan, opts),
            SectionKind::RepoAwareness => awareness_evidence(cx, &sec.heading),
            SectionKind::StepReport => step_report(&body),
            _ => None,
        };
        if let Some((rule, message)) = message {
            out.push(Finding::new(
                rule,
                Some(cx.span(&sec.heading_range)),
                message,
            ));
        }
    }
    let rows = plan.manifest().len();
    if rows > opts.max_manifest_rows {
        let at = cx
            .chunks(SectionKind::Manifest)
            .find(|s| !s.folded)
            .map(|s| cx.span(&s.heading_range));
        let message = format!(
            "manifest lists {rows} files, over the limit of {}",
            opts.max_manifest_rows
        );
        out.push(Finding::new(Rule::PlanTooBig, at, message));
    }
}

/// P021: gates exist but PASS or FAIL is never described.
fn gate_conditions(plan: &Plan, body: &str) -> Option<(Rule, String)> {
    let (pass, fail) = (PASS.is_match(body), FAIL.is_match(body));
    if plan.gates().is_empty() || (pass && fail) {
        return None;
    }
    let missing = match (pass, fail) {
        (true, _) => "FAIL",
        (false, true) => "PASS",
        (false, false) => "PASS or FAIL",
    };
    Some((
        Rule::GateMissingCondition,
        format!("the gates never state a {missing} condition"),
    ))
}

/// P030: fewer failure rows than required.
fn failure_count(plan: &Plan, opts: &LintOptions) -> Option<(Rule, String)> {
    let n = plan.failure_rows().len();
    let plural = if n == 1 { "" } else { "s" };
    (n < opts.min_failure_rows).then(|| {
        let message = format!(
            "failure matrix has {n} row{plural}, at least {} required",
            opts.min_failure_rows
        );
        (Rule::FailureMatrixTooSmall, message)
    })
}

/// P061: the repo-awareness section names no path and no backticked symbol.
fn awareness_evidence(cx: &Cx<'_>, heading: &str) -> Option<(Rule, String)> {
    let evidence = cx.chunks(SectionKind::RepoAwareness).any(|s| {
        cx.units_in(&s.body).any(|(_, u)| {
            !u.codes.is_empty()
                || u.prose
                    .iter()
                    .any(|r| text::path_tokens(&r.text).next().is_some())
        })
    });
    (!evidence).then(|| {
        (
            Rule::AwarenessWithoutEvidence,
            format!("section `{heading}` names no file or symbol"),
        )
    })
}

/// P062: no separate verifier session or no re-verify bound.
fn step_report(body: &str) -> Option<(Rule, String)> {
    let mut missing = Vec::new();
    if !SEPARATE_SESSION.is_match(body) {
        missing.push("that verification runs in a separate session");
    }
    if !REVERIFY_CAP.is_match(body) {
        missing.push("the re-verify limit (at most 2)");
    }
    (!missing.is_empty()).then(|| {
        (
            Rule::StepReportIncomplete,
            format!(
                "the step-report section does not state {}",
                missing.join(" or ")
            ),
        )
    })
}
