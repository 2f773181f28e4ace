//! STIX objects in requests and answers: they travel in the signed envelopes, arrive intact,
//! and TLP keeps a third party's restricted objects from ever leaving the node, by the same
//! rule (and the same sharing context) as TAXII and exports.

use detente_protocol::{Body, StixValue};
use detente_server::objects::party_identity;
use detente_stix::StixObject;
use detente_stix::tlp::{TLP_2_EXTENSION_ID, TLP_AMBER_ID, TLP_GREEN_ID, TLP_RED_ID};
use detente_store::ShareContext;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Forge, PairOptions, error_code, request_body, seal, spawn_pair, spawn_pair_with,
};

fn indicator(created_by: &str, marking: &str) -> StixValue {
    let Value::Object(o) = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21",
        "created": "2026-03-02T08:00:00.000Z",
        "modified": "2026-03-02T08:00:00.000Z",
        "created_by_ref": created_by,
        "object_marking_refs": [marking],
        "name": "C2 of the botnet attacking our hospitals",
        "pattern": "[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'c2.example']",
        "pattern_type": "stix",
        "valid_from": "2026-03-02T08:00:00Z"
    }) else {
        unreachable!("an object literal")
    };
    o
}

fn sighting(created_by: &str, marking: &str) -> Value {
    json!({
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--3f1b8e2a-6c4d-4b7e-8a9f-0e1d2c3b4a59",
        "created": "2026-03-03T09:00:00.000Z",
        "modified": "2026-03-03T09:00:00.000Z",
        "created_by_ref": created_by,
        "object_marking_refs": [marking],
        "count": 41,
        "sighting_of_ref": "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21"
    })
}

