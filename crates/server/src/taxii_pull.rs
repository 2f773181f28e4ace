//! The TAXII 2.1 client: pulls a partner's collection incrementally into this node's store.
//!
//! Each pull asks for objects `added_after` the bookmark, follows `next` until `more` is
//! false (TAXII 2.1 §3.4), validates every object like an import, stores them as coming from
//! the partner (named recipient: this node), and only then moves the bookmark to the last
//! page's `X-TAXII-Date-Added-Last`. A pull cut short therefore repeats pages next time,
//! which dedupe by (id, version) makes harmless, and never skips any.

use std::{path::Path, sync::Arc, time::Duration};

use detente_stix::{FileReport, ImportOptions, Importer};
use detente_store::{ShareContext, Store};
use serde_json::Value;

use crate::{
    config::{NodeConfig, PullSource},
    transport::{partner_client, with_causes},
};

/// Objects asked for per page.
const PAGE: usize = 1000;
/// Pages one pull follows at most, so a misbehaving server cannot keep a pull going forever.
const MAX_PAGES: usize = 100_000;

/// What one pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// Pages fetched.
    pub pages: u64,
    /// Objects received, stored for the first time, already stored, rejected.
    pub received: u64,
    /// Object versions new to this node.
    pub stored: u64,
    /// Object versions already held.
    pub duplicates: u64,
    /// Objects that failed validation, with their reasons.
    pub rejected: Vec<String>,
    /// The bookmark after the pull.
    pub added_after: Option<String>,
}

/// What the scheduled puller did for one source since the node started, for
/// `GET /api/v1/status`: whether pulls work, and whether each object arrives once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PullHistory {
    /// The party serving the collection.
    pub party: String,
    /// The collection pulled.
    pub collection: String,
    /// Scheduled pulls finished, successful or not.
    pub rounds: u64,
    /// Scheduled pulls that failed.
    pub failures: u64,
    /// Objects received over all pulls. The bookmark makes each object the partner added
    /// arrive once, so this stays near what the partner holds however many rounds ran.
    pub received: u64,
    /// Object versions new to this node over all pulls.
    pub stored: u64,
    /// The latest successful pull.
    pub last: Option<PullReport>,
    /// Why the latest pull failed, if it did.
    pub last_error: Option<String>,
}

impl PullHistory {
    /// No pull yet of `source`.
    pub fn new(source: &PullSource) -> Self {
        Self {
            party: source.party.to_string(),
            collection: source.collection.clone(),
            rounds: 0,
            failures: 0,
            received: 0,
            stored: 0,
            last: None,
            last_error: None,
        }
    }

    /// Adds one pull's outcome.
    pub fn record(&mut self, outcome: &Result<PullReport, PullError>) {
        self.rounds += 1;
        match outcome {
            Ok(r) => {
                self.received += r.received;
                self.stored += r.stored;
                self.last = Some(r.clone());
                self.last_error = None;
            }
            Err(e) => {
                self.failures += 1;
                self.last_error = Some(e.to_string());
            }
        }
    }
}

/// What the scheduled puller did per source since the node started: written by [`run`], read
/// by `GET /api/v1/status`.
#[derive(Debug, Default)]
pub struct Pulls(std::sync::Mutex<Vec<PullHistory>>);

impl Pulls {
    /// Records the outcome of a scheduled pull of `source`.
    pub fn record(&self, source: &PullSource, outcome: &Result<PullReport, PullError>) {
        let mut pulls = self.0.lock().expect("never poisoned");
        let at = pulls
            .iter()
            .position(|h| h.party == source.party.as_str() && h.collection == source.collection);
        let history = match at {
            Some(i) => &mut pulls[i],
            None => {
                pulls.push(PullHistory::new(source));
                pulls.last_mut().expect("just pushed")
            }
        };
        history.record(outcome);
    }

    /// Each source's history so far.
    pub fn snapshot(&self) -> Vec<PullHistory> {
        self.0.lock().expect("never poisoned").clone()
    }
}

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The partner could not be reached or answered with an error.
    #[error("TAXII server: {0}")]
    Http(String),
    /// The answer is not a TAXII envelope.
    #[error("the TAXII server sent something that is not an envelope: {0}")]
    Envelope(String),
    /// No connection may be made to the source as configured (no pinned CA, plain HTTP).
    #[error("{0}")]
    Connection(String),
    /// The password file could not be read.
    #[error("reading the password file {0}: {1}")]
    Password(String, String),
    /// Storing failed.
    #[error(transparent)]
    Store(#[from] detente_store::StoreError),
}

