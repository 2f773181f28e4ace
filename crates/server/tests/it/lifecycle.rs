//! A case from filing to rating over real HTTP, checked on both nodes and against the
//! signed receipts in their stores.

use detente_protocol::{Envelope, Receipt, Signed};
use serde_json::{Value, json};

use crate::helpers::{request_body, spawn_pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_runs_from_filing_to_rating_and_both_nodes_derive_the_same_closed_case() {
    // Arrange
    let mut pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);

    // Act: every step waits until the previous one is official on both sides.
    let case = us
        .file_request("CN", &request_body("Botnet C2 at 203.0.113.7"))
        .await;
    us.wait_for_status(&case, "sent").await;
    cn.wait_for_status(&case, "sent").await;
    let steps: [(&str, Value, &str); 6] = [
        (
            "CN",
            json!({"type": "acknowledgement", "note": "Duty officer Li has it."}),
            "acknowledged",
        ),
        (
            "CN",
            json!({"type": "clarification_request", "question": "Which ports and dates?"}),
            "clarification_needed",
        ),
        (
            "US",
            json!({"type": "clarification", "text": "TCP 8443, since 1 March."}),
            "acknowledged",
        ),
        (
            "CN",
            json!({"type": "answer", "final": false, "text": "The host is located; owner contacted."}),
            "partially_answered",
        ),
        (
            "CN",
            json!({"type": "answer", "final": true, "text": "The C2 was taken down today."}),
            "answered",
        ),
        (
            "US",
            json!({"type": "rating", "score": 5, "comment": "Fast and thorough."}),
            "closed",
        ),
    ];
    for (actor, body, expected) in &steps {
        let node = if *actor == "US" { us } else { cn };
        node.send_message(&case, body).await;
        us.wait_for_status(&case, expected).await;
        cn.wait_for_status(&case, expected).await;
    }
    let on_us = us.show(&case).await;
    let on_cn = cn.show(&case).await;

    // Assert: the same derived case on both sides.
    assert_eq!(on_us["case"]["status"], "closed");
    assert_eq!(on_us["case"]["rating"], 5);
    assert_eq!(
        on_us["case"], on_cn["case"],
        "the nodes disagree on the case"
    );
    let messages = on_us["messages"].as_array().expect("a message list");
    assert_eq!(messages.len(), 7, "{messages:#?}");
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["body"]["type"].as_str().expect("a type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "request",
            "acknowledgement",
            "clarification_request",
            "clarification",
            "answer",
            "answer",
            "rating"
        ]
    );
    // Each message is receipted by the party it went to, at one time both nodes record.
    for (mine, theirs) in messages
        .iter()
        .zip(on_cn["messages"].as_array().expect("a list"))
    {
        assert_eq!(mine["id"], theirs["id"]);
        assert_eq!(mine["receipt_signed_by"], mine["to"], "{mine}");
        assert_eq!(theirs["receipt_signed_by"], theirs["to"], "{theirs}");
        assert_eq!(
            mine["received_at"], theirs["received_at"],
            "{mine} vs {theirs}"
        );
        let (sender_state, receiver_state) = if mine["from"] == "US" {
            (&mine["state"], &theirs["state"])
        } else {
            (&theirs["state"], &mine["state"])
        };
        assert_eq!(sender_state, "delivered");
        assert_eq!(receiver_state, "received");
    }
    // The official times are the receipt times.
    let at = |i: usize| messages[i]["received_at"].clone();
    let c = &on_us["case"];
    assert_eq!(c["filed_at"], at(0));
    assert_eq!(c["acknowledged_at"], at(1));
    assert_eq!(c["pauses"], json!([{"from": at(2), "until": at(3)}]));
    assert_eq!(c["first_answer_at"], at(4));
    assert_eq!(c["final_answer_at"], at(5));
    assert_eq!(c["closed_at"], at(6));

    // Assert: the stored receipts verify under the receiving party's pinned key and cover
    // exactly the stored envelope.
    pair.us.stop().await;
    pair.cn.stop().await;
    for node in [&pair.us, &pair.cn] {
        let store = detente_store::Store::open(&node.home.join("detente.db"), false)
            .await
            .expect("opening the stopped node's database");
        let rows = store
            .case_messages(&case.parse().expect("a case id"))
            .await
            .expect("reading the case");
        assert_eq!(rows.len(), 7);
        for row in rows {
            let envelope = Signed::<Envelope>::parse(&row.envelope, usize::MAX).expect("envelope");
            let receipt = Signed::<Receipt>::parse(
                row.receipt.as_deref().expect("every message has a receipt"),
                usize::MAX,
            )
            .expect("receipt");
            let issuer = pair
                .agreement
                .party(&envelope.payload().to)
                .expect("the recipient is a party");
            assert_eq!(receipt.payload().issuer, issuer.id);
            assert!(
                issuer.public_keys.iter().any(|k| receipt.verify(k).is_ok()),
                "the receipt of {} does not verify under {}'s key",
                row.id,
                issuer.id
            );
            assert_eq!(receipt.payload().envelope_hash, envelope.payload_hash());
            assert_eq!(Some(receipt.payload().received_at), row.received_at);
        }
        store.close().await;
    }
}
