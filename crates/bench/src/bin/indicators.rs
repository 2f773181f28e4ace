//! `detente indicators import` end to end: a generated bundle (default 1,000,000 indicators,
//! with planted duplicates and new versions) into a fresh node's SQLite database, then the
//! same bundle again (every object a duplicate), against the OASIS `stix2` Python library
//! parsing a slice of the same bundle in the same run. Three rounds each, medians, ratios.
//!
//! ```text
//! cargo build --release -p detente && scripts/python-tools
//! cargo run --release -p detente-bench --bin indicators [-- --count N] [--python-slice M]
//! ```
//!
//! The `detente` binary is the one beside this benchmark (`target/release/detente`), or
//! `$DETENTE_BIN`. Peak resident memory of each import is measured by `/usr/bin/time -f %M`;
//! the Python baseline runs under `.venv/bin/python` (made by `scripts/python-tools`) or
//! `$STIX2_PYTHON`.

use std::{path::Path, process::Command, time::Instant};

use anyhow::{Context, bail};
use detente_bench::{detente, detente_bin, median, rate};
use detente_stix::synthetic::{STIX2_PARSE_BASELINE, write_bundle_file};
use serde_json::Value;

struct Args {
    count: u64,
    slice: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        count: 1_000_000,
        slice: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--count" => a.count = value.parse()?,
            "--python-slice" => a.slice = value.parse()?,
            other => bail!("unknown argument {other}; use --count N, --python-slice M"),
        }
    }
    Ok(a)
}

/// A fresh node home in `dir`.
fn init(bin: &Path, home: &Path) -> anyhow::Result<()> {
    detente(bin, home, &["init", "--party", "US", "--plain-http"]).map(drop)
}

/// One import: (objects read per second, stored, duplicates, peak RSS in kB).
fn import(bin: &Path, home: &Path, file: &Path) -> anyhow::Result<(f64, u64, u64, f64)> {
    // Write back what earlier steps left dirty (the generated bundle, a removed node) first:
    // otherwise the kernel flushes it during the import, and every commit's fsync queues
    // behind it (a fresh 1.7M import right after writing its 1 GB bundle took 20 s instead
    // of 15 s).
    let synced = Command::new("sync").status().context("running sync")?;
    if !synced.success() {
        bail!("sync failed: {synced}");
    }
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(bin)
        .arg("--home")
        .arg(home)
        .args(["--json", "indicators", "import"])
        .arg(file)
        .output()
        .context("running /usr/bin/time detente (apt-get install time)")?;
    if !out.status.success() {
        bail!("import: {}", String::from_utf8_lossy(&out.stderr));
    }
    let j: Value = serde_json::from_slice(&out.stdout)?;
    let read = j["files"][0]["read"].as_f64().unwrap_or(0.0);
    let secs = j["seconds"].as_f64().unwrap_or(f64::NAN);
    let rss: f64 = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(f64::NAN);
    Ok((
        read / secs,
        j["stored"].as_u64().unwrap_or(0),
        j["duplicates"].as_u64().unwrap_or(0),
        rss,
    ))
}

fn python() -> String {
    std::env::var("STIX2_PYTHON").unwrap_or_else(|_| {
        if Path::new(".venv/bin/python").exists() {
            ".venv/bin/python".into()
        } else {
            "python3".into()
        }
    })
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let bin = detente_bin()?;
    let dir = tempfile::tempdir()?;
    let big = dir.path().join("big.json");
    let small = dir.path().join("slice.json");
    let t0 = Instant::now();
    let bytes = write_bundle_file(a.count, &big)?;
    write_bundle_file(a.slice, &small)?;
    eprintln!(
        "generated {} indicators ({:.0} MB) in {:.1}s",
        a.count,
        bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );

    let (mut fresh, mut again, mut rss, mut slice_rates) = (vec![], vec![], vec![], vec![]);
    let (mut stored, mut dups) = (0, 0);
    for round in 1..=3 {
        let home = dir.path().join(format!("node-{round}"));
        init(&bin, &home)?;
        let (r, s, d, m) = import(&bin, &home, &big)?;
        eprintln!(
            "round {round}: fresh {} objects/s, stored {s}, duplicates {d}, peak RSS {:.0} MB",
            rate(r),
            m / 1024.0
        );
        (stored, dups) = (s, d);
        fresh.push(r);
        rss.push(m);
        let (r, s, _, _) = import(&bin, &home, &big)?;
        eprintln!("round {round}: again {} objects/s, stored {s}", rate(r));
        again.push(r);
        std::fs::remove_dir_all(&home)?;
        let home = dir.path().join(format!("slice-{round}"));
        init(&bin, &home)?;
        slice_rates.push(import(&bin, &home, &small)?.0);
    }

    let py = python();
    let mut py_rates = Vec::new();
    let mut py_rss = Vec::new();
    for round in 1..=3 {
        let out = Command::new(&py)
            .arg("-c")
            .arg(STIX2_PARSE_BASELINE)
            .arg(&small)
            .output()
            .with_context(|| format!("running {py}"))?;
        if !out.status.success() {
            bail!(
                "the stix2 baseline failed under {py} (run scripts/python-tools): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let j: Value = serde_json::from_slice(&out.stdout)?;
        let r = j["objects"].as_f64().unwrap_or(0.0) / j["secs"].as_f64().unwrap_or(f64::NAN);
        eprintln!("round {round}: stix2 {} objects/s", rate(r));
        py_rates.push(r);
        py_rss.push(j["vmhwm_kb"].as_f64().unwrap_or(f64::NAN));
    }

    let (fresh, again, rss) = (median(&mut fresh), median(&mut again), median(&mut rss));
    let (slice_rate, py_rate) = (median(&mut slice_rates), median(&mut py_rates));
    println!("# detente indicators import into SQLite (median of 3 rounds)");
    println!(
        "bundle: {} indicators, {:.0} MB; stored {stored}, dropped {dups} duplicates",
        a.count,
        bytes as f64 / 1e6
    );
    println!(
        "detente, fresh database:   {} indicators/s, peak RSS {:.0} MB",
        rate(fresh),
        rss / 1024.0
    );
    println!("detente, all duplicates:   {} indicators/s", rate(again));
    println!(
        "slice of {}: detente {} indicators/s (parse + validate + store); stix2 {} objects/s (parse only), peak RSS {:.0} MB; ratio {:.0}x",
        a.slice,
        rate(slice_rate),
        rate(py_rate),
        median(&mut py_rss) / 1024.0,
        slice_rate / py_rate
    );
    Ok(())
}
