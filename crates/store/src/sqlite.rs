//! The SQLite backend.

use std::{
    path::Path,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use detente_ledger::{
    Digest, Frontier, HashStore as _, LeafIndex, MemoryStore, NodeId, ProofPlan, TreeSize,
    hash_leaf,
};
use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};
use sqlx::QueryBuilder;
use sqlx::{
    Row, Sqlite, SqlitePool, Transaction,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::decode::{
    case_row, corrupt, digest, message_row, parse, partner_checkpoint, to_i64, to_u64, ts,
};
use crate::{
    Alert, CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState,
    NewEntry, OutboxItem, PartnerCheckpoint, StoreError,
};

// Shared SELECT heads as macros so that every query stays one static, audited string.
macro_rules! message_select {
    () => {
        "SELECT m.id, m.direction, m.sender, m.recipient, m.seq, m.case_id, \
     m.state, e.bytes, r.bytes, m.received_at, m.rejection, m.envelope_entry \
     FROM messages m JOIN entries e ON e.idx = m.envelope_entry \
     LEFT JOIN entries r ON r.idx = m.receipt_entry "
    };
}

macro_rules! case_select {
    () => {
        "SELECT id, requester, responder, kind, category, priority, tlp, title, \
     status, filed_at, pending_out, overdue_at, derived FROM cases "
    };
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How many tree nodes one lookup statement asks for: more than an inclusion proof needs from
/// the database (about one per level below [`CACHED_LEVEL`]), and few enough that padding
/// every lookup to this width costs little. Larger plans take several statements.
const NODE_LOOKUP_WIDTH: usize = 16;

/// Tree nodes at this level and above are also kept in memory. A complete node never
/// changes, and there are few of them (one per 2^10 entries, 20,000 nodes or 640 KB at 10
/// million entries), so an inclusion proof reads at most this many nodes, all near its leaf,
/// from the database, and takes the rest from memory.
const CACHED_LEVEL: u8 = 10;

/// `SELECT ... WHERE (level, idx) IN (VALUES (?, ?), ...)` with [`NODE_LOOKUP_WIDTH`] pairs.
fn node_lookup_sql() -> sqlx::AssertSqlSafe<&'static str> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let pairs = vec!["(?, ?)"; NODE_LOOKUP_WIDTH].join(", ");
        format!("SELECT level, idx, hash FROM tree_nodes WHERE (level, idx) IN (VALUES {pairs})")
    });
    // Built once from constant fragments; every value is a bound parameter.
    sqlx::AssertSqlSafe(sql.as_str())
}

/// A node's database.
#[derive(Clone)]
pub struct Store {
    // Readers, and the migrations at open.
    pub(crate) pool: SqlitePool,
    // The one connection every write transaction runs on. SQLite has one writer at a time
    // anyway, and a connection of its own keeps its page cache (the index pages a bulk
    // import touches) warm from one transaction to the next; from the shared pool each
    // transaction got whichever connection came next, with a cold cache.
    write_pool: SqlitePool,
    // One writer at a time: the log's order is the commit order, and SQLite would otherwise
    // answer a second concurrent writer with SQLITE_BUSY. The lock guards the Merkle tree's
    // frontier as of the last commit.
    writer: Arc<Mutex<Frontier>>,
    // The committed tree nodes at CACHED_LEVEL and above; extended under the writer lock.
    upper: Arc<std::sync::RwLock<MemoryStore>>,
    // Whether the write connection checkpoints late, as a bulk transaction left it; read and
    // changed under the writer lock.
    late_checkpoints: Arc<AtomicBool>,
    // Opened by `open_read_only`: every connection is SQLite read-only and `write` refuses.
    read_only: bool,
}

