//! The PostgreSQL backend: the same tables, API and guarantees as the SQLite backend, for
//! nodes that outgrow one machine and run several processes against one database.
//!
//! What differs from SQLite, and why:
//!
//! - **One writer across processes.** SQLite's writer lock is the file; here several node
//!   processes may share the database, so every write transaction first takes a
//!   transaction-scoped advisory lock ([`LOG_LOCK`], `pg_advisory_xact_lock`). PostgreSQL
//!   releases it at commit or rollback, also when the process dies. Under the lock the
//!   transaction reads the tree's size and, if another process appended since, reloads the
//!   frontier from `tree_nodes` before appending. The log's order is the commit order, and
//!   no two processes can ever issue the same index (the primary key would refuse it anyway).
//! - **Arrays instead of long VALUES lists.** Bulk appends, tree nodes and proof lookups bind
//!   one array per column (`UNNEST`), so every statement is one static, prepared string.
//! - **Durability** is PostgreSQL's default (`synchronous_commit = on`, fsync on): a commit
//!   that returned survives a crash of the server or of the node.
//!
//! Row decoding is shared with SQLite (`decode.rs`); the SQL text differs only in
//! placeholders (`$1`), types (`BYTEA`, `BIGINT`) and the locking above.

use std::{str::FromStr, sync::Arc, time::Duration};

use detente_ledger::{Digest, Frontier, LeafIndex, NodeId, ProofPlan, TreeSize, hash_leaf};
use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};
use sqlx::{
    PgPool, Postgres, Row, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::decode::{
    alert, case_row, corrupt, digest, message_row, outbox_item, parse, partner_checkpoint, to_i64,
    to_u64, ts,
};
use crate::{
    Alert, CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState,
    NewEntry, OutboxItem, PartnerCheckpoint, StoreError,
};

// The same SELECT heads as the SQLite backend, so that `decode.rs` reads both.
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock key every writer of the log takes: `detente1` as a big-endian i64.
/// Advisory locks are per database, so nodes in different databases never contend.
pub const LOG_LOCK: i64 = i64::from_be_bytes(*b"detente1");

/// The tree's size as committed: one past the last leaf (the primary key answers it).
const TREE_SIZE_SQL: &str = "SELECT COALESCE(MAX(idx) + 1, 0) FROM tree_nodes WHERE level = 0";

/// A node's PostgreSQL database.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: PgPool,
    // One writer at a time within this process (other processes wait on the advisory lock).
    // Guards the frontier as of the last commit this process saw.
    writer: Arc<Mutex<Frontier>>,
    // Opened by `open_read_only`: every session is read-only and `write` refuses.
    read_only: bool,
}

