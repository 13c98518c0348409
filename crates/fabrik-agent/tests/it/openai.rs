//! The `openai` backend against [`FakeOpenAi`], a real HTTP server on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use fabrik_agent::{Agent, Autonomy, Error, Request, Response, SessionPolicy, Transcript};
use fabrik_config::{AgentConfig, AgentKind, PromptVia};
use fabrik_core::Usage;
use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;
use fabrik_testkit::openai::completion;
use fabrik_testkit::{FakeOpenAi, Reply};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const KEY_VAR: &str = "FABRIK_IT_OPENAI_KEY";
const KEY: &str = "test-key-0123456789abcdefXYZ";

fn config(url: &str, key_var: Option<&str>, env: &[(&str, &str)]) -> AgentConfig {
    AgentConfig {
        name: "oa".into(),
        kind: AgentKind::Openai,
        preset: None,
        argv: Vec::new(),
        prompt_via: PromptVia::Stdin,
        model: Some("fake-model".into()),
        timeout: None,
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        argv_extra: Vec::new(),
        base_url: Some(url.to_owned()),
        api_key_env: key_var.map(str::to_owned),
        dir: None,
    }
}

/// An agent with the key in its configured `env` (no change to the process environment).
fn agent(url: &str) -> Box<dyn Agent> {
    fabrik_agent::build(&config(url, Some(KEY_VAR), &[(KEY_VAR, KEY)])).unwrap()
}

struct Call {
    transcripts: tempfile::TempDir,
    transcript: Transcript,
}

impl Call {
    fn new() -> Call {
        let transcripts = tempfile::tempdir().unwrap();
        let transcript = Transcript::in_dir(transcripts.path(), "step-1");
        Call {
            transcripts,
            transcript,
        }
    }

    fn run(
        &self,
        agent: &dyn Agent,
        role: &str,
        prompt: &str,
        workspace: &Path,
        timeout: Duration,
    ) -> Result<Response, Error> {
        self.run_cancellable(agent, role, prompt, workspace, timeout, &CancelToken::new())
    }

    fn run_cancellable(
        &self,
        agent: &dyn Agent,
        role: &str,
        prompt: &str,
        workspace: &Path,
        timeout: Duration,
        cancel: &CancelToken,
    ) -> Result<Response, Error> {
        let redactor = Redactor::default();
        agent.call(&Request {
            role,
            prompt,
            workspace,
            run_id: "r1",
            slot: "s2",
            session: SessionPolicy::New,
            iteration: 1,
            attempt: 1,
            autonomy: Autonomy::for_role(role),
            timeout,
            grace: Duration::from_millis(200),
            expect_json: false,
            transcript: &self.transcript,
            cancel,
            redactor: &redactor,
        })
    }

    /// Every transcript file's text, concatenated.
    fn all_text(&self) -> String {
        let mut s = String::new();
        for e in std::fs::read_dir(self.transcripts.path()).unwrap() {
            s.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
        s
    }
}

/// The `tool` messages at the end of a recorded request: `(tool_call_id, content)`.
fn tool_results(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            (
                m["tool_call_id"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const LONG: Duration = Duration::from_secs(30);

#[test]
fn execution_reads_and_writes_through_tools_and_sums_usage() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("src")).unwrap();
    std::fs::write(ws.path().join("src/lib.txt"), "hello\n").unwrap();
    let mut cached = completion(
        json!({"role": "assistant", "content": "done: wrote out/new.txt"}),
        "stop",
        300,
        3,
    );
    cached["usage"]["prompt_tokens_details"] = json!({"cached_tokens": 250});
    let fake = FakeOpenAi::start([
        Reply::tool_calls(
            &[("c1", "read_file", json!({"path": "src/lib.txt"}))],
            100,
            1,
        ),
        Reply::tool_calls(
            &[(
                "c2",
                "write_file",
                json!({"path": "out/new.txt", "content": "HELLO\n"}),
            )],
            200,
            2,
        ),
        Reply::Json(cached),
    ]);
    let call = Call::new();
    let r = call
        .run(
            &*agent(&fake.url()),
            "execution",
            "shout the file",
            ws.path(),
            LONG,
        )
        .unwrap();

    assert_eq!(r.text, "done: wrote out/new.txt");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("out/new.txt")).unwrap(),
        "HELLO\n"
    );
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 600,
            output_tokens: 6,
            cache_read_tokens: 250,
            estimated: false,
            ..Usage::default()
        }
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(reqs[0].body["model"], "fake-model");
    let tools: Vec<&str> = reqs[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "read_file",
            "list_dir",
            "search",
            "write_file",
            "apply_patch",
            "run_command"
        ]
    );
    let first = reqs[0].messages();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0]["role"], "system");
    assert_eq!(
        first[1],
        json!({"role": "user", "content": "shout the file"})
    );
    assert_eq!(
        tool_results(&reqs[1].body),
        [("c1".to_owned(), "hello\n".to_owned())]
    );
    // The assistant's call is echoed before its result.
    let second = reqs[1].messages();
    assert_eq!(second[2]["role"], "assistant");
    assert_eq!(second[2]["tool_calls"][0]["id"], "c1");
    assert_eq!(
        tool_results(&reqs[2].body)[1],
        ("c2".to_owned(), "wrote 6 bytes to out/new.txt".to_owned())
    );
    // One JSON line per response in the stdout transcript.
    let stdout = std::fs::read_to_string(&call.transcript.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3);
    for line in stdout.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&call.transcript.prompt).unwrap(),
        "shout the file"
    );
    assert_eq!(fake.remaining(), 0);
}

