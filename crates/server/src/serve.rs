//! Starting and stopping a node: open its home, serve HTTP(S), run the outbox worker, and
//! shut both down gracefully.

use std::{future::Future, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use detente_domain::Agreement;
use detente_protocol::SecretKey;
use detente_store::Store;

use axum_server::tls_rustls::RustlsAcceptor;

use crate::{
    checkpoints, config::NodeConfig, connections::LimitAcceptor, log_check, node::Node, outbox,
    router::router, taxii_pull,
};

/// Opens the node in `home`: configuration, agreement, key and database.
pub async fn open_node(home: &Path) -> Result<(NodeConfig, Arc<Node>), String> {
    open_node_with(home, None).await
}

/// Opens the node in `home` like [`open_node`], with the database at `database` (a path or
/// a PostgreSQL URL) instead of the configured one when given.
pub async fn open_node_with(
    home: &Path,
    database: Option<&str>,
) -> Result<(NodeConfig, Arc<Node>), String> {
    let config = NodeConfig::load(home)?;
    for changed in crate::home::secure(home, &config) {
        tracing::warn!(%changed, "made a node file private (it was readable by other users)");
    }
    let agreement_path = home.join(&config.agreement);
    let text = std::fs::read_to_string(&agreement_path).map_err(|e| {
        format!(
            "cannot read the agreement at {}: {e}",
            agreement_path.display()
        )
    })?;
    let agreement =
        Agreement::from_toml(&text).map_err(|e| format!("{}: {e}", agreement_path.display()))?;
    let key_path = home.join(&config.key);
    let pem = std::fs::read_to_string(&key_path)
        .map_err(|e| format!("cannot read the node key at {}: {e}", key_path.display()))?;
    let key =
        SecretKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", key_path.display()))?;
    let location = config.database_location(home, database)?;
    let store = Store::open_at(&location, false)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", location.redacted()))?;
    let latest = store
        .latest_checkpoint()
        .await
        .map_err(|e| format!("cannot read the latest checkpoint: {e}"))?;
    let node = Node::new(
        config.party.clone(),
        agreement,
        key,
        store,
        latest,
        crate::indicators::access_rule(&config),
    )?;
    Ok((config, node))
}

/// Serves `node` on `listener` until `shutdown` resolves, then drains in-flight requests
/// (up to 10 s) and stops the outbox worker.
pub async fn serve(
    node: Arc<Node>,
    config: &NodeConfig,
    home: &Path,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    // A node whose log no longer matches what it signed must not sign more on top of it:
    // partners would see its next checkpoint as equivocation.
    if let Some(problem) = log_check::check_head(node.store(), node.agreement(), node.party())
        .await
        .map_err(|e| format!("cannot check the log: {e}"))?
    {
        tracing::error!(%problem, "the log was changed outside detente");
        return Err(format!(
            "refusing to start: the log does not match the node's latest signed checkpoint \
             ({problem}); run `detente log verify` to find the first changed entry"
        ));
    }
    // The rest of the log is checked against the checkpoint in the background: O(n), and a
    // damaged middle entry raises an alert rather than stopping the node.
    let checked = Arc::clone(&node);
    tokio::spawn(async move {
        if let Err(e) = checked.check_signed_entries().await {
            tracing::error!(error = %e, "cannot check the log against its signed checkpoint");
        }
    });
    // Installing twice is harmless (the demo starts two nodes in one process).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let partners = Arc::new(outbox::Partners::new(&node, config, home)?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(outbox::run(
        Arc::clone(&node),
        Arc::clone(&partners),
        stop_rx.clone(),
    ));
    let pulls = Arc::new(taxii_pull::Pulls::default());
    let puller = tokio::spawn(taxii_pull::run(
        node.store().clone(),
        Arc::clone(&pulls),
        home.to_path_buf(),
        config.clone(),
        stop_rx.clone(),
    ));
    let watcher = tokio::spawn(checkpoints::run(Arc::clone(&node), partners, stop_rx));
    let app = router(Arc::clone(&node), config, pulls)
        .into_make_service_with_connect_info::<SocketAddr>();
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let fed = &config.federation;
    let limits = LimitAcceptor::new(&config.limits);
    let header_timeout = Duration::from_secs(config.limits.header_read_timeout_secs.max(1));
    let result = match (&fed.tls_cert, &fed.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
                home.join(cert),
                home.join(key),
            )
            .await
            .map_err(|e| format!("cannot load the TLS certificate or key: {e}"))?;
            tracing::info!(%addr, party = %node.party(), "serving HTTPS");
            let acceptor = RustlsAcceptor::new(tls)
                .handshake_timeout(header_timeout)
                .acceptor(limits);
            let mut server = axum_server::from_tcp(listener)
                .map_err(|e| e.to_string())?
                .acceptor(acceptor)
                .handle(handle);
            bound_headers(&mut server, header_timeout);
            server.serve(app).await
        }
        (None, None) if fed.allow_plain_http => {
            tracing::info!(%addr, party = %node.party(), "serving plain HTTP (federation.allow_plain_http)");
            let mut server = axum_server::from_tcp(listener)
                .map_err(|e| e.to_string())?
                .acceptor(limits)
                .handle(handle);
            bound_headers(&mut server, header_timeout);
            server.serve(app).await
        }
        _ => {
            return Err(
                "set both federation.tls_cert and federation.tls_key in detente.toml, \
                        or federation.allow_plain_http = true for a loopback test"
                    .into(),
            );
        }
    };
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = watcher.await;
    let _ = puller.await;
    node.store().close().await;
    tracing::info!(party = %node.party(), "node stopped");
    result.map_err(|e| format!("server error: {e}"))
}

/// A client must send each request's headers within `timeout`, the first one included, or
/// lose the connection: slow or idle clients cannot hold connections open.
fn bound_headers<A: axum_server::Address, Acc>(
    server: &mut axum_server::Server<A, Acc>,
    timeout: Duration,
) {
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout);
}
