//! Settling: the partner's answers to a delivered batch. A signed receipt that describes the
//! envelope sent makes the message official (the receipt's time is the official time of
//! arrival); a final refusal marks it rejected; anything else keeps it queued for a retry.

use std::collections::HashSet;

use detente_protocol::{CaseId, Receipt, Signed, Timestamp};
use detente_store::{Direction, EntryKind, MessageState, OutboxItem};
use serde_json::Value;

use super::{Node, NodeError, now, projection::parse_envelope, verify_any};
use crate::error::ErrorCode;

/// What settling does with one delivered envelope.
enum Outcome {
    /// A verified receipt: the message is official.
    Official(Box<Signed<Receipt>>),
    /// A final refusal: the message is rejected.
    Refused(NodeError),
    /// Nothing final (a transient refusal, a receipt that does not check out): try again.
    Retry(String),
}

/// The partner's answer to one delivered envelope.
pub enum Delivery {
    /// A signed receipt (as JSON).
    Receipt(Value),
    /// A coded refusal.
    Refused(NodeError),
}

impl Node {
    /// Records the partner's answers to a delivered batch, in one transaction: receipts are
    /// stored, final refusals mark their message rejected. The first transient refusal (or
    /// receipt that does not check out) defers the rest of the queue to that partner, so
    /// nothing overtakes it. Returns how many envelopes got a final outcome.
    pub async fn settle(
        &self,
        batch: &[OutboxItem],
        results: Vec<Delivery>,
    ) -> Result<usize, NodeError> {
        let now = now();
        // Receipts are checked (signature, checkpoint, what they describe) before the writer.
        let outcomes: Vec<Outcome> = batch
            .iter()
            .zip(results)
            .map(|(item, delivery)| match delivery {
                Delivery::Receipt(value) => match self.check_receipt(item, value) {
                    Ok(receipt) => Outcome::Official(Box::new(receipt)),
                    Err(e) => {
                        // A receipt that does not check out proves nothing: the envelope
                        // stays queued, so the partner's stored receipt is fetched again.
                        tracing::error!(message = %item.message_id, to = %item.recipient, error = %e, "partner returned an invalid receipt");
                        Outcome::Retry(e.to_string())
                    }
                },
                Delivery::Refused(e) if e.code().is_transient() => Outcome::Retry(e.to_string()),
                Delivery::Refused(e) => Outcome::Refused(e),
            })
            .collect();
        let mut tx = self.store.write().await?;
        let mut touched: Vec<CaseId> = Vec::new();
        let mut noted = HashSet::new();
        let mut settled = 0;
        for (item, outcome) in batch.iter().zip(outcomes) {
            let receipt = match outcome {
                Outcome::Retry(why) => {
                    tx.defer(&item.recipient, backoff(item.attempts, now), &why)
                        .await?;
                    break;
                }
                Outcome::Official(receipt) => Ok(receipt),
                Outcome::Refused(e) => Err(e),
            };
            // Only an envelope still in the outbox is settled, and only once.
            if !tx.dequeue(item.message_id).await? {
                continue;
            }
            match receipt {
                Ok(receipt) => {
                    let idx = tx
                        .append_entry(
                            EntryKind::Receipt,
                            Direction::In,
                            item.message_id,
                            &receipt.to_bytes(),
                            now,
                        )
                        .await?;
                    let at = receipt.payload().received_at;
                    if let Some(c) = &receipt.payload().checkpoint {
                        self.note_partner_checkpoint(&mut tx, &item.recipient, c, now, &mut noted)
                            .await?;
                    }
                    tx.set_receipt(item.message_id, idx, at, MessageState::Delivered)
                        .await?;
                    tracing::info!(message = %item.message_id, to = %item.recipient, received_at = %at, "delivered");
                }
                Err(e) => {
                    tx.set_rejected(item.message_id, &e.to_string()).await?;
                    tracing::warn!(message = %item.message_id, to = %item.recipient, code = %e.code(), reason = %e, "partner refused the message for good");
                }
            }
            if !touched.contains(&item.case_id) {
                touched.push(item.case_id.clone());
            }
            settled += 1;
        }
        for case in &touched {
            self.refresh_case(&mut tx, case, now).await?;
        }
        self.commit(tx, now).await?;
        Ok(settled)
    }

    /// Pushes back every queued message to `recipient` after a failed attempt.
    pub async fn defer(
        &self,
        recipient: &detente_protocol::PartyId,
        attempts: u32,
        error: &str,
    ) -> Result<(), NodeError> {
        let mut tx = self.store.write().await?;
        tx.defer(recipient, backoff(attempts, now()), error).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a receipt against the envelope it answers: signed by the recipient's pinned
    /// key, describing exactly that envelope, at a plausible time.
    fn check_receipt(&self, item: &OutboxItem, value: Value) -> Result<Signed<Receipt>, NodeError> {
        let receipt = Signed::<Receipt>::from_value(value)?;
        let partner = self.agreement.party(&item.recipient).ok_or_else(|| {
            NodeError::refused(ErrorCode::UnknownParty, "recipient left the agreement")
        })?;
        verify_any(&receipt, &partner.public_keys)?;
        if let Some(c) = &receipt.payload().checkpoint {
            self.verify_partner_checkpoint(&item.recipient, c)?;
        }
        let envelope = parse_envelope(&item.envelope)?;
        let r = receipt.payload();
        let env = &envelope.view();
        let matches = r.issuer == item.recipient
            && r.sender == self.party
            && r.envelope_id == env.id
            && r.envelope_hash == envelope.payload_hash()
            && r.seq == env.seq
            && r.case == env.case
            && r.agreement == self.agreement_digest;
        if !matches {
            return Err(NodeError::refused(
                ErrorCode::InvalidMessage,
                "receipt does not describe the envelope sent",
            ));
        }
        let skew = self.agreement.terms.clock_skew.duration();
        if r.received_at.add(skew) < env.sent_at || r.received_at > now().add(skew) {
            return Err(NodeError::refused(
                ErrorCode::ClockSkew,
                format!(
                    "receipt time {} is implausible for an envelope sent at {}",
                    r.received_at, env.sent_at
                ),
            ));
        }
        Ok(receipt)
    }
}

/// When to try again after `attempts` failures: 0.5 s doubling per attempt, at most 5 min.
fn backoff(attempts: u32, now: Timestamp) -> Timestamp {
    let delay_ms = 500i64.saturating_mul(1 << attempts.min(10)).min(300_000);
    now.add(time::Duration::milliseconds(delay_ms))
}
