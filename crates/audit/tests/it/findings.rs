//! One test per kind of finding: a log pair that is right but for one thing, and the audit
//! naming that thing, its kind, its party and, where it can, its entry.

use detente_audit::{Audit, FindingKind};
use detente_ledger::{Checkpoint, SignedCheckpoint, TreeSize};
use detente_protocol::{Body, Digest, Envelope, PartyId, RatingBody, Receipt, Timestamp};
use serde_json::Value;

use super::fixture::{Exchange, Tweak, US, audit_pinned, entry_line, join, key, lines};

/// The findings of `kind`, as (party, entry).
fn of_kind(audit: &Audit, kind: FindingKind) -> Vec<(String, Option<u64>)> {
    audit
        .findings
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| (f.party.to_string(), f.entry))
        .collect()
}

/// Asserts that the findings of `kind` are exactly `expected`, as (party, entry).
fn assert_found(audit: &Audit, kind: FindingKind, expected: &[(&str, Option<u64>)]) {
    let expected: Vec<(String, Option<u64>)> = expected
        .iter()
        .map(|(p, e)| ((*p).to_owned(), *e))
        .collect();
    assert_eq!(of_kind(audit, kind), expected, "{:#?}", audit.findings);
}

/// The audit of one request from US to CN, filed and receipted with `tweak`.
fn one_request(tweak: &Tweak<'_>) -> Audit {
    let mut x = Exchange::new();
    x.file_with(Vec::new(), tweak);
    x.audit()
}

/// The audit of one request from US to CN, changed by `change` before US signs it.
fn request_signed_as(change: &dyn Fn(&mut Envelope)) -> Audit {
    one_request(&Tweak {
        envelope: Some(change),
        ..Tweak::default()
    })
}

/// The audit of one request from US to CN, whose receipt `change` changes before CN signs it.
fn request_receipted_as(change: &dyn Fn(&mut Receipt)) -> Audit {
    one_request(&Tweak {
        receipt: Some(change),
        ..Tweak::default()
    })
}

/// Two whole cases, exchanged without fault.
fn two_cases() -> Exchange {
    let mut x = Exchange::new();
    x.work_case();
    x.work_case();
    x
}

/// Audits US's bundle, changed by `change`, against CN's untouched one.
fn audit_us_changed(x: &Exchange, change: impl FnOnce(&mut Vec<String>)) -> Audit {
    let [us, cn] = x.bundles();
    let mut us = lines(&us);
    change(&mut us);
    audit_pinned(&join(&us), &cn, &x.agreement)
}

#[test]
fn an_untouched_pair_of_logs_verifies_and_yields_the_figures() {
    // Arrange
    let x = two_cases();

    // Act
    let audit = x.audit();

    // Assert
    assert!(audit.verified(), "{:#?}", audit.findings);
    assert_eq!(audit.entries, [16, 16]);
    assert_eq!(audit.figures.len(), 1, "{:?}", audit.figures);
    assert_eq!(audit.figures[0].filed, 2);
    assert_eq!(audit.figures[0].answered, 2);
}

#[test]
fn a_line_that_is_not_an_entry_is_malformed() {
    // Arrange
    let x = two_cases();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        let i = entry_line(lines, 5);
        lines[i] = "not json".into();
    });

    // Assert
    assert!(of_kind(&audit, FindingKind::Malformed).contains(&("US".into(), Some(5))));
}

#[test]
fn an_entry_the_party_logged_in_other_than_canonical_json_is_malformed() {
    // Arrange: US logs an envelope with a space after a colon, and signs the log with it.
    let mut x = two_cases();
    let (kind, direction, bytes) = x.logs[US].entries[0].clone();
    let spaced = String::from_utf8(bytes).unwrap().replacen("\":", "\": ", 1);
    x.logs[US].push(kind, direction, spaced.into_bytes());
    let agreement = x.agreement.clone();
    x.logs[US].sign(&agreement);

    // Act
    let audit = x.audit();

    // Assert
    let found = of_kind(&audit, FindingKind::Malformed);
    assert_eq!(found, [("US".into(), Some(16))], "{:#?}", audit.findings);
    assert!(
        audit.findings[0].what.contains("canonical"),
        "{}",
        audit.findings[0]
    );
}

