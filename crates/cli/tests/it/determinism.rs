//! Both parties and an auditor get byte-identical review documents: US's node, CN's node and
//! each party's exported log bundle, reviewed for the same period as of the same instant.

use std::path::Path;

use serde_json::Value;

use crate::harness::{detente, eventually, pair, request_body, work_cases};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_and_both_bundles_give_byte_identical_reviews() {
    // Arrange: cases in both directions, one left open.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 3).await;
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
