//! `detente match`: find the hosts in our networks that touch a partner's indicators, tell
//! their owners, and (on a node) report back in the case.
//!
//! Indicators come from lists outside a node (plain, LOKI, maltrail folders, STIX bundles,
//! MISP events) or from a case on the node (`--case`: the observables and STIX indicators its
//! messages carry). The matching itself is the pure `detente-match` engine; this module is the
//! glue: loading, a progress bar, writing results, and the answer to the partner.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write as _};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use detente_api::CaseDetail;
use detente_match::{
    Candidate, DomainScope, EventTime, HitSink, Index, IndexBuilder, IndicatorMeta, IndicatorValue,
    OwnerReports, OwnerTable, RunOptions, RunReport, Sightings,
    input::{CsvMapping, Format, Input},
    load::{self, ListFormat, ListReport, Target},
};
use detente_protocol::{AnswerBody, Body, ObservableType, PartyId};
use detente_stix::{ImportOptions, Importer, Pattern, StixObject, pattern::ObservableKind};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::{Value, json};

use crate::client::{Api, ApiArgs, CliError};
use crate::home::{agreement_if_any, open_store};
use crate::term::{self, out};
use detente_server::{
    config::NodeConfig,
    indicators::{Audience, read_as},
};
use detente_store::ObjectQuery;

/// Options of `detente match`.
#[derive(Args)]
pub struct MatchArgs {
    /// Logs to read: Zeek conn/dns/http (TSV or JSON lines), CSV (with --csv-columns) or plain
    /// lines; gzip and zstd are read transparently; `-` is standard input.
    #[arg(required = true)]
    logs: Vec<PathBuf>,
    /// Indicators: a plain list, a LOKI `value;comment` list, a maltrail `trails` folder or
    /// trail file, a STIX 2.1 (or 2.0) bundle or a MISP event; repeatable.
    #[arg(long = "indicators", required_unless_present_any = ["case", "stored"])]
    indicators: Vec<PathBuf>,
    /// On a node: also match every indicator stored on it (imported, or pulled from partners
    /// over TAXII) that this node's users may read; expired and revoked ones never match.
    #[arg(long)]
    stored: bool,
    /// How the indicator files are written; `auto` decides from the content.
    #[arg(long, value_enum, default_value = "auto")]
    list_format: ListFormatArg,
    /// On a node: also match the indicators shared in this case (its messages' observables
    /// and STIX indicators), e.g. US-2026-0042.
    #[arg(long)]
    case: Option<String>,
    /// Values that never produce a hit (benign scanners, our own resolvers); repeatable.
    #[arg(long = "allow")]
    allow: Vec<PathBuf>,
    /// Owner table: CSV of `cidr,organisation,abuse_contact`.
    #[arg(long)]
    owners: Option<PathBuf>,
    /// How the logs are written.
    #[arg(long, value_enum, default_value = "auto")]
    format: LogFormatArg,
    /// CSV column mapping `column=role,...`, e.g. `start=time,src=src-ip,dst=dst-ip,dport=dst-port`.
    #[arg(long, required_if_eq("format", "csv"))]
    csv_columns: Option<String>,
    /// TLP of indicators from lists, which carry none.
    #[arg(long, default_value = "amber", value_parser = crate::input::TLP)]
    tlp: detente_protocol::Tlp,
    /// Worker threads; 0 means one per core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Folder for the results (report, sightings bundle, per-owner notifications). With
    /// --case it defaults to `matches/<case>-<time>` in the node home.
    #[arg(long)]
    out: Option<PathBuf>,
    /// With --case: send the findings to the partner as an answer in the case.
    #[arg(long, requires = "case")]
    answer: bool,
    /// With --answer: make it the final answer.
    #[arg(long = "final", requires = "answer")]
    is_final: bool,
    /// With --answer: what was done, added to the answer's summary of the findings.
    #[arg(long, requires = "answer")]
    note: Option<String>,
    #[command(flatten)]
    api: ApiArgs,
}

/// Spelling of [`ListFormat`] on the command line, plus the formats only this command reads.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormatArg {
    Auto,
    Plain,
    Loki,
    Maltrail,
    Stix,
}

/// Spelling of [`Format`] on the command line.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormatArg {
    Auto,
    Zeek,
    ZeekJson,
    Csv,
    Plain,
}

