//! The HTTP side: `POST {base_url}/chat/completions` with a bearer key, retries on 429 and
//! 5xx honouring `Retry-After`, and the mapping of transport and status failures to typed
//! [`Error`]s (connection refused, auth and unknown model are [`Error::Unavailable`]: a
//! configuration problem, exit 3).

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use fabrik_config::AgentConfig;
use fabrik_core::process::CancelToken;

use crate::{Error, Result};

/// Attempts per request (the first one and three retries).
const MAX_TRIES: u32 = 4;
/// Longest wait fabrik accepts from one `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// Bytes of a response body fabrik reads at most.
const BODY_LIMIT: u64 = 32 << 20;

/// One configured endpoint.
pub(crate) struct Client {
    agent_name: String,
    base_url: String,
    url: String,
    key: Option<String>,
    key_var: Option<String>,
    http: ureq::Agent,
}

/// A 2xx answer: its body as text.
pub(crate) struct Answer {
    pub(crate) body: String,
}

impl Client {
    /// A client for `config`; the key is read now (see [`api_key`]).
    ///
    /// # Errors
    /// [`Error::Unavailable`] when `base_url` is missing or the key variable is unset.
    pub(crate) fn new(config: &AgentConfig) -> Result<Client> {
        let base_url = base_url(config)?;
        let key = api_key(config)?;
        let http = ureq::Agent::config_builder()
            // Statuses are handled here (retries, typed errors), not as transport errors.
            .http_status_as_error(false)
            .user_agent(concat!("fabrik/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent_name: config.name.clone(),
            url: format!("{base_url}/chat/completions"),
            base_url,
            key,
            key_var: config.api_key_env.clone(),
            http,
        })
    }

    /// The key, so the caller can redact it from everything written.
    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// Posts `body` and returns the 2xx answer, retrying 429 and 5xx up to [`MAX_TRIES`]
    /// times while the deadline allows. `log` receives one line per retry.
    ///
    /// # Errors
    /// Typed: Unavailable (cannot connect, auth, model not found), Timeout, Cancelled,
    /// Crashed (any other status, or retries exhausted).
    pub(crate) fn post(
        &self,
        body: &[u8],
        deadline: Instant,
        timeout: Duration,
        cancel: &CancelToken,
        log: &mut dyn FnMut(String),
    ) -> Result<Answer> {
        let mut tries = 0;
        loop {
            tries += 1;
            if cancel.is_cancelled() {
                return Err(self.cancelled());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timeout(timeout));
            }
            let (status, retry_after, text) = self.send_once(body, left, timeout)?;
            if (200..300).contains(&status) {
                return Ok(Answer { body: text });
            }
            let retryable = status == 429 || (500..600).contains(&status);
            if !retryable {
                return Err(self.status_error(status, &text));
            }
            let wait = retry_after
                .unwrap_or_else(|| Duration::from_secs(1 << (tries - 1)))
                .min(MAX_RETRY_AFTER);
            let left = deadline.saturating_duration_since(Instant::now());
            if tries >= MAX_TRIES || wait >= left {
                let why = if tries >= MAX_TRIES {
                    format!("gave up after {tries} tries")
                } else {
                    format!(
                        "gave up: waiting {}s more would pass the time limit",
                        wait.as_secs_f32()
                    )
                };
                log(format!("HTTP {status} from {}; {why}", self.url));
                return Err(match self.status_error(status, &text) {
                    Error::Crashed {
                        agent,
                        status,
                        stderr_tail,
                    } => Error::Crashed {
                        agent,
                        status: format!("{status}, {why}"),
                        stderr_tail,
                    },
                    other => other,
                });
            }
            log(format!(
                "HTTP {status} from {}; retry {tries}/{} in {}s",
                self.url,
                MAX_TRIES - 1,
                wait.as_secs_f32()
            ));
            sleep_unless_cancelled(wait, cancel);
        }
    }

    /// One request: status, `Retry-After` and body text.
    fn send_once(
        &self,
        body: &[u8],
        left: Duration,
        timeout: Duration,
    ) -> Result<(u16, Option<Duration>, String)> {
        let mut request = self
            .http
            .post(&self.url)
            .config()
            .timeout_global(Some(left))
            .build()
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", format!("Bearer {key}"));
        }
        let mut response = request
            .send(body)
            .map_err(|e| self.transport_error(e, timeout))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|e| self.transport_error(e, timeout))?;
        Ok((status, retry_after, text))
    }

    fn transport_error(&self, e: ureq::Error, timeout: Duration) -> Error {
        match e {
            ureq::Error::Timeout(_) => self.timeout(timeout),
            ureq::Error::Io(io)
                if matches!(
                    io.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable
                ) =>
            {
                self.cannot_connect(&io.to_string())
            }
            ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => self.timeout(timeout),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                self.cannot_connect(&e.to_string())
            }
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => Error::Unavailable {
                agent: self.agent_name.clone(),
                reason: format!("`base_url` {} is not a usable URL: {e}", self.base_url),
                hint: self.fix_hint("base_url"),
            },
            other => Error::Crashed {
                agent: self.agent_name.clone(),
                status: format!("request to {} failed", self.url),
                stderr_tail: other.to_string(),
            },
        }
    }

    fn cannot_connect(&self, detail: &str) -> Error {
        Error::Unavailable {
            agent: self.agent_name.clone(),
            reason: format!(
                "cannot connect to {}: is the server running? ({detail})",
                self.base_url
            ),
            hint: format!(
                "start the server, or fix `base_url` of `[agents.{}]` in fabrik.toml",
                self.agent_name
            ),
        }
    }

    fn status_error(&self, status: u16, body: &str) -> Error {
        let detail = crate::openai::wire::error_message(body)
            .unwrap_or_else(|| tail(body, 500).trim().to_owned());
        let name = &self.agent_name;
        match status {
            401 | 403 => Error::Unavailable {
                agent: name.clone(),
                reason: format!(
                    "authentication failed at {} (HTTP {status}): {detail}",
                    self.url
                ),
                hint: match &self.key_var {
                    Some(var) => {
                        format!("check the key in `{var}` (`api_key_env` of `[agents.{name}]`)")
                    }
                    None => format!(
                        "set `api_key_env` of `[agents.{name}]` to the variable holding the key"
                    ),
                },
            },
            404 => Error::Unavailable {
                agent: name.clone(),
                reason: format!("model not found at {} (HTTP 404): {detail}", self.url),
                hint: format!(
                    "check `model` and `base_url` of `[agents.{name}]` (`base_url` usually ends in /v1)"
                ),
            },
            _ => Error::Crashed {
                agent: name.clone(),
                status: format!("HTTP {status} from {}", self.url),
                stderr_tail: detail,
            },
        }
    }

    fn fix_hint(&self, key: &str) -> String {
        format!(
            "fix `{key}` of `[agents.{}]` in fabrik.toml",
            self.agent_name
        )
    }

    fn timeout(&self, after: Duration) -> Error {
        Error::Timeout {
            agent: self.agent_name.clone(),
            after,
        }
    }

    fn cancelled(&self) -> Error {
        Error::Cancelled {
            agent: self.agent_name.clone(),
        }
    }
}

