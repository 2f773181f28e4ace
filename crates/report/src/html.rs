//! The review as one self-contained HTML page: a one-screen summary of the numbers a
//! delegate quotes, inline SVG charts, the tables, and how each figure is computed. No
//! scripts, fonts, images or styles are fetched from anywhere; `@media print` lays it out on
//! A4. The weekly bulletin is the same page, shorter.
//!
//! The page is an askama template (`templates/review.html`), so every value is HTML-escaped;
//! only the SVG charts, built and escaped by the crate's chart module, are inserted as markup.

use askama::Template;
use detente_protocol::{DeclineReason, Timestamp};

use crate::{
    Durations, Figures, Fraction, Redaction, Review, ReviewError, Scope,
    chart::{self, Chart, Series},
    decline_reason_name,
    metrics::Section,
};

/// Appendix rows shown in the page; beyond this the page points to the CSV and JSON.
pub const MAX_APPENDIX_ROWS_IN_PAGE: usize = 500;
/// Overdue requests listed in the page, oldest first.
pub const MAX_OVERDUE_ROWS_IN_PAGE: usize = 50;

#[derive(Template)]
#[template(path = "review.html")]
struct Page {
    bulletin: bool,
    heading: String,
    period: String,
    agreement: String,
    digest: String,
    fingerprint: String,
    as_of: String,
    backlog_at: String,
    checkpoints: Vec<String>,
    redacted: bool,
    scope_note: String,
    cards: Vec<Card>,
    charts: Vec<Figure>,
    tables: Vec<Table>,
    definitions: Vec<(&'static str, &'static str)>,
}

struct Card {
    title: String,
    stats: Vec<Stat>,
}

struct Stat {
    label: &'static str,
    value: String,
    detail: String,
}

struct Figure {
    id: String,
    title: String,
    caption: String,
    svg: String,
}

