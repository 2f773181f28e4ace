//! Wire version 2 between two real nodes: under an agreement that says `protocol = 2` each
//! node logs the signed header only and keeps the body beside its log; a body that is not the
//! one the header commits to, or a header whose facts lie, is refused and nothing is stored.

use detente_protocol::{Body, EnvelopeHeader, Facts, Priority, Signable, SignedEnvelope};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Forge, Pair, PairOptions, error_code, request_body, seal, seal_v2, spawn_pair_with,
};

async fn v2_pair() -> Pair {
    spawn_pair_with(PairOptions {
        protocol: Some(2),
        ..PairOptions::default()
    })
    .await
}

const TITLE: &str = "Botnet C2 at 203.0.113.7";
const SECRETS: [&str; 4] = [
    "Botnet C2",
    "hospitals",
    "203.0.113.7",
    "Duty officer Li has it",
];

/// Every log entry of `node`, as logged.
async fn log_bytes(node: &crate::helpers::TestNode) -> Vec<u8> {
    let store = node.node().store();
    let (size, _) = store.tree_head().await;
    let mut out = Vec::new();
    for (_, _, _, bytes) in store.entries(0, size.get()).await.expect("entries") {
        out.extend_from_slice(&bytes);
        out.push(b'\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_protocol_2_agreement_a_case_runs_to_rating_and_the_logs_hold_no_content() {
    // Arrange
    let mut pair = v2_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);

    // Act
    let case = us.file_request("CN", &request_body(TITLE)).await;
    cn.wait_for_status(&case, "sent").await;
    for (node, body, status) in [
        (
            cn,
            json!({"type": "acknowledgement", "note": "Duty officer Li has it."}),
            "acknowledged",
        ),
        (
            cn,
            json!({"type": "answer", "final": true, "text": "Taken down."}),
            "answered",
        ),
        (
            us,
            json!({"type": "rating", "score": 4, "comment": "Good."}),
            "closed",
        ),
    ] {
        node.send_message(&case, &body).await;
        us.wait_for_status(&case, status).await;
        cn.wait_for_status(&case, status).await;
    }
    let on_us = us.show(&case).await;
    let on_cn = cn.show(&case).await;

    // Assert: the same case on both sides, the bodies readable on each node...
    assert_eq!(on_us["case"], on_cn["case"]);
    assert_eq!(on_us["case"]["rating"], 4);
    assert_eq!(on_cn["summary"]["title"], TITLE);
    assert_eq!(on_cn["messages"][0]["body"]["title"], TITLE);
    assert_eq!(
        on_us["messages"][1]["body"]["note"],
        "Duty officer Li has it."
    );
    // ... and no content in either log: every envelope entry is a version 2 header.
    for node in [us, cn] {
        let log = String::from_utf8(log_bytes(node).await).expect("UTF-8");
        for secret in SECRETS {
            assert!(
                !log.contains(secret),
                "{} logged {secret:?}: {log}",
                node.party
            );
        }
        assert_eq!(log.matches("\"body_digest\"").count(), 4, "{log}");
    }
    pair.us.stop().await;
    pair.cn.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_body_one_byte_off_is_refused_and_nothing_is_stored() {
    // Arrange
    let pair = v2_pair().await;
    let forge = Forge::new(&pair);
    let case = Forge::case("US", 900);
    let envelope = forge.envelope(
        "US",
        "CN",
        1,
        &case,
        Body::Request(request_body("One byte")),
    );
    let (mut wire, _) = seal_v2(envelope, &pair.us.secret_key());
    let narrative = wire["body"]["body"]["narrative"]
        .as_str()
        .expect("a narrative")
        .replacen("who", "Who", 1);
    wire["body"]["body"]["narrative"] = json!(narrative);
    let before = pair.cn.log_entries().await;

    // Act
    let (status, answer) = pair.cn.deliver(vec![wire]).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        error_code(&answer["results"][0]),
        Some("body_mismatch"),
        "{answer}"
    );
    assert_eq!(pair.cn.log_entries().await, before, "nothing is logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_header_whose_facts_are_not_its_bodys_is_refused() {
    // Arrange: the body says "normal" priority, the signed header "critical" (tighter
    // deadlines for the partner), the digest is the body's.
    let pair = v2_pair().await;
    let forge = Forge::new(&pair);
    let envelope = forge.envelope(
        "US",
        "CN",
        1,
        &Forge::case("US", 901),
        Body::Request(request_body("Lying facts")),
    );
    let (wire, body) = seal_v2(envelope, &pair.us.secret_key());
    let signed = SignedEnvelope::from_value(json!({
        "envelope": wire["envelope"], "signature": wire["signature"]
    }))
    .expect("a header");
    let SignedEnvelope::V2(signed) = signed else {
        panic!("version 2 was sealed")
    };
    let mut header: EnvelopeHeader = signed.payload().clone();
    let Facts::Request { priority, .. } = &mut header.facts else {
        panic!("a request")
    };
    *priority = Priority::Critical;
    let lying = detente_protocol::Signed::seal(header, &pair.us.secret_key()).expect("valid");
    let mut wire: Value = lying.to_value();
    wire["body"] = body.to_value();

    // Act
    let (_, answer) = pair.cn.deliver(vec![wire]).await;

    // Assert
    assert_eq!(
        error_code(&answer["results"][0]),
        Some("body_mismatch"),
        "{answer}"
    );
    assert_eq!(pair.cn.log_entries().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_2_header_without_its_body_and_a_version_1_envelope_are_refused_under_protocol_2()
{
    // Arrange
    let pair = v2_pair().await;
    let forge = Forge::new(&pair);
    let key = pair.us.secret_key();
    let request = |n| {
        forge.envelope(
            "US",
            "CN",
            1,
            &Forge::case("US", n),
            Body::Request(request_body("Missing")),
        )
    };
    let (mut headless, _) = seal_v2(request(902), &key);
    headless.as_object_mut().expect("an object").remove("body");
    let v1 = seal(request(903), &key);

    // Act
    let (_, answer) = pair.cn.deliver(vec![headless, v1]).await;

    // Assert
    assert_eq!(error_code(&answer["results"][0]), Some("body_mismatch"));
    assert_eq!(error_code(&answer["results"][1]), Some("invalid_message"));
    assert_eq!(pair.cn.log_entries().await, 0);
    assert_eq!(<EnvelopeHeader as Signable>::FIELD, "envelope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_protocol_2_rebuilding_the_tables_keeps_titles_and_a_queued_body_is_still_delivered()
{
    // Arrange: one case delivered, one request queued while CN is down.
    let mut pair = v2_pair().await;
    let delivered = pair.us.file_request("CN", &request_body(TITLE)).await;
    pair.cn.wait_for_status(&delivered, "sent").await;
    pair.cn.stop().await;
    let pending = pair.us.file_request("CN", &request_body("Queued")).await;
    let node = pair.us.node().clone();
    let before = crate::rebuild::snapshot(&node).await;

    // Act: the projections go and come back from the log; the bodies table is not one.
    node.rebuild().await.expect("rebuild");
    let after = crate::rebuild::snapshot(&node).await;
    pair.cn.start().await;
    let on_cn = pair.cn.wait_for_status(&pending, "sent").await;

    // Assert
    assert_eq!(after, before);
    assert_eq!(pair.us.show(&delivered).await["summary"]["title"], TITLE);
    assert_eq!(on_cn["messages"][0]["body"]["title"], "Queued");
}
