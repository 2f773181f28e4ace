//! STIX objects, TAXII collections, TAXII status resources and pull bookmarks, on either
//! backend.
//!
//! Objects are stored once per (id, version); importing a version again changes nothing, so an
//! interrupted import can simply be run again. Writes go through a [`StixImport`], one
//! transaction under the node's single writer: each batch added to it looks up which of its
//! versions are stored already (by `id_key`, a hash of the id, comparing the ids themselves
//! exactly) and inserts the others in bulk; the commit makes all its batches durable at once.
//! [`Store::insert_stix_rows`] is one batch in one transaction; a bulk loader adds several
//! batches per transaction, so that each index page is rewritten once for all of them. A
//! killed import therefore keeps whole transactions only. Why a hash key rather than a UNIQUE
//! index on the id: see `migrations/sqlite/0003_stix.sql`.
//!
//! Every read goes through [`Store::stix_objects`], which applies the TLP access rule to each
//! row before returning it: no caller can forget it. Two reads serve the rule itself and return
//! nothing to a reader: [`Store::markings`] (stored marking definitions, to resolve markings
//! under ids other than the published TLP ones) and [`Store::stix_sharing`] (the sharing
//! context of objects a message carries, so that the TLP gate of messages decides as the
//! other read paths do).
//!
//! An object's TLP level is fixed when it is stored: its markings are resolved by the published
//! TLP ids, by the marking definitions of the same transaction (whether before or after the
//! object in its batch, or in an earlier batch), and by definitions stored before from the
//! same origin. A definition from another origin is not used: a partner must not be able to
//! say what a marking of someone else's objects means. A marking still unresolved counts as
//! RED (`detente_stix::Markings`), and is counted in [`InsertCounts::unresolved_markings`].
//!
//! Statements that read the same on both backends are written once, with `$1` placeholders
//! (SQLite accepts them too), and run on each through `dispatch!`; the object read is built
//! once for either backend by [`object_query`]. Only the bulk writes differ (multi-row
//! `VALUES` lists on SQLite, `UNNEST` arrays on PostgreSQL): `stix/sqlite.rs` and
//! `stix/postgres.rs`.

/// The columns every object insert writes, in this order: the row's own eight, then the
/// four its batch shares. A macro, so that each backend's statement stays one literal.
macro_rules! object_columns {
    () => {
        "(id_key, id, version, modified, type, spec_version, tlp, body, \
         date_added, origin, audience, recipients)"
    };
}

mod postgres;
mod sqlite;

use std::collections::{HashMap, HashSet};

use detente_stix::tlp::marking_kind;
use detente_stix::{
    AccessRule, MarkingKind, Markings, Reader, SPEC_VERSION, Sharing, StixObject, Tlp,
};
use sha2::{Digest as _, Sha256};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::backend::dispatch;
use crate::decode::{self, ObjectRow};
use crate::{Store, StoreError, WriteTx};

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
    /// Of the inserted ones, those with a marking no known definition resolves, stored as
    /// TLP:RED.
    pub unresolved_markings: u64,
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

pub(crate) fn tlp_code(t: Tlp) -> i64 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

pub(crate) fn tlp_from_code(c: i64) -> Result<Tlp, StoreError> {
    Ok(match c {
        0 => Tlp::Clear,
        1 => Tlp::Green,
        2 => Tlp::Amber,
        3 => Tlp::AmberStrict,
        4 => Tlp::Red,
        _ => return Err(StoreError::Corrupt(format!("TLP code {c}"))),
    })
}

/// The `id_key` of an object id: the first 8 bytes of its SHA-256, big-endian. A keyed hash
/// would not be stable across processes; a weak one would let whoever writes the ids (a
/// partner, a feed) pile many of them onto one key and make every lookup of it slow.
fn id_key(id: &str) -> i64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// An object ready to store: its key, metadata and JSON. Made with [`StixRow::of`], which
/// serialises the object and hashes its id, so a bulk loader can build rows on another
/// thread than the one that writes them. Its TLP level is settled when it is added to a
/// [`StixImport`], which knows the marking definitions of its transaction.
#[derive(Debug, Clone)]
pub struct StixRow {
    key: i64,
    id: String,
    version: i64,
    modified: Option<String>,
    object_type: String,
    spec_version: String,
    /// The level its published TLP marking ids give, if any.
    published_level: Option<Tlp>,
    /// Its other marking ids, resolved when stored.
    other_markings: Vec<String>,
    /// What it means as a marking, if it is a marking definition.
    defines: Option<MarkingKind>,
    /// The level stored: set by [`StixImport::add`].
    tlp: Option<i64>,
    /// Whether a marking stayed unresolved (and `tlp` is RED for it).
    unresolved: bool,
    body: String,
}

