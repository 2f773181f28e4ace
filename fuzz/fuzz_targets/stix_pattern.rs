//! Fuzzes the STIX pattern parser, which reads every indicator a partner sends.
//!
//! Any text may be rejected, but none may panic, and an accepted pattern must print to text
//! that parses back to the same tree (and prints the same again); extracting observables from
//! it must not panic either.

#![no_main]

use detente_stix::Pattern;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    let printed = pattern.to_string();
    let again = Pattern::parse(&printed).expect("our own rendering of a pattern parses");
    assert_eq!(again, pattern, "{printed}");
    assert_eq!(again.to_string(), printed);
    let _ = pattern.observables();
});
