//! Secret redaction at every sink (reference/reliability.md section 3.5).
//!
//! Two layers: known values (the values of environment variables named like `*KEY*`,
//! `*TOKEN*`, `*SECRET*`, `*PASSWORD*`) and patterns for well-known token formats. A match
//! becomes `‹redacted:RULE:hash8›`, where the hash lets two findings be matched up without
//! showing the value.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::bytes::Regex;
use sha2::{Digest, Sha256};

/// Redacts secrets from text and bytes. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    known: Vec<Vec<u8>>,
}

const PATTERNS: &[(&str, &str)] = &[
    (
        "anthropic-key",
        r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{20,}",
    ),
    (
        "openai-key",
        r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
    ),
    (
        "github-token",
        r"(?:ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{36}|github_pat_\w{40,}",
    ),
    ("gitlab-pat", r"glpat-[\w\-]{20}"),
    (
        "aws-access-key-id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
    ),
    ("slack-token", r"xox[bpea]-[0-9A-Za-z\-]{10,}"),
    ("gcp-api-key", r"\bAIza[\w\-]{35}\b"),
    ("huggingface-token", r"\bhf_[A-Za-z]{34}\b"),
    (
        "stripe-key",
        r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}\b",
    ),
    (
        "private-key",
        r"(?s)-----BEGIN[ A-Z0-9_\-]{0,100}PRIVATE KEY-----.*?-----END[ A-Z0-9_\-]{0,100}PRIVATE KEY-----",
    ),
    ("bearer", r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]{16,}"),
    (
        "url-credentials",
        r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://[^\s/:@]{1,128}:[^\s/@]{3,256}@",
    ),
];

fn patterns() -> &'static [(&'static str, Regex)] {
    static P: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    P.get_or_init(|| {
        PATTERNS
            .iter()
            // ASCII classes (`(?-u)`): token formats are ASCII, and Unicode classes with
            // bounded repetitions compile into automata that cost tens of milliseconds.
            .filter_map(|(id, re)| Regex::new(&format!("(?-u){re}")).ok().map(|r| (*id, r)))
            .collect()
    })
}

/// Whether an environment variable's name marks its value as a secret.
#[must_use]
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| n.contains(w))
}

impl Redactor {
    /// A redactor that knows the secret-named variables of `env` (values of 8+ bytes).
    pub fn from_env<I, K, V>(env: I) -> Redactor
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut r = Redactor::default();
        for (k, v) in env {
            if is_secret_name(k.as_ref()) {
                r.add_known(v.as_ref());
            }
        }
        r
    }

    /// A redactor for fabrik's own process environment.
    #[must_use]
    pub fn from_process_env() -> Redactor {
        Redactor::from_env(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Adds a literal secret value (ignored when shorter than 8 bytes: too many false hits).
    pub fn add_known(&mut self, value: &str) {
        if value.len() >= 8 && !self.known.iter().any(|k| k == value.as_bytes()) {
            self.known.push(value.as_bytes().to_vec());
            // Longest first, so a secret that contains another is replaced whole.
            self.known.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
    }

    /// Redacts `bytes`; borrows when there is nothing to redact.
    #[must_use]
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Cow<'a, [u8]> = Cow::Borrowed(bytes);
        for k in &self.known {
            if memfind(&out, k).is_some() {
                out = Cow::Owned(replace_all(&out, k, &marker("env", k)));
            }
        }
        for (id, re) in patterns() {
            if re.is_match(&out) {
                let replaced = re
                    .replace_all(&out, |c: &regex::bytes::Captures<'_>| marker(id, &c[0]))
                    .into_owned();
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// Redacts text.
    #[must_use]
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.redact_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }
    }
}

fn marker(rule: &str, secret: &[u8]) -> Vec<u8> {
    let h = crate::durable::hex(&Sha256::digest(secret)[..4]);
    format!("‹redacted:{rule}:{h}›").into_bytes()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_all(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = memfind(rest, needle) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(with);
        rest = &rest[i + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_env_values_are_redacted() {
        let r = Redactor::from_env([("MY_API_KEY", "hunter2hunter2"), ("HOME", "/root/home/dir")]);
        let out = r.redact("key=hunter2hunter2 home=/root/home/dir");
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("‹redacted:env:"), "{out}");
        assert!(out.contains("/root/home/dir"));
    }

    #[test]
    fn token_formats_are_redacted() {
        let r = Redactor::default();
        let gh = format!("ghp_{}", "a".repeat(36));
        let text = format!("token {gh} and AKIAIOSFODNN7EXAMPLE and postgres://u:pw1234@db/x");
        let out = r.redact(&text);
        assert!(!out.contains(&gh), "{out}");
        assert!(!out.contains("AKIAIOSFODNN7EXAMPLE"), "{out}");
        assert!(!out.contains("pw1234"), "{out}");
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(patterns().len(), PATTERNS.len());
    }

    #[test]
    fn clean_text_is_borrowed() {
        let r = Redactor::default();
        assert!(matches!(r.redact("nothing secret here"), Cow::Borrowed(_)));
    }
}
