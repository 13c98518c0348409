//! Shared fixtures: a [`TestRepo`] whose `fabrik.toml` points every stage at the scripted
//! fake agent, and helpers that run the real `fabrik` binary and read what it left behind.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use fabrik_testkit::{Call, Script, Step, TestRepo};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use tempfile::TempDir;

/// The binary under test.
pub(crate) const FABRIK: &str = env!("CARGO_BIN_EXE_fabrik");

/// Environment variables that would point git (run by fabrik) at another repository.
const GIT_REPO_VARS: [&str; 6] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CEILING_DIRECTORIES",
];

/// The plan the fake planner prints.
pub(crate) const PLAN: &str = "# Plan\n\n## 1. Repo-awareness proof\nSearched `src/`.\n\n## 2. File-impact manifest\n| Path | Action | Reason | What will NOT change |\n|---|---|---|---|\n| docs/fix.md | CREATE | the fix | everything else |\n";

/// The fake agent next to the `fabrik` binary.
pub(crate) fn fake_agent() -> PathBuf {
    fabrik_testkit::fake_agent_bin_near(Path::new(FABRIK))
}

/// What the fixture's `fabrik.toml` says.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    /// `[pipeline] max_verify`.
    pub(crate) max_verify: u32,
    /// Whether planning has a reviewer (`reviewer`, same script, stage `review`).
    pub(crate) reviewer: bool,
    /// `[[gates.command]]` as (name, run), `{aux}` in `run` standing for the scratch
    /// directory; see [`gates`].
    pub(crate) gates: Vec<(String, String)>,
    /// Extra lines for one agent's table, e.g. `("builder", "timeout = \"1s\"")`.
    pub(crate) agent_lines: Vec<(&'static str, String)>,
    /// Replaces the builder's program (to name one that does not exist).
    pub(crate) builder_program: Option<String>,
    /// Keep the config outside the repository and pass `--config`: the repository then
    /// holds no fixture-specific path, so two fixtures' branch trees compare equal.
    pub(crate) config_outside: bool,
    /// `[stages.planning] lint`: off by default here, because most scenarios test the state
    /// machine with one-line plans; the plan-contract tests turn it on.
    pub(crate) lint: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            max_verify: 2,
            reviewer: false,
            gates: Vec::new(),
            agent_lines: Vec::new(),
            builder_program: None,
            config_outside: false,
            lint: false,
        }
    }
}

/// `[[gates.command]]` entries from (name, run) pairs.
pub(crate) fn gates(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, r)| ((*n).to_owned(), (*r).to_owned()))
        .collect()
}

/// A TOML basic string (JSON string escapes are valid TOML).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

impl Setup {
    fn render(&self, fake: &Path, aux: &Path) -> String {
        let fake = fake.to_string_lossy();
        let script = &aux.join("script.json");
        let script_d2 = &aux.join("script-d2.json");
        let mut t = format!(
            "[pipeline]\nmax_verify = {}\ngrace = \"1s\"\n\n",
            self.max_verify
        );
        for name in AGENTS {
            let (program, script) = match name {
                "d2" => (fake.to_string(), script_d2),
                "builder" => (
                    self.builder_program
                        .clone()
                        .unwrap_or_else(|| fake.to_string()),
                    script,
                ),
                _ => (fake.to_string(), script),
            };
            t.push_str(&format!(
                "[agents.{name}]\nkind = \"command\"\nargv = [{}, \"--script\", {}]\nmodel = \"fake-{name}\"\n",
                toml_str(&program),
                toml_str(&script.to_string_lossy())
            ));
            for (agent, line) in &self.agent_lines {
                if *agent == name {
                    t.push_str(line);
                    t.push('\n');
                }
            }
            t.push('\n');
        }
        let reviewers = if self.reviewer { "\"reviewer\"" } else { "" };
        let lint = self.lint;
        t.push_str(&format!(
            "[stages.discovery]\nagents = [\"d1\", \"d2\"]\n\n\
             [stages.planning]\nagent = \"planner\"\nreviewers = [{reviewers}]\nlint = {lint}\n\n\
             [stages.execution]\nagent = \"builder\"\n\n\
             [stages.verification]\nagent = \"verifier\"\n\n\
             [stages.ship]\nagent = \"shipper\"\n"
        ));
        for (name, run) in &self.gates {
            t.push_str(&format!(
                "\n[[gates.command]]\nname = {}\nrun = {}\ntimeout = \"30s\"\n",
                toml_str(name),
                toml_str(&run.replace("{aux}", &aux.to_string_lossy()))
            ));
        }
        t
    }
}

/// Every agent the fixture defines.
const AGENTS: [&str; 7] = [
    "d1", "d2", "planner", "reviewer", "builder", "verifier", "shipper",
];

