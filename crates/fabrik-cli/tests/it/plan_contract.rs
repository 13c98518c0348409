//! The plan contract end to end: the planner is re-asked once with the lint and grounding
//! findings, a plan that keeps failing fails planning, `--plan` is linted before anything
//! runs, the `scope` gate holds the build to the frozen manifest, a frozen plan edited
//! mid-run is caught, and the `plan lint` / `plan template` / `scope` commands.

use std::path::Path;
use std::time::Duration;

use fabrik_testkit::{Script, Step, sha256_hex};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::common::{Fixture, Run, Setup, fabrik_in, read_json, stage_names, wait_until};

/// The library the plans below are grounded in: `greet()` on line 1 of `src/lib.rs`.
const LIB: &str = "pub fn greet() -> String {\n    \"hello\".to_owned()\n}\n";

/// What a builder that follows [`GOOD`] writes to `src/lib.rs`.
const LIB_FRENCH: &str = "pub fn greet() -> String {\n    \"bonjour\".to_owned()\n}\n";

/// A plan that passes lint and grounding against a repository holding [`LIB`] (and the
/// fixture's `README.md`): MODIFY `src/lib.rs`, CREATE `docs/fix.md`, DO-NOT-TOUCH
/// `README.md`.
const GOOD: &str = r#"# Plan: greet in French

Task: make `greet()` return a French greeting and document the change.

## 1. Repo-awareness proof

Searches run:

- `rg -n "fn greet" src/`

| Found | Where | Decision |
|-------|-------|----------|
| `greet()` | `src/lib.rs:1` | EXTEND: change the returned text |
| `docs/fix.md` | NOT FOUND | CREATE to record the change |

## 2. File-impact manifest

| Path | Action | Reason | What will NOT change |
|------|--------|--------|----------------------|
| `src/lib.rs` | MODIFY | return `bonjour` from `greet()` | the signature of `greet()` |
| `docs/fix.md` | CREATE | one line describing the change | - |

**DO-NOT-TOUCH:**

- `README.md`

## 3. Contracts

Library: `pub fn greet() -> String` keeps its signature and returns `bonjour`.

No API, DB, UI or CLI change.

## 4. Invariants

- Must reuse: `greet()` in `src/lib.rs`; no second greeting function.
- Must NOT create: a new module under `src/`.
- Must NOT duplicate: the greeting text in `src/lib.rs`.
- Must pass: the 2 gates of section 5.

## 5. Gates

| Gate | Command | PASS | FAIL |
|------|---------|------|------|
| tests | `cargo test` | exit 0 | non-zero exit |
| clones | `fabrik dupes --changed --base HEAD` | exit 0 | exit 1 with a clone listed |

## 6. Golden paths

### Golden path 1: the new greeting

- Command: `cargo test`
- Expected changed files: `src/lib.rs`, `docs/fix.md`
- Expected output: `test result: ok`
- Exit code: 0

## 7. Failure matrix

| Failure | Detection | Response | Rollback |
|---------|-----------|----------|----------|
| `cargo test` fails | gate `tests` exits non-zero | fix `src/lib.rs` and re-run the 2 gates | `git checkout -- src/lib.rs` |
| clone reported | gate `clones` exits 1 | reuse `greet()` instead of copying | revert the commit of the execution step |
| `docs/fix.md` missing | `fabrik scope` reports S007 | write the file | `git checkout -- docs/fix.md` |
| `README.md` edited | `fabrik scope` reports S002 | revert `README.md` | `git checkout -- README.md` |
| build timeout after 600 s | gate `tests` times out | re-run `cargo test` once | revert the commit of the execution step |

## 8. Step-report template

```text
STEP <N> STATUS: PASS / FAIL
Changed files:
- <path>
Gate output:
<last 20 lines of each gate>
Verification:
- Result: PASS / FAIL
- Issues: <none or list>
- Re-verify count: <N>/2
```

Verification runs in a separate session from execution, with at most 2 re-verify cycles; after the 2nd rejection the run stops.
"#;

