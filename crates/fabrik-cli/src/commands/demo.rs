//! `fabrik demo`: the whole high-risk pipeline, offline, on a generated sample repository.
//!
//! The demo writes a small Python package (`accounts`) into a new directory, commits it,
//! writes a `fabrik.toml` whose agents are this very binary (`fabrik __demo-agent NAME`, a
//! hidden subcommand replaying one recorded session), and runs the task through
//! [`Pipeline::run`], exactly as `fabrik run` does: discovery by two agents, a plan that
//! passes the plan contract and a review, an execution with a flaw that passes the gates,
//! a verifier that rejects it with one blocker, a fix, an approval, and a changelog entry.
//! Nothing leaves the machine; the only tools used are git and python3 (for the gates).
//!
//! The recordings and the sample repository live in `src/demo/` and are embedded with
//! `include_str!`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use fabrik_core::RunId;
use fabrik_pipeline::{Pipeline, RunOptions};

use crate::commands::Ctx;
use crate::output::HumanObserver;
use crate::{CliError, Outcome};

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Create the sample repository here (a new or empty directory) instead of a new
    /// directory under the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DemoAgentArgs {
    /// The agent of the demo's fabrik.toml to play (scout-a, scout-b, planner, ...).
    pub(crate) agent: String,
}

/// The task the demo runs; "password" routes it to high risk (all five stages).
pub(crate) const TASK: &str =
    "Sign-up must reject a password shorter than 12 characters, with its own error";

/// First line of the demo's fabrik.toml: the recorded agents write files only into a
/// workspace that carries it, never into an unrelated directory.
const MARKER: &str = "# fabrik demo:";

/// The sample repository's first commit.
const SAMPLE: &[(&str, &str)] = &[
    ("README.md", include_str!("../demo/repo/README.md")),
    ("CHANGELOG.md", include_str!("../demo/repo/CHANGELOG.md")),
    (".gitignore", include_str!("../demo/repo/gitignore")),
    (
        "accounts/__init__.py",
        include_str!("../demo/repo/accounts/__init__.py"),
    ),
    (
        "accounts/hashing.py",
        include_str!("../demo/repo/accounts/hashing.py"),
    ),
    (
        "accounts/signup.py",
        include_str!("../demo/repo/accounts/signup.py"),
    ),
    (
        "tests/test_signup.py",
        include_str!("../demo/repo/tests/test_signup.py"),
    ),
];

/// The demo's agents: (name, model, what it plays).
const AGENTS: &[(&str, &str, &str)] = &[
    ("scout-a", "demo-fast", "discovery: where the change goes"),
    ("scout-b", "demo-deep", "discovery: risks and edge cases"),
    ("planner", "demo-deep", "planning"),
    ("reviewer", "demo-fast", "plan review"),
    ("builder", "demo-coder", "execution"),
    (
        "verifier",
        "demo-deep",
        "verification (fresh session each time)",
    ),
    ("scribe", "demo-fast", "ship: the changelog"),
];

/// The rest of the demo's fabrik.toml, after the agents.
const CONFIG_TAIL: &str = r#"[stages.discovery]
agents = ["scout-a", "scout-b"]

[stages.planning]
agent = "planner"
reviewers = ["reviewer"]
lint = true

[stages.execution]
agent = "builder"

[stages.verification]
agent = "verifier"

[stages.ship]
agent = "scribe"

[gates]
builtin = ["scope", "clones", "schema"]

[[gates.command]]
name = "compile"
run = "python3 -m compileall -q accounts tests"
timeout = "60s"

[[gates.command]]
name = "tests"
run = "python3 -m unittest discover -s tests"
timeout = "60s"
"#;

