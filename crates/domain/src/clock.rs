//! The deadline clock: how long the responder took, or has been taking, against the
//! agreement's deadlines, with clarification pauses taken out, and the one definition of
//! "overdue" that the case list, the case view, the review and alerts all use.
//!
//! Every instant is an official (receipt) time, to the millisecond. A deadline is met in time
//! when the responder's time at the milestone is at most the deadline (exactly at it is in
//! time); a case is overdue from the first millisecond its responder time exceeds a deadline
//! it has not met, for as long as it stays open. A clarification pause stops the responder's
//! time, so a case paused before its deadline does not fall overdue and one paused after it
//! stays overdue. A withdrawal ends the case: a deadline that had already passed unmet stays
//! missed, one still running becomes moot.

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
        /// When the deadline falls (the instant the responder's time reaches it); `None`
        /// while the clock is paused short of it.
        due: Option<Timestamp>,
        /// Whether the deadline has passed.
        overdue: bool,
    },
    /// Never reached: the case was withdrawn after the deadline had passed, so the miss
    /// stands.
    Missed {
        /// When the deadline fell.
        due: Timestamp,
    },
    /// Never to be reached: the case was withdrawn while the deadline was still running.
    Moot,
}

impl MilestoneState {
    /// Whether the deadline was missed: met late, passed while still pending, or passed
    /// before a withdrawal. The review counts these against the responder.
    pub fn is_missed(self) -> bool {
        matches!(
            self,
            Self::Met {
                within_deadline: false,
                ..
            } | Self::Pending { overdue: true, .. }
                | Self::Missed { .. }
        )
    }
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
    /// Whether any deadline has passed unmet while the case is still open: the same answer
    /// as [`Case::is_overdue`] at the same instant.
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
            if let Some(withdrawn) = self.withdrawn_at {
                return match self.reaches(limit) {
                    Some(due) if self.responder_time(withdrawn) > limit => {
                        MilestoneState::Missed { due }
                    }
                    _ => MilestoneState::Moot,
                };
            }
            if self.status.is_terminal() {
                return MilestoneState::Moot;
            }
            MilestoneState::Pending {
                due: self.reaches(limit),
                overdue: self.responder_time(now) > limit,
            }
        };
        Timeliness {
            acknowledge: state(self.acknowledged_at, deadlines.acknowledge),
            first_answer: state(self.first_answer_at, deadlines.first_answer),
            final_answer: state(self.final_answer_at, deadlines.final_answer),
        }
    }

    /// The first instant at which the case is overdue, given the messages it holds: `None`
    /// when it is not open (answered, declined, withdrawn or closed) or when its clock is
    /// paused short of every deadline it has not met. The case list stores this, and every
    /// view of a case calls a case overdue at `t` exactly when this is at or before `t`.
    pub fn overdue_from(&self, deadlines: &Deadlines) -> Option<Timestamp> {
        if !self.is_open() {
            return None;
        }
        // Deadlines grow from acknowledgement to final answer, so the earliest unmet one is
        // the first to pass.
        let limit = [
            (self.acknowledged_at, deadlines.acknowledge),
            (self.first_answer_at, deadlines.first_answer),
            (self.final_answer_at, deadlines.final_answer),
        ]
        .into_iter()
        .filter(|(reached, _)| reached.is_none())
        .map(|(_, limit)| limit.duration())
        .min()?;
        self.reaches(limit + Duration::milliseconds(1))
    }

    /// Whether the case is overdue at `at`: open, with a deadline it has not met already
    /// passed (its responder time beyond it).
    pub fn is_overdue(&self, deadlines: &Deadlines, at: Timestamp) -> bool {
        self.overdue_from(deadlines).is_some_and(|from| from <= at)
    }

    /// Whether the responder still owes the requester a reply: the case is neither answered,
    /// declined, withdrawn nor closed.
    pub fn is_open(&self) -> bool {
        self.status.awaits_responder() || self.status == CaseStatus::ClarificationNeeded
    }

    /// The responder's time from filing to `t`, clarification pauses excluded.
    pub fn responder_time(&self, t: Timestamp) -> Duration {
        (t.since(self.filed_at) - self.paused_until(t)).max(Duration::ZERO)
    }

    /// The first instant at which the responder's time reaches `r`, or `None` if the clock
    /// is paused (waiting for a clarification) before it does. Walks the same pauses, clamped
    /// the same way, as [`Case::paused_until`], so `responder_time(t) >= r` exactly when `t`
    /// is at or after the answer.
    fn reaches(&self, r: Duration) -> Option<Timestamp> {
        // Counted pauses are disjoint and in order: each starts at or after the end of the
        // last one counted, and an empty one counts nothing.
        let mut cursor = self.filed_at;
        let mut elapsed = Duration::ZERO;
        for p in &self.pauses {
            let start = p.from.max(cursor);
            if p.until.is_some_and(|end| end <= start) {
                continue;
            }
            let running = start.since(cursor);
            if elapsed + running >= r {
                return Some(cursor.add(r - elapsed));
            }
            elapsed += running;
            cursor = p.until?;
        }
        Some(cursor.add(r - elapsed))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.whole_milliseconds()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use detente_protocol::Priority;

    use super::*;
    use crate::fixtures::{
        DAY, HOUR, ack, agreement, case_in, clarification, decline, final_answer, from_requester,
        from_responder, open_case, open_case_with, partial_answer, question, rating, t, withdrawal,
    };

    /// The normal-priority deadlines of the sample agreement: 1 day, 7 days, 30 days.
    fn normal() -> Deadlines {
        agreement().deadlines(Priority::Normal)
    }

    fn ms(seconds: i64) -> i64 {
        seconds * 1_000
    }

    /// `n` milliseconds, for the edges of deadlines.
    fn msec(n: i64) -> Duration {
        Duration::milliseconds(n)
    }

    #[test]
    fn a_milestone_reached_within_its_deadline_is_met_in_time() {
        // Arrange
        let mut case = open_case();
        case.apply(&from_responder(ack()).build(), t(5 * HOUR))
            .expect("legal");
        // Act
        let timeliness = case.timeliness(&normal(), t(6 * HOUR));
        // Assert
        assert_eq!(
            timeliness.acknowledge,
            MilestoneState::Met {
                at: t(5 * HOUR),
                elapsed_ms: ms(5 * HOUR),
                within_deadline: true,
            }
        );
    }

    #[test]
    fn a_milestone_reached_after_its_deadline_is_met_late() {
        let mut case = open_case();
        case.apply(&from_responder(ack()).build(), t(DAY + 1))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(2 * DAY));
        assert_eq!(
            timeliness.acknowledge,
            MilestoneState::Met {
                at: t(DAY + 1),
                elapsed_ms: ms(DAY + 1),
                within_deadline: false,
            }
        );
        assert!(
            !timeliness.is_overdue(),
            "a late milestone is no longer overdue"
        );
    }

    #[test]
    fn a_milestone_reached_exactly_at_its_deadline_is_in_time() {
        let mut case = open_case();
        case.apply(&from_responder(ack()).build(), t(DAY))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(DAY));
        assert!(matches!(
            timeliness.acknowledge,
            MilestoneState::Met {
                within_deadline: true,
                ..
            }
        ));
    }

    #[test]
    fn unmet_milestones_are_pending_with_their_due_dates() {
        let case = open_case();
        let timeliness = case.timeliness(&normal(), t(HOUR));
        assert_eq!(
            timeliness,
            Timeliness {
                acknowledge: MilestoneState::Pending {
                    due: Some(t(DAY)),
                    overdue: false,
                },
                first_answer: MilestoneState::Pending {
                    due: Some(t(7 * DAY)),
                    overdue: false,
                },
                final_answer: MilestoneState::Pending {
                    due: Some(t(30 * DAY)),
                    overdue: false,
                },
            }
        );
        assert!(!timeliness.is_overdue());
    }

    #[test]
    fn a_milestone_is_overdue_only_once_its_deadline_has_passed() {
        let case = open_case();
        let at_deadline = case.timeliness(&normal(), t(DAY));
        let just_after = case.timeliness(&normal(), t(DAY + 1));
        assert!(!at_deadline.is_overdue());
        assert!(just_after.is_overdue());
        assert_eq!(
            just_after.acknowledge,
            MilestoneState::Pending {
                due: Some(t(DAY)),
                overdue: true,
            }
        );
        assert!(matches!(
            just_after.first_answer,
            MilestoneState::Pending { overdue: false, .. }
        ));
    }

    #[test]
    fn deadlines_follow_the_priority_of_the_request() {
        let case = open_case_with(Priority::Critical);
        let deadlines = agreement().deadlines(case.priority);
        let timeliness = case.timeliness(&deadlines, t(2 * HOUR));
        assert_eq!(
            timeliness.acknowledge,
            MilestoneState::Pending {
                due: Some(t(HOUR)),
                overdue: true,
            }
        );
        assert!(timeliness.is_overdue());
    }

    #[test]
    fn an_overdue_first_answer_makes_an_acknowledged_case_overdue() {
        let case = case_in(CaseStatus::Acknowledged);
        assert!(!case.timeliness(&normal(), t(7 * DAY)).is_overdue());
        assert!(case.timeliness(&normal(), t(7 * DAY + 1)).is_overdue());
    }

    #[test]
    fn there_is_no_due_date_while_the_clock_is_paused() {
        // Arrange: acknowledged at 1h, question at 2h.
        let case = case_in(CaseStatus::ClarificationNeeded);
        // Act
        let timeliness = case.timeliness(&normal(), t(3 * HOUR));
        // Assert
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Pending {
                due: None,
                overdue: false,
            }
        );
        assert!(matches!(timeliness.acknowledge, MilestoneState::Met { .. }));
    }

    #[test]
    fn a_paused_case_does_not_fall_overdue() {
        let case = case_in(CaseStatus::ClarificationNeeded);
        let timeliness = case.timeliness(&normal(), t(100 * DAY));
        assert!(!timeliness.is_overdue());
        assert_eq!(case.responder_time(t(100 * DAY)).whole_seconds(), 2 * HOUR);
    }

    #[test]
    fn a_case_already_overdue_stays_overdue_while_paused() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(question()).build(), t(8 * DAY))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(9 * DAY));
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Pending {
                due: Some(t(7 * DAY)),
                overdue: true,
            }
        );
        assert!(case.is_overdue(&normal(), t(9 * DAY)));
    }

    #[test]
    fn the_due_date_shifts_by_the_pause() {
        // Arrange: paused from 2h to 2d 2h.
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(
            &from_requester(clarification()).build(),
            t(2 * DAY + 2 * HOUR),
        )
        .expect("legal");
        // Act
        let timeliness = case.timeliness(&normal(), t(3 * DAY));
        // Assert
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Pending {
                due: Some(t(9 * DAY)),
                overdue: false,
            }
        );
        assert!(!case.timeliness(&normal(), t(9 * DAY)).is_overdue());
        assert!(case.timeliness(&normal(), t(9 * DAY + 1)).is_overdue());
    }

    #[test]
    fn pauses_are_excluded_from_elapsed_time() {
        // Arrange: paused from 2h to 5h, answered at 10h.
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(&from_requester(clarification()).build(), t(5 * HOUR))
            .expect("legal");
        case.apply(&from_responder(final_answer()).build(), t(10 * HOUR))
            .expect("legal");
        // Act
        let timeliness = case.timeliness(&normal(), t(DAY));
        // Assert
        assert_eq!(
            timeliness.final_answer,
            MilestoneState::Met {
                at: t(10 * HOUR),
                elapsed_ms: ms(7 * HOUR),
                within_deadline: true,
            }
        );
        assert_eq!(case.paused_until(t(DAY)).whole_seconds(), 3 * HOUR);
    }

    #[test]
    fn a_pause_makes_a_late_answer_timely() {
        // Critical: first answer due within 24 h. Paused 2h-12h, answered at 30h: 20 h of
        // responder time.
        let mut case = open_case_with(Priority::Critical);
        case.apply(&from_responder(question()).build(), t(2 * HOUR))
            .expect("legal");
        case.apply(&from_requester(clarification()).build(), t(12 * HOUR))
            .expect("legal");
        case.apply(&from_responder(partial_answer()).build(), t(30 * HOUR))
            .expect("legal");
        let deadlines = agreement().deadlines(Priority::Critical);
        let timeliness = case.timeliness(&deadlines, t(30 * HOUR));
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Met {
                at: t(30 * HOUR),
                elapsed_ms: ms(20 * HOUR),
                within_deadline: true,
            }
        );
    }

    #[test]
    fn an_open_pause_counts_up_to_now() {
        let case = case_in(CaseStatus::ClarificationNeeded);
        assert_eq!(case.paused_until(t(2 * HOUR)).whole_seconds(), 0);
        assert_eq!(case.paused_until(t(7 * HOUR)).whole_seconds(), 5 * HOUR);
        assert_eq!(case.paused_until(t(HOUR)).whole_seconds(), 0);
    }

    #[test]
    fn a_deadline_missed_before_a_withdrawal_stays_missed() {
        // Regression: a withdrawal made every unmet milestone moot, so a responder who
        // ignored a request until the requester gave up showed no miss.
        // Arrange: acknowledged at 1h, withdrawn long after the first and final deadlines.
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_requester(withdrawal()).build(), t(40 * DAY))
            .expect("legal");
        // Act
        let timeliness = case.timeliness(&normal(), t(41 * DAY));
        // Assert
        assert!(matches!(timeliness.acknowledge, MilestoneState::Met { .. }));
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Missed { due: t(7 * DAY) }
        );
        assert_eq!(
            timeliness.final_answer,
            MilestoneState::Missed { due: t(30 * DAY) }
        );
        assert!(timeliness.first_answer.is_missed());
        assert!(
            !timeliness.is_overdue(),
            "a withdrawn case is no longer open"
        );
    }

    #[test]
    fn a_withdrawal_one_millisecond_after_a_deadline_leaves_it_missed_and_at_it_moot() {
        // The acknowledgement deadline (1 d) of an unanswered request.
        let withdrawn_at = |at: Timestamp| {
            let mut case = open_case();
            case.apply(&from_requester(withdrawal()).build(), at)
                .expect("legal");
            case.timeliness(&normal(), t(100 * DAY)).acknowledge
        };
        assert_eq!(withdrawn_at(t(DAY).add(msec(-1))), MilestoneState::Moot);
        assert_eq!(
            withdrawn_at(t(DAY)),
            MilestoneState::Moot,
            "at the deadline"
        );
        assert_eq!(
            withdrawn_at(t(DAY).add(msec(1))),
            MilestoneState::Missed { due: t(DAY) }
        );
    }

    #[test]
    fn a_late_decline_counts_as_a_late_answer_not_a_moot_one() {
        let mut case = open_case();
        case.apply(&from_responder(decline()).build(), t(8 * DAY))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(9 * DAY));
        assert!(timeliness.acknowledge.is_missed());
        assert!(timeliness.first_answer.is_missed());
        assert!(!timeliness.final_answer.is_missed(), "30 d: in time");
    }

    #[test]
    fn a_case_is_overdue_from_the_first_millisecond_after_its_deadline() {
        let case = open_case();
        assert_eq!(case.overdue_from(&normal()), Some(t(DAY).add(msec(1))));
        assert!(!case.is_overdue(&normal(), t(DAY)));
        assert!(case.is_overdue(&normal(), t(DAY).add(msec(1))));
        assert_eq!(
            case.timeliness(&normal(), t(DAY)).is_overdue(),
            case.is_overdue(&normal(), t(DAY))
        );
    }

    #[test]
    fn a_question_one_millisecond_after_the_deadline_leaves_the_case_overdue_while_paused() {
        // Regression: the case list called such a case not overdue (its pending milestones
        // had no due date while paused) while the review counted it overdue.
        let asked_at = |at: Timestamp| {
            let mut case = case_in(CaseStatus::Acknowledged);
            case.apply(&from_responder(question()).build(), at)
                .expect("legal");
            case
        };
        let late = asked_at(t(7 * DAY).add(msec(1)));
        assert_eq!(late.overdue_from(&normal()), Some(t(7 * DAY).add(msec(1))));
        assert!(late.is_overdue(&normal(), t(60 * DAY)));
        assert!(late.timeliness(&normal(), t(60 * DAY)).is_overdue());
        let at_deadline = asked_at(t(7 * DAY));
        assert_eq!(at_deadline.overdue_from(&normal()), None);
        assert!(!at_deadline.is_overdue(&normal(), t(60 * DAY)));
        assert!(!at_deadline.timeliness(&normal(), t(60 * DAY)).is_overdue());
    }

    #[test]
    fn a_pause_after_the_deadline_does_not_move_the_deadline() {
        // Arrange: first answer due at 7 d; paused from 8 d to 9 d.
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(question()).build(), t(8 * DAY))
            .expect("legal");
        case.apply(&from_requester(clarification()).build(), t(9 * DAY))
            .expect("legal");
        // Act
        let timeliness = case.timeliness(&normal(), t(10 * DAY));
        // Assert
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Pending {
                due: Some(t(7 * DAY)),
                overdue: true,
            }
        );
        assert_eq!(case.overdue_from(&normal()), Some(t(7 * DAY).add(msec(1))));
    }

    #[test]
    fn a_case_that_is_not_open_is_never_overdue() {
        for status in [
            CaseStatus::Answered,
            CaseStatus::Declined,
            CaseStatus::Withdrawn,
            CaseStatus::Closed,
        ] {
            let case = case_in(status);
            assert!(!case.is_open());
            assert_eq!(case.overdue_from(&normal()), None, "{status}");
        }
    }

    #[test]
    fn a_withdrawal_before_any_reply_makes_every_milestone_moot() {
        let case = case_in(CaseStatus::Withdrawn);
        let timeliness = case.timeliness(&normal(), t(100 * DAY));
        assert_eq!(
            [
                timeliness.acknowledge,
                timeliness.first_answer,
                timeliness.final_answer
            ],
            [MilestoneState::Moot; 3]
        );
    }

    #[test]
    fn a_decline_counts_as_first_and_final_answer() {
        let mut case = case_in(CaseStatus::Acknowledged);
        case.apply(&from_responder(decline()).build(), t(8 * DAY))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(100 * DAY));
        assert_eq!(
            timeliness.first_answer,
            MilestoneState::Met {
                at: t(8 * DAY),
                elapsed_ms: ms(8 * DAY),
                within_deadline: false,
            }
        );
        assert_eq!(
            timeliness.final_answer,
            MilestoneState::Met {
                at: t(8 * DAY),
                elapsed_ms: ms(8 * DAY),
                within_deadline: true,
            }
        );
    }

    #[test]
    fn a_closed_case_has_met_every_milestone() {
        let mut case = case_in(CaseStatus::Answered);
        case.apply(&from_requester(rating(5)).build(), t(60 * DAY))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(90 * DAY));
        for m in [
            timeliness.acknowledge,
            timeliness.first_answer,
            timeliness.final_answer,
        ] {
            assert!(matches!(
                m,
                MilestoneState::Met {
                    within_deadline: true,
                    ..
                }
            ));
        }
    }

    #[test]
    fn elapsed_time_is_never_negative_when_a_reply_predates_the_filing() {
        // The reply is stamped by the requester's clock, the filing by the responder's.
        let mut case = open_case();
        case.apply(&from_responder(ack()).build(), t(-4))
            .expect("legal");
        let timeliness = case.timeliness(&normal(), t(HOUR));
        assert!(matches!(
            timeliness.acknowledge,
            MilestoneState::Met {
                elapsed_ms: 0,
                within_deadline: true,
                ..
            }
        ));
        assert_eq!(case.responder_time(t(-10)), Duration::ZERO);
    }

    #[test]
    fn paused_time_never_exceeds_the_time_that_passed() {
        // Regression: with the second question stamped 3 s before the clarification that
        // preceded it (two clocks), the overlap counted twice and responder time ran
        // backwards, so an overdue case could turn timely again.
        let mut case = case_in(CaseStatus::ClarificationNeeded);
        case.apply(&from_requester(clarification()).build(), t(3 * HOUR))
            .expect("legal");
        case.apply(&from_responder(question()).build(), t(3 * HOUR - 3))
            .expect("legal");
        for now in [3 * HOUR - 3, 3 * HOUR, 4 * HOUR, 30 * DAY] {
            assert!(
                case.paused_until(t(now)) <= t(now).since(case.filed_at),
                "at {now}"
            );
        }
        assert!(case.responder_time(t(3 * HOUR)) <= case.responder_time(t(3 * HOUR + 1)));
    }

    #[test]
    fn overlapping_pauses_set_by_hand_are_counted_once() {
        let mut case = open_case();
        case.pauses = vec![
            crate::Pause {
                from: t(-HOUR),
                until: Some(t(2 * HOUR)),
            },
            crate::Pause {
                from: t(HOUR),
                until: Some(t(3 * HOUR)),
            },
        ];
        assert_eq!(case.paused_until(t(DAY)).whole_seconds(), 3 * HOUR);
    }

    #[test]
    fn timeliness_serialises_with_a_state_tag() {
        let case = case_in(CaseStatus::Acknowledged);
        let json =
            serde_json::to_value(case.timeliness(&normal(), t(2 * HOUR))).expect("serialisable");
        assert_eq!(json["acknowledge"]["state"], "met");
        assert_eq!(json["acknowledge"]["elapsed_ms"], ms(HOUR));
        assert_eq!(json["first_answer"]["state"], "pending");
        assert_eq!(json["first_answer"]["due"], "2026-05-08T00:00:00.000Z");
    }
}
