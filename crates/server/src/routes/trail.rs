//! `GET /api/v1/trail`: who did what on this node (the local, hash-chained trail), by user,
//! agency, case and time, a page at a time.

use axum::{
    Json,
    extract::{Query, State},
};
use detente_people::Action;
use detente_protocol::Timestamp;
use detente_store::TrailQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::{ApiError, ErrorCode},
    extract::User,
    router::AppState,
};

/// The trail's filters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailFilter {
    user: Option<String>,
    agency: Option<String>,
    case: Option<String>,
    from: Option<Timestamp>,
    until: Option<Timestamp>,
    /// The last `seq` of the previous page.
    #[serde(default)]
    after: u64,
    /// At most this many (1-1000, default 100).
    limit: Option<u32>,
}

/// Trail records matching the filter, oldest first, and where the next page starts.
pub async fn get_trail(
    user: User,
    State(state): State<AppState>,
    Query(f): Query<TrailFilter>,
) -> Result<Json<Value>, ApiError> {
    user.require(Action::ReadTrail)?;
    let limit = f.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "limit must be between 1 and 1000",
        ));
    }
    let entries = state
        .node
        .store()
        .trail(&TrailQuery {
            user: f.user,
            agency: f.agency,
            case: f.case,
            from: f.from,
            until: f.until,
            after_seq: f.after,
            limit,
        })
        .await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.record.seq))
        .flatten();
    let records: Vec<Value> = entries
        .iter()
        .map(|e| {
            let r = &e.record;
            json!({
                "seq": r.seq,
                "at": Timestamp::from_unix_millis(r.at_ms).ok(),
                "user": r.user,
                "agency": r.agency,
                "action": r.action,
                "case": r.case,
                "object": r.object,
                "detail": r.detail,
                "link": hex::encode(e.link),
            })
        })
        .collect();
    Ok(Json(json!({"trail": records, "next_after": next})))
}