/// What loading one indicator source did.
#[derive(Debug, Serialize)]
pub(crate) struct SourceReport {
    name: String,
    format: &'static str,
    pub(crate) added: usize,
    expired: usize,
    rejected: usize,
    /// STIX indicators whose pattern asks for more than one value (`AND`, qualifiers): their
    /// values are indexed as partial, so a hit is a candidate and never a sighting.
    partial: usize,
    /// STIX indicators whose pattern tests nothing the matcher can look up (only `LIKE`,
    /// `MATCHES`, `!=`, or properties without values): not matched at all.
    unsupported: usize,
    /// The first rejections and unsupported indicators: where and why.
    errors: Vec<String>,
}

/// Rejections kept per source; the rest are only counted.
const MAX_ERRORS: usize = 100;

impl SourceReport {
    fn new(name: String, format: &'static str) -> Self {
        Self {
            name,
            format,
            added: 0,
            expired: 0,
            rejected: 0,
            partial: 0,
            unsupported: 0,
            errors: Vec::new(),
        }
    }

    fn reject(&mut self, why: String) {
        self.rejected += 1;
        self.note(why);
    }

    fn note(&mut self, why: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(why);
        }
    }

    fn add(&mut self, builder: &mut IndexBuilder, value: IndicatorValue, meta: &IndicatorMeta) {
        match builder.add(value, meta) {
            Ok(detente_match::Added::Indexed(_)) => self.added += 1,
            Ok(detente_match::Added::Expired) => self.expired += 1,
            Err(e) => self.reject(format!("{}: {e}", meta.label)),
        }
    }

    fn from_list(r: ListReport, format: &'static str) -> Self {
        Self {
            name: r.name,
            format,
            added: r.added,
            expired: r.expired,
            rejected: r.rejected,
            partial: 0,
            unsupported: 0,
            errors: r
                .errors
                .into_iter()
                .map(|(line, why)| format!("line {line}: {why}"))
                .collect(),
        }
    }
}

