//! `detente init` and `detente serve`: making a node home and running the node in it.

use std::{
    fs,
    io::Write,
    net::SocketAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use clap::Args;
use detente_domain::Party;
use detente_protocol::{PartyId, SecretKey};
use detente_server::config::{CONFIG_FILE, FederationConfig, Limits, NodeConfig};
use detente_store::Store;

/// The file that holds the node's API token.
pub const TOKEN_FILE: &str = "api-token";
/// The file with this party's entry for the agreement, to send to partners.
pub const PARTY_FILE: &str = "party.toml";
/// Where the node expects the agreement document.
pub const AGREEMENT_FILE: &str = "agreement.toml";

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
}

/// What `init` made that a caller (the demo) needs.
pub struct NewHome {
    /// The API token, in clear (it is stored hashed).
    pub token: String,
    /// This party's entry for the agreement.
    pub party: Party,
}

/// Creates a node home; refuses to touch an existing one.
pub async fn create(home: &Path, args: &InitArgs) -> anyhow::Result<NewHome> {
    if home.join(CONFIG_FILE).exists() {
        bail!(
            "{} already holds a node ({CONFIG_FILE} exists); init never overwrites a node home",
            home.display()
        );
    }
    if !args.plain_http && args.tls_cert.is_none() {
        bail!("give --tls-cert and --tls-key for HTTPS, or --plain-http for a loopback test");
    }
    fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let key = SecretKey::generate();
    write_private(&home.join("node.key"), key.to_pkcs8_pem().as_bytes())
        .context("writing the node key")?;
    let mut token_bytes = [0u8; 32];
    getrandom::fill(&mut token_bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    let token = hex::encode(token_bytes);
    write_private(&home.join(TOKEN_FILE), format!("{token}\n").as_bytes())
        .context("writing the API token")?;
    let config = NodeConfig {
        party: args.party.clone(),
        listen: args.listen,
        database: "detente.db".into(),
        key: "node.key".into(),
        agreement: AGREEMENT_FILE.into(),
        federation: FederationConfig {
            allow_plain_http: args.plain_http,
            tls_cert: args.tls_cert.clone(),
            tls_key: args.tls_key.clone(),
            partner_ca: Default::default(),
        },
        limits: Limits::default(),
    };
    fs::write(home.join(CONFIG_FILE), config.to_toml()).context("writing detente.toml")?;
    let store = Store::open(&home.join(&config.database), true)
        .await
        .context("creating the database")?;
    let mut tx = store.write().await?;
    tx.insert_token(
        &detente_server::token_hash(&token),
        "init",
        detente_server::node::now(),
    )
    .await?;
    tx.commit().await?;
    store.close().await;
    let scheme = if args.plain_http { "http" } else { "https" };
    let party = Party {
        id: args.party.clone(),
        name: args.name.clone().unwrap_or_else(|| args.party.to_string()),
        node_url: args
            .url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", args.listen)),
        public_keys: vec![key.public_key()],
    };
    fs::write(home.join(PARTY_FILE), party_snippet(&party)).context("writing party.toml")?;
    Ok(NewHome { token, party })
}

/// `detente init`.
pub async fn init(home: &Path, args: &InitArgs) -> anyhow::Result<()> {
    let made = create(home, args).await?;
    println!("Created node {} in {}", args.party, home.display());
    println!("  public key : {}", made.party.public_keys[0]);
    println!(
        "  API token  : in {}/{TOKEN_FILE} (keep it secret)",
        home.display()
    );
    println!();
    println!("Next:");
    println!(
        "  1. Send {}/{PARTY_FILE} to your partner and get theirs.",
        home.display()
    );
    println!(
        "  2. Write the agreement: detente --home {} agreement new --partner THEIR_party.toml",
        home.display()
    );
    println!("     (or copy the agreement.toml your partner wrote), and compare digests by phone:");
    println!("     detente --home {} agreement show", home.display());
    println!("  3. Run the node: detente --home {} serve", home.display());
    Ok(())
}

/// This party's `[[parties]]` entry as TOML.
pub fn party_snippet(party: &Party) -> String {
    #[derive(serde::Serialize)]
    struct Snippet<'a> {
        parties: [&'a Party; 1],
    }
    toml::to_string_pretty(&Snippet { parties: [party] }).expect("a party always serialises")
}

/// Reads a `[[parties]]` snippet written by `init`.
pub fn read_party_snippet(path: &Path) -> anyhow::Result<Party> {
    #[derive(serde::Deserialize)]
    struct Snippet {
        parties: Vec<Party>,
    }
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut s: Snippet =
        toml::from_str(&text).with_context(|| format!("{} is not a party file", path.display()))?;
    match s.parties.len() {
        1 => Ok(s.parties.remove(0)),
        n => bail!(
            "{} must hold exactly one [[parties]] entry, it holds {n}",
            path.display()
        ),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// `detente serve`: runs until SIGINT or SIGTERM.
pub async fn serve(home: &Path) -> anyhow::Result<()> {
    let (config, node) = detente_server::open_node(home)
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
