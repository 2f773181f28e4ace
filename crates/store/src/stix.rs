//! STIX objects, TAXII collections, TAXII status resources and pull bookmarks.
//!
//! Objects are stored once per (id, version); importing a version again changes nothing, so an
//! interrupted import can simply be run again. Bulk writes are multi-row `INSERT OR IGNORE`
//! statements, committed per call so that a long import never holds the node's writer for
//! more than one batch. Every read goes through [`Store::stix_objects`], which applies the TLP
//! access rule to each row before returning it: no caller can forget it.

use detente_stix::{AccessRule, Reader, SPEC_VERSION, Sharing, StixObject, Tlp};
use sqlx::{QueryBuilder, Row, Sqlite, sqlite::SqliteRow};

use crate::{StoreError, sqlite::Store};

/// Columns of one object row in the multi-row insert.
const INSERT_COLUMNS: usize = 11;
/// Rows per INSERT statement: SQLite binds at most 32,766 parameters.
const INSERT_ROWS: usize = 32_000 / INSERT_COLUMNS;
/// Rows per membership statement (2 parameters each, plus the collection).
const MEMBER_ROWS: usize = 10_000;

/// Where a batch of objects came from and whom it is for (see [`Sharing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareContext {
    /// The party the objects came from (this node's own party for local imports).
    pub origin: String,
    /// The partner organisation they are shared with, if one is named.
    pub audience: Option<String>,
    /// Parties named as recipients.
    pub recipients: Vec<String>,
}

/// What one [`Store::insert_stix`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertCounts {
    /// Object versions stored for the first time.
    pub inserted: u64,
    /// Object versions that were already stored.
    pub duplicates: u64,
}

/// Which versions of each object a read returns (TAXII `match[version]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Versions {
    /// The newest version of each object.
    #[default]
    Last,
    /// The oldest version of each object.
    First,
    /// Every version.
    All,
    /// The versions with these `modified` times, in microseconds since the epoch.
    At(Vec<i64>),
}

/// A read of stored objects: filters as TAXII defines them, and a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectQuery {
    /// Only objects in this collection.
    pub collection: Option<String>,
    /// Only objects stored after this instant (microseconds since the epoch).
    pub added_after: Option<i64>,
    /// Continue after this cursor (a previous page's `next`).
    pub after: Option<i64>,
    /// Only these ids.
    pub ids: Vec<String>,
    /// Only these types.
    pub types: Vec<String>,
    /// Only these spec versions.
    pub spec_versions: Vec<String>,
    /// Which versions.
    pub versions: Versions,
    /// At most this many objects.
    pub limit: usize,
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's id.
    pub id: String,
    /// The object's type.
    pub object_type: String,
    /// `modified` as written (`None` for observables).
    pub modified: Option<String>,
    /// The object's `spec_version`.
    pub spec_version: String,
    /// When this node stored it, microseconds since the epoch.
    pub date_added: i64,
    /// Its TLP level (`None`: unmarked).
    pub tlp: Option<Tlp>,
    /// The object's JSON.
    pub body: String,
}

/// One page of a read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectPage {
    /// The objects the reader may see, oldest first.
    pub objects: Vec<StoredObject>,
    /// Where the next page starts, if there may be more.
    pub next: Option<i64>,
}

/// A TAXII collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collection {
    /// Its id (a UUID).
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it holds.
    pub description: Option<String>,
    /// The partner it serves (`None`: the agreement's whole community).
    pub audience: Option<String>,
    /// Whether readers may add objects to it.
    pub can_write: bool,
}

/// Whom a read is for: the reader and the rule for unmarked objects.
#[derive(Debug, Clone, Copy)]
pub struct ReadAs<'a> {
    /// Who is reading.
    pub reader: Reader<'a>,
    /// The access rule (its default level applies to unmarked objects).
    pub rule: AccessRule,
}

fn tlp_code(t: Tlp) -> i64 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

