//! Turning result rows into the store's row types, for any backend whose rows decode
//! `String`, `i64`, `bool` and `Vec<u8>` (SQLite and PostgreSQL both do). Column order is fixed by
//! the SELECT heads the backends share, so one decoder serves both.

use detente_ledger::{Digest, LedgerError, TreeSize};
use detente_protocol::{CaseId, MessageId, PartyId, Timestamp};
use sqlx::{ColumnIndex, Database, Decode, Row, Type};

use crate::stix::tlp_from_code;
use crate::{
    Alert, CaseRow, CheckpointState, Collection, Direction, MessageRow, MessageState, OutboxItem,
    PartnerCheckpoint, StoreError, StoredObject,
};

/// A result row whose columns decode as the SQL types the store uses.
pub(crate) trait StoreRow: Row
where
    usize: ColumnIndex<Self>,
{
    /// Column `i` as text.
    fn text(&self, i: usize) -> Result<String, StoreError>;
    /// Column `i` as text or NULL.
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// Column `i` as an integer.
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    /// Column `i` as an integer or NULL.
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    /// Column `i` as a boolean.
    fn flag(&self, i: usize) -> Result<bool, StoreError>;
    /// Column `i` as bytes.
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError>;
    /// Column `i` as bytes or NULL.
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
}

impl<R> StoreRow for R
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    R::Database: Database,
{
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// A row of the message SELECT head (`message_select!`).
pub(crate) fn message_row<R: StoreRow>(r: &R) -> Result<MessageRow, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(MessageRow {
        id: parse(&r.text(0)?, MessageId::parse)?,
        direction: Direction::parse(&r.text(1)?)?,
        sender: parse(&r.text(2)?, PartyId::parse)?,
        recipient: parse(&r.text(3)?, PartyId::parse)?,
        seq: to_u64(r.int(4)?)?,
        case_id: parse(&r.text(5)?, CaseId::parse)?,
        state: MessageState::parse(&r.text(6)?)?,
        envelope: r.bytes(7)?,
        receipt: r.opt_bytes(8)?,
        received_at: r.opt_int(9)?.map(ts).transpose()?,
        rejection: r.opt_text(10)?,
        envelope_entry: r.int(11)?,
    })
}

/// A row of the case SELECT head (`case_select!`).
pub(crate) fn case_row<R: StoreRow>(r: &R) -> Result<CaseRow, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(CaseRow {
        id: parse(&r.text(0)?, CaseId::parse)?,
        requester: parse(&r.text(1)?, PartyId::parse)?,
        responder: parse(&r.text(2)?, PartyId::parse)?,
        kind: r.text(3)?,
        category: r.text(4)?,
        priority: r.text(5)?,
        tlp: r.text(6)?,
        title: r.text(7)?,
        status: r.text(8)?,
        filed_at: r.opt_int(9)?.map(ts).transpose()?,
        pending_out: u32::try_from(r.int(10)?).unwrap_or(u32::MAX),
        overdue_at: r.opt_int(11)?.map(ts).transpose()?,
        derived: r.text(12)?,
    })
}

/// A row of `SELECT party, size, root, note, state FROM partner_checkpoints`.
pub(crate) fn partner_checkpoint<R: StoreRow>(r: &R) -> Result<PartnerCheckpoint, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(PartnerCheckpoint {
        party: parse(&r.text(0)?, PartyId::parse)?,
        size: TreeSize::new(to_u64(r.int(1)?)?),
        root: digest(r.bytes(2)?, "checkpoint root")?,
        note: r.text(3)?,
        state: CheckpointState::parse(&r.text(4)?)?,
    })
}

/// A row of `SELECT kind, party, detail, evidence, raised_at FROM alerts`.
pub(crate) fn alert<R: StoreRow>(r: &R) -> Result<Alert, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(Alert {
        kind: r.text(0)?,
        party: r.text(1)?,
        detail: r.text(2)?,
        evidence: r.text(3)?,
        raised_at: ts(r.int(4)?)?,
    })
}

/// A row of the outbox query: message id, recipient, seq, attempts, envelope, case.
pub(crate) fn outbox_item<R: StoreRow>(r: &R) -> Result<OutboxItem, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(OutboxItem {
        message_id: parse(&r.text(0)?, MessageId::parse)?,
        recipient: parse(&r.text(1)?, PartyId::parse)?,
        seq: to_u64(r.int(2)?)?,
        attempts: u32::try_from(r.int(3)?).unwrap_or(u32::MAX),
        envelope: r.bytes(4)?,
        case_id: parse(&r.text(5)?, CaseId::parse)?,
        body: r.opt_bytes(6)?,
    })
}

/// A stored STIX object version as a read returns it: its seq (the page cursor), the object,
/// and its sharing context (origin, audience, space-separated recipients) for the TLP rule.
pub(crate) type ObjectRow = (i64, StoredObject, (String, Option<String>, String));

/// A row of the STIX object SELECT head (`stix::OBJECT_SELECT`).
pub(crate) fn object_row<R: StoreRow>(r: &R) -> Result<ObjectRow, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok((
        r.int(0)?,
        StoredObject {
            id: r.text(1)?,
            object_type: r.text(2)?,
            modified: r.opt_text(3)?,
            spec_version: r.text(4)?,
            date_added: r.int(5)?,
            tlp: r.opt_int(6)?.map(tlp_from_code).transpose()?,
            body: r.text(10)?,
        },
        (r.text(7)?, r.opt_text(8)?, r.text(9)?),
    ))
}

/// A row of `SELECT seq, id, version FROM stix_objects`.
pub(crate) fn stored_version<R: StoreRow>(r: &R) -> Result<(i64, String, i64), StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok((r.int(0)?, r.text(1)?, r.int(2)?))
}

/// A row of `SELECT id, title, description, audience, can_write FROM stix_collections`.
pub(crate) fn collection<R: StoreRow>(r: &R) -> Result<Collection, StoreError>
where
    usize: ColumnIndex<R>,
{
    Ok(Collection {
        id: r.text(0)?,
        title: r.text(1)?,
        description: r.opt_text(2)?,
        audience: r.opt_text(3)?,
        can_write: r.flag(4)?,
    })
}

/// A stored 32-byte hash.
pub(crate) fn digest(bytes: Vec<u8>, what: &str) -> Result<Digest, StoreError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))?;
    Ok(Digest::from_bytes(bytes))
}

pub(crate) fn parse<T, E: std::fmt::Display>(
    s: &str,
    f: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    f(s).map_err(|e| StoreError::Corrupt(format!("{s:?}: {e}")))
}

pub(crate) fn corrupt(e: LedgerError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_millis(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative count {v}")))
}

pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{v} does not fit in a database integer")))
}
