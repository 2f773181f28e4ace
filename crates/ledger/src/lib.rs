//! The detente log: an append-only Merkle tree (RFC 9162 §2.1) over every envelope and
//! receipt a node sends or receives, its inclusion and consistency proofs, and signed
//! checkpoints (c2sp.org/tlog-checkpoint) that commit a node to its log's contents.
//!
//! # Guarantees
//!
//! - Once an index is issued to an entry, no other entry ever gets it, and the entry at an
//!   index never changes: a [`Frontier`] only appends, and stores only ever add node hashes.
//! - A checkpoint commits to every entry below its size. A partner holding two checkpoints from
//!   a log can demand a consistency proof; if the log rewrote or dropped any entry in between,
//!   no such proof exists ([`verify_consistency`] fails).
//! - An entry is provably in the log at a checkpoint iff an inclusion proof for it verifies
//!   against that checkpoint's root ([`verify_inclusion`]).
//! - Leaves and interior nodes are hashed under different prefixes ([`LEAF_HASH_PREFIX`],
//!   [`NODE_HASH_PREFIX`]), so no interior node can pass for an entry.
//!
//! # Shape
//!
//! The crate is pure: no I/O, no clock, no async. Node hashes live behind [`HashStore`] (one
//! hash per complete subtree, addressed by [`NodeId`]); [`MemoryStore`] and [`MemoryLog`] keep
//! them in memory. An async store uses the sans-I/O pieces instead: [`Frontier::append`]
//! returns the new nodes to write in the same transaction as the entries, and [`ProofPlan`]
//! names the nodes a root or proof needs so they can be read in one query.

mod checkpoint;
mod error;
mod hash;
mod index;
mod log;
mod note;
mod store;
mod tree;
mod verify;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use error::LedgerError;
pub use hash::{LEAF_HASH_PREFIX, NODE_HASH_PREFIX, empty_root, hash_children, hash_leaf};
pub use index::{LeafIndex, NodeId, TreeSize};
pub use log::MemoryLog;
pub use note::{
    ED25519_SIGNATURE_TYPE, KeyId, MAX_NOTE_BYTES, MAX_SIGNATURES, NoteSignature, SignedNote,
    check_key_name,
};
pub use store::{HashStore, MemoryStore, consistency_proof, inclusion_proof, root_at};
pub use tree::{Frontier, ProofPlan};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// Re-exported so callers name the same digest type the ledger hashes into.
pub use detente_protocol::Digest;
