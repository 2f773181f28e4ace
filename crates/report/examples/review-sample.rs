//! Prints a sample review of synthetic cases to standard output, to look at the page or the
//! tables: `cargo run -p detente-report --example review-sample -- [review|bulletin|json|csv]
//! [PERIOD] [--redacted]` (defaults: review, 2026-H1).

#[path = "../tests/it/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use detente_report::{CaseRecord, Period, Redaction, ReviewOptions, compute, csv, html};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("review", String::as_str);
    let period = args.get(1).map_or("2026-H1", String::as_str);
    let redaction = if args.iter().any(|a| a == "--redacted") {
        Redaction::Redacted
    } else {
        Redaction::Full
    };
    let cases = fixtures::synthetic(400, 11);
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .zip(1u64..)
        .map(|(case, i)| CaseRecord {
            case,
            log_index: 7 * i,
        })
        .collect();
    let options = ReviewOptions {
        redaction,
        ..ReviewOptions::new(Period::parse(period).expect("a valid period"))
    };
    let review = compute(&fixtures::agreement(), &records, &options).expect("computable");
    let out = match what {
        "bulletin" => html::bulletin_page(&review).expect("renders"),
        "json" => review.to_json().expect("serialisable"),
        "csv" => csv::figures(&review),
        _ => html::review_page(&review).expect("renders"),
    };
    print!("{out}");
}
