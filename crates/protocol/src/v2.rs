//! Wire version 2: a signed envelope header that commits to its body instead of carrying it.
//!
//! A version 2 envelope is an [`EnvelopeHeader`]: the routing fields of a version 1
//! [`Envelope`], the [`Facts`] the lifecycle and the review read (message type, request kind,
//! category, priority, TLP level, final flag, decline reason, rating score) and `body_digest`,
//! a salted SHA-256 commitment to the body. The body itself travels next to the signed header
//! as a [`SaltedBody`] and is stored outside the log, so a leaf, a proof, a checkpoint and the
//! review all verify without any body, and a party can hand an auditor its log with every
//! narrative, observable and object left out, then disclose one body when a case is disputed.
//!
//! The salt (16 random bytes, chosen by the sender per message) keeps the commitment hiding:
//! without it an auditor could confirm a guess of a short body ("no data found") against the
//! digest. It is disclosed with the body, never put in the header.
//!
//! [`SignedEnvelope`] is either version as logged: one parser, one verifier, and one
//! version-agnostic view ([`SignedEnvelope::view`]) whose body is the real one for version 1
//! and a skeleton rebuilt from the facts for version 2. The facts of a version 1 body are
//! exactly those a version 2 header would carry ([`Facts::of`]), so both versions derive the
//! same cases.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{
    AcknowledgementBody, AnswerBody, Body, CaseId, ClarificationBody, ClarificationRequestBody,
    DeclineBody, DeclineReason, Digest, Envelope, MessageId, MessageType, PartyId, Priority,
    ProtocolError, PublicKey, RatingBody, RequestBody, RequestKind, SecretKey, Signable, Signed,
    Timestamp, Tlp, WithdrawalBody, canonical_bytes,
    message::{MAX_SAFE_INTEGER, validate_checkpoint},
    parse_strict,
    signed::has_unsafe_integer,
};

/// The wire version whose envelopes are signed headers committing to a detached body.
pub const WIRE_VERSION_2: u32 = 2;

/// Domain-separation prefix of a body commitment, so that a body digest can never be
/// confused with the hash of a log entry, an agreement or an attachment.
pub const BODY_DIGEST_CONTEXT: &[u8] = b"detente/v2/body\0";

/// What the lifecycle and the review need to know of a body, and nothing else. A version 2
/// header carries it in the clear; the body's content (title, narrative, observables,
/// objects, attachments, free text) stays behind its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Facts {
    /// See [`Body::Request`]: what sets the terms check and the deadlines.
    Request {
        /// Request kind.
        kind: RequestKind,
        /// One of the agreement's categories.
        category: String,
        /// Sets the deadlines (the agreement holds them per priority, so the header need
        /// not repeat them).
        priority: Priority,
        /// Marking of the request's content.
        tlp: Tlp,
    },
    /// See [`Body::Acknowledgement`].
    Acknowledgement,
    /// See [`Body::ClarificationRequest`].
    ClarificationRequest,
    /// See [`Body::Clarification`].
    Clarification,
    /// See [`Body::Answer`].
    Answer {
        /// Whether this is the final answer.
        #[serde(rename = "final")]
        is_final: bool,
    },
    /// See [`Body::Decline`].
    Decline {
        /// The reason code.
        reason: DeclineReason,
    },
    /// See [`Body::Withdrawal`].
    Withdrawal,
    /// See [`Body::Rating`].
    Rating {
        /// 1 to 5.
        score: u8,
    },
}

impl Facts {
    /// The facts of `body`: the one derivation, for both wire versions.
    pub fn of(body: &Body) -> Self {
        match body {
            Body::Request(r) => Self::Request {
                kind: r.kind,
                category: r.category.clone(),
                priority: r.priority,
                tlp: r.tlp,
            },
            Body::Acknowledgement(_) => Self::Acknowledgement,
            Body::ClarificationRequest(_) => Self::ClarificationRequest,
            Body::Clarification(_) => Self::Clarification,
            Body::Answer(a) => Self::Answer {
                is_final: a.is_final,
            },
            Body::Decline(d) => Self::Decline { reason: d.reason },
            Body::Withdrawal(_) => Self::Withdrawal,
            Body::Rating(r) => Self::Rating { score: r.score },
        }
    }

