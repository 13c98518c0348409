//! Record / replay: [`Recorder`] wraps any agent and stores every call in a directory
//! (`fabrik run --record DIR`); [`ReplayAgent`] (`kind = "replay"`) plays those calls back
//! without calling a model, checking that each prompt is the one recorded.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use fabrik_core::Usage;
use fabrik_core::durable::{sha256_hex, write_json_atomic};
use serde::{Deserialize, Serialize};

use crate::{Agent, Autonomy, Error, Request, Response, Result};

/// One recorded call: `<counter>-<stage>-i<iteration>-a<attempt>-<seat>-<agent>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// The role (`FABRIK_STAGE`).
    pub stage: String,
    /// 1-based iteration.
    pub iteration: u32,
    /// 1-based attempt.
    pub attempt: u32,
    /// The session slot (s1..s4).
    pub seat: String,
    /// `[agents.<name>]`.
    pub agent: String,
    /// [`prompt_hash`] of the prompt.
    pub prompt_sha256: String,
    /// The final text.
    pub text: String,
    /// Tokens and cost.
    pub usage: Usage,
    /// The backend's session id.
    pub session_id: Option<String>,
    /// What the call changed in the workspace (`git diff --binary`); empty for read-only calls.
    pub diff: String,
    /// How the call failed, if it did: a replay fails the same way (after applying `diff`,
    /// the edits a failing builder left behind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<RecordedFailure>,
}

/// A recorded failure of the backend. Interruptions and fabrik's own I/O errors are not
/// recorded: they say nothing about the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordedFailure {
    /// [`Error::Unavailable`].
    Unavailable {
        /// What was missing.
        reason: String,
        /// What to do about it.
        hint: String,
    },
    /// [`Error::Timeout`].
    Timeout {
        /// The limit, in milliseconds.
        after_ms: u64,
    },
    /// [`Error::Crashed`].
    Crashed {
        /// "exit code 3" or "signal 6".
        status: String,
        /// The end of its stderr, redacted.
        stderr_tail: String,
    },
    /// [`Error::BadOutput`].
    BadOutput {
        /// What was wrong.
        reason: String,
    },
}

impl RecordedFailure {
    /// The recordable part of `e`; `None` for interruptions and I/O errors.
    #[must_use]
    pub fn of(e: &Error) -> Option<RecordedFailure> {
        Some(match e {
            Error::Unavailable { reason, hint, .. } => RecordedFailure::Unavailable {
                reason: reason.clone(),
                hint: hint.clone(),
            },
            Error::Timeout { after, .. } => RecordedFailure::Timeout {
                after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            },
            Error::Crashed {
                status,
                stderr_tail,
                ..
            } => RecordedFailure::Crashed {
                status: status.clone(),
                stderr_tail: stderr_tail.clone(),
            },
            Error::BadOutput { reason, .. } => RecordedFailure::BadOutput {
                reason: reason.clone(),
            },
            Error::Cancelled { .. } | Error::Io { .. } => return None,
        })
    }

    /// The error agent `agent` returns when replaying this failure.
    #[must_use]
    pub fn to_error(&self, agent: &str) -> Error {
        let agent = agent.to_owned();
        match self.clone() {
            RecordedFailure::Unavailable { reason, hint } => Error::Unavailable {
                agent,
                reason,
                hint,
            },
            RecordedFailure::Timeout { after_ms } => Error::Timeout {
                agent,
                after: Duration::from_millis(after_ms),
            },
            RecordedFailure::Crashed {
                status,
                stderr_tail,
            } => Error::Crashed {
                agent,
                status,
                stderr_tail,
            },
            RecordedFailure::BadOutput { reason } => Error::BadOutput { agent, reason },
        }
    }
}

/// Serialises numbering of recordings across the recorders of one process.
static RECORD_LOCK: Mutex<()> = Mutex::new(());

