//! Federation over HTTPS with pinned partner CAs: delivery works with the right CA and
//! stops, with the TLS failure on record, when a node pins the wrong one.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use detente_server::{
    config::{NodeConfig, PullSource},
    node::now,
    taxii_pull,
};
use detente_stix::{StixObject, tlp::TLP_GREEN_ID};
use detente_store::{Collection, ShareContext};

use crate::{
    helpers::{Pair, PairOptions, TestNode, eventually, request_body, spawn_pair_with},
    taxii::{COMMUNITY, indicator, users},
};

/// A test certificate authority.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a self-signed CA"),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for the loopback node (rustls refuses a CA used as a leaf),
    /// and its key, both PEM.
    fn leaf(&self, name: &str) -> (String, String) {
        let mut params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("leaf parameters");
        params.is_ca = IsCa::ExplicitNoCa;
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("a leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("a signed leaf");
        (cert.pem(), key.serialize_pem())
    }
}

/// Reads what the outbox recorded about its last failed attempt to each partner.
async fn last_errors(node: &TestNode) -> Vec<String> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(node.home.join("detente.db"))
        .read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("opening the node's database read-only");
    let errors: Vec<Option<String>> = sqlx::query_scalar("SELECT last_error FROM outbox")
        .fetch_all(&pool)
        .await
        .expect("reading the outbox");
    pool.close().await;
    errors.into_iter().flatten().collect()
}

