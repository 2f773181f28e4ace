//! `GET /api/v1/status`: what an operator checks first.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::{error::ApiError, extract::User, router::AppState};

/// The node's party, agreement, log size and delivery queue.
pub async fn get_status(
    _user: User,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let node = &state.node;
    let outbox: Vec<Value> = node
        .store()
        .outbox_summary()
        .await?
        .into_iter()
        .map(|(to, s, n)| json!({"to": to, "state": s, "count": n}))
        .collect();
    Ok(Json(json!({
        "party": node.party(),
        "agreement": {"id": node.agreement().id, "digest": node.agreement().digest()},
        "log_entries": node.store().entry_count().await?,
        "outgoing": outbox,
    })))
}
