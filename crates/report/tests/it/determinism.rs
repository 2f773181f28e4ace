//! Both parties and an auditor must get byte-identical output from the same cases: the order
//! in which a node's database or a log bundle hands them over must not matter.

use detente_domain::Case;
use detente_report::{CaseRecord, Period, Redaction, ReviewOptions, compute, csv, html};

use crate::{
    fixtures::{Rng, agreement, synthetic},
    scenario,
};

/// Every output of the review of `period` over `records`.
fn outputs(records: &[CaseRecord<'_>], period: &str, redaction: Redaction) -> Vec<String> {
    let options = ReviewOptions {
        redaction,
        ..ReviewOptions::new(Period::parse(period).expect("valid"))
    };
    let r = compute(&agreement(), records, &options).expect("computable");
    vec![
        r.to_json().expect("serialisable"),
        csv::appendix(&r),
        csv::figures(&r),
        csv::trend(&r),
        html::review_page(&r).expect("renders"),
        html::bulletin_page(&r).expect("renders"),
    ]
}

fn all_cases() -> Vec<Case> {
    let mut cases = scenario::cases();
    // Synthetic case numbers start above the scenario's.
    cases.extend(
        synthetic(600, 7)
            .into_iter()
            .filter(|c| !scenario::cases().iter().any(|s| s.id == c.id)),
    );
    cases
}

#[test]
fn the_review_is_byte_identical_whatever_the_order_of_the_cases() {
    let cases = all_cases();
    assert!(cases.len() > 500);
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .zip(100u64..)
        .map(|(case, log_index)| CaseRecord { case, log_index })
        .collect();
    for (period, redaction) in [
        ("2026-H1", Redaction::Full),
        ("2026-Q2", Redaction::Redacted),
        ("2026-W20", Redaction::Full),
        ("2025-12-01..2026-02-28", Redaction::Redacted),
    ] {
        let expected = outputs(&records, period, redaction);
        let mut rng = Rng::new(42);
        for _ in 0..3 {
            let mut shuffled = records.clone();
            rng.shuffle(&mut shuffled);
            assert_eq!(outputs(&shuffled, period, redaction), expected, "{period}");
        }
        let mut reversed = records.clone();
        reversed.reverse();
        assert_eq!(outputs(&reversed, period, redaction), expected, "{period}");
    }
}

#[test]
fn independently_derived_copies_of_the_cases_give_the_same_json() {
    // A second node holds equal cases in different memory, as an auditor's copy would.
    let mine = all_cases();
    let theirs: Vec<Case> = mine.iter().rev().cloned().collect();
    let index = |c: &Case| u64::from(c.id.to_string().bytes().map(u32::from).sum::<u32>());
    let a: Vec<CaseRecord<'_>> = mine
        .iter()
        .map(|case| CaseRecord {
            case,
            log_index: index(case),
        })
        .collect();
    let b: Vec<CaseRecord<'_>> = theirs
        .iter()
        .map(|case| CaseRecord {
            case,
            log_index: index(case),
        })
        .collect();
    assert_eq!(
        outputs(&a, "2026-H1", Redaction::Full)[0],
        outputs(&b, "2026-H1", Redaction::Full)[0]
    );
}
