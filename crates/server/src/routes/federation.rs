//! `POST /federation/v1/envelopes`: partner nodes deliver batches of signed envelopes here.
//!
//! Partners authenticate by signature (and, between countries, by pinned TLS); each
//! envelope is checked and answered on its own: a signed receipt or a coded error.

use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    error::{ApiError, ErrorCode},
    extract::StrictJson,
    outbox::MAX_BATCH,
    router::AppState,
};

/// The body of a delivery.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    envelopes: Vec<Value>,
}

/// Receives a batch; answers `{"results": [<signed receipt> | {"error": {...}}, ...]}`.
pub async fn receive_envelopes(
    State(state): State<AppState>,
    StrictJson(batch): StrictJson<Batch>,
) -> Result<Json<Value>, ApiError> {
    if batch.envelopes.len() > MAX_BATCH {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("at most {MAX_BATCH} envelopes per delivery"),
        ));
    }
    let results = state.node.receive(batch.envelopes).await?;
    let results: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(receipt) => receipt,
            Err(e) => json!(ApiError::from(e).body()),
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}
