//! Writing the trail from the API: who read what the TLP holds closest (RED and AMBER+STRICT
//! cases and objects), and who changed what outside a message (a case moved to another
//! agency). Messages are written to the trail by the node itself, in their own transaction.

use detente_people::trail::Record;
use detente_protocol::Tlp;

use crate::{error::ApiError, extract::User, node::now, router::AppState};

/// Whether reading something at `tlp` is recorded: the levels meant for named people only.
pub fn is_recorded(tlp: Tlp) -> bool {
    matches!(tlp, Tlp::Red | Tlp::AmberStrict)
}

/// Records `user`'s read of the objects of `objects` meant for named people only (RED and
/// AMBER+STRICT, unmarked ones at the node's default level): the one place every object read
/// by a user of this node (API and TAXII) reports to.
pub async fn record_object_reads(
    state: &AppState,
    user: &User,
    objects: &[detente_store::StoredObject],
) -> Result<(), ApiError> {
    let default = state.config.indicators.default_tlp;
    let recorded: Vec<&str> = objects
        .iter()
        .filter(|o| is_recorded(o.tlp.unwrap_or(default)))
        .map(|o| o.id.as_str())
        .collect();
    if recorded.is_empty() {
        return Ok(());
    }
    record(state, user, "object.read", "", &recorded, "").await
}

/// Writes one trail record per object in `objects` (or one with no object if it is empty),
/// all of `action` by `user` on `case` (empty: none), in one transaction.
pub async fn record(
    state: &AppState,
    user: &User,
    action: &str,
    case: &str,
    objects: &[&str],
    detail: &str,
) -> Result<(), ApiError> {
    let mut tx = state.node.store().write().await?;
    let targets: &[&str] = if objects.is_empty() { &[""] } else { objects };
    for object in targets {
        tx.append_trail(&mut record_of(user, action, case, object, detail))
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The trail record of `action` by `user`, now; its position is set when it is appended.
pub fn record_of(user: &User, action: &str, case: &str, object: &str, detail: &str) -> Record {
    Record {
        seq: 0,
        at_ms: now().unix_millis(),
        user: user
            .name
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
        agency: user
            .agency
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        action: action.into(),
        case: case.into(),
        object: object.into(),
        detail: detail.into(),
    }
}
