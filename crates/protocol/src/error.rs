//! Errors raised while turning bytes into verified protocol values.

use thiserror::Error;

/// Why a message could not be parsed, verified or built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The bytes are not well-formed JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// An object repeats a key; canonical JSON forbids it and a signer could hide content in it.
    #[error("duplicate object key {0:?}")]
    DuplicateKey(String),
    /// The message is larger than the protocol allows.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the rejected message in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The JSON is well-formed but does not have the shape of the expected message.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The Ed25519 signature does not verify under the sender's pinned key.
    #[error("signature does not verify under the sender's key")]
    BadSignature,
    /// A key, digest or identifier has the wrong textual form.
    #[error("invalid {what}: {reason}")]
    BadValue {
        /// What kind of value was being parsed.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ProtocolError {
    pub(crate) fn bad(what: &'static str, reason: impl Into<String>) -> Self {
        Self::BadValue {
            what,
            reason: reason.into(),
        }
    }
}
