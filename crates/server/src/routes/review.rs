//! `GET /api/v1/review?period=2026-H1&format=html|json|csv[&table=figures|trend][&redacted=true]`
//! (or `week=2026-W48` for the bulletin; `as_of=2026-11-27T00:00:00.000Z` measures it at that
//! instant instead of now; `trend=N`, at most 20): the review, computed from this node's log.

use axum::{
    extract::{Query, State},
    http::header::CONTENT_TYPE,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use detente_people::Action;

use crate::{
    error::{ApiError, ErrorCode},
    extract::User,
    node::now,
    review::{ReviewFormat, ReviewRequest, render_review},
    router::AppState,
};

/// Query of the review.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    period: Option<String>,
    week: Option<String>,
    format: Option<String>,
    table: Option<String>,
    #[serde(default)]
    redacted: bool,
    trend: Option<usize>,
    as_of: Option<detente_protocol::Timestamp>,
}

/// Renders the review.
pub async fn get_review(
    user: User,
    State(state): State<AppState>,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, ApiError> {
    user.require(Action::ReadReview)?;
    let invalid = |m: &str| ApiError::new(ErrorCode::InvalidMessage, m);
    let (period, bulletin) = match (q.period, q.week) {
        (Some(p), None) => (p, false),
        (None, Some(w)) => (w, true),
        _ => return Err(invalid("give period=2026-H1 or week=2026-W48")),
    };
    let format = match (q.format.as_deref().unwrap_or("html"), q.table.as_deref()) {
        ("html", None) => ReviewFormat::Html,
        ("json", None) => ReviewFormat::Json,
        ("csv", None | Some("appendix")) => ReviewFormat::CsvAppendix,
        ("csv", Some("figures")) => ReviewFormat::CsvFigures,
        ("csv", Some("trend")) => ReviewFormat::CsvTrend,
        _ => {
            return Err(invalid(
                "format is html, json or csv (table=appendix|figures|trend with csv)",
            ));
        }
    };
    let request = ReviewRequest {
        period,
        bulletin,
        format,
        redacted: q.redacted,
        trend: q.trend.unwrap_or(4),
        as_of: q.as_of,
    };
    let node = &state.node;
    let body = match render_review(
        node.store(),
        node.agreement(),
        node.party(),
        &request,
        now(),
    )
    .await
    {
        Ok(body) => body,
        Err(refused) if refused.code == ErrorCode::LogDamaged => {
            // The refusal names the first bad entry; the operator must also see it in status.
            if let Err(e) = node.raise_log_damaged(&refused.message).await {
                tracing::error!(error = %e, "cannot record the log_damaged alert");
            }
            return Err(refused);
        }
        Err(e) => return Err(e),
    };
    Ok(([(CONTENT_TYPE, format.media_type())], body).into_response())
}
