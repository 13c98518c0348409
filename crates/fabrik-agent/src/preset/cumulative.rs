//! Per-call usage from CLIs that report session totals.
//!
//! Codex's `turn.completed.usage` and Claude's `total_cost_usd` are cumulative over a
//! session: a resumed call reports the whole conversation so far (reference/agent-clis.md
//! section 7, item 4). A per-call figure needs the previous total, so after every call the
//! reported total is written to `.<cli>-session-<id>.usage.json` in the transcript
//! directory (the run's `agents/` folder, which survives `fabrik resume`). On the next
//! call that resumes the session the difference is reported. When the previous total is
//! unknown (the file is gone), the call's tokens fall back to fabrik's estimate
//! (`estimated = true`) and a cumulative cost is dropped (`cost_usd = None`) rather than
//! counted twice.

use std::path::{Path, PathBuf};

use fabrik_core::Usage;

use crate::{Error, Result, SessionPolicy};

/// Which parts of a CLI's reported usage are session totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cumulative {
    /// Everything is per call.
    No,
    /// Tokens are per call, the cost is a session total (Claude).
    Cost,
    /// Tokens (and cost, if any) are session totals (Codex).
    Tokens,
}

/// What one call cost, given the CLI's report.
pub(crate) struct Report<'a> {
    /// Directory for the baseline files.
    pub(crate) dir: &'a Path,
    /// CLI name (file prefix).
    pub(crate) cli: &'a str,
    /// New or resumed.
    pub(crate) policy: &'a SessionPolicy,
    /// The session id the CLI reported.
    pub(crate) session: Option<&'a str>,
    /// Which parts are totals.
    pub(crate) what: Cumulative,
    /// Used when tokens are totals and no baseline is known.
    pub(crate) estimate: Usage,
}

impl Report<'_> {
    /// The per-call usage for `reported`, recording it as the session's new baseline.
    ///
    /// # Errors
    /// [`Error::Io`] when the baseline cannot be written.
    pub(crate) fn per_call(&self, reported: Usage) -> Result<Usage> {
        if self.what == Cumulative::No {
            return Ok(reported);
        }
        let Some(id) = self.session else {
            return Ok(self.unknown(reported));
        };
        let path = self.baseline(id);
        let previous = match self.policy {
            SessionPolicy::New => None,
            SessionPolicy::Resume(_) => read(&path),
        };
        write(&path, &reported)?;
        Ok(match (self.policy, previous) {
            (SessionPolicy::New, _) => reported,
            (SessionPolicy::Resume(_), Some(p)) => self.subtract(reported, &p),
            (SessionPolicy::Resume(_), None) => self.unknown(reported),
        })
    }

    fn baseline(&self, id: &str) -> PathBuf {
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir
            .join(format!(".{}-session-{safe}.usage.json", self.cli))
    }

    fn subtract(&self, now: Usage, before: &Usage) -> Usage {
        let cost = match (now.cost_usd, before.cost_usd) {
            (Some(a), Some(b)) => Some((a - b).max(0.0)),
            (a, _) => a,
        };
        match self.what {
            Cumulative::No => now,
            Cumulative::Cost => Usage {
                cost_usd: cost,
                ..now
            },
            Cumulative::Tokens => Usage {
                input_tokens: now.input_tokens.saturating_sub(before.input_tokens),
                output_tokens: now.output_tokens.saturating_sub(before.output_tokens),
                cache_read_tokens: now
                    .cache_read_tokens
                    .saturating_sub(before.cache_read_tokens),
                cache_write_tokens: now
                    .cache_write_tokens
                    .saturating_sub(before.cache_write_tokens),
                cost_usd: cost,
                estimated: false,
            },
        }
    }

    fn unknown(&self, reported: Usage) -> Usage {
        match (self.what, self.policy) {
            (Cumulative::No, _) | (_, SessionPolicy::New) => reported,
            (Cumulative::Cost, SessionPolicy::Resume(_)) => Usage {
                cost_usd: None,
                ..reported
            },
            (Cumulative::Tokens, SessionPolicy::Resume(_)) => self.estimate.clone(),
        }
    }
}

fn read(path: &Path) -> Option<Usage> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn write(path: &Path, usage: &Usage) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string(usage).map_err(|e| io(std::io::Error::other(e)))?;
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn usage(input: u64, cached: u64, output: u64, cost: Option<f64>) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: cached,
            cache_write_tokens: 0,
            cost_usd: cost,
            estimated: false,
        }
    }

    fn report<'a>(dir: &'a Path, policy: &'a SessionPolicy, what: Cumulative) -> Report<'a> {
        Report {
            dir,
            cli: "codex",
            policy,
            session: Some("01a2/x"),
            what,
            estimate: Usage::estimate(40, 8),
        }
    }

    #[test]
    fn codex_totals_are_differenced_across_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let new = SessionPolicy::New;
        let resume = SessionPolicy::Resume("01a2/x".into());
        // The two observed runs of codex-r1.out and codex-r2.out.
        let first = report(dir.path(), &new, Cumulative::Tokens)
            .per_call(usage(234, 1000, 56, None))
            .unwrap();
        assert_eq!(first, usage(234, 1000, 56, None));
        let second = report(dir.path(), &resume, Cumulative::Tokens)
            .per_call(usage(468, 2000, 112, None))
            .unwrap();
        assert_eq!(second, usage(234, 1000, 56, None));
        assert!(
            dir.path()
                .join(".codex-session-01a2_x.usage.json")
                .is_file()
        );
    }

    #[test]
    fn claude_cost_is_differenced_and_dropped_without_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let resume = SessionPolicy::Resume("01a2/x".into());
        // No baseline: tokens are per call already, the cumulative cost is dropped.
        let r = report(dir.path(), &resume, Cumulative::Cost)
            .per_call(usage(1234, 1000, 56, Some(0.003_628)))
            .unwrap();
        assert_eq!(r, usage(1234, 1000, 56, None));
        let r = report(dir.path(), &resume, Cumulative::Cost)
            .per_call(usage(1234, 1000, 56, Some(0.007_256)))
            .unwrap();
        assert_eq!(r.cost_usd.map(|c| (c * 1e6).round()), Some(3628.0));
        // Tokens without baseline fall back to the estimate.
        let other = tempfile::tempdir().unwrap();
        let r = report(other.path(), &resume, Cumulative::Tokens)
            .per_call(usage(468, 2000, 112, None))
            .unwrap();
        assert_eq!(r, Usage::estimate(40, 8));
    }
}
