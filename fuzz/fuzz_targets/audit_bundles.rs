//! Fuzzes the audit of two log bundles, which an auditor runs on files either party (or
//! anyone) may have doctored.
//!
//! The input is two bundles separated by a form feed (`\x0c`; without one, the two halves).
//! Any bundle may be refused or found tampered, but the audit must not panic, and it must
//! reach the same verdict and findings when run twice (it reads each bundle on its own
//! thread).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0x0c) {
        Some(ff) => (&data[..ff], &data[ff + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let first = detente_audit::audit(a, b, &detente_audit::Pin::None);
    let second = detente_audit::audit(a, b, &detente_audit::Pin::None);
    match (&first, &second) {
        (Ok(x), Ok(y)) => {
            assert_eq!(format!("{:?}", x.findings), format!("{:?}", y.findings));
            assert_eq!(x.entries, y.entries);
            assert_eq!(x.signatures, y.signatures);
        }
        (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
        _ => panic!("two audits of the same bundles disagree: {first:?} / {second:?}"),
    }
});
