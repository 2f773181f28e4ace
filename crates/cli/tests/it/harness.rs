//! Two node processes (US and CN) made with `detente init` and run with `detente serve`.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The `detente` binary under test.
pub fn detente() -> Command {
    Command::new(env!("CARGO_BIN_EXE_detente"))
}

/// Runs `detente` with `args` in `home` and returns its output.
pub fn run(home: &Path, args: &[&str]) -> Output {
    detente()
        .arg("--home")
        .arg(home)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the detente binary runs")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One node: its home, port and (while running) its process.
pub struct NodeProc {
    pub home: PathBuf,
    pub port: u16,
    pub token: String,
    child: Option<Child>,
}

impl NodeProc {
    /// Starts `detente serve` and waits until `/healthz` answers.
    pub async fn start(&mut self) {
        let log = std::fs::File::create(self.home.join("serve.log")).unwrap();
        let child = detente()
            .arg("--home")
            .arg(&self.home)
            .arg("serve")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{}/healthz", self.url()))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "node in {} did not come up",
                self.home.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no flush, mid-whatever it was doing.
    pub fn kill_9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Stops the process with SIGTERM and waits for a graceful exit.
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status()
                .unwrap();
            assert!(status.success());
            let exit = c.wait().unwrap();
            assert!(exit.success(), "graceful shutdown exited with {exit}");
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// The status of `case` on this node, or `None` if it does not know the case yet.
    pub async fn case_status(&self, case: &str) -> Option<String> {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/requests/{case}", self.url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        v["summary"]["status"].as_str().map(str::to_owned)
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.url()))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Two initialised node homes under one agreement, not yet started.
pub fn pair(dir: &Path) -> (NodeProc, NodeProc) {
    let mut nodes = Vec::new();
    for party in ["US", "CN"] {
        let home = dir.join(party.to_lowercase());
        let port = free_port();
        let out = run(
            &home,
            &[
                "init",
                "--party",
                party,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--plain-http",
            ],
        );
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = std::fs::read_to_string(home.join("api-token"))
            .unwrap()
            .trim()
            .to_owned();
        nodes.push(NodeProc {
            home,
            port,
            token,
            child: None,
        });
    }
    let (us, cn) = (&nodes[0], &nodes[1]);
    let out = run(
        &us.home,
        &[
            "agreement",
            "new",
            "--partner",
            cn.home.join("party.toml").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "agreement new failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(
        us.home.join("agreement.toml"),
        cn.home.join("agreement.toml"),
    )
    .unwrap();
    let cn = nodes.pop().unwrap();
    let us = nodes.pop().unwrap();
    (us, cn)
}

/// A filing body for `POST /api/v1/requests`.
pub fn request_body(to: &str, title: &str) -> Value {
    serde_json::json!({
        "to": to,
        "request": {
            "kind": "investigation", "category": "ip-theft", "priority": "high", "tlp": "amber",
            "title": title, "narrative": "Design files were exfiltrated through the listed host.",
            "observables": [{"type": "ip", "value": "203.0.113.45"}]
        }
    })
}

/// Polls `check` until it holds or `secs` pass.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// US files `n` requests to CN; CN acknowledges and answers each finally; US rates each; waits
/// until CN sees every case closed.
pub async fn work_cases(us: &NodeProc, cn: &NodeProc, n: usize) {
    for i in 0..n {
        let r = us
            .post(
                "/api/v1/requests",
                &request_body("CN", &format!("case {i}")),
            )
            .await;
        let case = r.json::<Value>().await.unwrap()["case"]
            .as_str()
            .unwrap()
            .to_owned();
        eventually(20, "CN has the request", || async {
            cn.case_status(&case).await.as_deref() == Some("sent")
        })
        .await;
        for body in [
            serde_json::json!({"type": "acknowledgement"}),
            serde_json::json!({"type": "answer", "final": true, "text": "done"}),
        ] {
            assert_eq!(
                cn.post(&format!("/api/v1/requests/{case}/messages"), &body)
                    .await
                    .status(),
                201
            );
        }
        eventually(20, "US sees the answer", || async {
            us.case_status(&case).await.as_deref() == Some("answered")
        })
        .await;
        let rating = serde_json::json!({"type": "rating", "score": 4});
        assert_eq!(
            us.post(&format!("/api/v1/requests/{case}/messages"), &rating)
                .await
                .status(),
            201
        );
        eventually(20, "CN sees the rating", || async {
            cn.case_status(&case).await.as_deref() == Some("closed")
        })
        .await;
    }
}
