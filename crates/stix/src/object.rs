//! The STIX 2.1 objects detente reads and writes, parsed and validated in one pass.
//!
//! [`StixObject::from_value`] is the only way in from JSON: it checks the common properties
//! (identifier format, `spec_version` "2.1", RFC 3339 UTC timestamps with millisecond
//! `created`/`modified`, `modified >= created`), the type's required properties and its
//! cross-property rules, and keeps every property it does not model in `extra`, so custom
//! (`x_…`) content round-trips. Types outside detente's needs (malware, tool, campaign, …)
//! are kept as [`OtherSdo`]/[`OtherSco`] with their common properties checked.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::ObjectError;
use crate::id::{StixId, is_valid_type_name};
use crate::pattern::Pattern;
use crate::props::{FromProp, PropError, Props, RawObject, kind};
use crate::timestamp::Timestamp;

/// The STIX Domain Object types of STIX 2.1.
pub const SDO_TYPES: [&str; 19] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The STIX Cyber-observable Object types of STIX 2.1.
pub const SCO_TYPES: [&str; 18] = [
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Types an SRO may not point at (relationship, sighting: `source_ref`, `sighting_of_ref`).
const NOT_RELATABLE: [&str; 5] = [
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
];

/// The one `spec_version` this model speaks.
pub const SPEC_VERSION: &str = "2.1";

// ---------------------------------------------------------------------------------------------
// Shared property types
// ---------------------------------------------------------------------------------------------

/// A dictionary of hashes, algorithm name to hex (or fuzzy-hash) value.
///
/// The algorithms of the STIX `hash-algorithm-ov` vocabulary are checked for the right length
/// and alphabet; other names are custom algorithms of 3–250 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hashes(pub BTreeMap<String, String>);

impl Hashes {
    /// Checks every entry; see the type's documentation.
    pub fn check(&self) -> Result<(), String> {
        if self.0.is_empty() {
            return Err("must contain at least one hash".into());
        }
        for (alg, value) in &self.0 {
            let hex_len = match alg.as_str() {
                "MD5" => Some(32),
                "SHA-1" => Some(40),
                "SHA-256" | "SHA3-256" => Some(64),
                "SHA-512" | "SHA3-512" => Some(128),
                _ => None,
            };
            let ok = match (alg.as_str(), hex_len) {
                (_, Some(n)) => value.len() == n && value.bytes().all(|c| c.is_ascii_hexdigit()),
                ("SSDEEP", None) => {
                    (1..=128).contains(&value.len())
                        && value
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"/+:.".contains(&c))
                }
                ("TLSH", None) => {
                    value.len() == 70 && value.bytes().all(|c| c.is_ascii_alphanumeric())
                }
                (custom, None) => {
                    if !(3..=250).contains(&custom.len())
                        || !custom
                            .bytes()
                            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    {
                        return Err(format!(
                            "{custom:?} is not a hash algorithm name (MD5, SHA-1, SHA-256, SHA-512, SHA3-256, SHA3-512, SSDEEP, TLSH, or a custom name of 3-250 characters of A-Z, a-z, 0-9, _ and -)"
                        ));
                    }
                    true
                }
            };
            if !ok {
                return Err(format!(
                    "{alg} value {value:?} has the wrong length or alphabet"
                ));
            }
        }
        Ok(())
    }
}

impl FromProp for Hashes {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let h = Hashes(BTreeMap::from_prop(v)?);
        h.check()?;
        Ok(h)
    }
}

