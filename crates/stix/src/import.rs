//! Streaming import of STIX bundles and MISP events, in constant memory.
//!
//! [`Importer::read`] walks the top-level JSON object with a serde visitor. The `objects`
//! array of a bundle (or TAXII envelope) and the `response` list of a MISP search are never
//! held whole: each element is parsed, converted from STIX 2.0 or MISP when needed,
//! validated, deduplicated by (id, version) and handed to the caller's sink before the next
//! one is read. Memory is bounded by the largest single object plus 16 bytes per distinct
//! object version seen (the dedupe set, which [`ImportOptions::dedupe`] turns off when the
//! sink dedupes itself), whatever the file size.
//!
//! Each file gets a [`FileReport`]: counts per outcome and per type, and every rejected object
//! with its position, id and reason (the first [`ImportOptions::keep_rejections`] in full,
//! the rest counted). A malformed JSON document stops the file with an [`ImportError`]; objects
//! already handed to the sink stay handed, so a store should import a file in one transaction.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::ops::ControlFlow;

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::ObjectError;
use crate::misp::{self, EventWrapper, MispError, MispEvent};
use crate::object::StixObject;
use crate::props::RawObject;
use crate::v20::{self, Stix20Policy};

/// How an import behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// What to do with STIX 2.0 objects.
    pub stix_2_0: Stix20Policy,
    /// How many rejections each [`FileReport`] keeps in full (all are counted).
    pub keep_rejections: usize,
    /// Skip an (id, version) already seen in this import. The dedupe set costs 16 bytes per
    /// distinct version, so an importer feeding a store that dedupes exactly itself turns it
    /// off and keeps its memory constant whatever the input's size.
    pub dedupe: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            stix_2_0: Stix20Policy::Convert,
            keep_rejections: 10_000,
            dedupe: true,
        }
    }
}

/// What kind of document a file was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A STIX bundle, `{"type": "bundle", "objects": [...]}`.
    StixBundle,
    /// A TAXII 2.1 envelope, `{"objects": [...], "more": ...}`.
    TaxiiEnvelope,
    /// One bare STIX object.
    StixObject,
    /// MISP events, `{"Event": ...}` or `{"response": [{"Event": ...}, ...]}`.
    Misp,
}

/// Why one object (or MISP event) was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The object is not valid STIX 2.1 (after conversion, where that applies).
    #[error(transparent)]
    Invalid(#[from] ObjectError),
    /// A MISP event could not be read or dated.
    #[error(transparent)]
    Misp(#[from] MispError),
}

/// One rejected object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Position in the file: index in the `objects` array, or in the MISP `response` list.
    pub index: u64,
    /// The object's `id`, as written, when it had one.
    pub id: Option<String>,
    /// The object's `type`, when it had one.
    pub object_type: Option<String>,
    /// The object's version as written (`modified`, else `created`), when it had one.
    pub version: Option<String>,
    /// Why.
    pub reason: RejectReason,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "object #{}", self.index)?;
        match (&self.id, &self.object_type) {
            (Some(id), _) => write!(f, " ({id})")?,
            (None, Some(t)) => write!(f, " (a {t})")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.reason)
    }
}

/// Counts and rejections for one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileReport {
    /// What the file was, once known.
    pub format: Option<Format>,
    /// The bundle's id, when it had one.
    pub bundle_id: Option<String>,
    /// The bundle's declared `spec_version` (STIX 2.0 bundles have one; 2.1 bundles do not).
    pub bundle_spec_version: Option<String>,
    /// STIX objects offered: read from the file, or made from MISP events.
    pub read: u64,
    /// Objects handed to the sink.
    pub accepted: u64,
    /// Objects skipped as an (id, version) already seen in this import.
    pub duplicates: u64,
    /// Accepted objects that were STIX 2.0 and converted.
    pub converted_from_2_0: u64,
    /// Objects (or MISP events) rejected.
    pub rejected: u64,
    /// Accepted objects per type.
    pub by_type: BTreeMap<String, u64>,
    /// The first rejections in full.
    pub rejections: Vec<Rejection>,
    /// MISP events read.
    pub misp_events: u64,
    /// MISP attributes without a STIX form, counted by `"type: reason"`.
    pub misp_unmapped: BTreeMap<String, u64>,
}

