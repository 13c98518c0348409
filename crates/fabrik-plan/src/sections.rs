//! The eight contract sections and tolerant heading matching. A heading matches when,
//! after numbering ("2.", "2)", "Section 2 -", "A."), parentheticals, punctuation and case
//! are stripped and words singularised, it contains one of the section's phrases and at
//! most three other meaningful words (so a title like "Plan to add gates to the CLI" is not
//! taken for the Gates section).

use std::ops::Range;

use serde::Serialize;

use crate::markdown::Doc;

/// One of the eight sections of the Stage-2 plan contract (DESIGN §6), in contract order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// 1. Repo-awareness proof.
    RepoAwareness,
    /// 2. File-impact manifest and DO-NOT-TOUCH list.
    Manifest,
    /// 3. Contracts (API, DB, UI).
    Contracts,
    /// 4. Invariants.
    Invariants,
    /// 5. Gates.
    Gates,
    /// 6. Golden paths.
    GoldenPaths,
    /// 7. Failure matrix.
    FailureMatrix,
    /// 8. Step-report template and verification rules.
    StepReport,
}

impl SectionKind {
    /// The eight sections in contract order.
    pub const ALL: [SectionKind; 8] = [
        Self::RepoAwareness,
        Self::Manifest,
        Self::Contracts,
        Self::Invariants,
        Self::Gates,
        Self::GoldenPaths,
        Self::FailureMatrix,
        Self::StepReport,
    ];

    /// The canonical heading text, e.g. `"File-impact manifest"`.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::RepoAwareness => "Repo-awareness proof",
            Self::Manifest => "File-impact manifest",
            Self::Contracts => "Contracts",
            Self::Invariants => "Invariants",
            Self::Gates => "Gates",
            Self::GoldenPaths => "Golden paths",
            Self::FailureMatrix => "Failure matrix",
            Self::StepReport => "Step-report template",
        }
    }

    /// 1-based position in the contract.
    #[must_use]
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|&k| k == self)
            .map_or(0, |i| i + 1)
    }
}

/// One heading-delimited chunk of the plan that belongs to a contract section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Which section.
    pub kind: SectionKind,
    /// The heading text as written.
    pub heading: String,
    /// Heading level (1-6).
    pub level: u8,
    /// Source range of the heading line.
    pub heading_range: Range<usize>,
    /// Source range of the body (after the heading, up to the next heading that ends it).
    pub body: Range<usize>,
    /// True when the heading is a neighbour folded into this section (e.g. "Cross-System
    /// Impact" into the manifest): its content is read, but it does not make the section present.
    pub folded: bool,
}

/// (kind, folded, phrases) in priority order: the first table entry with a matching phrase wins.
const PHRASES: &[(SectionKind, bool, &[&str])] = &[
    (
        SectionKind::FailureMatrix,
        false,
        &[
            "failure matrix",
            "failure mode",
            "failure case",
            "failure scenario",
            "rollback plan",
            "failure rollback",
        ],
    ),
    (
        SectionKind::GoldenPaths,
        false,
        &[
            "golden path",
            "golden",
            "happy path",
            "end to end example",
            "acceptance scenario",
        ],
    ),
    (
        SectionKind::StepReport,
        false,
        &[
            "step report",
            "verification protocol",
            "report template",
            "reporting format",
            "reporting",
            "verification report",
        ],
    ),
    (
        SectionKind::Manifest,
        true,
        &[
            "cross system impact",
            "do not touch",
            "dont touch",
            "explicitly not changed",
        ],
    ),
    (
        SectionKind::Manifest,
        false,
        &[
            "file impact",
            "impact manifest",
            "manifest",
            "required artifact",
            "artifact",
            "file change",
            "file to change",
            "changeset",
            "change set",
        ],
    ),
    (
        SectionKind::Gates,
        false,
        &[
            "gate",
            "acceptance command",
            "verification command",
            "check command",
        ],
    ),
    (
        SectionKind::RepoAwareness,
        false,
        &[
            "repo grounding",
            "repository grounding",
            "codebase grounding",
            "grounding",
            "repo awareness",
            "repository awareness",
            "codebase awareness",
            "awareness",
            "existing code",
            "reuse analysis",
        ],
    ),
    (
        SectionKind::Invariants,
        true,
        &["duplication avoidance", "reuse strategy"],
    ),
    (
        SectionKind::Invariants,
        false,
        &["invariant", "hard rule", "guardrail", "constraint"],
    ),
    (
        SectionKind::Contracts,
        false,
        &["contract", "interface", "api db ui"],
    ),
];

/// Words that never count against a match.
const FILLER: &[&str] = &[
    "section",
    "mandatory",
    "required",
    "minimum",
    "min",
    "max",
    "proof",
    "definition",
    "specification",
    "spec",
    "list",
    "table",
    "template",
    "deterministic",
    "machine",
    "checkable",
    "explicit",
    "hard",
    "plan",
    "exact",
    "first",
    "only",
    "the",
    "and",
    "of",
    "for",
    "vs",
    "a",
    "an",
    "to",
    "with",
    "per",
    "all",
    "stage",
    "check",
    "command",
    "rule",
];