/// A pointer to non-STIX information (`external-reference`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalReference {
    /// The source, e.g. `capec`, `cve`, `mitre-attack`.
    pub source_name: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A URL for the reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Hashes of the content at `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    /// The id in the source, e.g. `CAPEC-163`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FromProp for ExternalReference {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let mut p = object_props(v)?;
        let r = ExternalReference {
            source_name: p.req("source_name")?,
            description: p.opt("description")?,
            url: p.opt("url")?,
            hashes: p.opt("hashes")?,
            external_id: p.opt("external_id")?,
            extra: p.into_extra()?,
        };
        let ext = r.external_id.as_deref();
        match r.source_name.as_str() {
            "cve" if !ext.is_some_and(is_cve_id) => {
                return Err(
                    "a `cve` reference needs an external_id of the form CVE-YYYY-NNNN".into(),
                );
            }
            "capec" if !ext.is_some_and(is_capec_id) => {
                return Err("a `capec` reference needs an external_id of the form CAPEC-N".into());
            }
            "cve" | "capec" => {}
            _ if r.external_id.is_none() && r.description.is_none() && r.url.is_none() => {
                return Err(
                    "an external reference needs at least one of description, url and external_id"
                        .into(),
                );
            }
            _ => {}
        }
        Ok(r)
    }
}

fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|c| c.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|c| c.is_ascii_digit())
        && (num.len() == 4 || !num.starts_with('0'))
}

fn is_capec_id(s: &str) -> bool {
    s.strip_prefix("CAPEC-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
}

/// A phase of a kill chain (`kill-chain-phase`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KillChainPhase {
    /// The kill chain, e.g. `lockheed-martin-cyber-kill-chain`.
    pub kill_chain_name: String,
    /// The phase, e.g. `reconnaissance`.
    pub phase_name: String,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FromProp for KillChainPhase {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let mut p = object_props(v)?;
        Ok(KillChainPhase {
            kill_chain_name: p.req("kill_chain_name")?,
            phase_name: p.req("phase_name")?,
            extra: p.into_extra()?,
        })
    }
}

/// A marking applied to parts of an object (`granular-marking`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GranularMarking {
    /// Selectors of the marked content, e.g. `description` or `external_references.[0]`.
    pub selectors: Vec<String>,
    /// The marking definition that applies (exactly one of this and `lang`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marking_ref: Option<StixId>,
    /// The language of the selected content (exactly one of this and `marking_ref`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl FromProp for GranularMarking {
    fn from_prop(v: Value) -> Result<Self, PropError> {
        let mut p = object_props(v)?;
        let g = GranularMarking {
            selectors: p.req("selectors")?,
            marking_ref: p.opt("marking_ref")?,
            lang: p.opt("lang")?,
        };
        p.into_extra()?.keys().next().map_or(Ok(()), |k| {
            Err(format!("unknown property `{k}` in a granular marking"))
        })?;
        if g.marking_ref.is_some() == g.lang.is_some() {
            return Err("a granular marking has exactly one of marking_ref and lang".into());
        }
        if let Some(m) = &g.marking_ref
            && m.object_type() != "marking-definition"
        {
            return Err(format!("marking_ref {m} is not a marking-definition id").into());
        }
        Ok(g)
    }
}

fn object_props(v: Value) -> Result<Props, PropError> {
    match v {
        Value::Object(m) => Ok(Props::new(m)),
        other => Err(format!("must be an object, not {}", kind(&other)).into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Common properties
// ---------------------------------------------------------------------------------------------

/// The common properties of STIX Domain and Relationship Objects (§3.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Common {
    /// Always `"2.1"`.
    pub spec_version: String,
    /// The object's id; its type part equals the object's type.
    pub id: StixId,
    /// The identity that created the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<StixId>,
    /// When the first version was created (millisecond precision or finer).
    pub created: Timestamp,
    /// When this version was created; never before `created`.
    pub modified: Timestamp,
    /// Whether the object has been revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked: Option<bool>,
    /// Free-form terms describing the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// The producer's confidence, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<i64>,
    /// The language of the text content (RFC 5646).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// References to non-STIX information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    /// Markings (TLP, statements) applying to the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_marking_refs: Option<Vec<StixId>>,
    /// Markings applying to parts of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// Extensions, by extension-definition id or `…-ext` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

impl Common {
    /// A minimal set of common properties for a new object.
    pub fn new(id: StixId, created: Timestamp, modified: Timestamp) -> Self {
        Self {
            spec_version: SPEC_VERSION.into(),
            id,
            created_by_ref: None,
            created,
            modified,
            revoked: None,
            labels: None,
            confidence: None,
            lang: None,
            external_references: None,
            object_marking_refs: None,
            granular_markings: None,
            extensions: None,
        }
    }

    fn take(p: &mut Props, ty: &str) -> Result<Self, ObjectError> {
        let spec_version = take_spec_version(p)?;
        let id = take_id(p, ty)?;
        let created: Timestamp = p.req("created")?;
        let modified: Timestamp = p.req("modified")?;
        for (name, t) in [("created", &created), ("modified", &modified)] {
            if !t.has_millisecond_precision() {
                return Err(ObjectError::invalid(
                    name,
                    format!(
                        "{t} must be precise to at least the millisecond (e.g. 2016-05-12T08:17:27.000Z)"
                    ),
                ));
            }
        }
        if modified < created {
            return Err(ObjectError::Rule(format!(
                "modified ({modified}) is earlier than created ({created}); modified must be later than or equal to created"
            )));
        }
        let c = Common {
            spec_version,
            id,
            created_by_ref: p.opt("created_by_ref")?,
            created,
            modified,
            revoked: p.opt("revoked")?,
            labels: p.opt("labels")?,
            confidence: p.opt("confidence")?,
            lang: p.opt("lang")?,
            external_references: p.opt("external_references")?,
            object_marking_refs: p.opt("object_marking_refs")?,
            granular_markings: p.opt("granular_markings")?,
            extensions: p.opt("extensions")?,
        };
        if let Some(conf) = c.confidence
            && !(0..=100).contains(&conf)
        {
            return Err(ObjectError::invalid(
                "confidence",
                format!("{conf} is outside 0-100"),
            ));
        }
        refs_of_type("created_by_ref", c.created_by_ref.iter(), &["identity"])?;
        refs_of_type(
            "object_marking_refs",
            c.object_marking_refs.iter().flatten(),
            &["marking-definition"],
        )?;
        check_extensions(c.extensions.as_ref())?;
        Ok(c)
    }
}

/// The common properties of STIX Cyber-observable Objects (§3.2, SCO column).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoCommon {
    /// The object's id; preferably the deterministic UUIDv5 id.
    pub id: StixId,
    /// `"2.1"` when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// Markings applying to the whole object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_marking_refs: Option<Vec<StixId>>,
    /// Markings applying to parts of the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// Whether the values have been defanged (e.g. `hxxp://`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defanged: Option<bool>,
    /// Extensions, by extension-definition id or `…-ext` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

impl ScoCommon {
    /// Common properties of an observable with the given id and nothing else.
    pub fn new(id: StixId) -> Self {
        Self {
            id,
            spec_version: Some(SPEC_VERSION.into()),
            object_marking_refs: None,
            granular_markings: None,
            defanged: None,
            extensions: None,
        }
    }

    fn take(p: &mut Props, ty: &str) -> Result<Self, ObjectError> {
        let spec_version = if p.contains("spec_version") {
            Some(take_spec_version(p)?)
        } else {
            None
        };
        let c = ScoCommon {
            id: take_id(p, ty)?,
            spec_version,
            object_marking_refs: p.opt("object_marking_refs")?,
            granular_markings: p.opt("granular_markings")?,
            defanged: p.opt("defanged")?,
            extensions: p.opt("extensions")?,
        };
        refs_of_type(
            "object_marking_refs",
            c.object_marking_refs.iter().flatten(),
            &["marking-definition"],
        )?;
        check_extensions(c.extensions.as_ref())?;
        Ok(c)
    }
}

fn take_spec_version(p: &mut Props) -> Result<String, ObjectError> {
    let v: String = p.req("spec_version")?;
    if v == SPEC_VERSION {
        Ok(v)
    } else if v == "2.0" {
        Err(ObjectError::Stix20)
    } else {
        Err(ObjectError::invalid(
            "spec_version",
            format!("{v:?} is not a supported STIX version (\"2.1\")"),
        ))
    }
}

fn take_id(p: &mut Props, ty: &str) -> Result<StixId, ObjectError> {
    let id: StixId = p.req("id")?;
    if id.object_type() != ty {
        return Err(ObjectError::invalid(
            "id",
            format!("{id} does not start with the object's type `{ty}--`"),
        ));
    }
    Ok(id)
}

fn check_extensions(ext: Option<&Map<String, Value>>) -> Result<(), ObjectError> {
    for (k, v) in ext.into_iter().flatten() {
        let by_definition = k
            .strip_prefix("extension-definition--")
            .is_some_and(|_| StixId::parse(k).is_ok());
        let predefined = k.ends_with("-ext") && is_valid_type_name(k);
        if !by_definition && !predefined {
            return Err(ObjectError::invalid(
                format!("extensions.{k}"),
                "extension keys are extension-definition ids or predefined names ending in -ext",
            ));
        }
        if !v.is_object() {
            return Err(ObjectError::invalid(
                format!("extensions.{k}"),
                format!("must be an object, not {}", kind(v)),
            ));
        }
    }
    Ok(())
}