impl StixRow {
    /// The row of `obj`.
    pub fn of(obj: &StixObject) -> Self {
        let id = obj.id().as_str();
        let published = Markings::default();
        let mut published_level = None;
        let mut other_markings = Vec::new();
        for marking in Markings::refs_of(obj) {
            match published.kind(marking) {
                Some(MarkingKind::Tlp(t)) => published_level = published_level.max(Some(t)),
                Some(MarkingKind::NoLevel) => {}
                None => other_markings.push(marking.to_owned()),
            }
        }
        Self {
            key: id_key(id),
            id: id.to_owned(),
            version: obj.version().map_or(0, |v| v.unix_micros()),
            modified: obj.version().map(|v| v.as_str().to_owned()),
            object_type: obj.object_type().to_owned(),
            spec_version: SPEC_VERSION.to_owned(),
            published_level,
            other_markings,
            defines: match obj {
                StixObject::MarkingDefinition(m) => Some(marking_kind(m)),
                _ => None,
            },
            tlp: None,
            unresolved: false,
            body: serde_json::to_string(obj).expect("a STIX object always serialises to JSON"),
        }
    }
}

/// What the rows of one transaction share: their sharing context and when they were added.
struct BatchColumns {
    date_added: i64,
    origin: String,
    audience: Option<String>,
    recipients: String,
}

/// Batches of rows stored in one transaction, from [`Store::begin_stix`]. Dropped without
/// [`commit`](Self::commit), it stores nothing.
pub struct StixImport {
    tx: WriteTx,
    columns: BatchColumns,
    collection: Option<String>,
    // The last seq stored before this transaction: rows are only ever appended under the
    // writer, so those it adds are exactly the ones after.
    last_seq: i64,
    // Rows added so far, new or not.
    rows: usize,
    // The marking definitions of this transaction, and the stored ones of its origin.
    markings: Markings,
    // Marking ids already looked up among the stored definitions.
    looked_up: HashSet<String>,
}

impl StixImport {
    /// Stores the versions of `rows` not stored yet (in the database or earlier in this
    /// transaction), with their TLP levels resolved (see the module notes), and returns how
    /// many were new.
    pub async fn add(&mut self, rows: &mut [StixRow]) -> Result<InsertCounts, StoreError> {
        self.resolve_markings(rows).await?;
        let columns = &self.columns;
        let batch = dispatch!(WriteTx, &mut self.tx, t => t.insert_batch(rows, columns).await?);
        if let Some(collection) = &self.collection {
            // Versions stored before this transaction join the collection here; new ones
            // join all at once at the commit.
            let before: Vec<i64> = batch
                .stored
                .into_iter()
                .filter(|&seq| seq <= self.last_seq)
                .collect();
            dispatch!(WriteTx, &mut self.tx, t => t.add_members(collection, &before).await?);
        }
        self.rows += rows.len();
        Ok(InsertCounts {
            inserted: batch.inserted,
            duplicates: rows.len() as u64 - batch.inserted,
            unresolved_markings: batch.unresolved,
        })
    }

    /// Settles the TLP level of each of `rows`: the definitions in the batch are learnt first
    /// (so an object may come before its marking's definition), then the stored definitions
    /// of this transaction's origin for every marking id not looked up yet.
    async fn resolve_markings(&mut self, rows: &mut [StixRow]) -> Result<(), StoreError> {
        for row in rows.iter() {
            if let Some(kind) = row.defines {
                self.markings.learn_kind(&row.id, kind);
            }
        }
        let mut wanted: Vec<String> = rows
            .iter()
            .flat_map(|r| &r.other_markings)
            .filter(|id| !self.looked_up.contains(id.as_str()))
            .cloned()
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let origin = &self.columns.origin;
        for chunk in wanted.chunks(IDS_PER_QUERY) {
            let found: Vec<ObjectRow> = dispatch!(WriteTx, &mut self.tx, t => {
                markings_query(chunk, origin).build().fetch_all(&mut *t.tx).await?.iter()
                    .map(decode::object_row).collect::<Result<_, _>>()?
            });
            learn_stored(&mut self.markings, &found);
        }
        self.looked_up.extend(wanted);
        for row in rows.iter_mut() {
            let others = self
                .markings
                .level(row.other_markings.iter().map(String::as_str));
            row.tlp = row.published_level.max(others).map(tlp_code);
            row.unresolved = row
                .other_markings
                .iter()
                .any(|id| self.markings.kind(id).is_none());
        }
        Ok(())
    }

