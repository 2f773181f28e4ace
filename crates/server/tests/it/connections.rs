//! One client cannot make a node unreachable: connections are capped per address, and a
//! client that does not finish its request headers is disconnected.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::helpers::{PairOptions, spawn_pair_with};

/// A connection from `source` to `node` that sends half a request and then stalls.
async fn stalled(source: [u8; 4], node: std::net::SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind((source, 0).into()).ok()?;
    let mut stream = socket.connect(node).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: node\r\nX-Slow: 1")
        .await
        .ok()?;
    Some(stream)
}

/// Whether the server has closed `stream` (a read returns end of file or an error).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_millis(200), stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_half_sent_requests_from_one_address_leaves_the_node_reachable() {
    // Regression: 1,100 half-sent requests from one address left /healthz and the API
    // unanswered for over two minutes (no header timeout, no cap per address).
    // Arrange: a low cap and a short header timeout, so the test is quick.
    let pair = spawn_pair_with(PairOptions {
        configure: Some(Box::new(|_, config| {
            config.limits.max_connections_per_address = 32;
            config.limits.header_read_timeout_secs = 2;
        })),
        ..PairOptions::default()
    })
    .await;
    let node = pair.us.addr;

    // Act: 300 stalled connections from 127.0.0.2.
    let mut flood = Vec::new();
    for _ in 0..300 {
        if let Some(s) = stalled([127, 0, 0, 2], node).await {
            flood.push(s);
        }
    }
    let started = Instant::now();
    let (status, _) = pair.us.get("/api/v1/status").await;
    let answered_in = started.elapsed();

    // Assert: everyone else is still served at once.
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(answered_in < Duration::from_secs(2), "took {answered_in:?}");
    // Connections over the cap were closed at once...
    let mut over = 0;
    for s in flood.iter_mut().skip(40) {
        if closed(s).await {
            over += 1;
        }
    }
    assert!(
        over >= 250,
        "only {over} of 260 connections over the cap were closed"
    );
    // ...and the ones within it once the header timeout passed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut timed_out = 0;
    for s in flood.iter_mut().take(32) {
        if closed(s).await {
            timed_out += 1;
        }
    }
    assert_eq!(
        timed_out, 32,
        "stalled connections within the cap stayed open"
    );
}