/// A scenario: a git repository with a committed `fabrik.toml`, plus a scratch directory
/// (outside the repository) holding the scripts, the call log and pid files.
pub(crate) struct Fixture {
    pub(crate) repo: TestRepo,
    aux: TempDir,
    config: PathBuf,
    config_outside: bool,
}

impl Fixture {
    /// The default setup.
    pub(crate) fn new() -> Fixture {
        Fixture::with(Setup::default())
    }

    /// A repository configured by `setup`, its config committed (unless outside).
    pub(crate) fn with(setup: Setup) -> Fixture {
        let repo = TestRepo::new();
        let aux = tempfile::Builder::new()
            .prefix("fabrik-aux-")
            .tempdir()
            .unwrap();
        let text = setup.render(&fake_agent(), aux.path());
        let config = if setup.config_outside {
            aux.path().join("fabrik.toml")
        } else {
            repo.join("fabrik.toml")
        };
        std::fs::write(&config, text).unwrap();
        if !setup.config_outside {
            repo.commit_all("add fabrik.toml");
        }
        let fx = Fixture {
            repo,
            aux,
            config,
            config_outside: setup.config_outside,
        };
        fx.script(Script::new());
        fx
    }

    /// `rel` in the scratch directory.
    pub(crate) fn aux(&self, rel: &str) -> PathBuf {
        self.aux.path().join(rel)
    }

    /// The fake agents' call log.
    pub(crate) fn log(&self) -> PathBuf {
        self.aux("calls.jsonl")
    }

    /// Writes `script` (with the call log) for every agent, the second discovery agent
    /// included; call [`Fixture::script_d2`] afterwards to give that one its own.
    pub(crate) fn script(&self, script: Script) -> &Self {
        let script = script.log(self.log());
        script.write_to(self.aux("script.json"));
        script.write_to(self.aux("script-d2.json"));
        self
    }

    /// Writes the second discovery agent's script (with the call log).
    pub(crate) fn script_d2(&self, script: Script) -> &Self {
        script.log(self.log()).write_to(self.aux("script-d2.json"));
        self
    }

    /// `fabrik ARGS` in the repository (with `--config` when the config is outside).
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = fabrik_cmd(self.repo.path());
        if self.config_outside {
            c.arg("--config").arg(&self.config);
        }
        c.args(args);
        c
    }

    /// Runs `fabrik ARGS` to completion.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    /// Runs `fabrik ARGS` (which should include `--json`) and parses all of stdout.
    pub(crate) fn run_json(&self, args: &[&str]) -> (Run, Value) {
        let run = self.run(args);
        let json = run.json();
        (run, json)
    }

    /// Starts `fabrik ARGS` with stdout and stderr going to `<name>.out` / `<name>.err` in
    /// the scratch directory.
    pub(crate) fn spawn(&self, name: &str, args: &[&str]) -> Spawned {
        spawn_into(self.cmd(args), &self.aux(name))
    }

    /// Every call of the fake agents so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        fabrik_testkit::calls(&self.log())
    }

    /// `FABRIK_STAGE` of every call of run `id`, in order.
    pub(crate) fn stages_called(&self, id: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.run_id == id)
            .map(|c| c.stage)
            .collect()
    }

    /// Run ids under `.fabrik/runs/`, sorted.
    pub(crate) fn run_ids(&self) -> Vec<String> {
        run_ids_in(self.repo.path())
    }

    /// The one run of this repository.
    pub(crate) fn only_run_id(&self) -> String {
        let ids = self.run_ids();
        assert_eq!(ids.len(), 1, "expected exactly one run, found {ids:?}");
        ids.into_iter().next().unwrap()
    }

    /// `.fabrik/runs/<id>`.
    pub(crate) fn run_dir(&self, id: &str) -> PathBuf {
        self.repo.join(".fabrik").join("runs").join(id)
    }

    /// `.fabrik/runs/<id>/state.json`, parsed.
    pub(crate) fn state(&self, id: &str) -> Value {
        read_json(&self.run_dir(id).join("state.json"))
    }

    /// A directory outside any git repository holding a copy of the config.
    pub(crate) fn plain_dir(&self) -> PathBuf {
        let dir = self.aux("plain");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&self.config, dir.join("fabrik.toml")).unwrap();
        dir
    }
}

/// `fabrik` with its cwd, a null stdin and git isolated from the machine's configuration.
pub(crate) fn fabrik_cmd(dir: &Path) -> Command {
    let mut c = Command::new(FABRIK);
    c.current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    for var in GIT_REPO_VARS {
        c.env_remove(var);
    }
    c
}

/// Runs `fabrik ARGS` in `dir`.
pub(crate) fn fabrik_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(fabrik_cmd(dir).args(args).output().unwrap())
}

/// Run ids under `<root>/.fabrik/runs/`, sorted.
pub(crate) fn run_ids_in(root: &Path) -> Vec<String> {
    let dir = root.join(".fabrik").join("runs");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// A finished `fabrik` process.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// Panics with the whole output unless the exit code is `code`.
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code: {self:?}");
        self
    }

    /// All of stdout as one JSON document.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:?}"))
    }
}

