//! What an audit reports: findings, each of one kind, naming the party and the entry.

use std::fmt;

use detente_protocol::PartyId;
use serde::Serialize;

/// The kinds of thing that fail an audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A line that is not a well-formed entry, or an entry whose bytes are not a well-formed
    /// signed envelope or receipt in canonical JSON.
    Malformed,
    /// An entry numbered other than its place: entries were dropped, inserted or reordered.
    OutOfOrder,
    /// The recomputed tree does not have the root a signed checkpoint gives for its size.
    RootMismatch,
    /// A checkpoint commits to more entries than the bundle holds: entries were dropped at
    /// the end.
    Truncated,
    /// The bundle goes on past the last checkpoint its party signed: nothing commits the
    /// party to those entries.
    UnsignedTail,
    /// The header announces another number of entries than the bundle holds.
    HeaderSize,
    /// A checkpoint note that is malformed, not signed by a key the agreement pins for its
    /// party, or names another log.
    BadCheckpoint,
    /// A signature that does not verify under the agreement's keys for its signer.
    BadSignature,
    /// An envelope or receipt that signs another agreement's digest than the audited one.
    ForeignAgreement,
    /// An envelope or receipt between other parties than its place in the log says.
    WrongParties,
    /// Receipt times that go backwards, or a receipt before its envelope was sent beyond the
    /// agreed clock skew.
    ReceiptTime,
    /// A receipt that signs another log index than the one where its issuer logged the
    /// envelope.
    LogIndex,
    /// A receipt with no matching envelope before it in the log.
    UnmatchedReceipt,
    /// Something one log proves the other logged, and the other's log does not hold.
    Omission,
    /// A case whose official messages are not a legal lifecycle.
    IllegalLifecycle,
    /// The two logs do not hold the same official messages, so their figures would differ.
    OfficialsDiffer,
    /// An envelope sealed in another wire version than the agreement's `protocol`: a node
    /// refuses it, so a log holding one was not written by a node keeping the agreement.
    WireVersion,
    /// A body next to a version 2 envelope that is not the one its signed header commits to,
    /// or says other facts than the header; or a body next to an entry that cannot have one.
    BodyMismatch,
}

/// One thing that does not check out, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The party whose bundle it was found in.
    pub party: PartyId,
    /// The entry concerned, if one can be named.
    pub entry: Option<u64>,
    /// What kind of thing is wrong.
    pub kind: FindingKind,
    /// What is wrong, in words.
    pub what: String,
}

impl Finding {
    pub(crate) fn new(
        party: &PartyId,
        entry: Option<u64>,
        kind: FindingKind,
        what: String,
    ) -> Self {
        Self {
            party: party.clone(),
            entry,
            kind,
            what,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Some(i) => write!(f, "{} entry {i}: {}", self.party, self.what),
            None => write!(f, "{}: {}", self.party, self.what),
        }
    }
}
