//! The outbox survives a partner being down: messages wait in the database and go out
//! exactly once when the partner is back.

use std::collections::BTreeSet;

use detente_protocol::{Envelope, Signed};
use detente_store::Direction;

use crate::helpers::{eventually, request_body, spawn_pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_filed_while_the_partner_is_down_are_delivered_exactly_once_after_it_returns() {
    // Arrange: CN is down.
    let mut pair = spawn_pair().await;
    pair.cn.stop().await;

    // Act: US files five requests; they wait.
    let mut cases = Vec::new();
    for i in 1..=5 {
        cases.push(
            pair.us
                .file_request("CN", &request_body(&format!("Outage case {i}")))
                .await,
        );
    }
    let us = &pair.us;
    eventually("US trying and failing to reach CN", || async {
        let due = us
            .node()
            .store()
            .outbox_due(
                detente_server::node::now().add(time::Duration::days(1)),
                100,
            )
            .await
            .expect("reading the outbox");
        due.len() == 5 && due.iter().all(|item| item.attempts >= 1)
    })
    .await;
    assert_eq!(us.outgoing("pending").await, 5);
    assert_eq!(us.outgoing("delivered").await, 0);
    for case in &cases {
        assert_eq!(us.show(case).await["summary"]["status"], "pending_delivery");
    }
    pair.cn.start().await;

    // Assert: everything is delivered, once, in order.
    let (us, cn) = (&pair.us, &pair.cn);
    for case in &cases {
        us.wait_for_status(case, "sent").await;
        cn.wait_for_status(case, "sent").await;
    }
    assert_eq!(us.outgoing("pending").await, 0);
    assert_eq!(us.outgoing("delivered").await, 5);
    assert_eq!(
        us.log_entries().await,
        10,
        "five envelopes and five receipts on US"
    );
    assert_eq!(
        cn.log_entries().await,
        10,
        "five envelopes and five receipts on CN"
    );
    let on_cn = cn.cases().await;
    assert_eq!(on_cn.len(), 5);
    let mut seqs = Vec::new();
    for case in &cases {
        let shown = cn.show(case).await;
        let messages = shown["messages"].as_array().expect("a list");
        assert_eq!(messages.len(), 1, "{shown}");
        assert_eq!(messages[0]["direction"], "incoming");
        seqs.push(messages[0]["seq"].as_u64().expect("a seq"));
        assert_eq!(shown["case"], us.show(case).await["case"]);
    }
    assert_eq!(seqs, [1, 2, 3, 4, 5], "filing order is delivery order");
    let stored = us
        .node()
        .store()
        .case_messages(&cases[0].parse().expect("id"))
        .await;
    let stored = stored.expect("reading the case");
    assert!(
        stored
            .iter()
            .all(|m| m.direction == Direction::Out && m.receipt.is_some())
    );
    let ids: BTreeSet<_> = stored
        .iter()
        .map(|m| {
            Signed::<Envelope>::parse(&m.envelope, usize::MAX)
                .expect("a stored envelope")
                .payload()
                .id
        })
        .collect();
    assert_eq!(ids.len(), stored.len());
}
