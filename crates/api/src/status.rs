//! `GET /api/v1/status`: what an operator checks first, and what `detente status` prints.

use detente_protocol::{Digest, PartyId, Timestamp};
use serde::{Deserialize, Serialize};

/// The node at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    /// The party this node speaks for.
    pub party: PartyId,
    /// The agreement it works under.
    pub agreement: AgreementView,
    /// Entries in its log.
    pub log_entries: u64,
    /// Its log's head.
    pub log: LogHead,
    /// What it has proven of each partner's log.
    pub partners: Vec<PartnerView>,
    /// Alerts raised, newest first.
    pub alerts: Vec<AlertView>,
    /// Outgoing messages per partner and state.
    pub outgoing: Vec<OutboxView>,
    /// The scheduled TAXII pulls since the node started.
    pub pulls: Vec<PullHistory>,
    /// Whether anything needs the operator: an alert, or a partner that cannot be delivered
    /// to. `detente status` exits with code 8 when it does.
    pub attention: bool,
}

/// An agreement, named and pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementView {
    /// Its id.
    pub id: String,
    /// The SHA-256 of its canonical form: what every envelope names.
    pub digest: Digest,
    /// The digest's first 24 hex digits in groups of four (`Digest::fingerprint`), to read
    /// over the phone.
    pub fingerprint: String,
}

/// A log's size, root and latest signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHead {
    /// Entries.
    pub size: u64,
    /// Merkle root.
    pub root: Digest,
    /// The latest signed checkpoint (signed note), if any.
    pub checkpoint: Option<String>,
}

/// What this node knows of one partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerView {
    /// The partner.
    pub party: PartyId,
    /// The largest of its checkpoints proven consistent with the rest.
    pub latest_consistent_checkpoint: Option<ProvenCheckpoint>,
    /// Messages waiting for delivery to it.
    pub pending: u64,
    /// Why the last delivery attempt failed, if messages are waiting.
    pub last_error: Option<String>,
    /// When the next attempt is due, if messages are waiting.
    pub next_attempt_at: Option<Timestamp>,
    /// Failed attempts so far for the oldest waiting message.
    pub attempts: u32,
}

/// A partner checkpoint proven consistent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root.
    pub root: Digest,
}

/// An alert for the operator, with its signed evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    /// `equivocation`, `omission`, ...
    pub kind: String,
    /// The party it concerns.
    pub party: String,
    /// What happened.
    pub detail: String,
    /// The signed material that shows it.
    pub evidence: String,
    /// When it was raised.
    pub raised_at: Timestamp,
}

/// Outgoing messages to one partner in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    /// The partner.
    pub to: String,
    /// The state.
    pub state: String,
    /// How many.
    pub count: u64,
}

/// What one TAXII pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullReport {
    /// Pages fetched.
    pub pages: u64,
    /// Objects received.
    pub received: u64,
    /// Object versions new to this node.
    pub stored: u64,
    /// Object versions already held.
    pub duplicates: u64,
    /// Objects that failed validation, with their reasons.
    pub rejected: Vec<String>,
    /// The bookmark after the pull.
    pub added_after: Option<String>,
}

/// What the scheduled puller did for one source since the node started: whether pulls work,
/// and whether each object arrives once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullHistory {
    /// The party serving the collection.
    pub party: String,
    /// The collection pulled.
    pub collection: String,
    /// Scheduled pulls finished, successful or not.
    pub rounds: u64,
    /// Scheduled pulls that failed.
    pub failures: u64,
    /// Objects received over all pulls. The bookmark makes each object the partner added
    /// arrive once, so this stays near what the partner holds however many rounds ran.
    pub received: u64,
    /// Object versions new to this node over all pulls.
    pub stored: u64,
    /// The latest successful pull.
    pub last: Option<PullReport>,
    /// Why the latest pull failed, if it did.
    pub last_error: Option<String>,
}

impl PullHistory {
    /// No pull yet of `collection` from `party`.
    pub fn new(party: &str, collection: &str) -> Self {
        Self {
            party: party.to_owned(),
            collection: collection.to_owned(),
            rounds: 0,
            failures: 0,
            received: 0,
            stored: 0,
            last: None,
            last_error: None,
        }
    }

    /// Adds one pull's outcome: its report, or why it failed.
    pub fn record(&mut self, outcome: Result<&PullReport, String>) {
        self.rounds += 1;
        match outcome {
            Ok(r) => {
                self.received += r.received;
                self.stored += r.stored;
                self.last = Some(r.clone());
                self.last_error = None;
            }
            Err(e) => {
                self.failures += 1;
                self.last_error = Some(e);
            }
        }
    }
}