fn tlp_from_code(c: i64) -> Result<Tlp, StoreError> {
    Ok(match c {
        0 => Tlp::Clear,
        1 => Tlp::Green,
        2 => Tlp::Amber,
        3 => Tlp::AmberStrict,
        4 => Tlp::Red,
        _ => return Err(StoreError::Corrupt(format!("TLP code {c}"))),
    })
}

/// An object ready to store: its key, metadata and JSON. Made with [`StixRow::of`], which
/// serialises the object, so a bulk loader can build rows on another thread than the one
/// that writes them.
#[derive(Debug, Clone)]
pub struct StixRow {
    id: String,
    version: i64,
    modified: Option<String>,
    object_type: String,
    spec_version: String,
    tlp: Option<i64>,
    body: String,
}

impl StixRow {
    /// The row of `obj`.
    pub fn of(obj: &StixObject) -> Self {
        Self {
            id: obj.id().as_str().to_owned(),
            version: obj.version().map_or(0, |v| v.unix_micros()),
            modified: obj.version().map(|v| v.as_str().to_owned()),
            object_type: obj.object_type().to_owned(),
            spec_version: SPEC_VERSION.to_owned(),
            tlp: AccessRule::marked_level(obj).map(tlp_code),
            body: serde_json::to_string(obj).expect("a STIX object always serialises to JSON"),
        }
    }
}