struct Table {
    id: String,
    title: String,
    note: String,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// The full review page.
pub fn review_page(review: &Review<'_>) -> Result<String, ReviewError> {
    render(review, false)
}

/// The weekly bulletin: the summary, three charts and the overdue list, in the same style.
pub fn bulletin_page(review: &Review<'_>) -> Result<String, ReviewError> {
    render(review, true)
}

fn render(review: &Review<'_>, bulletin: bool) -> Result<String, ReviewError> {
    let directions: Vec<String> = review
        .directions
        .iter()
        .map(|d| format!("{} → {}", d.requester, d.responder))
        .collect();
    let mut cards = vec![card("All directions", &review.overall.figures)];
    for (name, d) in directions.iter().zip(&review.directions) {
        cards.push(card(name, &d.section.figures));
    }
    let all = charts(review, &directions)?;
    let charts: Vec<Figure> = if bulletin {
        all.into_iter()
            .filter(|f| {
                ["within-deadline", "trend-in-time", "overdue-ageing"].contains(&f.id.as_str())
            })
            .collect()
    } else {
        all
    };
    let mut tables = vec![direction_table(review, &directions)];
    if !bulletin {
        tables.push(declines_table(review, &directions));
        tables.push(transit_table(review, &directions));
        for (id, title, pick) in [
            ("by-kind", "By request kind", 0),
            ("by-category", "By category", 1),
            ("by-priority", "By priority", 2),
        ] {
            tables.push(breakdown_table(review, &directions, id, title, pick));
        }
        tables.push(trend_table(review, &directions));
    }
    tables.push(overdue_table(review));
    if !bulletin {
        tables.push(appendix_table(review));
    }
    let filed = review
        .appendix
        .rows
        .iter()
        .filter(|r| r.scope == Scope::Filed)
        .count();
    let carried = review.appendix.rows.len() - filed;
    let not_in_force = match review.agreement.in_force_from {
        Some(from) if review.trend.last().is_some_and(|p| !p.in_force) => format!(
            " The agreement was not yet in force in this period: it is in force from {}.",
            when(from)
        ),
        _ => String::new(),
    };
    let follow_up = if review.as_of > review.period.end() {
        format!(
            " Requests are followed up to {}; the backlog is taken at the period's end.",
            when(review.as_of)
        )
    } else {
        String::new()
    };
    let page = Page {
        bulletin,
        heading: if bulletin {
            "Weekly bulletin: timeliness of responses".into()
        } else {
            "Review of the timeliness and quality of responses".into()
        },
        period: review.period.to_string(),
        agreement: format!("{} ({})", review.agreement.title, review.agreement.id),
        digest: review.agreement.digest.to_string(),
        fingerprint: fingerprint(&review.agreement.digest.to_string()),
        as_of: when(review.as_of),
        backlog_at: when(review.backlog_at),
        checkpoints: review
            .checkpoints
            .iter()
            .map(|c| format!("{} log: {} entries, root {}", c.party, c.size, c.root))
            .collect(),
        redacted: review.redaction == Redaction::Redacted,
        scope_note: format!(
            "{filed} requests filed from {} to {}, and {carried} filed earlier that were \
             open at its start or end. Every figure is computed from the official (receipt) \
             times in the log.{follow_up}{not_in_force}",
            when(review.period.start()),
            when(review.period.end()),
        ),
        cards,
        charts,
        tables,
        definitions: crate::rules::RULES.to_vec(),
    };
    page.render()
        .map_err(|e| ReviewError::Template(e.to_string()))
}

fn card(title: &str, f: &Figures) -> Card {
    Card {
        title: title.to_owned(),
        stats: vec![
            Stat {
                label: "Requests filed",
                value: f.filed.to_string(),
                detail: format!(
                    "{} finally answered, {} declined, {} withdrawn",
                    f.answered.finally, f.declined.total, f.withdrawn
                ),
            },
            Stat {
                label: "Acknowledged in time",
                value: pct(f.within_deadline.acknowledge),
                detail: of(f.within_deadline.acknowledge),
            },
            Stat {
                label: "Final answer in time",
                value: pct(f.within_deadline.final_answer),
                detail: of(f.within_deadline.final_answer),
            },
            Stat {
                label: "Median time to final answer",
                value: ms(f.time_to_final_answer.median_ms),
                detail: format!(
                    "90th percentile {}, of {}",
                    ms(f.time_to_final_answer.p90_ms),
                    f.time_to_final_answer.count
                ),
            },
            Stat {
                label: "Open at end",
                value: f.at_end.open.to_string(),
                detail: format!(
                    "{} overdue, {} carried over",
                    f.at_end.overdue, f.at_end.carried_over
                ),
            },
            Stat {
                label: "Mean rating",
                value: f
                    .quality
                    .mean
                    .value()
                    .map_or("—".into(), |m| format!("{m:.2}")),
                detail: format!(
                    "{} of {} final answers rated",
                    f.quality.rated.part, f.quality.rated.whole
                ),
            },
        ],
    }
}

fn charts(review: &Review<'_>, directions: &[String]) -> Result<Vec<Figure>, ReviewError> {
    let per_direction = |values: &dyn Fn(&Section) -> Vec<Option<f64>>| -> Vec<Series> {
        directions
            .iter()
            .zip(&review.directions)
            .map(|(name, d)| Series {
                name: name.clone(),
                values: values(&d.section),
            })
            .collect()
    };
    let counts = |v: &[u64]| v.iter().map(|c| Some(*c as f64)).collect::<Vec<_>>();
    let share = |f: Fraction| f.percent();
    let response_labels: Vec<String> = review
        .buckets
        .response_time
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let periods: Vec<String> = review.trend.iter().map(|p| p.period.to_string()).collect();
    let trend_series = |value: &dyn Fn(&crate::Headline) -> Option<f64>| -> Vec<Series> {
        directions
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.clone(),
                values: review
                    .trend
                    .iter()
                    // A period before the agreement came into force is a gap, not a zero.
                    .map(|p| {
                        p.directions
                            .get(i)
                            .filter(|_| p.in_force)
                            .and_then(|d| value(&d.headline))
                    })
                    .collect(),
            })
            .collect()
    };
    let kinds: Vec<String> = review
        .overall
        .by_kind
        .iter()
        .map(|g| g.value.clone())
        .collect();
    let specs: Vec<(&str, &str, String, Chart, bool)> = vec![
        (
            "time-to-acknowledge",
            "Time to acknowledge, by direction",
            "Requests filed in the period, by responder time to the first reply.".into(),
            Chart {
                title: "Time to acknowledge, by direction".into(),
                x_labels: response_labels.clone(),
                series: per_direction(&|s| counts(&s.distribution.time_to_acknowledge)),
                y_label: "requests".into(),
                percent: false,
            },
            false,
        ),
        (
            "time-to-final-answer",
            "Time to final answer, by direction",
            "Requests filed in the period, by responder time to the final answer or decline \
             (clarification pauses excluded)."
                .into(),
            Chart {
                title: "Time to final answer, by direction".into(),
                x_labels: response_labels,
                series: per_direction(&|s| counts(&s.distribution.time_to_final_answer)),
                y_label: "requests".into(),
                percent: false,
            },
            false,
        ),
        (
            "within-deadline",
            "Within deadline, by deadline and direction",
            "Share of measured requests that met each deadline in time.".into(),
            Chart {
                title: "Within deadline, by deadline and direction".into(),
                x_labels: vec![
                    "Acknowledge".into(),
                    "First answer".into(),
                    "Final answer".into(),
                ],
                series: per_direction(&|s| {
                    let w = s.figures.within_deadline;
                    vec![
                        share(w.acknowledge),
                        share(w.first_answer),
                        share(w.final_answer),
                    ]
                }),
                y_label: "% in time".into(),
                percent: true,
            },
            false,
        ),
        (
            "in-time-by-kind",
            "Final answer within deadline, by request kind and direction",
            "Share of measured requests of each kind answered (or declined) in time.".into(),
            Chart {
                title: "Final answer within deadline, by request kind and direction".into(),
                x_labels: kinds,
                series: per_direction(&|s| {
                    s.by_kind
                        .iter()
                        .map(|g| share(g.figures.within_deadline.final_answer))
                        .collect()
                }),
                y_label: "% in time".into(),
                percent: true,
            },
            false,
        ),
        (
            "trend-filed",
            "Requests filed, by period",
            format!(
                "This period and the {} before it.",
                periods.len().saturating_sub(1)
            ),
            Chart {
                title: "Requests filed, by period".into(),
                x_labels: periods.clone(),
                series: trend_series(&|h| Some(h.filed as f64)),
                y_label: "requests".into(),
                percent: false,
            },
            true,
        ),
        (
            "trend-in-time",
            "Final answer within deadline, by period",
            "A gap means nothing was measured in that period.".into(),
            Chart {
                title: "Final answer within deadline, by period".into(),
                x_labels: periods,
                series: trend_series(&|h| share(h.final_answer_in_time)),
                y_label: "% in time".into(),
                percent: true,
            },
            true,
        ),
        (
            "quality",
            "Ratings of final answers, by direction",
            "How the requesters rated the final answers (1 poor, 5 excellent).".into(),
            Chart {
                title: "Ratings of final answers, by direction".into(),
                x_labels: (1..=5).map(|r| r.to_string()).collect(),
                series: per_direction(&|s| counts(&s.figures.quality.ratings)),
                y_label: "answers".into(),
                percent: false,
            },
            false,
        ),
        (
            "overdue-ageing",
            "Overdue at the period's end, by age",
            format!(
                "Requests open and past a deadline at {}, by time since filing.",
                when(review.backlog_at)
            ),
            Chart {
                title: "Overdue at the period's end, by age".into(),
                x_labels: review.buckets.age.iter().map(|s| (*s).to_owned()).collect(),
                series: per_direction(&|s| counts(&s.distribution.overdue_age)),
                y_label: "requests".into(),
                percent: false,
            },
            false,
        ),
    ];
    specs
        .into_iter()
        .map(|(id, title, caption, spec, line)| {
            let svg = if line {
                chart::lines(&spec)?
            } else {
                chart::bars(&spec)?
            };
            Ok(Figure {
                id: id.to_owned(),
                title: title.to_owned(),
                caption,
                svg,
            })
        })
        .collect()
}