/// Runs `detente match`.
pub async fn run(
    home: &Path,
    database: Option<&str>,
    args: MatchArgs,
    json_out: bool,
) -> anyhow::Result<()> {
    let now = EventTime::from_datetime(time::OffsetDateTime::now_utc());
    let mut builder = IndexBuilder::new(now);
    let mut sources = Vec::new();
    for path in &args.indicators {
        sources.extend(load_source(
            &mut builder,
            path,
            args.list_format,
            args.tlp.label(),
        )?);
    }
    if args.stored {
        sources.push(load_stored(&mut builder, home, database).await?);
    }
    let case = match &args.case {
        Some(case) => {
            let api = Api::from_home(home, &args.api)?;
            let shown: CaseDetail = api.get(&format!("/api/v1/cases/{case}")).await?;
            sources.push(load_case(&mut builder, case, &shown));
            Some((api, case.clone(), shown))
        }
        None => None,
    };
    for path in &args.allow {
        let reader = open_list(path)?;
        let label = format!("allow:{}", path.display());
        load::load_list(
            &mut builder,
            reader,
            &path.display().to_string(),
            ListFormat::Plain,
            Target::Allow(&label),
        )
        .with_context(|| format!("reading the allow-list {}", path.display()))?;
    }
    let index = builder.build();
    if index.is_empty() {
        anyhow::bail!(
            "no valid, unexpired indicator to match ({} source(s) read); see the rejections with --json",
            sources.len()
        );
    }
    let owners = match &args.owners {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            let (table, errors) = OwnerTable::parse_csv(BufReader::new(file));
            for e in errors.iter().take(MAX_ERRORS) {
                eprintln!("warning: {}: {e}", path.display());
            }
            Some(table)
        }
        None => None,
    };

    let out = match (&args.out, &case) {
        (Some(out), _) => Some(out.clone()),
        (None, Some((_, case, _))) => Some(
            home.join("matches")
                .join(format!("{case}-{}", now.to_datetime().unix_timestamp())),
        ),
        (None, None) => None,
    };
    let format = log_format(args.format, args.csv_columns.as_deref())?;
    let (inputs, progress) = open_logs(&args.logs, &format)?;
    let mut hits_file = match &out {
        Some(out) => Some(HitsFile::create(
            out,
            &index,
            inputs.iter().map(|i| i.name.clone()).collect(),
        )?),
        None => None,
    };
    let options = RunOptions {
        threads: args.threads,
        ..RunOptions::default()
    };
    let mut sightings = Sightings::default();
    let mut by_owner = owners.as_ref().map(|o| OwnerReports::new(o, &index));
    // The engine runs on its own threads; the async runtime must not be blocked meanwhile.
    let report = tokio::task::block_in_place(|| {
        let mut sink = Tee(&mut sightings, by_owner.as_mut(), hits_file.as_mut());
        detente_match::run(&index, inputs, &options, &mut sink)
    });
    progress.finish_and_clear();
    if let Some(hits) = hits_file {
        hits.finish()?;
    }

    let names: Vec<String> = report.inputs.iter().map(|i| i.name.clone()).collect();
    let stix = sightings.to_stix(&index, owners.as_ref(), now, &names);
    let candidates = sightings.candidates(&index);
    let owner_reports = by_owner
        .as_ref()
        .map(OwnerReports::reports)
        .unwrap_or_default();
    let damage = damage_summary(&report);
    let result = json!({
        "complete": damage.is_none(),
        "index": index.stats(),
        "sources": sources,
        "run": report,
        "sightings": stix,
        "candidates": candidates,
        "owners": owner_reports,
        "unowned_hits": by_owner.as_ref().map(OwnerReports::unowned_hits),
    });

    if let Some(out) = &out {
        let written = Results {
            result: &result,
            sightings: &stix,
            owner_reports: &owner_reports,
            owners: owners.as_ref(),
            damage: damage.as_deref(),
        };
        write_results(out, &written)?;
    }
    if json_out {
        out!("{}", crate::term::json(&result));
    } else {
        print_summary(
            &index,
            &sources,
            &report,
            &stix,
            &candidates,
            &owner_reports,
        );
        if let Some(out) = &out {
            out!("Results written to {}", out.display());
        }
    }
    if let (true, Some((api, case, shown))) = (args.answer, &case) {
        if let (true, Some(damage)) = (args.is_final, &damage) {
            return Err(CliError::BadInput(format!(
                "no final answer was sent in {case}: {damage}. Repair or replace the damaged logs and run again, or answer without --final (the answer then says what could not be read)"
            ))
            .into());
        }
        let coverage = Coverage::of(&sources, &candidates, damage.as_deref());
        let body = answer_body(
            &report,
            &stix,
            shown,
            args.is_final,
            args.note.as_deref(),
            &coverage,
        )?;
        let sent: detente_api::Sent = api
            .post(&format!("/api/v1/cases/{case}/messages"), &body)
            .await?;
        if !json_out {
            out!(
                "Answer {} sent in {case} with {} sighting(s).",
                sent.message,
                stix.len()
            );
        }
    }
    match damage {
        Some(damage) => Err(CliError::BadInput(format!(
            "{damage}; the lines before the damage were matched, and the results say the run is incomplete"
        ))
        .into()),
        None => Ok(()),
    }
}

/// One sentence naming the logs that could not be read to their end, or `None` when every
/// log was.
fn damage_summary(report: &RunReport) -> Option<String> {
    let damaged: Vec<String> = report
        .incomplete()
        .map(|i| i.error.clone().unwrap_or_else(|| i.name.clone()))
        .collect();
    if damaged.is_empty() {
        return None;
    }
    Some(format!(
        "{} of {} log(s) could not be read to the end ({})",
        damaged.len(),
        report.inputs.len(),
        damaged.join("; ")
    ))
}

/// Feeds each hit to the sightings and, where asked for, to the per-owner aggregation and
/// the hits file.
struct Tee<'a, 'o, 'i>(
    &'a mut Sightings,
    Option<&'a mut OwnerReports<'o>>,
    Option<&'a mut HitsFile<'i>>,
);

impl HitSink for Tee<'_, '_, '_> {
    fn hit(&mut self, hit: &detente_match::Hit) {
        self.0.hit(hit);
        if let Some(o) = self.1.as_mut() {
            o.hit(hit);
        }
        if let Some(f) = self.2.as_mut() {
            f.hit(hit);
        }
    }
}

/// `hits.jsonl`: every hit, one JSON object per line, in input order, so an analyst can go
/// from a sighting to the log lines behind it.
struct HitsFile<'i> {
    path: PathBuf,
    out: std::io::BufWriter<File>,
    index: &'i Index,
    inputs: Vec<String>,
    /// The first write error; the sink cannot return one, so it is reported at the end.
    error: Option<std::io::Error>,
}

