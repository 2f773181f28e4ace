//! `GET /api/v1/review`: the review from a node's log over HTTP, in each format.

use reqwest::{Method, StatusCode};

use crate::helpers::{error_code, request_body, send, spawn_pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_serve_the_review_with_the_same_counts() {
    let pair = spawn_pair().await;
    for i in 0..2 {
        let case = pair
            .us
            .file_request("CN", &request_body(&format!("r{i}")))
            .await;
        pair.cn.wait_for_status(&case, "sent").await;
        pair.cn
            .send_message(&case, &serde_json::json!({"type": "acknowledgement"}))
            .await;
        pair.us.wait_for_status(&case, "acknowledged").await;
    }
    let year = detente_server::node::now().datetime().year();
    let path = format!("/api/v1/review?period={year}&format=json");
    let mut counts = Vec::new();
    for node in [&pair.us, &pair.cn] {
        let r = node
            .request(Method::GET, &path)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/json");
        let v: serde_json::Value = r.json().await.expect("JSON");
        assert_eq!(v["format"], "detente-review/1");
        counts.push((
            v["overall"]["figures"]["filed"].clone(),
            v["overall"]["figures"]["acknowledged"].clone(),
        ));
    }
    assert_eq!(counts[0], counts[1], "both logs give the same counts");
    assert_eq!(counts[0].0, 2);

    let r = pair
        .us
        .request(Method::GET, &format!("/api/v1/review?period={year}"))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    assert!(r.text().await.expect("page").matches("<svg").count() >= 6);
    let r = pair
        .us
        .request(
            Method::GET,
            &format!("/api/v1/review?period={year}&format=csv&table=trend"),
        )
        .send()
        .await
        .expect("answer");
    assert!(r.text().await.expect("csv").lines().count() > 1);

    let (status, body) = send(
        pair.us
            .request(Method::GET, "/api/v1/review?period=2026-H3"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), Some("invalid_message"));
    let (status, _) = send(pair.us.anonymous(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
