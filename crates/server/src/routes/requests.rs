//! `/api/v1/requests`: the liaison officer's view of cases: file, list, show, and send the
//! next lifecycle message (acknowledge, ask for clarification, answer, decline, ...).

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use detente_domain::Case;
use detente_protocol::{Body, CaseId, PartyId, Receipt, RequestBody, Signed};
use detente_store::{CaseFilter, CaseRow, Direction};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::{ApiError, ErrorCode},
    extract::{StrictJson, User},
    node::{now, official_case},
    router::AppState,
};

/// Body of `POST /api/v1/requests`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    to: PartyId,
    request: RequestBody,
}

/// Files a new request to a partner.
pub async fn file_request(
    _user: User,
    State(state): State<AppState>,
    StrictJson(new): StrictJson<NewRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let sent = state.node.file_request(new.to, new.request).await?;
    Ok((StatusCode::CREATED, Json(json!(sent))))
}

/// Sends the next message of a case; the body is the message body, e.g.
/// `{"type": "acknowledgement", "note": "..."}`.
pub async fn send_message(
    _user: User,
    State(state): State<AppState>,
    Path(case): Path<String>,
    StrictJson(body): StrictJson<Body>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let case = parse_case(&case)?;
    if matches!(body, Body::Request(_)) {
        return Err(ApiError::new(
            ErrorCode::IllegalTransition,
            "a request opens a new case: POST it to /api/v1/requests",
        ));
    }
    let sent = state.node.send(&case, body).await?;
    Ok((StatusCode::CREATED, Json(json!(sent))))
}

/// Query of `GET /api/v1/requests`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    /// `incoming` (addressed to this node) or `outgoing` (filed by this node).
    direction: Option<String>,
    /// Only cases with a passed, unmet deadline.
    #[serde(default)]
    overdue: bool,
    limit: Option<u32>,
}

/// Lists cases, newest first.
pub async fn list_requests(
    _user: User,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = state.node.party().clone();
    let now = now();
    let mut filter = CaseFilter {
        status: q.status,
        limit: q.limit.unwrap_or(100).min(10_000),
        overdue_at: q.overdue.then_some(now),
        ..CaseFilter::default()
    };
    match q.direction.as_deref() {
        None => {}
        Some("incoming") => filter.responder = Some(me),
        Some("outgoing") => filter.requester = Some(me),
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidMessage,
                format!("direction {other:?} must be incoming or outgoing"),
            ));
        }
    }
    let rows = state.node.store().cases(&filter).await?;
    Ok(Json(
        json!({ "requests": rows.iter().map(|r| case_summary(r, now)).collect::<Vec<_>>() }),
    ))
}

fn case_summary(r: &CaseRow, now: detente_protocol::Timestamp) -> Value {
    json!({
        "case": r.id,
        "requester": r.requester,
        "responder": r.responder,
        "kind": r.kind,
        "category": r.category,
        "priority": r.priority,
        "tlp": r.tlp,
        "title": r.title,
        "status": r.status,
        "filed_at": r.filed_at,
        "pending_out": r.pending_out,
        // `Case::overdue_from`, stored by the projection: overdue at and after this instant.
        "overdue_from": r.overdue_at,
        "overdue": r.overdue_at.is_some_and(|t| t <= now),
    })
}

/// One case with its timeliness and every message.
pub async fn show_request(
    _user: User,
    State(state): State<AppState>,
    Path(case): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let case = parse_case(&case)?;
    let node = &state.node;
    let row = node.store().case(&case).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownCase,
            format!("case {case} is not known to this node"),
        )
    })?;
    let rows = node.store().case_messages(&case).await?;
    let now = now();
    let derived: Option<Case> = official_case(node.agreement(), &rows)?;
    let timeliness = derived
        .as_ref()
        .map(|c| c.timeliness(&node.agreement().deadlines(c.priority), now));
    let mut messages = Vec::with_capacity(rows.len());
    for m in &rows {
        let env = detente_protocol::SignedEnvelope::parse(&m.envelope, usize::MAX)?;
        // A version 2 body is stored beside the log and checked against the signed header.
        let body = match env.body_digest() {
            Some(_) => Some(crate::node::stored_body(node.store().body(m.id).await?)?),
            None => None,
        };
        let opened = env
            .open(body.as_ref())
            .map_err(|e| ApiError::from(detente_store::StoreError::Corrupt(e.to_string())))?;
        let receipt = m
            .receipt
            .as_deref()
            .map(|b| Signed::<Receipt>::parse(b, usize::MAX))
            .transpose()?;
        messages.push(json!({
            "id": m.id,
            "direction": if m.direction == Direction::In { "in" } else { "out" },
            "from": m.sender,
            "to": m.recipient,
            "seq": m.seq,
            "state": format!("{:?}", m.state).to_lowercase(),
            "sent_at": opened.sent_at,
            "received_at": m.received_at,
            "in_reply_to": opened.in_reply_to,
            "body": opened.body,
            "envelope_hash": env.payload_hash(),
            "receipt_signed_by": receipt.as_ref().map(|r| r.payload().issuer.clone()),
            "rejection": m.rejection,
            "log_index": m.envelope_entry,
            "voided": derived.as_ref().is_some_and(|c| c.voided.contains(&m.id)),
        }));
    }
    Ok(Json(json!({
        "summary": case_summary(&row, now),
        "case": derived,
        "timeliness": timeliness,
        "messages": messages,
    })))
}

fn parse_case(s: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(s).map_err(|e| ApiError::new(ErrorCode::NotFound, e.to_string()))
}
