//! The liaison officers' JSON API: authentication, lifecycle rules and the error envelope.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_code, request_body, send, spawn_pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_requests_without_a_valid_token() {
    // Arrange
    let pair = spawn_pair().await;
    let us = &pair.us;

    // Act
    let missing = send(us.anonymous(Method::GET, "/api/v1/status")).await;
    let wrong = send(
        us.anonymous(Method::GET, "/api/v1/requests")
            .bearer_auth("not-the-token"),
    )
    .await;
    let other_node = send(
        us.anonymous(Method::POST, "/api/v1/requests")
            .bearer_auth(&pair.cn.token)
            .json(&json!({"to": "CN", "request": request_body("Sneaky")})),
    )
    .await;
    let not_bearer = send(
        us.anonymous(Method::GET, "/api/v1/status")
            .header("authorization", format!("Basic {}", us.token)),
    )
    .await;

    // Assert
    for (status, body) in [&missing, &wrong, &other_node, &not_bearer] {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_code(body), Some("unauthorized"), "{body}");
    }
    assert!(
        us.cases().await.is_empty(),
        "an unauthorised filing was stored"
    );
    // Liveness needs no token and says which party answers.
    let (status, health) = send(us.anonymous(Method::GET, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health, json!({"status": "ok", "party": "US"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_steps_out_of_turn_are_refused_with_illegal_transition() {
    // Arrange: a request US filed, officially delivered to CN.
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let case = us
        .file_request("CN", &request_body("Ransomware payment wallet"))
        .await;
    us.wait_for_status(&case, "sent").await;
    cn.wait_for_status(&case, "sent").await;
    let path = format!("/api/v1/requests/{case}/messages");
    let before = us.log_entries().await;

    // Act
    let own_ack = us
        .post(&path, &json!({"type": "acknowledgement", "note": "mine"}))
        .await;
    let early_rating = us.post(&path, &json!({"type": "rating", "score": 4})).await;
    let responder_rating = cn.post(&path, &json!({"type": "rating", "score": 4})).await;
    let second_request = us
        .post(
            &path,
            &json!({"type": "request", "kind": "information", "category": "botnet",
            "priority": "normal", "tlp": "amber", "title": "again", "narrative": "again"}),
        )
        .await;

    // Assert
    for (status, body) in [&own_ack, &early_rating, &responder_rating, &second_request] {
        assert_eq!(*status, StatusCode::CONFLICT, "{body}");
        assert_eq!(error_code(body), Some("illegal_transition"), "{body}");
    }
    assert_eq!(us.log_entries().await, before, "a refused step was logged");
    assert_eq!(us.show(&case).await["summary"]["status"], "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_cases_routes_and_parties_and_bad_bodies_get_the_error_envelope() {
    // Arrange
    let pair = spawn_pair().await;
    let us = &pair.us;

    // Act and assert: an unknown but well-formed case id.
    let (status, body) = us.get("/api/v1/requests/US-2026-9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("unknown_case"), "{body}");
    let (status, body) = us
        .post(
            "/api/v1/requests/US-2026-9999/messages",
            &json!({"type": "withdrawal"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("unknown_case"), "{body}");

    // A malformed case id.
    let (status, body) = us.get("/api/v1/requests/not-a-case").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("not_found"), "{body}");

    // An unknown route, with and without a token.
    let (status, body) = us.get("/api/v2/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("not_found"), "{body}");
    let (status, body) = send(us.anonymous(Method::GET, "/no/such/route")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), Some("not_found"), "{body}");

    // Malformed JSON and repeated keys.
    let (status, body) = send(
        us.request(Method::POST, "/api/v1/requests")
            .header("content-type", "application/json")
            .body("{\"to\": \"CN\", "),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), Some("malformed_json"), "{body}");
    let (status, body) = send(
        us.request(Method::POST, "/api/v1/requests")
            .header("content-type", "application/json")
            .body(r#"{"to": "CN", "to": "GB", "request": {}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), Some("malformed_json"), "{body}");

    // Well-formed JSON that is not a request.
    let (status, body) = us.post("/api/v1/requests", &json!({"to": "CN"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), Some("invalid_message"), "{body}");

    // A party outside the agreement, and ourselves.
    for to in ["GB", "US"] {
        let (status, body) = us
            .post(
                "/api/v1/requests",
                &json!({"to": to, "request": request_body("Nobody")}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), Some("unknown_party"), "{body}");
    }

    // A category outside the terms is refused locally, before it is sent.
    let mut off_terms = request_body("Off terms");
    off_terms.category = "espionage".into();
    let (status, body) = us
        .post(
            "/api/v1/requests",
            &json!({"to": "CN", "request": off_terms}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), Some("outside_terms"), "{body}");

    assert!(
        us.cases().await.is_empty(),
        "a refused filing opened a case"
    );
    assert_eq!(us.log_entries().await, 0, "a refused filing was logged");
}

#[tokio::test]
async fn errors_the_framework_answers_come_in_the_error_envelope() {
    // Regression: query-string errors were plain-text 400s and a 405 had an empty body.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let cases = [
        (
            us.request(Method::GET, "/federation/v1/log/entries?start=zero&end=1"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            us.request(Method::GET, "/api/v1/requests?limit=many"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            us.request(Method::GET, "/api/v1/requests/%FF%FE"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            us.request(Method::DELETE, "/api/v1/requests"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        // Act
        let (got, body) = send(request).await;

        // Assert
        assert_eq!(got, status, "{body}");
        assert_eq!(error_code(&body), Some(code), "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_stix_float_canonical_json_cannot_carry_is_refused_not_a_500() {
    // Regression: a STIX object with a custom float of 1e16 was sealed and logged, then could
    // not be read back by the node itself: HTTP 500.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let id = detente_server::objects::party_identity(&us.party);
    let object = json!({"type": "indicator", "spec_version": "2.1",
        "id": "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21",
        "created": "2026-03-02T08:00:00.000Z", "modified": "2026-03-02T08:00:00.000Z",
        "created_by_ref": id, "pattern": "[ipv4-addr:value = '203.0.113.7']",
        "pattern_type": "stix", "valid_from": "2026-03-02T08:00:00Z", "x_detente_weight": 1e16});
    let mut request = serde_json::to_value(request_body("Float")).expect("JSON");
    request["objects"] = json!([object]);

    // Act
    let (status, body) = us
        .post("/api/v1/requests", &json!({"to": "CN", "request": request}))
        .await;

    // Assert
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), Some("invalid_message"), "{body}");
    assert_eq!(us.log_entries().await, 0);
}

#[tokio::test]
async fn a_refused_filing_uses_up_no_case_number() {
    // Regression: a request refused after its number was drawn (outside the terms) left a gap
    // (US-2026-0001, -0003, ...) that an auditor would have to explain.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let first = us.file_request("CN", &request_body("First")).await;
    let mut off_terms = request_body("Off terms");
    off_terms.category = "espionage".into();
    for _ in 0..3 {
        let (status, body) = us
            .post(
                "/api/v1/requests",
                &json!({"to": "CN", "request": off_terms}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }

    // Act
    let second = us.file_request("CN", &request_body("Second")).await;

    // Assert
    let number = |case: &str| -> u32 {
        case.rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a case id ends in its number")
    };
    assert_eq!(number(&first), 1, "{first}");
    assert_eq!(
        number(&second),
        2,
        "{second}: the refused filings left a gap"
    );
}
