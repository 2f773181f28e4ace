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
    Audit, AuditError, BundleWriter, Direction, Disclosure, EntryKind, FindingKind, Header, Pin,
    audit, check_disclosure, verify_checkpoint,
};
use detente_domain::Agreement;
use std::collections::HashMap;

use detente_protocol::{Digest, MessageId, SignedEnvelope};
use detente_server::config::NodeConfig;
use detente_server::log_check::verify_log;
use detente_store::{Store, StoreError};

use crate::figures::print_table;
use crate::home::open_store_read_only;
use crate::term::out;

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
        /// Leave every body out: headers, receipts, checkpoints and body digests only, for an
        /// auditor who must see timeliness and not content. Only a log of signed headers
        /// (protocol = 2) can be exported so; a full export carries each body beside its entry.
        #[arg(long)]
        redacted: bool,
    },
    /// Write one message's body, with the signed header that commits to it, for an auditor
    /// (`detente audit --disclosed FILE`) to check against the bundles: a disputed case can
    /// be shown message by message without handing over the rest.
    Disclose {
        /// The message (envelope id).
        #[arg(long)]
        message: detente_protocol::MessageId,
        /// Where to write the disclosure.
        #[arg(long)]
        out: PathBuf,
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
    /// A disclosed body (`detente log disclose`) to check against the signed header in the
    /// bundles; may be given several times. A body that is not the committed one is refused.
    #[arg(long, value_name = "FILE")]
    pub disclosed: Vec<PathBuf>,
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
        LogCommand::Export { out, redacted } => {
            let bodies = if redacted {
                Bodies::Redacted
            } else {
                Bodies::Full
            };
            export(
                home,
                database,
                &config,
                agreement,
                out.as_deref(),
                bodies,
                json,
            )
            .await
        }
        LogCommand::Disclose { message, out } => {
            disclose(home, database, &config, message, &out).await
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
            out!("TAMPERED  {e}");
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
            out!("TAMPERED  {e}");
            return Err(Verdict::Tampered.into());
        }
        Err(e) => {
            eprintln!("cannot read the log: {e}");
            return Err(Verdict::Unusable.into());
        }
    };
    if json {
        out!(
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
        out!(
            "checked {} entries, {} tree nodes and {} signed checkpoints of {}'s log",
            report.entries,
            report.nodes,
            report.checkpoints,
            config.party
        );
        match &report.problem {
            Some(p) => out!("TAMPERED  {p}"),
            None => out!("INTACT: the log matches its stored tree and every checkpoint."),
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
    bodies: Bodies,
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
        let page = store.entries(start, end).await?;
        let bodies = page_bodies(&store, &page, bodies).await?;
        for (index, kind, direction, bytes) in page {
            let (Some(kind), Some(direction)) =
                (EntryKind::parse(&kind), Direction::parse(&direction))
            else {
                bail!(
                    "entry {index} is a {kind:?} {direction:?}, which no node logs: run `detente log verify`"
                );
            };
            let body = match kind {
                EntryKind::Envelope => entry_body(index, &bytes, &bodies)?,
                EntryKind::Receipt => None,
            };
            w.entry_with_body(index, kind, direction, &bytes, body.as_deref())
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
        out!("{text}");
    } else {
        eprintln!("{text}");
    }
    Ok(())
}

/// Whether an export carries the bodies of version 2 envelopes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Bodies {
    /// Each body beside its entry.
    Full,
    /// No body at all.
    Redacted,
}

/// A page of entries as the store returns them: index, kind, direction, bytes.
type Page = Vec<(u64, String, String, Vec<u8>)>;

/// The stored bodies a page of entries needs, read at once (`None` for a redacted export).
async fn page_bodies(
    store: &Store,
    page: &Page,
    bodies: Bodies,
) -> anyhow::Result<Option<HashMap<MessageId, (Digest, Vec<u8>)>>> {
    if bodies == Bodies::Redacted {
        return Ok(None);
    }
    let ids: Vec<MessageId> = page
        .iter()
        .filter(|(_, kind, _, _)| kind == "envelope")
        .filter_map(|(_, _, _, bytes)| SignedEnvelope::parse(bytes, usize::MAX).ok())
        .filter(|s| s.body_digest().is_some())
        .map(|s| s.id())
        .collect();
    Ok(Some(store.bodies(&ids).await?))
}

/// The body to write beside the envelope entry `index`, if any. A version 1 envelope carries
/// its body in the signed bytes, so a log holding one cannot be exported redacted; a version 2
/// one in a full export gets its stored body (from `bodies`, the page's; `None` when
/// redacted), which must be the one its header commits to.
fn entry_body(
    index: u64,
    bytes: &[u8],
    bodies: &Option<HashMap<MessageId, (Digest, Vec<u8>)>>,
) -> anyhow::Result<Option<Vec<u8>>> {
    let signed = SignedEnvelope::parse(bytes, usize::MAX).with_context(|| {
        format!("entry {index} is not a signed envelope: run `detente log verify`")
    })?;
    match (signed.body_digest(), bodies) {
        (None, None) => bail!(
            "entry {index} is a version 1 envelope, whose signed bytes carry its body: a redacted \
             bundle cannot leave it out and still verify; only a log written under an agreement \
             with protocol = 2 can be exported with --redacted"
        ),
        (None, Some(_)) | (Some(_), None) => Ok(None),
        (Some(digest), Some(bodies)) => {
            let Some((stored, body)) = bodies.get(&signed.id()) else {
                bail!(
                    "the body of message {} (entry {index}) is not stored: export with --redacted, \
                     or restore the bodies table from a backup",
                    signed.id()
                );
            };
            if *stored != digest {
                bail!(
                    "the stored body of message {} (entry {index}) is not the one its signed \
                     header commits to: the database was changed",
                    signed.id()
                );
            }
            Ok(Some(body.clone()))
        }
    }
}

/// `detente log disclose`: one message's signed header (as logged) and its body, which the
/// auditor checks against the header and finds the header in the bundles.
async fn disclose(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
    message: detente_protocol::MessageId,
    out: &Path,
) -> anyhow::Result<()> {
    let store = open_store_read_only(home, database, config).await?;
    let Some(row) = store.message(message).await? else {
        bail!("message {message} is not in this node's log");
    };
    let signed = detente_protocol::SignedEnvelope::parse(&row.envelope, usize::MAX)
        .context("the logged envelope does not parse: run `detente log verify`")?;
    if signed.body_digest().is_none() {
        bail!(
            "message {message} is a version 1 envelope: its body is in the signed bytes of the \
             log entry itself, which a full bundle already carries"
        );
    }
    let Some((_, bytes)) = store.body(message).await? else {
        bail!("the body of message {message} is not stored");
    };
    let body = detente_protocol::SaltedBody::parse(&bytes, usize::MAX)
        .context("the stored body does not parse")?;
    signed
        .open(Some(&body))
        .context("the stored body is not the one its signed header commits to")?;
    store.close().await;
    let disclosure = Disclosure {
        party: config.party.clone(),
        entry: u64::try_from(row.envelope_entry).context("a negative log index")?,
        envelope: signed,
        body,
    };
    std::fs::write(out, disclosure.to_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    out!(
        "wrote the body of message {message} (entry {} of {}'s log, body digest {}) to {}",
        disclosure.entry,
        disclosure.party,
        disclosure
            .envelope
            .body_digest()
            .map(|d| d.to_string())
            .unwrap_or_default(),
        out.display()
    );
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
    out!("rebuilt messages, outbox, cases and counters from {entries} log entries");
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
        out!("{}", audit_json(&result));
    } else {
        print_audit(&result);
    }
    let mut refused = false;
    for path in &args.disclosed {
        match check_disclosed(args, &pin, path) {
            Ok(line) => out!("DISCLOSED {line}"),
            Err(why) => {
                out!("REFUSED   {}: {why}", path.display());
                refused = true;
            }
        }
    }
    if !result.findings.is_empty() || refused {
        Err(Verdict::Tampered.into())
    } else if !result.pinned {
        Err(Verdict::Unpinned.into())
    } else {
        Ok(())
    }
}

/// Checks one disclosed body against the bundle of the party it names, under the pinned
/// agreement (a disclosure proves nothing under keys taken from the bundles).
fn check_disclosed(args: &AuditArgs, pin: &Pin, path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let disclosure = Disclosure::parse(&bytes)?;
    let agreement = match pin {
        Pin::Agreement(a) => a.clone(),
        _ => {
            return Err(
                "a disclosure is checked only under a pinned agreement file (--agreement)".into(),
            );
        }
    };
    let mut last = String::new();
    for bundle in [&args.a, &args.b] {
        let file = File::open(bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
        match check_disclosure(&disclosure, &agreement, BufReader::new(file)) {
            Ok(envelope) => {
                return Ok(format!(
                    "{}: the body of message {} ({} in case {}, {}'s entry {}) is the one its signed header commits to",
                    path.display(),
                    envelope.id,
                    envelope.body.message_type().as_str(),
                    envelope.case,
                    disclosure.party,
                    disclosure.entry
                ));
            }
            // The other party's bundle says only that it is not theirs.
            Err(why) if last.is_empty() || !why.starts_with("names ") => last = why,
            Err(_) => {}
        }
    }
    Err(last)
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
        "bodies_checked": result.bodies_checked,
        "bodies_withheld": result.bodies_withheld,
        "findings": result.findings,
        "as_of": result.as_of,
        "figures": result.figures,
    })
}

