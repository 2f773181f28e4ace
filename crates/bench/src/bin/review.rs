//! The node's review from its own store: how long `GET /api/v1/review` (and `detente
//! review`) takes to derive every case and render the JSON, and the peak resident memory.
//!
//! `cargo run --release -p detente-bench --bin review -- generate DIR [CASES]` makes a pair
//! of nodes in DIR (default 5,000 cases: US files each request, CN acknowledges it);
//! `... -- measure DIR [ROUNDS]` then times the review of the current year on US's node,
//! median of ROUNDS (default 5), in a process of its own, so the generator's memory does not
//! count. Measuring the same DIR with two versions compares them on the same bytes.

use std::{path::Path, sync::Arc, time::Duration, time::Instant};

use anyhow::Context;
use detente_bench::{median, request, terms};
use detente_domain::Agreement;
use detente_protocol::{AcknowledgementBody, Body, PartyId};
use detente_server::{
    local_pair::LocalPair,
    node::{Actor, now},
    review::{ReviewFormat, ReviewRequest, render_review},
};
use detente_store::Store;

/// Concurrent filers.
const WORKERS: usize = 32;

async fn generate(dir: &Path, cases: usize) -> anyhow::Result<()> {
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
    let cn = Arc::clone(&pair.nodes[1].node);
    let to = PartyId::parse("CN")?;
    let per_worker = cases.div_ceil(WORKERS);
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (us, cn, to) = (Arc::clone(&us), Arc::clone(&cn), to.clone());
        workers.push(tokio::spawn(async move {
            for i in 0..per_worker {
                let sent = us
                    .file_request(to.clone(), request(w * per_worker + i), Actor::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                // CN acknowledges once the request reached it.
                let deadline = Instant::now() + Duration::from_secs(120);
                while cn.store().case(&sent.case).await?.is_none() {
                    anyhow::ensure!(Instant::now() < deadline, "CN never got {}", sent.case);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                cn.send(
                    &sent.case,
                    Body::Acknowledgement(AcknowledgementBody {
                        note: String::new(),
                    }),
                    Actor::default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while cn.store().outbox_next_due().await?.is_some() {
        anyhow::ensure!(Instant::now() < deadline, "deliveries did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "generated {} cases; US's log holds {} entries",
        per_worker * WORKERS,
        us.store().entry_count().await?
    );
    pair.stop().await.map_err(anyhow::Error::msg)
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn measure(dir: &Path, rounds: usize) -> anyhow::Result<()> {
    let home = dir.join("us");
    let agreement = Agreement::from_toml(&std::fs::read_to_string(home.join("agreement.toml"))?)?;
    let party = PartyId::parse("US")?;
    let store = Store::open(&home.join("detente.db"), false).await?;
    let year = now().datetime().year();
    let request = ReviewRequest {
        period: year.to_string(),
        bulletin: false,
        format: ReviewFormat::Json,
        redacted: false,
        trend: 0,
        as_of: None,
    };
    let mut times = Vec::new();
    let mut bytes = 0;
    for round in 0..rounds {
        let start = Instant::now();
        let json = render_review(&store, &agreement, &party, &request, now())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        times.push(start.elapsed().as_secs_f64());
        bytes = json.len();
        eprintln!("round {}: {:.3} s", round + 1, times[round]);
    }
    store.close().await;
    println!(
        "review of {year} from {} log entries: median {:.3} s over {rounds} rounds, {bytes} bytes of JSON, peak RSS {:.0} MiB",
        store_entries(&home).await?,
        median(&mut times),
        peak_mib()
    );
    Ok(())
}

async fn store_entries(home: &Path) -> anyhow::Result<u64> {
    let store = Store::open(&home.join("detente.db"), false).await?;
    let n = store.entry_count().await?;
    store.close().await;
    Ok(n)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: review generate DIR [CASES] | review measure DIR [ROUNDS]";
    let number = |i: usize, default: usize| -> anyhow::Result<usize> {
        args.get(i)
            .map_or(Ok(default), |a| a.parse())
            .context(usage)
    };
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("generate"), Some(dir)) => generate(Path::new(dir), number(2, 5000)?).await,
        (Some("measure"), Some(dir)) => measure(Path::new(dir), number(2, 5)?).await,
        _ => anyhow::bail!(usage),
    }
}
