//! How the review's figures are computed, written once: the review page prints these rules
//! and the README carries them (a test keeps the two the same), so both delegations and an
//! auditor can recompute every figure from the text alone.
//!
//! Each rule is a short title and plain sentences, without markup, so that the page and the
//! README render the same words.

/// The rules, in reading order: (title, text).
pub const RULES: [(&str, &str); 17] = [
    (
        "Official times",
        "Every instant is an official time: the time the receiving node wrote into its signed \
         receipt, in UTC, to the millisecond. A request is filed at the official time of its \
         request message. Nothing else (a sender's clock, the time a page is printed) moves a \
         figure.",
    ),
    (
        "Periods",
        "A period (2026-H1, 2026-Q3, 2026-05, 2026-W48, 2026, or a range of days) runs from \
         its first instant up to, but not including, its end: a request filed at exactly \
         2026-07-01T00:00:00.000Z belongs to 2026-H2.",
    ),
    (
        "The review's instant",
        "Each review is measured at one instant, printed on it (as of). A message counts when \
         its official time is strictly before that instant; one at exactly the instant does \
         not. The instant is the time the review is made, or the one asked for with --as-of. \
         It may lie after the period's end (the meeting date): the period's requests are then \
         followed up to it. An instant before the period's start, or in the future, is \
         refused. Two nodes and an auditor get the same document for the same period and \
         instant.",
    ),
    (
        "Requests filed (the cohort)",
        "The requests filed in the period (and before the review's instant, for a period \
         still under way). Every count, time, share and rating is about these requests and \
         what had officially happened to them before the review's instant.",
    ),
    (
        "Milestones",
        "Acknowledged: any first reply of the responder (an acknowledgement, a question, an \
         answer or a decline). First answer: the first partial or final answer, or a decline. \
         Final answer: the final answer, or a decline. A decline therefore meets all three.",
    ),
    (
        "Responder time",
        "The time from filing to a milestone or instant, less the clarification pauses: a \
         pause runs from the responder's question to the requester's clarification (or to \
         the decline or withdrawal that ends the wait). A pause still running counts up to \
         the instant measured. Pauses are counted once, never before the filing, and \
         responder time never runs backwards. Times to acknowledge, to first and to final \
         answer are responder times.",
    ),
    (
        "Deadlines",
        "Each priority has three deadlines in the agreement (acknowledge, first answer, final \
         answer), in responder time. A milestone reached at a responder time at or under its \
         deadline is in time (exactly at the deadline is in time); one millisecond more is \
         late.",
    ),
    (
        "Overdue",
        "A request is overdue at an instant when it is still open there (the responder owes a \
         reply: sent, acknowledged, partially answered, or waiting for a clarification) and \
         its responder time is past a deadline it has not met, from the first millisecond \
         after it. A question stops the responder's time: a request paused before its \
         deadline does not fall overdue, one paused after it stays overdue. The same \
         definition serves the review, request list and request show (and, as they come, the \
         console and alerts).",
    ),
    (
        "Withdrawals",
        "A withdrawal ends a request. A deadline that had already passed unmet stays missed; \
         one still running at the withdrawal (exactly at the deadline included) becomes moot \
         and is not measured.",
    ),
    (
        "Within deadline",
        "For each deadline: of the requests filed whose deadline is measured at the review's \
         instant (met in time, met late, overdue, or missed before a withdrawal), the share \
         met in time. Requests still inside their deadline are not yet measured. A review \
         taken later never counts fewer misses.",
    ),
    (
        "Counts",
        "Acknowledged, answered partially, answered finally, declined and withdrawn each count \
         the requests filed that reached that point before the review's instant, so they \
         overlap and need not add up to the requests filed: an answered request was also \
         acknowledged, a request may be answered partially and then finally, and a withdrawn \
         one may have been acknowledged first. Answered finally leaves out declines, which \
         are counted by reason. The status in the appendix is the one status each request \
         had at the review's instant.",
    ),
    (
        "Still pending",
        "Of the requests filed, those still open at the review's instant, how many of them \
         were overdue then, and their age then.",
    ),
    (
        "Open at the period's edges",
        "Every request filed before the period's end, whatever its period, that was open at \
         the period's start or at its end (or at the review's instant, for a period still \
         under way), and how many of those open at the end were overdue then. Carried over: \
         those filed before the period. Ages are wall time since filing, pauses included.",
    ),
    (
        "Delivery",
        "An official time is the receiver's receipt time, so a party that cannot be reached, \
         or does not take messages, delays the clock that measures it. For each direction and \
         each way, the messages officially received in the period (whatever period their \
         request was filed in): the delay from the sender's signed sealing time, its first \
         attempt to deliver, to the receiver's signed receipt (never below zero); how many \
         took longer than a minute (late); and the stretches, merged where they overlap, \
         during which a late message to that side was sealed but not yet received.",
    ),
    (
        "Statistics",
        "Medians are the lower middle value; the 90th percentile is the value at rank \
         ceil(0.9 n) of the n sorted values; so every time shown was observed in some \
         request. Percentages are rounded half up to one decimal, mean ratings to two \
         decimals, from integer counts; durations on the page are rounded half up to the \
         unit shown. Histogram buckets of response time include their upper bound (1-4h \
         means more than 1 h and at most 4 h); age buckets include their lower bound (7-30d \
         means at least 7 d and less than 30 d).",
    ),
    (
        "Ties and races",
        "Two messages of one request at the same official millisecond are taken in this \
         order: each party's own messages in the order it sent them, a reply after the \
         message it answers, otherwise by message id. A message that is no longer allowed \
         where it falls (a withdrawal that crossed the final answer) is kept in the log but \
         changes nothing, on both sides alike. While a clarification is awaited, only the \
         requester's clarification or withdrawal and the responder's decline are accepted.",
    ),
    (
        "Trend and sources",
        "The trend repeats the headline figures for up to 20 earlier periods of the same kind, \
         each followed up for as long after its end as this one. Periods that end before the \
         agreement came into force are marked not in force. The page cites, for each party, \
         the latest checkpoint of its log (size and root) that travelled in the signed \
         receipts the figures count: both parties hold it, and the appendix's log indices can \
         be proven against it.",
    ),
];

/// The rules as Markdown, for the README.
pub fn markdown() -> String {
    let mut out = String::new();
    for (title, text) in RULES {
        out.push_str(&format!("**{title}.** {text}\n\n"));
    }
    out
}
