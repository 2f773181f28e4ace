//! Receiving: a partner's batch of envelopes is checked (shape, agreement, addressee,
//! signature, carried checkpoint, clock skew) before the node's single writer is taken, so a
//! flood of forged envelopes costs CPU but never holds up this node's own officers. What
//! needs the database (idempotency, sequence, the case's state) is checked under the writer,
//! where each envelope is logged with the receipt it gets, all in one transaction per batch.

use std::collections::HashSet;

use detente_domain::Case;
use detente_protocol::{
    Body, Envelope, Receipt, SaltedBody, Signed, SignedEnvelope, Timestamp, WIRE_VERSION,
};
use detente_store::{Direction, MessageState, WriteTx};
use serde_json::Value;

use super::{
    Node, NodeError, now,
    projection::{official_case, record, unknown_case},
};
use crate::error::ErrorCode;

/// An envelope that passed every check that needs no database.
pub(super) struct Checked {
    /// As received and to be logged (for version 2, the signed header alone).
    signed: SignedEnvelope,
    /// The detached body of a version 2 envelope, checked against the header.
    body: Option<SaltedBody>,
    /// The envelope with its real body, for the checks.
    envelope: Envelope,
}

/// The counter holding the latest receipt time issued, in Unix milliseconds.
pub(super) const RECEIPT_CLOCK: &str = "clock:receipts";

impl Node {
    /// Handles a batch of envelopes from a partner: one transaction, one result per envelope.
    pub async fn receive(
        &self,
        envelopes: Vec<Value>,
    ) -> Result<Vec<Result<Value, NodeError>>, NodeError> {
        // Everything that needs no database, for the whole batch, before the writer is taken.
        let checked: Vec<Result<Checked, NodeError>> = envelopes
            .into_iter()
            .map(|value| self.check_envelope(value))
            .collect();
        // The writer is taken at the first envelope that passed: a batch of forgeries never
        // takes it at all.
        let mut tx: Option<WriteTx> = None;
        let mut results = Vec::with_capacity(checked.len());
        let mut noted = HashSet::new();
        for signed in checked {
            let result = match signed {
                Ok(signed) => {
                    let tx = match &mut tx {
                        Some(tx) => tx,
                        None => tx.insert(self.store.write().await?),
                    };
                    self.accept(tx, signed, &mut noted).await
                }
                Err(e) => Err(e),
            };
            match result {
                // A storage failure fails the whole batch; the sender retries all of it.
                Err(e) if e.is_internal() => return Err(e),
                Err(e) => {
                    tracing::warn!(code = %e.code(), reason = %e, "refused an envelope");
                    results.push(Err(e));
                }
                Ok(receipt) => results.push(Ok(receipt)),
            }
        }
        if let Some(tx) = tx {
            self.commit(tx, now()).await?;
        }
        Ok(results)
    }

    /// Everything that can be checked without the database, cheapest first.
    fn check_envelope(&self, mut value: Value) -> Result<Checked, NodeError> {
        // A version 2 envelope travels as the signed header with its body beside it:
        // `{"envelope": <header>, "signature": ..., "body": {"salt": ..., "body": ...}}`.
        // The body is read only once the header's signature verifies.
        let body = value.as_object_mut().and_then(|o| o.remove("body"));
        let signed = SignedEnvelope::from_value(value)?;
        if signed.version() != self.agreement.protocol {
            return Err(NodeError::refused(
                ErrorCode::InvalidMessage,
                format!(
                    "envelope is wire version {}, the agreement {} says protocol = {}",
                    signed.version(),
                    self.agreement.id,
                    self.agreement.protocol
                ),
            ));
        }
        let view = signed.view();
        let env = &view;
        if env.agreement != self.agreement_digest {
            return Err(NodeError::refused(
                ErrorCode::UnknownAgreement,
                format!(
                    "envelope names agreement {}, this node works under {} ({}); compare agreement documents",
                    env.agreement, self.agreement_digest, self.agreement.id
                ),
            ));
        }
        if env.to != self.party {
            return Err(NodeError::refused(
                ErrorCode::WrongRecipient,
                format!(
                    "envelope is addressed to {}, this node is {}",
                    env.to, self.party
                ),
            ));
        }
        let sender = self
            .agreement
            .party(&env.from)
            .filter(|p| p.id != self.party)
            .ok_or_else(|| {
                NodeError::refused(
                    ErrorCode::UnknownParty,
                    format!("{} is not a partner under this agreement", env.from),
                )
            })?;
        if !sender.public_keys.iter().any(|k| signed.verify(k).is_ok()) {
            return Err(NodeError::refused(
                ErrorCode::BadSignature,
                format!(
                    "signature does not verify under any key pinned for {}",
                    env.from
                ),
            ));
        }
        // Only a signed header is worth hashing a body for; nothing is stored unless the body
        // is the one the header commits to and says exactly the header's facts.
        let body = body.map(SaltedBody::from_value).transpose()?;
        let envelope = signed
            .open(body.as_ref())
            .map_err(|e| NodeError::refused(ErrorCode::BodyMismatch, e.to_string()))?;
        let env = &envelope;
        if let Some(c) = &env.checkpoint {
            self.verify_partner_checkpoint(&env.from, c)?;
        }
        let skew = self.agreement.terms.clock_skew.duration();
        let now = now();
        if env.sent_at > now.add(skew) {
            return Err(NodeError::refused(
                ErrorCode::ClockSkew,
                format!(
                    "envelope sent_at {} is ahead of this node's clock {now} by more than the agreed {}",
                    env.sent_at, self.agreement.terms.clock_skew
                ),
            ));
        }
        crate::objects::check_incoming(&env.body)?;
        Ok(Checked {
            signed,
            body,
            envelope,
        })
    }

