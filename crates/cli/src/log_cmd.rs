//! `detente log export` and `detente audit`: the auditor's path. A party exports its log as a
//! bundle; an auditor (or either party) checks both parties' bundles against each other,
//! trusting neither, and recomputes the timeliness figures.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Args, Subcommand};
use detente_audit::{BUNDLE_FORMAT, BundleLine, BundleWriter, Header, audit};
use detente_domain::Agreement;
use detente_server::config::NodeConfig;
use detente_server::log_check::verify_log;
use detente_store::{Store, StoreError};

use crate::demo::print_table;
use crate::home::open_store;

/// Subcommands of `detente log`.
#[derive(Subcommand)]
pub enum LogCommand {
    /// Write this node's whole log as a self-contained bundle (entries, checkpoints, the
    /// partner checkpoints held, the agreement with its keys).
    Export {
        /// Where to write the bundle (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Recompute the log's Merkle tree from its entries and check it against the stored tree
    /// and every checkpoint the node signed; names the first bad entry. Exit 0 intact,
    /// 1 tampered, 2 the log cannot be checked.
    Verify,
}

/// Options of `detente audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// The first party's bundle.
    pub a: PathBuf,
    /// The second party's bundle.
    pub b: PathBuf,
}

/// A failed audit's (or log check's) verdict; it becomes the process exit code.
#[derive(Debug)]
pub enum Verdict {
    /// Something was changed, dropped, reordered, inserted or forged: exit 1.
    Tampered,
    /// The input is not a pair of bundles of one agreement: exit 2.
    Unusable,
}

impl Verdict {
    /// Exit codes: 0 verified (no error), 1 tampered, 2 unusable input.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tampered => 1,
            Self::Unusable => 2,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tampered => "tampering found (see above)",
            Self::Unusable => "the bundles cannot be audited",
        })
    }
}

impl std::error::Error for Verdict {}

/// Runs `detente log ...` for the node in `home` (`database` overrides its configured one).
pub async fn run(
    home: &Path,
    database: Option<&str>,
    cmd: LogCommand,
    json: bool,
) -> anyhow::Result<()> {
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    let text =
        std::fs::read_to_string(home.join(&config.agreement)).context("reading the agreement")?;
    let agreement = Agreement::from_toml(&text)?;
    match cmd {
        LogCommand::Export { out } => export(home, database, &config, agreement, out).await,
        LogCommand::Verify => verify(home, database, &config, &agreement, json).await,
    }
}

/// `detente log verify`: the whole log against the stored tree and the signed checkpoints.
async fn verify(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
    agreement: &Agreement,
    json: bool,
) -> anyhow::Result<()> {
    let location = config
        .database_location(home, database)
        .map_err(anyhow::Error::msg)?;
    let store = match Store::open_at(&location, false).await {
        Ok(s) => s,
        // Opening checks the stored tree's shape; a database it refuses was altered.
        Err(e @ StoreError::Corrupt(_)) => {
            println!("TAMPERED  {e}");
            return Err(Verdict::Tampered.into());
        }
        Err(e) => {
            eprintln!("cannot open the database: {e}");
            return Err(Verdict::Unusable.into());
        }
    };
    let report = verify_log(&store, agreement, &config.party).await;
    store.close().await;
    let report = match report {
        Ok(r) => r,
        Err(e @ StoreError::Corrupt(_)) => {
            println!("TAMPERED  {e}");
            return Err(Verdict::Tampered.into());
        }
        Err(e) => {
            eprintln!("cannot read the log: {e}");
            return Err(Verdict::Unusable.into());
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({
                "intact": report.problem.is_none(),
                "entries": report.entries,
                "nodes": report.nodes,
                "checkpoints": report.checkpoints,
                "problem": report.problem.as_ref().map(|p| serde_json::json!({"entry": p.entry, "what": p.what})),
            })
        );
    } else {
        println!(
            "checked {} entries, {} tree nodes and {} signed checkpoints of {}'s log",
            report.entries, report.nodes, report.checkpoints, config.party
        );
        match &report.problem {
            Some(p) => println!("TAMPERED  {p}"),
            None => println!("INTACT: the log matches its stored tree and every checkpoint."),
        }
    }
    match report.problem {
        Some(_) => Err(Verdict::Tampered.into()),
        None => Ok(()),
    }
}

