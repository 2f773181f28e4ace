//! `detente review`: the semiannual review (or a weekly bulletin) of timeliness and quality,
//! computed from this node's log, as HTML with charts, JSON or CSV.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::{Args, ValueEnum};
use detente_domain::Agreement;
use detente_report::{CaseRecord, Period, Redaction, ReviewOptions, compute, csv, html};
use detente_server::{
    config::NodeConfig,
    node::{derived_cases, now},
};
use detente_store::Store;

/// Output formats of the review.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One self-contained page with inline SVG charts.
    Html,
    /// Every figure, the trend and the per-case appendix.
    Json,
    /// The per-case appendix (use --table for the figures or the trend).
    Csv,
}

/// Which CSV table to write.
#[derive(Clone, Copy, ValueEnum)]
pub enum Table {
    /// One row per case.
    Appendix,
    /// Every figure of every breakdown.
    Figures,
    /// The headline figures across periods.
    Trend,
}

/// Options of `detente review`.
#[derive(Args)]
pub struct ReviewArgs {
    /// The period: 2026-H1, 2026-Q3, 2026-05, 2026, or 2026-01-01..2026-06-30.
    #[arg(long, conflicts_with = "week")]
    period: Option<String>,
    /// A weekly bulletin for an ISO week, e.g. 2026-W48 (shorter, same style).
    #[arg(long)]
    week: Option<String>,
    #[arg(long, value_enum, default_value = "html")]
    format: Format,
    /// With --format csv: which table.
    #[arg(long, value_enum, default_value = "appendix")]
    table: Table,
    /// Leave out titles and TLP markings, keeping only what the figures need, for an auditor.
    #[arg(long)]
    redacted: bool,
    /// How many earlier periods the trend shows.
    #[arg(long, default_value_t = 4)]
    trend: usize,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `detente review` on the node in `home` (running or not).
pub async fn run(home: &Path, args: &ReviewArgs) -> anyhow::Result<()> {
    let (text, bulletin) = match (&args.period, &args.week) {
        (Some(p), None) => (p.as_str(), false),
        (None, Some(w)) => (w.as_str(), true),
        _ => anyhow::bail!("give --period (e.g. 2026-H1) or --week (e.g. 2026-W48)"),
    };
    let period = Period::parse(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    let agreement = Agreement::from_toml(
        &std::fs::read_to_string(home.join(&config.agreement)).context("reading the agreement")?,
    )?;
    let store = Store::open(&home.join(&config.database), false)
        .await
        .context("opening the database")?;
    let cases = derived_cases(&store, &agreement)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.close().await;
    let records: Vec<CaseRecord<'_>> = cases
        .iter()
        .map(|(case, log_index)| CaseRecord {
            case,
            log_index: *log_index,
        })
        .collect();
    let mut options = ReviewOptions::new(period);
    options.trend_periods = args.trend;
    options.redaction = if args.redacted {
        Redaction::Redacted
    } else {
        Redaction::Full
    };
    // A period still under way is reviewed as of now, not as of its (future) end.
    let now = now();
    if now < period.end() {
        options.as_of = Some(now.max(period.start()));
    }
    let review = compute(&agreement, &records, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    let output = match (args.format, bulletin) {
        (Format::Html, false) => html::review_page(&review),
        (Format::Html, true) => html::bulletin_page(&review),
        (Format::Json, _) => review.to_json(),
        (Format::Csv, _) => Ok(match args.table {
            Table::Appendix => csv::appendix(&review),
            Table::Figures => csv::figures(&review),
            Table::Trend => csv::trend(&review),
        }),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, output).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("wrote the review of {period} to {}", p.display());
        }
        None => std::io::stdout().lock().write_all(output.as_bytes())?,
    }
    Ok(())
}
