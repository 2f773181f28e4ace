//! Mapping one MISP event to STIX 2.1 objects.
//!
//! - Each attribute (inside or outside MISP objects) with `to_ids: true` becomes an
//!   `indicator` whose STIX pattern is built as a syntax tree and printed, so values are
//!   escaped correctly (a CIDR block is tested with `ISSUBSET`, which is what STIX patterning
//!   means by "an address in this block"); with `to_ids: false` it becomes `observed-data`
//!   pointing at observables with deterministic ids. YARA, Snort, Sigma and Suricata rules
//!   marked `to_ids` become indicators in their own pattern language.
//! - `link` attributes become external references of the event's report; `text`, `comment`
//!   and `other` attributes (and links more restricted than the event) become `note`s on it.
//! - Restrictions: `tlp:` tags (event and attribute; `tlp:white` is CLEAR) and MISP's
//!   `distribution` (event, object and attribute; see [`tlp_of_distribution`]) become TLP 2.0
//!   `object_marking_refs`, the most restrictive winning. Every object made from the event
//!   carries the event's level at least: the organisation's identity and the galaxy-derived
//!   objects too. Other tags become `labels`.
//! - The creating organisation becomes an `identity`; threat-actor, ATT&CK intrusion-set and
//!   ATT&CK attack-pattern galaxy clusters become `threat-actor`, `intrusion-set` and
//!   `attack-pattern` objects (other galaxies are counted in `unmapped`). A published event
//!   becomes a `report` dated by its publication; an unpublished one becomes a `grouping`,
//!   because STIX 2.1 requires a report's `published` and an unpublished event has none.
//! - MISP facts with no STIX property (attribute type and category, object name and relation,
//!   the event's uuid, distribution) travel in detente's MISP property extension
//!   ([`MISP_EXTENSION_ID`], STIX 2.1 §7.3), never as top-level custom properties, so strict
//!   STIX 2.1 consumers accept the objects. The extension definition and its author's
//!   identity come with every event.
//!
//! Ids reuse the MISP uuids (`indicator--<attribute uuid>`, `report--<event uuid>`), so a
//! re-import of the same event version deduplicates. Organisations and galaxy clusters carry
//! no timestamps in MISP; their objects get a fixed `created`/`modified` so every event that
//! names them yields the same version (the first one stored keeps its marking). Attributes
//! MISP has no observable for (cryptocurrency wallets, ports, …) are counted in `unmapped`,
//! never silently dropped.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{MispAttribute, MispError, MispEvent, MispObject};
use crate::id::{StixId, deterministic_observable_id};
use crate::object::Hashes;
use crate::pattern::{
    CompareOp, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, Pattern,
    PropertyTest,
};
use crate::timestamp::Timestamp;
use crate::tlp::{Tlp, marking_id, tlp_of_word};

/// The namespace of ids derived from MISP uuids that are not RFC 4122 UUIDs.
pub const MISP_NAMESPACE: Uuid = Uuid::from_u128(0x5b0f_6c1e_3a4d_4e8f_9b27_d1c4_a8e6_f302);

/// `created`/`modified` of objects made from MISP organisations and galaxy clusters.
const UNDATED: &str = "1970-01-01T00:00:00.000Z";

/// The extension definition of detente's MISP properties (STIX 2.1 §7.3): what MISP says
/// that STIX has no property for.
pub const MISP_EXTENSION_ID: &str = "extension-definition--699792b9-8b5a-4b05-84e2-3e6419039819";
/// detente's identity, the author of [`MISP_EXTENSION_ID`].
pub const DETENTE_IDENTITY_ID: &str = "identity--5fa4b2f6-5fd1-467f-9ed9-e67e34f008db";
/// `created`/`modified` of the extension definition and its author.
const EXTENSION_CREATED: &str = "2026-11-01T00:00:00.000Z";
/// The extension's definition, for readers: every property it may carry.
const EXTENSION_SCHEMA: &str = "Properties of objects made from MISP events, all optional: \
    attribute_type (string, the MISP attribute type, e.g. ip-dst), category (string, the MISP \
    category), object_name and object_relation (strings, the MISP object and the attribute's \
    role in it), comment (string, the attribute's comment), distribution (integer 0-5, MISP's \
    distribution), event_uuid (string), galaxy_cluster_uuid (string).";

/// The TLP level a MISP `distribution` allows at most, read conservatively: `None` when it
/// adds nothing to the TLP tags.
///
/// | distribution              | level                                                 |
/// |---------------------------|-------------------------------------------------------|
/// | 0 your organisation only  | AMBER+STRICT: never leaves this node's organisation   |
/// | 1 this community only     | AMBER+STRICT: a MISP community is not the agreement's |
/// | 2 connected communities   | AMBER: the partner named as audience at most          |
/// | 3 all communities         | no limit beyond the TLP tags                           |
/// | 4 sharing group           | RED: only the recipients named on import              |
/// | 5 inherit (not events)    | the event's                                           |
/// | anything else             | RED                                                   |
pub fn tlp_of_distribution(distribution: i64, of_event: bool) -> Option<Tlp> {
    match distribution {
        0 | 1 => Some(Tlp::AmberStrict),
        2 => Some(Tlp::Amber),
        3 => None,
        5 if !of_event => None,
        _ => Some(Tlp::Red),
    }
}

