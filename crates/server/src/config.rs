//! A node's configuration file, `detente.toml` in the node's home folder.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use detente_protocol::{PartyId, Tlp};
use serde::{Deserialize, Serialize};

/// The file name of the configuration inside a node home.
pub const CONFIG_FILE: &str = "detente.toml";

/// Everything a node needs to start, as written in `detente.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The party this node speaks for.
    pub party: PartyId,
    /// Address to listen on, e.g. `0.0.0.0:8443`.
    pub listen: SocketAddr,
    /// The database: an SQLite file, relative to the home folder (the default,
    /// `detente.db`), or a PostgreSQL URL, `postgres://user:password@host:port/database`.
    pub database: PathBuf,
    /// Ed25519 private key (PKCS#8 PEM), relative to the home folder.
    pub key: PathBuf,
    /// The agreement document, relative to the home folder.
    pub agreement: PathBuf,
    /// Federation transport.
    #[serde(default)]
    pub federation: FederationConfig,
    /// Size and rate limits.
    #[serde(default)]
    pub limits: Limits,
    /// Indicators: the TLP default, TAXII users, partner collections to pull.
    #[serde(default)]
    pub indicators: IndicatorsConfig,
}

/// Indicators (STIX objects) and TAXII.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsConfig {
    /// The TLP level of objects that carry no TLP marking (AMBER unless set).
    #[serde(default = "amber")]
    pub default_tlp: Tlp,
    /// TAXII users for HTTP Basic authentication, by user name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub taxii_users: BTreeMap<String, TaxiiUser>,
    /// Partner TAXII collections this node pulls (`[[indicators.pull]]` sections).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull: Vec<PullSource>,
    /// Seconds between scheduled pulls; 0 pulls only on demand (`detente indicators pull`).
    #[serde(default = "hourly")]
    pub pull_every_secs: u64,
}

fn amber() -> Tlp {
    Tlp::Amber
}

fn hourly() -> u64 {
    3600
}

impl Default for IndicatorsConfig {
    fn default() -> Self {
        Self {
            default_tlp: amber(),
            taxii_users: BTreeMap::new(),
            pull: Vec::new(),
            pull_every_secs: hourly(),
        }
    }
}

/// A TAXII user: the party it reads for, and its password's hash. Passwords are random
/// 256-bit tokens made by `detente indicators user add`, so one SHA-256 is enough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiUser {
    /// The party the user reads for; the TLP rule treats them as that party.
    pub party: PartyId,
    /// Hex SHA-256 of the password.
    pub password_sha256: String,
}

/// One partner TAXII collection to pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSource {
    /// The party that serves it; pulled objects are recorded as coming from this party.
    pub party: PartyId,
    /// The API root URL, e.g. `https://node.cn.example/taxii2/detente/`.
    pub api_root: String,
    /// The collection's id.
    pub collection: String,
    /// HTTP Basic user name at the partner.
    pub user: String,
    /// File holding the password, relative to the home folder.
    pub password_file: PathBuf,
}

/// How this node talks to partner nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Serve and call plain HTTP. Only for loopback demos and tests; between countries
    /// nodes use HTTPS with `tls_cert`, `tls_key` and pinned partner CAs.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// This node's TLS certificate chain (PEM), relative to the home folder.
    pub tls_cert: Option<PathBuf>,
    /// This node's TLS private key (PEM), relative to the home folder.
    pub tls_key: Option<PathBuf>,
    /// Per partner party id: the CA certificate (PEM) its node's certificate must chain to.
    #[serde(default)]
    pub partner_ca: BTreeMap<PartyId, PathBuf>,
}

/// Limits that protect the node from oversized or too frequent requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted on any endpoint, in bytes.
    pub max_body_bytes: usize,
    /// Sustained requests per second allowed from one client address.
    pub requests_per_second: u32,
    /// Burst allowance above the sustained rate.
    pub burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            requests_per_second: 200,
            burst: 2000,
        }
    }
}

impl NodeConfig {
    /// Where the database lives: `database`, or `database_override` (the operator's
    /// `--database`) when given, read against `home`.
    pub fn database_location(
        &self,
        home: &Path,
        database_override: Option<&str>,
    ) -> detente_store::Location {
        let configured = self.database.to_string_lossy();
        detente_store::Location::parse(database_override.unwrap_or(&configured), home)
    }

    /// Reads `detente.toml` from `home`.
    pub fn load(home: &Path) -> Result<Self, String> {
        let path = home.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e}; is this a node home made by `detente init`?",
                path.display()
            )
        })?;
        toml::from_str(&text)
            .map_err(|e| format!("{} is not a valid node configuration: {e}", path.display()))
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a node configuration always serialises")
    }
}
