//! Fuzzes the parser of signed envelopes, the first code a partner's bytes reach.
//!
//! Any input may be rejected, but none may panic, and whatever is accepted must mean the same
//! after a trip through our own wire form: same payload, same signed bytes, same wire bytes.

#![no_main]

use detente_protocol::{Envelope, MAX_MESSAGE_BYTES, Signed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = Signed::<Envelope>::parse(data, MAX_MESSAGE_BYTES) else {
        return;
    };
    let wire = first.to_bytes();
    let again = Signed::<Envelope>::parse(&wire, MAX_MESSAGE_BYTES)
        .expect("our own wire form of an accepted envelope parses");
    assert_eq!(again.payload(), first.payload());
    assert_eq!(again.payload_bytes(), first.payload_bytes());
    assert_eq!(again.signature(), first.signature());
    assert_eq!(again.to_bytes(), wire);
});
