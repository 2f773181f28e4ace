//! SQLite against PostgreSQL, in the same run, through the same `Store` API:
//!
//! - bulk append: entries/s through `WriteTx::append_entries` in batches of 10,000, one
//!   durable commit per batch (entries and Merkle nodes);
//! - single appends: durable write transactions/s of one entry and one checkpoint each, the
//!   shape of a node's own traffic (SQLite: one fsync per commit; PostgreSQL: one WAL flush);
//! - inclusion proof: median latency at the final size, for random entries;
//! - deliveries: durable deliveries/s between two nodes on loopback, both on the backend,
//!   as `deliveries` measures them (64 concurrent filers, group commit).
//!
//! Prints each figure for both backends and the ratio PostgreSQL / SQLite.
//!
//! `cargo run --release -p detente-bench --bin backends -- POSTGRES_URL [ENTRIES [DELIVERIES]]`
//! where `POSTGRES_URL` names a server and a database the role may connect to; the benchmark
//! creates fresh databases next to it (default 1,000,000 entries, 2,000 deliveries).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use detente_bench::{median, rate, request, terms};
use detente_ledger::{LeafIndex, TreeSize};
use detente_protocol::{MessageId, PartyId, Timestamp};
use detente_server::{local_pair::LocalPair, node::Actor};
use detente_store::{Direction, EntryKind, Location, NewEntry, Store};

/// Entries per bulk batch (one commit each).
const BATCH: u64 = 10_000;
/// Concurrent filers in the delivery benchmark.
const WORKERS: usize = 64;

fn entry_bytes(i: u64) -> Vec<u8> {
    // About the size of a small signed receipt, as in the `log` benchmark.
    format!(
        "{{\"receipt\":{{\"case\":\"US-2026-{:04}\",\"seq\":{i},\"received_at\":\"2026-11-27T03:16:20.000Z\"}},\"signature\":\"{}\"}}",
        i % 10_000,
        "A".repeat(88)
    )
    .into_bytes()
}

/// What one backend measured.
struct Figures {
    bulk: f64,
    single: f64,
    proof_us: f64,
    deliveries: f64,
}

async fn measure_store(store: &Store, total: u64) -> anyhow::Result<(f64, f64, f64)> {
    let at = Timestamp::from_unix_millis(1_795_000_000_000)?;
    let id = MessageId::random();
    // Single-entry durable transactions first, on a small log.
    let singles = 1000;
    let start = Instant::now();
    for i in 0..singles {
        let mut tx = store.write().await?;
        tx.append_entry(EntryKind::Receipt, Direction::In, id, &entry_bytes(i), at)
            .await?;
        let (size, root) = tx.tree_head();
        tx.insert_checkpoint(size, root, "bench note", at).await?;
        tx.commit().await?;
    }
    let single = singles as f64 / start.elapsed().as_secs_f64();

    let mut rates = Vec::new();
    let mut i = singles;
    while i < total {
        let n = BATCH.min(total - i);
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
        rates.push(n as f64 / t.elapsed().as_secs_f64());
        i += n;
    }
    let bulk = median(&mut rates);

    let size = TreeSize::new(total);
    let mut proof_us = Vec::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..1000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Instant::now();
        let proof = store
            .inclusion_proof(LeafIndex::new(x % total), size)
            .await?;
        proof_us.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(!proof.is_empty(), "a proof at this size has nodes");
    }
    Ok((bulk, single, median(&mut proof_us)))
}

async fn delivery_rate(
    dir: &std::path::Path,
    n: usize,
    databases: [Option<String>; 2],
) -> anyhow::Result<f64> {
    let pair = LocalPair::start_on(
        dir,
        [("US", "US-CERT"), ("CN", "CNCERT/CC")],
        "bench",
        "benchmark",
        terms(),
        databases,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let us = Arc::clone(&pair.nodes[0].node);
    let cn = PartyId::parse("CN")?;
    let start = Instant::now();
    let per_worker = n / WORKERS;
    let mut workers = Vec::new();
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
    let deadline = Instant::now() + Duration::from_secs(300);
    while us.store().outbox_next_due().await?.is_some() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "deliveries did not finish in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let r = (per_worker * WORKERS) as f64 / start.elapsed().as_secs_f64();
    let delivered = us.store().outbox_summary().await?;
    anyhow::ensure!(
        delivered.iter().all(|(_, state, _)| state == "delivered"),
        "every message must end delivered: {delivered:?}"
    );
    pair.stop().await.map_err(anyhow::Error::msg)?;
    Ok(r)
}

/// A fresh database on the server of `server_url`.
async fn fresh_database(server_url: &str, what: &str) -> anyhow::Result<String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let name = format!("detente_bench_{what}_{}_{nanos}", std::process::id());
    detente_store::postgres::create_database(server_url, &name)
        .await
        .with_context(|| format!("creating database {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let usage = "usage: backends POSTGRES_URL [ENTRIES [DELIVERIES]]";
    let mut args = std::env::args().skip(1);
    let server = args.next().context(usage)?;
    let numbers: Vec<u64> = args
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context(usage)?;
    let total = numbers.first().copied().unwrap_or(1_000_000).max(2000);
    let deliveries = numbers.get(1).copied().unwrap_or(2000) as usize;
    let dir = tempfile::tempdir()?;

    let mut figures = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let location = match backend {
            "sqlite" => Location::Sqlite(dir.path().join("log.db")),
            _ => Location::Postgres(fresh_database(&server, "log").await?),
        };
        let store = Store::open_at(&location, true).await?;
        eprintln!("{backend}: appending {} entries", rate(total as f64));
        let (bulk, single, proof_us) = measure_store(&store, total).await?;
        store.close().await;
        let databases = match backend {
            "sqlite" => [None, None],
            _ => [
                Some(fresh_database(&server, "us").await?),
                Some(fresh_database(&server, "cn").await?),
            ],
        };
        eprintln!("{backend}: {deliveries} deliveries");
        let d = delivery_rate(&dir.path().join(backend), deliveries, databases).await?;
        figures.push(Figures {
            bulk,
            single,
            proof_us,
            deliveries: d,
        });
    }
    let (s, p) = (&figures[0], &figures[1]);
    println!(
        "SQLite vs PostgreSQL, same run, log of {} entries:",
        rate(total as f64)
    );
    println!(
        "  {:<44} {:>12} {:>12} {:>10}",
        "", "SQLite", "PostgreSQL", "PG/SQLite"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!(
            "  {:<44} {:>12} {:>12} {:>9.2}x",
            format!("{name} ({unit})"),
            rate(a),
            rate(b),
            b / a
        );
    };
    row(
        "bulk append, median batch of 10,000",
        s.bulk,
        p.bulk,
        "entries/s",
    );
    row("single-entry durable commits", s.single, p.single, "tx/s");
    println!(
        "  {:<44} {:>12.1} {:>12.1} {:>9.2}x",
        "inclusion proof at full size, median (µs)",
        s.proof_us,
        p.proof_us,
        p.proof_us / s.proof_us
    );
    row(
        "durable deliveries between two nodes",
        s.deliveries,
        p.deliveries,
        "/s",
    );
    Ok(())
}
