//! The node: what happens when a liaison officer sends a message, when a partner's envelope
//! arrives, and when a partner's receipt comes back. HTTP handlers and the outbox worker
//! call in here; everything below is one write transaction per step, so a killed process
//! leaves either all of a step or none of it.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use detente_audit::CaseCollector;
use detente_domain::{Agreement, Case, MilestoneState, OfficialMessage, derive_case};
use detente_ledger::{Checkpoint, SignedCheckpoint};
use detente_protocol::{
    Body, CaseId, Digest, Envelope, MessageId, PartyId, PublicKey, Receipt, RequestBody, SecretKey,
    Signable, Signed, Timestamp, WIRE_VERSION,
};
use detente_stix::AccessRule;
use detente_store::{
    CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState, OutboxItem,
    PartnerCheckpoint, Store, WriteTx,
};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{Notify, oneshot};

use crate::{
    config::PullSource,
    error::{ApiError, ErrorCode},
    taxii_pull::{PullError, PullHistory, PullReport},
};

/// A running node's state, shared by the HTTP handlers and the outbox worker.
pub struct Node {
    party: PartyId,
    agreement: Agreement,
    agreement_digest: Digest,
    key: SecretKey,
    store: Store,
    outbox_wakeup: Notify,
    queue: std::sync::Mutex<Vec<Queued>>,
    // The latest receipt time issued, so receipt times never go backwards; read from the
    // database on first use.
    last_receipt: std::sync::Mutex<Option<i64>>,
    // This node's latest committed checkpoint (signed note), carried in every message it sends.
    latest_checkpoint: std::sync::Mutex<Option<String>>,
    // The latest partner checkpoint note verified, per partner.
    verified_notes: std::sync::Mutex<std::collections::HashMap<PartyId, (String, Checkpoint)>>,
    // TLP for STIX objects in outgoing messages, with the configured level for unmarked ones.
    access_rule: AccessRule,
    // What the scheduled TAXII puller did per source since start-up, for the status endpoint.
    pulls: std::sync::Mutex<Vec<PullHistory>>,
}

/// The counter holding the latest receipt time issued, in Unix milliseconds.
const RECEIPT_CLOCK: &str = "clock:receipts";

/// An outgoing message and where to send the answer once it is committed.
type Queued = (Outgoing, oneshot::Sender<Result<Sent, ApiError>>);

/// An outgoing message waiting for the next group commit.
enum Outgoing {
    /// A new request, opening a case.
    Request { to: PartyId, request: RequestBody },
    /// The next message of an existing case.
    FollowUp { case: CaseId, body: Body },
}

/// What the sender of a message gets back once it is committed locally.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sent {
    /// The case.
    pub case: CaseId,
    /// The envelope id.
    pub message: MessageId,
    /// The envelope's position in the stream to the partner.
    pub seq: u64,
}

/// The partner's answer to one delivered envelope.
pub enum Delivery {
    /// A signed receipt (as JSON).
    Receipt(Value),
    /// A coded refusal.
    Refused(ApiError),
}

/// The current time, truncated to the millisecond. The only clock the node reads.
pub fn now() -> Timestamp {
    Timestamp::from_datetime(OffsetDateTime::now_utc())
}

impl Node {
    /// A node for `party` under `agreement`, signing with `key`, storing in `store`, applying
    /// `access_rule` to the STIX objects its messages carry.
    pub fn new(
        party: PartyId,
        agreement: Agreement,
        key: SecretKey,
        store: Store,
        latest_checkpoint: Option<String>,
        access_rule: AccessRule,
    ) -> Result<Arc<Self>, String> {
        let me = agreement
            .party(&party)
            .ok_or_else(|| format!("party {party} is not a party to agreement {}", agreement.id))?;
        if !me.public_keys.contains(&key.public_key()) {
            return Err(format!(
                "the node's key {} is not among the keys the agreement pins for {party}; \
                 add it to the agreement or use the right key file",
                key.public_key()
            ));
        }
        Ok(Arc::new(Self {
            party,
            agreement_digest: agreement.digest(),
            agreement,
            key,
            store,
            outbox_wakeup: Notify::new(),
            queue: std::sync::Mutex::new(Vec::new()),
            last_receipt: std::sync::Mutex::new(None),
            access_rule,
            latest_checkpoint: std::sync::Mutex::new(latest_checkpoint),
            verified_notes: std::sync::Mutex::new(std::collections::HashMap::new()),
            pulls: std::sync::Mutex::new(Vec::new()),
        }))
    }

