//! The TAXII 2.1 server: discovery, collections, paged objects with the date-added headers,
//! POST with status resources, versions and manifest; TLP at every level for a partner's TAXII
//! user, an outsider and a local token; and bad input (auth, media type, malformed and
//! oversized bodies) answered with TAXII error messages that store nothing.

#![allow(clippy::unwrap_used)]

use detente_server::config::{NodeConfig, TaxiiUser};
use detente_stix::{
    AccessRule, Reader, StixObject,
    tlp::{TLP_2_IDS, TLP_GREEN_ID},
};
use detente_store::{Collection, ObjectQuery, ReadAs, ShareContext};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::helpers::{Pair, PairOptions, TestNode, spawn_pair_with};

const TAXII: &str = "application/taxii+json;version=2.1";
/// A collection for the agreement's whole community.
pub const COMMUNITY: &str = "2b3c6a8e-6a4f-4c1f-9a53-0c3f1c1e6a01";
const FOR_CN: &str = "2b3c6a8e-6a4f-4c1f-9a53-0c3f1c1e6a02";

/// TAXII users `cn-analyst` (reads for CN) and `gb-analyst` (GB, outside the agreement),
/// each with the password `pw-<user>`.
pub fn users(_home: &std::path::Path, config: &mut NodeConfig) {
    for (user, party) in [("cn-analyst", "CN"), ("gb-analyst", "GB")] {
        config.indicators.taxii_users.insert(
            user.into(),
            TaxiiUser {
                party: party.parse().unwrap(),
                password_sha256: hex::encode(Sha256::digest(format!("pw-{user}").as_bytes())),
            },
        );
    }
    config.limits.max_body_bytes = 64 * 1024;
}

/// Indicator number `n` (pattern `198.51.100.N`), with `marking` if given.
pub fn indicator(n: u32, marking: Option<&str>) -> Value {
    let mut v = json!({"type":"indicator","spec_version":"2.1",
        "id": format!("indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f"),
        "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"),
        "pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"});
    if let Some(m) = marking {
        v["object_marking_refs"] = json!([m]);
    }
    v
}

/// The US node with two collections and one indicator per TLP level (and one unmarked)
/// in each, shared with CN as the partner organisation.
async fn seeded(node: &TestNode) {
    let store = node.node().store();
    for (id, audience) in [(COMMUNITY, None), (FOR_CN, Some("CN".to_owned()))] {
        store
            .put_collection(&Collection {
                id: id.into(),
                title: format!("indicators {id}"),
                description: None,
                audience,
                can_write: true,
            })
            .await
            .unwrap();
    }
    let marks = TLP_2_IDS
        .map(Some)
        .into_iter()
        .chain([None])
        .collect::<Vec<_>>();
    let objects: Vec<StixObject> = marks
        .iter()
        .enumerate()
        .map(|(n, m)| StixObject::from_value(indicator(n as u32, *m)).unwrap())
        .collect();
    let share = ShareContext {
        origin: "US".into(),
        audience: Some("CN".into()),
        recipients: vec![],
    };
    for c in [COMMUNITY, FOR_CN] {
        store
            .insert_stix(&objects, &share, Some(c), 1)
            .await
            .unwrap();
    }
}

fn as_user(node: &TestNode, user: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
    node.anonymous(method, path)
        .basic_auth(user, Some(format!("pw-{user}")))
        .header("accept", TAXII)
}

async fn patterns(r: reqwest::RequestBuilder) -> Vec<u32> {
    let resp = r.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], TAXII);
    numbers(&resp.json().await.unwrap())
}

/// The indicator numbers (`198.51.100.N`) in an envelope or API page, sorted.
fn numbers(body: &Value) -> Vec<u32> {
    let mut n: Vec<u32> = body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let p = o["pattern"].as_str().unwrap();
            p.trim_start_matches("[ipv4-addr:value = '198.51.100.")
                .trim_end_matches("']")
                .parse()
                .unwrap()
        })
        .collect();
    n.sort();
    n
}

