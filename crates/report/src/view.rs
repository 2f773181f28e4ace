//! A case as it stood at an instant: what the log had officially recorded before it.
//!
//! A derived [`Case`] reflects every message received so far. A review of a past period must
//! not see what happened after it, or the figures for 2026-H1 would change every time a late
//! answer arrives. [`as_of`] drops every milestone whose official time is at or after the
//! instant and works out the status the case had then, so the domain's own deadline clock
//! ([`Case::timeliness`]) can be asked about that moment.

use std::borrow::Cow;

use detente_domain::{Case, CaseStatus};
use detente_protocol::Timestamp;

/// The case as it stood at `t`: milestones officially recorded strictly before `t` are kept,
/// later ones dropped (a clarification pause still running at `t` is open again). Borrows when
/// nothing happened at or after `t`.
///
/// The status is recomputed from the remaining milestones, in the lifecycle's precedence:
/// withdrawn, closed (rated), declined, answered, waiting for a clarification,
/// partially answered, acknowledged, sent.
pub fn as_of(case: &Case, t: Timestamp) -> Cow<'_, Case> {
    let late = |x: Option<Timestamp>| x.is_some_and(|x| x >= t);
    let anything_late = late(case.acknowledged_at)
        || late(case.first_answer_at)
        || late(case.final_answer_at)
        || late(case.withdrawn_at)
        || late(case.closed_at)
        || case.pauses.iter().any(|p| p.from >= t || late(p.until));
    if !anything_late {
        return Cow::Borrowed(case);
    }
    let seen = |x: Option<Timestamp>| x.filter(|x| *x < t);
    let mut c = case.clone();
    c.acknowledged_at = seen(c.acknowledged_at);
    c.first_answer_at = seen(c.first_answer_at);
    c.final_answer_at = seen(c.final_answer_at);
    c.withdrawn_at = seen(c.withdrawn_at);
    c.closed_at = seen(c.closed_at);
    if c.final_answer_at.is_none() {
        c.decline_reason = None;
    }
    if c.closed_at.is_none() {
        c.rating = None;
    }
    c.pauses.retain(|p| p.from < t);
    for p in &mut c.pauses {
        p.until = seen(p.until);
    }
    c.status = status_from_milestones(&c);
    Cow::Owned(c)
}

fn status_from_milestones(c: &Case) -> CaseStatus {
    if c.withdrawn_at.is_some() {
        CaseStatus::Withdrawn
    } else if c.closed_at.is_some() {
        CaseStatus::Closed
    } else if c.final_answer_at.is_some() {
        if c.decline_reason.is_some() {
            CaseStatus::Declined
        } else {
            CaseStatus::Answered
        }
    } else if c.pauses.last().is_some_and(|p| p.until.is_none()) {
        CaseStatus::ClarificationNeeded
    } else if c.first_answer_at.is_some() {
        CaseStatus::PartiallyAnswered
    } else if c.acknowledged_at.is_some() {
        CaseStatus::Acknowledged
    } else {
        CaseStatus::Sent
    }
}

/// The official time the case stopped being open: the earliest of its final answer (or
/// decline), withdrawal and rating. The case is open at `t` exactly when it was filed before
/// `t` and this is `None` or not before `t`, which is what [`as_of`] and `Case::is_open` say too.
pub fn finished_at(case: &Case) -> Option<Timestamp> {
    [case.final_answer_at, case.withdrawn_at, case.closed_at]
        .into_iter()
        .flatten()
        .min()
}