fn refs_of_type<'a>(
    property: &str,
    ids: impl IntoIterator<Item = &'a StixId>,
    allowed: &[&str],
) -> Result<(), ObjectError> {
    for id in ids {
        if !allowed.contains(&id.object_type()) {
            return Err(ObjectError::invalid(
                property,
                format!(
                    "{id} must refer to an object of type {}",
                    allowed.join(" or ")
                ),
            ));
        }
    }
    Ok(())
}

fn refs_not_of_type<'a>(
    property: &str,
    ids: impl IntoIterator<Item = &'a StixId>,
    forbidden: &[&str],
) -> Result<(), ObjectError> {
    for id in ids {
        if forbidden.contains(&id.object_type()) {
            return Err(ObjectError::invalid(
                property,
                format!("{id} may not refer to a {}", id.object_type()),
            ));
        }
    }
    Ok(())
}

fn not_before(
    later_name: &str,
    later: Option<&Timestamp>,
    earlier_name: &str,
    earlier: Option<&Timestamp>,
    strictly: bool,
) -> Result<(), ObjectError> {
    if let (Some(l), Some(e)) = (later, earlier) {
        let bad = if strictly { l <= e } else { l < e };
        if bad {
            let rel = if strictly {
                "later than"
            } else {
                "later than or equal to"
            };
            return Err(ObjectError::Rule(format!(
                "{later_name} ({l}) must be {rel} {earlier_name} ({e})"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Domain and relationship objects
// ---------------------------------------------------------------------------------------------

/// A detection pattern for suspicious or malicious activity (`indicator`, §4.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// A name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kinds of indicator (`indicator-type-ov`, e.g. `malicious-activity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator_types: Option<Vec<String>>,
    /// The detection pattern, in the language named by `pattern_type`.
    pub pattern: String,
    /// The pattern language (`stix`, `snort`, `yara`, …); `stix` patterns are parsed.
    pub pattern_type: String,
    /// The version of the pattern language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern_version: Option<String>,
    /// From when the indicator is considered valid.
    pub valid_from: Timestamp,
    /// Until when the indicator is considered valid; later than `valid_from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Timestamp>,
    /// The kill-chain phases this indicator detects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_chain_phases: Option<Vec<KillChainPhase>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Indicator {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Indicator {
            common: Common::take(&mut p, "indicator")?,
            name: p.opt("name")?,
            description: p.opt("description")?,
            indicator_types: p.opt("indicator_types")?,
            pattern: p.req("pattern")?,
            pattern_type: p.req("pattern_type")?,
            pattern_version: p.opt("pattern_version")?,
            valid_from: p.req("valid_from")?,
            valid_until: p.opt("valid_until")?,
            kill_chain_phases: p.opt("kill_chain_phases")?,
            extra: p.into_extra()?,
        };
        not_before(
            "valid_until",
            x.valid_until.as_ref(),
            "valid_from",
            Some(&x.valid_from),
            true,
        )?;
        if x.pattern_type == "stix" {
            Pattern::parse(&x.pattern)
                .map_err(|e| ObjectError::invalid("pattern", e.to_string()))?;
        }
        Ok(x)
    }

    /// The parsed pattern, when `pattern_type` is `stix`.
    pub fn stix_pattern(&self) -> Option<Pattern> {
        (self.pattern_type == "stix")
            .then(|| Pattern::parse(&self.pattern).ok())
            .flatten()
    }
}

/// Raw observations of cyber observables (`observed-data`, §4.13).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedData {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// Start of the observation window.
    pub first_observed: Timestamp,
    /// End of the observation window; not before `first_observed`.
    pub last_observed: Timestamp,
    /// How many times the data was observed, 1–999,999,999.
    pub number_observed: i64,
    /// Embedded observables (deprecated in 2.1; exactly one of this and `object_refs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<Map<String, Value>>,
    /// The observed SCOs and SROs (exactly one of this and `objects`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_refs: Option<Vec<StixId>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ObservedData {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = ObservedData {
            common: Common::take(&mut p, "observed-data")?,
            first_observed: p.req("first_observed")?,
            last_observed: p.req("last_observed")?,
            number_observed: p.req("number_observed")?,
            objects: p.opt("objects")?,
            object_refs: p.opt("object_refs")?,
            extra: p.into_extra()?,
        };
        if !(1..=999_999_999).contains(&x.number_observed) {
            return Err(ObjectError::invalid(
                "number_observed",
                format!("{} is outside 1-999,999,999", x.number_observed),
            ));
        }
        not_before(
            "last_observed",
            Some(&x.last_observed),
            "first_observed",
            Some(&x.first_observed),
            false,
        )?;
        if x.objects.is_some() == x.object_refs.is_some() {
            return Err(ObjectError::Rule(
                "observed-data has exactly one of object_refs and objects (deprecated)".into(),
            ));
        }
        let sdo_or_meta: Vec<&str> = SDO_TYPES
            .iter()
            .copied()
            .chain(["marking-definition", "bundle", "language-content"])
            .collect();
        refs_not_of_type("object_refs", x.object_refs.iter().flatten(), &sdo_or_meta)?;
        Ok(x)
    }
}

/// The belief that something was seen (`sighting`, §5.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sighting {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Start of the sighting window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// End of the sighting window; not before `first_seen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// How many times, 0–999,999,999.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// What was sighted (an SDO, usually an indicator).
    pub sighting_of_ref: StixId,
    /// The observed data behind the sighting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_data_refs: Option<Vec<StixId>>,
    /// Who saw it (identities or locations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub where_sighted_refs: Option<Vec<StixId>>,
    /// Whether this is summary data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<bool>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Sighting {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Sighting {
            common: Common::take(&mut p, "sighting")?,
            description: p.opt("description")?,
            first_seen: p.opt("first_seen")?,
            last_seen: p.opt("last_seen")?,
            count: p.opt("count")?,
            sighting_of_ref: p.req("sighting_of_ref")?,
            observed_data_refs: p.opt("observed_data_refs")?,
            where_sighted_refs: p.opt("where_sighted_refs")?,
            summary: p.opt("summary")?,
            extra: p.into_extra()?,
        };
        if let Some(c) = x.count
            && !(0..=999_999_999).contains(&c)
        {
            return Err(ObjectError::invalid(
                "count",
                format!("{c} is outside 0-999,999,999"),
            ));
        }
        not_before(
            "last_seen",
            x.last_seen.as_ref(),
            "first_seen",
            x.first_seen.as_ref(),
            false,
        )?;
        refs_not_of_type("sighting_of_ref", [&x.sighting_of_ref], &NOT_RELATABLE)?;
        refs_of_type(
            "observed_data_refs",
            x.observed_data_refs.iter().flatten(),
            &["observed-data"],
        )?;
        refs_of_type(
            "where_sighted_refs",
            x.where_sighted_refs.iter().flatten(),
            &["identity", "location"],
        )?;
        Ok(x)
    }
}