/// `base_url` without its trailing slashes.
///
/// # Errors
/// [`Error::Unavailable`] when it is missing or not http(s).
pub(crate) fn base_url(config: &AgentConfig) -> Result<String> {
    let url = config.base_url.as_deref().map(str::trim).unwrap_or("");
    if url.is_empty() {
        return Err(Error::Unavailable {
            agent: config.name.clone(),
            reason: "no `base_url` is set".to_owned(),
            hint: format!(
                "set `base_url` of `[agents.{}]`, e.g. \"https://api.openai.com/v1\" or \"http://127.0.0.1:11434/v1\"",
                config.name
            ),
        });
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::Unavailable {
            agent: config.name.clone(),
            reason: format!("`base_url` {url} is not an http:// or https:// URL"),
            hint: format!(
                "fix `base_url` of `[agents.{}]` in fabrik.toml",
                config.name
            ),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The key from the variable named by `api_key_env`: the agent's configured `env` first,
/// then fabrik's environment. No `api_key_env` means no key (local servers).
///
/// # Errors
/// [`Error::Unavailable`] naming the variable (never its value) when it is unset or empty.
pub(crate) fn api_key(config: &AgentConfig) -> Result<Option<String>> {
    let Some(var) = config.api_key_env.as_deref().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let value = config
        .env
        .get(var)
        .cloned()
        .or_else(|| std::env::var(var).ok())
        .filter(|v| !v.trim().is_empty());
    match value {
        Some(v) => Ok(Some(v.trim().to_owned())),
        None => Err(Error::Unavailable {
            agent: config.name.clone(),
            reason: format!("the API key variable `{var}` is not set"),
            hint: format!(
                "export {var}, or set it in `env` of `[agents.{}]` in fabrik.toml",
                config.name
            ),
        }),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these APIs; it falls back to
/// the exponential backoff).
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && (0.0..1e9).contains(s))
            .map(Duration::from_secs_f64)
    })
}

/// Sleeps `d`, waking early when `cancel` is set.
fn sleep_unless_cancelled(d: Duration, cancel: &CancelToken) {
    let end = Instant::now() + d;
    while !cancel.is_cancelled() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The last `max` bytes of `s` (on a char boundary).
fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 2.5 "),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1e300"), None);
        assert_eq!(
            parse_retry_after("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn tail_respects_char_boundaries() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("ab", 10), "ab");
    }
}