    /// The party this node speaks for.
    pub fn party(&self) -> &PartyId {
        &self.party
    }

    /// The agreement the node works under.
    pub fn agreement(&self) -> &Agreement {
        &self.agreement
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A 32-byte secret for `purpose` derived from the node's key: the same in every process
    /// of this node and across restarts, and unknown to anyone without the key. For tokens
    /// the node hands out and must recognise, such as opaque TAXII page cursors.
    pub fn derived_secret(&self, purpose: &str) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"detente/v1/derived-secret\0");
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(self.key.to_pkcs8_pem().as_bytes());
        h.finalize().into()
    }

    /// Wakes the outbox worker (after a new message was committed).
    pub fn wake_outbox(&self) {
        self.outbox_wakeup.notify_one();
    }

    /// Waits until `wake_outbox` is called.
    pub async fn outbox_woken(&self) {
        self.outbox_wakeup.notified().await;
    }

    /// Files a new request to `to`, opening a case.
    pub async fn file_request(
        self: &Arc<Self>,
        to: PartyId,
        request: RequestBody,
    ) -> Result<Sent, ApiError> {
        if to == self.party || self.agreement.party(&to).is_none() {
            return Err(ApiError::new(
                ErrorCode::UnknownParty,
                format!(
                    "{to} is not a partner under agreement {}",
                    self.agreement.id
                ),
            ));
        }
        self.submit(Outgoing::Request { to, request }).await
    }

    /// Sends a follow-up message (acknowledgement, answer, ...) in an existing case.
    pub async fn send(self: &Arc<Self>, case: &CaseId, body: Body) -> Result<Sent, ApiError> {
        self.submit(Outgoing::FollowUp {
            case: case.clone(),
            body,
        })
        .await
    }

    /// Commits an outgoing message with group commit: whoever takes the write lock next
    /// commits everything queued so far in one transaction. A refused message writes nothing
    /// (see `seal_and_queue`), so it does not disturb the others. Every caller gets its answer
    /// only after the commit that made its message durable.
    async fn submit(self: &Arc<Self>, op: Outgoing) -> Result<Sent, ApiError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .lock()
            .expect("the queue lock is never held across a panic")
            .push((op, done));
        // The commit runs in its own task, so a caller that goes away (a dropped HTTP
        // connection) cannot cancel a transaction that carries other callers' messages.
        let node = Arc::clone(self);
        let committer = tokio::spawn(async move { node.commit_queued().await });
        if let Err(e) = committer.await.map_err(|e| internal(&e)).and_then(|r| r) {
            tracing::error!(error = %e, "group commit failed");
        }
        answer
            .await
            .map_err(|_| internal(&"the transaction carrying the message failed"))?
    }

    async fn commit_queued(&self) -> Result<(), ApiError> {
        if self
            .queue
            .lock()
            .expect("the queue lock is never held across a panic")
            .is_empty()
        {
            // An earlier committer took this caller's message along; no transaction needed.
            return Ok(());
        }
        let mut tx = self.store.write().await?;
        let batch = std::mem::take(
            &mut *self
                .queue
                .lock()
                .expect("the queue lock is never held across a panic"),
        );
        if batch.is_empty() {
            // An earlier committer took this caller's message along.
            return Ok(());
        }
        let now = now();
        let mut answers = Vec::with_capacity(batch.len());
        for (op, done) in batch {
            let result = self.apply_outgoing(&mut tx, op, now).await;
            if matches!(&result, Err(e) if e.code == ErrorCode::Internal) {
                // A storage failure may have left partial writes: the whole transaction goes.
                return result.map(|_| ());
            }
            answers.push((done, result));
        }
        self.commit(tx, now).await?;
        self.wake_outbox();
        for (done, result) in answers {
            // A caller that went away no longer needs its answer; the message is committed.
            let _ = done.send(result);
        }
        Ok(())
    }

    async fn apply_outgoing(
        &self,
        tx: &mut WriteTx,
        op: Outgoing,
        now: Timestamp,
    ) -> Result<Sent, ApiError> {
        match op {
            Outgoing::Request { to, request } => {
                let year = u16::try_from(now.datetime().year()).unwrap_or(0);
                let number = tx.next_counter(&format!("case:{year}")).await?;
                let number = u32::try_from(number).map_err(|_| {
                    ApiError::new(
                        ErrorCode::Internal,
                        "case numbers for this year are exhausted",
                    )
                })?;
                let case = CaseId::new(self.party.clone(), year, number);
                self.seal_and_queue(tx, case, to, None, Body::Request(request), now, Vec::new())
                    .await
            }
            Outgoing::FollowUp { case, body } => {
                let rows = tx.case_messages(&case).await?;
                let official = official_case(&self.agreement, &rows)?
                    .ok_or_else(|| unknown_case(&case, "the request has not been delivered yet"))?;
                // Check against what this node believes now: the official case plus its own
                // messages still on their way, applied in order.
                let mut predicted = official.clone();
                for row in rows.iter().filter(|r| r.state == MessageState::Pending) {
                    let env = parse_envelope(&row.envelope)?;
                    predicted.apply(env.payload(), now)?;
                }
                predicted.next_status(&self.party, &body)?;
                let to = if official.requester == self.party {
                    official.responder.clone()
                } else {
                    official.requester.clone()
                };
                let in_reply_to = official.latest_from_other_side(&self.party)?;
                self.seal_and_queue(tx, case, to, in_reply_to, body, now, rows)
                    .await
            }
        }
    }

    /// Seals and queues one outgoing message. Every check that can refuse it runs before the
    /// first write, so within a group commit only a storage failure (which fails the whole
    /// transaction) can stop it after it has written anything.
    #[allow(clippy::too_many_arguments)]
    async fn seal_and_queue(
        &self,
        tx: &mut WriteTx,
        case: CaseId,
        to: PartyId,
        in_reply_to: Option<MessageId>,
        body: Body,
        now: Timestamp,
        mut rows: Vec<MessageRow>,
    ) -> Result<Sent, ApiError> {
        let mut envelope = Envelope {
            v: WIRE_VERSION,
            id: MessageId::random(),
            agreement: self.agreement_digest,
            from: self.party.clone(),
            to: to.clone(),
            seq: 1,
            sent_at: now,
            case: case.clone(),
            in_reply_to,
            checkpoint: self.latest_checkpoint(),
            body,
        };
        envelope.validate()?;
        crate::objects::check_outgoing(
            &self.store,
            &self.access_rule,
            &self.party,
            &to,
            &envelope.body,
        )
        .await?;
        if rows.is_empty() {
            // Refuse locally what the partner would refuse: kinds and categories outside the terms.
            Case::open(&self.agreement, &envelope, now)?;
        }
        envelope.seq = tx.next_counter(&format!("seq:out:{to}")).await?;
        let signed = Signed::seal(envelope, &self.key)?;
        let env = signed.payload();
        let row = record(tx, &signed, MessageState::Pending, None, now).await?;
        tx.enqueue(env.id, &to, env.seq, now).await?;
        rows.push(row);
        self.project_case(tx, &case, &rows, now).await?;
        tracing::info!(case = %case, message = %env.id, to = %to, seq = env.seq, kind = env.body.message_type().as_str(), "message committed to outbox");
        Ok(Sent {
            case,
            message: env.id,
            seq: env.seq,
        })
    }

    /// Handles a batch of envelopes from a partner: one transaction, one result per envelope.
    pub async fn receive(
        &self,
        envelopes: Vec<Value>,
    ) -> Result<Vec<Result<Value, ApiError>>, ApiError> {
        let mut tx = self.store.write().await?;
        let mut results = Vec::with_capacity(envelopes.len());
        let mut noted = HashSet::new();
        for value in envelopes {
            let result = match self.check_envelope(value) {
                Ok(signed) => self.accept(&mut tx, signed, &mut noted).await,
                Err(e) => Err(e),
            };
            match result {
                // A storage failure fails the whole batch; the sender retries all of it.
                Err(e) if e.code == ErrorCode::Internal => return Err(e),
                Err(e) => {
                    tracing::warn!(code = %e.code, reason = %e.message, "refused an envelope");
                    results.push(Err(e));
                }
                Ok(receipt) => results.push(Ok(receipt)),
            }
        }
        self.commit(tx, now()).await?;
        Ok(results)
    }

    /// Everything that can be checked without the database, cheapest first.
    fn check_envelope(&self, value: Value) -> Result<Signed<Envelope>, ApiError> {
        let signed = Signed::<Envelope>::from_value(value)?;
        let env = signed.payload();
        if env.agreement != self.agreement_digest {
            return Err(ApiError::new(
                ErrorCode::UnknownAgreement,
                format!(
                    "envelope names agreement {}, this node works under {} ({}); compare agreement documents",
                    env.agreement, self.agreement_digest, self.agreement.id
                ),
            ));
        }
        if env.to != self.party {
            return Err(ApiError::new(
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
                ApiError::new(
                    ErrorCode::UnknownParty,
                    format!("{} is not a partner under this agreement", env.from),
                )
            })?;
        verify_any(&signed, &sender.public_keys)?;
        if let Some(c) = &env.checkpoint {
            self.verify_partner_checkpoint(&env.from, c)?;
        }
        let skew = self.agreement.terms.clock_skew.duration();
        let now = now();
        if env.sent_at > now.add(skew) {
            return Err(ApiError::new(
                ErrorCode::ClockSkew,
                format!(
                    "envelope sent_at {} is ahead of this node's clock {now} by more than the agreed {}",
                    env.sent_at, self.agreement.terms.clock_skew
                ),
            ));
        }
        Ok(signed)
    }

    async fn accept(
        &self,
        tx: &mut WriteTx,
        signed: Signed<Envelope>,
        noted: &mut HashSet<String>,
    ) -> Result<Value, ApiError> {
        let env = signed.payload();
        let (known, rows) = tx.message_and_case(env.id, &env.case).await?;
        if let Some(known) = known {
            return match known.receipt {
                Some(receipt) if known.envelope == signed.to_bytes() => {
                    // Idempotent: the same bytes again get the original receipt back.
                    Ok(serde_json::from_slice(&receipt).map_err(|e| internal(&e))?)
                }
                _ => Err(ApiError::new(
                    ErrorCode::ReplayConflict,
                    format!("message {} is already known with different content", env.id),
                )),
            };
        }
        crate::objects::check_incoming(&env.body)?;
        let stream = format!("seq:in:{}", env.from);
        let last = tx.counter(&stream).await?;
        if env.seq <= last {
            return Err(ApiError::new(
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
                return Err(ApiError::new(
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
                        return Err(ApiError::new(
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
        // Receipt times only move forward, even if the system clock steps back. When other
        // processes share the database (PostgreSQL), one of them may have issued a later
        // receipt, so the clock is read inside this (locked) transaction instead.
        let cached = if self.store.shared() {
            None
        } else {
            *self.last_receipt.lock().expect("never poisoned")
        };
        let last_receipt = match cached {
            Some(ms) => ms,
            None => i64::try_from(tx.counter(RECEIPT_CLOCK).await?).unwrap_or(0),
        };
        let received_at = Timestamp::from_unix_millis(now().unix_millis().max(last_receipt))?;
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

    /// Records the partner's answers to a delivered batch, in one transaction: receipts are
    /// stored, final refusals mark their message rejected. The first transient refusal (or
    /// receipt that does not check out) defers the rest of the queue to that partner, so
    /// nothing overtakes it. Returns how many envelopes got a final outcome.
    pub async fn settle(
        &self,
        batch: &[OutboxItem],
        results: Vec<Delivery>,
    ) -> Result<usize, ApiError> {
        let now = now();
        let mut tx = self.store.write().await?;
        let mut touched: Vec<CaseId> = Vec::new();
        let mut noted = HashSet::new();
        let mut settled = 0;
        for (item, delivery) in batch.iter().zip(results) {
            let receipt = match delivery {
                Delivery::Receipt(value) => match self.check_receipt(item, value) {
                    Ok(receipt) => Ok(receipt),
                    Err(e) => {
                        // A receipt that does not check out proves nothing: keep the envelope
                        // queued, so the partner's stored receipt is fetched again later.
                        tracing::error!(message = %item.message_id, to = %item.recipient, error = %e, "partner returned an invalid receipt");
                        tx.defer(&item.recipient, backoff(item.attempts, now), &e.to_string())
                            .await?;
                        break;
                    }
                },
                Delivery::Refused(e) if e.code.is_transient() => {
                    tx.defer(&item.recipient, backoff(item.attempts, now), &e.to_string())
                        .await?;
                    break;
                }
                Delivery::Refused(e) => Err(e),
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
                    tracing::warn!(message = %item.message_id, to = %item.recipient, code = %e.code, reason = %e.message, "partner refused the message for good");
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
        recipient: &PartyId,
        attempts: u32,
        error: &str,
    ) -> Result<(), ApiError> {
        let mut tx = self.store.write().await?;
        tx.defer(recipient, backoff(attempts, now()), error).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The origin line of this node's checkpoints: names the agreement and the party, so a
    /// checkpoint of one log can never pass for another's.
    pub fn origin(&self, party: &PartyId) -> String {
        format!("detente/{}/{party}", self.agreement.id)
    }

    /// Rebuilds every projection (messages, outbox, cases, counters) from the log alone, in
    /// one transaction. Run it with the node stopped. Refusals by partners are not signed
    /// entries, so a message a partner refused is queued again and refused again.
    pub async fn rebuild(&self) -> Result<u64, ApiError> {
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
                let idx = i64::try_from(index).map_err(|e| internal(&e))?;
                let outgoing = direction == "out";
                if kind == "envelope" {
                    let signed = parse_envelope(&bytes)?;
                    let env = signed.payload();
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
                    let receipt =
                        Signed::<Receipt>::parse(&bytes, usize::MAX).map_err(|e| internal(&e))?;
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

    /// Signs a read request to a partner node (see `detente_protocol::read_request_message`).
    pub fn sign_read(&self, time: Timestamp, path_and_query: &str) -> String {
        use base64::Engine as _;
        let message = detente_protocol::read_request_message(&self.party, time, path_and_query);
        base64::engine::general_purpose::STANDARD.encode(self.key.sign(&message))
    }

    /// Records the outcome of checking a partner checkpoint against an earlier or later one;
    /// an inconsistency raises an equivocation alert with both signed notes as evidence.
    pub async fn record_consistency(
        &self,
        checked: &PartnerCheckpoint,
        against: Option<&PartnerCheckpoint>,
        consistent: bool,
    ) -> Result<(), ApiError> {
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
            self.raise_equivocation(
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

    /// Records the outcome of a scheduled pull of `source`.
    pub fn record_pull(&self, source: &PullSource, outcome: &Result<PullReport, PullError>) {
        let mut pulls = self.pulls.lock().expect("never poisoned");
        let at = pulls
            .iter()
            .position(|h| h.party == source.party.as_str() && h.collection == source.collection);
        let history = match at {
            Some(i) => &mut pulls[i],
            None => {
                pulls.push(PullHistory::new(source));
                pulls.last_mut().expect("just pushed")
            }
        };
        history.record(outcome);
    }

    /// What the scheduled TAXII puller did per source since the node started.
    pub fn pulls(&self) -> Vec<PullHistory> {
        self.pulls.lock().expect("never poisoned").clone()
    }

    /// This node's latest committed checkpoint.
    pub fn latest_checkpoint(&self) -> Option<String> {
        self.latest_checkpoint
            .lock()
            .expect("never poisoned")
            .clone()
    }

    /// Signs a checkpoint of the tree if this transaction appended to the log, commits, and
    /// makes that checkpoint the one carried by later messages.
    async fn commit(&self, mut tx: WriteTx, now: Timestamp) -> Result<(), ApiError> {
        let note = if tx.appended() {
            let (size, root) = tx.tree_head();
            let checkpoint =
                Checkpoint::new(&self.origin(&self.party), size, root).map_err(|e| internal(&e))?;
            let note = SignedCheckpoint::sign(checkpoint, &self.key, self.party.as_str())
                .map_err(|e| internal(&e))?
                .to_text();
            tx.insert_checkpoint(size, root, &note, now).await?;
            Some(note)
        } else {
            None
        };
        tx.commit().await?;
        if let Some(note) = note {
            *self.latest_checkpoint.lock().expect("never poisoned") = Some(note);
        }
        Ok(())
    }

    /// Checks a partner's checkpoint note: its origin names the partner's log under this
    /// agreement and one of the partner's pinned keys signed it.
    fn verify_partner_checkpoint(
        &self,
        party: &PartyId,
        note: &str,
    ) -> Result<Checkpoint, ApiError> {
        let invalid = |why: String| {
            ApiError::new(
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
    async fn note_partner_checkpoint(
        &self,
        tx: &mut WriteTx,
        party: &PartyId,
        note: &str,
        at: Timestamp,
        noted: &mut HashSet<String>,
    ) -> Result<(), ApiError> {
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
            self.raise_equivocation(
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

    /// Records an equivocation alert with its signed evidence.
    pub async fn raise_equivocation(
        &self,
        tx: &mut WriteTx,
        party: &PartyId,
        detail: &str,
        evidence: &[&str],
        at: Timestamp,
    ) -> Result<(), ApiError> {
        tracing::error!(party = %party, detail, "EQUIVOCATION: a partner's log contradicts itself");
        tx.insert_alert("equivocation", party, detail, &evidence.join("\n"), at)
            .await?;
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
    ) -> Result<(), ApiError> {
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

    fn check_receipt(&self, item: &OutboxItem, value: Value) -> Result<Signed<Receipt>, ApiError> {
        let receipt = Signed::<Receipt>::from_value(value)?;
        let partner = self.agreement.party(&item.recipient).ok_or_else(|| {
            ApiError::new(ErrorCode::UnknownParty, "recipient left the agreement")
        })?;
        verify_any(&receipt, &partner.public_keys)?;
        if let Some(c) = &receipt.payload().checkpoint {
            self.verify_partner_checkpoint(&item.recipient, c)?;
        }
        let envelope = parse_envelope(&item.envelope)?;
        let r = receipt.payload();
        let env = envelope.payload();
        let matches = r.issuer == item.recipient
            && r.sender == self.party
            && r.envelope_id == env.id
            && r.envelope_hash == envelope.payload_hash()
            && r.seq == env.seq
            && r.case == env.case
            && r.agreement == self.agreement_digest;
        if !matches {
            return Err(ApiError::new(
                ErrorCode::InvalidMessage,
                "receipt does not describe the envelope sent",
            ));
        }
        let skew = self.agreement.terms.clock_skew.duration();
        if r.received_at.add(skew) < env.sent_at || r.received_at > now().add(skew) {
            return Err(ApiError::new(
                ErrorCode::ClockSkew,
                format!(
                    "receipt time {} is implausible for an envelope sent at {}",
                    r.received_at, env.sent_at
                ),
            ));
        }
        Ok(receipt)
    }

    /// Rewrites the projected row of a case from its stored messages.
    async fn refresh_case(
        &self,
        tx: &mut WriteTx,
        case: &CaseId,
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let rows = tx.case_messages(case).await?;
        self.project_case(tx, case, &rows, now).await
    }

    /// Rewrites the projected row of a case from `rows`, all of its messages.
    async fn project_case(
        &self,
        tx: &mut WriteTx,
        case: &CaseId,
        rows: &[MessageRow],
        now: Timestamp,
    ) -> Result<(), ApiError> {
        let pending_out = u32::try_from(
            rows.iter()
                .filter(|r| r.state == MessageState::Pending)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let row = match official_case(&self.agreement, rows)? {
            Some(c) => {
                let timeliness = c.timeliness(&self.agreement.deadlines(c.priority), now);
                let overdue_at = [
                    timeliness.acknowledge,
                    timeliness.first_answer,
                    timeliness.final_answer,
                ]
                .into_iter()
                .filter_map(|m| match m {
                    MilestoneState::Pending { due, .. } => due,
                    _ => None,
                })
                .min();
                CaseRow {
                    id: c.id.clone(),
                    requester: c.requester.clone(),
                    responder: c.responder.clone(),
                    kind: c.kind.as_str().into(),
                    category: c.category.clone(),
                    priority: c.priority.as_str().into(),
                    tlp: c.tlp.label().into(),
                    title: c.title.clone(),
                    status: c.status.as_str().into(),
                    filed_at: Some(c.filed_at),
                    pending_out,
                    overdue_at,
                    derived: serde_json::to_string(&c).map_err(|e| internal(&e))?,
                }
            }
            None => {
                let Some(first) = rows.first() else {
                    return Ok(());
                };
                let env = parse_envelope(&first.envelope)?;
                let Body::Request(r) = &env.payload().body else {
                    return Err(internal(&"a case whose first message is not a request"));
                };
                CaseRow {
                    id: case.clone(),
                    requester: env.payload().from.clone(),
                    responder: env.payload().to.clone(),
                    kind: r.kind.as_str().into(),
                    category: r.category.clone(),
                    priority: r.priority.as_str().into(),
                    tlp: r.tlp.label().into(),
                    title: r.title.clone(),
                    status: if first.state == MessageState::Rejected {
                        "rejected"
                    } else {
                        "pending_delivery"
                    }
                    .into(),
                    filed_at: None,
                    pending_out,
                    overdue_at: None,
                    derived: "null".into(),
                }
            }
        };
        tx.upsert_case(&row, now).await?;
        Ok(())
    }
}

/// Every case in `store` whose request is official, with the index of its request in the
/// responder's log: the input of the figures and the review. Derived from the signed log
/// entries alone (each envelope and the receipt that made it official, with its time), by the
/// same code that derives an exported bundle's cases, so a node and an auditor cannot differ.
/// The message table only says which entries belong to which case.
pub async fn derived_cases(
    store: &Store,
    agreement: &Agreement,
) -> Result<Vec<(Case, u64)>, ApiError> {
    // Cases per page: a few thousand rows of envelopes in memory at a time, and one query
    // per page instead of one per case (which took minutes at a million cases).
    const PAGE: u32 = 1024;
    let mut out = Vec::new();
    let mut after: Option<CaseId> = None;
    loop {
        let rows = store.case_messages_page(after.as_ref(), PAGE).await?;
        let Some(last) = rows.last() else {
            return Ok(out);
        };
        after = Some(last.case_id.clone());
        for case in rows.chunk_by(|a, b| a.case_id == b.case_id) {
            let mut collector = CaseCollector::default();
            for m in case {
                let Some(receipt) = m.receipt.as_deref() else {
                    continue;
                };
                let receipt =
                    Signed::<Receipt>::parse(receipt, usize::MAX).map_err(|e| internal(&e))?;
                collector.envelope(
                    u64::try_from(m.envelope_entry).unwrap_or(0),
                    m.direction == Direction::In,
                    parse_envelope(&m.envelope)?.payload().clone(),
                );
                collector.receipt(receipt.payload());
            }
            out.extend(collector.finish(agreement).map_err(|e| internal(&e))?);
        }
    }
}

/// The counter holding the highest `seq` of this node's envelopes to `party` whose inclusion
/// in `party`'s log has been checked.
pub fn inclusion_counter(party: &PartyId) -> String {
    format!("inclusion:{party}")
}

/// The case as derived from its official (receipted) messages, if its request is official.
pub fn official_case(agreement: &Agreement, rows: &[MessageRow]) -> Result<Option<Case>, ApiError> {
    let official: Vec<OfficialMessage> = rows
        .iter()
        .filter(|r| matches!(r.state, MessageState::Delivered | MessageState::Received))
        .map(|r| {
            Ok(OfficialMessage {
                envelope: parse_envelope(&r.envelope)?.payload().clone(),
                at: r
                    .received_at
                    .ok_or_else(|| internal(&"receipted message without a time"))?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    if official.is_empty() {
        return Ok(None);
    }
    Ok(Some(derive_case(agreement, &official)?))
}

/// Logs an envelope (and, for a received one, the receipt this node issued for it) and
/// records the message; returns its row.
async fn record(
    tx: &mut WriteTx,
    signed: &Signed<Envelope>,
    state: MessageState,
    receipt: Option<&Signed<Receipt>>,
    at: Timestamp,
) -> Result<MessageRow, ApiError> {
    let env = signed.payload();
    let (direction, receipt_direction) = match state {
        MessageState::Received => (Direction::In, Direction::Out),
        _ => (Direction::Out, Direction::In),
    };
    let bytes = signed.to_bytes();
    let envelope_entry = tx
        .append_entry(EntryKind::Envelope, direction, env.id, &bytes, at)
        .await?;
    let receipt_entry = match receipt {
        Some(r) => Some(
            tx.append_entry(
                EntryKind::Receipt,
                receipt_direction,
                env.id,
                &r.to_bytes(),
                at,
            )
            .await?,
        ),
        None => None,
    };
    let row = MessageRow {
        id: env.id,
        direction,
        sender: env.from.clone(),
        recipient: env.to.clone(),
        seq: env.seq,
        case_id: env.case.clone(),
        state,
        envelope: bytes,
        receipt: None,
        received_at: receipt.map(|r| r.payload().received_at),
        rejection: None,
        envelope_entry,
    };
    let hash = signed.payload_hash().to_string();
    tx.insert_message(&row, env.body.message_type().as_str(), &hash, receipt_entry)
        .await?;
    Ok(row)
}

/// When to try again after `attempts` failures: 0.5 s doubling per attempt, at most 5 min.
fn backoff(attempts: u32, now: Timestamp) -> Timestamp {
    let delay_ms = 500i64.saturating_mul(1 << attempts.min(10)).min(300_000);
    now.add(time::Duration::milliseconds(delay_ms))
}

fn parse_envelope(bytes: &[u8]) -> Result<Signed<Envelope>, ApiError> {
    Signed::<Envelope>::parse(bytes, usize::MAX).map_err(|e| internal(&e))
}

fn verify_any<T: detente_protocol::Signable>(
    signed: &Signed<T>,
    keys: &[PublicKey],
) -> Result<(), ApiError> {
    if keys.iter().any(|k| signed.verify(k).is_ok()) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::BadSignature,
            format!(
                "signature does not verify under any key pinned for {}",
                signed.payload().signer()
            ),
        ))
    }
}

fn unknown_case(case: &CaseId, why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::UnknownCase,
        format!("case {case} is not known to this node: {why}"),
    )
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    let id = MessageId::random();
    tracing::error!(error = %e, error_id = %id, "internal error");
    ApiError::new(
        ErrorCode::Internal,
        format!("internal error; the node's log has details under error id {id}"),
    )
}
