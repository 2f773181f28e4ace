//! Each receipt signs where the partner logged the envelope; the sender's node then proves,
//! over HTTP, that the partner's log holds exactly that envelope at that index, and raises an
//! omission alert when it does not.

use serde_json::{Value, json};

use crate::helpers::{TestNode, eventually, request_body, spawn_pair};

async fn inclusions_proven(node: &TestNode) -> u64 {
    node.node()
        .store()
        .read_counter("inclusion:CN")
        .await
        .expect("reading the counter")
}

async fn alerts(node: &TestNode, kind: &str) -> Vec<Value> {
    let status = node.status().await;
    status["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == kind)
        .cloned()
        .collect()
}

/// US files a request and waits for CN's receipt.
async fn delivered(pair: &crate::helpers::Pair) -> String {
    let case = pair
        .us
        .file_request("CN", &request_body("Where does this C2 live?"))
        .await;
    pair.us.wait_for_status(&case, "sent").await;
    pair.cn.wait_for_status(&case, "sent").await;
    case
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_proves_each_receipted_envelope_is_in_the_partners_log() {
    let pair = spawn_pair().await;
    let case = delivered(&pair).await;

    // CN's next message carries a checkpoint that covers the request's entry.
    pair.cn
        .send_message(&case, &json!({"type": "acknowledgement", "note": ""}))
        .await;

    eventually("US has proven its request is in CN's log", || async {
        inclusions_proven(&pair.us).await >= 1
    })
    .await;
    assert!(alerts(&pair.us, "omission").await.is_empty());
    let shown = pair.us.show(&case).await;
    let request = &shown["messages"][0];
    assert_eq!(request["body"]["type"], "request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_whose_log_no_longer_proves_a_receipted_envelope_raises_an_omission_alert() {
    // Arrange: CN receipts US's request (log entry 0, its receipt entry 1) ...
    let pair = spawn_pair().await;
    let case = delivered(&pair).await;
    // ... then someone with CN's database file rewrites the hash of entry 1 in CN's tree,
    // so CN can no longer prove entry 0 (the proof's sibling is entry 1).
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(pair.cn.home.join("detente.db"));
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("opening CN's database");
    sqlx::query("DROP TRIGGER tree_nodes_are_append_only_update")
        .execute(&pool)
        .await
        .expect("an attacker drops the guard");
    let changed =
        sqlx::query("UPDATE tree_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 1")
            .execute(&pool)
            .await
            .expect("and rewrites a node");
    assert_eq!(changed.rows_affected(), 1);
    pool.close().await;

    // Act: CN's acknowledgement carries a checkpoint covering entry 0.
    pair.cn
        .send_message(&case, &json!({"type": "acknowledgement", "note": ""}))
        .await;

    // Assert
    eventually("US raises an omission alert", || async {
        !alerts(&pair.us, "omission").await.is_empty()
    })
    .await;
    let alert = &alerts(&pair.us, "omission").await[0];
    assert_eq!(alert["party"], "CN");
    let detail = alert["detail"].as_str().expect("detail");
    assert!(
        detail.contains(&case) && detail.contains("entry 0"),
        "{detail}"
    );
    let evidence = alert["evidence"].as_str().expect("evidence");
    assert!(
        evidence.contains("\"log_index\":0"),
        "the signed receipt is kept: {evidence}"
    );
}
