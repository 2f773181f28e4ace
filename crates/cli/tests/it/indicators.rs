//! `detente indicators`: import of real STIX and MISP samples, dedupe across runs, clear
//! errors that lose nothing, TLP-filtered exports for every level and audience (markings
//! under other ids and MISP's distribution included), TAXII users only for partners, and
//! paged listing.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};

use crate::harness::{detente, eventually, pair, run};

/// A file or folder of the repository's `testdata/` (see its README and LICENSES.md).
fn data(rel: &str) -> String {
    format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn ok_json(home: &std::path::Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(home, &all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn indicator(n: u32, marking: Option<&str>) -> String {
    let refs = marking.map_or(String::new(), |m| {
        format!(r#","object_marking_refs":["{m}"]"#)
    });
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern":"[ipv4-addr:value = '198.51.100.{}']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"{refs}}}"#,
        n % 256
    )
}

fn exported_ids(home: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["indicators", "export"];
    all.extend_from_slice(args);
    let out = run(home, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let mut ids: Vec<String> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["pattern"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn real_stix_and_misp_samples_import_and_a_second_run_stores_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let paths = [
        data("cti-stix2-json-schemas/examples/threat-reports/apt1.json"),
        data("mitre-cti"),
        data("eset-malware-ioc/dukes"),
        data("cti-stix-validator/invalid_timestamp.json"),
    ];
    let mut args = vec!["indicators", "import"];
    args.extend(paths.iter().map(String::as_str));
    let first = ok_json(&us.home, &args);
    assert!(first["stored"].as_u64().unwrap() > 200, "{first}");
    // The validator's negative sample is rejected, with its reason.
    let bad = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["file"]
                .as_str()
                .unwrap()
                .ends_with("invalid_timestamp.json")
        })
        .unwrap();
    assert_eq!(bad["rejected"], 1);
    assert!(
        bad["rejections"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("earlier than created")
    );
    let second = ok_json(&us.home, &args);
    assert_eq!(second["stored"], 0);
    assert_eq!(second["duplicates"], first["stored"]);
}

#[test]
fn stix_2_0_is_converted_or_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let mitre = data("mitre-cti");
    let refused = ok_json(
        &us.home,
        &["indicators", "import", "--reject-stix20", &mitre],
    );
    assert_eq!(refused["stored"], 0);
    assert!(refused["rejected"].as_u64().unwrap() > 0);
    let reason = refused["files"][0]["rejections"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("STIX 2.0"), "{reason}");
    let converted = ok_json(&us.home, &["indicators", "import", &mitre]);
    assert!(converted["stored"].as_u64().unwrap() > 0);
}

#[test]
fn malformed_json_is_reported_with_its_position_and_earlier_objects_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let file = dir.path().join("broken.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"bundle","objects":[{},{{"type": ]}}"#,
            indicator(1, None)
        ),
    )
    .unwrap();
    let out = run(&us.home, &["indicators", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(7));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("malformed JSON at line 1"), "{stdout}");
    let list = ok_json(&us.home, &["indicators", "list"]);
    assert_eq!(list["objects"].as_array().unwrap().len(), 1);
}

/// `detente indicators import -` running, its input and output piped.
fn import_stdin(home: &std::path::Path) -> std::process::Child {
    detente()
        .arg("--home")
        .arg(home)
        .args(["--json", "indicators", "import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A bundle of `objects`, open: its list and itself still to be closed with `]}`.
fn bundle_head(objects: &[String]) -> String {
    format!(
        r#"{{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[{}"#,
        objects.join(",")
    )
}

#[test]
fn standard_input_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let mut child = import_stdin(&us.home);
    let objects: Vec<String> = (0..3).map(|n| indicator(n, None)).collect();
    write!(child.stdin.take().unwrap(), "{}]}}", bundle_head(&objects)).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stored"], 3);
}

/// Stored objects, read beside a running import as any reader would.
async fn stored(home: &std::path::Path) -> i64 {
    let mut db = SqliteConnectOptions::new()
        .filename(home.join("detente.db"))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM stix_objects")
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_write_keeps_whole_batches_and_a_rerun_completes_it() {
    const TOTAL: u32 = 120_000;
    // The import's batch: what the parser hands the writer, and the smallest commit.
    const BATCH: i64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let objects: Vec<String> = (0..TOTAL).map(|n| indicator(n, None)).collect();
    let mut child = import_stdin(&us.home);
    let mut stdin = child.stdin.take().unwrap();
    // Two whole batches and part of a third, then the stream stalls with the bundle open.
    stdin
        .write_all(bundle_head(&objects[..45_000]).as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    eventually(60, "the import has committed its first batches", || async {
        stored(&us.home).await >= 2 * BATCH
    })
    .await;
    // The rest arrives, and the process dies as soon as the next batch's pages reach the
    // write-ahead log: while that commit is being written, or just after.
    let wal = us.home.join("detente.db-wal");
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let committed = wal_len();
    let rest = format!(",{}]}}", objects[45_000..].join(","));
    let writer = std::thread::spawn(move || {
        // The pipe breaks when the importer dies: that is expected.
        let _ = stdin.write_all(rest.as_bytes());
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while wal_len() == committed && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    writer.join().unwrap();

    // What was committed is whole batches, and the database is sound.
    let kept = stored(&us.home).await;
    assert!(
        kept >= 2 * BATCH && kept % BATCH == 0 || kept == i64::from(TOTAL),
        "{kept} objects kept"
    );
    let mut db = SqliteConnectOptions::new()
        .filename(us.home.join("detente.db"))
        .connect()
        .await
        .unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    db.close().await.unwrap();

    // Run again in full: the rest is stored, nothing twice.
    let file = dir.path().join("all.json");
    std::fs::write(&file, bundle_head(&objects) + "]}").unwrap();
    let again = ok_json(&us.home, &["indicators", "import", file.to_str().unwrap()]);
    assert_eq!(again["stored"].as_i64().unwrap(), i64::from(TOTAL) - kept);
    assert_eq!(again["duplicates"].as_i64().unwrap(), kept);
    assert_eq!(stored(&us.home).await, i64::from(TOTAL));
}

#[test]
fn exports_carry_only_what_each_audience_may_see_at_every_tlp_level() {
    use detente_stix::tlp::TLP_2_IDS;
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let marks = TLP_2_IDS
        .map(Some)
        .into_iter()
        .chain([None])
        .collect::<Vec<_>>();
    let objects: Vec<String> = marks
        .iter()
        .enumerate()
        .map(|(n, m)| indicator(n as u32, *m))
        .collect();
    let file = dir.path().join("levels.json");
    std::fs::write(
        &file,
        format!(r#"{{"type":"bundle","objects":[{}]}}"#, objects.join(",")),
    )
    .unwrap();
    let home = &us.home;
    ok_json(
        home,
        &[
            "indicators",
            "import",
            "--audience",
            "CN",
            file.to_str().unwrap(),
        ],
    );
    let p = |n: &[u32]| -> Vec<String> {
        let mut v: Vec<String> = n
            .iter()
            .map(|n| format!("[ipv4-addr:value = '198.51.100.{n}']"))
            .collect();
        v.sort();
        v
    };
    // This node's own users: everything (they imported it).
    assert_eq!(exported_ids(home, &[]), p(&[0, 1, 2, 3, 4, 5]));
    // The named partner: CLEAR, GREEN, AMBER and the unmarked one (AMBER by default).
    assert_eq!(exported_ids(home, &["--for", "CN"]), p(&[0, 1, 2, 5]));
    // A party outside the agreement: CLEAR only; so is a public export.
    assert_eq!(exported_ids(home, &["--for", "GB"]), p(&[0]));
    assert_eq!(exported_ids(home, &["--public"]), p(&[0]));
}

/// Writes `objects` as a bundle into `dir/name` and returns its path.
fn bundle_file(dir: &std::path::Path, name: &str, objects: &[String]) -> String {
    let file = dir.join(name);
    std::fs::write(
        &file,
        format!(r#"{{"type":"bundle","objects":[{}]}}"#, objects.join(",")),
    )
    .unwrap();
    file.to_str().unwrap().to_owned()
}

/// The patterns `198.51.100.N` for `ns`, sorted as `exported_ids` sorts them.
fn patterns(ns: &[u32]) -> Vec<String> {
    let mut v: Vec<String> = ns
        .iter()
        .map(|n| format!("[ipv4-addr:value = '198.51.100.{n}']"))
        .collect();
    v.sort();
    v
}

#[test]
fn exports_hold_back_objects_marked_under_other_ids_by_what_the_marking_defines() {
    // Regression: a marking-definition under its own id (a TLP 2.0 extension definition, a
    // TLP 1.0-style one, OpenCTI's) was not read; its RED and AMBER+STRICT objects were
    // exported to the partner, and to the public with `default_tlp = clear`.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let id = |n: u32| format!("marking-definition--7e1c2a44-0b5d-4c1e-8f00-0000000000{n:02}");
    let ext = |n: u32, level: &str| {
        format!(
            r#"{{"type":"marking-definition","spec_version":"2.1","id":"{}","created":"2022-10-01T00:00:00.000Z","extensions":{{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{{"extension_type":"property-extension","tlp_2_0":"{level}"}}}}}}"#,
            id(n)
        )
    };
    let mut objects: Vec<String> = (0..5).map(|n| indicator(n, Some(&id(n)))).collect();
    objects.push(indicator(
        5,
        Some("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"),
    ));
    objects.push(indicator(6, Some(&id(99))));
    objects.extend([
        ext(0, "clear"),
        ext(1, "green"),
        format!(
            r#"{{"type":"marking-definition","spec_version":"2.1","id":"{}","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{{"tlp":"amber"}}}}"#,
            id(2)
        ),
        format!(
            r#"{{"type":"marking-definition","spec_version":"2.1","id":"{}","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","definition_type":"TLP","definition":{{"TLP":"TLP:AMBER+STRICT"}}}}"#,
            id(3)
        ),
        ext(4, "red"),
    ]);
    let file = bundle_file(dir.path(), "custom.json", &objects);
    // Unmarked objects are public on this node: only what the markings say holds anything
    // back.
    let mut config = std::fs::read_to_string(us.home.join("detente.toml")).unwrap();
    config = config.replace("default_tlp = \"amber\"", "default_tlp = \"clear\"");
    assert!(config.contains("default_tlp = \"clear\""), "{config}");
    std::fs::write(us.home.join("detente.toml"), config).unwrap();

    let imported = ok_json(
        &us.home,
        &["indicators", "import", "--audience", "CN", &file],
    );

    assert_eq!(
        exported_ids(&us.home, &[]),
        patterns(&[0, 1, 2, 3, 4, 5, 6])
    );
    assert_eq!(
        exported_ids(&us.home, &["--for", "CN"]),
        patterns(&[0, 1, 2])
    );
    assert_eq!(exported_ids(&us.home, &["--public"]), patterns(&[0]));
    // The import said which object it stored as RED for a marking nothing defines.
    assert_eq!(imported["files"][0]["unresolved_markings"], 1, "{imported}");
}

#[test]
fn a_misp_event_for_the_organisation_only_is_not_exported_to_the_partner() {
    // Regression: MISP's `distribution` was ignored, so an event its owner kept to its own
    // organisation was exported to the partner like any other.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let event = |uuid: &str, distribution: u8, n: u32| {
        format!(
            r#"{{"Event":{{"uuid":"{uuid}","info":"t","timestamp":"1534000000","distribution":"{distribution}","Tag":[{{"name":"tlp:green"}}],"Attribute":[{{"uuid":"5b773e07-0000-4000-8000-{n:012}","type":"ip-dst","value":"198.51.100.{n}","to_ids":true}}]}}}}"#
        )
    };
    let org_only = dir.path().join("org-only.json");
    std::fs::write(
        &org_only,
        event("5b773e07-e694-458b-b99c-27f30a016210", 0, 1),
    )
    .unwrap();
    let all = dir.path().join("all.json");
    std::fs::write(&all, event("5b773e07-e694-458b-b99c-27f30a016211", 3, 2)).unwrap();
    ok_json(
        &us.home,
        &[
            "indicators",
            "import",
            "--audience",
            "CN",
            org_only.to_str().unwrap(),
            all.to_str().unwrap(),
        ],
    );
    assert_eq!(exported_ids(&us.home, &[]), patterns(&[1, 2]));
    assert_eq!(exported_ids(&us.home, &["--for", "CN"]), patterns(&[2]));
}

#[test]
fn taxii_users_read_for_a_partner_party_only() {
    // Regression: `user-add` took this node's own party (a user that read every RED object
    // the node holds) and parties outside the agreement.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let config_before = std::fs::read_to_string(us.home.join("detente.toml")).unwrap();
    for (party, says) in [("US", "own party"), ("GB", "not a party to agreement")] {
        let out = run(
            &us.home,
            &["indicators", "user-add", "analyst", "--party", party],
        );
        assert_eq!(out.status.code(), Some(7), "{party}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{party}: {stderr}");
        assert!(out.stdout.is_empty(), "no password printed for {party}");
    }
    assert_eq!(
        std::fs::read_to_string(us.home.join("detente.toml")).unwrap(),
        config_before
    );
    let out = run(
        &us.home,
        &["indicators", "user-add", "cn-analyst", "--party", "CN"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_list_pages_through_everything_and_says_when_there_is_more() {
    // Regression: `indicators list` showed the oldest 50 and no way to see the rest.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let objects: Vec<String> = (0..7).map(|n| indicator(n, None)).collect();
    let file = bundle_file(dir.path(), "seven.json", &objects);
    ok_json(&us.home, &["indicators", "import", &file]);

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["indicators", "list", "--limit", "3"];
        if let Some(n) = &next {
            args.extend(["--next", n.as_str()]);
        }
        let page = ok_json(&us.home, &args);
        pages += 1;
        seen.extend(
            page["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_i64() {
            Some(n) => next = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut want: Vec<String> = (0..7)
        .map(|n| format!("indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f"))
        .collect();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);
    // The table says how to go on.
    let out = run(&us.home, &["indicators", "list", "--limit", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("more follow: detente indicators list --limit 3 --next "),
        "{text}"
    );
    let bad = run(&us.home, &["indicators", "list", "--limit", "0"]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses a limit of 0");
}