impl Store {
    /// Stores `objects` (deduplicated by id and version) in one transaction, adds them to
    /// `collection` if given, and returns how many were new. Each call is one batch: the
    /// writer lock is held for this batch only.
    pub async fn insert_stix(
        &self,
        objects: &[StixObject],
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<InsertCounts, StoreError> {
        let rows: Vec<StixRow> = objects.iter().map(StixRow::of).collect();
        self.insert_stix_rows(&rows, share, collection, now_micros)
            .await
    }

    /// [`insert_stix`](Self::insert_stix) for rows already made.
    pub async fn insert_stix_rows(
        &self,
        rows: &[StixRow],
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<InsertCounts, StoreError> {
        let recipients = share.recipients.join(" ");
        let mut w = self.write().await?;
        // date_added only grows, batch after batch, even if the clock steps back: a TAXII
        // client's `added_after` bookmark must never skip a later batch.
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(date_added) FROM stix_objects")
            .fetch_one(&mut *w.tx)
            .await?;
        let date_added = now_micros.max(last.map_or(i64::MIN, |l| l + 1));
        let mut inserted = 0u64;
        for chunk in rows.chunks(INSERT_ROWS) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR IGNORE INTO stix_objects (id, version, modified, type, spec_version, \
                 date_added, tlp, origin, audience, recipients, body) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(&r.id)
                    .push_bind(r.version)
                    .push_bind(&r.modified)
                    .push_bind(&r.object_type)
                    .push_bind(&r.spec_version)
                    .push_bind(date_added)
                    .push_bind(r.tlp)
                    .push_bind(&share.origin)
                    .push_bind(&share.audience)
                    .push_bind(&recipients)
                    .push_bind(&r.body);
            });
            inserted += q.build().execute(&mut *w.tx).await?.rows_affected();
        }
        if let Some(collection) = collection {
            for chunk in rows.chunks(MEMBER_ROWS) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT OR IGNORE INTO stix_collection_objects (collection, seq) \
                     SELECT ",
                );
                q.push_bind(collection);
                q.push(", seq FROM stix_objects WHERE (id, version) IN (");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(&r.id).push_bind(r.version);
                });
                q.push(")");
                q.build().execute(&mut *w.tx).await?;
            }
        }
        w.commit().await?;
        Ok(InsertCounts {
            inserted,
            duplicates: rows.len() as u64 - inserted,
        })
    }

    /// One page of the objects `read_as` may see, matching `query`, oldest first.
    ///
    /// Rows the reader may not see are skipped, never counted or hinted at; a page can then
    /// hold fewer than `limit` objects while `next` says more may follow.
    pub async fn stix_objects(
        &self,
        query: &ObjectQuery,
        read_as: &ReadAs<'_>,
    ) -> Result<ObjectPage, StoreError> {
        let limit = query.limit.max(1);
        // Scan at most this many rows for one page, so that a reader who may see little of a
        // large collection cannot make one request scan all of it.
        let scan_budget = limit.saturating_mul(8).max(10_000);
        let mut scanned = 0usize;
        let mut cursor = query.after;
        let mut page = ObjectPage::default();
        loop {
            let batch = limit + 1;
            let rows = self.object_rows(query, cursor, batch).await?;
            let exhausted = rows.len() < batch;
            for (seq, row, sharing) in rows {
                scanned += 1;
                if page.objects.len() == limit {
                    // A further matching row exists: there may be more for this reader.
                    page.next = cursor;
                    return Ok(page);
                }
                cursor = Some(seq);
                let recipients: Vec<String> =
                    sharing.2.split_whitespace().map(str::to_owned).collect();
                let sharing = Sharing {
                    origin: &sharing.0,
                    audience: sharing.1.as_deref(),
                    recipients: &recipients,
                };
                if read_as.reader.may_read(&read_as.rule, row.tlp, &sharing) {
                    page.objects.push(row);
                }
            }
            if exhausted {
                return Ok(page);
            }
            if scanned >= scan_budget {
                page.next = cursor;
                return Ok(page);
            }
        }
    }

    async fn object_rows(
        &self,
        query: &ObjectQuery,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, StoredObject, (String, Option<String>, String))>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT o.seq, o.id, o.type, o.modified, o.spec_version, o.date_added, o.tlp, \
             o.origin, o.audience, o.recipients, o.body FROM stix_objects o ",
        );
        if let Some(c) = &query.collection {
            q.push("JOIN stix_collection_objects c ON c.seq = o.seq AND c.collection = ");
            q.push_bind(c);
        }
        q.push(" WHERE 1 = 1");
        if let Some(after) = after {
            q.push(" AND o.seq > ").push_bind(after);
        }
        if let Some(t) = query.added_after {
            q.push(" AND o.date_added > ").push_bind(t);
        }
        in_list(&mut q, "o.id", &query.ids);
        in_list(&mut q, "o.type", &query.types);
        in_list(&mut q, "o.spec_version", &query.spec_versions);
        let pick = match &query.versions {
            Versions::All => None,
            Versions::Last => Some("MAX"),
            Versions::First => Some("MIN"),
            Versions::At(at) => {
                q.push(" AND o.version IN (");
                let mut sep = q.separated(", ");
                for v in at {
                    sep.push_bind(*v);
                }
                if at.is_empty() {
                    sep.push("NULL");
                }
                q.push(")");
                None
            }
        };
        if let Some(agg) = pick {
            // The newest (oldest) version among those the collection holds.
            q.push(" AND o.version = (SELECT ")
                .push(agg)
                .push("(v.version) FROM stix_objects v ");
            if let Some(c) = &query.collection {
                q.push("JOIN stix_collection_objects vc ON vc.seq = v.seq AND vc.collection = ");
                q.push_bind(c);
            }
            q.push(" WHERE v.id = o.id)");
        }
        q.push(" ORDER BY o.seq LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(object_row).collect()
    }

    /// Stored object versions (all readers, no TLP filter: for counts and the operator).
    pub async fn stix_object_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stix_objects")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Creates or updates a collection.
    pub async fn put_collection(&self, c: &Collection) -> Result<(), StoreError> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO stix_collections (id, title, description, audience, can_write) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
             description = excluded.description, audience = excluded.audience, \
             can_write = excluded.can_write",
        )
        .bind(&c.id)
        .bind(&c.title)
        .bind(&c.description)
        .bind(&c.audience)
        .bind(c.can_write)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// Every collection, by title.
    pub async fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, description, audience, can_write FROM stix_collections \
             ORDER BY title, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(collection_row).collect()
    }

    /// One collection.
    pub async fn collection(&self, id: &str) -> Result<Option<Collection>, StoreError> {
        let row = sqlx::query(
            "SELECT id, title, description, audience, can_write FROM stix_collections \
             WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(collection_row).transpose()
    }

    /// Records a TAXII status resource (`body` is its JSON), readable by `reader` only.
    pub async fn put_taxii_status(
        &self,
        id: &str,
        collection: &str,
        reader: &str,
        created_at: i64,
        body: &str,
    ) -> Result<(), StoreError> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO taxii_status (id, collection, reader, created_at, body) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(collection)
        .bind(reader)
        .bind(created_at)
        .bind(body)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// A TAXII status resource's JSON, if `reader` recorded it.
    pub async fn taxii_status(&self, id: &str, reader: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT body FROM taxii_status WHERE id = ? AND reader = ?")
                .bind(id)
                .bind(reader)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The `added_after` bookmark of a pull from `source`'s `collection`.
    pub async fn taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT added_after FROM taxii_bookmarks WHERE source = ? AND collection = ?",
        )
        .bind(source)
        .bind(collection)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Moves the bookmark of a pull forward.
    pub async fn set_taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError> {
        let mut w = self.write().await?;
        sqlx::query(
            "INSERT INTO taxii_bookmarks (source, collection, added_after) VALUES (?, ?, ?) \
             ON CONFLICT (source, collection) DO UPDATE SET added_after = excluded.added_after",
        )
        .bind(source)
        .bind(collection)
        .bind(added_after)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }
}

