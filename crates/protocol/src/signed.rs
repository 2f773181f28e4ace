//! A payload together with its sender's Ed25519 signature over the payload's canonical bytes.
//!
//! On the wire a signed value is `{"<field>": <payload>, "signature": "<base64>"}`. The
//! signature covers `CONTEXT || JCS(payload)`: the canonical bytes of what was received,
//! never a re-serialised struct, and a per-type context string so that a signature made for
//! a receipt can never pass as one made for an envelope.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::{
    Digest, PartyId, ProtocolError, PublicKey, SecretKey, canonical_bytes,
    message::MAX_SAFE_INTEGER, parse_strict,
};

/// A payload type that travels signed.
pub trait Signable: Serialize + DeserializeOwned {
    /// The name of the payload's field in the signed object.
    const FIELD: &'static str;
    /// Domain-separation prefix prepended to the canonical bytes before signing.
    const CONTEXT: &'static [u8];
    /// The party whose key must have made the signature.
    fn signer(&self) -> &PartyId;
    /// Checks rules that the type system alone does not express.
    fn validate(&self) -> Result<(), ProtocolError>;
}

/// A signed payload, holding the exact canonical bytes that were signed.
#[derive(Debug, Clone)]
pub struct Signed<T> {
    payload: T,
    payload_bytes: Vec<u8>,
    signature: [u8; 64],
}

impl<T: Signable> Signed<T> {
    /// Signs `payload` with `key`.
    pub fn seal(payload: T, key: &SecretKey) -> Result<Self, ProtocolError> {
        payload.validate()?;
        let payload_bytes = canonical_bytes(&exact_value::<T>(&payload)?);
        let signature = key.sign(&with_context::<T>(&payload_bytes));
        Ok(Self {
            payload,
            payload_bytes,
            signature,
        })
    }

    /// Parses a signed value from bytes: strict JSON, the right shape. Does not verify.
    pub fn parse(bytes: &[u8], limit: usize) -> Result<Self, ProtocolError> {
        Self::from_value(parse_strict(bytes, limit)?)
    }

    /// Reads a signed value out of already strictly-parsed JSON. Does not verify.
    pub fn from_value(value: Value) -> Result<Self, ProtocolError> {
        let Value::Object(mut obj) = value else {
            return Err(ProtocolError::Invalid(format!(
                "a signed {} must be a JSON object",
                T::FIELD
            )));
        };
        let payload_value = obj
            .remove(T::FIELD)
            .ok_or_else(|| ProtocolError::Invalid(format!("missing field {:?}", T::FIELD)))?;
        let signature = match obj.remove("signature") {
            Some(Value::String(s)) => decode_signature(&s)?,
            _ => {
                return Err(ProtocolError::Invalid(
                    "missing string field \"signature\"".into(),
                ));
            }
        };
        if let Some(extra) = obj.keys().next() {
            return Err(ProtocolError::Invalid(format!("unknown field {extra:?}")));
        }
        let payload_bytes = canonical_bytes(&payload_value);
        let payload: T = serde_json::from_value(payload_value)
            .map_err(|e| ProtocolError::Invalid(format!("{}: {e}", T::FIELD)))?;
        // The typed view must say exactly what was signed; anything it would drop or
        // rewrite (an unexpected number form, say) is refused rather than silently changed.
        let retyped = exact_value::<T>(&payload)?;
        if canonical_bytes(&retyped) != payload_bytes {
            return Err(ProtocolError::Invalid(format!(
                "{} is not in its one accepted form",
                T::FIELD
            )));
        }
        payload.validate()?;
        Ok(Self {
            payload,
            payload_bytes,
            signature,
        })
    }

    /// Verifies the signature under `key`, which must be the pinned key of the signer.
    pub fn verify(&self, key: &PublicKey) -> Result<(), ProtocolError> {
        key.verify(&with_context::<T>(&self.payload_bytes), &self.signature)
    }

    /// The message `verify` checks, for batch verification: `CONTEXT || JCS(payload)`.
    pub fn signed_message(&self) -> Vec<u8> {
        with_context::<T>(&self.payload_bytes)
    }

    /// The raw signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The typed payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The canonical JSON bytes of the payload alone.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.payload_bytes
    }

    /// SHA-256 of the payload's canonical bytes; receipts name envelopes by it.
    pub fn payload_hash(&self) -> Digest {
        Digest::of(&self.payload_bytes)
    }

    /// The signed object as a JSON value.
    pub fn to_value(&self) -> Value {
        let payload: Value = serde_json::from_slice(&self.payload_bytes)
            .expect("payload bytes are canonical JSON we produced or parsed");
        let mut obj = Map::new();
        obj.insert(T::FIELD.to_owned(), payload);
        obj.insert(
            "signature".to_owned(),
            Value::String(STANDARD.encode(self.signature)),
        );
        Value::Object(obj)
    }

    /// The canonical JSON bytes of the whole signed object: what is stored and logged.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical_bytes(&self.to_value())
    }
}

/// `payload` as JSON, refusing integers that canonical JSON cannot carry exactly.
///
/// RFC 8785 writes every number as an IEEE-754 double, so above 2^53 two integers can share
/// one canonical form: a relay could then change what the receiver reads (say, 2^53 + 1 for
/// 2^53) without breaking the signature. Integers outside +-(2^53 - 1), the I-JSON range of
/// RFC 7493, are therefore refused both when sealing and on arrival. So are whole-number
/// floats between 2^53 and 10^21 (a STIX property of `1e16`, say): RFC 8785 writes them as
/// integer literals (`10000000000000000`), which the receiver would have to refuse.
fn exact_value<T: Signable>(payload: &T) -> Result<Value, ProtocolError> {
    let value = serde_json::to_value(payload).map_err(|e| ProtocolError::Invalid(e.to_string()))?;
    if has_unsafe_integer(&value) {
        return Err(ProtocolError::Invalid(format!(
            "{} holds an integer outside +-(2^53-1), which canonical JSON cannot carry exactly",
            T::FIELD
        )));
    }
    Ok(value)
}

pub(crate) fn has_unsafe_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.as_u64().is_some_and(|u| u > MAX_SAFE_INTEGER)
                || n.as_i64()
                    .is_some_and(|i| i.unsigned_abs() > MAX_SAFE_INTEGER)
                || (n.is_f64()
                    && n.as_f64().is_some_and(|f| {
                        // Beyond 1e21 RFC 8785 switches to exponent form, which reads back
                        // as the same double.
                        f.fract() == 0.0 && f.abs() > MAX_SAFE_INTEGER as f64 && f.abs() < 1e21
                    }))
        }
        Value::Array(items) => items.iter().any(has_unsafe_integer),
        Value::Object(map) => map.values().any(has_unsafe_integer),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

fn with_context<T: Signable>(payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(T::CONTEXT.len() + payload.len());
    m.extend_from_slice(T::CONTEXT);
    m.extend_from_slice(payload);
    m
}

fn decode_signature(s: &str) -> Result<[u8; 64], ProtocolError> {
    STANDARD
        .decode(s)
        .map_err(|e| ProtocolError::bad("signature", e.to_string()))?
        .try_into()
        .map_err(|_| ProtocolError::bad("signature", "must be 64 bytes"))
}
