//! The tamper-evident log between two real nodes: each holds the other's signed checkpoints,
//! proves them consistent over HTTP, serves proofs that verify, and catches equivocation.

use detente_ledger::{
    Checkpoint, LeafIndex, SignedCheckpoint, TreeSize, hash_leaf, verify_consistency,
    verify_inclusion,
};
use detente_protocol::{Body, Digest, canonical_bytes};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{
    Forge, PairOptions, TestNode, error_code, eventually, request_body, seal, send, spawn_pair,
    spawn_pair_with,
};

fn digests(v: &Value) -> Vec<Digest> {
    serde_json::from_value(v["proof"].clone()).expect("a proof is a list of digests")
}

async fn proven_size(node: &TestNode) -> u64 {
    node.status().await["partners"][0]["latest_consistent_checkpoint"]["size"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_prove_each_others_logs_and_every_proof_verifies() {
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    for i in 0..3 {
        let case = us
            .file_request("CN", &request_body(&format!("request {i}")))
            .await;
        cn.wait_for_status(&case, "sent").await;
        cn.send_message(
            &case,
            &serde_json::json!({"type": "acknowledgement", "note": ""}),
        )
        .await;
        us.wait_for_status(&case, "acknowledged").await;
    }
    // Each side has proven the other's later checkpoints consistent with its first one.
    eventually("US proves CN's log and CN proves US's", || async {
        proven_size(us).await >= 4 && proven_size(cn).await >= 4
    })
    .await;

    let (status, head) = cn.get("/federation/v1/log/checkpoint").await;
    assert_eq!(status, StatusCode::OK, "{head}");
    let signed = SignedCheckpoint::parse(head["checkpoint"].as_str().expect("a checkpoint"))
        .expect("a signed note");
    let cn_key = pair.agreement.party(&cn.party).expect("CN").public_keys[0];
    let checkpoint = signed
        .verify(&cn_key, "CN")
        .expect("signed by CN's pinned key")
        .clone();
    let size = checkpoint.size().get();
    assert!(
        size >= 12,
        "6 envelopes and 6 receipts at least, got {size}"
    );

    let (_, entries) = cn
        .get(&format!("/federation/v1/log/entries?start=0&end={size}"))
        .await;
    let entries = entries["entries"].as_array().expect("entries");
    assert_eq!(entries.len() as u64, size);
    for (i, e) in entries.iter().enumerate() {
        let leaf = hash_leaf(&canonical_bytes(&e["entry"]));
        let (status, proof) = cn
            .get(&format!(
                "/federation/v1/log/proof/inclusion?index={i}&size={size}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{proof}");
        verify_inclusion(
            &leaf,
            LeafIndex::new(i as u64),
            checkpoint.size(),
            &digests(&proof),
            &checkpoint.root(),
        )
        .unwrap_or_else(|e| panic!("entry {i} is not in CN's log: {e}"));
    }
    // An earlier checkpoint US holds from CN is consistent with the latest one.
    let (_, old) = cn
        .get("/federation/v1/log/proof/consistency?from=3&to=3")
        .await;
    assert_eq!(digests(&old), Vec::<Digest>::new());
    let (status, proof) = cn
        .get(&format!(
            "/federation/v1/log/proof/consistency?from=2&to={size}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let (_, early) = cn.get("/federation/v1/log/entries?start=0&end=2").await;
    let leaves: Vec<Digest> = early["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| hash_leaf(&canonical_bytes(&e["entry"])))
        .collect();
    let root2 = detente_ledger::hash_children(&leaves[0], &leaves[1]);
    verify_consistency(
        TreeSize::new(2),
        checkpoint.size(),
        &digests(&proof),
        &root2,
        &checkpoint.root(),
    )
    .expect("CN's log of size 2 extends to its latest checkpoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_endpoints_refuse_readers_without_a_token_or_a_partner_signature() {
    let pair = spawn_pair().await;
    let (status, body) = send(
        pair.cn
            .anonymous(Method::GET, "/federation/v1/log/checkpoint"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let forged = pair
        .cn
        .anonymous(Method::GET, "/federation/v1/log/checkpoint")
        .header("x-detente-party", "US")
        .header("x-detente-time", detente_server::node::now().to_string())
        .header("x-detente-signature", "A".repeat(88));
    let (status, body) = send(forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = pair
        .cn
        .get("/federation/v1/log/proof/inclusion?index=0&size=5")
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a proof beyond the log is refused: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equivocating_partner_is_caught_and_both_signed_checkpoints_are_kept() {
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let forge = Forge::new(&pair);
    let us_key = us.secret_key();
    let origin = format!("detente/{}/US", pair.agreement.id);
    let root = |b: u8| Digest::from_bytes([b; 32]);
    let note = |r: Digest| {
        let c = Checkpoint::new(&origin, TreeSize::new(7), r).expect("a checkpoint");
        SignedCheckpoint::sign(c, &us_key, "US")
            .expect("signed")
            .to_text()
    };
    // Two envelopes, both validly signed by US, carrying two different roots for size 7.
    for (seq, number, r) in [(1, 1, root(1)), (2, 2, root(2))] {
        let mut envelope = forge.envelope(
            "US",
            "CN",
            seq,
            &Forge::case("US", number),
            Body::Request(request_body("x")),
        );
        envelope.checkpoint = Some(note(r));
        let (status, body) = cn.deliver(vec![seal(envelope, &us_key)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["results"][0]["receipt"].is_object(), "{body}");
    }
    let status = cn.status().await;
    let alerts = status["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{status}");
    assert_eq!(alerts[0]["kind"], "equivocation");
    assert_eq!(alerts[0]["party"], "US");
    let evidence = alerts[0]["evidence"].as_str().expect("evidence");
    assert!(
        evidence.contains(&note(root(1))) && evidence.contains(&note(root(2))),
        "{evidence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carried_checkpoint_not_signed_by_the_sender_is_refused() {
    let pair = spawn_pair().await;
    let forge = Forge::new(&pair);
    let origin = format!("detente/{}/US", pair.agreement.id);
    let c = Checkpoint::new(&origin, TreeSize::new(1), Digest::from_bytes([9; 32]))
        .expect("a checkpoint");
    // Signed by CN's key, under US's name.
    let note = SignedCheckpoint::sign(c, &pair.cn.secret_key(), "US")
        .expect("signed")
        .to_text();
    let mut envelope = forge.envelope(
        "US",
        "CN",
        1,
        &Forge::case("US", 1),
        Body::Request(request_body("x")),
    );
    envelope.checkpoint = Some(note);
    let (_, body) = pair
        .cn
        .deliver(vec![seal(envelope, &pair.us.secret_key())])
        .await;
    assert_eq!(
        error_code(&body["results"][0]),
        Some("invalid_message"),
        "{body}"
    );
    assert_eq!(pair.cn.log_entries().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_reads_only_its_own_exchanges_and_proofs_still_verify() {
    // Regression: in an agreement of three, any partner's signed read of the entries got
    // every entry, including a TLP:RED request sent only to another partner.
    // Arrange: US files one request to CN and one (TLP:RED) to GB, whose node is down.
    let pair = spawn_pair_with(PairOptions {
        third_party: Some("GB"),
        ..PairOptions::default()
    })
    .await;
    let (us, cn) = (&pair.us, &pair.cn);
    let to_cn = us.file_request("CN", &request_body("For CN")).await;
    cn.wait_for_status(&to_cn, "sent").await;
    let mut secret = request_body("Only for GB: the informant's name");
    secret.tlp = detente_protocol::Tlp::Red;
    us.file_request("GB", &secret).await;
    let size = us.log_entries().await;
    let path = format!("/federation/v1/log/entries?start=0&end={size}");

    // Act: CN reads US's whole log, as a partner.
    let mut request = us.anonymous(Method::GET, &path);
    for (name, value) in cn.node().sign_request("GET", &path, b"") {
        request = request.header(name, value);
    }
    let (status, body) = send(request).await;

    // Assert: CN's own exchange in full, the GB request as a leaf hash only.
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("informant"),
        "a foreign request leaked: {text}"
    );
    let entries = body["entries"].as_array().expect("entries");
    assert_eq!(entries.len() as u64, size);
    let withheld: Vec<&Value> = entries.iter().filter(|e| e["withheld"] == true).collect();
    assert_eq!(withheld.len(), 1, "{text}");
    assert!(
        entries
            .iter()
            .filter(|e| e["withheld"] != true)
            .all(|e| e["entry"].to_string().contains("For CN")
                || e["entry"]["receipt"].is_object()),
        "{text}"
    );
    // A leaf hash is what a proof needs: it verifies against US's checkpoint.
    let index = withheld[0]["index"].as_u64().expect("an index");
    let leaf: Digest = serde_json::from_value(withheld[0]["leaf_hash"].clone()).expect("a hash");
    let (_, head) = us.get("/federation/v1/log/checkpoint").await;
    let root: Digest = serde_json::from_value(head["root"].clone()).expect("a root");
    let (_, proof) = us
        .get(&format!(
            "/federation/v1/log/proof/inclusion?index={index}&size={size}"
        ))
        .await;
    verify_inclusion(
        &leaf,
        LeafIndex::new(index),
        TreeSize::new(size),
        &digests(&proof),
        &root,
    )
    .expect("the withheld entry's leaf hash is proven in US's log");
}

#[tokio::test]
async fn entries_are_served_as_the_exact_bytes_logged() {
    // Regression: entries were parsed and re-serialised, so a float like 1e21 came back as
    // `1e21` where the signed, canonical bytes say `1e+21`.
    let pair = spawn_pair().await;
    let us_identity = detente_server::objects::party_identity(&pair.us.party);
    let serde_json::Value::Object(object) = serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21",
        "created": "2026-03-02T08:00:00.000Z", "modified": "2026-03-02T08:00:00.000Z",
        "created_by_ref": us_identity,
        "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
        "valid_from": "2026-03-02T08:00:00Z", "x_detente_weight": 1e21
    }) else {
        unreachable!("an object literal")
    };
    let mut request = request_body("Bytes");
    request.objects = vec![object];
    let case = pair.us.file_request("CN", &request).await;
    pair.cn.wait_for_status(&case, "sent").await;

    // Act: the raw answer, not re-parsed.
    let text = pair
        .us
        .request(Method::GET, "/federation/v1/log/entries?start=0&end=1")
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("a body");

    // Assert: the logged bytes appear verbatim.
    let rows = pair.us.node().store().entries(0, 1).await.expect("entry 0");
    let logged = String::from_utf8(rows[0].3.clone()).expect("JSON");
    assert!(logged.contains("1e+21"), "{logged}");
    assert!(text.contains(&logged), "served {text}\nlogged {logged}");
}

#[tokio::test]
async fn an_entry_range_beyond_the_log_is_a_coded_error() {
    // Regression: start=9223372036854775808 gave 500 and "stored data is corrupt".
    let pair = spawn_pair().await;
    let (status, body) = pair
        .us
        .get("/federation/v1/log/entries?start=9223372036854775808&end=9223372036854775808")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("not_found"));
}