impl Store {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// applies migrations. The database must exist; detente creates its tables.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::connect(url, false).await
    }

    /// Connects to the database at `url` for reading only: every session starts with
    /// `default_transaction_read_only = on` (PostgreSQL refuses any write in it), no
    /// migration runs, and [`Store::write`] refuses.
    pub async fn open_read_only(url: &str) -> Result<Self, StoreError> {
        Self::connect(url, true).await
    }

    /// Whether this store was opened by [`Store::open_read_only`].
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    async fn connect(url: &str, read_only: bool) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)?;
        if read_only {
            options = options.options([("default_transaction_read_only", "on")]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        if !read_only {
            // sqlx's migrator takes its own advisory lock: processes starting together are
            // safe.
            MIGRATOR.run(&pool).await?;
        }
        let store = Self {
            pool,
            writer: Arc::new(Mutex::new(Frontier::new())),
            read_only,
        };
        let mut conn = store.pool.acquire().await?;
        // Entries and their tree nodes are committed together, so one snapshot (one
        // statement) shows the same count of both; a difference means outside edits.
        let (entries, leaves): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COALESCE(MAX(idx) + 1, 0) FROM entries), \
             (SELECT COALESCE(MAX(idx) + 1, 0) FROM tree_nodes WHERE level = 0)",
        )
        .fetch_one(&mut *conn)
        .await?;
        if entries != leaves {
            return Err(StoreError::Corrupt(format!(
                "the log has {entries} entries but its tree covers {leaves}"
            )));
        }
        // Tree nodes are never changed, so the frontier at that size can be read afterwards
        // even if other processes append meanwhile.
        let frontier = frontier_at(&mut conn, TreeSize::new(to_u64(leaves)?)).await?;
        *store.writer.lock().await = frontier;
        drop(conn);
        Ok(store)
    }

    /// The committed tree: its size and root, as last committed by any process.
    pub async fn tree_head(&self) -> (TreeSize, Digest) {
        let mut f = self.writer.lock().await;
        // Another process may have appended; catch up. On a database error the last tree
        // this process saw is still a true (if older) head.
        if let Ok(mut conn) = self.pool.acquire().await
            && let Ok(fresh) = load_frontier(&mut conn, &f).await
        {
            *f = fresh;
        }
        (f.size(), f.root())
    }

    /// The root of the tree when it had `size` entries.
    pub async fn root_at(&self, size: TreeSize) -> Result<Digest, StoreError> {
        let plan = ProofPlan::root(size);
        let mut conn = self.pool.acquire().await?;
        let hashes = node_hashes(&mut conn, plan.nodes()).await?;
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
        let mut conn = self.pool.acquire().await?;
        let hashes = node_hashes(&mut conn, plan.nodes()).await?;
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
        let mut conn = self.pool.acquire().await?;
        let hashes = node_hashes(&mut conn, plan.nodes()).await?;
        plan.assemble(&hashes).map_err(corrupt)
    }

    /// Log entries with indices in `start..end`, in order: (index, kind, direction, bytes).
    pub async fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, String, String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT idx, kind, direction, bytes FROM entries \
             WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
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

    /// Partner checkpoints not yet checked for consistency.
    pub async fn unverified_partner_checkpoints(
        &self,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT party, size, root, note, state FROM partner_checkpoints \
             WHERE state = 'unverified' ORDER BY party, size",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(partner_checkpoint).collect()
    }

    /// The partner's checkpoints known to be consistent, largest size first.
    pub async fn consistent_partner_checkpoints(
        &self,
        party: &PartyId,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT party, size, root, note, state FROM partner_checkpoints \
             WHERE party = $1 AND state = 'consistent' ORDER BY size DESC",
        )
        .bind(party.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(partner_checkpoint).collect()
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
        let rows = sqlx::query(
            "SELECT idx, hash FROM tree_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 \
             ORDER BY idx",
        )
        .bind(i64::from(level))
        .bind(to_i64(start)?)
        .bind(to_i64(end)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id = NodeId::new(level, to_u64(r.try_get(0)?)?).map_err(corrupt)?;
                Ok((id, digest(r.try_get(1)?, "tree node hash")?))
            })
            .collect()
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
            "WHERE m.direction = 'out' AND m.recipient = $1 AND m.state = 'delivered' \
             AND m.seq > $2 ORDER BY m.seq LIMIT $3"
        ))
        .bind(party.as_str())
        .bind(to_i64(after_seq)?)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(message_row)
        .collect()
    }

    /// The value of a named counter outside a write transaction (0 if never set).
    pub async fn read_counter(&self, name: &str) -> Result<u64, StoreError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        to_u64(v.unwrap_or(0))
    }

    /// Alerts raised, newest first.
    pub async fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, party, detail, evidence, raised_at FROM alerts ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert).collect()
    }

    /// Starts the node's single write transaction: this process's writer lock, then the
    /// database-wide advisory lock, then catching up with appends by other processes.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let guard = Arc::clone(&self.writer).lock_owned().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK)
            .execute(&mut *tx)
            .await?;
        // READ COMMITTED: every statement from here on sees all commits made before the
        // lock was granted, so this is the true head of the log.
        let frontier = load_frontier(&mut tx, &guard).await?;
        Ok(WriteTx {
            frontier,
            new_nodes: Vec::new(),
            tx,
            counters: std::collections::HashMap::new(),
            guard,
        })
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether an API token hash is known.
    pub async fn token_exists(&self, token_hash: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// A message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        sqlx::query(concat!(message_select!(), "WHERE m.id = $1"))
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
            "WHERE m.case_id = $1 ORDER BY m.envelope_entry"
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
        // COLLATE "C": byte order, as on SQLite, whatever the cluster's locale.
        sqlx::query(concat!(
            message_select!(),
            "WHERE m.case_id IN (SELECT id FROM cases \
             WHERE $1::text IS NULL OR id > $1 COLLATE \"C\" \
             ORDER BY id COLLATE \"C\" LIMIT $2) \
             ORDER BY m.case_id COLLATE \"C\", m.envelope_entry"
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
        sqlx::query(concat!(case_select!(), "WHERE id = $1"))
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
            "WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR requester = $2) \
             AND ($3::text IS NULL OR responder = $3) \
             AND ($4::bigint IS NULL OR overdue_at <= $4) \
             AND ($6::text IS NULL OR COALESCE((SELECT ca.agency FROM case_agencies ca \
                  WHERE ca.case_id = cases.id), (SELECT a.id FROM agencies a WHERE a.duty = 1)) = $6) \
             ORDER BY COALESCE(filed_at, updated_at) DESC, id DESC LIMIT $5"
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
                 AND o2.next_attempt_at <= $1) \
             ORDER BY o.recipient, o.seq LIMIT $2",
        )
        .bind(now.unix_millis())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_item).collect()
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

    /// Runs one statement outside any write transaction (tests of the triggers).
    #[cfg(test)]
    pub(crate) async fn execute_unchecked(&self, sql: &'static str) -> Result<(), StoreError> {
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }
}

