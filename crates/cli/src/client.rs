//! The CLI's client for the local node's JSON API, and what its errors mean as exit codes.

use std::{
    fmt,
    net::IpAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use detente_server::config::NodeConfig;
use serde_json::Value;

use detente_server::{
    home::TOKEN_FILE,
    transport::{read_ca, with_causes},
};

/// Where the API is and how to authenticate (defaults come from the node home).
#[derive(Args, Clone, Default)]
pub struct ApiArgs {
    /// Base URL of the node's API (default: from the home's detente.toml).
    #[arg(long, env = "DETENTE_API")]
    pub api: Option<String>,
    /// API token (default: the home's api-token file).
    #[arg(long, env = "DETENTE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// CA certificate (PEM) to trust for the node's HTTPS (default: the home's
    /// federation.tls_ca, or the chain in its federation.tls_cert).
    #[arg(long, env = "DETENTE_CA")]
    pub ca: Option<PathBuf>,
}

/// An error from the node, kept typed so the exit code can say what kind it was.
#[derive(Debug)]
pub enum CliError {
    /// The node answered with a coded error.
    Api {
        /// The stable error code.
        code: String,
        /// The node's explanation.
        message: String,
    },
    /// The node could not be reached.
    Unreachable(String),
    /// The input given on the command line is unusable (exit code 7).
    Invalid(String),
}

impl CliError {
    /// Exit codes: 3 not found, 4 conflict with the case's state, 5 not authorised,
    /// 6 node unreachable, 7 invalid input, 8 alerts need attention, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Unreachable(_) => 6,
            Self::Invalid(_) => 7,
            Self::Api { code, .. } => match code.as_str() {
                "not_found" | "unknown_case" => 3,
                "illegal_transition" | "replay_conflict" | "out_of_order" => 4,
                "unauthorized" => 5,
                "equivocation" => 8,
                "invalid_message" | "malformed_json" | "outside_terms" | "unknown_party"
                | "payload_too_large" => 7,
                _ => 1,
            },
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api { code, message } => write!(f, "{message} [{code}]"),
            Self::Unreachable(m) | Self::Invalid(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for CliError {}

/// A client for one node's API.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
    // What the client trusts for HTTPS, said when the handshake fails.
    trust: String,
}

/// The CA certificates to trust for the node's HTTPS, and where they came from.
struct Trust {
    certs: Vec<reqwest::Certificate>,
    from: String,
}

impl Api {
    /// A client for `base` with `token`, trusting `trust` for HTTPS (the system's store
    /// when `None`).
    fn new(base: String, token: String, trust: Option<Trust>) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        let from = match trust {
            Some(t) => {
                builder = builder.tls_certs_only(t.certs);
                t.from
            }
            None => "the system's certificate store".to_owned(),
        };
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: builder.build()?,
            trust: from,
        })
    }

    /// A client for a node serving plain HTTP on loopback (the demo).
    pub fn plain(base: String, token: String) -> anyhow::Result<Self> {
        Self::new(base, token, None)
    }

    /// A client for the node in `home`, unless `args` say otherwise.
    pub fn from_home(home: &Path, args: &ApiArgs) -> anyhow::Result<Self> {
        let config = NodeConfig::load(home).map_err(anyhow::Error::msg);
        let base = match (&args.api, &config) {
            (Some(api), _) => api.clone(),
            (None, Ok(c)) => {
                let scheme = if c.federation.tls_cert.is_some() {
                    "https"
                } else {
                    "http"
                };
                let mut addr = c.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(IpAddr::from([127, 0, 0, 1]));
                }
                format!("{scheme}://{addr}")
            }
            (None, Err(e)) => anyhow::bail!("{e}; or give --api and --token"),
        };
        let token = match &args.token {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(home.join(TOKEN_FILE))
                .with_context(|| {
                    format!("reading {}/{TOKEN_FILE}; or give --token", home.display())
                })?
                .trim()
                .to_owned(),
        };
        let trust = match (&args.ca, &config) {
            (Some(ca), _) => Some(Trust {
                certs: read_ca(ca).map_err(anyhow::Error::msg)?,
                from: format!("the CA in {}", ca.display()),
            }),
            (None, Ok(c)) if base.starts_with("https://") => Some(node_ca(home, c)?),
            (None, _) => None,
        };
        Self::new(base, token, trust)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let err = &body["error"];
        Err(CliError::Api {
            code: err["code"].as_str().unwrap_or("http_error").to_owned(),
            message: err["message"]
                .as_str()
                .map_or_else(|| format!("HTTP {status}"), str::to_owned),
        })
    }
}

