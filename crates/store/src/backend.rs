//! The store the rest of detente uses: one API over two backends, chosen by the database
//! location in the node's configuration.
//!
//! Why an enum and not a trait object, a generic or sqlx's `Any` driver:
//!
//! - `sqlx::Any` erases types to a common subset and chooses the driver at run time; its
//!   placeholders are still the driver's own (`?` for SQLite, `$1` for PostgreSQL) and
//!   per-driver features (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's advisory locks and
//!   arrays) are exactly what the log's single-writer rule needs, so it would not save the
//!   two SQL dialects and would lose their strengths.
//! - A trait with async methods is not object-safe without boxing every future, and a
//!   `Store<DB: Database>` generic spreads sqlx bounds into every crate that holds a store.
//! - An enum keeps `detente_store::Store` a plain, cloneable concrete type: `server` and
//!   `cli` did not change beyond how they open it. Each backend is one module with the same
//!   methods; what they share (row types, row decoding, the Merkle frontier logic from
//!   `detente-ledger`) lives once. The match below is the whole cost of dispatch.

use std::path::{Path, PathBuf};

use detente_ledger::{Digest, LeafIndex, NodeId, TreeSize};
use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};

use crate::{
    Alert, CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState,
    NewEntry, OutboxItem, PartnerCheckpoint, StoreError, postgres, sqlite,
};

/// Where a node's database lives. Its `Debug` form is redacted too, so that no log line or
/// panic message prints a password.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (`postgres://user:password@host:port/database`).
    Postgres(String),
}

impl Location {
    /// Reads a configured database: a `postgres://` or `postgresql://` URL, a `sqlite:` URL,
    /// or else a file path, relative to `home` unless absolute.
    pub fn parse(database: &str, home: &Path) -> Self {
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            return Self::Postgres(database.to_owned());
        }
        let path = database
            .strip_prefix("sqlite://")
            .or_else(|| database.strip_prefix("sqlite:"))
            .unwrap_or(database);
        Self::Sqlite(home.join(path))
    }

    /// The location with any password left out, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(_) => write!(f, "Sqlite({:?})", self.redacted()),
            Self::Postgres(_) => write!(f, "Postgres({:?})", self.redacted()),
        }
    }
}

/// `postgres://user:secret@host/db?password=secret` → `postgres://user:***@host/db?password=***`:
/// the userinfo's password and the value of every query parameter whose name ends in
/// `password` (libpq reads `password` and `sslpassword` there) are replaced, the rest kept.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last `@` before the query. Looking past the first `/` too
    // hides a password with a raw `/` in it (unreadable as a URL, but still a secret).
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    let (authority, tail) = match rest[..before_query].rfind('@') {
        Some(at) => {
            let user_info = &rest[..at];
            let after = &rest[at + 1..];
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            let host = &after[..end];
            let authority = match user_info.split_once(':') {
                Some((user, _)) => format!("{user}:***@{host}"),
                None => format!("{user_info}@{host}"),
            };
            (authority, &after[end..])
        }
        None => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        }
    };
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let Some(query) = query else {
        return format!("{scheme}://{authority}{tail}");
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, format!("#{f}")),
        None => (query, String::new()),
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_password_parameter(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{scheme}://{authority}{path}?{}{fragment}", query.join("&"))
}

/// Whether a query parameter's name (possibly percent-encoded) names a password.
fn is_password_parameter(name: &str) -> bool {
    name.replace("%5F", "_")
        .replace("%5f", "_")
        .to_ascii_lowercase()
        .ends_with("password")
}

macro_rules! dispatch {
    ($ty:ident, $value:expr, $b:ident => $body:expr) => {
        match $value {
            $ty::Sqlite($b) => $body,
            $ty::Postgres($b) => $body,
        }
    };
}
pub(crate) use dispatch;

/// A node's database, on either backend.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite (the default): one node process.
    Sqlite(sqlite::Store),
    /// PostgreSQL: one or several node processes sharing one database.
    Postgres(postgres::Store),
}

