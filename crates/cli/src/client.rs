//! The CLI's client for the local node's JSON API, and what its errors mean as exit codes.

use std::{
    fmt,
    net::IpAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use detente_api::{ErrorBody, ErrorCode, StatusView};
use detente_server::config::NodeConfig;
use serde::{Serialize, de::DeserializeOwned};

use detente_server::{
    home::TOKEN_FILE,
    transport::{read_ca, with_causes},
};

use crate::term::{self, out};

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

/// The exit codes of every command, as `--help` lists them and the README's table says.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  any other error
  2  usage error (an unknown option, a missing argument)
  3  unknown case, or nothing found
  4  not allowed in the case's current state
  5  not authorised (API token, signature, or TLP)
  6  the node cannot be reached
  7  invalid input (a value, a file, a request outside the agreement)
  8  something needs the operator's attention (`detente status`)";

/// Why a command failed, kept typed so the exit code can say what kind it was (see
/// [`EXIT_CODES`]).
#[derive(Debug)]
pub enum CliError {
    /// The node answered with a coded error.
    Api {
        /// The stable error code.
        code: ErrorCode,
        /// The node's explanation.
        message: String,
    },
    /// The node answered with something that is not the API's error envelope.
    Http(String),
    /// The node could not be reached.
    Unreachable(String),
    /// What was given on the command line (a value, a file) is unusable.
    BadInput(String),
    /// The command worked, and what it found needs the operator.
    Attention(String),
}

impl CliError {
    /// The process exit code; see [`EXIT_CODES`].
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Http(_) => 1,
            Self::Unreachable(_) => 6,
            Self::BadInput(_) => 7,
            Self::Attention(_) => 8,
            Self::Api { code, .. } => match code {
                ErrorCode::NotFound | ErrorCode::UnknownCase => 3,
                ErrorCode::IllegalTransition
                | ErrorCode::ReplayConflict
                | ErrorCode::OutOfOrder => 4,
                ErrorCode::Unauthorized
                | ErrorCode::Forbidden
                | ErrorCode::BadSignature
                | ErrorCode::TlpDenied
                | ErrorCode::WrongRecipient => 5,
                ErrorCode::InvalidMessage
                | ErrorCode::MalformedJson
                | ErrorCode::BadRequest
                | ErrorCode::OutsideTerms
                | ErrorCode::UnknownParty
                | ErrorCode::PayloadTooLarge
                | ErrorCode::UnsupportedMediaType => 7,
                _ => 1,
            },
        }
    }

    /// The error's code in `--json` output: the node's code, or one of the CLI's own.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Api { code, .. } => code.as_str(),
            Self::Http(_) => "http_error",
            Self::Unreachable(_) => "unreachable",
            Self::BadInput(_) => "bad_input",
            Self::Attention(_) => "attention",
        }
    }

    /// What to tell the operator, without the code.
    pub fn message(&self) -> &str {
        match self {
            Self::Api { message, .. }
            | Self::Http(message)
            | Self::Unreachable(message)
            | Self::BadInput(message)
            | Self::Attention(message) => message,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api { code, message } => write!(f, "{} [{code}]", term::one_line(message)),
            other => f.write_str(&term::one_line(other.message())),
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

    /// `GET path`, read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.call(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// `GET path?query`, read as `T`.
    pub async fn get_query<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &impl Serialize,
    ) -> Result<T, CliError> {
        self.call(self.http.get(format!("{}{path}", self.base)).query(query))
            .await
    }

    /// `POST path` with a JSON body, the answer read as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, CliError> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    async fn call<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, CliError> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                CliError::Http(format!(
                    "the node at {} answered HTTP {status} with a body this CLI cannot read \
                     ({e}); is it a detente node of the same version?",
                    self.base
                ))
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(CliError::Api {
                code: body.error.code,
                message: body.error.message,
            }),
            Err(_) => Err(CliError::Http(format!(
                "the node at {} answered HTTP {status} without an error this CLI can read",
                self.base
            ))),
        }
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

