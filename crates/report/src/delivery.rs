//! How long messages took to arrive, per direction and receiving side: the figure that shows
//! a party stalling its own clock.
//!
//! Every official time is the receiver's receipt time. A responder that is down, or simply
//! does not take messages, pushes the filing of each request later and so shortens every
//! time counted against it; a requester that does not take answers makes the responder look
//! slow. The sender signs its sealing time (`sent_at`), which is its first attempt to deliver
//! (the outbox tries at once and keeps retrying), so the gap from sealing to receipt is in
//! both logs and both parties compute the same figures from them, as does an auditor from
//! two redacted bundles.
//!
//! A period counts the messages officially received in `[start, edge)`, whatever the period
//! their case was filed in, as the backlog does. A message that waited longer than
//! [`LATE_MS`] is *late*; the stretches during which at least one late message to a side was
//! waiting (sealed but not yet received), merged where they overlap, are that side's
//! *waiting* stretches: roughly, when it could not be reached or did not answer.

use detente_domain::{Case, Role};
use detente_protocol::Timestamp;
use serde::Serialize;

use crate::{Durations, review::millis};

/// A message that took longer than this from sealing to receipt was late: well past any
/// network delay and the allowed clock skew, so the receiver was unreachable or not answering.
pub const LATE_MS: i64 = 60_000;

/// Deliveries to both sides of one direction's cases.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Transit {
    /// Messages the requester sent (requests, clarifications, withdrawals, ratings).
    pub to_responder: Leg,
    /// Messages the responder sent (acknowledgements, questions, answers, declines).
    pub to_requester: Leg,
}

/// Deliveries to one side.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Leg {
    /// From the sender's signed sealing time to the receiver's signed receipt time.
    pub delay: Durations,
    /// Messages that took longer than [`LATE_MS`].
    pub late: u64,
    /// The stretches during which a late message to this side was waiting.
    pub waiting: Waiting,
}

/// Merged stretches of waiting.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Waiting {
    /// How many separate stretches.
    pub stretches: u64,
    /// Their total length.
    pub total_ms: i64,
    /// The longest.
    pub longest_ms: Option<i64>,
}

/// One message's way, as a period holds it: whole milliseconds, small and copyable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sent {
    /// The direction's index in the universe.
    pub dir: u16,
    /// Whether it went to the responder.
    pub to_responder: bool,
    pub sent_ms: i64,
    pub at_ms: i64,
}

/// The messages of `case` (in direction `dir`) officially received in `[start, edge)`.
pub(crate) fn observe(
    case: &Case,
    dir: u16,
    start: Timestamp,
    edge: Timestamp,
    out: &mut Vec<Sent>,
) {
    let (start, edge) = (millis(start), millis(edge));
    for d in &case.deliveries {
        let at_ms = millis(d.at);
        if (start..edge).contains(&at_ms) {
            out.push(Sent {
                dir,
                to_responder: d.to == Role::Responder,
                // Two clocks stamp the ends: a message never counts as sent after it arrived.
                sent_ms: millis(d.sent_at).min(at_ms),
                at_ms,
            });
        }
    }
}

/// The figures of each of `dirs` directions from the messages of one period.
pub(crate) fn group(sent: &[Sent], dirs: usize) -> Vec<Transit> {
    let mut out = vec![Transit::default(); dirs];
    for (i, t) in out.iter_mut().enumerate() {
        for (to_responder, leg) in [(true, &mut t.to_responder), (false, &mut t.to_requester)] {
            *leg = self::leg(
                sent.iter()
                    .filter(|s| usize::from(s.dir) == i && s.to_responder == to_responder),
            );
        }
    }
    out
}

fn leg<'s>(sent: impl Iterator<Item = &'s Sent>) -> Leg {
    let mut delays = Vec::new();
    let mut late: Vec<(i64, i64)> = Vec::new();
    for s in sent {
        let delay = s.at_ms - s.sent_ms;
        delays.push(delay);
        if delay > LATE_MS {
            late.push((s.sent_ms, s.at_ms));
        }
    }
    Leg {
        delay: Durations::of(delays),
        late: late.len() as u64,
        waiting: merge(late),
    }
}

/// Merges overlapping or touching stretches and measures them.
fn merge(mut stretches: Vec<(i64, i64)>) -> Waiting {
    stretches.sort_unstable();
    let mut w = Waiting::default();
    let mut current: Option<(i64, i64)> = None;
    let close = |(from, until): (i64, i64), w: &mut Waiting| {
        w.stretches += 1;
        w.total_ms += until - from;
        w.longest_ms = Some(w.longest_ms.map_or(until - from, |l| l.max(until - from)));
    };
    for (from, until) in stretches {
        current = match current {
            Some((f, u)) if from <= u => Some((f, u.max(until))),
            Some(done) => {
                close(done, &mut w);
                Some((from, until))
            }
            None => Some((from, until)),
        };
    }
    if let Some(done) = current {
        close(done, &mut w);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_stretches_count_once_and_apart_ones_apart() {
        let w = merge(vec![(100, 200), (0, 150), (150, 160), (300, 310)]);
        assert_eq!(
            w,
            Waiting {
                stretches: 2,
                total_ms: 200 + 10,
                longest_ms: Some(200)
            }
        );
        assert_eq!(merge(Vec::new()), Waiting::default());
    }

    #[test]
    fn a_leg_counts_late_messages_and_their_stretches_only() {
        let sent = |sent_ms, at_ms| Sent {
            dir: 0,
            to_responder: true,
            sent_ms,
            at_ms,
        };
        let quick = sent(0, 40);
        let late = sent(1_000, 1_000 + LATE_MS + 1);
        let leg = leg([quick, late].iter());
        assert_eq!(leg.delay.count, 2);
        assert_eq!(leg.delay.max_ms, Some(LATE_MS + 1));
        assert_eq!(leg.late, 1);
        assert_eq!(leg.waiting.total_ms, LATE_MS + 1);
    }
}
