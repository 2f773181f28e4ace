//! The detente wire protocol: what two nodes say to each other, byte for byte.
//!
//! Everything a node sends to a partner is an [`Envelope`] (one lifecycle message of one
//! case) or a [`Receipt`] (the receiver's signed word that an envelope arrived, and when).
//! Both travel as [`Signed`] values: the payload's RFC 8785 canonical JSON, signed with the
//! sender's Ed25519 key under a domain-separation prefix. In wire version 2 the envelope is
//! a signed [`EnvelopeHeader`] that commits to a detached [`SaltedBody`]; [`SignedEnvelope`]
//! reads either version. This crate is pure: no I/O, no
//! clock, no storage. It turns bytes into typed, verified values and back.

mod canonical;
mod error;
mod ids;
mod keys;
mod message;
mod request_auth;
mod signed;
mod timestamp;
mod v2;

pub use canonical::{MAX_MESSAGE_BYTES, canonical_bytes, parse_strict};
pub use error::ProtocolError;
pub use ids::{CaseId, Digest, MessageId, PartyId};
pub use keys::{PublicKey, SecretKey, verify_batch};
pub use message::{
    AcknowledgementBody, AnswerBody, AttachmentRef, Body, ClarificationBody,
    ClarificationRequestBody, DeclineBody, DeclineReason, Envelope, MAX_AGENCY, MessageType,
    Observable, ObservableType, PreservationDetails, Priority, RatingBody, Receipt, RequestBody,
    RequestKind, StixValue, Tlp, WIRE_VERSION, WithdrawalBody, is_short_name,
};
pub use request_auth::{
    NONCE_HEADER, PARTY_HEADER, RequestLine, SIGNATURE_HEADER, TIME_HEADER, is_nonce, new_nonce,
};
pub use signed::{Signable, Signed};
pub use timestamp::Timestamp;
pub use v2::{
    BODY_DIGEST_CONTEXT, BodyMismatch, EnvelopeHeader, Facts, Salt, SaltedBody, SignedEnvelope,
    WIRE_VERSION_2, check_body,
};