    /// Applies one checked envelope under the writer: logs it with the receipt it gets.
    async fn accept(
        &self,
        tx: &mut WriteTx,
        checked: Checked,
        noted: &mut HashSet<String>,
    ) -> Result<Value, NodeError> {
        let Checked {
            signed,
            body,
            envelope,
        } = checked;
        let env = &envelope;
        let (known, rows) = tx.message_and_case(env.id, &env.case).await?;
        if let Some(known) = known {
            return match known.receipt {
                Some(receipt) if known.envelope == signed.to_bytes() => {
                    // Idempotent: the same bytes again get the original receipt back.
                    Ok(serde_json::from_slice(&receipt).map_err(NodeError::internal)?)
                }
                _ => Err(NodeError::refused(
                    ErrorCode::ReplayConflict,
                    format!("message {} is already known with different content", env.id),
                )),
            };
        }
        let stream = format!("seq:in:{}", env.from);
        let last = tx.counter(&stream).await?;
        if env.seq <= last {
            return Err(NodeError::refused(
                ErrorCode::OutOfOrder,
                format!(
                    "seq {} from {} is not after the last accepted seq {last}",
                    env.seq, env.from
                ),
            ));
        }
        match (&env.body, official_case(&self.agreement, &rows)?) {
            (Body::Request(_), None) if rows.is_empty() => {
                Case::open(&self.agreement, env, now())?;
            }
            (Body::Request(_), _) => {
                return Err(NodeError::refused(
                    ErrorCode::IllegalTransition,
                    format!("case {} already exists", env.case),
                ));
            }
            (_, None) => return Err(unknown_case(&env.case, "no request for it has arrived")),
            (body, Some(case)) => {
                if let Some(reply_to) = env.in_reply_to {
                    let ours = rows
                        .iter()
                        .any(|r| r.id == reply_to && r.direction == Direction::Out);
                    if !ours {
                        return Err(NodeError::refused(
                            ErrorCode::InvalidMessage,
                            format!(
                                "in_reply_to {reply_to} is not a message this node sent in case {}",
                                env.case
                            ),
                        ));
                    }
                }
                case.next_status(&env.from, body)?;
            }
        }
        let received_at = self.next_receipt_time(tx).await?;
        let receipt = Signed::seal(
            Receipt {
                v: WIRE_VERSION,
                agreement: env.agreement,
                issuer: self.party.clone(),
                sender: env.from.clone(),
                envelope_id: env.id,
                envelope_hash: signed.payload_hash(),
                seq: env.seq,
                case: env.case.clone(),
                received_at,
                // `record` below appends the envelope first: it gets the next index.
                log_index: Some(tx.tree_head().0.get()),
                checkpoint: self.latest_checkpoint(),
            },
            &self.key,
        )?;
        if let Some(c) = &env.checkpoint {
            self.note_partner_checkpoint(tx, &env.from, c, received_at, noted)
                .await?;
        }
        let row = record(
            tx,
            &signed,
            body.as_ref(),
            MessageState::Received,
            Some(&receipt),
            received_at,
        )
        .await?;
        tx.set_counter(&stream, env.seq).await?;
        tx.set_counter(
            RECEIPT_CLOCK,
            u64::try_from(received_at.unix_millis()).unwrap_or(0),
        )
        .await?;
        *self.last_receipt.lock().expect("never poisoned") = Some(received_at.unix_millis());
        let mut rows = rows;
        rows.push(row);
        self.project_case(tx, &env.case, &rows, received_at).await?;
        tracing::info!(case = %env.case, message = %env.id, from = %env.from, seq = env.seq, kind = env.body.message_type().as_str(), "envelope received");
        Ok(receipt.to_value())
    }

    /// The time of the next receipt: now, but never before the previous receipt, even if the
    /// system clock steps back. When other processes share the database (PostgreSQL), one of
    /// them may have issued a later receipt, so the clock is read inside this (locked)
    /// transaction instead of from the cache.
    async fn next_receipt_time(&self, tx: &mut WriteTx) -> Result<Timestamp, NodeError> {
        let cached = if self.store.shared() {
            None
        } else {
            *self.last_receipt.lock().expect("never poisoned")
        };
        let last_receipt = match cached {
            Some(ms) => ms,
            None => i64::try_from(tx.counter(RECEIPT_CLOCK).await?).unwrap_or(0),
        };
        Ok(Timestamp::from_unix_millis(
            now().unix_millis().max(last_receipt),
        )?)
    }
}
