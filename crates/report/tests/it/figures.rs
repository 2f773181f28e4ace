//! Every figure on the hand-built scenario, with the answers worked out by hand (see
//! `scenario.rs` for the cases and their timelines).

use detente_domain::CaseStatus;
use detente_protocol::{DeclineReason, Priority, RequestKind};
use detente_report::{
    CaseRecord, Durations, Fraction, MAX_TREND_PERIODS, Period, Redaction, Review, ReviewError,
    ReviewOptions, Scope, compute, view,
};

use crate::{
    fixtures::{DAY, HOUR, agreement, request, t},
    scenario,
};

fn review_of<'a>(
    cases: &'a [detente_domain::Case],
    period: &str,
    as_of: Option<i64>,
) -> Review<'a> {
    let options = ReviewOptions {
        as_of: as_of.map(t),
        ..ReviewOptions::new(Period::parse(period).expect("valid period"))
    };
    compute(&agreement(), &scenario::records(cases), &options).expect("computable")
}

fn d(count: usize, median: i64, p90: i64, max: i64) -> Durations {
    Durations {
        count,
        median_ms: Some(median),
        p90_ms: Some(p90),
        max_ms: Some(max),
    }
}

#[test]
fn counts_follow_the_requests_filed_in_the_period() {
    let cases = scenario::cases();
    let f = review_of(&cases, "2026-H1", None).overall.figures;
    // A B C D E F G J K; H and I were filed in 2025.
    assert_eq!(f.filed, 9);
    // A B C D(decline) F J; K's acknowledgement came after the period ended.
    assert_eq!(f.acknowledged, 6);
    assert_eq!(f.answered.partially, 1, "B");
    assert_eq!(
        f.answered.finally, 4,
        "A B C J; F's answer came after the period"
    );
    assert_eq!(f.declined.total, 1);
    assert_eq!(
        f.declined.by_reason.into_iter().collect::<Vec<_>>(),
        [(DeclineReason::NoJurisdiction, 1)]
    );
    assert_eq!(f.withdrawn, 1, "E");
}

#[test]
fn times_exclude_pauses_and_count_a_decline_as_an_answer() {
    let cases = scenario::cases();
    let f = review_of(&cases, "2026-H1", None).overall.figures;
    // 30 min (J), 1 h (C), 1 h (F), 2 h (A), 1 d (D), 2 d (B).
    assert_eq!(f.time_to_acknowledge, d(6, HOUR, 2 * DAY, 2 * DAY));
    // 1 d (D), 2 d (J), 3 d (B), 5 d (A), 10 d 2 h (C: 20 d 2 h less a 10 d pause).
    assert_eq!(
        f.time_to_first_answer,
        d(5, 3 * DAY, 10 * DAY + 2 * HOUR, 10 * DAY + 2 * HOUR)
    );
    // 1 d (D), 2 d (J), 5 d (A), 10 d 2 h (C), 40 d (B).
    assert_eq!(f.time_to_final_answer, d(5, 5 * DAY, 40 * DAY, 40 * DAY));
}

#[test]
fn shares_within_deadline_count_met_overdue_and_missed_but_not_pending_or_moot() {
    let cases = scenario::cases();
    let w = review_of(&cases, "2026-H1", None)
        .overall
        .figures
        .within_deadline;
    // In time: A C F J; late: B, D (high: 4 h); overdue: G; missed before its withdrawal at
    // +2 d: E (regression: E's miss was moot, 4 of 7); K not yet due.
    assert_eq!(w.acknowledge, Fraction::new(4, 8));
    assert_eq!(w.acknowledge.percent(), Some(50.0));
    // In time: A B D; late: C (10 d 2 h > 7 d), J (2 d > 24 h); overdue: G. F not yet due,
    // E's 7 d deadline still running at its withdrawal: moot.
    assert_eq!(w.first_answer, Fraction::new(3, 6));
    // In time: A C D J; late: B; overdue: G (32 d > 30 d).
    assert_eq!(w.final_answer, Fraction::new(4, 6));
    assert_eq!(w.final_answer.percent(), Some(66.7));
}

