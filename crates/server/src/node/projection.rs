//! The tables derived from the log: each message's row as it is logged, and each case's row
//! (status, deadlines) derived from its official messages. Projections can always be rebuilt
//! from the log (`rebuild.rs`); the figures never come from them, only from signed entries.

use detente_audit::CaseCollector;
use detente_domain::{Agreement, Case, OfficialMessage, derive_case};
use detente_protocol::{Body, CaseId, Receipt, SaltedBody, Signed, SignedEnvelope, Timestamp};
use detente_store::{CaseRow, Direction, EntryKind, MessageRow, MessageState, Store, WriteTx};

use super::{Node, NodeError};
use crate::error::ErrorCode;

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
/// responder's log: the input of the figures and the review. Derived from the signed log
/// entries alone (each envelope and the receipt that made it official, with its time), by the
/// same code that derives an exported bundle's cases, so a node and an auditor cannot differ.
/// The message table only says which entries belong to which case.
pub async fn derived_cases(
    store: &Store,
    agreement: &Agreement,
) -> Result<Vec<(Case, u64)>, NodeError> {
    let mut out = Vec::new();
    each_derived_case(store, agreement, |_| {}, |case| out.push(case)).await?;
    Ok(out)
}

/// [`derived_cases`] one case at a time, so a caller can fold each into what it keeps and
/// drop it; `on_receipt` hears every receipt that made a message official (the review cites
/// the checkpoints they carry).
pub async fn each_derived_case(
    store: &Store,
    agreement: &Agreement,
    mut on_receipt: impl FnMut(&Receipt),
    mut on_case: impl FnMut((Case, u64)),
) -> Result<(), NodeError> {
    // Cases per page: a few thousand rows of envelopes in memory at a time, and one query
    // per page instead of one per case (which took minutes at a million cases).
    const PAGE: u32 = 1024;
    let mut after: Option<CaseId> = None;
    loop {
        let rows = store.case_messages_page(after.as_ref(), PAGE).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last.case_id.clone());
        let envelopes = rows
            .iter()
            .map(|m| parse_envelope(&m.envelope))
            .collect::<Result<Vec<_>, _>>()?;
        let titles = request_bodies(store, &envelopes).await?;
        let mut envelopes = envelopes.into_iter();
        for case in rows.chunk_by(|a, b| a.case_id == b.case_id) {
            let mut collector = CaseCollector::default();
            for (m, signed) in case.iter().zip(envelopes.by_ref()) {
                let Some(receipt) = m.receipt.as_deref() else {
                    continue;
                };
                let receipt =
                    Signed::<Receipt>::parse(receipt, usize::MAX).map_err(NodeError::internal)?;
                let envelope = match titles.get(&signed.id()) {
                    Some(body) => signed.open(Some(body)).map_err(NodeError::internal)?,
                    None => signed.view(),
                };
                collector.envelope(
                    u64::try_from(m.envelope_entry).unwrap_or(0),
                    m.direction == Direction::In,
                    envelope,
                );
                collector.receipt(receipt.payload());
                on_receipt(receipt.payload());
            }
            for derived in collector.finish(agreement).map_err(NodeError::internal)? {
                on_case(derived);
            }
        }
    }
}

/// The stored bodies of the version 2 requests among `envelopes`, read at once: the review
/// shows each case's title, which a version 2 header does not carry. A missing body leaves
/// the title empty rather than failing the review.
async fn request_bodies(
    store: &Store,
    envelopes: &[SignedEnvelope],
) -> Result<std::collections::HashMap<detente_protocol::MessageId, SaltedBody>, NodeError> {
    let ids: Vec<_> = envelopes
        .iter()
        .filter(|e| {
            e.body_digest().is_some()
                && e.facts().message_type() == detente_protocol::MessageType::Request
        })
        .map(SignedEnvelope::id)
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
