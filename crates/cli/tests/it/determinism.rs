//! Both parties and an auditor get byte-identical review documents: US's node, CN's node and
//! each party's exported log bundle, reviewed for the same period as of the same instant.

use std::path::{Path, PathBuf};

use detente_server::review::{ReviewFormat, ReviewRequest, render_bundle, render_review};
use serde_json::Value;

use crate::harness::{NodeProc, detente, eventually, pair, request_body, work_cases};

fn review(args: &[&str], home: Option<&Path>) -> String {
    let mut cmd = detente();
    if let Some(home) = home {
        cmd.arg("--home").arg(home);
    }
    let out = cmd.arg("review").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "detente review {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two nodes that worked `n` cases from US to CN and left one from CN to US open, stopped,
/// with their exported bundles.
async fn worked_pair(dir: &Path, n: usize) -> (NodeProc, NodeProc, Vec<PathBuf>) {
    let (mut us, mut cn) = pair(dir);
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, n).await;
    let open = cn
        .post("/api/v1/requests", &request_body("US", "still open"))
        .await
        .json::<Value>()
        .await
        .unwrap()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(20, "US has the open request", || async {
        us.case_status(&open).await.as_deref() == Some("sent")
    })
    .await;
    us.terminate();
    cn.terminate();
    let mut bundles = Vec::new();
    for node in [&us, &cn] {
        let path = node.home.with_extension("bundle");
        let o = detente()
            .arg("--home")
            .arg(&node.home)
            .args(["log", "export", "--out"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        bundles.push(path);
    }
    (us, cn, bundles)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_and_both_bundles_give_byte_identical_reviews() {
    // Arrange: cases in both directions, one left open.
    let dir = tempfile::tempdir().unwrap();
    let (us, cn, bundles) = worked_pair(dir.path(), 3).await;
    let now = detente_server::node::now();
    let year = now.datetime().year().to_string();
    let as_of = now.to_string();

    for format in ["json", "csv", "html"] {
        // Act
        let args = ["--period", &year, "--as-of", &as_of, "--format", format];
        let on_us = review(&args, Some(&us.home));
        let on_cn = review(&args, Some(&cn.home));
        let from_bundles: Vec<String> = bundles
            .iter()
            .map(|b| {
                let mut with_bundle = args.to_vec();
                with_bundle.extend(["--bundle", b.to_str().unwrap()]);
                review(&with_bundle, None)
            })
            .collect();

        // Assert
        assert_eq!(on_us, on_cn, "{format}: the two nodes differ");
        assert_eq!(on_us, from_bundles[0], "{format}: US's bundle differs");
        assert_eq!(on_us, from_bundles[1], "{format}: CN's bundle differs");
    }
    let json: Value = serde_json::from_str(&review(
        &["--period", &year, "--as-of", &as_of, "--format", "json"],
        Some(&us.home),
    ))
    .unwrap();
    let columns = json["appendix"]["columns"].as_array().expect("columns");
    let column = columns
        .iter()
        .position(|c| c == "log_index")
        .expect("a log_index column");
    let rows = json["appendix"]["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 4, "{json:#}");
    // Each request is cited by its index in the responder's log; all differ.
    let mut indices: Vec<u64> = rows.iter().map(|r| r[column].as_u64().unwrap()).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), 4, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_measured_after_its_end_is_byte_identical_on_both_nodes_and_bundles() {
    // Arrange: today's cases, one left open, and both logs exported.
    let dir = tempfile::tempdir().unwrap();
    let (us, cn, bundles) = worked_pair(dir.path(), 2).await;
    // The node reads the system clock, so the period is today and the review is made as if
    // tomorrow at noon: measured after the period's end, and not in the future then.
    let today = detente_server::node::now().datetime().date();
    let period = format!("{today}..{today}");
    let tomorrow_noon = detente_protocol::Timestamp::from_datetime(
        today
            .next_day()
            .unwrap()
            .with_hms(12, 0, 0)
            .unwrap()
            .assume_utc(),
    );
    let mut documents = Vec::new();
    for format in [
        ReviewFormat::Json,
        ReviewFormat::Html,
        ReviewFormat::CsvFigures,
    ] {
        let request = ReviewRequest {
            period: period.clone(),
            bulletin: false,
            format,
            redacted: false,
            trend: 4,
            as_of: None,
        };
        // Act
        let mut from = Vec::new();
        for (node, bundle) in [&us, &cn].into_iter().zip(&bundles) {
            let store = detente_store::Store::open(&node.home.join("detente.db"), false)
                .await
                .unwrap();
            let agreement = detente_domain::Agreement::from_toml(
                &std::fs::read_to_string(node.home.join("agreement.toml")).unwrap(),
            )
            .unwrap();
            let party = detente_server::config::NodeConfig::load(&node.home)
                .unwrap()
                .party;
            from.push(render_review(&store, &agreement, &party, &request, tomorrow_noon).await);
            store.close().await;
            from.push(render_bundle(bundle, &request, tomorrow_noon));
        }
        let mut from: Vec<String> = from
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("{}", e.message)))
            .collect();

        // Assert
        for (i, other) in from.iter().enumerate().skip(1) {
            assert_eq!(&from[0], other, "{format:?}: document {i} differs");
        }
        documents.push(from.swap_remove(0));
    }
    let json: Value = serde_json::from_str(&documents[0]).unwrap();
    assert_eq!(json["as_of"], tomorrow_noon.to_string());
    assert!(json["as_of"].as_str() > json["period"]["end"].as_str());
    let figures = &json["overall"]["figures"];
    assert_eq!(figures["filed"], 3, "{figures}");
    assert_eq!(figures["pending"]["open"], 1, "the open request is pending");
    assert_eq!(
        figures["pending"]["overdue"], 1,
        "and past its deadlines by tomorrow"
    );
    let cited = json["checkpoints"].as_array().expect("checkpoints");
    assert_eq!(cited.len(), 2, "one per party: {cited:?}");
    assert!(documents[1].contains("entries, root"));
}
