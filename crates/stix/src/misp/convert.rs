//! Mapping one MISP event to STIX 2.1 objects.
//!
//! - Each attribute (inside or outside MISP objects) with `to_ids: true` becomes an
//!   `indicator` whose STIX pattern is built as a syntax tree and printed, so values are
//!   escaped correctly; with `to_ids: false` it becomes `observed-data` pointing at
//!   observables with deterministic ids. YARA, Snort, Sigma and Suricata rules marked `to_ids`
//!   become indicators in their own pattern language.
//! - `tlp:` tags (event and attribute; the most restrictive wins; `tlp:white` is CLEAR) become
//!   TLP 2.0 `object_marking_refs`; other tags become `labels`.
//! - The creating organisation becomes an `identity`, threat-actor and ATT&CK intrusion-set
//!   galaxy clusters become `threat-actor` and `intrusion-set` objects, and the event becomes a
//!   `report` referring to all of them.
//!
//! Ids reuse the MISP uuids (`indicator--<attribute uuid>`, `report--<event uuid>`), so a
//! re-import of the same event version deduplicates. Organisations and galaxy clusters carry
//! no timestamps in MISP; their objects get a fixed `created`/`modified` so every event that
//! names them yields the same version. Attributes MISP has no observable for (comments,
//! links, cryptocurrency wallets, …) are counted in `unmapped`, never silently dropped.

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
use crate::tlp::{Tlp, marking_id};

/// The namespace of ids derived from MISP uuids that are not RFC 4122 UUIDs.
pub const MISP_NAMESPACE: Uuid = Uuid::from_u128(0x5b0f_6c1e_3a4d_4e8f_9b27_d1c4_a8e6_f302);

/// `created`/`modified` of objects made from MISP organisations and galaxy clusters.
const UNDATED: &str = "1970-01-01T00:00:00.000Z";

/// The STIX objects of one MISP event, as JSON for the importer to validate.
#[derive(Debug, Clone, Default)]
pub struct Converted {
    /// The objects: identity, observables, indicators, observed-data, actors, then the report.
    pub objects: Vec<Value>,
    /// Attributes left out, counted by MISP type, with the reason in the key
    /// (`"link: a reference, not an observable"`).
    pub unmapped: BTreeMap<String, u64>,
    /// The event's TLP level from its tags, if any.
    pub tlp: Option<Tlp>,
}

/// The TLP level of a MISP tag (`tlp:amber`, `TLP:AMBER+STRICT`, `tlp:white`), following the
/// MISP TLP taxonomy; `tlp:ex:chr` and `tlp:unclear` are not levels.
pub fn tlp_of_tag(tag: &str) -> Option<Tlp> {
    let lower = tag.trim().to_ascii_lowercase();
    let value = lower.strip_prefix("tlp:")?.trim_matches('"');
    Some(match value {
        "clear" | "white" => Tlp::Clear,
        "green" => Tlp::Green,
        "amber" => Tlp::Amber,
        "amber+strict" => Tlp::AmberStrict,
        "red" => Tlp::Red,
        _ => return None,
    })
}

fn id_from(ty: &str, misp_uuid: &str) -> StixId {
    StixId::parse(&format!("{ty}--{}", misp_uuid.to_ascii_lowercase())).unwrap_or_else(|_| {
        StixId::derived(ty, &MISP_NAMESPACE, format!("{ty}/{misp_uuid}").as_bytes())
            .expect("known STIX types and a v5 UUID make a valid id")
    })
}

struct Ctx<'a> {
    event: &'a MispEvent,
    event_time: Timestamp,
    event_tlp: Option<Tlp>,
    identity: Option<StixId>,
    out: Converted,
    refs: Vec<String>,
}