/// The frontier of the committed tree: `known` (what this process last saw) when no other
/// process has appended since, else read again from the stored nodes.
async fn load_frontier(
    conn: &mut sqlx::PgConnection,
    known: &Frontier,
) -> Result<Frontier, StoreError> {
    let size: i64 = sqlx::query_scalar(TREE_SIZE_SQL)
        .fetch_one(&mut *conn)
        .await?;
    let size = TreeSize::new(to_u64(size)?);
    if known.size() == size {
        return Ok(known.clone());
    }
    frontier_at(conn, size).await
}

/// The frontier of the tree of `size` entries, from its stored nodes.
async fn frontier_at(
    conn: &mut sqlx::PgConnection,
    size: TreeSize,
) -> Result<Frontier, StoreError> {
    let ids = Frontier::node_ids(size);
    let hashes = node_hashes(conn, &ids).await?;
    Frontier::from_hashes(size, hashes).map_err(corrupt)
}

/// The stored hashes of `ids`, in the same order, in one statement.
async fn node_hashes(
    conn: &mut sqlx::PgConnection,
    ids: &[NodeId],
) -> Result<Vec<Digest>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let levels: Vec<i64> = ids.iter().map(|id| i64::from(id.level())).collect();
    let indices = ids
        .iter()
        .map(|id| to_i64(id.index()))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = sqlx::query(
        "SELECT t.level, t.idx, t.hash FROM UNNEST($1::bigint[], $2::bigint[]) AS k (level, idx) \
         JOIN tree_nodes t ON t.level = k.level AND t.idx = k.idx",
    )
    .bind(&levels)
    .bind(&indices)
    .fetch_all(&mut *conn)
    .await?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        let key: (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
        found.insert(key, digest(r.try_get(2)?, "tree node hash")?);
    }
    levels
        .iter()
        .zip(&indices)
        .map(|(&level, &idx)| {
            found
                .get(&(level, idx))
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("tree node {level}/{idx} is missing")))
        })
        .collect()
}

/// The node's single write transaction. Dropping it without `commit` rolls back (and so
/// releases the advisory lock).
pub struct WriteTx {
    pub(crate) tx: Transaction<'static, Postgres>,
    // The tree as this transaction extends it, and the nodes to write at commit.
    frontier: Frontier,
    new_nodes: Vec<(NodeId, Digest)>,
    // Counters read or changed in this transaction: (value, changed).
    counters: std::collections::HashMap<String, (u64, bool)>,
    guard: OwnedMutexGuard<Frontier>,
}