/// Why a file could not be read to the end.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not well-formed JSON; reading stopped here.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the fault.
        line: usize,
        /// 1-based column of the fault.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// Reading the input failed.
    #[error("reading the input failed: {0}")]
    Io(String),
    /// Well-formed JSON that is neither a STIX bundle, envelope or object nor MISP events.
    #[error("not STIX or MISP: {0}")]
    NotStix(String),
    /// The sink asked to stop.
    #[error("import stopped by the receiver")]
    Stopped,
}

/// A hasher for keys that are already uniformly distributed 128-bit hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        // Truncation keeps the low half, which is itself a full SipHash output.
        self.0 = v as u64;
    }
}

/// Deduplicating, validating importer; keep one across the files of an import so that the
/// same object version in two files is imported once.
#[derive(Debug)]
pub struct Importer {
    options: ImportOptions,
    seen: HashSet<u128, BuildHasherDefault<PassThrough>>,
}

impl fmt::Debug for PassThrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PassThrough")
    }
}

/// Two independent SipHash outputs of (id, version): 128 bits, so that a collision (and a
/// wrongly skipped object) is out of reach even across billions of objects.
fn version_key(obj: &StixObject) -> u128 {
    let id = obj.id();
    let version = obj.version().map(|t| t.unix_nanos());
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        (salt, id.object_type(), id.uuid().as_u128(), version).hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl Importer {
    /// An importer with an empty dedupe set.
    pub fn new(options: ImportOptions) -> Self {
        Self {
            options,
            seen: HashSet::default(),
        }
    }

    /// Distinct object versions seen so far.
    pub fn seen_versions(&self) -> usize {
        self.seen.len()
    }

    /// Reads one STIX or MISP document from `reader`, handing each accepted object to `sink`.
    /// The format is recognised from the top-level keys.
    pub fn read<R, F>(&mut self, reader: R, mut sink: F) -> Result<FileReport, ImportError>
    where
        R: Read,
        F: FnMut(StixObject) -> ControlFlow<()>,
    {
        let mut report = FileReport::default();
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
            256 * 1024,
            reader,
        ));
        let mut state = State {
            importer: self,
            report: &mut report,
            sink: &mut sink,
            stopped: false,
            bundle_spec_version: None,
        };
        let result = (&mut de)
            .deserialize_map(TopVisitor { state: &mut state })
            .and_then(|()| de.end());
        let stopped = state.stopped;
        match result {
            Ok(()) => Ok(report),
            Err(_) if stopped => Err(ImportError::Stopped),
            Err(e) => Err(classify(e)),
        }
    }

    /// Imports one already-parsed MISP event (e.g. from a feed's `<uuid>.json`).
    pub fn import_misp_event<F>(
        &mut self,
        event: &MispEvent,
        report: &mut FileReport,
        mut sink: F,
    ) -> ControlFlow<()>
    where
        F: FnMut(StixObject) -> ControlFlow<()>,
    {
        let index = report.misp_events;
        let mut state = State {
            importer: self,
            report,
            sink: &mut sink,
            stopped: false,
            bundle_spec_version: None,
        };
        state.misp_event(index, event)
    }

    /// Validates, converts and deduplicates one object; `Some` if it is new and valid.
    /// Rejections and counts go to `report`. For callers that parse objects themselves (a
    /// TAXII client reading pages, say).
    pub fn offer(
        &mut self,
        index: u64,
        value: Value,
        report: &mut FileReport,
    ) -> Option<StixObject> {
        offer(self, index, RawObject::from(value), None, report)
    }
}

fn classify(e: serde_json::Error) -> ImportError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => ImportError::Io(e.to_string()),
        Category::Syntax | Category::Eof => ImportError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        },
        Category::Data => ImportError::NotStix(e.to_string()),
    }
}

fn reject(importer: &Importer, report: &mut FileReport, r: Rejection) {
    report.rejected += 1;
    if report.rejections.len() < importer.options.keep_rejections {
        report.rejections.push(r);
    }
}

