//! Property tests against the naive reference: for random trees, sizes and indices, every proof
//! equals the reference proof and verifies against the reference root, and every mutated proof
//! fails. Plus an exhaustive sweep of all small trees.

use detente_ledger::{
    Digest, LeafIndex, MemoryLog, TreeSize, hash_leaf, verify_consistency, verify_inclusion,
};
use proptest::{prelude::*, sample::Index};

use crate::reference;

fn leaves(seed: u64, n: usize) -> Vec<Digest> {
    (0..n as u64)
        .map(|i| hash_leaf(&[seed.to_le_bytes(), i.to_le_bytes()].concat()))
        .collect()
}

fn log_of(leaves: &[Digest]) -> MemoryLog {
    let mut log = MemoryLog::new();
    log.append_leaf_hashes(leaves).expect("room");
    log
}

fn size(n: usize) -> TreeSize {
    TreeSize::new(n as u64)
}

fn flip(proof: &[Digest], which: Index, byte: Index, bit: u8) -> Vec<Digest> {
    let mut out = proof.to_vec();
    let i = which.index(out.len());
    let mut bytes = *out[i].as_bytes();
    bytes[byte.index(32)] ^= 1 << (bit % 8);
    out[i] = Digest::from_bytes(bytes);
    out
}

/// A tree of 1..=max leaves, a size within it, and an index within that size.
fn tree_size_index(max: usize) -> impl Strategy<Value = (u64, usize, usize, usize)> {
    (any::<u64>(), 1..=max)
        .prop_flat_map(|(seed, n)| (Just(seed), Just(n), 1..=n))
        .prop_flat_map(|(seed, n, s)| (Just(seed), Just(n), Just(s), 0..s))
}

