//! `detente match` as an operator runs it: lists and STIX bundles against Zeek logs with
//! planted hits and near misses, results on disk; and on a node, a partner's mitigation
//! request matched and answered with sightings the partner receives.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{NodeProc, detente, eventually, pair, run};

fn zeek(path: &str, fields: &[&str], rows: &[&str]) -> String {
    let mut log = format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#fields\t{}\n#types\t{}\n",
        fields.join("\t"),
        vec!["string"; fields.len()].join("\t")
    );
    for row in rows {
        log.push_str(&row.replace(' ', "\t"));
        log.push('\n');
    }
    log
}

const CONN: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
];
const DNS: &[&str] = &[
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "query",
];

/// Writes the logs: planted hits on 198.51.100.0/24, 203.0.113.9 and c2.evil.example, and
/// near misses next to each (the adjacent block, the next address, a sibling name).
fn write_logs(dir: &Path) -> (String, String) {
    let conn = dir.join("conn.log");
    std::fs::write(
        &conn,
        zeek(
            "conn",
            CONN,
            &[
                "1767261600.0 C1 10.0.0.7 50000 198.51.100.20 443",
                "1767261660.0 C2 10.0.0.7 50001 198.51.101.20 443",
                "1767261720.0 C3 10.1.0.9 50002 203.0.113.9 8443",
                "1767261780.0 C4 10.1.0.9 50003 203.0.113.10 8443",
                "this line is not a conn record",
                "1767261840.0 C5 192.168.9.9 50004 203.0.113.9 8443",
            ],
        ),
    )
    .unwrap();
    let dns = dir.join("dns.log");
    std::fs::write(
        &dns,
        zeek(
            "dns",
            DNS,
            &[
                "1767261900.0 D1 10.0.0.8 53000 10.0.0.53 53 c2.evil.example",
                "1767261960.0 D2 10.0.0.8 53001 10.0.0.53 53 notevil.example",
                "1767262020.0 D3 10.0.0.8 53002 10.0.0.53 53 evil.example.org",
            ],
        ),
    )
    .unwrap();
    (
        conn.to_str().unwrap().to_owned(),
        dns.to_str().unwrap().to_owned(),
    )
}

fn stix_indicator(id: &str, pattern: &str, extra: Value) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn stdout_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "detente match failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn sighted_values(report: &Value) -> Vec<String> {
    let mut values: Vec<String> = report["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["x_detente_indicator"]["value"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    values.sort();
    values
}

