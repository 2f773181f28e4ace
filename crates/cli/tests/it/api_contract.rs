//! The node's JSON API read through the types of `detente-api`, as the CLI reads it: every
//! answer parses into the contract, at the new `/api/v1/cases` paths and the older aliases.

use detente_api::{CaseDetail, CaseList, Direction, ErrorBody, ErrorCode, StatusView};
use detente_protocol::Tlp;
use serde_json::Value;

use crate::harness::{pair, request_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_status_filter_is_refused_naming_the_valid_states() {
    // Regression: `request list --status answerd` returned an empty list with success.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    us.start().await;

    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/cases?status=answerd", us.url()))
        .bearer_auth(&us.token)
        .send()
        .await
        .unwrap();

    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::BadRequest);
    assert!(
        body.error.message.contains("\"answered\"")
            && body.error.message.contains("\"pending_delivery\""),
        "{}",
        body.error.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_read_as_the_typed_contract_at_the_new_paths_and_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    us.start().await;

    // Act: file at the new path, read at both.
    let filed = us.post("/api/v1/cases", &request_body("CN", "typed")).await;
    assert_eq!(filed.status(), 201);
    let sent: detente_api::Sent = filed.json().await.unwrap();
    let list: CaseList = serde_json::from_value(us.get("/api/v1/cases").await).unwrap();
    let old: Value = us.get("/api/v1/requests").await;
    let detail: CaseDetail =
        serde_json::from_value(us.get(&format!("/api/v1/cases/{}", sent.case)).await).unwrap();
    let status: StatusView = serde_json::from_value(us.get("/api/v1/status").await).unwrap();

    // Assert: one spelling per value, the same at either path.
    assert_eq!(list.cases.len(), 1);
    let c = &list.cases[0];
    assert_eq!((c.direction, c.tlp), (Direction::Outgoing, Tlp::Amber));
    assert_eq!(old["requests"][0]["tlp"], "amber");
    assert_eq!(old["requests"][0]["direction"], "outgoing");
    assert_eq!(detail.messages[0].direction, Direction::Outgoing);
    assert_eq!(
        status.agreement.fingerprint,
        status.agreement.digest.fingerprint()
    );
}
