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
    let mut summary = Summarizer::new(agreement, now);
    for c in cases {
        summary.add(c);
    }
    summary.finish()
}

/// [`summarize`] one case at a time: whoever derives the cases of a large log can count each
/// and drop it, and hold a few integers per case rather than every case.
#[derive(Debug)]
pub struct Summarizer<'a> {
    agreement: &'a Agreement,
    now: Timestamp,
    directions: Vec<Tally>,
}

/// One direction's counts so far, and the values its statistics are taken over.
#[derive(Debug)]
struct Tally {
    summary: DirectionSummary,
    ack: Vec<i64>,
    fin: Vec<i64>,
    rating_sum: u64,
}

impl<'a> Summarizer<'a> {
    /// No cases yet; the figures will be measured at `now`.
    pub fn new(agreement: &'a Agreement, now: Timestamp) -> Self {
        Self {
            agreement,
            now,
            directions: Vec::new(),
        }
    }

    /// Counts one case.
    pub fn add(&mut self, c: &Case) {
        // A handful of directions at most: a scan costs less than a key to look one up.
        let at =
            match self.directions.iter().position(|d| {
                d.summary.requester == c.requester && d.summary.responder == c.responder
            }) {
                Some(at) => at,
                None => {
                    self.directions.push(Tally::new(&c.requester, &c.responder));
                    self.directions.len() - 1
                }
            };
        let d = &mut self.directions[at];
        let s = &mut d.summary;
        s.filed += 1;
        let t = c.timeliness(&self.agreement.deadlines(c.priority), self.now);
        if let MilestoneState::Met { elapsed_ms, .. } = t.acknowledge {
            s.acknowledged += 1;
            d.ack.push(elapsed_ms);
        }
        if let MilestoneState::Met { elapsed_ms, .. } = t.final_answer {
            d.fin.push(elapsed_ms);
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
            s.rated += 1;
            d.rating_sum += u64::from(r);
        }
    }

    /// The figures per direction, ordered by (requester, responder).
    pub fn finish(self) -> Vec<DirectionSummary> {
        let mut out: Vec<DirectionSummary> = self
            .directions
            .into_iter()
            .map(|d| {
                let mut s = d.summary;
                s.time_to_acknowledge = Durations::of(d.ack);
                s.time_to_final_answer = Durations::of(d.fin);
                // Ratings are small integers, so their sum is exact in either type and the
                // mean is the one a sum of floats would give.
                s.mean_rating = (s.rated > 0).then(|| d.rating_sum as f64 / s.rated as f64);
                s
            })
            .collect();
        out.sort_by(|a, b| (&a.requester, &a.responder).cmp(&(&b.requester, &b.responder)));
        out
    }
}

impl Tally {
    fn new(requester: &PartyId, responder: &PartyId) -> Self {
        Self {
            summary: DirectionSummary {
                requester: requester.clone(),
                responder: responder.clone(),
                filed: 0,
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
            },
            ack: Vec::new(),
            fin: Vec::new(),
            rating_sum: 0,
        }
    }
}
