//! The outbox worker: delivers committed envelopes to partner nodes, in sequence order per
//! partner, in batches, retrying with exponential backoff until each one has a signed
//! receipt or a final refusal. The queue lives in the database, so it survives restarts.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use detente_protocol::PartyId;
use detente_store::OutboxItem;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    config::NodeConfig,
    error::ErrorCode,
    node::{Delivery, Node, NodeError, now},
    transport::{partner_client, with_causes},
};

/// Most envelopes sent to one partner in one HTTP request.
pub const MAX_BATCH: usize = 256;

/// The path of the federation endpoint on every node.
pub const ENVELOPES_PATH: &str = "/federation/v1/envelopes";

/// HTTP clients for each partner node, each trusting only that partner's pinned CA.
pub struct Partners {
    clients: BTreeMap<PartyId, (reqwest::Client, String)>,
}

impl Partners {
    /// Builds a client per partner named in the agreement.
    pub fn new(node: &Node, config: &NodeConfig, home: &Path) -> Result<Self, String> {
        let mut clients = BTreeMap::new();
        for party in node
            .agreement()
            .parties
            .iter()
            .filter(|p| &p.id != node.party())
        {
            let url = party.node_url.trim_end_matches('/').to_owned();
            let client = partner_client(config, home, &party.id, &url, Duration::from_secs(30))?;
            clients.insert(party.id.clone(), (client, url));
        }
        Ok(Self { clients })
    }

    /// GETs `path` (with query) from `to`'s node as a signed partner read request.
    pub async fn get(&self, node: &Node, to: &PartyId, path: &str) -> Result<Value, String> {
        let (client, url) = self
            .clients
            .get(to)
            .ok_or_else(|| format!("{to} is not a partner"))?;
        let mut request = client.get(format!("{url}{path}"));
        for (name, value) in node.sign_request("GET", path, b"") {
            request = request.header(name, value);
        }
        exchange(to, url, request).await
    }

    /// Posts a batch of envelopes to `to` and returns one delivery result per envelope.
    pub async fn deliver(
        &self,
        to: &PartyId,
        batch: &[OutboxItem],
    ) -> Result<Vec<Delivery>, String> {
        let (client, url) = self
            .clients
            .get(to)
            .ok_or_else(|| format!("{to} is not a partner"))?;
        let envelopes: Vec<Value> = batch
            .iter()
            .map(|i| {
                let mut envelope: Value =
                    serde_json::from_slice(&i.envelope).map_err(|e| e.to_string())?;
                // A version 2 envelope's body travels beside its signed header.
                if let (Some(body), Some(o)) = (&i.body, envelope.as_object_mut()) {
                    let body: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
                    o.insert("body".into(), body);
                }
                Ok::<_, String>(envelope)
            })
            .collect::<Result<_, _>>()?;
        let request = client
            .post(format!("{url}{ENVELOPES_PATH}"))
            .json(&json!({ "envelopes": envelopes }));
        let parsed: BatchAnswer = exchange(to, url, request).await?;
        if parsed.results.len() != batch.len() {
            return Err(format!(
                "{to} answered {} results for {} envelopes",
                parsed.results.len(),
                batch.len()
            ));
        }
        Ok(parsed
            .results
            .into_iter()
            .map(|r| match (r.receipt, r.error) {
                (Some(receipt), None) => {
                    Delivery::Receipt(json!({"receipt": receipt, "signature": r.signature}))
                }
                (_, Some(e)) => Delivery::Refused(NodeError::refused(e.code, e.message)),
                (None, None) => Delivery::Refused(NodeError::refused(
                    ErrorCode::Internal,
                    format!("{to} answered an empty result"),
                )),
            })
            .collect())
    }
}

/// Sends `request` to `to`'s node and reads a JSON answer, saying plainly what failed.
async fn exchange<T: serde::de::DeserializeOwned>(
    to: &PartyId,
    url: &str,
    request: reqwest::RequestBuilder,
) -> Result<T, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach {to} at {url}: {}", with_causes(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer of {to}: {e}"))?;
    if !status.is_success() {
        return Err(format!(
            "{to} answered HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{to} answered with malformed JSON: {e}"))
}

#[derive(Deserialize)]
struct BatchAnswer {
    results: Vec<ItemAnswer>,
}

#[derive(Deserialize)]
struct ItemAnswer {
    receipt: Option<Value>,
    signature: Option<Value>,
    error: Option<ItemError>,
}

#[derive(Deserialize)]
struct ItemError {
    code: ErrorCode,
    message: String,
}

/// Runs until `stop` resolves: delivers whatever is due, then sleeps until the next attempt
/// falls due or a new message is committed.
pub async fn run(
    node: Arc<Node>,
    partners: Arc<Partners>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut stop = stop;
    loop {
        if *stop.borrow() {
            return;
        }
        let worked = match deliver_due(&node, &partners).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "outbox pass failed");
                false
            }
        };
        if worked {
            continue;
        }
        let wait = match node.store().outbox_next_due().await {
            Ok(Some(due)) => Duration::from_millis(
                u64::try_from(due.since(now()).whole_milliseconds().max(0)).unwrap_or(0),
            ),
            _ => Duration::from_secs(5),
        }
        .min(Duration::from_secs(5));
        tokio::select! {
            () = node.outbox_woken() => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One pass over the outbox; returns how many envelopes got a final outcome.
async fn deliver_due(node: &Node, partners: &Partners) -> Result<usize, NodeError> {
    let due = node
        .store()
        .outbox_due(now(), u32::try_from(MAX_BATCH * 4).unwrap_or(1024))
        .await?;
    let mut by_partner: BTreeMap<PartyId, Vec<OutboxItem>> = BTreeMap::new();
    for item in due {
        let batch = by_partner.entry(item.recipient.clone()).or_default();
        if batch.len() < MAX_BATCH {
            batch.push(item);
        }
    }
    let mut settled = 0;
    for (to, batch) in by_partner {
        match partners.deliver(&to, &batch).await {
            Ok(results) => settled += node.settle(&batch, results).await?,
            Err(e) => {
                tracing::warn!(to = %to, error = %e, attempts = batch[0].attempts + 1, "delivery failed; will retry");
                node.defer(&to, batch[0].attempts, &e).await?;
            }
        }
    }
    Ok(settled)
}
