//! STIX identifiers (`type--UUID`) and the deterministic identifiers of cyber observables.
//!
//! STIX 2.1 §2.9: an observable's id is a UUIDv5 in the namespace
//! `00abedb4-aa42-466c-9c01-fed23315a9b7` over the RFC 8785 canonical JSON of its
//! id-contributing properties, so two producers who see the same IP address name it alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The namespace of deterministic observable ids, as STIX 2.1 §2.9 and the OASIS `stix2`
/// library (`SCO_DET_ID_NAMESPACE`) define it.
pub const STIX_SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// Why a string is not a STIX identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// There is no `--` between the type and the UUID.
    #[error("{0:?} is not of the form type--UUID")]
    NoSeparator(String),
    /// The type part breaks the naming rule for STIX types.
    #[error(
        "{0:?} is not a valid STIX type name (3-250 characters of a-z, 0-9 and '-', starting with a letter)"
    )]
    BadType(String),
    /// The UUID part is not a hyphenated RFC 4122 UUID of version 1 to 5.
    #[error("{0:?} is not an RFC 4122 UUID (8-4-4-4-12 hex digits, version 1-5, variant 10xx)")]
    BadUuid(String),
}

/// A STIX identifier such as `indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`.
///
/// Parsed once at the border: the type follows the STIX naming rule and the UUID is a
/// hyphenated RFC 4122 UUID, as the OASIS `identifier.json` schema demands. The text is kept
/// as written (the schema allows upper-case hex, and a re-export should not change it);
/// equality, order and hashing go by type and UUID value, so case does not matter.
#[derive(Debug, Clone)]
pub struct StixId {
    text: Box<str>,
    type_len: usize,
    uuid: Uuid,
}

impl StixId {
    /// Parses `type--UUID`.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let (ty, uuid) = s
            .rsplit_once("--")
            .ok_or_else(|| IdError::NoSeparator(clip(s)))?;
        check_type_name(ty).map_err(|()| IdError::BadType(clip(ty)))?;
        let uuid = parse_rfc4122(uuid).ok_or_else(|| IdError::BadUuid(clip(uuid)))?;
        Ok(Self {
            text: s.into(),
            type_len: ty.len(),
            uuid,
        })
    }

    /// Builds an id from a type name and a UUID.
    pub fn new(object_type: &str, uuid: Uuid) -> Result<Self, IdError> {
        check_type_name(object_type).map_err(|()| IdError::BadType(clip(object_type)))?;
        if !is_rfc4122(&uuid) {
            return Err(IdError::BadUuid(uuid.to_string()));
        }
        Ok(Self {
            text: format!("{object_type}--{}", uuid.hyphenated()).into(),
            type_len: object_type.len(),
            uuid,
        })
    }

    /// A stable id for something that has no STIX id of its own (a MISP attribute, say):
    /// a UUIDv5 of `name` in `namespace`.
    pub fn derived(object_type: &str, namespace: &Uuid, name: &[u8]) -> Result<Self, IdError> {
        Self::new(object_type, Uuid::new_v5(namespace, name))
    }

    /// The type part, e.g. `indicator`.
    pub fn object_type(&self) -> &str {
        &self.text[..self.type_len]
    }

    /// The UUID part.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// The id as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for StixId {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid && self.object_type() == other.object_type()
    }
}

impl Eq for StixId {}

impl std::hash::Hash for StixId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.object_type().hash(state);
        self.uuid.hash(state);
    }
}

impl PartialOrd for StixId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StixId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.object_type(), self.uuid).cmp(&(other.object_type(), other.uuid))
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for StixId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for StixId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StixId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Checks the STIX type-name rule: 3–250 characters, `a-z`, `0-9` and `-`, starting with a
/// letter, no `--` (schema `^([a-z][a-z0-9]*)+(-[a-z0-9]+)*\-?$`).
pub fn is_valid_type_name(ty: &str) -> bool {
    check_type_name(ty).is_ok()
}

fn check_type_name(ty: &str) -> Result<(), ()> {
    let b = ty.as_bytes();
    if !(3..=250).contains(&b.len()) || !b[0].is_ascii_lowercase() || ty.contains("--") {
        return Err(());
    }
    if b.iter()
        .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        Ok(())
    } else {
        Err(())
    }
}

fn parse_rfc4122(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let uuid = Uuid::try_parse(s).ok()?;
    is_rfc4122(&uuid).then_some(uuid)
}

fn is_rfc4122(uuid: &Uuid) -> bool {
    (1..=5).contains(&uuid.get_version_num()) && uuid.get_variant() == uuid::Variant::RFC4122
}

fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

