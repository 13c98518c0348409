//! Vague language (DESIGN §6): "integrate", "ensure", "handle appropriately", "follow
//! existing patterns", "as needed", "etc.", "properly", reported only in a sentence that
//! carries no concrete anchor: a backticked command or symbol, a path, or a number.

use std::sync::LazyLock;

use regex::Regex;

use crate::markdown::UnitKind;
use crate::plan::Cx;
use crate::rules::{Finding, Rule};
use crate::text;

static VAGUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:integrat(?:e|es|ed|ing)\b|ensur(?:e|es|ed|ing)\b|handl(?:e|es|ed|ing)(?:\s+\w+){0,2}?\s+appropriately\b|follow(?:s|ed|ing)?\s+(?:the\s+)?existing\s+(?:patterns?|conventions?)\b|as\s+needed\b|etc\.|properly\b)",
    )
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &["etc.", "e.g.", "i.e.", "vs.", "cf.", "approx."];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for u in &cx.doc.units {
        if matches!(u.kind, UnitKind::Heading(_) | UnitKind::Code { .. }) {
            continue;
        }
        let src = cx.slice(&u.range);
        for (start, end) in sentences(src) {
            let sentence = &src[start..end];
            if has_anchor(sentence) {
                continue;
            }
            for m in VAGUE.find_iter(sentence) {
                // A quoted word is mentioned, not used: `the word "ensure"`.
                if sentence[..m.start()].ends_with(['"', '\u{201c}', '\'']) {
                    continue;
                }
                let at = u.range.start + start + m.start();
                let word = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
                out.push(Finding::new(
                    Rule::VagueLanguage,
                    Some(cx.span(&(at..at + m.len()))),
                    format!(
                        "vague `{word}` in a sentence with no path, `command`, symbol or number"
                    ),
                ));
            }
        }
    }
}

/// Byte ranges of the sentences of `s`: split after `.`, `!`, `?`, `;` followed by
/// whitespace (not after abbreviations), and at blank lines and table pipes.
fn sentences(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let next_ws = bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace);
        let ends = match b {
            b'.' => {
                next_ws
                    && !ABBREVIATIONS
                        .iter()
                        .any(|a| s[start..=i].to_lowercase().ends_with(a))
            }
            b'!' | b'?' | b';' => next_ws,
            b'\n' => bytes.get(i + 1) == Some(&b'\n'),
            b'|' => true,
            _ => false,
        };
        if ends {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < s.len() {
        out.push((start, s.len()));
    }
    out
}

/// A backtick, a digit or a path-like token makes a sentence concrete.
fn has_anchor(sentence: &str) -> bool {
    sentence.contains('`')
        || sentence.contains(|c: char| c.is_ascii_digit())
        || text::path_tokens(sentence).next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> Vec<String> {
        sentences(s)
            .into_iter()
            .filter(|&(a, b)| !has_anchor(&s[a..b]))
            .flat_map(|(a, b)| {
                VAGUE
                    .find_iter(&s[a..b])
                    .map(|m| m.as_str().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn vague_words_without_anchor_are_flagged() {
        assert_eq!(
            flags("We will integrate the module properly."),
            ["integrate", "properly"]
        );
        assert_eq!(
            flags("Handle errors appropriately, update docs etc. and more."),
            ["Handle errors appropriately", "etc."]
        );
        assert_eq!(
            flags("Follow existing patterns as needed."),
            ["Follow existing patterns", "as needed"]
        );
    }

    #[test]
    fn anchored_sentences_pass() {
        assert!(flags("Ensure `cargo test` exits 0.").is_empty());
        assert!(flags("Integrate with src/lib.rs only.").is_empty());
        assert!(flags("Retry at most 2 times as needed.").is_empty());
        assert!(flags("Ensured nothing. Then `x` runs.").len() == 1);
    }
}
