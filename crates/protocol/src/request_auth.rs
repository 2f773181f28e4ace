//! Signed HTTP requests between nodes: a partner node proves who is asking (for log proofs,
//! entries, indicators, TAXII) by signing the whole request with its Ed25519 key.
//!
//! The signed message is
//!
//! ```text
//! detente/v1/request\0<party>\n<time>\n<nonce>\n<METHOD>\n<path and query>\n<hex SHA-256 of the body>
//! ```
//!
//! with the time in the wire timestamp form and a fresh random nonce per request. The
//! receiver checks the signature against the party's pinned keys, the time against the agreed
//! clock skew, and refuses a nonce it has seen within that window. So a captured request is
//! useless as another method, path or body, useless twice, and soon useless everywhere.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use sha2::{Digest as _, Sha256};

use crate::{PartyId, SecretKey, Timestamp};

/// Header naming the requesting party.
pub const PARTY_HEADER: &str = "x-detente-party";
/// Header carrying the request time.
pub const TIME_HEADER: &str = "x-detente-time";
/// Header carrying the request's nonce.
pub const NONCE_HEADER: &str = "x-detente-nonce";
/// Header carrying the base64 signature.
pub const SIGNATURE_HEADER: &str = "x-detente-signature";

const CONTEXT: &[u8] = b"detente/v1/request\0";

/// What a signed request's signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// The party asking.
    pub party: &'a PartyId,
    /// When it asked.
    pub time: Timestamp,
    /// A value never used twice by this party within the clock skew.
    pub nonce: &'a str,
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The path with its query string, as sent.
    pub path_and_query: &'a str,
    /// The request body (empty for a GET).
    pub body: &'a [u8],
}

impl RequestLine<'_> {
    /// The bytes the signature covers.
    pub fn message(&self) -> Vec<u8> {
        let mut m = CONTEXT.to_vec();
        m.extend_from_slice(
            format!(
                "{}\n{}\n{}\n{}\n{}\n{}",
                self.party,
                self.time,
                self.nonce,
                self.method,
                self.path_and_query,
                hex::encode(Sha256::digest(self.body))
            )
            .as_bytes(),
        );
        m
    }

    /// The four headers of the request signed with `key`.
    pub fn sign(&self, key: &SecretKey) -> [(&'static str, String); 4] {
        [
            (PARTY_HEADER, self.party.to_string()),
            (TIME_HEADER, self.time.to_string()),
            (NONCE_HEADER, self.nonce.to_owned()),
            (SIGNATURE_HEADER, STANDARD.encode(key.sign(&self.message()))),
        ]
    }
}

/// A fresh nonce: 128 random bits, hex.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    hex::encode(bytes)
}

/// Whether `nonce` has the form this protocol uses (8 to 64 hex digits), so a receiver never
/// keeps arbitrary text from an unauthenticated header.
pub fn is_nonce(nonce: &str) -> bool {
    (8..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(
        party: &'a PartyId,
        method: &'a str,
        path: &'a str,
        body: &'a [u8],
    ) -> RequestLine<'a> {
        RequestLine {
            party,
            time: Timestamp::parse("2026-11-27T03:16:20.000Z").expect("valid"),
            nonce: "00112233445566778899aabbccddeeff",
            method,
            path_and_query: path,
            body,
        }
    }

    #[test]
    fn the_signed_message_binds_party_time_nonce_method_path_and_body() {
        let us = PartyId::parse("US").expect("valid");
        let m = line(&us, "GET", "/federation/v1/log/checkpoint", b"").message();
        assert_eq!(
            m,
            b"detente/v1/request\0US\n2026-11-27T03:16:20.000Z\n00112233445566778899aabbccddeeff\nGET\n/federation/v1/log/checkpoint\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .to_vec()
        );
        for other in [
            line(&us, "POST", "/federation/v1/log/checkpoint", b""),
            line(&us, "GET", "/federation/v1/log/entries?start=0&end=9", b""),
            line(&us, "GET", "/federation/v1/log/checkpoint", b"{}"),
        ] {
            assert_ne!(m, other.message());
        }
    }

    #[test]
    fn nonces_are_fresh_hex_and_other_text_is_no_nonce() {
        let (a, b) = (new_nonce(), new_nonce());
        assert!(is_nonce(&a) && is_nonce(&b));
        assert_ne!(a, b);
        assert!(!is_nonce("short"));
        assert!(!is_nonce("not hex at all, but long enough"));
        assert!(!is_nonce(&"a".repeat(65)));
    }
}
