//! A node's home folder: what `detente init` creates and `open_node` reads.
//!
//! ```text
//! detente.toml    configuration (party, listen address, TLS, limits)
//! node.key        Ed25519 private key, PKCS#8 PEM, mode 0600
//! api-token       the liaison officers' API token, mode 0600 (the database keeps a hash)
//! party.toml      this party's [[parties]] entry, to send to partners
//! agreement.toml  the agreement, identical on every party's node
//! detente.db      the SQLite database: the log and its projections
//! ```

use std::{
    fs,
    io::Write,
    net::SocketAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use detente_domain::Party;
use detente_protocol::{PartyId, SecretKey};
use detente_store::Store;

use crate::{
    config::{CONFIG_FILE, FederationConfig, Limits, NodeConfig},
    extract::token_hash,
    node::now,
};

/// The file that holds the node's API token.
pub const TOKEN_FILE: &str = "api-token";
/// The file with this party's entry for the agreement, to send to partners.
pub const PARTY_FILE: &str = "party.toml";
/// Where the node expects the agreement document.
pub const AGREEMENT_FILE: &str = "agreement.toml";

/// What a new home is made with.
#[derive(Debug, Clone)]
pub struct HomeSpec {
    /// The party the node speaks for.
    pub party: PartyId,
    /// Name of the body running the node.
    pub name: String,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL partners reach the node at.
    pub url: String,
    /// Serve and call plain HTTP (loopback tests and demos only).
    pub plain_http: bool,
    /// TLS certificate chain and key (PEM), relative to the home.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The database: a PostgreSQL URL, or `None` for `detente.db` in the home.
    pub database: Option<String>,
}

/// What `create` made that a caller needs.
pub struct NewHome {
    /// The API token, in clear (the database stores only its hash).
    pub token: String,
    /// This party's entry for the agreement.
    pub party: Party,
    /// The configuration written.
    pub config: NodeConfig,
}

/// Why a home could not be created.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The folder already holds a node.
    #[error("{0} already holds a node (detente.toml exists); init never overwrites a node home")]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database could not be created.
    #[error("cannot create the database: {0}")]
    Store(#[from] detente_store::StoreError),
}

/// Creates a node home in `home`; refuses to touch an existing one.
pub async fn create(home: &Path, spec: &HomeSpec) -> Result<NewHome, HomeError> {
    if home.join(CONFIG_FILE).exists() {
        return Err(HomeError::Exists(home.to_owned()));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| HomeError::Io { path, source }
    };
    fs::create_dir_all(home).map_err(io(home))?;
    let key = SecretKey::generate();
    let key_path = home.join("node.key");
    write_private(&key_path, key.to_pkcs8_pem().as_bytes()).map_err(io(&key_path))?;
    let mut token_bytes = [0u8; 32];
    getrandom::fill(&mut token_bytes).expect("the operating system's random source is available");
    let token = hex::encode(token_bytes);
    let token_path = home.join(TOKEN_FILE);
    write_private(&token_path, format!("{token}\n").as_bytes()).map_err(io(&token_path))?;
    let config = NodeConfig {
        party: spec.party.clone(),
        listen: spec.listen,
        database: spec.database.as_deref().unwrap_or("detente.db").into(),
        key: "node.key".into(),
        agreement: AGREEMENT_FILE.into(),
        federation: FederationConfig {
            allow_plain_http: spec.plain_http,
            tls_cert: spec.tls.as_ref().map(|t| t.0.clone()),
            tls_key: spec.tls.as_ref().map(|t| t.1.clone()),
            partner_ca: Default::default(),
        },
        limits: Limits::default(),
        indicators: Default::default(),
    };
    let config_path = home.join(CONFIG_FILE);
    fs::write(&config_path, config.to_toml()).map_err(io(&config_path))?;
    let store = Store::open_at(&config.database_location(home, None), true).await?;
    let mut tx = store.write().await?;
    tx.insert_token(&token_hash(&token), "init", now()).await?;
    tx.commit().await?;
    store.close().await;
    let party = Party {
        id: spec.party.clone(),
        name: spec.name.clone(),
        node_url: spec.url.clone(),
        public_keys: vec![key.public_key()],
    };
    let party_path = home.join(PARTY_FILE);
    fs::write(&party_path, party_snippet(&party)).map_err(io(&party_path))?;
    Ok(NewHome {
        token,
        party,
        config,
    })
}

/// A party's `[[parties]]` entry as TOML.
pub fn party_snippet(party: &Party) -> String {
    #[derive(serde::Serialize)]
    struct Snippet<'a> {
        parties: [&'a Party; 1],
    }
    toml::to_string_pretty(&Snippet { parties: [party] }).expect("a party always serialises")
}

/// Reads a `[[parties]]` snippet written by `create`.
pub fn read_party_snippet(path: &Path) -> Result<Party, String> {
    #[derive(serde::Deserialize)]
    struct Snippet {
        parties: Vec<Party>,
    }
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut s: Snippet = toml::from_str(&text)
        .map_err(|e| format!("{} is not a party file: {e}", path.display()))?;
    match s.parties.len() {
        1 => Ok(s.parties.remove(0)),
        n => Err(format!(
            "{} must hold exactly one [[parties]] entry, it holds {n}",
            path.display()
        )),
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
