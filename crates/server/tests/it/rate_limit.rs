//! Per-address rate limiting: a burst over the configured allowance gets 429 in the node's
//! error envelope, with the time to wait.

use reqwest::{Method, StatusCode};

use crate::helpers::{PairOptions, error_code, send, spawn_pair_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_the_allowance_is_refused_with_rate_limited() {
    // Arrange: US allows 1 request per second with a burst of 2.
    let pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(|_, config| {
            if config.party.as_str() == "US" {
                config.limits.requests_per_second = 1;
                config.limits.burst = 2;
            }
        })),
        ..PairOptions::default()
    })
    .await;
    let us = &pair.us;

    // Act: six liveness checks in quick succession.
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    for _ in 0..6 {
        let response = us
            .anonymous(Method::GET, "/healthz")
            .send()
            .await
            .expect("the node answers");
        let retry_after = response.headers().get("retry-after").cloned();
        let content_type = response.headers().get("content-type").cloned();
        let status = response.status();
        let body = response.text().await.expect("a body");
        answers.push((status, retry_after, content_type, body));
    }
    let elapsed = started.elapsed();

    // Assert: the burst passes; beyond it at most one more per elapsed second.
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.0).collect();
    assert_eq!(
        statuses[..2],
        [StatusCode::OK, StatusCode::OK],
        "{answers:?}"
    );
    let passed = statuses.iter().filter(|s| **s == StatusCode::OK).count() as u64;
    assert!(
        passed <= 3 + elapsed.as_secs(),
        "{answers:?} in {elapsed:?}"
    );
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.0 == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(!refused.is_empty(), "{answers:?}");
    // Regression: the refusal was the governor's plain text "Too Many Requests! Wait for
    // 0s" with `retry-after: 0`, not the documented `rate_limited` error envelope.
    for (_, retry_after, content_type, body) in refused {
        let body: serde_json::Value = serde_json::from_str(body).expect("a JSON error envelope");
        assert_eq!(error_code(&body), Some("rate_limited"), "{body}");
        let retry_after: u64 = retry_after
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("a retry-after header in seconds");
        assert!(retry_after >= 1, "retry-after {retry_after}");
        assert_eq!(
            content_type.as_ref().and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }
    // The limit is per node: CN, with default limits, still answers.
    let (status, _) = send(pair.cn.anonymous(Method::GET, "/healthz")).await;
    assert_eq!(status, StatusCode::OK);
}
