//! The test harness: two real nodes (US and CN) on loopback ports in fresh homes, an API
//! client per node, envelope forging with the nodes' real keys, and polling helpers.

use std::{
    collections::BTreeMap,
    future::Future,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use detente_domain::{Agreement, Deadlines, Party, Span, Terms};
use detente_protocol::{
    Body, CaseId, Digest, Envelope, MessageId, Observable, PartyId, Priority, RequestBody,
    RequestKind, SecretKey, Signed, Tlp, WIRE_VERSION,
};
use detente_server::{
    config::{CONFIG_FILE, FederationConfig, Limits, NodeConfig},
    node::{Node, now},
};
use detente_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{sync::oneshot, task::JoinHandle};

/// How long a test waits for something that should happen "soon" on loopback.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Where each node home keeps the agreement.
const AGREEMENT_FILE: &str = "agreement.toml";

/// A real node serving on a loopback port, with an API client holding its token.
pub struct TestNode {
    /// The party the node speaks for.
    pub party: PartyId,
    /// The node's home folder.
    pub home: PathBuf,
    /// The loopback address it listens on; kept across restarts.
    pub addr: SocketAddr,
    /// Its base URL, `http://` or `https://`.
    pub url: String,
    /// The API token, in clear.
    pub token: String,
    client: reqwest::Client,
    listener: Option<TcpListener>,
    running: Option<Running>,
}

struct Running {
    node: Arc<Node>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), String>>,
}

/// Two nodes under one agreement, and the folder holding their homes.
pub struct Pair {
    /// The US node.
    pub us: TestNode,
    /// The CN node.
    pub cn: TestNode,
    /// The agreement both work under.
    pub agreement: Agreement,
    _dir: TempDir,
}

/// How to set up a pair beyond the defaults.
#[derive(Default)]
pub struct PairOptions {
    /// Changes to a node's configuration (and files in its home) before it starts.
    #[allow(clippy::type_complexity)]
    pub configure: Option<Box<dyn Fn(&Path, &mut NodeConfig)>>,
    /// Serve HTTPS: the CA (PEM) the test clients trust for both nodes' certificates.
    pub https_ca: Option<String>,
    /// A third party in the agreement (with a key, at an address where nothing listens),
    /// for what a partner must not see of another partner's exchanges.
    pub third_party: Option<&'static str>,
    /// The agreement's wire version (`protocol`); `None` leaves it out (version 1).
    pub protocol: Option<u32>,
}

/// Two plain-HTTP nodes with default limits, running.
pub async fn spawn_pair() -> Pair {
    spawn_pair_with(PairOptions::default()).await
}

/// Two nodes set up by `options`, running.
pub async fn spawn_pair_with(options: PairOptions) -> Pair {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let scheme = if options.https_ca.is_some() {
        "https"
    } else {
        "http"
    };
    let mut homes = Vec::new();
    let mut parties = Vec::new();
    for (code, name) in [("US", "US-CERT"), ("CN", "CNCERT/CC")] {
        let party = PartyId::parse(code).expect("a valid party code");
        let home = dir.path().join(code.to_lowercase());
        std::fs::create_dir_all(&home).expect("creating a node home");
        // Bind first: the port goes into the agreement both nodes load.
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let key = SecretKey::generate();
        std::fs::write(home.join("node.key"), key.to_pkcs8_pem()).expect("writing node.key");
        let token = MessageId::random().to_string();
        let mut config = NodeConfig {
            party: party.clone(),
            listen: addr,
            database: "detente.db".into(),
            database_password_file: None,
            key: "node.key".into(),
            agreement: AGREEMENT_FILE.into(),
            federation: FederationConfig {
                allow_plain_http: options.https_ca.is_none(),
                ..FederationConfig::default()
            },
            limits: Limits::default(),
            indicators: Default::default(),
        };
        if let Some(configure) = &options.configure {
            configure(&home, &mut config);
        }
        std::fs::write(home.join(CONFIG_FILE), config.to_toml()).expect("writing detente.toml");
        let location = config
            .database_location(&home, None)
            .expect("the database location");
        let store = Store::open_at(&location, true)
            .await
            .expect("creating the database");
        let mut tx = store.write().await.expect("a write transaction");
        tx.insert_token(&detente_server::token_hash(&token), "tests", now())
            .await
            .expect("storing the API token");
        tx.commit().await.expect("committing the token");
        store.close().await;
        let url = format!("{scheme}://{addr}");
        parties.push(Party {
            id: party.clone(),
            name: name.into(),
            node_url: url.clone(),
            public_keys: vec![key.public_key()],
        });
        homes.push(TestNode {
            client: api_client(options.https_ca.as_deref()),
            party,
            home,
            addr,
            url,
            token,
            listener: Some(listener),
            running: None,
        });
    }
    if let Some(code) = options.third_party {
        parties.push(Party {
            id: PartyId::parse(code).expect("a valid party code"),
            name: format!("{code} (not running)"),
            // Port 9 (discard): deliveries to it fail and stay queued.
            node_url: format!("{scheme}://127.0.0.1:9"),
            public_keys: vec![SecretKey::generate().public_key()],
        });
    }
    let agreement = Agreement {
        id: "us-cn-tests".into(),
        title: "US-China cyber cooperation (tests: deadlines in seconds)".into(),
        parties,
        terms: terms(),
        in_force_from: None,
        protocol: options.protocol.unwrap_or(WIRE_VERSION),
    };
    agreement.validate().expect("the test agreement is valid");
    for node in &mut homes {
        std::fs::write(node.home.join(AGREEMENT_FILE), agreement.to_toml())
            .expect("writing the agreement");
        node.start().await;
    }
    let cn = homes.pop().expect("two nodes");
    let us = homes.pop().expect("two nodes");
    Pair {
        us,
        cn,
        agreement,
        _dir: dir,
    }
}

