//! `/api/v1/cases`: the liaison officer's view of cases: file a request, list and show cases,
//! and send the next lifecycle message (acknowledge, ask for clarification, answer, decline,
//! ...). Bodies and answers are the types of `detente-api`. The older `/api/v1/requests`
//! paths are kept as aliases for clients written against them.

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
};
use detente_api::{
    CaseDetail, CaseList, CaseState, CaseSummary, CaseView, Direction, MessageState, MessageView,
    NewRequest, Sent, TimelinessView, one_of,
};
use detente_domain::Case;
use detente_protocol::{Body, CaseId, Receipt, Signed, Timestamp};
use detente_store::{CaseFilter, CaseRow};
use serde::{Deserialize, Serialize};

use detente_people::Action;

use crate::{
    error::{ApiError, ErrorCode},
    extract::{StrictJson, User},
    node::{self, now, official_case},
    router::AppState,
};

/// Files a new request to a partner; the case is routed to the filer's agency.
pub async fn file_request(
    user: User,
    State(state): State<AppState>,
    StrictJson(new): StrictJson<NewRequest>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    user.require(Action::FileRequest)?;
    let sent = state
        .node
        .file_request(new.to, new.request, actor(&user))
        .await?;
    Ok((StatusCode::CREATED, Json(sent_view(sent))))
}

/// Sends the next message of a case; the body is the message body, e.g.
/// `{"type": "acknowledgement", "note": "..."}`.
pub async fn send_message(
    user: User,
    State(state): State<AppState>,
    Path(case): Path<String>,
    StrictJson(body): StrictJson<Body>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let case = parse_case(&case)?;
    may_act_on(&state, &user, Action::SendMessage, &case).await?;
    if matches!(body, Body::Request(_)) {
        return Err(ApiError::new(
            ErrorCode::IllegalTransition,
            "a request opens a new case: POST it to /api/v1/cases",
        ));
    }
    let sent = state.node.send(&case, body, actor(&user)).await?;
    Ok((StatusCode::CREATED, Json(sent_view(sent))))
}

/// Whether `user` may take `action` on `case`. A user without the permission at all is told
/// so; a user who has it only for another agency's cases is told the case is unknown, as it
/// would be if it did not exist: "forbidden" would tell them which cases exist.
async fn may_act_on(
    state: &AppState,
    user: &User,
    action: Action,
    case: &CaseId,
) -> Result<(), ApiError> {
    user.require(action)?;
    let agency = state.node.store().case_agency(case).await?;
    user.require_case(action, case, agency.as_ref())
        .map_err(|_| {
            ApiError::new(
                ErrorCode::UnknownCase,
                format!("case {case} is not known to this node"),
            )
        })
}

/// The body of `POST /api/v1/cases/{case}/agency`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    agency: String,
}

/// `POST /api/v1/cases/{case}/agency`: routes the case to another agency (an incoming request
/// lands with the duty agency; its liaison officer passes it on).
pub async fn assign_case(
    user: User,
    State(state): State<AppState>,
    Path(case): Path<String>,
    StrictJson(to): StrictJson<Assignment>,
) -> Result<StatusCode, ApiError> {
    let case = parse_case(&case)?;
    may_act_on(&state, &user, Action::AssignCase, &case).await?;
    let store = state.node.store();
    if store.case(&case).await?.is_none() {
        return Err(ApiError::new(
            ErrorCode::UnknownCase,
            format!("case {case} is not known to this node"),
        ));
    }
    let agency = detente_people::AgencyId::parse(&to.agency).ok();
    let agencies = store.agencies().await?;
    let Some(agency) = agency.filter(|a| agencies.iter().any(|x| &x.id == a)) else {
        return Err(ApiError::new(
            ErrorCode::InvalidMessage,
            format!(
                "{:?} is not an agency of this node; agencies: {}",
                to.agency,
                agencies
                    .iter()
                    .map(|a| a.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    // The move and its trail record commit together.
    let mut tx = store.write().await?;
    tx.assign_case(&case, &agency, now()).await?;
    let mut record =
        crate::trail::record_of(&user, "case.assign", &case.to_string(), "", agency.as_str());
    tx.append_trail(&mut record).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The trail's actor for `user`.
fn actor(user: &User) -> node::Actor {
    node::Actor {
        user: user
            .name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        agency: user.agency.clone(),
    }
}

fn sent_view(s: node::Sent) -> Sent {
    Sent {
        case: s.case,
        message: s.message,
        seq: s.seq,
    }
}

/// The query of the case list as it arrives: values of closed sets are parsed here, so a
/// misspelt one is refused with the valid ones named instead of matching nothing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    direction: Option<String>,
    #[serde(default)]
    overdue: bool,
    limit: Option<u32>,
}

/// `GET /api/v1/cases`: cases, newest first.
pub async fn list_cases(
    user: User,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    Ok(Json(CaseList {
        cases: case_summaries(&state, &user, q).await?,
    }))
}

/// The case list under the key the `/api/v1/requests` alias has always used.
#[derive(Serialize)]
pub struct LegacyCaseList {
    requests: Vec<CaseSummary>,
}

/// `GET /api/v1/requests`: the case list at its older path and key.
pub async fn list_requests(
    user: User,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<LegacyCaseList>, ApiError> {
    Ok(Json(LegacyCaseList {
        requests: case_summaries(&state, &user, q).await?,
    }))
}

async fn case_summaries(
    state: &AppState,
    user: &User,
    q: ListQuery,
) -> Result<Vec<CaseSummary>, ApiError> {
    // A user who may read only their agency's cases gets only those listed.
    let agency = user.case_filter(Action::ReadCases)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            s.parse::<CaseState>().map_err(|_| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!(
                        "status {s:?} is not a case state; use {}",
                        one_of(&CaseState::names())
                    ),
                )
            })
        })
        .transpose()?;
    let direction = q
        .direction
        .as_deref()
        .map(|d| {
            d.parse::<Direction>().map_err(|_| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!(
                        "direction {d:?} is not a direction; use {}",
                        one_of(&Direction::names())
                    ),
                )
            })
        })
        .transpose()?;
    let me = state.node.party().clone();
    let now = now();
    let mut filter = CaseFilter {
        status: status.map(|s| s.as_str().to_owned()),
        limit: q.limit.unwrap_or(100).min(10_000),
        overdue_at: q.overdue.then_some(now),
        agency,
        ..CaseFilter::default()
    };
    match direction {
        None => {}
        Some(Direction::Incoming) => filter.responder = Some(me),
        Some(Direction::Outgoing) => filter.requester = Some(me),
    }
    let rows = state.node.store().cases(&filter).await?;
    rows.iter().map(|r| case_summary(state, r, now)).collect()
}

