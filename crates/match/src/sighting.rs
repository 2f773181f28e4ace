//! Per-indicator summaries of a run, written as STIX 2.1 `sighting` objects.
//!
//! The objects are plain `serde_json` values of the sighting's shape (STIX 2.1 §5.7): `count`,
//! `first_seen`, `last_seen`, `sighting_of_ref` and `where_sighted_refs`, plus `x_detente_*`
//! properties naming the indicator, the values observed, the columns and the inputs. Ids are
//! UUIDv5, so the same run gives the same ids.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::event_time::EventTime;
use crate::index::{Index, IndicatorId, IndicatorView};
use crate::owner::OwnerTable;
use crate::run::{Hit, HitSink};

/// The UUIDv5 namespace of ids detente's matcher makes.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x5c8f_6a52_3e9b_4c1d_9f0e_2d4b_7a1c_8e63);

/// Distinct observed values kept per indicator.
const MAX_VALUES: usize = 20;

/// Observed values are kept to this many bytes: a value may be a whole over-long URL.
const MAX_VALUE_BYTES: usize = 512;

/// `value`, cut to [`MAX_VALUE_BYTES`] at a character boundary and marked with `…` if cut.
pub(crate) fn clip_value(value: &str) -> String {
    if value.len() <= MAX_VALUE_BYTES {
        return value.to_owned();
    }
    let mut end = MAX_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end])
}

/// The STIX id of an indicator: its label when that is already an `indicator--` id, otherwise
/// a UUIDv5 of its kind and value.
pub fn indicator_ref(index: &Index, id: IndicatorId) -> String {
    let view = index.indicator(id);
    if view.label.starts_with("indicator--") {
        view.label.to_owned()
    } else {
        format!(
            "indicator--{}",
            Uuid::new_v5(
                &ID_NAMESPACE,
                format!("{}|{}", view.kind, view.value).as_bytes()
            )
        )
    }
}

/// The STIX id of an organisation of the owner table.
pub fn identity_ref(organisation: &str) -> String {
    format!(
        "identity--{}",
        Uuid::new_v5(&ID_NAMESPACE, format!("identity|{organisation}").as_bytes())
    )
}

/// The STIX 2.1 id of the TLP 2.0 marking definition for a TLP label, if it is one.
/// The ids are those of the OASIS TLP 2.0 marking definitions (the AMBER one appears in
/// `testdata/cti-stix-validator/tlp-amber.json`).
pub fn tlp_marking_ref(tlp: &str) -> Option<&'static str> {
    let t = tlp.trim();
    let t = t
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("tlp:"))
        .map_or(t, |_| &t[4..]);
    Some(match t.to_ascii_lowercase().as_str() {
        "clear" | "white" => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green" => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber" => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict" => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red" => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        _ => return None,
    })
}

/// A STIX timestamp with exactly millisecond precision, as `created` and `modified` need.
pub(crate) fn stix_millis(t: EventTime) -> String {
    let d = t.to_datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.millisecond()
    )
}

#[derive(Debug, Default, Clone)]
struct Tally {
    count: u64,
    first: Option<EventTime>,
    last: Option<EventTime>,
    values: BTreeSet<String>,
    fields: BTreeSet<String>,
    inputs: BTreeSet<usize>,
    hosts: BTreeSet<IpAddr>,
}

/// A partial indicator that values in the logs matched: see [`Sightings::candidates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate<'a> {
    /// The indicator.
    pub indicator: IndicatorView<'a>,
    /// Hits on it.
    pub hits: u64,
    /// Earliest hit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<EventTime>,
    /// Latest hit time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<EventTime>,
    /// Values observed (the first few).
    pub values: Vec<String>,
}

/// Hosts kept per indicator to work out where it was sighted.
const MAX_HOSTS: usize = 10_000;

/// Counts hits per indicator; feed it as a [`HitSink`].
#[derive(Debug, Default, Clone)]
pub struct Sightings {
    tallies: BTreeMap<IndicatorId, Tally>,
}