#[test]
fn lists_and_stix_bundles_find_every_planted_hit_and_no_near_miss() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (conn, dns) = write_logs(dir.path());
    let list = dir.path().join("partner-list.txt");
    std::fs::write(
        &list,
        "# shared by CN-CERT\n198.51.100.0/24\nevil.example\nnot an indicator!\n",
    )
    .unwrap();
    let bundle = dir.path().join("bundle.json");
    let objects = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        stix_indicator("indicator--a1b2c3d4-0000-4000-8000-000000000001",
            "[ipv4-addr:value = '203.0.113.9']", json!({})),
        stix_indicator("indicator--a1b2c3d4-0000-4000-8000-000000000002",
            "[ipv4-addr:value = '198.51.101.20']", json!({"revoked": true})),
        stix_indicator("indicator--a1b2c3d4-0000-4000-8000-000000000003",
            "[domain-name:value = 'notevil.example']",
            json!({"valid_until": "2026-02-01T00:00:00Z"})),
    ]});
    std::fs::write(&bundle, objects.to_string()).unwrap();
    let owners = dir.path().join("owners.csv");
    std::fs::write(
        &owners,
        "cidr,organisation,abuse_contact\n10.0.0.0/16,Acme Hospital,abuse@acme.example\n10.1.0.0/16,Beta Telecom,noc@beta.example\n",
    )
    .unwrap();
    let out_dir = dir.path().join("results");

    // Act
    let out = run(
        dir.path(),
        &[
            "--json",
            "match",
            "--indicators",
            list.to_str().unwrap(),
            "--indicators",
            bundle.to_str().unwrap(),
            "--owners",
            owners.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            &conn,
            &dns,
        ],
    );

    // Assert: the hits, and nothing else.
    let report = stdout_json(&out);
    assert_eq!(
        sighted_values(&report),
        ["198.51.100.0/24", "203.0.113.9", "evil.example"],
        "{report:#}"
    );
    let counts: Vec<(String, u64)> = report["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["x_detente_indicator"]["value"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(counts.contains(&("203.0.113.9".into(), 2)), "{counts:?}");
    // The list's bad line, the revoked and the expired indicators are accounted for.
    let sources = report["sources"].as_array().unwrap();
    assert_eq!(sources[0]["rejected"], 1, "{sources:?}");
    assert_eq!(sources[1]["added"], 1, "{sources:?}");
    assert_eq!(sources[1]["expired"], 1, "{sources:?}");
    // The malformed line is reported with its number: 7 header lines, then the fifth row.
    let conn_report = &report["run"]["inputs"][0];
    assert_eq!(conn_report["malformed"], 1);
    assert_eq!(conn_report["malformed_lines"][0]["line"], 12);
    // Owners: both organisations, the unowned host counted apart.
    let owners: Vec<&str> = report["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organisation"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["Acme Hospital", "Beta Telecom"]);
    assert_eq!(report["unowned_hits"], 1);
    // On disk: a STIX bundle naming the owners, and a draft per owner.
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("sightings.json")).unwrap()).unwrap();
    let types: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.iter().filter(|t| **t == "identity").count(),
        2,
        "{types:?}"
    );
    assert_eq!(
        types.iter().filter(|t| **t == "sighting").count(),
        3,
        "{types:?}"
    );
    let hits: Vec<Value> = std::fs::read_to_string(out_dir.join("hits.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at: Vec<(u64, &str)> = hits
        .iter()
        .map(|h| (h["line"].as_u64().unwrap(), h["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        at,
        [
            (8, "198.51.100.20"),
            (10, "203.0.113.9"),
            (13, "203.0.113.9"),
            (8, "c2.evil.example")
        ],
        "every hit, in input order, with its line"
    );
    let acme = std::fs::read_to_string(out_dir.join("notifications/01-acme-hospital.txt")).unwrap();
    assert!(acme.contains("abuse@acme.example"), "{acme}");
    assert!(acme.contains("10.0.0.7"), "{acme}");
    assert!(
        !acme.contains("10.1.0.9"),
        "another owner's host leaked: {acme}"
    );
}

#[test]
fn a_bad_log_path_or_no_usable_indicator_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("empty.txt");
    std::fs::write(&list, "# nothing\n").unwrap();
    let (conn, _) = write_logs(dir.path());

    let none = run(
        dir.path(),
        &["match", "--indicators", list.to_str().unwrap(), &conn],
    );
    let missing = detente()
        .args(["match", "--indicators", "/nonexistent/list.txt", &conn])
        .output()
        .unwrap();

    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no valid, unexpired indicator"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/list.txt"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

/// Starts both nodes and has CN ask US to mitigate a botnet: the request carries the CIDR
/// 198.51.100.0/24 and a TLP:RED STIX indicator of CN's making with `pattern`, which CN may
/// share with US as the named recipient. Returns the case once US holds it.
async fn mitigation_request(
    us: &mut NodeProc,
    cn: &mut NodeProc,
    indicator_id: &str,
    pattern: &str,
) -> String {
    us.start().await;
    cn.start().await;
    let indicator = stix_indicator(
        indicator_id,
        pattern,
        json!({"created_by_ref": detente_server::objects::party_identity(&"CN".parse().unwrap())}),
    );
    let filed = cn
        .post(
            "/api/v1/requests",
            &json!({"to": "US", "request": {
                "kind": "mitigation", "category": "botnet", "priority": "high", "tlp": "amber",
                "title": "Botnet C2 in your networks", "narrative": "Please find and clean the bots.",
                "observables": [{"type": "cidr", "value": "198.51.100.0/24"}],
                "objects": [indicator]
            }}),
        )
        .await;
    let filed: Value = filed.json().await.unwrap();
    let case = filed["case"]
        .as_str()
        .unwrap_or_else(|| panic!("filing failed: {filed}"))
        .to_owned();
    eventually(20, "US has the request", || async {
        us.case_status(&case).await.as_deref() == Some("sent")
    })
    .await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mitigation_request_is_matched_on_the_node_and_answered_with_sightings() {
    // Arrange: CN asks US to mitigate a botnet, with a CIDR and an indicator of a C2 name.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    let case = mitigation_request(
        &mut us,
        &mut cn,
        "indicator--a1b2c3d4-0000-4000-8000-000000000009",
        "[domain-name:value = 'c2.evil.example']",
    )
    .await;
    let (conn, dns) = write_logs(dir.path());

    // Act
    let out = run(
        &us.home,
        &[
            "match",
            "--case",
            &case,
            "--answer",
            "--final",
            "--note",
            "Owners notified; the hosts are being cleaned.",
            &conn,
            &dns,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually(20, "CN has the answer", || async {
        cn.case_status(&case).await.as_deref() == Some("answered")
    })
    .await;

    // Assert: CN holds a signed answer with a US-made sighting per sighted indicator, without
    // US's private details; US kept the full results in its home.
    let shown = cn.get(&format!("/api/v1/requests/{case}")).await;
    let answer = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"]["type"] == "answer")
        .expect("an answer");
    let text = answer["body"]["text"].as_str().unwrap();
    assert!(text.contains("2 indicator(s) sighted"), "{text}");
    assert!(text.contains("Owners notified"), "{text}");
    let sightings = answer["body"]["objects"].as_array().unwrap();
    assert_eq!(sightings.len(), 2, "{sightings:?}");
    let of: Vec<&str> = sightings
        .iter()
        .map(|s| s["sighting_of_ref"].as_str().unwrap())
        .collect();
    assert!(
        of.contains(&"indicator--a1b2c3d4-0000-4000-8000-000000000009"),
        "{of:?}"
    );
    for s in sightings {
        assert_eq!(s["type"], "sighting");
        assert!(
            s["created_by_ref"]
                .as_str()
                .unwrap()
                .starts_with("identity--")
        );
        assert!(s.get("where_sighted_refs").is_none(), "{s}");
        assert!(s.get("x_detente_observed_values").is_none(), "{s}");
    }
    let kept = std::fs::read_dir(us.home.join("matches")).unwrap().count();
    assert_eq!(kept, 1, "the run's results are kept on the node");
}

#[test]
fn a_node_matches_the_indicators_it_stores() {
    // Arrange: a node home with an imported bundle (one live, one revoked indicator).
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let bundle = dir.path().join("feed.json");
    let objects = json!({"type": "bundle", "id": "bundle--6d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        stix_indicator("indicator--b1b2c3d4-0000-4000-8000-000000000001",
            "[ipv4-addr:value = '203.0.113.9']",
            json!({"object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]})),
        stix_indicator("indicator--b1b2c3d4-0000-4000-8000-000000000002",
            "[domain-name:value = 'c2.evil.example']",
            json!({"revoked": true,
                   "object_marking_refs": ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]})),
    ]});
    std::fs::write(&bundle, objects.to_string()).unwrap();
    let imported = run(
        &us.home,
        &["indicators", "import", bundle.to_str().unwrap()],
    );
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let (conn, dns) = write_logs(dir.path());

    // Act
    let out = run(&us.home, &["--json", "match", "--stored", &conn, &dns]);

    // Assert: the live indicator is sighted twice; the revoked one never.
    let report = stdout_json(&out);
    assert_eq!(sighted_values(&report), ["203.0.113.9"], "{report:#}");
    assert_eq!(report["sightings"][0]["count"], 2);
    assert_eq!(report["sources"][0]["name"], "stored indicators");
}

/// Compresses `path` with the system's gzip into `path.gz` and flips a byte of the CRC-32
/// in its trailer, as a damaged copy would have it: every line still decompresses.
fn gzip_with_bad_checksum(path: &str) -> String {
    let gz = format!("{path}.gz");
    let out = std::process::Command::new("gzip")
        .args(["-k", "-f", path])
        .output()
        .expect("gzip is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&gz).unwrap();
    let crc = bytes.len() - 8;
    bytes[crc] ^= 0xff;
    std::fs::write(&gz, bytes).unwrap();
    gz
}

/// Regression (issues 25.1 and 20.13): a gzip log with a damaged checksum gave "lines 0,
/// hits 0", "No indicator was sighted." and exit 0. Every decompressed line is matched now,
/// and the damage shows in the JSON, in report.json, in the table and in the exit code.
#[test]
fn a_damaged_gzip_log_is_matched_up_to_the_damage_and_every_output_says_so() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = write_logs(dir.path());
    let damaged = gzip_with_bad_checksum(&conn);
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "203.0.113.9\n").unwrap();
    let out_dir = dir.path().join("results");
    let args = |json: bool| {
        let mut args = vec![];
        if json {
            args.push("--json");
        }
        args.extend([
            "match",
            "--indicators",
            list.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            damaged.as_str(),
        ]);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };

    // Act
    let as_json = run(
        dir.path(),
        &args(true).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let as_table = run(
        dir.path(),
        &args(false).iter().map(String::as_str).collect::<Vec<_>>(),
    );

    // Assert: the lines before the damage (all 13) and their 2 hits, and the damage named.
    assert_eq!(
        as_json.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&as_json.stderr)
    );
    let report: Value = serde_json::from_slice(&as_json.stdout).expect("JSON on stdout");
    assert_eq!(report["complete"], false);
    let input = &report["run"]["inputs"][0];
    assert_eq!(input["lines"], 13, "{input:#}");
    assert_eq!(input["hits"], 2);
    assert!(
        input["error"].as_str().unwrap().contains("checksum"),
        "{input:#}"
    );
    assert_eq!(sighted_values(&report), ["203.0.113.9"]);
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(on_disk["complete"], false);
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("sightings.json")).unwrap()).unwrap();
    assert!(
        bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "note"),
        "{bundle:#}"
    );
    assert_eq!(as_table.status.code(), Some(7));
    let table = String::from_utf8_lossy(&as_table.stdout);
    assert!(table.contains("DAMAGED"), "{table}");
    assert!(table.contains("INCOMPLETE: 1 of 1 log(s)"), "{table}");
    assert!(!table.contains("No indicator was sighted"), "{table}");
    assert!(
        String::from_utf8_lossy(&as_table.stderr).contains("could not be read to the end"),
        "{}",
        String::from_utf8_lossy(&as_table.stderr)
    );
}

/// Regression (issue 20.15): one maltrail trail file was read as a plain list (its
/// `http://203.0.113.9` became a URL that never matched the address), and
/// `--list-format maltrail FILE` failed with "Not a directory".
#[test]
fn a_single_maltrail_file_is_read_as_maltrail_whether_named_or_guessed() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = write_logs(dir.path());
    let trail = dir.path().join("c2.txt");
    std::fs::write(
        &trail,
        "# Copyright (c) 2014-2026 Maltrail developers (https://github.com/stamparm/maltrail/)\n# See the file 'LICENSE' for copying permission\n\nhttp://203.0.113.9\n",
    )
    .unwrap();
    let trail = trail.to_str().unwrap();

    // Act
    let guessed = run(
        dir.path(),
        &["--json", "match", "--indicators", trail, &conn],
    );
    let named = run(
        dir.path(),
        &[
            "--json",
            "match",
            "--list-format",
            "maltrail",
            "--indicators",
            trail,
            &conn,
        ],
    );

    // Assert
    for out in [guessed, named] {
        let report = stdout_json(&out);
        assert_eq!(report["sources"][0]["format"], "maltrail", "{report:#}");
        assert_eq!(sighted_values(&report), ["203.0.113.9"], "{report:#}");
        assert_eq!(report["sightings"][0]["count"], 2);
    }
}