#[test]
fn clarification_rounds_and_paused_time_are_counted() {
    let cases = scenario::cases();
    let c = review_of(&cases, "2026-H1", None)
        .overall
        .figures
        .clarification;
    assert_eq!((c.rounds, c.requests), (1, 1));
    assert_eq!(c.paused, d(1, 10 * DAY, 10 * DAY, 10 * DAY));
    assert_eq!(c.paused_total_ms, 10 * DAY);
}

#[test]
fn ratings_give_a_distribution_a_mean_and_the_share_rated() {
    let cases = scenario::cases();
    let q = review_of(&cases, "2026-H1", None).overall.figures.quality;
    assert_eq!(q.ratings, [0, 0, 0, 1, 1]);
    assert_eq!(q.mean.value(), Some(4.5));
    assert_eq!(q.rated, Fraction::new(2, 4), "A and J of A B C J");
}

#[test]
fn the_backlog_counts_carried_over_cases_at_the_period_edges() {
    let cases = scenario::cases();
    let b = review_of(&cases, "2026-H1", None).overall.figures.at_end;
    assert_eq!(b.open_at_start, 2, "H and I");
    assert_eq!(b.open, 4, "F G H K");
    assert_eq!(b.carried_over, 1, "H");
    assert_eq!(b.overdue, 2, "G and H");
    // Ages at 2026-07-01: K 1 h, F 6 d, G 32 d, H 212 d.
    assert_eq!(b.age, d(4, 6 * DAY, 212 * DAY, 212 * DAY));
    assert_eq!(b.overdue_age, d(2, 32 * DAY, 212 * DAY, 212 * DAY));
}

#[test]
fn directions_and_breakdowns_split_the_same_cases() {
    let cases = scenario::cases();
    let r = review_of(&cases, "2026-H1", None);
    let dirs: Vec<(String, String, u64)> = r
        .directions
        .iter()
        .map(|d| {
            (
                d.requester.to_string(),
                d.responder.to_string(),
                d.section.figures.filed,
            )
        })
        .collect();
    assert_eq!(
        dirs,
        [("CN".into(), "US".into(), 1), ("US".into(), "CN".into(), 8)]
    );
    let cn = &r.directions[0].section.figures;
    assert_eq!(cn.within_deadline.final_answer, Fraction::new(1, 1));
    assert_eq!(cn.quality.ratings, [0, 0, 0, 0, 1]);
    let group = |groups: &[detente_report::Group], v: &str| {
        groups
            .iter()
            .find(|g| g.value == v)
            .map(|g| g.figures.clone())
            .expect("listed")
    };
    let high = group(&r.overall.by_priority, Priority::High.as_str());
    assert_eq!((high.filed, high.declined.total), (1, 1));
    assert_eq!(
        group(&r.overall.by_priority, "low").filed,
        0,
        "listed though empty"
    );
    assert_eq!(
        group(&r.overall.by_kind, RequestKind::Investigation.as_str()).filed,
        1
    );
    assert_eq!(group(&r.overall.by_category, "ip-theft").filed, 2);
    assert_eq!(
        group(&r.directions[1].section.by_category, "botnet")
            .at_end
            .overdue,
        2
    );
    // Every breakdown adds up to the whole.
    for s in std::iter::once(&r.overall).chain(r.directions.iter().map(|d| &d.section)) {
        for groups in [&s.by_kind, &s.by_category, &s.by_priority] {
            let filed: u64 = groups.iter().map(|g| g.figures.filed).sum();
            let open: u64 = groups.iter().map(|g| g.figures.at_end.open).sum();
            assert_eq!(filed, s.figures.filed);
            assert_eq!(open, s.figures.at_end.open);
        }
    }
    let priorities: Vec<&str> = r
        .overall
        .by_priority
        .iter()
        .map(|g| g.value.as_str())
        .collect();
    assert_eq!(priorities, ["critical", "high", "normal", "low"]);
}

#[test]
fn a_request_spanning_two_periods_is_filed_in_one_and_carried_into_the_next() {
    let cases = scenario::cases();
    let h2 = review_of(&cases, "2026-H2", None);
    let f = &h2.overall.figures;
    assert_eq!(f.filed, 0);
    // F, G, H, K were open at 2026-07-01; F was answered at d189, the others never.
    assert_eq!(f.at_end.open_at_start, 4);
    assert_eq!((f.at_end.open, f.at_end.carried_over), (3, 3));
    // K's late acknowledgement is not an H2 figure: K was filed in H1.
    assert_eq!(f.acknowledged, 0);
    let k = h2
        .appendix
        .rows
        .iter()
        .find(|r| r.case.id.to_string() == "US-2026-0010")
        .expect("K is in the appendix");
    assert_eq!(k.scope, Scope::CarriedOver);
    assert_eq!(k.status, CaseStatus::Acknowledged);
    assert!(k.overdue_at_end);
}