/// The STIX objects of one MISP event, as JSON for the importer to validate.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    /// The objects: identity, observables, indicators, observed-data, actors, then the report.
    pub objects: Vec<Value>,
    /// Attributes left out, counted by MISP type, with the reason in the key
    /// (`"link: a reference, not an observable"`).
    pub unmapped: BTreeMap<String, u64>,
    /// The event's TLP level from its tags and distribution, if any.
    pub tlp: Option<Tlp>,
}

/// The TLP level of a MISP tag (`tlp:amber`, `TLP:AMBER+STRICT`, `tlp:white`), following the
/// MISP TLP taxonomy; `tlp:ex:chr` and `tlp:unclear` are not levels.
pub fn tlp_of_tag(tag: &str) -> Option<Tlp> {
    let lower = tag.trim().to_ascii_lowercase();
    tlp_of_word(lower.strip_prefix("tlp:")?.trim_matches('"'))
}

/// The id of the `ty` object made from the MISP item `misp_uuid`: that uuid when it is a
/// version 4 UUID, as STIX 2.1 asks of domain objects (§2.9); otherwise (MISP also has
/// version 1 uuids, and organisations without one) a version 4-shaped UUID derived from it,
/// the same at every import.
fn id_from(ty: &str, misp_uuid: &str) -> StixId {
    StixId::parse(&format!("{ty}--{}", misp_uuid.to_ascii_lowercase()))
        .ok()
        .filter(|id| id.uuid().get_version_num() == 4)
        .unwrap_or_else(|| derived_v4(ty, &format!("{ty}/{misp_uuid}")))
}

/// A version 4-shaped id for `ty` derived from `name`: the bits of a version 5 UUID under
/// [`MISP_NAMESPACE`], stamped as version 4.
fn derived_v4(ty: &str, name: &str) -> StixId {
    let bits = Uuid::new_v5(&MISP_NAMESPACE, name.as_bytes()).into_bytes();
    StixId::new(ty, uuid::Builder::from_random_bytes(bits).into_uuid())
        .expect("known STIX types and a UUID make a valid id")
}

/// A registry key with its hive written out: STIX 2.1 §6.13 requires `HKEY_LOCAL_MACHINE`,
/// not `HKLM` (MISP writes either).
fn full_hive(key: &str) -> String {
    let (hive, rest) = key.split_once('\\').unwrap_or((key, ""));
    let full = match hive.to_ascii_uppercase().as_str() {
        "HKLM" => "HKEY_LOCAL_MACHINE",
        "HKCU" => "HKEY_CURRENT_USER",
        "HKCR" => "HKEY_CLASSES_ROOT",
        "HKU" => "HKEY_USERS",
        "HKCC" => "HKEY_CURRENT_CONFIG",
        _ => return key.to_owned(),
    };
    if key.contains('\\') {
        format!("{full}\\{rest}")
    } else {
        full.to_owned()
    }
}

struct Ctx<'a> {
    event: &'a MispEvent,
    event_time: Timestamp,
    /// The event's level: its TLP tags and its distribution.
    event_tlp: Option<Tlp>,
    identity: Option<StixId>,
    /// The report (published events) or grouping (unpublished ones) the event becomes.
    container: StixId,
    out: Converted,
    refs: Vec<String>,
    /// `link` attributes, as the container's external references.
    links: Vec<Value>,
}

/// Maps one event; see the module documentation.
pub fn convert_event(event: &MispEvent) -> Result<Converted, MispError> {
    let event_time = event
        .timestamp
        .and_then(Timestamp::from_unix_seconds)
        .or_else(|| date_time(event.date.as_deref()?))
        .ok_or_else(|| MispError::Undated(event.uuid.clone()))?;
    let event_tlp = event
        .tags
        .iter()
        .filter_map(|t| tlp_of_tag(&t.name))
        .chain(
            event
                .distribution
                .and_then(|d| tlp_of_distribution(d, true)),
        )
        .max();
    let container = if published(event).is_some() {
        id_from("report", &event.uuid)
    } else {
        id_from("grouping", &event.uuid)
    };
    let mut cx = Ctx {
        event,
        event_time,
        event_tlp,
        identity: None,
        container,
        out: Converted {
            tlp: event_tlp,
            objects: extension_objects(),
            ..Converted::default()
        },
        refs: Vec::new(),
        links: Vec::new(),
    };
    cx.identity();
    for a in &event.attributes {
        cx.attribute(a, None);
    }
    for o in event.objects.iter().filter(|o| !o.deleted) {
        for a in &o.attributes {
            cx.attribute(a, Some(o));
        }
    }
    cx.galaxies();
    cx.report();
    Ok(cx.out)
}

fn date_time(date: &str) -> Option<Timestamp> {
    Timestamp::parse(&format!("{date}T00:00:00.000Z")).ok()
}

/// When a published event was published: its `publish_timestamp`, or its last change when
/// MISP gives none; `None` for an unpublished event.
fn published(e: &MispEvent) -> Option<Timestamp> {
    let at = e
        .publish_timestamp
        .filter(|t| *t > 0)
        .and_then(Timestamp::from_unix_seconds);
    match e.published {
        Some(false) => None,
        Some(true) => at.or_else(|| e.timestamp.and_then(Timestamp::from_unix_seconds)),
        None => at,
    }
}

