//! Signed envelopes at the border: what a node accepts from a partner, and everything it refuses.

use detente_protocol::{
    Body, Envelope, MAX_MESSAGE_BYTES, ProtocolError, RatingBody, RequestKind, Signable, Signed,
    WIRE_VERSION, canonical_bytes,
};
use serde_json::{Value, json};

use crate::support::{
    answer_envelope, cn_key, party, payload_object, preservation_envelope, replace_once,
    request_envelope, sealed_request, sign_raw, us_key,
};

fn parse(bytes: &[u8]) -> Result<Signed<Envelope>, ProtocolError> {
    Signed::<Envelope>::parse(bytes, MAX_MESSAGE_BYTES)
}

fn is_invalid(result: &Result<Signed<Envelope>, ProtocolError>, needle: &str) -> bool {
    matches!(result, Err(ProtocolError::Invalid(m)) if m.contains(needle))
}

#[test]
fn a_sealed_envelope_survives_the_wire_and_verifies() {
    let sealed = sealed_request();

    let received = parse(&sealed.to_bytes()).expect("our own envelope parses");

    assert_eq!(received.verify(&us_key().public_key()), Ok(()));
    assert_eq!(received.payload(), sealed.payload());
    assert_eq!(received.payload_bytes(), sealed.payload_bytes());
    assert_eq!(received.signature(), sealed.signature());
    assert_eq!(received.payload_hash(), sealed.payload_hash());
    assert_eq!(received.to_bytes(), sealed.to_bytes());
}

#[test]
fn every_body_type_survives_the_wire() {
    let mut answer = answer_envelope();
    let bodies = [
        request_envelope(),
        preservation_envelope(),
        answer.clone(),
        {
            answer.body = Body::Rating(RatingBody {
                score: 5,
                comment: "Fast and complete".into(),
            });
            answer.from = party("US");
            answer.to = party("CN");
            answer
        },
    ];
    for envelope in bodies {
        let sealed = Signed::seal(envelope, &us_key()).expect("a valid envelope");

        let received = parse(&sealed.to_bytes()).expect("it parses");

        assert_eq!(received.payload(), sealed.payload());
        assert_eq!(received.verify(&us_key().public_key()), Ok(()));
    }
}

#[test]
fn the_wire_form_is_canonical_json_with_the_payload_and_signature_only() {
    let sealed = sealed_request();
    let bytes = sealed.to_bytes();

    let value: Value = serde_json::from_slice(&bytes).expect("JSON");

    assert_eq!(canonical_bytes(&value), bytes);
    let keys: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["envelope", "signature"]);
    assert_eq!(
        sealed.payload_hash(),
        detente_protocol::Digest::of(sealed.payload_bytes())
    );
}

#[test]
fn the_signature_covers_the_context_and_the_canonical_payload() {
    let sealed = sealed_request();

    let message = sealed.signed_message();

    assert!(message.starts_with(Envelope::CONTEXT));
    assert_eq!(&message[Envelope::CONTEXT.len()..], sealed.payload_bytes());
    assert_eq!(
        us_key().public_key().verify(&message, sealed.signature()),
        Ok(())
    );
}

#[test]
fn whitespace_and_key_order_on_the_wire_do_not_matter() {
    // The signature covers the canonical bytes of what arrived, so a partner whose JSON
    // library pretty-prints or reorders keys is still understood.
    let sealed = sealed_request();
    let value = sealed.to_value();
    let pretty = serde_json::to_vec_pretty(&json!({
        "signature": value["signature"],
        "envelope": value["envelope"],
    }))
    .expect("serialisable");
    assert_ne!(pretty, sealed.to_bytes());

    let received = parse(&pretty).expect("it parses");

    assert_eq!(received.verify(&us_key().public_key()), Ok(()));
    assert_eq!(received.to_bytes(), sealed.to_bytes());
}

