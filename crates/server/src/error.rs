//! The one error envelope of the HTTP API and the federation endpoint, with stable codes.
//!
//! `{"error": {"code": "illegal_transition", "message": "..."}}`. Codes are part of the
//! protocol and documented in the README; messages are for people. Internal causes (database
//! errors and the like) are logged with an id and never sent to a client or a partner.

use axum::{
    Json,
    extract::Request,
    http::{
        StatusCode,
        header::{CONTENT_LENGTH, CONTENT_TYPE},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use detente_protocol::ProtocolError;
use detente_store::StoreError;
use serde::Serialize;

use crate::node::NodeError;

/// An error a client or partner node gets back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// What went wrong and what to do, in plain words.
    pub message: String,
}

/// The stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not well-formed JSON, or repeats a key.
    MalformedJson,
    /// The JSON is well-formed but not a valid message of its kind.
    InvalidMessage,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// No valid API token.
    Unauthorized,
    /// The signature does not verify under the sender's pinned key.
    BadSignature,
    /// The sender is not a party to the agreement.
    UnknownParty,
    /// The envelope names an agreement this node does not work under.
    UnknownAgreement,
    /// The envelope is addressed to another party.
    WrongRecipient,
    /// The sender's clock is ahead of ours by more than the agreed skew, or a receipt time is implausible.
    ClockSkew,
    /// A known message id arrived with different content.
    ReplayConflict,
    /// A sequence number at or below one already accepted, under a new id.
    OutOfOrder,
    /// The case does not exist.
    UnknownCase,
    /// The message is not allowed in the case's current state.
    IllegalTransition,
    /// The request is outside the agreement's terms (kind, category).
    OutsideTerms,
    /// Nothing found at that path or id.
    NotFound,
    /// The query string or path cannot be read (a missing or malformed parameter).
    BadRequest,
    /// The path exists, but not for this HTTP method.
    MethodNotAllowed,
    /// The request took longer than the node allows.
    Timeout,
    /// The body's media type is not one the endpoint reads.
    UnsupportedMediaType,
    /// An object's TLP marking does not allow the recipient to see it.
    TlpDenied,
    /// Too many requests; retry later.
    RateLimited,
    /// The node's own log does not match the checkpoint it signed (an entry changed, deleted
    /// or moved behind its back): it gives no official figure until its operator restores the
    /// log; the message names the first bad entry, and `status` shows the alert raised.
    LogDamaged,
    /// Something failed inside the node; the log has the details.
    Internal,
}

impl ErrorCode {
    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::InvalidMessage => "invalid_message",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::BadSignature => "bad_signature",
            Self::UnknownParty => "unknown_party",
            Self::UnknownAgreement => "unknown_agreement",
            Self::WrongRecipient => "wrong_recipient",
            Self::ClockSkew => "clock_skew",
            Self::ReplayConflict => "replay_conflict",
            Self::OutOfOrder => "out_of_order",
            Self::UnknownCase => "unknown_case",
            Self::IllegalTransition => "illegal_transition",
            Self::OutsideTerms => "outside_terms",
            Self::NotFound => "not_found",
            Self::BadRequest => "bad_request",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Timeout => "timeout",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TlpDenied => "tlp_denied",
            Self::RateLimited => "rate_limited",
            Self::LogDamaged => "log_damaged",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedJson | Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidMessage | Self::OutsideTerms | Self::ClockSkew => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized | Self::BadSignature => StatusCode::UNAUTHORIZED,
            Self::UnknownParty | Self::WrongRecipient | Self::TlpDenied => StatusCode::FORBIDDEN,
            Self::UnknownAgreement
            | Self::ReplayConflict
            | Self::OutOfOrder
            | Self::IllegalTransition => StatusCode::CONFLICT,
            Self::UnknownCase | Self::NotFound => StatusCode::NOT_FOUND,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            // Not the client's fault, and nothing it can change: the node cannot serve the
            // figures until its operator restores the log.
            Self::LogDamaged => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether a sender should retry the same envelope later (as opposed to giving it up).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::RateLimited | Self::Internal | Self::PayloadTooLarge | Self::Timeout
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ApiError {
    /// An error with `code` and a human message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The JSON body of the error envelope.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.code.status(), Json(self.body())).into_response()
    }
}

impl From<NodeError> for ApiError {
    /// A refusal goes out as it is; a failure inside the node is logged with an id, and only
    /// the id goes out.
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Refused { code, message } => Self::new(code, message),
            internal => {
                let id = detente_protocol::MessageId::random();
                tracing::error!(error = %internal, error_id = %id, "internal error");
                Self::new(
                    ErrorCode::Internal,
                    format!(
                        "the node could not complete the operation; its log has the details under error id {id}"
                    ),
                )
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        NodeError::from(e).into()
    }
}

impl From<ProtocolError> for ApiError {
    fn from(e: ProtocolError) -> Self {
        NodeError::from(e).into()
    }
}

impl From<ApiError> for NodeError {
    /// Checks written against the API's error type (the STIX gate for message objects) keep
    /// their code inside the core.
    fn from(e: ApiError) -> Self {
        match e.code {
            ErrorCode::Internal => NodeError::Internal(e.message),
            code => NodeError::refused(code, e.message),
        }
    }
}

/// Puts every error the framework or a middleware answers by itself (a query string or path
/// that does not parse, a method not allowed, a timeout) into the node's error envelope, so a
/// client always gets `{"error": {"code", "message"}}`. Errors already in a JSON shape (the
/// node's own, TAXII's) pass untouched.
pub async fn ensure_envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Framework rejections are one short line; anything longer is cut, not trusted.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidMessage,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let message = match code {
        ErrorCode::MethodNotAllowed => {
            "this path does not take that HTTP method; see the README for the API".to_owned()
        }
        ErrorCode::Timeout => "the request took too long; retry later".to_owned(),
        ErrorCode::Internal => "the node could not complete the operation".to_owned(),
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_lowercase(),
        _ => text,
    };
    let mut enveloped = ApiError::new(code, message).into_response();
    *enveloped.status_mut() = status;
    // Keep what the framework said beside the body (Allow, Retry-After, ...).
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            enveloped.headers_mut().insert(name, value.clone());
        }
    }
    enveloped
}