/// A person, organisation or group (`identity`, §4.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identity {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The name.
    pub name: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Roles of the identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// `identity-class-ov`: individual, group, system, organization, class, unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_class: Option<String>,
    /// Industry sectors (`industry-sector-ov`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Vec<String>>,
    /// Contact information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_information: Option<String>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Identity {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        Ok(Identity {
            common: Common::take(&mut p, "identity")?,
            name: p.req("name")?,
            description: p.opt("description")?,
            roles: p.opt("roles")?,
            identity_class: p.opt("identity_class")?,
            sectors: p.opt("sectors")?,
            contact_information: p.opt("contact_information")?,
            extra: p.into_extra()?,
        })
    }
}

/// A security incident (`incident`, §4.6; a stub in 2.1, extended by extensions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The name.
    pub name: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kill-chain phases of the incident.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_chain_phases: Option<Vec<KillChainPhase>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Incident {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        Ok(Incident {
            common: Common::take(&mut p, "incident")?,
            name: p.req("name")?,
            description: p.opt("description")?,
            kill_chain_phases: p.opt("kill_chain_phases")?,
            extra: p.into_extra()?,
        })
    }
}

/// A grouped set of adversarial behaviour and resources (`intrusion-set`, §4.8).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntrusionSet {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The name.
    pub name: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// First seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// Last seen; not before `first_seen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// High-level goals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<String>>,
    /// `attack-resource-level-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_level: Option<String>,
    /// `attack-motivation-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_motivation: Option<String>,
    /// `attack-motivation-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_motivations: Option<Vec<String>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IntrusionSet {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = IntrusionSet {
            common: Common::take(&mut p, "intrusion-set")?,
            name: p.req("name")?,
            description: p.opt("description")?,
            aliases: p.opt("aliases")?,
            first_seen: p.opt("first_seen")?,
            last_seen: p.opt("last_seen")?,
            goals: p.opt("goals")?,
            resource_level: p.opt("resource_level")?,
            primary_motivation: p.opt("primary_motivation")?,
            secondary_motivations: p.opt("secondary_motivations")?,
            extra: p.into_extra()?,
        };
        not_before(
            "last_seen",
            x.last_seen.as_ref(),
            "first_seen",
            x.first_seen.as_ref(),
            false,
        )?;
        Ok(x)
    }
}

/// An actual individual, group or organisation believed to act with malicious intent
/// (`threat-actor`, §4.16).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatActor {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The name.
    pub name: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `threat-actor-type-ov`, e.g. `nation-state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_actor_types: Option<Vec<String>>,
    /// Other names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    /// First seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
    /// Last seen; not before `first_seen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// `threat-actor-role-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// High-level goals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<String>>,
    /// `threat-actor-sophistication-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sophistication: Option<String>,
    /// `attack-resource-level-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_level: Option<String>,
    /// `attack-motivation-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_motivation: Option<String>,
    /// `attack-motivation-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_motivations: Option<Vec<String>>,
    /// `attack-motivation-ov`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_motivations: Option<Vec<String>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ThreatActor {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = ThreatActor {
            common: Common::take(&mut p, "threat-actor")?,
            name: p.req("name")?,
            description: p.opt("description")?,
            threat_actor_types: p.opt("threat_actor_types")?,
            aliases: p.opt("aliases")?,
            first_seen: p.opt("first_seen")?,
            last_seen: p.opt("last_seen")?,
            roles: p.opt("roles")?,
            goals: p.opt("goals")?,
            sophistication: p.opt("sophistication")?,
            resource_level: p.opt("resource_level")?,
            primary_motivation: p.opt("primary_motivation")?,
            secondary_motivations: p.opt("secondary_motivations")?,
            personal_motivations: p.opt("personal_motivations")?,
            extra: p.into_extra()?,
        };
        not_before(
            "last_seen",
            x.last_seen.as_ref(),
            "first_seen",
            x.first_seen.as_ref(),
            false,
        )?;
        Ok(x)
    }
}

/// A link between two objects (`relationship`, §5.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Relationship {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The kind of link, e.g. `indicates`, `attributed-to` (`[a-z0-9-]+`).
    pub relationship_type: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The source (from) object.
    pub source_ref: StixId,
    /// The target (to) object.
    pub target_ref: StixId,
    /// From when the relationship holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// Until when it holds; later than `start_time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<Timestamp>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Relationship {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Relationship {
            common: Common::take(&mut p, "relationship")?,
            relationship_type: p.req("relationship_type")?,
            description: p.opt("description")?,
            source_ref: p.req("source_ref")?,
            target_ref: p.req("target_ref")?,
            start_time: p.opt("start_time")?,
            stop_time: p.opt("stop_time")?,
            extra: p.into_extra()?,
        };
        if x.relationship_type.is_empty()
            || !x
                .relationship_type
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            return Err(ObjectError::invalid(
                "relationship_type",
                format!("{:?} must use only a-z, 0-9 and -", x.relationship_type),
            ));
        }
        refs_not_of_type("source_ref", [&x.source_ref], &NOT_RELATABLE)?;
        refs_not_of_type("target_ref", [&x.target_ref], &NOT_RELATABLE)?;
        not_before(
            "stop_time",
            x.stop_time.as_ref(),
            "start_time",
            x.start_time.as_ref(),
            true,
        )?;
        Ok(x)
    }
}