fn direction_table(review: &Review<'_>, directions: &[String]) -> Table {
    let sections: Vec<&Figures> = std::iter::once(&review.overall.figures)
        .chain(review.directions.iter().map(|d| &d.section.figures))
        .collect();
    let mut head = vec!["Figure".to_owned(), "All directions".to_owned()];
    head.extend(directions.iter().cloned());
    type Getter = fn(&Figures) -> String;
    let lines: [(&str, Getter); 22] = [
        ("Requests filed", |f| f.filed.to_string()),
        ("Acknowledged", |f| f.acknowledged.to_string()),
        ("Answered partially", |f| f.answered.partially.to_string()),
        ("Answered finally", |f| f.answered.finally.to_string()),
        ("Declined", |f| f.declined.total.to_string()),
        ("Withdrawn", |f| f.withdrawn.to_string()),
        (
            "Time to acknowledge (median / 90th percentile / max)",
            |f| durations(f.time_to_acknowledge),
        ),
        (
            "Time to first answer (median / 90th percentile / max)",
            |f| durations(f.time_to_first_answer),
        ),
        (
            "Time to final answer (median / 90th percentile / max)",
            |f| durations(f.time_to_final_answer),
        ),
        ("Acknowledged in time", |f| {
            frac(f.within_deadline.acknowledge)
        }),
        ("First answer in time", |f| {
            frac(f.within_deadline.first_answer)
        }),
        ("Final answer in time", |f| {
            frac(f.within_deadline.final_answer)
        }),
        ("Clarification rounds (requests)", |f| {
            format!("{} ({})", f.clarification.rounds, f.clarification.requests)
        }),
        ("Paused time per clarified request (median / max)", |f| {
            format!(
                "{} / {}",
                ms(f.clarification.paused.median_ms),
                ms(f.clarification.paused.max_ms)
            )
        }),
        ("Mean rating", |f| {
            f.quality
                .mean
                .value()
                .map_or("—".into(), |m| format!("{m:.2}"))
        }),
        ("Ratings 1 / 2 / 3 / 4 / 5", |f| {
            f.quality
                .ratings
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" / ")
        }),
        ("Final answers rated", |f| frac(f.quality.rated)),
        ("Open at start (filed earlier)", |f| {
            f.at_end.open_at_start.to_string()
        }),
        ("Open at end", |f| f.at_end.open.to_string()),
        ("… of which carried over", |f| {
            f.at_end.carried_over.to_string()
        }),
        ("Overdue at end", |f| f.at_end.overdue.to_string()),
        ("Age of open requests at end (median / max)", |f| {
            format!(
                "{} / {}",
                ms(f.at_end.age.median_ms),
                ms(f.at_end.age.max_ms)
            )
        }),
    ];
    let rows = lines
        .iter()
        .map(|(label, get)| {
            let mut row = vec![(*label).to_owned()];
            row.extend(sections.iter().map(|f| get(f)));
            row
        })
        .collect();
    Table {
        id: "figures".into(),
        title: "Figures by direction".into(),
        note: String::new(),
        head,
        rows,
    }
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

