//! Fuzzes the parsers wire version 2 adds: a signed envelope of either version, a salted body
//! (what travels beside a header, and what a node stores), and a disclosure file an auditor
//! is handed.
//!
//! Any input may be rejected, but none may panic, and whatever is accepted must mean the same
//! after a trip through our own form: same bytes, same digest, same facts.

#![no_main]

use detente_audit::Disclosure;
use detente_protocol::{MAX_MESSAGE_BYTES, SaltedBody, SignedEnvelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(first) = SignedEnvelope::parse(data, MAX_MESSAGE_BYTES) {
        let wire = first.to_bytes();
        let again = SignedEnvelope::parse(&wire, MAX_MESSAGE_BYTES)
            .expect("our own wire form of an accepted envelope parses");
        assert_eq!(again.to_bytes(), wire);
        assert_eq!(again.payload_hash(), first.payload_hash());
        assert_eq!(again.facts(), first.facts());
    }
    if let Ok(body) = SaltedBody::parse(data, MAX_MESSAGE_BYTES) {
        let again = SaltedBody::parse(&body.to_bytes(), MAX_MESSAGE_BYTES)
            .expect("our own form of an accepted body parses");
        assert_eq!(again.digest(), body.digest());
        assert_eq!(again.body(), body.body());
    }
    if let Ok(d) = Disclosure::parse(data) {
        let again = Disclosure::parse(&d.to_bytes()).expect("our own disclosure parses");
        assert_eq!(again.body.digest(), d.body.digest());
        assert_eq!(again.envelope.to_bytes(), d.envelope.to_bytes());
    }
});
