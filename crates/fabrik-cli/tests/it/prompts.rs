//! Prompt templates: a repository's `.fabrik/prompts/<stage>.md` replaces the embedded
//! template; a broken one fails the run with exit 3 before any agent is called.

use crate::common::{Fixture, happy};

#[test]
fn an_override_is_the_prompt_the_agent_gets() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.repo.write(
        ".fabrik/prompts/execution.md",
        "Custom builder.\nTASK={{ task }}{% if issues %} ({{ issues | length }} issues){% endif %}\n",
    );
    fx.repo.commit_all("prompt override");
    let run = fx.run(&["Fix the typo in README"]);
    run.expect_code(0);
    let calls = fx.calls();
    let exec: Vec<_> = calls.iter().filter(|c| c.stage == "execution").collect();
    assert!(!exec.is_empty(), "{calls:?}");
    assert_eq!(
        exec[0].prompt,
        "Custom builder.\nTASK=Fix the typo in README"
    );
    // Stages without an override keep the embedded template.
    let verify = calls.iter().find(|c| c.stage == "verification").unwrap();
    assert!(
        verify
            .prompt
            .starts_with("You are an independent verifier."),
        "{verify:?}"
    );
}

#[test]
fn a_broken_override_exits_3_naming_file_and_line_and_calls_no_agent() {
    let fx = Fixture::new();
    fx.script(happy());
    fx.repo.write(
        ".fabrik/prompts/verification.md",
        "fine line\n{% if task %}\nnever closed\n",
    );
    fx.repo.commit_all("broken prompt override");
    let run = fx.run(&["Fix the typo in README"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains(".fabrik/prompts/verification.md:"),
        "{run:?}"
    );
    assert!(run.stderr.contains("syntax error"), "{run:?}");
    assert!(fx.calls().is_empty(), "an agent was called");
}

#[test]
fn prompts_show_prints_the_effective_template_and_its_size() {
    let fx = Fixture::new();
    let run = fx.run(&["prompts", "show", "execution"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("You are the builder. Implement the task in this repository."),
        "{run:?}"
    );
    assert!(run.stdout.contains("{{ task }}"), "{run:?}");
    assert!(run.stderr.contains("embedded template"), "{run:?}");
    assert!(run.stderr.contains("tokens (estimated"), "{run:?}");

    fx.repo
        .write(".fabrik/prompts/execution.md", "Only {{ task }}.\n");
    let (run, json) = fx.run_json(&["--json", "prompts", "show", "execution"]);
    run.expect_code(0);
    assert_eq!(json["source"], "override");
    assert_eq!(json["template"], "Only {{ task }}.\n");
    assert_eq!(json["bytes"], 17);
    assert_eq!(json["tokens_estimated"], 5);

    fx.run(&["prompts", "show", "nope"]).expect_code(3);
}

#[test]
fn stage_prompt_sizes_are_in_the_json_result_and_status() {
    let fx = Fixture::new();
    fx.script(happy());
    let (run, json) = fx.run_json(&["--json", "Fix the typo in README"]);
    run.expect_code(0);
    let stages = json["stages"].as_array().unwrap();
    let exec = stages
        .iter()
        .find(|s| s["stage"] == "execution")
        .unwrap_or_else(|| panic!("{json}"));
    let bytes = exec["prompt_bytes"].as_u64().unwrap();
    let calls = fx.calls();
    let sent: u64 = calls
        .iter()
        .filter(|c| c.stage == "execution")
        .map(|c| c.prompt_bytes)
        .sum();
    assert_eq!(bytes, sent, "{json}");
    assert!(bytes > 0);
    let id = fx.only_run_id();
    let status = fx.run(&["status", &id]);
    status.expect_code(0);
    assert!(
        status
            .stdout
            .contains(&format!("prompt ~{} tokens", bytes.div_ceil(4))),
        "{status:?}"
    );
}