fn offer(
    importer: &mut Importer,
    index: u64,
    raw: RawObject,
    bundle_spec_version: Option<&str>,
    report: &mut FileReport,
) -> Option<StixObject> {
    report.read += 1;
    let id = raw.get_str("id").map(str::to_owned);
    let object_type = raw.get_str("type").map(str::to_owned);
    let version = raw
        .get_str("modified")
        .or_else(|| raw.get_str("created"))
        .map(str::to_owned);
    let is_20 = matches!(
        raw,
        RawObject::Entries {
            duplicate: None,
            ..
        }
    ) && v20::is_stix20_parts(
        raw.get_str("spec_version"),
        object_type.as_deref(),
        bundle_spec_version,
    );
    let parsed = if is_20 {
        if importer.options.stix_2_0 == Stix20Policy::Reject {
            Err(ObjectError::Stix20)
        } else {
            match raw.into_value() {
                Value::Object(m) => {
                    v20::upgrade(m).and_then(|m| StixObject::from_value(Value::Object(m)))
                }
                other => StixObject::from_value(other),
            }
        }
    } else {
        StixObject::from_raw(raw)
    };
    let obj = match parsed {
        Ok(o) => o,
        Err(e) => {
            let r = Rejection {
                index,
                id,
                object_type,
                version,
                reason: e.into(),
            };
            reject(importer, report, r);
            return None;
        }
    };
    let converted = is_20;
    if importer.options.dedupe && !importer.seen.insert(version_key(&obj)) {
        report.duplicates += 1;
        return None;
    }
    report.accepted += 1;
    report.converted_from_2_0 += u64::from(converted);
    *report
        .by_type
        .entry(obj.object_type().to_owned())
        .or_default() += 1;
    Some(obj)
}

struct State<'a, F> {
    importer: &'a mut Importer,
    report: &'a mut FileReport,
    sink: &'a mut F,
    stopped: bool,
    bundle_spec_version: Option<String>,
}

