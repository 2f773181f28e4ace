//! `kill -9` of either node in the middle of an exchange loses no message and applies none
//! twice: the outbox is committed before sending, receipts are idempotent by message id.

use serde_json::{Value, json};

use crate::harness::{NodeProc, eventually, pair, request_body};

async fn count(node: &NodeProc, status: &str) -> usize {
    node.get(&format!("/api/v1/requests?status={status}&limit=1000"))
        .await["requests"]
        .as_array()
        .unwrap()
        .len()
}

async fn log_entries(node: &NodeProc) -> u64 {
    node.get("/api/v1/status").await["log_entries"]
        .as_u64()
        .unwrap()
}

async fn pending_out(node: &NodeProc) -> u64 {
    node.get("/api/v1/status").await["outgoing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "pending")
        .map(|o| o["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_either_node_mid_exchange_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;

    // Requests in flight when CN dies; more while it is down; then US dies while retrying.
    let mut cases = Vec::new();
    for i in 0..15 {
        let r = us
            .post(
                "/api/v1/requests",
                &request_body("CN", &format!("request {i}")),
            )
            .await;
        assert_eq!(r.status(), 201);
        cases.push(
            r.json::<Value>().await.unwrap()["case"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    cn.kill_9();
    for i in 15..25 {
        let r = us
            .post(
                "/api/v1/requests",
                &request_body("CN", &format!("request {i}")),
            )
            .await;
        assert_eq!(
            r.status(),
            201,
            "filing must work while the partner is down"
        );
        cases.push(
            r.json::<Value>().await.unwrap()["case"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    us.kill_9();
    cn.start().await;
    us.start().await;
    eventually(90, "CN has received all 25 requests", || async {
        count(&cn, "sent").await == 25
    })
    .await;

    // CN acknowledges everything; US dies while the acknowledgements are being delivered.
    for case in &cases {
        let r = cn
            .post(
                &format!("/api/v1/requests/{case}/messages"),
                &json!({"type": "acknowledgement", "note": ""}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    us.kill_9();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    us.start().await;
    eventually(90, "US sees all 25 acknowledged", || async {
        count(&us, "acknowledged").await == 25
    })
    .await;
    eventually(30, "both outboxes are empty", || async {
        pending_out(&us).await == 0 && pending_out(&cn).await == 0
    })
    .await;

    // Exactly once: 50 envelopes, each logged once with one receipt, on each side.
    assert_eq!(count(&cn, "acknowledged").await, 25);
    assert_eq!(log_entries(&us).await, 100);
    assert_eq!(log_entries(&cn).await, 100);
    for case in &cases {
        let a = us.get(&format!("/api/v1/requests/{case}")).await;
        let b = cn.get(&format!("/api/v1/requests/{case}")).await;
        assert_eq!(
            a["case"], b["case"],
            "both nodes derive the same case {case}"
        );
        assert_eq!(a["messages"].as_array().unwrap().len(), 2);
    }
    us.terminate();
    cn.terminate();
}
