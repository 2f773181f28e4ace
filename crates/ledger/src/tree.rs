//! Tree arithmetic without storage: which stored nodes a root or proof needs, and how appending
//! leaves grows the tree.
//!
//! Every hash a root or proof needs is the hash of some contiguous leaf range, and every such
//! range splits into at most 64 complete subtrees whose hashes never change once written. So a
//! caller (the in-memory store here, or the SQL store in another crate, which is async) asks a
//! [`ProofPlan`] for the node ids, fetches them however it likes, in one query if it can, and
//! hands the hashes back to [`ProofPlan::assemble`]. No I/O happens in this module.

use detente_protocol::Digest;

use crate::{
    LeafIndex, LedgerError, NodeId, TreeSize,
    hash::{empty_root, hash_children},
};

/// The largest power of two strictly below `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees covering leaves `lo..hi`, left to right.
///
/// Greedy from the left: the largest aligned subtree that starts at `lo` and fits. For the ranges
/// the RFC 9162 recursion produces (whose start is aligned to their size rounded up to a power of
/// two) this yields one node per set bit of `hi - lo`, highest first, and folding them from the
/// right gives the range's Merkle tree hash.
fn covering_nodes(mut lo: u64, hi: u64, out: &mut Vec<NodeId>) {
    while lo < hi {
        let fits = 63 - (hi - lo).leading_zeros();
        let aligned = lo.trailing_zeros();
        let level = fits.min(aligned);
        out.push(NodeId::new_unchecked(level as u8, lo >> level));
        lo += 1 << level;
    }
}

/// The Merkle tree hash of a range from the hashes of its covering nodes, folded from the right.
fn fold_right(hashes: &[Digest]) -> Digest {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |acc, left| hash_children(left, &acc)),
    }
}

/// The stored node hashes that a root or proof needs, and how to combine them.
///
/// Build one with [`ProofPlan::root`], [`ProofPlan::inclusion`] or [`ProofPlan::consistency`],
/// fetch the hashes of [`ProofPlan::nodes`] in that order, and pass them to
/// [`ProofPlan::assemble`], which returns the root (one hash) or the proof (one hash per step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    nodes: Vec<NodeId>,
    /// End offset into `nodes` of each output hash's group of nodes.
    group_ends: Vec<usize>,
}

impl ProofPlan {
    fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut plan = Self {
            nodes: Vec::new(),
            group_ends: Vec::new(),
        };
        for (lo, hi) in ranges {
            covering_nodes(lo, hi, &mut plan.nodes);
            plan.group_ends.push(plan.nodes.len());
        }
        plan
    }

    /// The root hash of the tree of `size` entries: one output hash.
    ///
    /// It needs at most 64 stored nodes (one per set bit of `size`), so the root at any past
    /// size costs O(log n) reads and hashes.
    pub fn root(size: TreeSize) -> Self {
        Self::from_ranges([(0, size.get())])
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (RFC 9162 §2.1.3.1),
    /// ordered from the leaf up.
    pub fn inclusion(index: LeafIndex, size: TreeSize) -> Result<Self, LedgerError> {
        if !size.contains(index) {
            return Err(LedgerError::IndexOutOfRange { index, size });
        }
        let m = index.get();
        let (mut lo, mut hi) = (0, size.get());
        let mut siblings = Vec::new();
        // Walk down from the root; the RFC's recursion lists siblings from the leaf up, so
        // reverse at the end.
        while hi - lo > 1 {
            let mid = lo + split_point(hi - lo);
            if m < mid {
                siblings.push((mid, hi));
                hi = mid;
            } else {
                siblings.push((lo, mid));
                lo = mid;
            }
        }
        siblings.reverse();
        Ok(Self::from_ranges(siblings))
    }

    /// The consistency proof from the tree of `size1` entries to the tree of `size2` entries
    /// (RFC 9162 §2.1.4.1). It is empty when `size1` is 0 or equal to `size2`.
    pub fn consistency(size1: TreeSize, size2: TreeSize) -> Result<Self, LedgerError> {
        if size1 > size2 {
            return Err(LedgerError::SizesOutOfOrder { size1, size2 });
        }
        let m = size1.get();
        if m == 0 || size1 == size2 {
            return Ok(Self::from_ranges([]));
        }
        // SUBPROOF(m, D[lo:hi], whole_old_tree), unrolled into a loop from the root down.
        let (mut lo, mut hi) = (0, size2.get());
        let mut whole_old_tree = true;
        let mut ranges = Vec::new();
        loop {
            if m == hi {
                // The old tree's root (or the subtree standing for it) is already known to a
                // verifier holding the old root, so it is only sent when it is a proper subtree.
                if !whole_old_tree {
                    ranges.push((lo, hi));
                }
                break;
            }
            let mid = lo + split_point(hi - lo);
            if m <= mid {
                ranges.push((mid, hi));
                hi = mid;
            } else {
                ranges.push((lo, mid));
                lo = mid;
                whole_old_tree = false;
            }
        }
        ranges.reverse();
        Ok(Self::from_ranges(ranges))
    }

    /// The stored nodes to fetch, in the order [`ProofPlan::assemble`] expects their hashes.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// Combines the fetched hashes (one per node, in order) into the plan's output hashes.
    pub fn assemble(&self, hashes: &[Digest]) -> Result<Vec<Digest>, LedgerError> {
        if hashes.len() != self.nodes.len() {
            return Err(LedgerError::WrongHashCount {
                what: "a proof plan",
                expected: self.nodes.len(),
                got: hashes.len(),
            });
        }
        let mut start = 0;
        Ok(self
            .group_ends
            .iter()
            .map(|&end| {
                let out = fold_right(&hashes[start..end]);
                start = end;
                out
            })
            .collect())
    }
}

