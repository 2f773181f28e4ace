//! `detente indicators`: import STIX 2.1/2.0 bundles, MISP events and MISP feeds into the
//! node's database; list, show and export what it holds (exports are TLP-filtered for the
//! audience they are made for).
//!
//! Import streams: a parser thread reads one file at a time in constant memory
//! ([`Importer`]) and hands batches of validated objects over a bounded channel to the writer,
//! which stores each batch in one transaction. So parsing and SQLite writing overlap on two
//! cores, and memory stays bounded by the channel, whatever the file size.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufWriter, Read, Write},
    ops::ControlFlow,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use detente_domain::Agreement;
use detente_protocol::PartyId;
use detente_server::{
    config::{CONFIG_FILE, NodeConfig, TaxiiUser},
    indicators::{Audience, read_as},
    taxii_pull,
};
use detente_stix::{
    BundleWriter, FileReport, ImportOptions, Importer, Stix20Policy, StixId, StixObject, Timestamp,
    misp::Manifest, tlp,
};
use detente_store::{Collection, ObjectQuery, ShareContext, StixImport, StixRow, Store, Versions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tokio::sync::mpsc::error::TryRecvError;

use crate::client::CliError;
use crate::home::{agreement_if_any, open_store};
use crate::term::{self, out};

/// Objects per batch from the parser to the writer: three batches at most are in memory.
const BATCH: usize = 20_000;
/// Objects per write transaction, at most. Each commit rewrites every page of the store's key
/// index that its objects touched, and random ids touch pages all over it, so the more
/// objects share a commit the less index is written per object (at 1M stored, 20,000 objects
/// touch nearly every page, 100,000 the same pages once for five times the objects), while a
/// transaction still holds the node's writer for about a second.
const TRANSACTION: usize = 100_000;
/// Objects per page when listing or exporting.
const PAGE: usize = 5_000;

/// Subcommands of `detente indicators`.
#[derive(Subcommand)]
pub enum IndicatorsCommand {
    /// Import STIX bundles (2.1, or 2.0 converted), MISP events and MISP feeds from files,
    /// folders (every `.json` inside; a folder with `manifest.json` is a MISP feed) or `-`.
    Import(ImportArgs),
    /// List stored indicators and other STIX objects, newest version of each.
    List(ListArgs),
    /// Print one object (its newest version, or every version with --all-versions).
    Show {
        /// The STIX id, e.g. `indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`.
        id: String,
        /// Print every stored version.
        #[arg(long)]
        all_versions: bool,
    },
    /// Write a STIX 2.1 bundle of what an audience may see under TLP.
    Export(ExportArgs),
    /// List the TAXII collections this node serves.
    Collections,
    /// Create (or update) a TAXII collection.
    CollectionAdd(CollectionArgs),
    /// Add a TAXII user (HTTP Basic) who reads for a partner party; prints the password once.
    UserAdd {
        /// The user name.
        name: String,
        /// The partner party the user reads for (TLP treats the user as that party): a party
        /// of the agreement other than this node's own.
        #[arg(long)]
        party: PartyId,
    },
    /// Pull the partner collections of `[[indicators.pull]]` now (the node also pulls them
    /// every `indicators.pull_every_secs`).
    Pull {
        /// Only the collections served by this party.
        #[arg(long)]
        party: Option<PartyId>,
    },
}

/// Options of `detente indicators collection-add`.
#[derive(Args)]
pub struct CollectionArgs {
    /// Its title.
    #[arg(long)]
    pub title: String,
    /// What it holds.
    #[arg(long)]
    pub description: Option<String>,
    /// The partner party it serves (default: the whole agreement community).
    #[arg(long)]
    pub audience: Option<PartyId>,
    /// Let TAXII clients add objects to it.
    #[arg(long)]
    pub writable: bool,
    /// Its id (default: a new UUID).
    #[arg(long)]
    pub id: Option<uuid::Uuid>,
}

/// Options of `detente indicators import`.
#[derive(Args)]
pub struct ImportArgs {
    /// Files, folders, or `-` for standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Add the objects to this TAXII collection.
    #[arg(long)]
    pub collection: Option<String>,
    /// The partner organisation these objects are shared with (TLP:AMBER reaches it).
    #[arg(long)]
    pub audience: Option<PartyId>,
    /// Parties named as recipients (TLP:RED and AMBER+STRICT reach only them).
    #[arg(long = "recipient")]
    pub recipients: Vec<PartyId>,
    /// Reject STIX 2.0 content instead of converting it to 2.1.
    #[arg(long)]
    pub reject_stix20: bool,
}

/// Options of `detente indicators list`.
#[derive(Args)]
pub struct ListArgs {
    /// Only objects of this type (repeatable).
    #[arg(long = "type")]
    pub types: Vec<String>,
    /// At most this many per page (1 to 5000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=5000))]
    pub limit: u16,
    /// Go on where the last page stopped: the `--next` value it printed.
    #[arg(long)]
    pub next: Option<i64>,
}

/// Options of `detente indicators export`.
#[derive(Args)]
pub struct ExportArgs {
    /// Where to write the bundle (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Export what this partner party may see (default: this node's own users).
    #[arg(long = "for", conflicts_with = "public")]
    pub for_party: Option<PartyId>,
    /// Export only TLP:CLEAR, for anyone.
    #[arg(long)]
    pub public: bool,
    /// Only this collection.
    #[arg(long)]
    pub collection: Option<String>,
    /// Only objects of this type (repeatable).
    #[arg(long = "type")]
    pub types: Vec<String>,
}

/// The node home's configuration, agreement and database.
struct Node {
    config: NodeConfig,
    /// `None` until the operator has written the agreement (imports need none).
    agreement: Option<Agreement>,
    store: Store,
}

impl Node {
    async fn open(home: &Path, database: Option<&str>) -> anyhow::Result<Self> {
        let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
        let agreement = agreement_if_any(home, &config)?;
        let store = open_store(home, database, &config).await?;
        Ok(Self {
            config,
            agreement,
            store,
        })
    }
}

/// Runs one `detente indicators` subcommand.
pub async fn run(
    home: &Path,
    database: Option<&str>,
    cmd: IndicatorsCommand,
    json: bool,
) -> anyhow::Result<()> {
    if let IndicatorsCommand::UserAdd { name, party } = &cmd {
        return user_add(home, name, party);
    }
    let node = Node::open(home, database).await?;
    match cmd {
        IndicatorsCommand::Import(args) => import(&node, args, json).await,
        IndicatorsCommand::List(args) => list(&node, &args, json).await,
        IndicatorsCommand::Show { id, all_versions } => show(&node, &id, all_versions).await,
        IndicatorsCommand::Export(args) => export(&node, &args).await,
        IndicatorsCommand::Collections => collections(&node, json).await,
        IndicatorsCommand::CollectionAdd(args) => {
            let c = Collection {
                id: args.id.unwrap_or_else(uuid::Uuid::new_v4).to_string(),
                title: args.title,
                description: args.description,
                audience: args.audience.map(|p| p.to_string()),
                can_write: args.writable,
            };
            node.store.put_collection(&c).await?;
            out!("{}", c.id);
            Ok(())
        }
        IndicatorsCommand::Pull { party } => pull(home, &node, party.as_ref(), json).await,
        IndicatorsCommand::UserAdd { .. } => unreachable!("handled before the database opens"),
    }
}

/// One input: a file, standard input, or one event file of a MISP feed.
enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".into(),
        }
    }
}

