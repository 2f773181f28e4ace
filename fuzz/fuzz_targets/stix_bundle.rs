//! Fuzzes the streaming STIX/MISP import, the first code a partner's or a feed's bundle reaches.
//!
//! Any input may be rejected, but none may panic, and every object the importer accepts must
//! survive a trip through our own JSON: written out, it parses back to the same object, and a
//! second importer accepts it again.

#![no_main]

use std::ops::ControlFlow;

use detente_stix::{ImportOptions, Importer, StixObject};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut importer = Importer::new(ImportOptions::default());
    let mut accepted = Vec::new();
    let report = importer.read(data, |obj| {
        accepted.push(obj);
        ControlFlow::Continue(())
    });
    if let Ok(report) = &report {
        assert_eq!(report.accepted as usize, accepted.len());
        assert!(report.read >= report.accepted + report.duplicates);
    }
    for obj in accepted {
        let text = serde_json::to_string(&obj).expect("an accepted object serialises");
        let again: StixObject =
            serde_json::from_str(&text).expect("our own JSON of an accepted object parses");
        assert_eq!(again, obj, "{text}");
        assert_eq!(again.to_value(), obj.to_value());
    }
});
