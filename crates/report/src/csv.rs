//! The review as CSV tables (RFC 4180, `\r\n` line ends, a header row): the per-case
//! appendix, the figures of every breakdown in one long table, and the trend.
//!
//! Cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return) are prefixed with `'`; numbers are written as numbers.

use std::fmt::Write as _;

use detente_protocol::DeclineReason;

use crate::{
    Durations, Figures, Fraction, Review, appendix_columns, decline_reason_name,
    review::Cell,
    stats::{CaseIdText, TimestampText},
};

/// The per-case appendix, one row per case, ordered by filing time, then case id.
pub fn appendix(review: &Review<'_>) -> String {
    let a = &review.appendix;
    // Sized generously once (unwritten pages cost no memory), so it is never copied.
    let text: usize = a
        .rows
        .iter()
        .map(|r| r.case.title.len() + r.case.category.len())
        .sum();
    let mut out = String::with_capacity(4096 + a.rows.len() * 300 + 2 * text);
    header(&mut out, appendix_columns(a.redaction).iter().copied());
    for r in &a.rows {
        let mut first = true;
        let _ = r.each_cell(
            a.redaction,
            |cell| -> Result<(), std::convert::Infallible> {
                if !first {
                    out.push(',');
                }
                first = false;
                match cell {
                    Cell::Raw(t) | Cell::Text(t) => field(&mut out, t),
                    Cell::Id(id) => out.push_str(CaseIdText::of(id).as_str()),
                    Cell::Time(t) => match TimestampText::of(t) {
                        Some(text) => out.push_str(text.as_str()),
                        None => {
                            let _ = write!(out, "{t}");
                        }
                    },
                    Cell::Int(i) => {
                        let _ = write!(out, "{i}");
                    }
                    Cell::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                    Cell::Null => {}
                }
                Ok(())
            },
        );
        out.push_str("\r\n");
    }
    out
}

const REASONS: [DeclineReason; 8] = [
    DeclineReason::OutsideScope,
    DeclineReason::InsufficientInformation,
    DeclineReason::NoJurisdiction,
    DeclineReason::LegalRestriction,
    DeclineReason::PoliticalOffence,
    DeclineReason::EssentialInterests,
    DeclineReason::Duplicate,
    DeclineReason::Other,
];