impl Store {
    /// Opens (and with `create`, creates) the database at `path` and applies migrations.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // For new databases (an existing one keeps its size). 8 KiB rather than 4 KiB: a
            // bulk import writes half as many pages, frames and checkpoint copies for the
            // same rows (a fresh import of 1M went from about 120k to 140k objects/s), while
            // an inclusion proof's few point reads stay under 100 µs at 10M entries (16 KiB
            // gained nothing more for imports and took proofs to 98 µs).
            .page_size(8192);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                options
                    // Up to 64 MiB of pages, held only as a write touches them: a bulk batch
                    // of random ids touches pages all over the key index, and with SQLite's
                    // default 2 MiB each insert read its page back from the file and dirty
                    // pages spilled to the WAL before the commit (a third of a fresh import's
                    // writer time under perf).
                    .pragma("cache_size", "-65536")
                    // After a bulk import's long WAL (see `WriteTx::bulk`) is checkpointed,
                    // cut the file back to 64 MiB.
                    .pragma("journal_size_limit", "67108864"),
            )
            .await?;
        let store = Self {
            pool,
            write_pool,
            writer: Arc::new(Mutex::new(Frontier::new())),
            upper: Arc::default(),
            late_checkpoints: Arc::default(),
            read_only: false,
        };
        store.load_tree().await?;
        store.hash_entries_past_tree().await?;
        Ok(store)
    }

    /// Opens the existing database at `path` for reading only: the connections are SQLite
    /// read-only (`SQLITE_OPEN_READONLY`), no migration runs, nothing is hashed into the
    /// stored tree, and [`Store::write`] refuses. Checking evidence must not alter it: the
    /// database file and its WAL keep their bytes (a read-only connection never
    /// checkpoints the WAL into the file, not even as the last one to close).
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let store = Self {
            write_pool: pool.clone(),
            pool,
            writer: Arc::new(Mutex::new(Frontier::new())),
            upper: Arc::default(),
            late_checkpoints: Arc::default(),
            read_only: true,
        };
        store.load_tree().await?;
        Ok(store)
    }

    /// Whether this store was opened by [`Store::open_read_only`].
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Loads the stored tree's frontier and its upper nodes.
    async fn load_tree(&self) -> Result<(), StoreError> {
        let leaves: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tree_nodes WHERE level = 0")
            .fetch_one(&self.pool)
            .await?;
        let size = TreeSize::new(to_u64(leaves)?);
        let ids = Frontier::node_ids(size);
        let hashes = self.node_hashes(&ids).await?;
        let frontier = Frontier::from_hashes(size, hashes).map_err(corrupt)?;
        *self.writer.lock().await = frontier;
        let upper = sqlx::query(
            "SELECT level, idx, hash FROM tree_nodes WHERE level >= ? ORDER BY level, idx",
        )
        .bind(i64::from(CACHED_LEVEL))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(node_row)
        .collect::<Result<Vec<_>, _>>()?;
        // The cache accepts each level's nodes only in order, so a row missing in the middle
        // fails here, and one missing at the end fails the count.
        {
            let mut cache = self.upper_nodes();
            cache.insert(&upper).map_err(corrupt)?;
            let expected: u64 = (CACHED_LEVEL..=NodeId::MAX_LEVEL)
                .map(|level| size.get() >> level)
                .sum();
            if cache.node_count() != expected {
                return Err(StoreError::Corrupt(format!(
                    "the tree of {size} entries has {} stored nodes at level {CACHED_LEVEL} and above, not {expected}",
                    cache.node_count()
                )));
            }
        }
        Ok(())
    }

    /// Hashes any entries the stored tree does not cover yet (a database written before the
    /// tree existed) into it, and commits. Only a read-write open does this; a read-only one
    /// leaves such rows past the tree, where `detente log verify` names them.
    async fn hash_entries_past_tree(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let leaves = to_i64(tx.frontier.size().get())?;
        let rows = sqlx::query("SELECT idx, bytes FROM entries WHERE idx >= ? ORDER BY idx")
            .bind(leaves)
            .fetch_all(&mut *tx.tx)
            .await?;
        for r in &rows {
            let idx: i64 = r.try_get(0)?;
            let bytes: Vec<u8> = r.try_get(1)?;
            if to_u64(idx)? != tx.frontier.size().get() {
                return Err(StoreError::Corrupt(format!(
                    "log entry {idx} is out of sequence"
                )));
            }
            let nodes = tx.frontier.append(&[hash_leaf(&bytes)]).map_err(corrupt)?;
            tx.new_nodes.extend(nodes);
        }
        tx.commit().await
    }

    /// The in-memory upper tree nodes (a poisoned lock only means a reader panicked).
    fn upper_nodes(&self) -> std::sync::RwLockWriteGuard<'_, MemoryStore> {
        self.upper
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The stored hashes of `ids`, in the same order: the upper nodes from memory, the rest
    /// from the database in one statement per [`NODE_LOOKUP_WIDTH`] nodes.
    async fn node_hashes(&self, ids: &[NodeId]) -> Result<Vec<Digest>, StoreError> {
        let cached: Vec<Option<Digest>> = {
            let upper = self
                .upper
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let Ok(found) = upper.get_many(ids);
            found
        };
        let missing: Vec<NodeId> = ids
            .iter()
            .zip(&cached)
            .filter(|(_, hash)| hash.is_none())
            .map(|(&id, _)| id)
            .collect();
        let mut fetched = self.fetch_node_hashes(&missing).await?.into_iter();
        Ok(cached
            .into_iter()
            .map(|hash| hash.or_else(|| fetched.next()))
            .collect::<Option<Vec<_>>>()
            .expect("one fetched hash per node not in memory"))
    }

    /// The hashes of `ids` from the database, in the same order.
    async fn fetch_node_hashes(&self, ids: &[NodeId]) -> Result<Vec<Digest>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(NODE_LOOKUP_WIDTH) {
            // One statement text for every lookup, padded with a level no node has, so SQLite
            // prepares it once and each proof costs only its index probes.
            let mut q = sqlx::query(node_lookup_sql());
            for k in 0..NODE_LOOKUP_WIDTH {
                q = match chunk.get(k) {
                    Some(id) => q.bind(i64::from(id.level())).bind(to_i64(id.index())?),
                    None => q.bind(-1i64).bind(0i64),
                };
            }
            let rows = q.fetch_all(&self.pool).await?;
            let mut found = std::collections::HashMap::with_capacity(rows.len());
            for r in &rows {
                let (id, hash) = node_row(r)?;
                found.insert(id, hash);
            }
            for id in chunk {
                out.push(*found.get(id).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "tree node {}/{} is missing",
                        id.level(),
                        id.index()
                    ))
                })?);
            }
        }
        Ok(out)
    }

    /// The committed tree: its size and root.
    pub async fn tree_head(&self) -> (TreeSize, Digest) {
        let f = self.writer.lock().await;
        (f.size(), f.root())
    }

    /// The root of the tree when it had `size` entries.
    pub async fn root_at(&self, size: TreeSize) -> Result<Digest, StoreError> {
        let plan = ProofPlan::root(size);
        let hashes = self.node_hashes(plan.nodes()).await?;
        let mut root = plan.assemble(&hashes).map_err(corrupt)?;
        root.pop()
            .ok_or_else(|| StoreError::Corrupt("empty root plan".into()))
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3).
    pub async fn inclusion_proof(
        &self,
        index: LeafIndex,
        size: TreeSize,
    ) -> Result<Vec<Digest>, StoreError> {
        let plan =
            ProofPlan::inclusion(index, size).map_err(|e| StoreError::OutOfRange(e.to_string()))?;
        let hashes = self.node_hashes(plan.nodes()).await?;
        plan.assemble(&hashes).map_err(corrupt)
    }

    /// The consistency proof between the trees of `old` and `new` entries (RFC 9162 §2.1.4).
    pub async fn consistency_proof(
        &self,
        old: TreeSize,
        new: TreeSize,
    ) -> Result<Vec<Digest>, StoreError> {
        let plan =
            ProofPlan::consistency(old, new).map_err(|e| StoreError::OutOfRange(e.to_string()))?;
        let hashes = self.node_hashes(plan.nodes()).await?;
        plan.assemble(&hashes).map_err(corrupt)
    }

    /// Log entries with indices in `start..end`, in order: (index, kind, direction, bytes).
    pub async fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, String, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT idx, kind, direction, bytes FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
            .bind(to_i64(start)?)
            .bind(to_i64(end)?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    to_u64(r.try_get(0)?)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                ))
            })
            .collect()
    }

    /// The highest log index stored, if any entry is; with no rows deleted it is the tree's
    /// size minus one.
    pub async fn last_entry_index(&self) -> Result<Option<u64>, StoreError> {
        let idx: Option<i64> = sqlx::query_scalar("SELECT MAX(idx) FROM entries")
            .fetch_one(&self.pool)
            .await?;
        idx.map(to_u64).transpose()
    }

    /// The stored tree nodes at `level` with indices in `start..end`, in order (for checks
    /// that recompute the tree and compare).
    pub async fn tree_nodes(
        &self,
        level: u8,
        start: u64,
        end: u64,
    ) -> Result<Vec<(NodeId, Digest)>, StoreError> {
        sqlx::query(
            "SELECT level, idx, hash FROM tree_nodes WHERE level = ? AND idx >= ? AND idx < ? \
             ORDER BY idx",
        )
        .bind(i64::from(level))
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(node_row)
        .collect()
    }

    /// This node's latest signed checkpoint (signed-note text), if it has one.
    pub async fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Every checkpoint this node signed, by ascending size.
    pub async fn checkpoint_notes(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT note FROM checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Every checkpoint held from partners: (party, signed note), by party and size.
    pub async fn partner_checkpoint_notes(&self) -> Result<Vec<(PartyId, String)>, StoreError> {
        let rows = sqlx::query("SELECT party, note FROM partner_checkpoints ORDER BY party, size")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse(&r.try_get::<String, _>(0)?, PartyId::parse)?,
                    r.try_get(1)?,
                ))
            })
            .collect()
    }

    /// Partner checkpoints not yet checked for consistency: (party, size, root, note).
    pub async fn unverified_partner_checkpoints(
        &self,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT party, size, root, note, state FROM partner_checkpoints WHERE state = 'unverified' ORDER BY party, size",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(partner_checkpoint).collect()
    }

    /// Envelopes this node delivered to `party` (the partner receipted them) with `seq`
    /// above `after_seq`, in `seq` order, at most `limit`.
    pub async fn delivered_after(
        &self,
        party: &PartyId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        sqlx::query(concat!(
            message_select!(),
            "WHERE m.direction = 'out' AND m.recipient = ? AND m.state = 'delivered' \
             AND m.seq > ? ORDER BY m.seq LIMIT ?"
        ))
        .bind(party.as_str())
        .bind(to_i64(after_seq)?)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(message_row)
        .collect()
    }

    /// The value of a named counter outside a write transaction (0 if never set).
    pub async fn read_counter(&self, name: &str) -> Result<u64, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        to_u64(v.unwrap_or(0))
    }

    /// The partner's checkpoints known to be consistent, largest size first.
    pub async fn consistent_partner_checkpoints(
        &self,
        party: &PartyId,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT party, size, root, note, state FROM partner_checkpoints \
             WHERE party = ? AND state = 'consistent' ORDER BY size DESC",
        )
        .bind(party.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(partner_checkpoint).collect()
    }

    /// Alerts raised, newest first: (kind, party, detail, evidence, raised_at).
    pub async fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, party, detail, evidence, raised_at FROM alerts ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Alert {
                    kind: r.try_get(0)?,
                    party: r.try_get(1)?,
                    detail: r.try_get(2)?,
                    evidence: r.try_get(3)?,
                    raised_at: ts(r.try_get(4)?)?,
                })
            })
            .collect()
    }

    /// Starts the node's single write transaction.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let guard = Arc::clone(&self.writer).lock_owned().await;
        let mut tx = self.write_pool.begin_with("BEGIN IMMEDIATE").await?;
        if self.late_checkpoints.swap(false, Ordering::Relaxed) {
            // Back to SQLite's default after a bulk transaction: small commits append to a
            // short WAL that is reused from its start, where a WAL left to grow made every
            // commit's fsync extend the file as well (deliveries fell from 1,090/s to 924/s).
            // This commit checkpoints what the bulk one left.
            sqlx::query("PRAGMA wal_autocheckpoint = 1000")
                .execute(&mut *tx)
                .await?;
        }
        Ok(WriteTx {
            frontier: guard.clone(),
            new_nodes: Vec::new(),
            tx,
            counters: std::collections::HashMap::new(),
            guard,
            upper: Arc::clone(&self.upper),
            late_checkpoints: Arc::clone(&self.late_checkpoints),
        })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        // A read-only store's write pool is its read pool.
        self.write_pool.close().await;
        self.pool.close().await;
    }

    /// Whether an API token hash is known.
    pub async fn token_exists(&self, token_hash: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM api_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// A message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        sqlx::query(concat!(message_select!(), "WHERE m.id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| message_row(&r))
            .transpose()
    }

    /// Every message of a case, in log order.
    pub async fn case_messages(&self, case: &CaseId) -> Result<Vec<MessageRow>, StoreError> {
        sqlx::query(concat!(
            message_select!(),
            "WHERE m.case_id = ? ORDER BY m.envelope_entry"
        ))
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(message_row)
        .collect()
    }

    /// The messages of the first `cases` cases (in case id order) after `after`, ordered by
    /// case then log order: a whole-log pass in pages, rather than one query per case. Every
    /// case row is projected from at least its request message, so a page is never empty
    /// before the last case; the caller continues after the last row's case.
    pub async fn case_messages_page(
        &self,
        after: Option<&CaseId>,
        cases: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        sqlx::query(concat!(
            message_select!(),
            "WHERE m.case_id IN (SELECT id FROM cases WHERE ?1 IS NULL OR id > ?1 \
             ORDER BY id LIMIT ?2) ORDER BY m.case_id, m.envelope_entry"
        ))
        .bind(after.map(ToString::to_string))
        .bind(i64::from(cases))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(message_row)
        .collect()
    }

    /// One case's projected row.
    pub async fn case(&self, id: &CaseId) -> Result<Option<CaseRow>, StoreError> {
        sqlx::query(concat!(case_select!(), "WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| case_row(&r))
            .transpose()
    }

    /// Cases matching `filter`, newest first.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let sql = concat!(
            case_select!(),
            "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR requester = ?2) \
             AND (?3 IS NULL OR responder = ?3) AND (?4 IS NULL OR overdue_at <= ?4) \
             AND (?6 IS NULL OR COALESCE((SELECT ca.agency FROM case_agencies ca \
                  WHERE ca.case_id = cases.id), (SELECT a.id FROM agencies a WHERE a.duty = 1)) = ?6) \
             ORDER BY COALESCE(filed_at, updated_at) DESC, id DESC LIMIT ?5"
        );
        sqlx::query(sql)
            .bind(filter.status.as_deref())
            .bind(filter.requester.as_ref().map(PartyId::as_str))
            .bind(filter.responder.as_ref().map(PartyId::as_str))
            .bind(filter.overdue_at.map(Timestamp::unix_millis))
            .bind(i64::from(filter.limit))
            .bind(filter.agency.as_deref())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(case_row)
            .collect()
    }

    /// The next outgoing messages due for delivery: per recipient, the lowest pending seqs.
    pub async fn outbox_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // Delivery is strictly in seq order per recipient, so only recipients whose head
        // message is due are served, and for them the head and its successors.
        let rows = sqlx::query(
            "SELECT o.message_id, o.recipient, o.seq, o.attempts, e.bytes, m.case_id, b.bytes \
             FROM outbox o JOIN messages m ON m.id = o.message_id \
             JOIN entries e ON e.idx = m.envelope_entry \
             LEFT JOIN bodies b ON b.message_id = o.message_id \
             WHERE o.recipient IN (SELECT recipient FROM outbox o2 WHERE o2.seq = \
                 (SELECT MIN(seq) FROM outbox o3 WHERE o3.recipient = o2.recipient) \
                 AND o2.next_attempt_at <= ?) \
             ORDER BY o.recipient, o.seq LIMIT ?",
        )
        .bind(now.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxItem {
                    message_id: parse(r.try_get::<String, _>(0)?.as_str(), MessageId::parse)?,
                    recipient: parse(r.try_get::<String, _>(1)?.as_str(), PartyId::parse)?,
                    seq: to_u64(r.try_get(2)?)?,
                    attempts: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(u32::MAX),
                    envelope: r.try_get(4)?,
                    case_id: parse(r.try_get::<String, _>(5)?.as_str(), CaseId::parse)?,
                    body: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// When the next outbox attempt falls due, if anything is waiting.
    pub async fn outbox_next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let ms: Option<i64> = sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        ms.map(ts).transpose()
    }

    /// Number of log entries.
    pub async fn entry_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries")
            .fetch_one(&self.pool)
            .await?;
        to_u64(n)
    }

    /// Counts of outgoing messages per delivery state.
    pub async fn outbox_summary(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT recipient, state, COUNT(*) FROM messages WHERE direction = 'out' \
             GROUP BY recipient, state ORDER BY recipient, state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, to_u64(r.try_get(2)?)?)))
            .collect()
    }
}