pub(crate) fn run(args: &DemoArgs, ctx: &Ctx<'_>) -> Outcome {
    if ctx.global.config.is_some() {
        return Err(CliError::Usage(
            "`fabrik demo` writes its own fabrik.toml into the sample repository; --config does not apply".into(),
        ));
    }
    let exe = std::env::current_exe().map_err(io_err(Path::new("/proc/self/exe")))?;
    let exe = exe.to_str().ok_or_else(|| {
        CliError::Usage(format!(
            "the path of this binary is not UTF-8 (`{}`); fabrik.toml cannot name it",
            exe.display()
        ))
    })?;
    let dir = match &args.dir {
        Some(d) => prepare_dir(&ctx.cwd.join(d))?,
        None => temp_dir()?,
    };
    write_sample(&dir, exe)?;
    if !ctx.printer.json {
        ctx.printer.line(&format!(
            "DEMO: sample repository {} (Python package `accounts`, branch main)",
            dir.display()
        ));
        ctx.printer.line(
            "DEMO: recorded agents (`fabrik __demo-agent`): no network, no API key, no agent CLI",
        );
        ctx.printer.line("");
    }
    let config = fabrik_config::load(&dir, None)?;
    let observer = HumanObserver {
        printer: ctx.printer,
    };
    let pipeline = Pipeline::new(&config, &observer, ctx.cancel.clone());
    let opts = RunOptions {
        task: TASK.to_owned(),
        cwd: dir.clone(),
        risk: None,
        start_stage: None,
        plan_file: None,
        in_place: false,
        allow_dirty: false,
        allow_no_vcs: false,
        max_verify: None,
        no_wait: false,
    };
    let state = pipeline.run(&opts)?;
    let code = crate::commands::run::finish(ctx, &state)?;
    if !ctx.printer.json {
        let id = state.run_id.as_str();
        let d = shell_quote(&dir.display().to_string());
        let branch = format!("fabrik/{id}");
        let run_dir = dir.join(".fabrik").join("runs").join(id);
        let reports = shell_quote(&run_dir.join("reports").display().to_string());
        let run_dir = shell_quote(&run_dir.display().to_string());
        for l in [
            String::new(),
            "WHERE TO LOOK:".to_owned(),
            format!("  fabrik status {id} --cwd {d}"),
            "      the run: stages, gates, verdicts, usage".to_owned(),
            format!("  git -C {d} log --oneline main..{branch}"),
            format!("      the commits on branch {branch}, one per execution and ship"),
            format!("  git -C {d} diff main {branch}"),
            "      what the agents changed".to_owned(),
            format!("  {reports}"),
            "      the step reports".to_owned(),
            format!("  {run_dir}"),
            "      discovery.md, plan.md, gates-<n>.json, verdict-<n>.json, agents/ transcripts"
                .to_owned(),
        ] {
            ctx.printer.line(&l);
        }
        if code != fabrik_core::exit::SUCCESS {
            ctx.printer.line(&format!("  fabrik resume {id} --cwd {d}"));
            ctx.printer
                .line("      continue the run from its last completed step");
        }
    }
    Ok(code)
}

