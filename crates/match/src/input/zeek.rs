//! Zeek logs: the TSV form with its `#` headers, and the JSON-lines form.
//!
//! Field names map to roles by [`ZEEK_FIELDS`], which covers `conn.log`, `dns.log`,
//! `http.log`, `ssl.log`, `files.log`, `smtp.log`, `notice.log` and `x509`-free others: any
//! log whose columns carry those names is understood. Unknown columns are skipped without
//! being split, so a TSV line costs only as much as its last useful column.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::line::{FieldRole, LineOut, Schema, SchemaKind};

/// The Zeek fields we read, and how.
pub(crate) const ZEEK_FIELDS: &[(&str, FieldRole)] = &[
    ("ts", FieldRole::Time),
    ("id.orig_h", FieldRole::SrcIp),
    ("id.orig_p", FieldRole::SrcPort),
    ("id.resp_h", FieldRole::DstIp),
    ("id.resp_p", FieldRole::DstPort),
    ("query", FieldRole::Domain),
    ("answers", FieldRole::Answers),
    ("host", FieldRole::Host),
    ("uri", FieldRole::Uri),
    ("referrer", FieldRole::Url),
    ("server_name", FieldRole::Domain),
    ("md5", FieldRole::Hash),
    ("sha1", FieldRole::Hash),
    ("sha256", FieldRole::Hash),
    ("mailfrom", FieldRole::Email),
    ("rcptto", FieldRole::Email),
    ("from", FieldRole::Text),
    ("to", FieldRole::Text),
    ("reply_to", FieldRole::Text),
    ("tx_hosts", FieldRole::Ip),
    ("rx_hosts", FieldRole::Ip),
    ("src", FieldRole::Ip),
    ("dst", FieldRole::Ip),
];

fn zeek_role(name: &str) -> Option<(u16, FieldRole)> {
    ZEEK_FIELDS
        .iter()
        .position(|(n, _)| *n == name)
        .map(|i| (i as u16, ZEEK_FIELDS[i].1))
}

/// The separators and placeholders a Zeek TSV header declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TsvSyntax {
    pub separator: u8,
    pub set_separator: u8,
    pub unset: Vec<u8>,
    pub empty: Vec<u8>,
}

impl Default for TsvSyntax {
    fn default() -> Self {
        Self {
            separator: b'\t',
            set_separator: b',',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
        }
    }
}

/// The schema of Zeek JSON: names are the JSON keys, looked up in [`ZEEK_FIELDS`].
pub(crate) fn zeek_json_schema() -> Schema {
    Schema {
        kind: SchemaKind::ZeekJson,
        names: ZEEK_FIELDS.iter().map(|(n, _)| (*n).to_owned()).collect(),
        columns: Vec::new(),
        ready: true,
    }
}

/// What a block of header lines changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderUpdate {
    /// Header lines read.
    pub lines: usize,
    /// Bytes they took, newlines included.
    pub bytes: usize,
    /// Whether the schema changed.
    pub changed: bool,
}

/// Reads the consecutive `#` lines at the start of `block` into `schema`.
pub(crate) fn apply_header_block(block: &[u8], schema: &mut Schema, update: &mut HeaderUpdate) {
    *update = HeaderUpdate::default();
    let mut rest = block;
    while rest.first() == Some(&b'#') {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let line = rest[..end].strip_suffix(b"\n").unwrap_or(&rest[..end]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        update.changed |= apply_header_line(line, schema);
        update.lines += 1;
        update.bytes += end;
        rest = &rest[end..];
    }
}

/// Applies one header line; returns whether the schema changed.
fn apply_header_line(line: &[u8], schema: &mut Schema) -> bool {
    let SchemaKind::ZeekTsv(syntax) = &mut schema.kind else {
        return false;
    };
    // `#separator` is the one header written with a space, since the separator isn't known yet.
    if let Some(value) = line.strip_prefix(b"#separator ") {
        let sep = unescape(value);
        if sep.len() == 1 && syntax.separator != sep[0] {
            syntax.separator = sep[0];
            return true;
        }
        return false;
    }
    let sep = syntax.separator;
    let mut parts = line.split(|&c| c == sep);
    let key = parts.next().unwrap_or_default();
    let value = &line[key.len().saturating_add(1).min(line.len())..];
    match key {
        b"#set_separator" => {
            let v = unescape(value);
            if v.len() == 1 {
                syntax.set_separator = v[0];
            }
        }
        b"#unset_field" => syntax.unset = unescape(value),
        b"#empty_field" => syntax.empty = unescape(value),
        b"#fields" => {
            let names: Vec<String> = parts
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            schema.columns = names.iter().map(|n| zeek_role(n)).collect();
            while schema.columns.last() == Some(&None) {
                schema.columns.pop();
            }
            schema.names = ZEEK_FIELDS.iter().map(|(n, _)| (*n).to_owned()).collect();
            schema.ready = true;
        }
        _ => return false,
    }
    true
}

/// Decodes Zeek's `\xHH` escapes.
fn unescape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'\\'
            && value.get(i + 1) == Some(&b'x')
            && let Some(byte) = value
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 4;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
    out
}

