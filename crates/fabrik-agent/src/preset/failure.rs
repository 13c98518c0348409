//! What went wrong in a preset call, and how it becomes an [`Error`].
//!
//! Each CLI's parser reports a [`Failure`]: a [`Kind`] read from structured fields where the
//! CLI has them (HTTP status, error names, exit codes), else from the message text with
//! [`kind_from_text`]. Kinds that mean "this agent cannot work until someone fixes its setup"
//! (auth, model, quota, network, install) become [`Error::Unavailable`] with a hint naming
//! the fix (reference/agent-clis.md section 7, item 2); anything else is
//! [`Error::Crashed`] carrying the CLI's own message.

use crate::Error;

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Not logged in, no or bad API key.
    Auth,
    /// The configured model does not exist for this CLI or account.
    Model,
    /// Rate limited or out of quota.
    RateLimit,
    /// The provider cannot be reached.
    Network,
    /// The CLI is installed but broken (wrapper without its binary).
    Install,
    /// Anything else: the CLI's message is passed on.
    Other,
}

/// A failure reported by (or recognised in the output of) a CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The classification.
    pub(crate) kind: Kind,
    /// The CLI's own words.
    pub(crate) message: String,
}

impl Failure {
    /// A failure classified from its message.
    pub(crate) fn from_text(message: impl Into<String>) -> Failure {
        let message = message.into();
        Failure {
            kind: kind_from_text(&message),
            message,
        }
    }

    /// A failure with a known kind.
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// Uses `status` (an HTTP status the CLI reported) when it says more than the text.
    pub(crate) fn with_status(self, status: Option<i64>) -> Failure {
        match status.and_then(kind_from_status) {
            Some(kind) => Failure { kind, ..self },
            None => self,
        }
    }
}

/// The advice shown with an [`Error::Unavailable`], per CLI.
#[derive(Debug)]
pub(crate) struct Hints {
    /// Binary name.
    pub(crate) program: &'static str,
    /// How to install it.
    pub(crate) install: &'static str,
    /// How to log in or provide a key.
    pub(crate) auth: &'static str,
    /// Where valid model ids are listed.
    pub(crate) models: &'static str,
}

impl Failure {
    /// The typed error for this failure. `status` describes how the process ended.
    pub(crate) fn into_error(
        self,
        agent: &str,
        model: Option<&str>,
        hints: &Hints,
        status: &str,
    ) -> Error {
        let program = hints.program;
        let msg = self.message.trim().to_owned();
        let unavailable = |reason: String, hint: String| Error::Unavailable {
            agent: agent.to_owned(),
            reason,
            hint,
        };
        match self.kind {
            Kind::Auth => unavailable(
                format!("`{program}` is not logged in or has no valid API key: {msg}"),
                hints.auth.replace("{agent}", agent),
            ),
            Kind::Model => unavailable(
                format!(
                    "`{program}` cannot use model `{}`: {msg}",
                    model.unwrap_or("(default)")
                ),
                format!(
                    "set `model` of `[agents.{agent}]` to a model `{program}` knows ({})",
                    hints.models
                ),
            ),
            Kind::RateLimit => unavailable(
                format!("`{program}` is rate limited or out of quota: {msg}"),
                "wait for the limit to reset and run `fabrik resume`, or configure another model or account".to_owned(),
            ),
            Kind::Network => unavailable(
                format!("`{program}` cannot reach its model provider: {msg}"),
                format!(
                    "check network access, the proxy variables (HTTPS_PROXY, NO_PROXY) and any endpoint set in `[agents.{agent}.env]`, then run `fabrik resume`"
                ),
            ),
            Kind::Install => unavailable(
                format!("the `{program}` installation is broken: {msg}"),
                format!("reinstall it: {}", hints.install),
            ),
            Kind::Other => Error::Crashed {
                agent: agent.to_owned(),
                status: status.to_owned(),
                stderr_tail: msg,
            },
        }
    }
}

