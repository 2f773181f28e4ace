//! What can go wrong inside the node core, kept apart from HTTP: handlers map a [`NodeError`]
//! to the API's error envelope at the edge (`crate::error`), the federation endpoint to the
//! coded refusal a partner gets, and the CLI to an exit code.

use detente_domain::LifecycleError;
use detente_protocol::ProtocolError;
use detente_store::StoreError;

use crate::error::ErrorCode;

/// Why the node refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Refused: the caller (an officer, or a partner node) gets the stable code and the
    /// explanation, which says what to do.
    #[error("{code}: {message}")]
    Refused {
        /// The stable code.
        code: ErrorCode,
        /// What went wrong, in plain words.
        message: String,
    },
    /// The database failed; nothing of the operation was committed.
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    /// Something the node holds (an entry of its own log, its state) is not as it must be.
    /// The cause is for the node's operator, never for a client or a partner.
    #[error("{0}")]
    Internal(String),
}

impl NodeError {
    /// A refusal with `code` and a plain explanation.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    /// A failure inside the node, described for its operator.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The stable code a caller gets: the refusal's, or `internal`.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused { code, .. } => *code,
            Self::Store(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Whether the failure is the node's own (storage, corrupt state) rather than a refusal
    /// of what was asked: a transaction that met one must not commit.
    pub fn is_internal(&self) -> bool {
        self.code() == ErrorCode::Internal
    }
}

impl From<ProtocolError> for NodeError {
    fn from(e: ProtocolError) -> Self {
        let code = match &e {
            ProtocolError::MalformedJson(_) | ProtocolError::DuplicateKey(_) => {
                ErrorCode::MalformedJson
            }
            ProtocolError::TooLarge { .. } => ErrorCode::PayloadTooLarge,
            ProtocolError::BadSignature => ErrorCode::BadSignature,
            ProtocolError::Invalid(_) | ProtocolError::BadValue { .. } => ErrorCode::InvalidMessage,
        };
        Self::refused(code, e.to_string())
    }
}

impl From<LifecycleError> for NodeError {
    fn from(e: LifecycleError) -> Self {
        let code = match &e {
            LifecycleError::IllegalTransition { .. } | LifecycleError::DuplicateRequest(_) => {
                ErrorCode::IllegalTransition
            }
            LifecycleError::NotAParty { .. } => ErrorCode::UnknownParty,
            LifecycleError::OutsideTerms(_) | LifecycleError::WrongRequester { .. } => {
                ErrorCode::OutsideTerms
            }
            LifecycleError::MissingRequest => ErrorCode::UnknownCase,
            LifecycleError::NotARequest { .. }
            | LifecycleError::UnknownReply { .. }
            | LifecycleError::WrongCase { .. }
            | LifecycleError::ConflictingCopies { .. } => ErrorCode::InvalidMessage,
        };
        Self::refused(code, e.to_string())
    }
}
