//! The message types of wire version 1: envelopes with their lifecycle bodies, and receipts.
//!
//! These are wire types, separate from the domain's case state: adding a field here is a
//! protocol change both parties must agree on, so every struct denies unknown fields.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{CaseId, Digest, MessageId, PartyId, ProtocolError, Signable, Timestamp};

/// The protocol version this crate speaks.
pub const WIRE_VERSION: u32 = 1;

/// Largest number a JSON integer may carry and still survive every parser exactly (2^53 - 1).
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// One lifecycle message of one case, from one party to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Wire version: [`WIRE_VERSION`] on the wire; a view of a version 2 header
    /// (`SignedEnvelope::view`) says 2.
    pub v: u32,
    /// Unique id chosen by the sender; processing is idempotent by it.
    pub id: MessageId,
    /// SHA-256 of the canonical agreement document both parties work under.
    pub agreement: Digest,
    /// The sending party; its pinned key must have signed the envelope.
    pub from: PartyId,
    /// The receiving party.
    pub to: PartyId,
    /// Position in the sender's stream to this receiver: strictly increasing, starting at 1.
    pub seq: u64,
    /// The sender's clock when it sealed the envelope (not the official time; the receipt's is).
    pub sent_at: Timestamp,
    /// The case this message belongs to.
    pub case: CaseId,
    /// The latest message of this case the sender had received from the receiver when it
    /// sealed this one. It orders the two parties' messages causally, so both sides merge a
    /// case's messages the same way whatever their clocks say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<MessageId>,
    /// The sender's latest signed log checkpoint (c2sp.org/tlog-checkpoint signed note) when
    /// it sealed this envelope, so the receiver holds the sender's commitment to its log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The agency of the sending party that acted (e.g. `fbi`), so the partner sees which
    /// agency answered; absent when the node acted without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// What the message says.
    pub body: Body,
}

impl Signable for Envelope {
    const FIELD: &'static str = "envelope";
    const CONTEXT: &'static [u8] = b"detente/v1/envelope\0";

