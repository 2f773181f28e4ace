//! Partners' signed requests: the signature binds the method, path, query and body, and each
//! signed request is good once.

use reqwest::{Method, StatusCode};
use serde_json::json;

use detente_store::Collection;

use crate::{
    helpers::{TestNode, error_code, send, spawn_pair},
    taxii::{COMMUNITY, indicator},
};

/// `request` with the headers `signer` made for `method`, `path` and `body`.
fn with_signature(
    mut request: reqwest::RequestBuilder,
    signer: &TestNode,
    method: &str,
    path: &str,
    body: &[u8],
) -> reqwest::RequestBuilder {
    for (name, value) in signer.node().sign_request(method, path, body) {
        request = request.header(name, value);
    }
    request
}

#[tokio::test]
async fn a_signed_request_is_good_once() {
    let pair = spawn_pair().await;
    let path = "/federation/v1/log/checkpoint";
    let headers = pair.cn.node().sign_request("GET", path, b"");
    let request = || {
        let mut r = pair.us.anonymous(Method::GET, path);
        for (name, value) in &headers {
            r = r.header(*name, value);
        }
        r
    };

    // Act
    let (first, _) = send(request()).await;
    let (again, body) = send(request()).await;

    // Assert
    assert_eq!(first, StatusCode::OK);
    assert_eq!(again, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("already used"),
        "{body}"
    );
}

#[tokio::test]
async fn signed_get_headers_replayed_as_a_post_store_nothing() {
    // Regression: a partner's signed GET headers, replayed as a POST within the skew window,
    // stored an object recorded as coming from that partner.
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    us.node()
        .store()
        .put_collection(&Collection {
            id: COMMUNITY.into(),
            title: "writable".into(),
            description: None,
            audience: None,
            can_write: true,
        })
        .await
        .expect("a collection");
    let path = format!("/taxii2/detente/collections/{COMMUNITY}/objects/");
    let envelope = json!({"objects": [indicator(7, None)]}).to_string();
    let taxii = "application/taxii+json;version=2.1";

    // Act: GET's signature on a POST; then a POST signed for another body.
    let as_post = with_signature(us.anonymous(Method::POST, &path), cn, "GET", &path, b"")
        .header("accept", taxii)
        .header("content-type", taxii)
        .body(envelope.clone());
    let (replayed, replayed_body) = send(as_post).await;
    let other_body = with_signature(us.anonymous(Method::POST, &path), cn, "POST", &path, b"{}")
        .header("accept", taxii)
        .header("content-type", taxii)
        .body(envelope);
    let (swapped, swapped_body) = send(other_body).await;

    // Assert
    assert_eq!(replayed, StatusCode::UNAUTHORIZED, "{replayed_body}");
    assert_eq!(error_code(&replayed_body), Some("unauthorized"));
    assert_eq!(swapped, StatusCode::UNAUTHORIZED, "{swapped_body}");
    assert_eq!(
        us.node()
            .store()
            .stix_object_count()
            .await
            .expect("a count"),
        0
    );
}