#[test]
fn figures_of_a_past_period_do_not_change_when_later_messages_arrive() {
    let cases = scenario::cases();
    let h1 = review_of(&cases, "2026-H1", None);
    let h2 = review_of(&cases, "2026-H2", None);
    let h1_in_h2 = &h2.trend[h2.trend.len() - 2];
    assert_eq!(h1_in_h2.period.to_string(), "2026-H1");
    assert_eq!(h1_in_h2, h1.trend.last().expect("this period"));
    assert_eq!(h1_in_h2.overall.filed, 9);
    assert_eq!(h1_in_h2.overall.final_answer_in_time, Fraction::new(4, 6));
}

#[test]
fn a_follow_up_counts_later_milestones_of_the_periods_requests() {
    let cases = scenario::cases();
    let r = review_of(&cases, "2026-H1", Some(200 * DAY));
    let f = &r.overall.figures;
    assert_eq!(f.answered.finally, 5, "F's answer at d189 now counts");
    assert_eq!(f.acknowledged, 7, "so does K's acknowledgement");
    // The backlog is still taken at the period's end.
    assert_eq!(f.at_end.open, 4);
    assert_eq!(r.backlog_at, t(181 * DAY));
    // The trend measures earlier periods with the same follow-up.
    let prev = &r.trend[r.trend.len() - 2];
    assert_eq!(prev.as_of, t(200 * DAY - 181 * DAY));
}

#[test]
fn a_review_of_a_period_under_way_is_measured_at_its_instant() {
    let cases = scenario::cases();
    // Measured at d100: E was withdrawn at d92, G not yet filed.
    let r = review_of(&cases, "2026-H1", Some(100 * DAY));
    let f = &r.overall.figures;
    assert_eq!(f.filed, 5, "A B C D E");
    assert_eq!(f.answered.finally, 3, "A (d15), B (d71) and C (d79)");
    assert_eq!(r.backlog_at, t(100 * DAY));
}

#[test]
fn the_trend_lists_previous_periods_oldest_first() {
    let cases = scenario::cases();
    let r = review_of(&cases, "2026-H1", None);
    let labels: Vec<String> = r.trend.iter().map(|p| p.period.to_string()).collect();
    assert_eq!(
        labels,
        ["2024-H1", "2024-H2", "2025-H1", "2025-H2", "2026-H1"]
    );
    let h2_2025 = &r.trend[3];
    assert_eq!(h2_2025.overall.filed, 2, "H and I");
    assert_eq!(h2_2025.overall.open_at_end, 2);
    // Both acknowledged, neither answered within the 7 d first-answer deadline.
    assert_eq!(h2_2025.overall.overdue_at_end, 2);
}

#[test]
fn the_appendix_lists_each_case_behind_the_figures_by_filing_time() {
    let cases = scenario::cases();
    let r = review_of(&cases, "2026-H1", None);
    let ids: Vec<String> = r
        .appendix
        .rows
        .iter()
        .map(|r| r.case.id.to_string())
        .collect();
    // Every case filed in H1, plus H and I, which were open at its start, by filing time.
    assert_eq!(
        ids,
        [
            "US-2026-0008",
            "US-2026-0009",
            "US-2026-0001",
            "US-2026-0002",
            "US-2026-0003",
            "US-2026-0004",
            "US-2026-0005",
            "CN-2026-0001",
            "US-2026-0007",
            "US-2026-0006",
            "US-2026-0010",
        ]
    );
    let f = &r.appendix.rows[9];
    assert_eq!(
        f.status,
        CaseStatus::Acknowledged,
        "F's answer is after the period"
    );
    assert_eq!(f.final_answer_at(), None);
    assert!(
        f.case.final_answer_at.is_some(),
        "the case itself knows the later answer"
    );
    assert_eq!(f.log_index, 53);
    assert_eq!(r.appendix.rows[7].rating(), Some(5));
    assert_eq!(r.appendix.rows[0].scope, Scope::CarriedOver);
}

