//! Timeliness and quality figures computed from derived cases: the numbers the review
//! dialogue quotes. Pure and deterministic: the same cases and the same `now` give the same
//! figures on either party's node and on an auditor's machine.

use std::collections::BTreeMap;

use detente_domain::{Agreement, Case, CaseStatus, MilestoneState};
use detente_protocol::{DeclineReason, PartyId, Timestamp};
use serde::Serialize;

/// The figures for one direction (requests filed by `requester` to `responder`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectionSummary {
    /// Party that filed the requests.
    pub requester: PartyId,
    /// Party asked to respond.
    pub responder: PartyId,
    /// Requests filed (officially received).
    pub filed: usize,
    /// Requests with any reply from the responder.
    pub acknowledged: usize,
    /// Requests with a final answer.
    pub answered: usize,
    /// Requests declined, by reason.
    pub declined: BTreeMap<DeclineReason, usize>,
    /// Requests withdrawn by the requester.
    pub withdrawn: usize,
    /// Requests still open (neither finally answered, declined nor withdrawn).
    pub open: usize,
    /// Time to acknowledge, for acknowledged requests.
    pub time_to_acknowledge: Durations,
    /// Time to final answer or decline, clarification pauses excluded.
    pub time_to_final_answer: Durations,
    /// Acknowledgements within deadline, of those due or made.
    pub acknowledged_in_time: Share,
    /// Final answers within deadline, of those due or made.
    pub answered_in_time: Share,
    /// Requests with a passed, unmet deadline now.
    pub overdue: usize,
    /// Final answers rated by the requester.
    pub rated: usize,
    /// Mean rating (1-5) of rated answers.
    pub mean_rating: Option<f64>,
}

/// Summary statistics of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Durations {
    /// How many.
    pub count: usize,
    /// The median; for an even count the lower of the two middle values, so it is always an
    /// observed value and identical everywhere.
    pub median_ms: Option<i64>,
    /// The 90th percentile (nearest rank).
    pub p90_ms: Option<i64>,
    /// The largest.
    pub max_ms: Option<i64>,
}

impl Durations {
    fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        let n = values.len();
        let rank = |p: usize| (n > 0).then(|| values[(n * p).div_ceil(100).max(1) - 1]);
        Self {
            count: n,
            median_ms: (n > 0).then(|| values[(n - 1) / 2]),
            p90_ms: rank(90),
            max_ms: values.last().copied(),
        }
    }
}

/// `met` of `due` cases, where `due` counts cases whose deadline was met or has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Share {
    /// Met within the deadline.
    pub met: usize,
    /// Measured: met (in time or late) plus pending past their deadline.
    pub due: usize,
}

impl Share {
    /// The share as a fraction, if anything was due.
    pub fn ratio(self) -> Option<f64> {
        (self.due > 0).then(|| self.met as f64 / self.due as f64)
    }

    fn count(&mut self, m: MilestoneState) {
        match m {
            MilestoneState::Met {
                within_deadline, ..
            } => {
                self.due += 1;
                self.met += usize::from(within_deadline);
            }
            MilestoneState::Pending { overdue: true, .. } => self.due += 1,
            MilestoneState::Pending { .. } | MilestoneState::Moot => {}
        }
    }
}

/// Figures per direction, ordered by (requester, responder).
pub fn summarize(agreement: &Agreement, cases: &[Case], now: Timestamp) -> Vec<DirectionSummary> {
    let mut groups: BTreeMap<(PartyId, PartyId), Vec<&Case>> = BTreeMap::new();
    for c in cases {
        groups
            .entry((c.requester.clone(), c.responder.clone()))
            .or_default()
            .push(c);
    }
    groups
        .into_iter()
        .map(|((requester, responder), cases)| {
            let mut s = DirectionSummary {
                requester,
                responder,
                filed: cases.len(),
                acknowledged: 0,
                answered: 0,
                declined: BTreeMap::new(),
                withdrawn: 0,
                open: 0,
                time_to_acknowledge: Durations::default(),
                time_to_final_answer: Durations::default(),
                acknowledged_in_time: Share::default(),
                answered_in_time: Share::default(),
                overdue: 0,
                rated: 0,
                mean_rating: None,
            };
            let (mut ack, mut fin, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
            for c in cases {
                let t = c.timeliness(&agreement.deadlines(c.priority), now);
                if let MilestoneState::Met { elapsed_ms, .. } = t.acknowledge {
                    s.acknowledged += 1;
                    ack.push(elapsed_ms);
                }
                if let MilestoneState::Met { elapsed_ms, .. } = t.final_answer {
                    fin.push(elapsed_ms);
                }
                s.acknowledged_in_time.count(t.acknowledge);
                s.answered_in_time.count(t.final_answer);
                s.overdue += usize::from(t.is_overdue());
                match c.status {
                    CaseStatus::Answered | CaseStatus::Closed => s.answered += 1,
                    CaseStatus::Declined => {}
                    CaseStatus::Withdrawn => s.withdrawn += 1,
                    _ => s.open += 1,
                }
                if let Some(reason) = c.decline_reason {
                    *s.declined.entry(reason).or_default() += 1;
                }
                if let Some(r) = c.rating {
                    ratings.push(f64::from(r));
                }
            }
            s.time_to_acknowledge = Durations::of(ack);
            s.time_to_final_answer = Durations::of(fin);
            s.rated = ratings.len();
            s.mean_rating =
                (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_lower_middle_value() {
        let d = Durations::of(vec![40, 10, 30, 20]);
        assert_eq!(d.median_ms, Some(20));
        assert_eq!(d.max_ms, Some(40));
        assert_eq!(d.count, 4);
    }

    #[test]
    fn the_p90_is_the_nearest_rank() {
        let d = Durations::of((1..=10).collect());
        assert_eq!(d.p90_ms, Some(9));
        assert_eq!(Durations::of(vec![7]).p90_ms, Some(7));
        assert_eq!(Durations::of(vec![]).median_ms, None);
    }

    #[test]
    fn shares_count_met_and_overdue_but_not_pending_in_time() {
        let mut s = Share::default();
        let at = Timestamp::from_unix_millis(0).expect("epoch");
        s.count(MilestoneState::Met {
            at,
            elapsed_ms: 1,
            within_deadline: true,
        });
        s.count(MilestoneState::Met {
            at,
            elapsed_ms: 9,
            within_deadline: false,
        });
        s.count(MilestoneState::Pending {
            due: None,
            overdue: true,
        });
        s.count(MilestoneState::Pending {
            due: None,
            overdue: false,
        });
        s.count(MilestoneState::Moot);
        assert_eq!(s, Share { met: 1, due: 3 });
        assert_eq!(Share::default().ratio(), None);
    }
}