    /// How many rows the batches added so far held, new or already stored.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds the new versions to the collection, if any, and commits: once this returns, every
    /// added batch is durable.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(collection) = &self.collection {
            dispatch!(WriteTx, &mut self.tx, t => {
                sqlx::query(
                    "INSERT INTO stix_collection_objects (collection, seq) \
                     SELECT $1, seq FROM stix_objects WHERE seq > $2",
                )
                .bind(collection)
                .bind(self.last_seq)
                .execute(&mut *t.tx)
                .await?;
            });
        }
        self.tx.commit().await
    }
}

/// A stored object version: (seq, id, version).
type StoredVersion = (i64, String, i64);

/// What storing one batch did.
struct Stored {
    /// Versions inserted.
    inserted: u64,
    /// Of those, the ones with an unresolved marking.
    unresolved: u64,
    /// The seqs of the batch's versions that were stored before.
    stored: Vec<i64>,
}

/// A batch split by what the database already holds.
struct Split<'a> {
    /// Versions to insert, each once, in the batch's order.
    new: Vec<&'a StixRow>,
    /// The seqs of versions already stored.
    stored: Vec<i64>,
}

/// Splits `rows` into the versions to insert and those already stored, given the stored
/// versions whose keys the batch has. Ids are compared in full: two ids that share a key are
/// still two objects.
fn split<'a>(rows: &'a [StixRow], stored: &[StoredVersion]) -> Split<'a> {
    let stored: HashMap<(&str, i64), i64> = stored
        .iter()
        .map(|(seq, id, version)| ((id.as_str(), *version), *seq))
        .collect();
    let mut seen = HashSet::with_capacity(rows.len());
    let mut out = Split {
        new: Vec::with_capacity(rows.len()),
        stored: Vec::new(),
    };
    for row in rows {
        let version = (row.id.as_str(), row.version);
        if !seen.insert(version) {
            continue;
        }
        match stored.get(&version) {
            Some(&seq) => out.stored.push(seq),
            None => out.new.push(row),
        }
    }
    out
}

impl From<Split<'_>> for Stored {
    fn from(split: Split<'_>) -> Self {
        Self {
            inserted: split.new.len() as u64,
            unresolved: split.new.iter().filter(|r| r.unresolved).count() as u64,
            stored: split.stored,
        }
    }
}

/// The SELECT head that `decode::object_row` reads.
const OBJECT_SELECT: &str = "SELECT o.seq, o.id, o.type, o.modified, o.spec_version, \
                             o.date_added, o.tlp, o.origin, o.audience, o.recipients, o.body \
                             FROM stix_objects o ";

/// The read of at most `limit` rows matching `query` after the cursor `after`, oldest first,
/// for either backend (the builder writes each one's placeholders).
fn object_query<DB>(query: &ObjectQuery, after: Option<i64>, limit: usize) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(OBJECT_SELECT);
    if let Some(c) = &query.collection {
        q.push("JOIN stix_collection_objects c ON c.seq = o.seq AND c.collection = ");
        q.push_bind(c.clone());
    }
    // Within a collection, cursor and order go by the membership table's key (collection,
    // seq): the page is then a range scan of that key. Ordering by `o.seq` there made SQLite
    // sort every remaining member for each page, so walking a collection was quadratic.
    let seq = if query.collection.is_some() {
        "c.seq"
    } else {
        "o.seq"
    };
    q.push(" WHERE 1 = 1");
    if let Some(after) = after {
        q.push(" AND ").push(seq).push(" > ").push_bind(after);
    }
    if let Some(t) = query.added_after {
        q.push(" AND o.date_added > ").push_bind(t);
    }
    if !query.ids.is_empty() {
        // The keys find the rows through the index; the ids themselves decide.
        let keys: Vec<i64> = query.ids.iter().map(|id| id_key(id)).collect();
        in_list(&mut q, "o.id_key", keys);
        in_list(&mut q, "o.id", query.ids.clone());
    }
    in_list(&mut q, "o.type", query.types.clone());
    in_list(&mut q, "o.spec_version", query.spec_versions.clone());
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
            q.push_bind(c.clone());
        }
        q.push(" WHERE v.id_key = o.id_key AND v.id = o.id)");
    }
    q.push(" ORDER BY ")
        .push(seq)
        .push(" LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
    q
}

