//! The store's behaviour, tested once and run against both backends: SQLite always, and
//! PostgreSQL when `DETENTE_TEST_POSTGRES` names a server (`postgres://user@host:port/db`,
//! any database the role may connect to). Each PostgreSQL test gets a fresh database of its
//! own, so the tests run in parallel. With `CI` set, a missing server fails the tests rather
//! than skipping them, so CI can never pass without having run them.

use std::sync::atomic::{AtomicU64, Ordering};

use detente_ledger::{
    LeafIndex, MemoryLog, TreeSize, hash_leaf, verify_consistency, verify_inclusion,
};
use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};

use crate::{
    CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, Location, MessageRow, MessageState,
    NewEntry, PartnerCheckpoint, Store, postgres,
};

/// The environment variable naming the PostgreSQL server the tests may use.
pub(crate) const POSTGRES_ENV: &str = "DETENTE_TEST_POSTGRES";

/// A database for one test, and what keeps it alive.
struct TestDb {
    location: Location,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self {
            location: Location::Sqlite(dir.path().join("t.db")),
            _dir: Some(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (outside CI) when no server is configured.
    async fn postgres() -> Option<Self> {
        let server = match std::env::var(POSTGRES_ENV) {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var_os("CI").is_some() => {
                panic!(
                    "{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests (scripts/test starts a server)"
                )
            }
            _ => {
                eprintln!("skipping a PostgreSQL test: set {POSTGRES_ENV} to run it");
                return None;
            }
        };
        let url = postgres::create_database(&server, &unique_name())
            .await
            .expect("creating a test database on the PostgreSQL server");
        Some(Self {
            location: Location::Postgres(url),
            _dir: None,
        })
    }

    async fn open(&self) -> Store {
        Store::open_at(&self.location, true).await.expect("open")
    }
}

/// A database name no other test (or test run) uses.
fn unique_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "detente_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Each test body runs once per backend, as `on_sqlite::<name>` and `on_postgres::<name>`.
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident: TestDb) $body:block)*) => {
        mod on_sqlite {
            use super::*;
            $(#[tokio::test]
            async fn $name() {
                let $db = TestDb::sqlite();
                $body
            })*
        }
        mod on_postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some($db) = TestDb::postgres().await else { return };
                $body
            })*
        }
    };
}

mod people;
mod stix;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).expect("valid time")
}

fn party(s: &str) -> PartyId {
    PartyId::parse(s).expect("party")
}