/// A collection of threat intelligence on a topic (`report`, §4.15).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// The name.
    pub name: String,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `report-type-ov`, e.g. `threat-report`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_types: Option<Vec<String>>,
    /// When the report was published.
    pub published: Timestamp,
    /// The objects the report is about (at least one).
    pub object_refs: Vec<StixId>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Report {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        Ok(Report {
            common: Common::take(&mut p, "report")?,
            name: p.req("name")?,
            description: p.opt("description")?,
            report_types: p.opt("report_types")?,
            published: p.req("published")?,
            object_refs: p.req("object_refs")?,
            extra: p.into_extra()?,
        })
    }
}

/// A marking such as a TLP level or a copyright statement (`marking-definition`, §7.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkingDefinition {
    /// Always `"2.1"`.
    pub spec_version: String,
    /// The marking's id (TLP markings have fixed, published ids).
    pub id: StixId,
    /// The identity that created the marking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<StixId>,
    /// When the marking was created.
    pub created: Timestamp,
    /// A name, e.g. `TLP:AMBER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `statement` or `tlp` (TLP 1.0); absent when an extension defines the marking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition_type: Option<String>,
    /// The marking itself, e.g. `{"tlp": "amber"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Map<String, Value>>,
    /// References to non-STIX information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_references: Option<Vec<ExternalReference>>,
    /// Markings applying to this marking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_marking_refs: Option<Vec<StixId>>,
    /// Markings applying to parts of this marking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granular_markings: Option<Vec<GranularMarking>>,
    /// Extensions, e.g. the TLP 2.0 extension `extension-definition--60a3c5c5-…`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MarkingDefinition {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = MarkingDefinition {
            spec_version: take_spec_version(&mut p)?,
            id: take_id(&mut p, "marking-definition")?,
            created_by_ref: p.opt("created_by_ref")?,
            created: p.req("created")?,
            name: p.opt("name")?,
            definition_type: p.opt("definition_type")?,
            definition: p.opt("definition")?,
            external_references: p.opt("external_references")?,
            object_marking_refs: p.opt("object_marking_refs")?,
            granular_markings: p.opt("granular_markings")?,
            extensions: p.opt("extensions")?,
            extra: p.into_extra()?,
        };
        refs_of_type("created_by_ref", x.created_by_ref.iter(), &["identity"])?;
        check_extensions(x.extensions.as_ref())?;
        if x.extensions.is_none() && (x.definition_type.is_none() || x.definition.is_none()) {
            return Err(ObjectError::Rule(
                "a marking-definition without extensions needs definition_type and definition"
                    .into(),
            ));
        }
        let field = |k: &str| {
            x.definition
                .as_ref()
                .and_then(|d| d.get(k))
                .and_then(Value::as_str)
        };
        match x.definition_type.as_deref() {
            Some("statement") if field("statement").is_none() => {
                return Err(ObjectError::invalid(
                    "definition",
                    "a statement marking needs a string `statement`",
                ));
            }
            Some("tlp") if !matches!(field("tlp"), Some("white" | "green" | "amber" | "red")) => {
                return Err(ObjectError::invalid(
                    "definition",
                    "a tlp marking needs `tlp` of white, green, amber or red",
                ));
            }
            _ => {}
        }
        Ok(x)
    }
}

/// A STIX Domain Object of a type this model does not detail (malware, tool, campaign, …),
/// or a custom object with `created`: common properties checked, the rest kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherSdo {
    /// The object's type.
    #[serde(skip)]
    pub object_type: String,
    /// Common properties.
    #[serde(flatten)]
    pub common: Common,
    /// All other properties, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Cyber observables
// ---------------------------------------------------------------------------------------------

/// An IPv4 address or CIDR block (`ipv4-addr`, §6.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ipv4Addr {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// The address, e.g. `198.51.100.3` or `198.51.100.0/24`.
    pub value: String,
    /// MAC addresses it resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolves_to_refs: Option<Vec<StixId>>,
    /// Autonomous systems it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub belongs_to_refs: Option<Vec<StixId>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An IPv6 address or CIDR block (`ipv6-addr`, §6.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ipv6Addr {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// The address, e.g. `2001:db8::1` or `2001:db8::/32`.
    pub value: String,
    /// MAC addresses it resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolves_to_refs: Option<Vec<StixId>>,
    /// Autonomous systems it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub belongs_to_refs: Option<Vec<StixId>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A domain name (`domain-name`, §6.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainName {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// The name, e.g. `example.com`.
    pub value: String,
    /// Addresses or names it resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolves_to_refs: Option<Vec<StixId>>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A URL (`url`, §6.16).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Url {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// The URL, e.g. `http://x4z9arb.cn/4712`.
    pub value: String,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An e-mail address (`email-addr`, §6.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailAddr {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// The address, e.g. `jdoe@example.com`.
    pub value: String,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The user account it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub belongs_to_ref: Option<StixId>,
    /// Properties the model does not name, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A file (`file`, §6.7); at least one of `hashes` and `name` is present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct File {
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// Hashes of the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
    /// Size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// The file name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Properties the model does not name (times, MIME type, extensions' content), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A cyber observable of a type this model does not detail (mutex, network-traffic, …), or a
/// custom observable: common observable properties checked, the rest kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherSco {
    /// The object's type.
    #[serde(skip)]
    pub object_type: String,
    /// Common properties.
    #[serde(flatten)]
    pub common: ScoCommon,
    /// All other properties, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn check_ip(value: &str, v6: bool) -> Result<(), ObjectError> {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let (addr_ok, max) = if v6 {
        (addr.parse::<std::net::Ipv6Addr>().is_ok(), 128)
    } else {
        (addr.parse::<std::net::Ipv4Addr>().is_ok(), 32)
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= max)
    });
    if addr_ok && prefix_ok {
        Ok(())
    } else {
        let what = if v6 { "IPv6" } else { "IPv4" };
        Err(ObjectError::invalid(
            "value",
            format!("{:?} is not an {what} address or CIDR block", clip(value)),
        ))
    }
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

impl Ipv4Addr {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Ipv4Addr {
            common: ScoCommon::take(&mut p, "ipv4-addr")?,
            value: p.req("value")?,
            resolves_to_refs: p.opt("resolves_to_refs")?,
            belongs_to_refs: p.opt("belongs_to_refs")?,
            extra: p.into_extra()?,
        };
        check_ip(&x.value, false)?;
        refs_of_type(
            "resolves_to_refs",
            x.resolves_to_refs.iter().flatten(),
            &["mac-addr"],
        )?;
        refs_of_type(
            "belongs_to_refs",
            x.belongs_to_refs.iter().flatten(),
            &["autonomous-system"],
        )?;
        Ok(x)
    }
}

