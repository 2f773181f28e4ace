//! What the node holds of its partners' logs: their signed checkpoints (verified when they
//! arrive with a message, kept once per size and root), and the outcomes of the background
//! checks (`crate::checkpoints`): consistency between checkpoints, and inclusion of every
//! envelope this node delivered. Contradictions raise alerts with their signed evidence.

use std::collections::HashSet;

use detente_ledger::{Checkpoint, SignedCheckpoint};
use detente_protocol::{PartyId, Timestamp};
use detente_store::{CheckpointState, PartnerCheckpoint, WriteTx};

use super::{Node, NodeError, now};
use crate::error::ErrorCode;

/// The counter holding the highest `seq` of this node's envelopes to `party` whose inclusion
/// in `party`'s log has been checked.
pub fn inclusion_counter(party: &PartyId) -> String {
    format!("inclusion:{party}")
}

impl Node {
    /// Records the outcome of checking a partner checkpoint against an earlier or later one;
    /// an inconsistency raises an equivocation alert with both signed notes as evidence.
    pub async fn record_consistency(
        &self,
        checked: &PartnerCheckpoint,
        against: Option<&PartnerCheckpoint>,
        consistent: bool,
    ) -> Result<(), NodeError> {
        let now = now();
        let mut tx = self.store.write().await?;
        if consistent {
            tx.set_partner_checkpoint_state(checked, CheckpointState::Consistent)
                .await?;
        } else {
            tx.set_partner_checkpoint_state(checked, CheckpointState::Equivocation)
                .await?;
            let other = against.map_or("", |a| a.note.as_str());
            let detail = format!(
                "{} cannot prove its log of size {} extends to (or from) the one it signed at size {}: \
                 its history was rewritten",
                checked.party,
                against.map_or(0, |a| a.size.get()),
                checked.size.get()
            );
            raise_equivocation(
                &mut tx,
                &checked.party,
                &detail,
                &[other, &checked.note],
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records that `party` proved it logged every envelope this node delivered to it up to
    /// `through_seq` where its receipts said; `omissions` are the envelopes it could not
    /// prove (detail and evidence each), raised as alerts.
    pub async fn record_inclusions(
        &self,
        party: &PartyId,
        through_seq: u64,
        omissions: &[(String, String)],
    ) -> Result<(), NodeError> {
        let now = now();
        let mut tx = self.store.write().await?;
        for (detail, evidence) in omissions {
            tracing::error!(party = %party, detail, "OMISSION: a partner's log lacks an envelope it receipted");
            tx.insert_alert("omission", party, detail, evidence, now)
                .await?;
        }
        tx.set_counter(&inclusion_counter(party), through_seq)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a partner's checkpoint note: its origin names the partner's log under this
    /// agreement and one of the partner's pinned keys signed it.
    pub(super) fn verify_partner_checkpoint(
        &self,
        party: &PartyId,
        note: &str,
    ) -> Result<Checkpoint, NodeError> {
        let invalid = |why: String| {
            NodeError::refused(
                ErrorCode::InvalidMessage,
                format!("the carried checkpoint {why}"),
            )
        };
        // A partner sends the same checkpoint with every message until its log grows: verify
        // each distinct note once.
        if let Some((_, checkpoint)) = self
            .verified_notes
            .lock()
            .expect("never poisoned")
            .get(party)
            .filter(|(known, _)| known == note)
        {
            return Ok(checkpoint.clone());
        }
        let signed =
            SignedCheckpoint::parse(note).map_err(|e| invalid(format!("is malformed: {e}")))?;
        let keys = self
            .agreement
            .party(party)
            .map(|p| p.public_keys.as_slice())
            .unwrap_or_default();
        let checkpoint = keys
            .iter()
            .find_map(|k| signed.verify(k, party.as_str()).ok())
            .ok_or_else(|| invalid(format!("is not signed by a key pinned for {party}")))?;
        if checkpoint.origin() != self.origin(party) {
            return Err(invalid(format!(
                "names log {:?}, expected {:?}",
                checkpoint.origin(),
                self.origin(party)
            )));
        }
        self.verified_notes
            .lock()
            .expect("never poisoned")
            .insert(party.clone(), (note.to_owned(), checkpoint.clone()));
        Ok(checkpoint.clone())
    }

    /// Keeps a (verified) partner checkpoint. Two different roots for one size are
    /// equivocation: both signed notes are kept as evidence and an alert is raised.
    pub(super) async fn note_partner_checkpoint(
        &self,
        tx: &mut WriteTx,
        party: &PartyId,
        note: &str,
        at: Timestamp,
        noted: &mut HashSet<String>,
    ) -> Result<(), NodeError> {
        let checkpoint = self.verify_partner_checkpoint(party, note)?;
        // Within one transaction each distinct note is recorded once.
        if !noted.insert(note.to_owned()) {
            return Ok(());
        }
        let held = tx.partner_checkpoints_at(party, checkpoint.size()).await?;
        if held.iter().any(|h| h.root == checkpoint.root()) {
            return Ok(());
        }
        let mut record = PartnerCheckpoint {
            party: party.clone(),
            size: checkpoint.size(),
            root: checkpoint.root(),
            note: note.to_owned(),
            state: CheckpointState::Unverified,
        };
        if let Some(other) = held.first() {
            record.state = CheckpointState::Equivocation;
            raise_equivocation(
                tx,
                party,
                &format!(
                    "{party} signed two different roots for log size {}: {} and {}",
                    checkpoint.size().get(),
                    other.root,
                    checkpoint.root()
                ),
                &[&other.note, note],
                at,
            )
            .await?;
        }
        tx.insert_partner_checkpoint(&record, at).await?;
        Ok(())
    }
}

/// Records an equivocation alert with its signed evidence.
async fn raise_equivocation(
    tx: &mut WriteTx,
    party: &PartyId,
    detail: &str,
    evidence: &[&str],
    at: Timestamp,
) -> Result<(), NodeError> {
    tracing::error!(party = %party, detail, "EQUIVOCATION: a partner's log contradicts itself");
    tx.insert_alert("equivocation", party, detail, &evidence.join("\n"), at)
        .await?;
    Ok(())
}
