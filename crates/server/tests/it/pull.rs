//! The scheduled TAXII pull between two real nodes: CN pulls US's collection every second,
//! picks up what US adds without being asked, receives each object once thanks to the
//! bookmark, and stops pulling when the node stops.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detente_server::{
    config::{CONFIG_FILE, NodeConfig, PullSource},
    node::now,
};
use detente_stix::{StixObject, tlp::TLP_GREEN_ID};
use detente_store::{Collection, ShareContext};
use serde_json::Value;

use crate::{
    helpers::{PairOptions, TestNode, eventually, spawn_pair_with},
    taxii::{COMMUNITY, indicator, users},
};

/// Adds GREEN indicators `numbers` to `node`'s community collection, in one transaction, so a
/// pull sees all of them or none.
async fn add(node: &TestNode, numbers: std::ops::Range<u32>) {
    let objects: Vec<StixObject> = numbers
        .map(|n| StixObject::from_value(indicator(n, Some(TLP_GREEN_ID))).unwrap())
        .collect();
    let share = ShareContext {
        origin: node.party.to_string(),
        audience: None,
        recipients: vec![],
    };
    node.node()
        .store()
        .insert_stix(
            &objects,
            &share,
            Some(COMMUNITY),
            now().unix_millis() * 1000,
        )
        .await
        .unwrap();
}

/// The scheduled puller's record of its one source on `node`, from `GET /api/v1/status`.
async fn history(node: &TestNode) -> Value {
    node.status().await["pulls"][0].clone()
}

#[tokio::test]
async fn the_scheduled_pull_brings_each_new_object_once_and_stops_with_the_node() {
    let mut pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(users)),
        ..PairOptions::default()
    })
    .await;
    let us = &pair.us;
    us.node()
        .store()
        .put_collection(&Collection {
            id: COMMUNITY.into(),
            title: "US indicators".into(),
            description: None,
            audience: None,
            can_write: false,
        })
        .await
        .unwrap();
    add(us, 0..5).await;

    // CN learns US's address only once both run: restart it with the pull configured.
    pair.cn.stop().await;
    let home = pair.cn.home.clone();
    let mut config = NodeConfig::load(&home).unwrap();
    config.indicators.pull_every_secs = 1;
    config.indicators.pull.push(PullSource {
        party: us.party.clone(),
        api_root: format!("{}/taxii2/detente/", us.url),
        collection: COMMUNITY.into(),
        user: "cn-analyst".into(),
        password_file: "us-taxii-password".into(),
    });
    std::fs::write(home.join(CONFIG_FILE), config.to_toml()).unwrap();
    std::fs::write(home.join("us-taxii-password"), "pw-cn-analyst\n").unwrap();
    pair.cn.start().await;
    let (us, cn) = (&pair.us, &pair.cn);

    let count = |n: &TestNode| {
        let store = n.node().store().clone();
        async move { store.stix_object_count().await.unwrap() }
    };
    eventually("CN pulls the first five", || async { count(cn).await == 5 }).await;

    add(us, 10..13).await;
    // Objects are stored before the round is recorded: wait for the record too.
    eventually("CN pulls the three added later", || async {
        count(cn).await == 8 && history(cn).await["stored"] == 8
    })
    .await;
    // One more round after that: with nothing new, it must receive nothing.
    let rounds = history(cn).await["rounds"].as_u64().unwrap();
    eventually("CN pulls once more", || async {
        history(cn).await["rounds"].as_u64().unwrap() > rounds
    })
    .await;
    let h = history(cn).await;
    assert!(h["rounds"].as_u64().unwrap() >= 3, "{h}");
    assert_eq!(h["failures"], 0, "{h}");
    // Every object crossed the wire exactly once, however many rounds ran: the bookmark
    // limits each round to what was added since the last one.
    assert_eq!(
        (h["received"].as_u64(), h["stored"].as_u64()),
        (Some(8), Some(8)),
        "{h}"
    );
    assert_eq!(h["last"]["received"], 0, "{h}");
    let bookmark = cn
        .node()
        .store()
        .taxii_bookmark(&format!("US|{}/taxii2/detente/", us.url), COMMUNITY)
        .await
        .unwrap();
    assert_eq!(
        bookmark.as_ref(),
        h["last"]["added_after"]
            .as_str()
            .map(str::to_owned)
            .as_ref()
    );

    // Stopping the node waits for the puller; once stopped nothing holds the node any more,
    // so no puller is left running against it.
    let node = Arc::downgrade(cn.node());
    pair.cn.stop().await;
    assert!(
        node.upgrade().is_none(),
        "something still holds the stopped node"
    );
}