    fn signer(&self) -> &PartyId {
        &self.from
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        if self.v != WIRE_VERSION {
            return Err(ProtocolError::Invalid(format!(
                "wire version {} is not supported (this node speaks {WIRE_VERSION})",
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
        validate_agency(self.agency.as_deref())?;
        self.body.validate()
    }
}

/// The most characters of an agency's name.
pub const MAX_AGENCY: usize = 32;

/// Whether `s` is a short name: 1 to `max` characters of lower-case ASCII letters, digits,
/// `.`, `_` and `-`, starting with a letter or digit. The one rule for agency names (here, on
/// the wire) and user names (inside a node), so that either can be printed, logged and
/// compared without escaping.
pub fn is_short_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

pub(crate) fn validate_agency(agency: Option<&str>) -> Result<(), ProtocolError> {
    match agency {
        Some(a) if !is_short_name(a, MAX_AGENCY) => Err(ProtocolError::Invalid(format!(
            "agency {a:?} is not 1 to {MAX_AGENCY} characters of a-z, 0-9, '.', '_' and '-'"
        ))),
        _ => Ok(()),
    }
}

/// The receiver's signed statement that an envelope arrived, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Wire version, always [`WIRE_VERSION`].
    pub v: u32,
    /// The agreement the envelope named.
    pub agreement: Digest,
    /// The receiving party, which signs the receipt.
    pub issuer: PartyId,
    /// The party that sent the envelope.
    pub sender: PartyId,
    /// The envelope's id.
    pub envelope_id: MessageId,
    /// SHA-256 of the envelope's canonical bytes: the receipt covers exactly those bytes (for
    /// wire version 2, the signed header's, which commit to the body).
    pub envelope_hash: Digest,
    /// The envelope's position in the sender's stream.
    pub seq: u64,
    /// The case the envelope belongs to.
    pub case: CaseId,
    /// The official time of arrival.
    pub received_at: Timestamp,
    /// Where the issuer logged the envelope: its index in the issuer's log. The issuer
    /// commits to it by signing, so the sender can ask for the inclusion proof of exactly
    /// that entry, and both parties cite a request by the same index (the responder's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The issuer's latest signed log checkpoint when it issued the receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl Signable for Receipt {
    const FIELD: &'static str = "receipt";
    const CONTEXT: &'static [u8] = b"detente/v1/receipt\0";

    fn signer(&self) -> &PartyId {
        &self.issuer
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        if self.v != WIRE_VERSION {
            return Err(ProtocolError::Invalid(format!(
                "wire version {} is not supported",
                self.v
            )));
        }
        if self.seq == 0 || self.seq > MAX_SAFE_INTEGER {
            return Err(ProtocolError::Invalid(
                "seq must be between 1 and 2^53-1".into(),
            ));
        }
        if self.log_index.is_some_and(|i| i > MAX_SAFE_INTEGER) {
            return Err(ProtocolError::Invalid(
                "log_index must be at most 2^53-1".into(),
            ));
        }
        validate_checkpoint(self.checkpoint.as_deref())
    }
}

/// Largest checkpoint note carried in a message, in bytes.
const MAX_CHECKPOINT: usize = 8 * 1024;

/// The carried checkpoint's content is verified by the node against the sender's key; here
/// only its size is bounded, so a message cannot smuggle in an arbitrarily large note.
pub(crate) fn validate_checkpoint(checkpoint: Option<&str>) -> Result<(), ProtocolError> {
    match checkpoint {
        Some(c) => text("checkpoint", c, 1, MAX_CHECKPOINT),
        None => Ok(()),
    }
}

/// What a message says. The `type` field names the lifecycle step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Body {
    /// Opens a case: a request for information or assistance.
    Request(RequestBody),
    /// The responder confirms it has taken the request up.
    Acknowledgement(AcknowledgementBody),
    /// The responder needs more from the requester; pauses the responder's clock.
    ClarificationRequest(ClarificationRequestBody),
    /// The requester's reply to a clarification request; resumes the clock.
    Clarification(ClarificationBody),
    /// A partial or final answer from the responder.
    Answer(AnswerBody),
    /// The responder declines, with a reason code.
    Decline(DeclineBody),
    /// The requester withdraws the request.
    Withdrawal(WithdrawalBody),
    /// The requester rates the final answer; closes the case.
    Rating(RatingBody),
}

/// The lifecycle step a body represents, without its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// See [`Body::Request`].
    Request,
    /// See [`Body::Acknowledgement`].
    Acknowledgement,
    /// See [`Body::ClarificationRequest`].
    ClarificationRequest,
    /// See [`Body::Clarification`].
    Clarification,
    /// See [`Body::Answer`].
    Answer,
    /// See [`Body::Decline`].
    Decline,
    /// See [`Body::Withdrawal`].
    Withdrawal,
    /// See [`Body::Rating`].
    Rating,
}

impl MessageType {
    /// The wire name, as in the body's `type` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Acknowledgement => "acknowledgement",
            Self::ClarificationRequest => "clarification_request",
            Self::Clarification => "clarification",
            Self::Answer => "answer",
            Self::Decline => "decline",
            Self::Withdrawal => "withdrawal",
            Self::Rating => "rating",
        }
    }
}

