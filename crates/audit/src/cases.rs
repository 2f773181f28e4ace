//! The cases one party's bundle records, derived exactly as a node derives them from its log,
//! so that anyone holding a bundle can compute the review and compare it, byte for byte,
//! with the review each party's node produces.
//!
//! This derives; it verifies only what the derivation relies on: each envelope's and
//! receipt's signature under the agreement's keys. Whether the log itself is whole and
//! consistent with the partner's is `detente audit`'s question.

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use detente_domain::{Case, OfficialMessage, derive_case};
use detente_protocol::{CaseId, Envelope, MessageId, Receipt, Signed, Timestamp};

use crate::audit::verify_by;
use crate::{AuditError, BundleLine, Header};

/// One party's cases, from its bundle.
#[derive(Debug)]
pub struct BundleCases {
    /// The bundle's header: whose log, under which agreement.
    pub header: Header,
    /// Each case whose request is official, with the index of its request envelope in the
    /// responder's log (the number both parties cite, see `Receipt::log_index`).
    pub cases: Vec<(Case, u64)>,
}

struct Logged {
    envelope: Envelope,
    index: u64,
    incoming: bool,
}

/// Reads a bundle and derives its cases. Fails on input that is not a bundle, an entry that
/// does not parse or verify, or a case whose official messages are not a legal history.
pub fn bundle_cases(reader: impl BufRead) -> Result<BundleCases, AuditError> {
    let unusable = |what: String| AuditError::Unusable(what);
    let mut lines = reader.lines();
    let first = lines
        .next()
        .ok_or_else(|| unusable("the bundle is empty".into()))?
        .map_err(|e| unusable(e.to_string()))?;
    let header = match serde_json::from_str::<BundleLine>(&first) {
        Ok(BundleLine::Header(h)) => h,
        _ => return Err(unusable("the first line is not a bundle header".into())),
    };
    let agreement = &header.agreement;
    let mut envelopes: HashMap<MessageId, Logged> = HashMap::new();
    // Envelope id -> (official time, the issuer's log index for it).
    let mut receipts: HashMap<MessageId, (Timestamp, Option<u64>)> = HashMap::new();
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| unusable(e.to_string()))?;
        let bad = |what: String| unusable(format!("line {}: {what}", n + 2));
        let BundleLine::Entry {
            index,
            kind,
            direction,
            data,
        } = serde_json::from_str::<BundleLine>(&line).map_err(|e| bad(e.to_string()))?
        else {
            continue;
        };
        match kind.as_str() {
            "envelope" => {
                let signed =
                    Signed::<Envelope>::from_value(data).map_err(|e| bad(e.to_string()))?;
                verify_by(agreement, &signed).map_err(|e| bad(format!("entry {index}: {e}")))?;
                let envelope = signed.payload().clone();
                envelopes.insert(
                    envelope.id,
                    Logged {
                        envelope,
                        index,
                        incoming: direction == "in",
                    },
                );
            }
            "receipt" => {
                let signed = Signed::<Receipt>::from_value(data).map_err(|e| bad(e.to_string()))?;
                verify_by(agreement, &signed).map_err(|e| bad(format!("entry {index}: {e}")))?;
                let r = signed.payload();
                receipts.insert(r.envelope_id, (r.received_at, r.log_index));
            }
            other => return Err(bad(format!("entry {index} has unknown kind {other:?}"))),
        }
    }
    let mut by_case: BTreeMap<CaseId, Vec<OfficialMessage>> = BTreeMap::new();
    for (id, logged) in &envelopes {
        if let Some((at, _)) = receipts.get(id) {
            by_case
                .entry(logged.envelope.case.clone())
                .or_default()
                .push(OfficialMessage {
                    envelope: logged.envelope.clone(),
                    at: *at,
                });
        }
    }
    let mut cases = Vec::with_capacity(by_case.len());
    for (id, messages) in by_case {
        let case = derive_case(agreement, &messages)
            .map_err(|e| unusable(format!("case {id} is not a legal history: {e}")))?;
        let request = case.applied.first().and_then(|r| envelopes.get(r));
        let index = match request {
            Some(r) if r.incoming => r.index,
            Some(r) => receipts
                .get(&r.envelope.id)
                .and_then(|(_, index)| *index)
                .ok_or_else(|| {
                    unusable(format!(
                        "the receipt for the request of case {id} names no log index"
                    ))
                })?,
            None => return Err(unusable(format!("case {id} has no request envelope"))),
        };
        cases.push((case, index));
    }
    Ok(BundleCases { header, cases })
}
