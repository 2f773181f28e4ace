//! What an operator meets setting up and running a node: private files, a home that is never
//! adopted or half-made, HTTPS the CLI can reach, and commands that refuse to run beside a
//! serving node.

use std::{
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use detente_server::config::NodeConfig;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::harness::{detente, pair, run};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Starts `detente serve` in `home` and waits until its port accepts connections.
fn serve(home: &Path, port: u16) -> Child {
    let log = std::fs::File::create(home.join("serve.log")).unwrap();
    let child = detente()
        .arg("--home")
        .arg(home)
        .arg("serve")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the node in {} did not come up: {}",
            home.display(),
            std::fs::read_to_string(home.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_new_home_is_private_to_its_operator() {
    // Regression: detente.db (with its WAL), detente.toml and the home folder were
    // world-readable, though the database holds every case and TLP:RED object.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());

    // Act: run the node once, so that SQLite makes its WAL files.
    let child = serve(&us.home, us.port);
    let listed = run(&us.home, &["request", "list"]);
    stop(child);

    // Assert
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert_eq!(mode(&us.home), 0o700);
    for file in [
        "detente.toml",
        "node.key",
        "api-token",
        "detente.db",
        "detente.db-wal",
    ] {
        assert_eq!(mode(&us.home.join(file)), 0o600, "{file}");
    }
}

#[test]
fn serve_makes_an_older_homes_files_private() {
    // Arrange: a home whose files were left readable by everyone (made before init set modes).
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    for (file, m) in [(".", 0o755), ("detente.toml", 0o644), ("detente.db", 0o644)] {
        std::fs::set_permissions(us.home.join(file), std::fs::Permissions::from_mode(m)).unwrap();
    }

    // Act
    stop(serve(&us.home, us.port));

    // Assert
    assert_eq!(mode(&us.home), 0o700);
    assert_eq!(mode(&us.home.join("detente.toml")), 0o600);
    assert_eq!(mode(&us.home.join("detente.db")), 0o600);
}

#[test]
fn init_refuses_a_folder_holding_a_leftover_database() {
    // Regression: with detente.toml, the key and the token gone, init put a new key on top
    // of the old log, and the old token's hash stayed valid.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    for file in ["detente.toml", "node.key", "api-token"] {
        std::fs::remove_file(us.home.join(file)).unwrap();
    }
    let db_before = std::fs::read(us.home.join("detente.db")).unwrap();

    // Act
    let again = run(&us.home, &["init", "--party", "US", "--plain-http"]);

    // Assert
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(stderr(&again).contains("detente.db"), "{}", stderr(&again));
    assert!(!us.home.join("node.key").exists());
    assert_eq!(
        std::fs::read(us.home.join("detente.db")).unwrap(),
        db_before
    );
}

#[test]
fn init_with_a_missing_tls_file_leaves_no_half_made_home() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("us");

    // Act
    let out = run(
        &home,
        &[
            "init",
            "--party",
            "US",
            "--tls-cert",
            "tls/cert.pem",
            "--tls-key",
            "tls/key.pem",
        ],
    );

    // Assert: refused, naming the file, and nothing made.
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("tls/cert.pem"), "{}", stderr(&out));
    assert!(!home.exists(), "init left {} behind", home.display());
}

#[test]
fn rebuild_refuses_to_run_while_the_node_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let child = serve(&us.home, us.port);

    // Act
    let refused = run(&us.home, &["rebuild"]);
    stop(child);
    let after = run(&us.home, &["rebuild"]);

    // Assert
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("stop the node first"),
        "{}",
        stderr(&refused)
    );
    assert!(after.status.success(), "{}", stderr(&after));
}

/// A CA and a server certificate it issued for 127.0.0.1, as PEM: (ca, cert, key).
fn tls_files(name: &str) -> (String, String, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn the_cli_reaches_its_own_https_node_set_up_as_the_readme_says() {
    // Regression: `detente status` failed with UnknownIssuer against a node set up exactly as
    // the README says, and blamed "is `detente serve` running?".
    // Arrange: `init` with --tls-cert, --tls-key and --tls-ca, then an agreement.
    let dir = tempfile::tempdir().unwrap();
    let (_, cn) = pair(dir.path());
    let home = dir.path().join("us-tls");
    std::fs::create_dir_all(home.join("tls")).unwrap();
    let (ca, cert, key) = tls_files("US-CERT CA");
    for (file, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        std::fs::write(home.join("tls").join(file), pem).unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let init = run(
        &home,
        &[
            "init",
            "--party",
            "US",
            "--listen",
            &listen,
            "--tls-cert",
            "tls/cert.pem",
            "--tls-key",
            "tls/key.pem",
            "--tls-ca",
            "tls/ca.pem",
        ],
    );
    assert!(init.status.success(), "{}", stderr(&init));
    // The partner's node is HTTPS too, with its CA pinned (README step 4); it never runs here.
    let partner = cn.home.join("party.toml");
    let text = std::fs::read_to_string(&partner).unwrap();
    std::fs::write(&partner, text.replace("http://", "https://")).unwrap();
    let agreement = run(
        &home,
        &["agreement", "new", "--partner", partner.to_str().unwrap()],
    );
    assert!(agreement.status.success(), "{}", stderr(&agreement));
    std::fs::write(home.join("tls/cn-ca.pem"), tls_files("CNCERT CA").0).unwrap();
    let mut config = NodeConfig::load(&home).unwrap();
    config.federation.partner_ca = [("CN".parse().unwrap(), "tls/cn-ca.pem".into())].into();
    std::fs::write(home.join("detente.toml"), config.to_toml()).unwrap();
    let child = serve(&home, port);

    // Act
    let status = run(&home, &["status", "--json"]);
    std::fs::write(home.join("tls/ca.pem"), tls_files("Another CA").0).unwrap();
    let wrong_ca = run(&home, &["status"]);
    stop(child);

    // Assert: the first reaches the node; with another CA the error names TLS, not the node.
    assert!(status.status.success(), "{}", stderr(&status));
    assert_eq!(wrong_ca.status.code(), Some(6));
    let error = stderr(&wrong_ca);
    assert!(error.contains("TLS handshake failed"), "{error}");
    assert!(!error.contains("is `detente serve` running"), "{error}");
}

// Issue 20 item 9: a pinned partner CA that is not PEM (a DER file, a key) stops the node at
// start, naming the file, rather than failing every delivery later.
#[test]
fn serve_refuses_a_pinned_partner_ca_that_is_not_pem() {
    // Arrange: CN's node is reached over https, with a DER-looking file pinned as its CA.
    let dir = tempfile::tempdir().unwrap();
    let (us, cn) = pair(dir.path());
    let party = cn.home.join("party.toml");
    let text = std::fs::read_to_string(&party).unwrap();
    std::fs::write(&party, text.replace("http://", "https://")).unwrap();
    std::fs::remove_file(us.home.join("agreement.toml")).unwrap();
    let made = run(
        &us.home,
        &["agreement", "new", "--partner", party.to_str().unwrap()],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    std::fs::write(
        us.home.join("cn-ca.der"),
        [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82],
    )
    .unwrap();
    let mut config = NodeConfig::load(&us.home).unwrap();
    config
        .federation
        .partner_ca
        .insert("CN".parse().unwrap(), "cn-ca.der".into());
    std::fs::write(us.home.join("detente.toml"), config.to_toml()).unwrap();

    // Act
    let mut child = detente()
        .arg("--home")
        .arg(&us.home)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("serve started with a pinned CA that is not PEM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();

    // Assert
    assert!(!status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cn-ca.der") && said.contains("PEM"), "{said}");
}
