//! The log checkpoints a review cites, so that a printed page ties to a provable state of
//! each party's log.
//!
//! Every receipt carries the latest signed checkpoint of its issuer's log. Both parties hold
//! every receipt byte for byte (the issuer logs it, the sender logs it when it settles), so
//! the latest checkpoint each party signed into a receipt made before the review's instant is
//! the same on both nodes and in both bundles, and both parties hold its signature.

use std::collections::BTreeMap;

use detente_ledger::SignedCheckpoint;
use detente_protocol::{Digest, PartyId, Receipt, Timestamp};
use serde::Serialize;

/// A checkpoint of one party's log: its size and root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitedCheckpoint {
    /// Whose log.
    pub party: PartyId,
    /// How many entries it covers.
    pub size: u64,
    /// The Merkle root of those entries.
    pub root: Digest,
}

/// Collects, per party, the largest checkpoint its receipts carried before an instant.
#[derive(Debug)]
pub struct Sources {
    before: Timestamp,
    latest: BTreeMap<PartyId, (u64, Digest)>,
}

impl Sources {
    /// Nothing cited yet; receipts from `before` on are ignored.
    pub fn new(before: Timestamp) -> Self {
        Self {
            before,
            latest: BTreeMap::new(),
        }
    }

    /// Notes the checkpoint `receipt` carries, if it was made before the instant. The
    /// receipt's signature, which covers the checkpoint's text, is the caller's to have
    /// checked; a checkpoint that does not parse cites nothing.
    pub fn receipt(&mut self, receipt: &Receipt) {
        if receipt.received_at >= self.before {
            return;
        }
        let Some(text) = &receipt.checkpoint else {
            return;
        };
        let Ok(signed) = SignedCheckpoint::parse(text) else {
            return;
        };
        let c = signed.unverified_checkpoint();
        let candidate = (c.size().get(), c.root());
        let entry = self
            .latest
            .entry(receipt.issuer.clone())
            .or_insert(candidate);
        // The larger tree; of two roots for one size (which the checkpoint watcher raises as
        // equivocation), the larger root, so every copy of the log cites the same one.
        if (candidate.0, candidate.1.as_bytes()) > (entry.0, entry.1.as_bytes()) {
            *entry = candidate;
        }
    }

    /// The checkpoints cited, by party.
    pub fn finish(self) -> Vec<CitedCheckpoint> {
        self.latest
            .into_iter()
            .map(|(party, (size, root))| CitedCheckpoint { party, size, root })
            .collect()
    }
}