/// Pulls `source` once into `store`, over a connection pinned to the partner's CA like every
/// other connection of the node (see `crate::transport`): the Basic credentials never cross
/// plain HTTP unless the node allows it, nor reach a certificate the partner's CA did not sign.
pub async fn pull(
    store: &Store,
    home: &Path,
    config: &NodeConfig,
    source: &PullSource,
    now_micros: i64,
) -> Result<PullReport, PullError> {
    let http = partner_client(
        config,
        home,
        &source.party,
        &source.api_root,
        Duration::from_secs(60),
    )
    .map_err(PullError::Connection)?;
    let password = std::fs::read_to_string(home.join(&source.password_file)).map_err(|e| {
        PullError::Password(source.password_file.display().to_string(), e.to_string())
    })?;
    let key = format!("{}|{}", source.party, source.api_root);
    let mut bookmark = store.taxii_bookmark(&key, &source.collection).await?;
    let share = ShareContext {
        origin: source.party.to_string(),
        audience: None,
        recipients: vec![config.party.to_string()],
    };
    let url = format!(
        "{}/collections/{}/objects/",
        source.api_root.trim_end_matches('/'),
        source.collection
    );
    let mut report = PullReport::default();
    let mut importer = Importer::new(ImportOptions::default());
    let mut next: Option<String> = None;
    let mut last_added: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query: Vec<(&str, String)> = vec![("limit", PAGE.to_string())];
        if let Some(a) = &bookmark {
            query.push(("added_after", a.clone()));
        }
        if let Some(n) = &next {
            query.push(("next", n.clone()));
        }
        let resp = http
            .get(&url)
            .query(&query)
            .basic_auth(&source.user, Some(password.trim()))
            .header("accept", crate::routes::taxii::TAXII_MEDIA_TYPE)
            .send()
            .await
            .map_err(|e| PullError::Http(with_causes(&e)))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(PullError::Http(format!("{url}: {status}: {body}")));
        }
        if let Some(v) = resp
            .headers()
            .get("x-taxii-date-added-last")
            .and_then(|v| v.to_str().ok())
        {
            last_added = Some(v.to_owned());
        }
        let page: Value = resp
            .json()
            .await
            .map_err(|e| PullError::Envelope(e.to_string()))?;
        report.pages += 1;
        let objects = match page.get("objects") {
            Some(Value::Array(a)) => a.clone(),
            None => Vec::new(),
            Some(_) => return Err(PullError::Envelope("`objects` is not a list".into())),
        };
        let mut file = FileReport::default();
        let accepted: Vec<_> = objects
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| importer.offer(i as u64, v, &mut file))
            .collect();
        report.received += file.read;
        report
            .rejected
            .extend(file.rejections.iter().map(ToString::to_string));
        let counts = store
            .insert_stix(&accepted, &share, None, now_micros)
            .await?;
        report.stored += counts.inserted;
        report.duplicates += counts.duplicates + file.duplicates;
        next = page.get("next").and_then(Value::as_str).map(str::to_owned);
        let more = page.get("more").and_then(Value::as_bool).unwrap_or(false);
        if !more || next.is_none() {
            break;
        }
    }
    // Move the bookmark only once every page is stored.
    if let Some(last) = last_added {
        store
            .set_taxii_bookmark(&key, &source.collection, &last)
            .await?;
        bookmark = Some(last);
    }
    report.added_after = bookmark;
    Ok(report)
}

/// Pulls every configured source every `pull_every_secs` until `stop` turns true, recording
/// each outcome in `pulls`.
pub async fn run(
    store: Store,
    pulls: Arc<Pulls>,
    home: std::path::PathBuf,
    config: NodeConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let every = config.indicators.pull_every_secs;
    if every == 0 || config.indicators.pull.is_empty() {
        return;
    }
    loop {
        for source in &config.indicators.pull {
            let now = crate::node::now().unix_millis() * 1000;
            let outcome = pull(&store, &home, &config, source, now).await;
            match &outcome {
                Ok(r) => tracing::info!(party = %source.party, collection = %source.collection,
                    stored = r.stored, received = r.received, rejected = r.rejected.len(), "TAXII pull"),
                Err(e) => tracing::warn!(party = %source.party, collection = %source.collection,
                    error = %e, "TAXII pull failed; retrying at the next interval"),
            }
            pulls.record(source, &outcome);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(every)) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_failed_pull_counts_as_a_round_and_keeps_the_totals_and_the_last_report() {
        let source = PullSource {
            party: "US".parse().unwrap(),
            api_root: "https://us.example/taxii2/detente/".into(),
            collection: "c".into(),
            user: "cn".into(),
            password_file: "pw".into(),
        };
        let mut h = PullHistory::new(&source);
        let report = PullReport {
            pages: 1,
            received: 5,
            stored: 4,
            duplicates: 1,
            ..PullReport::default()
        };
        h.record(&Ok(report.clone()));
        h.record(&Err(PullError::Http("connection refused".into())));
        assert_eq!((h.rounds, h.failures, h.received, h.stored), (2, 1, 5, 4));
        assert_eq!(h.last, Some(report));
        assert!(h.last_error.unwrap().contains("connection refused"));
    }
}
