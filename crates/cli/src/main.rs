//! The `detente` command: set up a node, run it, work cases from the command line, and run
//! the two-node demo. The only place that reads the environment and sets exit codes.

mod agreement_cmd;
mod client;
mod demo;
mod figures;
mod home;
mod indicators_cmd;
mod input;
mod log_cmd;
mod match_cmd;
mod people_cmd;
mod request_cmd;
mod review_cmd;
mod term;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::client::{CliError, EXIT_CODES};

// glibc's allocator spent about a sixth of a bulk import's CPU in malloc and free (millions
// of short strings, freed on another thread than the one that made them). With mimalloc a
// fresh import of 1M indicators took 6.8 s instead of 7.5 s (medians of 3), for 27 MB more
// peak memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// detente: signed, provable requests for cyber cooperation between national nodes.
#[derive(Parser)]
#[command(version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    /// The node's home folder (made by `detente init`).
    #[arg(long, global = true, env = "DETENTE_HOME", default_value = ".")]
    home: PathBuf,
    /// The database, overriding `database` in detente.toml: a PostgreSQL URL
    /// (`postgres://user:password@host:port/db`) or an SQLite file. With `init`, it is
    /// written into detente.toml.
    #[arg(
        long,
        global = true,
        env = "DETENTE_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node home: configuration, Ed25519 key, database, API token.
    Init(home::InitArgs),
    /// Run the node until SIGINT or SIGTERM.
    Serve,
    /// Show the node's party, agreement, log, delivery to each partner and alerts; exit 8
    /// when anything needs the operator.
    #[command(after_help = EXIT_CODES)]
    Status(client::ApiArgs),
    /// Write or inspect the agreement document.
    #[command(subcommand)]
    Agreement(agreement_cmd::AgreementCommand),
    /// Work requests: file, list, show, acknowledge, clarify, answer, decline, withdraw, rate.
    #[command(subcommand, after_help = EXIT_CODES)]
    Request(request_cmd::RequestCommand),
    /// Rebuild the node's tables (messages, outbox, cases, counters) from its log alone.
    /// Stop the node first.
    Rebuild,
    /// The review of timeliness and quality for a period (HTML with charts, JSON or CSV).
    Review(review_cmd::ReviewArgs),
    /// Export this node's log as a bundle for an auditor, or verify it against its checkpoints.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Verify two parties' log bundles against each other, trusting neither; exit 0 verified,
    /// 1 tampered, 2 unusable input.
    Audit(log_cmd::AuditArgs),
    /// Match indicators (lists, STIX, MISP, or a case's) against network logs; write
    /// sightings and owner notifications; with --case --answer, report back in the case.
    Match(Box<match_cmd::MatchArgs>),
    /// Indicators (STIX 2.1): import bundles, MISP events and feeds; list, show, export.
    #[command(subcommand)]
    Indicators(indicators_cmd::IndicatorsCommand),
    /// Start two nodes (US and CN) on loopback and run a realistic exchange of 20+ cases.
    Demo(demo::DemoArgs),
    /// The node's agencies (organisational units): add, list, give the duty.
    #[command(subcommand)]
    Agency(people_cmd::AgencyCommand),
    /// The node's users: add, list, roles, passwords, API tokens, disable.
    #[command(subcommand)]
    User(people_cmd::UserCommand),
    /// Who did what on this node (the local, hash-chained trail); --verify checks its chain.
    Trail(people_cmd::TrailArgs),
}

fn main() -> ExitCode {
    // Everything detente writes (the database and its WAL, keys, tokens, match results,
    // bundles) is for this user only; an operator shares a file on purpose, not by default.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(match cli.command {
                    Command::Serve => "info,tower_http=info",
                    _ => "warn",
                })
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.json;
    let result: anyhow::Result<()> = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => home::init(&cli.home, &args, cli.database).await,
            Command::Serve => home::serve(&cli.home, cli.database.as_deref()).await,
            Command::Status(api) => client::status(&cli.home, &api, cli.json).await,
            Command::Agreement(cmd) => agreement_cmd::run(&cli.home, cmd, cli.json),
            Command::Request(cmd) => request_cmd::run(&cli.home, cmd, cli.json).await,
            Command::Demo(args) => demo::run(&args).await,
            Command::Log(cmd) => {
                log_cmd::run(&cli.home, cli.database.as_deref(), cmd, cli.json).await
            }
            Command::Rebuild => log_cmd::rebuild(&cli.home, cli.database.as_deref()).await,
            Command::Review(args) => {
                review_cmd::run(&cli.home, cli.database.as_deref(), &args).await
            }
            Command::Indicators(cmd) => {
                indicators_cmd::run(&cli.home, cli.database.as_deref(), cmd, cli.json).await
            }
            Command::Audit(args) => log_cmd::audit_bundles(&args, cli.json),
            Command::Agency(cmd) => {
                people_cmd::agency(&cli.home, cli.database.as_deref(), cmd, cli.json).await
            }
            Command::User(cmd) => {
                people_cmd::user(&cli.home, cli.database.as_deref(), cmd, cli.json).await
            }
            Command::Trail(args) => {
                people_cmd::show_trail(&cli.home, cli.database.as_deref(), &args, cli.json).await
            }
            Command::Match(args) => {
                match_cmd::run(&cli.home, cli.database.as_deref(), *args, cli.json).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let cli_error = e.downcast_ref::<CliError>();
            let code = cli_error
                .map(CliError::exit_code)
                .or_else(|| {
                    e.downcast_ref::<log_cmd::Verdict>()
                        .map(log_cmd::Verdict::exit_code)
                })
                .unwrap_or(1);
            // With --json a script reads standard output: the error goes there too, in the
            // API's envelope, unless the command already wrote its JSON (a status that needs
            // attention, a match that stopped at damage).
            if json && !term::wrote_output() {
                let (code, message) = cli_error.map_or_else(
                    || ("error", format!("{e:#}")),
                    |c| (c.code(), c.message().to_owned()),
                );
                term::out!(
                    "{}",
                    serde_json::json!({"error": {"code": code, "message": message}})
                );
            }
            eprintln!("error: {}", term::one_line(&format!("{e:#}")));
            ExitCode::from(code)
        }
    }
}

/// Ends on a command line clap refused (or on `--help`/`--version`, which clap prints).
/// With `--json` a usage error is also the JSON error envelope on standard output.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let json = std::env::args_os().any(|a| a == "--json");
    let is_output = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if json && !is_output {
        let message = e.render().to_string();
        let first = message.lines().next().unwrap_or_default();
        term::out!(
            "{}",
            serde_json::json!({"error": {"code": "usage", "message": first.trim_start_matches("error: ")}})
        );
    }
    // Prints to standard error (or the help to standard output) as clap always does.
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}
