//! Every route of a node, in one place.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_governor::{
    GovernorError, GovernorLayer, governor::GovernorConfigBuilder,
    key_extractor::PeerIpKeyExtractor,
};
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    config::NodeConfig,
    error::{ApiError, ErrorCode, ensure_envelope},
    extract::{AuthCache, Replays, verify_partner_request},
    node::Node,
    outbox::ENVELOPES_PATH,
    routes::{self, taxii},
    taxii_pull::Pulls,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The node.
    pub node: Arc<Node>,
    /// Its configuration (limits, TAXII users, the TLP default).
    pub config: Arc<NodeConfig>,
    /// What the scheduled TAXII pulls did, for the status.
    pub pulls: Arc<Pulls>,
    /// Nonces of partners' signed requests, so that none is good twice.
    pub replays: Arc<Replays>,
    /// Bearer secrets checked in the last second.
    pub auth: Arc<AuthCache>,
}

/// The node's HTTP application. Serve it with connect info (`SocketAddr`) for rate limiting.
pub fn router(node: Arc<Node>, config: &NodeConfig, pulls: Arc<Pulls>) -> Router {
    let limits = &config.limits;
    let governor = GovernorConfigBuilder::default()
        // One token per 1/rate seconds, in nanoseconds: whole milliseconds would cap every
        // configured rate above 1,000/s at 1,000/s.
        .per_nanosecond((1_000_000_000 / u64::from(limits.requests_per_second.max(1))).max(1))
        .burst_size(limits.burst.max(1))
        .key_extractor(PeerIpKeyExtractor)
        .finish()
        .expect("rate and burst are positive");
    let state = AppState {
        node,
        config: Arc::new(config.clone()),
        pulls,
        replays: Arc::default(),
        auth: Arc::default(),
    };
    Router::new()
        .route("/healthz", get(routes::health::get_health))
        .route(ENVELOPES_PATH, post(routes::federation::receive_envelopes))
        .route(
            "/federation/v1/log/checkpoint",
            get(routes::log::get_checkpoint),
        )
        .route(
            "/federation/v1/log/proof/inclusion",
            get(routes::log::get_inclusion_proof),
        )
        .route(
            "/federation/v1/log/proof/consistency",
            get(routes::log::get_consistency_proof),
        )
        .route("/federation/v1/log/entries", get(routes::log::get_entries))
        .route("/api/v1/status", get(routes::status::get_status))
        .route(
            "/api/v1/session",
            get(routes::session::who_am_i)
                .post(routes::session::sign_in)
                .delete(routes::session::sign_out),
        )
        .route("/api/v1/review", get(routes::review::get_review))
        .route(
            "/api/v1/indicators",
            get(routes::indicators::list_indicators),
        )
        .route(
            "/api/v1/cases",
            get(routes::requests::list_cases).post(routes::requests::file_request),
        )
        .route("/api/v1/cases/{case}", get(routes::requests::show_case))
        .route(
            "/api/v1/cases/{case}/agency",
            post(routes::requests::assign_case),
        )
        .route("/api/v1/trail", get(routes::trail::get_trail))
        .route(
            "/api/v1/cases/{case}/messages",
            post(routes::requests::send_message),
        )
        // The older paths, kept for clients written against them.
        .route(
            "/api/v1/requests",
            get(routes::requests::list_requests).post(routes::requests::file_request),
        )
        .route("/api/v1/requests/{case}", get(routes::requests::show_case))
        .route(
            "/api/v1/requests/{case}/messages",
            post(routes::requests::send_message),
        )
        // TAXII 2.1 (routes/taxii.rs); paths end in a slash, as the specification writes them.
        .route("/taxii2/", get(taxii::get_discovery))
        .route(taxii::API_ROOT, get(taxii::get_api_root))
        .route("/taxii2/detente/status/{id}/", get(taxii::get_status))
        .route("/taxii2/detente/collections/", get(taxii::list_collections))
        .route(
            "/taxii2/detente/collections/{collection}/",
            get(taxii::get_collection),
        )
        .route(
            "/taxii2/detente/collections/{collection}/manifest/",
            get(taxii::get_manifest),
        )
        .route(
            "/taxii2/detente/collections/{collection}/objects/",
            get(taxii::get_objects).post(taxii::add_objects),
        )
        .route(
            "/taxii2/detente/collections/{collection}/objects/{id}/",
            get(taxii::get_object).delete(taxii::delete_object),
        )
        .route(
            "/taxii2/detente/collections/{collection}/objects/{id}/versions/",
            get(taxii::get_object_versions),
        )
        .fallback(|| async {
            ApiError::new(
                ErrorCode::NotFound,
                "no such endpoint; see the README for the API",
            )
        })
        // Partners' signed requests are checked once, here, for every route; handlers see
        // only the verified party.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            verify_partner_request,
        ))
        // The limit is enforced where bodies are read (`StrictJson`), so an oversized body
        // is refused in the node's error envelope; it also replaces axum's 2 MiB default.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(GovernorLayer::new(Arc::new(governor)).error_handler(rate_limited))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(middleware::from_fn(ensure_envelope))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The rate limiter's refusal in the node's error envelope (`rate_limited`), not the
/// governor's plain-text one.
fn rate_limited(e: GovernorError) -> Response {
    match e {
        GovernorError::TooManyRequests { wait_time, headers } => {
            // The governor rounds the wait down; never tell a client to retry after 0 s.
            let wait = wait_time.max(1);
            let mut response = ApiError::new(
                ErrorCode::RateLimited,
                format!("too many requests from your address; retry in {wait} s"),
            )
            .into_response();
            if let Some(headers) = headers {
                response.headers_mut().extend(headers);
            }
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait));
            response
        }
        other => other.into(),
    }
}