/// The right edge of the tree: the roots of its complete subtrees, largest first.
///
/// This is all an append needs (a "compact range" over the whole tree): at most 64 hashes, one
/// per set bit of the size. Appending a leaf creates that leaf's node plus one node per
/// subtree it completes, 2 new nodes per leaf on average, and [`Frontier::append`] returns them
/// so the caller can persist them in the same transaction as the entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: TreeSize,
    hashes: Vec<Digest>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored nodes that make up the frontier of a tree of `size` entries, largest first.
    pub fn node_ids(size: TreeSize) -> Vec<NodeId> {
        let mut out = Vec::new();
        covering_nodes(0, size.get(), &mut out);
        out
    }

    /// Rebuilds the frontier of a tree of `size` entries from the hashes of
    /// [`Frontier::node_ids`], in that order (used when a node reopens its log).
    pub fn from_hashes(size: TreeSize, hashes: Vec<Digest>) -> Result<Self, LedgerError> {
        let expected = size.get().count_ones() as usize;
        if hashes.len() != expected {
            return Err(LedgerError::WrongHashCount {
                what: "a frontier",
                expected,
                got: hashes.len(),
            });
        }
        Ok(Self { size, hashes })
    }

    /// The number of entries in the tree.
    pub fn size(&self) -> TreeSize {
        self.size
    }

    /// The hashes of the frontier nodes, largest subtree first.
    pub fn hashes(&self) -> &[Digest] {
        &self.hashes
    }

    /// The root hash of the tree.
    pub fn root(&self) -> Digest {
        fold_right(&self.hashes)
    }

    /// Appends leaves (by their leaf hashes) and returns every node that became complete, leaves
    /// included, in the order they were created. Persist all of them: proofs read them later.
    ///
    /// Fails without changing anything if the log would outgrow a `u64`.
    pub fn append(&mut self, leaf_hashes: &[Digest]) -> Result<Vec<(NodeId, Digest)>, LedgerError> {
        let count = u64::try_from(leaf_hashes.len()).map_err(|_| LedgerError::LogFull)?;
        if self.size.get().checked_add(count).is_none() {
            return Err(LedgerError::LogFull);
        }
        let mut created = Vec::with_capacity(leaf_hashes.len() * 2);
        for leaf in leaf_hashes {
            let index = self.size.get();
            let mut hash = *leaf;
            created.push((NodeId::new_unchecked(0, index), hash));
            // Each trailing one bit of the old size is a complete subtree on the right edge that
            // the new leaf's subtree now pairs up with.
            let mut level = 0;
            while (index >> level) & 1 == 1 {
                let left = self
                    .hashes
                    .pop()
                    .expect("the frontier holds one hash per set bit of the size");
                hash = hash_children(&left, &hash);
                level += 1;
                created.push((NodeId::new_unchecked(level, index >> level), hash));
            }
            self.hashes.push(hash);
            self.size = TreeSize::new(index + 1);
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(plan: &ProofPlan) -> Vec<(u8, u64)> {
        plan.nodes()
            .iter()
            .map(|n| (n.level(), n.index()))
            .collect()
    }

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        // Cases from transparency-dev/merkle testonly/reference_test.go (TestDownToPowerOfTwo).
        for (n, k) in [(2, 1), (7, 4), (8, 4), (63, 32), (28937, 16384)] {
            assert_eq!(split_point(n), k, "{n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn the_root_of_seven_leaves_needs_three_nodes() {
        let plan = ProofPlan::root(TreeSize::new(7));
        assert_eq!(ids(&plan), [(2, 0), (1, 2), (0, 6)]);
        assert!(ProofPlan::root(TreeSize::ZERO).nodes().is_empty());
    }

    #[test]
    fn an_inclusion_plan_names_siblings_from_the_leaf_up() {
        // RFC 6962 §2.1.3's 7-leaf example: the path of d0 is [b, h, l], where l covers 4..7.
        let plan = ProofPlan::inclusion(LeafIndex::new(0), TreeSize::new(7)).expect("in range");
        assert_eq!(ids(&plan), [(0, 1), (1, 1), (1, 2), (0, 6)]);
        assert_eq!(plan.group_ends, [1, 2, 4]);
    }

    #[test]
    fn an_inclusion_plan_rejects_an_index_past_the_end() {
        let err = ProofPlan::inclusion(LeafIndex::new(7), TreeSize::new(7));
        assert!(matches!(err, Err(LedgerError::IndexOutOfRange { .. })));
    }

    #[test]
    fn a_consistency_plan_rejects_sizes_out_of_order() {
        let err = ProofPlan::consistency(TreeSize::new(4), TreeSize::new(3));
        assert!(matches!(err, Err(LedgerError::SizesOutOfOrder { .. })));
    }

    #[test]
    fn assembling_with_the_wrong_number_of_hashes_is_rejected() {
        let plan = ProofPlan::root(TreeSize::new(3));
        let err = plan.assemble(&[empty_root()]);
        assert!(matches!(
            err,
            Err(LedgerError::WrongHashCount {
                expected: 2,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn appending_creates_the_nodes_each_leaf_completes() {
        let mut frontier = Frontier::new();
        let leaves: Vec<Digest> = (0u8..4).map(|i| crate::hash_leaf(&[i])).collect();
        let created = frontier.append(&leaves).expect("room");
        let created: Vec<(u8, u64)> = created
            .iter()
            .map(|(n, _)| (n.level(), n.index()))
            .collect();
        assert_eq!(
            created,
            [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
        );
        assert_eq!(frontier.hashes().len(), 1);
    }

    #[test]
    fn a_frontier_cannot_grow_past_u64() {
        let mut frontier = Frontier::from_hashes(
            TreeSize::new(u64::MAX - 2),
            vec![empty_root(); (u64::MAX - 2).count_ones() as usize],
        )
        .expect("one hash per set bit");
        let err = frontier.append(&[empty_root(); 3]);
        assert!(matches!(err, Err(LedgerError::LogFull)));
        assert_eq!(frontier.size(), TreeSize::new(u64::MAX - 2));
        frontier
            .append(&[empty_root(); 2])
            .expect("the last two leaves fit");
        assert_eq!(frontier.size(), TreeSize::new(u64::MAX));
        assert!(matches!(
            frontier.append(&[empty_root()]),
            Err(LedgerError::LogFull)
        ));
    }
}