/// A plan that fails the lint: six sections missing (P001), no evidence in the awareness
/// section (P061), vague words (P050) — 10 errors — and no DO-NOT-TOUCH list (P017, a
/// warning).
const BAD: &str = "# Plan\n\n## 1. Repo-awareness proof\n\nWe will integrate the change properly and handle errors as needed.\n\n## 2. File-impact manifest\n\n| Path | Action | Reason | What will NOT change |\n|---|---|---|---|\n| docs/fix.md | CREATE | the fix | everything else |\n";

/// [`GOOD`] with an invented symbol (`farewell_all()` cited at `src/lib.rs:1`) and an
/// invented path (MODIFY `src/greeting.rs`).
fn invented() -> String {
    let plan = GOOD
        .replace(
            "| `greet()` | `src/lib.rs:1` |",
            "| `farewell_all()` | `src/lib.rs:1` |",
        )
        .replace(
            "| `src/lib.rs` | MODIFY |",
            "| `src/greeting.rs` | MODIFY |",
        );
    assert_ne!(plan, GOOD);
    plan
}

/// A fixture with the plan contract on and `src/lib.rs` ([`LIB`]) committed.
fn contract_fixture() -> Fixture {
    let fx = Fixture::with(Setup {
        lint: true,
        ..Setup::default()
    });
    fx.repo.write("src/lib.rs", LIB);
    fx.repo.commit_all("add src/lib.rs");
    fx
}

/// Discovery notes, then (after `planning`) a builder that does exactly what [`GOOD`]
/// says, an approving verifier and a ship with nothing to document.
fn with_planning(planning: Vec<Step>) -> Script {
    let mut s = Script::new().step(Step::stage("discovery").print("greet() is in src/lib.rs\n"));
    for step in planning {
        s = s.step(step);
    }
    s.step(
        Step::stage("execution")
            .write("src/lib.rs", LIB_FRENCH)
            .write("docs/fix.md", "greet() now says bonjour\n")
            .print("done\n"),
    )
    .step(Step::stage("verification").approve())
    .step(Step::stage("ship").print("nothing to document\n"))
}

/// (stage, iteration, attempt) of every planning call.
fn planning_calls(fx: &Fixture) -> Vec<(String, u32, u32)> {
    fx.calls()
        .into_iter()
        .filter(|c| c.stage == "planning")
        .map(|c| (c.stage, c.iteration, c.attempt))
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

/// The one gate named `name` of the last `pre_verify` stage of a PipelineResult.
fn gate<'r>(result: &'r Value, name: &str) -> &'r Value {
    let pre = result["stages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s["stage"] == "pre_verify")
        .unwrap_or_else(|| panic!("no pre_verify stage: {result}"));
    let found: Vec<&Value> = pre["gates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"] == name)
        .collect();
    assert_eq!(found.len(), 1, "gate `{name}` in {pre}");
    found[0]
}

/// `gates-<n>.json` of run `id`: the gate called `name`.
fn gate_file(fx: &Fixture, id: &str, n: u32, name: &str) -> Value {
    let gates = read_json(&fx.run_dir(id).join(format!("gates-{n}.json")));
    let found: Vec<Value> = gates
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"] == name)
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "gate `{name}` in {gates}");
    found.into_iter().next().unwrap()
}