impl Store {
    /// Opens (and with `create`, creates) the SQLite database at `path`.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
        Ok(Self::Sqlite(sqlite::Store::open(path, create).await?))
    }

    /// Opens the database at `location`; `create` makes a missing SQLite file. A PostgreSQL
    /// database must exist (the operator creates it); its tables are created either way.
    pub async fn open_at(location: &Location, create: bool) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Self::open(path, create).await,
            Location::Postgres(url) => Ok(Self::Postgres(postgres::Store::open(url).await?)),
        }
    }

    /// Opens the existing database at `location` for reading only, for the commands that
    /// check or report on evidence (`log verify`, `log export`, `review`): no migration, no
    /// tree nodes added, no write reaches the database (SQLite read-only connections,
    /// PostgreSQL read-only sessions), and [`Store::write`] refuses with
    /// [`StoreError::ReadOnly`].
    pub async fn open_at_read_only(location: &Location) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Ok(Self::Sqlite(sqlite::Store::open_read_only(path).await?)),
            Location::Postgres(url) => {
                Ok(Self::Postgres(postgres::Store::open_read_only(url).await?))
            }
        }
    }

    /// Whether the store was opened by [`Store::open_at_read_only`].
    pub fn read_only(&self) -> bool {
        dispatch!(Self, self, s => s.read_only())
    }

    /// Whether other processes may write to the same database (PostgreSQL): state cached
    /// in memory between write transactions must then be read again inside each one.
    pub fn shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The backend's name: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The committed tree: its size and root.
    pub async fn tree_head(&self) -> (TreeSize, Digest) {
        dispatch!(Self, self, s => s.tree_head().await)
    }

    /// The root of the tree when it had `size` entries.
    pub async fn root_at(&self, size: TreeSize) -> Result<Digest, StoreError> {
        dispatch!(Self, self, s => s.root_at(size).await)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3).
    pub async fn inclusion_proof(
        &self,
        index: LeafIndex,
        size: TreeSize,
    ) -> Result<Vec<Digest>, StoreError> {
        dispatch!(Self, self, s => s.inclusion_proof(index, size).await)
    }

    /// The consistency proof between the trees of `old` and `new` entries (RFC 9162 §2.1.4).
    pub async fn consistency_proof(
        &self,
        old: TreeSize,
        new: TreeSize,
    ) -> Result<Vec<Digest>, StoreError> {
        dispatch!(Self, self, s => s.consistency_proof(old, new).await)
    }

    /// Log entries with indices in `start..end`, in order: (index, kind, direction, bytes).
    pub async fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, String, String, Vec<u8>)>, StoreError> {
        dispatch!(Self, self, s => s.entries(start, end).await)
    }

    /// This node's latest signed checkpoint (signed-note text), if it has one.
    pub async fn latest_checkpoint(&self) -> Result<Option<String>, StoreError> {
        dispatch!(Self, self, s => s.latest_checkpoint().await)
    }

    /// Every checkpoint this node signed, by ascending size.
    pub async fn checkpoint_notes(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(Self, self, s => s.checkpoint_notes().await)
    }

    /// Every checkpoint held from partners: (party, signed note), by party and size.
    pub async fn partner_checkpoint_notes(&self) -> Result<Vec<(PartyId, String)>, StoreError> {
        dispatch!(Self, self, s => s.partner_checkpoint_notes().await)
    }

    /// Partner checkpoints not yet checked for consistency.
    pub async fn unverified_partner_checkpoints(
        &self,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        dispatch!(Self, self, s => s.unverified_partner_checkpoints().await)
    }

    /// The partner's checkpoints known to be consistent, largest size first.
    pub async fn consistent_partner_checkpoints(
        &self,
        party: &PartyId,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        dispatch!(Self, self, s => s.consistent_partner_checkpoints(party).await)
    }

    /// Alerts raised, newest first.
    pub async fn alerts(&self) -> Result<Vec<Alert>, StoreError> {
        dispatch!(Self, self, s => s.alerts().await)
    }

    /// Envelopes this node delivered to `party` (the partner receipted them) with `seq`
    /// above `after_seq`, in `seq` order, at most `limit`.
    pub async fn delivered_after(
        &self,
        party: &PartyId,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        dispatch!(Self, self, s => s.delivered_after(party, after_seq, limit).await)
    }

    /// The highest log index stored, if any entry is.
    pub async fn last_entry_index(&self) -> Result<Option<u64>, StoreError> {
        dispatch!(Self, self, s => s.last_entry_index().await)
    }

    /// The stored tree nodes at `level` with indices in `start..end`, in order.
    pub async fn tree_nodes(
        &self,
        level: u8,
        start: u64,
        end: u64,
    ) -> Result<Vec<(NodeId, Digest)>, StoreError> {
        dispatch!(Self, self, s => s.tree_nodes(level, start, end).await)
    }

    /// The value of a named counter outside a write transaction (0 if never set).
    pub async fn read_counter(&self, name: &str) -> Result<u64, StoreError> {
        dispatch!(Self, self, s => s.read_counter(name).await)
    }

    /// Starts the node's single write transaction.
    pub async fn write(&self) -> Result<WriteTx, StoreError> {
        Ok(match self {
            Self::Sqlite(s) => WriteTx::Sqlite(s.write().await?),
            Self::Postgres(s) => WriteTx::Postgres(s.write().await?),
        })
    }

    /// Closes the database, waiting for connections to finish.
    pub async fn close(&self) {
        dispatch!(Self, self, s => s.close().await)
    }

    /// Whether an API token hash is known.
    pub async fn token_exists(&self, token_hash: &str) -> Result<bool, StoreError> {
        dispatch!(Self, self, s => s.token_exists(token_hash).await)
    }

    /// A message by id.
    pub async fn message(&self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        dispatch!(Self, self, s => s.message(id).await)
    }

    /// Every message of a case, in log order.
    pub async fn case_messages(&self, case: &CaseId) -> Result<Vec<MessageRow>, StoreError> {
        dispatch!(Self, self, s => s.case_messages(case).await)
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
        dispatch!(Self, self, s => s.case_messages_page(after, cases).await)
    }

    /// One case's projected row.
    pub async fn case(&self, id: &CaseId) -> Result<Option<CaseRow>, StoreError> {
        dispatch!(Self, self, s => s.case(id).await)
    }

    /// Cases matching `filter`, newest first.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        dispatch!(Self, self, s => s.cases(filter).await)
    }

    /// The next outgoing messages due for delivery: per recipient, the lowest pending seqs.
    pub async fn outbox_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        dispatch!(Self, self, s => s.outbox_due(now, limit).await)
    }

    /// When the next outbox attempt falls due, if anything is waiting.
    pub async fn outbox_next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        dispatch!(Self, self, s => s.outbox_next_due().await)
    }

    /// Number of log entries.
    pub async fn entry_count(&self) -> Result<u64, StoreError> {
        dispatch!(Self, self, s => s.entry_count().await)
    }

    /// Counts of outgoing messages per delivery state.
    pub async fn outbox_summary(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        dispatch!(Self, self, s => s.outbox_summary().await)
    }

    /// Runs one statement outside any write transaction (tests of the triggers).
    #[cfg(test)]
    pub(crate) async fn execute_unchecked(&self, sql: &'static str) -> Result<(), StoreError> {
        dispatch!(Self, self, s => s.execute_unchecked(sql).await)
    }
}

