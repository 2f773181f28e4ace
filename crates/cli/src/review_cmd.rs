//! `detente review`: the semiannual review (or a weekly bulletin) of timeliness and quality,
//! computed from this node's log (or from a log bundle), as HTML with charts, JSON or CSV.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::{client::CliError, home::open_store_read_only};
use anyhow::Context;
use clap::{Args, ValueEnum};
use detente_domain::Agreement;
use detente_protocol::Timestamp;
use detente_server::{
    config::NodeConfig,
    node::now,
    review::{ReviewFormat, ReviewRequest, render_bundle, render_review},
};

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
    /// How many earlier periods the trend shows (0 to 20).
    #[arg(
        long,
        default_value_t = 4,
        value_parser = clap::value_parser!(u64).range(0..=detente_report::MAX_TREND_PERIODS as u64)
    )]
    trend: u64,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Measure the review at this instant (e.g. 2026-11-27T00:00:00Z) instead of now:
    /// the meeting date after the period's end, or an instant within it. Not before the
    /// period's start, not in the future. Two nodes, or a node and an auditor, then get the
    /// same document.
    #[arg(long, value_parser = crate::input::parse_instant)]
    as_of: Option<Timestamp>,
    /// Compute the review from a log bundle (`detente log export`) instead of a node: an
    /// auditor's own figures, to compare with the parties'.
    #[arg(long)]
    bundle: Option<PathBuf>,
}

/// Runs `detente review` on the node in `home` (running or not).
pub async fn run(home: &Path, database: Option<&str>, args: &ReviewArgs) -> anyhow::Result<()> {
    let (period, bulletin) = match (&args.period, &args.week) {
        (Some(p), None) => (p.clone(), false),
        (None, Some(w)) => {
            // A bulletin covers one ISO week; any other period is the full review's.
            if !detente_report::Period::parse(w).is_ok_and(|p| p.is_week()) {
                return Err(CliError::BadInput(format!(
                    "--week {:?} is not an ISO week: write it like 2026-W48 (or use --period \
                     for a half-year, quarter, month or range)",
                    crate::term::one_line(w)
                ))
                .into());
            }
            (w.clone(), true)
        }
        _ => {
            return Err(CliError::BadInput(
                "give --period (e.g. 2026-H1) or --week (e.g. 2026-W48)".to_owned(),
            )
            .into());
        }
    };
    let format = match (args.format, args.table) {
        (Format::Html, _) => ReviewFormat::Html,
        (Format::Json, _) => ReviewFormat::Json,
        (Format::Csv, Table::Appendix) => ReviewFormat::CsvAppendix,
        (Format::Csv, Table::Figures) => ReviewFormat::CsvFigures,
        (Format::Csv, Table::Trend) => ReviewFormat::CsvTrend,
    };
    let request = ReviewRequest {
        period: period.clone(),
        bulletin,
        format,
        redacted: args.redacted,
        // Within 0..=20 by the parser.
        trend: usize::try_from(args.trend).unwrap_or(usize::MAX),
        as_of: args.as_of,
    };
    let output = match &args.bundle {
        Some(bundle) => render_bundle(bundle, &request, now()),
        None => node_review(home, database, &request).await?,
    }
    .map_err(|e| CliError::Api {
        code: e.code,
        message: e.message,
    })?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, output).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("wrote the review of {period} to {}", p.display());
        }
        None => std::io::stdout().lock().write_all(output.as_bytes())?,
    }
    Ok(())
}

/// The review from the node in `home` (running or not).
async fn node_review(
    home: &Path,
    database: Option<&str>,
    request: &ReviewRequest,
) -> anyhow::Result<Result<String, detente_server::error::ApiError>> {
    let config = NodeConfig::load(home).map_err(anyhow::Error::msg)?;
    let agreement = Agreement::from_toml(
        &std::fs::read_to_string(home.join(&config.agreement)).context("reading the agreement")?,
    )?;
    let store = open_store_read_only(home, database, &config).await?;
    let output = render_review(&store, &agreement, &config.party, request, now()).await;
    store.close().await;
    Ok(output)
}
