//! Durable deliveries per second between two nodes on loopback, against the two raw
//! baselines measured in the same run: Ed25519 sign+verify per second, and SQLite durable
//! commits per second (WAL, synchronous=FULL, one row per transaction).
//!
//! A delivery here is the whole path: the sender commits the envelope to its log and outbox,
//! signs it, posts it over HTTP; the receiver verifies, commits envelope and receipt, signs the
//! receipt; the sender verifies the receipt and commits it. Counted when the last receipt is
//! committed.
//!
//! `cargo run --release -p detente-bench --bin deliveries [-- ROUNDS MESSAGES]`

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use detente_bench::{median, rate, request, terms};
use detente_protocol::{PartyId, SecretKey};
use detente_server::{local_pair::LocalPair, node::Actor};
use sqlx::{
    Connection,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous},
};

/// Concurrent filers.
const WORKERS: usize = 64;

/// Ed25519 sign + strict verify of `n` envelope-sized messages, single thread.
fn ed25519_rate(n: usize) -> f64 {
    let key = SecretKey::generate();
    let public = key.public_key();
    let msg = vec![0x5au8; 700];
    let start = Instant::now();
    for i in 0..n {
        let mut m = msg.clone();
        m[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let sig = key.sign(&m);
        public.verify(&m, &sig).expect("a fresh signature verifies");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// `n` durable single-row commits into a fresh SQLite file, as the node configures it.
async fn sqlite_rate(dir: &std::path::Path, n: usize) -> anyhow::Result<f64> {
    let path = dir.join(format!("baseline-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")
        .execute(&mut conn)
        .await?;
    let row = vec![0x5au8; 1000];
    let start = Instant::now();
    for _ in 0..n {
        let mut tx = conn.begin().await?;
        sqlx::query("INSERT INTO t (bytes) VALUES (?)")
            .bind(&row)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let r = n as f64 / start.elapsed().as_secs_f64();
    conn.close().await?;
    std::fs::remove_file(&path).ok();
    Ok(r)
}

/// Files `n` requests on the first node, `WORKERS` at a time (as concurrent liaison officers and scripts would), and waits for every receipt.
async fn delivery_rate(dir: &std::path::Path, n: usize) -> anyhow::Result<f64> {
    let pair = LocalPair::start(
        dir,
        [("US", "US-CERT"), ("CN", "CNCERT/CC")],
        "bench",
        "benchmark",
        terms(),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let us = Arc::clone(&pair.nodes[0].node);
    let cn = PartyId::parse("CN")?;
    let start = Instant::now();
    let mut workers = Vec::new();
    let per_worker = n / WORKERS;
    for w in 0..WORKERS {
        let us = Arc::clone(&us);
        let cn = cn.clone();
        workers.push(tokio::spawn(async move {
            for i in 0..per_worker {
                us.file_request(cn.clone(), request(w * per_worker + i), Actor::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let filed = start.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    while us.store().outbox_next_due().await?.is_some() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "deliveries did not finish in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let r = (per_worker * WORKERS) as f64 / start.elapsed().as_secs_f64();
    eprintln!(
        "  filed in {:.2}s, all receipts in {:.2}s",
        filed.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let delivered = us.store().outbox_summary().await?;
    anyhow::ensure!(
        delivered.iter().all(|(_, state, _)| state == "delivered"),
        "every message must end delivered: {delivered:?}"
    );
    pair.stop().await.map_err(anyhow::Error::msg)?;
    Ok(r)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("usage: deliveries [ROUNDS [MESSAGES]]")?;
    let rounds = args.first().copied().unwrap_or(5);
    let messages = args.get(1).copied().unwrap_or(4000);
    let dir = tempfile::tempdir()?;
    let (mut sig, mut sql, mut del) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        sig.push(ed25519_rate(5000));
        sql.push(sqlite_rate(dir.path(), 2000).await?);
        let round_dir = dir.path().join(format!("round{round}"));
        del.push(delivery_rate(&round_dir, messages).await?);
        eprintln!(
            "round {}: sign+verify {}/s, sqlite commits {}/s, deliveries {}/s",
            round + 1,
            rate(sig[round]),
            rate(sql[round]),
            rate(del[round])
        );
    }
    let (sig, sql, del) = (median(&mut sig), median(&mut sql), median(&mut del));
    let slower = sig.min(sql);
    println!("medians over {rounds} rounds, {messages} deliveries per round:");
    println!("  Ed25519 sign+verify (1 thread)      {:>10} /s", rate(sig));
    println!("  SQLite durable commits (1 row/tx)   {:>10} /s", rate(sql));
    println!("  detente durable deliveries          {:>10} /s", rate(del));
    println!(
        "  deliveries / slower baseline        {:>10.2}x  (target >= 0.20x, i.e. within 5x)",
        del / slower
    );
    println!(
        "  deliveries / 1,000 per second       {:>10.2}x  (target >= 1.00x)",
        del / 1000.0
    );
    Ok(())
}