/// The node's single write transaction, on either backend. Dropping it without `commit`
/// rolls back.
pub enum WriteTx {
    /// On SQLite.
    Sqlite(sqlite::WriteTx),
    /// On PostgreSQL.
    Postgres(postgres::WriteTx),
}

impl WriteTx {
    /// Commits; once this returns, the writes are durable.
    pub async fn commit(self) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.commit().await)
    }

    /// The tree as extended by this transaction: its size and root.
    pub fn tree_head(&self) -> (TreeSize, Digest) {
        dispatch!(Self, self, t => t.tree_head())
    }

    /// Whether this transaction appended to the log.
    pub fn appended(&self) -> bool {
        dispatch!(Self, self, t => t.appended())
    }

    /// Empties every projection so that it can be rebuilt from the log.
    pub async fn clear_projections(&mut self) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.clear_projections().await)
    }

    /// Stores this node's signed checkpoint of the tree at `size`.
    pub async fn insert_checkpoint(
        &mut self,
        size: TreeSize,
        root: Digest,
        note: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.insert_checkpoint(size, root, note, at).await)
    }

    /// The partner checkpoints already held at `size`.
    pub async fn partner_checkpoints_at(
        &mut self,
        party: &PartyId,
        size: TreeSize,
    ) -> Result<Vec<PartnerCheckpoint>, StoreError> {
        dispatch!(Self, self, t => t.partner_checkpoints_at(party, size).await)
    }

    /// Stores a partner checkpoint (once; a repeat is ignored).
    pub async fn insert_partner_checkpoint(
        &mut self,
        c: &PartnerCheckpoint,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.insert_partner_checkpoint(c, at).await)
    }

    /// Records what checking a partner checkpoint showed.
    pub async fn set_partner_checkpoint_state(
        &mut self,
        c: &PartnerCheckpoint,
        state: CheckpointState,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.set_partner_checkpoint_state(c, state).await)
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
        dispatch!(Self, self, t => t.insert_alert(kind, party, detail, evidence, at).await)
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
        dispatch!(Self, self, t => t.append_entry(kind, direction, message_id, bytes, recorded_at).await)
    }

    /// Appends many entries at once and returns the index of the first.
    pub async fn append_entries(&mut self, entries: &[NewEntry<'_>]) -> Result<i64, StoreError> {
        dispatch!(Self, self, t => t.append_entries(entries).await)
    }

    /// Increments a named counter and returns the new value (1 for a new counter).
    pub async fn next_counter(&mut self, name: &str) -> Result<u64, StoreError> {
        dispatch!(Self, self, t => t.next_counter(name).await)
    }

    /// The value of a named counter (0 if never set).
    pub async fn counter(&mut self, name: &str) -> Result<u64, StoreError> {
        dispatch!(Self, self, t => t.counter(name).await)
    }

    /// Sets a named counter; written once, at commit.
    pub async fn set_counter(&mut self, name: &str, value: u64) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.set_counter(name, value).await)
    }

    /// Records a message whose envelope (and receipt, if any) is already in the log.
    pub async fn insert_message(
        &mut self,
        row: &MessageRow,
        message_type: &str,
        envelope_hash: &str,
        receipt_entry: Option<i64>,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.insert_message(row, message_type, envelope_hash, receipt_entry).await)
    }

    /// Attaches a receipt (already in the log) to a message and sets its official time.
    pub async fn set_receipt(
        &mut self,
        id: MessageId,
        receipt_entry: i64,
        received_at: Timestamp,
        state: MessageState,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.set_receipt(id, receipt_entry, received_at, state).await)
    }

    /// Marks an outgoing message as refused for good by its recipient.
    pub async fn set_rejected(&mut self, id: MessageId, reason: &str) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.set_rejected(id, reason).await)
    }

    /// A message by id, inside this transaction.
    pub async fn message(&mut self, id: MessageId) -> Result<Option<MessageRow>, StoreError> {
        dispatch!(Self, self, t => t.message(id).await)
    }

    /// The message `id`, if known, and every message of `case`, in one query.
    pub async fn message_and_case(
        &mut self,
        id: MessageId,
        case: &CaseId,
    ) -> Result<(Option<MessageRow>, Vec<MessageRow>), StoreError> {
        dispatch!(Self, self, t => t.message_and_case(id, case).await)
    }

    /// Every message of a case, in log order, inside this transaction.
    pub async fn case_messages(&mut self, case: &CaseId) -> Result<Vec<MessageRow>, StoreError> {
        dispatch!(Self, self, t => t.case_messages(case).await)
    }

    /// Queues an outgoing message for delivery now.
    pub async fn enqueue(
        &mut self,
        id: MessageId,
        recipient: &PartyId,
        seq: u64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.enqueue(id, recipient, seq, now).await)
    }

    /// Removes a delivered (or refused) message from the outbox; `false` if it was not there.
    pub async fn dequeue(&mut self, id: MessageId) -> Result<bool, StoreError> {
        dispatch!(Self, self, t => t.dequeue(id).await)
    }

    /// Records a failed attempt for every queued message to `recipient`.
    pub async fn defer(
        &mut self,
        recipient: &PartyId,
        until: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.defer(recipient, until, error).await)
    }

    /// Writes a case's projected row.
    pub async fn upsert_case(&mut self, row: &CaseRow, now: Timestamp) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.upsert_case(row, now).await)
    }

    /// Stores the hash of a new API token.
    pub async fn insert_token(
        &mut self,
        token_hash: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        dispatch!(Self, self, t => t.insert_token(token_hash, name, now).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_a_file_in_the_home() {
        let home = Path::new("/srv/detente");
        assert_eq!(
            Location::parse("postgres://d@db/us", home),
            Location::Postgres("postgres://d@db/us".into())
        );
        assert_eq!(
            Location::parse("postgresql://d@db/us", home),
            Location::Postgres("postgresql://d@db/us".into())
        );
        assert_eq!(
            Location::parse("detente.db", home),
            Location::Sqlite("/srv/detente/detente.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/d.db", home),
            Location::Sqlite("/var/lib/d.db".into())
        );
    }

    #[test]
    fn a_redacted_location_hides_the_password_only() {
        let home = Path::new("/h");
        let l = Location::parse("postgres://detente:s3cret@db:5432/us?sslmode=require", home);
        assert_eq!(
            l.redacted(),
            "postgres://detente:***@db:5432/us?sslmode=require"
        );
        let l = Location::parse("postgres://detente@db/us", home);
        assert_eq!(l.redacted(), "postgres://detente@db/us");
    }

    #[test]
    fn a_location_printed_for_debugging_shows_no_password() {
        let l = Location::parse("postgres://u:s3cret@db/us?password=s3cret", Path::new("/h"));
        let printed = format!("{l:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("db/us"), "{printed}");
    }

    #[test]
    fn a_redacted_location_hides_a_password_given_as_a_query_parameter() {
        let home = Path::new("/h");
        let l = Location::parse(
            "postgres://detente@db/us?sslmode=require&password=s3cret&application_name=d",
            home,
        );
        assert_eq!(
            l.redacted(),
            "postgres://detente@db/us?sslmode=require&password=***&application_name=d"
        );
        let l = Location::parse("postgresql://db/us?PASSWORD=a&sslpassword=b#x", home);
        assert_eq!(
            l.redacted(),
            "postgresql://db/us?PASSWORD=***&sslpassword=***#x"
        );
    }

    #[test]
    fn a_redacted_location_hides_the_userinfo_password_whatever_follows_the_host() {
        let home = Path::new("/h");
        for (url, redacted) in [
            (
                "postgres://u:p@db?dbname=us",
                "postgres://u:***@db?dbname=us",
            ),
            ("postgres://u:p@db", "postgres://u:***@db"),
            (
                "postgres://u:p%40ss@db:5432/us",
                "postgres://u:***@db:5432/us",
            ),
            ("postgres://u:pa@ss@db/us", "postgres://u:***@db/us"),
            ("postgres://u:pa/ss@db/us", "postgres://u:***@db/us"),
            (
                "postgres://db:5432/us?application_name=a@b",
                "postgres://db:5432/us?application_name=a@b",
            ),
        ] {
            assert_eq!(Location::parse(url, home).redacted(), redacted, "{url}");
        }
        let l = Location::parse("/var/lib/detente/detente.db", home);
        assert_eq!(l.redacted(), "/var/lib/detente/detente.db");
    }
}
