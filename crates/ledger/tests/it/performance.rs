//! A timing run at 10 million entries, ignored by default because building the tree takes
//! seconds and about 700 MB. Run it with
//! `cargo test -p detente-ledger --release --test it -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use detente_ledger::{
    LeafIndex, MemoryLog, TreeSize, hash_leaf, verify_consistency, verify_inclusion,
};

const ENTRIES: u64 = 10_000_000;
const QUERIES: u64 = 10_000;

/// A cheap deterministic spread of indices over the log (no RNG dependency needed).
fn spread(i: u64, below: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % below
}

fn per_query(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e6 / QUERIES as f64
}

#[test]
#[ignore = "slow: builds a 10-million-entry tree; run with --ignored --release"]
fn proofs_at_ten_million_entries_are_fast() {
    let start = Instant::now();
    let mut log = MemoryLog::with_capacity(ENTRIES);
    let batch = 100_000;
    for first in (0..ENTRIES).step_by(batch) {
        let leaves: Vec<_> = (first..first + batch as u64)
            .map(|i| hash_leaf(&i.to_be_bytes()))
            .collect();
        log.append_leaf_hashes(&leaves).expect("room");
    }
    let built = start.elapsed();
    let size = log.size();
    let root = log.root();
    println!(
        "built {ENTRIES} entries ({} nodes) in {:.2?}",
        log.store().node_count(),
        built
    );

    let start = Instant::now();
    let mut proofs = Vec::with_capacity(QUERIES as usize);
    for q in 0..QUERIES {
        let index = LeafIndex::new(spread(q, ENTRIES));
        proofs.push((index, log.inclusion_proof(index, size).expect("in range")));
    }
    let inclusion = start.elapsed();

    let start = Instant::now();
    for (index, proof) in &proofs {
        let leaf = hash_leaf(&index.get().to_be_bytes());
        verify_inclusion(&leaf, *index, size, proof, &root).expect("verifies");
    }
    let verify = start.elapsed();

    let start = Instant::now();
    let mut consistency = Vec::with_capacity(QUERIES as usize);
    for q in 0..QUERIES {
        let old = TreeSize::new(spread(q, ENTRIES) + 1);
        consistency.push((old, log.consistency_proof(old, size).expect("in range")));
    }
    let consistency_time = start.elapsed();

    let start = Instant::now();
    let mut old_roots = Vec::with_capacity(QUERIES as usize);
    for (old, _) in &consistency {
        old_roots.push(log.root_at(*old).expect("past size"));
    }
    let root_at = start.elapsed();

    for ((old, proof), old_root) in consistency.iter().zip(&old_roots).take(1_000) {
        verify_consistency(*old, size, proof, old_root, &root).expect("verifies");
    }

    println!("inclusion proof:   {:.2} µs each", per_query(inclusion));
    println!("verify inclusion:  {:.2} µs each", per_query(verify));
    println!(
        "consistency proof: {:.2} µs each",
        per_query(consistency_time)
    );
    println!("root at past size: {:.2} µs each", per_query(root_at));
    assert!(
        per_query(inclusion) < 100.0,
        "inclusion proofs must stay well under 100 µs"
    );
}
