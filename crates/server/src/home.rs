//! A node's home folder: what `detente init` creates and `open_node` reads.
//!
//! ```text
//! detente.toml       configuration (party, listen address, TLS, limits), mode 0600
//! node.key           Ed25519 private key, PKCS#8 PEM, mode 0600
//! api-token          the liaison officers' API token, mode 0600 (the database keeps a hash)
//! party.toml         this party's [[parties]] entry, to send to partners
//! agreement.toml     the agreement, identical on every party's node
//! detente.db         the SQLite database (with -wal, -shm): the log and its projections, 0600
//! database-password  the PostgreSQL password, mode 0600, when the database is PostgreSQL
//! ```
//!
//! The folder itself is mode 0700: the database holds every case and every TLP:RED object.

use std::{
    fs,
    io::Write,
    net::SocketAddr,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use detente_domain::Party;
use detente_protocol::{PartyId, SecretKey};
use detente_store::Store;

use crate::{
    config::{CONFIG_FILE, FederationConfig, Limits, NodeConfig, split_password},
    extract::token_hash,
    node::now,
};

/// The file that holds the node's API token.
pub const TOKEN_FILE: &str = "api-token";
/// The file with this party's entry for the agreement, to send to partners.
pub const PARTY_FILE: &str = "party.toml";
/// Where the node expects the agreement document.
pub const AGREEMENT_FILE: &str = "agreement.toml";

/// The file `init` writes a PostgreSQL password into, so that `detente.toml` never holds it.
pub const DATABASE_PASSWORD_FILE: &str = "database-password";

/// Files that make a folder a node home (or what is left of one): `init` refuses a folder
/// holding any of them, rather than put a new key and token on top of an old log.
const NODE_FILES: [&str; 7] = [
    CONFIG_FILE,
    "node.key",
    TOKEN_FILE,
    "detente.db",
    "detente.db-wal",
    "detente.db-shm",
    DATABASE_PASSWORD_FILE,
];

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
    /// The CA (PEM) that issued the TLS certificate, relative to the home.
    pub tls_ca: Option<PathBuf>,
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
    /// The folder already holds a node, or files left from one.
    #[error(
        "{0} already holds {1} (a node home, or what is left of one); init never overwrites \
         or adopts a node's files: use an empty folder"
    )]
    Exists(PathBuf, String),
    /// A file the home must refer to is missing or unusable.
    #[error("{0}")]
    Input(String),
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

/// Creates a node home in `home`; refuses to touch an existing one. On failure it removes
/// what it made, so a failed `init` can simply be run again.
pub async fn create(home: &Path, spec: &HomeSpec) -> Result<NewHome, HomeError> {
    if let Some(file) = NODE_FILES.iter().find(|f| home.join(f).exists()) {
        return Err(HomeError::Exists(home.to_owned(), (*file).to_owned()));
    }
    check_tls_files(home, spec)?;
    let mut made = Made::new(home).map_err(|source| HomeError::Io {
        path: home.to_owned(),
        source,
    })?;
    let result = make(home, spec, &mut made).await;
    if result.is_err() {
        made.undo();
    }
    result
}

/// The TLS files named must exist and hold what they should, before anything is written.
fn check_tls_files(home: &Path, spec: &HomeSpec) -> Result<(), HomeError> {
    let files = spec
        .tls
        .iter()
        .flat_map(|(cert, key)| [("certificate", cert), ("key", key)])
        .chain(spec.tls_ca.iter().map(|ca| ("CA", ca)));
    for (what, file) in files {
        let path = home.join(file);
        let text = fs::read_to_string(&path).map_err(|e| {
            HomeError::Input(format!(
                "cannot read the TLS {what} {} (paths are relative to the home {}): {e}",
                path.display(),
                home.display()
            ))
        })?;
        if !text.contains("-----BEGIN ") {
            return Err(HomeError::Input(format!(
                "the TLS {what} {} is not PEM",
                path.display()
            )));
        }
    }
    Ok(())
}