impl<'i> HitsFile<'i> {
    fn create(dir: &Path, index: &'i Index, inputs: Vec<String>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join("hits.jsonl");
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self {
            path,
            out: std::io::BufWriter::new(file),
            index,
            inputs,
            error: None,
        })
    }

    fn hit(&mut self, hit: &detente_match::Hit) {
        if self.error.is_some() {
            return;
        }
        let line = json!({
            "log": self.inputs.get(hit.input),
            "line": hit.line,
            "field": hit.field,
            "value": hit.value,
            "time": hit.time,
            "hosts": hit.hosts,
            "indicators": hit
                .indicators
                .iter()
                .filter(|&&id| !self.index.is_partial(id))
                .map(|&id| self.index.indicator(id).label)
                .collect::<Vec<_>>(),
            // Indicators that asked for more than this value: a candidate, not a sighting.
            "partial_indicators": hit
                .indicators
                .iter()
                .filter(|&&id| self.index.is_partial(id))
                .map(|&id| self.index.indicator(id).label)
                .collect::<Vec<_>>(),
        });
        if let Err(e) = serde_json::to_writer(&mut self.out, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
        {
            self.error = Some(e);
        }
    }

    fn finish(mut self) -> anyhow::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e).with_context(|| format!("writing {}", self.path.display()));
        }
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

fn open_list(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = detente_match::input::decompress(file)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Box::new(BufReader::new(reader)))
}