fn in_list(q: &mut QueryBuilder<Sqlite>, column: &'static str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    q.push(" AND ").push(column).push(" IN (");
    let mut sep = q.separated(", ");
    for v in values {
        sep.push_bind(v.clone());
    }
    q.push(")");
}

type SharingCols = (String, Option<String>, String);

fn object_row(r: &SqliteRow) -> Result<(i64, StoredObject, SharingCols), StoreError> {
    let tlp: Option<i64> = r.try_get(6)?;
    Ok((
        r.try_get(0)?,
        StoredObject {
            id: r.try_get(1)?,
            object_type: r.try_get(2)?,
            modified: r.try_get(3)?,
            spec_version: r.try_get(4)?,
            date_added: r.try_get(5)?,
            tlp: tlp.map(tlp_from_code).transpose()?,
            body: r.try_get(10)?,
        },
        (r.try_get(7)?, r.try_get(8)?, r.try_get(9)?),
    ))
}

fn collection_row(r: &SqliteRow) -> Result<Collection, StoreError> {
    Ok(Collection {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        description: r.try_get(2)?,
        audience: r.try_get(3)?,
        can_write: r.try_get(4)?,
    })
}

/// STIX storage exists on SQLite only so far: on PostgreSQL every call is `Unsupported`.
macro_rules! sqlite_only {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            crate::Store::Sqlite($s) => $body,
            crate::Store::Postgres(_) => Err(StoreError::Unsupported(
                "STIX objects and TAXII collections are stored on SQLite only so far",
            )),
        }
    };
}