async fn make(home: &Path, spec: &HomeSpec, made: &mut Made) -> Result<NewHome, HomeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| HomeError::Io { path, source }
    };
    let key = SecretKey::generate();
    made.private("node.key", key.to_pkcs8_pem().as_bytes())?;
    let mut token_bytes = [0u8; 32];
    getrandom::fill(&mut token_bytes).expect("the operating system's random source is available");
    let token = hex::encode(token_bytes);
    made.private(TOKEN_FILE, format!("{token}\n").as_bytes())?;
    let (database, password) = match &spec.database {
        Some(url) => split_password(url).map_err(HomeError::Input)?,
        None => ("detente.db".to_owned(), None),
    };
    let database_password_file = match password {
        Some(p) => {
            made.private(DATABASE_PASSWORD_FILE, format!("{p}\n").as_bytes())?;
            Some(PathBuf::from(DATABASE_PASSWORD_FILE))
        }
        None => None,
    };
    let config = NodeConfig {
        party: spec.party.clone(),
        listen: spec.listen,
        database: database.into(),
        database_password_file,
        key: "node.key".into(),
        agreement: AGREEMENT_FILE.into(),
        federation: FederationConfig {
            allow_plain_http: spec.plain_http,
            tls_cert: spec.tls.as_ref().map(|t| t.0.clone()),
            tls_key: spec.tls.as_ref().map(|t| t.1.clone()),
            tls_ca: spec.tls_ca.clone(),
            partner_ca: Default::default(),
        },
        limits: Limits::default(),
        indicators: Default::default(),
    };
    made.private(CONFIG_FILE, config.to_toml().as_bytes())?;
    let location = config
        .database_location(home, None)
        .map_err(HomeError::Input)?;
    if let detente_store::Location::Sqlite(path) = &location {
        // Created empty with mode 0600 before SQLite opens it: SQLite gives its WAL and
        // shared-memory files the database file's mode, so none of them is ever readable
        // by other users, even for a moment.
        made.private_path(path, b"")?;
        for suffix in ["-wal", "-shm"] {
            made.note(PathBuf::from(format!("{}{suffix}", path.display())));
        }
    }
    let store = Store::open_at(&location, true).await?;
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
    // Public (it goes to the partners), but written like the rest so that it is undone too.
    let party_path = home.join(PARTY_FILE);
    made.note(party_path.clone());
    fs::write(&party_path, party_snippet(&party)).map_err(io(&party_path))?;
    Ok(NewHome {
        token,
        party,
        config,
    })
}

/// What `create` has made so far, to remove again if it fails halfway.
struct Made {
    dir: PathBuf,
    created_dir: bool,
    files: Vec<PathBuf>,
}

impl Made {
    /// Makes `home` (mode 0700) unless it exists; an existing folder is made 0700 too.
    fn new(home: &Path) -> std::io::Result<Self> {
        let created_dir = !home.exists();
        if created_dir {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(home)?;
        } else {
            fs::set_permissions(home, fs::Permissions::from_mode(0o700))?;
        }
        Ok(Self {
            dir: home.to_owned(),
            created_dir,
            files: Vec::new(),
        })
    }

    /// Writes `name` in the home, mode 0600, and remembers it.
    fn private(&mut self, name: &str, bytes: &[u8]) -> Result<(), HomeError> {
        let path = self.dir.join(name);
        self.private_path(&path, bytes)
    }

    /// Writes `path`, mode 0600, and remembers it.
    fn private_path(&mut self, path: &Path, bytes: &[u8]) -> Result<(), HomeError> {
        write_private(path, bytes).map_err(|source| HomeError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.files.push(path.to_owned());
        Ok(())
    }

    /// Remembers a file made by someone else (SQLite, a plain write) for `undo`.
    fn note(&mut self, path: PathBuf) {
        self.files.push(path);
    }

    /// Removes every file made, and the home if `create` made it.
    fn undo(self) {
        for f in self.files.iter().rev() {
            let _ = fs::remove_file(f);
        }
        if self.created_dir {
            let _ = fs::remove_dir(&self.dir);
        }
    }
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

/// The lock file `detente serve` holds for as long as it runs.
pub const LOCK_FILE: &str = "detente.lock";

/// An exclusive lock on a node home, held by `serve` and by commands that must not run
/// beside it (`rebuild`); released when dropped or when the process dies.
#[derive(Debug)]
pub struct HomeLock {
    _file: fs::File,
}

/// Takes the home's lock, or says that a node (or another command) holds it.
pub fn lock(home: &Path, what: &str) -> Result<HomeLock, String> {
    let path = home.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(HomeLock { _file: file }),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(format!(
            "{what} needs the node home {} to itself, but `detente serve` (or another \
             command) is using it: stop the node first",
            home.display()
        )),
        Err(e) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// Makes the home folder 0700 and the node's files 0600 where they are looser (homes made
/// before `init` set these modes), and says what it changed.
pub fn secure(home: &Path, config: &NodeConfig) -> Vec<String> {
    let mut changed = Vec::new();
    let mut tighten = |path: &Path, mode: u32| {
        let Ok(meta) = fs::metadata(path) else {
            return;
        };
        if meta.permissions().mode() & 0o077 != 0
            && fs::set_permissions(path, fs::Permissions::from_mode(mode)).is_ok()
        {
            changed.push(format!("{} to {mode:o}", path.display()));
        }
    };
    tighten(home, 0o700);
    let mut files: Vec<PathBuf> = [
        PathBuf::from(CONFIG_FILE),
        config.key.clone(),
        PathBuf::from(TOKEN_FILE),
    ]
    .into_iter()
    .chain(config.database_password_file.clone())
    .map(|f| home.join(f))
    .collect();
    if let Ok(detente_store::Location::Sqlite(db)) = config.database_location(home, None) {
        for suffix in ["", "-wal", "-shm"] {
            files.push(PathBuf::from(format!("{}{suffix}", db.display())));
        }
    }
    for f in &files {
        tighten(f, 0o600);
    }
    changed
}
