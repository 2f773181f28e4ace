//! Strict JSON in, RFC 8785 canonical JSON out.
//!
//! `serde_json` silently keeps the last of two equal keys. A signer could then show one value
//! to a human and another to a verifier, so incoming JSON is parsed by [`parse_strict`], which
//! rejects duplicate keys before any signature is looked at.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::ProtocolError;

/// The largest message (signed envelope or receipt) a node accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Parses `bytes` as JSON, rejecting duplicate object keys and anything over `limit` bytes.
pub fn parse_strict(bytes: &[u8], limit: usize) -> Result<Value, ProtocolError> {
    if bytes.len() > limit {
        return Err(ProtocolError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize(&mut de).map_err(classify)?;
    de.end().map_err(classify)?;
    Ok(value.0)
}

/// The RFC 8785 canonical form of `value`.
pub fn canonical_bytes(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value)
        .expect("a serde_json::Value always has a canonical form")
}

const DUPLICATE_MARKER: &str = "duplicate object key ";

fn classify(e: serde_json::Error) -> ProtocolError {
    let text = e.to_string();
    match text.strip_prefix(DUPLICATE_MARKER) {
        Some(rest) => {
            // The key was written as a JSON string and serde_json appended " at line L
            // column C"; reading one JSON string from the front recovers the key exactly,
            // whatever quotes, escapes or " at line " it contains.
            let key = serde_json::Deserializer::from_str(rest)
                .into_iter::<String>()
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| rest.to_owned());
            ProtocolError::DuplicateKey(key)
        }
        None => ProtocolError::MalformedJson(text),
    }
}

/// A `serde_json::Value` whose deserialisation fails on a repeated object key.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictValue(v) = map.next_value()?;
            if out.contains_key(&key) {
                let quoted = Value::String(key);
                return Err(de::Error::custom(format!("{DUPLICATE_MARKER}{quoted}")));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_rejected_at_any_depth() {
        let err = parse_strict(br#"{"a":{"b":1,"b":2}}"#, 1024).expect_err("duplicate");
        assert_eq!(err, ProtocolError::DuplicateKey("b".into()));
    }

    #[test]
    fn trailing_garbage_is_malformed() {
        assert!(matches!(
            parse_strict(br#"{"a":1} x"#, 1024),
            Err(ProtocolError::MalformedJson(_))
        ));
    }

    #[test]
    fn oversized_input_is_rejected_before_parsing() {
        assert_eq!(
            parse_strict(b"[1,2,3]", 3),
            Err(ProtocolError::TooLarge { size: 7, limit: 3 })
        );
    }

    #[test]
    fn canonical_form_sorts_keys_and_drops_whitespace() {
        let v = parse_strict(br#"{ "b": [1, 2.50], "a": "\u00e9" }"#, 1024).expect("valid");
        assert_eq!(
            canonical_bytes(&v),
            "{\"a\":\"é\",\"b\":[1,2.5]}".as_bytes()
        );
    }
}
