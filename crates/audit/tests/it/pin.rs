//! The agreement an auditor pins: the audit takes the parties' keys from it, refuses bundles
//! whose headers carry another, and is never verified with nothing pinned.

use std::io::Cursor;

use detente_audit::{Audit, AuditError, FindingKind, Pin, audit};
use detente_domain::{Agreement, Span};
use serde_json::Value;

use crate::fixture::{Exchange, join, key, lines};

fn audit_under(bundles: &[Vec<u8>; 2], pin: &Pin) -> Result<Audit, AuditError> {
    audit(Cursor::new(&bundles[0]), Cursor::new(&bundles[1]), pin)
}

/// Both bundles with `agreement` in their headers, the entries untouched.
fn with_header_agreement(bundles: &[Vec<u8>; 2], agreement: &Agreement) -> [Vec<u8>; 2] {
    bundles.clone().map(|b| {
        let mut lines = lines(&b);
        let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
        header["header"]["agreement"] = serde_json::to_value(agreement).unwrap();
        lines[0] = header.to_string();
        join(&lines)
    })
}

fn one_case() -> Exchange {
    let mut x = Exchange::new();
    x.work_case();
    x
}

#[test]
fn with_nothing_pinned_an_untouched_pair_is_consistent_but_not_verified() {
    // Arrange
    let x = one_case();

    // Act
    let audit = audit_under(&x.bundles(), &Pin::None).unwrap();

    // Assert
    assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
    assert!(!audit.pinned);
    assert!(!audit.verified());
    assert_eq!(audit.agreement, x.agreement.digest());
}

#[test]
fn a_pinned_digest_verifies_the_bundles_of_its_agreement_and_is_reported() {
    // Arrange
    let x = one_case();

    // Act
    let audit = audit_under(&x.bundles(), &Pin::Digest(x.agreement.digest())).unwrap();

    // Assert
    assert!(audit.verified(), "{:#?}", audit.findings);
    assert_eq!(audit.agreement, x.agreement.digest());
    assert_eq!(audit.agreement_id, x.agreement.id);
}

// Regression: both bundles re-signed with keys no party owns (a rating changed, everything
// re-signed, the headers carrying the forger's keys) were VERIFIED.
#[test]
fn bundles_re_signed_with_keys_no_party_owns_are_refused_under_the_pinned_agreement() {
    // Arrange: the genuine exchange, and a forgery of it: the same case rated 1 instead of 4,
    // every envelope, receipt and checkpoint signed with the forger's keys.
    let genuine = one_case();
    let mut forged = Exchange::with_keys(key(8), key(9));
    forged.work_case();
    let bundles = forged.bundles();

    // Act
    let unpinned = audit_under(&bundles, &Pin::None).unwrap();
    let by_file = audit_under(&bundles, &Pin::Agreement(genuine.agreement.clone()));
    let by_digest = audit_under(&bundles, &Pin::Digest(genuine.agreement.digest()));

    // Assert: a consistent forgery is consistent; only the pin tells it from the real thing.
    assert!(unpinned.findings.is_empty() && !unpinned.verified());
    for refused in [by_file, by_digest] {
        match refused {
            Err(AuditError::AgreementMismatch {
                party,
                pinned,
                found,
            }) => {
                assert_eq!(party.as_str(), "US");
                assert_eq!(pinned, genuine.agreement.digest());
                assert_eq!(found, forged.agreement.digest());
            }
            other => panic!("not refused: {other:?}"),
        }
    }
}

#[test]
fn forged_entries_under_the_genuine_header_fail_on_their_signatures() {
    // Arrange: the forger keeps the genuine agreement in the headers.
    let genuine = one_case();
    let mut forged = Exchange::with_keys(key(8), key(9));
    forged.work_case();
    let bundles = with_header_agreement(&forged.bundles(), &genuine.agreement);

    // Act
    let audit = audit_under(&bundles, &Pin::Agreement(genuine.agreement.clone())).unwrap();

    // Assert
    let kinds: Vec<FindingKind> = audit.findings.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FindingKind::BadSignature), "{kinds:?}");
    assert!(kinds.contains(&FindingKind::BadCheckpoint), "{kinds:?}");
    assert!(!audit.verified());
}

// Regression: deadlines edited in both headers were VERIFIED, with every answer in time.
#[test]
fn deadlines_edited_in_both_headers_fail_with_or_without_a_pin() {
    // Arrange
    let x = one_case();
    let mut lenient = x.agreement.clone();
    for d in lenient.terms.deadlines.values_mut() {
        d.acknowledge = Span::from_secs(999 * 86_400);
        d.first_answer = Span::from_secs(999 * 86_400);
        d.final_answer = Span::from_secs(999 * 86_400);
    }
    let bundles = with_header_agreement(&x.bundles(), &lenient);

    // Act
    let unpinned = audit_under(&bundles, &Pin::None).unwrap();
    let pinned = audit_under(&bundles, &Pin::Agreement(x.agreement.clone()));

    // Assert: every envelope and receipt signs the real agreement, not the headers'.
    let foreign = unpinned
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ForeignAgreement)
        .count();
    assert_eq!(foreign, 16, "{:#?}", unpinned.findings);
    assert!(matches!(pinned, Err(AuditError::AgreementMismatch { .. })));
}

#[test]
fn with_nothing_pinned_bundles_of_two_agreements_are_unusable() {
    // Arrange
    let x = one_case();
    let mut other = x.agreement.clone();
    other.title = "another title".into();
    let [us, _] = x.bundles();
    let [_, cn] = with_header_agreement(&x.bundles(), &other);

    // Act
    let refused = audit_under(&[us, cn], &Pin::None);

    // Assert
    assert!(matches!(refused, Err(AuditError::Unusable(m)) if m.contains("different agreements")));
}
