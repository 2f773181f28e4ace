//! The federation endpoint refuses every bad envelope with its exact code, stores nothing
//! for it, and answers a re-delivery with the original receipt.

use detente_protocol::{AcknowledgementBody, Body, Digest, RatingBody, SecretKey, WithdrawalBody};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Forge, PairOptions, TestNode, error_code, request_body, seal, spawn_pair_with,
};

/// The body limit of CN in these tests: small, so an oversized body is cheap to send.
const CN_MAX_BODY: usize = 64 * 1024;

/// Delivers one envelope; returns its single result.
async fn deliver_one(node: &TestNode, envelope: Value) -> Value {
    let (status, body) = node.deliver(vec![envelope]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().expect("a results list");
    assert_eq!(results.len(), 1, "{body}");
    results[0].clone()
}

/// Delivers one envelope that must be refused with `code`, and checks nothing was stored.
async fn assert_refused(node: &TestNode, envelope: Value, code: &str) {
    let before = node.log_entries().await;
    let result = deliver_one(node, envelope).await;
    assert_eq!(error_code(&result), Some(code), "{result}");
    assert!(
        result["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a refusal says why: {result}"
    );
    assert_eq!(
        node.log_entries().await,
        before,
        "a refused envelope was logged"
    );
}

/// Sends a raw body that must be refused as a whole with `status` and `code`.
async fn assert_body_refused(node: &TestNode, body: Vec<u8>, status: StatusCode, code: &str) {
    let before = node.log_entries().await;
    let (got, answer) = node.post_federation(body).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(error_code(&answer), Some(code), "{answer}");
    assert_eq!(
        node.log_entries().await,
        before,
        "a refused body was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_envelope_is_refused_with_its_code_and_nothing_is_stored() {
    // Arrange: CN accepts small bodies only; the test speaks for US with US's real key.
    let pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(|_, config| {
            if config.party.as_str() == "CN" {
                config.limits.max_body_bytes = CN_MAX_BODY;
            }
        })),
        ..PairOptions::default()
    })
    .await;
    let cn = &pair.cn;
    let forge = Forge::new(&pair);
    let us_key = pair.us.secret_key();
    let case = Forge::case("US", 900);
    let request = |seq| {
        forge.envelope(
            "US",
            "CN",
            seq,
            &case,
            Body::Request(request_body("Forged but valid")),
        )
    };

    // A valid request opens the case: seq 1 from US is now taken.
    let opening = seal(request(1), &us_key);
    let receipt = deliver_one(cn, opening.clone()).await;
    assert_eq!(receipt["receipt"]["issuer"], "CN", "{receipt}");
    assert_eq!(receipt["receipt"]["seq"], 1);
    assert_eq!(receipt["receipt"]["envelope_id"], opening["envelope"]["id"]);
    let entries = cn.log_entries().await;
    assert_eq!(entries, 2, "one envelope and its receipt");

    // Act and assert, one refusal at a time.

    // The same bytes again: the byte-identical original receipt, nothing new stored.
    let again = deliver_one(cn, opening.clone()).await;
    assert_eq!(again.to_string(), receipt.to_string());
    assert_eq!(cn.log_entries().await, entries);

    // bad_signature: one byte of the content changed after signing ...
    let mut tampered = seal(request(2), &us_key);
    tampered["envelope"]["body"]["title"] = json!("Forged but valie");
    assert_refused(cn, tampered, "bad_signature").await;
    // ... one character of the signature changed ...
    let mut flipped = seal(request(2), &us_key);
    let sig = flipped["signature"]
        .as_str()
        .expect("a signature")
        .to_owned();
    let first = if sig.starts_with('A') { "B" } else { "A" };
    flipped["signature"] = json!(format!("{first}{}", &sig[1..]));
    assert_refused(cn, flipped, "bad_signature").await;
    // ... or signed by a key the agreement does not pin for US.
    assert_refused(
        cn,
        seal(request(2), &SecretKey::generate()),
        "bad_signature",
    )
    .await;

    // unknown_party: GB is not a party to the agreement.
    let gb_case = Forge::case("GB", 1);
    let from_gb = forge.envelope(
        "GB",
        "CN",
        1,
        &gb_case,
        Body::Request(request_body("From GB")),
    );
    assert_refused(cn, seal(from_gb, &SecretKey::generate()), "unknown_party").await;

    // unknown_agreement: a digest of some other agreement.
    let mut other = request(2);
    other.agreement = Digest::of(b"some other agreement");
    assert_refused(cn, seal(other, &us_key), "unknown_agreement").await;

    // wrong_recipient: an envelope CN itself sent to US, reflected back at CN.
    let reflected = forge.envelope(
        "CN",
        "US",
        1,
        &Forge::case("CN", 900),
        Body::Request(request_body("Reflected")),
    );
    assert_refused(
        cn,
        seal(reflected, &pair.cn.secret_key()),
        "wrong_recipient",
    )
    .await;

    // clock_skew: sent an hour ahead of CN's clock (the agreement allows 5 s).
    let mut ahead = request(2);
    ahead.sent_at = ahead.sent_at.add(time::Duration::hours(1));
    assert_refused(cn, seal(ahead, &us_key), "clock_skew").await;

    // replay_conflict: the opening request's id with different content.
    let mut conflicting = request(2);
    conflicting.id = opening["envelope"]["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a message id");
    assert_refused(cn, seal(conflicting, &us_key), "replay_conflict").await;

    // out_of_order: a new message at seq 1, which the opening request already took.
    let stale = forge.envelope(
        "US",
        "CN",
        1,
        &Forge::case("US", 901),
        Body::Request(request_body("Stale seq")),
    );
    assert_refused(cn, seal(stale, &us_key), "out_of_order").await;

    // unknown_case: a withdrawal for a case CN never heard of.
    let withdrawal = forge.envelope(
        "US",
        "CN",
        2,
        &Forge::case("US", 999),
        Body::Withdrawal(WithdrawalBody {
            reason: "never mind".into(),
        }),
    );
    assert_refused(cn, seal(withdrawal, &us_key), "unknown_case").await;

    // illegal_transition: a rating before any answer ...
    let rating = forge.envelope(
        "US",
        "CN",
        2,
        &case,
        Body::Rating(RatingBody {
            score: 1,
            comment: String::new(),
        }),
    );
    assert_refused(cn, seal(rating, &us_key), "illegal_transition").await;
    // ... the requester acknowledging its own request ...
    let ack = forge.envelope(
        "US",
        "CN",
        2,
        &case,
        Body::Acknowledgement(AcknowledgementBody {
            note: String::new(),
        }),
    );
    assert_refused(cn, seal(ack, &us_key), "illegal_transition").await;
    // ... and a second request for an open case.
    assert_refused(cn, seal(request(2), &us_key), "illegal_transition").await;

    // outside_terms: a category the agreement does not list.
    let mut off_terms = request_body("Off terms");
    off_terms.category = "espionage".into();
    let outside = forge.envelope(
        "US",
        "CN",
        2,
        &Forge::case("US", 902),
        Body::Request(off_terms),
    );
    assert_refused(cn, seal(outside, &us_key), "outside_terms").await;

    // Refusals did not use up seq 2: the next valid message still takes it.
    let withdrawn = forge.envelope(
        "US",
        "CN",
        2,
        &case,
        Body::Withdrawal(WithdrawalBody {
            reason: "solved".into(),
        }),
    );
    let result = deliver_one(cn, seal(withdrawn, &us_key)).await;
    assert_eq!(result["receipt"]["seq"], 2, "{result}");
    cn.wait_for_status(&case.to_string(), "withdrawn").await;

    // Whole-body refusals: malformed JSON, repeated keys, too large, too many envelopes.
    assert_body_refused(
        cn,
        br#"{"envelopes": ["#.to_vec(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    assert_body_refused(
        cn,
        br#"{"envelopes": [], "envelopes": []}"#.to_vec(),
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await;
    let mut oversized = br#"{"envelopes": []"#.to_vec();
    oversized.resize(CN_MAX_BODY + 1, b' ');
    oversized.push(b'}');
    assert_body_refused(
        cn,
        oversized,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let too_many = json!({ "envelopes": vec![json!({}); 257] })
        .to_string()
        .into_bytes();
    assert_body_refused(
        cn,
        too_many,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_above_two_mebibytes_but_within_the_configured_limit_is_read() {
    // Regression: axum's own 2 MiB default body limit applied on top of
    // `limits.max_body_bytes`, so the 8 MiB default was in fact 2 MiB.
    // Arrange
    let pair = spawn_pair_with(PairOptions::default()).await;
    let mut body = br#"{"envelopes": []"#.to_vec();
    body.resize(3 * 1024 * 1024, b' ');
    body.push(b'}');

    // Act
    let (status, answer) = pair.cn.post_federation(body).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"results": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_default_limit_is_refused_in_the_error_envelope() {
    // Arrange
    let pair = spawn_pair_with(PairOptions::default()).await;
    let mut body = br#"{"envelopes": []"#.to_vec();
    body.resize(8 * 1024 * 1024 + 1, b' ');
    body.push(b'}');

    // Act
    let (status, answer) = pair.cn.post_federation(body).await;

    // Assert
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(error_code(&answer), Some("payload_too_large"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_forgeries_is_refused_without_waiting_for_the_writer() {
    // Regression: unauthenticated batches took the node's single writer before any signature
    // was checked, so a few junk batches a second held up the officers' own filings.
    // Arrange: 256 envelopes signed by a key nobody pinned, and CN's writer held by a test.
    let pair = spawn_pair_with(PairOptions::default()).await;
    let forge = Forge::new(&pair);
    let stranger = SecretKey::generate();
    let junk: Vec<Value> = (1..=256)
        .map(|seq| {
            let case = Forge::case("US", u32::try_from(seq).expect("small"));
            seal(
                forge.envelope("US", "CN", seq, &case, Body::Request(request_body("junk"))),
                &stranger,
            )
        })
        .collect();
    let held = pair.cn.node().store().write().await.expect("the writer");

    // Act: deliver while the writer is held.
    let answer =
        tokio::time::timeout(std::time::Duration::from_secs(5), pair.cn.deliver(junk)).await;
    drop(held);

    // Assert: answered at once, each refused for its signature.
    let (status, body) = answer.expect("the forgeries were answered while the writer was busy");
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 256);
    assert!(
        results
            .iter()
            .all(|r| error_code(r) == Some("bad_signature"))
    );
}
