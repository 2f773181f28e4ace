//! Selective disclosure: one message's body, handed to an auditor apart from the bundles.
//!
//! A disclosure names the party whose log holds the message and the entry, and carries the
//! signed version 2 header exactly as logged and the body with its salt:
//!
//! ```text
//! {"disclosure":{"party":"US","entry":12,"header":{"envelope":{...},"signature":"..."},
//!  "body":{"salt":"...","body":{...}}}}
//! ```
//!
//! [`check_disclosure`] accepts it only if the header is the one that party's bundle logged at
//! that entry, its signature verifies under the pinned agreement's key for its sender, and
//! the body is the one the header commits to (a body one byte off has another digest) and
//! says the header's facts.

use std::io::BufRead;

use detente_domain::Agreement;
use detente_protocol::{
    Envelope, PartyId, ProtocolError, SaltedBody, SignedEnvelope, canonical_bytes, parse_strict,
};
use serde_json::{Value, json};

use crate::bundle::{BundleReader, EntryKind};

/// Largest disclosure file read, in bytes: a body is at most a message's size.
const MAX_DISCLOSURE: usize = 4 * 1024 * 1024;

/// One disclosed body with the signed header that commits to it.
#[derive(Debug, Clone)]
pub struct Disclosure {
    /// The party whose log holds the message.
    pub party: PartyId,
    /// The message's entry in that log.
    pub entry: u64,
    /// The signed version 2 header, as logged.
    pub envelope: SignedEnvelope,
    /// The body with its salt.
    pub body: SaltedBody,
}

impl Disclosure {
    /// The file's bytes: canonical JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical_bytes(&json!({"disclosure": {
            "party": self.party,
            "entry": self.entry,
            "header": self.envelope.to_value(),
            "body": self.body.to_value(),
        }}))
    }

    /// Reads a disclosure file. Checks its shape only; [`check_disclosure`] checks the rest.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let shape = |e: ProtocolError| format!("is not a disclosure: {e}");
        let mut value = parse_strict(bytes, MAX_DISCLOSURE).map_err(shape)?;
        let Some(Value::Object(mut d)) = value.get_mut("disclosure").map(Value::take) else {
            return Err("is not a disclosure: no \"disclosure\" object".into());
        };
        let party = d
            .get("party")
            .and_then(Value::as_str)
            .map(PartyId::parse)
            .transpose()
            .map_err(shape)?
            .ok_or("is not a disclosure: no \"party\"")?;
        let entry = d
            .get("entry")
            .and_then(Value::as_u64)
            .ok_or("is not a disclosure: no \"entry\"")?;
        let envelope = d
            .remove("header")
            .ok_or_else(|| "is not a disclosure: no \"header\"".to_owned())
            .and_then(|h| SignedEnvelope::from_value(h).map_err(shape))?;
        let body = d
            .remove("body")
            .ok_or_else(|| "is not a disclosure: no \"body\"".to_owned())
            .and_then(|b| SaltedBody::from_value(b).map_err(shape))?;
        Ok(Self {
            party,
            entry,
            envelope,
            body,
        })
    }
}

/// Checks `disclosure` against `agreement` (the pinned one) and `bundle`, the bundle of the
/// party it names; returns the envelope with its disclosed body.
pub fn check_disclosure(
    disclosure: &Disclosure,
    agreement: &Agreement,
    bundle: impl BufRead,
) -> Result<Envelope, String> {
    let d = disclosure;
    let SignedEnvelope::V2(header) = &d.envelope else {
        return Err("discloses a version 1 envelope, which carries its own body".into());
    };
    let h = header.payload();
    if h.agreement != agreement.digest() {
        return Err(format!(
            "the header is signed under agreement {}, not the pinned {}",
            h.agreement,
            agreement.digest()
        ));
    }
    let keys = agreement
        .party(&h.from)
        .map(|p| p.public_keys.as_slice())
        .unwrap_or_default();
    if !keys.iter().any(|k| d.envelope.verify(k).is_ok()) {
        return Err(format!(
            "the header's signature does not verify under a key of {}",
            h.from
        ));
    }
    let envelope = d.envelope.open(Some(&d.body)).map_err(|e| e.to_string())?;
    let (head, entries) = BundleReader::open(bundle).map_err(|e| e.to_string())?;
    if head.header.party != d.party {
        return Err(format!(
            "names {}'s log, but the bundle given is {}'s",
            d.party, head.header.party
        ));
    }
    let logged = d.envelope.to_bytes();
    for entry in entries.flatten() {
        if entry.index == d.entry {
            if entry.kind == EntryKind::Envelope && entry.bytes == logged {
                return Ok(envelope);
            }
            break;
        }
    }
    Err(format!(
        "{}'s bundle does not hold this header at entry {}",
        d.party, d.entry
    ))
}