fn entry_bytes(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

on_both_backends! {
    async fn log_entries_get_consecutive_indices_and_cannot_be_changed_or_deleted(db: TestDb) {
        let store = db.open().await;
        let mut tx = store.write().await.expect("write");
        let a = tx
            .append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"a", at(1))
            .await
            .expect("append");
        let b = tx
            .append_entry(EntryKind::Receipt, Direction::In, MessageId::random(), b"b", at(2))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
        assert_eq!((a, b), (0, 1));
        for sql in [
            "UPDATE entries SET kind = 'receipt' WHERE idx = 0",
            "DELETE FROM entries WHERE idx = 1",
            "DELETE FROM tree_nodes WHERE level = 0",
        ] {
            let err = store.execute_unchecked(sql).await.expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert_eq!(store.entry_count().await.expect("count"), 2);
    }

    async fn counters_survive_commit_and_vanish_with_rollback(db: TestDb) {
        let store = db.open().await;
        let mut tx = store.write().await.expect("write");
        assert_eq!(tx.next_counter("c").await.expect("next"), 1);
        assert_eq!(tx.next_counter("c").await.expect("next"), 2);
        tx.commit().await.expect("commit");
        let mut tx = store.write().await.expect("write");
        assert_eq!(tx.next_counter("c").await.expect("next"), 3);
        drop(tx); // rolled back
        let mut tx = store.write().await.expect("write");
        assert_eq!(tx.counter("c").await.expect("read"), 2);
    }

    async fn a_rolled_back_append_leaves_the_tree_as_it_was(db: TestDb) {
        let store = db.open().await;
        let mut tx = store.write().await.expect("write");
        tx.append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"kept", at(1))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
        let before = store.tree_head().await;
        let mut tx = store.write().await.expect("write");
        tx.append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"gone", at(2))
            .await
            .expect("append");
        drop(tx);
        assert_eq!(store.tree_head().await, before);
        let mut tx = store.write().await.expect("write");
        let idx = tx
            .append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"next", at(3))
            .await
            .expect("append");
        assert_eq!(idx, 1, "the rolled-back index is issued again");
    }

    async fn a_reopened_database_keeps_what_was_committed(db: TestDb) {
        let store = db.open().await;
        let mut tx = store.write().await.expect("write");
        tx.insert_token("hash", "init", at(0)).await.expect("token");
        tx.append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"e", at(1))
            .await
            .expect("append");
        tx.commit().await.expect("commit");
        let head = store.tree_head().await;
        store.close().await;
        let again = db.open().await;
        assert!(again.token_exists("hash").await.expect("read"));
        assert!(!again.token_exists("other").await.expect("read"));
        assert_eq!(again.tree_head().await, head);
    }

    async fn proofs_match_an_in_memory_log_of_the_same_entries(db: TestDb) {
        let store = db.open().await;
        let mut reference = MemoryLog::new();
        // Single appends over several transactions, then a bulk append: both paths.
        for batch in 0..5u64 {
            let mut tx = store.write().await.expect("write");
            for i in 0..7u64 {
                let bytes = entry_bytes(batch * 7 + i);
                tx.append_entry(EntryKind::Envelope, Direction::In, MessageId::random(), &bytes, at(1))
                    .await
                    .expect("append");
                reference.append(&bytes).expect("reference");
            }
            tx.commit().await.expect("commit");
        }
        let bulk: Vec<Vec<u8>> = (35..300).map(entry_bytes).collect();
        let news: Vec<NewEntry<'_>> = bulk
            .iter()
            .map(|b| NewEntry {
                kind: EntryKind::Receipt,
                direction: Direction::Out,
                message_id: MessageId::random(),
                bytes: b,
                recorded_at: at(2),
            })
            .collect();
        let mut tx = store.write().await.expect("write");
        assert_eq!(tx.append_entries(&news).await.expect("bulk"), 35);
        tx.commit().await.expect("commit");
        reference.append_entries(&bulk).expect("reference");

        let (size, root) = store.tree_head().await;
        assert_eq!((size, root), (reference.size(), reference.root()));
        for n in [1u64, 2, 35, 64, 65, 299, 300] {
            let n = TreeSize::new(n);
            assert_eq!(store.root_at(n).await.expect("root"), reference.root_at(n).expect("ref"));
        }
        for i in [0u64, 1, 34, 35, 200, 299] {
            let proof = store.inclusion_proof(LeafIndex::new(i), size).await.expect("proof");
            verify_inclusion(&hash_leaf(&entry_bytes(i)), LeafIndex::new(i), size, &proof, &root)
                .expect("inclusion verifies");
        }
        for old in [1u64, 7, 35, 128, 299] {
            let old = TreeSize::new(old);
            let proof = store.consistency_proof(old, size).await.expect("proof");
            let old_root = reference.root_at(old).expect("ref");
            verify_consistency(old, size, &proof, &old_root, &root).expect("consistency verifies");
        }
        assert!(store.inclusion_proof(LeafIndex::new(300), size).await.is_err());
        let entries = store.entries(298, 400).await.expect("entries");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0, 298);
        assert_eq!(entries[0].3, entry_bytes(298));
    }

    async fn messages_cases_and_the_outbox_round_trip(db: TestDb) {
        let store = db.open().await;
        let (us, cn) = (party("US"), party("CN"));
        let case = CaseId::parse("US-2026-0001").expect("case");
        let id = MessageId::random();
        let mut tx = store.write().await.expect("write");
        let entry = tx
            .append_entry(EntryKind::Envelope, Direction::Out, id, b"{envelope}", at(10))
            .await
            .expect("append");
        let row = MessageRow {
            id,
            direction: Direction::Out,
            sender: us.clone(),
            recipient: cn.clone(),
            seq: 1,
            case_id: case.clone(),
            state: MessageState::Pending,
            envelope: b"{envelope}".to_vec(),
            receipt: None,
            received_at: None,
            rejection: None,
            envelope_entry: entry,
        };
        tx.insert_message(&row, "request", "hash", None).await.expect("message");
        tx.enqueue(id, &cn, 1, at(10)).await.expect("enqueue");
        let case_row = CaseRow {
            id: case.clone(),
            requester: us.clone(),
            responder: cn.clone(),
            kind: "investigation".into(),
            category: "botnet".into(),
            priority: "high".into(),
            tlp: "amber".into(),
            title: "t".into(),
            status: "pending_delivery".into(),
            filed_at: None,
            pending_out: 1,
            overdue_at: Some(at(500)),
            derived: "{}".into(),
        };
        tx.upsert_case(&case_row, at(10)).await.expect("case");
        tx.commit().await.expect("commit");

        let due = store.outbox_due(at(10), 10).await.expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].message_id, due[0].seq, &due[0].envelope[..]), (id, 1, &b"{envelope}"[..]));
        assert!(store.outbox_due(at(9), 10).await.expect("due").is_empty());
        assert_eq!(store.outbox_next_due().await.expect("next"), Some(at(10)));
        let mut tx = store.write().await.expect("write");
        tx.defer(&cn, at(20), "unreachable").await.expect("defer");
        tx.commit().await.expect("commit");
        assert!(store.outbox_due(at(19), 10).await.expect("due").is_empty());
        assert_eq!(store.outbox_due(at(20), 10).await.expect("due")[0].attempts, 1);

        let mut tx = store.write().await.expect("write");
        let receipt = tx
            .append_entry(EntryKind::Receipt, Direction::In, id, b"{receipt}", at(21))
            .await
            .expect("append");
        tx.set_receipt(id, receipt, at(21), MessageState::Delivered).await.expect("receipt");
        assert!(tx.dequeue(id).await.expect("dequeue"));
        assert!(!tx.dequeue(id).await.expect("dequeue"));
        let (known, of_case) = tx.message_and_case(id, &case).await.expect("read");
        assert_eq!(known.expect("known").state, MessageState::Delivered);
        assert_eq!(of_case.len(), 1);
        let updated = CaseRow { status: "sent".into(), filed_at: Some(at(21)), pending_out: 0, ..case_row.clone() };
        tx.upsert_case(&updated, at(21)).await.expect("case");
        tx.commit().await.expect("commit");

        let m = store.message(id).await.expect("read").expect("there");
        assert_eq!((m.receipt.as_deref(), m.received_at), (Some(&b"{receipt}"[..]), Some(at(21))));
        assert_eq!(store.case_messages(&case).await.expect("read").len(), 1);
        assert_eq!(store.case(&case).await.expect("read"), Some(updated.clone()));
        let all = CaseFilter { limit: 10, ..CaseFilter::default() };
        assert_eq!(store.cases(&all).await.expect("list"), vec![updated.clone()]);
        let sent = CaseFilter { status: Some("sent".into()), requester: Some(us.clone()), limit: 10, ..CaseFilter::default() };
        assert_eq!(store.cases(&sent).await.expect("list").len(), 1);
        let overdue = CaseFilter { overdue_at: Some(at(499)), limit: 10, ..CaseFilter::default() };
        assert!(store.cases(&overdue).await.expect("list").is_empty());
        let wrong = CaseFilter { responder: Some(us.clone()), limit: 10, ..CaseFilter::default() };
        assert!(store.cases(&wrong).await.expect("list").is_empty());
        assert_eq!(
            store.outbox_summary().await.expect("summary"),
            vec![("CN".to_owned(), "delivered".to_owned(), 1)]
        );

        let mut tx = store.write().await.expect("write");
        tx.clear_projections().await.expect("clear");
        tx.commit().await.expect("commit");
        assert!(store.message(id).await.expect("read").is_none());
        assert_eq!(store.entry_count().await.expect("count"), 2, "the log stays");
    }

    async fn a_body_is_stored_outside_the_log_travels_with_its_outbox_item_and_survives_a_rebuild(db: TestDb) {
        // Arrange: a version 2 message, its header in the log and its body beside it.
        let store = db.open().await;
        let cn = party("CN");
        let id = MessageId::random();
        let digest = detente_protocol::Digest::of(b"body");
        let mut tx = store.write().await.expect("write");
        let entry = tx
            .append_entry(EntryKind::Envelope, Direction::Out, id, b"{header}", at(10))
            .await
            .expect("append");
        let row = MessageRow {
            id,
            direction: Direction::Out,
            sender: party("US"),
            recipient: cn.clone(),
            seq: 1,
            case_id: CaseId::parse("US-2026-0001").expect("case"),
            state: MessageState::Pending,
            envelope: b"{header}".to_vec(),
            receipt: None,
            received_at: None,
            rejection: None,
            envelope_entry: entry,
        };
        tx.insert_message(&row, "request", "hash", None).await.expect("message");
        tx.enqueue(id, &cn, 1, at(10)).await.expect("enqueue");

        // Act
        tx.insert_body(id, &digest, b"{body}").await.expect("body");
        tx.insert_body(id, &digest, b"{body}").await.expect("the same body again is a no-op");
        let in_tx = tx.body(id).await.expect("read");
        tx.commit().await.expect("commit");
        let due = store.outbox_due(at(10), 10).await.expect("due");
        let mut tx = store.write().await.expect("write");
        tx.clear_projections().await.expect("clear");
        tx.commit().await.expect("commit");

        // Assert
        assert_eq!(in_tx, Some((digest, b"{body}".to_vec())));
        assert_eq!(due[0].body.as_deref(), Some(&b"{body}"[..]));
        assert_eq!(store.body(id).await.expect("read"), Some((digest, b"{body}".to_vec())), "not a projection");
        assert_eq!(store.body(MessageId::random()).await.expect("read"), None);
        let many = store.bodies(&[MessageId::random(), id]).await.expect("read");
        assert_eq!(many.len(), 1);
        assert_eq!(many.get(&id), Some(&(digest, b"{body}".to_vec())));
    }

    async fn case_messages_come_in_pages_of_whole_cases_in_byte_order(db: TestDb) {
        let store = db.open().await;
        let (us, cn) = (party("US"), party("CN"));
        // Two messages in some cases; ids whose byte order differs from a locale's.
        let plan = [("US-2026-0002", 2), ("CN-2026-0010", 1), ("US-2026-0010", 2), ("CN-2026-0002", 1), ("US-2026-0001", 1)];
        let mut tx = store.write().await.expect("write");
        for (n, (case, messages)) in plan.iter().enumerate() {
            let case = CaseId::parse(case).expect("case");
            for k in 0..*messages {
                let id = MessageId::random();
                let t = at(i64::try_from(n * 10 + k).expect("small"));
                let entry = tx.append_entry(EntryKind::Envelope, Direction::Out, id, b"{e}", t).await.expect("append");
                let row = MessageRow {
                    id, direction: Direction::Out, sender: us.clone(), recipient: cn.clone(),
                    seq: u64::try_from(n * 10 + k).expect("small"), case_id: case.clone(), state: MessageState::Pending,
                    envelope: b"{e}".to_vec(), receipt: None, received_at: None, rejection: None, envelope_entry: entry,
                };
                tx.insert_message(&row, "request", "hash", None).await.expect("message");
            }
            let case_row = CaseRow {
                id: case, requester: us.clone(), responder: cn.clone(), kind: "investigation".into(),
                category: "botnet".into(), priority: "high".into(), tlp: "amber".into(), title: "t".into(),
                status: "pending_delivery".into(), filed_at: None, pending_out: 1, overdue_at: None, derived: "{}".into(),
            };
            tx.upsert_case(&case_row, at(0)).await.expect("case");
        }
        tx.commit().await.expect("commit");

        let mut pages = Vec::new();
        let mut after: Option<CaseId> = None;
        loop {
            let rows = store.case_messages_page(after.as_ref(), 2).await.expect("page");
            let Some(last) = rows.last() else { break };
            after = Some(last.case_id.clone());
            assert!(
                rows.windows(2).all(|w| w[0].case_id != w[1].case_id || w[0].envelope_entry < w[1].envelope_entry),
                "log order within a case"
            );
            pages.push(rows.iter().map(|r| r.case_id.to_string()).collect::<Vec<_>>());
        }
        assert_eq!(pages, vec![
            vec!["CN-2026-0002", "CN-2026-0010"],
            vec!["US-2026-0001", "US-2026-0002", "US-2026-0002"],
            vec!["US-2026-0010", "US-2026-0010"],
        ]);
        let next = store.case_messages_page(Some(&CaseId::parse("US-2026-0002").expect("case")), 1).await.expect("page");
        assert_eq!(next.iter().map(|r| r.case_id.to_string()).collect::<Vec<_>>(), ["US-2026-0010", "US-2026-0010"]);
    }

    async fn checkpoints_partner_checkpoints_and_alerts_round_trip(db: TestDb) {
        let store = db.open().await;
        let cn = party("CN");
        let mut tx = store.write().await.expect("write");
        tx.append_entry(EntryKind::Envelope, Direction::Out, MessageId::random(), b"e", at(1))
            .await
            .expect("append");
        let (size, root) = tx.tree_head();
        tx.insert_checkpoint(size, root, "note 1", at(1)).await.expect("checkpoint");
        let theirs = PartnerCheckpoint {
            party: cn.clone(),
            size: TreeSize::new(4),
            root,
            note: "their note".into(),
            state: CheckpointState::Unverified,
        };
        tx.insert_partner_checkpoint(&theirs, at(2)).await.expect("partner");
        tx.insert_partner_checkpoint(&theirs, at(3)).await.expect("a repeat is ignored");
        tx.commit().await.expect("commit");
        assert_eq!(store.latest_checkpoint().await.expect("read").as_deref(), Some("note 1"));
        assert_eq!(store.checkpoint_notes().await.expect("read"), vec!["note 1".to_owned()]);
        assert_eq!(store.unverified_partner_checkpoints().await.expect("read"), vec![theirs.clone()]);
        assert_eq!(
            store.partner_checkpoint_notes().await.expect("read"),
            vec![(cn.clone(), "their note".to_owned())]
        );

        let mut tx = store.write().await.expect("write");
        assert_eq!(tx.partner_checkpoints_at(&cn, TreeSize::new(4)).await.expect("read").len(), 1);
        tx.set_partner_checkpoint_state(&theirs, CheckpointState::Consistent).await.expect("state");
        tx.insert_alert("equivocation", &cn, "two roots", "evidence", at(5)).await.expect("alert");
        tx.insert_alert("equivocation", &cn, "again", "evidence", at(6)).await.expect("alert");
        tx.commit().await.expect("commit");
        assert!(store.unverified_partner_checkpoints().await.expect("read").is_empty());
        let consistent = store.consistent_partner_checkpoints(&cn).await.expect("read");
        assert_eq!(consistent[0].state, CheckpointState::Consistent);
        let alerts = store.alerts().await.expect("read");
        assert_eq!(alerts.iter().map(|a| a.detail.as_str()).collect::<Vec<_>>(), ["again", "two roots"]);
        assert_eq!(alerts[0].raised_at, at(6));
    }

    async fn a_read_only_open_reads_the_log_and_refuses_every_write(db: TestDb) {
        // Arrange: a log of three entries, written by a read-write store.
        let store = db.open().await;
        let mut tx = store.write().await.expect("write");
        for i in 0..3 {
            tx.append_entry(EntryKind::Envelope, Direction::In, MessageId::random(), &entry_bytes(i), at(1))
                .await
                .expect("append");
        }
        tx.commit().await.expect("commit");
        let head = store.tree_head().await;
        store.close().await;

        // Act
        let reader = Store::open_at_read_only(&db.location).await.expect("open read-only");

        // Assert: it reads what was committed, and nothing can be written through it, not
        // even below the store's own refusal.
        assert!(reader.read_only());
        assert_eq!(reader.tree_head().await, head);
        assert_eq!(reader.entries(0, 3).await.expect("entries").len(), 3);
        let err = reader.write().await.err().expect("a write is refused");
        assert!(matches!(err, crate::StoreError::ReadOnly), "{err}");
        let err = reader
            .execute_unchecked("INSERT INTO counters (name, value) VALUES ('c', 1)")
            .await
            .expect_err("the database itself refuses");
        // SQLite: "attempt to write a readonly database"; PostgreSQL: "cannot execute INSERT
        // in a read-only transaction".
        let why = err.to_string();
        assert!(why.contains("readonly") || why.contains("read-only"), "{why}");
        reader.close().await;
    }
}