/// What an indicator file is, from its first bytes: a folder is a maltrail `trails` folder;
/// JSON means STIX or MISP; otherwise [`load::guess_list_format`] tells a maltrail trail
/// file, a LOKI list and a plain list apart.
fn sniff(path: &Path) -> anyhow::Result<ListFormatArg> {
    if path.is_dir() {
        return Ok(ListFormatArg::Maltrail);
    }
    let mut head = Vec::new();
    open_list(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {}", path.display()))?;
    if head.trim_ascii_start().starts_with(b"{") || head.trim_ascii_start().starts_with(b"[") {
        return Ok(ListFormatArg::Stix);
    }
    Ok(match load::guess_list_format(&head) {
        ListFormat::Maltrail => ListFormatArg::Maltrail,
        ListFormat::Loki => ListFormatArg::Loki,
        ListFormat::Plain => ListFormatArg::Plain,
    })
}

fn load_source(
    builder: &mut IndexBuilder,
    path: &Path,
    format: ListFormatArg,
    tlp: &str,
) -> anyhow::Result<Vec<SourceReport>> {
    let format = match format {
        ListFormatArg::Auto => sniff(path)?,
        f => f,
    };
    let name = path.display().to_string();
    let meta = IndicatorMeta::new(name.clone(), tlp);
    let read = |e| anyhow::Error::new(e).context(format!("reading {name}"));
    Ok(match format {
        ListFormatArg::Maltrail => load::load_maltrail(builder, path, &meta)
            .map_err(read)?
            .into_iter()
            .map(|r| SourceReport::from_list(r, "maltrail"))
            .collect(),
        ListFormatArg::Plain | ListFormatArg::Loki => {
            let (list, label) = if format == ListFormatArg::Loki {
                (ListFormat::Loki, "loki")
            } else {
                (ListFormat::Plain, "plain")
            };
            let report = load::load_list(
                builder,
                open_list(path)?,
                &name,
                list,
                Target::Indicators(&meta),
            )
            .map_err(read)?;
            vec![SourceReport::from_list(report, label)]
        }
        ListFormatArg::Stix => vec![load_stix(builder, path, &name)?],
        ListFormatArg::Auto => unreachable!("resolved by sniff"),
    })
}

/// Loads the indicators of a STIX bundle (2.0 is converted) or MISP event, streaming: each
/// STIX-pattern indicator contributes the observables its pattern tests for equality, with
/// its id as label, its TLP marking and its `valid_until`. Revoked indicators are left out.
fn load_stix(builder: &mut IndexBuilder, path: &Path, name: &str) -> anyhow::Result<SourceReport> {
    let mut source = SourceReport::new(name.to_owned(), "stix");
    let mut importer = Importer::new(ImportOptions::default());
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let reader =
        detente_match::input::decompress(file).with_context(|| format!("reading {name}"))?;
    let report = importer
        .read(reader, |object| {
            if let StixObject::Indicator(ind) = &object {
                add_stix_indicator(builder, &mut source, &object, ind, None);
            }
            ControlFlow::Continue(())
        })
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    for r in report.rejections.iter().take(MAX_ERRORS) {
        source.reject(format!("{r:?}"));
    }
    Ok(source)
}

fn add_stix_indicator(
    builder: &mut IndexBuilder,
    source: &mut SourceReport,
    object: &StixObject,
    ind: &detente_stix::Indicator,
    case: Option<&str>,
) {
    if ind.common.revoked == Some(true) || ind.pattern_type != "stix" {
        return;
    }
    let pattern = match Pattern::parse(&ind.pattern) {
        Ok(p) => p,
        Err(e) => return source.reject(format!("{}: {e}", ind.common.id)),
    };
    let tlp =
        detente_stix::AccessRule::level_of(object.object_marking_refs().iter().map(|m| m.as_str()))
            .map_or("TLP:AMBER", tlp_label);
    let extraction = pattern.observables();
    if extraction.observables.is_empty() {
        source.unsupported += 1;
        source.note(format!(
            "{}: not matched: its pattern tests no value the matcher can look up (only LIKE, MATCHES, != or properties it cannot see in logs)",
            ind.common.id
        ));
        return;
    }
    if !extraction.complete {
        source.partial += 1;
    }
    let meta = IndicatorMeta {
        label: ind.common.id.to_string(),
        case_ref: case.map(str::to_owned),
        tlp: tlp.to_owned(),
        valid_until: ind
            .valid_until
            .as_ref()
            .and_then(|t| EventTime::from_unix_micros(i64::try_from(t.unix_nanos() / 1000).ok()?)),
        // A pattern that asks for more than "any one of these values" (AND, qualifiers,
        // tests we cannot evaluate) is matched one value at a time: such hits are only
        // candidates, never sightings.
        partial: !extraction.complete,
    };
    for o in extraction.observables {
        // Patterns compare exactly: a domain-name in a pattern is that name, not its subdomains.
        let value = match o.kind {
            ObservableKind::DomainName => IndicatorValue::domain(&o.value, DomainScope::Exact),
            ObservableKind::Url => IndicatorValue::url(&o.value),
            _ => IndicatorValue::parse(&o.value),
        };
        match value {
            Ok(v) => source.add(builder, v, &meta),
            Err(e) => source.reject(format!("{}: {e}", ind.common.id)),
        }
    }
}

fn tlp_label(level: detente_stix::Tlp) -> &'static str {
    match level {
        detente_stix::Tlp::Clear => "TLP:CLEAR",
        detente_stix::Tlp::Green => "TLP:GREEN",
        detente_stix::Tlp::Amber => "TLP:AMBER",
        detente_stix::Tlp::AmberStrict => "TLP:AMBER+STRICT",
        detente_stix::Tlp::Red => "TLP:RED",
    }
}

