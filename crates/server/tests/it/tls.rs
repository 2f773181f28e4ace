//! Federation over HTTPS with pinned partner CAs: delivery works with the right CA and
//! stops, with the TLS failure on record, when a node pins the wrong one.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::helpers::{PairOptions, TestNode, eventually, request_body, spawn_pair_with};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_travel_over_https_to_a_pinned_ca_and_not_past_the_wrong_one() {
    // Arrange: each party has its own CA; each node pins its partner's.
    let us_ca = Ca::new("US-CERT test CA");
    let cn_ca = Ca::new("CNCERT test CA");
    let us_leaf = us_ca.leaf("us.detente.test");
    let cn_leaf = cn_ca.leaf("cn.detente.test");
    let (us_ca_pem, cn_ca_pem) = (us_ca.pem(), cn_ca.pem());
    let bundle = format!("{us_ca_pem}{cn_ca_pem}");
    let configure = move |home: &Path, config: &mut detente_server::config::NodeConfig| {
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
    };
    let mut pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(configure)),
        https_ca: Some(bundle),
    })
    .await;
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