/// Wraps an agent and stores every call in `dir`.
pub struct Recorder {
    /// The recorded agent.
    pub inner: Box<dyn Agent>,
    /// Where recordings go.
    pub dir: PathBuf,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn git(
    dir: &Path,
    args: &[&str],
    index: Option<&Path>,
    stdin: Option<&[u8]>,
) -> std::io::Result<Vec<u8>> {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(i) = index {
        cmd.env("GIT_INDEX_FILE", i);
    }
    let mut child = cmd.spawn()?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input)?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// The tree of the workspace as it is now (tracked and untracked files, ignored ones left
/// out), written through a private index so the real one is untouched.
fn snapshot(workspace: &Path) -> std::io::Result<String> {
    let tmp = tempfile::tempdir()?;
    let index = tmp.path().join("index");
    git(workspace, &["read-tree", "HEAD"], Some(&index), None)?;
    git(workspace, &["add", "-A"], Some(&index), None)?;
    let tree = git(workspace, &["write-tree"], Some(&index), None)?;
    Ok(String::from_utf8_lossy(&tree).trim().to_owned())
}

impl Recorder {
    fn write(&self, rec: &Recording) -> Result<PathBuf> {
        let _guard = RECORD_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err(&self.dir, e))?;
        let next = std::fs::read_dir(&self.dir)
            .map_err(|e| io_err(&self.dir, e))?
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.split('-').next()?.parse::<u64>().ok()
            })
            .max()
            .map_or(1, |n| n + 1);
        let path = self.dir.join(format!(
            "{next:04}-{}-{}.json",
            stem(&rec.stage, rec.iteration, rec.attempt, &rec.seat),
            rec.agent
        ));
        write_json_atomic(&path, rec).map_err(|e| io_err(&path, e))?;
        Ok(path)
    }
}

fn stem(stage: &str, iteration: u32, attempt: u32, seat: &str) -> String {
    format!("{stage}-i{iteration}-a{attempt}-{seat}")
}

impl Agent for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn model(&self) -> Option<&str> {
        self.inner.model()
    }
    fn describe(&self, role: &str) -> String {
        self.inner.describe(role)
    }
    fn preflight(&self) -> Result<()> {
        self.inner.preflight()
    }
    fn call(&self, req: &Request<'_>) -> Result<Response> {
        let before = if req.autonomy == Autonomy::Write {
            Some(snapshot(req.workspace).map_err(|e| io_err(req.workspace, e))?)
        } else {
            None
        };
        let result = self.inner.call(req);
        let failure = match &result {
            Ok(_) => None,
            Err(e) => match RecordedFailure::of(e) {
                Some(failure) => Some(failure),
                None => return result,
            },
        };
        let diff = match before {
            Some(before) => {
                let after = snapshot(req.workspace).map_err(|e| io_err(req.workspace, e))?;
                let bytes = git(
                    req.workspace,
                    &["diff", "--binary", "--full-index", &before, &after],
                    None,
                    None,
                )
                .map_err(|e| io_err(req.workspace, e))?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            None => String::new(),
        };
        self.write(&Recording {
            stage: req.role.to_owned(),
            iteration: req.iteration,
            attempt: req.attempt,
            seat: req.slot.to_owned(),
            agent: self.inner.name().to_owned(),
            prompt_sha256: prompt_hash(req.prompt),
            text: result.as_ref().map(|r| r.text.clone()).unwrap_or_default(),
            usage: result.as_ref().map(|r| r.usage.clone()).unwrap_or_default(),
            session_id: result.as_ref().ok().and_then(|r| r.session_id.clone()),
            diff,
            failure,
        })?;
        result
    }
}

/// `kind = "replay"`: plays back recorded calls.
pub struct ReplayAgent {
    name: String,
    dir: PathBuf,
    /// Recordings already played (a file is played once).
    used: Mutex<Vec<PathBuf>>,
}

impl ReplayAgent {
    /// Plays back recordings from `dir` (relative: to the repository root of the workspace).
    #[must_use]
    pub fn new(name: &str, dir: impl Into<PathBuf>) -> ReplayAgent {
        ReplayAgent {
            name: name.to_owned(),
            dir: dir.into(),
            used: Mutex::new(Vec::new()),
        }
    }