/// The terms of the test agreement: all kinds, a few categories, deadlines in seconds.
fn terms() -> Terms {
    let d = |a, f, l| Deadlines {
        acknowledge: Span::from_secs(a),
        first_answer: Span::from_secs(f),
        final_answer: Span::from_secs(l),
    };
    Terms {
        kinds: RequestKind::ALL.to_vec(),
        categories: ["botnet", "ransomware", "ip-theft"]
            .map(String::from)
            .to_vec(),
        deadlines: BTreeMap::from([
            (Priority::Critical, d(10, 20, 40)),
            (Priority::High, d(20, 40, 80)),
            (Priority::Normal, d(30, 60, 120)),
            (Priority::Low, d(60, 120, 240)),
        ]),
        clock_skew: Span::from_secs(5),
    }
}

fn api_client(ca_pem: Option<&str>) -> reqwest::Client {
    // No pooled connections: a restarted node must not be reached over a dead socket.
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30));
    if let Some(pem) = ca_pem {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("a PEM CA certificate");
        builder = builder.tls_certs_only([ca]);
    }
    builder.build().expect("an HTTP client")
}

impl TestNode {
    /// Starts the node on its home and port (again, after `stop`).
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "{} is already running", self.party);
        let listener = match self.listener.take() {
            Some(l) => l,
            None => TcpListener::bind(self.addr).expect("re-binding the node's port"),
        };
        let (config, node) = detente_server::open_node(&self.home)
            .await
            .expect("opening the node home");
        let (stop, stopped) = oneshot::channel::<()>();
        let home = self.home.clone();
        let served = Arc::clone(&node);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            detente_server::serve(served, &config, &home, listener, shutdown).await
        });
        self.running = Some(Running { node, stop, task });
    }

    /// Stops the node gracefully and waits until it has let go of its port and database.
    pub async fn stop(&mut self) {
        let running = self.running.take().expect("the node is running");
        let _ = running.stop.send(());
        drop(running.node);
        let result = tokio::time::timeout(PATIENCE, running.task)
            .await
            .expect("the node stops within the patience")
            .expect("the serve task did not panic");
        assert_eq!(result, Ok(()), "{} stopped with an error", self.party);
    }

    /// The running node, for reading its store directly.
    pub fn node(&self) -> &Arc<Node> {
        &self.running.as_ref().expect("the node is running").node
    }

    /// The node's signing key, read from its home.
    pub fn secret_key(&self) -> SecretKey {
        let pem = std::fs::read_to_string(self.home.join("node.key")).expect("reading node.key");
        SecretKey::from_pkcs8_pem(&pem).expect("a PKCS#8 key")
    }

    /// A request builder for `path` with the API token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// A request builder for `path` without any token.
    pub fn anonymous(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// GET `path` with the token.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::GET, path)).await
    }

    /// POST `body` as JSON to `path` with the token.
    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    /// Files `request` to `to`; returns the new case id.
    pub async fn file_request(&self, to: &str, request: &RequestBody) -> String {
        let (status, body) = self
            .post("/api/v1/requests", &json!({"to": to, "request": request}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "filing a request: {body}");
        body["case"].as_str().expect("a case id").to_owned()
    }

    /// Sends the next message of `case`; panics unless the node takes it.
    pub async fn send_message(&self, case: &str, body: &Value) -> Value {
        let (status, answer) = self
            .post(&format!("/api/v1/requests/{case}/messages"), body)
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{} sending {body} in {case}: {answer}",
            self.party
        );
        answer
    }

    /// `GET /api/v1/requests/{case}`.
    pub async fn show(&self, case: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/requests/{case}")).await;
        assert_eq!(status, StatusCode::OK, "showing {case}: {body}");
        body
    }

    /// `GET /api/v1/status`.
    pub async fn status(&self) -> Value {
        let (status, body) = self.get("/api/v1/status").await;
        assert_eq!(status, StatusCode::OK, "status: {body}");
        body
    }

    /// How many entries the node's log holds.
    pub async fn log_entries(&self) -> u64 {
        self.status().await["log_entries"]
            .as_u64()
            .expect("log_entries is a number")
    }

    /// How many outgoing messages are in `state` (pending, delivered, rejected).
    pub async fn outgoing(&self, state: &str) -> u64 {
        self.status().await["outgoing"]
            .as_array()
            .expect("outgoing is a list")
            .iter()
            .filter(|o| o["state"] == state)
            .filter_map(|o| o["count"].as_u64())
            .sum()
    }

    /// Every case summary the node lists.
    pub async fn cases(&self) -> Vec<Value> {
        let (status, body) = self.get("/api/v1/requests?limit=10000").await;
        assert_eq!(status, StatusCode::OK, "listing: {body}");
        body["requests"].as_array().expect("a list").clone()
    }

    /// Waits until the node shows `case` with `status` and nothing of its own undelivered.
    pub async fn wait_for_status(&self, case: &str, status: &str) -> Value {
        let path = format!("/api/v1/requests/{case}");
        let mut last = Value::Null;
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let (code, body) = self.get(&path).await;
            if code == StatusCode::OK
                && body["summary"]["status"] == status
                && body["summary"]["pending_out"] == 0
            {
                return body;
            }
            last = body;
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "{} did not show {case} as {status} within {PATIENCE:?}; last: {last}",
            self.party
        );
    }

    /// Delivers raw `envelopes` to the node's federation endpoint, as a partner would.
    pub async fn deliver(&self, envelopes: Vec<Value>) -> (StatusCode, Value) {
        self.post_federation(json!({ "envelopes": envelopes }).to_string().into_bytes())
            .await
    }

    /// POSTs raw bytes to the node's federation endpoint.
    pub async fn post_federation(&self, body: Vec<u8>) -> (StatusCode, Value) {
        send(
            self.anonymous(reqwest::Method::POST, "/federation/v1/envelopes")
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }
}

