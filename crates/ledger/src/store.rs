//! Where node hashes live: the [`HashStore`] trait, an in-memory store, and the generic
//! root and proof functions that read any store.
//!
//! A store keeps the hash of every complete subtree, addressed by [`NodeId`] (level, index).
//! That is about two hashes per entry, written once and never changed, and it makes a root at
//! any past size or any proof cost O(log n) reads instead of a pass over the log.

use detente_protocol::Digest;

use crate::{Frontier, LeafIndex, LedgerError, NodeId, ProofPlan, TreeSize};

/// Read access to stored complete-subtree hashes.
///
/// A SQL store keeps them in one table keyed by `(level, index)`, with rows written once, in the
/// transaction that appends the entries that completed them.
///
/// Synchronous on purpose: the in-memory store and audits use it directly. An async store
/// (the SQL one) uses [`ProofPlan`] instead: fetch [`ProofPlan::nodes`] in one query, then
/// [`ProofPlan::assemble`].
pub trait HashStore {
    /// The backend's own error; it reaches callers as the source of [`LedgerError::Store`].
    type Error: std::error::Error + Send + Sync + 'static;

    /// The hash of the complete node `node`, or `None` if the store does not hold it.
    fn get(&self, node: NodeId) -> Result<Option<Digest>, Self::Error>;

    /// The hashes of several nodes, in order. Override it where one batched read is cheaper than
    /// many single ones.
    fn get_many(&self, nodes: &[NodeId]) -> Result<Vec<Option<Digest>>, Self::Error> {
        nodes.iter().map(|&node| self.get(node)).collect()
    }
}

impl<S: HashStore + ?Sized> HashStore for &S {
    type Error = S::Error;

    fn get(&self, node: NodeId) -> Result<Option<Digest>, Self::Error> {
        (**self).get(node)
    }

    fn get_many(&self, nodes: &[NodeId]) -> Result<Vec<Option<Digest>>, Self::Error> {
        (**self).get_many(nodes)
    }
}

impl ProofPlan {
    /// Fetches the plan's nodes from `store` and assembles them.
    pub fn fetch<S: HashStore>(&self, store: &S) -> Result<Vec<Digest>, LedgerError> {
        let found = store.get_many(self.nodes()).map_err(LedgerError::store)?;
        if found.len() != self.nodes().len() {
            return Err(LedgerError::WrongHashCount {
                what: "a batched store read",
                expected: self.nodes().len(),
                got: found.len(),
            });
        }
        let hashes = found
            .into_iter()
            .zip(self.nodes())
            .map(|(hash, &node)| hash.ok_or(LedgerError::MissingNode(node)))
            .collect::<Result<Vec<_>, _>>()?;
        self.assemble(&hashes)
    }
}

/// The root hash of the tree of `size` entries, from the store's complete-subtree hashes.
pub fn root_at<S: HashStore>(store: &S, size: TreeSize) -> Result<Digest, LedgerError> {
    let mut roots = ProofPlan::root(size).fetch(store)?;
    Ok(roots.pop().expect("a root plan has exactly one output"))
}

/// The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: HashStore>(
    store: &S,
    index: LeafIndex,
    size: TreeSize,
) -> Result<Vec<Digest>, LedgerError> {
    ProofPlan::inclusion(index, size)?.fetch(store)
}

/// The consistency proof from the tree of `size1` entries to that of `size2` (RFC 9162 §2.1.4.1).
pub fn consistency_proof<S: HashStore>(
    store: &S,
    size1: TreeSize,
    size2: TreeSize,
) -> Result<Vec<Digest>, LedgerError> {
    ProofPlan::consistency(size1, size2)?.fetch(store)
}

impl Frontier {
    /// Reads the frontier of the tree of `size` entries from a store.
    pub fn load<S: HashStore>(store: &S, size: TreeSize) -> Result<Self, LedgerError> {
        let ids = Frontier::node_ids(size);
        let found = store.get_many(&ids).map_err(LedgerError::store)?;
        let hashes = found
            .into_iter()
            .zip(&ids)
            .map(|(hash, &node)| hash.ok_or(LedgerError::MissingNode(node)))
            .collect::<Result<Vec<_>, _>>()?;
        Frontier::from_hashes(size, hashes)
    }
}

/// Complete-subtree hashes in memory, one vector per level: for tests, audits and tools.
///
/// It is append-only like the log: a node is accepted only as the next one in its level, so a
/// bug that would overwrite history fails loudly instead.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    levels: Vec<Vec<Digest>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with room for the nodes of `leaves` entries, so building a large tree does
    /// not reallocate.
    pub fn with_capacity(leaves: u64) -> Self {
        let mut levels = Vec::new();
        let mut width = leaves;
        while width > 0 {
            levels.push(Vec::with_capacity(
                usize::try_from(width).unwrap_or(usize::MAX),
            ));
            width /= 2;
        }
        Self { levels }
    }

    /// Stores nodes returned by [`Frontier::append`], in the order given. Either all are stored
    /// or, if one is not the next node of its level, none is.
    pub fn insert(&mut self, nodes: &[(NodeId, Digest)]) -> Result<(), LedgerError> {
        let mut next: Vec<u64> = self.levels.iter().map(|row| row.len() as u64).collect();
        for &(node, _) in nodes {
            let level = usize::from(node.level());
            if next.len() <= level {
                next.resize(level + 1, 0);
            }
            if node.index() != next[level] {
                return Err(LedgerError::NodeOutOfOrder {
                    node,
                    expected: next[level],
                });
            }
            next[level] += 1;
        }
        if self.levels.len() < next.len() {
            self.levels.resize_with(next.len(), Vec::new);
        }
        for &(node, hash) in nodes {
            self.levels[usize::from(node.level())].push(hash);
        }
        Ok(())
    }

    /// The number of leaves stored.
    pub fn leaf_count(&self) -> TreeSize {
        TreeSize::new(self.levels.first().map_or(0, |leaves| leaves.len() as u64))
    }

    /// The number of node hashes stored, over all levels.
    pub fn node_count(&self) -> u64 {
        self.levels.iter().map(|row| row.len() as u64).sum()
    }
}

impl HashStore for MemoryStore {
    type Error = std::convert::Infallible;

    fn get(&self, node: NodeId) -> Result<Option<Digest>, Self::Error> {
        let index = usize::try_from(node.index()).ok();
        Ok(self
            .levels
            .get(usize::from(node.level()))
            .zip(index)
            .and_then(|(row, index)| row.get(index))
            .copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_refuses_to_rewrite_or_skip_a_node() {
        let mut store = MemoryStore::new();
        let hash = crate::hash_leaf(b"a");
        store
            .insert(&[(NodeId::leaf(LeafIndex::new(0)), hash)])
            .expect("first leaf");
        let leaf = |i| NodeId::leaf(LeafIndex::new(i));
        let again = store.insert(&[(leaf(0), hash)]);
        assert!(matches!(
            again,
            Err(LedgerError::NodeOutOfOrder { expected: 1, .. })
        ));
        let skip = store.insert(&[(leaf(1), hash), (leaf(3), hash)]);
        assert!(matches!(
            skip,
            Err(LedgerError::NodeOutOfOrder { expected: 2, .. })
        ));
        // The failed batch stored nothing, not even its valid first node.
        assert_eq!(store.leaf_count(), TreeSize::new(1));
    }

    #[test]
    fn a_proof_past_the_stored_nodes_reports_the_missing_node() {
        let store = MemoryStore::new();
        let err = root_at(&store, TreeSize::new(2));
        assert!(matches!(err, Err(LedgerError::MissingNode(node)) if node.level() == 1));
    }
}
