//! Fixtures for the integration tests: fixed keys, a valid request and its receipt, and a way
//! to sign hand-built JSON so that a rejection can be tested behind a valid signature.

use std::path::PathBuf;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_protocol::{
    AnswerBody, AttachmentRef, Body, CaseId, Digest, Envelope, MessageId, Observable,
    ObservableType, PartyId, PreservationDetails, Priority, Receipt, RequestBody, RequestKind,
    SecretKey, Signable, Signed, Timestamp, Tlp, WIRE_VERSION, canonical_bytes,
};
use serde_json::{Map, Value, json};

/// The path of a file under `tests/vectors/`.
pub fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(relative)
}

/// The bytes of a file under `tests/vectors/`.
pub fn vector(relative: &str) -> Vec<u8> {
    let path = vector_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn party(code: &str) -> PartyId {
    PartyId::parse(code).expect("a valid party code")
}

/// The requesting node's key (a fixed seed, so failures reproduce).
pub fn us_key() -> SecretKey {
    SecretKey::from_seed(&[0x55; 32])
}

/// The responding node's key.
pub fn cn_key() -> SecretKey {
    SecretKey::from_seed(&[0xc7; 32])
}

pub fn agreement() -> Digest {
    Digest::of(b"the agreement document")
}

pub fn sent_at() -> Timestamp {
    Timestamp::parse("2026-11-27T03:16:20.123Z").expect("a valid timestamp")
}

pub fn message_id() -> MessageId {
    MessageId::parse("0b7c4a52-3f0e-4d7e-9a51-6c2f1e8d9b30").expect("a valid message id")
}

/// An information request from US to CN, with observables and an attachment.
pub fn request_envelope() -> Envelope {
    Envelope {
        v: WIRE_VERSION,
        id: message_id(),
        agreement: agreement(),
        from: party("US"),
        to: party("CN"),
        seq: 1,
        sent_at: sent_at(),
        case: CaseId::parse("US-2026-0042").expect("a valid case id"),
        in_reply_to: None,
        checkpoint: None,
        agency: None,
        body: Body::Request(RequestBody {
            kind: RequestKind::Information,
            category: "ip-theft".into(),
            priority: Priority::High,
            tlp: Tlp::AmberStrict,
            title: "Exfiltration to 203.0.113.7".into(),
            narrative: "A staging server exfiltrated design files; who operates it?".into(),
            observables: vec![
                Observable {
                    kind: ObservableType::Ip,
                    value: "203.0.113.7".into(),
                },
                Observable {
                    kind: ObservableType::Domain,
                    value: "c2.example".into(),
                },
            ],
            attachments: vec![AttachmentRef {
                name: "netflow.csv".into(),
                media_type: "text/csv".into(),
                size: 48_213,
                sha256: Digest::of(b"netflow"),
            }],
            objects: Vec::new(),
            attribution: None,
            preservation: None,
        }),
    }
}

/// A preservation request carrying every art. 29(2) particular.
pub fn preservation_envelope() -> Envelope {
    let mut envelope = request_envelope();
    let Body::Request(request) = &mut envelope.body else {
        unreachable!("request_envelope has a request body")
    };
    request.kind = RequestKind::Preservation;
    request.preservation = Some(PreservationDetails {
        authority: "FBI Cyber Division".into(),
        offence: "Theft of trade secrets (18 U.S.C. 1832)".into(),
        data: "Subscriber and connection logs of 203.0.113.7".into(),
        custodian: "Example Hosting Ltd., Shanghai".into(),
        necessity: "Logs are kept for 30 days".into(),
        mutual_assistance_to_follow: true,
    });
    envelope
}

/// A final answer from CN to US in the same case.
pub fn answer_envelope() -> Envelope {
    Envelope {
        v: WIRE_VERSION,
        id: MessageId::parse("5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6").expect("a valid message id"),
        agreement: agreement(),
        from: party("CN"),
        to: party("US"),
        seq: 1,
        sent_at: sent_at(),
        case: CaseId::parse("US-2026-0042").expect("a valid case id"),
        in_reply_to: Some(message_id()),
        checkpoint: None,
        agency: None,
        body: Body::Answer(AnswerBody {
            is_final: true,
            text: "The server belongs to a hosting customer; logs attached.".into(),
            observables: vec![],
            attachments: vec![AttachmentRef {
                name: "logs.tar".into(),
                media_type: "application/x-tar".into(),
                size: 1024,
                sha256: Digest::of(b"logs"),
            }],
            objects: vec![sighting()],
        }),
    }
}

pub fn sealed_request() -> Signed<Envelope> {
    Signed::seal(request_envelope(), &us_key()).expect("the fixture request is valid")
}

/// CN's receipt for `envelope`.
pub fn receipt_for(envelope: &Signed<Envelope>) -> Receipt {
    let e = envelope.payload();
    Receipt {
        v: WIRE_VERSION,
        agreement: e.agreement,
        issuer: e.to.clone(),
        sender: e.from.clone(),
        envelope_id: e.id,
        envelope_hash: envelope.payload_hash(),
        seq: e.seq,
        case: e.case.clone(),
        received_at: Timestamp::parse("2026-11-27T03:16:21.000Z").expect("a valid timestamp"),
        log_index: Some(41),
        checkpoint: None,
    }
}

pub fn sealed_receipt() -> Signed<Receipt> {
    Signed::seal(receipt_for(&sealed_request()), &cn_key()).expect("the fixture receipt is valid")
}

/// The payload of `signed` as a mutable JSON object.
pub fn payload_object<T: Signable>(signed: &Signed<T>) -> Map<String, Value> {
    match serde_json::from_slice(signed.payload_bytes()).expect("payload bytes are JSON") {
        Value::Object(map) => map,
        other => panic!("payload is not an object: {other}"),
    }
}

/// Wire bytes `{"<field>": payload, "signature": ...}` with a valid signature by `key` over
/// `CONTEXT || JCS(payload)`, whatever the payload says. Rejections tested with these bytes
/// cannot be blamed on the signature.
pub fn sign_raw<T: Signable>(payload: Value, key: &SecretKey) -> Vec<u8> {
    let mut message = T::CONTEXT.to_vec();
    message.extend_from_slice(&canonical_bytes(&payload));
    let signature = key.sign(&message);
    let mut wire = Map::new();
    wire.insert(T::FIELD.to_owned(), payload);
    wire.insert("signature".to_owned(), json!(STANDARD.encode(signature)));
    canonical_bytes(&Value::Object(wire))
}

/// Replaces the one occurrence of `from` in `bytes` by `to`.
pub fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).expect("wire bytes are UTF-8");
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur exactly once in {text}"
    );
    text.replacen(from, to, 1).into_bytes()
}

/// A STIX 2.1 sighting, as a mitigation answer carries it.
pub fn sighting() -> detente_protocol::StixValue {
    let serde_json::Value::Object(o) = serde_json::json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--6b8a3e6f-3c1a-5a4e-9d3e-2f1c0b7a9e11",
        "created": "2026-05-04T10:00:00.000Z",
        "modified": "2026-05-04T10:00:00.000Z",
        "count": 12,
        "sighting_of_ref": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    }) else {
        unreachable!("a JSON object literal")
    };
    o
}