/// Every figure of every breakdown: one row per (direction or overall, dimension, value).
/// `requester` and `responder` are empty for the overall rows; `dimension` is `all`, `kind`,
/// `category` or `priority`. Times are in milliseconds; percentages have one decimal.
pub fn figures(review: &Review<'_>) -> String {
    let mut out = String::new();
    let mut columns: Vec<String> = [
        "requester",
        "responder",
        "dimension",
        "value",
        "filed",
        "acknowledged",
        "answered_partially",
        "answered_finally",
        "declined",
        "withdrawn",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for r in REASONS {
        columns.push(format!("declined_{}", decline_reason_name(r)));
    }
    for t in [
        "time_to_acknowledge",
        "time_to_first_answer",
        "time_to_final_answer",
    ] {
        for s in ["count", "median_ms", "p90_ms", "max_ms"] {
            columns.push(format!("{t}_{s}"));
        }
    }
    for d in ["acknowledge", "first_answer", "final_answer"] {
        for s in ["met", "measured", "percent"] {
            columns.push(format!("within_deadline_{d}_{s}"));
        }
    }
    columns.extend(
        [
            "clarification_rounds",
            "clarification_requests",
            "paused_median_ms",
            "paused_total_ms",
            "rating_1",
            "rating_2",
            "rating_3",
            "rating_4",
            "rating_5",
            "rated",
            "rated_percent_of_final_answers",
            "mean_rating",
            "pending_open",
            "pending_overdue",
            "pending_age_median_ms",
            "pending_age_max_ms",
            "open_at_start",
            "open_at_end",
            "carried_over_open_at_end",
            "overdue_at_end",
            "open_age_median_ms",
            "open_age_max_ms",
            "overdue_age_median_ms",
            "overdue_age_max_ms",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    header(&mut out, columns.iter().map(String::as_str));
    let mut emit = |req: &str, resp: &str, section: &crate::Section| {
        figures_row(&mut out, req, resp, "all", "", &section.figures);
        for (dim, groups) in [
            ("kind", &section.by_kind),
            ("category", &section.by_category),
            ("priority", &section.by_priority),
        ] {
            for g in groups {
                figures_row(&mut out, req, resp, dim, &g.value, &g.figures);
            }
        }
    };
    emit("", "", &review.overall);
    for d in &review.directions {
        emit(d.requester.as_str(), d.responder.as_str(), &d.section);
    }
    out
}

fn figures_row(out: &mut String, req: &str, resp: &str, dim: &str, value: &str, f: &Figures) {
    for (i, t) in [req, resp, dim, value].iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, t);
    }
    let mut n = |v: String| {
        out.push(',');
        out.push_str(&v);
    };
    for v in [
        f.filed,
        f.acknowledged,
        f.answered.partially,
        f.answered.finally,
        f.declined.total,
        f.withdrawn,
    ] {
        n(v.to_string());
    }
    for r in REASONS {
        n(f.declined
            .by_reason
            .get(&r)
            .copied()
            .unwrap_or(0)
            .to_string());
    }
    for d in [
        f.time_to_acknowledge,
        f.time_to_first_answer,
        f.time_to_final_answer,
    ] {
        durations(&mut n, d);
    }
    for s in [
        f.within_deadline.acknowledge,
        f.within_deadline.first_answer,
        f.within_deadline.final_answer,
    ] {
        n(s.part.to_string());
        n(s.whole.to_string());
        n(percent(s));
    }
    n(f.clarification.rounds.to_string());
    n(f.clarification.requests.to_string());
    n(opt(f.clarification.paused.median_ms));
    n(f.clarification.paused_total_ms.to_string());
    for c in f.quality.ratings {
        n(c.to_string());
    }
    n(f.quality.rated.part.to_string());
    n(percent(f.quality.rated));
    n(f.quality
        .mean
        .value()
        .map_or(String::new(), |m| format!("{m:.2}")));
    n(f.pending.open.to_string());
    n(f.pending.overdue.to_string());
    n(opt(f.pending.age.median_ms));
    n(opt(f.pending.age.max_ms));
    n(f.at_end.open_at_start.to_string());
    n(f.at_end.open.to_string());
    n(f.at_end.carried_over.to_string());
    n(f.at_end.overdue.to_string());
    n(opt(f.at_end.age.median_ms));
    n(opt(f.at_end.age.max_ms));
    n(opt(f.at_end.overdue_age.median_ms));
    n(opt(f.at_end.overdue_age.max_ms));
    out.push_str("\r\n");
}

fn durations(n: &mut impl FnMut(String), d: Durations) {
    n(d.count.to_string());
    n(opt(d.median_ms));
    n(opt(d.p90_ms));
    n(opt(d.max_ms));
}

fn opt(v: Option<i64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn percent(f: Fraction) -> String {
    f.per_mille()
        .map_or(String::new(), |p| format!("{}.{}", p / 10, p % 10))
}

/// The trend: one row per period and direction (overall rows have empty parties), oldest
/// period first.
pub fn trend(review: &Review<'_>) -> String {
    let mut out = String::new();
    header(
        &mut out,
        [
            "period",
            "start",
            "end",
            "as_of",
            "in_force",
            "requester",
            "responder",
            "filed",
            "acknowledged_in_time_percent",
            "final_answer_in_time_percent",
            "median_time_to_final_answer_ms",
            "mean_rating",
            "open_at_end",
            "overdue_at_end",
        ]
        .into_iter(),
    );
    for p in &review.trend {
        let rows = std::iter::once(("", "", &p.overall)).chain(
            p.directions
                .iter()
                .map(|d| (d.requester.as_str(), d.responder.as_str(), &d.headline)),
        );
        for (req, resp, h) in rows {
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
                p.period,
                p.period.start(),
                p.period.end(),
                p.as_of,
                p.in_force,
                req,
                resp,
                h.filed,
                percent(h.acknowledged_in_time),
                percent(h.final_answer_in_time),
                opt(h.median_time_to_final_answer_ms),
                h.rating
                    .value()
                    .map_or(String::new(), |m| format!("{m:.2}")),
                h.open_at_end,
                h.overdue_at_end,
            );
        }
    }
    out
}

fn header<'s>(out: &mut String, columns: impl Iterator<Item = &'s str>) {
    for (i, c) in columns.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(c);
    }
    out.push_str("\r\n");
}

/// Writes one text field, quoted when needed and defused when a spreadsheet would evaluate it.
fn field(out: &mut String, s: &str) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || s.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if s.contains('"') {
        out.push_str(&s.replace('"', "\"\""));
    } else {
        out.push_str(s);
    }
    if quote {
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> String {
        let mut out = String::new();
        field(&mut out, s);
        out
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(f("botnet"), "botnet");
        assert_eq!(f("a,b"), "\"a,b\"");
        assert_eq!(f("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(f("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_defused() {
        assert_eq!(f("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(f("-1+2"), "\"'-1+2\"");
        assert_eq!(f("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
