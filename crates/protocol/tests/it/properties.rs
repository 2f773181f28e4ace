//! Property tests: canonicalisation is idempotent on arbitrary JSON, the strict parser accepts
//! everything the canonicaliser writes, and envelopes with arbitrary text survive the wire.

use detente_protocol::{
    Body, ClarificationBody, Envelope, MAX_MESSAGE_BYTES, Signed, canonical_bytes, parse_strict,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::support::{request_envelope, us_key};

/// Arbitrary JSON: every scalar kind (all finite doubles, the full i64 and u64 ranges, any
/// Unicode string) nested up to four levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        (-1_000_000i64..1_000_000, -30i32..30)
            .prop_filter_map("finite", |(m, e)| Number::from_f64(
                m as f64 * 10f64.powi(e)
            ))
            .prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #[test]
    fn canonicalisation_is_idempotent(value in json_value()) {
        let once = canonical_bytes(&value);

        let reparsed = parse_strict(&once, MAX_MESSAGE_BYTES);

        prop_assert!(reparsed.is_ok(), "{:?} for {}", reparsed, String::from_utf8_lossy(&once));
        let twice = canonical_bytes(&reparsed.expect("checked above"));
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn canonical_output_is_utf8_without_insignificant_whitespace(value in json_value()) {
        let bytes = canonical_bytes(&value);

        let text = String::from_utf8(bytes.clone());
        prop_assert!(text.is_ok());
        // Whitespace outside strings would be a second spelling of the same value. Inside
        // strings only a raw space may appear; other whitespace controls are escaped.
        let mut in_string = false;
        let mut escaped = false;
        for b in bytes {
            if in_string {
                prop_assert!(b >= 0x20, "raw control {b:#04x} in a string");
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else {
                prop_assert!(!b" \t\r\n".contains(&b), "whitespace outside a string");
                in_string = b == b'"';
            }
        }
    }

    #[test]
    fn strict_parsing_agrees_with_serde_json_on_duplicate_free_input(value in json_value()) {
        // Pretty-printed, so the strict parser also sees whitespace it must skip.
        let pretty = serde_json::to_vec_pretty(&value).expect("serialisable");

        let strict = parse_strict(&pretty, usize::MAX).expect("duplicate-free JSON parses");
        let lax: Value = serde_json::from_slice(&pretty).expect("valid JSON");

        prop_assert_eq!(canonical_bytes(&strict), canonical_bytes(&lax));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn an_envelope_with_arbitrary_text_survives_the_wire(
        title in "\\PC{1,40}",
        narrative in any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        reply in ".{1,200}",
    ) {
        let mut request = request_envelope();
        if let Body::Request(r) = &mut request.body {
            r.title = title;
            r.narrative = narrative;
        }
        let mut clarification = request_envelope();
        clarification.body = Body::Clarification(ClarificationBody { text: reply });

        for envelope in [request, clarification] {
            let sealed = Signed::seal(envelope, &us_key());
            prop_assume!(sealed.is_ok());
            let sealed = sealed.expect("checked above");

            let received = Signed::<Envelope>::parse(&sealed.to_bytes(), MAX_MESSAGE_BYTES);

            prop_assert!(received.is_ok(), "{:?}", received.map(|_| ()));
            let received = received.expect("checked above");
            prop_assert_eq!(received.payload(), sealed.payload());
            prop_assert_eq!(received.to_bytes(), sealed.to_bytes());
            prop_assert!(received.verify(&us_key().public_key()).is_ok());
        }
    }
}
