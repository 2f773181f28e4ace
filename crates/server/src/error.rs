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

/// The stable error codes, defined with the rest of the API contract.
pub use detente_api::{ErrorBody, ErrorCode, ErrorDetail};

impl ApiError {
    /// An error with `code` and a human message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The error envelope.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
            },
        }
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
