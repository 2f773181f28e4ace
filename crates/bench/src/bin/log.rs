//! The log at scale: durable batched appends into a log of millions of entries, and
//! inclusion proofs at that size, each against a baseline measured in the same run.
//!
//! - append: entries/s through `WriteTx::append_entries` (entries, Merkle nodes, one durable
//!   commit per batch) vs. the same rows inserted into a bare table with the same pragmas;
//! - inclusion proof: median time of `Store::inclusion_proof` for random entries at the final
//!   size vs. one indexed point read of an entry (the floor of any database lookup).
//!
//! `cargo run --release -p detente-bench --bin log [-- ENTRIES [BATCH]]` (default 10,000,000
//! entries in batches of 10,000; about 2 GB of disk in a temporary folder).

use std::time::Instant;

use anyhow::Context;
use detente_bench::{median, rate};
use detente_ledger::{LeafIndex, TreeSize};
use detente_protocol::{MessageId, Timestamp};
use detente_store::{Direction, EntryKind, NewEntry, Store};
use sqlx::{
    Connection, QueryBuilder, Sqlite,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous},
};

fn entry_bytes(i: u64) -> Vec<u8> {
    // About the size of a small signed receipt.
    format!(
        "{{\"receipt\":{{\"case\":\"US-2026-{:04}\",\"seq\":{i},\"received_at\":\"2026-11-27T03:16:20.000Z\"}},\"signature\":\"{}\"}}",
        i % 10_000,
        "A".repeat(88)
    )
    .into_bytes()
}

async fn baseline_insert(dir: &std::path::Path, batches: &[Vec<Vec<u8>>]) -> anyhow::Result<f64> {
    let options = SqliteConnectOptions::new()
        .filename(dir.join("baseline.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    sqlx::query("CREATE TABLE t (idx INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")
        .execute(&mut conn)
        .await?;
    let start = Instant::now();
    let mut n = 0i64;
    for batch in batches {
        let mut tx = conn.begin().await?;
        for chunk in batch.chunks(5000) {
            let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO t (idx, bytes) ");
            q.push_values(chunk, |mut row, b| {
                row.push_bind(n).push_bind(b.as_slice());
                n += 1;
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("usage: log [ENTRIES [BATCH]]")?;
    let total = args.first().copied().unwrap_or(10_000_000);
    let batch = args.get(1).copied().unwrap_or(10_000).max(1);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("log.db"), true).await?;
    let at = Timestamp::from_unix_millis(1_795_000_000_000)?;
    let id = MessageId::random();
    let mut batch_rates = Vec::new();
    let mut sample_batches = Vec::new();
    let start = Instant::now();
    let mut i = 0;
    while i < total {
        let n = batch.min(total - i);
        let bytes: Vec<Vec<u8>> = (i..i + n).map(entry_bytes).collect();
        let entries: Vec<NewEntry<'_>> = bytes
            .iter()
            .map(|b| NewEntry {
                kind: EntryKind::Receipt,
                direction: Direction::In,
                message_id: id,
                bytes: b,
                recorded_at: at,
            })
            .collect();
        let t = Instant::now();
        let mut tx = store.write().await?;
        tx.append_entries(&entries).await?;
        tx.commit().await?;
        batch_rates.push(n as f64 / t.elapsed().as_secs_f64());
        if sample_batches.len() < 20 && i % (total / 20).max(1) < batch {
            sample_batches.push(bytes.clone());
        }
        i += n;
        if i % 1_000_000 < batch {
            eprintln!(
                "  {i} entries, {}/s overall",
                rate(i as f64 / start.elapsed().as_secs_f64())
            );
        }
    }
    let overall = total as f64 / start.elapsed().as_secs_f64();
    let append_median = median(&mut batch_rates);
    let baseline = baseline_insert(dir.path(), &sample_batches).await?;

    let size = TreeSize::new(total);
    let mut proof_us = Vec::new();
    let mut read_us = Vec::new();
    let options = SqliteConnectOptions::new().filename(dir.path().join("log.db"));
    let mut reader = SqliteConnection::connect_with(&options).await?;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let index = x % total;
        let t = Instant::now();
        let proof = store.inclusion_proof(LeafIndex::new(index), size).await?;
        proof_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(
            !proof.is_empty() || total == 1,
            "a proof at this size has nodes"
        );
        let t = Instant::now();
        let _: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM entries WHERE idx = ?")
            .bind(index as i64)
            .fetch_one(&mut reader)
            .await?;
        read_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let (proof_med, read_med) = (median(&mut proof_us), median(&mut read_us));
    println!(
        "log of {} entries, batches of {batch}, one durable commit per batch:",
        rate(total as f64)
    );
    println!(
        "  append, overall                       {:>12} entries/s",
        rate(overall)
    );
    println!(
        "  append, median batch                  {:>12} entries/s  (target >= 100,000)",
        rate(append_median)
    );
    println!(
        "  baseline: bare multi-row INSERT       {:>12} rows/s",
        rate(baseline)
    );
    println!(
        "  append / baseline                     {:>12.2}x",
        append_median / baseline
    );
    println!(
        "  inclusion proof at full size, median  {:>12.1} µs  (target < 100)",
        proof_med
    );
    println!(
        "  baseline: one indexed point read      {:>12.1} µs",
        read_med
    );
    println!(
        "  proof / point read                    {:>12.2}x",
        proof_med / read_med
    );
    Ok(())
}