/// The kind an HTTP status implies, when it implies one.
pub(crate) fn kind_from_status(status: i64) -> Option<Kind> {
    match status {
        401 | 403 => Some(Kind::Auth),
        404 => Some(Kind::Model),
        429 => Some(Kind::RateLimit),
        _ => None,
    }
}

const AUTH: &[&str] = &[
    "not logged in",
    "please run /login",
    "authentication",
    "unauthenticated",
    "unauthorized",
    "failed to authenticate",
    "invalid api key",
    "invalid_api_key",
    "incorrect api key",
    "api key not valid",
    "missing api key",
    "no api key",
    "api_key_invalid",
    "please set an auth method",
    "permission_denied",
];

const RATE: &[&str] = &[
    "rate limit",
    "rate_limit",
    "ratelimit",
    "too many requests",
    "quota",
    "resource_exhausted",
    "usage limit",
    "overloaded",
];

const MODEL: &[&str] = &[
    "not found",
    "not_found",
    "notfound",
    "does not exist",
    "unknown model",
    "invalid model",
    "no such model",
    "not supported",
    "unsupported model",
];

const NETWORK: &[&str] = &[
    "cannot connect",
    "can't reach",
    "could not connect",
    "unable to connect",
    "enotfound",
    "econnrefused",
    "econnreset",
    "etimedout",
    "name or service not known",
    "name does not resolve",
    "temporary failure in name resolution",
    "failed to lookup address",
    "connection refused",
    "connection failed",
    "connection error",
    "fetch failed",
    "network is unreachable",
    "error sending request",
    "waiting for network",
];

/// Classifies an error message by the phrases the six CLIs use (observed in
/// reference/agent-clis/*-observed.txt), checking auth, then network, then quota, then
/// model (aider's DNS failure also says "servers are down or overloaded"). HTTP statuses
/// count only as whole words ("401", not "14010").
pub(crate) fn kind_from_text(text: &str) -> Kind {
    let t = text.to_ascii_lowercase();
    let has = |list: &[&str]| list.iter().any(|p| t.contains(p));
    let status = |code: &str| {
        t.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == code)
    };
    if has(AUTH) || status("401") || status("403") {
        Kind::Auth
    } else if has(NETWORK) {
        Kind::Network
    } else if has(RATE) || status("429") {
        Kind::RateLimit
    } else if t.contains("model") && (has(MODEL) || status("404")) {
        Kind::Model
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_messages_are_classified() {
        let cases = [
            ("Not logged in · Please run /login", Kind::Auth),
            (
                "Authentication failed. Please log in using /login or set a valid FACTORY_API_KEY environment variable.",
                Kind::Auth,
            ),
            (
                "unexpected status 401 Unauthorized: mock 401, url: http://127.0.0.1:18401/v1/responses",
                Kind::Auth,
            ),
            (
                "Failed to authenticate. API Error: 401 mock 401",
                Kind::Auth,
            ),
            (
                "API Error: Can't reach the API server — check your internet or DNS (ENOTFOUND)",
                Kind::Network,
            ),
            (
                "Cannot connect to API: Unable to connect. Is the computer able to access the url?",
                Kind::Network,
            ),
            (
                "Reconnecting... waiting for network (Connection failed: error sending request)",
                Kind::Network,
            ),
            ("model `gpt-9` does not exist", Kind::Model),
            ("429 Too Many Requests", Kind::RateLimit),
            ("Exec failed", Kind::Other),
            ("build 14010 failed", Kind::Other),
        ];
        for (text, kind) in cases {
            assert_eq!(kind_from_text(text), kind, "{text}");
        }
    }

    #[test]
    fn status_wins_over_text() {
        let f = Failure::from_text("mock").with_status(Some(429));
        assert_eq!(f.kind, Kind::RateLimit);
        let f = Failure::from_text("Not logged in").with_status(Some(500));
        assert_eq!(f.kind, Kind::Auth);
    }
}
