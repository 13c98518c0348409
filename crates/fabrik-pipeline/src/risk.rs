//! The risk router: deterministic, explainable keyword matching.
//!
//! Keywords match case-insensitively on word boundaries (`auth` does not match `author`);
//! multi-word keywords match across single spaces. The highest matching level wins; no
//! match gives the configured default. The matched words are the reasons.

use fabrik_config::RiskConfig;
use fabrik_core::Risk;

/// A routing decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    /// The level.
    pub risk: Risk,
    /// Matched keywords of that level (in keyword-list order), or `["default"]` /
    /// `["override"]`.
    pub reasons: Vec<String>,
}

/// Routes `task` by the keyword lists in `config`.
#[must_use]
pub fn assess(task: &str, config: &RiskConfig) -> Assessment {
    let lower = task.to_lowercase();
    for (risk, words) in [
        (Risk::High, &config.high),
        (Risk::Medium, &config.medium),
        (Risk::Low, &config.low),
    ] {
        let mut matched: Vec<String> = Vec::new();
        for w in words {
            let w = w.trim().to_lowercase();
            if !w.is_empty() && contains_word(&lower, &w) && !matched.contains(&w) {
                matched.push(w);
            }
        }
        if !matched.is_empty() {
            return Assessment {
                risk,
                reasons: matched,
            };
        }
    }
    Assessment {
        risk: config.default,
        reasons: vec!["default".to_owned()],
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `needle` occurs in `hay` with a non-word character (or the edge) on both sides.
fn contains_word(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, m)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + m.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RiskConfig {
        RiskConfig {
            default: Risk::Medium,
            high: vec![
                "auth".into(),
                "authentication".into(),
                "jwt".into(),
                "delete".into(),
            ],
            medium: vec!["refactor".into()],
            low: vec!["typo".into(), "docs".into()],
        }
    }

    #[test]
    fn highest_level_wins_and_reasons_are_reported() {
        let a = assess("Add JWT authentication; fix a typo", &cfg());
        assert_eq!(a.risk, Risk::High);
        assert_eq!(a.reasons, vec!["authentication", "jwt"]);
    }

    #[test]
    fn word_boundaries() {
        assert_eq!(assess("update the author list", &cfg()).risk, Risk::Medium);
        assert_eq!(
            assess("update the author list", &cfg()).reasons,
            vec!["default"]
        );
        assert_eq!(assess("fix typo in README", &cfg()).risk, Risk::Low);
        assert_eq!(assess("fix typos", &cfg()).risk, Risk::Medium);
        assert_eq!(assess("(auth): x", &cfg()).risk, Risk::High);
        assert_eq!(assess("Oauth_flow", &cfg()).risk, Risk::Medium);
    }

    proptest::proptest! {
        #[test]
        fn deterministic_and_never_panics(task in "\\PC{0,120}") {
            let a = assess(&task, &cfg());
            proptest::prop_assert_eq!(a.clone(), assess(&task, &cfg()));
            proptest::prop_assert!(!a.reasons.is_empty());
        }
    }
}