/// The STIX calls of [`crate::Store`], each as documented on the SQLite store.
impl crate::Store {
    /// See [`Store::insert_stix`].
    pub async fn insert_stix(
        &self,
        objects: &[StixObject],
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<InsertCounts, StoreError> {
        sqlite_only!(self, s => s.insert_stix(objects, share, collection, now_micros).await)
    }

    /// See [`Store::insert_stix_rows`].
    pub async fn insert_stix_rows(
        &self,
        rows: &[StixRow],
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<InsertCounts, StoreError> {
        sqlite_only!(self, s => s.insert_stix_rows(rows, share, collection, now_micros).await)
    }

    /// See [`Store::stix_objects`].
    pub async fn stix_objects(
        &self,
        query: &ObjectQuery,
        read_as: &ReadAs<'_>,
    ) -> Result<ObjectPage, StoreError> {
        sqlite_only!(self, s => s.stix_objects(query, read_as).await)
    }

    /// See [`Store::stix_object_count`].
    pub async fn stix_object_count(&self) -> Result<u64, StoreError> {
        sqlite_only!(self, s => s.stix_object_count().await)
    }

    /// See [`Store::put_collection`].
    pub async fn put_collection(&self, c: &Collection) -> Result<(), StoreError> {
        sqlite_only!(self, s => s.put_collection(c).await)
    }

    /// See [`Store::collections`].
    pub async fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        sqlite_only!(self, s => s.collections().await)
    }

    /// See [`Store::collection`].
    pub async fn collection(&self, id: &str) -> Result<Option<Collection>, StoreError> {
        sqlite_only!(self, s => s.collection(id).await)
    }

    /// See [`Store::put_taxii_status`].
    pub async fn put_taxii_status(
        &self,
        id: &str,
        collection: &str,
        reader: &str,
        created_at: i64,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlite_only!(self, s => s.put_taxii_status(id, collection, reader, created_at, body).await)
    }

    /// See [`Store::taxii_status`].
    pub async fn taxii_status(&self, id: &str, reader: &str) -> Result<Option<String>, StoreError> {
        sqlite_only!(self, s => s.taxii_status(id, reader).await)
    }

    /// See [`Store::taxii_bookmark`].
    pub async fn taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlite_only!(self, s => s.taxii_bookmark(source, collection).await)
    }

    /// See [`Store::set_taxii_bookmark`].
    pub async fn set_taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError> {
        sqlite_only!(self, s => s.set_taxii_bookmark(source, collection, added_after).await)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const IND: &str = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"MODIFIED","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"MARKING}"#;

