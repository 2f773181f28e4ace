//! Official figures rest on verified entries, and checking evidence leaves it as it was
//! (issue 19 items 3 and 4). The review is derived from the log entries covered by the node's
//! latest signed checkpoint, after their leaf hashes recompute its root; a changed, deleted or
//! swapped entry refuses the review and raises an alert that `status` shows. `log verify`,
//! `log export` and `review` open the database read-only.

use std::path::Path;

use detente_protocol::Digest;

use crate::harness::run;
use crate::tamper::{APPEND_A_REPLAY_OF_ENTRY_0, copy_home, tamper, worked_home};

/// The SHA-256 of the node's database file and of its WAL (`None` for a missing file).
fn database_digests(home: &Path) -> [Option<Digest>; 2] {
    ["detente.db", "detente.db-wal"]
        .map(|f| std::fs::read(home.join(f)).ok().map(|b| Digest::of(&b)))
}

/// Today as a review period (the worked cases were filed today).
fn today() -> String {
    let today = detente_server::node::now().datetime().date();
    format!("{today}..{today}")
}

/// Regression (issue 19.4): the commands that check or report on the log opened the database
/// read-write, and a row past the stored tree (here a replayed entry an attacker inserted) was
/// hashed into the tree and committed: checking the evidence altered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_verify_log_export_and_review_leave_the_database_and_its_wal_byte_for_byte_as_they_were()
 {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let home = worked_home(dir.path()).await;
    let home = copy_home(&home, &dir.path().join("appended"));
    tamper(&home, &[APPEND_A_REPLAY_OF_ENTRY_0]).await;
    let bundle = dir.path().join("us.bundle");
    let period = today();
    let commands: [&[&str]; 3] = [
        &["log", "verify"],
        &["log", "export", "--out", bundle.to_str().unwrap()],
        &["review", "--period", &period, "--format", "json"],
    ];
    for args in commands {
        let before = database_digests(&home);
        assert!(before[0].is_some());

        // Act
        let o = run(&home, args);

        // Assert
        let out =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.code().is_some(), "{args:?}: {out}");
        let after = database_digests(&home);
        assert_eq!(
            before[0], after[0],
            "{args:?} changed the database file: {out}"
        );
        // Reading a closed WAL-mode database read-only may leave an empty WAL behind, never
        // one with frames in it.
        let empty = Some(Digest::of(b""));
        assert!(
            before[1] == after[1] || (before[1].is_none() && after[1] == empty),
            "{args:?} changed the WAL: {out}"
        );
    }
    // `log verify` still names the inserted row, though nothing hashed it into the tree.
    let o = run(&home, &["log", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("covered by no checkpoint"), "{out}");
}

/// The index of the first receipt entry past the first two entries, which is not the last
/// entry: a middle entry, which the start-up check (latest checkpoint and last entry) does not
/// read.
async fn a_middle_receipt(home: &Path) -> i64 {
    use sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};
    let mut db = SqliteConnectOptions::new()
        .filename(home.join("detente.db"))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let idx: i64 = sqlx::query_scalar(
        "SELECT MIN(idx) FROM entries WHERE kind = 'receipt' AND idx > 2 \
         AND idx < (SELECT MAX(idx) FROM entries)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
    idx
}

