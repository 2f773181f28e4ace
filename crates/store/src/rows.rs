//! Plain row types the store reads and writes.

use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};

use crate::StoreError;

/// Whether this node sent or received a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received from a partner.
    In,
    /// Sent by this node.
    Out,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "in" => Ok(Self::In),
            "out" => Ok(Self::Out),
            _ => Err(StoreError::Corrupt(format!("direction {s:?}"))),
        }
    }
}

/// What a log entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A signed envelope.
    Envelope,
    /// A signed receipt.
    Receipt,
}

impl EntryKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Envelope => "envelope",
            Self::Receipt => "receipt",
        }
    }
}

/// Delivery state of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Outgoing, committed, no receipt yet.
    Pending,
    /// Outgoing, receipted by the partner.
    Delivered,
    /// Outgoing, refused by the partner for good.
    Rejected,
    /// Incoming, receipted by this node.
    Received,
}

impl MessageState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Received => "received",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "rejected" => Self::Rejected,
            "received" => Self::Received,
            _ => return Err(StoreError::Corrupt(format!("message state {s:?}"))),
        })
    }
}

/// One envelope as the store knows it, with its signed bytes.
#[derive(Debug, Clone)]
pub struct MessageRow {
    /// Envelope id.
    pub id: MessageId,
    /// Sent or received.
    pub direction: Direction,
    /// Sender.
    pub sender: PartyId,
    /// Recipient.
    pub recipient: PartyId,
    /// Position in the sender's stream to the recipient.
    pub seq: u64,
    /// The case.
    pub case_id: CaseId,
    /// Delivery state.
    pub state: MessageState,
    /// Canonical bytes of the signed envelope.
    pub envelope: Vec<u8>,
    /// Canonical bytes of the signed receipt, once there is one.
    pub receipt: Option<Vec<u8>>,
    /// Official time of arrival, once receipted.
    pub received_at: Option<Timestamp>,
    /// Why the partner refused it, if it did.
    pub rejection: Option<String>,
    /// Log index of the envelope entry.
    pub envelope_entry: i64,
}

/// An outgoing message waiting for delivery.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    /// Envelope id.
    pub message_id: MessageId,
    /// Recipient.
    pub recipient: PartyId,
    /// Stream position.
    pub seq: u64,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Canonical bytes of the signed envelope.
    pub envelope: Vec<u8>,
    /// The case the envelope belongs to.
    pub case_id: CaseId,
    /// For a wire version 2 envelope, its stored body (`{"salt", "body"}`), which travels
    /// next to the signed header.
    pub body: Option<Vec<u8>>,
}

/// The projected state of one case, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// Case id.
    pub id: CaseId,
    /// Requesting party.
    pub requester: PartyId,
    /// Responding party.
    pub responder: PartyId,
    /// Request kind (wire name).
    pub kind: String,
    /// Category.
    pub category: String,
    /// Priority (wire name).
    pub priority: String,
    /// TLP (wire name).
    pub tlp: String,
    /// Title.
    pub title: String,
    /// Lifecycle status, or `pending_delivery` before the request is receipted.
    pub status: String,
    /// Official filing time.
    pub filed_at: Option<Timestamp>,
    /// Outgoing messages of the case not yet receipted.
    pub pending_out: u32,
    /// When the earliest unmet deadline passes (or passed), if any is pending.
    pub overdue_at: Option<Timestamp>,
    /// The derived case as JSON, for display.
    pub derived: String,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only cases with this status.
    pub status: Option<String>,
    /// Only cases filed by this party.
    pub requester: Option<PartyId>,
    /// Only cases addressed to this party.
    pub responder: Option<PartyId>,
    /// Only cases whose earliest unmet deadline is at or before this time.
    pub overdue_at: Option<Timestamp>,
    /// Only cases routed to this agency (a case no one was assigned is with the duty agency).
    pub agency: Option<String>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// What checking a partner checkpoint showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointState {
    /// Held, not yet checked against the partner's earlier checkpoints.
    Unverified,
    /// Proven consistent with the partner's earlier checkpoints.
    Consistent,
    /// Contradicts another checkpoint of the same partner.
    Equivocation,
}

impl CheckpointState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Consistent => "consistent",
            Self::Equivocation => "equivocation",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "unverified" => Self::Unverified,
            "consistent" => Self::Consistent,
            "equivocation" => Self::Equivocation,
            _ => return Err(StoreError::Corrupt(format!("checkpoint state {s:?}"))),
        })
    }
}

/// A checkpoint received from a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCheckpoint {
    /// The partner.
    pub party: PartyId,
    /// Its tree size.
    pub size: detente_ledger::TreeSize,
    /// Its root.
    pub root: detente_protocol::Digest,
    /// The signed note as received.
    pub note: String,
    /// What checking it showed.
    pub state: CheckpointState,
}

/// An alert for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What kind, e.g. `equivocation`.
    pub kind: String,
    /// The party concerned.
    pub party: String,
    /// What happened, in words.
    pub detail: String,
    /// The signed evidence (e.g. both checkpoints).
    pub evidence: String,
    /// When it was raised.
    pub raised_at: Timestamp,
}

/// An entry to append in bulk.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// Envelope or receipt.
    pub kind: EntryKind,
    /// Sent or received.
    pub direction: Direction,
    /// The envelope's id.
    pub message_id: MessageId,
    /// The canonical signed bytes.
    pub bytes: &'a [u8],
    /// The local time of recording.
    pub recorded_at: Timestamp,
}