fn markings(level: Option<Tlp>) -> Option<Value> {
    level.map(|l| json!([marking_id(l).to_string()]))
}

/// `{"<MISP extension id>": {"extension_type": "property-extension", ...props}}`.
fn misp_extension(props: Map<String, Value>) -> Value {
    let mut ext = Map::new();
    ext.insert("extension_type".into(), json!("property-extension"));
    ext.extend(props);
    json!({ MISP_EXTENSION_ID: ext })
}

/// The extension definition and its author, TLP:CLEAR: both are public schema facts that
/// every reader of a converted object needs.
fn extension_objects() -> Vec<Value> {
    let clear = markings(Some(Tlp::Clear));
    vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": DETENTE_IDENTITY_ID,
            "created": EXTENSION_CREATED, "modified": EXTENSION_CREATED,
            "name": "detente", "identity_class": "system",
            "description": "detente, the software that converted these objects from MISP",
            "object_marking_refs": clear,
        }),
        json!({
            "type": "extension-definition", "spec_version": "2.1", "id": MISP_EXTENSION_ID,
            "created_by_ref": DETENTE_IDENTITY_ID,
            "created": EXTENSION_CREATED, "modified": EXTENSION_CREATED,
            "name": "MISP properties",
            "description": "What a MISP event says about an object that STIX 2.1 has no property for.",
            "schema": EXTENSION_SCHEMA, "version": "1.0.0",
            "extension_types": ["property-extension"],
            "object_marking_refs": clear,
        }),
    ]
}

fn test(object_type: &str, property: &str, steps: Vec<PathStep>, value: Literal) -> ComparisonExpr {
    compare(object_type, property, steps, CompareOp::Eq, value)
}

fn compare(
    object_type: &str,
    property: &str,
    steps: Vec<PathStep>,
    op: CompareOp,
    value: Literal,
) -> ComparisonExpr {
    ComparisonExpr::Test(PropertyTest::Compare {
        path: ObjectPath {
            object_type: object_type.into(),
            property: property.into(),
            steps,
        },
        negated: false,
        op,
        value,
    })
}

/// `=` for an address, `ISSUBSET` for a CIDR block (STIX 2.1 §9.7: "ISSUBSET" tests whether
/// an address is in a block; `=` against a block matches nothing in the OASIS matcher).
fn ip_op(value: &str) -> CompareOp {
    if value.contains('/') {
        CompareOp::IsSubset
    } else {
        CompareOp::Eq
    }
}

fn s(v: &str) -> Literal {
    Literal::Str(v.into())
}

/// What one attribute means in STIX: pattern tests (ANDed) and observables.
struct Mapped {
    tests: Vec<ComparisonExpr>,
    /// Observables to emit; the first is what observed-data refers to (the rest hang off it).
    scos: Vec<(String, Map<String, Value>)>,
    /// Why the value makes a pattern but no valid observable (a URL without a scheme).
    no_observable: Option<String>,
}

impl Mapped {
    fn new() -> Self {
        Self {
            tests: Vec::new(),
            scos: Vec::new(),
            no_observable: None,
        }
    }

    /// Adds an observable and returns its deterministic id.
    fn sco(&mut self, ty: &str, props: Value) -> Result<String, String> {
        let Value::Object(props) = props else {
            return Err("internal: observable properties must be an object".into());
        };
        let id = deterministic_observable_id(ty, &props)
            .ok_or_else(|| format!("no deterministic id for {ty}"))?
            .to_string();
        self.scos.push((ty.to_owned(), props));
        Ok(id)
    }
}

fn ip_kind(v: &str) -> Result<&'static str, String> {
    let addr = v.split_once('/').map_or(v, |(a, _)| a);
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Ok("ipv4-addr"),
        Ok(std::net::IpAddr::V6(_)) => Ok("ipv6-addr"),
        Err(_) => Err(format!("{v:?} is not an IP address")),
    }
}

fn hash_algorithm(misp_type: &str) -> Option<&'static str> {
    Some(match misp_type {
        "md5" => "MD5",
        "sha1" => "SHA-1",
        "sha224" => "SHA-224",
        "sha256" => "SHA-256",
        "sha384" => "SHA-384",
        "sha512" => "SHA-512",
        "sha3-256" => "SHA3-256",
        "sha3-512" => "SHA3-512",
        "ssdeep" => "SSDEEP",
        "tlsh" => "TLSH",
        _ => return None,
    })
}

fn hashes(alg: &str, value: &str) -> Result<Value, String> {
    let value = if alg == "SSDEEP" || alg == "TLSH" {
        value.to_owned()
    } else {
        value.to_ascii_lowercase()
    };
    let h = Hashes(BTreeMap::from([(alg.to_owned(), value)]));
    h.check()?;
    serde_json::to_value(h).map_err(|e| e.to_string())
}

