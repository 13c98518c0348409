//! The pipeline's state machine: DESIGN.md section 3's transition table, and nothing else.
//!
//! [`next`] is a pure function from (phase, event) to the next phase; the runner performs
//! the side effects and asks it where to go. A property test drives it with random
//! outcomes.

use fabrik_core::{Risk, exit};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "phase", content = "exit_code")]
pub enum Phase {
    /// Not started.
    Init,
    /// Stage 1 next (or in flight).
    Discovery,
    /// Stage 2.
    Planning,
    /// Stage 3.
    Execution,
    /// The gates before verification.
    PreVerify,
    /// Stage 4.
    Verification,
    /// Stage 5.
    Ship,
    /// Resting: success.
    Done,
    /// Resting: failure with its exit code.
    Failed(u8),
}

impl Phase {
    /// Whether the run has ended.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Done | Phase::Failed(_))
    }

    /// Upper-case name for logs.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Phase::Init => "INIT",
            Phase::Discovery => "DISCOVERY",
            Phase::Planning => "PLANNING",
            Phase::Execution => "EXECUTION",
            Phase::PreVerify => "PRE_VERIFY",
            Phase::Verification => "VERIFICATION",
            Phase::Ship => "SHIP",
            Phase::Done => "DONE",
            Phase::Failed(_) => "FAILED",
        }
    }
}

/// What happened in a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// An agent the phase needs cannot run (exit 3).
    Unavailable,
    /// INIT: routed (the start stage may be overridden by `--stage` / `--plan`).
    Routed(Start),
    /// The stage succeeded (planning: the plan passed lint and review).
    Succeeded,
    /// The stage failed (planning: still failing after revisions).
    StageFailed,
    /// PRE_VERIFY: every gate passed.
    GatesPassed,
    /// PRE_VERIFY: a gate failed.
    GateFailed,
    /// VERIFICATION: approved.
    Approved,
    /// VERIFICATION: rejected in iteration `iteration` of `max`.
    Rejected {
        /// 1-based iteration that was rejected.
        iteration: u32,
        /// `max_verify`.
        max: u32,
    },
}

/// Where a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// By risk (the table).
    Risk(Risk),
    /// Forced by `--stage` or `--plan`.
    Stage(Phase),
}

/// The transition table. Returns `None` for an event that is not legal in `from`.
#[must_use]
pub fn next(from: Phase, event: Event) -> Option<Phase> {
    use Phase as P;
    let to = match (from, event) {
        (P::Init, Event::Routed(Start::Risk(r))) => match r {
            Risk::High => P::Discovery,
            Risk::Medium => P::Planning,
            Risk::Low => P::Execution,
        },
        (P::Init, Event::Routed(Start::Stage(s))) if !s.is_terminal() && s != P::Init => s,
        (P::Discovery, Event::Succeeded) => P::Planning,
        (P::Planning, Event::Succeeded) => P::Execution,
        (P::Execution, Event::Succeeded) => P::PreVerify,
        (P::Ship, Event::Succeeded) => P::Done,
        (
            P::Discovery | P::Planning | P::Execution | P::Ship | P::Verification,
            Event::StageFailed,
        ) => P::Failed(exit::STAGE_FAILURE),
        (
            P::Discovery | P::Planning | P::Execution | P::Ship | P::Verification,
            Event::Unavailable,
        ) => P::Failed(exit::CONFIG_ERROR),
        (P::PreVerify, Event::GatesPassed) => P::Verification,
        // Optional pre-execution gates (`[gates] before_execution`) fail like pre-verify ones.
        (P::PreVerify | P::Execution, Event::GateFailed) => P::Failed(exit::GATE_FAILURE),
        (P::Verification, Event::Approved) => P::Ship,
        (P::Verification, Event::Rejected { iteration, max }) if iteration < max => P::Execution,
        (P::Verification, Event::Rejected { .. }) => P::Failed(exit::RETRY_EXHAUSTED),
        _ => return None,
    };
    Some(to)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The outcome a random "world" gives each phase.
    fn drive(risk: Risk, max: u32, outcomes: &[u8]) -> (Vec<Phase>, u32, u32) {
        let mut phase = next(Phase::Init, Event::Routed(Start::Risk(risk))).unwrap();
        let mut path = vec![Phase::Init, phase];
        let (mut executions, mut iteration) = (0u32, 0u32);
        let mut i = 0;
        while !phase.is_terminal() {
            let o = outcomes.get(i).copied().unwrap_or(0);
            i += 1;
            let ev = match phase {
                Phase::PreVerify => {
                    if o % 7 == 6 {
                        Event::GateFailed
                    } else {
                        Event::GatesPassed
                    }
                }
                Phase::Verification => {
                    iteration += 1;
                    match o % 5 {
                        0 | 1 => Event::Approved,
                        4 => Event::StageFailed,
                        _ => Event::Rejected { iteration, max },
                    }
                }
                _ => {
                    if phase == Phase::Execution {
                        executions += 1;
                    }
                    if o % 9 == 8 {
                        Event::StageFailed
                    } else {
                        Event::Succeeded
                    }
                }
            };
            let to = next(phase, ev).expect("runner only sends legal events");
            // Every verification is immediately preceded by a gate run.
            if to == Phase::Verification {
                assert_eq!(phase, Phase::PreVerify);
            }
            phase = to;
            path.push(phase);
            assert!(i < 1000, "runs terminate");
        }
        (path, executions, iteration)
    }

    proptest! {
        #[test]
        fn every_run_ends_and_respects_the_budget(
            risk in prop_oneof![Just(Risk::Low), Just(Risk::Medium), Just(Risk::High)],
            max in 1u32..5,
            outcomes in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let (path, executions, iterations) = drive(risk, max, &outcomes);
            let last = *path.last().unwrap();
            prop_assert!(matches!(last, Phase::Done | Phase::Failed(_)));
            prop_assert!(executions <= max, "execution ran {executions} times with max {max}");
            prop_assert!(iterations <= max);
            for w in path.windows(2) {
                if w[1] == Phase::Verification { prop_assert_eq!(w[0], Phase::PreVerify); }
            }
            if let Phase::Failed(code) = last {
                prop_assert!([1, 2, 4].contains(&code));
            }
        }
    }

    #[test]
    fn golden_paths() {
        let low = drive(Risk::Low, 2, &[]).0;
        assert_eq!(
            low,
            vec![
                Phase::Init,
                Phase::Execution,
                Phase::PreVerify,
                Phase::Verification,
                Phase::Ship,
                Phase::Done
            ]
        );
        let high = drive(Risk::High, 2, &[]).0;
        assert_eq!(
            &high[..3],
            &[Phase::Init, Phase::Discovery, Phase::Planning]
        );
    }

    #[test]
    fn illegal_events_are_refused() {
        assert_eq!(next(Phase::Execution, Event::Approved), None);
        assert_eq!(next(Phase::Done, Event::Succeeded), None);
        assert_eq!(next(Phase::PreVerify, Event::Succeeded), None);
        assert_eq!(
            next(Phase::Init, Event::Routed(Start::Stage(Phase::Done))),
            None
        );
    }

    #[test]
    fn rejection_at_the_limit_fails_with_2() {
        assert_eq!(
            next(
                Phase::Verification,
                Event::Rejected {
                    iteration: 1,
                    max: 2
                }
            ),
            Some(Phase::Execution)
        );
        assert_eq!(
            next(
                Phase::Verification,
                Event::Rejected {
                    iteration: 2,
                    max: 2
                }
            ),
            Some(Phase::Failed(2))
        );
    }
}
