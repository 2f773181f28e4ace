//! Fuzzes the agreement parser (`agreement.toml`), which a node reads at start-up and from the
//! partner files an operator is handed.
//!
//! Any text may be refused, but none may panic, and an accepted agreement must write out as
//! TOML that reads back as the same agreement: same digest (the agreement's identity on the
//! wire) and the same TOML again.

#![no_main]

use detente_domain::Agreement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(agreement) = Agreement::from_toml(text) else {
        return;
    };
    let written = agreement.to_toml();
    let again = Agreement::from_toml(&written).expect("our own TOML of an agreement parses");
    assert_eq!(again.digest(), agreement.digest(), "{written}");
    assert_eq!(again.to_toml(), written);
});
