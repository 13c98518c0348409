//! Gemini CLI, headless `gemini` (0.61.0; reference/agent-clis.md section 4).
//!
//! `gemini -o json --skip-trust --approval-mode plan|auto_edit [-m <model>] [--resume <id>]
//! < prompt`
//!
//! - Prompt: stdin alone (headless because stdin and stdout are not TTYs; observed to work).
//!   `-p` is not used: it would put the prompt in argv.
//! - Working directory: the process cwd. `--skip-trust` is required: headless in an
//!   untrusted folder always exits 55.
//! - Autonomy: `--approval-mode plan` ("read-only mode") or `auto_edit` (edit tools
//!   approved; shell commands are not). `--yolo` is never used.
//! - Output: one JSON object, on stdout on success and on **stderr** on error
//!   (`{"session_id","error":{"type","message","code"}}`). Usage: `stats.models[*].tokens`
//!   summed over models (the router call counts too); input = `prompt` − `cached`,
//!   output = `candidates` + `thoughts` (`total` = prompt + candidates + thoughts). Stats
//!   cover this invocation only, also after `--resume`. No cost field.
//! - Failures: exit 41 (auth, before any network), an error object's `code` (41 or an HTTP
//!   status), and in JSON mode an API error exits with the HTTP status mod 256 (401 -> 145).
//!   Exit 42 (bad session id), 44, 52-55 are crashes with gemini's message.

use std::collections::BTreeMap;

use fabrik_core::Usage;
use serde::Deserialize;

use super::agent::{CallCtx, Cli, Invocation, Output, Parsed, Prompt, Reply};
use super::failure::{Failure, Hints, Kind, kind_from_status};
use super::json;
use crate::{Autonomy, SessionPolicy};

/// The gemini preset.
#[derive(Debug)]
pub(crate) struct Gemini;

static HINTS: Hints = Hints {
    program: "gemini",
    install: "`npm install -g @google/gemini-cli`",
    auth: "set GEMINI_API_KEY (or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, or GOOGLE_GENAI_USE_GCA=true) in the environment or in `[agents.{agent}.env]`, or choose an auth method in ~/.gemini/settings.json",
    models: "e.g. `gemini-3.8-flash`; without `model` gemini routes automatically",
};

/// gemini's `FatalAuthenticationError` exit code.
const EXIT_AUTH: i32 = 41;

#[derive(Debug, Deserialize)]
struct GeminiJson {
    session_id: Option<String>,
    response: Option<String>,
    stats: Option<Stats>,
    error: Option<ErrorBody>,
}

#[derive(Debug, Deserialize)]
struct Stats {
    #[serde(default)]
    models: BTreeMap<String, ModelStats>,
}

#[derive(Debug, Deserialize)]
struct ModelStats {
    #[serde(default)]
    tokens: Tokens,
}

#[derive(Debug, Default, Deserialize)]
struct Tokens {
    #[serde(default)]
    prompt: u64,
    #[serde(default)]
    cached: u64,
    #[serde(default)]
    candidates: u64,
    #[serde(default)]
    thoughts: u64,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    code: Option<Code>,
}

/// An error code: gemini's exit code (41), an HTTP status, or a status name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Code {
    Number(i64),
    Name(serde::de::IgnoredAny),
}

impl Cli for Gemini {
    fn hints(&self) -> &'static Hints {
        &HINTS
    }

    fn prompt(&self) -> Prompt {
        Prompt::Stdin
    }

    fn invocation(&self, c: &CallCtx<'_>) -> Invocation {
        let mode = match c.autonomy {
            Autonomy::ReadOnly => "plan",
            Autonomy::Write => "auto_edit",
        };
        let mut args: Vec<String> = ["-o", "json", "--skip-trust", "--approval-mode", mode]
            .map(str::to_owned)
            .to_vec();
        if let Some(m) = c.model {
            args.extend(["-m".to_owned(), m.to_owned()]);
        }
        if let SessionPolicy::Resume(id) = c.session {
            args.extend(["--resume".to_owned(), id.clone()]);
        }
        args.extend(c.extra.iter().cloned());
        Invocation {
            args,
            env: Vec::new(),
        }
    }

    fn parse(&self, out: &Output<'_>) -> Parsed {
        let stdout = json::object::<GeminiJson>(out.stdout);
        if let Some(GeminiJson {
            error: None,
            response: Some(text),
            session_id,
            stats,
        }) = stdout
        {
            return Parsed::Reply(Reply {
                text,
                usage: stats.and_then(usage),
                session_id,
            });
        }
        let error = stdout
            .and_then(|j| j.error)
            .or_else(|| json::object::<GeminiJson>(out.stderr).and_then(|j| j.error));
        match (error, out.code) {
            (Some(e), _) => Parsed::Failed(e.failure()),
            (None, Some(EXIT_AUTH)) => Parsed::Failed(Failure::new(Kind::Auth, out.stderr.trim())),
            (None, Some(code)) if code > 128 => match status_kind(code) {
                Some(kind) => Parsed::Failed(Failure::new(kind, out.stderr.trim())),
                None => unparsed(),
            },
            (None, _) => unparsed(),
        }
    }
}

