//! Fuzzes the parser of signed receipts, which a sender reads back from its partner.
//!
//! Any input may be rejected, but none may panic, and whatever is accepted must mean the same
//! after a trip through our own wire form: same payload, same signed bytes, same wire bytes.

#![no_main]

use detente_protocol::{MAX_MESSAGE_BYTES, Receipt, Signed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = Signed::<Receipt>::parse(data, MAX_MESSAGE_BYTES) else {
        return;
    };
    let wire = first.to_bytes();
    let again = Signed::<Receipt>::parse(&wire, MAX_MESSAGE_BYTES)
        .expect("our own wire form of an accepted receipt parses");
    assert_eq!(again.payload(), first.payload());
    assert_eq!(again.payload_bytes(), first.payload_bytes());
    assert_eq!(again.signature(), first.signature());
    assert_eq!(again.to_bytes(), wire);
});
