//! Storage errors.

use thiserror::Error;

/// Why a storage operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A proof or range was asked for beyond the log's size.
    #[error("out of range: {0}")]
    OutOfRange(String),
    /// Stored data does not parse back; the database was altered outside detente.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write was attempted on a store opened read-only.
    #[error("the database was opened read-only: this command does not write to it")]
    ReadOnly,
}
