//! Rebuilding every projection (messages, outbox, cases, counters) from the log alone: the
//! log is the record, the tables are its index.

use std::collections::BTreeMap;

use detente_protocol::{Body, CaseId, MessageId, PartyId, Receipt, Signed};
use detente_store::{Direction, MessageRow, MessageState};

use super::{Node, NodeError, now, projection::parse_envelope, receive::RECEIPT_CLOCK};

impl Node {
    /// Rebuilds every projection (messages, outbox, cases, counters) from the log alone, in
    /// one transaction. Run it with the node stopped. Refusals by partners are not signed
    /// entries, so a message a partner refused is queued again and refused again.
    pub async fn rebuild(&self) -> Result<u64, NodeError> {
        let now = now();
        let (size, _) = self.store.tree_head().await;
        let mut tx = self.store.write().await?;
        tx.clear_projections().await?;
        let mut cases: Vec<CaseId> = Vec::new();
        let mut pending: BTreeMap<MessageId, (PartyId, u64)> = BTreeMap::new();
        let mut start = 0;
        while start < size.get() {
            let end = (start + 10_000).min(size.get());
            for (index, kind, direction, bytes) in self.store.entries(start, end).await? {
                let idx = i64::try_from(index).map_err(NodeError::internal)?;
                let outgoing = direction == "out";
                if kind == "envelope" {
                    let signed = parse_envelope(&bytes)?;
                    let env = &signed.view();
                    let state = if outgoing {
                        MessageState::Pending
                    } else {
                        MessageState::Received
                    };
                    let row = MessageRow {
                        id: env.id,
                        direction: if outgoing {
                            Direction::Out
                        } else {
                            Direction::In
                        },
                        sender: env.from.clone(),
                        recipient: env.to.clone(),
                        seq: env.seq,
                        case_id: env.case.clone(),
                        state,
                        envelope: bytes,
                        receipt: None,
                        received_at: None,
                        rejection: None,
                        envelope_entry: idx,
                    };
                    tx.insert_message(
                        &row,
                        env.body.message_type().as_str(),
                        &signed.payload_hash().to_string(),
                        None,
                    )
                    .await?;
                    let stream = if outgoing {
                        format!("seq:out:{}", env.to)
                    } else {
                        format!("seq:in:{}", env.from)
                    };
                    let seq = tx.counter(&stream).await?.max(env.seq);
                    tx.set_counter(&stream, seq).await?;
                    if outgoing {
                        pending.insert(env.id, (env.to.clone(), env.seq));
                        if matches!(env.body, Body::Request(_)) {
                            let name = format!("case:{}", env.case.year());
                            let n = tx.counter(&name).await?.max(u64::from(env.case.number()));
                            tx.set_counter(&name, n).await?;
                        }
                    }
                    if !cases.contains(&env.case) {
                        cases.push(env.case.clone());
                    }
                } else {
                    let receipt = Signed::<Receipt>::parse(&bytes, usize::MAX)
                        .map_err(NodeError::internal)?;
                    let r = receipt.payload();
                    let state = if outgoing {
                        MessageState::Received
                    } else {
                        MessageState::Delivered
                    };
                    tx.set_receipt(r.envelope_id, idx, r.received_at, state)
                        .await?;
                    if outgoing {
                        let ms = u64::try_from(r.received_at.unix_millis()).unwrap_or(0);
                        let clock = tx.counter(RECEIPT_CLOCK).await?.max(ms);
                        tx.set_counter(RECEIPT_CLOCK, clock).await?;
                    } else {
                        pending.remove(&r.envelope_id);
                    }
                }
            }
            start = end;
        }
        for (id, (to, seq)) in &pending {
            tx.enqueue(*id, to, *seq, now).await?;
        }
        for case in &cases {
            self.refresh_case(&mut tx, case, now).await?;
        }
        tx.commit().await?;
        *self.last_receipt.lock().expect("never poisoned") = None;
        Ok(size.get())
    }
}
