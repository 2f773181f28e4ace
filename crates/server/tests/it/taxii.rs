//! The TAXII 2.1 server: discovery, collections, paged objects with the date-added headers,
//! POST with status resources, versions and manifest; TLP at every level for a partner's TAXII
//! user, an outsider and a local token, with markings under other ids and in a three-party
//! agreement; opaque cursors; and bad input (auth, media type and version, unknown filters,
//! malformed and oversized bodies, DELETE) answered with TAXII error messages that store
//! nothing.

#![allow(clippy::unwrap_used)]

use detente_domain::Party;
use detente_protocol::SecretKey;
use detente_server::config::{NodeConfig, TaxiiUser};
use detente_stix::{
    AccessRule, Reader, StixObject,
    tlp::{TLP_2_EXTENSION_ID, TLP_2_IDS, TLP_GREEN_ID},
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

/// TAXII users `cn-analyst` (reads for CN), `gb-analyst` (GB, outside the agreement unless
/// a test adds it) and `us-analyst` (the node's own party, which no TAXII user may read as),
/// each with the password `pw-<user>`.
pub fn users(_home: &std::path::Path, config: &mut NodeConfig) {
    for (user, party) in [
        ("cn-analyst", "CN"),
        ("gb-analyst", "GB"),
        ("us-analyst", "US"),
    ] {
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

/// The indicator numbers (`198.51.100.N`) in an envelope or API page, sorted; other objects
/// (marking definitions) are left out.
fn numbers(body: &Value) -> Vec<u32> {
    let mut n: Vec<u32> = body["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| {
            let p = o["pattern"].as_str()?;
            let n = p
                .trim_start_matches("[ipv4-addr:value = '198.51.100.")
                .trim_end_matches("']");
            Some(n.parse().unwrap())
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

/// POSTs `envelope` to the community collection as `cn-analyst`; the status resource.
async fn post_status(node: &TestNode, envelope: &Value) -> Value {
    let r = as_user(node, "cn-analyst", Method::POST, &objects_path(COMMUNITY))
        .header("content-type", TAXII)
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

/// Asserts that `r` is a TAXII error message (§3.6.1) with `status`.
async fn taxii_error(r: reqwest::Response, status: StatusCode) {
    assert_eq!(r.status(), status);
    assert_eq!(r.headers()["content-type"], TAXII);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["http_status"], status.as_u16().to_string(), "{body}");
    assert!(body["title"].is_string());
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
    let status = post_status(us, &envelope).await;
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
    let wrong = us
        .anonymous(Method::GET, &path)
        .basic_auth("cn-analyst", Some("guess"))
        .send()
        .await
        .unwrap();
    taxii_error(wrong, StatusCode::UNAUTHORIZED).await;
    let none = us.anonymous(Method::GET, &path).send().await.unwrap();
    taxii_error(none, StatusCode::UNAUTHORIZED).await;
    let xml = us
        .anonymous(Method::GET, &path)
        .basic_auth("cn-analyst", Some("pw-cn-analyst"))
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    taxii_error(xml, StatusCode::NOT_ACCEPTABLE).await;
    let bad_param = as_user(
        us,
        "cn-analyst",
        Method::GET,
        &format!("{path}?added_after=yesterday"),
    )
    .send()
    .await
    .unwrap();
    taxii_error(bad_param, StatusCode::BAD_REQUEST).await;

    let post = |body: String| {
        as_user(us, "cn-analyst", Method::POST, &path)
            .header("content-type", TAXII)
            .body(body)
            .send()
    };
    let malformed = format!(r#"{{"objects":[{},{{"type": ]}}"#, indicator(90, None));
    taxii_error(post(malformed).await.unwrap(), StatusCode::BAD_REQUEST).await;
    let huge = json!({"objects": [indicator(91, None)], "pad": "x".repeat(100 * 1024)});
    taxii_error(
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
    taxii_error(plain, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(us.node().store().stix_object_count().await.unwrap(), before);
}

/// Makes the US node's agreement a three-party one (GB joins, with a key no node holds) and
/// restarts it. The CN node keeps the two-party agreement: these tests do not federate.
async fn with_gb_in_the_agreement(pair: &mut Pair) {
    let mut agreement = pair.agreement.clone();
    agreement.parties.push(Party {
        id: "GB".parse().unwrap(),
        name: "NCSC".into(),
        node_url: "http://127.0.0.1:9".into(),
        public_keys: vec![SecretKey::generate().public_key()],
    });
    agreement.validate().unwrap();
    let us = &mut pair.us;
    us.stop().await;
    let file = NodeConfig::load(&us.home).unwrap().agreement;
    std::fs::write(us.home.join(file), agreement.to_toml()).unwrap();
    us.start().await;
}

/// A TLP 2.0 extension definition of `level` under `id` (not a published TLP id).
fn definition(id: &str, level: &str) -> Value {
    json!({"type": "marking-definition", "spec_version": "2.1", "id": id,
        "created": "2022-10-01T00:00:00.000Z",
        "name": format!("TLP:{}", level.to_ascii_uppercase()),
        "extensions": {TLP_2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}}})
}

/// Stores `objects` in the community collection as shared by `share`.
async fn store_in_community(node: &TestNode, objects: &[Value], share: &ShareContext) {
    let objects: Vec<StixObject> = objects
        .iter()
        .map(|o| StixObject::from_value(o.clone()).unwrap())
        .collect();
    node.node()
        .store()
        .insert_stix(&objects, share, Some(COMMUNITY), 1)
        .await
        .unwrap();
}

/// The community collection for the agreement, empty.
async fn community(node: &TestNode) {
    node.node()
        .store()
        .put_collection(&Collection {
            id: COMMUNITY.into(),
            title: "community".into(),
            description: None,
            audience: None,
            can_write: true,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn markings_under_other_ids_are_enforced_like_the_published_ones_on_every_read_path() {
    // Regression: a marking-definition under its own id was not read, so an object marked
    // RED or AMBER+STRICT that way counted as unmarked (AMBER) and reached the partner.
    let pair = taxii_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    community(us).await;
    let ids: Vec<String> = (0..5)
        .map(|n| format!("marking-definition--7e1c2a44-0b5d-4c1e-8f00-0000000000{n:02}"))
        .collect();
    let levels = ["clear", "green", "amber", "amber+strict", "red"];
    let mut objects: Vec<Value> = (0..5)
        .map(|n| indicator(n, Some(&ids[n as usize])))
        .collect();
    // OpenCTI's AMBER+STRICT id with no definition, and a marking nobody defines.
    objects.push(indicator(
        5,
        Some("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"),
    ));
    objects.push(indicator(
        6,
        Some("marking-definition--7e1c2a44-0b5d-4c1e-8f00-000000000099"),
    ));
    objects.extend(ids.iter().zip(levels).map(|(id, l)| definition(id, l)));
    let share = ShareContext {
        origin: "US".into(),
        audience: Some("CN".into()),
        recipients: vec![],
    };
    store_in_community(us, &objects, &share).await;
    let path = objects_path(COMMUNITY);
    // The partner named as audience, by TAXII user and by signed read, TAXII and API alike.
    assert_eq!(
        patterns(as_user(us, "cn-analyst", Method::GET, &path)).await,
        [0, 1, 2]
    );
    assert_eq!(patterns(signed(us, cn, &path)).await, [0, 1, 2]);
    let api: Value = signed(us, cn, "/api/v1/indicators?type=indicator&limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(numbers(&api), [0, 1, 2]);
    // A party outside the agreement: CLEAR only. This node's own users: everything.
    assert_eq!(
        patterns(as_user(us, "gb-analyst", Method::GET, &path)).await,
        [0]
    );
    let (_, local) = us.get("/api/v1/indicators?type=indicator&limit=100").await;
    assert_eq!(numbers(&local), [0, 1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn in_a_three_party_agreement_a_partner_reads_nothing_shared_with_the_other() {
    let mut pair = taxii_pair().await;
    with_gb_in_the_agreement(&mut pair).await;
    let us = &pair.us;
    community(us).await;
    let marks = TLP_2_IDS
        .map(Some)
        .into_iter()
        .chain([None])
        .collect::<Vec<_>>();
    // 0-5 shared with CN, 10-15 shared with GB, 20-25 received from GB: each at every level
    // and unmarked.
    for (base, share) in [
        (
            0,
            ShareContext {
                origin: "US".into(),
                audience: Some("CN".into()),
                recipients: vec![],
            },
        ),
        (
            10,
            ShareContext {
                origin: "US".into(),
                audience: Some("GB".into()),
                recipients: vec![],
            },
        ),
        (
            20,
            ShareContext {
                origin: "GB".into(),
                audience: None,
                recipients: vec!["US".into()],
            },
        ),
    ] {
        let objects: Vec<Value> = marks
            .iter()
            .enumerate()
            .map(|(n, m)| indicator(base + n as u32, *m))
            .collect();
        store_in_community(us, &objects, &share).await;
    }
    let path = objects_path(COMMUNITY);
    // Each partner: its own audience up to AMBER (and unmarked, AMBER by default); the
    // other's material only where the agreement's whole community may read it (CLEAR,
    // GREEN). What GB sent this node reaches CN only as CLEAR or GREEN; GB, its source,
    // reads it back whole.
    assert_eq!(
        patterns(as_user(us, "cn-analyst", Method::GET, &path)).await,
        [0, 1, 2, 5, 10, 11, 20, 21]
    );
    assert_eq!(
        patterns(as_user(us, "gb-analyst", Method::GET, &path)).await,
        [0, 1, 10, 11, 12, 15, 20, 21, 22, 23, 24, 25]
    );
}

#[tokio::test]
async fn next_is_opaque_and_says_nothing_of_objects_the_reader_is_not_shown() {
    // Regression: `next` was the store's position, so two pages' cursors told a reader how
    // many objects it was not shown lay between them; and a page ending before hidden
    // objects said `more: true` and led to an empty page.
    let pair = taxii_pair().await;
    let us = &pair.us;
    community(us).await;
    let red = TLP_2_IDS[4];
    let share = ShareContext {
        origin: "US".into(),
        audience: Some("CN".into()),
        recipients: vec![],
    };
    // Two visible, 40 RED, two visible, 40 RED.
    let mut objects = Vec::new();
    for block in 0..2u32 {
        objects.extend((0..2).map(|n| indicator(100 * block + n, Some(TLP_GREEN_ID))));
        objects.extend((10..50).map(|n| indicator(100 * block + n, Some(red))));
    }
    store_in_community(us, &objects, &share).await;
    let get = |query: String| {
        let path = format!("{}?{query}", objects_path(COMMUNITY));
        async move {
            let r = as_user(us, "cn-analyst", Method::GET, &path)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (_, first) = get("limit=2".into()).await;
    assert_eq!(numbers(&first), [0, 1]);
    assert_eq!(first["more"], true);
    let next = first["next"].as_str().unwrap().to_owned();
    assert!(next.parse::<i64>().is_err(), "next is a position: {next}");
    // The same page twice: two different cursors, both good.
    let (_, again) = get("limit=2".into()).await;
    assert_ne!(again["next"], first["next"]);
    let (_, second) = get(format!("limit=2&next={next}")).await;
    assert_eq!(numbers(&second), [100, 101]);
    // Only hidden objects follow: the walk ends here, not with an empty page.
    assert_eq!(second["more"], false, "{second}");
    assert!(second.get("next").is_none());
    // A cursor is for its reader only, and an edited one is refused.
    let stolen = as_user(
        us,
        "gb-analyst",
        Method::GET,
        &format!("{}?next={next}", objects_path(COMMUNITY)),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let (status, body) = get("limit=2&next=42".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["http_status"], "400");
}

#[tokio::test]
async fn taxii_details_clients_check_are_as_the_specification_writes_them() {
    let pair = taxii_pair().await;
    let us = &pair.us;
    community(us).await;
    // A collection without a description leaves the property out (§5.2), never null.
    let c: Value = as_user(
        us,
        "cn-analyst",
        Method::GET,
        &format!("/taxii2/detente/collections/{COMMUNITY}/"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(c.get("description").is_none(), "{c}");
    assert_eq!(c["title"], "community");
    // A status resource's versions are strings (§4.3.1), for an observable (no `modified`)
    // and for a rejected object too.
    let envelope = json!({"objects": [
        {"type": "ipv4-addr", "spec_version": "2.1",
         "id": "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4", "value": "198.51.100.3"},
        {"type": "indicator", "id": "indicator--x", "modified": "2016-04-06T20:03:48.000Z"}]});
    let status = post_status(us, &envelope).await;
    assert!(status["successes"][0]["version"].is_string(), "{status}");
    assert_eq!(
        status["failures"][0]["version"], "2016-04-06T20:03:48.000Z",
        "{status}"
    );
    assert_eq!(status["failures"][0]["id"], "indicator--x", "{status}");
}

#[tokio::test]
async fn taxii_2_0_posts_unknown_filters_delete_and_own_party_users_get_taxii_errors() {
    let pair = taxii_pair().await;
    let us = &pair.us;
    community(us).await;
    let before = us.node().store().stix_object_count().await.unwrap();
    let path = objects_path(COMMUNITY);
    // Regression: a TAXII 2.0 envelope was stored as if it were 2.1.
    let v20 = as_user(us, "cn-analyst", Method::POST, &path)
        .header("content-type", "application/taxii+json;version=2.0")
        .body(json!({"objects": [indicator(93, None)]}).to_string())
        .send()
        .await
        .unwrap();
    taxii_error(v20, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert_eq!(us.node().store().stix_object_count().await.unwrap(), before);
    // Filters the endpoint does not take are refused, not ignored.
    let id = "indicator--00000000-17d4-4cbf-938f-98ee46b3cd3f";
    for query in [
        format!("{path}?match[foo]=x"),
        format!("{path}?match[type]=indicator&match[types]=indicator"),
        format!("/taxii2/detente/collections/{COMMUNITY}/manifest/?match[bogus]=1"),
        format!("{path}{id}/?match[type]=indicator"),
        format!("{path}{id}/versions/?match[version]=all"),
    ] {
        let r = as_user(us, "cn-analyst", Method::GET, &query)
            .send()
            .await
            .unwrap();
        taxii_error(r, StatusCode::BAD_REQUEST).await;
    }
    // DELETE is answered as TAXII answers, not with an empty body.
    let delete = as_user(us, "cn-analyst", Method::DELETE, &format!("{path}{id}/"))
        .send()
        .await
        .unwrap();
    taxii_error(delete, StatusCode::METHOD_NOT_ALLOWED).await;
    // A TAXII user set (by hand) to read as this node's own party is refused: it would be a
    // named recipient of everything the node holds.
    let own = as_user(us, "us-analyst", Method::GET, &path)
        .send()
        .await
        .unwrap();
    taxii_error(own, StatusCode::FORBIDDEN).await;
}
