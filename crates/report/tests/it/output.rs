//! The shape of the outputs: JSON fields, CSV tables, the HTML page and its charts, and what
//! the redacted review leaves out.

use detente_domain::Case;
use detente_report::{
    FORMAT, Period, Redaction, Review, ReviewOptions, appendix_columns, compute, csv, html,
};
use serde_json::Value;

use crate::{fixtures::agreement, scenario};

fn review<'a>(cases: &'a [Case], period: &str, redaction: Redaction) -> Review<'a> {
    let options = ReviewOptions {
        redaction,
        ..ReviewOptions::new(Period::parse(period).expect("valid"))
    };
    compute(&agreement(), &scenario::records(cases), &options).expect("computable")
}

/// The keys of a JSON object in the order they are written (a `Value` would sort them).
struct OrderedKeys(Vec<String>);

impl<'de> serde::Deserialize<'de> for OrderedKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<OrderedKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    m.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(OrderedKeys(keys))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The keys of a nested object, sorted (nested order is checked by the determinism tests).
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn sorted<const N: usize>(mut keys: [&'static str; N]) -> [&'static str; N] {
    keys.sort_unstable();
    keys
}

fn ordered_keys(json: &str) -> Vec<String> {
    serde_json::from_str::<OrderedKeys>(json)
        .expect("an object")
        .0
}

#[test]
fn the_json_has_the_documented_fields_in_a_fixed_order() {
    let cases = scenario::cases();
    let json = review(&cases, "2026-H1", Redaction::Full)
        .to_json()
        .expect("serialisable");
    let v: Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(
        ordered_keys(&json),
        [
            "format",
            "agreement",
            "period",
            "as_of",
            "backlog_at",
            "checkpoints",
            "redaction",
            "buckets",
            "overall",
            "directions",
            "trend",
            "appendix"
        ]
    );
    assert_eq!(v["format"], FORMAT);
    assert_eq!(v["period"]["label"], "2026-H1");
    assert_eq!(v["as_of"], "2026-07-01T00:00:00.000Z");
    assert_eq!(
        keys(&v["overall"]),
        sorted([
            "figures",
            "distribution",
            "by_kind",
            "by_category",
            "by_priority"
        ])
    );
    assert_eq!(
        keys(&v["overall"]["figures"]),
        sorted([
            "filed",
            "acknowledged",
            "answered",
            "declined",
            "withdrawn",
            "time_to_acknowledge",
            "time_to_first_answer",
            "time_to_final_answer",
            "within_deadline",
            "clarification",
            "quality",
            "pending",
            "at_end"
        ])
    );
    let f = &v["overall"]["figures"];
    assert_eq!(
        f["within_deadline"]["final_answer"],
        serde_json::json!({"part": 4, "whole": 6, "percent": 66.7})
    );
    assert_eq!(f["declined"]["by_reason"]["no_jurisdiction"], 1);
    assert_eq!(
        f["quality"]["mean"],
        serde_json::json!({"sum": 9, "count": 2, "mean": 4.5})
    );
    assert_eq!(f["time_to_final_answer"]["median_ms"], 5 * 86_400_000_i64);
    assert_eq!(v["directions"][1]["requester"], "US");
    assert_eq!(v["directions"][1]["by_kind"][0]["value"], "information");
    assert_eq!(v["trend"].as_array().map(Vec::len), Some(5));
    assert_eq!(
        keys(&v["trend"][4]["directions"][0]),
        sorted([
            "requester",
            "responder",
            "filed",
            "acknowledged_in_time",
            "final_answer_in_time",
            "median_time_to_final_answer_ms",
            "rating",
            "open_at_end",
            "overdue_at_end"
        ])
    );
    let columns: Vec<&str> = v["appendix"]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(columns, appendix_columns(Redaction::Full));
    let j = &v["appendix"]["rows"][7];
    assert_eq!(
        j,
        &serde_json::json!([
            "CN-2026-0001",
            "CN",
            "US",
            "investigation",
            "botnet",
            "critical",
            "TLP:AMBER",
            "Request 1 <TLP:AMBER>",
            "2026-05-01T00:00:00.000Z",
            "2026-05-01T00:30:00.000Z",
            "2026-05-03T00:00:00.000Z",
            "2026-05-03T00:00:00.000Z",
            null,
            "closed",
            null,
            5,
            0,
            0,
            false,
            false,
            false,
            "filed",
            93
        ])
    );
}

#[test]
fn the_redacted_review_keeps_only_what_the_figures_need() {
    let cases = scenario::cases();
    let full = review(&cases, "2026-H1", Redaction::Full);
    let redacted = review(&cases, "2026-H1", Redaction::Redacted);
    let outputs = |r: &Review<'_>| {
        [
            r.to_json().expect("serialisable"),
            csv::appendix(r),
            html::review_page(r).expect("renders"),
            html::bulletin_page(r).expect("renders"),
        ]
    };
    for out in outputs(&full) {
        assert!(out.contains("Request 7"), "titles are in the full review");
    }
    for out in outputs(&redacted) {
        for marking in ["Request ", "TLP:RED", "TLP:AMBER", "TLP:GREEN", "\"tlp\""] {
            assert!(
                !out.contains(marking),
                "{marking} leaked into the redacted review"
            );
        }
    }
    // The figures themselves are the same.
    assert_eq!(full.overall, redacted.overall);
    assert_eq!(full.trend, redacted.trend);
    let v: Value = serde_json::from_str(&redacted.to_json().expect("ok")).expect("valid");
    assert_eq!(v["redaction"], "redacted");
    let columns = appendix_columns(Redaction::Redacted);
    assert!(!columns.contains(&"title") && !columns.contains(&"tlp"));
    assert_eq!(
        v["appendix"]["rows"][0].as_array().map(Vec::len),
        Some(appendix_columns(Redaction::Redacted).len())
    );
}

