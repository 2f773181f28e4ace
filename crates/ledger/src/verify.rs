//! Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2): what a partner or an auditor runs
//! against a log it does not trust.
//!
//! These functions need no store: only the proof, the sizes and the roots, which normally come
//! from signed checkpoints. Roots are compared in constant time ([`Digest`]'s equality).
//!
//! What a proof cannot show: that the (size, root) pair itself belongs together. For example a
//! proof for entry 0 in a tree of 5 also verifies if the caller claims size 6 with that same
//! root, because the two trees hash entry 0's path the same way. Sizes and roots must therefore
//! come from one signed checkpoint, never be mixed from different sources.

use detente_protocol::Digest;

use crate::{LeafIndex, LedgerError, TreeSize, empty_root, hash_children};

/// The root an inclusion proof leads to for `leaf_hash` at `index` in a tree of `size` entries.
///
/// Fails if the index is out of range or the proof has the wrong number of hashes for that
/// index and size; otherwise compare the result with a trusted root, or use
/// [`verify_inclusion`], which does.
pub fn root_from_inclusion_proof(
    leaf_hash: &Digest,
    index: LeafIndex,
    size: TreeSize,
    proof: &[Digest],
) -> Result<Digest, LedgerError> {
    if !size.contains(index) {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    // fn walks the leaf's position up the tree, sn the last leaf's position: where they meet,
    // the leaf's subtree is on the tree's right edge and has no right sibling at that level.
    let mut f_n = index.get();
    let mut s_n = size.get() - 1;
    let mut r = *leaf_hash;
    for p in proof {
        if s_n == 0 {
            return Err(LedgerError::InvalidInclusionProof(
                "the proof has more hashes than the tree has levels",
            ));
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hash_children(p, &r);
            if f_n & 1 == 0 {
                // A right-edge subtree is promoted unchanged through levels where it has no
                // sibling; skip those levels.
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = hash_children(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(LedgerError::InvalidInclusionProof(
            "the proof has fewer hashes than the path from the entry to the root",
        ));
    }
    Ok(r)
}

/// Checks that `proof` shows the leaf `leaf_hash` at `index` in the tree of `size` entries
/// whose root is `root`.
pub fn verify_inclusion(
    leaf_hash: &Digest,
    index: LeafIndex,
    size: TreeSize,
    proof: &[Digest],
    root: &Digest,
) -> Result<(), LedgerError> {
    if root_from_inclusion_proof(leaf_hash, index, size, proof)? == *root {
        Ok(())
    } else {
        Err(LedgerError::InvalidInclusionProof(
            "the proof leads to a different root",
        ))
    }
}

/// Checks that `proof` shows the tree of `size2` entries with root `root2` extends the tree of
/// `size1` entries with root `root1`: same entries, in the same order, plus new ones.
///
/// Sizes 0 and equal sizes take an empty proof. Unlike some implementations, a size-0 tree is
/// only accepted with the empty-tree root `SHA-256("")`: no honest log signs anything else.
pub fn verify_consistency(
    size1: TreeSize,
    size2: TreeSize,
    proof: &[Digest],
    root1: &Digest,
    root2: &Digest,
) -> Result<(), LedgerError> {
    let invalid = |why| Err(LedgerError::InvalidConsistencyProof(why));
    if size1 > size2 {
        return Err(LedgerError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return invalid("a proof between equal sizes must be empty");
        }
        if root1 != root2 {
            return invalid("equal sizes with different roots");
        }
    }
    if size1 == TreeSize::ZERO {
        if !proof.is_empty() {
            return invalid("a proof from the empty tree must be empty");
        }
        if *root1 != empty_root() {
            return invalid("the root given for the empty tree is not the empty-tree hash");
        }
    }
    if size1 == size2 || size1 == TreeSize::ZERO {
        return Ok(());
    }
    let Some((first, rest)) = proof.split_first() else {
        return invalid("the proof is empty");
    };

    let mut f_n = size1.get() - 1;
    let mut s_n = size2.get() - 1;
    // When the old tree is a complete subtree its root is not in the proof: the verifier
    // already has it, so the walk starts from root1 and consumes the whole proof.
    let (start, steps) = if size1.get().is_power_of_two() {
        (*root1, proof)
    } else {
        (*first, rest)
    };
    // Skip the levels where the old tree's last leaf is a right child: those hashes are inside
    // the subtree the walk starts from.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut fr = start;
    let mut sr = start;
    for c in steps {
        if s_n == 0 {
            return invalid("the proof has more hashes than the trees have levels");
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = hash_children(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return invalid("the proof has fewer hashes than the trees have levels");
    }
    if fr != *root1 {
        return invalid("the proof does not lead to the old root");
    }
    if sr != *root2 {
        return invalid("the proof does not lead to the new root");
    }
    Ok(())
}