    fn resolve_dir(&self, workspace: &Path) -> PathBuf {
        if self.dir.is_absolute() {
            return self.dir.clone();
        }
        let root = git(
            workspace,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
            None,
            None,
        )
        .ok()
        .and_then(|out| {
            let common = PathBuf::from(String::from_utf8_lossy(&out).trim());
            common.parent().map(Path::to_path_buf)
        })
        .unwrap_or_else(|| workspace.to_path_buf());
        root.join(&self.dir)
    }

    fn bad(&self, reason: String) -> Error {
        Error::BadOutput {
            agent: self.name.clone(),
            reason,
        }
    }
}

impl Agent for ReplayAgent {
    fn name(&self) -> &str {
        &self.name
    }
    fn model(&self) -> Option<&str> {
        None
    }
    fn describe(&self, _role: &str) -> String {
        format!("replay from {}", self.dir.display())
    }
    fn preflight(&self) -> Result<()> {
        Ok(())
    }
    fn call(&self, req: &Request<'_>) -> Result<Response> {
        let dir = self.resolve_dir(req.workspace);
        let key = format!("-{}-", stem(req.role, req.iteration, req.attempt, req.slot));
        let mine = format!("{key}{}.json", self.name);
        let mut used = self
            .used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut candidates: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.contains(&key) && n.ends_with(".json"))
                    })
                    .filter(|p| !used.contains(p))
                    .collect()
            })
            .unwrap_or_default();
        candidates.sort();
        let ours = candidates.iter().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&mine))
        });
        let path = match (ours, candidates.first()) {
            (Some(p), _) | (None, Some(p)) => p.clone(),
            (None, None) => {
                return Err(self.bad(format!(
                    "no recording for {} iteration {} attempt {} ({}): expected a file `<n>{mine}` in {}; re-record with --record",
                    req.role,
                    req.iteration,
                    req.attempt,
                    req.slot,
                    dir.display()
                )));
            }
        };
        let bytes = std::fs::read(&path).map_err(|e| io_err(&path, e))?;
        let rec: Recording = serde_json::from_slice(&bytes)
            .map_err(|e| self.bad(format!("recording {} is not valid: {e}", path.display())))?;
        if rec.agent != self.name {
            return Err(self.bad(format!(
                "recording {} was made by agent `{}`, not `{}`: the recordings come from another config; re-record with --record",
                path.display(),
                rec.agent,
                self.name
            )));
        }
        let now = prompt_hash(req.prompt);
        if rec.prompt_sha256 != now {
            return Err(self.bad(format!(
                "prompt of {} iteration {} differs from the recording (sha256 {} recorded, {} now): a prompt template or config changed; re-record with --record",
                req.role,
                req.iteration,
                short(&rec.prompt_sha256),
                short(&now)
            )));
        }
        if !rec.diff.is_empty() {
            git(
                req.workspace,
                &["apply", "--binary", "--whitespace=nowarn", "-"],
                None,
                Some(rec.diff.as_bytes()),
            )
            .map_err(|e| {
                self.bad(format!(
                    "could not apply the recorded changes of {}: {e}",
                    path.display()
                ))
            })?;
        }
        used.push(path);
        if let Some(failure) = &rec.failure {
            return Err(failure.to_error(&self.name));
        }
        Ok(Response {
            text: rec.text,
            usage: rec.usage,
            session_id: rec.session_id,
            duration: Duration::ZERO,
        })
    }
}