/// Writes `text` to `name` in the fixture's scratch directory (outside the repository).
fn plan_file(fx: &Fixture, name: &str, text: &str) -> String {
    let path = fx.aux(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_plan_failing_lint_is_reasked_once_with_the_findings_and_the_fixed_plan_is_frozen() {
    let fx = contract_fixture();
    fx.script(with_planning(vec![
        Step::stage("planning")
            .attempt(1)
            .copy_prompt_to(fx.aux("plan-a1.prompt"))
            .print(BAD),
        Step::stage("planning")
            .attempt(2)
            .copy_prompt_to(fx.aux("plan-a2.prompt"))
            .print(GOOD),
    ]));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        stage_names(&r),
        [
            "discovery",
            "planning",
            "execution",
            "pre_verify",
            "verification",
            "ship"
        ]
    );
    assert_eq!(
        planning_calls(&fx),
        [("planning".to_owned(), 1, 1), ("planning".to_owned(), 1, 2)]
    );
    assert!(
        run.stderr
            .contains("the plan fails the contract (10 error(s)); asking the planner once more"),
        "{run:?}"
    );

    // The re-ask carries the findings of the first plan, by rule id; the first ask had none.
    let first = read(&fx.aux("plan-a1.prompt"));
    let second = read(&fx.aux("plan-a2.prompt"));
    assert!(
        !first.contains("YOUR PREVIOUS PLAN WAS NOT ACCEPTED"),
        "{first}"
    );
    assert!(
        second.contains("YOUR PREVIOUS PLAN WAS NOT ACCEPTED"),
        "{second}"
    );
    for needle in [
        "- [P001] missing section 3. Contracts (fix: add a heading `## 3. Contracts`",
        "- [P001] missing section 8. Step-report template",
        "- [P050] line 5: vague `integrate` in a sentence with no path",
        "- [P050] line 5: vague `as needed`",
        "- [P061] line 3: section `1. Repo-awareness proof` names no file or symbol",
    ] {
        assert!(second.contains(needle), "`{needle}` not in:\n{second}");
    }
    // Warnings are not fed back.
    assert!(!second.contains("[P017]"), "{second}");

    // The first check's full report (errors and warnings) is kept; the second is clean.
    let dir = fx.run_dir(&id);
    let lint1 = read(&dir.join("plan-lint-1-1.txt"));
    for needle in [
        "error[P061]: section `1. Repo-awareness proof` names no file or symbol",
        "error[P050]: vague `integrate`",
        "error[P050]: vague `properly`",
        "error[P050]: vague `as needed`",
        "warning[P017]: the DO-NOT-TOUCH list is missing",
        "error[P001]: missing section 3. Contracts",
        "error[P001]: missing section 7. Failure matrix",
        " --> plan.md:5:9",
        "plan.md: 10 errors and 1 warning",
    ] {
        assert!(lint1.contains(needle), "`{needle}` not in:\n{lint1}");
    }
    assert_eq!(
        read(&dir.join("plan-lint-1-2.txt")),
        "plan.md: no findings\n"
    );

    // The second plan is the frozen one.
    let plan = std::fs::read(dir.join("plan.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&plan), GOOD);
    assert_eq!(r["plan_sha256"], sha256_hex(GOOD.as_bytes()));
    assert_eq!(fx.state(&id)["plan_sha256"], sha256_hex(GOOD.as_bytes()));

    // The builder kept to it.
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "pass", "{scope}");
    assert_eq!(scope["exit_code"], 0, "{scope}");
}

#[test]
fn a_plan_failing_lint_twice_fails_planning_and_nothing_is_built() {
    let fx = contract_fixture();
    fx.script(with_planning(vec![Step::stage("planning").print(BAD)]));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(1);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "failure", "{r}");
    assert_eq!(stage_names(&r), ["discovery", "planning"]);
    let planning = &r["stages"][1];
    assert_eq!(planning["status"], "fail");
    let error = planning["error"].as_str().unwrap();
    assert!(
        error.starts_with("the plan fails the contract after a re-ask: [P"),
        "{error}"
    );
    assert!(error.contains("[P061] line 3:"), "{error}");
    assert!(
        error.contains("[P050] line 5: vague `integrate`"),
        "{error}"
    );
    // 10 errors: 8 shown, the rest counted.
    assert!(error.ends_with("(and 2 more)"), "{error}");
    assert_eq!(
        fx.stages_called(&id),
        ["discovery", "discovery", "planning", "planning"]
    );
    assert_eq!(
        planning_calls(&fx),
        [("planning".to_owned(), 1, 1), ("planning".to_owned(), 1, 2)]
    );
    let dir = fx.run_dir(&id);
    assert!(!dir.join("plan.md").exists());
    assert_eq!(r["plan_sha256"], Value::Null);
    for n in 1..=2 {
        let report = read(&dir.join(format!("plan-lint-1-{n}.txt")));
        assert!(
            report.contains("plan.md: 10 errors and 1 warning"),
            "{report}"
        );
    }
    assert!(!dir.join("plan-lint-1-3.txt").exists());
    assert_eq!(fx.state(&id)["phase"]["phase"], "failed");
}

#[test]
fn invented_paths_and_symbols_are_named_in_the_reask() {
    let fx = contract_fixture();
    fx.script(with_planning(vec![
        Step::stage("planning").attempt(1).print(invented()),
        Step::stage("planning")
            .attempt(2)
            .copy_prompt_to(fx.aux("plan-a2.prompt"))
            .print(GOOD),
    ]));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    let second = read(&fx.aux("plan-a2.prompt"));
    for needle in [
        "- [P072] line 13: `farewell_all()` is not an identifier anywhere in the repository",
        "- [P074] line 13: `src/lib.rs:1` is cited for `farewell_all`",
        "- [P070] line 20: MODIFY of `src/greeting.rs`, which does not exist",
    ] {
        assert!(second.contains(needle), "`{needle}` not in:\n{second}");
    }
    // Nothing but the inventions: the rest of the plan is sound.
    let findings: Vec<&str> = second.lines().filter(|l| l.starts_with("- [P")).collect();
    assert_eq!(findings.len(), 3, "{findings:#?}");
    let lint1 = read(&fx.run_dir(&id).join("plan-lint-1-1.txt"));
    assert!(
        lint1.contains("plan.md: 3 errors and 0 warnings"),
        "{lint1}"
    );
    assert!(lint1.contains("= path: src/greeting.rs"), "{lint1}");
    assert_eq!(
        read(&fx.run_dir(&id).join("plan.md")),
        GOOD,
        "the grounded plan is frozen"
    );
}

#[test]
fn the_scope_gate_fails_a_build_that_touches_a_do_not_touch_path() {
    let fx = contract_fixture();
    let mut script = Script::new().step(
        Step::stage("execution")
            .write("src/lib.rs", LIB_FRENCH)
            .write("docs/fix.md", "greet() now says bonjour\n")
            .append("README.md", "Now in French.\n")
            .print("done\n"),
    );
    script
        .steps
        .extend(with_planning(vec![Step::stage("planning").print(GOOD)]).steps);
    fx.script(script);
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(4);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "failure", "{r}");
    assert_eq!(
        stage_names(&r),
        ["discovery", "planning", "execution", "pre_verify"]
    );
    assert_eq!(
        fx.stages_called(&id),
        ["discovery", "discovery", "planning", "execution"],
        "the verifier is never called"
    );
    let pre = r["stages"].as_array().unwrap().last().unwrap();
    assert_eq!(pre["status"], "fail");
    assert_eq!(pre["error"], "pre-flight gate failed: scope: FAIL", "{pre}");

    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "fail", "{scope}");
    assert_eq!(scope["exit_code"], 1, "{scope}");
    let base = fx.state(&id)["workspace"]["base_commit"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        scope["command"],
        format!("fabrik scope --plan plan.md --base {base}")
    );
    let tail = scope["output_tail"].as_str().unwrap();
    for needle in [
        "error[S002]: `README.md` was changed but matches DO-NOT-TOUCH `README.md`\n  --> plan.md:25:3\n",
        "= path: README.md\n",
        "error[S001]: `README.md` was modified but is not in the manifest\n",
        "plan.md: 2 errors and 0 warnings",
    ] {
        assert!(tail.contains(needle), "`{needle}` not in:\n{tail}");
    }
    // The gates file holds the same result.
    assert_eq!(&gate_file(&fx, &id, 1, "scope"), scope);
    // The manifest files themselves are in scope: S002 (and S001 for README.md) only.
    assert!(!tail.contains("src/lib.rs`"), "{tail}");
    assert!(!tail.contains("docs/fix.md`"), "{tail}");

    // The same plan with a builder that keeps to the manifest passes.
    fx.script(with_planning(vec![Step::stage("planning").print(GOOD)]));
    let (run, r) = fx.run_json(&["--json", "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "pass", "{scope}");
    assert_eq!(scope["exit_code"], 0, "{scope}");
    assert_eq!(&gate_file(&fx, &id, 1, "scope"), scope);
    assert_eq!(
        fx.repo
            .git(&["show", &format!("fabrik/{id}:src/lib.rs")])
            .trim_end(),
        LIB_FRENCH.trim_end()
    );
}

#[test]
fn the_scope_gate_names_a_file_the_manifest_does_not_list() {
    let fx = contract_fixture();
    let plan = plan_file(&fx, "plan.md", GOOD);
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .write("src/lib.rs", LIB_FRENCH)
                    .write("docs/fix.md", "greet() now says bonjour\n")
                    .write("src/extra.rs", "pub fn extra() {}\n")
                    .print("done\n"),
            )
            .step(Step::stage("verification").approve())
            .step(Step::stage("ship").print("nothing to document\n")),
    );
    let (run, r) = fx.run_json(&["--json", "--plan", &plan, "greet in French"]);
    run.expect_code(4);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(fx.stages_called(&id), ["execution"]);
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "fail", "{scope}");
    let tail = scope["output_tail"].as_str().unwrap();
    assert!(tail.contains("error[S001]"), "{tail}");
    assert!(tail.contains("src/extra.rs"), "{tail}");
    assert!(!tail.contains("S002"), "{tail}");
    assert_eq!(&gate_file(&fx, &id, 1, "scope"), scope);
}

