//! Wire version 2: signed headers that commit to a detached, salted body. What a receiver and
//! an auditor accept, and what they refuse (a body one byte off, facts that are not the
//! body's, a version 2 signature passed off as version 1), and that version 1 is unchanged.

use detente_protocol::{
    BODY_DIGEST_CONTEXT, Body, BodyMismatch, DeclineBody, DeclineReason, Envelope, EnvelopeHeader,
    Facts, MAX_MESSAGE_BYTES, Priority, RatingBody, Salt, SaltedBody, Signable, Signed,
    SignedEnvelope, WIRE_VERSION, WIRE_VERSION_2, canonical_bytes,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{
    answer_envelope, payload_object, preservation_envelope, replace_once, request_envelope,
    sign_raw, us_key,
};

fn seal_v2(envelope: Envelope) -> (SignedEnvelope, SaltedBody) {
    let (signed, body) =
        SignedEnvelope::seal(envelope, WIRE_VERSION_2, &us_key()).expect("a valid envelope");
    (signed, body.expect("version 2 has a detached body"))
}

fn every_body() -> Vec<Body> {
    let mut bodies = vec![
        request_envelope().body,
        preservation_envelope().body,
        answer_envelope().body,
    ];
    bodies.push(Body::Decline(DeclineBody {
        reason: DeclineReason::NoJurisdiction,
        text: "Not our territory".into(),
    }));
    bodies.push(Body::Rating(RatingBody {
        score: 4,
        comment: "Helpful".into(),
    }));
    bodies
}

#[test]
fn a_version_2_envelope_verifies_without_its_body_and_opens_with_it() {
    // Arrange
    let (sealed, body) = seal_v2(request_envelope());

    // Act
    let received =
        SignedEnvelope::parse(&sealed.to_bytes(), MAX_MESSAGE_BYTES).expect("the header parses");
    let opened = received
        .open(Some(&body))
        .expect("the body is the committed one");

    // Assert
    assert_eq!(received.version(), WIRE_VERSION_2);
    assert_eq!(received.verify(&us_key().public_key()), Ok(()));
    assert_eq!(received.payload_hash(), sealed.payload_hash());
    assert_eq!(opened.body, request_envelope().body);
    assert_eq!(opened.v, WIRE_VERSION_2);
}

#[test]
fn the_signed_header_carries_no_content_of_the_body() {
    let (sealed, _) = seal_v2(request_envelope());

    let text = String::from_utf8(sealed.to_bytes()).expect("UTF-8");

    for secret in [
        "Exfiltration",
        "staging server",
        "203.0.113.7",
        "c2.example",
        "netflow",
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into {text}");
    }
    assert!(text.contains("\"category\":\"ip-theft\""), "{text}");
    assert!(text.contains("\"priority\":\"high\""), "{text}");
}

#[test]
fn a_body_one_byte_off_is_refused() {
    // Arrange
    let (sealed, body) = seal_v2(request_envelope());
    let altered = replace_once(&body.to_bytes(), "who operates it?", "who operates it!");
    let altered = SaltedBody::parse(&altered, MAX_MESSAGE_BYTES).expect("still a valid body");

    // Act
    let result = sealed.open(Some(&altered));

    // Assert
    assert!(
        matches!(result, Err(BodyMismatch::Digest { .. })),
        "{result:?}"
    );
}

#[test]
fn the_same_body_under_another_salt_is_refused() {
    let (sealed, body) = seal_v2(request_envelope());
    let mut value = body.to_value();
    value["salt"] = json!(Salt::from_bytes([7; 16]).to_string());
    let resalted = SaltedBody::from_value(value).expect("a valid body");

    let result = sealed.open(Some(&resalted));

    assert!(
        matches!(result, Err(BodyMismatch::Digest { .. })),
        "{result:?}"
    );
}

#[test]
fn a_header_whose_facts_are_not_those_of_its_body_is_refused() {
    // Arrange: a sender signs a header saying "low" priority for a body that says "high",
    // committing to the right body: only the facts lie.
    let (sealed, body) = seal_v2(request_envelope());
    let SignedEnvelope::V2(signed) = &sealed else {
        panic!("version 2 was asked for")
    };
    let mut header = signed.payload().clone();
    header.facts = Facts::Request {
        kind: detente_protocol::RequestKind::Information,
        category: "ip-theft".into(),
        priority: Priority::Low,
        tlp: detente_protocol::Tlp::AmberStrict,
    };
    let lying = SignedEnvelope::V2(Signed::seal(header, &us_key()).expect("valid on its face"));

    // Act
    let result = lying.open(Some(&body));

    // Assert
    assert!(
        matches!(result, Err(BodyMismatch::Facts { .. })),
        "{result:?}"
    );
}

#[test]
fn every_body_yields_the_facts_its_header_carries_and_its_skeleton_the_same_facts() {
    for body in every_body() {
        let mut envelope = request_envelope();
        envelope.body = body.clone();

        let (sealed, salted) = seal_v2(envelope);

        assert_eq!(sealed.facts(), Facts::of(&body));
        assert_eq!(Facts::of(&sealed.facts().skeleton()), Facts::of(&body));
        assert_eq!(sealed.view().body.message_type(), body.message_type());
        assert_eq!(sealed.open(Some(&salted)).map(|e| e.body), Ok(body));
    }
}

#[test]
fn a_version_1_envelope_has_the_same_facts_as_its_version_2_header() {
    let v1 = SignedEnvelope::seal(request_envelope(), WIRE_VERSION, &us_key())
        .expect("valid")
        .0;
    let (v2, _) = seal_v2(request_envelope());

    assert_eq!(v1.facts(), v2.facts());
}

#[test]
fn the_body_digest_is_the_salted_hash_of_the_canonical_body_under_its_prefix() {
    // Arrange
    let body = SaltedBody::parse(
        br#"{"salt":"000102030405060708090a0b0c0d0e0f","body":{"type":"acknowledgement","note":"On it"}}"#,
        MAX_MESSAGE_BYTES,
    )
    .expect("a valid body");

    // Act
    let digest = body.digest();

    // Assert: computed here from the definition, independently of the crate.
    let mut h = Sha256::new();
    h.update(b"detente/v2/body\0");
    h.update((0u8..16).collect::<Vec<_>>());
    h.update(br#"{"note":"On it","type":"acknowledgement"}"#);
    assert_eq!(digest.as_bytes(), &<[u8; 32]>::from(h.finalize()));
    assert_eq!(BODY_DIGEST_CONTEXT, b"detente/v2/body\0");
}

#[test]
fn a_version_2_signature_does_not_verify_as_version_1() {
    // A header's signature is made under the version 2 context; the same bytes relabelled as
    // a version 1 envelope must not verify, whatever they say.
    let (sealed, _) = seal_v2(request_envelope());
    let SignedEnvelope::V2(signed) = &sealed else {
        panic!("version 2 was asked for")
    };
    let forged = sign_raw::<EnvelopeHeader>(Value::Object(payload_object(signed)), &us_key());

    let as_v1 = Signed::<Envelope>::parse(&forged, MAX_MESSAGE_BYTES);

    assert!(
        as_v1.is_err(),
        "a header must not parse as a version 1 envelope"
    );
    assert_ne!(
        <Envelope as Signable>::CONTEXT,
        <EnvelopeHeader as Signable>::CONTEXT
    );
}

#[test]
fn a_header_with_a_body_inside_or_unknown_facts_is_refused() {
    let (sealed, body) = seal_v2(request_envelope());
    let SignedEnvelope::V2(signed) = &sealed else {
        panic!("version 2 was asked for")
    };
    let mut with_body = payload_object(signed);
    with_body.insert("body".into(), body.to_value()["body"].clone());
    let mut odd_facts = payload_object(signed);
    odd_facts["facts"]["title"] = json!("Exfiltration to 203.0.113.7");

    for payload in [with_body, odd_facts] {
        let bytes = sign_raw::<EnvelopeHeader>(Value::Object(payload), &us_key());

        let result = SignedEnvelope::parse(&bytes, MAX_MESSAGE_BYTES);

        assert!(result.is_err(), "{result:?}");
    }
}

#[test]
fn a_version_1_envelope_is_unchanged_byte_for_byte() {
    // Arrange: version 1 sealed the way it always was.
    let classic = Signed::seal(request_envelope(), &us_key()).expect("valid");

    // Act
    let (sealed, body) =
        SignedEnvelope::seal(request_envelope(), WIRE_VERSION, &us_key()).expect("valid");
    let reparsed = SignedEnvelope::parse(&classic.to_bytes(), MAX_MESSAGE_BYTES).expect("parses");

    // Assert
    assert!(body.is_none());
    assert_eq!(sealed.to_bytes(), classic.to_bytes());
    assert_eq!(reparsed.to_bytes(), classic.to_bytes());
    assert_eq!(reparsed.version(), WIRE_VERSION);
    assert_eq!(reparsed.view(), request_envelope());
    // Pinned: the fixture's version 1 bytes as they were before version 2 existed.
    assert_eq!(
        detente_protocol::Digest::of(&classic.to_bytes()).to_string(),
        PINNED_V1_FIXTURE
    );
}

const PINNED_V1_FIXTURE: &str = "c5d0d319f0a8e277f27bcf24f4e84be80c716a947ef8ac0e7a4fc66f78b5e894";

#[test]
fn a_salted_body_is_read_only_in_its_one_accepted_form() {
    let (_, body) = seal_v2(request_envelope());
    let mut extra = body.to_value();
    extra["note"] = json!("x");
    let mut bad_salt = body.to_value();
    bad_salt["salt"] = json!("00");

    for value in [extra, bad_salt, json!({"body": body.to_value()["body"]})] {
        let bytes = canonical_bytes(&value);

        assert!(
            SaltedBody::parse(&bytes, MAX_MESSAGE_BYTES).is_err(),
            "{value}"
        );
    }
}