#[test]
fn entries_numbered_out_of_their_place_are_out_of_order() {
    // Arrange
    let x = two_cases();

    // Act: the numbers of entries 2 and 3 swapped, the entries left where they are.
    let audit = audit_us_changed(&x, |lines| {
        let (i, j) = (entry_line(lines, 2), entry_line(lines, 3));
        lines[i] = lines[i].replacen("\"index\":2,", "\"index\":3,", 1);
        lines[j] = lines[j].replacen("\"index\":3,", "\"index\":2,", 1);
    });

    // Assert
    assert_found(
        &audit,
        FindingKind::OutOfOrder,
        &[("US", Some(2)), ("US", Some(3))],
    );
    assert_eq!(audit.findings.len(), 2, "{:#?}", audit.findings);
}

#[test]
fn a_second_root_for_a_size_the_party_signed_is_a_root_mismatch() {
    // Arrange: US signs another root for size 3 (equivocation).
    let x = two_cases();
    let c = Checkpoint::new(
        &x.agreement.log_origin(&PartyId::parse("US").unwrap()),
        TreeSize::new(3),
        Digest::from_bytes([7; 32]),
    )
    .unwrap();
    let note = SignedCheckpoint::sign(c, &x.logs[US].key, "US")
        .unwrap()
        .to_text();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        lines.insert(1, serde_json::json!({ "checkpoint": note }).to_string());
    });

    // Assert
    assert_found(&audit, FindingKind::RootMismatch, &[("US", Some(2))]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}

#[test]
fn a_bundle_short_of_a_size_its_party_signed_is_truncated() {
    // Arrange
    let x = two_cases();

    // Act: the last entry dropped.
    let audit = audit_us_changed(&x, |lines| {
        lines.pop();
    });

    // Assert
    assert!(
        !of_kind(&audit, FindingKind::Truncated).is_empty(),
        "{:#?}",
        audit.findings
    );
    assert!(of_kind(&audit, FindingKind::UnsignedTail).is_empty());
}

// Regression: an entry appended after the last signed checkpoint (an INSERT into the node's
// database, which its triggers do not block, then exported) passed the audit as VERIFIED.
#[test]
fn entries_after_the_last_checkpoint_their_party_signed_are_an_unsigned_tail() {
    // Arrange: a replay of US's first entry appended, and the header's size raised to match.
    let x = two_cases();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        let first = entry_line(lines, 0);
        let replay = lines[first].replacen("\"index\":0,", "\"index\":16,", 1);
        lines.push(replay);
        lines[0] = lines[0].replacen("\"size\":16", "\"size\":17", 1);
    });

    // Assert
    assert_found(&audit, FindingKind::UnsignedTail, &[("US", Some(16))]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
    assert!(!audit.verified());
}

#[test]
fn a_header_that_miscounts_its_entries_is_a_header_size_finding() {
    // Arrange
    let x = two_cases();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        lines[0] = lines[0].replacen("\"size\":16", "\"size\":15", 1);
    });

    // Assert
    assert_found(&audit, FindingKind::HeaderSize, &[("US", None)]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}

#[test]
fn a_checkpoint_signed_by_a_key_the_agreement_does_not_pin_is_a_bad_checkpoint() {
    // Arrange: a note for US's log, signed with a key of nobody's.
    let x = two_cases();
    let c = Checkpoint::new(
        &x.agreement.log_origin(&PartyId::parse("US").unwrap()),
        TreeSize::new(3),
        Digest::from_bytes([7; 32]),
    )
    .unwrap();
    let note = SignedCheckpoint::sign(c, &key(9), "US").unwrap().to_text();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        lines.insert(1, serde_json::json!({ "checkpoint": note }).to_string());
    });

    // Assert
    assert_found(&audit, FindingKind::BadCheckpoint, &[("US", None)]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}

#[test]
fn a_receipt_signed_by_another_key_than_its_issuers_is_a_bad_signature() {
    // Arrange: CN's receipt in US's log re-signed with US's key, as US would forge it.
    let x = two_cases();

    // Act
    let audit = audit_us_changed(&x, |lines| {
        let i = entry_line(lines, 1);
        let mut line: Value = serde_json::from_str(&lines[i]).unwrap();
        let receipt = line["entry"]["data"]["receipt"].clone();
        let signed = detente_protocol::Signed::seal(
            serde_json::from_value::<detente_protocol::Receipt>(receipt).unwrap(),
            &x.logs[US].key,
        )
        .unwrap();
        line["entry"]["data"] = signed.to_value();
        lines[i] = line.to_string();
    });

    // Assert
    assert!(
        of_kind(&audit, FindingKind::BadSignature).contains(&("US".into(), Some(1))),
        "{:#?}",
        audit.findings
    );
}