impl HitSink for Sightings {
    fn hit(&mut self, hit: &Hit) {
        for &id in &hit.indicators {
            let t = self.tallies.entry(id).or_default();
            t.count += 1;
            if let Some(time) = hit.time {
                t.first = Some(t.first.map_or(time, |f| f.min(time)));
                t.last = Some(t.last.map_or(time, |l| l.max(time)));
            }
            if t.values.len() < MAX_VALUES && !t.values.contains(&hit.value) {
                t.values.insert(clip_value(&hit.value));
            }
            if !t.fields.contains(&hit.field) {
                t.fields.insert(hit.field.clone());
            }
            t.inputs.insert(hit.input);
            for ip in &hit.hosts {
                if t.hosts.len() < MAX_HOSTS {
                    t.hosts.insert(*ip);
                }
            }
        }
    }
}

impl Sightings {
    /// Indicators sighted.
    pub fn len(&self) -> usize {
        self.tallies.len()
    }

    /// Whether nothing was sighted.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// How often an indicator was sighted.
    pub fn count(&self, id: IndicatorId) -> u64 {
        self.tallies.get(&id).map_or(0, |t| t.count)
    }

    /// The partial indicators (see [`IndicatorMeta::partial`](crate::IndicatorMeta::partial))
    /// that values in the logs matched, in indicator order: candidates for an analyst to
    /// check, which [`Sightings::to_stix`] leaves out.
    pub fn candidates<'i>(&self, index: &'i Index) -> Vec<Candidate<'i>> {
        self.tallies
            .iter()
            .filter(|(id, _)| index.is_partial(**id))
            .map(|(&id, t)| Candidate {
                indicator: index.indicator(id),
                hits: t.count,
                first_seen: t.first,
                last_seen: t.last,
                values: t.values.iter().cloned().collect(),
            })
            .collect()
    }

    /// One STIX 2.1 sighting per sighted indicator, in indicator order, leaving out partial
    /// indicators: a match of one value of a pattern that asks for more is not a sighting. `created` stamps the
    /// objects; `inputs` names the run's inputs; with an owner table, `where_sighted_refs`
    /// names the organisations whose hosts were on the sighting lines.
    pub fn to_stix(
        &self,
        index: &Index,
        owners: Option<&OwnerTable>,
        created: EventTime,
        inputs: &[String],
    ) -> Vec<Value> {
        let created = stix_millis(created);
        self.tallies
            .iter()
            .filter(|(id, _)| !index.is_partial(**id))
            .map(|(&id, t)| {
                let view = index.indicator(id);
                let of = indicator_ref(index, id);
                let first = t.first.map(|f| f.to_string());
                let last = t.last.map(|l| l.to_string());
                let sighting_id = Uuid::new_v5(
                    &ID_NAMESPACE,
                    format!("sighting|{of}|{}|{}|{}", t.count, first.as_deref().unwrap_or(""), last.as_deref().unwrap_or("")).as_bytes(),
                );
                let mut object = json!({
                    "type": "sighting",
                    "spec_version": "2.1",
                    "id": format!("sighting--{sighting_id}"),
                    "created": created,
                    "modified": created,
                    "count": t.count.min(999_999_999),
                    "sighting_of_ref": of,
                    "x_detente_indicator": view,
                    "x_detente_observed_values": t.values,
                    "x_detente_fields": t.fields,
                    "x_detente_inputs": t.inputs.iter().map(|&i| inputs.get(i).cloned().unwrap_or_else(|| i.to_string())).collect::<Vec<_>>(),
                });
                let map = object.as_object_mut().expect("built as an object");
                if let Some(first) = first {
                    map.insert("first_seen".into(), first.into());
                }
                if let Some(last) = last {
                    map.insert("last_seen".into(), last.into());
                }
                if let Some(owners) = owners {
                    let orgs: BTreeSet<&str> = t
                        .hosts
                        .iter()
                        .filter_map(|ip| owners.lookup(*ip))
                        .map(|o| o.organisation.as_str())
                        .collect();
                    if !orgs.is_empty() {
                        let refs: Vec<String> = orgs.into_iter().map(identity_ref).collect();
                        map.insert("where_sighted_refs".into(), refs.into());
                    }
                }
                if let Some(marking) = tlp_marking_ref(view.tlp) {
                    map.insert("object_marking_refs".into(), json!([marking]));
                }
                object
            })
            .collect()
    }
}
