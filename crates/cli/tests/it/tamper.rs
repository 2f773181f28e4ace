//! The node notices tampering with its own database at run time. An attacker with write access
//! to the SQLite file bypasses the append-only triggers (drops them, as anyone holding the file
//! can) and flips a byte in an entry, deletes an entry, swaps two, or appends one; `detente log
//! verify` names the first bad entry and exits 1, and `detente serve` refuses to start when the
//! log no longer matches the node's latest signed checkpoint.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};

use crate::harness::{detente, pair, run, work_cases};

/// A stopped node's home after two cases (its log: a dozen or so entries).
pub(crate) async fn worked_home(dir: &Path) -> PathBuf {
    let (mut us, mut cn) = pair(dir);
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 2).await;
    us.terminate();
    cn.terminate();
    us.home.clone()
}

/// A copy of `home` (its top-level files) for one tampering.
pub(crate) fn copy_home(home: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(home).unwrap() {
        let f = f.unwrap();
        if f.file_type().unwrap().is_file() {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    to.to_owned()
}

/// Appends a copy of entry 0 to the log, as an INSERT can (the triggers block only updates
/// and deletes): a genuine entry replayed after the last checkpoint.
pub(crate) const APPEND_A_REPLAY_OF_ENTRY_0: &str = "INSERT INTO entries \
    (idx, kind, direction, message_id, bytes, recorded_at) \
    SELECT (SELECT MAX(idx) + 1 FROM entries), kind, direction, message_id, bytes, recorded_at \
    FROM entries WHERE idx = 0";

/// Runs SQL on the node's database as an attacker would: triggers dropped, no foreign keys.
pub(crate) async fn tamper(home: &Path, statements: &[&str]) {
    let mut db = SqliteConnectOptions::new()
        .filename(home.join("detente.db"))
        .foreign_keys(false)
        .connect()
        .await
        .unwrap();
    for sql in [
        "DROP TRIGGER entries_are_append_only_update",
        "DROP TRIGGER entries_are_append_only_delete",
    ]
    .iter()
    .chain(statements)
    {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut db)
            .await
            .unwrap();
    }
    db.close().await.unwrap();
}

fn verify(home: &Path) -> (Option<i32>, String) {
    let o = run(home, &["log", "verify"]);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// Starts `detente serve` and returns its exit code and output if it stops within 20 s.
fn serve_exit(home: &Path) -> Option<(Option<i32>, String)> {
    let log = home.join("refused.log");
    let mut child = detente()
        .arg("--home")
        .arg(home)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((status.code(), std::fs::read_to_string(&log).unwrap()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_names_the_first_entry_changed_behind_its_back_and_will_not_serve_a_log_that_no_longer_matches_its_checkpoint()
 {
    let dir = tempfile::tempdir().unwrap();
    let home = worked_home(dir.path()).await;

    let (code, out) = verify(&home);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("INTACT"), "{out}");

    // One byte of entry 2 changed (the colon after "signature").
    let flipped = copy_home(&home, &dir.path().join("flipped"));
    tamper(
        &flipped,
        &[
            "UPDATE entries SET bytes = CAST(replace(CAST(bytes AS TEXT), '\"signature\":\"', \
           '\"signature\"!\"') AS BLOB) WHERE idx = 2",
        ],
    )
    .await;
    let (code, out) = verify(&flipped);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("TAMPERED  entry 2 does not hash to its stored leaf"),
        "{out}"
    );

    // A deleted entry.
    let dropped = copy_home(&home, &dir.path().join("dropped"));
    tamper(&dropped, &["DELETE FROM entries WHERE idx = 4"]).await;
    let (code, out) = verify(&dropped);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("TAMPERED  entry 4 is missing"), "{out}");

    // Two entries swapped.
    let swapped = copy_home(&home, &dir.path().join("swapped"));
    tamper(
        &swapped,
        &[
            "UPDATE entries SET idx = -1 WHERE idx = 5",
            "UPDATE entries SET idx = 5 WHERE idx = 6",
            "UPDATE entries SET idx = 6 WHERE idx = -1",
        ],
    )
    .await;
    let (code, out) = verify(&swapped);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("TAMPERED  entry 5 does not hash"), "{out}");
    // `log export` hashes what it writes and will not hand over a changed log as signed.
    let bundle = swapped.join("swapped.bundle");
    let o = run(
        &swapped,
        &["log", "export", "--out", bundle.to_str().unwrap()],
    );
    let out = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("do not reproduce the root"), "{out}");

    // An entry appended after the last checkpoint (no trigger stops an INSERT): the start-up
    // check refuses to serve it, and `log verify` names it.
    let appended = copy_home(&home, &dir.path().join("appended"));
    tamper(&appended, &[APPEND_A_REPLAY_OF_ENTRY_0]).await;
    let (code, out) = serve_exit(&appended).expect("a tampered node stops at once");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("refusing to start"), "{out}");
    let (code, out) = verify(&appended);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("covered by no checkpoint"), "{out}");

    // The last entry changed: the start-up check sees it without reading the whole log.
    let last = copy_home(&home, &dir.path().join("last"));
    tamper(
        &last,
        &[
            "UPDATE entries SET bytes = CAST(replace(CAST(bytes AS TEXT), '\"signature\":\"', \
           '\"signature\"!\"') AS BLOB) WHERE idx = (SELECT MAX(idx) FROM entries)",
        ],
    )
    .await;
    let (code, out) = serve_exit(&last).expect("a tampered node stops at once");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not hash to its stored leaf"), "{out}");

    // The untouched node still starts.
    assert!(serve_exit(&home).is_none(), "the intact node keeps serving");
}
