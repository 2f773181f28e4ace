//! `Node::rebuild`: the tables are projections of the log, and rebuilding them from the log
//! alone gives the same tables.

use detente_store::CaseFilter;

use crate::helpers::{request_body, spawn_pair};

pub(crate) async fn snapshot(node: &std::sync::Arc<detente_server::node::Node>) -> Vec<String> {
    let store = node.store();
    let mut out = Vec::new();
    for c in store
        .cases(&CaseFilter {
            limit: u32::MAX,
            ..CaseFilter::default()
        })
        .await
        .expect("cases")
    {
        out.push(format!("{c:?}").replace(&format!("{:?}", c.overdue_at), ""));
        for m in store.case_messages(&c.id).await.expect("messages") {
            out.push(format!(
                "{:?} {:?} {} {:?} {:?} {}",
                m.id,
                m.state,
                m.seq,
                m.received_at,
                m.receipt.map(|r| r.len()),
                m.envelope_entry
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_the_tables_from_the_log_gives_the_same_tables() {
    let mut pair = spawn_pair().await;
    let mut cases = Vec::new();
    for i in 0..3 {
        let case = pair
            .us
            .file_request("CN", &request_body(&format!("r{i}")))
            .await;
        pair.cn.wait_for_status(&case, "sent").await;
        cases.push(case);
    }
    pair.cn
        .send_message(&cases[0], &serde_json::json!({"type": "acknowledgement"}))
        .await;
    pair.us.wait_for_status(&cases[0], "acknowledged").await;
    // One more request while CN is down: it stays pending and must stay queued after rebuild.
    pair.cn.stop().await;
    let pending = pair.us.file_request("CN", &request_body("pending")).await;

    let node = pair.us.node().clone();
    let before = snapshot(&node).await;
    let status_before = pair.us.status().await;
    node.rebuild().await.expect("rebuild");
    assert_eq!(snapshot(&node).await, before);
    let status_after = pair.us.status().await;
    assert_eq!(status_before["outgoing"], status_after["outgoing"]);

    // The queued request is still delivered once CN is back, exactly once.
    pair.cn.start().await;
    pair.cn.wait_for_status(&pending, "sent").await;
    assert_eq!(pair.cn.cases().await.len(), 4);
}