/// Classifies a heading; `None` when it is not a contract section.
#[must_use]
pub fn classify_heading(heading: &str) -> Option<(SectionKind, bool)> {
    let words = normalize(heading);
    for (kind, folded, phrases) in PHRASES {
        for phrase in *phrases {
            let p: Vec<&str> = phrase.split(' ').collect();
            let Some(at) = words.windows(p.len()).position(|w| w == p.as_slice()) else {
                continue;
            };
            let extra = words
                .iter()
                .enumerate()
                .filter(|(i, w)| (*i < at || *i >= at + p.len()) && !FILLER.contains(&w.as_str()))
                .filter(|(_, w)| !w.chars().all(|c| c.is_ascii_digit()))
                .count();
            if extra <= 3 {
                return Some((*kind, *folded));
            }
        }
    }
    None
}

/// Lowercase words of a heading, numbering and parentheticals removed, singularised.
fn normalize(heading: &str) -> Vec<String> {
    let mut s = String::with_capacity(heading.len());
    let mut paren = 0usize;
    for c in heading.chars() {
        match c {
            '(' | '[' => paren += 1,
            ')' | ']' => paren = paren.saturating_sub(1),
            _ if paren > 0 => {}
            '\'' | '\u{2019}' => {}
            c if c.is_alphanumeric() => s.extend(c.to_lowercase()),
            _ => s.push(' '),
        }
    }
    let mut words: Vec<&str> = s.split_whitespace().collect();
    strip_numbering(&mut words);
    words.iter().map(|w| singular(w)).collect()
}

/// Drops "section 2", "part iv", "2", "a", "iv" at the start.
fn strip_numbering(words: &mut Vec<&str>) {
    let is_num = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit())
            || (w.len() <= 4 && w.chars().all(|c| matches!(c, 'i' | 'v' | 'x')))
            || (w.len() == 1 && matches!(w, "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h"))
    };
    let mut i = 0;
    while i < words.len() && i < 3 {
        let w = words[i];
        if matches!(w, "section" | "part" | "chapter")
            && words.get(i + 1).is_some_and(|n| is_num(n))
        {
            i += 2;
        } else if is_num(w) && words.len() > i + 1 {
            i += 1;
        } else {
            break;
        }
    }
    words.drain(..i);
}

fn singular(w: &str) -> String {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    }
}

/// Finds the contract sections of `doc`. A section runs from its heading to the next
/// heading at the same or a higher level, or to a deeper heading of another section.
/// When the plan has contract headings below level 1, level-1 headings are titles.
pub(crate) fn find_sections(doc: &Doc, text_len: usize) -> Vec<Section> {
    let heads: Vec<(u8, Range<usize>, String)> = doc
        .headings()
        .map(|(level, u)| (level, u.range.clone(), u.text.clone()))
        .collect();
    let classified: Vec<Option<(SectionKind, bool)>> =
        heads.iter().map(|(_, _, t)| classify_heading(t)).collect();
    let deep = heads
        .iter()
        .zip(&classified)
        .filter(|((l, ..), c)| *l > 1 && c.is_some())
        .count();
    let mut out: Vec<Section> = Vec::new();
    let mut open: Option<Section> = None;
    for ((level, range, text), class) in heads.iter().zip(classified) {
        let class = if *level == 1 && deep >= 3 {
            None
        } else {
            class
        };
        if let Some(cur) = open.as_mut() {
            let ends = *level <= cur.level || class.is_some_and(|(k, _)| k != cur.kind);
            if !ends {
                continue;
            }
            cur.body.end = range.start;
            out.extend(open.take());
        }
        if let Some((kind, folded)) = class {
            open = Some(Section {
                kind,
                heading: text.trim().to_owned(),
                level: *level,
                heading_range: range.clone(),
                body: range.end..text_len,
                folded,
            });
        }
    }
    out.extend(open);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SectionKind::*;

    #[test]
    fn headings_from_real_plans_match() {
        let cases = [
            (
                "1. Repo Grounding (Mandatory First Section)",
                Some((RepoAwareness, false)),
            ),
            ("Repo-awareness proof", Some((RepoAwareness, false))),
            ("Repository Awareness", Some((RepoAwareness, false))),
            (
                "2. Required Artifacts (CREATE vs MODIFY)",
                Some((Manifest, false)),
            ),
            ("2) File-impact manifest", Some((Manifest, false))),
            ("Section 2 - File Impact", Some((Manifest, false))),
            (
                "3. Interface & Contract Specification",
                Some((Contracts, false)),
            ),
            ("Contracts (Machine-Checkable)", Some((Contracts, false))),
            ("4. Invariants (Hard Rules)", Some((Invariants, false))),
            ("6. Deterministic Gate Definition", Some((Gates, false))),
            ("5. GATES", Some((Gates, false))),
            ("4. Golden Paths (2 Required)", Some((GoldenPaths, false))),
            ("Golden Path (1–2 Only)", Some((GoldenPaths, false))),
            (
                "5. Failure Matrix (Minimum 5 Cases)",
                Some((FailureMatrix, false)),
            ),
            (
                "8. Step Report Template (For Stage-3 + Stage-4)",
                Some((StepReport, false)),
            ),
            ("Verification protocol", Some((StepReport, false))),
            ("7. Cross-System Impact", Some((Manifest, true))),
            ("Duplication Avoidance", Some((Invariants, true))),
            ("B. State Machine Definition", None),
            (
                "GAP-09 Pipeline Orchestrator — Spec-Level Implementation Plan",
                None,
            ),
            ("Plan to add release gates to the CLI tool", None),
            ("Summary", None),
        ];
        for (h, want) in cases {
            assert_eq!(classify_heading(h), want, "{h}");
        }
    }
}
