//! `GET /api/v1/status`: what an operator checks first.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::{error::ApiError, extract::User, router::AppState};

/// The node's party, agreement, log size, delivery queue and scheduled TAXII pulls.
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
    let (size, root) = node.store().tree_head().await;
    let alerts: Vec<Value> = node
        .store()
        .alerts()
        .await?
        .into_iter()
        .map(|a| json!({"kind": a.kind, "party": a.party, "detail": a.detail, "evidence": a.evidence, "raised_at": a.raised_at}))
        .collect();
    let mut partners = Vec::new();
    for p in node
        .agreement()
        .parties
        .iter()
        .filter(|p| &p.id != node.party())
    {
        let proven = node.store().consistent_partner_checkpoints(&p.id).await?;
        partners.push(json!({
            "party": p.id,
            "latest_consistent_checkpoint": proven.first().map(|c| json!({"size": c.size.get(), "root": c.root})),
        }));
    }
    Ok(Json(json!({
        "party": node.party(),
        "agreement": {"id": node.agreement().id, "digest": node.agreement().digest()},
        "log_entries": node.store().entry_count().await?,
        "log": {"size": size.get(), "root": root, "checkpoint": node.latest_checkpoint()},
        "partners": partners,
        "alerts": alerts,
        "outgoing": outbox,
        "pulls": state.pulls.snapshot(),
    })))
}
