//! `detente init` and `detente serve`: making a node home and running the node in it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use crate::term::out;
use anyhow::Context;
use clap::Args;
use detente_domain::Agreement;
use detente_protocol::PartyId;
use detente_server::{
    config::NodeConfig,
    home::{HomeSpec, PARTY_FILE, TOKEN_FILE, create},
};
use detente_store::Store;

/// Options of `detente init`.
#[derive(Args, Clone)]
pub struct InitArgs {
    /// The party this node speaks for, e.g. US.
    #[arg(long)]
    pub party: PartyId,
    /// Name of the body running the node, e.g. "US-CERT".
    #[arg(long)]
    pub name: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7001")]
    pub listen: SocketAddr,
    /// The URL partners reach this node at (default: derived from --listen).
    #[arg(long)]
    pub url: Option<String>,
    /// Serve and call plain HTTP: only for loopback tests and demos.
    #[arg(long)]
    pub plain_http: bool,
    /// TLS certificate chain (PEM) for HTTPS, relative to the home folder.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for HTTPS, relative to the home folder.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The CA (PEM) that issued --tls-cert, relative to the home folder: the CLI trusts it to
    /// reach this node (default: the chain in --tls-cert beyond its first certificate).
    #[arg(long, requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,
}

impl InitArgs {
    /// The home specification these options describe.
    pub fn spec(&self) -> anyhow::Result<HomeSpec> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            _ if self.plain_http => None,
            _ => anyhow::bail!(
                "give --tls-cert and --tls-key for HTTPS, or --plain-http for a loopback test"
            ),
        };
        let scheme = if self.plain_http { "http" } else { "https" };
        Ok(HomeSpec {
            party: self.party.clone(),
            name: self.name.clone().unwrap_or_else(|| self.party.to_string()),
            listen: self.listen,
            url: self
                .url
                .clone()
                .unwrap_or_else(|| format!("{scheme}://{}", self.listen)),
            plain_http: self.plain_http,
            tls,
            tls_ca: self.tls_ca.clone(),
            database: None,
        })
    }
}

/// `detente init`.
pub async fn init(home: &Path, args: &InitArgs, database: Option<String>) -> anyhow::Result<()> {
    let spec = HomeSpec {
        database,
        ..args.spec()?
    };
    let made = create(home, &spec).await?;
    let h = home.display();
    out!("Created node {} in {h}", args.party);
    out!("  public key : {}", made.party.public_keys[0]);
    out!("  API token  : in {h}/{TOKEN_FILE} (keep it secret)");
    out!();
    out!("Next:");
    out!("  1. Send {h}/{PARTY_FILE} to your partner and get theirs.");
    out!(
        "  2. One of you writes the agreement: detente --home {h} agreement new --partner THEIR_party.toml"
    );
    out!(
        "     and sends agreement.toml to the other; compare digests by phone: detente --home {h} agreement show"
    );
    out!("  3. Run the node: detente --home {h} serve");
    Ok(())
}

/// Opens the node's database for a command that works on it directly rather than through
/// the running node: `database` (the global `--database`) overrides the configured one.
pub async fn open_store(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
) -> anyhow::Result<Store> {
    let location = config
        .database_location(home, database)
        .map_err(anyhow::Error::msg)?;
    Store::open_at(&location, false)
        .await
        .with_context(|| format!("opening the node's database {}", location.redacted()))
}

/// Opens the node's database for reading only, for the commands that check or report on
/// evidence (`log verify`, `log export`, `review`): they must not alter what they check, and
/// they work beside a running node.
pub async fn open_store_read_only(
    home: &Path,
    database: Option<&str>,
    config: &NodeConfig,
) -> anyhow::Result<Store> {
    let location = config
        .database_location(home, database)
        .map_err(anyhow::Error::msg)?;
    Store::open_at_read_only(&location).await.with_context(|| {
        format!(
            "opening the node's database {} read-only",
            location.redacted()
        )
    })
}

/// The node's agreement, or `None` before one is installed: indicator commands work on a
/// node that has no partner yet.
pub fn agreement_if_any(home: &Path, config: &NodeConfig) -> anyhow::Result<Option<Agreement>> {
    match std::fs::read_to_string(home.join(&config.agreement)) {
        Ok(text) => Ok(Some(Agreement::from_toml(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context("reading the agreement"),
    }
}

/// `detente serve`: runs until SIGINT or SIGTERM.
pub async fn serve(home: &Path, database: Option<&str>) -> anyhow::Result<()> {
    let _lock = detente_server::home::lock(home, "serve").map_err(anyhow::Error::msg)?;
    let (config, node) = detente_server::open_node_with(home, database)
        .await
        .map_err(anyhow::Error::msg)?;
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    detente_server::serve(node, &config, home, listener, shutdown_signal())
        .await
        .map_err(anyhow::Error::msg)
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; stop with SIGINT");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