#[test]
fn escapes_are_refused_and_the_refusal_is_the_tool_result() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    let ws = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.path().join("link")).unwrap();
    let fake = FakeOpenAi::start([
        Reply::tool_calls(
            &[
                ("c1", "read_file", json!({"path": "../../etc/passwd"})),
                ("c2", "read_file", json!({"path": "link/secret.txt"})),
                (
                    "c3",
                    "write_file",
                    json!({"path": "link/evil.txt", "content": "x"}),
                ),
                ("c4", "read_file", json!({"path": "/etc/passwd"})),
            ],
            1,
            1,
        ),
        Reply::text("understood", 1, 1),
    ]);
    let call = Call::new();
    let r = call
        .run(
            &*agent(&fake.url()),
            "execution",
            "try to escape",
            ws.path(),
            LONG,
        )
        .unwrap();
    assert_eq!(r.text, "understood");
    let results = tool_results(&fake.requests()[1].body);
    assert_eq!(results.len(), 4);
    let ids: Vec<&str> = results.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4"]);
    assert_eq!(
        results[0].1,
        "refused: `../../etc/passwd` leaves the workspace"
    );
    for (id, text) in &results[1..3] {
        assert!(
            text.starts_with("refused:") && text.contains("outside the workspace"),
            "{id}: {text}"
        );
    }
    assert!(results[3].1.starts_with("refused:"), "{}", results[3].1);
    assert!(!outside.path().join("evil.txt").exists());
    assert!(!call.all_text().contains("top secret"));
}

#[test]
fn retries_429_honouring_retry_after() {
    let fake = FakeOpenAi::start([
        Reply::status(429).header("Retry-After", "1"),
        Reply::text("after the wait", 5, 7),
    ]);
    let ws = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let r = Call::new()
        .run(&*agent(&fake.url()), "review", "p", ws.path(), LONG)
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.text, "after the wait");
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (5, 7));
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn retries_500_twice_then_succeeds() {
    let fake = FakeOpenAi::start([
        Reply::status(500),
        Reply::status(502).header("Retry-After", "0"),
        Reply::text("third time", 1, 1),
    ]);
    let ws = tempfile::tempdir().unwrap();
    let r = Call::new()
        .run(&*agent(&fake.url()), "verification", "p", ws.path(), LONG)
        .unwrap();
    assert_eq!(r.text, "third time");
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn retries_are_bounded() {
    let fake = FakeOpenAi::start((0..5).map(|_| Reply::status(503).header("Retry-After", "0")));
    let ws = tempfile::tempdir().unwrap();
    let e = Call::new()
        .run(&*agent(&fake.url()), "review", "p", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Crashed { status, stderr_tail, .. }
            if status.starts_with("HTTP 503")
                && status.ends_with("gave up after 4 tries")
                && stderr_tail == "fake status 503"),
        "{e:?}"
    );
    assert_eq!(fake.requests().len(), 4);
}