/// Maps an attribute type and value; `Err` says why it has no STIX form.
fn map_value(misp_type: &str, value: &str) -> Result<Mapped, String> {
    let mut m = Mapped::new();
    match misp_type {
        "ip-src" | "ip-dst" => {
            let ty = ip_kind(value)?;
            m.tests
                .push(compare(ty, "value", vec![], ip_op(value), s(value)));
            m.sco(ty, json!({"value": value}))?;
        }
        "ip-src|port" | "ip-dst|port" => {
            let (ip, port) = value
                .rsplit_once('|')
                .ok_or_else(|| format!("{value:?} is not ip|port"))?;
            let port: u16 = port
                .parse()
                .map_err(|_| format!("{port:?} is not a port number"))?;
            let ty = ip_kind(ip)?;
            let side = if misp_type.starts_with("ip-src") {
                "src"
            } else {
                "dst"
            };
            let ref_prop = format!("{side}_ref");
            let port_prop = format!("{side}_port");
            m.tests.push(test(
                "network-traffic",
                &ref_prop,
                vec![PathStep::Key("type".into())],
                s(ty),
            ));
            m.tests.push(compare(
                "network-traffic",
                &ref_prop,
                vec![PathStep::Key("value".into())],
                ip_op(ip),
                s(ip),
            ));
            m.tests.push(test(
                "network-traffic",
                &port_prop,
                vec![],
                Literal::Int(i64::from(port)),
            ));
            let protocol = if ty == "ipv4-addr" { "ipv4" } else { "ipv6" };
            let mut scos = Mapped::new();
            let ip_id = scos.sco(ty, json!({"value": ip}))?;
            let mut traffic = Map::new();
            traffic.insert(ref_prop, Value::String(ip_id));
            traffic.insert(port_prop, json!(port));
            traffic.insert("protocols".into(), json!([protocol]));
            m.sco("network-traffic", Value::Object(traffic))?;
            m.scos.extend(scos.scos);
        }
        "domain" | "hostname" => {
            m.tests.push(test("domain-name", "value", vec![], s(value)));
            m.sco("domain-name", json!({"value": value}))?;
        }
        "domain|ip" | "hostname|ip" => {
            let (domain, ip) = value
                .split_once('|')
                .ok_or_else(|| format!("{value:?} is not domain|ip"))?;
            let ty = ip_kind(ip)?;
            m.tests
                .push(test("domain-name", "value", vec![], s(domain)));
            m.tests.push(test(
                "domain-name",
                "resolves_to_refs",
                vec![PathStep::AnyIndex, PathStep::Key("value".into())],
                s(ip),
            ));
            let mut ips = Mapped::new();
            let ip_id = ips.sco(ty, json!({"value": ip}))?;
            m.sco(
                "domain-name",
                json!({"value": domain, "resolves_to_refs": [ip_id]}),
            )?;
            m.scos.extend(ips.scos);
        }
        "url" => {
            // As sent on the wire: characters a URI never holds raw (spaces, say) encoded.
            let value = &uri_encoded(value);
            m.tests.push(test("url", "value", vec![], s(value)));
            // MISP users often file `host/path` as a URL. It still makes a pattern, but a
            // STIX url observable must be absolute (RFC 3986), so none is invented.
            if has_scheme(value) {
                m.sco("url", json!({"value": value}))?;
            } else {
                m.no_observable =
                    Some("not an absolute URL (no scheme), so no url observable".into());
            }
        }
        "email" | "email-src" | "email-dst" | "email-reply-to" => {
            m.tests.push(test("email-addr", "value", vec![], s(value)));
            m.sco("email-addr", json!({"value": value}))?;
        }
        "email-subject" => {
            m.tests
                .push(test("email-message", "subject", vec![], s(value)));
            m.sco(
                "email-message",
                json!({"is_multipart": false, "subject": value}),
            )?;
        }
        "filename" => {
            m.tests.push(test("file", "name", vec![], s(value)));
            m.sco("file", json!({"name": value}))?;
        }
        "mutex" => {
            m.tests.push(test("mutex", "name", vec![], s(value)));
            m.sco("mutex", json!({"name": value}))?;
        }
        "regkey" => {
            let key = full_hive(value);
            m.tests
                .push(test("windows-registry-key", "key", vec![], s(&key)));
            registry_key(&mut m, &key, json!({"key": key}))?;
        }
        "regkey|value" => {
            let (key, data) = value
                .split_once('|')
                .ok_or_else(|| format!("{value:?} is not key|value"))?;
            let key = full_hive(key);
            m.tests
                .push(test("windows-registry-key", "key", vec![], s(&key)));
            m.tests.push(test(
                "windows-registry-key",
                "values",
                vec![PathStep::AnyIndex, PathStep::Key("data".into())],
                s(data),
            ));
            registry_key(
                &mut m,
                &key,
                json!({"key": key, "values": [{"data": data}]}),
            )?;
        }
        "mac-address" => {
            let mac = value.to_ascii_lowercase();
            m.tests.push(test("mac-addr", "value", vec![], s(&mac)));
            m.sco("mac-addr", json!({"value": mac}))?;
        }
        "AS" => {
            let n: i64 = value
                .trim_start_matches("AS")
                .parse()
                .map_err(|_| format!("{value:?} is not an AS number"))?;
            m.tests
                .push(test("autonomous-system", "number", vec![], Literal::Int(n)));
            m.sco("autonomous-system", json!({"number": n}))?;
        }
        t => {
            if let Some(alg) = hash_algorithm(t) {
                let h = hashes(alg, value)?;
                let v = h[alg].as_str().unwrap_or(value).to_owned();
                m.tests.push(test(
                    "file",
                    "hashes",
                    vec![PathStep::Key(alg.into())],
                    s(&v),
                ));
                m.sco("file", json!({"hashes": h}))?;
            } else if let Some(alg) = t.strip_prefix("filename|").and_then(hash_algorithm) {
                let (name, hash) = value
                    .split_once('|')
                    .ok_or_else(|| format!("{value:?} is not filename|hash"))?;
                let h = hashes(alg, hash)?;
                let v = h[alg].as_str().unwrap_or(hash).to_owned();
                m.tests.push(test("file", "name", vec![], s(name)));
                m.tests.push(test(
                    "file",
                    "hashes",
                    vec![PathStep::Key(alg.into())],
                    s(&v),
                ));
                m.sco("file", json!({"name": name, "hashes": h}))?;
            } else {
                let why = match t {
                    "uri" => "a reference, not an observable",
                    _ => "no STIX 2.1 observable for this MISP type",
                };
                return Err(why.into());
            }
        }
    }
    Ok(m)
}