/// Two nodes over HTTPS: each party has its own CA, and each node pins its partner's.
/// `configure` changes each node's configuration further before it starts.
async fn spawn_https_pair(configure: impl Fn(&Path, &mut NodeConfig) + 'static) -> Pair {
    let us_ca = Ca::new("US-CERT test CA");
    let cn_ca = Ca::new("CNCERT test CA");
    let us_leaf = us_ca.leaf("us.detente.test");
    let cn_leaf = cn_ca.leaf("cn.detente.test");
    let (us_ca_pem, cn_ca_pem) = (us_ca.pem(), cn_ca.pem());
    let bundle = format!("{us_ca_pem}{cn_ca_pem}");
    let tls = move |home: &Path, config: &mut NodeConfig| {
        let (leaf, partner, partner_ca) = match config.party.as_str() {
            "US" => (&us_leaf, "CN", &cn_ca_pem),
            _ => (&cn_leaf, "US", &us_ca_pem),
        };
        std::fs::write(home.join("tls.crt"), &leaf.0).expect("writing the certificate");
        std::fs::write(home.join("tls.key"), &leaf.1).expect("writing the TLS key");
        std::fs::write(home.join("partner-ca.pem"), partner_ca).expect("writing the partner CA");
        config.federation.allow_plain_http = false;
        config.federation.tls_cert = Some("tls.crt".into());
        config.federation.tls_key = Some("tls.key".into());
        config.federation.partner_ca =
            [(partner.parse().expect("a party"), "partner-ca.pem".into())].into();
        configure(home, config);
    };
    spawn_pair_with(PairOptions {
        configure: Some(Box::new(tls)),
        https_ca: Some(bundle),
        ..PairOptions::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_travel_over_https_to_a_pinned_ca_and_not_past_the_wrong_one() {
    // Arrange: each party has its own CA; each node pins its partner's.
    let mut pair = spawn_https_pair(|_, _| {}).await;
    assert!(
        pair.us.url.starts_with("https://127.0.0.1:"),
        "{}",
        pair.us.url
    );

    // Act: a request over HTTPS.
    let case = pair.us.file_request("CN", &request_body("Over TLS")).await;

    // Assert: delivered and receipted both ways.
    pair.us.wait_for_status(&case, "sent").await;
    pair.cn.wait_for_status(&case, "sent").await;
    let reply = pair
        .cn
        .send_message(&case, &serde_json::json!({"type": "acknowledgement"}))
        .await;
    assert_eq!(reply["case"], case.as_str());
    pair.us.wait_for_status(&case, "acknowledged").await;
    pair.cn.wait_for_status(&case, "acknowledged").await;

    // Arrange: US now pins a CA that did not issue CN's certificate.
    pair.us.stop().await;
    std::fs::write(
        pair.us.home.join("partner-ca.pem"),
        Ca::new("Rogue CA").pem(),
    )
    .expect("replacing the pinned CA");
    pair.us.start().await;

    // Act
    let stuck = pair.us.file_request("CN", &request_body("Wrong CA")).await;

    // Assert: it stays pending, with the TLS failure recorded, and CN never sees it.
    let us = &pair.us;
    eventually("US failing to deliver to CN", || async {
        !last_errors(us).await.is_empty()
    })
    .await;
    let errors = last_errors(us).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    // Regression: the recorded error was reqwest's "error sending request for url (...)"
    // without its cause, so an operator could not tell a TLS failure from an outage.
    let error = errors[0].to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("tls"),
        "the outbox error does not name the TLS failure: {}",
        errors[0]
    );
    assert_eq!(
        us.show(&stuck).await["summary"]["status"],
        "pending_delivery"
    );
    assert_eq!(us.outgoing("pending").await, 1);
    let (status, body) = pair.cn.get(&format!("/api/v1/requests/{stuck}")).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "{body}");
    assert_eq!(pair.cn.cases().await.len(), 1);
}

/// CN's pull source for US's community collection, with `user`'s password in `pw-<user>`.
fn pull_source(cn: &TestNode, us_url: &str) -> PullSource {
    std::fs::write(cn.home.join("us-taxii.pw"), "pw-cn-analyst").expect("writing the password");
    PullSource {
        party: "US".parse().expect("a party"),
        api_root: format!("{us_url}/taxii2/detente/"),
        collection: COMMUNITY.into(),
        user: "cn-analyst".into(),
        password_file: "us-taxii.pw".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taxii_pull_trusts_the_partners_pinned_ca_and_nothing_else() {
    // Regression: the TAXII client trusted the system's store, so a partner's private CA
    // failed and any public certificate would have been accepted for the Basic password.
    // Arrange: US serves one GREEN indicator over HTTPS, signed by its private CA.
    let pair = spawn_https_pair(users).await;
    let us = &pair.us;
    us.node()
        .store()
        .put_collection(&Collection {
            id: COMMUNITY.into(),
            title: "US indicators".into(),
            description: None,
            audience: None,
            can_write: false,
        })
        .await
        .expect("a collection");
    let object = StixObject::from_value(indicator(1, Some(TLP_GREEN_ID))).expect("an indicator");
    let share = ShareContext {
        origin: "US".into(),
        audience: None,
        recipients: vec![],
    };
    us.node()
        .store()
        .insert_stix(
            &[object],
            &share,
            Some(COMMUNITY),
            now().unix_millis() * 1000,
        )
        .await
        .expect("storing the indicator");
    let cn = &pair.cn;
    let source = pull_source(cn, &us.url);
    let mut config = NodeConfig::load(&cn.home).expect("CN's configuration");

    // Act: CN pulls with US's CA pinned.
    let pulled = taxii_pull::pull(cn.node().store(), &cn.home, &config, &source, 0).await;

    // Assert
    let report = pulled.expect("the pull over the pinned CA succeeds");
    assert_eq!((report.received, report.stored), (1, 1), "{report:?}");

    // Arrange: CN pins a CA that did not issue US's certificate.
    std::fs::write(cn.home.join("rogue-ca.pem"), Ca::new("Rogue CA").pem()).expect("a CA file");
    config.federation.partner_ca = [("US".parse().expect("a party"), "rogue-ca.pem".into())].into();

    // Act
    let refused = taxii_pull::pull(cn.node().store(), &cn.home, &config, &source, 0).await;

    // Assert: refused, and the message names the certificate.
    let error = refused
        .expect_err("a certificate from another CA is refused")
        .to_string();
    assert!(
        error.to_lowercase().contains("certificate"),
        "the error does not name the certificate: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taxii_pull_never_sends_credentials_over_plain_http_unless_allowed() {
    // Regression: with allow_plain_http = false the TAXII client still sent its Basic
    // credentials to an http:// source.
    // Arrange: an HTTPS pair, and a plain TCP listener posing as US's TAXII server.
    let pair = spawn_https_pair(users).await;
    let cn = &pair.cn;
    let bait = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    bait.set_nonblocking(true).expect("a non-blocking listener");
    let source = pull_source(
        cn,
        &format!("http://{}", bait.local_addr().expect("an address")),
    );
    let config = NodeConfig::load(&cn.home).expect("CN's configuration");
    assert!(!config.federation.allow_plain_http);

    // Act
    let refused = taxii_pull::pull(cn.node().store(), &cn.home, &config, &source, 0).await;

    // Assert: refused before any connection was made.
    let error = refused.expect_err("plain HTTP is refused").to_string();
    assert!(error.contains("plain http"), "{error}");
    assert!(
        bait.accept().is_err(),
        "the node connected to the plain-HTTP source"
    );
}