    /// The lifecycle step.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Request { .. } => MessageType::Request,
            Self::Acknowledgement => MessageType::Acknowledgement,
            Self::ClarificationRequest => MessageType::ClarificationRequest,
            Self::Clarification => MessageType::Clarification,
            Self::Answer { .. } => MessageType::Answer,
            Self::Decline { .. } => MessageType::Decline,
            Self::Withdrawal => MessageType::Withdrawal,
            Self::Rating { .. } => MessageType::Rating,
        }
    }

    /// A body with these facts and no content (empty title and texts, no observables): what
    /// the lifecycle reads of a message whose body is not at hand. It is not a valid body to
    /// send, and [`Facts::of`] gives these facts back.
    pub fn skeleton(&self) -> Body {
        match self {
            Self::Request {
                kind,
                category,
                priority,
                tlp,
            } => Body::Request(RequestBody {
                kind: *kind,
                category: category.clone(),
                priority: *priority,
                tlp: *tlp,
                title: String::new(),
                narrative: String::new(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
                attribution: None,
                preservation: None,
            }),
            Self::Acknowledgement => Body::Acknowledgement(AcknowledgementBody {
                note: String::new(),
            }),
            Self::ClarificationRequest => Body::ClarificationRequest(ClarificationRequestBody {
                question: String::new(),
            }),
            Self::Clarification => Body::Clarification(ClarificationBody {
                text: String::new(),
            }),
            Self::Answer { is_final } => Body::Answer(AnswerBody {
                is_final: *is_final,
                text: String::new(),
                observables: Vec::new(),
                attachments: Vec::new(),
                objects: Vec::new(),
            }),
            Self::Decline { reason } => Body::Decline(DeclineBody {
                reason: *reason,
                text: String::new(),
            }),
            Self::Withdrawal => Body::Withdrawal(WithdrawalBody {
                reason: String::new(),
            }),
            Self::Rating { score } => Body::Rating(RatingBody {
                score: *score,
                comment: String::new(),
            }),
        }
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        match self {
            Self::Request { category, .. } if category.is_empty() || category.len() > 64 => Err(
                ProtocolError::Invalid("facts: category must be 1-64 bytes".into()),
            ),
            Self::Rating { score } if !(1..=5).contains(score) => Err(ProtocolError::Invalid(
                format!("facts: rating score {score} must be from 1 to 5"),
            )),
            _ => Ok(()),
        }
    }
}

/// The random salt of one body commitment: 16 bytes, written as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Salt([u8; 16]);

impl Salt {
    /// A fresh salt from the operating system's random source.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
        Self(bytes)
    }

    /// Wraps raw salt bytes (tests and known-answer vectors).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parses 32 lower-case hex digits.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let mut out = [0u8; 16];
        if s.len() != 32 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ProtocolError::bad(
                "body salt",
                "must be 32 lower-case hex digits",
            ));
        }
        hex::decode_to_slice(s, &mut out)
            .map_err(|e| ProtocolError::bad("body salt", e.to_string()))?;
        Ok(Self(out))
    }
}

impl fmt::Display for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({self})")
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A version 2 body with the salt of its commitment: what travels next to the signed header,
/// what a node stores outside its log, and what a party discloses to an auditor. On the wire
/// and on disk it is `{"salt": "<32 hex>", "body": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltedBody {
    salt: Salt,
    body: Body,
    body_bytes: Vec<u8>,
}

impl SaltedBody {
    /// `body` under a fresh salt. Checks the body as a sender must.
    pub fn seal(body: Body) -> Result<Self, ProtocolError> {
        body.validate()?;
        let body_bytes = canonical_bytes(&exact_body(&body)?);
        Ok(Self {
            salt: Salt::random(),
            body,
            body_bytes,
        })
    }

