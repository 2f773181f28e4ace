//! The deadline clock: how long the responder took, or has been taking, against the
//! agreement's deadlines, with clarification pauses taken out.

use detente_protocol::Timestamp;
use serde::Serialize;
use time::Duration;

use crate::{Case, CaseStatus, Deadlines};

/// Where a case stands against one deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MilestoneState {
    /// Reached at `at`, after `elapsed` of the responder's time (pauses excluded).
    Met {
        /// Official time it was reached.
        at: Timestamp,
        /// Responder time it took, in milliseconds.
        elapsed_ms: i64,
        /// Whether that was within the deadline.
        within_deadline: bool,
    },
    /// Not reached yet.
    Pending {
        /// When it falls due; `None` while the clock is paused.
        due: Option<Timestamp>,
        /// Whether the deadline has passed.
        overdue: bool,
    },
    /// Never to be reached: the case was withdrawn first.
    Moot,
}

/// A case against its three deadlines at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeliness {
    /// Time to acknowledge.
    pub acknowledge: MilestoneState,
    /// Time to first answer.
    pub first_answer: MilestoneState,
    /// Time to final answer.
    pub final_answer: MilestoneState,
}

impl Timeliness {
    /// Whether any deadline has passed unmet.
    pub fn is_overdue(&self) -> bool {
        [self.acknowledge, self.first_answer, self.final_answer]
            .iter()
            .any(|m| matches!(m, MilestoneState::Pending { overdue: true, .. }))
    }
}

impl Case {
    /// The case against `deadlines` as of `now`.
    pub fn timeliness(&self, deadlines: &Deadlines, now: Timestamp) -> Timeliness {
        let state = |reached: Option<Timestamp>, limit: crate::Span| -> MilestoneState {
            let limit = limit.duration();
            if let Some(at) = reached {
                let elapsed = self.responder_time(at);
                return MilestoneState::Met {
                    at,
                    elapsed_ms: millis(elapsed),
                    within_deadline: elapsed <= limit,
                };
            }
            if self.status.is_terminal() {
                return MilestoneState::Moot;
            }
            let paused = self.status == CaseStatus::ClarificationNeeded;
            MilestoneState::Pending {
                due: (!paused).then(|| self.filed_at.add(limit + self.paused_until(now))),
                overdue: self.responder_time(now) > limit,
            }
        };
        Timeliness {
            acknowledge: state(self.acknowledged_at, deadlines.acknowledge),
            first_answer: state(self.first_answer_at, deadlines.first_answer),
            final_answer: state(self.final_answer_at, deadlines.final_answer),
        }
    }

    /// The responder's time from filing to `t`, clarification pauses excluded.
    pub fn responder_time(&self, t: Timestamp) -> Duration {
        (t.since(self.filed_at) - self.paused_until(t)).max(Duration::ZERO)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX)
}
