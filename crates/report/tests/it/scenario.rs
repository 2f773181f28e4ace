//! The hand-built cases most tests review, with the answers worked out by hand below.
//!
//! Days count from 2026-01-01 (2026-H1 is days 0–181). US files to CN unless noted; normal
//! priority deadlines are acknowledge 1 d, first answer 7 d, final answer 30 d.
//!
//! | case | filed | what happens | at 2026-07-01 |
//! |---|---|---|---|
//! | US-1 A | d10 | ack +2h, final +5d, rated 4 | closed, all in time |
//! | US-2 B | d31 | ack +2d (late), partial +3d, final +40d (late) | answered |
//! | US-3 C | d59 | ack +1h, question +2h, clarified +10d2h, final +20d2h (10d2h responder time) | answered; first answer late |
//! | US-4 D | d68, high, mitigation | declined (no jurisdiction) +1d: ack late (4h), first and final in time | declined |
//! | US-5 E | d90 | withdrawn +2d without a reply | withdrawn; acknowledgement missed (1 d passed), answers moot |
//! | US-6 F | d175 | ack +1h; final at d189, after the period | open, not overdue |
//! | US-7 G | d149 | nothing | open, overdue, age 32 d |
//! | US-8 H | d−31 (2025) | ack +1h, nothing more | carried over, open and overdue, age 212 d |
//! | US-9 I | d−17 (2025) | ack +1h, final at d4 | open at start only |
//! | CN-1 J | d120, critical, investigation, CN→US | ack +30min, final +2d, rated 5 | closed; first answer late (24h) |
//! | US-10 K | d181 − 1h | ack at d181 + 1h, after the period | open, not yet measured |
//!
//! Categories: A and B are `ip-theft`, the rest `botnet`.

use detente_domain::Case;
use detente_protocol::{DeclineReason, Priority, RequestKind, Tlp};
use detente_report::CaseRecord;

use crate::fixtures::{DAY, HOUR, request, request_in};

use Priority::{Critical, High, Normal};
use RequestKind::{Information, Investigation, Mitigation};

pub fn cases() -> Vec<Case> {
    vec![
        request_in(
            1,
            "US",
            Information,
            "ip-theft",
            Normal,
            Tlp::Green,
            10 * DAY,
        )
        .ack(2 * HOUR)
        .answer_finally(5 * DAY)
        .rate(4, 6 * DAY)
        .build(),
        request_in(2, "US", Information, "ip-theft", Normal, Tlp::Red, 31 * DAY)
            .ack(2 * DAY)
            .partial(3 * DAY)
            .answer_finally(40 * DAY)
            .build(),
        request(3, "US", Information, Normal, 59 * DAY)
            .ack(HOUR)
            .question(2 * HOUR)
            .clarify(10 * DAY + 2 * HOUR)
            .answer_finally(20 * DAY + 2 * HOUR)
            .build(),
        request(4, "US", Mitigation, High, 68 * DAY)
            .decline(DeclineReason::NoJurisdiction, DAY)
            .build(),
        request(5, "US", Information, Normal, 90 * DAY)
            .withdraw(2 * DAY)
            .build(),
        request(6, "US", Information, Normal, 175 * DAY)
            .ack(HOUR)
            .answer_finally(14 * DAY)
            .build(),
        request(7, "US", Information, Normal, 149 * DAY).build(),
        request(8, "US", Information, Normal, -31 * DAY)
            .ack(HOUR)
            .build(),
        request(9, "US", Information, Normal, -17 * DAY)
            .ack(HOUR)
            .answer_finally(21 * DAY)
            .build(),
        request(1, "CN", Investigation, Critical, 120 * DAY)
            .ack(HOUR / 2)
            .answer_finally(2 * DAY)
            .rate(5, 3 * DAY)
            .build(),
        request(10, "US", Information, Normal, 181 * DAY - HOUR)
            .ack(2 * HOUR)
            .build(),
    ]
}

/// Each case with the log index of its request entry: ten apart, in the order above.
pub fn records(cases: &[Case]) -> Vec<CaseRecord<'_>> {
    cases
        .iter()
        .zip((0u64..).map(|i| 10 * i + 3))
        .map(|(case, log_index)| CaseRecord { case, log_index })
        .collect()
}
