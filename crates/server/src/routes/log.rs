//! `/federation/v1/log/...`: this node's log for partners and auditors — the latest signed
//! checkpoint, inclusion and consistency proofs (RFC 9162 §2.1.3–2.1.4), and entries by range.

use axum::{
    Json,
    extract::{Query, State},
};
use detente_ledger::{LeafIndex, TreeSize, hash_leaf};
use detente_protocol::{Digest, PartyId, Receipt, Signed};
use detente_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json, value::RawValue};

use detente_people::Action;

use crate::{
    error::{ApiError, ErrorCode},
    extract::Reader,
    router::AppState,
};

/// Most entries returned by one request.
pub const MAX_ENTRIES: u64 = 1000;

/// The latest signed checkpoint, with the tree it commits to.
pub async fn get_checkpoint(
    reader: Reader,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    reader.require_user(Action::ReadLog)?;
    let store = state.node.store();
    let (size, root) = store.tree_head().await;
    Ok(Json(json!({
        "size": size.get(),
        "root": root,
        "checkpoint": store.latest_checkpoint().await?,
    })))
}

/// Query of the inclusion proof.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

/// The inclusion proof of entry `index` in the tree of `size` entries.
pub async fn get_inclusion_proof(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    reader.require_user(Action::ReadLog)?;
    within_log(&state, q.size).await?;
    let proof = state
        .node
        .store()
        .inclusion_proof(LeafIndex::new(q.index), TreeSize::new(q.size))
        .await
        .map_err(range)?;
    Ok(Json(
        json!({"index": q.index, "size": q.size, "proof": proof}),
    ))
}

/// Query of the consistency proof.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

/// The consistency proof between the trees of `from` and `to` entries.
pub async fn get_consistency_proof(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<Value>, ApiError> {
    reader.require_user(Action::ReadLog)?;
    within_log(&state, q.to).await?;
    let proof = state
        .node
        .store()
        .consistency_proof(TreeSize::new(q.from), TreeSize::new(q.to))
        .await
        .map_err(range)?;
    Ok(Json(json!({"from": q.from, "to": q.to, "proof": proof})))
}

/// Query of the entries range.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    start: u64,
    end: u64,
}

/// Entries `start..end` (at most 1000), each the signed envelope or receipt exactly as
/// logged. A partner node gets only the entries of exchanges it is party to; for any other
/// entry it gets the entry's leaf hash (RFC 9162 §2.1.1), which is all that proofs need and
/// says nothing of what another partner asked or answered.
pub async fn get_entries(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<ServedEntries>, ApiError> {
    reader.require_user(Action::ReadLog)?;
    if q.end < q.start || q.end - q.start > MAX_ENTRIES {
        return Err(ApiError::new(
            ErrorCode::InvalidMessage,
            format!("ask for start <= end and at most {MAX_ENTRIES} entries at a time"),
        ));
    }
    within_log(&state, q.end).await?;
    tracing::info!(reader = %reader, start = q.start, end = q.end, "log entries read");
    let rows = state.node.store().entries(q.start, q.end).await?;
    let entries = rows
        .into_iter()
        .map(|(index, kind, direction, bytes)| {
            if let Reader::Partner(partner) = &reader
                && !exchange_parties(&kind, &bytes)?.contains(partner)
            {
                return Ok(ServedEntry::Withheld {
                    index,
                    withheld: true,
                    leaf_hash: hash_leaf(&bytes),
                });
            }
            // The logged bytes go out as they are: never parsed and re-serialised, which
            // could change a number's form and break the signature over them.
            let entry = RawValue::from_string(String::from_utf8(bytes).map_err(corrupt)?)
                .map_err(corrupt)?;
            Ok(ServedEntry::Logged {
                index,
                kind,
                direction,
                entry,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(ServedEntries { entries }))
}

/// The answer of the entries range.
#[derive(Serialize)]
pub struct ServedEntries {
    entries: Vec<ServedEntry>,
}

/// One entry as served.
#[derive(Serialize)]
#[serde(untagged)]
enum ServedEntry {
    /// The entry as logged.
    Logged {
        index: u64,
        kind: String,
        direction: String,
        entry: Box<RawValue>,
    },
    /// An entry of another partner's exchange: its leaf hash only.
    Withheld {
        index: u64,
        withheld: bool,
        leaf_hash: Digest,
    },
}

/// The two parties of the exchange an entry belongs to: an envelope's sender and addressee,
/// a receipt's issuer and the envelope's sender.
fn exchange_parties(kind: &str, bytes: &[u8]) -> Result<[PartyId; 2], ApiError> {
    if kind == "envelope" {
        let env = detente_protocol::SignedEnvelope::parse(bytes, usize::MAX).map_err(corrupt)?;
        let env = &env.view();
        Ok([env.from.clone(), env.to.clone()])
    } else {
        let receipt = Signed::<Receipt>::parse(bytes, usize::MAX).map_err(corrupt)?;
        let r = receipt.payload();
        Ok([r.issuer.clone(), r.sender.clone()])
    }
}

/// A logged entry the node cannot read back: its own database was changed.
fn corrupt(e: impl std::fmt::Display) -> ApiError {
    ApiError::from(StoreError::Corrupt(format!("a log entry: {e}")))
}

async fn within_log(state: &AppState, size: u64) -> Result<(), ApiError> {
    let (current, _) = state.node.store().tree_head().await;
    if size > current.get() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the log has {} entries, fewer than {size}", current.get()),
        ));
    }
    Ok(())
}

fn range(e: StoreError) -> ApiError {
    match e {
        StoreError::OutOfRange(m) => ApiError::new(ErrorCode::InvalidMessage, m),
        other => other.into(),
    }
}
