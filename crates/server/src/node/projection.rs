//! The tables derived from the log: each message's row as it is logged, and each case's row
//! (status, deadlines) derived from its official messages. Projections can always be rebuilt
//! from the log (`rebuild.rs`); the figures never come from them, only from signed entries.

use detente_audit::CaseCollector;
use detente_domain::{Agreement, Case, OfficialMessage, derive_case};
use detente_protocol::{
    Body, CaseId, PartyId, Receipt, SaltedBody, Signed, SignedEnvelope, Timestamp,
};
use detente_store::{CaseRow, Direction, EntryKind, MessageRow, MessageState, Store, WriteTx};

use super::{Node, NodeError, now};
use crate::error::ErrorCode;
use crate::log_check::{LogProblem, VerifiedEntries, each_verified_entry};

impl Node {
    /// Rewrites the projected row of a case from its stored messages.
    pub(super) async fn refresh_case(
        &self,
        tx: &mut WriteTx,
        case: &CaseId,
        now: Timestamp,
    ) -> Result<(), NodeError> {
        let rows = tx.case_messages(case).await?;
        self.project_case(tx, case, &rows, now).await
    }

    /// Rewrites the projected row of a case from `rows`, all of its messages.
    pub(super) async fn project_case(
        &self,
        tx: &mut WriteTx,
        case: &CaseId,
        rows: &[MessageRow],
        now: Timestamp,
    ) -> Result<(), NodeError> {
        let pending_out = u32::try_from(
            rows.iter()
                .filter(|r| r.state == MessageState::Pending)
                .count(),
        )
        .unwrap_or(u32::MAX);
        let row = match official_case(&self.agreement, rows)? {
            Some(mut c) => {
                if c.title.is_empty() {
                    // Derived from a version 2 header, which has no title: read it from the body.
                    c.title = request_title(tx, rows).await?;
                }
                // The domain's one definition of overdue: listed as overdue from this instant.
                let overdue_at = c.overdue_from(&self.agreement.deadlines(c.priority));
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
                    derived: serde_json::to_string(&c).map_err(NodeError::internal)?,
                }
            }
            None => {
                let Some(first) = rows.first() else {
                    return Ok(());
                };
                let env = open_envelope(tx, &first.envelope).await?;
                let Body::Request(r) = &env.body else {
                    return Err(NodeError::internal(
                        "a case whose first message is not a request",
                    ));
                };
                CaseRow {
                    id: case.clone(),
                    requester: env.from.clone(),
                    responder: env.to.clone(),
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
/// responder's log: the input of the figures and the review. See [`each_derived_case`].
pub async fn derived_cases(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
) -> Result<Vec<(Case, u64)>, NodeError> {
    let mut out = Vec::new();
    each_derived_case(store, agreement, party, |_| {}, |case| out.push(case)).await?;
    Ok(out)
}

/// Derives the cases of `party`'s log from its entries alone (each envelope and the receipt
/// that made it official, with its time), by the audit's own `CaseCollector`, so a node and an
/// auditor cannot differ; hands each to `on_case`. `on_receipt` hears every logged receipt (the
/// review cites the checkpoints they carry).
///
/// The entries are those covered by the node's latest signed checkpoint, read in one pass
/// that checks them against the tree and the signed root ([`each_verified_entry`]): official
/// figures never rest on the `messages` projection, which nobody re-checks. A log that does
/// not match is refused with `log_damaged`, naming the first bad entry; nothing is handed to
/// `on_case` then. Memory: one chunk of entries at a time, plus each message without its
/// free text (as the audit keeps them).
pub async fn each_derived_case(
    store: &Store,
    agreement: &Agreement,
    party: &PartyId,
    mut on_receipt: impl FnMut(&Receipt),
    mut on_case: impl FnMut((Case, u64)),
) -> Result<(), NodeError> {
    let mut entries = match VerifiedEntries::open(store, agreement, party).await? {
        Ok(entries) => entries,
        Err(problem) => return Err(log_damaged(&problem)),
    };
    let mut collector = CaseCollector::default();
    loop {
        let chunk = match entries.next_chunk().await? {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(problem) => return Err(log_damaged(&problem)),
        };
        // An entry that hashes into the signed tree but does not parse was signed so by this
        // node: a fault inside it, not damage.
        let mut parsed = Vec::with_capacity(chunk.len());
        for (index, kind, direction, bytes) in &chunk {
            parsed.push(match kind.as_str() {
                "envelope" => Logged::Envelope(*index, direction == "in", parse_envelope(bytes)?),
                "receipt" => Logged::Receipt(
                    Signed::<Receipt>::parse(bytes, usize::MAX).map_err(NodeError::internal)?,
                ),
                other => {
                    return Err(NodeError::internal(format!(
                        "log entry {index} is of kind {other:?}, which no node logs"
                    )));
                }
            });
        }
        // Version 2 requests carry their titles in bodies stored beside the log: one read
        // for the chunk.
        let envelopes: Vec<&SignedEnvelope> = parsed
            .iter()
            .filter_map(|p| match p {
                Logged::Envelope(_, _, e) => Some(e),
                Logged::Receipt(_) => None,
            })
            .collect();
        let titles = request_bodies(store, &envelopes).await?;
        for entry in parsed {
            match entry {
                Logged::Envelope(index, incoming, signed) => {
                    let envelope = match titles.get(&signed.id()) {
                        Some(body) => signed.open(Some(body)).map_err(NodeError::internal)?,
                        None => signed.view(),
                    };
                    collector.envelope(index, incoming, envelope);
                }
                Logged::Receipt(receipt) => {
                    collector.receipt(receipt.payload());
                    on_receipt(receipt.payload());
                }
            }
        }
    }
    for derived in collector.finish(agreement).map_err(NodeError::internal)? {
        on_case(derived);
    }
    Ok(())
}

/// A logged entry, parsed.
// One value per entry of a chunk, made and taken apart at once.
#[allow(clippy::large_enum_variant)]
enum Logged {
    /// An envelope: its index, whether it came in, and the envelope.
    Envelope(u64, bool, SignedEnvelope),
    /// A receipt.
    Receipt(Signed<Receipt>),
}

/// The refusal of official figures over a log that does not match its signed checkpoint;
/// its message is also the detail of the alert raised (see [`Node::raise_log_damaged`]).
pub fn log_damaged(problem: &LogProblem) -> NodeError {
    NodeError::refused(
        ErrorCode::LogDamaged,
        format!(
            "this node's log was changed behind its back ({problem}), so it gives no official \
             figures: restore the database from a backup, or run `detente log verify` for \
             details"
        ),
    )
}

impl Node {
    /// Checks every entry covered by the latest signed checkpoint against it (as the review
    /// does) and raises a `log_damaged` alert if they differ, so that `status` shows damage
    /// in the middle of the log, which the start-up check does not read, without waiting for
    /// someone to ask for the review. `serve` runs it once in the background.
    pub async fn check_signed_entries(&self) -> Result<(), NodeError> {
        let checked =
            each_verified_entry(&self.store, &self.agreement, &self.party, |_, _, _, _| {}).await?;
        if let Err(problem) = checked
            && let NodeError::Refused { message, .. } = log_damaged(&problem)
        {
            self.raise_log_damaged(&message).await?;
        }
        Ok(())
    }

    /// Raises a `log_damaged` alert for the operator (once per distinct problem), so that
    /// `status` shows it.
    pub async fn raise_log_damaged(&self, detail: &str) -> Result<(), NodeError> {
        let raised = self.store.alerts().await?;
        if raised
            .iter()
            .any(|a| a.kind == LOG_DAMAGED_ALERT && a.detail == detail)
        {
            return Ok(());
        }
        tracing::error!(
            detail,
            "LOG DAMAGED: the log no longer matches the checkpoint this node signed"
        );
        let evidence = self.store.latest_checkpoint().await?.unwrap_or_default();
        let mut tx = self.store.write().await?;
        tx.insert_alert(LOG_DAMAGED_ALERT, &self.party, detail, &evidence, now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The stored bodies of the version 2 requests among `envelopes`, read at once: the review
/// shows each case's title, which a version 2 header does not carry. A missing body leaves
/// the title empty rather than failing the review.
async fn request_bodies(
    store: &Store,
    envelopes: &[&SignedEnvelope],
) -> Result<std::collections::HashMap<detente_protocol::MessageId, SaltedBody>, NodeError> {
    let ids: Vec<_> = envelopes
        .iter()
        .filter(|e| {
            e.body_digest().is_some()
                && e.facts().message_type() == detente_protocol::MessageType::Request
        })
        .map(|e| e.id())
        .collect();
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    store
        .bodies(&ids)
        .await?
        .into_iter()
        .map(|(id, row)| Ok((id, stored_body(Some(row))?)))
        .collect()
}

/// The kind of the alert raised when the node's own log does not match what it signed.
pub const LOG_DAMAGED_ALERT: &str = "log_damaged";

/// The case as derived from its official (receipted) messages, if its request is official.
pub fn official_case(
    agreement: &Agreement,
    rows: &[MessageRow],
) -> Result<Option<Case>, NodeError> {
    let official: Vec<OfficialMessage> = rows
        .iter()
        .filter(|r| matches!(r.state, MessageState::Delivered | MessageState::Received))
        .map(|r| {
            Ok(OfficialMessage {
                envelope: parse_envelope(&r.envelope)?.view(),
                at: r
                    .received_at
                    .ok_or_else(|| NodeError::internal("receipted message without a time"))?,
            })
        })
        .collect::<Result<_, NodeError>>()?;
    if official.is_empty() {
        return Ok(None);
    }
    Ok(Some(derive_case(agreement, &official)?))
}

/// Logs an envelope (and, for a received one, the receipt this node issued for it) and
/// records the message; returns its row.
pub(super) async fn record(
    tx: &mut WriteTx,
    signed: &SignedEnvelope,
    body: Option<&SaltedBody>,
    state: MessageState,
    receipt: Option<&Signed<Receipt>>,
    at: Timestamp,
) -> Result<MessageRow, NodeError> {
    let env = signed.view();
    let (direction, receipt_direction) = match state {
        MessageState::Received => (Direction::In, Direction::Out),
        _ => (Direction::Out, Direction::In),
    };
    let bytes = signed.to_bytes();
    if let (Some(body), Some(digest)) = (body, signed.body_digest()) {
        tx.insert_body(env.id, &digest, &body.to_bytes()).await?;
    }
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

/// An envelope as this node logged it. The node wrote it, so one that does not parse means
/// the database was changed behind the node's back.
pub(super) fn parse_envelope(bytes: &[u8]) -> Result<SignedEnvelope, NodeError> {
    SignedEnvelope::parse(bytes, usize::MAX).map_err(NodeError::internal)
}

/// A logged envelope with its real body: version 1 carries it; for version 2 it is read
/// from the bodies table and checked against the signed header's commitment.
pub async fn open_envelope(
    tx: &mut WriteTx,
    bytes: &[u8],
) -> Result<detente_protocol::Envelope, NodeError> {
    let signed = parse_envelope(bytes)?;
    let body = match signed.body_digest() {
        Some(_) => Some(stored_body(tx.body(signed.id()).await?)?),
        None => None,
    };
    signed.open(body.as_ref()).map_err(NodeError::internal)
}

/// A stored body, parsed. The node checked it on arrival or wrote it, so one that does not
/// parse (or is missing) means the database was changed behind the node's back.
pub fn stored_body(
    row: Option<(detente_protocol::Digest, Vec<u8>)>,
) -> Result<SaltedBody, NodeError> {
    let (_, bytes) =
        row.ok_or_else(|| NodeError::internal("a version 2 message without its body"))?;
    SaltedBody::parse(&bytes, usize::MAX).map_err(NodeError::internal)
}

/// The title of a case's request, from its body.
async fn request_title(tx: &mut WriteTx, rows: &[MessageRow]) -> Result<String, NodeError> {
    for row in rows {
        let env = parse_envelope(&row.envelope)?;
        if env.facts().message_type() == detente_protocol::MessageType::Request
            && let Body::Request(r) = open_envelope(tx, &row.envelope).await?.body
        {
            return Ok(r.title);
        }
    }
    Ok(String::new())
}

/// The refusal for a message about a case this node does not hold.
pub(super) fn unknown_case(case: &CaseId, why: &str) -> NodeError {
    NodeError::refused(
        ErrorCode::UnknownCase,
        format!("case {case} is not known to this node: {why}"),
    )
}