fn unparsed() -> Parsed {
    Parsed::Unparsed("gemini printed no JSON object with `response` (`-o json`)".into())
}

/// The kind behind an exit code that is an HTTP status mod 256.
fn status_kind(code: i32) -> Option<Kind> {
    [401, 403, 404, 429]
        .into_iter()
        .find(|s| s % 256 == i64::from(code))
        .and_then(kind_from_status)
}

impl ErrorBody {
    fn failure(self) -> Failure {
        let f = Failure::from_text(self.message);
        match self.code {
            Some(Code::Number(41)) => Failure::new(Kind::Auth, f.message),
            Some(Code::Number(n)) => f.with_status(Some(n)),
            Some(Code::Name(_)) | None => f,
        }
    }
}

fn usage(stats: Stats) -> Option<Usage> {
    if stats.models.is_empty() {
        return None;
    }
    let mut u = Usage::default();
    for t in stats.models.into_values().map(|m| m.tokens) {
        u.input_tokens = u
            .input_tokens
            .saturating_add(t.prompt.saturating_sub(t.cached));
        u.cache_read_tokens = u.cache_read_tokens.saturating_add(t.cached);
        u.output_tokens = u
            .output_tokens
            .saturating_add(t.candidates.saturating_add(t.thoughts));
    }
    Some(u)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;

    use super::*;
    use crate::preset::testing::{
        Case, assert_known_flags, assert_valid_value, ctx, fixture, matrix, value,
    };

    #[test]
    fn argv_uses_only_documented_flags_and_values() {
        let help = fixture("gemini-help.txt");
        let env = BTreeMap::new();
        let extra = vec!["--include-directories".to_owned(), "../shared".to_owned()];
        for (autonomy, session) in matrix() {
            let args = Gemini
                .invocation(&ctx(autonomy, &session, &env, &extra))
                .args;
            assert_known_flags(&args, &help);
            assert_valid_value(&args, "-o", &help);
            assert_valid_value(&args, "--approval-mode", &help);
            assert!(args.contains(&"--skip-trust".to_owned()));
            assert!(!args.iter().any(|a| a == "-y" || a == "--yolo" || a == "-p"));
            let want = match autonomy {
                Autonomy::ReadOnly => "plan",
                Autonomy::Write => "auto_edit",
            };
            assert_eq!(value(&args, "--approval-mode"), Some(want));
            let resumed = matches!(session, SessionPolicy::Resume(_));
            assert_eq!(value(&args, "--resume") == Some("0199-abc"), resumed);
            assert_eq!(args[args.len() - 2..], extra[..]);
        }
    }

    #[test]
    fn mock_success_sums_models() {
        let Parsed::Reply(r) = Gemini.parse(&Case::load("gemini-mock").output()) else {
            panic!("not a reply")
        };
        assert_eq!(
            r,
            Reply {
                text: "MOCK-OK: hello from the loopback mock.".into(),
                usage: Some(Usage {
                    input_tokens: 468,
                    output_tokens: 126,
                    cache_read_tokens: 2000,
                    cache_write_tokens: 0,
                    cost_usd: None,
                    estimated: false,
                }),
                session_id: Some("6316cd32-33a0-4e3f-a622-421ed6d39e8e".into()),
            }
        );
    }

    #[test]
    fn observed_failures_are_classified() {
        let kind = |name: &str| match Gemini.parse(&Case::load(name).output()) {
            Parsed::Failed(f) => f.kind,
            p => panic!("{name}: {p:?}"),
        };
        // The error object is on stderr, pretty-printed.
        assert_eq!(kind("gemini-no-auth"), Kind::Auth);
        // Exit 145 = 401 mod 256; stderr has only a stack trace.
        assert_eq!(kind("gemini-401"), Kind::Auth);
        // Exit 55 (untrusted folder) is not a setup problem fabrik can name: generic path.
        assert!(matches!(
            Gemini.parse(&Case::load("gemini-untrusted").output()),
            Parsed::Unparsed(_)
        ));
    }
}
