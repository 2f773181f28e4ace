//! The tables derived from the log: each message's row as it is logged, and each case's row
//! (status, deadlines) derived from its official messages. Projections can always be rebuilt
//! from the log (`rebuild.rs`); the figures never come from them, only from signed entries.

use detente_audit::CaseCollector;
use detente_domain::{Agreement, Case, OfficialMessage, derive_case};
use detente_protocol::{Body, CaseId, Envelope, PartyId, Receipt, Signed, Timestamp};
use detente_store::{CaseRow, Direction, EntryKind, MessageRow, MessageState, Store, WriteTx};

use super::{Node, NodeError, now};
use crate::error::ErrorCode;
use crate::log_check::{LogProblem, each_verified_entry};

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
            Some(c) => {
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
                let env = parse_envelope(&first.envelope)?;
                let Body::Request(r) = &env.payload().body else {
                    return Err(NodeError::internal(
                        "a case whose first message is not a request",
                    ));
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
    let mut collector = CaseCollector::default();
    let mut unreadable: Option<NodeError> = None;
    let verified = each_verified_entry(store, agreement, party, |index, kind, direction, bytes| {
        if unreadable.is_some() {
            return;
        }
        let read = match kind {
            "envelope" => parse_envelope(bytes).map(|signed| {
                collector.envelope(index, direction == "in", signed.payload().clone());
            }),
            "receipt" => Signed::<Receipt>::parse(bytes, usize::MAX)
                .map(|signed| {
                    collector.receipt(signed.payload());
                    on_receipt(signed.payload());
                })
                .map_err(NodeError::internal),
            other => Err(NodeError::internal(format!(
                "log entry {index} is of kind {other:?}, which no node logs"
            ))),
        };
        unreadable = read.err();
    })
    .await?;
    if let Err(problem) = verified {
        return Err(log_damaged(&problem));
    }
    // An entry that hashes into the signed tree but does not parse was signed so by this node.
    if let Some(e) = unreadable {
        return Err(e);
    }
    for derived in collector.finish(agreement).map_err(NodeError::internal)? {
        on_case(derived);
    }
    Ok(())
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
                envelope: parse_envelope(&r.envelope)?.payload().clone(),
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
    signed: &Signed<Envelope>,
    state: MessageState,
    receipt: Option<&Signed<Receipt>>,
    at: Timestamp,
) -> Result<MessageRow, NodeError> {
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

/// An envelope as this node logged it. The node wrote it, so one that does not parse means
/// the database was changed behind the node's back.
pub(super) fn parse_envelope(bytes: &[u8]) -> Result<Signed<Envelope>, NodeError> {
    Signed::<Envelope>::parse(bytes, usize::MAX).map_err(NodeError::internal)
}

/// The refusal for a message about a case this node does not hold.
pub(super) fn unknown_case(case: &CaseId, why: &str) -> NodeError {
    NodeError::refused(
        ErrorCode::UnknownCase,
        format!("case {case} is not known to this node: {why}"),
    )
}