/// `detente log export`.
async fn export(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
    agreement: Agreement,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = open_store(home, database, config).await?;
    // The export covers the log up to the latest checkpoint, so every entry it holds is
    // committed to by a signed checkpoint in the same bundle.
    let notes = store.checkpoint_notes().await?;
    let size = store.tree_head().await.0.get();
    let sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let header = Header {
        format: BUNDLE_FORMAT.into(),
        party: config.party.clone(),
        agreement,
        size,
    };
    let mut w = BundleWriter::new(BufWriter::new(sink), header)?;
    for note in notes {
        w.line(&BundleLine::Checkpoint(note))?;
    }
    for (party, note) in store.partner_checkpoint_notes().await? {
        w.line(&BundleLine::PartnerCheckpoint { party, note })?;
    }
    let mut start = 0;
    while start < size {
        let end = (start + 10_000).min(size);
        for (index, kind, direction, bytes) in store.entries(start, end).await? {
            let data = serde_json::from_slice(&bytes).context("a stored entry is not JSON")?;
            w.line(&BundleLine::Entry {
                index,
                kind,
                direction,
                data,
            })?;
        }
        start = end;
    }
    w.finish()?;
    store.close().await;
    if let Some(p) = out {
        eprintln!(
            "wrote {size} entries of {}'s log to {}",
            config.party,
            p.display()
        );
    }
    Ok(())
}

/// `detente rebuild`: recreates the projections of the (stopped) node in `home` from its log.
pub async fn rebuild(home: &Path, database: Option<&str>) -> anyhow::Result<()> {
    let _lock = detente_server::home::lock(home, "rebuild").map_err(anyhow::Error::msg)?;
    let (_, node) = detente_server::open_node_with(home, database)
        .await
        .map_err(anyhow::Error::msg)?;
    let entries = node.rebuild().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    node.store().close().await;
    println!("rebuilt messages, outbox, cases and counters from {entries} log entries");
    Ok(())
}

/// Audits two bundles and prints the verdict and the figures.
pub fn audit_bundles(args: &AuditArgs, json: bool) -> anyhow::Result<()> {
    let open = |p: &PathBuf| -> anyhow::Result<BufReader<File>> {
        match File::open(p) {
            Ok(f) => Ok(BufReader::with_capacity(1 << 20, f)),
            Err(e) => {
                eprintln!("cannot open {}: {e}", p.display());
                Err(Verdict::Unusable.into())
            }
        }
    };
    let result = match audit(open(&args.a)?, open(&args.b)?) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Err(Verdict::Unusable.into());
        }
    };
    if json {
        let findings: Vec<String> = result.findings.iter().map(ToString::to_string).collect();
        println!(
            "{}",
            serde_json::json!({
                "verified": result.verified(),
                "parties": result.parties,
                "entries": result.entries,
                "signatures": result.signatures,
                "checkpoints_checked": result.checkpoints_checked,
                "findings": findings,
                "as_of": result.as_of,
                "figures": result.figures,
            })
        );
    } else {
        println!(
            "audited {} ({} entries) and {} ({} entries): {} signatures, {} checkpoint roots",
            result.parties[0],
            result.entries[0],
            result.parties[1],
            result.entries[1],
            result.signatures,
            result.checkpoints_checked
        );
        for f in &result.findings {
            println!("TAMPERED  {f}");
        }
        if result.verified() {
            println!(
                "VERIFIED: both logs are intact, consistent with every checkpoint, and agree with each other."
            );
        }
        if let Some(at) = result.as_of {
            println!("\nFigures recomputed from the logs as of {at} (the latest receipt):");
            print_table(&result.figures);
        }
    }
    if result.verified() {
        Ok(())
    } else {
        Err(Verdict::Tampered.into())
    }
}