#[test]
fn an_envelope_does_not_verify_under_another_partys_key() {
    let received = parse(&sealed_request().to_bytes()).expect("it parses");

    assert_eq!(
        received.verify(&cn_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn a_flipped_byte_in_the_body_breaks_the_signature() {
    let sealed = sealed_request();
    let wire = replace_once(&sealed.to_bytes(), "who operates it?", "who operates it!");

    let received = parse(&wire).expect("the altered envelope is still well-formed");

    assert_eq!(
        received.verify(&us_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn changing_any_header_field_breaks_the_signature() {
    let sealed = sealed_request();
    let changes = [
        ("id", json!("0b7c4a52-3f0e-4d7e-9a51-6c2f1e8d9b31")),
        (
            "agreement",
            json!(detente_protocol::Digest::of(b"another agreement")),
        ),
        ("to", json!("GB")),
        ("seq", json!(2)),
        ("sent_at", json!("2026-11-27T03:16:20.124Z")),
        ("case", json!("US-2026-0043")),
        ("in_reply_to", json!("0b7c4a52-3f0e-4d7e-9a51-6c2f1e8d9b30")),
    ];
    for (field, new_value) in changes {
        let mut value = sealed.to_value();
        value["envelope"][field] = new_value;

        let received = parse(&canonical_bytes(&value)).expect("still well-formed");

        assert_eq!(
            received.verify(&us_key().public_key()),
            Err(ProtocolError::BadSignature),
            "{field}"
        );
    }
}

#[test]
fn no_single_bit_flip_anywhere_yields_a_verified_envelope() {
    let wire = sealed_request().to_bytes();
    let key = us_key().public_key();
    let mut parsed_but_unverified = 0;
    for i in 0..wire.len() {
        for mask in [0x01, 0x02, 0x20, 0x80] {
            let mut altered = wire.clone();
            altered[i] ^= mask;

            if let Ok(received) = parse(&altered) {
                assert_eq!(
                    received.verify(&key),
                    Err(ProtocolError::BadSignature),
                    "byte {i} ^ {mask:#04x}: {}",
                    String::from_utf8_lossy(&altered)
                );
                parsed_but_unverified += 1;
            }
        }
    }
    // Most flips land in free text or the signature and reach the signature check.
    assert!(
        parsed_but_unverified > wire.len(),
        "{parsed_but_unverified}"
    );
}

#[test]
fn a_duplicate_key_is_rejected_before_the_signature_is_looked_at() {
    let wire = sealed_request().to_bytes();
    let cases = [
        // A second `seq` that a lax parser would keep and show to the receiver.
        (
            replace_once(&wire, r#""seq":1,"#, r#""seq":1,"seq":2,"#),
            "seq",
        ),
        // Deep inside the body.
        (
            replace_once(
                &wire,
                r#""tlp":"amber+strict""#,
                r#""tlp":"amber+strict","tlp":"clear""#,
            ),
            "tlp",
        ),
        // At the top level, beside the signature.
        (
            replace_once(
                &wire,
                r#"{"envelope":"#,
                r#"{"signature":"AAAA","envelope":"#,
            ),
            "signature",
        ),
    ];
    for (bytes, key) in cases {
        assert_eq!(
            parse(&bytes).map(|_| ()),
            Err(ProtocolError::DuplicateKey(key.into())),
            "{key}"
        );
    }
}

#[test]
fn a_duplicate_key_spelled_with_escapes_is_still_a_duplicate() {
    let wire = sealed_request().to_bytes();

    let bytes = replace_once(&wire, r#""seq":1,"#, r#""seq":1,"s\u0065q":2,"#);

    assert_eq!(
        parse(&bytes).map(|_| ()),
        Err(ProtocolError::DuplicateKey("seq".into()))
    );
}

#[test]
fn a_duplicate_key_error_names_the_key_as_it_is() {
    // Keys with quotes, backslashes or control characters must come back unescaped, not
    // in Rust's debug spelling.
    for key in [
        "a\"b",
        "a\\b",
        "line\nbreak",
        "\"quoted\"",
        "é",
        " at line 1",
    ] {
        let json = serde_json::to_string(key).expect("a JSON string");
        let input = format!("{{{json}:1,{json}:2}}");

        assert_eq!(
            detente_protocol::parse_strict(input.as_bytes(), 1024),
            Err(ProtocolError::DuplicateKey(key.into())),
            "{key:?}"
        );
    }
}

#[test]
fn an_unknown_field_is_rejected_at_every_level() {
    let sealed = sealed_request();
    let mut top = sealed.to_value();
    top["note"] = json!("hello");
    let mut header = sealed.to_value();
    header["envelope"]["priority_hint"] = json!("urgent");
    let mut body = sealed.to_value();
    body["envelope"]["body"]["deadline"] = json!("2026-12-01T00:00:00.000Z");
    let mut observable = sealed.to_value();
    observable["envelope"]["body"]["observables"][0]["confidence"] = json!(90);

    for (what, value) in [
        ("top", top),
        ("header", header),
        ("body", body),
        ("observable", observable),
    ] {
        assert!(
            is_invalid(&parse(&canonical_bytes(&value)), "unknown field"),
            "{what}: {:?}",
            parse(&canonical_bytes(&value)).map(|_| ())
        );
    }
}

#[test]
fn an_unknown_field_is_rejected_even_behind_a_valid_signature() {
    let mut payload = payload_object(&sealed_request());
    payload.insert("x-vendor".into(), json!(true));

    let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

    assert!(is_invalid(&parse(&bytes), "unknown field"));
}

#[test]
fn a_missing_or_malformed_signature_is_rejected() {
    let sealed = sealed_request();
    let envelope = sealed.to_value()["envelope"].clone();
    let too_short = base64_of(&[0u8; 63]);
    let cases = [
        json!({ "envelope": envelope }),
        json!({ "envelope": envelope, "signature": null }),
        json!({ "envelope": envelope, "signature": 42 }),
        json!({ "envelope": envelope, "signature": "not base64!" }),
        json!({ "envelope": envelope, "signature": too_short }),
        json!({ "signature": sealed.to_value()["signature"] }),
        json!([envelope]),
    ];
    for value in cases {
        assert!(parse(&canonical_bytes(&value)).is_err(), "{value}");
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_number_written_as_a_float_is_not_the_accepted_form() {
    // `1.0` and `1e0` canonicalise to `1`, so the signature alone would not catch them;
    // the typed view refuses them instead of silently rewriting what arrived.
    let wire = sealed_request().to_bytes();
    for spelling in ["1.0", "1e0", "1E0", "10e-1", "0.1e1"] {
        let bytes = replace_once(&wire, r#""seq":1,"#, &format!(r#""seq":{spelling},"#));

        assert!(is_invalid(&parse(&bytes), "envelope"), "{spelling}");
    }
    for spelling in ["1.0", "1e0"] {
        let bytes = replace_once(&wire, r#""v":1"#, &format!(r#""v":{spelling}"#));

        assert!(is_invalid(&parse(&bytes), "envelope"), "v {spelling}");
    }
}

#[test]
fn an_upper_case_message_id_is_rejected() {
    let sealed = sealed_request();
    let id = sealed.payload().id.to_string();

    let bytes = replace_once(&sealed.to_bytes(), &id, &id.to_uppercase());

    assert!(is_invalid(&parse(&bytes), "message id"));
}

#[test]
fn other_spellings_of_ids_times_and_digests_are_rejected() {
    let wire = sealed_request().to_bytes();
    let respellings = [
        ("2026-11-27T03:16:20.123Z", "2026-11-27T03:16:20.123+00:00"),
        ("2026-11-27T03:16:20.123Z", "2026-11-27T03:16:20.1230Z"),
        ("US-2026-0042", "US-2026-00042"),
        (r#""from":"US""#, r#""from":"us""#),
    ];
    for (from, to) in respellings {
        let bytes = replace_once(&wire, from, to);

        assert!(parse(&bytes).is_err(), "{to}");
    }
    let digest = sealed_request().payload().agreement.to_string();
    let bytes = replace_once(&wire, &digest, &digest.to_uppercase());
    assert!(parse(&bytes).is_err(), "upper-case digest");
}

#[test]
fn an_explicit_null_for_an_absent_optional_field_is_not_the_accepted_form() {
    // `"in_reply_to": null` means the same as leaving it out, so there would be two
    // spellings of one envelope, each with its own hash.
    let mut payload = payload_object(&sealed_request());
    payload.insert("in_reply_to".into(), Value::Null);

    let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

    assert!(is_invalid(&parse(&bytes), "one accepted form"));
}

#[test]
fn a_preservation_request_without_the_art_29_particulars_cannot_be_sealed() {
    let mut envelope = preservation_envelope();
    let Body::Request(request) = &mut envelope.body else {
        unreachable!("a request")
    };
    request.preservation = None;

    let sealed = Signed::seal(envelope, &us_key());

    assert!(matches!(sealed, Err(ProtocolError::Invalid(m)) if m.contains("art. 29(2)")));
}

#[test]
fn a_preservation_request_without_the_art_29_particulars_is_rejected_on_arrival() {
    let sealed = Signed::seal(preservation_envelope(), &us_key()).expect("valid");
    let mut payload = payload_object(&sealed);
    payload["body"]
        .as_object_mut()
        .expect("an object")
        .remove("preservation");

    let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

    assert!(is_invalid(&parse(&bytes), "art. 29(2)"));
}

#[test]
fn a_preservation_request_with_an_empty_particular_is_rejected() {
    for field in ["authority", "offence", "data", "custodian", "necessity"] {
        let sealed = Signed::seal(preservation_envelope(), &us_key()).expect("valid");
        let mut payload = payload_object(&sealed);
        payload["body"]["preservation"][field] = json!("");

        let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

        assert!(is_invalid(&parse(&bytes), field), "{field}");
    }
}

#[test]
fn only_preservation_requests_carry_preservation_particulars() {
    let mut envelope = preservation_envelope();
    let Body::Request(request) = &mut envelope.body else {
        unreachable!("a request")
    };
    request.kind = RequestKind::Evidence;

    assert!(matches!(
        Signed::seal(envelope, &us_key()),
        Err(ProtocolError::Invalid(m)) if m.contains("only preservation requests")
    ));
}

#[test]
fn an_oversized_envelope_is_rejected_before_parsing() {
    let wire = sealed_request().to_bytes();

    assert_eq!(
        Signed::<Envelope>::parse(&wire, wire.len() - 1).map(|_| ()),
        Err(ProtocolError::TooLarge {
            size: wire.len(),
            limit: wire.len() - 1
        })
    );
    assert!(Signed::<Envelope>::parse(&wire, wire.len()).is_ok());
}

#[test]
fn input_over_the_protocol_limit_is_too_large_whatever_it_contains() {
    let junk = vec![b'['; MAX_MESSAGE_BYTES + 1];

    assert_eq!(
        parse(&junk).map(|_| ()),
        Err(ProtocolError::TooLarge {
            size: MAX_MESSAGE_BYTES + 1,
            limit: MAX_MESSAGE_BYTES
        })
    );
}

#[test]
fn another_wire_version_is_rejected_on_arrival_and_cannot_be_sealed() {
    let mut payload = payload_object(&sealed_request());
    payload.insert("v".into(), json!(2));
    let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

    assert!(is_invalid(&parse(&bytes), "wire version 2"));
    let mut envelope = request_envelope();
    envelope.v = WIRE_VERSION + 1;
    assert!(matches!(
        Signed::seal(envelope, &us_key()),
        Err(ProtocolError::Invalid(m)) if m.contains("wire version")
    ));
}

#[test]
fn a_message_to_oneself_is_rejected() {
    let mut envelope = request_envelope();
    envelope.to = envelope.from.clone();

    assert!(matches!(
        Signed::seal(envelope, &us_key()),
        Err(ProtocolError::Invalid(m)) if m.contains("same party")
    ));
}

#[test]
fn seq_must_be_between_1_and_2_pow_53_minus_1() {
    for (seq, ok) in [
        (0, false),
        (1, true),
        ((1 << 53) - 1, true),
        (1 << 53, false),
        (u64::MAX, false),
    ] {
        let mut envelope = request_envelope();
        envelope.seq = seq;

        assert_eq!(Signed::seal(envelope, &us_key()).is_ok(), ok, "{seq}");
    }
}

#[test]
fn a_rating_outside_1_to_5_is_rejected() {
    for score in [0, 6, 255] {
        let mut envelope = answer_envelope();
        envelope.body = Body::Rating(RatingBody {
            score,
            comment: String::new(),
        });

        assert!(Signed::seal(envelope, &cn_key()).is_err(), "{score}");
    }
}

#[test]
fn an_invalid_observable_is_rejected() {
    let sealed = sealed_request();
    for (kind, value) in [
        ("ip", "203.0.113.256"),
        ("domain", "-bad-.example"),
        ("sha256", "abc"),
        ("cidr", "10.0.0.0/33"),
        ("email", "@example.org"),
    ] {
        let mut payload = payload_object(&sealed);
        payload["body"]["observables"][0] = json!({ "type": kind, "value": value });

        let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

        assert!(parse(&bytes).is_err(), "{kind}:{value}");
    }
}

#[test]
fn stix_objects_ride_in_requests_and_answers_and_old_messages_sign_the_same_bytes() {
    let answer = answer_envelope();
    let sealed = Signed::seal(answer, &cn_key()).expect("seals");
    let received = parse(&sealed.to_bytes()).expect("parses");
    let Body::Answer(body) = &received.payload().body else {
        panic!("an answer")
    };
    assert_eq!(body.objects, vec![crate::support::sighting()]);
    // A request without objects leaves the key out, so what was signed before objects
    // existed still verifies byte for byte.
    let request = sealed_request();
    assert!(!String::from_utf8_lossy(request.payload_bytes()).contains("\"objects\""));
}

#[test]
fn an_object_without_a_type_and_matching_id_is_rejected() {
    let sealed = sealed_request();
    for object in [
        json!({ "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" }),
        json!({ "type": "indicator" }),
        json!({ "type": "indicator", "id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" }),
        json!({ "type": "indicator", "id": 7 }),
    ] {
        let mut payload = payload_object(&sealed);
        payload["body"]["objects"] = json!([object]);

        let bytes = sign_raw::<Envelope>(Value::Object(payload), &us_key());

        assert!(
            matches!(
                parse(&bytes),
                Err(ProtocolError::BadValue {
                    what: "objects",
                    ..
                })
            ),
            "{object}"
        );
    }
}

#[test]
fn an_integer_beyond_2_pow_53_is_rejected_because_its_canonical_form_is_lossy() {
    // Regression: RFC 8785 writes every number as an IEEE double, so an attachment size of
    // 2^53 + 1 had the same canonical bytes as 2^53. A relay could rewrite the size on the wire
    // without breaking the signature, and the receiver's typed payload then said something the
    // sender never signed. Integers outside +-(2^53-1) are now refused.
    let sealed = Signed::seal(answer_envelope(), &cn_key()).expect("valid");
    let mut payload = payload_object(&sealed);
    payload["body"]["attachments"][0]["size"] = json!(9_007_199_254_740_992_u64);
    let signed_2_pow_53 = sign_raw::<Envelope>(Value::Object(payload), &cn_key());
    let rewritten = replace_once(&signed_2_pow_53, "9007199254740992", "9007199254740993");

    for wire in [signed_2_pow_53, rewritten] {
        assert!(
            is_invalid(&parse(&wire), "2^53"),
            "{:?}",
            parse(&wire).map(|r| (r.payload().clone(), r.verify(&cn_key().public_key())))
        );
    }
}

#[test]
fn an_attachment_size_up_to_2_pow_53_minus_1_can_be_sealed_and_no_more() {
    for (size, ok) in [
        ((1u64 << 53) - 1, true),
        (1 << 53, false),
        (u64::MAX, false),
    ] {
        let mut envelope = answer_envelope();
        let Body::Answer(answer) = &mut envelope.body else {
            unreachable!("an answer")
        };
        answer.attachments[0].size = size;

        let sealed = Signed::seal(envelope, &cn_key());

        assert_eq!(sealed.is_ok(), ok, "{size}");
        if let Ok(sealed) = sealed {
            let received = parse(&sealed.to_bytes()).expect("it parses");
            assert_eq!(received.payload(), sealed.payload());
        }
    }
}

#[test]
fn a_whole_float_between_2_pow_53_and_1e21_is_refused_when_sealing() {
    // Regression: a STIX property of 1e16 was sealed as `10000000000000000`, an integer
    // literal beyond 2^53 that the node itself then could not read back (HTTP 500).
    for (weight, ok) in [
        (json!(1e15), true),
        (json!(1e16), false),
        (json!(1.5e20), false),
        (json!(1e21), true),
        (json!(0.5), true),
    ] {
        let mut envelope = request_envelope();
        let Body::Request(request) = &mut envelope.body else {
            unreachable!("a request")
        };
        let Value::Object(object) = json!({"type": "note", "id": "note--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21", "x_weight": weight})
        else {
            unreachable!("an object literal")
        };
        request.objects = vec![object];

        let sealed = Signed::seal(envelope, &cn_key());

        assert_eq!(sealed.is_ok(), ok, "{weight}: {:?}", sealed.as_ref().err());
        if let Ok(sealed) = sealed {
            // JSON has one number type: what comes back is the same canonical bytes.
            let received = parse(&sealed.to_bytes()).expect("what was sealed parses back");
            assert_eq!(received.to_bytes(), sealed.to_bytes());
        }
    }
}

#[test]
fn an_envelope_is_not_a_receipt() {
    let wire = sealed_request().to_bytes();

    let as_receipt = Signed::<detente_protocol::Receipt>::parse(&wire, MAX_MESSAGE_BYTES);

    assert!(matches!(as_receipt, Err(ProtocolError::Invalid(m)) if m.contains("receipt")));
}

#[test]
fn the_acting_agency_is_signed_and_a_malformed_one_is_refused() {
    // Arrange
    let mut env = request_envelope();
    env.agency = Some("fbi".into());
    let signed = Signed::seal(env.clone(), &us_key()).expect("a valid agency seals");

    // Act and assert: it survives the wire as signed.
    let back = parse(&signed.to_bytes()).expect("our own envelope parses");
    assert_eq!(back.payload().agency.as_deref(), Some("fbi"));
    // Absent, it is absent from the bytes: envelopes without one are unchanged.
    let plain = Signed::seal(request_envelope(), &us_key()).expect("seals");
    assert!(!String::from_utf8_lossy(&plain.to_bytes()).contains("agency"));
    // A name outside the short-name rule (escape sequences, capitals, length) is refused.
    for bad in ["FBI", "f\u{1b}[2J", "", &"a".repeat(33)] {
        env.agency = Some(bad.into());
        assert!(Signed::seal(env.clone(), &us_key()).is_err(), "{bad:?}");
    }
}
