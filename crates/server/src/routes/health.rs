//! `GET /healthz`: liveness for load balancers and the demo; no secrets, no auth.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::router::AppState;

/// Says the node is up and which party it speaks for.
pub async fn get_health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "party": state.node.party()}))
}
