//! Taking typed properties out of a JSON object, one by one, with errors that name them.
//!
//! Each STIX type's parser removes the properties it knows from the list; what remains is
//! the object's custom properties, kept verbatim so they round-trip. The top level of an
//! object is read as a flat list of entries ([`RawObject`]) rather than a sorted map: it is
//! cheaper for the ~15 properties of a typical object, and it sees duplicate keys, which a
//! map would silently collapse to the last one.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::ObjectError;
use crate::id::StixId;
use crate::timestamp::Timestamp;

/// Properties that STIX 2.1 reserves and forbids on every object (§3.1, "reserved").
const RESERVED: [&str; 4] = ["severity", "action", "username", "phone_numbers"];

/// The top level of one JSON value read for a STIX object: the entries of an object in
/// document order (with the first repeated key, if any), or any other value.
#[derive(Debug, Clone, PartialEq)]
pub enum RawObject {
    /// A JSON object.
    Entries {
        /// The entries, in document order.
        entries: Vec<(String, Value)>,
        /// The first key that appeared twice.
        duplicate: Option<String>,
    },
    /// Not a JSON object.
    Other(Value),
}

impl RawObject {
    /// The string value of a top-level key.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self {
            RawObject::Entries { entries, .. } => entries
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.as_str()),
            RawObject::Other(_) => None,
        }
    }

    /// Back to a JSON value (a repeated key keeps its last value, as serde_json does).
    pub fn into_value(self) -> Value {
        match self {
            RawObject::Entries { entries, .. } => Value::Object(entries.into_iter().collect()),
            RawObject::Other(v) => v,
        }
    }
}

impl From<Value> for RawObject {
    fn from(v: Value) -> Self {
        match v {
            Value::Object(m) => RawObject::Entries {
                entries: m.into_iter().collect(),
                duplicate: None,
            },
            other => RawObject::Other(other),
        }
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawObject;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(16));
        let mut duplicate = None;
        while let Some(k) = map.next_key::<String>()? {
            let v: Value = map.next_value()?;
            if duplicate.is_none() && entries.iter().any(|(e, _)| *e == k) {
                duplicate = Some(k.clone());
            }
            entries.push((k, v));
        }
        Ok(RawObject::Entries { entries, duplicate })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawObject, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RawObject::Other)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::String(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawObject, E> {
        Ok(RawObject::Other(Value::Null))
    }
}

/// The properties of one object still to be read.
pub(crate) struct Props(Vec<(String, Value)>);

impl Props {
    pub(crate) fn new(map: Map<String, Value>) -> Self {
        Self(map.into_iter().collect())
    }

    pub(crate) fn from_entries(entries: Vec<(String, Value)>) -> Self {
        Self(entries)
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(i).1)
    }

    /// Removes and converts a required property.
    pub(crate) fn req<T: FromProp>(&mut self, key: &'static str) -> Result<T, ObjectError> {
        match self.remove(key) {
            None => Err(ObjectError::Missing(key)),
            Some(v) => convert(key, v),
        }
    }

    /// Removes and converts an optional property.
    pub(crate) fn opt<T: FromProp>(&mut self, key: &'static str) -> Result<Option<T>, ObjectError> {
        match self.remove(key) {
            None => Ok(None),
            Some(v) => convert(key, v).map(Some),
        }
    }

    /// What is left: the custom properties, checked against the naming rule (3–250
    /// characters of `a-z`, `0-9`, `_`), the reserved names and the ban on `null`.
    pub(crate) fn into_extra(self) -> Result<Map<String, Value>, ObjectError> {
        for (k, v) in &self.0 {
            if RESERVED.contains(&k.as_str()) {
                return Err(ObjectError::invalid(
                    k.clone(),
                    "this name is reserved by STIX 2.1 and must not be used",
                ));
            }
            let b = k.as_bytes();
            if !(3..=250).contains(&b.len())
                || !b
                    .iter()
                    .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            {
                return Err(ObjectError::invalid(
                    clip(k),
                    "not a STIX property name; custom properties use 3-250 characters of a-z, 0-9 and _ (prefer an x_ prefix)",
                ));
            }
            if v.is_null() {
                return Err(ObjectError::invalid(
                    k.clone(),
                    "must not be null; leave the property out instead",
                ));
            }
        }
        Ok(self.0.into_iter().collect())
    }
}

