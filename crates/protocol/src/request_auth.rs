//! Signed read requests between nodes: a partner node proves who is asking for log proofs
//! or entries by signing the request line with its Ed25519 key.
//!
//! The signed message is `detente/v1/read\0<party>\n<time>\n<path and query>`, with the time in
//! the wire timestamp form. The receiver checks the signature against the party's pinned keys
//! and the time against the agreed clock skew, so a captured request is useless elsewhere and
//! soon useless everywhere.

use crate::{PartyId, Timestamp};

/// Header naming the requesting party.
pub const PARTY_HEADER: &str = "x-detente-party";
/// Header carrying the request time.
pub const TIME_HEADER: &str = "x-detente-time";
/// Header carrying the base64 signature.
pub const SIGNATURE_HEADER: &str = "x-detente-signature";

const CONTEXT: &[u8] = b"detente/v1/read\0";

/// The bytes a read request's signature covers.
pub fn read_request_message(party: &PartyId, time: Timestamp, path_and_query: &str) -> Vec<u8> {
    let mut m = CONTEXT.to_vec();
    m.extend_from_slice(format!("{party}\n{time}\n{path_and_query}").as_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_message_binds_party_time_and_path() {
        let us = PartyId::parse("US").expect("valid");
        let t = Timestamp::parse("2026-11-27T03:16:20.000Z").expect("valid");
        let m = read_request_message(&us, t, "/federation/v1/log/checkpoint");
        assert_eq!(
            m,
            b"detente/v1/read\0US\n2026-11-27T03:16:20.000Z\n/federation/v1/log/checkpoint"
                .to_vec()
        );
        let other = read_request_message(&us, t, "/federation/v1/log/entries?start=0&end=9");
        assert_ne!(m, other);
    }
}
