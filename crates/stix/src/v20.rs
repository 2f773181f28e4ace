//! STIX 2.0 input: recognised, and converted to 2.1 property by property, never half-read.
//!
//! A top-level object is STIX 2.0 when it says `spec_version: "2.0"`, when its bundle does, or
//! when it is a domain, relationship or marking object without `spec_version` (2.1 requires it
//! on those; only observables may omit it). Conversion follows the 2.0 → 2.1 changes of the
//! specification: `spec_version` is added; the `labels` that 2.0 used as the type vocabulary
//! of indicators, malware, tools, threat actors and reports move to `indicator_types`,
//! `malware_types`, `tool_types`, `threat_actor_types` and `report_types`; indicators gain
//! `pattern_type: "stix"`; malware gains `is_family: true` (2.0 malware described families).
//! Everything else (observed-data `objects`, TLP 1.0 markings, custom `x_` properties) is valid
//! 2.1 as it stands. The result is then validated like any 2.1 object.

use serde_json::{Map, Value};

use crate::error::ObjectError;
use crate::object::SCO_TYPES;

/// What to do with STIX 2.0 content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stix20Policy {
    /// Convert each 2.0 object to 2.1 (the default).
    #[default]
    Convert,
    /// Reject each 2.0 object with [`ObjectError::Stix20`].
    Reject,
}

/// Whether a top-level object is STIX 2.0, given its bundle's declared `spec_version`.
pub fn is_stix20(obj: &Map<String, Value>, bundle_spec_version: Option<&str>) -> bool {
    is_stix20_parts(
        obj.get("spec_version").and_then(Value::as_str),
        obj.get("type").and_then(Value::as_str),
        bundle_spec_version,
    )
}

/// [`is_stix20`] from the object's `spec_version` and `type` alone.
pub fn is_stix20_parts(
    spec_version: Option<&str>,
    object_type: Option<&str>,
    bundle_spec_version: Option<&str>,
) -> bool {
    match spec_version {
        Some(v) => v == "2.0",
        None => {
            bundle_spec_version == Some("2.0")
                || !SCO_TYPES.contains(&object_type.unwrap_or_default())
        }
    }
}

/// Rewrites a STIX 2.0 object as 2.1; see the module documentation for what changes.
pub fn upgrade(mut obj: Map<String, Value>) -> Result<Map<String, Value>, ObjectError> {
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or(ObjectError::Missing("type"))?
        .to_owned();
    match obj.get("spec_version") {
        None => {}
        Some(Value::String(v)) if v == "2.0" => {}
        Some(other) => {
            return Err(ObjectError::Conversion(format!(
                "spec_version {other} is not 2.0"
            )));
        }
    }
    if SCO_TYPES.contains(&ty.as_str()) {
        // 2.0 had no top-level observables; a 2.0 bundle carrying one is already 2.1-shaped.
        obj.remove("spec_version");
        return Ok(obj);
    }
    obj.insert("spec_version".into(), Value::String("2.1".into()));
    // STIX 2.1 forbids empty lists (§3.1), which 2.0 producers (MITRE's `x_mitre_contributors`)
    // wrote; an empty list says nothing, so it is dropped.
    obj.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
    let vocabulary = match ty.as_str() {
        "indicator" => Some("indicator_types"),
        "malware" => Some("malware_types"),
        "tool" => Some("tool_types"),
        "threat-actor" => Some("threat_actor_types"),
        "report" => Some("report_types"),
        _ => None,
    };
    if let Some(target) = vocabulary
        && !obj.contains_key(target)
        && let Some(labels) = obj.remove("labels")
    {
        obj.insert(target.into(), labels);
    }
    match ty.as_str() {
        "indicator" => {
            obj.entry("pattern_type")
                .or_insert_with(|| Value::String("stix".into()));
        }
        "malware" => {
            obj.entry("is_family").or_insert(Value::Bool(true));
        }
        _ => {}
    }
    Ok(obj)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_of_2_0_objects_are_dropped() {
        let obj = serde_json::json!({"type": "intrusion-set", "x_mitre_contributors": [], "aliases": ["APT1"]});
        let Value::Object(m) = obj else {
            unreachable!()
        };
        let up = upgrade(m).unwrap();
        assert!(!up.contains_key("x_mitre_contributors"));
        assert!(up.contains_key("aliases"));
    }
    use crate::object::StixObject;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_2_0_indicator_becomes_a_valid_2_1_indicator() {
        let v20 = map(json!({
            "type": "indicator",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z",
            "modified": "2016-04-06T20:03:48.000Z",
            "labels": ["malicious-activity"],
            "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "valid_from": "2016-01-01T00:00:00Z"
        }));
        assert!(is_stix20(&v20, None));
        let v21 = upgrade(v20).unwrap();
        assert_eq!(v21["indicator_types"], json!(["malicious-activity"]));
        assert!(!v21.contains_key("labels"));
        let StixObject::Indicator(i) = StixObject::from_value(Value::Object(v21)).unwrap() else {
            panic!()
        };
        assert_eq!(i.pattern_type, "stix");
    }

    #[test]
    fn observables_without_spec_version_are_2_1_unless_the_bundle_says_otherwise() {
        let ip = map(
            json!({"type": "ipv4-addr", "id": "ipv4-addr--0198f97b-e65d-5025-87e5-58bc39d4bdb4", "value": "1.2.3.4"}),
        );
        assert!(!is_stix20(&ip, None));
        assert!(is_stix20(&ip, Some("2.0")));
    }
}
