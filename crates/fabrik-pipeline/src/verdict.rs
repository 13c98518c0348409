//! Extracting the verifier's JSON verdict from free text: the last ```json fence that
//! parses, else the last JSON object with an `approved` key.

use fabrik_core::contract::Verdict;

/// Bytes from the end of the text searched for a bare JSON object.
const SEARCH_WINDOW: usize = 256 * 1024;

/// Finds the verdict in `text`, or `None` when there is no usable one.
#[must_use]
pub fn parse(text: &str) -> Option<Verdict> {
    fenced(text).or_else(|| last_object(text))
}

fn fenced(text: &str) -> Option<Verdict> {
    let mut found = None;
    let mut rest = text;
    while let Some(i) = rest.find("```json") {
        let body = &rest[i + 7..];
        let Some(end) = body.find("```") else { break };
        if let Ok(v) = serde_json::from_str::<Verdict>(body[..end].trim()) {
            found = Some(v);
        }
        rest = &body[end + 3..];
    }
    found
}

fn last_object(text: &str) -> Option<Verdict> {
    let mut start = text.len().saturating_sub(SEARCH_WINDOW);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let window = &text[start..];
    let mut best = None;
    for (i, _) in window.match_indices('{') {
        let mut it =
            serde_json::Deserializer::from_str(&window[i..]).into_iter::<serde_json::Value>();
        if let Some(Ok(v)) = it.next()
            && v.get("approved").is_some_and(serde_json::Value::is_boolean)
            && let Ok(verdict) = serde_json::from_value::<Verdict>(v)
        {
            best = Some(verdict);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use fabrik_core::contract::Severity;

    use super::*;

    #[test]
    fn fence_wins() {
        let t = "thinking {\"approved\": true}\n```json\n{\"approved\": false, \"issues\": [{\"severity\": \"blocker\", \"message\": \"no tests\"}], \"summary\": \"s\"}\n```\n";
        let v = parse(t).unwrap();
        assert!(!v.approved);
        assert_eq!(v.issues[0].severity, Severity::Blocker);
    }

    #[test]
    fn last_bare_object() {
        let t = "first {\"approved\": false} then {\"approved\": true, \"summary\": \"ok\"} done";
        assert!(parse(t).unwrap().approved);
        assert_eq!(
            parse("{\"nested\": {\"approved\": true}}").map(|v| v.approved),
            Some(true)
        );
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse("LGTM!"), None);
        assert_eq!(parse("{\"approved\": \"yes\"}"), None);
        assert_eq!(parse("```json\n{broken\n```"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s);
        }

        #[test]
        fn round_trips_any_verdict(approved: bool, msg in "[a-z ]{0,40}", prefix in "[^`{]{0,40}") {
            let v = Verdict { approved, issues: vec![], summary: msg };
            let text = format!("{prefix}\n```json\n{}\n```", serde_json::to_string_pretty(&v).unwrap());
            proptest::prop_assert_eq!(parse(&text), Some(v));
        }
    }
}