impl Ipv6Addr {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Ipv6Addr {
            common: ScoCommon::take(&mut p, "ipv6-addr")?,
            value: p.req("value")?,
            resolves_to_refs: p.opt("resolves_to_refs")?,
            belongs_to_refs: p.opt("belongs_to_refs")?,
            extra: p.into_extra()?,
        };
        check_ip(&x.value, true)?;
        refs_of_type(
            "resolves_to_refs",
            x.resolves_to_refs.iter().flatten(),
            &["mac-addr"],
        )?;
        refs_of_type(
            "belongs_to_refs",
            x.belongs_to_refs.iter().flatten(),
            &["autonomous-system"],
        )?;
        Ok(x)
    }
}

impl DomainName {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = DomainName {
            common: ScoCommon::take(&mut p, "domain-name")?,
            value: p.req("value")?,
            resolves_to_refs: p.opt("resolves_to_refs")?,
            extra: p.into_extra()?,
        };
        if x.value.is_empty() || x.value.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(ObjectError::invalid(
                "value",
                format!("{:?} is not a domain name", clip(&x.value)),
            ));
        }
        refs_of_type(
            "resolves_to_refs",
            x.resolves_to_refs.iter().flatten(),
            &["ipv4-addr", "ipv6-addr", "domain-name"],
        )?;
        Ok(x)
    }
}

impl Url {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = Url {
            common: ScoCommon::take(&mut p, "url")?,
            value: p.req("value")?,
            extra: p.into_extra()?,
        };
        let scheme_ok = x.value.split_once(':').is_some_and(|(s, _)| {
            s.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
        });
        if !scheme_ok {
            return Err(ObjectError::invalid(
                "value",
                format!("{:?} is not a URL (RFC 3986: scheme:...)", clip(&x.value)),
            ));
        }
        Ok(x)
    }
}

impl EmailAddr {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = EmailAddr {
            common: ScoCommon::take(&mut p, "email-addr")?,
            value: p.req("value")?,
            display_name: p.opt("display_name")?,
            belongs_to_ref: p.opt("belongs_to_ref")?,
            extra: p.into_extra()?,
        };
        let ok = x
            .value
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
        if !ok {
            return Err(ObjectError::invalid(
                "value",
                format!("{:?} is not an e-mail address", clip(&x.value)),
            ));
        }
        refs_of_type("belongs_to_ref", x.belongs_to_ref.iter(), &["user-account"])?;
        Ok(x)
    }
}

impl File {
    fn take(mut p: Props) -> Result<Self, ObjectError> {
        let x = File {
            common: ScoCommon::take(&mut p, "file")?,
            hashes: p.opt("hashes")?,
            size: p.opt("size")?,
            name: p.opt("name")?,
            extra: p.into_extra()?,
        };
        if x.hashes.is_none() && x.name.is_none() {
            return Err(ObjectError::Rule(
                "a file needs at least one of hashes and name".into(),
            ));
        }
        if let Some(size) = x.size
            && size < 0
        {
            return Err(ObjectError::invalid("size", "must not be negative"));
        }
        Ok(x)
    }
}

// ---------------------------------------------------------------------------------------------
// The object enum
// ---------------------------------------------------------------------------------------------

/// Any STIX 2.1 object, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub enum StixObject {
    /// `indicator`
    Indicator(Box<Indicator>),
    /// `observed-data`
    ObservedData(Box<ObservedData>),
    /// `sighting`
    Sighting(Box<Sighting>),
    /// `identity`
    Identity(Box<Identity>),
    /// `incident`
    Incident(Box<Incident>),
    /// `intrusion-set`
    IntrusionSet(Box<IntrusionSet>),
    /// `threat-actor`
    ThreatActor(Box<ThreatActor>),
    /// `relationship`
    Relationship(Box<Relationship>),
    /// `report`
    Report(Box<Report>),
    /// `marking-definition`
    MarkingDefinition(Box<MarkingDefinition>),
    /// `ipv4-addr`
    Ipv4Addr(Box<Ipv4Addr>),
    /// `ipv6-addr`
    Ipv6Addr(Box<Ipv6Addr>),
    /// `domain-name`
    DomainName(Box<DomainName>),
    /// `url`
    Url(Box<Url>),
    /// `email-addr`
    EmailAddr(Box<EmailAddr>),
    /// `file`
    File(Box<File>),
    /// Any other domain object, `extension-definition`, `language-content` or custom object.
    OtherSdo(Box<OtherSdo>),
    /// Any other observable or custom observable.
    OtherSco(Box<OtherSco>),
}

impl StixObject {
    /// Parses and validates one STIX 2.1 object.
    pub fn from_value(value: Value) -> Result<Self, ObjectError> {
        Self::from_raw(RawObject::from(value))
    }

