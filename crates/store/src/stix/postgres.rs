//! The PostgreSQL half of STIX storage: the bulk statements, binding one array per column
//! (`UNNEST`), so each is one static, prepared statement whatever the batch size, and the
//! protocol's 65,535-parameter limit never applies.

use super::{BatchColumns, StixRow, Stored, StoredVersion, split};
use crate::decode::stored_version;
use crate::{StoreError, postgres::WriteTx};

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
        let keys: Vec<i64> = rows.iter().map(|r| r.key).collect();
        let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
        sqlx::query(
            "SELECT o.seq, o.id, o.version \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS k (id_key, version) \
             JOIN stix_objects o ON o.id_key = k.id_key AND o.version = k.version",
        )
        .bind(keys)
        .bind(versions)
        .fetch_all(&mut *self.tx)
        .await?
        .iter()
        .map(stored_version)
        .collect()
    }

    /// Inserts `rows`, none of which is stored yet.
    async fn insert_objects(
        &mut self,
        rows: &[&StixRow],
        batch: &BatchColumns,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let column = |f: fn(&StixRow) -> String| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        sqlx::query(concat!(
            "INSERT INTO stix_objects ",
            object_columns!(),
            " SELECT k, i, v, m, t, s, l, b, $9, $10, $11, $12 \
             FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], \
                         $6::text[], $7::bigint[], $8::text[]) AS u (k, i, v, m, t, s, l, b)",
        ))
        .bind(rows.iter().map(|r| r.key).collect::<Vec<_>>())
        .bind(column(|r| r.id.clone()))
        .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.modified.clone()).collect::<Vec<_>>())
        .bind(column(|r| r.object_type.clone()))
        .bind(column(|r| r.spec_version.clone()))
        .bind(rows.iter().map(|r| r.tlp).collect::<Vec<_>>())
        .bind(column(|r| r.body.clone()))
        .bind(batch.date_added)
        .bind(&batch.origin)
        .bind(batch.audience.as_deref())
        .bind(&batch.recipients)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Adds the stored object versions `seqs` to `collection` (once: repeats are ignored).
    pub(super) async fn add_members(
        &mut self,
        collection: &str,
        seqs: &[i64],
    ) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO stix_collection_objects (collection, seq) \
             SELECT $1, UNNEST($2::bigint[]) ON CONFLICT DO NOTHING",
        )
        .bind(collection)
        .bind(seqs)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