#[test]
fn malformed_json_is_bad_output_naming_the_transcript() {
    let fake = FakeOpenAi::start([Reply::malformed("{\"choices\": [oops")]);
    let ws = tempfile::tempdir().unwrap();
    let call = Call::new();
    let e = call
        .run(&*agent(&fake.url()), "planning", "p", ws.path(), LONG)
        .unwrap_err();
    let Error::BadOutput { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(reason.contains("not valid JSON"), "{reason}");
    assert!(
        reason.contains(&call.transcript.stdout.display().to_string()),
        "{reason}"
    );
    assert_eq!(
        std::fs::read_to_string(&call.transcript.stdout).unwrap(),
        "{\"choices\": [oops\n"
    );
}

#[test]
fn connection_refused_is_unavailable_naming_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/v1");
    let ws = tempfile::tempdir().unwrap();
    let e = Call::new()
        .run(&*agent(&url), "review", "p", ws.path(), LONG)
        .unwrap_err();
    let Error::Unavailable { reason, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        reason.starts_with(&format!("cannot connect to {url}: is the server running?")),
        "{reason}"
    );
}

#[test]
fn unset_key_variable_is_unavailable_naming_it() {
    let var = "FABRIK_IT_SURELY_UNSET_KEY_VARIABLE";
    let fake = FakeOpenAi::start([]);
    let a = fabrik_agent::build(&config(&fake.url(), Some(var), &[])).unwrap();
    let ws = tempfile::tempdir().unwrap();
    for e in [
        a.preflight().unwrap_err(),
        Call::new()
            .run(&*a, "review", "p", ws.path(), LONG)
            .unwrap_err(),
    ] {
        let Error::Unavailable { reason, hint, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(reason, &format!("the API key variable `{var}` is not set"));
        assert!(hint.contains(var), "{hint}");
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn the_key_never_reaches_the_transcripts() {
    let fake = FakeOpenAi::start([Reply::text(&format!("the key is {KEY}"), 1, 1)]);
    let ws = tempfile::tempdir().unwrap();
    let call = Call::new();
    let r = call
        .run(
            &*agent(&fake.url()),
            "discovery",
            &format!("echo {KEY}"),
            ws.path(),
            LONG,
        )
        .unwrap();
    assert_eq!(r.text, format!("the key is {KEY}"));
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let all = call.all_text();
    assert!(!all.contains(KEY), "{all}");
    assert!(all.contains("‹redacted:"), "{all}");
}

#[test]
fn text_stage_is_plain_chat_returning_the_content() {
    let fake = FakeOpenAi::start([Reply::text("the plan", 11, 22)]);
    let ws = tempfile::tempdir().unwrap();
    // No key variable: local servers need none, and no Authorization header is sent.
    let a = fabrik_agent::build(&config(&format!("{}/", fake.url()), None, &[])).unwrap();
    a.preflight().unwrap();
    let r = Call::new()
        .run(&*a, "planning", "make a plan", ws.path(), LONG)
        .unwrap();
    assert_eq!(r.text, "the plan");
    assert_eq!(
        r.usage,
        Usage {
            input_tokens: 11,
            output_tokens: 22,
            ..Usage::default()
        }
    );
    let req = &fake.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.header("authorization"), None);
    assert_eq!(
        req.body,
        json!({
            "model": "fake-model",
            "messages": [{"role": "user", "content": "make a plan"}],
            "stream": false,
        })
    );
}

#[test]
fn auth_and_missing_model_are_unavailable() {
    let fake = FakeOpenAi::start([Reply::status(401), Reply::status(404)]);
    let ws = tempfile::tempdir().unwrap();
    let a = agent(&fake.url());
    let e = Call::new()
        .run(&*a, "review", "p", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { reason, hint, .. }
            if reason.starts_with("authentication failed") && hint.contains(KEY_VAR)),
        "{e:?}"
    );
    let e = Call::new()
        .run(&*a, "review", "p", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { reason, .. } if reason.starts_with("model not found")),
        "{e:?}"
    );
}