/// sha256 of `prompt`: what a recording is matched by.
#[must_use]
pub fn prompt_hash(prompt: &str) -> String {
    sha256_hex(prompt.as_bytes())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SessionPolicy, Transcript};
    use fabrik_core::process::CancelToken;
    use fabrik_core::redact::Redactor;
    use fabrik_testkit::TestRepo;

    /// Edits the workspace like an execution agent would.
    struct Editor;

    impl Agent for Editor {
        fn name(&self) -> &str {
            "coder"
        }
        fn model(&self) -> Option<&str> {
            None
        }
        fn describe(&self, _role: &str) -> String {
            "editor".into()
        }
        fn preflight(&self) -> Result<()> {
            Ok(())
        }
        fn call(&self, req: &Request<'_>) -> Result<Response> {
            std::fs::write(req.workspace.join("README.md"), "# changed\n").unwrap();
            std::fs::create_dir_all(req.workspace.join("src")).unwrap();
            std::fs::write(req.workspace.join("src/new.txt"), "new file\n").unwrap();
            std::fs::write(req.workspace.join("blob.bin"), [0u8, 1, 2, 255, 0]).unwrap();
            Ok(Response {
                text: format!("done: {}", req.prompt),
                usage: Usage {
                    input_tokens: 7,
                    output_tokens: 3,
                    ..Usage::default()
                },
                session_id: Some("sess-1".into()),
                duration: Duration::from_millis(5),
            })
        }
    }

    fn call(agent: &dyn Agent, ws: &Path, role: &str, prompt: &str) -> Result<Response> {
        let t = Transcript::in_dir(ws, "x");
        let cancel = CancelToken::new();
        let redactor = Redactor::default();
        agent.call(&Request {
            role,
            prompt,
            workspace: ws,
            run_id: "r1",
            slot: "s2",
            session: SessionPolicy::New,
            iteration: 1,
            attempt: 1,
            autonomy: Autonomy::for_role(role),
            timeout: Duration::from_secs(10),
            grace: Duration::from_millis(100),
            expect_json: false,
            transcript: &t,
            cancel: &cancel,
            redactor: &redactor,
        })
    }

    fn record(prompt: &str) -> (TestRepo, tempfile::TempDir) {
        let repo = TestRepo::new();
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder {
            inner: Box::new(Editor),
            dir: dir.path().to_path_buf(),
        };
        let resp = call(&rec, repo.path(), "execution", prompt).unwrap();
        assert_eq!(resp.text, format!("done: {prompt}"));
        (repo, dir)
    }

    #[test]
    fn records_then_replays_text_usage_session_and_diff() {
        let (recorded, dir) = record("build it");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let name = files[0].as_ref().unwrap().file_name();
        assert_eq!(name.to_str().unwrap(), "0001-execution-i1-a1-s2-coder.json");
        // the real index is untouched: the recorder snapshots through a private one
        assert!(
            recorded.status().contains("?? src/"),
            "{}",
            recorded.status()
        );

        let fresh = TestRepo::new();
        let replay = ReplayAgent::new("coder", dir.path());
        let resp = call(&replay, fresh.path(), "execution", "build it").unwrap();
        assert_eq!(resp.text, "done: build it");
        assert_eq!(resp.usage.input_tokens, 7);
        assert_eq!(resp.session_id.as_deref(), Some("sess-1"));
        assert_eq!(fresh.read("README.md"), "# changed\n");
        assert_eq!(fresh.read("src/new.txt"), "new file\n");
        assert_eq!(
            std::fs::read(fresh.join("blob.bin")).unwrap(),
            vec![0u8, 1, 2, 255, 0]
        );
        // played once: a second identical call has no recording left
        let err = call(&replay, fresh.path(), "execution", "build it").unwrap_err();
        assert!(
            err.to_string()
                .contains("no recording for execution iteration 1"),
            "{err}"
        );
    }

    #[test]
    fn prompt_mismatch_names_stage_and_both_hashes() {
        let (_repo, dir) = record("build it");
        let fresh = TestRepo::new();
        let replay = ReplayAgent::new("coder", dir.path());
        let err = call(&replay, fresh.path(), "execution", "build something else").unwrap_err();
        let msg = err.to_string();
        let recorded = &prompt_hash("build it")[..12];
        let now = &prompt_hash("build something else")[..12];
        assert!(matches!(err, Error::BadOutput { .. }));
        assert!(
            msg.contains(&format!(
                "prompt of execution iteration 1 differs from the recording (sha256 {recorded} recorded, {now} now)"
            )),
            "{msg}"
        );
        assert!(msg.contains("re-record with --record"), "{msg}");
        assert!(fresh.is_clean(), "nothing applied on mismatch");
    }

    #[test]
    fn prompt_hash_is_the_sha256_of_the_prompt() {
        assert_eq!(prompt_hash("plain"), sha256_hex(b"plain"));
        assert_ne!(prompt_hash("- t: PASS\n"), prompt_hash("- t: FAIL\n"));
    }

    #[test]
    fn missing_recording_names_the_expected_file() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = TestRepo::new();
        let replay = ReplayAgent::new("coder", dir.path());
        let msg = call(&replay, fresh.path(), "discovery", "look")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("<n>-discovery-i1-a1-s2-coder.json"), "{msg}");
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    }

    #[test]
    fn recording_from_another_agent_is_refused() {
        let (_repo, dir) = record("build it");
        let fresh = TestRepo::new();
        let replay = ReplayAgent::new("other", dir.path());
        let msg = call(&replay, fresh.path(), "execution", "build it")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("made by agent `coder`, not `other`"), "{msg}");
    }

    #[test]
    fn relative_dir_is_resolved_against_the_repository_root() {
        let (_repo, dir) = record("build it");
        let fresh = TestRepo::new();
        let target = fresh.join("recs");
        std::fs::create_dir_all(&target).unwrap();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), target.join(e.file_name())).unwrap();
        }
        let replay = ReplayAgent::new("coder", "recs");
        let resp = call(&replay, fresh.path(), "execution", "build it").unwrap();
        assert_eq!(resp.text, "done: build it");
    }

    /// Edits a file, then fails as `Crashed` (or is interrupted, with `cancelled`).
    struct Crasher {
        cancelled: bool,
    }

    impl Agent for Crasher {
        fn name(&self) -> &str {
            "coder"
        }
        fn model(&self) -> Option<&str> {
            None
        }
        fn describe(&self, _role: &str) -> String {
            "crasher".into()
        }
        fn preflight(&self) -> Result<()> {
            Ok(())
        }
        fn call(&self, req: &Request<'_>) -> Result<Response> {
            std::fs::write(req.workspace.join("half.txt"), "half done\n").unwrap();
            if self.cancelled {
                return Err(Error::Cancelled {
                    agent: "coder".into(),
                });
            }
            Err(Error::Crashed {
                agent: "coder".into(),
                status: "exit code 2".into(),
                stderr_tail: "panic: out of ideas".into(),
            })
        }
    }

    #[test]
    fn a_failed_call_is_recorded_and_replayed_as_the_same_failure_with_its_edits() {
        let repo = TestRepo::new();
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder {
            inner: Box::new(Crasher { cancelled: false }),
            dir: dir.path().to_path_buf(),
        };
        let recorded = call(&rec, repo.path(), "execution", "build it").unwrap_err();

        let fresh = TestRepo::new();
        let replay = ReplayAgent::new("coder", dir.path());
        let replayed = call(&replay, fresh.path(), "execution", "build it").unwrap_err();
        assert!(matches!(replayed, Error::Crashed { .. }), "{replayed:?}");
        assert_eq!(replayed.to_string(), recorded.to_string());
        assert_eq!(fresh.read("half.txt"), "half done\n");

        // Every kind survives the round trip through JSON.
        let kinds = [
            RecordedFailure::Unavailable {
                reason: "no binary".into(),
                hint: "install it".into(),
            },
            RecordedFailure::Timeout { after_ms: 1500 },
            RecordedFailure::BadOutput {
                reason: "no JSON".into(),
            },
        ];
        for kind in kinds {
            let text = serde_json::to_string(&kind).unwrap();
            let back: RecordedFailure = serde_json::from_str(&text).unwrap();
            assert_eq!(RecordedFailure::of(&back.to_error("a")), Some(kind));
        }
    }

    #[test]
    fn an_interrupted_call_is_not_recorded() {
        let repo = TestRepo::new();
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder {
            inner: Box::new(Crasher { cancelled: true }),
            dir: dir.path().to_path_buf(),
        };
        let err = call(&rec, repo.path(), "execution", "build it").unwrap_err();
        assert!(matches!(err, Error::Cancelled { .. }));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