#[test]
fn the_csv_tables_have_a_header_and_one_row_per_item() {
    let cases = scenario::cases();
    let r = review(&cases, "2026-H1", Redaction::Full);
    let appendix = csv::appendix(&r);
    let lines: Vec<&str> = appendix.split_terminator("\r\n").collect();
    assert_eq!(lines[0], appendix_columns(Redaction::Full).join(","));
    assert_eq!(lines.len(), 1 + r.appendix.rows.len());
    assert_eq!(
        lines[8],
        "CN-2026-0001,CN,US,investigation,botnet,critical,TLP:AMBER,Request 1 <TLP:AMBER>,\
         2026-05-01T00:00:00.000Z,2026-05-01T00:30:00.000Z,2026-05-03T00:00:00.000Z,\
         2026-05-03T00:00:00.000Z,,closed,,5,0,0,false,false,false,filed,93"
    );
    let figures = csv::figures(&r);
    let lines: Vec<&str> = figures.split_terminator("\r\n").collect();
    let width = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == width));
    // (overall + 2 directions) × (all + 5 kinds + 2 categories + 4 priorities), plus header.
    assert_eq!(lines.len(), 1 + 3 * 12);
    assert!(lines[1].starts_with(",,all,,9,6,1,4,1,1,"), "{}", lines[1]);
    let trend = csv::trend(&r);
    assert_eq!(trend.split_terminator("\r\n").count(), 1 + 5 * 3);
    assert!(trend.contains("\r\n2026-H1,2026-01-01T00:00:00.000Z,2026-07-01T00:00:00.000Z,"));
}

/// Checks that every element is closed in order; void elements and self-closing SVG tags
/// need no end tag. Returns the number of elements opened.
fn check_well_formed(html: &str) -> usize {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];
    let mut stack: Vec<String> = Vec::new();
    let mut opened = 0;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("every tag is closed");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let top = stack.pop().unwrap_or_default();
            assert_eq!(top, closing.trim(), "</{closing}> closes <{top}>");
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            opened += 1;
            stack.push(name.clone());
        }
        if name == "style" && !tag.starts_with('/') {
            // Skip the style sheet's body, which has no tags.
            let close = rest.find("</style>").expect("style is closed");
            rest = &rest[close..];
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    opened
}

/// The `<svg>` elements of a page.
fn svgs(html: &str) -> Vec<&str> {
    html.split("<svg")
        .skip(1)
        .map(|s| s.split("</svg>").next().expect("closed"))
        .collect()
}

fn drawn(svg: &str) -> bool {
    ["#0072B2", "#E69F00"].iter().any(|c| svg.contains(c))
        && (svg.contains("<rect") || svg.contains("<polyline") || svg.contains("<circle"))
}