/// SHA-256 of a file's bytes, or `None` when it does not exist.
fn file_digest(path: &std::path::Path) -> Option<Vec<u8>> {
    use sha2::Digest as _;
    std::fs::read(path)
        .ok()
        .map(|b| sha2::Sha256::digest(&b).to_vec())
}

/// Regression (issue 19.4): `log verify`, `log export` and `review` opened the database
/// read-write, so checking evidence could alter it (migrations, tree nodes for rows past the
/// tree, WAL checkpoints on close). A read-only open leaves the file and its WAL as they were,
/// while a writer holds the WAL open and after it closed.
#[tokio::test]
async fn a_read_only_open_leaves_the_database_file_and_its_wal_byte_for_byte_as_they_were() {
    let db = TestDb::sqlite();
    let Location::Sqlite(path) = &db.location else {
        unreachable!("a SQLite test database")
    };
    let wal = path.with_extension("db-wal");
    let writer = db.open().await;
    let mut tx = writer.write().await.expect("write");
    for i in 0..50 {
        tx.append_entry(
            EntryKind::Envelope,
            Direction::In,
            MessageId::random(),
            &entry_bytes(i),
            at(1),
        )
        .await
        .expect("append");
    }
    tx.commit().await.expect("commit");

    for writer_open in [true, false] {
        if !writer_open {
            writer.close().await;
        }
        let before = (file_digest(path), file_digest(&wal));
        assert!(before.0.is_some());
        let reader = Store::open_at_read_only(&db.location)
            .await
            .expect("open read-only");
        assert_eq!(reader.entries(0, 50).await.expect("entries").len(), 50);
        reader.root_at(TreeSize::new(50)).await.expect("root");
        reader.close().await;
        let after = (file_digest(path), file_digest(&wal));
        assert_eq!(
            before.0, after.0,
            "the database file changed (writer open: {writer_open})"
        );
        // A WAL the reader had to create to read a closed database is empty.
        let empty = Some(file_digest_of_nothing());
        assert!(
            before.1 == after.1 || (before.1.is_none() && after.1 == empty),
            "the WAL changed (writer open: {writer_open}): {before:?} -> {after:?}"
        );
    }
}