/// The id-contributing properties of each observable type (STIX 2.1 §6, per object).
pub fn id_contributing_properties(object_type: &str) -> Option<&'static [&'static str]> {
    Some(match object_type {
        "artifact" => &["hashes", "payload_bin"],
        "autonomous-system" => &["number"],
        "directory" => &["path"],
        "domain-name" | "email-addr" | "ipv4-addr" | "ipv6-addr" | "mac-addr" | "url" => &["value"],
        "email-message" => &["from_ref", "subject", "body"],
        "file" => &["hashes", "name", "extensions", "parent_directory_ref"],
        "mutex" => &["name"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "process" => &[],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "x509-certificate" => &["hashes", "serial_number"],
        _ => return None,
    })
}

/// The deterministic id of an observable of `object_type` with properties `props`.
///
/// Returns `None` for types with no contributing properties (`process`, custom types) or when
/// none of them is present; the spec then asks for a UUIDv4 id, which the producer must pick.
/// Of a `hashes` dictionary only one hash contributes: MD5, else SHA-1, else SHA-256, else
/// SHA-512, else the first algorithm in sorted order.
pub fn deterministic_observable_id(
    object_type: &str,
    props: &Map<String, Value>,
) -> Option<StixId> {
    let contributing = id_contributing_properties(object_type)?;
    let mut chosen = Map::new();
    for &key in contributing {
        let Some(value) = props.get(key) else {
            continue;
        };
        let value = if key == "hashes" {
            let hashes = value.as_object()?;
            let pick = ["MD5", "SHA-1", "SHA-256", "SHA-512"]
                .iter()
                .find_map(|k| hashes.get_key_value(*k))
                .or_else(|| hashes.iter().next())?;
            let mut one = Map::new();
            one.insert(pick.0.clone(), pick.1.clone());
            Value::Object(one)
        } else {
            value.clone()
        };
        chosen.insert(key.to_owned(), value);
    }
    if chosen.is_empty() {
        return None;
    }
    let bytes = detente_protocol::canonical_bytes(&Value::Object(chosen));
    StixId::new(object_type, Uuid::new_v5(&STIX_SCO_NAMESPACE, &bytes)).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_id_round_trips_through_its_text() {
        let s = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        let id = StixId::parse(s).unwrap();
        assert_eq!(id.object_type(), "indicator");
        assert_eq!(id.to_string(), s);
    }

    #[test]
    fn upper_case_hex_is_kept_as_written_but_compares_equal() {
        let upper = StixId::parse("relationship--81f12913-1372-4c96-85ec-E9034ac98aba").unwrap();
        let lower = StixId::parse("relationship--81f12913-1372-4c96-85ec-e9034ac98aba").unwrap();
        assert_eq!(upper, lower);
        assert_eq!(
            upper.to_string(),
            "relationship--81f12913-1372-4c96-85ec-E9034ac98aba"
        );
    }

    #[test]
    fn malformed_ids_are_rejected_with_the_part_at_fault() {
        assert!(matches!(
            StixId::parse("indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(IdError::NoSeparator(_))
        ));
        assert!(matches!(
            StixId::parse("Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(IdError::BadType(_))
        ));
        // Version nibble 0 and a non-RFC-4122 variant.
        for bad in [
            "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f",
            "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f",
            "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
            "indicator--{8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3}",
        ] {
            assert!(
                matches!(StixId::parse(bad), Err(IdError::BadUuid(_))),
                "{bad}"
            );
        }
    }

    /// Known answers computed with the OASIS `stix2` Python library 3.0.2
    /// (`stix2.IPv4Address(value=...).id` and so on).
    #[test]
    fn deterministic_ids_match_the_oasis_python_library() {
        let cases = [
            (
                "ipv4-addr",
                json!({"value": "1.2.3.4"}),
                "ipv4-addr--0198f97b-e65d-5025-87e5-58bc39d4bdb4",
            ),
            (
                "ipv4-addr",
                json!({"value": "198.51.100.3"}),
                "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
            ),
            (
                "ipv6-addr",
                json!({"value": "2001:db8::1"}),
                "ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26",
            ),
            (
                "domain-name",
                json!({"value": "example.com"}),
                "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
            ),
            (
                "domain-name",
                json!({"value": "münchen.de"}),
                "domain-name--3e405748-78ce-58e4-a097-2d7e755c9567",
            ),
            (
                "url",
                json!({"value": "http://x4z9arb.cn/4712"}),
                "url--fa74d90b-2cc1-57af-aef9-c1ce4ec8d618",
            ),
            (
                "email-addr",
                json!({"value": "john@example.com"}),
                "email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934",
            ),
            (
                "file",
                json!({"hashes": {"SHA-256": "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"}}),
                "file--00967b13-6ef8-53e0-ac11-fcfb64b3c756",
            ),
            (
                "file",
                json!({"name": "a.exe", "hashes": {
                    "MD5": "0749bae92ca336a02c83d126e04ec628",
                    "SHA-256": "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"}}),
                "file--eba42b80-a36a-5024-915b-2bfeb238f352",
            ),
            (
                "file",
                json!({"name": "3Z4wnG9603it23y.exe"}),
                "file--deeeb324-9764-53e2-ac38-a6d4117fc313",
            ),
        ];
        for (ty, props, want) in cases {
            let Value::Object(props) = props else {
                unreachable!()
            };
            let got = deterministic_observable_id(ty, &props).unwrap();
            assert_eq!(got.to_string(), want, "{ty} {props:?}");
        }
    }

    /// Regression: the namespace was once written as `00abedb4-aa42-568b-a9ea-2e85a4d4dd94`,
    /// which no other producer uses, so every observable id disagreed with theirs.
    #[test]
    fn the_namespace_is_the_one_in_the_specification() {
        assert_eq!(
            STIX_SCO_NAMESPACE.to_string(),
            "00abedb4-aa42-466c-9c01-fed23315a9b7"
        );
    }

    #[test]
    fn an_observable_without_contributing_properties_has_no_deterministic_id() {
        assert!(deterministic_observable_id("file", &Map::new()).is_none());
        assert!(deterministic_observable_id("process", &Map::new()).is_none());
        assert!(deterministic_observable_id("x-custom", &Map::new()).is_none());
    }
}