#[test]
fn the_page_is_well_formed_self_contained_and_every_chart_has_drawn_elements() {
    let cases = scenario::cases();
    let r = review(&cases, "2026-H1", Redaction::Full);
    let page = html::review_page(&r).expect("renders");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(check_well_formed(&page) > 100);
    for external in [
        "http://", "https://", "src=", "<link", "<script", "url(", "@import",
    ] {
        assert!(!page.contains(external), "the page refers to {external}");
    }
    assert!(page.contains("@media print") && page.contains("size: A4"));
    let charts = svgs(&page);
    assert_eq!(charts.len(), 8);
    for svg in &charts {
        assert!(drawn(svg), "a chart with data drew nothing: {svg}");
        assert!(
            svg.contains("<text"),
            "labels are SVG text, no fonts needed"
        );
    }
    // The numbers a delegate quotes are on the first screen.
    let summary = &page[..page.find("id=\"charts\"").expect("charts section")];
    for quoted in [
        "66.7 %",
        "50.0 %",
        "5 d 0 h",
        "4.50",
        "All directions",
        "US → CN",
    ] {
        assert!(summary.contains(quoted), "summary lacks {quoted}");
    }
    // Titles are escaped: the fixture's titles contain angle brackets.
    assert!(
        page.contains("Request 2 &#60;TLP:RED&#62;") || page.contains("Request 2 &lt;TLP:RED&gt;")
    );
    assert!(!page.contains("<TLP:RED>"));
}

#[test]
fn charts_without_data_say_so() {
    let r = compute(
        &agreement(),
        &[],
        &ReviewOptions::new(Period::parse("2026-H1").expect("valid")),
    )
    .expect("computable");
    let page = html::review_page(&r).expect("renders");
    check_well_formed(&page);
    let charts = svgs(&page);
    assert_eq!(charts.len(), 8);
    for svg in charts {
        assert!(svg.contains("No data in this period"));
        assert!(!drawn(svg));
    }
}

#[test]
fn the_weekly_bulletin_is_the_shorter_page() {
    let cases = scenario::cases();
    let r = review(&cases, "2026-W23", Redaction::Full);
    let bulletin = html::bulletin_page(&r).expect("renders");
    let page = html::review_page(&r).expect("renders");
    check_well_formed(&bulletin);
    assert!(bulletin.contains("Weekly bulletin"));
    assert_eq!(svgs(&bulletin).len(), 3);
    assert!(bulletin.len() < page.len());
    assert!(bulletin.contains("table-overdue"));
    assert!(!bulletin.contains("table-appendix"));
    // 2026-W23 (1–7 June) saw no filing but G (d149 = 30 May) was then overdue.
    let trend: Vec<String> = r.trend.iter().map(|p| p.period.to_string()).collect();
    assert_eq!(
        trend,
        ["2026-W19", "2026-W20", "2026-W21", "2026-W22", "2026-W23"]
    );
    assert!(bulletin.contains("US-2026-0007"));
}

#[test]
fn the_fast_json_writer_matches_serde_byte_for_byte() {
    let mut cases = scenario::cases();
    // Free text that needs escaping: quotes, backslashes, control characters, non-ASCII.
    cases[1].title = "Quote \" backslash \\ tab \t newline \n bell \u{7} 中文 </script>".into();
    for redaction in [Redaction::Full, Redaction::Redacted] {
        let r = review(&cases, "2026-H1", redaction);
        let fast = r.to_json().expect("serialisable");
        let serde = serde_json::to_string(&r).expect("serialisable");
        assert_eq!(fast, serde);
        let mut streamed = Vec::new();
        r.write_json(&mut streamed).expect("written");
        assert_eq!(streamed, fast.as_bytes());
        let v: Value = serde_json::from_str(&fast).expect("valid JSON");
        if redaction == Redaction::Full {
            assert_eq!(v["appendix"]["rows"][3][7], cases[1].title.as_str());
        }
    }
}

/// The HTML of the table with `id`.
fn table<'p>(page: &'p str, id: &str) -> &'p str {
    let start = page
        .find(&format!("id=\"table-{id}\""))
        .unwrap_or_else(|| panic!("a table {id}"));
    let end = start + page[start..].find("</table>").expect("closed");
    &page[start..end]
}