fn file_digest_of_nothing() -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(b"").to_vec()
}

/// Several node processes sharing one PostgreSQL database: stores opened separately (two
/// pools, as two processes would have) append concurrently, and the log stays one log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writers_in_several_processes_share_one_consistent_log() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let stores = [db.open().await, db.open().await, db.open().await];
    let mut tasks = Vec::new();
    for (w, store) in stores.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20u64 {
                let mut tx = store.write().await.expect("write");
                let bytes = format!("writer {w} entry {i}").into_bytes();
                tx.append_entry(
                    EntryKind::Envelope,
                    Direction::In,
                    MessageId::random(),
                    &bytes,
                    at(1),
                )
                .await
                .expect("append");
                tx.next_counter("shared").await.expect("counter");
                let (size, root) = tx.tree_head();
                tx.insert_checkpoint(size, root, "note", at(1))
                    .await
                    .expect("checkpoint");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer finished");
    }
    // Every store sees the same 60-entry tree, built from the entries in index order.
    let mut reference = MemoryLog::new();
    for (_, _, _, bytes) in stores[0].entries(0, 100).await.expect("entries") {
        reference.append(&bytes).expect("reference");
    }
    assert_eq!(reference.size(), TreeSize::new(60));
    for store in &stores {
        assert_eq!(
            store.tree_head().await,
            (reference.size(), reference.root())
        );
    }
    let mut tx = stores[1].write().await.expect("write");
    assert_eq!(
        tx.counter("shared").await.expect("counter"),
        60,
        "no lost update"
    );
    assert_eq!(tx.tree_head().0, TreeSize::new(60));
}