#[test]
fn a_plan_file_failing_the_contract_is_refused_before_anything_runs() {
    let fx = contract_fixture();
    fx.script(with_planning(vec![Step::stage("planning").print(GOOD)]));
    let bad = plan_file(&fx, "bad-plan.md", BAD);
    let run = fx.run(&["--plan", &bad, "greet in French"]);
    run.expect_code(3);
    assert!(run.stderr.contains(&bad), "{run:?}");
    assert!(
        run.stderr
            .contains("it fails the plan contract with 10 error(s)"),
        "{run:?}"
    );
    for rule in ["error[P001]", "error[P050]", "error[P061]", "warning[P017]"] {
        assert!(run.stderr.contains(rule), "{rule} missing: {run:?}");
    }
    assert_eq!(fx.calls(), Vec::new(), "no agent was called");
    assert_eq!(fx.run_ids(), Vec::<String>::new(), "no run was created");

    // An invented path in a plan file is refused the same way (grounding).
    let invented_plan = plan_file(&fx, "invented.md", &invented());
    let run = fx.run(&["--plan", &invented_plan, "greet in French"]);
    run.expect_code(3);
    for rule in ["error[P070]", "error[P072]", "src/greeting.rs"] {
        assert!(run.stderr.contains(rule), "{rule} missing: {run:?}");
    }
    assert_eq!(fx.run_ids(), Vec::<String>::new());

    // A valid plan file skips discovery and planning, is frozen as is, and is held to.
    let good = plan_file(&fx, "good-plan.md", GOOD);
    let (run, r) = fx.run_json(&["--json", "--plan", &good, "Add JWT authentication"]);
    run.expect_code(0);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        stage_names(&r),
        ["execution", "pre_verify", "verification", "ship"]
    );
    assert_eq!(fx.stages_called(&id), ["execution", "verification", "ship"]);
    assert_eq!(read(&fx.run_dir(&id).join("plan.md")), GOOD);
    assert_eq!(r["plan_sha256"], sha256_hex(GOOD.as_bytes()));
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "pass", "{scope}");
    // The builder got the frozen plan.
    let exec = fx
        .calls()
        .into_iter()
        .find(|c| c.stage == "execution")
        .unwrap();
    assert!(
        exec.prompt.contains("FROZEN PLAN") && exec.prompt.contains("# Plan: greet in French"),
        "{}",
        exec.prompt
    );
}

