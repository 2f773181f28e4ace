//! `detente log export` and `detente audit`: the auditor's path. A party exports its log as a
//! bundle; an auditor (or either party) checks both parties' bundles against each other,
//! trusting neither, and recomputes the timeliness figures.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use detente_audit::{
    Audit, AuditError, BundleWriter, Direction, EntryKind, FindingKind, Header, Pin, audit,
    verify_checkpoint,
};
use detente_domain::Agreement;
use detente_protocol::Digest;
use detente_server::config::NodeConfig;
use detente_server::log_check::verify_log;
use detente_store::{Store, StoreError};

use crate::figures::print_table;
use crate::home::open_store_read_only;

/// Subcommands of `detente log`.
#[derive(Subcommand)]
pub enum LogCommand {
    /// Write this node's log, up to its latest signed checkpoint, as a self-contained bundle
    /// (entries as logged, checkpoints, the partner checkpoints held, the agreement with its
    /// keys); says what it wrote on standard error (on standard output with --out).
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
    /// The agreement to audit under (its TOML file), obtained from the parties out of band,
    /// not from the bundles: the parties' keys are taken from it.
    #[arg(long, value_name = "FILE", conflicts_with = "agreement_digest")]
    pub agreement: Option<PathBuf>,
    /// The SHA-256 digest of the agreement to audit under (64 hex digits, as `detente
    /// agreement show` prints it), obtained out of band.
    #[arg(long, value_name = "HEX")]
    pub agreement_digest: Option<String>,
}

/// A failed audit's (or log check's) verdict; it becomes the process exit code.
#[derive(Debug)]
pub enum Verdict {
    /// Something was changed, dropped, reordered, inserted or forged, or is signed by no
    /// checkpoint: exit 1.
    Tampered,
    /// The input is not a pair of bundles of one agreement, or not of the pinned one: exit 2.
    Unusable,
    /// Nothing found, but under an agreement taken from the bundles themselves: exit 3.
    Unpinned,
}