/// Expands the command line into sources, in a stable order.
fn sources(paths: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Source::Stdin);
        } else if p.is_dir() {
            folder(p, &mut out)?;
        } else {
            out.push(Source::File(p.clone()));
        }
    }
    Ok(out)
}

/// A MISP feed's event files (from its manifest), or every `.json` file below `dir`.
fn folder(dir: &Path, out: &mut Vec<Source>) -> anyhow::Result<()> {
    let manifest = dir.join("manifest.json");
    if manifest.is_file() {
        let bytes =
            std::fs::read(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
        let manifest = Manifest::parse(&bytes)
            .map_err(|e| CliError::BadInput(format!("{}: {e}", dir.display())))?;
        out.extend(
            manifest
                .events
                .iter()
                .map(|e| Source::File(dir.join(e.file_name()))),
        );
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the folder {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            folder(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(Source::File(p));
        }
    }
    Ok(())
}

/// What the parser thread sends the writer.
enum Parsed {
    Batch(Vec<StixRow>),
    Done(String, Result<FileReport, String>),
}

/// One file's outcome, as printed.
#[derive(Debug, Default, serde::Serialize)]
struct FileSummary {
    file: String,
    format: Option<String>,
    read: u64,
    accepted: u64,
    duplicates_in_import: u64,
    stored: u64,
    already_stored: u64,
    /// Stored as TLP:RED because a marking resolved to no known definition.
    unresolved_markings: u64,
    converted_from_2_0: u64,
    rejected: u64,
    misp_events: u64,
    by_type: BTreeMap<String, u64>,
    misp_unmapped: BTreeMap<String, u64>,
    rejections: Vec<Value>,
    error: Option<String>,
}

async fn import(node: &Node, args: ImportArgs, json: bool) -> anyhow::Result<()> {
    let sources = sources(&args.paths)?;
    let share = ShareContext {
        origin: node.config.party.to_string(),
        audience: args.audience.as_ref().map(ToString::to_string),
        recipients: args.recipients.iter().map(ToString::to_string).collect(),
    };
    if let Some(c) = &args.collection
        && node.store.collection(c).await?.is_none()
    {
        return Err(CliError::BadInput(format!(
            "no collection {c}: see `detente indicators collections`, or make one with `detente indicators collection-add`"
        ))
        .into());
    }
    let options = ImportOptions {
        stix_2_0: if args.reject_stix20 {
            Stix20Policy::Reject
        } else {
            Stix20Policy::Convert
        },
        // The store dedupes by id and version exactly (and counts what it skips), so the
        // parser need not remember every version it has read.
        dedupe: false,
        ..ImportOptions::default()
    };
    let show_progress = !json;
    // One batch waiting: the parser fills the next while the writer stores the last, and
    // memory holds at most three batches whatever the file size.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(1);
    let parser =
        tokio::task::spawn_blocking(move || parse_all(sources, options, show_progress, tx));
    let started = Instant::now();
    let mut files = Vec::new();
    let mut current = FileSummary::default();
    let mut open: Option<StixImport> = None;
    loop {
        // Commit before waiting for the parser, never while waiting: the node's writer is
        // held only while batches are ready to store.
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(TryRecvError::Empty) => {
                commit(open.take()).await?;
                match rx.recv().await {
                    Some(msg) => msg,
                    None => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match msg {
            Parsed::Batch(mut batch) => {
                let import = match &mut open {
                    Some(open) => open,
                    None => open.insert(
                        node.store
                            .begin_stix(&share, args.collection.as_deref(), now_micros())
                            .await?,
                    ),
                };
                let c = import
                    .add(&mut batch)
                    .await
                    .context("storing the objects")?;
                current.stored += c.inserted;
                current.already_stored += c.duplicates;
                current.unresolved_markings += c.unresolved_markings;
                if import.rows() >= TRANSACTION {
                    commit(open.take()).await?;
                }
            }
            Parsed::Done(file, result) => {
                let mut s = std::mem::take(&mut current);
                s.file = file;
                match result {
                    Ok(r) => s.fill(r),
                    Err(e) => s.error = Some(e),
                }
                files.push(s);
            }
        }
    }
    commit(open).await?;
    parser.await.context("the parser thread failed")?;
    let secs = started.elapsed().as_secs_f64();
    let total = |f: fn(&FileSummary) -> u64| files.iter().map(f).sum::<u64>();
    let failed = files.iter().filter(|f| f.error.is_some()).count();
    if json {
        let summary = json!({
            "files": files,
            "read": total(|f| f.read),
            "stored": total(|f| f.stored),
            "duplicates": total(|f| f.duplicates_in_import + f.already_stored),
            "rejected": total(|f| f.rejected),
            "failed_files": failed,
            "seconds": secs,
        });
        out!("{}", crate::term::json(&summary));
    } else {
        print_import(&files, secs);
    }
    if failed > 0 {
        return Err(CliError::BadInput(format!(
            "{failed} of {} files could not be read to the end (objects before the fault were kept)",
            files.len()
        ))
        .into());
    }
    Ok(())
}

/// Commits the import's open transaction, if any.
async fn commit(open: Option<StixImport>) -> anyhow::Result<()> {
    if let Some(import) = open {
        import.commit().await.context("storing the objects")?;
    }
    Ok(())
}

impl FileSummary {
    fn fill(&mut self, r: FileReport) {
        self.format = r.format.map(|f| format!("{f:?}"));
        self.read = r.read;
        self.accepted = r.accepted;
        self.duplicates_in_import = r.duplicates;
        self.converted_from_2_0 = r.converted_from_2_0;
        self.rejected = r.rejected;
        self.misp_events = r.misp_events;
        self.by_type = r.by_type;
        self.misp_unmapped = r.misp_unmapped;
        self.rejections = r
            .rejections
            .iter()
            .map(|x| {
                json!({"index": x.index, "id": x.id, "type": x.object_type, "reason": x.reason.to_string()})
            })
            .collect();
    }
}

/// The parser thread: every source in turn, batches to the writer, a report per file.
fn parse_all(
    sources: Vec<Source>,
    options: ImportOptions,
    show_progress: bool,
    tx: tokio::sync::mpsc::Sender<Parsed>,
) {
    let mut importer = Importer::new(options);
    for source in sources {
        let name = source.name();
        let (reader, bar): (Box<dyn Read>, ProgressBar) = match &source {
            Source::Stdin => (
                Box::new(std::io::stdin().lock()),
                ProgressBar::new_spinner(),
            ),
            Source::File(p) => match File::open(p) {
                Ok(f) => {
                    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
                    (Box::new(f), ProgressBar::new(len))
                }
                Err(e) => {
                    let err = format!("cannot open: {e}");
                    if tx.blocking_send(Parsed::Done(name, Err(err))).is_err() {
                        return;
                    }
                    continue;
                }
            },
        };
        if !show_progress {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar.set_message(name.clone());
        let mut batch = Vec::with_capacity(BATCH);
        let mut writer_gone = false;
        let result = importer.read(bar.wrap_read(reader), |obj| {
            // Serialised here, on the parser's core, while the writer stores the last batch.
            batch.push(StixRow::of(&obj));
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.blocking_send(Parsed::Batch(full)).is_err() {
                    writer_gone = true;
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        bar.finish_and_clear();
        if writer_gone
            || (!batch.is_empty() && tx.blocking_send(Parsed::Batch(batch)).is_err())
            || tx
                .blocking_send(Parsed::Done(name, result.map_err(|e| e.to_string())))
                .is_err()
        {
            return;
        }
    }
}

fn print_import(files: &[FileSummary], secs: f64) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header([
        "file",
        "read",
        "stored",
        "duplicates",
        "rejected",
        "from 2.0",
    ]);
    for f in files {
        t.add_row([
            f.file.clone(),
            f.read.to_string(),
            f.stored.to_string(),
            (f.duplicates_in_import + f.already_stored).to_string(),
            f.rejected.to_string(),
            f.converted_from_2_0.to_string(),
        ]);
    }
    out!("{t}");
    for f in files {
        if let Some(e) = &f.error {
            out!("{}: stopped: {}", f.file, term::one_line(&e.to_string()));
        }
        for r in &f.rejections {
            out!(
                "{}: rejected object #{} ({}): {}",
                f.file,
                r["index"],
                term::one_line(r["id"].as_str().or(r["type"].as_str()).unwrap_or("no id")),
                term::one_line(r["reason"].as_str().unwrap_or_default())
            );
        }
        let kept = f.rejections.len() as u64;
        if f.rejected > kept {
            out!(
                "{}: {} more rejections (see --json)",
                f.file,
                f.rejected - kept
            );
        }
        for (what, n) in &f.misp_unmapped {
            out!("{}: {n} MISP attributes not mapped ({what})", f.file);
        }
        if f.unresolved_markings > 0 {
            out!(
                "{}: {} objects carry a marking that no definition in the import or stored \
                 before resolves: stored as TLP:RED (import the marking definitions first to \
                 have them read)",
                f.file,
                f.unresolved_markings
            );
        }
    }
    let read: u64 = files.iter().map(|f| f.read).sum();
    out!(
        "{read} objects read in {secs:.2}s ({:.0}/s)",
        read as f64 / secs.max(1e-9)
    );
}

/// One page, oldest first, of the newest version of each object; the page says where the
/// next one starts (a keyset cursor: the store's position, which this node's own users may
/// know), so `--next` walks everything, however much is stored.
async fn list(node: &Node, args: &ListArgs, json: bool) -> anyhow::Result<()> {
    let audience = Audience::Local;
    let who = read_as(&node.config, node.agreement.as_ref(), &audience);
    let q = ObjectQuery {
        types: args.types.clone(),
        limit: usize::from(args.limit),
        after: args.next,
        ..ObjectQuery::default()
    };
    let page = node.store.stix_objects(&q, &who).await?;
    if json {
        let rows: Vec<Value> = page
            .objects
            .iter()
            .map(|o| {
                json!({"id": o.id, "type": o.object_type, "modified": o.modified,
                       "tlp": o.tlp, "date_added": date_added(o.date_added)})
            })
            .collect();
        let out = json!({"objects": rows, "next": page.next});
        out!("{}", crate::term::json(&out));
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["id", "type", "modified", "TLP", "added"]);
    for o in &page.objects {
        t.add_row([
            term::one_line(&o.id),
            term::one_line(&o.object_type),
            term::one_line(o.modified.as_deref().unwrap_or_default()),
            o.tlp.map_or("(default)", |l| l.label()).to_owned(),
            date_added(o.date_added),
        ]);
    }
    out!("{t}");
    match page.next {
        Some(n) => {
            let types: String = args.types.iter().map(|t| format!(" --type {t}")).collect();
            out!(
                "{} shown; more follow: detente indicators list{types} --limit {} --next {n}",
                page.objects.len(),
                args.limit
            );
        }
        None => out!("{} shown; no more.", page.objects.len()),
    }
    Ok(())
}

async fn show(node: &Node, id: &str, all_versions: bool) -> anyhow::Result<()> {
    let audience = Audience::Local;
    let who = read_as(&node.config, node.agreement.as_ref(), &audience);
    let q = ObjectQuery {
        ids: vec![id.to_owned()],
        versions: if all_versions {
            Versions::All
        } else {
            Versions::Last
        },
        limit: 1000,
        ..ObjectQuery::default()
    };
    let page = node.store.stix_objects(&q, &who).await?;
    if page.objects.is_empty() {
        return Err(CliError::Api {
            code: detente_api::ErrorCode::NotFound,
            message: format!("no object {id} that you may read"),
        }
        .into());
    }
    for o in &page.objects {
        let v: Value = serde_json::from_str(&o.body).context("reading the stored object")?;
        out!("{}", crate::term::json(&v));
    }
    Ok(())
}

async fn export(node: &Node, args: &ExportArgs) -> anyhow::Result<()> {
    let audience = match (&args.for_party, args.public) {
        (Some(p), _) => Audience::Party(p.clone()),
        (None, true) => Audience::Anyone,
        (None, false) => Audience::Local,
    };
    let who = read_as(&node.config, node.agreement.as_ref(), &audience);
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let id = StixId::new("bundle", uuid::Uuid::new_v4()).expect("bundle is a valid STIX type");
    let mut w = BundleWriter::new(BufWriter::new(out), &id)?;
    // The published TLP marking definitions go first, so the bundle is self-contained.
    for level in [
        tlp::Tlp::Clear,
        tlp::Tlp::Green,
        tlp::Tlp::Amber,
        tlp::Tlp::AmberStrict,
        tlp::Tlp::Red,
    ] {
        w.write(&StixObject::MarkingDefinition(Box::new(
            tlp::marking_definition(level),
        )))?;
    }
    let mut q = ObjectQuery {
        collection: args.collection.clone(),
        types: args.types.clone(),
        versions: Versions::All,
        limit: PAGE,
        ..ObjectQuery::default()
    };
    loop {
        let page = node.store.stix_objects(&q, &who).await?;
        for o in &page.objects {
            // The TLP definitions are already in; a stored copy of one would repeat it.
            if tlp::tlp_of_marking_id(&o.id).is_some() {
                continue;
            }
            let v: Value = serde_json::from_str(&o.body).context("reading a stored object")?;
            w.write_serialize(&v)?;
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    let written = w.written();
    w.finish()?;
    eprintln!("exported {written} objects");
    Ok(())
}

fn user_add(home: &Path, name: &str, party: &PartyId) -> anyhow::Result<()> {
    let mut config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    // A TAXII user reads as its party. Reading as this node's own party would make it a
    // named recipient of everything the node holds (RED included); a party outside the
    // agreement has no standing to read for.
    if party == &config.party {
        return Err(CliError::BadInput(format!(
            "{party} is this node's own party: a TAXII user reads for a partner party; this \
             node's own people use its API token"
        ))
        .into());
    }
    let Some(agreement) = agreement_if_any(home, &config)? else {
        return Err(CliError::BadInput(
            "this node has no agreement yet: write it first, so that the TAXII user's party \
             can be checked against it"
                .into(),
        )
        .into());
    };
    if agreement.party(party).is_none() {
        let partners: Vec<String> = agreement
            .parties
            .iter()
            .filter(|p| p.id != config.party)
            .map(|p| p.id.to_string())
            .collect();
        return Err(CliError::BadInput(format!(
            "{party} is not a party to agreement {}: a TAXII user reads for one of {}",
            agreement.id,
            partners.join(", ")
        ))
        .into());
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).context("reading the system's random source")?;
    let password = hex::encode(secret);
    config.indicators.taxii_users.insert(
        name.to_owned(),
        TaxiiUser {
            party: party.clone(),
            password_sha256: detente_server::token_hash(&password),
        },
    );
    let path = home.join(CONFIG_FILE);
    std::fs::write(&path, config.to_toml())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "TAXII user {name} reads for {party}; restart the node to apply. Password (shown once):"
    );
    out!("{password}");
    Ok(())
}

async fn pull(home: &Path, node: &Node, party: Option<&PartyId>, json: bool) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for source in &node.config.indicators.pull {
        if party.is_some_and(|p| p != &source.party) {
            continue;
        }
        let r = taxii_pull::pull(&node.store, home, &node.config, source, now_micros())
            .await
            .with_context(|| format!("pulling {} from {}", source.collection, source.party))?;
        results.push(json!({
            "party": source.party.to_string(), "collection": source.collection,
            "pages": r.pages, "received": r.received, "stored": r.stored,
            "duplicates": r.duplicates, "rejected": r.rejected, "added_after": r.added_after,
        }));
    }
    if results.is_empty() {
        return Err(CliError::BadInput(
            "no matching [[indicators.pull]] source in detente.toml".into(),
        )
        .into());
    }
    if json {
        out!("{}", crate::term::json(&results));
    } else {
        for r in &results {
            out!(
                "{} {}: {} received, {} new, {} already held, {} rejected; bookmark {}",
                term::one_line(r["party"].as_str().unwrap_or_default()),
                term::one_line(r["collection"].as_str().unwrap_or_default()),
                r["received"],
                r["stored"],
                r["duplicates"],
                r["rejected"].as_array().map_or(0, Vec::len),
                term::one_line(r["added_after"].as_str().unwrap_or("(none)"))
            );
        }
    }
    Ok(())
}

async fn collections(node: &Node, json: bool) -> anyhow::Result<()> {
    let all = node.store.collections().await?;
    if json {
        let rows: Vec<Value> = all
            .iter()
            .map(|c| {
                json!({"id": c.id, "title": c.title, "description": c.description,
                       "audience": c.audience, "can_write": c.can_write})
            })
            .collect();
        out!("{}", crate::term::json(&rows));
        return Ok(());
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(["id", "title", "audience", "writable"]);
    for c in &all {
        t.add_row([
            term::one_line(&c.id),
            term::one_line(&c.title),
            c.audience.clone().unwrap_or_else(|| "community".into()),
            c.can_write.to_string(),
        ]);
    }
    out!("{t}");
    Ok(())
}

fn date_added(us: i64) -> String {
    Timestamp::from_unix_micros(us).map_or_else(|| us.to_string(), |t| t.to_string())
}

fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
    i64::try_from(now).expect("the clock is within ±292,000 years")
}