/// Loads the indicators stored on the node in `home`, page by page, as its own users may
/// read them (the TLP rule of every read path).
async fn load_stored(
    builder: &mut IndexBuilder,
    home: &Path,
    database: Option<&str>,
) -> anyhow::Result<SourceReport> {
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    let agreement = agreement_if_any(home, &config)?;
    let store = open_store(home, database, &config).await?;
    let who = read_as(&config, agreement.as_ref(), &Audience::Local);
    let mut source = SourceReport::new("stored indicators".into(), "stix");
    let mut query = ObjectQuery {
        types: vec!["indicator".into()],
        limit: 10_000,
        ..ObjectQuery::default()
    };
    loop {
        let page = store.stix_objects(&query, &who).await?;
        for stored in &page.objects {
            let parsed = serde_json::from_str(&stored.body)
                .map_err(|e| e.to_string())
                .and_then(|v| StixObject::from_value(v).map_err(|e| e.to_string()));
            match parsed {
                Ok(object) => {
                    if let StixObject::Indicator(ind) = &object {
                        add_stix_indicator(builder, &mut source, &object, ind, None);
                    }
                }
                Err(e) => source.reject(format!("{}: {e}", stored.id)),
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    store.close().await;
    Ok(source)
}

/// Loads what a case's messages share: their observables (with the request's TLP) and their
/// STIX indicators (with their own markings).
pub(crate) fn load_case(
    builder: &mut IndexBuilder,
    case: &str,
    shown: &CaseDetail,
) -> SourceReport {
    let mut source = SourceReport::new(format!("case {case}"), "case");
    let tlp = shown.summary.tlp.label();
    for message in &shown.messages {
        // Only requests and answers carry observables and objects.
        let (observables, objects) = match &message.body {
            Body::Request(r) => (&r.observables, &r.objects),
            Body::Answer(a) => (&a.observables, &a.objects),
            _ => continue,
        };
        for o in observables {
            let value = match o.kind {
                // Names shared in a request mean the domain and what is under it.
                ObservableType::Domain => {
                    IndicatorValue::domain(&o.value, DomainScope::WithSubdomains)
                }
                ObservableType::Url => IndicatorValue::url(&o.value),
                ObservableType::Account => continue,
                _ => IndicatorValue::parse(&o.value),
            };
            let meta = IndicatorMeta {
                case_ref: Some(case.to_owned()),
                ..IndicatorMeta::new(format!("{case}:{}", o.value), tlp)
            };
            match value {
                Ok(v) => source.add(builder, v, &meta),
                Err(e) => source.reject(format!("{}: {e}", o.value)),
            }
        }
        for object in objects {
            match StixObject::from_value(Value::Object(object.clone())) {
                Ok(parsed) => {
                    if let StixObject::Indicator(ind) = &parsed {
                        add_stix_indicator(builder, &mut source, &parsed, ind, Some(case));
                    }
                }
                Err(e) => source.reject(format!(
                    "{}: {e}",
                    object
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or("an object")
                )),
            }
        }
    }
    source
}

fn log_format(arg: LogFormatArg, columns: Option<&str>) -> anyhow::Result<Format> {
    Ok(match arg {
        LogFormatArg::Auto => Format::Auto,
        LogFormatArg::Zeek => Format::ZeekTsv,
        LogFormatArg::ZeekJson => Format::ZeekJson,
        LogFormatArg::Plain => Format::Plain,
        LogFormatArg::Csv => Format::Csv(
            CsvMapping::parse(columns.unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("--csv-columns: {e}"))?,
        ),
    })
}

/// Opens the logs behind one progress bar over their total (compressed) size; the bar hides
/// itself when standard error is not a terminal.
fn open_logs(paths: &[PathBuf], format: &Format) -> anyhow::Result<(Vec<Input>, ProgressBar)> {
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let progress = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} matching [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        let input = if path == Path::new("-") {
            Input::from_reader("-", std::io::stdin(), format.clone())
        } else {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            Input::from_reader(
                path.display().to_string(),
                progress.wrap_read(file),
                format.clone(),
            )
        };
        inputs.push(input);
    }
    Ok((inputs, progress))
}

/// What [`write_results`] writes.
struct Results<'r, 'i> {
    result: &'r Value,
    sightings: &'r [Value],
    owner_reports: &'r [detente_match::OwnerReport<'i>],
    owners: Option<&'r OwnerTable>,
    /// What could not be read, when some log could not.
    damage: Option<&'r str>,
}

/// Writes `report.json`, `sightings.json` (a STIX 2.1 bundle with the owners' identities and,
/// when some log could not be read to its end, a note saying so on the sightings) and, per
/// owner, `notifications/NN-<organisation>.txt` and `.json` (`hits.jsonl` is written during
/// the run).
fn write_results(out: &Path, results: &Results<'_, '_>) -> anyhow::Result<()> {
    let Results {
        result,
        sightings,
        owner_reports,
        owners,
        damage,
    } = *results;
    let write = |name: &Path, bytes: &[u8]| -> anyhow::Result<()> {
        let mut f = File::create(name).with_context(|| format!("creating {}", name.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", name.display()))
    };
    std::fs::create_dir_all(out.join("notifications"))
        .with_context(|| format!("creating {}", out.display()))?;
    write(
        &out.join("report.json"),
        &serde_json::to_vec_pretty(result)?,
    )?;
    let created = sightings
        .first()
        .and_then(|s| s["created"].as_str())
        .unwrap_or("1970-01-01T00:00:00.000Z");
    let mut objects: Vec<Value> = owners
        .map(|table| {
            let named: BTreeSet<&str> = sightings
                .iter()
                .filter_map(|s| s["where_sighted_refs"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            table
                .owners()
                .iter()
                .filter(|o| named.contains(detente_match::identity_ref(&o.organisation).as_str()))
                .map(|o| {
                    json!({
                        "type": "identity",
                        "spec_version": "2.1",
                        "id": detente_match::identity_ref(&o.organisation),
                        "created": created,
                        "modified": created,
                        "name": o.organisation,
                        "identity_class": "organization",
                        "contact_information": o.abuse_contact,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    objects.dedup_by(|a, b| a["id"] == b["id"]);
    objects.extend(sightings.iter().cloned());
    if let (Some(damage), false) = (damage, sightings.is_empty()) {
        // STIX's own way to qualify objects: a note referring to every sighting.
        objects.push(json!({
            "type": "note",
            "spec_version": "2.1",
            "id": format!("note--{}", uuid::Uuid::new_v4()),
            "created": created,
            "modified": created,
            "abstract": "Incomplete run: some logs could not be read to the end",
            "content": format!("{damage}. These sightings cover only the lines read before the damage."),
            "object_refs": sightings.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
        }));
    }
    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects,
    });
    write(
        &out.join("sightings.json"),
        &serde_json::to_vec_pretty(&bundle)?,
    )?;
    for (n, report) in owner_reports.iter().enumerate() {
        let draft = report.draft();
        let slug: String = report
            .organisation
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let stem = out
            .join("notifications")
            .join(format!("{:02}-{slug}", n + 1));
        write(&stem.with_extension("txt"), draft.body.as_bytes())?;
        write(
            &stem.with_extension("json"),
            &serde_json::to_vec_pretty(&draft)?,
        )?;
    }
    Ok(())
}

fn print_summary(
    index: &Index,
    sources: &[SourceReport],
    report: &RunReport,
    sightings: &[Value],
    candidates: &[Candidate<'_>],
    owners: &[detente_match::OwnerReport<'_>],
) {
    let rejected: usize = sources.iter().map(|s| s.rejected).sum();
    let expired: usize = sources.iter().map(|s| s.expired).sum();
    let partial: usize = sources.iter().map(|s| s.partial).sum();
    let unsupported: usize = sources.iter().map(|s| s.unsupported).sum();
    out!(
        "{} indicators from {} source(s) ({expired} expired, {rejected} rejected, {partial} only partly matchable, {unsupported} not matchable); {} thread(s).",
        index.len(),
        sources.len(),
        report.threads
    );
    let mut inputs = Table::new();
    inputs.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "log",
        "format",
        "lines",
        "MB",
        "hits",
        "allowed",
        "malformed",
        "read",
    ]);
    for i in &report.inputs {
        inputs.add_row(vec![
            i.name.clone(),
            i.format.to_owned(),
            i.lines.to_string(),
            format!("{:.1}", i.bytes as f64 / 1e6),
            i.hits.to_string(),
            i.suppressed.to_string(),
            i.malformed.to_string(),
            if i.is_complete() { "whole" } else { "DAMAGED" }.to_owned(),
        ]);
    }
    out!("{inputs}");
    for i in report.inputs.iter().filter(|i| i.malformed > 0) {
        for m in &i.malformed_lines {
            eprintln!(
                "{}:{}: {}",
                term::one_line(&i.name),
                m.line,
                term::one_line(&m.reason)
            );
        }
    }
    if let Some(damage) = damage_summary(report) {
        out!("INCOMPLETE: {damage}.");
    }
    if sightings.is_empty() {
        out!("No indicator was sighted.");
    } else {
        let mut hits = Table::new();
        hits.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "indicator",
            "kind",
            "source",
            "tlp",
            "hits",
        ]);
        for s in sightings.iter().take(50) {
            let view = &s["x_detente_indicator"];
            hits.add_row(vec![
                term::one_line(view["value"].as_str().unwrap_or_default()),
                term::one_line(view["kind"].as_str().unwrap_or_default()),
                term::one_line(view["label"].as_str().unwrap_or_default()),
                term::one_line(view["tlp"].as_str().unwrap_or_default()),
                s["count"].to_string(),
            ]);
        }
        out!("{hits}");
        if sightings.len() > 50 {
            out!(
                "... and {} more sighted indicators (see --json or --out).",
                sightings.len() - 50
            );
        }
    }
    if !candidates.is_empty() {
        out!(
            "{} indicator(s) with patterns that ask for more than one value (AND, qualifiers) had a value seen; check them by hand, they are not sightings:",
            candidates.len()
        );
        let mut table = Table::new();
        table
            .load_preset(UTF8_BORDERS_ONLY)
            .set_header(vec!["value", "kind", "indicator", "hits"]);
        for c in candidates.iter().take(50) {
            table.add_row(vec![
                term::one_line(c.indicator.value),
                term::one_line(&c.indicator.kind.to_string()),
                term::one_line(c.indicator.label),
                c.hits.to_string(),
            ]);
        }
        out!("{table}");
    }
    if !owners.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "owner",
            "abuse contact",
            "hosts",
            "hits",
            "tlp",
        ]);
        for o in owners {
            let hosts = if o.all_hosts_listed {
                o.hosts.len().to_string()
            } else {
                format!("over {}", o.hosts.len())
            };
            table.add_row(vec![
                term::one_line(o.organisation),
                term::one_line(o.abuse_contact),
                hosts,
                o.hits.to_string(),
                o.tlp.to_owned(),
            ]);
        }
        out!("{table}");
    }
}

/// What the answer to the partner must admit about how far the match went.
pub(crate) struct Coverage<'a> {
    /// Indicators whose pattern was matched one value at a time.
    partial: usize,
    /// Indicators whose pattern could not be matched at all.
    unsupported: usize,
    /// Partial indicators with a value seen in the logs.
    candidates: usize,
    /// The logs that could not be read to their end, if any.
    damage: Option<&'a str>,
}

impl<'a> Coverage<'a> {
    /// The coverage of a run from its sources, its candidates and its damage summary.
    pub(crate) fn of(
        sources: &[SourceReport],
        candidates: &[Candidate<'_>],
        damage: Option<&'a str>,
    ) -> Self {
        Self {
            partial: sources.iter().map(|s| s.partial).sum(),
            unsupported: sources.iter().map(|s| s.unsupported).sum(),
            candidates: candidates.len(),
            damage,
        }
    }
}

/// The answer that reports a match to the partner: a summary in prose and one STIX sighting
/// per sighted indicator, made by this party. It leaves out what is ours alone: which of our
/// organisations were hit (`where_sighted_refs`), the values observed in our logs and the
/// names of our log files.
pub(crate) fn answer_body(
    report: &RunReport,
    sightings: &[Value],
    shown: &CaseDetail,
    is_final: bool,
    note: Option<&str>,
    coverage: &Coverage<'_>,
) -> anyhow::Result<Body> {
    // The responder answers the case.
    let me: &PartyId = &shown.summary.responder;
    let identity = detente_server::objects::party_identity(me);
    let objects = sightings
        .iter()
        .map(|s| {
            let mut s = s.as_object().cloned().unwrap_or_default();
            for private in [
                "where_sighted_refs",
                "x_detente_observed_values",
                "x_detente_inputs",
                "x_detente_fields",
            ] {
                s.remove(private);
            }
            s.insert("created_by_ref".into(), Value::String(identity.clone()));
            s
        })
        .collect();
    let mut text = format!(
        "We matched the indicators of this case against {} log line(s) ({:.1} MB) from {} source(s): {} indicator(s) sighted, {} hit(s).",
        report.lines(),
        report.bytes() as f64 / 1e6,
        report.inputs.len(),
        sightings.len(),
        report.hits(),
    );
    if coverage.damage.is_some() {
        // Our file names are ours alone: the partner hears how many logs, not which.
        let _ = write!(
            text,
            " {} of the {} log(s) could not be read to the end (damaged or cut short); the figures cover only the lines read before the damage.",
            report.incomplete().count(),
            report.inputs.len()
        );
    }
    if coverage.partial > 0 {
        let _ = write!(
            text,
            " {} indicator(s) have patterns that ask for more than one value (AND, qualifiers), which we matched one value at a time; {} of them had a value seen, which we do not report as sightings.",
            coverage.partial, coverage.candidates
        );
    }
    if coverage.unsupported > 0 {
        let _ = write!(
            text,
            " {} indicator(s) use only pattern tests we cannot match (LIKE, MATCHES, != or properties not in our logs) and were not matched.",
            coverage.unsupported
        );
    }
    if let Some(note) = note {
        text.push_str("\n\n");
        text.push_str(note);
    }
    Ok(Body::Answer(AnswerBody {
        is_final,
        text,
        observables: Vec::new(),
        attachments: Vec::new(),
        objects,
    }))
}
