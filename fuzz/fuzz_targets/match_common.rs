//! Shared by the matcher's fuzz targets: a small index of every indicator kind, and the
//! check that the engine reads the same bytes the same way whatever the chunk size.

use detente_match::input::{Format, Input};
use detente_match::{EventTime, Index, IndexBuilder, IndicatorMeta, IndicatorValue, RunOptions, run};

pub fn index() -> Index {
    let now = EventTime::from_unix_seconds(1_700_000_000).expect("a valid time");
    let mut b = IndexBuilder::new(now);
    for text in [
        "192.0.2.1",
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.1:443",
        "evil.example",
        "http://evil.example/gate.php",
        "evil.example/x",
        "/panel/admin.php",
        "0c2674c3a97c53082187d930efb645c2",
        "bob@evil.example",
    ] {
        let value = IndicatorValue::parse(text).expect("a valid indicator");
        b.add(value, &IndicatorMeta::new(text, "TLP:CLEAR")).expect("fits");
    }
    b.allow(IndicatorValue::parse("10.9.9.9").expect("valid"), "allow").expect("fits");
    b.build()
}

/// Runs `data` through the engine with small and large chunks: no panic, the same hits and
/// counts both ways, and every line counted.
pub fn check(data: &[u8], format: Format) {
    let index = index();
    let mut results = Vec::new();
    // Tiny chunks cross a line in every way; a compressed input may hold a megabyte, so its
    // small chunks grow with it (a 7-byte chunk each would make one run take seconds).
    let small = 7.max(data.len() / 64);
    for (threads, chunk_bytes) in [(2, small), (1, 1 << 20)] {
        let input = Input::from_reader("fuzz", std::io::Cursor::new(data.to_vec()), format.clone());
        let options = RunOptions { threads, chunk_bytes, max_line_bytes: 1 << 20 };
        let mut hits = Vec::new();
        let report = run(&index, vec![input], &options, &mut hits);
        results.push((hits, report.inputs[0].clone()));
    }
    let (small, large) = (&results[0], &results[1]);
    // Said briefly: a megabyte of input has tens of thousands of hits.
    assert_eq!(
        small.0.len(),
        large.0.len(),
        "hits depend on the chunk size: {} with small chunks, {} with 1 MiB ones (lines {} and {})",
        small.0.len(),
        large.0.len(),
        small.1.lines,
        large.1.lines
    );
    if let Some(n) = small.0.iter().zip(&large.0).position(|(a, b)| a != b) {
        panic!("hit {n} depends on the chunk size: {:?} / {:?}", small.0[n], large.0[n]);
    }
    assert_eq!(small.1.lines, large.1.lines);
    assert_eq!(small.1.malformed, large.1.malformed);
    assert_eq!(small.1.malformed_lines, large.1.malformed_lines);
    if large.1.error.is_none() && !data.starts_with(&[0x1f, 0x8b]) && !data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
        let expected = newlines + u64::from(!data.is_empty() && !data.ends_with(b"\n"));
        assert_eq!(large.1.lines, expected, "every line counted");
    }
}
