//! The review document (HTML, JSON or CSV) computed from this node's log, or from a log
//! bundle: shared by `detente review` and `GET /api/v1/review`.

use std::path::Path;

use detente_audit::EntryKind;
use detente_domain::{Agreement, Case};
use detente_protocol::{PartyId, Timestamp};
use detente_protocol::{Receipt, Signed};
use detente_report::{
    CaseRecord, CitedCheckpoint, Period, Redaction, ReviewOptions, Sources, compute, csv, html,
};
use detente_store::Store;

use crate::{
    error::{ApiError, ErrorCode},
    node::each_derived_case,
};

/// What to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewFormat {
    /// The full page, or the bulletin for a week.
    Html,
    /// Every figure, the trend and the appendix.
    Json,
    /// The per-case appendix.
    CsvAppendix,
    /// Every figure of every breakdown.
    CsvFigures,
    /// The headline figures across periods.
    CsvTrend,
}

impl ReviewFormat {
    /// The media type of the rendered document.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Html => "text/html; charset=utf-8",
            Self::Json => "application/json",
            _ => "text/csv; charset=utf-8",
        }
    }
}

/// What a review request asks for.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    /// `2026-H1`, `2026-W48`, a range, ...
    pub period: String,
    /// The short weekly bulletin instead of the full page (HTML only).
    pub bulletin: bool,
    /// Output form.
    pub format: ReviewFormat,
    /// Leave out titles and TLP markings.
    pub redacted: bool,
    /// Earlier periods in the trend (at most `detente_report::MAX_TREND_PERIODS`).
    pub trend: usize,
    /// Measure the review at this instant instead of now (at or after the period's start, not
    /// in the future; after the period's end it follows the period's requests up), so that
    /// two nodes (and an auditor) can produce the same document at different times.
    pub as_of: Option<Timestamp>,
}

/// Renders the review of `request.period` from the cases in `party`'s log in `store`,
/// measured at `request.as_of` or, without one, at `now`. The cases come from the entries
/// covered by the node's latest signed checkpoint, checked against it in the same pass; a log
/// that does not match is refused with `log_damaged` (see `node::each_derived_case`).
pub async fn render_review(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
    request: &ReviewRequest,
    now: Timestamp,
) -> Result<String, ApiError> {
    let mut sources = Sources::new(measured_at(request, now)?);
    let mut cases = Vec::new();
    each_derived_case(
        store,
        agreement,
        party,
        |r| sources.receipt(r),
        |case| cases.push(case),
    )
    .await?;
    render_cases(&cases, &sources.finish(), agreement, request, now)
}

/// The instant a review of `request` is measured at, or why it cannot be.
pub fn measured_at(request: &ReviewRequest, now: Timestamp) -> Result<Timestamp, ApiError> {
    let options = options(request, now)?;
    Ok(options.as_of.unwrap_or(now))
}

/// Renders the review from the log bundle at `path` (`detente log export`), as the party's
/// node would: from the cases its entries record and the checkpoints its receipts carry. The
/// bundle is read twice: once to derive the cases (checking every signature), once for the
/// receipts' checkpoints.
pub fn render_bundle(
    path: &Path,
    request: &ReviewRequest,
    now: Timestamp,
) -> Result<String, ApiError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ApiError::new(
            ErrorCode::InvalidMessage,
            format!("reading the bundle {}: {e}", path.display()),
        )
    };
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| unreadable(&e))
    };
    let derived = detente_audit::bundle_cases(open()?).map_err(|e| unreadable(&e))?;
    let mut sources = Sources::new(measured_at(request, now)?);
    let (_, entries) = detente_audit::BundleReader::open(open()?).map_err(|e| unreadable(&e))?;
    for entry in entries {
        // The first pass refused every damaged line, so one here means the file changed.
        let entry = entry.map_err(|bad| unreadable(&format!("line {} {}", bad.line, bad.why)))?;
        if entry.kind == EntryKind::Receipt {
            let receipt =
                Signed::<Receipt>::parse(&entry.bytes, usize::MAX).map_err(|e| unreadable(&e))?;
            sources.receipt(receipt.payload());
        }
    }
    render_cases(
        &derived.cases,
        &sources.finish(),
        &derived.header.agreement,
        request,
        now,
    )
}

fn invalid(e: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidMessage, e)
}

fn options(request: &ReviewRequest, now: Timestamp) -> Result<ReviewOptions, ApiError> {
    let period = Period::parse(&request.period).map_err(|e| invalid(e.to_string()))?;
    let mut options =
        ReviewOptions::measured(period, request.as_of, now).map_err(|e| invalid(e.to_string()))?;
    options.trend_periods = request.trend;
    options.redaction = if request.redacted {
        Redaction::Redacted
    } else {
        Redaction::Full
    };
    Ok(options)
}

/// Renders the review of `request.period` from cases already derived, each with the index of
/// its request in the responder's log, citing `checkpoints`: from a node's store or from a
/// log bundle.
pub fn render_cases(
    cases: &[(Case, u64)],
    checkpoints: &[CitedCheckpoint],
    agreement: &Agreement,
    request: &ReviewRequest,
    now: Timestamp,
) -> Result<String, ApiError> {
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .map(|(case, log_index)| CaseRecord {
            case,
            log_index: *log_index,
        })
        .collect();
    let options = options(request, now)?;
    let mut review = compute(agreement, &records, &options).map_err(|e| invalid(e.to_string()))?;
    review.checkpoints = checkpoints.to_vec();
    let rendered = match request.format {
        ReviewFormat::Html if request.bulletin => html::bulletin_page(&review),
        ReviewFormat::Html => html::review_page(&review),
        ReviewFormat::Json => review.to_json(),
        ReviewFormat::CsvAppendix => Ok(csv::appendix(&review)),
        ReviewFormat::CsvFigures => Ok(csv::figures(&review)),
        ReviewFormat::CsvTrend => Ok(csv::trend(&review)),
    };
    rendered.map_err(|e| invalid(e.to_string()))
}
