//! A whole log in memory: a [`Frontier`] for appends plus a [`MemoryStore`] for proofs.
//!
//! Tests, the auditor (which rebuilds a partner's log from its entries and compares roots) and
//! tools use it. A node's durable log pairs the same [`Frontier`] with the SQL store instead.

use detente_protocol::Digest;

use crate::{
    Frontier, HashStore as _, LeafIndex, LedgerError, MemoryStore, NodeId, TreeSize, hash_leaf,
    store,
};

/// An append-only Merkle log held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    frontier: Frontier,
    store: MemoryStore,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty log with room for `entries` entries.
    pub fn with_capacity(entries: u64) -> Self {
        Self {
            frontier: Frontier::new(),
            store: MemoryStore::with_capacity(entries),
        }
    }

    /// Appends one entry and returns its index.
    pub fn append(&mut self, entry: &[u8]) -> Result<LeafIndex, LedgerError> {
        self.append_leaf_hashes(&[hash_leaf(entry)])
    }

    /// Appends entries in order and returns the index of the first.
    pub fn append_entries<T: AsRef<[u8]>>(
        &mut self,
        entries: impl IntoIterator<Item = T>,
    ) -> Result<LeafIndex, LedgerError> {
        let hashes: Vec<Digest> = entries.into_iter().map(|e| hash_leaf(e.as_ref())).collect();
        self.append_leaf_hashes(&hashes)
    }

    /// Appends leaves given by their leaf hashes and returns the index of the first.
    pub fn append_leaf_hashes(&mut self, leaf_hashes: &[Digest]) -> Result<LeafIndex, LedgerError> {
        let first = LeafIndex::new(self.frontier.size().get());
        // Work on a copy so a failed append leaves the log exactly as it was.
        let mut frontier = self.frontier.clone();
        let created = frontier.append(leaf_hashes)?;
        self.store.insert(&created)?;
        self.frontier = frontier;
        Ok(first)
    }

    /// The number of entries.
    pub fn size(&self) -> TreeSize {
        self.frontier.size()
    }

    /// The current root hash.
    pub fn root(&self) -> Digest {
        self.frontier.root()
    }

    /// The leaf hash of entry `index`.
    pub fn leaf_hash(&self, index: LeafIndex) -> Result<Digest, LedgerError> {
        self.check_index(index, self.size())?;
        let Ok(found) = self.store.get(NodeId::leaf(index));
        found.ok_or(LedgerError::MissingNode(NodeId::leaf(index)))
    }

    /// The root hash the log had when it held `size` entries.
    pub fn root_at(&self, size: TreeSize) -> Result<Digest, LedgerError> {
        self.check_size(size)?;
        store::root_at(&self.store, size)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries.
    pub fn inclusion_proof(
        &self,
        index: LeafIndex,
        size: TreeSize,
    ) -> Result<Vec<Digest>, LedgerError> {
        self.check_size(size)?;
        self.check_index(index, size)?;
        store::inclusion_proof(&self.store, index, size)
    }

    /// The consistency proof from the tree of `size1` entries to that of `size2`.
    pub fn consistency_proof(
        &self,
        size1: TreeSize,
        size2: TreeSize,
    ) -> Result<Vec<Digest>, LedgerError> {
        self.check_size(size2)?;
        store::consistency_proof(&self.store, size1, size2)
    }

    /// The stored node hashes.
    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    fn check_size(&self, size: TreeSize) -> Result<(), LedgerError> {
        if size > self.size() {
            return Err(LedgerError::SizeBeyondLog {
                size,
                log_size: self.size(),
            });
        }
        Ok(())
    }

    fn check_index(&self, index: LeafIndex, size: TreeSize) -> Result<(), LedgerError> {
        if !size.contains(index) {
            return Err(LedgerError::IndexOutOfRange { index, size });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_for_a_size_the_log_has_not_reached_is_rejected() {
        let mut log = MemoryLog::new();
        log.append_entries([b"a", b"b"]).expect("room");
        assert!(matches!(
            log.root_at(TreeSize::new(3)),
            Err(LedgerError::SizeBeyondLog { .. })
        ));
        assert!(matches!(
            log.inclusion_proof(LeafIndex::new(2), TreeSize::new(2)),
            Err(LedgerError::IndexOutOfRange { .. })
        ));
    }

    #[test]
    fn indices_are_issued_in_order_and_never_reused() {
        let mut log = MemoryLog::new();
        assert_eq!(log.append(b"a").expect("room"), LeafIndex::new(0));
        assert_eq!(
            log.append_entries([b"b", b"c"]).expect("room"),
            LeafIndex::new(1)
        );
        assert_eq!(log.append(b"d").expect("room"), LeafIndex::new(3));
        assert_eq!(
            log.leaf_hash(LeafIndex::new(2)).expect("stored"),
            hash_leaf(b"c")
        );
    }
}