    /// Parses bytes holding `{"salt": ..., "body": ...}`: strict JSON, the body in its one
    /// accepted form, valid. Does not check any commitment.
    pub fn parse(bytes: &[u8], limit: usize) -> Result<Self, ProtocolError> {
        Self::from_value(parse_strict(bytes, limit)?)
    }

    /// Reads a salted body out of strictly parsed JSON. Does not check any commitment.
    pub fn from_value(value: Value) -> Result<Self, ProtocolError> {
        let Value::Object(mut obj) = value else {
            return Err(ProtocolError::Invalid(
                "a body must be a JSON object with \"salt\" and \"body\"".into(),
            ));
        };
        let salt = match obj.remove("salt") {
            Some(Value::String(s)) => Salt::parse(&s)?,
            _ => {
                return Err(ProtocolError::Invalid(
                    "missing string field \"salt\"".into(),
                ));
            }
        };
        let body_value = obj
            .remove("body")
            .ok_or_else(|| ProtocolError::Invalid("missing field \"body\"".into()))?;
        if let Some(extra) = obj.keys().next() {
            return Err(ProtocolError::Invalid(format!("unknown field {extra:?}")));
        }
        let body_bytes = canonical_bytes(&body_value);
        let body: Body = serde_json::from_value(body_value)
            .map_err(|e| ProtocolError::Invalid(format!("body: {e}")))?;
        // As for signed payloads: the typed body must say exactly what was committed to.
        if canonical_bytes(&exact_body(&body)?) != body_bytes {
            return Err(ProtocolError::Invalid(
                "body is not in its one accepted form".into(),
            ));
        }
        body.validate()?;
        Ok(Self {
            salt,
            body,
            body_bytes,
        })
    }

    /// The body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The salt.
    pub fn salt(&self) -> Salt {
        self.salt
    }

    /// The commitment a header carries:
    /// `SHA-256(BODY_DIGEST_CONTEXT || salt || JCS(body))`.
    pub fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        h.update(BODY_DIGEST_CONTEXT);
        h.update(self.salt.0);
        h.update(&self.body_bytes);
        Digest::from_bytes(h.finalize().into())
    }

    /// As JSON.
    pub fn to_value(&self) -> Value {
        let body: Value = serde_json::from_slice(&self.body_bytes)
            .expect("body bytes are canonical JSON we produced or parsed");
        serde_json::json!({ "salt": self.salt.to_string(), "body": body })
    }

    /// The canonical bytes of [`SaltedBody::to_value`]: what is stored and disclosed.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical_bytes(&self.to_value())
    }
}

fn exact_body(body: &Body) -> Result<Value, ProtocolError> {
    let value = serde_json::to_value(body).map_err(|e| ProtocolError::Invalid(e.to_string()))?;
    if has_unsafe_integer(&value) {
        return Err(ProtocolError::Invalid(
            "body holds an integer outside +-(2^53-1), which canonical JSON cannot carry exactly"
                .into(),
        ));
    }
    Ok(value)
}

/// A version 2 envelope: a version 1 envelope's header fields, the body's facts and the
/// commitment to the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeHeader {
    /// Wire version, always [`WIRE_VERSION_2`].
    pub v: u32,
    /// As [`Envelope::id`].
    pub id: MessageId,
    /// As [`Envelope::agreement`].
    pub agreement: Digest,
    /// As [`Envelope::from`].
    pub from: PartyId,
    /// As [`Envelope::to`].
    pub to: PartyId,
    /// As [`Envelope::seq`].
    pub seq: u64,
    /// As [`Envelope::sent_at`].
    pub sent_at: Timestamp,
    /// As [`Envelope::case`].
    pub case: CaseId,
    /// As [`Envelope::in_reply_to`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MessageId>,
    /// As [`Envelope::checkpoint`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// As [`Envelope::agency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// What the lifecycle and the review read of the body; must be [`Facts::of`] the body.
    pub facts: Facts,
    /// [`SaltedBody::digest`] of the body.
    pub body_digest: Digest,
}

impl Signable for EnvelopeHeader {
    const FIELD: &'static str = "envelope";
    // Another context than version 1's: a version 2 signature can never pass as a version 1
    // one, whatever the bytes.
    const CONTEXT: &'static [u8] = b"detente/v2/envelope\0";

