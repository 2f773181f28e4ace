//! Sending: a new request or the next message of a case is checked against the case as this
//! node sees it, sealed, logged and queued for the outbox, with group commit: concurrent
//! senders share one transaction and one fsync.

use std::sync::Arc;

use detente_domain::Case;
use detente_people::{AgencyId, trail::Record};
use detente_protocol::{
    Body, CaseId, Envelope, MessageId, PartyId, RequestBody, Signable, SignedEnvelope, Timestamp,
    WIRE_VERSION,
};
use detente_store::{MessageRow, MessageState, WriteTx};
use tokio::sync::oneshot;

use super::{
    Node, NodeError, now,
    projection::{official_case, parse_envelope, record},
};
use crate::error::ErrorCode;

/// An outgoing message and where to send the answer once it is committed.
pub(super) type Queued = (Outgoing, oneshot::Sender<Result<Sent, NodeError>>);

/// An outgoing message waiting for the next group commit.
pub(super) struct Outgoing {
    /// What to send.
    what: What,
    /// Who asked for it.
    actor: Actor,
}

/// What an outgoing message is.
enum What {
    /// A new request, opening a case.
    Request { to: PartyId, request: RequestBody },
    /// The next message of an existing case.
    FollowUp { case: CaseId, body: Body },
}

/// Who asked the node to send: named in the trail with what was sent; a new case is routed
/// to the actor's agency (without one, it stays with the duty agency).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// The user's name; empty for the node's own token.
    pub user: String,
    /// The agency the user acts for.
    pub agency: Option<AgencyId>,
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

impl Node {
    /// Files a new request to `to`, opening a case.
    pub async fn file_request(
        self: &Arc<Self>,
        to: PartyId,
        request: RequestBody,
        actor: Actor,
    ) -> Result<Sent, NodeError> {
        if to == self.party || self.agreement.party(&to).is_none() {
            return Err(NodeError::refused(
                ErrorCode::UnknownParty,
                format!(
                    "{to} is not a partner under agreement {}",
                    self.agreement.id
                ),
            ));
        }
        self.submit(Outgoing {
            what: What::Request { to, request },
            actor,
        })
        .await
    }

    /// Sends a follow-up message (acknowledgement, answer, ...) in an existing case.
    pub async fn send(
        self: &Arc<Self>,
        case: &CaseId,
        body: Body,
        actor: Actor,
    ) -> Result<Sent, NodeError> {
        self.submit(Outgoing {
            what: What::FollowUp {
                case: case.clone(),
                body,
            },
            actor,
        })
        .await
    }

    /// Commits an outgoing message with group commit: whoever takes the write lock next
    /// commits everything queued so far in one transaction. A refused message writes nothing
    /// (see `seal_and_queue`), so it does not disturb the others. Every caller gets its answer
    /// only after the commit that made its message durable.
    async fn submit(self: &Arc<Self>, op: Outgoing) -> Result<Sent, NodeError> {
        let (done, answer) = oneshot::channel();
        self.queue
            .lock()
            .expect("the queue lock is never held across a panic")
            .push((op, done));
        // The commit runs in its own task, so a caller that goes away (a dropped HTTP
        // connection) cannot cancel a transaction that carries other callers' messages.
        let node = Arc::clone(self);
        let committer = tokio::spawn(async move { node.commit_queued().await });
        match committer.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "group commit failed"),
            Err(e) => tracing::error!(error = %e, "group commit task failed"),
        }
        answer.await.map_err(|_| {
            NodeError::internal("the transaction carrying the message failed (see the error above)")
        })?
    }

    async fn commit_queued(&self) -> Result<(), NodeError> {
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
            if matches!(&result, Err(e) if e.is_internal()) {
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
    ) -> Result<Sent, NodeError> {
        let actor = op.actor;
        match op.what {
            What::Request { to, request } => {
                let year = u16::try_from(now.datetime().year()).unwrap_or(0);
                // The number is taken only once the request is sealed: a request refused here
                // (terms, TLP) must leave no gap an auditor would have to explain.
                let counter = format!("case:{year}");
                let next = tx.counter(&counter).await? + 1;
                let number = u32::try_from(next)
                    .map_err(|_| NodeError::internal("case numbers for this year are exhausted"))?;
                let case = CaseId::new(self.party.clone(), year, number);
                let sent = self
                    .seal_and_queue(
                        tx,
                        case,
                        to,
                        None,
                        Body::Request(request),
                        now,
                        Vec::new(),
                        &actor,
                    )
                    .await?;
                tx.set_counter(&counter, next).await?;
                if let Some(agency) = &actor.agency {
                    tx.assign_case(&sent.case, agency, now).await?;
                }
                Ok(sent)
            }
            What::FollowUp { case, body } => {
                let rows = tx.case_messages(&case).await?;
                let official = official_case(&self.agreement, &rows)?.ok_or_else(|| {
                    super::projection::unknown_case(&case, "the request has not been delivered yet")
                })?;
                // Check against what this node believes now: the official case plus its own
                // messages still on their way, applied in order.
                let mut predicted = official.clone();
                for row in rows.iter().filter(|r| r.state == MessageState::Pending) {
                    let env = parse_envelope(&row.envelope)?;
                    predicted.apply(&env.view(), now)?;
                }
                predicted.next_status(&self.party, &body)?;
                let to = if official.requester == self.party {
                    official.responder.clone()
                } else {
                    official.requester.clone()
                };
                let in_reply_to = official.latest_from_other_side(&self.party)?;
                self.seal_and_queue(tx, case, to, in_reply_to, body, now, rows, &actor)
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
        actor: &Actor,
    ) -> Result<Sent, NodeError> {
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
            agency: actor.agency.as_ref().map(|a| a.to_string()),
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
        // The agreement says which wire version both parties seal in; under version 2 the
        // log gets the signed header and the body is stored beside it.
        let (signed, body) = SignedEnvelope::seal(envelope, self.agreement.protocol, &self.key)?;
        let env = signed.view();
        let row = record(tx, &signed, body.as_ref(), MessageState::Pending, None, now).await?;
        tx.enqueue(env.id, &to, env.seq, now).await?;
        rows.push(row);
        self.project_case(tx, &case, &rows, now).await?;
        tracing::info!(case = %case, message = %env.id, to = %to, seq = env.seq, kind = env.body.message_type().as_str(), "message committed to outbox");
        // Who asked for it, in the trail, in the same transaction as the message.
        let mut record = Record {
            seq: 0,
            at_ms: now.unix_millis(),
            user: actor.user.clone(),
            agency: actor
                .agency
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            action: format!("message.{}", env.body.message_type().as_str()),
            case: case.to_string(),
            object: env.id.to_string(),
            detail: String::new(),
        };
        tx.append_trail(&mut record).await?;
        Ok(Sent {
            case,
            message: env.id,
            seq: env.seq,
        })
    }
}