impl<F: FnMut(StixObject) -> ControlFlow<()>> State<'_, F> {
    fn stix(&mut self, index: u64, raw: RawObject) -> ControlFlow<()> {
        let version = self.bundle_spec_version.clone();
        match offer(self.importer, index, raw, version.as_deref(), self.report) {
            Some(obj) => {
                let flow = (self.sink)(obj);
                self.stopped |= flow.is_break();
                flow
            }
            None => ControlFlow::Continue(()),
        }
    }

    fn misp_value(&mut self, index: u64, value: Value) -> ControlFlow<()> {
        match serde_json::from_value::<EventWrapper>(value) {
            Ok(w) => self.misp_event(index, &w.event),
            Err(e) => {
                self.report.misp_events += 1;
                let r = Rejection {
                    index,
                    id: None,
                    object_type: Some("misp-event".into()),
                    version: None,
                    reason: MispError::BadEvent(e.to_string()).into(),
                };
                reject(self.importer, self.report, r);
                ControlFlow::Continue(())
            }
        }
    }

    fn misp_event(&mut self, index: u64, event: &MispEvent) -> ControlFlow<()> {
        self.report.format.get_or_insert(Format::Misp);
        self.report.misp_events += 1;
        let converted = match misp::convert_event(event) {
            Ok(c) => c,
            Err(e) => {
                let r = Rejection {
                    index,
                    id: Some(event.uuid.clone()),
                    object_type: Some("misp-event".into()),
                    version: None,
                    reason: e.into(),
                };
                reject(self.importer, self.report, r);
                return ControlFlow::Continue(());
            }
        };
        for (k, n) in converted.unmapped {
            *self.report.misp_unmapped.entry(k).or_default() += n;
        }
        for obj in converted.objects {
            let i = self.report.read;
            if let Some(obj) = offer(self.importer, i, RawObject::from(obj), None, self.report) {
                let flow = (self.sink)(obj);
                if flow.is_break() {
                    self.stopped = true;
                    return flow;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn stop<E: de::Error>() -> E {
    E::custom("stopped by the receiver")
}

struct TopVisitor<'s, 'a, F> {
    state: &'s mut State<'a, F>,
}

impl<'de, F: FnMut(StixObject) -> ControlFlow<()>> Visitor<'de> for TopVisitor<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a STIX bundle, TAXII envelope, STIX object or MISP event")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.state;
        let mut rest = Map::new();
        let mut streamed_objects = false;
        let mut misp = false;
        while let Some(key) = map.next_key::<String>()? {
            let ty = rest.get("type").and_then(Value::as_str);
            match key.as_str() {
                "objects" if ty.is_none_or(|t| t == "bundle") => {
                    match map.next_value_seed(Elements {
                        state: &mut *st,
                        kind: ElementKind::Stix,
                    })? {
                        Some(buffered) => {
                            rest.insert(key, buffered);
                        }
                        None => streamed_objects = true,
                    }
                }
                "response" if ty.is_none() => {
                    misp = true;
                    st.report.format = Some(Format::Misp);
                    if let Some(buffered) = map.next_value_seed(Elements {
                        state: &mut *st,
                        kind: ElementKind::Misp,
                    })? {
                        // `{"response": {"Event": ...}}`: one event, not a list.
                        if st.misp_value(0, buffered).is_break() {
                            return Err(stop());
                        }
                    }
                }
                "Event" if ty.is_none() => {
                    misp = true;
                    let event: Value = map.next_value()?;
                    let mut wrapper = Map::new();
                    wrapper.insert("Event".into(), event);
                    if st.misp_value(0, Value::Object(wrapper)).is_break() {
                        return Err(stop());
                    }
                }
                _ => {
                    let v: Value = map.next_value()?;
                    if key == "spec_version" {
                        st.bundle_spec_version = v.as_str().map(str::to_owned);
                    }
                    rest.insert(key, v);
                }
            }
        }
        if misp {
            return Ok(());
        }
        let ty = rest.get("type").and_then(Value::as_str).map(str::to_owned);
        match (ty.as_deref(), streamed_objects) {
            (Some("bundle"), _) => {
                st.report.format = Some(Format::StixBundle);
                st.report.bundle_id = rest.get("id").and_then(Value::as_str).map(str::to_owned);
                st.report.bundle_spec_version = st.bundle_spec_version.clone();
                Ok(())
            }
            (None, true) => {
                st.report.format = Some(Format::TaxiiEnvelope);
                Ok(())
            }
            (Some(t), true) => Err(de::Error::custom(format!(
                "a {t:?} object with an `objects` list is not a bundle"
            ))),
            (Some(_), false) => {
                st.report.format = Some(Format::StixObject);
                st.bundle_spec_version = None;
                if st.stix(0, RawObject::from(Value::Object(rest))).is_break() {
                    return Err(stop());
                }
                Ok(())
            }
            (None, false) => {
                let hint = if rest
                    .keys()
                    .next()
                    .is_some_and(|k| uuid::Uuid::try_parse(k).is_ok())
                {
                    " (this looks like a MISP feed manifest: import the feed's folder)"
                } else {
                    ""
                };
                Err(de::Error::custom(format!(
                    "no `type`, `objects`, `Event` or `response` at the top level{hint}"
                )))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum ElementKind {
    Stix,
    Misp,
}

/// The value of `objects` or `response`: a list is streamed element by element (returns
/// `None`); anything else is buffered and returned, for the caller to interpret (the
/// `objects` dictionary of a bare observed-data, say).
struct Elements<'s, 'a, F> {
    state: &'s mut State<'a, F>,
    kind: ElementKind,
}

impl<'de, F: FnMut(StixObject) -> ControlFlow<()>> DeserializeSeed<'de> for Elements<'_, '_, F> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(StixObject) -> ControlFlow<()>> Visitor<'de> for Elements<'_, '_, F> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut index = 0u64;
        while let Some(raw) = seq.next_element::<RawObject>()? {
            let flow = match self.kind {
                ElementKind::Stix => self.state.stix(index, raw),
                ElementKind::Misp => self.state.misp_value(index, raw.into_value()),
            };
            if flow.is_break() {
                return Err(stop());
            }
            index += 1;
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_owned())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn run(json: &str) -> (Result<FileReport, ImportError>, Vec<StixObject>) {
        let mut got = Vec::new();
        let mut imp = Importer::new(ImportOptions::default());
        let r = imp.read(json.as_bytes(), |o| {
            got.push(o);
            ControlFlow::Continue(())
        });
        (r, got)
    }

    const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}"#;

    #[test]
    fn a_bundle_is_streamed_deduplicated_and_counted() {
        let bad = r#"{"type":"indicator","id":"indicator--x"}"#;
        let doc = format!(
            r#"{{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[{IND},{IND},{bad},7]}}"#
        );
        let (r, got) = run(&doc);
        let r = r.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((r.read, r.accepted, r.duplicates, r.rejected), (4, 1, 1, 2));
        assert_eq!(r.format, Some(Format::StixBundle));
        assert_eq!(r.rejections[0].index, 2);
        assert_eq!(r.rejections[1].index, 3);
        assert_eq!(r.by_type["indicator"], 1);
    }

    #[test]
    fn key_order_does_not_matter() {
        let doc = format!(
            r#"{{"objects":[{IND}],"id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","type":"bundle"}}"#
        );
        let (r, got) = run(&doc);
        assert_eq!(r.unwrap().format, Some(Format::StixBundle));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_bare_object_and_a_taxii_envelope_are_read() {
        let (r, got) = run(IND);
        assert_eq!(r.unwrap().format, Some(Format::StixObject));
        assert_eq!(got.len(), 1);
        let (r, got) = run(&format!(r#"{{"more":false,"objects":[{IND}]}}"#));
        assert_eq!(r.unwrap().format, Some(Format::TaxiiEnvelope));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_bare_observed_data_with_an_objects_dictionary_is_one_object() {
        let od = r#"{"objects":{"0":{"type":"ipv4-addr","value":"8.8.8.8"}},"type":"observed-data","spec_version":"2.1","id":"observed-data--0853d51f-0fe7-4d35-b3cb-b96bdbc1f0ee","created":"2021-08-24T10:53:13.000Z","modified":"2021-08-24T10:53:13.000Z","first_observed":"2021-08-24T10:53:13Z","last_observed":"2021-08-24T10:53:13Z","number_observed":1}"#;
        let (r, got) = run(od);
        let r = r.unwrap();
        assert_eq!(
            (r.format, got.len()),
            (Some(Format::StixObject), 1),
            "{r:?}"
        );
    }

    #[test]
    fn malformed_json_stops_with_a_position() {
        let doc = format!(r#"{{"type":"bundle","objects":[{IND},{{"type": ]}}"#);
        let (r, got) = run(&doc);
        assert!(matches!(r, Err(ImportError::Json { line: 1, .. })), "{r:?}");
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn the_sink_can_stop_the_import() {
        let doc = format!(r#"{{"type":"bundle","objects":[{IND},{IND}]}}"#);
        let mut imp = Importer::new(ImportOptions::default());
        let r = imp.read(doc.as_bytes(), |_| ControlFlow::Break(()));
        assert!(matches!(r, Err(ImportError::Stopped)));
    }

    #[test]
    fn documents_that_are_not_stix_are_refused() {
        for doc in ["[]", "{}", r#"{"a":1}"#, "42"] {
            assert!(
                matches!(
                    run(doc).0,
                    Err(ImportError::NotStix(_) | ImportError::Json { .. })
                ),
                "{doc}"
            );
        }
    }

    #[test]
    fn stix_2_0_objects_can_be_refused_whole() {
        let v20 = r#"{"type":"bundle","spec_version":"2.0","objects":[{"type":"identity","id":"identity--5d397c4b-3474-466a-80cd-624838d4ff94","name":"ORGNAME","identity_class":"organization","created":"2021-08-24T10:53:42.879Z","modified":"2021-08-24T10:53:42.879Z"}]}"#;
        let mut imp = Importer::new(ImportOptions {
            stix_2_0: Stix20Policy::Reject,
            ..ImportOptions::default()
        });
        let r = imp
            .read(v20.as_bytes(), |_| ControlFlow::Continue(()))
            .unwrap();
        assert_eq!((r.accepted, r.rejected), (0, 1));
        assert!(r.rejections[0].to_string().contains("STIX 2.0"));
        let (r, got) = run(v20);
        assert_eq!((r.unwrap().converted_from_2_0, got.len()), (1, 1));
    }
}