/// Splits a TSV line up to its last useful column.
pub(crate) fn parse_tsv<'a>(
    schema: &Schema,
    syntax: &TsvSyntax,
    line: &'a [u8],
    out: &mut LineOut<'a>,
) -> Result<(), String> {
    let mut rest = line;
    let last = schema.columns.len();
    for (col, slot) in schema.columns.iter().enumerate() {
        let (value, next) = match memchr::memchr(syntax.separator, rest) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if let Some((field, role)) = *slot
            && value != syntax.unset.as_slice()
            && value != syntax.empty.as_slice()
            && !value.is_empty()
        {
            out.push(field, role, value, Some(syntax.set_separator))
                .map_err(|why| {
                    format!(
                        "{why} ({}: {:?})",
                        schema.field_name(field),
                        String::from_utf8_lossy(value)
                    )
                })?;
        }
        match next {
            Some(next) => rest = next,
            None if col + 1 < last => {
                return Err(format!(
                    "the line has {} fields; the #fields header has more",
                    col + 1
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// A JSON value of a field we read.
enum JsonValue<'de> {
    Str(Cow<'de, str>),
    Num(f64),
    List(Vec<Cow<'de, str>>),
    Other,
}

/// Parses one JSON object and hands its values to `found`.
pub(crate) fn parse_json(
    schema: &Schema,
    line: &[u8],
    found: &mut dyn FnMut(&LineOut<'_>),
) -> Result<(), String> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Ok(());
    }
    let mut de = serde_json::Deserializer::from_slice(line);
    let values = de
        .deserialize_map(ObjectVisitor)
        .map_err(|e| format!("not a JSON object: {e}"))?;
    de.end()
        .map_err(|e| format!("text after the JSON object: {e}"))?;
    let mut out = LineOut::default();
    for (field, role, value) in &values {
        let result = match value {
            JsonValue::Str(s) => out.push(*field, *role, s.as_bytes(), None),
            JsonValue::Num(n) => out.push_number(*field, *role, *n),
            JsonValue::List(items) => items
                .iter()
                .try_for_each(|s| out.push(*field, *role, s.as_bytes(), None)),
            JsonValue::Other => Ok(()),
        };
        result.map_err(|why| format!("{why} ({})", schema.field_name(*field)))?;
    }
    out.finish();
    found(&out);
    Ok(())
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Vec<(u16, FieldRole, JsonValue<'de>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(key) = map.next_key_seed(StrSeed)? {
            match zeek_role(&key) {
                Some((field, role)) => {
                    let value = map.next_value_seed(ValueSeed)?;
                    values.push((field, role, value));
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(values)
    }
}

/// A string, borrowed from the line when it has no escapes.
struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = JsonValue<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = JsonValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(JsonValue::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(JsonValue::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(JsonValue::Num(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(JsonValue::Num(v as f64))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(JsonValue::Num(v as f64))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(JsonValue::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(JsonValue::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ItemSeed)? {
            if let Some(s) = item {
                items.push(s);
            }
        }
        Ok(JsonValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(JsonValue::Other)
    }
}

/// A list item: strings are kept, anything else skipped.
struct ItemSeed;

impl<'de> DeserializeSeed<'de> for ItemSeed {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match ValueSeed.deserialize(d)? {
            JsonValue::Str(s) => Ok(Some(s)),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Observable;

    const CONN_HEADER: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n";

    fn tsv_schema(header: &[u8]) -> Schema {
        let mut schema = Schema::empty(SchemaKind::ZeekTsv(TsvSyntax::default()));
        let mut update = HeaderUpdate::default();
        apply_header_block(header, &mut schema, &mut update);
        schema
    }

    fn observe(schema: &Schema, line: &[u8]) -> Result<Vec<String>, String> {
        let mut out = LineOut::default();
        let mut seen = Vec::new();
        schema.parse_line(line, &mut out, &mut |o| {
            for (f, obs) in &o.observables {
                seen.push(format!("{}:{}", schema.field_name(*f), describe(obs)));
            }
        })?;
        Ok(seen)
    }

    fn describe(obs: &Observable<'_>) -> String {
        match obs {
            Observable::Ip(ip) => ip.to_string(),
            Observable::IpPort(ip, p) => format!("{ip}:{p}"),
            Observable::Domain(d) => String::from_utf8_lossy(d).into_owned(),
            Observable::Url {
                scheme,
                authority,
                rest,
            } => format!(
                "{}|{}|{}",
                String::from_utf8_lossy(scheme.unwrap_or(b"")),
                String::from_utf8_lossy(authority),
                String::from_utf8_lossy(rest)
            ),
            Observable::Hash(h) | Observable::Email(h) => String::from_utf8_lossy(h).into_owned(),
        }
    }

    #[test]
    fn a_conn_header_sets_roles_and_a_conn_line_yields_both_ends() {
        let schema = tsv_schema(CONN_HEADER);
        let mut update = HeaderUpdate::default();
        apply_header_block(CONN_HEADER, &mut tsv_schema(b""), &mut update);
        assert_eq!(update.lines, 7);
        let seen = observe(
            &schema,
            b"1700000000.1\tCx\t10.0.0.1\t5555\t192.0.2.1\t443\ttcp\tssl",
        )
        .expect("valid");
        assert_eq!(
            seen,
            [
                "id.orig_h:10.0.0.1",
                "id.resp_h:192.0.2.1",
                "id.orig_p:10.0.0.1:5555",
                "id.resp_p:192.0.2.1:443"
            ]
        );
    }

    #[test]
    fn short_lines_and_bad_addresses_are_malformed_with_a_reason() {
        let schema = tsv_schema(CONN_HEADER);
        let err = observe(&schema, b"1700000000.1\tCx\t10.0.0.1").expect_err("short");
        assert!(err.contains("3 fields"), "{err}");
        let err = observe(&schema, b"1700000000.1\tCx\t10.0.0.999\t1\t192.0.2.1\t443")
            .expect_err("bad ip");
        assert!(err.contains("id.orig_h"), "{err}");
    }

    #[test]
    fn lines_before_any_fields_header_are_malformed() {
        let schema = Schema::empty(SchemaKind::ZeekTsv(TsvSyntax::default()));
        assert!(observe(&schema, b"1\t2").is_err());
    }

    #[test]
    fn unset_and_empty_placeholders_are_skipped_and_sets_split() {
        let schema = tsv_schema(
            b"#separator \\x09\n#set_separator\t;\n#fields\tts\tid.orig_h\tquery\tanswers\n",
        );
        let seen = observe(&schema, b"1\t10.0.0.1\t-\tevil.example;192.0.2.9").expect("valid");
        assert_eq!(
            seen,
            [
                "id.orig_h:10.0.0.1",
                "answers:evil.example",
                "answers:192.0.2.9"
            ]
        );
        let seen = observe(&schema, b"1\t10.0.0.1\t(empty)\t-").expect("valid");
        assert_eq!(seen, ["id.orig_h:10.0.0.1"]);
    }

    #[test]
    fn http_lines_make_a_url_from_host_and_uri() {
        let schema = tsv_schema(b"#separator \\x09\n#fields\tts\tid.orig_h\thost\turi\treferrer\n");
        let seen = observe(
            &schema,
            b"1\t10.0.0.1\tevil.example\t/a?b\thttp://ref.example/x",
        )
        .expect("valid");
        assert_eq!(
            seen,
            [
                "id.orig_h:10.0.0.1",
                "host:evil.example",
                "referrer:ref.example",
                "referrer:http|ref.example|/x",
                "uri:http|evil.example|/a?b"
            ]
        );
    }

    #[test]
    fn json_lines_use_the_same_names_and_accept_numbers_lists_and_escapes() {
        let schema = zeek_json_schema();
        let line = br#"{"ts":1700000000.5,"id.orig_h":"10.0.0.1","id.resp_h":"192.0.2.1","id.resp_p":53,"query":"ev\u0069l.example","answers":["192.0.2.3",null],"x":{"y":1}}"#;
        let seen = observe(&schema, line).expect("valid");
        assert_eq!(
            seen,
            [
                "id.orig_h:10.0.0.1",
                "id.resp_h:192.0.2.1",
                "query:evil.example",
                "answers:192.0.2.3",
                "id.resp_p:192.0.2.1:53"
            ]
        );
        assert!(observe(&schema, b"{\"ts\":1").is_err());
        assert!(observe(&schema, b"[1,2]").is_err());
        assert!(observe(&schema, b"{} trailing").is_err());
    }
}