#[test]
fn a_slow_server_times_out() {
    let fake = FakeOpenAi::start([Reply::text("late", 1, 1).after(Duration::from_secs(2))]);
    let ws = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let e = Call::new()
        .run(
            &*agent(&fake.url()),
            "review",
            "p",
            ws.path(),
            Duration::from_millis(300),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn describe_and_preflight() {
    let a = agent("http://127.0.0.1:9/v1/");
    assert_eq!(
        a.describe("execution"),
        "POST http://127.0.0.1:9/v1/chat/completions model=fake-model \
         (tools: read_file, list_dir, search, write_file, apply_patch, run_command)"
    );
    assert_eq!(
        a.describe("review"),
        "POST http://127.0.0.1:9/v1/chat/completions model=fake-model"
    );
    a.preflight().unwrap();
    let mut c = config("", None, &[]);
    c.base_url = None;
    let e = fabrik_agent::build(&c).unwrap().preflight().unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { reason, .. } if reason.contains("base_url")),
        "{e:?}"
    );
    let mut c = config("http://127.0.0.1:9/v1", None, &[]);
    c.model = None;
    let e = fabrik_agent::build(&c).unwrap().preflight().unwrap_err();
    assert!(
        matches!(&e, Error::Unavailable { reason, .. } if reason.contains("model")),
        "{e:?}"
    );
}

#[test]
fn a_retry_after_past_the_deadline_is_not_waited_for() {
    let fake = FakeOpenAi::start([Reply::status(429).header("Retry-After", "60")]);
    let ws = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let e = Call::new()
        .run(
            &*agent(&fake.url()),
            "review",
            "p",
            ws.path(),
            Duration::from_secs(5),
        )
        .unwrap_err();
    assert!(
        matches!(&e, Error::Crashed { status, .. }
            if status.starts_with("HTTP 429") && status.contains("would pass the time limit")),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn cancel_stops_between_calls() {
    let ws = tempfile::tempdir().unwrap();
    // Already cancelled: no request at all.
    let fake = FakeOpenAi::start([]);
    let cancel = CancelToken::new();
    cancel.cancel();
    let e = Call::new()
        .run_cancellable(
            &*agent(&fake.url()),
            "review",
            "p",
            ws.path(),
            LONG,
            &cancel,
        )
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
    assert!(fake.requests().is_empty());

    // Cancelled while waiting out a Retry-After: no second request.
    let fake = FakeOpenAi::start([
        Reply::status(429).header("Retry-After", "10"),
        Reply::text("never", 1, 1),
    ]);
    let cancel = CancelToken::new();
    let started = Instant::now();
    let e = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        Call::new()
            .run_cancellable(
                &*agent(&fake.url()),
                "review",
                "p",
                ws.path(),
                LONG,
                &cancel,
            )
            .unwrap_err()
    });
    assert!(matches!(e, Error::Cancelled { .. }), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn unknown_json_and_error_bodies_are_typed_failures() {
    let fake = FakeOpenAi::start([
        Reply::Json(json!({"hello": "world"})),
        Reply::Json(json!({"error": {"message": "context length exceeded"}})),
    ]);
    let ws = tempfile::tempdir().unwrap();
    let a = agent(&fake.url());
    let e = Call::new()
        .run(&*a, "review", "p", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::BadOutput { reason, .. }
            if reason.contains("not a chat completion (an object with keys hello)")),
        "{e:?}"
    );
    let e = Call::new()
        .run(&*a, "review", "p", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Crashed { stderr_tail, .. } if stderr_tail == "context length exceeded"),
        "{e:?}"
    );
}

#[test]
fn a_model_that_never_stops_calling_tools_is_bad_output() {
    let ws = tempfile::tempdir().unwrap();
    let fake = FakeOpenAi::start((0..30).map(|i| {
        Reply::tool_calls(
            &[(&format!("c{i}"), "list_dir", json!({"path": "."}))],
            1,
            1,
        )
    }));
    let call = Call::new();
    let e = call
        .run(&*agent(&fake.url()), "execution", "loop", ws.path(), LONG)
        .unwrap_err();
    assert!(
        matches!(&e, Error::BadOutput { reason, .. }
            if reason.starts_with("the model was still calling tools after 30 requests")),
        "{e:?}"
    );
    assert_eq!(fake.requests().len(), 30);
    let log = std::fs::read_to_string(&call.transcript.stderr).unwrap();
    assert_eq!(log.lines().count(), 30, "{log}");
}
