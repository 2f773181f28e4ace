//! Nodes on PostgreSQL: a case between a node on PostgreSQL and a node on SQLite, and two
//! node processes sharing one PostgreSQL database. They run when `DETENTE_TEST_POSTGRES`
//! names a server (`scripts/test` starts one); in CI (`CI` set) a missing server fails them.

use std::sync::atomic::{AtomicU64, Ordering};

use detente_protocol::PartyId;
use detente_store::{Location, Store};
use serde_json::json;

use crate::helpers::{PairOptions, eventually, request_body, spawn_pair_with};

/// A fresh, empty PostgreSQL database for one test, or `None` outside CI without a server.
async fn fresh_database() -> Option<String> {
    let server = match std::env::var("DETENTE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var_os("CI").is_some() => panic!(
            "DETENTE_TEST_POSTGRES is not set: CI must run the PostgreSQL tests (scripts/test starts a server)"
        ),
        _ => {
            eprintln!("skipping a PostgreSQL test: set DETENTE_TEST_POSTGRES to run it");
            return None;
        }
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!(
        "detente_it_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    Some(
        detente_store::postgres::create_database(&server, &name)
            .await
            .expect("creating a test database on the PostgreSQL server"),
    )
}

/// Pair options that put the US node on the PostgreSQL database `url`.
fn us_on_postgres(url: String) -> PairOptions {
    PairOptions {
        configure: Some(Box::new(move |_, config| {
            if config.party.as_str() == "US" {
                config.database = url.clone().into();
            }
        })),
        ..PairOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_runs_between_a_node_on_postgres_and_a_node_on_sqlite() {
    // Arrange
    let Some(url) = fresh_database().await else {
        return;
    };
    let mut pair = spawn_pair_with(us_on_postgres(url.clone())).await;
    assert_eq!(pair.us.node().store().backend(), "postgres");
    assert_eq!(pair.cn.node().store().backend(), "sqlite");

    // Act
    let case = pair
        .us
        .file_request("CN", &request_body("Ransomware C2 at 198.51.100.9"))
        .await;
    pair.cn.wait_for_status(&case, "sent").await;
    pair.cn
        .send_message(&case, &json!({"type": "acknowledgement"}))
        .await;
    pair.cn
        .send_message(
            &case,
            &json!({"type": "answer", "final": true, "text": "Taken down."}),
        )
        .await;
    pair.us.wait_for_status(&case, "answered").await;
    pair.us
        .send_message(&case, &json!({"type": "rating", "score": 4}))
        .await;
    pair.cn.wait_for_status(&case, "closed").await;
    pair.us.wait_for_status(&case, "closed").await;

    // Assert: the same case on both backends, and the same log size (4 envelopes, each
    // with its receipt).
    let (on_us, on_cn) = (pair.us.show(&case).await, pair.cn.show(&case).await);
    assert_eq!(on_us["case"], on_cn["case"]);
    eventually("both logs hold 8 entries", || async {
        pair.us.log_entries().await == 8 && pair.cn.log_entries().await == 8
    })
    .await;
    let status = pair.us.status().await;
    assert!(
        status["alerts"].as_array().is_none_or(Vec::is_empty),
        "{status}"
    );
    // What the US node committed is in PostgreSQL, readable after it stopped.
    pair.us.stop().await;
    let store = Store::open_at(&Location::Postgres(url), false)
        .await
        .expect("opening the PostgreSQL database");
    let rows = store
        .case_messages(&case.parse().expect("a case id"))
        .await
        .expect("reading the case");
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.receipt.is_some()));
    assert_eq!(store.entry_count().await.expect("count"), 8);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_node_processes_on_one_postgres_database_keep_one_log() {
    // Arrange: the US node serving, plus a second US node on the same database, as a second
    // process of the same party would be.
    let Some(url) = fresh_database().await else {
        return;
    };
    let pair = spawn_pair_with(us_on_postgres(url)).await;
    let first = pair.us.node().clone();
    let (_, second) = detente_server::open_node(&pair.us.home)
        .await
        .expect("a second process on the US home");
    let cn = PartyId::parse("CN").expect("party");

    // Act: both file requests at the same time.
    let mut tasks = Vec::new();
    for (n, node) in [first.clone(), second.clone()].into_iter().enumerate() {
        let cn = cn.clone();
        tasks.push(tokio::spawn(async move {
            let mut cases = Vec::new();
            for i in 0..10 {
                let sent = node
                    .file_request(
                        cn.clone(),
                        request_body(&format!("process {n} request {i}")),
                        detente_server::node::Actor::default(),
                    )
                    .await
                    .expect("filed");
                cases.push(sent.case.to_string());
            }
            cases
        }));
    }
    let mut cases = Vec::new();
    for t in tasks {
        cases.extend(t.await.expect("filing finished"));
    }

    // Assert: 20 distinct case numbers, all delivered to CN in one stream, one tree.
    let mut distinct = cases.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 20, "{cases:?}");
    for case in &cases {
        pair.cn.wait_for_status(case, "sent").await;
    }
    let a = first.store().tree_head().await;
    let b = second.store().tree_head().await;
    assert_eq!(a, b, "both processes see one tree");
    assert_eq!(a.0.get(), 40, "20 envelopes and 20 receipts");
    // CN checked the US checkpoints it received against each other: no equivocation.
    eventually("CN verified the US checkpoints", || async {
        let status = pair.cn.status().await;
        status["alerts"].as_array().is_none_or(Vec::is_empty)
            && pair
                .cn
                .node()
                .store()
                .unverified_partner_checkpoints()
                .await
                .expect("read")
                .is_empty()
    })
    .await;
}

#[tokio::test]
async fn init_keeps_the_postgres_password_out_of_the_configuration() {
    // Regression: `init --database postgres://user:PASSWORD@...` wrote the password into a
    // world-readable detente.toml.
    let Some(url) = fresh_database().await else {
        return;
    };
    let mut with_password = url::Url::parse(&url).expect("a database URL");
    with_password
        .set_password(Some("s3cret-pw"))
        .expect("a URL that takes a password");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("us");
    let spec = detente_server::home::HomeSpec {
        party: "US".parse().expect("a party"),
        name: "US-CERT".into(),
        listen: "127.0.0.1:0".parse().expect("an address"),
        url: "http://127.0.0.1:1".into(),
        plain_http: true,
        tls: None,
        tls_ca: None,
        database: Some(with_password.to_string()),
    };

    // Act
    detente_server::home::create(&home, &spec)
        .await
        .expect("a home on PostgreSQL");

    // Assert: the password is only in its own private file, and the node finds it there.
    let config = std::fs::read_to_string(home.join("detente.toml")).expect("detente.toml");
    assert!(!config.contains("s3cret-pw"), "{config}");
    let file = home.join(detente_server::home::DATABASE_PASSWORD_FILE);
    assert_eq!(
        std::fs::read_to_string(&file).expect("the password file"),
        "s3cret-pw\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file)
        .expect("its metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let loaded = detente_server::config::NodeConfig::load(&home).expect("the configuration");
    let location = loaded
        .database_location(&home, None)
        .expect("the database location");
    assert!(
        matches!(&location, detente_store::Location::Postgres(u) if u.contains(":s3cret-pw@")),
        "{location:?}"
    );
}