impl Api {
    /// Says why the node could not be reached: nothing listening, or a TLS handshake that
    /// failed (and what the client trusted), or the cause as reqwest gives it.
    fn unreachable(&self, e: &reqwest::Error) -> CliError {
        let cause = with_causes(e);
        let lower = cause.to_lowercase();
        let hint = if lower.contains("certificate") || lower.contains("tls") {
            format!(
                "the TLS handshake failed; this command trusts {} (set federation.tls_ca in \
                 detente.toml, or give --ca)",
                self.trust
            )
        } else if lower.contains("connection refused") {
            "nothing listens there: is `detente serve` running?".to_owned()
        } else {
            "is the node running, and is the address right?".to_owned()
        };
        CliError::Unreachable(format!(
            "cannot reach the node at {}: {cause}; {hint}",
            self.base
        ))
    }
}

/// What to trust for the HTTPS of the node in `home`: its `federation.tls_ca`, or else the
/// certificates after the first in its `federation.tls_cert` (a chain file with its CA).
fn node_ca(home: &Path, config: &NodeConfig) -> anyhow::Result<Trust> {
    if let Some(ca) = &config.federation.tls_ca {
        let path = home.join(ca);
        return Ok(Trust {
            certs: read_ca(&path).map_err(anyhow::Error::msg)?,
            from: format!("the node's CA {}", path.display()),
        });
    }
    let Some(cert) = &config.federation.tls_cert else {
        anyhow::bail!("the node serves plain HTTP: its API is not at an https:// address");
    };
    let path = home.join(cert);
    let mut chain = read_ca(&path).map_err(anyhow::Error::msg)?;
    if chain.len() < 2 {
        anyhow::bail!(
            "{} holds the node's certificate but not the CA that issued it: set \
             federation.tls_ca in detente.toml to that CA's PEM file, or give --ca",
            path.display()
        );
    }
    chain.remove(0);
    Ok(Trust {
        certs: chain,
        from: format!("the CA chain in {}", path.display()),
    })
}

/// `detente status`.
pub async fn status(home: &Path, args: &ApiArgs, json: bool) -> anyhow::Result<()> {
    let api = Api::from_home(home, args)?;
    let s = api.get("/api/v1/status").await?;
    if json {
        println!("{s}");
        return Ok(());
    }
    println!("party      {}", s["party"].as_str().unwrap_or("?"));
    println!(
        "agreement  {} ({})",
        s["agreement"]["id"].as_str().unwrap_or("?"),
        s["agreement"]["digest"].as_str().unwrap_or("?")
    );
    println!(
        "log        {} entries, root {}",
        s["log_entries"],
        s["log"]["root"].as_str().unwrap_or("?")
    );
    for p in s["partners"].as_array().into_iter().flatten() {
        let c = &p["latest_consistent_checkpoint"];
        println!(
            "partner {:<6} log proven consistent up to size {}",
            p["party"].as_str().unwrap_or("?"),
            c["size"]
                .as_u64()
                .map_or_else(|| "- (no checkpoint yet)".to_owned(), |n| n.to_string())
        );
    }
    let alerts = s["alerts"].as_array().cloned().unwrap_or_default();
    for a in &alerts {
        println!(
            "ALERT {} {}: {}",
            a["kind"].as_str().unwrap_or("?"),
            a["party"].as_str().unwrap_or("?"),
            a["detail"].as_str().unwrap_or("?")
        );
    }
    for o in s["outgoing"].as_array().into_iter().flatten() {
        println!(
            "to {:<6}  {:<10} {}",
            o["to"].as_str().unwrap_or("?"),
            o["state"].as_str().unwrap_or("?"),
            o["count"]
        );
    }
    Ok(())
}