/// `detente status`: prints the node at a glance, and exits 8 when anything needs the
/// operator: an alert, a partner that cannot be delivered to, a message refused for good.
pub async fn status(home: &Path, args: &ApiArgs, json: bool) -> anyhow::Result<()> {
    let api = Api::from_home(home, args)?;
    let s: StatusView = api.get("/api/v1/status").await?;
    if json {
        out!("{}", term::json(&s));
    } else {
        print_status(&s);
    }
    if s.attention {
        return Err(CliError::Attention(
            "something needs the operator's attention: see the alerts and delivery lines above"
                .to_owned(),
        )
        .into());
    }
    Ok(())
}

fn print_status(s: &StatusView) {
    out!("party      {}", s.party);
    out!(
        "agreement  {} ({})",
        term::one_line(&s.agreement.id),
        s.agreement.digest
    );
    out!("fingerprint {}", s.agreement.fingerprint);
    out!("log        {} entries, root {}", s.log_entries, s.log.root);
    for p in &s.partners {
        out!(
            "partner {:<6} log proven consistent up to size {}",
            p.party,
            p.latest_consistent_checkpoint.as_ref().map_or_else(
                || "- (no checkpoint yet)".to_owned(),
                |c| c.size.to_string()
            )
        );
        if p.pending > 0 {
            let next = p
                .next_attempt_at
                .map_or_else(|| "-".to_owned(), |t| t.to_string());
            match &p.last_error {
                Some(e) => out!(
                    "DELIVERY FAILING to {}: {} message(s) waiting, {} failed attempt(s), \
                     next retry {next}; last error: {}",
                    p.party,
                    p.pending,
                    p.attempts,
                    term::one_line(e)
                ),
                None => out!(
                    "delivery to {}: {} message(s) waiting, next attempt {next}",
                    p.party,
                    p.pending
                ),
            }
        }
    }
    for a in &s.alerts {
        out!(
            "ALERT {} {} at {}: {}",
            term::one_line(&a.kind),
            term::one_line(&a.party),
            a.raised_at,
            term::one_line(&a.detail)
        );
    }
    for o in &s.outgoing {
        let rejected = if o.state == "rejected" {
            "  REFUSED by the partner: see `detente request show` for why"
        } else {
            ""
        };
        out!(
            "to {:<6}  {:<10} {}{rejected}",
            term::one_line(&o.to),
            term::one_line(&o.state),
            o.count
        );
    }
    for p in &s.pulls {
        out!(
            "pull {} {}: {} round(s), {} failed, {} received, {} stored{}",
            term::one_line(&p.party),
            term::one_line(&p.collection),
            p.rounds,
            p.failures,
            p.received,
            p.stored,
            p.last_error
                .as_deref()
                .map_or_else(String::new, |e| format!(
                    "; last error: {}",
                    term::one_line(e)
                ))
        );
    }
    if s.attention {
        out!("ATTENTION: something above needs the operator");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_code_has_the_exit_code_of_the_readme_table() {
        let api = |code| CliError::Api {
            code,
            message: String::new(),
        };
        assert_eq!(api(ErrorCode::UnknownCase).exit_code(), 3);
        assert_eq!(api(ErrorCode::IllegalTransition).exit_code(), 4);
        assert_eq!(api(ErrorCode::TlpDenied).exit_code(), 5);
        assert_eq!(api(ErrorCode::BadSignature).exit_code(), 5);
        assert_eq!(api(ErrorCode::BadRequest).exit_code(), 7);
        assert_eq!(api(ErrorCode::Internal).exit_code(), 1);
        assert_eq!(CliError::Unreachable(String::new()).exit_code(), 6);
        assert_eq!(CliError::BadInput(String::new()).exit_code(), 7);
        assert_eq!(CliError::Attention(String::new()).exit_code(), 8);
    }
}