/// `detente review` on the (stopped) node in `home`: exit code and output.
fn review(home: &Path) -> (Option<i32>, String) {
    let o = run(home, &["review", "--period", &today(), "--format", "json"]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// A running `detente serve` on a home made by the harness, killed when dropped.
struct Served {
    child: std::process::Child,
    url: String,
    token: String,
}

impl Served {
    async fn start(home: &Path) -> Self {
        let config = detente_server::config::NodeConfig::load(home).unwrap();
        let token = std::fs::read_to_string(home.join(detente_server::home::TOKEN_FILE))
            .unwrap()
            .trim()
            .to_owned();
        let child = crate::harness::detente()
            .arg("--home")
            .arg(home)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(home.join("served.log")).unwrap())
            .spawn()
            .unwrap();
        let served = Self {
            child,
            url: format!("http://{}", config.listen),
            token,
        };
        crate::harness::eventually(20, "the node answers", || async {
            reqwest::get(format!("{}/healthz", served.url))
                .await
                .is_ok()
        })
        .await;
        served
    }

    async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Regression (issue 19.3): after a receipt time inside a middle entry was changed in SQLite
/// (trigger dropped), `serve` started, `/api/v1/review` showed the changed time and `status`
/// showed no alert: the review was derived from the `messages` projection's bytes, which
/// nobody re-checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_time_changed_in_a_middle_entry_refuses_the_review_and_raises_an_alert_status_shows()
 {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let home = worked_home(dir.path()).await;
    let (code, intact) = review(&home);
    assert_eq!(code, Some(0), "{intact}");
    let middle = a_middle_receipt(&home).await;
    tamper(
        &home,
        &[&*format!(
            "UPDATE entries SET bytes = CAST(replace(CAST(bytes AS TEXT), '\"received_at\":\"20', \
             '\"received_at\":\"19') AS BLOB) WHERE idx = {middle}"
        )],
    )
    .await;

    // Act: the review from the stopped node; then the node serving, its status (the log is
    // checked in the background at start) and its review.
    let (code, out) = review(&home);
    let served = Served::start(&home).await;
    let named = format!("entry {middle} does not hash to its stored leaf");
    let alerted =
        |status: &serde_json::Value| {
            status["alerts"].as_array().unwrap().iter().any(|a| {
                a["kind"] == "log_damaged" && a["detail"].as_str().unwrap().contains(&named)
            })
        };
    crate::harness::eventually(20, "status shows the log_damaged alert", || async {
        alerted(&served.get("/api/v1/status").await.1)
    })
    .await;
    let (status, refused) = served
        .get(&format!("/api/v1/review?period={}&format=json", today()))
        .await;
    let (_, node_status) = served.get("/api/v1/status").await;

    // Assert
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&named), "{out}");
    assert!(!out.contains("\"figures\""), "no figure is printed: {out}");
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"]["code"], "log_damaged", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains(&named), "{message}");
    assert!(alerted(&node_status), "{node_status}");
    // The same damage is one alert, however often it is found.
    let raised = node_status["alerts"].as_array().unwrap().len();
    assert_eq!(raised, 1, "{node_status}");
}

/// Regression (issue 19.3): deleting or swapping a middle row turned answered cases into
/// overdue ones; now the review names the entry and gives no figure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_swapped_middle_entry_refuses_the_review_and_names_the_entry() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let home = worked_home(dir.path()).await;
    let middle = a_middle_receipt(&home).await;
    let deleted = copy_home(&home, &dir.path().join("deleted"));
    tamper(
        &deleted,
        &[&*format!("DELETE FROM entries WHERE idx = {middle}")],
    )
    .await;
    let swapped = copy_home(&home, &dir.path().join("swapped"));
    tamper(
        &swapped,
        &[
            &*format!("UPDATE entries SET idx = -1 WHERE idx = {middle}"),
            &*format!(
                "UPDATE entries SET idx = {middle} WHERE idx = {}",
                middle - 1
            ),
            &*format!("UPDATE entries SET idx = {} WHERE idx = -1", middle - 1),
        ],
    )
    .await;

    // Act
    let (deleted_code, deleted_out) = review(&deleted);
    let (swapped_code, swapped_out) = review(&swapped);

    // Assert
    assert_eq!(deleted_code, Some(1), "{deleted_out}");
    assert!(
        deleted_out.contains(&format!("entry {middle} is missing")),
        "{deleted_out}"
    );
    assert_eq!(swapped_code, Some(1), "{swapped_out}");
    assert!(
        swapped_out.contains(&format!("entry {} does not hash", middle - 1)),
        "{swapped_out}"
    );
    for out in [&deleted_out, &swapped_out] {
        assert!(
            out.contains("log_damaged") || out.contains("changed behind its back"),
            "{out}"
        );
    }
}
