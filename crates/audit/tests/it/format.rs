//! The bundle format: entries stand in their lines exactly as logged, format 1 bundles are
//! still read, and the writer refuses what could not stand in a line unchanged.

use detente_audit::{BundleWriter, Direction, EntryKind, Header, bundle_cases};
use detente_ledger::hash_leaf;
use detente_protocol::StixValue;
use serde_json::{Value, json};

use crate::fixture::{Exchange, Tweak, US, audit_pinned, join, lines};

/// A STIX object whose canonical JSON a re-serialiser would change: two keys JCS orders by UTF-16 code
/// units (U+10000 before U+E000) where a `BTreeMap` orders them by UTF-8 bytes.
fn object_a_reserialiser_would_change() -> StixValue {
    let value = json!({
        "type": "indicator",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "x_\u{e000}": 1,
        "x_\u{10000}": 2,
    });
    let Value::Object(o) = value else {
        unreachable!("a JSON object literal")
    };
    o
}

/// The `data` text of every entry line, cut out of the line as the format documents it.
fn data_texts(bundle: &[u8]) -> Vec<Vec<u8>> {
    lines(bundle)
        .iter()
        .filter(|l| l.starts_with("{\"entry\":"))
        .map(|l| {
            let start = l.find(",\"data\":").unwrap() + ",\"data\":".len();
            let end = l.strip_suffix("}}").unwrap().len();
            l.as_bytes()[start..end].to_vec()
        })
        .collect()
}

// Regression: `log export` re-serialised each entry (keys in code-point order, not JCS's UTF-16
// order), so an auditor hashing an entry's bytes saw tampering that was
// not there.
#[test]
fn a_bundle_holds_each_entry_as_the_bytes_logged() {
    // Arrange
    let mut x = Exchange::new();
    x.file_with(
        vec![object_a_reserialiser_would_change()],
        &Tweak::default(),
    );
    let logged: Vec<Vec<u8>> = x.logs[US].entries.iter().map(|e| e.2.clone()).collect();
    assert!(
        String::from_utf8_lossy(&logged[0]).contains("\"x_\u{10000}\":2,\"x_\u{e000}\":1"),
        "the fixture logs the canonical form"
    );

    // Act
    let [us, cn] = x.bundles();

    // Assert
    assert_eq!(data_texts(&us), logged);
    let audit = audit_pinned(&us, &cn, &x.agreement);
    assert!(audit.verified(), "{:#?}", audit.findings);
}

#[test]
fn a_format_1_bundle_with_re_serialised_entries_is_still_read() {
    // Arrange: the bundles as format 1 wrote them, each entry parsed and written again.
    let mut x = Exchange::new();
    x.file_with(
        vec![object_a_reserialiser_would_change()],
        &Tweak::default(),
    );
    let to_format_1 = |bundle: &[u8]| {
        let lines: Vec<String> = lines(bundle)
            .iter()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                if let Some(h) = v.get_mut("header") {
                    h["format"] = json!("detente-log-bundle/1");
                }
                v.to_string()
            })
            .collect();
        join(&lines)
    };
    let [us, cn] = x.bundles();
    let (us, cn) = (to_format_1(&us), to_format_1(&cn));
    assert!(
        String::from_utf8_lossy(&us).contains("\"x_\u{e000}\":1,\"x_\u{10000}\":2"),
        "re-serialised"
    );

    // Act
    let audit = audit_pinned(&us, &cn, &x.agreement);

    // Assert
    assert!(audit.verified(), "{:#?}", audit.findings);
    assert_eq!(audit.entries, [2, 2]);
}

#[test]
fn the_writer_refuses_bytes_that_could_not_stand_in_a_line_as_they_are() {
    // Arrange
    let x = Exchange::new();
    let header = Header::new(x.logs[US].party.clone(), x.agreement.clone(), 1);
    let mut w = BundleWriter::new(Vec::new(), &header).unwrap();
    let (kind, dir) = (EntryKind::Envelope, Direction::Out);

    // Act
    let not_json = w.entry(0, kind, dir, b"{\"a\":");
    let spaced = w.entry(0, kind, dir, b" {\"a\":1}");
    let misplaced = w.entry(1, kind, dir, b"{\"a\":1}");
    let fine = w.entry(0, kind, dir, b"{\"a\":1}");

    // Assert
    for refused in [not_json, spaced, misplaced] {
        assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
    }
    fine.unwrap();
    assert_eq!(w.entries(), 1);
    assert_eq!(
        w.root(),
        hash_leaf(b"{\"a\":1}"),
        "a one-entry tree's root is its leaf"
    );
}

#[test]
fn cases_are_not_derived_from_entries_signed_under_another_agreement_than_the_headers() {
    // Arrange: the header's deadlines edited; every entry still signs the real agreement.
    let mut x = Exchange::new();
    x.work_case();
    let [us, _] = x.bundles();
    let mut doctored = x.agreement.clone();
    for d in doctored.terms.deadlines.values_mut() {
        d.final_answer = detente_domain::Span::from_secs(999 * 86_400);
    }
    let mut lines = lines(&us);
    let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
    header["header"]["agreement"] = serde_json::to_value(&doctored).unwrap();
    lines[0] = header.to_string();

    // Act
    let derived = bundle_cases(std::io::Cursor::new(join(&lines)));

    // Assert
    let error = derived.unwrap_err().to_string();
    assert!(error.contains("not the header's"), "{error}");
    assert!(
        error.contains(&x.agreement.digest().to_string()),
        "names the digest it signs: {error}"
    );
}