fn convert<T: FromProp>(key: &str, v: Value) -> Result<T, ObjectError> {
    if v.is_null() {
        return Err(ObjectError::invalid(
            key,
            "must not be null; leave the property out instead",
        ));
    }
    T::from_prop(v).map_err(|e| match e {
        PropError::Reason(reason) => ObjectError::invalid(key, reason),
        PropError::Nested { path, reason } => ObjectError::invalid(format!("{key}{path}"), reason),
    })
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Why one property value was refused; `Nested` carries a path below the property.
pub(crate) enum PropError {
    Reason(String),
    Nested { path: String, reason: String },
}

impl From<String> for PropError {
    fn from(s: String) -> Self {
        PropError::Reason(s)
    }
}

impl From<&str> for PropError {
    fn from(s: &str) -> Self {
        PropError::Reason(s.to_owned())
    }
}

impl From<ObjectError> for PropError {
    fn from(e: ObjectError) -> Self {
        match e {
            ObjectError::Missing(p) => PropError::Nested {
                path: format!(".{p}"),
                reason: "required but missing".into(),
            },
            ObjectError::Invalid { property, reason } => PropError::Nested {
                path: format!(".{property}"),
                reason,
            },
            other => PropError::Reason(other.to_string()),
        }
    }
}

/// A type that one JSON property value converts into.
pub(crate) trait FromProp: Sized {
    fn from_prop(v: Value) -> Result<Self, PropError>;
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl FromProp for String {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(format!("must be a string, not {}", kind(&other)).into()),
        }
    }
}

impl FromProp for bool {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        v.as_bool()
            .ok_or_else(|| format!("must be true or false, not {}", kind(&v)).into())
    }
}

impl FromProp for i64 {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        v.as_i64()
            .ok_or_else(|| format!("must be an integer, not {v}").into())
    }
}

impl FromProp for Value {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        Ok(v)
    }
}

impl FromProp for Timestamp {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let s = String::from_prop(v)?;
        Timestamp::parse(&s).map_err(|e| e.to_string().into())
    }
}

impl FromProp for StixId {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let s = String::from_prop(v)?;
        StixId::parse(&s).map_err(|e| e.to_string().into())
    }
}

impl FromProp for Map<String, Value> {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        match v {
            Value::Object(m) if m.is_empty() => Err("must not be an empty object".into()),
            Value::Object(m) => Ok(m),
            other => Err(format!("must be an object, not {}", kind(&other)).into()),
        }
    }
}

/// STIX lists must not be empty (every `minItems: 1` in the schemas).
impl<T: FromProp> FromProp for Vec<T> {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let Value::Array(items) = v else {
            return Err(format!("must be a list, not {}", kind(&v)).into());
        };
        if items.is_empty() {
            return Err("must not be an empty list; leave the property out instead".into());
        }
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                if item.is_null() {
                    return Err(PropError::Nested {
                        path: format!("[{i}]"),
                        reason: "must not be null".into(),
                    });
                }
                T::from_prop(item).map_err(|e| match e {
                    PropError::Reason(reason) => PropError::Nested {
                        path: format!("[{i}]"),
                        reason,
                    },
                    PropError::Nested { path, reason } => PropError::Nested {
                        path: format!("[{i}]{path}"),
                        reason,
                    },
                })
            })
            .collect()
    }
}

impl FromProp for BTreeMap<String, String> {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let m = Map::from_prop(v)?;
        m.into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                other => Err(PropError::Nested {
                    path: format!(".{k}"),
                    reason: format!("must be a string, not {}", kind(&other)),
                }),
            })
            .collect()
    }
}
