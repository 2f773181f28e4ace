//! The one error type of the ledger: bad arguments, missing stored hashes, proofs that do not
//! verify, and signed notes or checkpoints that are malformed or not signed as claimed.

use thiserror::Error;

use crate::{KeyId, LeafIndex, NodeId, TreeSize};

/// Why a tree operation, a proof check or a checkpoint check failed.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// A leaf index at or past the end of the tree it was asked about.
    #[error("entry {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: LeafIndex,
        /// The size of the tree it was asked about.
        size: TreeSize,
    },
    /// A tree size larger than the log currently is.
    #[error("tree size {size} is larger than the log, which holds {log_size} entries")]
    SizeBeyondLog {
        /// The size asked for.
        size: TreeSize,
        /// The log's current size.
        log_size: TreeSize,
    },
    /// Two tree sizes in the wrong order: the older (smaller) one comes first.
    #[error("tree size {size1} is larger than tree size {size2}; give the older size first")]
    SizesOutOfOrder {
        /// The size given as the older tree.
        size1: TreeSize,
        /// The size given as the newer tree.
        size2: TreeSize,
    },
    /// The log already holds the largest number of entries a `u64` can count.
    #[error("the log is full: it cannot hold more than 2^64 - 1 entries")]
    LogFull,
    /// A node id that lies beyond the largest possible tree (read back from storage).
    #[error("node {level}/{index} lies beyond the largest possible tree")]
    InvalidNode {
        /// The node's level.
        level: u8,
        /// The node's index within its level.
        index: u64,
    },
    /// The hash store lacks a node the tree needs: it was not given every node the log appended.
    #[error("the hash store has no hash for node {0}; persist every node an append returns")]
    MissingNode(NodeId),
    /// A node offered to an append-only store is not the next one in its level.
    #[error("node {node} is out of order: the store expects index {expected} next at that level")]
    NodeOutOfOrder {
        /// The node offered.
        node: NodeId,
        /// The index the store expected next at the node's level.
        expected: u64,
    },
    /// The caller supplied a different number of hashes than the computation needs.
    #[error("expected {expected} hashes for {what}, got {got}")]
    WrongHashCount {
        /// What the hashes were for.
        what: &'static str,
        /// How many were needed.
        expected: usize,
        /// How many were given.
        got: usize,
    },
    /// The hash store itself failed (its error is the source).
    #[error("the hash store failed")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An inclusion proof does not show the entry in the tree with the given root.
    #[error("inclusion proof does not verify: {0}")]
    InvalidInclusionProof(&'static str),
    /// A consistency proof does not show the newer tree extends the older one.
    #[error("consistency proof does not verify: {0}")]
    InvalidConsistencyProof(&'static str),
    /// The text is not a well-formed signed note (c2sp.org/signed-note).
    #[error("malformed signed note: {0}")]
    MalformedNote(String),
    /// The note text is not a well-formed checkpoint (c2sp.org/tlog-checkpoint).
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// A key name that signed-note forbids.
    #[error("invalid key name {0:?}: it must be non-empty, with no spaces and no '+'")]
    InvalidKeyName(String),
    /// The note carries no signature from the expected key.
    #[error("the note has no signature by key {name}+{key_id}")]
    MissingSignature {
        /// The expected key's name.
        name: String,
        /// The expected key's id.
        key_id: KeyId,
    },
    /// The note carries a signature from the expected key, and it does not verify.
    #[error("the signature by key {name}+{key_id} does not verify")]
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's id.
        key_id: KeyId,
    },
}

impl LedgerError {
    /// Wraps a storage backend's error.
    pub fn store(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Store(Box::new(err))
    }
}