fn declines_table(review: &Review<'_>, directions: &[String]) -> Table {
    let mut head = vec!["Reason".to_owned(), "All directions".to_owned()];
    head.extend(directions.iter().cloned());
    let count = |f: &Figures, r: DeclineReason| {
        f.declined
            .by_reason
            .get(&r)
            .copied()
            .unwrap_or(0)
            .to_string()
    };
    // Reasons no request was declined for are left out: the JSON and CSV list them all.
    let rows: Vec<Vec<String>> = REASONS
        .iter()
        .filter(|r| review.overall.figures.declined.by_reason.contains_key(r))
        .map(|r| {
            let mut row = vec![decline_reason_name(*r).replace('_', " ")];
            row.push(count(&review.overall.figures, *r));
            row.extend(
                review
                    .directions
                    .iter()
                    .map(|d| count(&d.section.figures, *r)),
            );
            row
        })
        .collect();
    Table {
        id: "declines".into(),
        title: "Declines by reason".into(),
        note: if rows.is_empty() {
            "No request was declined.".into()
        } else {
            "Reasons no request was declined for are left out.".into()
        },
        head,
        rows,
    }
}

fn transit_table(review: &Review<'_>, directions: &[String]) -> Table {
    let mut rows = Vec::new();
    for (d, name) in review.directions.iter().zip(directions) {
        for (side, leg) in [
            ("to the responder", &d.transit.to_responder),
            ("to the requester", &d.transit.to_requester),
        ] {
            rows.push(vec![
                format!("{name}, {side}"),
                leg.delay.count.to_string(),
                durations(leg.delay),
                leg.late.to_string(),
                match leg.waiting.longest_ms {
                    None => "none".to_owned(),
                    Some(longest) => format!(
                        "{} ({} in all, longest {})",
                        leg.waiting.stretches,
                        ms(Some(leg.waiting.total_ms)),
                        ms(Some(longest))
                    ),
                },
            ]);
        }
    }
    Table {
        id: "delivery".into(),
        title: "Delivery of messages".into(),
        note: format!(
            "Every official time is the receiver's receipt time, so a party that cannot be \
             reached, or does not take messages, delays the clock that measures it. Delay: from \
             the sender's signed sealing time (its first attempt) to the receiver's signed \
             receipt, for the messages received in the period. Late: longer than {} s. \
             Waiting: the stretches, merged, during which a late message to that side was \
             sealed but not yet received.",
            crate::delivery::LATE_MS / 1000
        ),
        head: [
            "Direction, messages sent",
            "Messages",
            "Delay (median / 90th percentile / max)",
            "Late",
            "Waiting stretches",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
    }
}

fn breakdown_table(
    review: &Review<'_>,
    directions: &[String],
    id: &str,
    title: &str,
    pick: usize,
) -> Table {
    let head = [
        "Direction",
        "Value",
        "Filed",
        "Ack. in time",
        "Final in time",
        "Median to final",
        "Declined",
        "Withdrawn",
        "Mean rating",
        "Open at end",
        "Overdue",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut rows = Vec::new();
    let sections = std::iter::once(("All directions", &review.overall)).chain(
        directions
            .iter()
            .map(String::as_str)
            .zip(review.directions.iter().map(|d| &d.section)),
    );
    for (name, s) in sections {
        let groups = match pick {
            0 => &s.by_kind,
            1 => &s.by_category,
            _ => &s.by_priority,
        };
        // A value with nothing in it (no request filed, none open at the edges) says nothing:
        // the JSON and CSV list every value, the page only those with something to show.
        for g in groups.iter().filter(|g| !is_empty(&g.figures)) {
            let f = &g.figures;
            rows.push(vec![
                name.to_owned(),
                g.value.clone(),
                f.filed.to_string(),
                pct(f.within_deadline.acknowledge),
                pct(f.within_deadline.final_answer),
                ms(f.time_to_final_answer.median_ms),
                f.declined.total.to_string(),
                f.withdrawn.to_string(),
                f.quality
                    .mean
                    .value()
                    .map_or("—".into(), |m| format!("{m:.2}")),
                f.at_end.open.to_string(),
                f.at_end.overdue.to_string(),
            ]);
        }
    }
    Table {
        id: id.to_owned(),
        title: title.to_owned(),
        note: "Values without any request filed or open are left out.".into(),
        head,
        rows,
    }
}

/// Whether a group of figures counts nothing at all.
fn is_empty(f: &Figures) -> bool {
    f.filed == 0 && f.at_end.open_at_start == 0 && f.at_end.open == 0
}

fn trend_table(review: &Review<'_>, directions: &[String]) -> Table {
    let head = [
        "Period",
        "Direction",
        "Filed",
        "Ack. in time",
        "Final in time",
        "Median to final",
        "Mean rating",
        "Open at end",
        "Overdue at end",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut rows = Vec::new();
    for p in &review.trend {
        let all = std::iter::once(("All directions", &p.overall)).chain(
            directions
                .iter()
                .map(String::as_str)
                .zip(p.directions.iter().map(|d| &d.headline)),
        );
        for (name, h) in all {
            if !p.in_force {
                let mut row = vec![p.period.to_string(), name.to_owned()];
                row.push("not in force".into());
                row.extend(std::iter::repeat_n("—".to_owned(), 6));
                rows.push(row);
                continue;
            }
            rows.push(vec![
                p.period.to_string(),
                name.to_owned(),
                h.filed.to_string(),
                pct(h.acknowledged_in_time),
                pct(h.final_answer_in_time),
                ms(h.median_time_to_final_answer_ms),
                h.rating.value().map_or("—".into(), |m| format!("{m:.2}")),
                h.open_at_end.to_string(),
                h.overdue_at_end.to_string(),
            ]);
        }
    }
    Table {
        id: "trend".into(),
        title: "Trend over the previous periods".into(),
        note: match review.agreement.in_force_from {
            Some(from) => format!("The agreement is in force from {}.", when(from)),
            None => String::new(),
        },
        head,
        rows,
    }
}

fn overdue_table(review: &Review<'_>) -> Table {
    let full = review.redaction == Redaction::Full;
    let mut head: Vec<String> = [
        "Case",
        "Direction",
        "Kind",
        "Priority",
        "Filed",
        "Age",
        "Status",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if full {
        head.push("Title".into());
    }
    head.push("Log index".into());
    let mut overdue: Vec<_> = review
        .appendix
        .rows
        .iter()
        .filter(|r| r.overdue_at_end)
        .collect();
    let total = overdue.len();
    // Oldest first; ties by case id keep the order fixed. Only the first rows are shown, so
    // select them before sorting.
    let order = |a: &&crate::AppendixRow<'_>, b: &&crate::AppendixRow<'_>| {
        a.case
            .filed_at
            .cmp(&b.case.filed_at)
            .then(a.case.id.cmp(&b.case.id))
    };
    if overdue.len() > MAX_OVERDUE_ROWS_IN_PAGE {
        overdue.select_nth_unstable_by(MAX_OVERDUE_ROWS_IN_PAGE, order);
        overdue.truncate(MAX_OVERDUE_ROWS_IN_PAGE);
    }
    overdue.sort_by(order);
    let rows = overdue
        .iter()
        .take(MAX_OVERDUE_ROWS_IN_PAGE)
        .map(|r| {
            let c = r.case;
            let mut row = vec![
                c.id.to_string(),
                format!("{} → {}", c.requester, c.responder),
                c.kind.as_str().to_owned(),
                c.priority.as_str().to_owned(),
                when(c.filed_at),
                ms(Some(
                    i64::try_from(review.backlog_at.since(c.filed_at).whole_milliseconds())
                        .unwrap_or(i64::MAX),
                )),
                r.status.as_str().replace('_', " "),
            ];
            if full {
                row.push(format!("[{}] {}", c.tlp.label(), c.title));
            }
            row.push(r.log_index.to_string());
            row
        })
        .collect();
    Table {
        id: "overdue".into(),
        title: "Overdue at the period's end".into(),
        note: if total > MAX_OVERDUE_ROWS_IN_PAGE {
            format!(
                "The {MAX_OVERDUE_ROWS_IN_PAGE} oldest of {total}; the appendix lists them all."
            )
        } else if total == 0 {
            "No request was overdue at the period's end.".into()
        } else {
            format!("{total} requests, oldest first.")
        },
        head,
        rows,
    }
}

fn appendix_table(review: &Review<'_>) -> Table {
    let full = review.redaction == Redaction::Full;
    let mut head: Vec<String> = [
        "Case",
        "Direction",
        "Kind",
        "Category",
        "Priority",
        "Filed",
        "Acknowledged",
        "Final answer",
        "Status",
        "Rating",
        "Why listed",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if full {
        head.push("Title".into());
    }
    head.push("Log index".into());
    let n = review.appendix.rows.len();
    let rows = review
        .appendix
        .rows
        .iter()
        .take(MAX_APPENDIX_ROWS_IN_PAGE)
        .map(|r| {
            let c = r.case;
            let mut row = vec![
                c.id.to_string(),
                format!("{} → {}", c.requester, c.responder),
                c.kind.as_str().to_owned(),
                c.category.clone(),
                c.priority.as_str().to_owned(),
                when(c.filed_at),
                r.acknowledged_at().map_or("—".into(), when),
                r.final_answer_at().map_or("—".into(), when),
                r.status.as_str().replace('_', " "),
                r.rating().map_or("—".into(), |x| x.to_string()),
                match r.scope {
                    Scope::Filed => "filed in the period".to_owned(),
                    Scope::CarriedOver => "filed earlier, still open".to_owned(),
                },
            ];
            if full {
                row.push(format!("[{}] {}", c.tlp.label(), c.title));
            }
            row.push(r.log_index.to_string());
            row
        })
        .collect();
    Table {
        id: "appendix".into(),
        title: "Appendix: the requests behind the figures".into(),
        note: if n > MAX_APPENDIX_ROWS_IN_PAGE {
            format!(
                "The first {MAX_APPENDIX_ROWS_IN_PAGE} of {n} requests by filing time; the CSV \
                 and JSON outputs list them all."
            )
        } else {
            format!(
                "{n} requests by filing time. The log index points at each request's signed \
                 entry."
            )
        },
        head,
        rows,
    }
}

/// A timestamp to the minute, e.g. `2026-06-30 14:05 UTC`.
fn when(t: Timestamp) -> String {
    let s = t.to_string();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// A duration for people: `850 ms`, `42 s`, `12 min`, `5 h 12 min`, `3 d 4 h`; `—` for none.
/// Rounded half up to the last unit shown (2,785 ms reads `3 s`, not `2 s`), carrying into
/// the next unit where rounding reaches it (59,600 ms reads `1 min`).
pub(crate) fn ms(v: Option<i64>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    let (s, m, h) = (1_000, 60_000, 3_600_000);
    let round = |unit: i64| (v + unit / 2) / unit;
    if v < s {
        format!("{v} ms")
    } else if round(s) < 60 {
        format!("{} s", round(s))
    } else if round(m) < 60 {
        format!("{} min", round(m))
    } else if round(m) < 24 * 60 {
        let minutes = round(m);
        format!("{} h {} min", minutes / 60, minutes % 60)
    } else {
        let hours = round(h);
        format!("{} d {} h", hours / 24, hours % 24)
    }
}

/// The first 16 hex digits of a digest in groups of four, short enough to read aloud; the
/// page gives the whole digest in a tooltip.
fn fingerprint(hex: &str) -> String {
    let head: Vec<&str> = (0..4).filter_map(|i| hex.get(4 * i..4 * i + 4)).collect();
    head.join(" ")
}

fn durations(d: Durations) -> String {
    format!("{} / {} / {}", ms(d.median_ms), ms(d.p90_ms), ms(d.max_ms))
}

fn pct(f: Fraction) -> String {
    f.per_mille()
        .map_or("—".into(), |p| format!("{}.{} %", p / 10, p % 10))
}

fn of(f: Fraction) -> String {
    if f.whole == 0 {
        "none measured yet".into()
    } else {
        format!("{} of {} measured", f.part, f.whole)
    }
}

fn frac(f: Fraction) -> String {
    if f.whole == 0 {
        "—".into()
    } else {
        format!("{} ({} of {})", pct(f), f.part, f.whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_sensible_units() {
        assert_eq!(ms(None), "—");
        assert_eq!(ms(Some(850)), "850 ms");
        assert_eq!(ms(Some(42_000)), "42 s");
        assert_eq!(ms(Some(12 * 60_000)), "12 min");
        assert_eq!(ms(Some(5 * 3_600_000 + 12 * 60_000)), "5 h 12 min");
        assert_eq!(ms(Some(3 * 86_400_000 + 4 * 3_600_000)), "3 d 4 h");
    }

    #[test]
    fn durations_are_rounded_half_up_not_truncated() {
        // Regression: 2,785 ms read "2 s".
        assert_eq!(ms(Some(2_785)), "3 s");
        assert_eq!(ms(Some(2_499)), "2 s");
        assert_eq!(ms(Some(59_600)), "1 min", "carried into minutes");
        assert_eq!(ms(Some(5 * 3_600_000 + 12 * 60_000 + 30_000)), "5 h 13 min");
        assert_eq!(ms(Some(86_400_000 - 20_000)), "1 d 0 h");
        assert_eq!(
            ms(Some(3 * 86_400_000 + 4 * 3_600_000 + 1_800_000)),
            "3 d 5 h"
        );
    }

    #[test]
    fn shares_print_with_one_decimal_and_their_counts() {
        assert_eq!(frac(Fraction::new(5, 6)), "83.3 % (5 of 6)");
        assert_eq!(pct(Fraction::new(0, 0)), "—");
        assert_eq!(
            when(Timestamp::parse("2026-06-30T14:05:59.999Z").expect("valid")),
            "2026-06-30 14:05 UTC"
        );
    }
}
