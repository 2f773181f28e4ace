//! Signed receipts, and the context separation that keeps a receipt's signature from ever
//! passing as an envelope's (or the other way round).

use detente_protocol::{
    Envelope, MAX_MESSAGE_BYTES, ProtocolError, Receipt, Signable, Signed, WIRE_VERSION,
    canonical_bytes,
};
use serde_json::{Value, json};

use crate::support::{
    answer_envelope, cn_key, payload_object, receipt_for, replace_once, sealed_receipt,
    sealed_request, sign_raw, us_key,
};

fn parse(bytes: &[u8]) -> Result<Signed<Receipt>, ProtocolError> {
    Signed::<Receipt>::parse(bytes, MAX_MESSAGE_BYTES)
}

#[test]
fn a_sealed_receipt_survives_the_wire_and_verifies() {
    let sealed = sealed_receipt();

    let received = parse(&sealed.to_bytes()).expect("our own receipt parses");

    assert_eq!(received.verify(&cn_key().public_key()), Ok(()));
    assert_eq!(received.payload(), sealed.payload());
    assert_eq!(received.to_bytes(), sealed.to_bytes());
}

#[test]
fn a_receipt_names_the_envelope_by_the_hash_of_its_canonical_payload() {
    let envelope = sealed_request();
    let received =
        Signed::<Envelope>::parse(&envelope.to_bytes(), MAX_MESSAGE_BYTES).expect("it parses");

    let receipt = receipt_for(&received);

    assert_eq!(receipt.envelope_hash, envelope.payload_hash());
    assert_eq!(
        receipt.envelope_hash,
        detente_protocol::Digest::of(envelope.payload_bytes())
    );
}

#[test]
fn a_flipped_byte_in_the_received_at_time_breaks_the_signature() {
    let wire = sealed_receipt().to_bytes();
    let altered = replace_once(&wire, "03:16:21.000Z", "03:16:20.000Z");

    let received = parse(&altered).expect("still well-formed");

    assert_eq!(
        received.verify(&cn_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn no_single_bit_flip_anywhere_yields_a_verified_receipt() {
    let wire = sealed_receipt().to_bytes();
    let key = cn_key().public_key();
    for i in 0..wire.len() {
        for mask in [0x01, 0x04, 0x40] {
            let mut altered = wire.clone();
            altered[i] ^= mask;

            if let Ok(received) = parse(&altered) {
                assert_eq!(
                    received.verify(&key),
                    Err(ProtocolError::BadSignature),
                    "byte {i} ^ {mask:#04x}"
                );
            }
        }
    }
}

#[test]
fn the_envelope_and_receipt_contexts_are_distinct_and_neither_prefixes_the_other() {
    assert!(!Envelope::CONTEXT.starts_with(Receipt::CONTEXT));
    assert!(!Receipt::CONTEXT.starts_with(Envelope::CONTEXT));
    // Each ends in NUL, which canonical JSON never contains raw, so the context and the
    // payload cannot be re-split into a different (context, payload) pair.
    assert_eq!(Envelope::CONTEXT.last(), Some(&0));
    assert_eq!(Receipt::CONTEXT.last(), Some(&0));
}

#[test]
fn a_receipt_signature_cannot_be_replayed_as_an_envelope_signature() {
    // CN signs a receipt. Someone builds an "envelope" whose canonical payload bytes are
    // exactly the receipt's and attaches CN's receipt signature: the bytes signed are the
    // same, only the context differs, and that alone must make verification fail.
    let receipt = sealed_receipt();
    let key = cn_key().public_key();

    let mut as_envelope = Envelope::CONTEXT.to_vec();
    as_envelope.extend_from_slice(receipt.payload_bytes());

    assert_eq!(
        key.verify(&receipt.signed_message(), receipt.signature()),
        Ok(())
    );
    assert_eq!(
        key.verify(&as_envelope, receipt.signature()),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn an_envelope_signature_cannot_be_replayed_on_a_receipt() {
    // CN sealed an answer envelope; a forger swaps that signature onto a receipt CN never
    // issued. Both are CN's, neither verifies on the other's payload.
    let answer = Signed::seal(answer_envelope(), &cn_key()).expect("valid");
    let receipt = sealed_receipt();
    let mut value = receipt.to_value();
    value["signature"] = answer.to_value()["signature"].clone();

    let forged = parse(&canonical_bytes(&value)).expect("well-formed");

    assert_eq!(
        forged.verify(&cn_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}

#[test]
fn a_signature_over_the_bare_payload_without_context_is_rejected() {
    // A key also used to sign plain canonical JSON elsewhere must not yield receipts.
    let receipt = sealed_receipt();
    let bare = cn_key().sign(receipt.payload_bytes());
    let mut value = receipt.to_value();
    value["signature"] = json!(base64_of(&bare));

    let forged = parse(&canonical_bytes(&value)).expect("well-formed");

    assert_eq!(
        forged.verify(&cn_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn a_receipt_is_not_an_envelope() {
    let wire = sealed_receipt().to_bytes();

    let as_envelope = Signed::<Envelope>::parse(&wire, MAX_MESSAGE_BYTES);

    assert!(matches!(as_envelope, Err(ProtocolError::Invalid(m)) if m.contains("envelope")));
}

#[test]
fn a_receipt_payload_under_the_envelope_field_does_not_parse_as_an_envelope() {
    let receipt = sealed_receipt();
    let payload = Value::Object(payload_object(&receipt));

    let bytes = sign_raw::<Envelope>(payload, &cn_key());

    assert!(Signed::<Envelope>::parse(&bytes, MAX_MESSAGE_BYTES).is_err());
}

#[test]
fn a_receipt_with_another_wire_version_or_a_zero_seq_is_rejected() {
    let receipt = sealed_receipt();
    for (field, value) in [("v", json!(WIRE_VERSION + 1)), ("seq", json!(0))] {
        let mut payload = payload_object(&receipt);
        payload.insert(field.into(), value);

        let bytes = sign_raw::<Receipt>(Value::Object(payload), &cn_key());

        assert!(
            matches!(parse(&bytes), Err(ProtocolError::Invalid(_))),
            "{field}"
        );
    }
}

#[test]
fn a_receipt_with_an_unknown_field_or_a_duplicate_key_is_rejected() {
    let receipt = sealed_receipt();
    let mut payload = payload_object(&receipt);
    payload.insert("note".into(), json!("late"));
    let unknown = sign_raw::<Receipt>(Value::Object(payload), &cn_key());
    let duplicate = replace_once(&receipt.to_bytes(), r#""seq":1,"#, r#""seq":1,"seq":7,"#);

    assert!(
        matches!(parse(&unknown), Err(ProtocolError::Invalid(m)) if m.contains("unknown field"))
    );
    assert_eq!(
        parse(&duplicate).map(|_| ()),
        Err(ProtocolError::DuplicateKey("seq".into()))
    );
}

#[test]
fn a_receipt_does_not_verify_under_the_senders_key() {
    let received = parse(&sealed_receipt().to_bytes()).expect("it parses");

    assert_eq!(
        received.verify(&us_key().public_key()),
        Err(ProtocolError::BadSignature)
    );
}
