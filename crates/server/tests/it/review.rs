//! `GET /api/v1/review`: the review from a node's log over HTTP, in each format.

use detente_protocol::Priority;
use reqwest::{Method, StatusCode};
use serde_json::json;

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
        assert_eq!(v["format"], detente_report::FORMAT);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_paused_after_missing_its_deadline_is_overdue_in_the_list_the_case_and_the_review() {
    // Regression: a case whose responder asked a question after missing the first-answer
    // deadline showed `overdue: false` in the case view and was left out of
    // `request list --overdue`, while the review counted it overdue.
    // Arrange: a critical request (first answer due in 20 s), acknowledged at once, and a
    // question asked only once that deadline has passed.
    let pair = spawn_pair().await;
    let mut body = request_body("paused too late");
    body.priority = Priority::Critical;
    let case = pair.us.file_request("CN", &body).await;
    pair.cn.wait_for_status(&case, "sent").await;
    pair.cn
        .send_message(&case, &json!({"type": "acknowledgement"}))
        .await;
    let path = format!("/api/v1/requests/{case}");
    let started = std::time::Instant::now();
    loop {
        let (_, shown) = pair.cn.get(&path).await;
        if shown["timeliness"]["first_answer"]["overdue"] == true {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "never overdue: {shown}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    pair.cn
        .send_message(
            &case,
            &json!({"type": "clarification_request", "question": "Which host?"}),
        )
        .await;
    pair.us.wait_for_status(&case, "clarification_needed").await;
    let year = detente_server::node::now().datetime().year();

    for node in [&pair.us, &pair.cn] {
        // Act
        let (_, shown) = node.get(&path).await;
        let (_, listed) = node.get("/api/v1/requests?overdue=true").await;
        let (_, review) = node
            .get(&format!("/api/v1/review?period={year}&format=json"))
            .await;
        // Assert
        assert_eq!(shown["summary"]["overdue"], true, "{shown}");
        assert!(shown["summary"]["overdue_from"].is_string(), "{shown}");
        assert_eq!(shown["timeliness"]["first_answer"]["overdue"], true);
        let ids: Vec<&str> = listed["requests"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|r| r["case"].as_str())
            .collect();
        assert_eq!(ids, [case.as_str()], "{listed}");
        assert_eq!(review["overall"]["figures"]["pending"]["overdue"], 1);
        let columns = review["appendix"]["columns"].as_array().expect("columns");
        let at = columns
            .iter()
            .position(|c| c == "overdue_as_of")
            .expect("an overdue_as_of column");
        assert_eq!(review["appendix"]["rows"][0][at], true, "{review}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_measured_before_its_period_or_in_the_future_or_with_a_long_trend_is_refused() {
    let pair = spawn_pair().await;
    let now = detente_server::node::now();
    let year = now.datetime().year();
    let later = now.add(time::Duration::hours(1));
    for (query, says) in [
        (
            format!("period={}&as_of={}", year + 1, now),
            "before the period starts",
        ),
        (format!("period={year}&as_of={later}"), "in the future"),
        (format!("period={}", year + 1), "before the period starts"),
        (format!("period={year}&trend=21"), "at most 20"),
    ] {
        let (status, body) = pair
            .us
            .get(&format!("/api/v1/review?{query}&format=json"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(error_code(&body), Some("invalid_message"));
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{query}: {body}"
        );
    }
    let (status, body) = pair
        .us
        .get(&format!(
            "/api/v1/review?period={year}&as_of={now}&trend=20&format=json"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["as_of"], now.to_string());
    assert_eq!(body["trend"].as_array().map(Vec::len), Some(21));
}
