//! A naive, recursive reference: RFC 9162 §2.1's definitions transcribed literally, slow and
//! obviously right, to check the stored-node implementation against.
//!
//! Follows transparency-dev/merkle testonly/reference_test.go (refRootHash, refInclusionProof,
//! refConsistencyProof), commit 141d627eab770a7e9a2514f46a8b6338e6d90874.

use detente_ledger::{Digest, empty_root, hash_children};

/// The largest power of two strictly below `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) over leaf hashes.
pub fn root(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            hash_children(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]).
pub fn inclusion(leaves: &[Digest], m: usize) -> Vec<Digest> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = inclusion(&leaves[..k], m);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion(&leaves[k..], m - k);
        p.push(root(&leaves[..k]));
        p
    }
}

/// PROOF(m, D[n]) for the tree `leaves` (whose length is n).
pub fn consistency(leaves: &[Digest], m: usize) -> Vec<Digest> {
    if m == 0 || m >= leaves.len() {
        return Vec::new();
    }
    subproof(leaves, m, true)
}

fn subproof(leaves: &[Digest], m: usize, whole: bool) -> Vec<Digest> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(&leaves[..k], m, whole);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = subproof(&leaves[k..], m - k, false);
        p.push(root(&leaves[..k]));
        p
    }
}
