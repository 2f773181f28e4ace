//! Two nodes in one process on loopback ports, with fresh homes: what the demo and the
//! benchmarks run. Real nodes (real HTTP, real databases); only the process is shared.

use std::{net::TcpListener, path::Path, sync::Arc};

use detente_domain::{Agreement, Terms};
use detente_protocol::PartyId;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    config::{CONFIG_FILE, Limits, NodeConfig},
    home::{AGREEMENT_FILE, HomeSpec, create},
    node::Node,
    open_node, serve,
};

/// One running node of the pair.
pub struct LocalNode {
    /// The node.
    pub node: Arc<Node>,
    /// Its base URL.
    pub url: String,
    /// Its API token.
    pub token: String,
}

/// Two running nodes under one agreement.
pub struct LocalPair {
    /// The nodes, in the order their parties were given.
    pub nodes: [LocalNode; 2],
    /// The agreement both work under.
    pub agreement: Agreement,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<Result<(), String>>>,
}

impl LocalPair {
    /// Creates homes under `dir` for the two `(party, name)` pairs, writes an agreement with
    /// `terms`, and starts both nodes on free loopback ports (plain HTTP).
    pub async fn start(
        dir: &Path,
        parties: [(&str, &str); 2],
        agreement_id: &str,
        title: &str,
        terms: Terms,
    ) -> Result<Self, String> {
        Self::start_on(dir, parties, agreement_id, title, terms, [None, None]).await
    }

    /// Like [`LocalPair::start`], under an agreement whose wire version is `protocol`
    /// (`protocol = 2`: signed headers committing to detached bodies).
    pub async fn start_with_protocol(
        dir: &Path,
        parties: [(&str, &str); 2],
        agreement_id: &str,
        title: &str,
        terms: Terms,
        protocol: u32,
    ) -> Result<Self, String> {
        Self::launch(
            dir,
            parties,
            (agreement_id, title, terms, protocol),
            [None, None],
            None,
        )
        .await
    }

    /// Like [`LocalPair::start`], with each node's database given: `None` for an SQLite
    /// file in its home, or a PostgreSQL URL (the database must exist and be empty).
    pub async fn start_on(
        dir: &Path,
        parties: [(&str, &str); 2],
        agreement_id: &str,
        title: &str,
        terms: Terms,
        databases: [Option<String>; 2],
    ) -> Result<Self, String> {
        let agreement = (agreement_id, title, terms, detente_protocol::WIRE_VERSION);
        Self::launch(dir, parties, agreement, databases, None).await
    }

    /// Like [`LocalPair::start`], with `limits` for both nodes: a benchmark that sends
    /// thousands of requests a second from one address sets a rate limit that lets it.
    pub async fn start_with_limits(
        dir: &Path,
        parties: [(&str, &str); 2],
        agreement_id: &str,
        title: &str,
        terms: Terms,
        limits: Limits,
    ) -> Result<Self, String> {
        let agreement = (agreement_id, title, terms, detente_protocol::WIRE_VERSION);
        Self::launch(dir, parties, agreement, [None, None], Some(limits)).await
    }

    async fn launch(
        dir: &Path,
        parties: [(&str, &str); 2],
        (agreement_id, title, terms, protocol): (&str, &str, Terms, u32),
        databases: [Option<String>; 2],
        limits: Option<Limits>,
    ) -> Result<Self, String> {
        let mut made = Vec::new();
        for ((party, name), database) in parties.into_iter().zip(databases) {
            let listener = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| format!("binding a loopback port: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let spec = HomeSpec {
                party: PartyId::parse(party).map_err(|e| e.to_string())?,
                name: name.into(),
                listen: addr,
                url: format!("http://{addr}"),
                plain_http: true,
                tls: None,
                tls_ca: None,
                database,
            };
            let home = dir.join(party.to_lowercase());
            let new = create(&home, &spec).await.map_err(|e| e.to_string())?;
            if let Some(limits) = &limits {
                let mut config = NodeConfig::load(&home)?;
                config.limits = limits.clone();
                std::fs::write(home.join(CONFIG_FILE), config.to_toml())
                    .map_err(|e| e.to_string())?;
            }
            made.push((home, listener, new));
        }
        let agreement = Agreement {
            id: agreement_id.into(),
            title: title.into(),
            parties: made.iter().map(|(_, _, m)| m.party.clone()).collect(),
            terms,
            in_force_from: None,
            protocol,
        };
        agreement.validate().map_err(|e| e.to_string())?;
        let (stop, stop_rx) = watch::channel(false);
        let mut nodes = Vec::new();
        let mut servers = Vec::new();
        for (home, listener, new) in made {
            std::fs::write(home.join(AGREEMENT_FILE), agreement.to_toml())
                .map_err(|e| e.to_string())?;
            let (config, node) = open_node(&home).await?;
            let mut rx = stop_rx.clone();
            let n = Arc::clone(&node);
            servers.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = rx.wait_for(|s| *s).await;
                };
                serve(n, &config, &home, listener, shutdown).await
            }));
            nodes.push(LocalNode {
                node,
                url: new.party.node_url.clone(),
                token: new.token,
            });
        }
        let [a, b]: [LocalNode; 2] = nodes
            .try_into()
            .map_err(|_| "two nodes expected".to_owned())?;
        Ok(Self {
            nodes: [a, b],
            agreement,
            stop,
            servers,
        })
    }

    /// Stops both nodes gracefully and waits for them.
    pub async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        for s in self.servers {
            s.await.map_err(|e| e.to_string())??;
        }
        Ok(())
    }
}