#[test]
fn the_page_leaves_out_empty_values_and_says_its_jargon_in_plain_words() {
    // Regression: every category, priority and decline reason was listed even when all its
    // figures were zero; "p90", "backlog at", "Scope: filed" and a bare 64-hex digest were
    // left to the reader.
    let cases = scenario::cases();
    let r = review(&cases, "2026-H1", Redaction::Full);
    let page = html::review_page(&r).expect("renders");
    let by_priority = table(&page, "by-priority");
    assert!(by_priority.contains("<td>critical</td>"));
    assert!(
        !by_priority.contains("<td>low</td>"),
        "no low-priority request"
    );
    let declines = table(&page, "declines");
    assert!(declines.contains("no jurisdiction"));
    assert!(!declines.contains("political offence"));
    assert!(!page.contains("p90") && page.contains("90th percentile"));
    assert!(!page.contains("backlog at"));
    assert!(table(&page, "appendix").contains("filed earlier, still open"));
    let digest = r.agreement.digest.to_string();
    assert!(page.contains("title=\"SHA-256"));
    assert!(page.contains(&digest[..4]) && page.contains(&digest));
}

#[test]
fn a_stalled_delivery_shows_in_its_direction_and_on_the_page() {
    // Arrange: US-7's request waited two hours in US's outbox before CN took it.
    let mut cases = scenario::cases();
    let stalled = cases
        .iter_mut()
        .find(|c| c.id == detente_protocol::CaseId::new(crate::fixtures::party("US"), 2026, 7))
        .expect("US-7 is in the scenario");
    stalled.deliveries[0].sent_at = stalled.filed_at.add(time::Duration::hours(-2));
    // Act
    let r = review(&cases, "2026-H1", Redaction::Full);
    // Assert: in US→CN, to the responder, one late message among quick ones; nothing else late.
    let us_cn = r
        .directions
        .iter()
        .find(|d| d.requester.as_str() == "US")
        .expect("US to CN");
    let leg = &us_cn.transit.to_responder;
    assert_eq!(leg.late, 1);
    assert_eq!(leg.delay.max_ms, Some(2 * crate::fixtures::HOUR));
    assert_eq!(leg.delay.median_ms, Some(crate::fixtures::TRANSIT_MS));
    assert_eq!(leg.waiting.stretches, 1);
    assert_eq!(leg.waiting.total_ms, 2 * crate::fixtures::HOUR);
    assert_eq!(us_cn.transit.to_requester.late, 0);
    assert!(us_cn.transit.to_requester.delay.count > 0);
    let cn_us = r
        .directions
        .iter()
        .find(|d| d.requester.as_str() == "CN")
        .expect("CN to US");
    assert_eq!(cn_us.transit.to_responder.late, 0);
    let page = html::review_page(&r).expect("renders");
    let delivery = table(&page, "delivery");
    assert!(
        delivery.contains("<td>1 (2 h 0 min in all, longest 2 h 0 min)</td>"),
        "{delivery}"
    );
    assert_eq!(delivery.matches("<td>none</td>").count(), 3, "{delivery}");
}

#[test]
fn periods_before_the_agreement_came_into_force_read_not_in_force_not_zero() {
    // Regression: periods before the agreement's start read as "0 requests".
    let cases = scenario::cases();
    let mut agreement = agreement();
    agreement.in_force_from = Some(crate::fixtures::t(-200 * crate::fixtures::DAY));
    let r = compute(
        &agreement,
        &scenario::records(&cases),
        &ReviewOptions::new(Period::parse("2026-H1").expect("valid")),
    )
    .expect("computable");
    let in_force: Vec<(String, bool)> = r
        .trend
        .iter()
        .map(|p| (p.period.to_string(), p.in_force))
        .collect();
    // In force from 2025-06-15: 2025-H1 ends after it, so it was in force for part of it.
    assert_eq!(
        in_force,
        [
            ("2024-H1".into(), false),
            ("2024-H2".into(), false),
            ("2025-H1".into(), true),
            ("2025-H2".into(), true),
            ("2026-H1".into(), true),
        ]
    );
    let page = html::review_page(&r).expect("renders");
    let trend = table(&page, "trend");
    assert_eq!(
        trend.matches("not in force").count(),
        2 * 3,
        "two periods, three rows each"
    );
    assert!(csv::trend(&r).contains(",2024-07-01T00:00:00.000Z,false,"));
    let v: Value = serde_json::from_str(&r.to_json().expect("ok")).expect("valid");
    assert_eq!(v["agreement"]["in_force_from"], "2025-06-15T00:00:00.000Z");
}
