//! `[[gates.command]]`: a shell command run in the workspace under the same supervision as
//! agents (own process group, timeout, SIGTERM then SIGKILL, bounded output).

use std::time::Instant;

use fabrik_config::{GateCommand, GateWhen};
use fabrik_core::contract::{GateResult, GateStatus};
use fabrik_core::process::{self, Limits, Spec, StopReason};

use crate::{GateContext, Interrupted, TAIL_BYTES};

/// Runs one command gate.
///
/// # Errors
/// [`Interrupted`] when fabrik is interrupted while the gate runs.
pub fn run_command_gate(
    gate: &GateCommand,
    cx: &GateContext<'_>,
) -> Result<GateResult, Interrupted> {
    let mut result = GateResult::new(gate.name.clone(), gate.run.clone());
    if let GateWhen::Changed(glob) = &gate.when
        && !matches_any(glob, cx.changed_files)
    {
        return Ok(result.skipped(format!("skipped: no changed file matches `{glob}`")));
    }
    let start = Instant::now();
    let mut spec = Spec::new("sh", cx.workspace).arg("-c").arg(&gate.run);
    spec.timeout = Some(gate.timeout);
    spec.grace = cx.grace;
    spec.limits = Limits {
        head: 0,
        tail: 64 * 1024,
        file_cap: 0,
    };
    spec.redactor = cx.redactor.clone();
    let outcome = match process::run(&spec, cx.cancel) {
        Ok(o) => o.trimmed(spec.limits),
        Err(e) => {
            result.status = GateStatus::ToolMissing;
            result.output_tail = format!("tool missing: sh ({e})");
            return Ok(result);
        }
    };
    result.duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    result.exit_code = outcome.code;
    let mut tail = outcome.stdout.tail_text(TAIL_BYTES / 2);
    tail.push_str(&outcome.stderr.tail_text(TAIL_BYTES / 2));
    result.status = match (outcome.stopped, outcome.code) {
        (Some(StopReason::Cancelled), _) => {
            return Err(Interrupted {
                gate: gate.name.clone(),
            });
        }
        (Some(StopReason::Timeout), _) => {
            tail.push_str(&format!("\ntimed out after {}s", gate.timeout.as_secs()));
            GateStatus::Timeout
        }
        (None, Some(0)) => GateStatus::Pass,
        // POSIX shells exit 127 for "command not found" and 126 for "not executable".
        (None, Some(127 | 126)) => {
            tail = format!("tool missing: {}\n{tail}", first_word(&gate.run));
            GateStatus::ToolMissing
        }
        (None, _) => GateStatus::Fail,
    };
    result.output_tail = tail;
    Ok(result)
}

fn first_word(cmd: &str) -> &str {
    cmd.split_whitespace().next().unwrap_or(cmd)
}

fn matches_any(glob: &str, files: &[String]) -> bool {
    match globset::Glob::new(glob) {
        Ok(g) => {
            let m = g.compile_matcher();
            files.iter().any(|f| m.is_match(f))
        }
        // An invalid glob cannot be proven not to match: run the gate (fail-closed).
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use fabrik_core::process::CancelToken;
    use fabrik_core::redact::Redactor;

    use super::*;

    fn gate(run: &str, when: GateWhen) -> GateCommand {
        GateCommand {
            name: "g".into(),
            run: run.into(),
            timeout: Duration::from_millis(500),
            when,
        }
    }

    fn run(g: &GateCommand, changed: &[String]) -> GateResult {
        let dir = tempfile::tempdir().unwrap();
        let cancel = CancelToken::new();
        let redactor = Redactor::default();
        let cx = GateContext {
            workspace: dir.path(),
            changed_files: changed,
            cancel: &cancel,
            grace: Duration::from_millis(100),
            redactor: &redactor,
            base: None,
            state_dir: None,
        };
        run_command_gate(g, &cx).unwrap()
    }

    #[test]
    fn pass_fail_missing_timeout() {
        assert_eq!(
            run(&gate("echo ok", GateWhen::Always), &[]).status,
            GateStatus::Pass
        );
        let f = run(&gate("echo bad; exit 2", GateWhen::Always), &[]);
        assert_eq!((f.status, f.exit_code), (GateStatus::Fail, Some(2)));
        assert!(f.output_tail.contains("bad"));
        let m = run(&gate("no-such-linter-xyz --check", GateWhen::Always), &[]);
        assert_eq!(m.status, GateStatus::ToolMissing);
        assert!(
            m.output_tail
                .starts_with("tool missing: no-such-linter-xyz"),
            "{}",
            m.output_tail
        );
        assert_eq!(
            run(&gate("sleep 5", GateWhen::Always), &[]).status,
            GateStatus::Timeout
        );
    }

    #[test]
    fn changed_glob_decides_whether_to_run() {
        let g = gate("exit 1", GateWhen::Changed("src/**/*.rs".into()));
        assert_eq!(run(&g, &["docs/a.md".into()]).status, GateStatus::Skip);
        assert_eq!(run(&g, &["src/x/a.rs".into()]).status, GateStatus::Fail);
    }
}
