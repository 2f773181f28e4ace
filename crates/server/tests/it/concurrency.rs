//! Many filings at once in both directions: every one delivered, every case number unique,
//! and both nodes agree on every case.

use std::collections::BTreeSet;

use tokio::task::JoinSet;

use crate::helpers::{Pair, TestNode, request_body, spawn_pair};

const PER_SIDE: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_filed_at_once_from_each_side_are_all_delivered_with_unique_numbers() {
    // Arrange
    let pair = std::sync::Arc::new(spawn_pair().await);

    // Act: 50 filings on US and 50 on CN, all at once.
    let mut filings = JoinSet::new();
    for i in 0..PER_SIDE {
        for from_us in [true, false] {
            let pair = std::sync::Arc::clone(&pair);
            filings.spawn(async move {
                let (node, to) = if from_us {
                    (&pair.us, "CN")
                } else {
                    (&pair.cn, "US")
                };
                node.file_request(to, &request_body(&format!("Concurrent {i}")))
                    .await
            });
        }
    }
    let mut cases = Vec::new();
    while let Some(case) = filings.join_next().await {
        cases.push(case.expect("a filing task did not panic"));
    }

    // Assert
    let unique: BTreeSet<&String> = cases.iter().collect();
    assert_eq!(unique.len(), 2 * PER_SIDE, "case numbers repeat: {cases:?}");
    for prefix in ["US-", "CN-"] {
        let numbers: BTreeSet<&str> = cases
            .iter()
            .filter(|c| c.starts_with(prefix))
            .map(|c| c.rsplit('-').next().expect("a number"))
            .collect();
        let expected: BTreeSet<String> = (1..=PER_SIDE).map(|n| format!("{n:04}")).collect();
        assert_eq!(
            numbers,
            expected.iter().map(String::as_str).collect(),
            "{prefix} numbers are not 1..={PER_SIDE}"
        );
    }
    let Pair { us, cn, .. } = &*pair;
    for case in &cases {
        us.wait_for_status(case, "sent").await;
        cn.wait_for_status(case, "sent").await;
    }
    for node in [us, cn] {
        assert_eq!(node.cases().await.len(), 2 * PER_SIDE);
        assert_eq!(node.outgoing("pending").await, 0);
        assert_eq!(node.outgoing("delivered").await, PER_SIDE as u64);
        assert_eq!(node.log_entries().await, 4 * PER_SIDE as u64);
    }
    for case in &cases {
        assert_same_case(us, cn, case).await;
    }
}

async fn assert_same_case(us: &TestNode, cn: &TestNode, case: &str) {
    let (a, b) = (us.show(case).await, cn.show(case).await);
    assert_eq!(a["case"], b["case"], "the nodes disagree on {case}");
    assert_eq!(a["case"]["status"], "sent");
    let received_at = |v: &serde_json::Value| v["messages"][0]["received_at"].clone();
    assert_eq!(received_at(&a), received_at(&b));
}