impl Body {
    /// The lifecycle step of this body.
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Request(_) => MessageType::Request,
            Self::Acknowledgement(_) => MessageType::Acknowledgement,
            Self::ClarificationRequest(_) => MessageType::ClarificationRequest,
            Self::Clarification(_) => MessageType::Clarification,
            Self::Answer(_) => MessageType::Answer,
            Self::Decline(_) => MessageType::Decline,
            Self::Withdrawal(_) => MessageType::Withdrawal,
            Self::Rating(_) => MessageType::Rating,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ProtocolError> {
        match self {
            Self::Request(r) => r.validate(),
            Self::Acknowledgement(a) => text("note", &a.note, 0, MAX_TEXT),
            Self::ClarificationRequest(c) => text("question", &c.question, 1, MAX_TEXT),
            Self::Clarification(c) => text("clarification text", &c.text, 1, MAX_TEXT),
            Self::Answer(a) => {
                text("answer text", &a.text, 1, MAX_TEXT)?;
                validate_all(&a.observables, &a.attachments)?;
                validate_objects(&a.objects)
            }
            Self::Decline(d) => text("decline explanation", &d.text, 0, MAX_TEXT),
            Self::Withdrawal(w) => text("withdrawal reason", &w.reason, 0, MAX_TEXT),
            Self::Rating(r) => {
                if !(1..=5).contains(&r.score) {
                    return Err(ProtocolError::Invalid(format!(
                        "rating score {} must be from 1 to 5",
                        r.score
                    )));
                }
                text("rating comment", &r.comment, 0, MAX_TEXT)
            }
        }
    }
}

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 64 * 1024;
const MAX_SHORT: usize = 4 * 1024;
const MAX_OBSERVABLES: usize = 10_000;
const MAX_OBJECTS: usize = 10_000;

/// One STIX object as JSON: the protocol carries it without interpreting it.
pub type StixValue = serde_json::Map<String, serde_json::Value>;

/// The shape every STIX object has (STIX 2.1 §3.1: `type` and `id`, the id being
/// `type--uuid`), checked here so a message can name a bad object by its position.
/// Everything else is the STIX layer's to judge.
fn validate_objects(objects: &[StixValue]) -> Result<(), ProtocolError> {
    if objects.len() > MAX_OBJECTS {
        return Err(ProtocolError::Invalid(format!(
            "more than {MAX_OBJECTS} STIX objects in one message"
        )));
    }
    for (i, o) in objects.iter().enumerate() {
        let kind = o.get("type").and_then(serde_json::Value::as_str);
        let id = o.get("id").and_then(serde_json::Value::as_str);
        match (kind, id) {
            (Some(kind), Some(id))
                if id
                    .strip_prefix(kind)
                    .is_some_and(|rest| rest.starts_with("--")) => {}
            _ => {
                return Err(ProtocolError::bad(
                    "objects",
                    format!("object {i} needs a \"type\" and an \"id\" of the form type--uuid"),
                ));
            }
        }
    }
    Ok(())
}

fn text(what: &str, s: &str, min: usize, max: usize) -> Result<(), ProtocolError> {
    let n = s.chars().count();
    if n < min || s.len() > max {
        return Err(ProtocolError::Invalid(if n < min {
            format!("{what} must not be empty")
        } else {
            format!("{what} is longer than {max} bytes")
        }));
    }
    Ok(())
}

fn validate_all(
    observables: &[Observable],
    attachments: &[AttachmentRef],
) -> Result<(), ProtocolError> {
    if observables.len() > MAX_OBSERVABLES {
        return Err(ProtocolError::Invalid(format!(
            "more than {MAX_OBSERVABLES} observables in one message"
        )));
    }
    for o in observables {
        o.validate()?;
    }
    for a in attachments {
        text("attachment name", &a.name, 1, 255)?;
        text("attachment media type", &a.media_type, 1, 255)?;
    }
    Ok(())
}

/// The request kinds of the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Information about malicious cyber activity.
    Information,
    /// Investigate a cyber crime.
    Investigation,
    /// Expedited preservation of stored computer data (Budapest Convention art. 29).
    Preservation,
    /// Collect or disclose electronic evidence.
    Evidence,
    /// Mitigate malicious activity emanating from the responder's territory.
    Mitigation,
}

impl RequestKind {
    /// Every kind, in a stable order.
    pub const ALL: [RequestKind; 5] = [
        Self::Information,
        Self::Investigation,
        Self::Preservation,
        Self::Evidence,
        Self::Mitigation,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Information => "information",
            Self::Investigation => "investigation",
            Self::Preservation => "preservation",
            Self::Evidence => "evidence",
            Self::Mitigation => "mitigation",
        }
    }
}

/// How urgent a request is; the agreement sets deadlines per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Ongoing harm to critical infrastructure or life.
    Critical,
    /// Serious, time-sensitive.
    High,
    /// The usual case.
    Normal,
    /// No time pressure.
    Low,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 4] = [Self::Critical, Self::High, Self::Normal, Self::Low];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }
}