/// Maps one event; see the module documentation.
pub fn convert_event(event: &MispEvent) -> Result<Converted, MispError> {
    let event_time = event
        .timestamp
        .and_then(Timestamp::from_unix_seconds)
        .or_else(|| date_time(event.date.as_deref()?))
        .ok_or_else(|| MispError::Undated(event.uuid.clone()))?;
    let event_tlp = event.tags.iter().filter_map(|t| tlp_of_tag(&t.name)).max();
    let mut cx = Ctx {
        event,
        event_time,
        event_tlp,
        identity: None,
        out: Converted {
            tlp: event_tlp,
            ..Converted::default()
        },
        refs: Vec::new(),
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

fn markings(level: Option<Tlp>) -> Option<Value> {
    level.map(|l| json!([marking_id(l).to_string()]))
}

fn test(object_type: &str, property: &str, steps: Vec<PathStep>, value: Literal) -> ComparisonExpr {
    ComparisonExpr::Test(PropertyTest::Compare {
        path: ObjectPath {
            object_type: object_type.into(),
            property: property.into(),
            steps,
        },
        negated: false,
        op: CompareOp::Eq,
        value,
    })
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
            m.tests.push(test(ty, "value", vec![], s(value)));
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
            m.tests.push(test(
                "network-traffic",
                &ref_prop,
                vec![PathStep::Key("value".into())],
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
            m.tests
                .push(test("windows-registry-key", "key", vec![], s(value)));
            m.sco("windows-registry-key", json!({"key": value}))?;
        }
        "regkey|value" => {
            let (key, data) = value
                .split_once('|')
                .ok_or_else(|| format!("{value:?} is not key|value"))?;
            m.tests
                .push(test("windows-registry-key", "key", vec![], s(key)));
            m.tests.push(test(
                "windows-registry-key",
                "values",
                vec![PathStep::AnyIndex, PathStep::Key("data".into())],
                s(data),
            ));
            m.sco(
                "windows-registry-key",
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
                    "link" | "uri" => "a reference, not an observable",
                    "text" | "comment" | "other" => "free text",
                    _ => "no STIX 2.1 observable for this MISP type",
                };
                return Err(why.into());
            }
        }
    }
    Ok(m)
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
            None => StixId::derived("identity", &MISP_NAMESPACE, org.name.as_bytes())
                .expect("a valid derived id"),
        };
        self.out.objects.push(json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": id.to_string(),
            "created": UNDATED,
            "modified": UNDATED,
            "name": org.name,
            "identity_class": "organization",
        }));
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
        let tlp = a
            .tags
            .iter()
            .filter_map(|t| tlp_of_tag(&t.name))
            .chain(self.event_tlp)
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
        common.insert("x_misp_type".into(), json!(a.attr_type));
        if let Some(c) = &a.category {
            common.insert("x_misp_category".into(), json!(c));
        }
        if let Some(o) = object {
            common.insert("x_misp_object_name".into(), json!(o.name));
            if let Some(rel) = &a.object_relation {
                common.insert("x_misp_object_relation".into(), json!(rel));
            }
        }
        if let Some(c) = a.comment.as_deref().filter(|c| !c.is_empty()) {
            common.insert("description".into(), json!(c));
        }

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
            if let Some(c) = a.comment.as_deref().filter(|c| !c.is_empty()) {
                od.insert("x_misp_comment".into(), json!(c));
            }
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
                _ => continue,
            };
            for c in &g.clusters {
                if c.value.is_empty() || c.uuid.is_empty() {
                    continue;
                }
                let mut obj = Map::new();
                obj.insert("type".into(), json!(ty));
                obj.insert("spec_version".into(), json!("2.1"));
                obj.insert("id".into(), json!(id_from(ty, &c.uuid).to_string()));
                obj.insert("created".into(), json!(UNDATED));
                obj.insert("modified".into(), json!(UNDATED));
                obj.insert("name".into(), json!(c.value));
                if let Some(d) = c.description.as_deref().filter(|d| !d.is_empty()) {
                    obj.insert("description".into(), json!(d));
                }
                let aliases: Vec<&str> = c
                    .meta
                    .as_ref()
                    .and_then(|m| m.get("synonyms"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if !aliases.is_empty() {
                    obj.insert("aliases".into(), json!(aliases));
                }
                obj.insert("x_misp_galaxy_cluster_uuid".into(), json!(c.uuid));
                let id = obj["id"].as_str().unwrap_or_default().to_owned();
                if !self.refs.contains(&id) {
                    self.push_ref(Value::Object(obj));
                }
            }
        }
    }

    fn report(&mut self) {
        let e = self.event;
        let modified = self.event_time.clone();
        let created = date_time(e.date.as_deref().unwrap_or_default())
            .filter(|d| *d <= modified)
            .unwrap_or_else(|| modified.clone());
        let published = e
            .publish_timestamp
            .filter(|t| *t > 0)
            .and_then(Timestamp::from_unix_seconds)
            .unwrap_or_else(|| modified.clone());
        let mut refs = std::mem::take(&mut self.refs);
        if refs.is_empty() {
            match &self.identity {
                Some(id) => refs.push(id.to_string()),
                None => return self.unmapped("event", "nothing to report"),
            }
        }
        let mut r = Map::new();
        r.insert("type".into(), json!("report"));
        r.insert("spec_version".into(), json!("2.1"));
        r.insert("id".into(), json!(id_from("report", &e.uuid).to_string()));
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
        r.insert("report_types".into(), json!(["threat-report"]));
        r.insert("published".into(), json!(published.as_str()));
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
        if let Some(m) = markings(self.event_tlp) {
            r.insert("object_marking_refs".into(), m);
        }
        r.insert("x_misp_event_uuid".into(), json!(e.uuid));
        self.out.objects.push(Value::Object(r));
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
}