/// The objects of the `index`th message of a case as a node shows it.
fn objects_of(shown: &Value, index: usize) -> Value {
    shown["messages"][index]["body"]["objects"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_travel_signed_and_tlp_stops_a_third_partys_red_object() {
    // Arrange
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let us_identity = party_identity(&"US".parse().expect("a party"));
    let cn_identity = party_identity(&"CN".parse().expect("a party"));
    let mut request = request_body("Botnet C2: mitigate from your side");
    request.objects = vec![indicator(&us_identity, TLP_RED_ID)];

    // Act: US shares its own TLP:RED indicator with CN, the named recipient.
    let case = us.file_request("CN", &request).await;
    cn.wait_for_status(&case, "sent").await;

    // Assert: it arrived as sent.
    let shown = cn.show(&case).await;
    assert_eq!(
        objects_of(&shown, 0),
        json!([indicator(&us_identity, TLP_RED_ID)]),
        "{shown}"
    );

    // Act: CN tries to pass on a RED sighting made by someone else (a company that reported
    // to CN), then answers with its own AMBER sighting.
    let before = cn.log_entries().await;
    let third = "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d";
    let (status, refused) = cn
        .post(
            &format!("/api/v1/requests/{case}/messages"),
            &json!({"type": "answer", "final": false, "text": "Seen.",
                    "objects": [sighting(third, TLP_RED_ID)]}),
        )
        .await;
    let after_refusal = cn.log_entries().await;
    cn.send_message(
        &case,
        &json!({"type": "answer", "final": true, "text": "41 connections from two hosts; owners notified.",
                "objects": [sighting(&cn_identity, TLP_AMBER_ID)]}),
    )
    .await;
    us.wait_for_status(&case, "answered").await;

    // Assert
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(error_code(&refused), Some("tlp_denied"), "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("sighting--3f1b8e2a"), "{message}");
    assert_eq!(after_refusal, before, "the refused answer was logged");
    let shown = us.show(&case).await;
    let answers: Vec<&Value> = shown["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["body"]["type"] == "answer")
        .collect();
    assert_eq!(answers.len(), 1, "{shown}");
    assert_eq!(
        answers[0]["body"]["objects"],
        json!([sighting(&cn_identity, TLP_AMBER_ID)])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_with_an_invalid_stix_object_is_refused_and_nothing_is_stored() {
    // Arrange: a correctly signed request whose indicator was modified before it was made.
    let pair = spawn_pair().await;
    let cn = &pair.cn;
    let forge = Forge::new(&pair);
    let mut bad = indicator(
        "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d",
        TLP_AMBER_ID,
    );
    bad.insert("modified".into(), json!("2026-01-01T00:00:00.000Z"));
    let mut request = request_body("Carries a broken indicator");
    request.objects = vec![bad];
    let envelope = forge.envelope(
        "US",
        "CN",
        1,
        &Forge::case("US", 700),
        Body::Request(request),
    );
    let before = cn.log_entries().await;

    // Act
    let (status, body) = cn
        .deliver(vec![seal(envelope, &pair.us.secret_key())])
        .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["results"][0];
    assert_eq!(error_code(result), Some("invalid_message"), "{result}");
    let message = result["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not valid STIX 2.1"), "{message}");
    assert_eq!(cn.log_entries().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmarked_objects_follow_the_nodes_configured_default() {
    // Arrange: US treats unmarked objects as TLP:RED; CN keeps the AMBER default.
    let pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(|_, config| {
            if config.party.as_str() == "US" {
                config.indicators.default_tlp = detente_stix::Tlp::Red;
            }
        })),
        ..PairOptions::default()
    })
    .await;
    let unmarked = |title: &str| {
        let mut object = indicator(
            "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d",
            TLP_AMBER_ID,
        );
        object.remove("object_marking_refs");
        let mut request = request_body(title);
        request.objects = vec![object];
        json!({"request": request})
    };
    let file = |node: &'static str, to: &'static str, title: &str| {
        let mut body = unmarked(title);
        body["to"] = json!(to);
        (node, body)
    };

    // Act
    let mut outcomes = Vec::new();
    for (node, body) in [file("US", "CN", "from US"), file("CN", "US", "from CN")] {
        let sender = if node == "US" { &pair.us } else { &pair.cn };
        outcomes.push(sender.post("/api/v1/requests", &body).await);
    }

    // Assert
    assert_eq!(outcomes[0].0, StatusCode::FORBIDDEN, "{}", outcomes[0].1);
    assert_eq!(error_code(&outcomes[0].1), Some("tlp_denied"));
    assert_eq!(outcomes[1].0, StatusCode::CREATED, "{}", outcomes[1].1);
}

/// Stores `object` on `node` as shared by `share`, as an import or a pull would.
async fn hold(node: &crate::helpers::TestNode, object: &StixValue, share: &ShareContext, now: i64) {
    let parsed =
        StixObject::from_value(Value::Object(object.clone())).expect("a valid STIX object");
    node.node()
        .store()
        .insert_stix(&[parsed], share, None, now)
        .await
        .expect("storing the object");
}

/// Files a request to CN carrying `objects`; the answer's status and body.
async fn request_with(
    us: &crate::helpers::TestNode,
    objects: Vec<StixValue>,
) -> (StatusCode, Value) {
    let mut request = request_body("Botnet C2: who runs it?");
    request.objects = objects;
    us.post("/api/v1/requests", &json!({"to": "CN", "request": request}))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_partys_amber_object_held_with_no_audience_stays_out_of_requests() {
    // Regression: a third party's TLP:AMBER object imported with no audience went to the
    // partner in a request (the check looked at `created_by_ref` only), though TAXII and
    // exports withheld it from the partner.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let third = "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d";
    let held = indicator(third, TLP_AMBER_ID);
    let imported = ShareContext {
        origin: "US".into(),
        audience: None,
        recipients: vec![],
    };
    hold(us, &held, &imported, 1).await;
    let before = us.log_entries().await;

    // Act
    let (status, refused) = request_with(us, vec![held.clone()]).await;

    // Assert: refused by name, nothing logged; the partner's read of the API withholds it
    // by the same rule.
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(error_code(&refused), Some("tlp_denied"), "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("indicator--1c9a3a8e"), "{message}");
    assert!(message.contains("no partner named"), "{message}");
    assert_eq!(us.log_entries().await, before);

    // The same object, imported for CN as its audience, goes.
    let mut for_cn = held;
    for_cn.insert("modified".into(), json!("2026-03-04T08:00:00.000Z"));
    let shared = ShareContext {
        audience: Some("CN".into()),
        ..imported
    };
    hold(us, &for_cn, &shared, 2).await;
    // Its earlier version is still held with no audience: every held version must allow.
    let (status, body) = request_with(us, vec![for_cn]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_shared_with_this_node_by_a_partner_goes_to_another_only_as_green() {
    let pair = spawn_pair().await;
    let us = &pair.us;
    let third = "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d";
    let from_gb = ShareContext {
        origin: "GB".into(),
        audience: None,
        recipients: vec!["US".into()],
    };
    let amber = indicator(third, TLP_AMBER_ID);
    let mut green = indicator(third, TLP_GREEN_ID);
    green.insert(
        "id".into(),
        json!("indicator--2c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21"),
    );
    for o in [&amber, &green] {
        hold(us, o, &from_gb, 1).await;
    }
    let (status, body) = request_with(us, vec![amber]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = request_with(us, vec![green]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markings_under_other_ids_hold_objects_back_from_requests() {
    // Regression: a marking under an id other than the five published ones was ignored, so
    // an object it marked RED went as unmarked (AMBER by default).
    let pair = spawn_pair().await;
    let us = &pair.us;
    let third = "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d";
    let custom = "marking-definition--7e1c2a44-0b5d-4c1e-8f00-000000000004";
    let Value::Object(red) = json!({"type": "marking-definition", "spec_version": "2.1",
        "id": custom, "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
        "extensions": {TLP_2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "red"}}})
    else {
        unreachable!("an object literal")
    };
    let marked = indicator(third, custom);
    // With its definition carried along, and with no definition at all: refused either way.
    for objects in [vec![red, marked.clone()], vec![marked]] {
        let (status, body) = request_with(us, objects).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(error_code(&body), Some("tlp_denied"), "{body}");
    }
}
