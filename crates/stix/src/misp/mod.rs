//! MISP events and feeds, read leniently and mapped to STIX 2.1.
//!
//! MISP writes the same field as a number in one version and a string in the next
//! (`"timestamp": "1472541011"`, `"to_ids": "1"`), so the types here accept both. The
//! mapping to STIX is [`convert_event`]; a MISP feed is a `manifest.json` listing event uuids,
//! each event in `<uuid>.json` beside it ([`Manifest`]).

mod convert;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub use convert::{
    Converted, DETENTE_IDENTITY_ID, MISP_EXTENSION_ID, MISP_NAMESPACE, convert_event,
    tlp_of_distribution, tlp_of_tag,
};

/// Why a MISP document or event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MispError {
    /// The JSON does not have the shape of a MISP event.
    #[error("not a MISP event: {0}")]
    BadEvent(String),
    /// The event has neither `timestamp` nor `date`, so no STIX object can be dated.
    #[error("MISP event {0} has neither timestamp nor date")]
    Undated(String),
    /// The feed manifest is not an object of event uuids.
    #[error("not a MISP feed manifest: {0}")]
    BadManifest(String),
}

/// A MISP event (the content of `{"Event": …}`), with the parts detente maps.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispEvent {
    /// The event's uuid.
    #[serde(default, deserialize_with = "lenient_string")]
    pub uuid: String,
    /// The title.
    #[serde(default, deserialize_with = "lenient_string")]
    pub info: String,
    /// The event date, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub date: Option<String>,
    /// Last change, Unix seconds.
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub timestamp: Option<i64>,
    /// Publication, Unix seconds (0 when unpublished).
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub publish_timestamp: Option<i64>,
    /// Whether the event is published (absent: published if `publish_timestamp` is set).
    #[serde(default, deserialize_with = "lenient_opt_bool")]
    pub published: Option<bool>,
    /// Who may see the event: 0 organisation only, 1 this community, 2 connected
    /// communities, 3 all communities, 4 a sharing group (see [`tlp_of_distribution`]).
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub distribution: Option<i64>,
    /// The creating organisation.
    #[serde(rename = "Orgc", default)]
    pub orgc: Option<MispOrg>,
    /// The owning organisation (used when `Orgc` is absent).
    #[serde(rename = "Org", default)]
    pub org: Option<MispOrg>,
    /// Attributes outside objects.
    #[serde(rename = "Attribute", default)]
    pub attributes: Vec<MispAttribute>,
    /// MISP objects (file, domain-ip, …) with their attributes.
    #[serde(rename = "Object", default)]
    pub objects: Vec<MispObject>,
    /// Event tags, including `tlp:` and `misp-galaxy:` tags.
    #[serde(rename = "Tag", default)]
    pub tags: Vec<MispTag>,
    /// Galaxies and their clusters (threat actors, ATT&CK, …).
    #[serde(rename = "Galaxy", default)]
    pub galaxies: Vec<MispGalaxy>,
}

/// An organisation as MISP embeds it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispOrg {
    /// The name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    /// The uuid.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub uuid: Option<String>,
}

/// One MISP attribute.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispAttribute {
    /// The attribute's uuid.
    #[serde(default, deserialize_with = "lenient_string")]
    pub uuid: String,
    /// The MISP type, e.g. `ip-dst`, `filename|sha256`.
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub attr_type: String,
    /// The MISP category, e.g. `Network activity`.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub category: Option<String>,
    /// The value; composite types join parts with `|`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub value: String,
    /// Whether the value is meant for detection: indicator if true, observed-data if not.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub to_ids: bool,
    /// Last change, Unix seconds.
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub timestamp: Option<i64>,
    /// A comment.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub comment: Option<String>,
    /// Soft-deleted attributes are skipped.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub deleted: bool,
    /// The attribute's role in its object, e.g. `sha256`.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub object_relation: Option<String>,
    /// Who may see the attribute, as the event's `distribution`; 5 inherits the event's.
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub distribution: Option<i64>,
    /// Attribute tags.
    #[serde(rename = "Tag", default)]
    pub tags: Vec<MispTag>,
}

/// A MISP object: a group of attributes describing one thing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispObject {
    /// The object's template name, e.g. `file`, `domain-ip`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
    /// The object's uuid.
    #[serde(default, deserialize_with = "lenient_string")]
    pub uuid: String,
    /// Soft-deleted objects are skipped.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub deleted: bool,
    /// Who may see the object, as the event's `distribution`; 5 inherits the event's.
    #[serde(default, deserialize_with = "lenient_opt_i64")]
    pub distribution: Option<i64>,
    /// The attributes.
    #[serde(rename = "Attribute", default)]
    pub attributes: Vec<MispAttribute>,
}