#[test]
fn a_frozen_plan_edited_during_the_build_fails_the_scope_gate() {
    let fx = contract_fixture();
    let plan = plan_file(&fx, "plan.md", GOOD);
    // The builder takes a while, so the test can edit the frozen plan meanwhile.
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .sleep_ms(3000)
                    .write("src/lib.rs", LIB_FRENCH)
                    .write("docs/fix.md", "greet() now says bonjour\n")
                    .print("done\n"),
            )
            .step(Step::stage("verification").approve())
            .step(Step::stage("ship").print("nothing to document\n")),
    );
    let fabrik = fx.spawn("tamper", &["--json", "--plan", &plan, "greet in French"]);
    assert!(
        wait_until(Duration::from_secs(20), || fx
            .calls()
            .iter()
            .any(|c| c.stage == "execution")),
        "execution never started: {}",
        fabrik.stderr_now()
    );
    let id = fx.calls()[0].run_id.clone();
    let frozen = fx.run_dir(&id).join("plan.md");
    assert_eq!(read(&frozen), GOOD);
    let tampered = GOOD.replace("- `README.md`\n", "- `docs/**`\n");
    std::fs::write(&frozen, &tampered).unwrap();
    let run: Run = fabrik.wait(Duration::from_secs(60));
    run.expect_code(4);
    let r = run.json();
    assert_eq!(r["run_id"], id.as_str());
    assert_eq!(
        fx.stages_called(&id),
        ["execution"],
        "the verifier is never called"
    );
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "fail", "{scope}");
    let tail = scope["output_tail"].as_str().unwrap();
    assert!(tail.contains("was changed after it was frozen"), "{tail}");
    assert!(
        tail.contains(&format!(
            "sha256 {} expected, {} found",
            &sha256_hex(GOOD.as_bytes())[..12],
            sha256_hex(tampered.as_bytes())
        )),
        "{tail}"
    );
    assert_eq!(r["plan_sha256"], sha256_hex(GOOD.as_bytes()));
}

