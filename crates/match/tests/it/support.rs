//! Fixtures shared by the integration tests.

use std::path::PathBuf;

use detente_match::input::{Format, Input};
use detente_match::{
    EventTime, Hit, Index, IndexBuilder, IndicatorMeta, IndicatorValue, RunOptions, RunReport, run,
};

/// The repository's `testdata/`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The `now` every test matches at: 2023-11-14T22:13:20Z.
pub fn now() -> EventTime {
    EventTime::from_unix_seconds(1_700_000_000).expect("a valid time")
}

/// An index of `indicators` labelled `i0`, `i1`, … with TLP:AMBER.
pub fn index_of(indicators: &[&str]) -> Index {
    let mut b = IndexBuilder::new(now());
    for (i, text) in indicators.iter().enumerate() {
        let value = IndicatorValue::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        b.add(value, &IndicatorMeta::new(format!("i{i}"), "TLP:AMBER"))
            .expect("fits");
    }
    b.build()
}

/// Zeek's TSV header for a log with these fields.
pub fn zeek_header(path: &str, fields: &[&str]) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t2023-11-14-22-13-20\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        vec!["string"; fields.len()].join("\t")
    )
}

pub const CONN: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
];
pub const DNS: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "query",
    "qtype_name",
    "answers",
];
pub const HTTP: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "method",
    "host",
    "uri",
    "referrer",
    "user_agent",
];
pub const FILES: &[&str] = &[
    "ts",
    "fuid",
    "tx_hosts",
    "rx_hosts",
    "mime_type",
    "md5",
    "sha1",
    "sha256",
];

/// Runs `inputs` (name, bytes, format) and returns the hits and the report.
pub fn run_bytes(
    index: &Index,
    inputs: Vec<(&str, Vec<u8>, Format)>,
    options: &RunOptions,
) -> (Vec<Hit>, RunReport) {
    let inputs = inputs
        .into_iter()
        .map(|(name, bytes, format)| Input::from_reader(name, std::io::Cursor::new(bytes), format))
        .collect();
    let mut hits = Vec::new();
    let report = run(index, inputs, options, &mut hits);
    (hits, report)
}

/// The labels of a hit's indicators.
pub fn labels(index: &Index, hit: &Hit) -> Vec<String> {
    hit.indicators
        .iter()
        .map(|&id| index.indicator(id).label.to_owned())
        .collect()
}
