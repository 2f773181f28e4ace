//! What authentication costs a request: the same endpoint (`GET /api/v1/session`) asked with
//! no credentials (refused at once: the baseline, which does everything but the check), with
//! a user's API token, with the node's token, and with a browser session cookie, one request
//! at a time on one kept-alive connection, several rounds; medians of the per-request
//! latencies, and their ratios to the baseline. Sign-in itself (Argon2id, deliberately slow)
//! is timed too, to show it is never on the per-request path.
//!
//! `cargo run --release -p detente-bench --bin signed_in [-- ROUNDS REQUESTS]`

use std::time::{Duration, Instant};

use anyhow::Context;
use detente_bench::{median, terms};
use detente_people::{AgencyId, Password, Role, Roles, Secret, UserName, token::Kind};
use detente_server::{config::Limits, local_pair::LocalPair, node::now};
use detente_store::{Agency, NewUser, TokenInfo};
use reqwest::{Client, header};

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Credential {
    None,
    UserToken,
    NodeToken,
    Session,
}

impl Credential {
    fn name(self) -> &'static str {
        match self {
            Self::None => "no credentials (baseline, 401)",
            Self::UserToken => "user API token",
            Self::NodeToken => "node token",
            Self::Session => "session cookie",
        }
    }
}

struct Secrets {
    user_token: String,
    node_token: String,
    cookie: String,
}

/// Median latency of `n` sequential requests, in microseconds.
async fn latency(
    client: &Client,
    url: &str,
    how: Credential,
    secrets: &Secrets,
    n: usize,
) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let mut r = client.get(url);
        r = match how {
            Credential::None => r,
            Credential::UserToken => r.bearer_auth(&secrets.user_token),
            Credential::NodeToken => r.bearer_auth(&secrets.node_token),
            Credential::Session => r.header(header::COOKIE, &secrets.cookie),
        };
        let start = Instant::now();
        let response = r.send().await?;
        let ok = response.status().is_success();
        let _ = response.bytes().await?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(
            ok == !matches!(how, Credential::None),
            "unexpected answer for {}",
            how.name()
        );
    }
    Ok(median(&mut times))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args.get(1).map_or(Ok(5), |s| s.parse())?;
    let requests: usize = args.get(2).map_or(Ok(2000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    // The rate limit (200/s from one address by default) would answer most of a sequential
    // run with 429; the benchmark measures the authentication, not the limiter.
    let limits = Limits {
        requests_per_second: 1_000_000,
        burst: 1_000_000,
        ..Limits::default()
    };
    let pair = LocalPair::start_with_limits(
        dir.path(),
        [("US", "US-CERT"), ("CN", "CNCERT/CC")],
        "bench",
        "benchmark",
        terms(),
        limits,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    let us = &pair.nodes[0];

    // A user with a password and a token.
    let password = "a passphrase for the benchmark";
    let secret = Secret::generate(Kind::ApiToken);
    let store = us.node.store();
    let mut tx = store.write().await?;
    tx.add_agency(&Agency {
        id: AgencyId::parse("fbi")?,
        name: "FBI".into(),
        duty: true,
        created_at: now(),
    })
    .await?;
    let name = UserName::parse("j.smith")?;
    tx.add_user(
        &NewUser {
            name: name.clone(),
            agency: AgencyId::parse("fbi")?,
            roles: Roles::of(&[Role::Liaison]),
            password: Some(Password::new(password.into())?.hash()),
        },
        now(),
    )
    .await?;
    tx.add_token(&TokenInfo {
        hash: secret.hash(),
        user: name,
        label: "bench".into(),
        roles: Roles::of(&[Role::Liaison]),
        created_at: now(),
        expires_at: None,
        revoked_at: None,
    })
    .await?;
    tx.commit().await?;

    let client = Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()?;
    let url = format!("{}/api/v1/session", us.url);

    // Sign-in: Argon2id, timed on its own.
    let mut sign_ins = Vec::new();
    let mut cookie = String::new();
    for _ in 0..5 {
        let start = Instant::now();
        let r = client
            .post(&url)
            .json(&serde_json::json!({"user": "j.smith", "password": password}))
            .send()
            .await?;
        sign_ins.push(start.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(r.status() == 201, "sign-in failed: {}", r.status());
        cookie = r
            .headers()
            .get(header::SET_COOKIE)
            .context("a session cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
    }
    let secrets = Secrets {
        user_token: secret.expose().to_owned(),
        node_token: us.token.clone(),
        cookie,
    };

    let kinds = [
        Credential::None,
        Credential::UserToken,
        Credential::NodeToken,
        Credential::Session,
    ];
    // Warm the connection and the database pages.
    for how in kinds {
        latency(&client, &url, how, &secrets, 200).await?;
    }
    let mut medians: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    for round in 0..rounds {
        // Interleaved, so that a noisy neighbour hits every kind alike.
        for (i, how) in kinds.iter().enumerate() {
            let m = latency(&client, &url, *how, &secrets, requests).await?;
            medians[i].push(m);
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }
    println!(
        "GET /api/v1/session, {requests} sequential requests per round, {rounds} rounds (medians of the rounds' median latencies)"
    );
    let base = median(&mut medians[0].clone());
    for (i, how) in kinds.iter().enumerate() {
        let m = median(&mut medians[i]);
        println!(
            "  {:<32} p50 {:>7.1} µs   {:.2}x the baseline",
            how.name(),
            m,
            m / base
        );
    }
    println!(
        "sign-in (Argon2id m=19 MiB, t=2, p=1), median of 5: {:.1} ms",
        median(&mut sign_ins)
    );
    pair.stop().await.map_err(anyhow::Error::msg)?;
    Ok(())
}
