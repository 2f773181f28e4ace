//! Known-answer tests: roots, stored nodes and proofs over the standard 8 leaf inputs of
//! transparency-dev/merkle, their negative cases, and the RFC 6962 §2.1.3 seven-leaf example.
//!
//! Sources (copied byte for byte):
//! - transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes, RootHashes),
//!   commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1;
//! - transparency-dev/merkle proof/verify_test.go (inclusionProofs, consistencyProofs,
//!   corruptInclusionProof, corruptConsistencyProof, TestVerifyConsistency),
//!   commit 02194e9afb6c1d95b5381350007963aa70fff472;
//! - transparency-dev/merkle testonly/reference_test.go (TestRefInclusionProof,
//!   TestRefConsistencyProof), commit 141d627eab770a7e9a2514f46a8b6338e6d90874.

use detente_ledger::{
    Digest, Frontier, HashStore, LeafIndex, LedgerError, MemoryLog, NodeId, TreeSize, empty_root,
    hash_children, hash_leaf, verify_consistency, verify_inclusion,
};

fn d(hex_digest: &str) -> Digest {
    Digest::parse(hex_digest).expect("a 64-digit hex vector")
}

fn size(n: u64) -> TreeSize {
    TreeSize::new(n)
}

fn leaf_inputs() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| hex::decode(h).expect("hex leaf input"))
    .collect()
}

/// RootHashes(): index = tree size.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// NodeHashes(): [level][index] for the complete subtrees of the 8-leaf tree.
const NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// sha256SomeHash in verify_test.go: a digest that is no node of the tree.
const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