#[test]
fn a_message_signed_under_another_agreement_is_foreign() {
    // Arrange: US signs its request under another agreement's digest; both log it.
    let other = |e: &mut Envelope| e.agreement = Digest::of(b"another");

    // Act
    let audit = request_signed_as(&other);

    // Assert
    assert_found(
        &audit,
        FindingKind::ForeignAgreement,
        &[("US", Some(0)), ("CN", Some(0))],
    );
}

#[test]
fn an_envelope_sealed_in_another_wire_version_than_the_agreement_says_is_a_wire_version_finding() {
    // Arrange: US seals its request in the other wire version (1 under protocol 2, 2 under
    // protocol 1); CN logs it all the same.
    let other_version = |e: &mut Envelope| e.v = 3 - e.v;

    // Act
    let audit = request_signed_as(&other_version);

    // Assert
    assert_found(
        &audit,
        FindingKind::WireVersion,
        &[("US", Some(0)), ("CN", Some(0))],
    );
}

#[test]
fn an_envelope_between_other_parties_than_its_place_says_is_wrong_parties() {
    // Arrange: US sends an envelope addressed to GB; CN logs it as received.
    let to_gb = |e: &mut Envelope| e.to = PartyId::parse("GB").unwrap();

    // Act
    let audit = request_signed_as(&to_gb);

    // Assert
    assert_found(
        &audit,
        FindingKind::WrongParties,
        &[("US", Some(0)), ("CN", Some(0))],
    );
}

#[test]
fn a_receipt_before_its_envelope_was_sent_beyond_the_skew_is_a_receipt_time_finding() {
    // Arrange: CN stamps its receipt an hour before US sent the request.
    let early = |r: &mut Receipt| {
        r.received_at =
            Timestamp::from_unix_millis(r.received_at.unix_millis() - 3_600_000).unwrap();
    };

    // Act
    let audit = request_receipted_as(&early);

    // Assert
    assert_found(
        &audit,
        FindingKind::ReceiptTime,
        &[("US", Some(1)), ("CN", Some(1))],
    );
}

#[test]
fn a_receipt_that_signs_another_log_index_than_its_issuers_is_a_log_index_finding() {
    // Arrange
    let elsewhere = |r: &mut Receipt| r.log_index = Some(7);

    // Act
    let audit = request_receipted_as(&elsewhere);

    // Assert: only the issuer knows where it logged the envelope.
    assert_found(&audit, FindingKind::LogIndex, &[("CN", Some(1))]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}

#[test]
fn a_receipt_for_other_bytes_than_the_logged_envelope_is_unmatched() {
    // Arrange: CN's receipt names another envelope hash.
    let other = |r: &mut Receipt| r.envelope_hash = Digest::of(b"other bytes");

    // Act
    let audit = request_receipted_as(&other);

    // Assert
    assert_found(
        &audit,
        FindingKind::UnmatchedReceipt,
        &[("US", Some(1)), ("CN", Some(1))],
    );
}

#[test]
fn a_receipted_envelope_missing_from_the_receivers_log_is_an_omission() {
    // Arrange: CN receipts US's request but logs neither it nor the receipt.
    let tweak = Tweak {
        receiver_logs_nothing: true,
        ..Tweak::default()
    };

    // Act
    let audit = one_request(&tweak);

    // Assert: US holds CN's receipt; CN's log holds neither the envelope nor the receipt.
    assert_found(&audit, FindingKind::Omission, &[("CN", None), ("CN", None)]);
}

#[test]
fn a_case_whose_official_messages_are_no_legal_history_is_an_illegal_lifecycle() {
    // Arrange: a request in a category the agreement does not have, signed and logged by both.
    let unknown = |e: &mut Envelope| {
        if let Body::Request(r) = &mut e.body {
            r.category = "not-in-the-terms".into();
        }
    };

    // Act
    let audit = request_signed_as(&unknown);

    // Assert
    assert_found(&audit, FindingKind::IllegalLifecycle, &[("US", None)]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}

#[test]
fn logs_that_do_not_hold_the_same_official_messages_differ() {
    // Arrange: US never logs CN's receipt for its rating, so the rating is official only in
    // CN's log.
    let mut x = Exchange::new();
    let (case, request) = x.file_with(Vec::new(), &Tweak::default());
    x.send(
        US,
        &case,
        Some(request),
        Body::Rating(RatingBody {
            score: 1,
            comment: String::new(),
        }),
        &Tweak {
            sender_misses_receipt: true,
            ..Tweak::default()
        },
    );

    // Act
    let audit = x.audit();

    // Assert
    assert_found(&audit, FindingKind::OfficialsDiffer, &[("US", None)]);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
}