/// The node's single write transaction. Dropping it without `commit` rolls back.
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Sqlite>,
    // The tree as this transaction extends it, and the nodes to write at commit.
    frontier: Frontier,
    new_nodes: Vec<(NodeId, Digest)>,
    // Counters read or changed in this transaction: (value, changed).
    counters: std::collections::HashMap<String, (u64, bool)>,
    guard: OwnedMutexGuard<Frontier>,
    upper: Arc<std::sync::RwLock<MemoryStore>>,
    late_checkpoints: Arc<AtomicBool>,
}

impl WriteTx {
    /// Marks this as a bulk transaction: its commit checkpoints only after 32,768 pages of
    /// WAL (256 MiB at 8 KiB) rather than 1,000. Each bulk batch rewrites index pages all
    /// over the STIX key index, and a checkpoint copies a page once however many commits
    /// rewrote it (a fresh import of 1M went from 76k to 92k objects/s). Durability is
    /// unchanged. The next write transaction sets the default back.
    pub(crate) async fn bulk(&mut self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_autocheckpoint = 32768")
            .execute(&mut *self.tx)
            .await?;
        self.late_checkpoints.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Commits; once this returns, the writes are durable.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        for (name, (value, dirty)) in std::mem::take(&mut self.counters) {
            if dirty {
                sqlx::query(
                    "INSERT INTO counters (name, value) VALUES (?, ?) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(name)
                .bind(to_i64(value)?)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        for chunk in self.new_nodes.chunks(10_000) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO tree_nodes (level, idx, hash) ");
            q.push_values(chunk, |mut row, (id, hash)| {
                row.push_bind(i64::from(id.level()))
                    .push_bind(i64::try_from(id.index()).unwrap_or(i64::MAX))
                    .push_bind(hash.as_bytes().to_vec());
            });
            q.build().execute(&mut *self.tx).await?;
        }
        self.tx.commit().await?;
        *self.guard = self.frontier;
        let upper: Vec<(NodeId, Digest)> = self
            .new_nodes
            .into_iter()
            .filter(|(id, _)| id.level() >= CACHED_LEVEL)
            .collect();
        self.upper
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(&upper)
            .expect("the frontier creates each level's nodes in order, after those loaded at open");
        Ok(())
    }

    /// The tree as extended by this transaction: its size and root.
    pub fn tree_head(&self) -> (TreeSize, Digest) {
        (self.frontier.size(), self.frontier.root())
    }

    /// Whether this transaction appended to the log.
    pub fn appended(&self) -> bool {
        !self.new_nodes.is_empty()
    }

    /// Empties every projection (messages, outbox, cases, counters) so that it can be
    /// rebuilt from the log. The log, the tree, checkpoints and alerts are untouched.
    pub async fn clear_projections(&mut self) -> Result<(), StoreError> {
        for sql in [
            "DELETE FROM outbox",
            "DELETE FROM cases",
            "DELETE FROM messages",
            "DELETE FROM counters",
        ] {
            sqlx::query(sql).execute(&mut *self.tx).await?;
        }
        self.counters.clear();
        Ok(())
    }

    /// Stores this node's signed checkpoint of the tree at `size`.
    pub async fn insert_checkpoint(
        &mut self,
        size: TreeSize,
        root: Digest,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)")
            .bind(to_i64(size.get())?)
            .bind(root.as_bytes().to_vec())
            .bind(note)
            .bind(at.unix_millis())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// The partner checkpoints already held at `size`.
    pub async fn partner_checkpoints_at(
        &mut self,
        party: &PartyId,
        size: TreeSize,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        let rows = sqlx::query("SELECT party, size, root, note, state FROM partner_checkpoints WHERE party = ? AND size = ?")
            .bind(party.as_str())
            .bind(to_i64(size.get())?)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(partner_checkpoint).collect()
    }

    /// Stores a partner checkpoint (once; a repeat is ignored).
    pub async fn insert_partner_checkpoint(
        &mut self,
        c: &PartnerCheckpoint,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO partner_checkpoints (party, size, root, note, received_at, state) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(c.party.as_str())
        .bind(to_i64(c.size.get())?)
        .bind(c.root.as_bytes().to_vec())
        .bind(&c.note)
        .bind(at.unix_millis())
        .bind(c.state.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records what checking a partner checkpoint showed.
    pub async fn set_partner_checkpoint_state(
        &mut self,
        c: &PartnerCheckpoint,
        state: CheckpointState,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE partner_checkpoints SET state = ? WHERE party = ? AND size = ? AND root = ?",
        )
        .bind(state.as_str())
        .bind(c.party.as_str())
        .bind(to_i64(c.size.get())?)
        .bind(c.root.as_bytes().to_vec())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Raises an alert for the operator.
    pub async fn insert_alert(
        &mut self,
        kind: &str,
        party: &PartyId,
        detail: &str,
        evidence: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO alerts (kind, party, detail, evidence, raised_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(kind)
        .bind(party.as_str())
        .bind(detail)
        .bind(evidence)
        .bind(at.unix_millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Appends an entry to the log and returns its index.
    pub async fn append_entry(
        &mut self,
        kind: EntryKind,
        direction: Direction,
        message_id: MessageId,
        bytes: &[u8],
        recorded_at: Timestamp,
    ) -> Result<i64, StoreError> {
        // The tree's size is the next index: the entry and its leaf get the same number.
        let idx = to_i64(self.frontier.size().get())?;
        sqlx::query(
            "INSERT INTO entries (idx, kind, direction, message_id, bytes, recorded_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(idx)
        .bind(kind.as_str())
        .bind(direction.as_str())
        .bind(message_id.to_string())
        .bind(bytes)
        .bind(recorded_at.unix_millis())
        .execute(&mut *self.tx)
        .await?;
        let nodes = self.frontier.append(&[hash_leaf(bytes)]).map_err(corrupt)?;
        self.new_nodes.extend(nodes);
        Ok(idx)
    }

    /// Appends many entries at once (multi-row inserts) and returns the index of the first.
    /// For bulk loads; the node's own traffic appends one entry at a time.
    pub async fn append_entries(&mut self, entries: &[NewEntry<'_>]) -> Result<i64, StoreError> {
        let first = to_i64(self.frontier.size().get())?;
        // 6 parameters a row; SQLite allows 32,766 per statement.
        for (c, chunk) in entries.chunks(5000).enumerate() {
            let base = first + to_i64((c * 5000) as u64)?;
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO entries (idx, kind, direction, message_id, bytes, recorded_at) ",
            );
            q.push_values(chunk.iter().enumerate(), |mut row, (i, e)| {
                row.push_bind(base + i as i64)
                    .push_bind(e.kind.as_str())
                    .push_bind(e.direction.as_str())
                    .push_bind(e.message_id.to_string())
                    .push_bind(e.bytes)
                    .push_bind(e.recorded_at.unix_millis());
            });
            q.build().execute(&mut *self.tx).await?;
        }
        let leaves: Vec<Digest> = entries.iter().map(|e| hash_leaf(e.bytes)).collect();
        let nodes = self.frontier.append(&leaves).map_err(corrupt)?;
        self.new_nodes.extend(nodes);
        Ok(first)
    }

    /// Increments a named counter and returns the new value (1 for a new counter).
    pub async fn next_counter(&mut self, name: &str) -> Result<u64, StoreError> {
        let v = self.counter(name).await? + 1;
        self.set_counter(name, v).await?;
        Ok(v)
    }

    /// The value of a named counter (0 if never set).
    pub async fn counter(&mut self, name: &str) -> Result<u64, StoreError> {
        if let Some((v, _)) = self.counters.get(name) {
            return Ok(*v);
        }
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        let v = to_u64(v.unwrap_or(0))?;
        self.counters.insert(name.to_owned(), (v, false));
        Ok(v)
    }

    /// Sets a named counter. Counters are written once, at commit, however often they change
    /// within the transaction.
    pub async fn set_counter(&mut self, name: &str, value: u64) -> Result<(), StoreError> {
        to_i64(value)?;
        self.counters.insert(name.to_owned(), (value, true));
        Ok(())
    }

    /// Records a message whose envelope (and receipt, if any) is already in the log.
    pub async fn insert_message(
        &mut self,
        row: &MessageRow,
        message_type: &str,
        envelope_hash: &str,
        receipt_entry: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO messages (id, direction, sender, recipient, seq, case_id, type, \
             envelope_entry, envelope_hash, receipt_entry, received_at, state) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.id.to_string())
        .bind(row.direction.as_str())
        .bind(row.sender.as_str())
        .bind(row.recipient.as_str())
        .bind(to_i64(row.seq)?)
        .bind(row.case_id.to_string())
        .bind(message_type)
        .bind(row.envelope_entry)
        .bind(envelope_hash)
        .bind(receipt_entry)
        .bind(row.received_at.map(Timestamp::unix_millis))
        .bind(row.state.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Attaches a receipt (already in the log) to a message and sets its official time.
    pub async fn set_receipt(
        &mut self,
        id: MessageId,
        receipt_entry: i64,
        received_at: Timestamp,
        state: MessageState,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE messages SET receipt_entry = ?, received_at = ?, state = ? WHERE id = ?",
        )
        .bind(receipt_entry)
        .bind(received_at.unix_millis())
        .bind(state.as_str())
        .bind(id.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Marks an outgoing message as refused for good by its recipient.
    pub async fn set_rejected(&mut self, id: MessageId, reason: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE messages SET state = 'rejected', rejection = ? WHERE id = ?")
            .bind(reason)
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A message by id, inside this transaction.
    pub async fn message(&mut self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        sqlx::query(concat!(message_select!(), "WHERE m.id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await?
            .map(|r| message_row(&r))
            .transpose()
    }

    /// The message `id`, if known, and every message of `case`, in one query.
    pub async fn message_and_case(
        &mut self,
        id: MessageId,
        case: &CaseId,
    ) -> Result<(Option<MessageRow>, Vec<MessageRow>), StoreError> {
        let rows = sqlx::query(concat!(
            message_select!(),
            "WHERE m.id = ? OR m.case_id = ? ORDER BY m.envelope_entry"
        ))
        .bind(id.to_string())
        .bind(case.to_string())
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(message_row)
        .collect::<Result<Vec<_>, _>>()?;
        let known = rows.iter().find(|r| r.id == id).cloned();
        Ok((
            known,
            rows.into_iter().filter(|r| &r.case_id == case).collect(),
        ))
    }

    /// Every message of a case, in log order, inside this transaction.
    pub async fn case_messages(&mut self, case: &CaseId) -> Result<Vec<MessageRow>, StoreError> {
        sqlx::query(concat!(
            message_select!(),
            "WHERE m.case_id = ? ORDER BY m.envelope_entry"
        ))
        .bind(case.to_string())
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(message_row)
        .collect()
    }

    /// Queues an outgoing message for delivery now.
    pub async fn enqueue(
        &mut self,
        id: MessageId,
        recipient: &PartyId,
        seq: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbox (message_id, recipient, seq, next_attempt_at) VALUES (?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(recipient.as_str())
        .bind(to_i64(seq)?)
        .bind(now.unix_millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Removes a delivered (or refused) message from the outbox; `false` if it was not there.
    pub async fn dequeue(&mut self, id: MessageId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE message_id = ?")
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt for every queued message to `recipient`.
    pub async fn defer(
        &mut self,
        recipient: &PartyId,
        until: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? \
             WHERE recipient = ?",
        )
        .bind(until.unix_millis())
        .bind(error)
        .bind(recipient.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Writes a case's projected row.
    pub async fn upsert_case(&mut self, row: &CaseRow, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cases (id, requester, responder, kind, category, priority, tlp, title, \
             status, filed_at, pending_out, overdue_at, updated_at, derived) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, filed_at = excluded.filed_at, \
             pending_out = excluded.pending_out, overdue_at = excluded.overdue_at, \
             updated_at = excluded.updated_at, derived = excluded.derived",
        )
        .bind(row.id.to_string())
        .bind(row.requester.as_str())
        .bind(row.responder.as_str())
        .bind(&row.kind)
        .bind(&row.category)
        .bind(&row.priority)
        .bind(&row.tlp)
        .bind(&row.title)
        .bind(&row.status)
        .bind(row.filed_at.map(Timestamp::unix_millis))
        .bind(i64::from(row.pending_out))
        .bind(row.overdue_at.map(Timestamp::unix_millis))
        .bind(now.unix_millis())
        .bind(&row.derived)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Stores the hash of a new API token.
    pub async fn insert_token(
        &mut self,
        token_hash: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, name, created_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(name)
            .bind(now.unix_millis())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

/// A `tree_nodes` row selected as `level, idx, hash`.
fn node_row(r: &SqliteRow) -> Result<(NodeId, Digest), StoreError> {
    let level = u8::try_from(r.try_get::<i64, _>(0)?)
        .map_err(|_| StoreError::Corrupt("tree node level out of range".into()))?;
    let id = NodeId::new(level, to_u64(r.try_get(1)?)?).map_err(corrupt)?;
    Ok((id, digest(r.try_get(2)?, "tree node hash")?))
}

impl FromStr for Direction {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Self::parse(s)
    }
}

#[cfg(test)]
impl Store {
    /// Runs one statement outside any write transaction (tests of the triggers).
    pub(crate) async fn execute_unchecked(&self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db"), true)
            .await
            .expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn a_bulk_transaction_checkpoints_late_and_the_next_write_sets_the_default_back() {
        let (_dir, store) = store().await;
        let pages = || async {
            sqlx::query_scalar::<_, i64>("PRAGMA wal_autocheckpoint")
                .fetch_one(&store.write_pool)
                .await
                .expect("pragma")
        };
        assert_eq!(pages().await, 1000);
        let mut tx = store.write().await.expect("write");
        tx.bulk().await.expect("bulk");
        tx.commit().await.expect("commit");
        assert_eq!(pages().await, 32768);
        store
            .write()
            .await
            .expect("write")
            .commit()
            .await
            .expect("commit");
        assert_eq!(pages().await, 1000);
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).expect("valid time")
    }

    #[tokio::test]
    async fn log_entries_get_consecutive_indices_and_cannot_be_changed_or_deleted() {
        let (_dir, store) = store().await;
        let mut tx = store.write().await.expect("write");
        let a = tx
            .append_entry(
                EntryKind::Envelope,
                Direction::Out,
                MessageId::random(),
                b"a",
                at(1),
            )
            .await
            .expect("append");
        let b = tx
            .append_entry(
                EntryKind::Receipt,
                Direction::In,
                MessageId::random(),
                b"b",
                at(2),
            )
            .await
            .expect("append");
        tx.commit().await.expect("commit");
        assert_eq!((a, b), (0, 1));
        for sql in [
            "UPDATE entries SET bytes = x'00' WHERE idx = 0",
            "DELETE FROM entries WHERE idx = 1",
        ] {
            let err = sqlx::query(sql)
                .execute(&store.pool)
                .await
                .expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{err}");
        }
        assert_eq!(store.entry_count().await.expect("count"), 2);
    }

    #[tokio::test]
    async fn proofs_from_the_cached_upper_tree_match_an_in_memory_log_before_and_after_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let store = Store::open(&path, true).await.expect("open");
        let bytes: Vec<Vec<u8>> = (0..5000u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut reference = detente_ledger::MemoryLog::new();
        // Uneven batches, so upper nodes are completed both inside and across commits.
        for chunk in bytes.chunks(1777) {
            let entries: Vec<NewEntry<'_>> = chunk
                .iter()
                .map(|b| NewEntry {
                    kind: EntryKind::Receipt,
                    direction: Direction::In,
                    message_id: MessageId::random(),
                    bytes: b,
                    recorded_at: at(1),
                })
                .collect();
            let mut tx = store.write().await.expect("write");
            tx.append_entries(&entries).await.expect("append");
            tx.commit().await.expect("commit");
            reference.append_entries(chunk).expect("room");
        }
        let check = |store: Store| {
            let reference = &reference;
            async move {
                for (index, size) in [
                    (0, 5000),
                    (1023, 1024),
                    (2047, 4096),
                    (4999, 5000),
                    (7, 3001),
                ] {
                    let (index, size) = (LeafIndex::new(index), TreeSize::new(size));
                    assert_eq!(
                        store.inclusion_proof(index, size).await.expect("proof"),
                        reference.inclusion_proof(index, size).expect("proof"),
                        "entry {index} at size {size}"
                    );
                }
                assert_eq!(store.tree_head().await.1, reference.root());
            }
        };
        check(store.clone()).await;
        store.close().await;
        check(Store::open(&path, false).await.expect("reopen")).await;
    }

    #[tokio::test]
    async fn counters_survive_commit_and_vanish_with_rollback() {
        let (_dir, store) = store().await;
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

    #[tokio::test]
    async fn a_reopened_database_keeps_what_was_committed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let store = Store::open(&path, true).await.expect("open");
        let mut tx = store.write().await.expect("write");
        tx.insert_token("hash", "init", at(0)).await.expect("token");
        tx.commit().await.expect("commit");
        store.close().await;
        let again = Store::open(&path, false).await.expect("reopen");
        assert!(again.token_exists("hash").await.expect("read"));
        assert!(!again.token_exists("other").await.expect("read"));
    }

    #[tokio::test]
    async fn opening_a_missing_database_without_create_fails() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(
            Store::open(&dir.path().join("missing.db"), false)
                .await
                .is_err()
        );
    }
}
