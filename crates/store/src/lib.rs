//! Persistence for a detente node: the append-only log of entries and the projections
//! derived from it (messages, outbox, cases, counters), plus API tokens, and the STIX objects
//! (indicators) the node holds with their TAXII collections.
//!
//! This is the only crate that speaks SQL. Every statement is parameterised. Writes go
//! through [`WriteTx`], one at a time per node: the log's order is the order of commits.
//! The embedded backend is SQLite in WAL mode with `synchronous=FULL`, so a committed
//! transaction survives a killed process or a power cut.

mod error;
mod rows;
mod sqlite;
mod stix;

pub use error::StoreError;
pub use rows::{
    Alert, CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState,
    NewEntry, OutboxItem, PartnerCheckpoint,
};
pub use sqlite::{Store, WriteTx};
pub use stix::{
    Collection, InsertCounts, ObjectPage, ObjectQuery, ReadAs, ShareContext, StixRow, StoredObject,
    Versions,
};