fn print_audit(result: &Audit) {
    out!(
        "audited {} ({} entries) and {} ({} entries): {} signatures, {} checkpoint roots",
        result.parties[0],
        result.entries[0],
        result.parties[1],
        result.entries[1],
        result.signatures,
        result.checkpoints_checked
    );
    out!(
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
    if result.bodies_withheld > 0 {
        out!(
            "redacted: {} message bodies left out of the bundles; every check but their content ran",
            result.bodies_withheld
        );
    }
    if result.bodies_checked > 0 {
        out!(
            "{} message bodies checked against their signed headers",
            result.bodies_checked
        );
    }
    for f in &result.findings {
        let label = match f.kind {
            FindingKind::UnsignedTail => "UNSIGNED",
            _ => "TAMPERED",
        };
        out!("{label:<9} {f}");
    }
    if !result.pinned {
        out!(
            "WARNING: agreement not pinned. The agreement, and with it the parties' keys, came from the bundles themselves: whoever handed over both bundles could have re-signed every entry with keys of their own. Compare the digest above with the agreement the parties hold, or audit again with --agreement FILE or --agreement-digest HEX."
        );
    }
    match (result.findings.is_empty(), result.pinned) {
        (true, true) => out!(
            "VERIFIED: both logs are intact, end at checkpoints their parties signed, are signed under the pinned agreement, and agree with each other."
        ),
        (true, false) => {
            out!("UNPINNED: no tampering found under the bundles' own agreement; not verified.")
        }
        (false, _) => {}
    }
    if let Some(at) = result.as_of {
        out!(
            "\nTimeliness per direction, recomputed from the logs as of {at} (the latest receipt; pauses for clarification excluded):"
        );
        print_table(&result.figures);
    }
}
