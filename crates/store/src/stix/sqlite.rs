//! The SQLite half of STIX storage: the bulk statements, as multi-row `VALUES` lists sized
//! under SQLite's limit of 32,766 bound parameters per statement. Each full-size chunk has the
//! same text, so SQLite prepares it once per connection. A batch's last, shorter chunk is not
//! kept prepared: its length varies from batch to batch, and sqlx's per-connection statement
//! cache would otherwise fill with up to a hundred of these, each a program for thousands of
//! parameters.

use sqlx::{QueryBuilder, Sqlite};

use super::{BatchColumns, StixRow, Stored, StoredVersion, split};
use crate::decode::stored_version;
use crate::{StoreError, sqlite::WriteTx};

/// Objects per INSERT: 12 parameters each.
const OBJECT_ROWS: usize = 32_000 / 12;
/// (key, version) pairs per lookup, and (collection, seq) pairs per membership INSERT.
const PAIR_ROWS: usize = 32_000 / 2;

impl WriteTx {
    /// Stores the versions of `rows` not stored yet.
    pub(super) async fn insert_batch(
        &mut self,
        rows: &[StixRow],
        batch: &BatchColumns,
    ) -> Result<Stored, StoreError> {
        let stored = self.stored_versions(rows).await?;
        let split = split(rows, &stored);
        self.insert_objects(&split.new, batch).await?;
        Ok(split.into())
    }

    /// The stored versions whose (key, version) a row of `rows` has.
    async fn stored_versions(
        &mut self,
        rows: &[StixRow],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let mut out = Vec::new();
        for chunk in rows.chunks(PAIR_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new("SELECT o.seq, o.id, o.version FROM (");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.key).push_bind(r.version);
            });
            // CROSS JOIN keeps the list outside, so SQLite probes the index once per pair;
            // a row-value `IN (VALUES ...)` was planned as a scan of the whole table.
            q.push(
                ") AS k CROSS JOIN stix_objects o \
                 ON o.id_key = k.column1 AND o.version = k.column2",
            );
            let query = q.build().persistent(chunk.len() == PAIR_ROWS);
            for r in query.fetch_all(&mut *self.tx).await? {
                out.push(stored_version(&r)?);
            }
        }
        Ok(out)
    }

    /// Inserts `rows`, none of which is stored yet.
    async fn insert_objects(
        &mut self,
        rows: &[&StixRow],
        batch: &BatchColumns,
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(OBJECT_ROWS) {
            // OR FAIL: a multi-row INSERT that may ABORT (SQLite's default on a constraint)
            // must be able to undo its own earlier rows, so SQLite copied every page it
            // touched to a statement journal first (a fifth of the writer's time under perf).
            // A failed row fails the whole transaction here anyway, so nothing is lost.
            let mut q = QueryBuilder::<Sqlite>::new(concat!(
                "INSERT OR FAIL INTO stix_objects ",
                object_columns!(),
                " "
            ));
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.key)
                    .push_bind(&r.id)
                    .push_bind(r.version)
                    .push_bind(&r.modified)
                    .push_bind(&r.object_type)
                    .push_bind(&r.spec_version)
                    .push_bind(r.tlp)
                    .push_bind(&r.body)
                    .push_bind(batch.date_added)
                    .push_bind(&batch.origin)
                    .push_bind(batch.audience.as_deref())
                    .push_bind(&batch.recipients);
            });
            q.build()
                .persistent(chunk.len() == OBJECT_ROWS)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Adds the stored object versions `seqs` to `collection` (once: repeats are ignored).
    pub(super) async fn add_members(
        &mut self,
        collection: &str,
        seqs: &[i64],
    ) -> Result<(), StoreError> {
        for chunk in seqs.chunks(PAIR_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO stix_collection_objects (collection, seq) ",
            );
            q.push_values(chunk, |mut b, seq| {
                b.push_bind(collection).push_bind(*seq);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build()
                .persistent(chunk.len() == PAIR_ROWS)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}