    fn signer(&self) -> &PartyId {
        &self.from
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        if self.v != WIRE_VERSION_2 {
            return Err(ProtocolError::Invalid(format!(
                "an envelope header is wire version {WIRE_VERSION_2}, not {}",
                self.v
            )));
        }
        if self.from == self.to {
            return Err(ProtocolError::Invalid(
                "sender and receiver are the same party".into(),
            ));
        }
        if self.seq == 0 || self.seq > MAX_SAFE_INTEGER {
            return Err(ProtocolError::Invalid(
                "seq must be between 1 and 2^53-1".into(),
            ));
        }
        validate_checkpoint(self.checkpoint.as_deref())?;
        crate::message::validate_agency(self.agency.as_deref())?;
        self.facts.validate()
    }
}

/// A signed envelope of either wire version, as it is logged.
// Both variants are a few hundred bytes and live one at a time (per entry, per message);
// boxing the larger would add an allocation per envelope for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum SignedEnvelope {
    /// Version 1: the body is inside the signed payload.
    V1(Signed<Envelope>),
    /// Version 2: a signed header; the body travels and is stored apart.
    V2(Signed<EnvelopeHeader>),
}

impl SignedEnvelope {
    /// Seals `envelope` in wire version `version` with `key`. For version 2 it also returns
    /// the salted body the header commits to; `envelope.v` is ignored either way.
    pub fn seal(
        mut envelope: Envelope,
        version: u32,
        key: &SecretKey,
    ) -> Result<(Self, Option<SaltedBody>), ProtocolError> {
        match version {
            crate::WIRE_VERSION => {
                envelope.v = crate::WIRE_VERSION;
                Ok((Self::V1(Signed::seal(envelope, key)?), None))
            }
            WIRE_VERSION_2 => {
                let body = SaltedBody::seal(envelope.body)?;
                let header = EnvelopeHeader {
                    v: WIRE_VERSION_2,
                    id: envelope.id,
                    agreement: envelope.agreement,
                    from: envelope.from,
                    to: envelope.to,
                    seq: envelope.seq,
                    sent_at: envelope.sent_at,
                    case: envelope.case,
                    in_reply_to: envelope.in_reply_to,
                    checkpoint: envelope.checkpoint,
                    agency: envelope.agency,
                    facts: Facts::of(body.body()),
                    body_digest: body.digest(),
                };
                Ok((Self::V2(Signed::seal(header, key)?), Some(body)))
            }
            other => Err(ProtocolError::Invalid(format!(
                "wire version {other} is not supported (this node speaks 1 and 2)"
            ))),
        }
    }

    /// Parses a logged or received signed envelope of either version. Does not verify.
    pub fn parse(bytes: &[u8], limit: usize) -> Result<Self, ProtocolError> {
        Self::from_value(parse_strict(bytes, limit)?)
    }

    /// Reads a signed envelope out of strictly parsed JSON, by its `envelope.v`. Does not
    /// verify.
    pub fn from_value(value: Value) -> Result<Self, ProtocolError> {
        let version = value
            .get(EnvelopeHeader::FIELD)
            .and_then(|e| e.get("v"))
            .and_then(Value::as_u64);
        if version == Some(u64::from(WIRE_VERSION_2)) {
            Signed::from_value(value).map(Self::V2)
        } else {
            Signed::from_value(value).map(Self::V1)
        }
    }

    /// The wire version.
    pub fn version(&self) -> u32 {
        match self {
            Self::V1(_) => crate::WIRE_VERSION,
            Self::V2(_) => WIRE_VERSION_2,
        }
    }

    /// Verifies the signature under `key`, which must be a pinned key of the sender.
    pub fn verify(&self, key: &PublicKey) -> Result<(), ProtocolError> {
        match self {
            Self::V1(s) => s.verify(key),
            Self::V2(s) => s.verify(key),
        }
    }