/// A running `fabrik` whose output goes to files.
pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) out: PathBuf,
    pub(crate) err: PathBuf,
}

/// Spawns `cmd` with stdout and stderr in `<base>.out` / `<base>.err`.
pub(crate) fn spawn_into(mut cmd: Command, base: &Path) -> Spawned {
    let out = base.with_extension("out");
    let err = base.with_extension("err");
    let child = cmd
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .unwrap();
    Spawned { child, out, err }
}

impl Spawned {
    /// The process id.
    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).unwrap())
    }

    /// Sends `sig` to the process (not its children).
    pub(crate) fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).unwrap();
    }

    /// What it wrote to stderr so far.
    pub(crate) fn stderr_now(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits at most `limit`; `None` (and the process killed) when it did not exit.
    pub(crate) fn wait_for(&mut self, limit: Duration) -> Option<Run> {
        let status = wait_timeout(&mut self.child, limit)?;
        Some(self.finished(status))
    }

    /// Waits for the exit, killing it after `limit` with a panic naming its output.
    pub(crate) fn wait(mut self, limit: Duration) -> Run {
        match self.wait_for(limit) {
            Some(run) => run,
            None => {
                let _ = self.child.kill();
                let status = self.child.wait().unwrap();
                panic!(
                    "fabrik did not exit within {limit:?}: {:?}",
                    self.finished(status)
                );
            }
        }
    }

    fn finished(&self, status: ExitStatus) -> Run {
        Run {
            code: status.code(),
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
        }
    }
}

/// Waits for `child` at most `limit`.
pub(crate) fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
pub(crate) fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `pid` is a live process (a zombie nobody reaped yet counts as gone: PID 1 in a
/// container may never reap it).
pub(crate) fn pid_alive(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Format: `pid (comm) state ...`; comm may hold spaces, so look after the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, None | Some("Z" | "X"))
}

/// Reads the pid written by the fake agent's `spawn_grandchild`, waiting for it.
pub(crate) fn read_pidfile(path: &Path) -> i32 {
    assert!(
        wait_until(Duration::from_secs(10), || path.exists()),
        "pidfile `{}` never appeared",
        path.display()
    );
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Parses a JSON file.
pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("`{}` is not JSON ({e}):\n{text}", path.display()))
}

/// Every line of a JSON-lines file, each of which must parse.
pub(crate) fn read_jsonl(path: &Path) -> Vec<Value> {
    fabrik_testkit::read_jsonl(path)
}

/// `stages[].stage` of a PipelineResult.
pub(crate) fn stage_names(result: &Value) -> Vec<String> {
    result["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap().to_owned())
        .collect()
}

/// Every regular file under `dir`, recursively (symlinks not followed).
pub(crate) fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp like `2026-11-24T13:06:17.123Z`.
pub(crate) fn epoch_seconds(ts: &str) -> f64 {
    let bad = || panic!("not an RFC 3339 UTC timestamp: `{ts}`");
    let (date, time) = ts
        .strip_suffix('Z')
        .and_then(|s| s.split_once('T'))
        .unwrap_or_else(bad);
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let t: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    if d.len() != 3 || t.len() != 3 {
        bad();
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let (y, m, day) = (d[0] - i64::from(d[1] <= 2), d[1], d[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    #[expect(clippy::cast_precision_loss, reason = "day counts are small")]
    let days = days as f64;
    days * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2]
}

/// Every stage succeeds at once: discovery notes, a plan, an approving reviewer, a builder
/// that creates `docs/fix.md`, an approving verifier and a ship with nothing to document.
pub(crate) fn happy() -> Script {
    Script::new()
        .step(Step::stage("discovery").print("Discovery notes: reuse src/lib.rs.\n"))
        .step(Step::stage("planning").print(PLAN))
        .step(Step::stage("review").approve())
        .step(
            Step::stage("execution")
                .write("docs/fix.md", "typo fixed\n")
                .print("Fixed the typo.\n"),
        )
        .step(Step::stage("verification").approve())
        .step(Step::stage("ship").print("nothing to document\n"))
}

/// `script` with `step` put first, so it wins over the script's own steps.
pub(crate) fn before(step: Step, mut script: Script) -> Script {
    script.steps.insert(0, step);
    script
}

#[test]
fn epoch_seconds_parses_rfc3339() {
    assert!((epoch_seconds("1970-01-01T00:00:00.000Z")).abs() < 1e-9);
    assert!((epoch_seconds("2000-03-01T00:00:01.500Z") - 951_868_801.5).abs() < 1e-6);
    assert!((epoch_seconds("2026-11-24T13:06:17.123Z") - 1_795_525_577.123).abs() < 1e-3);
}