/// Two nodes whose configs hold the TAXII users of `users`.
async fn taxii_pair() -> Pair {
    spawn_pair_with(PairOptions {
        configure: Some(Box::new(users)),
        ..PairOptions::default()
    })
    .await
}

fn objects_path(c: &str) -> String {
    format!("/taxii2/detente/collections/{c}/objects/")
}

#[tokio::test]
async fn tlp_decides_what_each_taxii_reader_gets_at_every_level() {
    let pair = taxii_pair().await;
    let us = &pair.us;
    seeded(us).await;
    let path = objects_path(COMMUNITY);
    // The partner named as audience: CLEAR, GREEN, AMBER, and unmarked (AMBER by default).
    assert_eq!(
        patterns(as_user(us, "cn-analyst", Method::GET, &path)).await,
        [0, 1, 2, 5]
    );
    // A party outside the agreement: CLEAR only.
    assert_eq!(
        patterns(as_user(us, "gb-analyst", Method::GET, &path)).await,
        [0]
    );
    // This node's own token: everything it shared.
    assert_eq!(
        patterns(us.request(Method::GET, &path).header("accept", TAXII)).await,
        [0, 1, 2, 3, 4, 5]
    );
    // A collection for CN is invisible to anyone else.
    let for_cn = objects_path(FOR_CN);
    let r = as_user(us, "gb-analyst", Method::GET, &for_cn)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let list: Value = as_user(
        us,
        "gb-analyst",
        Method::GET,
        "/taxii2/detente/collections/",
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(list["collections"].as_array().unwrap().len(), 1);
    // The store's filter and the rule agree for the same reader.
    let who = ReadAs {
        reader: Reader::Party {
            party: "CN",
            in_community: true,
        },
        rule: AccessRule::default(),
    };
    let q = ObjectQuery {
        collection: Some(COMMUNITY.into()),
        limit: 100,
        ..ObjectQuery::default()
    };
    let direct = us.node().store().stix_objects(&q, &who).await.unwrap();
    assert_eq!(direct.objects.len(), 4);
}

/// `path` on `node`, signed as a read by the partner `signer`.
fn signed(node: &TestNode, signer: &TestNode, path: &str) -> reqwest::RequestBuilder {
    let mut request = node.anonymous(Method::GET, path).header("accept", TAXII);
    for (name, value) in signer.node().sign_request("GET", path, b"") {
        request = request.header(name, value);
    }
    request
}

#[tokio::test]
async fn the_api_and_partner_signed_reads_apply_tlp_at_every_level() {
    let pair = taxii_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    seeded(us).await;
    let api = "/api/v1/indicators?limit=100";
    let (status, local) = us.get(api).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(numbers(&local), [0, 1, 2, 3, 4, 5]);
    let partner: Value = signed(us, cn, api)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(numbers(&partner), [0, 1, 2, 5]);
    // The partner node reading TAXII by signature gets the same as its TAXII user.
    assert_eq!(
        patterns(signed(us, cn, &objects_path(COMMUNITY))).await,
        [0, 1, 2, 5]
    );
    let (status, _) = us.get("/api/v1/indicators?limit=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn discovery_paging_versions_manifest_and_status_work_as_taxii_clients_expect() {
    let pair = taxii_pair().await;
    let us = &pair.us;
    seeded(us).await;
    let get = |path: &str| as_user(us, "cn-analyst", Method::GET, path).send();
    let d: Value = get("/taxii2/").await.unwrap().json().await.unwrap();
    assert_eq!(d["default"], "/taxii2/detente/");
    let root: Value = get("/taxii2/detente/").await.unwrap().json().await.unwrap();
    assert_eq!(root["versions"][0], TAXII);

    // Pages of two follow `next` to the end; the date-added headers are set.
    let mut seen = 0;
    let mut next: Option<String> = None;
    loop {
        let mut path = format!("{}?limit=2", objects_path(COMMUNITY));
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let r = get(&path).await.unwrap();
        assert!(r.headers().contains_key("x-taxii-date-added-first") || seen == 4);
        let body: Value = r.json().await.unwrap();
        seen += body["objects"].as_array().map_or(0, Vec::len);
        match body["next"].as_str() {
            Some(n) if body["more"] == true => next = Some(n.to_owned()),
            _ => break,
        }
    }
    assert_eq!(seen, 4);

    let id = "indicator--00000000-17d4-4cbf-938f-98ee46b3cd3f";
    let one: Value = get(&format!("{}{id}/", objects_path(COMMUNITY)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["objects"][0]["id"], id);
    let versions: Value = get(&format!("{}{id}/versions/", objects_path(COMMUNITY)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions["versions"][0], "2016-04-06T20:03:48.000Z");
    let manifest: Value = get(&format!(
        "/taxii2/detente/collections/{COMMUNITY}/manifest/?match[type]=indicator"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(manifest["objects"].as_array().unwrap().len(), 4);
    // RED is not there, not even as a manifest entry.
    let red = get(&format!(
        "{}indicator--00000004-17d4-4cbf-938f-98ee46b3cd3f/",
        objects_path(COMMUNITY)
    ))
    .await
    .unwrap();
    assert_eq!(red.status(), StatusCode::NOT_FOUND);

    // POST: one valid object, one invalid; a status resource says which.
    let envelope = json!({"objects": [indicator(77, Some(TLP_GREEN_ID)),
        {"type": "indicator", "id": "indicator--x"}]});
    let r = as_user(us, "cn-analyst", Method::POST, &objects_path(COMMUNITY))
        .header("content-type", TAXII)
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let status: Value = r.json().await.unwrap();
    assert_eq!(
        (
            status["success_count"].as_u64(),
            status["failure_count"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let sid = status["id"].as_str().unwrap();
    let again: Value = get(&format!("/taxii2/detente/status/{sid}/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, status);
    // Another reader does not see someone else's status.
    let r = as_user(
        us,
        "gb-analyst",
        Method::GET,
        &format!("/taxii2/detente/status/{sid}/"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_credentials_media_types_and_bodies_get_taxii_errors_and_store_nothing() {
    let pair = taxii_pair().await;
    let us = &pair.us;
    seeded(us).await;
    let before = us.node().store().stix_object_count().await.unwrap();
    let path = objects_path(COMMUNITY);
    let error = |r: reqwest::Response, status: StatusCode| async move {
        assert_eq!(r.status(), status);
        assert_eq!(r.headers()["content-type"], TAXII);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["http_status"], status.as_u16().to_string());
        assert!(body["title"].is_string());
    };
    let wrong = us
        .anonymous(Method::GET, &path)
        .basic_auth("cn-analyst", Some("guess"))
        .send()
        .await
        .unwrap();
    error(wrong, StatusCode::UNAUTHORIZED).await;
    let none = us.anonymous(Method::GET, &path).send().await.unwrap();
    error(none, StatusCode::UNAUTHORIZED).await;
    let xml = us
        .anonymous(Method::GET, &path)
        .basic_auth("cn-analyst", Some("pw-cn-analyst"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    error(xml, StatusCode::NOT_ACCEPTABLE).await;
    let bad_param = as_user(
        us,
        "cn-analyst",
        Method::GET,
        &format!("{path}?added_after=yesterday"),
    )
    .send()
    .await
    .unwrap();
    error(bad_param, StatusCode::BAD_REQUEST).await;

    let post = |body: String| {
        as_user(us, "cn-analyst", Method::POST, &path)
            .header("content-type", TAXII)
            .body(body)
            .send()
    };
    let malformed = format!(r#"{{"objects":[{},{{"type": ]}}"#, indicator(90, None));
    error(post(malformed).await.unwrap(), StatusCode::BAD_REQUEST).await;
    let huge = json!({"objects": [indicator(91, None)], "pad": "x".repeat(100 * 1024)});
    error(
        post(huge.to_string()).await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let plain = as_user(us, "cn-analyst", Method::POST, &path)
        .header("content-type", "text/plain")
        .body(json!({"objects": [indicator(92, None)]}).to_string())
        .send()
        .await
        .unwrap();
    error(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(us.node().store().stix_object_count().await.unwrap(), before);
}