#[test]
fn plan_lint_template_and_scope_commands() {
    let fx = contract_fixture();
    let dir = fx.repo.path();
    std::fs::write(fx.aux("bad.md"), BAD).unwrap();
    std::fs::write(fx.aux("good.md"), GOOD).unwrap();
    let aux = fx.aux("");

    // Text: rustc-like diagnostics, exit 1.
    let run = fabrik_in(&aux, &["plan", "lint", "bad.md"]);
    run.expect_code(1);
    for needle in [
        "error[P061]: section `1. Repo-awareness proof` names no file or symbol\n --> bad.md:3:1\n",
        "error[P050]: vague `integrate` in a sentence with no path, `command`, symbol or number\n --> bad.md:5:9\n",
        "5 | We will integrate the change properly and handle errors as needed.\n",
        "error[P001]: missing section 3. Contracts\n --> bad.md\n",
        "warning[P017]: the DO-NOT-TOUCH list is missing\n",
        "= hint: ",
        "bad.md: 10 errors and 1 warning\n",
    ] {
        assert!(run.stdout.contains(needle), "`{needle}` not in: {run:?}");
    }

    // JSON: one array of findings.
    let run = fabrik_in(&aux, &["plan", "lint", "bad.md", "--format", "json"]);
    run.expect_code(1);
    let findings = run.json();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 11, "{findings:#?}");
    assert_eq!(findings[0]["rule"], "P061");
    assert_eq!(findings[0]["name"], "awareness-without-evidence");
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["file"], "bad.md");
    assert_eq!(findings[0]["line"], 3);
    assert_eq!(findings[0]["column"], 1);
    let mut rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(rules, ["P001", "P017", "P050", "P061"]);
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    assert_eq!(errors, 10);

    // A clean plan, grounded in the repository.
    let good = fx.aux("good.md");
    let good = good.to_string_lossy();
    let run = fabrik_in(dir, &["plan", "lint", &good, "--repo", "."]);
    run.expect_code(0);
    assert_eq!(run.stdout, format!("{good}: no findings\n"));
    // The same plan against a repository without `src/lib.rs` is not grounded.
    let run = fabrik_in(&aux, &["plan", "lint", "good.md", "--repo", "."]);
    run.expect_code(1);
    assert!(run.stdout.contains("error[P070]"), "{run:?}");

    // Unreadable plan: exit 3, naming it.
    let run = fabrik_in(&aux, &["plan", "lint", "missing.md"]);
    run.expect_code(3);
    assert!(run.stderr.contains("missing.md"), "{run:?}");
    assert_eq!(run.stdout, "");

    // The template.
    let run = fabrik_in(&aux, &["plan", "template"]);
    run.expect_code(0);
    for section in [
        "## 1. Repo-awareness proof",
        "## 2. File-impact manifest",
        "## 3. Contracts",
        "## 4. Invariants",
        "## 5. Gates",
        "## 6. Golden paths",
        "## 7. Failure matrix",
        "## 8. Step-report template",
    ] {
        assert!(run.stdout.contains(section), "{section} missing: {run:?}");
    }

    // Scope: an unplanned change in the working tree, the plan itself (inside the
    // repository, untracked) not counted.
    fx.repo.write("plan.md", GOOD);
    let run = fabrik_in(dir, &["scope", "--plan", "plan.md", "--base", "HEAD"]);
    run.expect_code(0);
    fx.repo.write("src/lib.rs", LIB_FRENCH);
    fx.repo.write("notes.txt", "scratch\n");
    let run = fabrik_in(dir, &["scope", "--plan", "plan.md", "--base", "HEAD"]);
    run.expect_code(1);
    assert!(run.stdout.contains("error[S001]"), "{run:?}");
    assert!(run.stdout.contains("notes.txt"), "{run:?}");
    assert!(!run.stdout.contains("`plan.md`"), "{run:?}");
    assert!(!run.stdout.contains("`src/lib.rs`"), "{run:?}");
    let run = fabrik_in(
        dir,
        &[
            "scope", "--plan", "plan.md", "--base", "HEAD", "--format", "json",
        ],
    );
    run.expect_code(1);
    let findings = run.json();
    let s001: Vec<&Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "S001")
        .collect();
    assert_eq!(s001.len(), 1, "{findings:#}");
    assert_eq!(s001[0]["path"], "notes.txt");

    // A base revision that does not exist: exit 3, naming it.
    let run = fabrik_in(
        dir,
        &["scope", "--plan", "plan.md", "--base", "no-such-rev"],
    );
    run.expect_code(3);
    assert!(run.stderr.contains("no-such-rev"), "{run:?}");
    assert_eq!(run.stdout, "");
}

