//! The first, per-direction summary the `detente demo` prints: figures over every case given,
//! measured at one `now`, with no period. The review ([`crate::review`]) supersedes it for the
//! dialogue; it stays because the demo checks with it that both nodes agree.

use std::collections::BTreeMap;

use detente_domain::{Agreement, Case, CaseStatus, MilestoneState};
use detente_protocol::{DeclineReason, PartyId, Timestamp};
use serde::Serialize;

use crate::{Durations, Share};

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