impl Verdict {
    /// Exit codes: 0 verified (no error), 1 tampered, 2 unusable input, 3 not pinned.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tampered => 1,
            Self::Unusable => 2,
            Self::Unpinned => 3,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tampered => "tampering found (see above)",
            Self::Unusable => "the bundles cannot be audited",
            Self::Unpinned => "not verified: the agreement was not pinned (see above)",
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
        LogCommand::Export { out } => {
            export(home, database, &config, agreement, out.as_deref(), json).await
        }
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
    let store = match Store::open_at_read_only(&location).await {
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

/// `detente log export`: the log up to this node's latest signed checkpoint, each entry as
/// logged. Entries after that checkpoint are left out: nothing this node signed covers them,
/// so they would prove nothing (and an audit reports a bundle that goes on past its last
/// checkpoint).
async fn export(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
    agreement: Agreement,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<()> {
    let store = open_store_read_only(home, database, config).await?;
    let notes = store.checkpoint_notes().await?;
    let partner_notes = store.partner_checkpoint_notes().await?;
    let last = match notes.last() {
        Some(note) => Some(
            verify_checkpoint(&agreement, &config.party, note).map_err(|e| {
                anyhow::anyhow!(
                    "the latest checkpoint in the database {e}: run `detente log verify`"
                )
            })?,
        ),
        None => None,
    };
    let size = last.as_ref().map_or(0, |c| c.size().get());
    // Rows inserted past the stored tree count too: a read-only open does not hash them in.
    let stored = store
        .tree_head()
        .await
        .0
        .get()
        .max(store.last_entry_index().await?.map_or(0, |l| l + 1));
    let sink: Box<dyn Write> = match out {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let header = Header::new(config.party.clone(), agreement.clone(), size);
    let mut w = BundleWriter::new(BufWriter::new(sink), &header)?;
    for note in &notes {
        w.checkpoint(note)?;
    }
    for (party, note) in &partner_notes {
        w.partner_checkpoint(party, note)?;
    }
    // The writer hashes the entries as it writes them, so the export can say that they
    // reproduce the checkpoint's root, or refuse to pass off a changed log as signed.
    let mut start = 0;
    while start < size {
        let end = (start + 10_000).min(size);
        for (index, kind, direction, bytes) in store.entries(start, end).await? {
            let (Some(kind), Some(direction)) =
                (EntryKind::parse(&kind), Direction::parse(&direction))
            else {
                bail!(
                    "entry {index} is a {kind:?} {direction:?}, which no node logs: run `detente log verify`"
                );
            };
            w.entry(index, kind, direction, &bytes)
                .context("a stored entry cannot be written as logged: run `detente log verify`")?;
        }
        start = end;
    }
    let root = w.root();
    w.finish()?;
    store.close().await;
    if let Some(c) = &last
        && root != c.root()
    {
        eprintln!(
            "TAMPERED  the exported entries 0 to {} do not reproduce the root of {}'s checkpoint of size {size}: the database was changed; run `detente log verify`",
            size - 1,
            config.party
        );
        return Err(Verdict::Tampered.into());
    }
    let summary = ExportSummary {
        party: &config.party,
        agreement: &agreement,
        entries: size,
        root: last.as_ref().map(|c| c.root()),
        checkpoints: notes.len(),
        partner_checkpoints: partner_notes.len(),
        left_out: stored.saturating_sub(size),
        out,
    };
    // With the bundle on standard output, what was exported goes to standard error.
    let text = if json {
        summary.json().to_string()
    } else {
        summary.text()
    };
    if out.is_some() {
        println!("{text}");
    } else {
        eprintln!("{text}");
    }
    Ok(())
}

/// What `log export` wrote.
struct ExportSummary<'a> {
    party: &'a detente_protocol::PartyId,
    agreement: &'a Agreement,
    entries: u64,
    root: Option<Digest>,
    checkpoints: usize,
    partner_checkpoints: usize,
    left_out: u64,
    out: Option<&'a Path>,
}

impl ExportSummary<'_> {
    fn text(&self) -> String {
        let digest = self.agreement.digest();
        let mut s = match self.root {
            Some(root) => format!(
                "exported entries 0 to {} of {}'s log ({} entries), ending at its checkpoint of size {}, root {root}, which they reproduce",
                self.entries - 1,
                self.party,
                self.entries,
                self.entries
            ),
            None => format!(
                "exported {}'s log with no entries: it has signed no checkpoint yet",
                self.party
            ),
        };
        s += &format!(
            "\nwith its {} checkpoints, the {} partner checkpoints it holds, and agreement {} (digest {digest}, fingerprint {})",
            self.checkpoints,
            self.partner_checkpoints,
            self.agreement.id,
            digest.fingerprint()
        );
        if let Some(p) = self.out {
            s += &format!("\nwrote {}", p.display());
        }
        if self.left_out > 0 {
            let entries = match self.left_out {
                1 => "1 entry".to_owned(),
                n => format!("{n} entries"),
            };
            s += &format!(
                "\nleft out {entries} after that checkpoint: no checkpoint covers them yet (written during the export), or they were added behind the node's back; `detente log verify` tells which"
            );
        }
        s
    }

    fn json(&self) -> serde_json::Value {
        let digest = self.agreement.digest();
        serde_json::json!({
            "party": self.party,
            "entries": self.entries,
            "checkpoint": self.root.map(|root| serde_json::json!({"size": self.entries, "root": root})),
            "checkpoints": self.checkpoints,
            "partner_checkpoints": self.partner_checkpoints,
            "agreement": {"id": self.agreement.id, "digest": digest, "fingerprint": digest.fingerprint()},
            "left_out": self.left_out,
            "out": self.out,
        })
    }
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

/// The agreement `detente audit` is told to audit under.
fn pin(args: &AuditArgs) -> anyhow::Result<Pin> {
    if let Some(path) = &args.agreement {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the pinned agreement {}", path.display()))?;
        let agreement = Agreement::from_toml(&text)
            .with_context(|| format!("the pinned agreement {}", path.display()))?;
        return Ok(Pin::Agreement(agreement));
    }
    match &args.agreement_digest {
        Some(hex) => Digest::parse(&hex.trim().to_ascii_lowercase())
            .map(Pin::Digest)
            .context("--agreement-digest"),
        None => Ok(Pin::None),
    }
}

/// Audits two bundles and prints the verdict and the figures.
pub fn audit_bundles(args: &AuditArgs, json: bool) -> anyhow::Result<()> {
    let unusable = |e: anyhow::Error| {
        eprintln!("{e:#}");
        anyhow::Error::from(Verdict::Unusable)
    };
    let pin = pin(args).map_err(unusable)?;
    let open = |p: &PathBuf| -> anyhow::Result<BufReader<File>> {
        let f = File::open(p).with_context(|| format!("cannot open {}", p.display()));
        Ok(BufReader::with_capacity(1 << 20, f.map_err(unusable)?))
    };
    let result = match audit(open(&args.a)?, open(&args.b)?, &pin) {
        Ok(r) => r,
        Err(e @ AuditError::AgreementMismatch { .. }) => {
            eprintln!("refusing to audit: {e}");
            return Err(Verdict::Unusable.into());
        }
        Err(e) => {
            eprintln!("{e}");
            return Err(Verdict::Unusable.into());
        }
    };
    if json {
        println!("{}", audit_json(&result));
    } else {
        print_audit(&result);
    }
    if !result.findings.is_empty() {
        Err(Verdict::Tampered.into())
    } else if !result.pinned {
        Err(Verdict::Unpinned.into())
    } else {
        Ok(())
    }
}

fn audit_json(result: &Audit) -> serde_json::Value {
    let verdict = if !result.findings.is_empty() {
        "tampered"
    } else if result.pinned {
        "verified"
    } else {
        "unpinned"
    };
    serde_json::json!({
        "verdict": verdict,
        "verified": result.verified(),
        "agreement": {
            "id": result.agreement_id,
            "digest": result.agreement,
            "fingerprint": result.agreement.fingerprint(),
            "pinned": result.pinned,
        },
        "parties": result.parties,
        "entries": result.entries,
        "signatures": result.signatures,
        "checkpoints_checked": result.checkpoints_checked,
        "findings": result.findings,
        "as_of": result.as_of,
        "figures": result.figures,
    })
}

fn print_audit(result: &Audit) {
    println!(
        "audited {} ({} entries) and {} ({} entries): {} signatures, {} checkpoint roots",
        result.parties[0],
        result.entries[0],
        result.parties[1],
        result.entries[1],
        result.signatures,
        result.checkpoints_checked
    );
    println!(
        "under agreement {}, digest {}\n      fingerprint {} ({})",
        result.agreement_id,
        result.agreement,
        result.agreement.fingerprint(),
        if result.pinned {
            "pinned"
        } else {
            "NOT PINNED: taken from the bundles"
        }
    );
    for f in &result.findings {
        let label = match f.kind {
            FindingKind::UnsignedTail => "UNSIGNED",
            _ => "TAMPERED",
        };
        println!("{label:<9} {f}");
    }
    if !result.pinned {
        println!(
            "WARNING: agreement not pinned. The agreement, and with it the parties' keys, came from the bundles themselves: whoever handed over both bundles could have re-signed every entry with keys of their own. Compare the digest above with the agreement the parties hold, or audit again with --agreement FILE or --agreement-digest HEX."
        );
    }
    match (result.findings.is_empty(), result.pinned) {
        (true, true) => println!(
            "VERIFIED: both logs are intact, end at checkpoints their parties signed, are signed under the pinned agreement, and agree with each other."
        ),
        (true, false) => {
            println!("UNPINNED: no tampering found under the bundles' own agreement; not verified.")
        }
        (false, _) => {}
    }
    if let Some(at) = result.as_of {
        println!(
            "\nTimeliness per direction, recomputed from the logs as of {at} (the latest receipt; pauses for clarification excluded):"
        );
        print_table(&result.figures);
    }
}