    fn indicator(n: u32, modified: &str, tlp: Option<&str>) -> StixObject {
        let marking = tlp.map_or(String::new(), |m| {
            format!(r#","object_marking_refs":["{m}"]"#)
        });
        let text = IND
            .replace("8e2e2d2b", &format!("{n:08x}"))
            .replace("MODIFIED", modified)
            .replace("MARKING", &marking);
        StixObject::from_json(&text).unwrap()
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), true).await.unwrap();
        (dir, store)
    }

    fn local() -> ShareContext {
        ShareContext {
            origin: "US".into(),
            audience: Some("CN".into()),
            recipients: vec![],
        }
    }

    fn as_local() -> ReadAs<'static> {
        ReadAs {
            reader: Reader::Local { party: "US" },
            rule: AccessRule::default(),
        }
    }

    fn query(limit: usize) -> ObjectQuery {
        ObjectQuery {
            limit,
            ..ObjectQuery::default()
        }
    }

    #[tokio::test]
    async fn the_same_version_is_stored_once_and_a_new_version_is_added() {
        let (_d, s) = store().await;
        let v1 = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let v2 = indicator(1, "2017-01-01T00:00:00.000Z", None);
        let c = s
            .insert_stix(&[v1.clone(), v1.clone()], &local(), None, 1)
            .await
            .unwrap();
        assert_eq!((c.inserted, c.duplicates), (1, 1));
        let c = s.insert_stix(&[v1, v2], &local(), None, 2).await.unwrap();
        assert_eq!((c.inserted, c.duplicates), (1, 1));
        assert_eq!(s.stix_object_count().await.unwrap(), 2);
        let last = s.stix_objects(&query(10), &as_local()).await.unwrap();
        assert_eq!(last.objects.len(), 1);
        assert_eq!(
            last.objects[0].modified.as_deref(),
            Some("2017-01-01T00:00:00.000Z")
        );
        let all = ObjectQuery {
            versions: Versions::All,
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&all, &as_local())
                .await
                .unwrap()
                .objects
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn date_added_grows_even_when_the_clock_steps_back() {
        let (_d, s) = store().await;
        s.insert_stix(
            &[indicator(1, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            100,
        )
        .await
        .unwrap();
        s.insert_stix(
            &[indicator(2, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            50,
        )
        .await
        .unwrap();
        let page = s.stix_objects(&query(10), &as_local()).await.unwrap();
        let added: Vec<i64> = page.objects.iter().map(|o| o.date_added).collect();
        assert_eq!(added, [100, 101]);
        let after = ObjectQuery {
            added_after: Some(100),
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&after, &as_local())
                .await
                .unwrap()
                .objects
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn pages_follow_the_cursor_to_the_end() {
        let (_d, s) = store().await;
        let objs: Vec<StixObject> = (0..25)
            .map(|i| indicator(i, "2016-04-06T20:03:48.000Z", None))
            .collect();
        s.insert_stix(&objs, &local(), None, 1).await.unwrap();
        let mut q = query(10);
        let mut seen = 0;
        let mut pages = 0;
        loop {
            let page = s.stix_objects(&q, &as_local()).await.unwrap();
            seen += page.objects.len();
            pages += 1;
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        assert_eq!((seen, pages), (25, 3));
    }

    #[tokio::test]
    async fn a_partner_reads_only_what_tlp_allows_on_every_level() {
        use detente_stix::tlp::{
            TLP_AMBER_ID, TLP_AMBER_STRICT_ID, TLP_CLEAR_ID, TLP_GREEN_ID, TLP_RED_ID,
        };
        let (_d, s) = store().await;
        let levels = [
            Some(TLP_CLEAR_ID),
            Some(TLP_GREEN_ID),
            Some(TLP_AMBER_ID),
            Some(TLP_AMBER_STRICT_ID),
            Some(TLP_RED_ID),
            None,
        ];
        let objs: Vec<StixObject> = levels
            .iter()
            .enumerate()
            .map(|(i, m)| indicator(i as u32, "2016-04-06T20:03:48.000Z", *m))
            .collect();
        s.insert_stix(&objs, &local(), None, 1).await.unwrap();
        let count = |reader| {
            let s = s.clone();
            async move {
                let r = ReadAs {
                    reader,
                    rule: AccessRule::default(),
                };
                s.stix_objects(&query(100), &r).await.unwrap().objects.len()
            }
        };
        // CLEAR, GREEN, AMBER and the unmarked one (AMBER by default) for the named partner.
        let cn = Reader::Party {
            party: "CN",
            in_community: true,
        };
        assert_eq!(count(cn).await, 4);
        let gb = Reader::Party {
            party: "GB",
            in_community: true,
        };
        assert_eq!(count(gb).await, 2);
        assert_eq!(count(Reader::Anyone).await, 1);
        // The origin's own users see everything they imported.
        assert_eq!(count(Reader::Local { party: "US" }).await, 6);
    }

    #[tokio::test]
    async fn collections_hold_what_was_added_to_them() {
        let (_d, s) = store().await;
        let c = Collection {
            id: "91a7b528-80eb-42ed-a74d-c6fbd5a26116".into(),
            title: "US-CN indicators".into(),
            description: None,
            audience: Some("CN".into()),
            can_write: true,
        };
        s.put_collection(&c).await.unwrap();
        assert_eq!(s.collections().await.unwrap(), std::slice::from_ref(&c));
        let a = indicator(1, "2016-04-06T20:03:48.000Z", None);
        let b = indicator(2, "2016-04-06T20:03:48.000Z", None);
        s.insert_stix(&[a], &local(), Some(&c.id), 1).await.unwrap();
        s.insert_stix(&[b], &local(), None, 2).await.unwrap();
        let q = ObjectQuery {
            collection: Some(c.id.clone()),
            ..query(10)
        };
        assert_eq!(
            s.stix_objects(&q, &as_local()).await.unwrap().objects.len(),
            1
        );
    }

    #[tokio::test]
    async fn filters_are_bound_parameters_not_sql() {
        let (_d, s) = store().await;
        s.insert_stix(
            &[indicator(1, "2016-04-06T20:03:48.000Z", None)],
            &local(),
            None,
            1,
        )
        .await
        .unwrap();
        let q = ObjectQuery {
            types: vec!["indicator' OR '1'='1".into()],
            ..query(10)
        };
        assert!(
            s.stix_objects(&q, &as_local())
                .await
                .unwrap()
                .objects
                .is_empty()
        );
    }
}