fn in_list<DB, T>(q: &mut QueryBuilder<DB>, column: &'static str, values: Vec<T>)
where
    DB: Database,
    for<'t> T: Encode<'t, DB> + Type<DB>,
{
    if values.is_empty() {
        return;
    }
    q.push(" AND ").push(column).push(" IN (");
    let mut sep = q.separated(", ");
    for v in values {
        sep.push_bind(v);
    }
    q.push(")");
}

/// Ids per lookup: two bound parameters each, well under SQLite's 32,766 and PostgreSQL's
/// 65,535, however many ids a message or a batch names.
const IDS_PER_QUERY: usize = 1000;

/// Rows of the objects `ids` (every version), by their keys and then their ids.
fn by_ids<DB>(ids: &[String]) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let mut q = QueryBuilder::<DB>::new(OBJECT_SELECT);
    q.push(" WHERE 1 = 1");
    in_list(
        &mut q,
        "o.id_key",
        ids.iter().map(|id| id_key(id)).collect(),
    );
    in_list(&mut q, "o.id", ids.to_vec());
    q
}

/// The stored marking definitions `ids` that came from `origin`.
fn markings_query<DB>(ids: &[String], origin: &str) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let mut q = by_ids(ids);
    q.push(" AND o.type = 'marking-definition' AND o.origin = ")
        .push_bind(origin.to_owned());
    q
}