    /// SHA-256 of the signed payload's canonical bytes (for version 2, of the header alone):
    /// what a receipt names as `envelope_hash`.
    pub fn payload_hash(&self) -> Digest {
        match self {
            Self::V1(s) => s.payload_hash(),
            Self::V2(s) => s.payload_hash(),
        }
    }

    /// The canonical bytes of the whole signed object: what is logged.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::V1(s) => s.to_bytes(),
            Self::V2(s) => s.to_bytes(),
        }
    }

    /// The signed object as JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Self::V1(s) => s.to_value(),
            Self::V2(s) => s.to_value(),
        }
    }

    /// The commitment to the detached body (version 2 only).
    pub fn body_digest(&self) -> Option<Digest> {
        match self {
            Self::V1(_) => None,
            Self::V2(s) => Some(s.payload().body_digest),
        }
    }

    /// The facts of the message, read from the header (version 2) or the body (version 1).
    pub fn facts(&self) -> Facts {
        match self {
            Self::V1(s) => Facts::of(&s.payload().body),
            Self::V2(s) => s.payload().facts.clone(),
        }
    }

    /// The version-agnostic view: the envelope itself for version 1; for version 2 the header
    /// with the skeleton of its facts as body ([`Facts::skeleton`]). `v` says which.
    pub fn view(&self) -> Envelope {
        match self {
            Self::V1(s) => s.payload().clone(),
            Self::V2(s) => header_view(s.payload(), s.payload().facts.skeleton()),
        }
    }

    /// The envelope with its real body: for version 1 the envelope itself (`body` must be
    /// `None`); for version 2 the header with `body`, which must be the one it commits to and
    /// say exactly the header's facts.
    pub fn open(&self, body: Option<&SaltedBody>) -> Result<Envelope, BodyMismatch> {
        match (self, body) {
            (Self::V1(s), None) => Ok(s.payload().clone()),
            (Self::V1(_), Some(_)) => Err(BodyMismatch::Unexpected),
            (Self::V2(_), None) => Err(BodyMismatch::Missing),
            (Self::V2(s), Some(body)) => {
                let header = s.payload();
                check_body(header, body)?;
                Ok(header_view(header, body.body().clone()))
            }
        }
    }

    /// The message id.
    pub fn id(&self) -> MessageId {
        match self {
            Self::V1(s) => s.payload().id,
            Self::V2(s) => s.payload().id,
        }
    }
}

/// Checks that `body` is the one `header` commits to and that it says the header's facts.
pub fn check_body(header: &EnvelopeHeader, body: &SaltedBody) -> Result<(), BodyMismatch> {
    if body.digest() != header.body_digest {
        return Err(BodyMismatch::Digest {
            message: header.id,
            expected: header.body_digest,
            actual: body.digest(),
        });
    }
    if Facts::of(body.body()) != header.facts {
        return Err(BodyMismatch::Facts { message: header.id });
    }
    Ok(())
}

fn header_view(h: &EnvelopeHeader, body: Body) -> Envelope {
    Envelope {
        v: h.v,
        id: h.id,
        agreement: h.agreement,
        from: h.from.clone(),
        to: h.to.clone(),
        seq: h.seq,
        sent_at: h.sent_at,
        case: h.case.clone(),
        in_reply_to: h.in_reply_to,
        checkpoint: h.checkpoint.clone(),
        agency: h.agency.clone(),
        body,
    }
}

/// Why a body does not go with a signed envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyMismatch {
    /// The body's digest is not the one the signed header commits to.
    #[error(
        "the body of message {message} has digest {actual}, the signed header commits to {expected}"
    )]
    Digest {
        /// The message.
        message: MessageId,
        /// The digest in the signed header.
        expected: Digest,
        /// The digest of the body given.
        actual: Digest,
    },
    /// The header's facts are not those of the body it commits to.
    #[error("the facts in the header of message {message} are not those of its body")]
    Facts {
        /// The message.
        message: MessageId,
    },
    /// A version 2 envelope came without its body.
    #[error("a version 2 envelope needs its body next to it")]
    Missing,
    /// A version 1 envelope came with a detached body, which it cannot have.
    #[error("a version 1 envelope carries its body inside; a detached body is not expected")]
    Unexpected,
}
