//! Every outgoing connection of the node, to partner nodes (federation, log reads, proofs)
//! and to partner TAXII servers, is made here, under one rule: HTTPS to a partner trusts only
//! the CA pinned for that partner (`federation.partner_ca.<PARTY>`), never the system's
//! certificate store, and plain HTTP is refused unless `federation.allow_plain_http` is set.
//! So no signed envelope, signed read or TAXII password ever crosses a connection the
//! operator did not pin.

use std::{path::Path, time::Duration};

use detente_protocol::PartyId;

use crate::config::NodeConfig;

/// An HTTP client for talking to `party` at `url` (a node URL or a TAXII API root), pinned to
/// the party's CA, giving up on a request after `timeout`.
pub fn partner_client(
    config: &NodeConfig,
    home: &Path,
    party: &PartyId,
    url: &str,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        // A partner that redirects must not be able to send this node (and its credentials)
        // somewhere the pinning was not decided for.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("detente/", env!("CARGO_PKG_VERSION")));
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    match scheme.to_ascii_lowercase().as_str() {
        "http" if config.federation.allow_plain_http => {
            builder = builder.https_only(false);
        }
        "http" => {
            return Err(format!(
                "{url} ({party}) is plain http://; use https, or set \
                 federation.allow_plain_http = true for a loopback test"
            ));
        }
        "https" => {
            let ca_path = config.federation.partner_ca.get(party).ok_or_else(|| {
                format!(
                    "no CA pinned for partner {party}, needed for {url}: set \
                     federation.partner_ca.{party} in detente.toml"
                )
            })?;
            let certs = read_ca(&home.join(ca_path))
                .map_err(|e| format!("the CA pinned for {party}: {e}"))?;
            builder = builder.tls_certs_only(certs).https_only(true);
        }
        _ => return Err(format!("{url} ({party}) is not an http(s) URL")),
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client for {party}: {e}"))
}

/// Reads a PEM file of CA certificates, refusing one that holds none (a DER file, a key, an
/// empty file): pinning nothing must never mean trusting nothing silently.
pub fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("{} is not a PEM certificate file: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// An error followed by its causes. reqwest's own message leaves out why a request failed
/// (refused connection, untrusted certificate), which is what an operator needs to know.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
