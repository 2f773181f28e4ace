//! Fuzzes the review period parser (`2026-H1`, `2026-W48`, `2026-01-01..2026-06-30`, …), which
//! reads the CLI's `--period` and the API's `period=`.
//!
//! Any text may be refused, but none may panic; an accepted period prints as text that parses
//! back to the same period, starts before it ends, and steps back to earlier periods of the
//! same kind without panicking.

#![no_main]

use detente_report::Period;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(period) = Period::parse(text) else {
        return;
    };
    let printed = period.to_string();
    assert_eq!(Period::parse(&printed), Ok(period), "{text:?} printed as {printed:?}");
    assert!(period.start() < period.end(), "{printed}");
    for earlier in period.previous_n(3) {
        assert!(earlier.end() <= period.start(), "{earlier} is not before {printed}");
    }
});
