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

/// A responder that is down delays the official filing time of what it receives, which
/// shortens every time counted against it. Both nodes' reviews report the gap from the
/// requester's signed sealing to the responder's receipt (issue 19, item 20).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_that_was_down_shows_its_delay_in_both_reviews() {
    // Arrange: CN is down while US files.
    let mut pair = spawn_pair().await;
    pair.cn.stop().await;
    let case = pair
        .us
        .file_request("CN", &request_body("Filed while CN was down"))
        .await;
    let down = std::time::Duration::from_millis(1_500);
    tokio::time::sleep(down).await;
    pair.cn.start().await;

    // Act: CN takes the request and acknowledges it at once.
    pair.cn.wait_for_status(&case, "sent").await;
    pair.cn
        .send_message(&case, &serde_json::json!({"type": "acknowledgement"}))
        .await;
    pair.us.wait_for_status(&case, "acknowledged").await;

    // Assert: the request's delay covers the outage, the acknowledgement's does not, and the
    // two nodes say the same.
    let year = detente_server::node::now().datetime().year();
    let mut seen = Vec::new();
    for node in [&pair.us, &pair.cn] {
        let review: serde_json::Value = node
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/review?period={year}&format=json"),
            )
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("JSON");
        let direction = review["directions"]
            .as_array()
            .expect("directions")
            .iter()
            .find(|d| d["requester"] == "US" && d["responder"] == "CN")
            .expect("the US to CN direction")
            .clone();
        seen.push(direction["transit"].clone());
    }
    assert_eq!(seen[0], seen[1], "both logs give the same delivery figures");
    let transit = &seen[0];
    let to_cn = &transit["to_responder"]["delay"];
    assert_eq!(to_cn["count"], 1, "{transit}");
    let request_delay = to_cn["max_ms"].as_i64().expect("a delay");
    assert!(
        request_delay >= down.as_millis() as i64,
        "the request waited while CN was down: {transit}"
    );
    let to_us = &transit["to_requester"]["delay"];
    assert_eq!(to_us["count"], 1, "{transit}");
    assert!(
        to_us["max_ms"].as_i64().expect("a delay") < request_delay,
        "the acknowledgement went straight through: {transit}"
    );
    assert_eq!(transit["to_responder"]["late"], 0, "well under a minute");
}