/// The registry key observable `props`, if `key` is a key: one of the five hives, written
/// out. MISP also holds patterns such as `(HKLM|HKCU)\\Software\\…`: they still make an
/// indicator's pattern, but no observable is invented from them.
fn registry_key(m: &mut Mapped, key: &str, props: Value) -> Result<(), String> {
    if key.starts_with("HKEY_") {
        m.sco("windows-registry-key", props)?;
    } else {
        m.no_observable = Some("not a registry key of a known hive, so no observable".into());
    }
    Ok(())
}

/// `v` with every byte RFC 3986 never allows in a URI (space, quotes, `<>\\^`{|}`, controls,
/// non-ASCII) percent-encoded; what it allows, `%` included, stays as written.
fn uri_encoded(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn has_scheme(v: &str) -> bool {
    v.split_once(':').is_some_and(|(scheme, _)| {
        scheme
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
    })
}

/// Rule languages MISP carries as attributes, and their STIX `pattern_type`.
fn rule_language(misp_type: &str) -> Option<&'static str> {
    Some(match misp_type {
        "yara" => "yara",
        "snort" => "snort",
        "sigma" => "sigma",
        "suricata" => "suricata",
        _ => return None,
    })
}

impl Ctx<'_> {
    fn identity(&mut self) {
        let Some(org) = self.event.orgc.as_ref().or(self.event.org.as_ref()) else {
            return;
        };
        if org.name.is_empty() {
            return;
        }
        let id = match &org.uuid {
            Some(u) => id_from("identity", u),
            None => derived_v4("identity", &org.name),
        };
        let mut obj = json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": id.to_string(),
            "created": UNDATED,
            "modified": UNDATED,
            "name": org.name,
            "identity_class": "organization",
        });
        if let Some(m) = markings(self.event_tlp) {
            obj["object_marking_refs"] = m;
        }
        self.out.objects.push(obj);
        self.identity = Some(id);
    }

    fn unmapped(&mut self, misp_type: &str, why: &str) {
        *self
            .out
            .unmapped
            .entry(format!("{misp_type}: {why}"))
            .or_default() += 1;
    }

    fn attribute(&mut self, a: &MispAttribute, object: Option<&MispObject>) {
        if a.deleted {
            return;
        }
        let time = a
            .timestamp
            .and_then(Timestamp::from_unix_seconds)
            .unwrap_or_else(|| self.event_time.clone());
        let distributions = [object.and_then(|o| o.distribution), a.distribution];
        let tlp = a
            .tags
            .iter()
            .filter_map(|t| tlp_of_tag(&t.name))
            .chain(self.event_tlp)
            .chain(
                distributions
                    .into_iter()
                    .flatten()
                    .filter_map(|d| tlp_of_distribution(d, false)),
            )
            .max();
        let mut labels = vec![format!("misp:type=\"{}\"", a.attr_type)];
        if let Some(c) = &a.category {
            labels.push(format!("misp:category=\"{c}\""));
        }
        labels.extend(
            a.tags
                .iter()
                .filter(|t| tlp_of_tag(&t.name).is_none() && !t.name.is_empty())
                .map(|t| t.name.clone()),
        );
        let mut facts = Map::new();
        facts.insert("attribute_type".into(), json!(a.attr_type));
        if let Some(c) = &a.category {
            facts.insert("category".into(), json!(c));
        }
        if let Some(o) = object {
            facts.insert("object_name".into(), json!(o.name));
            if let Some(rel) = &a.object_relation {
                facts.insert("object_relation".into(), json!(rel));
            }
        }
        if let Some(d) = a.distribution {
            facts.insert("distribution".into(), json!(d));
        }
        let comment = a.comment.as_deref().filter(|c| !c.is_empty());
        let mut common = Map::new();
        common.insert("spec_version".into(), json!("2.1"));
        common.insert("created".into(), json!(time.as_str()));
        common.insert("modified".into(), json!(time.as_str()));
        if let Some(id) = &self.identity {
            common.insert("created_by_ref".into(), json!(id.to_string()));
        }
        common.insert("labels".into(), json!(labels));
        if let Some(m) = markings(tlp) {
            common.insert("object_marking_refs".into(), m);
        }

        match a.attr_type.as_str() {
            // A link as restricted as the event is one of the event's sources; a link more
            // restricted than the event must not ride on the event's report, so it becomes a
            // note with its own marking.
            "link" if tlp == self.event_tlp => {
                let mut link = Map::new();
                link.insert("source_name".into(), json!(link_source(&a.value)));
                link.insert("url".into(), json!(a.value));
                if let Some(c) = comment {
                    link.insert("description".into(), json!(c));
                }
                self.links.push(Value::Object(link));
                return;
            }
            "link" | "text" | "comment" | "other" => {
                let mut note = common;
                note.insert("type".into(), json!("note"));
                note.insert("id".into(), json!(id_from("note", &a.uuid).to_string()));
                if let Some(c) = comment {
                    note.insert("abstract".into(), json!(c));
                }
                note.insert("content".into(), json!(a.value));
                note.insert("object_refs".into(), json!([self.container.to_string()]));
                note.insert("extensions".into(), misp_extension(facts));
                self.push_ref(Value::Object(note));
                return;
            }
            _ => {}
        }
        // An indicator should say what it is (STIX 2.1 §4.7 recommends both name and
        // description): the attribute's comment, or where it came from.
        let description = comment.map_or_else(
            || {
                let category = a
                    .category
                    .as_deref()
                    .map_or(String::new(), |c| format!(" ({c})"));
                format!(
                    "MISP {} attribute{category} of the event \"{}\"",
                    a.attr_type, self.event.info
                )
            },
            str::to_owned,
        );
        common.insert("description".into(), json!(description));

        if a.to_ids
            && let Some(lang) = rule_language(&a.attr_type)
        {
            let mut ind = common;
            ind.insert("type".into(), json!("indicator"));
            ind.insert(
                "id".into(),
                json!(id_from("indicator", &a.uuid).to_string()),
            );
            ind.insert("name".into(), json!(format!("{} rule", a.attr_type)));
            ind.insert("indicator_types".into(), json!(["malicious-activity"]));
            ind.insert("pattern".into(), json!(a.value));
            ind.insert("pattern_type".into(), json!(lang));
            ind.insert("valid_from".into(), json!(time.as_str()));
            ind.insert("extensions".into(), misp_extension(facts));
            self.push_ref(Value::Object(ind));
            return;
        }
        let mapped = match map_value(&a.attr_type, &a.value) {
            Ok(m) => m,
            Err(why) => return self.unmapped(&a.attr_type, &why),
        };
        if a.to_ids {
            let pattern = Pattern {
                expr: ObservationExpr::Observation(if mapped.tests.len() == 1 {
                    mapped.tests.into_iter().next().expect("one test")
                } else {
                    ComparisonExpr::And(mapped.tests)
                }),
            };
            let mut ind = common;
            ind.insert("type".into(), json!("indicator"));
            ind.insert(
                "id".into(),
                json!(id_from("indicator", &a.uuid).to_string()),
            );
            ind.insert(
                "name".into(),
                json!(format!("{}: {}", a.attr_type, clip(&a.value))),
            );
            ind.insert("indicator_types".into(), json!(["malicious-activity"]));
            ind.insert("pattern".into(), json!(pattern.to_string()));
            ind.insert("pattern_type".into(), json!("stix"));
            ind.insert("pattern_version".into(), json!("2.1"));
            ind.insert("valid_from".into(), json!(time.as_str()));
            ind.insert("extensions".into(), misp_extension(facts));
            self.push_ref(Value::Object(ind));
        } else if let Some(why) = mapped.no_observable {
            self.unmapped(&a.attr_type, &why);
        } else {
            let mut refs = Vec::new();
            for (ty, mut props) in mapped.scos {
                let Some(id) = deterministic_observable_id(&ty, &props) else {
                    continue;
                };
                refs.push(id.to_string());
                props.insert("type".into(), json!(ty));
                props.insert("spec_version".into(), json!("2.1"));
                props.insert("id".into(), json!(id.to_string()));
                if let Some(m) = markings(tlp) {
                    props.insert("object_marking_refs".into(), m);
                }
                self.out.objects.push(Value::Object(props));
            }
            let mut od = common;
            od.remove("description");
            od.insert("type".into(), json!("observed-data"));
            od.insert(
                "id".into(),
                json!(id_from("observed-data", &a.uuid).to_string()),
            );
            od.insert("first_observed".into(), json!(time.as_str()));
            od.insert("last_observed".into(), json!(time.as_str()));
            od.insert("number_observed".into(), json!(1));
            od.insert("object_refs".into(), json!(refs));
            if let Some(c) = comment {
                facts.insert("comment".into(), json!(c));
            }
            od.insert("extensions".into(), misp_extension(facts));
            self.push_ref(Value::Object(od));
        }
    }

    fn push_ref(&mut self, obj: Value) {
        if let Some(id) = obj.get("id").and_then(Value::as_str) {
            self.refs.push(id.to_owned());
        }
        self.out.objects.push(obj);
    }

    fn galaxies(&mut self) {
        for g in &self.event.galaxies {
            let ty = match g.galaxy_type.as_str() {
                "threat-actor" => "threat-actor",
                "mitre-intrusion-set" | "mitre-enterprise-attack-intrusion-set" => "intrusion-set",
                t if t.starts_with("mitre-") && t.ends_with("attack-pattern") => "attack-pattern",
                other => {
                    let key = format!("galaxy {other}");
                    for _ in &g.clusters {
                        self.unmapped(&key, "no STIX 2.1 object for this galaxy");
                    }
                    continue;
                }
            };
            for c in &g.clusters {
                if c.value.is_empty() || c.uuid.is_empty() {
                    self.unmapped(
                        &format!("galaxy {}", g.galaxy_type),
                        "a cluster without name or uuid",
                    );
                    continue;
                }
                let id = id_from(ty, &c.uuid).to_string();
                if self.refs.contains(&id) {
                    continue;
                }
                let obj = self.cluster(ty, &id, c);
                self.push_ref(Value::Object(obj));
            }
        }
    }

    /// The STIX object of one galaxy cluster: its name, description and aliases, and for
    /// ATT&CK techniques their id, link and tactics as ATT&CK's own STIX writes them.
    fn cluster(&self, ty: &str, id: &str, c: &super::MispCluster) -> Map<String, Value> {
        let meta = |key: &str| -> Vec<&str> {
            c.meta
                .as_ref()
                .and_then(|m| m.get(key))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let mut obj = Map::new();
        obj.insert("type".into(), json!(ty));
        obj.insert("spec_version".into(), json!("2.1"));
        obj.insert("id".into(), json!(id));
        obj.insert("created".into(), json!(UNDATED));
        obj.insert("modified".into(), json!(UNDATED));
        // MISP lists the technique's ATT&CK id among others (CAPEC ids, say).
        let ids = meta("external_id");
        let is_attack = |x: &&str| {
            x.strip_prefix('T')
                .and_then(|n| n.bytes().next())
                .is_some_and(|b| b.is_ascii_digit())
        };
        let external_id = ids.iter().copied().find(is_attack);
        // MISP names techniques "Software - T1592.002"; ATT&CK names them "Software".
        let name = external_id
            .and_then(|x| c.value.strip_suffix(&format!(" - {x}")))
            .unwrap_or(&c.value);
        obj.insert("name".into(), json!(name));
        if let Some(d) = c.description.as_deref().filter(|d| !d.is_empty()) {
            obj.insert("description".into(), json!(d));
        }
        let aliases = meta("synonyms");
        if !aliases.is_empty() && ty != "attack-pattern" {
            obj.insert("aliases".into(), json!(aliases));
        }
        if ty == "attack-pattern" {
            let mut references = Vec::new();
            if let Some(x) = external_id {
                let mut reference = json!({"source_name": "mitre-attack", "external_id": x});
                if let Some(url) = meta("refs")
                    .into_iter()
                    .find(|r| r.starts_with("https://attack.mitre.org/"))
                {
                    reference["url"] = json!(url);
                }
                references.push(reference);
            }
            references.extend(
                ids.iter()
                    .filter(|x| x.starts_with("CAPEC-"))
                    .map(|x| json!({"source_name": "capec", "external_id": x})),
            );
            if !references.is_empty() {
                obj.insert("external_references".into(), json!(references));
            }
            let phases: Vec<Value> = meta("kill_chain")
                .into_iter()
                .filter_map(|k| {
                    let (chain, rest) = k.split_once(':')?;
                    let phase = rest.rsplit(':').next()?;
                    Some(json!({"kill_chain_name": chain, "phase_name": phase}))
                })
                .collect();
            if !phases.is_empty() {
                obj.insert("kill_chain_phases".into(), json!(phases));
            }
        }
        let mut facts = Map::new();
        facts.insert("galaxy_cluster_uuid".into(), json!(c.uuid));
        self.stamp(&mut obj, facts);
        obj
    }

    /// Marks `obj` with the event's level and gives it the MISP `facts`.
    fn stamp(&self, obj: &mut Map<String, Value>, facts: Map<String, Value>) {
        if let Some(m) = markings(self.event_tlp) {
            obj.insert("object_marking_refs".into(), m);
        }
        obj.insert("extensions".into(), misp_extension(facts));
    }

    fn report(&mut self) {
        let e = self.event;
        let modified = self.event_time.clone();
        let created = date_time(e.date.as_deref().unwrap_or_default())
            .filter(|d| *d <= modified)
            .unwrap_or_else(|| modified.clone());
        let mut refs = std::mem::take(&mut self.refs);
        if refs.is_empty() {
            match &self.identity {
                Some(id) => refs.push(id.to_string()),
                None => {
                    for _ in 0..self.links.len() {
                        self.unmapped("link", "no report to attach it to");
                    }
                    return self.unmapped("event", "nothing to report");
                }
            }
        }
        let mut r = Map::new();
        r.insert("type".into(), json!(self.container.object_type()));
        r.insert("spec_version".into(), json!("2.1"));
        r.insert("id".into(), json!(self.container.to_string()));
        r.insert("created".into(), json!(created.as_str()));
        r.insert("modified".into(), json!(modified.as_str()));
        if let Some(id) = &self.identity {
            r.insert("created_by_ref".into(), json!(id.to_string()));
        }
        r.insert(
            "name".into(),
            json!(if e.info.is_empty() {
                "MISP event"
            } else {
                e.info.as_str()
            }),
        );
        match published(e) {
            Some(at) => {
                r.insert("report_types".into(), json!(["threat-report"]));
                r.insert("published".into(), json!(at.as_str()));
            }
            None => {
                r.insert("context".into(), json!("unspecified"));
            }
        }
        r.insert("object_refs".into(), json!(refs));
        let labels: Vec<&str> = e
            .tags
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| !n.is_empty() && tlp_of_tag(n).is_none())
            .collect();
        if !labels.is_empty() {
            r.insert("labels".into(), json!(labels));
        }
        let links = std::mem::take(&mut self.links);
        if !links.is_empty() {
            r.insert("external_references".into(), json!(links));
        }
        let mut facts = Map::new();
        facts.insert("event_uuid".into(), json!(e.uuid));
        if let Some(d) = e.distribution {
            facts.insert("distribution".into(), json!(d));
        }
        self.stamp(&mut r, facts);
        self.out.objects.push(Value::Object(r));
    }
}