/// Sends a request and reads the answer as JSON (`Value::String` if it is not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("the node answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("reading the answer");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

/// Polls `check` until it holds; panics with `what` after the patience runs out.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within {PATIENCE:?}");
}

/// The error code of an error envelope, or `None` if `body` is not one.
pub fn error_code(body: &Value) -> Option<&str> {
    body["error"]["code"].as_str()
}

/// A valid request in the agreement's terms.
pub fn request_body(title: &str) -> RequestBody {
    RequestBody {
        kind: RequestKind::Information,
        category: "botnet".into(),
        priority: Priority::Normal,
        tlp: Tlp::Amber,
        title: title.into(),
        narrative: "Hosts in your space control bots that attack our hospitals; who runs them?"
            .into(),
        observables: vec![Observable::parse("ip:203.0.113.7").expect("a valid observable")],
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }
}

/// Builds envelopes under the pair's agreement and seals them with real or foreign keys.
pub struct Forge {
    /// The digest of the agreement both nodes work under.
    pub agreement: Digest,
}

impl Forge {
    /// A forge for `pair`'s agreement.
    pub fn new(pair: &Pair) -> Self {
        Self {
            agreement: pair.agreement.digest(),
        }
    }

    /// An envelope `from` -> `to` at `seq` in `case`, sent now.
    pub fn envelope(&self, from: &str, to: &str, seq: u64, case: &CaseId, body: Body) -> Envelope {
        Envelope {
            v: WIRE_VERSION,
            id: MessageId::random(),
            agreement: self.agreement,
            from: PartyId::parse(from).expect("a valid party"),
            to: PartyId::parse(to).expect("a valid party"),
            seq,
            sent_at: now(),
            case: case.clone(),
            in_reply_to: None,
            checkpoint: None,
            agency: None,
            body,
        }
    }

    /// A case id filed by `party` this year.
    pub fn case(party: &str, number: u32) -> CaseId {
        let year = u16::try_from(now().datetime().year()).expect("a four-digit year");
        CaseId::new(PartyId::parse(party).expect("a valid party"), year, number)
    }
}

/// `envelope` sealed in wire version 2 with `key`, as it travels: the signed header with its
/// body beside it. Returns the wire value and the body.
pub fn seal_v2(envelope: Envelope, key: &SecretKey) -> (Value, detente_protocol::SaltedBody) {
    let (signed, body) =
        detente_protocol::SignedEnvelope::seal(envelope, detente_protocol::WIRE_VERSION_2, key)
            .expect("a valid envelope");
    let body = body.expect("version 2 has a detached body");
    let mut wire = signed.to_value();
    wire["body"] = body.to_value();
    (wire, body)
}

/// `envelope` signed with `key`, as it travels.
pub fn seal(envelope: Envelope, key: &SecretKey) -> Value {
    Signed::seal(envelope, key)
        .expect("a valid envelope")
        .to_value()
}