/// FIRST Traffic Light Protocol 2.0 marking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    /// TLP:CLEAR, no restriction.
    #[serde(rename = "clear")]
    Clear,
    /// TLP:GREEN, the community.
    #[serde(rename = "green")]
    Green,
    /// TLP:AMBER, the recipient organisation and its clients.
    #[serde(rename = "amber")]
    Amber,
    /// TLP:AMBER+STRICT, the recipient organisation only.
    #[serde(rename = "amber+strict")]
    AmberStrict,
    /// TLP:RED, the named recipients only.
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    /// Every level, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Self::Clear,
        Self::Green,
        Self::Amber,
        Self::AmberStrict,
        Self::Red,
    ];

    /// The wire name, e.g. `amber+strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Green => "green",
            Self::Amber => "amber",
            Self::AmberStrict => "amber+strict",
            Self::Red => "red",
        }
    }

    /// The label as FIRST writes it, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Clear => "TLP:CLEAR",
            Self::Green => "TLP:GREEN",
            Self::Amber => "TLP:AMBER",
            Self::AmberStrict => "TLP:AMBER+STRICT",
            Self::Red => "TLP:RED",
        }
    }
}

/// Opens a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// What is asked for.
    pub kind: RequestKind,
    /// One of the agreement's categories, e.g. `ip-theft`.
    pub category: String,
    /// Sets the deadlines.
    pub priority: Priority,
    /// Marking of the request's content.
    pub tlp: Tlp,
    /// One line a liaison officer reads in a list.
    pub title: String,
    /// The facts and the ask, in prose.
    pub narrative: String,
    /// IPs, domains, hashes and the like the request concerns.
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// Content-addressed attachments (content travels separately).
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// STIX 2.1 objects shared with the request (indicators, observed data, ...). The
    /// protocol checks only their shape; the node validates them as STIX and applies TLP.
    /// Absent when empty, so messages without objects sign the same bytes as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<StixValue>,
    /// The requester's attribution claim, if it makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Required for preservation requests: the particulars of Budapest Convention art. 29(2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preservation: Option<PreservationDetails>,
}

impl RequestBody {
    fn validate(&self) -> Result<(), ProtocolError> {
        text("title", &self.title, 1, MAX_TITLE)?;
        text("narrative", &self.narrative, 1, MAX_TEXT)?;
        text("category", &self.category, 1, 64)?;
        if let Some(a) = &self.attribution {
            text("attribution", a, 1, MAX_SHORT)?;
        }
        validate_all(&self.observables, &self.attachments)?;
        validate_objects(&self.objects)?;
        match (self.kind, &self.preservation) {
            (RequestKind::Preservation, None) => Err(ProtocolError::Invalid(
                "a preservation request must carry the art. 29(2) particulars (\"preservation\")"
                    .into(),
            )),
            (RequestKind::Preservation, Some(p)) => p.validate(),
            (_, Some(_)) => Err(ProtocolError::Invalid(
                "only preservation requests carry \"preservation\" particulars".into(),
            )),
            (_, None) => Ok(()),
        }
    }
}

/// The particulars a preservation request must specify, Budapest Convention art. 29(2) a–f.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreservationDetails {
    /// (a) the authority seeking the preservation.
    pub authority: String,
    /// (b) the offence that is the subject of the investigation and a brief summary of the facts.
    pub offence: String,
    /// (c) the stored computer data to be preserved and its relationship to the offence.
    pub data: String,
    /// (d) any available information identifying the custodian of the data or its location.
    pub custodian: String,
    /// (e) the necessity of the preservation.
    pub necessity: String,
    /// (f) that the party intends to submit a request for mutual assistance for the data.
    pub mutual_assistance_to_follow: bool,
}