/// A tree of 1..=max leaves and two sizes within it, the first no larger than the second.
fn tree_two_sizes(max: usize) -> impl Strategy<Value = (u64, usize, usize, usize)> {
    (any::<u64>(), 1..=max)
        .prop_flat_map(|(seed, n)| (Just(seed), Just(n), 1..=n))
        .prop_flat_map(|(seed, n, s2)| (Just(seed), Just(n), 0..=s2, Just(s2)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_proofs_match_the_reference_and_every_mutation_fails(
        (seed, n, s, index) in tree_size_index(300),
        which in any::<Index>(),
        byte in any::<Index>(),
        bit in any::<u8>(),
        other_index in any::<Index>(),
        other_size in any::<Index>(),
        extra in any::<[u8; 32]>(),
    ) {
        let leaves = leaves(seed, n);
        let log = log_of(&leaves);
        let (i, sz) = (LeafIndex::new(index as u64), size(s));
        let root = reference::root(&leaves[..s]);
        let leaf = leaves[index];

        let proof = log.inclusion_proof(i, sz).expect("in range");
        prop_assert_eq!(&proof, &reference::inclusion(&leaves[..s], index));
        prop_assert_eq!(log.root_at(sz).expect("past size"), root);
        prop_assert!(verify_inclusion(&leaf, i, sz, &proof, &root).is_ok());

        let extra = Digest::from_bytes(extra);
        let fails = |leaf: &Digest, i: u64, s: usize, p: &[Digest], r: &Digest| {
            verify_inclusion(leaf, LeafIndex::new(i), size(s), p, r).is_err()
        };
        if !proof.is_empty() {
            prop_assert!(fails(&leaf, index as u64, s, &flip(&proof, which, byte, bit), &root), "flipped bit");
            prop_assert!(fails(&leaf, index as u64, s, &proof[..proof.len() - 1], &root), "dropped last");
            prop_assert!(fails(&leaf, index as u64, s, &proof[1..], &root), "dropped first");
        }
        prop_assert!(fails(&leaf, index as u64, s, &[&proof[..], &[extra]].concat(), &root), "extended");
        prop_assert!(fails(&leaf, index as u64, s, &[&[extra], &proof[..]].concat(), &root), "prefixed");
        prop_assert!(fails(&leaf, index as u64, s, &[&proof[..], &[root]].concat(), &root), "root appended");
        prop_assert!(fails(&leaf, s as u64, s, &proof, &root), "index past the end");

        let j = other_index.index(s);
        if j != index {
            prop_assert!(fails(&leaf, j as u64, s, &proof, &root), "wrong index {}", j);
            prop_assert!(fails(&leaves[j], index as u64, s, &proof, &root), "wrong leaf {}", j);
        }
        // A wrong size paired with that size's true root. (A wrong size with the right root is
        // undetectable in general: see known_answer.rs.)
        let t = other_size.index(n) + 1;
        if t != s {
            let root_t = reference::root(&leaves[..t]);
            prop_assert!(fails(&leaf, index as u64, t, &proof, &root_t), "wrong size {}", t);
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_and_every_mutation_fails(
        (seed, n, s1, s2) in tree_two_sizes(300),
        which in any::<Index>(),
        byte in any::<Index>(),
        bit in any::<u8>(),
        other1 in any::<Index>(),
        other2 in any::<Index>(),
        extra in any::<[u8; 32]>(),
    ) {
        let leaves = leaves(seed, n);
        let log = log_of(&leaves);
        let (r1, r2) = (reference::root(&leaves[..s1]), reference::root(&leaves[..s2]));

        let proof = log.consistency_proof(size(s1), size(s2)).expect("in range");
        prop_assert_eq!(&proof, &reference::consistency(&leaves[..s2], s1));
        prop_assert!(verify_consistency(size(s1), size(s2), &proof, &r1, &r2).is_ok());

        let fails = |a: usize, b: usize, p: &[Digest], x: &Digest, y: &Digest| {
            verify_consistency(size(a), size(b), p, x, y).is_err()
        };
        let extra = Digest::from_bytes(extra);
        prop_assert!(fails(s1, s2, &[&proof[..], &[extra]].concat(), &r1, &r2), "extended");
        prop_assert!(fails(s1, s2, &[&[extra], &proof[..]].concat(), &r1, &r2), "prefixed");
        prop_assert!(fails(s1, s2, &proof, &extra, &r2), "wrong old root");
        // The empty tree is consistent with every tree, so only a non-empty old tree pins the
        // new root.
        if s1 != s2 && s1 != 0 {
            prop_assert!(fails(s1, s2, &proof, &r1, &extra), "wrong new root");
            prop_assert!(fails(s2, s1, &proof, &r2, &r1), "sizes swapped");
        }
        if !proof.is_empty() {
            prop_assert!(fails(s1, s2, &flip(&proof, which, byte, bit), &r1, &r2), "flipped bit");
            prop_assert!(fails(s1, s2, &proof[..proof.len() - 1], &r1, &r2), "dropped last");
            prop_assert!(fails(s1, s2, &proof[1..], &r1, &r2), "dropped first");
            prop_assert!(fails(s1, s2, &[&[r1], &proof[..]].concat(), &r1, &r2), "old root prefixed");
            prop_assert!(fails(s1, s2, &proof, &r2, &r1), "roots swapped");
            // Wrong sizes paired with those sizes' true roots.
            let t1 = other1.index(s2 + 1);
            if t1 != s1 {
                let root_t1 = reference::root(&leaves[..t1]);
                prop_assert!(fails(t1, s2, &proof, &root_t1, &r2), "wrong old size {}", t1);
            }
            let t2 = other2.index(n) + 1;
            if t2 != s2 {
                let root_t2 = reference::root(&leaves[..t2]);
                prop_assert!(fails(s1, t2, &proof, &r1, &root_t2), "wrong new size {}", t2);
            }
        }
    }

    #[test]
    fn appending_in_any_batches_builds_the_same_tree(
        seed in any::<u64>(),
        batches in prop::collection::vec(0..40usize, 0..12),
    ) {
        let total: usize = batches.iter().sum();
        let leaves = leaves(seed, total);
        let mut batched = MemoryLog::new();
        let mut start = 0;
        for len in batches {
            let first = batched.append_leaf_hashes(&leaves[start..start + len]).expect("room");
            prop_assert_eq!(first, LeafIndex::new(start as u64));
            start += len;
        }
        let mut single = MemoryLog::new();
        for leaf in &leaves {
            single.append_leaf_hashes(std::slice::from_ref(leaf)).expect("room");
        }
        prop_assert_eq!(batched.root(), single.root());
        prop_assert_eq!(batched.root(), reference::root(&leaves));
        prop_assert_eq!(batched.store().node_count(), single.store().node_count());
        for s in 0..=total {
            prop_assert_eq!(batched.root_at(size(s)).expect("past size"), reference::root(&leaves[..s]));
        }
    }
}

#[test]
fn every_proof_in_every_tree_up_to_64_entries_matches_the_reference() {
    let leaves = leaves(7, 64);
    let log = log_of(&leaves);
    for s2 in 1..=64 {
        let root2 = reference::root(&leaves[..s2]);
        assert_eq!(
            log.root_at(size(s2)).expect("past size"),
            root2,
            "root {s2}"
        );
        for index in 0..s2 {
            let proof = log
                .inclusion_proof(LeafIndex::new(index as u64), size(s2))
                .expect("in range");
            assert_eq!(
                proof,
                reference::inclusion(&leaves[..s2], index),
                "{index} in {s2}"
            );
            verify_inclusion(
                &leaves[index],
                LeafIndex::new(index as u64),
                size(s2),
                &proof,
                &root2,
            )
            .unwrap_or_else(|e| panic!("{index} in {s2}: {e}"));
        }
        for s1 in 0..=s2 {
            let proof = log.consistency_proof(size(s1), size(s2)).expect("in range");
            assert_eq!(
                proof,
                reference::consistency(&leaves[..s2], s1),
                "{s1} -> {s2}"
            );
            let root1 = reference::root(&leaves[..s1]);
            verify_consistency(size(s1), size(s2), &proof, &root1, &root2)
                .unwrap_or_else(|e| panic!("{s1} -> {s2}: {e}"));
        }
    }
}