    /// Parses and validates one STIX 2.1 object read as a [`RawObject`], which also refuses
    /// repeated property names.
    pub fn from_raw(raw: RawObject) -> Result<Self, ObjectError> {
        let mut entries = match raw {
            RawObject::Entries {
                duplicate: Some(k), ..
            } => {
                return Err(ObjectError::invalid(
                    k,
                    "appears twice; a STIX object names each property once",
                ));
            }
            RawObject::Entries { entries, .. } => entries,
            RawObject::Other(other) => return Err(ObjectError::NotAnObject(kind(&other))),
        };
        let ty = match entries.iter().position(|(k, _)| k == "type") {
            Some(i) => match entries.swap_remove(i).1 {
                Value::String(s) => s,
                other => {
                    return Err(ObjectError::invalid(
                        "type",
                        format!("must be a string, not {}", kind(&other)),
                    ));
                }
            },
            None => return Err(ObjectError::Missing("type")),
        };
        if !is_valid_type_name(&ty) {
            return Err(ObjectError::invalid(
                "type",
                format!(
                    "{:?} is not a STIX type name (3-250 characters of a-z, 0-9 and -)",
                    clip(&ty)
                ),
            ));
        }
        if ty == "bundle" {
            return Err(ObjectError::invalid(
                "type",
                "a bundle is a container, not an object; read it with the bundle reader",
            ));
        }
        let p = Props::from_entries(entries);
        Ok(match ty.as_str() {
            "indicator" => Self::Indicator(Box::new(Indicator::take(p)?)),
            "observed-data" => Self::ObservedData(Box::new(ObservedData::take(p)?)),
            "sighting" => Self::Sighting(Box::new(Sighting::take(p)?)),
            "identity" => Self::Identity(Box::new(Identity::take(p)?)),
            "incident" => Self::Incident(Box::new(Incident::take(p)?)),
            "intrusion-set" => Self::IntrusionSet(Box::new(IntrusionSet::take(p)?)),
            "threat-actor" => Self::ThreatActor(Box::new(ThreatActor::take(p)?)),
            "relationship" => Self::Relationship(Box::new(Relationship::take(p)?)),
            "report" => Self::Report(Box::new(Report::take(p)?)),
            "marking-definition" => Self::MarkingDefinition(Box::new(MarkingDefinition::take(p)?)),
            "ipv4-addr" => Self::Ipv4Addr(Box::new(Ipv4Addr::take(p)?)),
            "ipv6-addr" => Self::Ipv6Addr(Box::new(Ipv6Addr::take(p)?)),
            "domain-name" => Self::DomainName(Box::new(DomainName::take(p)?)),
            "url" => Self::Url(Box::new(Url::take(p)?)),
            "email-addr" => Self::EmailAddr(Box::new(EmailAddr::take(p)?)),
            "file" => Self::File(Box::new(File::take(p)?)),
            t if SCO_TYPES.contains(&t) || (!SDO_TYPES.contains(&t) && !p.contains("created")) => {
                let mut p = p;
                let common = ScoCommon::take(&mut p, &ty)?;
                Self::OtherSco(Box::new(OtherSco {
                    object_type: ty,
                    common,
                    extra: p.into_extra()?,
                }))
            }
            _ => {
                let mut p = p;
                let common = Common::take(&mut p, &ty)?;
                Self::OtherSdo(Box::new(OtherSdo {
                    object_type: ty,
                    common,
                    extra: p.into_extra()?,
                }))
            }
        })
    }

    /// Parses and validates one object from JSON text.
    pub fn from_json(text: &str) -> Result<Self, ObjectError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ObjectError::invalid("(document)", format!("not JSON: {e}")))?;
        Self::from_value(value)
    }

    /// The object as a JSON value, `type` included.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a STIX object always serialises to JSON")
    }

    /// Checks an object built in code against the same rules as parsed input.
    pub fn validate(&self) -> Result<(), ObjectError> {
        Self::from_value(self.to_value()).map(|_| ())
    }

    /// The object's type, e.g. `indicator`.
    pub fn object_type(&self) -> &str {
        match self {
            Self::OtherSdo(x) => &x.object_type,
            Self::OtherSco(x) => &x.object_type,
            other => other.id().object_type(),
        }
    }

    /// The object's id.
    pub fn id(&self) -> &StixId {
        match self {
            Self::MarkingDefinition(x) => &x.id,
            other => match (other.common(), other.sco_common()) {
                (Some(c), _) => &c.id,
                (_, Some(c)) => &c.id,
                (None, None) => unreachable!("every variant has common or observable properties"),
            },
        }
    }

    /// The common properties of a domain or relationship object.
    pub fn common(&self) -> Option<&Common> {
        Some(match self {
            Self::Indicator(x) => &x.common,
            Self::ObservedData(x) => &x.common,
            Self::Sighting(x) => &x.common,
            Self::Identity(x) => &x.common,
            Self::Incident(x) => &x.common,
            Self::IntrusionSet(x) => &x.common,
            Self::ThreatActor(x) => &x.common,
            Self::Relationship(x) => &x.common,
            Self::Report(x) => &x.common,
            Self::OtherSdo(x) => &x.common,
            _ => return None,
        })
    }

    /// The common properties of an observable.
    pub fn sco_common(&self) -> Option<&ScoCommon> {
        Some(match self {
            Self::Ipv4Addr(x) => &x.common,
            Self::Ipv6Addr(x) => &x.common,
            Self::DomainName(x) => &x.common,
            Self::Url(x) => &x.common,
            Self::EmailAddr(x) => &x.common,
            Self::File(x) => &x.common,
            Self::OtherSco(x) => &x.common,
            _ => return None,
        })
    }

    /// Which version of the object this is: `modified` for domain and relationship objects,
    /// `created` for marking definitions, none for observables (they are not versioned).
    pub fn version(&self) -> Option<&Timestamp> {
        match self {
            Self::MarkingDefinition(x) => Some(&x.created),
            other => other.common().map(|c| &c.modified),
        }
    }

    /// The markings that apply to the whole object.
    pub fn object_marking_refs(&self) -> &[StixId] {
        let refs = match self {
            Self::MarkingDefinition(x) => x.object_marking_refs.as_deref(),
            other => match (other.common(), other.sco_common()) {
                (Some(c), _) => c.object_marking_refs.as_deref(),
                (_, Some(c)) => c.object_marking_refs.as_deref(),
                (None, None) => None,
            },
        };
        refs.unwrap_or_default()
    }

    /// The markings that apply to parts of the object.
    pub fn granular_markings(&self) -> &[GranularMarking] {
        let g = match self {
            Self::MarkingDefinition(x) => x.granular_markings.as_deref(),
            other => match (other.common(), other.sco_common()) {
                (Some(c), _) => c.granular_markings.as_deref(),
                (_, Some(c)) => c.granular_markings.as_deref(),
                (None, None) => None,
            },
        };
        g.unwrap_or_default()
    }
}

/// Writes `type` first, then the typed properties, then the custom ones.
impl Serialize for StixObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Tagged<'a, T> {
            #[serde(rename = "type")]
            ty: &'a str,
            #[serde(flatten)]
            inner: &'a T,
        }
        fn tag<'a, T: Serialize, S: Serializer>(
            ty: &'a str,
            inner: &'a T,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            Tagged { ty, inner }.serialize(s)
        }
        let ty = self.object_type();
        match self {
            Self::Indicator(x) => tag(ty, x, s),
            Self::ObservedData(x) => tag(ty, x, s),
            Self::Sighting(x) => tag(ty, x, s),
            Self::Identity(x) => tag(ty, x, s),
            Self::Incident(x) => tag(ty, x, s),
            Self::IntrusionSet(x) => tag(ty, x, s),
            Self::ThreatActor(x) => tag(ty, x, s),
            Self::Relationship(x) => tag(ty, x, s),
            Self::Report(x) => tag(ty, x, s),
            Self::MarkingDefinition(x) => tag(ty, x, s),
            Self::Ipv4Addr(x) => tag(ty, x, s),
            Self::Ipv6Addr(x) => tag(ty, x, s),
            Self::DomainName(x) => tag(ty, x, s),
            Self::Url(x) => tag(ty, x, s),
            Self::EmailAddr(x) => tag(ty, x, s),
            Self::File(x) => tag(ty, x, s),
            Self::OtherSdo(x) => tag(ty, x, s),
            Self::OtherSco(x) => tag(ty, x, s),
        }
    }
}

