//! The cases one party's bundle records, derived exactly as a node derives them from its log,
//! so that anyone holding a bundle can compute the review and compare it, byte for byte,
//! with the review each party's node produces.
//!
//! This derives; it verifies only what the derivation relies on: each envelope's and
//! receipt's signature under the agreement's keys, and that each signs that agreement. Whether the log itself is whole and
//! consistent with the partner's is `detente audit`'s question.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use detente_domain::{Agreement, Case, OfficialMessage, derive_case};
use detente_protocol::{
    Body, CaseId, Digest, Envelope, MessageId, Receipt, SaltedBody, SignedEnvelope, Timestamp,
};

use crate::AuditError;
use crate::bundle::{BundleReader, Decoded, Direction, Header};
use crate::signatures::SignatureBatch;

/// One party's cases, from its bundle.
#[derive(Debug)]
pub struct BundleCases {
    /// The bundle's header: whose log, under which agreement.
    pub header: Header,
    /// Each case whose request is official, with the index of its request envelope in the
    /// responder's log (the number both parties cite, see `Receipt::log_index`).
    pub cases: Vec<(Case, u64)>,
}

#[derive(Debug)]
struct Logged {
    envelope: Envelope,
    index: u64,
    incoming: bool,
}

/// Collects log entries (envelopes and receipts, in any order) and derives the cases they
/// record. A node feeds it one case's entries at a time; a bundle, all of them.
#[derive(Debug, Default)]
pub struct CaseCollector {
    envelopes: HashMap<MessageId, Logged>,
    /// Envelope id -> (official time, the issuer's log index for it).
    receipts: HashMap<MessageId, (Timestamp, Option<u64>)>,
}

impl CaseCollector {
    /// An envelope logged at `index`; `incoming` when this log's party received it.
    pub fn envelope(&mut self, index: u64, incoming: bool, mut envelope: Envelope) {
        lighten(&mut envelope.body);
        envelope.checkpoint = None;
        self.envelopes.insert(
            envelope.id,
            Logged {
                envelope,
                index,
                incoming,
            },
        );
    }

    /// A receipt logged for an envelope: it makes the envelope official at its time.
    pub fn receipt(&mut self, receipt: &Receipt) {
        self.receipts.insert(
            receipt.envelope_id,
            (receipt.received_at, receipt.log_index),
        );
    }

    /// The cases whose request is official, ordered by case id, each with the index of its
    /// request envelope in the responder's log.
    pub fn finish(self, agreement: &Agreement) -> Result<Vec<(Case, u64)>, String> {
        // The envelopes move into their cases rather than being copied: a node's whole log
        // passes through here, and a copy doubled the review's peak memory.
        let Self {
            envelopes,
            receipts,
        } = self;
        let mut placed: HashMap<MessageId, (u64, bool)> = HashMap::with_capacity(envelopes.len());
        let mut by_case: BTreeMap<CaseId, Vec<OfficialMessage>> = BTreeMap::new();
        for (id, logged) in envelopes {
            placed.insert(id, (logged.index, logged.incoming));
            if let Some((at, _)) = receipts.get(&id) {
                by_case
                    .entry(logged.envelope.case.clone())
                    .or_default()
                    .push(OfficialMessage {
                        envelope: logged.envelope,
                        at: *at,
                    });
            }
        }
        let mut cases = Vec::with_capacity(by_case.len());
        for (id, messages) in by_case {
            let case = derive_case(agreement, &messages)
                .map_err(|e| format!("case {id} is not a legal history: {e}"))?;
            let request = case
                .applied
                .first()
                .and_then(|r| placed.get(r).map(|placed| (r, placed)));
            let index = match request {
                Some((_, &(index, true))) => index,
                Some((r, _)) => receipts
                    .get(r)
                    .and_then(|(_, index)| *index)
                    .ok_or_else(|| {
                        format!("the receipt for the request of case {id} names no log index")
                    })?,
                None => return Err(format!("case {id} has no request envelope")),
            };
            cases.push((case, index));
        }
        Ok(cases)
    }
}

/// Drops what a case's figures never read (narratives, observables, objects, attachments,
/// free text), so a whole log's envelopes fit in memory.
fn lighten(body: &mut Body) {
    match body {
        Body::Request(r) => {
            r.narrative.clear();
            r.observables = Vec::new();
            r.attachments = Vec::new();
            r.objects = Vec::new();
            r.attribution = None;
            r.preservation = None;
        }
        Body::Answer(a) => {
            a.text.clear();
            a.observables = Vec::new();
            a.attachments = Vec::new();
            a.objects = Vec::new();
        }
        Body::Acknowledgement(a) => a.note.clear(),
        Body::ClarificationRequest(c) => c.question.clear(),
        Body::Clarification(c) => c.text.clear(),
        Body::Decline(d) => d.text.clear(),
        Body::Withdrawal(w) => w.reason.clear(),
        Body::Rating(r) => r.comment.clear(),
    }
}

/// Reads a bundle and derives its cases. Fails on input that is not a bundle, an entry that
/// does not parse or verify or that signs another agreement than the header's, or a case
/// whose official messages are not a legal history.
pub fn bundle_cases(reader: impl BufRead) -> Result<BundleCases, AuditError> {
    let unusable = |what: String| AuditError::Unusable(what);
    let (head, entries) = BundleReader::open(reader)?;
    let header = head.header;
    let agreement = &header.agreement;
    let digest = agreement.digest();
    let mut collector = CaseCollector::default();
    let mut signatures = SignatureBatch::new(agreement);
    for entry in entries {
        let entry = entry.map_err(|bad| unusable(format!("line {} {}", bad.line, bad.why)))?;
        let bad =
            |what: String| unusable(format!("line {}: entry {} {what}", entry.line, entry.index));
        let foreign = |signed: Digest| {
            bad(format!(
                "is signed under agreement {signed}, not the header's {digest}"
            ))
        };
        match entry.decode().map_err(bad)? {
            Decoded::Envelope(signed) => {
                match &signed {
                    SignedEnvelope::V1(s) => signatures.check(entry.index, s),
                    SignedEnvelope::V2(s) => signatures.check(entry.index, s),
                }
                .map_err(bad)?;
                // The figures read only the facts, which a version 2 header carries: a
                // redacted bundle derives the same cases as a full one, without titles.
                let envelope = match entry.body.as_deref() {
                    Some(bytes) => SaltedBody::parse(bytes, usize::MAX)
                        .map_err(|e| e.to_string())
                        .and_then(|b| signed.open(Some(&b)).map_err(|e| e.to_string()))
                        .map_err(|e| bad(format!("has a body that does not check out: {e}")))?,
                    None => signed.view(),
                };
                if envelope.agreement != digest {
                    return Err(foreign(envelope.agreement));
                }
                collector.envelope(entry.index, entry.direction == Direction::In, envelope);
            }
            Decoded::Receipt(signed) => {
                signatures.check(entry.index, &signed).map_err(bad)?;
                let receipt = signed.payload();
                if receipt.agreement != digest {
                    return Err(foreign(receipt.agreement));
                }
                collector.receipt(receipt);
            }
        }
    }
    if let Some((entry, why)) = signatures.finish().into_iter().next() {
        return Err(unusable(format!("entry {entry}: {why}")));
    }
    let cases = collector.finish(agreement).map_err(unusable)?;
    Ok(BundleCases { header, cases })
}
