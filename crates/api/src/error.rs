//! The one error envelope of the API and the federation endpoint, with its stable codes:
//! `{"error": {"code": "illegal_transition", "message": "..."}}`. Codes are part of the
//! protocol and documented in the README; messages are for people.

use http::StatusCode;
use serde::{Deserialize, Serialize};

/// The stable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The credentials are valid, but the user's roles (or agency) do not allow this.
    Forbidden,
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
    /// A version 2 envelope's body is not the one its signed header commits to (digest), or
    /// says other facts than the header, or is missing.
    BodyMismatch,
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
            Self::Forbidden => "forbidden",
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
            Self::BodyMismatch => "body_mismatch",
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
            Self::InvalidMessage | Self::OutsideTerms | Self::ClockSkew | Self::BodyMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized | Self::BadSignature => StatusCode::UNAUTHORIZED,
            Self::UnknownParty | Self::WrongRecipient | Self::TlpDenied | Self::Forbidden => {
                StatusCode::FORBIDDEN
            }
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

/// The error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and the explanation of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and what to do, in plain words.
    pub message: String,
}
