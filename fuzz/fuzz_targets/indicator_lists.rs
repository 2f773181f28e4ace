//! Fuzzes the indicator-list loaders (plain, LOKI and maltrail lists, and the guess between
//! them) with the round-trip property: every indicator they index prints as text that reads
//! back as the same indicator.
//!
//! Any line may be refused, but none may panic, every line must be counted, and what is
//! indexed must mean what it prints: `192.0.2.0/24#c2` was once kept as a URL that printed
//! exactly like the block `192.0.2.0/24` and never matched an address in it.

#![no_main]

use detente_match::load::{self, ListFormat, Target};
use detente_match::{EventTime, IndexBuilder, IndicatorMeta, IndicatorValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = EventTime::from_unix_seconds(1_700_000_000).expect("a valid time");
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64
        + u64::from(!data.is_empty() && !data.ends_with(b"\n"));
    let _ = load::guess_list_format(data);
    for format in [ListFormat::Plain, ListFormat::Loki, ListFormat::Maltrail] {
        let mut builder = IndexBuilder::new(now);
        let meta = IndicatorMeta::new("fuzz", "TLP:CLEAR");
        let report = load::load_list(&mut builder, data, "fuzz", format, Target::Indicators(&meta))
            .expect("reading memory cannot fail");
        assert_eq!(report.lines, lines, "every line counted");
        assert!(report.added + report.rejected <= lines as usize);
        let index = builder.build();
        assert_eq!(index.len(), report.added);
        for id in index.ids() {
            let view = index.indicator(id);
            let again = IndicatorValue::parse(view.value).unwrap_or_else(|e| {
                panic!("{format:?}: {:?} ({}) does not read back: {e}", view.value, view.kind)
            });
            assert_eq!(again.kind(), view.kind, "{format:?}: {:?}", view.value);
            assert_eq!(again.to_string(), view.value, "{format:?}");
        }
        let mut allow = IndexBuilder::new(now);
        let _ = load::load_list(&mut allow, data, "fuzz", format, Target::Allow("allow"))
            .expect("reading memory cannot fail");
    }
});