/// A stored case row as the API shows it. The row holds wire names written by the node
/// itself, so one that does not parse is a fault inside the node.
fn case_summary(state: &AppState, r: &CaseRow, now: Timestamp) -> Result<CaseSummary, ApiError> {
    let bad = |what: &str, value: &str| {
        ApiError::from(node::NodeError::Internal(format!(
            "case {} holds the {what} {value:?}",
            r.id
        )))
    };
    Ok(CaseSummary {
        case: r.id.clone(),
        requester: r.requester.clone(),
        responder: r.responder.clone(),
        direction: if &r.requester == state.node.party() {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        kind: r.kind.parse().map_err(|_| bad("kind", &r.kind))?,
        category: r.category.clone(),
        priority: r
            .priority
            .parse()
            .map_err(|_| bad("priority", &r.priority))?,
        tlp: r.tlp.parse().map_err(|_| bad("TLP", &r.tlp))?,
        title: r.title.clone(),
        status: r.status.parse().map_err(|_| bad("status", &r.status))?,
        filed_at: r.filed_at,
        pending_out: r.pending_out,
        // `Case::overdue_from`, stored by the projection: overdue at and after this instant.
        overdue_from: r.overdue_at,
        overdue: r.overdue_at.is_some_and(|t| t <= now),
    })
}

/// `GET /api/v1/cases/{case}`: one case with its timeliness and every message.
pub async fn show_case(
    user: User,
    State(state): State<AppState>,
    Path(case): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let case = parse_case(&case)?;
    may_act_on(&state, &user, Action::ReadCases, &case).await?;
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
        messages.push(MessageView {
            id: m.id,
            direction: match m.direction {
                detente_store::Direction::In => Direction::Incoming,
                detente_store::Direction::Out => Direction::Outgoing,
            },
            from: m.sender.clone(),
            to: m.recipient.clone(),
            agency: opened.agency.clone(),
            seq: m.seq,
            state: match m.state {
                detente_store::MessageState::Pending => MessageState::Pending,
                detente_store::MessageState::Delivered => MessageState::Delivered,
                detente_store::MessageState::Rejected => MessageState::Rejected,
                detente_store::MessageState::Received => MessageState::Received,
            },
            sent_at: opened.sent_at,
            received_at: m.received_at,
            in_reply_to: opened.in_reply_to,
            body: opened.body,
            envelope_hash: env.payload_hash(),
            receipt_signed_by: receipt.as_ref().map(|r| r.payload().issuer.clone()),
            rejection: m.rejection.clone(),
            log_index: u64::try_from(m.envelope_entry).unwrap_or_default(),
            voided: derived.as_ref().is_some_and(|c| c.voided.contains(&m.id)),
        });
    }
    let summary = case_summary(&state, &row, now)?;
    // Who read a case meant for named people only is kept in the trail.
    if crate::trail::is_recorded(summary.tlp) {
        let case = case.to_string();
        crate::trail::record(&state, &user, "case.read", &case, &[], summary.tlp.label()).await?;
    }
    Ok(Json(CaseDetail {
        summary,
        case: derived.as_ref().map(CaseView::from),
        timeliness: timeliness.as_ref().map(TimelinessView::from),
        messages,
    }))
}

/// A case id from a path. One that cannot be a case id names no case, so it is not found,
/// and the message says which part is wrong.
fn parse_case(s: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(s).map_err(|e| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("{s:?} is not a case id (like US-2026-0001): {e}"),
        )
    })
}