/// `--dir`: created when missing; an existing one must be an empty directory.
fn prepare_dir(dir: &Path) -> Result<PathBuf, CliError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(CliError::Usage(format!(
                    "--dir `{}` is not empty; pass a new or empty directory",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        Err(_) if dir.exists() => {
            return Err(CliError::Usage(format!(
                "--dir `{}` is not a directory",
                dir.display()
            )));
        }
        Err(e) => return Err(io_err(dir)(e)),
    }
    dir.canonicalize().map_err(io_err(dir))
}

/// A new `fabrik-demo-<time>-<random>` directory under the system's temporary directory.
fn temp_dir() -> Result<PathBuf, CliError> {
    let base = std::env::temp_dir();
    let mut last = None;
    for _ in 0..16 {
        let dir = base.join(format!("fabrik-demo-{}", RunId::generate()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return dir.canonicalize().map_err(io_err(&dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io_err(&dir)(e)),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no free name"));
    Err(io_err(&base)(e))
}

/// Writes the sample project, commits it, then commits the demo's fabrik.toml. The git
/// identity is the new repository's own (`git config` there), never the user's.
fn write_sample(dir: &Path, exe: &str) -> Result<(), CliError> {
    for (rel, text) in SAMPLE {
        write_file(dir, rel, text)?;
    }
    let git = |args: &[&str]| fabrik_pipeline::git::git(dir, args).map(drop);
    git(&["-c", "init.defaultBranch=main", "init", "-q"])?;
    git(&["symbolic-ref", "HEAD", "refs/heads/main"])?;
    git(&["config", "user.name", "fabrik demo"])?;
    git(&["config", "user.email", "demo@fabrik.invalid"])?;
    git(&["config", "commit.gpgsign", "false"])?;
    let commit = |msg: &str| {
        git(&["add", "-A"])?;
        git(&["commit", "-q", "--no-verify", "-m", msg])
    };
    commit("accounts: sign-up with salted PBKDF2 password hashes")?;
    write_file(dir, "fabrik.toml", &config_toml(exe))?;
    commit("fabrik.toml: the recorded agents of `fabrik demo`")?;
    Ok(())
}

/// The demo's fabrik.toml: every agent is this binary replaying its part.
fn config_toml(exe: &str) -> String {
    let exe = toml_str(exe);
    let mut t = format!(
        "{MARKER} every agent below replays a recorded session (`fabrik __demo-agent NAME`).\n\
         # Written by `fabrik demo`. To run real agents here, replace the [agents.*] tables\n\
         # (see `fabrik agents` and the commented defaults in fabrik-config).\n\n\
         [pipeline]\nmax_verify = 2\ngrace = \"1s\"\n\n"
    );
    for (name, model, role) in AGENTS {
        t.push_str(&format!(
            "# {role}\n[agents.{name}]\nkind = \"command\"\nargv = [{exe}, \"__demo-agent\", \"{name}\"]\nprompt_via = \"stdin\"\nmodel = \"{model}\"\ntimeout = \"60s\"\n\n"
        ));
    }
    t.push_str(CONFIG_TAIL);
    t
}

/// A TOML basic string (JSON's string escapes are valid TOML).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn write_file(dir: &Path, rel: &str, text: &str) -> Result<(), CliError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(&path, text).map_err(io_err(&path))?;
    Ok(())
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CliError {
    let path = path.to_path_buf();
    move |source| fabrik_pipeline::Error::Io { path, source }.into()
}

/// `s` as one shell word.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One recorded agent answer.
struct Recording {
    /// The final text (stdout).
    text: &'static str,
    /// Strings the prompt must contain, or the recording does not fit this session.
    expects: &'static [&'static str],
    /// Files written into the workspace (whole contents).
    edits: &'static [(&'static str, &'static str)],
}

const PLAN_TITLE: &str = "# Plan: reject passwords shorter than 12 characters";

/// The recording for `agent` at `stage` / `iteration`.
fn recording(agent: &str, stage: &str, iteration: u32) -> Option<Recording> {
    let r = |text, expects, edits| {
        Some(Recording {
            text,
            expects,
            edits,
        })
    };
    match (agent, stage, iteration) {
        ("scout-a", "discovery", _) => r(
            include_str!("../demo/recording/discovery-scout-a.md"),
            &[TASK],
            &[],
        ),
        ("scout-b", "discovery", _) => r(
            include_str!("../demo/recording/discovery-scout-b.md"),
            &[TASK],
            &[],
        ),
        ("planner", "planning", _) => r(
            include_str!("../demo/recording/plan.md"),
            &["## scout-a (demo-fast)", "## scout-b (demo-deep)"],
            &[],
        ),
        ("reviewer", "review", _) => r(
            include_str!("../demo/recording/review.md"),
            &[PLAN_TITLE],
            &[],
        ),
        ("builder", "execution", 1) => r(
            include_str!("../demo/recording/execution-1.md"),
            &[PLAN_TITLE],
            &[
                (
                    "accounts/signup.py",
                    include_str!("../demo/edits/execution-1/signup.py"),
                ),
                (
                    "tests/test_signup.py",
                    include_str!("../demo/edits/execution-1/test_signup.py"),
                ),
            ],
        ),
        ("verifier", "verification", 1) => r(
            include_str!("../demo/recording/verification-1.md"),
            &["+    if len(password) <= MIN_PASSWORD_LENGTH:"],
            &[],
        ),
        ("builder", "execution", 2) => r(
            include_str!("../demo/recording/execution-2.md"),
            &["[blocker] accounts/signup.py:31: off by one"],
            &[
                (
                    "accounts/signup.py",
                    include_str!("../demo/edits/execution-2/signup.py"),
                ),
                (
                    "tests/test_signup.py",
                    include_str!("../demo/edits/execution-2/test_signup.py"),
                ),
            ],
        ),
        ("verifier", "verification", 2) => r(
            include_str!("../demo/recording/verification-2.md"),
            &[
                "+    if len(password) < MIN_PASSWORD_LENGTH:",
                "+    def test_accepts_a_password_of_exactly_the_minimum_length",
            ],
            &[],
        ),
        ("scribe", "ship", _) => r(
            include_str!("../demo/recording/ship.md"),
            &["- accounts/signup.py"],
            &[(
                "CHANGELOG.md",
                include_str!("../demo/edits/ship/CHANGELOG.md"),
            )],
        ),
        _ => None,
    }
}

/// `fabrik __demo-agent NAME`: reads the prompt on stdin, checks it fits the recording,
/// applies the recorded edits in the workspace (its cwd) and prints the recorded answer.
pub(crate) fn agent(args: &DemoAgentArgs, cwd: &Path) -> Outcome {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let stage = var("FABRIK_STAGE");
    if stage.is_empty() || var("FABRIK_RUN_ID").is_empty() {
        return Err(CliError::Usage(
            "`fabrik __demo-agent` is the recorded agent of `fabrik demo`; fabrik runs it".into(),
        ));
    }
    let iteration: u32 = var("FABRIK_ITERATION").parse().unwrap_or(1);
    let attempt = var("FABRIK_ATTEMPT");
    let session = format!(
        "agent `{}`, stage {stage}, iteration {iteration}, attempt {attempt}",
        args.agent
    );
    let mut prompt = String::new();
    std::io::stdin()
        .read_to_string(&mut prompt)
        .map_err(|e| CliError::Usage(format!("cannot read the prompt on stdin: {e}")))?;
    let rec = recording(&args.agent, &stage, iteration)
        .ok_or_else(|| CliError::Usage(format!("no recording for {session}")))?;
    if let Some(missing) = rec.expects.iter().find(|e| !prompt.contains(**e)) {
        return Err(CliError::Usage(format!(
            "the prompt does not match the recording ({session}): it lacks `{missing}`"
        )));
    }
    if !rec.edits.is_empty() {
        let config = std::fs::read_to_string(cwd.join("fabrik.toml")).unwrap_or_default();
        if !config.starts_with(MARKER) {
            return Err(CliError::Usage(format!(
                "`{}` is not a workspace of `fabrik demo`; refusing to write there",
                cwd.display()
            )));
        }
        for (rel, text) in rec.edits {
            write_file(cwd, rel, text)?;
        }
    }
    let mut out = std::io::stdout().lock();
    out.write_all(rec.text.as_bytes())?;
    out.flush()?;
    Ok(fabrik_core::exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_this_binary_for_every_agent() {
        let t = config_toml("/opt/my fabrik/fabrik");
        assert!(t.starts_with(MARKER));
        for (name, _, _) in AGENTS {
            assert!(t.contains(&format!(
                "argv = [\"/opt/my fabrik/fabrik\", \"__demo-agent\", \"{name}\"]"
            )));
        }
    }

    #[test]
    fn every_stage_has_a_recording() {
        for (agent, stage, it) in [
            ("scout-a", "discovery", 1),
            ("scout-b", "discovery", 1),
            ("planner", "planning", 1),
            ("reviewer", "review", 1),
            ("builder", "execution", 1),
            ("verifier", "verification", 1),
            ("builder", "execution", 2),
            ("verifier", "verification", 2),
            ("scribe", "ship", 2),
        ] {
            assert!(
                recording(agent, stage, it).is_some(),
                "{agent} {stage} {it}"
            );
        }
        assert!(recording("builder", "execution", 3).is_none());
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_quote("/tmp/fabrik-demo-1"), "/tmp/fabrik-demo-1");
        assert_eq!(shell_quote("/tmp/my demo"), "'/tmp/my demo'");
        assert_eq!(shell_quote("/tmp/it's"), r"'/tmp/it'\''s'");
    }
}