/// Learns the stored definitions `rows`. One that no longer parses is left out, so the
/// markings it defined stay unresolved (RED) rather than fail every later import.
fn learn_stored(markings: &mut Markings, rows: &[ObjectRow]) {
    for (_, row, _) in rows {
        let parsed = serde_json::from_str(&row.body)
            .ok()
            .and_then(|v| StixObject::from_value(v).ok());
        if let Some(StixObject::MarkingDefinition(m)) = parsed {
            markings.learn(&m);
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
        let mut rows: Vec<StixRow> = objects.iter().map(StixRow::of).collect();
        self.insert_stix_rows(&mut rows, share, collection, now_micros)
            .await
    }

    /// [`insert_stix`](Self::insert_stix) for rows already made.
    pub async fn insert_stix_rows(
        &self,
        rows: &mut [StixRow],
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<InsertCounts, StoreError> {
        let mut import = self.begin_stix(share, collection, now_micros).await?;
        let counts = import.add(rows).await?;
        import.commit().await?;
        Ok(counts)
    }

    /// Opens one write transaction for several batches of rows: a bulk loader's
    /// [`StixImport::add`]s share one commit, so each index page a commit rewrites is written
    /// once for all of them. The node's writer is held until [`StixImport::commit`].
    pub async fn begin_stix(
        &self,
        share: &ShareContext,
        collection: Option<&str>,
        now_micros: i64,
    ) -> Result<StixImport, StoreError> {
        let mut tx = self.write().await?;
        // The last row stored: rows are never deleted and `date_added` grows with `seq`.
        let last: Option<(i64, i64)> = dispatch!(WriteTx, &mut tx, t => {
            sqlx::query_as("SELECT seq, date_added FROM stix_objects ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *t.tx)
                .await?
        });
        let (last_seq, last_added) = last.map_or((0, None), |(s, d)| (s, Some(d)));
        if let WriteTx::Sqlite(t) = &mut tx {
            t.bulk().await?;
        }
        Ok(StixImport {
            tx,
            // date_added only grows, transaction after transaction, even if the clock steps
            // back: a TAXII client's `added_after` bookmark must never skip a later one.
            columns: BatchColumns {
                date_added: now_micros.max(last_added.map_or(i64::MIN, |l| l + 1)),
                origin: share.origin.clone(),
                audience: share.audience.clone(),
                recipients: share.recipients.join(" "),
            },
            collection: collection.map(str::to_owned),
            last_seq,
            rows: 0,
            markings: Markings::default(),
            looked_up: HashSet::new(),
        })
    }

    /// The stored marking definitions among `ids` that came from `origin`, as a book to
    /// resolve markings with (see the module notes). Not a read of objects for anyone.
    pub async fn markings(&self, ids: &[String], origin: &str) -> Result<Markings, StoreError> {
        let mut markings = Markings::default();
        if ids.is_empty() {
            return Ok(markings);
        }
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<ObjectRow> = dispatch!(Self, self, s => {
                markings_query(chunk, origin).build().fetch_all(&s.pool).await?.iter()
                    .map(decode::object_row).collect::<Result<_, _>>()?
            });
            learn_stored(&mut markings, &rows);
        }
        Ok(markings)
    }

    /// Every stored version of the objects `ids`, with the context it was shared in: what
    /// the TLP gate of outgoing messages decides on. Unfiltered, so never for a reader.
    pub async fn stix_sharing(
        &self,
        ids: &[String],
    ) -> Result<Vec<(StoredObject, ShareContext)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<ObjectRow> = Vec::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let found: Vec<ObjectRow> = dispatch!(Self, self, s => {
                by_ids(chunk).build().fetch_all(&s.pool).await?.iter()
                    .map(decode::object_row).collect::<Result<_, _>>()?
            });
            rows.extend(found);
        }
        Ok(rows
            .into_iter()
            .map(|(_, object, (origin, audience, recipients))| {
                let recipients = recipients.split_whitespace().map(str::to_owned).collect();
                let share = ShareContext {
                    origin,
                    audience,
                    recipients,
                };
                (object, share)
            })
            .collect())
    }

    /// One page of the objects `read_as` may see, matching `query`, oldest first.
    ///
    /// Rows the reader may not see are skipped, never counted or hinted at: a full page has a
    /// `next` only if a further row the reader may see exists (so `more` never announces
    /// hidden rows). The scan of one page is bounded; when it runs out before the page is
    /// full, `next` says where to go on, and the page holds fewer than `limit` objects.
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
        if let Some(t) = query.added_after
            && let Some(floor) = self.last_seq_added_by(t).await?
        {
            // Start after the rows added by `t`, rather than have the database walk every
            // older member of a collection and drop each on its date (a TAXII client's first
            // incremental page read the whole collection).
            cursor = Some(cursor.map_or(floor, |c| c.max(floor)));
        }
        let mut page = ObjectPage::default();
        loop {
            let batch = limit + 1;
            let rows = self.object_rows(query, cursor, batch).await?;
            let exhausted = rows.len() < batch;
            for (seq, row, sharing) in rows {
                scanned += 1;
                let recipients: Vec<String> =
                    sharing.2.split_whitespace().map(str::to_owned).collect();
                let sharing = Sharing {
                    origin: &sharing.0,
                    audience: sharing.1.as_deref(),
                    recipients: &recipients,
                };
                let visible = read_as.reader.may_read(&read_as.rule, row.tlp, &sharing);
                if visible && page.objects.len() == limit {
                    // The next page starts at this row; hidden rows before it are skipped.
                    page.next = cursor;
                    return Ok(page);
                }
                cursor = Some(seq);
                if visible {
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

    /// The last seq stored at or before `t` (microseconds), if any. `date_added` is one value
    /// per write transaction and grows with `seq` (see `begin_stix`), so every row added after
    /// `t` has a greater seq, and every row with a greater seq was added after `t`.
    async fn last_seq_added_by(&self, t: i64) -> Result<Option<i64>, StoreError> {
        // The inner MAX is one index seek; the outer reads one transaction's rows.
        let sql = "SELECT MAX(seq) FROM stix_objects WHERE date_added = \
                   (SELECT MAX(date_added) FROM stix_objects WHERE date_added <= $1)";
        Ok(dispatch!(Self, self, s => {
            sqlx::query_scalar::<_, Option<i64>>(sql)
                .bind(t)
                .fetch_one(&s.pool)
                .await?
        }))
    }

    async fn object_rows(
        &self,
        query: &ObjectQuery,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ObjectRow>, StoreError> {
        dispatch!(Self, self, s => {
            object_query(query, after, limit)
                .build()
                .fetch_all(&s.pool)
                .await?
                .iter()
                .map(decode::object_row)
                .collect()
        })
    }

    /// Stored object versions (all readers, no TLP filter: for counts and the operator).
    pub async fn stix_object_count(&self) -> Result<u64, StoreError> {
        let n: i64 = dispatch!(Self, self, s => {
            sqlx::query_scalar("SELECT COUNT(*) FROM stix_objects")
                .fetch_one(&s.pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Creates or updates a collection.
    pub async fn put_collection(&self, c: &Collection) -> Result<(), StoreError> {
        let mut w = self.write().await?;
        dispatch!(WriteTx, &mut w, t => {
            sqlx::query(
                "INSERT INTO stix_collections (id, title, description, audience, can_write) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
                 description = excluded.description, audience = excluded.audience, \
                 can_write = excluded.can_write",
            )
            .bind(&c.id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.audience)
            .bind(c.can_write)
            .execute(&mut *t.tx)
            .await?;
        });
        w.commit().await
    }

    /// Every collection, by title.
    pub async fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        dispatch!(Self, self, s => {
            sqlx::query(
                "SELECT id, title, description, audience, can_write FROM stix_collections \
                 ORDER BY title, id",
            )
            .fetch_all(&s.pool)
            .await?
            .iter()
            .map(decode::collection)
            .collect()
        })
    }

    /// One collection.
    pub async fn collection(&self, id: &str) -> Result<Option<Collection>, StoreError> {
        dispatch!(Self, self, s => {
            sqlx::query(
                "SELECT id, title, description, audience, can_write FROM stix_collections \
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&s.pool)
            .await?
            .as_ref()
            .map(decode::collection)
            .transpose()
        })
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
        dispatch!(WriteTx, &mut w, t => {
            sqlx::query(
                "INSERT INTO taxii_status (id, collection, reader, created_at, body) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(collection)
            .bind(reader)
            .bind(created_at)
            .bind(body)
            .execute(&mut *t.tx)
            .await?;
        });
        w.commit().await
    }

    /// A TAXII status resource's JSON, if `reader` recorded it.
    pub async fn taxii_status(&self, id: &str, reader: &str) -> Result<Option<String>, StoreError> {
        Ok(dispatch!(Self, self, s => {
            sqlx::query_scalar("SELECT body FROM taxii_status WHERE id = $1 AND reader = $2")
                .bind(id)
                .bind(reader)
                .fetch_optional(&s.pool)
                .await?
        }))
    }

    /// The `added_after` bookmark of a pull from `source`'s `collection`.
    pub async fn taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(dispatch!(Self, self, s => {
            sqlx::query_scalar(
                "SELECT added_after FROM taxii_bookmarks WHERE source = $1 AND collection = $2",
            )
            .bind(source)
            .bind(collection)
            .fetch_optional(&s.pool)
            .await?
        }))
    }

    /// Moves the bookmark of a pull forward.
    pub async fn set_taxii_bookmark(
        &self,
        source: &str,
        collection: &str,
        added_after: &str,
    ) -> Result<(), StoreError> {
        let mut w = self.write().await?;
        dispatch!(WriteTx, &mut w, t => {
            sqlx::query(
                "INSERT INTO taxii_bookmarks (source, collection, added_after) \
                 VALUES ($1, $2, $3) ON CONFLICT (source, collection) \
                 DO UPDATE SET added_after = excluded.added_after",
            )
            .bind(source)
            .bind(collection)
            .bind(added_after)
            .execute(&mut *t.tx)
            .await?;
        });
        w.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, version: i64) -> StixRow {
        StixRow {
            key: 7,
            id: id.into(),
            version,
            modified: None,
            object_type: "indicator".into(),
            spec_version: SPEC_VERSION.into(),
            published_level: None,
            other_markings: Vec::new(),
            defines: None,
            tlp: None,
            unresolved: false,
            body: "{}".into(),
        }
    }

    #[test]
    fn versions_are_told_apart_by_id_and_version_not_by_key() {
        // Every row has key 7, as ids whose hashes collide would.
        let rows = [
            row("indicator--a", 1),
            row("indicator--b", 1),
            row("indicator--a", 2),
            row("indicator--a", 1),
        ];
        let stored = [
            (40, "indicator--b".to_owned(), 1),
            (41, "indicator--c".to_owned(), 2),
        ];
        let batch = split(&rows, &stored);
        let new: Vec<(&str, i64)> = batch
            .new
            .iter()
            .map(|r| (r.id.as_str(), r.version))
            .collect();
        assert_eq!(new, [("indicator--a", 1), ("indicator--a", 2)]);
        assert_eq!(batch.stored, [40]);
    }

    #[test]
    fn the_id_key_is_the_first_eight_bytes_of_the_ids_sha256() {
        // `printf %s indicator--8e2e...cd3f | sha256sum` starts 559b738ba10e71fd. The key is
        // stored, so it must never change with a library or platform.
        let key = id_key("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
        assert_eq!(format!("{:016x}", key.cast_unsigned()), "559b738ba10e71fd");
    }
}