/// A brought plan is grounded in what the run starts from (HEAD in worktree mode): a file
/// that exists only uncommitted in the user's tree does not count.
#[test]
fn a_plan_file_is_grounded_in_head_not_in_uncommitted_files() {
    let fx = Fixture::with(Setup {
        lint: true,
        ..Setup::default()
    });
    fx.repo.write("src/lib.rs", LIB); // untracked: not in HEAD
    fx.script(with_planning(Vec::new()));
    let good = plan_file(&fx, "good.md", GOOD);
    let run = fx.run(&["--plan", &good, "greet in French"]);
    run.expect_code(3);
    assert!(run.stderr.contains("P070"), "{run:?}");
    assert!(fx.calls().is_empty());
    // The temporary checkout of HEAD is gone again.
    let leftovers: Vec<_> = std::fs::read_dir(fx.repo.join(".fabrik"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        !leftovers
            .iter()
            .any(|n| n.to_string_lossy().starts_with("head-")),
        "{leftovers:?}"
    );
}

#[test]
fn an_in_place_plan_file_inside_the_repository_is_not_a_change_to_judge() {
    let fx = contract_fixture();
    fx.repo.write("my-plan.md", GOOD);
    fx.script(
        Script::new()
            .step(
                Step::stage("execution")
                    .write("src/lib.rs", LIB_FRENCH)
                    .write("docs/fix.md", "greet() now says bonjour\n")
                    .print("done\n"),
            )
            .step(Step::stage("verification").approve())
            .step(Step::stage("ship").print("nothing to document\n")),
    );
    let (run, r) = fx.run_json(&[
        "--json",
        "--in-place",
        "--allow-dirty",
        "--plan",
        "my-plan.md",
        "greet in French",
    ]);
    run.expect_code(0);
    let scope = gate(&r, "scope");
    assert_eq!(scope["status"], "pass", "{scope}");
    assert!(
        !scope["output_tail"]
            .as_str()
            .unwrap()
            .contains("my-plan.md"),
        "{scope}"
    );
}
