//! `GET /api/v1/status`: what an operator checks first, and whether anything needs them.

use axum::{Json, extract::State};
use detente_api::{
    AgreementView, AlertView, LogHead, OutboxView, PartnerView, ProvenCheckpoint, PullHistory,
    PullReport, StatusView,
};

use detente_people::Action;

use crate::{error::ApiError, extract::User, router::AppState, taxii_pull};

/// The node's party, agreement, log, partners (with delivery to each), alerts, delivery
/// queue and scheduled TAXII pulls, and whether any of it needs the operator.
pub async fn get_status(
    user: User,
    State(state): State<AppState>,
) -> Result<Json<StatusView>, ApiError> {
    user.require(Action::ReadStatus)?;
    let node = &state.node;
    let store = node.store();
    let outgoing: Vec<OutboxView> = store
        .outbox_summary()
        .await?
        .into_iter()
        .map(|(to, state, count)| OutboxView { to, state, count })
        .collect();
    let (size, root) = store.tree_head().await;
    let alerts: Vec<AlertView> = store
        .alerts()
        .await?
        .into_iter()
        .map(|a| AlertView {
            kind: a.kind,
            party: a.party,
            detail: a.detail,
            evidence: a.evidence,
            raised_at: a.raised_at,
        })
        .collect();
    let deliveries = store.delivery_states().await?;
    let mut partners = Vec::new();
    for p in node
        .agreement()
        .parties
        .iter()
        .filter(|p| &p.id != node.party())
    {
        let proven = store.consistent_partner_checkpoints(&p.id).await?;
        let delivery = deliveries.iter().find(|d| d.recipient == p.id);
        partners.push(PartnerView {
            party: p.id.clone(),
            latest_consistent_checkpoint: proven.first().map(|c| ProvenCheckpoint {
                size: c.size.get(),
                root: c.root,
            }),
            pending: delivery.map_or(0, |d| d.pending),
            last_error: delivery.and_then(|d| d.last_error.clone()),
            next_attempt_at: delivery.map(|d| d.next_attempt_at),
            attempts: delivery.map_or(0, |d| d.attempts),
        });
    }
    // A partner that cannot be delivered to (down, a wrong pinned CA, a changed agreement),
    // a message it refused for good, or an alert: each waits for the operator, not for time.
    let attention = !alerts.is_empty()
        || partners.iter().any(|p| p.last_error.is_some())
        || outgoing
            .iter()
            .any(|o| o.state == "rejected" && o.count > 0);
    let digest = node.agreement().digest();
    Ok(Json(StatusView {
        party: node.party().clone(),
        agreement: AgreementView {
            id: node.agreement().id.to_string(),
            fingerprint: digest.fingerprint(),
            digest,
        },
        log_entries: store.entry_count().await?,
        log: LogHead {
            size: size.get(),
            root,
            checkpoint: node.latest_checkpoint(),
        },
        partners,
        alerts,
        outgoing,
        pulls: state.pulls.snapshot().iter().map(pull_history).collect(),
        attention,
    }))
}

fn pull_history(h: &taxii_pull::PullHistory) -> PullHistory {
    PullHistory {
        party: h.party.clone(),
        collection: h.collection.clone(),
        rounds: h.rounds,
        failures: h.failures,
        received: h.received,
        stored: h.stored,
        last: h.last.as_ref().map(|r| PullReport {
            pages: r.pages,
            received: r.received,
            stored: r.stored,
            duplicates: r.duplicates,
            rejected: r.rejected.clone(),
            added_after: r.added_after.clone(),
        }),
        last_error: h.last_error.clone(),
    }
}