/// Regression (issues 20.17 and 25.3): `0.0.0.0/0` was accepted silently and hit every
/// line; `192.0.2.0/24#c2` became a URL that never matched the block.
#[test]
fn indicators_that_match_everything_or_read_as_another_kind_are_refused_with_reasons() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (conn, _) = write_logs(dir.path());
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "0.0.0.0/0\n::/0\n203.0.113.0/24#c2\n203.0.113.9\n").unwrap();

    // Act
    let out = run(
        dir.path(),
        &[
            "--json",
            "match",
            "--indicators",
            list.to_str().unwrap(),
            &conn,
        ],
    );

    // Assert
    let report = stdout_json(&out);
    let source = &report["sources"][0];
    assert_eq!(
        (source["added"].as_u64(), source["rejected"].as_u64()),
        (Some(1), Some(3))
    );
    let errors = source["errors"].to_string();
    assert!(
        errors.contains("line 1: 0.0.0.0/0 cannot point at a host"),
        "{errors}"
    );
    assert!(
        errors.contains("line 3") && errors.contains("'#' comment"),
        "{errors}"
    );
    assert_eq!(report["run"]["inputs"][0]["hits"], 2);
}

/// Regression (issue 20.14): an indicator whose STIX pattern asks for an address AND a port
/// was reported as sighted when the address alone was seen; one with only a LIKE test was
/// dropped without a word.
#[test]
fn stix_patterns_with_and_give_candidates_not_sightings_and_like_only_is_reported() {
    // Arrange: 203.0.113.9 is contacted on 8443 in the logs, never on 443.
    let dir = tempfile::tempdir().unwrap();
    let (conn, dns) = write_logs(dir.path());
    let bundle = dir.path().join("bundle.json");
    let objects = json!({"type": "bundle", "id": "bundle--7d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        stix_indicator("indicator--c1b2c3d4-0000-4000-8000-000000000001",
            "[ipv4-addr:value = '203.0.113.9' AND network-traffic:dst_port = 443]", json!({})),
        stix_indicator("indicator--c1b2c3d4-0000-4000-8000-000000000002",
            "[domain-name:value LIKE '%.evil.example']", json!({})),
        stix_indicator("indicator--c1b2c3d4-0000-4000-8000-000000000003",
            "[domain-name:value = 'c2.evil.example']", json!({})),
    ]});
    std::fs::write(&bundle, objects.to_string()).unwrap();
    let out_dir = dir.path().join("results");

    // Act
    let out = run(
        dir.path(),
        &[
            "--json",
            "match",
            "--indicators",
            bundle.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            &conn,
            &dns,
        ],
    );

    // Assert
    let report = stdout_json(&out);
    assert_eq!(sighted_values(&report), ["c2.evil.example"], "{report:#}");
    let candidates = report["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    assert_eq!(
        candidates[0]["indicator"]["label"],
        "indicator--c1b2c3d4-0000-4000-8000-000000000001"
    );
    assert_eq!(candidates[0]["hits"], 2);
    let source = &report["sources"][0];
    assert_eq!(
        (source["partial"].as_u64(), source["unsupported"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        source["errors"]
            .to_string()
            .contains("000000000002: not matched"),
        "{source:#}"
    );
    let hits = std::fs::read_to_string(out_dir.join("hits.jsonl")).unwrap();
    let partial: Vec<Value> = hits
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|h| {
            h["partial_indicators"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .collect();
    assert_eq!(partial.len(), 2, "{hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_log_blocks_a_final_answer_and_a_partial_answer_admits_it() {
    // Arrange: CN asks US to mitigate, sharing a CIDR and an indicator that needs an
    // address AND a port; one of US's logs has a damaged checksum.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    let case = mitigation_request(
        &mut us,
        &mut cn,
        "indicator--a1b2c3d4-0000-4000-8000-00000000000a",
        "[ipv4-addr:value = '203.0.113.9' AND network-traffic:dst_port = 443]",
    )
    .await;
    let (conn, dns) = write_logs(dir.path());
    let damaged = gzip_with_bad_checksum(&conn);
    let answer = |is_final: bool| {
        let mut args = vec!["match", "--case", &case, "--answer"];
        if is_final {
            args.push("--final");
        }
        args.extend([damaged.as_str(), dns.as_str()]);
        run(&us.home, &args)
    };

    // Act
    let final_try = answer(true);
    let partial = answer(false);

    // Assert: no final answer on a damaged log; the partial one says what was not read and
    // does not count the AND indicator's address as a sighting.
    assert_eq!(final_try.status.code(), Some(7));
    assert!(
        String::from_utf8_lossy(&final_try.stderr).contains("no final answer was sent"),
        "{}",
        String::from_utf8_lossy(&final_try.stderr)
    );
    assert_eq!(
        partial.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&partial.stderr)
    );
    assert!(
        String::from_utf8_lossy(&partial.stdout).contains("Answer "),
        "the answer was sent"
    );
    eventually(20, "CN has the answer", || async {
        cn.case_status(&case).await.as_deref() == Some("partially_answered")
    })
    .await;
    let shown = cn.get(&format!("/api/v1/requests/{case}")).await;
    let answers: Vec<&Value> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["body"]["type"] == "answer")
        .collect();
    assert_eq!(answers.len(), 1, "only the partial answer was sent");
    let text = answers[0]["body"]["text"].as_str().unwrap();
    assert!(
        text.contains("1 of the 2 log(s) could not be read to the end"),
        "{text}"
    );
    assert!(
        text.contains("1 indicator(s) have patterns that ask for more than one value"),
        "{text}"
    );
    assert!(
        !text.contains("conn.log"),
        "our file names stay ours: {text}"
    );
    let sighted: Vec<&str> = answers[0]["body"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sighting_of_ref"].as_str().unwrap())
        .collect();
    assert!(
        !sighted.contains(&"indicator--a1b2c3d4-0000-4000-8000-00000000000a"),
        "{sighted:?}"
    );
    assert_eq!(sighted.len(), 1, "the CIDR's sighting: {sighted:?}");
}