impl WriteTx {
    /// Commits; once this returns, the writes are durable.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let (mut names, mut values) = (Vec::new(), Vec::new());
        for (name, (value, dirty)) in std::mem::take(&mut self.counters) {
            if dirty {
                names.push(name);
                values.push(to_i64(value)?);
            }
        }
        if !names.is_empty() {
            sqlx::query(
                "INSERT INTO counters (name, value) SELECT * FROM UNNEST($1::text[], $2::bigint[]) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(&names)
            .bind(&values)
            .execute(&mut *self.tx)
            .await?;
        }
        for chunk in self.new_nodes.chunks(50_000) {
            let levels: Vec<i64> = chunk.iter().map(|(id, _)| i64::from(id.level())).collect();
            let indices = chunk
                .iter()
                .map(|(id, _)| to_i64(id.index()))
                .collect::<Result<Vec<_>, _>>()?;
            let hashes: Vec<&[u8]> = chunk.iter().map(|(_, h)| h.as_bytes().as_slice()).collect();
            sqlx::query(
                "INSERT INTO tree_nodes (level, idx, hash) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bytea[])",
            )
            .bind(&levels)
            .bind(&indices)
            .bind(&hashes)
            .execute(&mut *self.tx)
            .await?;
        }
        self.tx.commit().await?;
        *self.guard = self.frontier;
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
        sqlx::query(
            "INSERT INTO checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(to_i64(size.get())?)
        .bind(root.as_bytes().as_slice())
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
        let rows = sqlx::query(
            "SELECT party, size, root, note, state FROM partner_checkpoints \
             WHERE party = $1 AND size = $2",
        )
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
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(c.party.as_str())
        .bind(to_i64(c.size.get())?)
        .bind(c.root.as_bytes().as_slice())
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
            "UPDATE partner_checkpoints SET state = $1 \
             WHERE party = $2 AND size = $3 AND root = $4",
        )
        .bind(state.as_str())
        .bind(c.party.as_str())
        .bind(to_i64(c.size.get())?)
        .bind(c.root.as_bytes().as_slice())
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
            "INSERT INTO alerts (kind, party, detail, evidence, raised_at) \
             VALUES ($1, $2, $3, $4, $5)",
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
             VALUES ($1, $2, $3, $4, $5, $6)",
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

    /// Appends many entries at once (one array per column) and returns the index of the
    /// first. For bulk loads; the node's own traffic appends one entry at a time.
    pub async fn append_entries(&mut self, entries: &[NewEntry<'_>]) -> Result<i64, StoreError> {
        let first = to_i64(self.frontier.size().get())?;
        for (c, chunk) in entries.chunks(10_000).enumerate() {
            let base = first + to_i64((c * 10_000) as u64)?;
            let idx: Vec<i64> = (0..chunk.len()).map(|i| base + i as i64).collect();
            let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
            let dirs: Vec<&str> = chunk.iter().map(|e| e.direction.as_str()).collect();
            let ids: Vec<String> = chunk.iter().map(|e| e.message_id.to_string()).collect();
            let bytes: Vec<&[u8]> = chunk.iter().map(|e| e.bytes).collect();
            let at: Vec<i64> = chunk.iter().map(|e| e.recorded_at.unix_millis()).collect();
            sqlx::query(
                "INSERT INTO entries (idx, kind, direction, message_id, bytes, recorded_at) \
                 SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], \
                 $5::bytea[], $6::bigint[])",
            )
            .bind(&idx)
            .bind(&kinds)
            .bind(&dirs)
            .bind(&ids)
            .bind(&bytes)
            .bind(&at)
            .execute(&mut *self.tx)
            .await?;
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
        let v: Option<i64> = sqlx::query_scalar("SELECT value FROM counters WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await?;
        let v = to_u64(v.unwrap_or(0))?;
        self.counters.insert(name.to_owned(), (v, false));
        Ok(v)
    }

    /// Sets a named counter. Counters are written once, at commit.
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
            "UPDATE messages SET receipt_entry = $1, received_at = $2, state = $3 WHERE id = $4",
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
        sqlx::query("UPDATE messages SET state = 'rejected', rejection = $1 WHERE id = $2")
            .bind(reason)
            .bind(id.to_string())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A message by id, inside this transaction.
    pub async fn message(&mut self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        sqlx::query(concat!(message_select!(), "WHERE m.id = $1"))
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
            "WHERE m.id = $1 OR m.case_id = $2 ORDER BY m.envelope_entry"
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
            "WHERE m.case_id = $1 ORDER BY m.envelope_entry"
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
            "INSERT INTO outbox (message_id, recipient, seq, next_attempt_at) \
             VALUES ($1, $2, $3, $4)",
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
        let done = sqlx::query("DELETE FROM outbox WHERE message_id = $1")
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
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
             WHERE recipient = $3",
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
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
        sqlx::query("INSERT INTO api_tokens (token_hash, name, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(name)
            .bind(now.unix_millis())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

/// Creates the empty database `name` on the server at `server_url` (a URL naming any
/// database the role may connect to, e.g. `postgres`) and returns the URL of the new one.
/// For tests and benchmarks, which each want a database of their own; operators create
/// theirs with `createdb`. `name` must be lowercase letters, digits and `_`.
pub async fn create_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::OutOfRange(format!(
            "database name {name:?}: use lowercase letters, digits and _"
        )));
    }
    let options = PgConnectOptions::from_str(server_url)?;
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    // Identifiers cannot be bound; the name was checked above to be a plain identifier.
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    sqlx::Connection::close(conn).await?;
    Ok(sqlx::ConnectOptions::to_url_lossy(&options.database(name)).to_string())
}