impl PreservationDetails {
    fn validate(&self) -> Result<(), ProtocolError> {
        text(
            "preservation authority (art. 29(2)a)",
            &self.authority,
            1,
            MAX_SHORT,
        )?;
        text(
            "preservation offence (art. 29(2)b)",
            &self.offence,
            1,
            MAX_TEXT,
        )?;
        text("preservation data (art. 29(2)c)", &self.data, 1, MAX_TEXT)?;
        text(
            "preservation custodian (art. 29(2)d)",
            &self.custodian,
            1,
            MAX_SHORT,
        )?;
        text(
            "preservation necessity (art. 29(2)e)",
            &self.necessity,
            1,
            MAX_TEXT,
        )
    }
}

/// The kinds of observable a message may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservableType {
    /// An IPv4 or IPv6 address.
    Ip,
    /// An IPv4 or IPv6 network in CIDR notation.
    Cidr,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
    /// An e-mail address.
    Email,
    /// An online account (`service:name`).
    Account,
}

/// One typed observable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observable {
    /// What the value is.
    #[serde(rename = "type")]
    pub kind: ObservableType,
    /// The value, in its usual textual form.
    pub value: String,
}

impl Observable {
    /// Parses `type:value`, e.g. `ip:203.0.113.7` or `domain:c2.example`.
    pub fn parse(s: &str) -> Result<Self, ProtocolError> {
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            ProtocolError::bad(
                "observable",
                format!("{s:?} must be type:value, e.g. ip:203.0.113.7"),
            )
        })?;
        let kind: ObservableType = serde_json::from_value(serde_json::Value::String(kind.into()))
            .map_err(|_| {
                ProtocolError::bad(
                    "observable",
                    format!(
                        "unknown type {kind:?}; use ip, cidr, domain, url, md5, sha1, sha256, email or account"
                    ),
                )
            })?;
        let o = Self {
            kind,
            value: value.to_owned(),
        };
        o.validate()?;
        Ok(o)
    }

    fn validate(&self) -> Result<(), ProtocolError> {
        let v = self.value.as_str();
        let hex_len = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit());
        let ok = match self.kind {
            ObservableType::Ip => v.parse::<IpAddr>().is_ok(),
            ObservableType::Cidr => valid_cidr(v),
            ObservableType::Domain => valid_domain(v),
            ObservableType::Url => {
                v.contains("://") && v.len() <= 8192 && !v.contains(char::is_whitespace)
            }
            ObservableType::Md5 => hex_len(32),
            ObservableType::Sha1 => hex_len(40),
            ObservableType::Sha256 => hex_len(64),
            ObservableType::Email => v
                .rsplit_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && valid_domain(domain)),
            ObservableType::Account => !v.is_empty() && v.len() <= 512,
        };
        if ok {
            Ok(())
        } else {
            Err(ProtocolError::bad(
                "observable",
                format!("{v:?} is not a valid {:?} value", self.kind),
            ))
        }
    }
}

fn valid_cidr(v: &str) -> bool {
    let Some((addr, len)) = v.split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => len <= 32,
        Ok(IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

fn valid_domain(v: &str) -> bool {
    let v = v.strip_suffix('.').unwrap_or(v);
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A reference to an attachment by content hash; the bytes travel separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRef {
    /// File name as the sender knows it.
    pub name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Digest,
}

/// Confirms the responder has taken the request up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementBody {
    /// Optional note, e.g. who handles the case.
    #[serde(default)]
    pub note: String,
}

/// Asks the requester for more information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClarificationRequestBody {
    /// What the responder needs to know.
    pub question: String,
}

/// The requester's reply to a clarification request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClarificationBody {
    /// The reply.
    pub text: String,
}

/// A substantive answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// `true` for the final answer; `false` for an interim, partial one.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The answer in prose.
    pub text: String,
    /// Observables found or acted on.
    #[serde(default)]
    pub observables: Vec<Observable>,
    /// Content-addressed attachments.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// STIX 2.1 objects found or acted on, e.g. the sightings of a mitigation; as in
    /// [`RequestBody::objects`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<StixValue>,
}