/// A tag.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispTag {
    /// The tag, e.g. `tlp:amber` or `misp-galaxy:threat-actor="Lazarus Group"`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: String,
}

/// A galaxy with the clusters the event references.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispGalaxy {
    /// The galaxy type, e.g. `threat-actor`, `mitre-intrusion-set`.
    #[serde(rename = "type", default, deserialize_with = "lenient_string")]
    pub galaxy_type: String,
    /// The clusters.
    #[serde(rename = "GalaxyCluster", default)]
    pub clusters: Vec<MispCluster>,
}

/// A galaxy cluster, e.g. one threat actor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MispCluster {
    /// The cluster's uuid.
    #[serde(default, deserialize_with = "lenient_string")]
    pub uuid: String,
    /// The name, e.g. `Lazarus Group`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub value: String,
    /// A description.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub description: Option<String>,
    /// Extra facts: `synonyms` become aliases; ATT&CK clusters carry `external_id`,
    /// `kill_chain` and `refs`.
    #[serde(default)]
    pub meta: Option<Value>,
}

/// `{"Event": {...}}`, the bare feed form and each element of a `response` list.
#[derive(Debug, Clone, Deserialize)]
pub struct EventWrapper {
    /// The event.
    #[serde(rename = "Event")]
    pub event: MispEvent,
}

/// One event listed in a MISP feed's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The event's uuid, checked to be a canonical UUID (so it is safe as a file name).
    pub uuid: String,
    /// The event's title.
    pub info: Option<String>,
    /// The event's last change, Unix seconds.
    pub timestamp: Option<i64>,
}

impl ManifestEntry {
    /// The event's file in the feed, `<uuid>.json`.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.uuid)
    }
}

/// A MISP feed manifest: the events of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// The events, in the manifest's order of uuids (sorted).
    pub events: Vec<ManifestEntry>,
}

impl Manifest {
    /// Parses `manifest.json`. Keys must be canonical UUIDs: a key such as `../x` would
    /// otherwise name a file outside the feed.
    pub fn parse(bytes: &[u8]) -> Result<Self, MispError> {
        let v: Value =
            serde_json::from_slice(bytes).map_err(|e| MispError::BadManifest(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(MispError::BadManifest(
                "the manifest must be an object keyed by event uuid".into(),
            ));
        };
        let mut events = Vec::with_capacity(map.len());
        for (uuid, meta) in map {
            if uuid.len() != 36 || uuid::Uuid::try_parse(&uuid).is_err() {
                return Err(MispError::BadManifest(format!(
                    "{:?} is not an event uuid",
                    uuid.chars().take(80).collect::<String>()
                )));
            }
            let timestamp = meta.get("timestamp").and_then(|t| match t {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            });
            let info = meta.get("info").and_then(Value::as_str).map(str::to_owned);
            events.push(ManifestEntry {
                uuid: uuid.to_ascii_lowercase(),
                info,
                timestamp,
            });
        }
        Ok(Self { events })
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(lenient_opt_string(d)?.unwrap_or_default())
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient_opt_bool(d)?.unwrap_or(false))
}

fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => Some(n.as_i64().is_some_and(|n| n != 0)),
        Value::String(s) => Some(matches!(s.as_str(), "1" | "true" | "True")),
        _ => None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn string_and_number_fields_are_both_read() {
        let e: MispEvent = serde_json::from_str(
            r#"{"uuid":"57c4445b-c548-4654-af0b-4be3950d210f","timestamp":"1472541011",
                "Attribute":[{"uuid":"x","type":"md5","value":"a","to_ids":"1","timestamp":1}]}"#,
        )
        .unwrap();
        assert_eq!(e.timestamp, Some(1_472_541_011));
        assert!(e.attributes[0].to_ids);
        assert_eq!(e.attributes[0].timestamp, Some(1));
    }

    #[test]
    fn manifest_keys_that_are_not_uuids_are_refused() {
        let ok = br#"{"57c4445b-c548-4654-af0b-4be3950d210f": {"info": "x", "timestamp": "1"}}"#;
        let m = Manifest::parse(ok).unwrap();
        assert_eq!(
            m.events[0].file_name(),
            "57c4445b-c548-4654-af0b-4be3950d210f.json"
        );
        assert_eq!(m.events[0].timestamp, Some(1));
        let evil = br#"{"../../etc/passwd": {}}"#;
        assert!(matches!(
            Manifest::parse(evil),
            Err(MispError::BadManifest(_))
        ));
    }
}
