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
    /// `detente.db`), or a PostgreSQL URL, `postgres://user@host:port/database`.
    pub database: PathBuf,
    /// A file (mode 0600, relative to the home folder) holding the PostgreSQL password, so
    /// that `detente.toml` never holds it; `init --database` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_password_file: Option<PathBuf>,
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
    /// The CA (PEM) that issued `tls_cert`, relative to the home folder: the CLI trusts it,
    /// and only it, to reach this node's API over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
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
    /// Open connections allowed from one client address.
    #[serde(default = "max_connections_per_address")]
    pub max_connections_per_address: u32,
    /// Open connections allowed in all.
    #[serde(default = "max_connections")]
    pub max_connections: u32,
    /// Seconds a client has to send a request's headers (and between requests on a kept-alive
    /// connection) before it is disconnected.
    #[serde(default = "header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
}

fn max_connections_per_address() -> u32 {
    128
}

fn max_connections() -> u32 {
    4096
}

fn header_read_timeout_secs() -> u64 {
    10
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            requests_per_second: 200,
            burst: 2000,
            max_connections_per_address: max_connections_per_address(),
            max_connections: max_connections(),
            header_read_timeout_secs: header_read_timeout_secs(),
        }
    }
}

impl NodeConfig {
    /// Where the database lives: `database`, or `database_override` (the operator's
    /// `--database`) when given, read against `home`. A configured PostgreSQL URL without a
    /// password gets the one in `database_password_file`.
    pub fn database_location(
        &self,
        home: &Path,
        database_override: Option<&str>,
    ) -> Result<detente_store::Location, String> {
        let configured = self.database.to_string_lossy();
        let database = match (database_override, &self.database_password_file) {
            (Some(url), _) => url.to_owned(),
            (None, Some(file)) => {
                let path = home.join(file);
                let password = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                with_password(&configured, password.trim_end_matches(['\r', '\n']))?
            }
            (None, None) => configured.into_owned(),
        };
        Ok(detente_store::Location::parse(&database, home))
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

/// A database URL split into the URL without its password and the password, if it has one:
/// what `init` writes into `detente.toml` and into the password file.
pub fn split_password(database: &str) -> Result<(String, Option<String>), String> {
    if !is_postgres(database) {
        return Ok((database.to_owned(), None));
    }
    let mut url = url::Url::parse(database).map_err(|e| format!("not a database URL: {e}"))?;
    // A `password=` query parameter is a password too (libpq and sqlx read it, and it wins
    // over the user information): it must not reach `detente.toml` either.
    let (queried, rest): (Vec<_>, Vec<_>) = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .partition(|(k, _)| k == "password");
    let from_query = queried.into_iter().next_back().map(|(_, v)| v);
    if from_query.is_some() {
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(&rest);
        }
    }
    let from_user_info = match url.password() {
        Some(encoded) => Some(
            percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .map_err(|_| "the database password is not UTF-8".to_owned())?
                .into_owned(),
        ),
        None => None,
    };
    let Some(password) = from_query.or(from_user_info) else {
        return Ok((database.to_owned(), None));
    };
    url.set_password(None)
        .map_err(|()| "the database URL cannot hold a password".to_owned())?;
    Ok((url.to_string(), Some(password)))
}

/// `database` with `password` set, unless the URL already carries one.
fn with_password(database: &str, password: &str) -> Result<String, String> {
    if !is_postgres(database) {
        return Ok(database.to_owned());
    }
    let mut url = url::Url::parse(database).map_err(|e| format!("not a database URL: {e}"))?;
    if url.password().is_none() {
        // `set_password` leaves `%` as it is, so the password goes in already encoded.
        let encoded = percent_encoding::utf8_percent_encode(password, USERINFO).to_string();
        url.set_password(Some(&encoded))
            .map_err(|()| "the database URL cannot hold a password".to_owned())?;
    }
    Ok(url.to_string())
}

/// What must be percent-encoded in a URL's user information (RFC 3986 §3.2.1): everything
/// but the unreserved characters.
const USERINFO: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_split_off_a_url_and_put_back_gives_the_same_url() {
        let url = "postgres://detente:p%40ss%3Aw%2Frd%25x@db.example:5432/us?sslmode=require";
        let (bare, password) = split_password(url).expect("a URL");
        assert_eq!(
            bare,
            "postgres://detente@db.example:5432/us?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss:w/rd%x"));
        assert_eq!(
            with_password(&bare, "p@ss:w/rd%x").expect("a URL"),
            url.to_owned()
        );
    }

    /// Regression (issue 19.13): `init --database 'postgres://u@db/us?password=...'` wrote
    /// the password into `detente.toml`, since only the user information's one was split off.
    #[test]
    fn a_password_given_as_a_query_parameter_is_split_off_too() {
        let url = "postgres://detente@db.example/us?sslmode=require&password=s3cr%26t";
        let (bare, password) = split_password(url).expect("a URL");
        assert_eq!(bare, "postgres://detente@db.example/us?sslmode=require");
        assert_eq!(password.as_deref(), Some("s3cr&t"));
        assert_eq!(
            with_password(&bare, "s3cr&t").expect("a URL"),
            "postgres://detente:s3cr%26t@db.example/us?sslmode=require"
        );
        let (bare, password) = split_password("postgres://d@db/us?password=x").expect("a URL");
        assert_eq!(
            (bare.as_str(), password.as_deref()),
            ("postgres://d@db/us", Some("x"))
        );
    }

    #[test]
    fn a_file_path_or_a_url_without_password_is_left_alone() {
        assert_eq!(
            split_password("detente.db").expect("a path"),
            ("detente.db".to_owned(), None)
        );
        let bare = "postgres://detente@db/us";
        assert_eq!(
            split_password(bare).expect("a URL"),
            (bare.to_owned(), None)
        );
    }
}