/// Why a responder declines; grounds follow Budapest Convention art. 27(4) and 29(5)
/// plus the practical ones liaison officers meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// The request is outside the agreement's scope.
    OutsideScope,
    /// Not enough information to act, even after clarification.
    InsufficientInformation,
    /// The responder has no jurisdiction over the data, system or person.
    NoJurisdiction,
    /// Domestic law forbids the assistance.
    LegalRestriction,
    /// The offence is regarded as political (art. 27(4)a).
    PoliticalOffence,
    /// Prejudice to sovereignty, security, ordre public or other essential interests (art. 27(4)b).
    EssentialInterests,
    /// The same matter is already handled under another case.
    Duplicate,
    /// Anything else; the text says what.
    Other,
}

impl DeclineReason {
    /// Every reason, in a stable order.
    pub const ALL: [DeclineReason; 8] = [
        Self::OutsideScope,
        Self::InsufficientInformation,
        Self::NoJurisdiction,
        Self::LegalRestriction,
        Self::PoliticalOffence,
        Self::EssentialInterests,
        Self::Duplicate,
        Self::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutsideScope => "outside_scope",
            Self::InsufficientInformation => "insufficient_information",
            Self::NoJurisdiction => "no_jurisdiction",
            Self::LegalRestriction => "legal_restriction",
            Self::PoliticalOffence => "political_offence",
            Self::EssentialInterests => "essential_interests",
            Self::Duplicate => "duplicate",
            Self::Other => "other",
        }
    }
}

/// Declines the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// The reason code.
    pub reason: DeclineReason,
    /// Explanation in prose.
    #[serde(default)]
    pub text: String,
}

/// Withdraws the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    /// Why, in prose.
    #[serde(default)]
    pub reason: String,
}

/// The requester's rating of the final answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 (useless) to 5 (excellent).
    pub score: u8,
    /// Optional comment.
    #[serde(default)]
    pub comment: String,
}

/// Parses the wire name of a closed set, naming every valid value when `s` is none of them.
fn parse_wire<T: Copy>(
    what: &'static str,
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ProtocolError> {
    all.iter().copied().find(|v| name(*v) == s).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|v| format!("{:?}", name(*v))).collect();
        ProtocolError::bad(what, format!("{s:?} is not one of {}", names.join(", ")))
    })
}

impl std::str::FromStr for RequestKind {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, ProtocolError> {
        parse_wire("request kind", s, &Self::ALL, Self::as_str)
    }
}

impl std::str::FromStr for Priority {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, ProtocolError> {
        parse_wire("priority", s, &Self::ALL, Self::as_str)
    }
}

impl std::str::FromStr for Tlp {
    type Err = ProtocolError;

    /// The wire name (`amber`) or FIRST's label (`TLP:AMBER`), in any case: people copy the
    /// label from documents.
    fn from_str(s: &str) -> Result<Self, ProtocolError> {
        let lower = s.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("tlp:").unwrap_or(&lower);
        parse_wire("TLP", name, &Self::ALL, Self::as_str)
    }
}

impl std::str::FromStr for DeclineReason {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, ProtocolError> {
        parse_wire("decline reason", s, &Self::ALL, Self::as_str)
    }
}

#[cfg(test)]
mod from_str_tests {
    use super::*;

    #[test]
    fn tlp_is_read_from_its_wire_name_or_its_label() {
        assert_eq!("amber".parse::<Tlp>(), Ok(Tlp::Amber));
        assert_eq!("TLP:AMBER".parse::<Tlp>(), Ok(Tlp::Amber));
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>(), Ok(Tlp::AmberStrict));
        for t in Tlp::ALL {
            assert_eq!(t.as_str().parse::<Tlp>(), Ok(t));
        }
    }

    #[test]
    fn an_unknown_value_is_refused_with_the_valid_ones() {
        let err = "urgent".parse::<Priority>().expect_err("not a priority");
        assert!(err.to_string().contains("\"critical\""), "{err}");
        assert!("investigation".parse::<RequestKind>().is_ok());
        assert!("no_jurisdiction".parse::<DeclineReason>().is_ok());
        assert!("amber-ish".parse::<Tlp>().is_err());
    }
}