/// The `source_name` of a link's external reference: the host it points to.
fn link_source(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        "link".into()
    } else {
        host.to_ascii_lowercase()
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(200).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::object::StixObject;

    #[test]
    fn tlp_tags_follow_the_misp_taxonomy() {
        assert_eq!(tlp_of_tag("tlp:white"), Some(Tlp::Clear));
        assert_eq!(tlp_of_tag("tlp:clear"), Some(Tlp::Clear));
        assert_eq!(tlp_of_tag("TLP:AMBER+STRICT"), Some(Tlp::AmberStrict));
        assert_eq!(tlp_of_tag("tlp:\"red\""), Some(Tlp::Red));
        assert_eq!(tlp_of_tag("tlp:ex:chr"), None);
        assert_eq!(tlp_of_tag("PAP:RED"), None);
    }

    #[test]
    fn composite_values_become_conjunctions_that_parse() {
        for (t, v) in [
            ("ip-dst|port", "203.0.113.5|443"),
            ("domain|ip", "evil.example|198.51.100.7"),
            (
                "filename|sha1",
                "a b'c.exe|77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
            ),
            ("regkey|value", "HKLM\\Software\\Run|%TEMP%\\x.exe"),
        ] {
            let m = map_value(t, v).unwrap();
            let p = Pattern {
                expr: ObservationExpr::Observation(ComparisonExpr::And(m.tests)),
            };
            let text = p.to_string();
            assert_eq!(Pattern::parse(&text).unwrap(), p, "{text}");
            for (ty, mut props) in m.scos {
                let id = deterministic_observable_id(&ty, &props).unwrap();
                props.insert("type".into(), json!(ty));
                props.insert("id".into(), json!(id.to_string()));
                StixObject::from_value(Value::Object(props)).unwrap();
            }
        }
    }

    #[test]
    fn values_that_are_not_what_their_type_says_are_unmapped() {
        assert!(map_value("ip-dst", "not-an-ip").is_err());
        assert!(map_value("md5", "xyz").is_err());
        assert!(map_value("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT").is_err());
    }

    #[test]
    fn registry_hives_are_written_out_and_keys_without_one_make_no_observable() {
        assert_eq!(
            full_hive("HKLM\\Software\\Run"),
            "HKEY_LOCAL_MACHINE\\Software\\Run"
        );
        assert_eq!(full_hive("hkcu\\x"), "HKEY_CURRENT_USER\\x");
        assert_eq!(full_hive("HKU"), "HKEY_USERS");
        assert_eq!(full_hive("HKEY_CLASSES_ROOT\\x"), "HKEY_CLASSES_ROOT\\x");
        let m = map_value("regkey", "(HKLM|HKCU)\\Software\\Run").unwrap();
        assert!(m.scos.is_empty());
        assert!(m.no_observable.is_some());
        let m = map_value("regkey", "HKCC\\System").unwrap();
        assert_eq!(m.scos[0].1["key"], "HKEY_CURRENT_CONFIG\\System");
    }

    #[test]
    fn urls_are_encoded_as_sent_on_the_wire() {
        assert_eq!(
            uri_encoded("http://45.124.132.127/DOVIDNIK - (2018).zip"),
            "http://45.124.132.127/DOVIDNIK%20-%20(2018).zip"
        );
        assert_eq!(
            uri_encoded("http://x.example/a%20b?q=1#f"),
            "http://x.example/a%20b?q=1#f"
        );
        assert_eq!(
            uri_encoded("http://bücher.example/"),
            "http://b%C3%BCcher.example/"
        );
    }

    #[test]
    fn ids_are_version_4_uuids_whatever_misp_gave() {
        // A version 4 MISP uuid is kept; a version 1 uuid (some galaxy clusters have one) and
        // an organisation without a uuid get a derived id that is the same at every import.
        let v4 = "baf60e1a-afe5-4d31-830f-1b1ba2351884";
        assert_eq!(
            id_from("attack-pattern", v4).to_string(),
            format!("attack-pattern--{v4}")
        );
        let v1 = id_from("attack-pattern", "dcb864dc-775f-11e7-9fbb-1f41b4996683");
        assert_eq!(v1.uuid().get_version_num(), 4);
        assert_eq!(
            v1,
            id_from("attack-pattern", "dcb864dc-775f-11e7-9fbb-1f41b4996683")
        );
        assert_eq!(derived_v4("identity", "CIRCL").uuid().get_version_num(), 4);
        assert_ne!(
            derived_v4("identity", "CIRCL"),
            derived_v4("identity", "ESET")
        );
    }
}
