//! Persistence for a detente node: the append-only log of entries and the projections
//! derived from it (messages, outbox, cases, counters), plus API tokens, and the STIX objects
//! (indicators) the node holds with their TAXII collections.
//!
//! This is the only crate that speaks SQL. Every statement is parameterised. Writes go
//! through [`WriteTx`], one at a time per node: the log's order is the order of commits.
//! Two backends sit behind one [`Store`]: embedded SQLite (the default) in WAL mode with
//! `synchronous=FULL`, and PostgreSQL for nodes that run several processes, where writers
//! serialise on an advisory lock. Either way a committed transaction survives a killed
//! process or a power cut.

mod backend;
mod bodies;
mod decode;
mod delivery;
mod error;
mod people;
pub mod postgres;
mod rows;
pub mod sqlite;
mod stix;
#[cfg(test)]
mod tests;

pub use backend::{Location, Store, WriteTx};
pub use delivery::DeliveryState;
pub use error::StoreError;
pub use people::{Agency, Bearer, NewUser, TokenInfo, TrailEntry, TrailQuery, User};
pub use rows::{
    Alert, CaseFilter, CaseRow, CheckpointState, Direction, EntryKind, MessageRow, MessageState,
    NewEntry, OutboxItem, PartnerCheckpoint,
};
pub use stix::{
    Collection, InsertCounts, ObjectPage, ObjectQuery, ReadAs, ShareContext, StixImport, StixRow,
    StoredObject, Versions,
};
