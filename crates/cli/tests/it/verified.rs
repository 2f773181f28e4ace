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