/// Reads through [`StixObject::from_value`], so serde users get the same validation.
impl<'de> Deserialize<'de> for StixObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_value(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn indicator() -> Value {
        json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z",
            "modified": "2016-04-06T20:03:48.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "pattern_type": "stix",
            "valid_from": "2016-01-01T00:00:00Z",
            "x_acme_score": 7
        })
    }

    fn with(mut v: Value, key: &str, value: Value) -> Value {
        v[key] = value;
        v
    }

    fn without(mut v: Value, key: &str) -> Value {
        if let Some(m) = v.as_object_mut() {
            m.remove(key);
        }
        v
    }

    #[test]
    fn a_valid_indicator_keeps_its_custom_property() {
        let obj = StixObject::from_value(indicator()).unwrap();
        let StixObject::Indicator(i) = &obj else {
            panic!("not an indicator")
        };
        assert_eq!(i.extra["x_acme_score"], json!(7));
        assert_eq!(obj.to_value(), indicator());
    }

    #[test]
    fn modified_before_created_is_rejected() {
        let v = with(indicator(), "modified", json!("2016-04-06T20:03:47.999Z"));
        let e = StixObject::from_value(v).unwrap_err();
        assert!(e.to_string().contains("modified"), "{e}");
    }

    #[test]
    fn each_required_indicator_property_is_named_when_missing() {
        for key in [
            "pattern",
            "pattern_type",
            "valid_from",
            "created",
            "modified",
            "id",
            "spec_version",
        ] {
            let e = StixObject::from_value(without(indicator(), key)).unwrap_err();
            assert_eq!(e, ObjectError::Missing(key));
        }
    }

    #[test]
    fn valid_until_must_be_after_valid_from() {
        let v = with(indicator(), "valid_until", json!("2016-01-01T00:00:00Z"));
        assert!(matches!(
            StixObject::from_value(v),
            Err(ObjectError::Rule(_))
        ));
    }

    #[test]
    fn a_broken_stix_pattern_is_rejected_with_its_position() {
        let v = with(indicator(), "pattern", json!("[ipv4-addr:value = ]"));
        let e = StixObject::from_value(v).unwrap_err().to_string();
        assert!(e.contains("pattern") && e.contains("character 20"), "{e}");
    }

    #[test]
    fn an_id_of_another_type_is_rejected() {
        let v = with(
            indicator(),
            "id",
            json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
        );
        assert!(StixObject::from_value(v).is_err());
    }

    #[test]
    fn created_without_milliseconds_is_rejected() {
        let v = with(indicator(), "created", json!("2016-04-06T20:03:48Z"));
        assert!(StixObject::from_value(v).is_err());
    }

    #[test]
    fn spec_version_2_0_is_reported_as_stix_2_0() {
        let v = with(indicator(), "spec_version", json!("2.0"));
        assert_eq!(StixObject::from_value(v), Err(ObjectError::Stix20));
    }

    #[test]
    fn empty_lists_and_nulls_are_rejected() {
        let e = StixObject::from_value(with(indicator(), "labels", json!([]))).unwrap_err();
        assert!(e.to_string().contains("labels"));
        let e = StixObject::from_value(with(indicator(), "x_acme", Value::Null)).unwrap_err();
        assert!(e.to_string().contains("x_acme"));
    }

    #[test]
    fn badly_named_custom_properties_are_rejected() {
        for name in ["X_Acme", "xa", "x-acme", "severity"] {
            assert!(
                StixObject::from_value(with(indicator(), name, json!(1))).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn ip_observables_check_their_value() {
        let ip = |v: &str| json!({"type": "ipv4-addr", "id": "ipv4-addr--0198f97b-e65d-5025-87e5-58bc39d4bdb4", "value": v});
        assert!(StixObject::from_value(ip("1.2.3.4")).is_ok());
        assert!(StixObject::from_value(ip("10.0.0.0/8")).is_ok());
        for bad in ["1.2.3", "1.2.3.4/33", "1.2.3.4/", "::1", "example.com"] {
            assert!(StixObject::from_value(ip(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_needs_a_hash_or_a_name() {
        let f = json!({"type": "file", "id": "file--deeeb324-9764-53e2-ac38-a6d4117fc313"});
        assert!(matches!(
            StixObject::from_value(f),
            Err(ObjectError::Rule(_))
        ));
        let f = json!({"type": "file", "id": "file--deeeb324-9764-53e2-ac38-a6d4117fc313",
            "hashes": {"MD5": "00112233445566778899aabbccddeef"}});
        let e = StixObject::from_value(f).unwrap_err().to_string();
        assert!(e.contains("hashes") && e.contains("MD5"), "{e}");
    }

    #[test]
    fn a_sighting_needs_what_it_sighted() {
        let s = json!({
            "type": "sighting", "spec_version": "2.1",
            "id": "sighting--ee20065d-2555-424f-ad9e-0f8428623c75",
            "created": "2016-04-06T20:08:31.000Z", "modified": "2016-04-06T20:08:31.000Z"
        });
        assert_eq!(
            StixObject::from_value(s.clone()),
            Err(ObjectError::Missing("sighting_of_ref"))
        );
        let s = with(
            s,
            "sighting_of_ref",
            json!("relationship--ee20065d-2555-424f-ad9e-0f8428623c75"),
        );
        assert!(StixObject::from_value(s).is_err());
    }

    #[test]
    fn unknown_domain_objects_keep_everything() {
        let m = json!({
            "type": "malware", "spec_version": "2.1",
            "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
            "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z",
            "name": "Poison Ivy", "is_family": true
        });
        let obj = StixObject::from_value(m.clone()).unwrap();
        assert_eq!(obj.object_type(), "malware");
        assert_eq!(obj.to_value(), m);
    }
}
