//! Positions in the tree as distinct types: a leaf index, a tree size and a node id.
//!
//! All three are "just a u64" underneath, and mixing them up (passing a size where an index
//! belongs, or a node's index within its level where a leaf index belongs) yields proofs that
//! are wrong in ways only a partner's auditor would notice. Newtypes make the compiler notice.

use std::fmt;

use crate::LedgerError;

/// The position of one entry in the log, counting from 0 in the order entries were appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafIndex(u64);

impl LeafIndex {
    /// The entry at position `index`.
    pub const fn new(index: u64) -> Self {
        Self(index)
    }

    /// The position as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for LeafIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The number of entries in a tree; the tree of size `n` holds leaves `0..n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TreeSize(u64);

impl TreeSize {
    /// The empty tree.
    pub const ZERO: Self = Self(0);

    /// The tree holding `size` entries.
    pub const fn new(size: u64) -> Self {
        Self(size)
    }

    /// The number of entries.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whether `index` names an entry of this tree.
    pub const fn contains(self, index: LeafIndex) -> bool {
        index.0 < self.0
    }
}

impl fmt::Display for TreeSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A complete (perfect) subtree: the node at `level` above the leaves, `index`-th from the left.
///
/// It covers leaves `index * 2^level .. (index + 1) * 2^level`; level 0 is the leaves themselves.
/// Once the log is large enough to cover those leaves the node's hash never changes again, which
/// is why stores keep exactly these nodes and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    level: u8,
    index: u64,
}

impl NodeId {
    /// The highest level a node can have: a level-64 node would need 2^64 leaves.
    pub const MAX_LEVEL: u8 = 63;

    /// The node at `level`, `index`-th from the left; rejects nodes whose leaves would not fit in
    /// a `u64` leaf index (used when reading node ids back from storage).
    pub fn new(level: u8, index: u64) -> Result<Self, LedgerError> {
        let fits = level <= Self::MAX_LEVEL
            && index
                .checked_add(1)
                .and_then(|end| end.checked_mul(1 << level))
                .is_some();
        if fits {
            Ok(Self { level, index })
        } else {
            Err(LedgerError::InvalidNode { level, index })
        }
    }

    /// A node the tree arithmetic has already shown to be in range.
    pub(crate) const fn new_unchecked(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The node of the single leaf `leaf`.
    pub const fn leaf(leaf: LeafIndex) -> Self {
        Self {
            level: 0,
            index: leaf.0,
        }
    }

    /// Height above the leaves (0 for a leaf).
    pub const fn level(self) -> u8 {
        self.level
    }

    /// Position within its level, counting from the left.
    pub const fn index(self) -> u64 {
        self.index
    }

    /// The first leaf this node covers.
    pub const fn first_leaf(self) -> LeafIndex {
        LeafIndex(self.index << self.level)
    }

    /// The smallest tree size in which this node is complete, and hence stored.
    pub const fn complete_at(self) -> TreeSize {
        TreeSize((self.index + 1) << self.level)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.level, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_know_which_leaves_they_cover() {
        let node = NodeId::new(2, 3).expect("in range");
        assert_eq!(node.first_leaf(), LeafIndex::new(12));
        assert_eq!(node.complete_at(), TreeSize::new(16));
        assert_eq!(
            NodeId::leaf(LeafIndex::new(7)).complete_at(),
            TreeSize::new(8)
        );
    }

    #[test]
    fn node_ids_beyond_the_u64_leaf_range_are_rejected() {
        assert!(NodeId::new(63, 0).is_ok());
        assert!(NodeId::new(63, 1).is_err());
        assert!(NodeId::new(64, 0).is_err());
        assert!(NodeId::new(0, u64::MAX).is_err());
        assert!(NodeId::new(0, u64::MAX - 1).is_ok());
    }
}