/// Inclusion vectors: (0-based index, size, proof). The verify_test.go vectors use 1-based
/// leaf numbers; they are converted here.
fn inclusion_vectors() -> Vec<(u64, u64, Vec<&'static str>)> {
    vec![
        // verify_test.go inclusionProofs[1..6]
        (0, 1, vec![]),
        (
            0,
            8,
            vec![
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            vec![
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            vec![
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        // reference_test.go TestRefInclusionProof (the ones not already above)
        (
            0,
            2,
            vec!["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
        ),
        (
            1,
            2,
            vec!["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
        ),
    ]
}

/// Consistency vectors: (size1, size2, proof), from verify_test.go consistencyProofs (which
/// include every TestRefConsistencyProof case).
fn consistency_vectors() -> Vec<(u64, u64, Vec<&'static str>)> {
    vec![
        (1, 1, vec![]),
        (
            1,
            8,
            vec![
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            vec![
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            vec![
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            vec![
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ]
}

fn golden_log() -> MemoryLog {
    let mut log = MemoryLog::new();
    log.append_entries(leaf_inputs()).expect("room");
    log
}

fn assert_roots(log: &MemoryLog) {
    let n = log.size().get();
    assert_eq!(log.root(), d(ROOTS[n as usize]), "root at {n}");
    for s in 0..=n {
        assert_eq!(
            log.root_at(size(s)).expect("past size"),
            d(ROOTS[s as usize]),
            "root_at({s})"
        );
    }
}

#[test]
fn roots_match_the_reference_one_entry_at_a_time() {
    let mut log = MemoryLog::new();
    assert_roots(&log);
    for entry in leaf_inputs() {
        log.append(&entry).expect("room");
        assert_roots(&log);
    }
}

#[test]
fn roots_match_the_reference_in_two_batches_and_all_at_once() {
    let entries = leaf_inputs();
    let mut log = MemoryLog::new();
    log.append_entries(&entries[..3]).expect("room");
    assert_roots(&log);
    log.append_entries(&entries[3..]).expect("room");
    assert_roots(&log);
    assert_roots(&golden_log());
}

#[test]
fn the_empty_root_is_the_hash_of_nothing() {
    assert_eq!(empty_root(), d(ROOTS[0]));
    assert_eq!(MemoryLog::new().root(), d(ROOTS[0]));
}

#[test]
fn stored_nodes_are_the_reference_complete_subtrees() {
    let log = golden_log();
    for (level, row) in NODES.iter().enumerate() {
        for (index, want) in row.iter().enumerate() {
            let node = NodeId::new(level as u8, index as u64).expect("in range");
            let Ok(got) = log.store().get(node);
            assert_eq!(got, Some(d(want)), "node {node}");
        }
    }
    assert_eq!(log.store().node_count(), 15);
}

#[test]
fn a_frontier_reloaded_from_the_store_continues_the_same_tree() {
    let entries = leaf_inputs();
    let mut log = MemoryLog::new();
    log.append_entries(&entries[..5]).expect("room");
    let mut frontier = Frontier::load(log.store(), size(5)).expect("stored");
    assert_eq!(frontier.root(), d(ROOTS[5]));
    let leaves: Vec<Digest> = entries[5..].iter().map(|e| hash_leaf(e)).collect();
    let created = frontier.append(&leaves).expect("room");
    assert_eq!(frontier.root(), d(ROOTS[8]));
    // Leaves 5, 6, 7 create nodes 0/5, 1/2, 0/6, 0/7, 1/3, 2/1, 3/0.
    let ids: Vec<String> = created.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(ids, ["0/5", "1/2", "0/6", "0/7", "1/3", "2/1", "3/0"]);
}

#[test]
fn inclusion_proofs_match_the_reference_vectors() {
    let log = golden_log();
    let entries = leaf_inputs();
    for (index, n, want) in inclusion_vectors() {
        let want: Vec<Digest> = want.iter().map(|h| d(h)).collect();
        let got = log
            .inclusion_proof(LeafIndex::new(index), size(n))
            .expect("in range");
        assert_eq!(got, want, "inclusion({index}, {n})");
        let leaf = hash_leaf(&entries[index as usize]);
        verify_inclusion(
            &leaf,
            LeafIndex::new(index),
            size(n),
            &got,
            &d(ROOTS[n as usize]),
        )
        .unwrap_or_else(|e| panic!("inclusion({index}, {n}) must verify: {e}"));
    }
}

/// One corrupted verification input: what was changed, then index, size, proof, root, leaf.
type InclusionProbe = (&'static str, u64, u64, Vec<Digest>, Digest, Digest);

/// corruptInclusionProof from verify_test.go, minus the cases our types cannot express (an
/// empty byte string as a proof element or root).
fn corrupt_inclusion(
    index: u64,
    n: u64,
    proof: &[Digest],
    root: Digest,
    leaf: Digest,
) -> Vec<InclusionProbe> {
    let some = d(SOME_HASH);
    let mut out = vec![
        (
            "index - 1",
            index.wrapping_sub(1),
            n,
            proof.to_vec(),
            root,
            leaf,
        ),
        ("index + 1", index + 1, n, proof.to_vec(), root, leaf),
        ("index ^ 2", index ^ 2, n, proof.to_vec(), root, leaf),
        ("size * 2", index, n * 2, proof.to_vec(), root, leaf),
        ("size / 2", index, n / 2, proof.to_vec(), root, leaf),
        (
            "wrong leaf",
            index,
            n,
            proof.to_vec(),
            root,
            hash_leaf(b"WrongLeaf"),
        ),
        ("empty root", index, n, proof.to_vec(), empty_root(), leaf),
        ("random root", index, n, proof.to_vec(), some, leaf),
        (
            "trailing root",
            index,
            n,
            [proof, &[root]].concat(),
            root,
            leaf,
        ),
        (
            "preceding root",
            index,
            n,
            [&[root], proof].concat(),
            root,
            leaf,
        ),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        let mut bytes = *wrong[i].as_bytes();
        bytes[0] ^= 8;
        wrong[i] = Digest::from_bytes(bytes);
        out.push(("flipped bit", index, n, wrong, root, leaf));
    }
    if let Some((_, rest)) = proof.split_last() {
        out.push(("removed component", index, n, rest.to_vec(), root, leaf));
    }
    if proof.len() > 1 {
        let inserted = [&proof[..1], &[some], &proof[1..]].concat();
        out.push(("inserted component", index, n, inserted, root, leaf));
    }
    out
}

#[test]
fn corrupted_inclusion_proofs_are_rejected() {
    let entries = leaf_inputs();
    for (index, n, proof) in inclusion_vectors() {
        let proof: Vec<Digest> = proof.iter().map(|h| d(h)).collect();
        let leaf = hash_leaf(&entries[index as usize]);
        let root = d(ROOTS[n as usize]);
        for (what, i, s, p, r, l) in corrupt_inclusion(index, n, &proof, root, leaf) {
            assert!(
                verify_inclusion(&l, LeafIndex::new(i), size(s), &p, &r).is_err(),
                "inclusion({index}, {n}) accepted with {what}"
            );
        }
    }
}

#[test]
fn inclusion_in_impossible_trees_is_rejected() {
    // TestVerifyInclusion's probes: index/size pairs no proof can satisfy.
    let some = d(SOME_HASH);
    for (index, n) in [(0, 0), (1, 0), (2, 1)] {
        let err = verify_inclusion(&some, LeafIndex::new(index), size(n), &[], &some);
        assert!(
            matches!(err, Err(LedgerError::IndexOutOfRange { .. })),
            "{index}/{n}"
        );
    }
    assert!(verify_inclusion(&some, LeafIndex::new(0), size(1), &[], &empty_root()).is_err());
    // TestVerifyInclusionSingleEntry: in a one-entry tree the leaf hash is the root.
    let hash = hash_leaf(b"data");
    verify_inclusion(&hash, LeafIndex::new(0), size(1), &[], &hash).expect("leaf is root");
}

#[test]
fn consistency_proofs_match_the_reference_vectors() {
    let log = golden_log();
    for (s1, s2, want) in consistency_vectors() {
        let want: Vec<Digest> = want.iter().map(|h| d(h)).collect();
        let got = log.consistency_proof(size(s1), size(s2)).expect("in range");
        assert_eq!(got, want, "consistency({s1}, {s2})");
        verify_consistency(
            size(s1),
            size(s2),
            &got,
            &d(ROOTS[s1 as usize]),
            &d(ROOTS[s2 as usize]),
        )
        .unwrap_or_else(|e| panic!("consistency({s1}, {s2}) must verify: {e}"));
    }
}

#[test]
fn corrupted_consistency_proofs_are_rejected() {
    for (s1, s2, proof) in consistency_vectors() {
        // As in verify_test.go, only non-trivial proofs are corrupted.
        if proof.is_empty() {
            continue;
        }
        let proof: Vec<Digest> = proof.iter().map(|h| d(h)).collect();
        let (r1, r2) = (d(ROOTS[s1 as usize]), d(ROOTS[s2 as usize]));
        let wrong_root = hash_leaf(b"WrongRoot");
        let mut probes = vec![
            ("size1 - 1", s1 - 1, s2, proof.clone(), r1, r2),
            ("size1 + 1", s1 + 1, s2, proof.clone(), r1, r2),
            ("size1 ^ 2", s1 ^ 2, s2, proof.clone(), r1, r2),
            ("size2 * 2", s1, s2 * 2, proof.clone(), r1, r2),
            ("size2 / 2", s1, s2 / 2, proof.clone(), r1, r2),
            ("wrong root1", s1, s2, proof.clone(), wrong_root, r2),
            ("wrong root2", s1, s2, proof.clone(), r1, wrong_root),
            ("swapped roots", s1, s2, proof.clone(), r2, r1),
            ("empty proof", s1, s2, vec![], r1, r2),
            (
                "trailing root1",
                s1,
                s2,
                [&proof[..], &[r1]].concat(),
                r1,
                r2,
            ),
            (
                "trailing root2",
                s1,
                s2,
                [&proof[..], &[r2]].concat(),
                r1,
                r2,
            ),
            (
                "preceding root1",
                s1,
                s2,
                [&[r1], &proof[..]].concat(),
                r1,
                r2,
            ),
            (
                "preceding root2",
                s1,
                s2,
                [&[r2], &proof[..]].concat(),
                r1,
                r2,
            ),
            (
                "preceding proof[0]",
                s1,
                s2,
                [&proof[..1], &proof[..]].concat(),
                r1,
                r2,
            ),
            (
                "truncated proof",
                s1,
                s2,
                proof[..proof.len() - 1].to_vec(),
                r1,
                r2,
            ),
        ];
        for i in 0..proof.len() {
            let mut wrong = proof.clone();
            let mut bytes = *wrong[i].as_bytes();
            bytes[0] ^= 16;
            wrong[i] = Digest::from_bytes(bytes);
            probes.push(("flipped bit", s1, s2, wrong, r1, r2));
        }
        for (what, a, b, p, x, y) in probes {
            assert!(
                verify_consistency(size(a), size(b), &p, &x, &y).is_err(),
                "consistency({s1}, {s2}) accepted with {what}"
            );
        }
    }
}

#[test]
fn trivial_consistency_cases_follow_the_reference_table() {
    // TestVerifyConsistency's table. root1/root2 stand for its "don't care" values.
    let root1 = hash_leaf(b"don't care 1");
    let root2 = hash_leaf(b"don't care 2");
    let empty = empty_root();
    let cases: [(u64, u64, Digest, Digest, Vec<Digest>, bool); 13] = [
        (0, 0, root1, root2, vec![], false),
        (1, 1, root1, root2, vec![], false),
        // The reference accepts these two with any root for the empty tree; we accept the
        // empty tree only with its one true root, SHA-256(""). See verify_consistency.
        (0, 0, root1, root1, vec![], false),
        (0, 1, root1, root2, vec![], false),
        (1, 1, root2, root2, vec![], true),
        (1, 0, root1, root2, vec![], false),
        (2, 1, root1, root2, vec![], false),
        (1, 2, root1, root2, vec![], false),
        (0, 0, empty, root2, vec![], false),
        (1, 1, empty, root2, vec![], false),
        (0, 0, empty, empty, vec![empty], false),
        (0, 1, empty, empty, vec![empty], false),
        (1, 1, empty, empty, vec![empty], false),
    ];
    for (i, (s1, s2, r1, r2, proof, ok)) in cases.into_iter().enumerate() {
        let got = verify_consistency(size(s1), size(s2), &proof, &r1, &r2);
        assert_eq!(got.is_ok(), ok, "case {i}: {s1}->{s2}: {got:?}");
    }
    // Our versions of the two relaxed cases.
    verify_consistency(size(0), size(0), &[], &empty, &empty).expect("empty to empty");
    verify_consistency(size(0), size(1), &[], &empty, &root2).expect("empty to anything");
}

/// RFC 6962 §2.1.3 works an example over seven leaves d0..d6:
///
/// ```text
///             hash
///            /    \
///           k      l
///          / \    / \
///         g   h  i   j
///        / \ / \ / \ |
///        a b c d e f d6
/// ```
///
/// We use the standard leaf inputs as d0..d6, so a..f and g..k are vector node hashes.
#[test]
fn the_rfc6962_seven_leaf_example_gives_the_paths_it_lists() {
    let mut log = MemoryLog::new();
    log.append_entries(&leaf_inputs()[..7]).expect("room");
    let n = |level: usize, index: usize| d(NODES[level][index]);
    let (b, c, d_, f) = (n(0, 1), n(0, 2), n(0, 3), n(0, 5));
    let (g, h, i, k) = (n(1, 0), n(1, 1), n(1, 2), n(2, 0));
    let j = n(0, 6);
    let l = hash_children(&i, &j);
    assert_eq!(log.root(), hash_children(&k, &l));
    assert_eq!(log.root(), d(ROOTS[7]));

    let seven = size(7);
    let path = |m| {
        log.inclusion_proof(LeafIndex::new(m), seven)
            .expect("in range")
    };
    // "The audit path for d0 is [b, h, l]. ... for d3 is [c, g, l]. ... for d4 is [f, j, k].
    // ... for d6 is [i, k]."
    assert_eq!(path(0), [b, h, l]);
    assert_eq!(path(3), [c, g, l]);
    assert_eq!(path(4), [f, j, k]);
    assert_eq!(path(6), [i, k]);

    let proof = |m| log.consistency_proof(size(m), seven).expect("in range");
    // "The consistency proof between hash0 and hash is PROOF(3, D[7]) = [c, d, g, l]. ...
    // between hash1 and hash is PROOF(4, D[7]) = [l]. ... between hash2 and hash is
    // PROOF(6, D[7]) = [i, j, k]."
    assert_eq!(proof(3), [c, d_, g, l]);
    assert_eq!(proof(4), [l]);
    assert_eq!(proof(6), [i, j, k]);
    for m in [3, 4, 6] {
        verify_consistency(
            size(m),
            seven,
            &proof(m),
            &d(ROOTS[m as usize]),
            &log.root(),
        )
        .expect("the RFC's proofs verify");
    }
}

#[test]
fn a_proof_cannot_tell_a_size_apart_from_one_that_hashes_the_same_path() {
    // A limit of RFC 9162 verification, kept here so nobody relies on what it cannot do:
    // entry 0's path in a 5-entry tree is also a valid-looking path for "size 6" if the caller
    // pairs size 6 with the 5-entry root. Only a signed checkpoint binds size and root.
    let log = golden_log();
    let entry0 = hash_leaf(&leaf_inputs()[0]);
    let proof = log
        .inclusion_proof(LeafIndex::new(0), size(5))
        .expect("in range");
    let root5 = d(ROOTS[5]);
    verify_inclusion(&entry0, LeafIndex::new(0), size(6), &proof, &root5)
        .expect("mismatched size and root are not detectable from the proof alone");
    // With size 6's true root, the same proof is rejected.
    assert!(verify_inclusion(&entry0, LeafIndex::new(0), size(6), &proof, &d(ROOTS[6])).is_err());
}