#[test]
fn a_case_seen_at_an_instant_has_the_status_it_had_then() {
    let case = request(1, "US", RequestKind::Information, Priority::Normal, 0)
        .ack(HOUR)
        .question(2 * HOUR)
        .clarify(DAY)
        .partial(2 * DAY)
        .answer_finally(3 * DAY)
        .rate(3, 4 * DAY)
        .build();
    let status = |at: i64| view::as_of(&case, t(at)).status;
    assert_eq!(
        status(HOUR),
        CaseStatus::Sent,
        "at the instant itself: not yet"
    );
    assert_eq!(status(HOUR + 1), CaseStatus::Acknowledged);
    assert_eq!(status(3 * HOUR), CaseStatus::ClarificationNeeded);
    assert_eq!(status(DAY + 1), CaseStatus::Acknowledged);
    assert_eq!(status(2 * DAY + 1), CaseStatus::PartiallyAnswered);
    assert_eq!(status(3 * DAY + 1), CaseStatus::Answered);
    assert_eq!(status(5 * DAY), CaseStatus::Closed);
    let paused = view::as_of(&case, t(3 * HOUR));
    assert_eq!(paused.pauses.len(), 1);
    assert_eq!(paused.pauses[0].until, None, "the pause was still running");
    assert_eq!(paused.rating, None);
    assert!(matches!(
        view::as_of(&case, t(5 * DAY)),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn the_same_case_twice_is_refused() {
    let cases = scenario::cases();
    let mut records = scenario::records(&cases);
    records.push(records[3]);
    let result = compute(
        &agreement(),
        &records,
        &ReviewOptions::new(Period::parse("2026-H1").expect("valid")),
    );
    assert!(
        matches!(result, Err(ReviewError::DuplicateCase(id)) if id.to_string() == "US-2026-0004")
    );
}

#[test]
fn a_review_measured_before_its_period_is_refused() {
    let options = ReviewOptions {
        as_of: Some(t(-DAY)),
        ..ReviewOptions::new(Period::parse("2026-H1").expect("valid"))
    };
    assert!(matches!(
        compute(&agreement(), &[], &options),
        Err(ReviewError::AsOfBeforePeriod { .. })
    ));
}

#[test]
fn an_empty_log_gives_zeros_not_errors() {
    let r = compute(
        &agreement(),
        &[],
        &ReviewOptions {
            redaction: Redaction::Redacted,
            ..ReviewOptions::new(Period::parse("2026-W48").expect("valid"))
        },
    )
    .expect("computable");
    assert_eq!(r.overall.figures.filed, 0);
    assert_eq!(r.overall.figures.time_to_acknowledge, Durations::default());
    assert_eq!(
        r.overall.figures.within_deadline.acknowledge.percent(),
        None
    );
    assert_eq!(r.directions.len(), 2, "the agreement's two directions");
    assert!(r.appendix.rows.is_empty());
}

#[test]
fn a_review_after_the_period_counts_outcomes_recorded_strictly_before_its_instant() {
    // Regression: a request filed late in a period and answered after its end counted in no
    // review, and `--as-of` after the end was ignored. K was filed at d181 − 1 h and
    // acknowledged at d181 + 1 h.
    let cases = scenario::cases();
    let ack = 181 * DAY + HOUR;
    let at_the_ack = review_of(&cases, "2026-H1", Some(ack));
    let just_after = review_of(&cases, "2026-H1", Some(ack + 1));
    assert_eq!(at_the_ack.overall.figures.acknowledged, 6, "not yet K's");
    assert_eq!(just_after.overall.figures.acknowledged, 7, "K's too");
    assert_eq!(just_after.as_of, t(ack + 1));
    // K's 1 d deadline ran 2 h: acknowledged in time.
    assert_eq!(
        just_after.overall.figures.within_deadline.acknowledge,
        Fraction::new(5, 9)
    );
    // Still pending at the instant, with their ages then: F (answered at d189) and K, both
    // in time, and G, overdue since d180.
    let pending = just_after.overall.figures.pending;
    assert_eq!((pending.open, pending.overdue), (3, 1));
    assert_eq!(pending.age.max_ms, Some(ack + 1 - 149 * DAY), "G's age");
    let g = just_after
        .appendix
        .rows
        .iter()
        .find(|r| r.case.id.to_string() == "US-2026-0007")
        .expect("G is in the appendix");
    assert!(g.overdue_as_of && g.overdue_at_end);
}

#[test]
fn a_review_is_measured_between_its_periods_start_and_now() {
    let h1 = Period::parse("2026-H1").expect("valid");
    let now = t(200 * DAY);
    let measured = |as_of: Option<i64>| ReviewOptions::measured(h1, as_of.map(t), now);
    assert!(matches!(
        measured(Some(-1)),
        Err(ReviewError::AsOfBeforePeriod { .. })
    ));
    assert_eq!(measured(Some(0)).expect("the start").as_of, Some(t(0)));
    assert_eq!(
        measured(Some(200 * DAY)).expect("now").as_of,
        Some(now),
        "after the period's end: a follow-up"
    );
    let future = measured(Some(200 * DAY + 1)).expect_err("the future");
    assert!(matches!(future, ReviewError::AsOfInFuture { .. }));
    assert!(future.to_string().contains("in the future"), "{future}");
    assert_eq!(measured(None).expect("now").as_of, Some(now));
    let h2 = Period::parse("2026-H2").expect("valid");
    assert!(matches!(
        ReviewOptions::measured(h2, None, t(100 * DAY)),
        Err(ReviewError::AsOfBeforePeriod { .. })
    ));
}

#[test]
fn a_trend_longer_than_twenty_periods_is_refused_without_allocating_for_it() {
    // Regression: `detente review --trend 100000000000000` aborted on a huge allocation.
    let cases = scenario::cases();
    let options = |trend_periods| ReviewOptions {
        trend_periods,
        ..ReviewOptions::new(Period::parse("2026-H1").expect("valid"))
    };
    let records = scenario::records(&cases);
    let twenty = compute(&agreement(), &records, &options(MAX_TREND_PERIODS)).expect("20");
    assert_eq!(twenty.trend.len(), 21);
    assert_eq!(
        compute(&agreement(), &records, &options(100_000_000_000_000)).err(),
        Some(ReviewError::TrendTooLong(100_000_000_000_000))
    );
    assert_eq!(
        Period::parse("1971-H1")
            .expect("valid")
            .previous_n(usize::MAX)
            .len(),
        2
    );
}

#[test]
fn a_cohort_reviewed_at_later_instants_never_uncounts_a_miss() {
    // Property: for random cohorts, the misses of every share (measured minus in time) in
    // every section and breakdown never fall as the review's instant moves on, across the
    // period's end and through withdrawals.
    let agreement = agreement();
    for seed in 1..=6 {
        let cases = crate::fixtures::synthetic(300, seed);
        let records: Vec<CaseRecord<'_>> = cases
            .iter()
            .zip(0u64..)
            .map(|(case, log_index)| CaseRecord { case, log_index })
            .collect();
        let period = Period::parse("2026-Q1").expect("valid");
        let mut previous: Option<Vec<u64>> = None;
        let mut instant = 0;
        while instant < 200 * DAY {
            let options = ReviewOptions {
                as_of: Some(t(instant)),
                trend_periods: 0,
                ..ReviewOptions::new(period)
            };
            let r = compute(&agreement, &records, &options).expect("computable");
            let misses = misses(&r);
            if let Some(before) = &previous {
                for (i, (b, a)) in before.iter().zip(&misses).enumerate() {
                    assert!(
                        a >= b,
                        "seed {seed}, at {instant} ms: miss {i} fell {b} -> {a}"
                    );
                }
            }
            previous = Some(misses);
            instant += 3 * DAY + 7 * HOUR + 1;
        }
    }
}

/// Every share's misses (measured minus in time), in a fixed order.
fn misses(r: &Review<'_>) -> Vec<u64> {
    let sections = std::iter::once(&r.overall).chain(r.directions.iter().map(|d| &d.section));
    let mut out = Vec::new();
    for s in sections {
        let groups = [&s.by_kind, &s.by_category, &s.by_priority];
        let figures =
            std::iter::once(&s.figures).chain(groups.into_iter().flatten().map(|g| &g.figures));
        for f in figures {
            let w = f.within_deadline;
            for share in [w.acknowledge, w.first_answer, w.final_answer] {
                out.push(share.whole - share.part);
            }
        }
    }
    out
}
