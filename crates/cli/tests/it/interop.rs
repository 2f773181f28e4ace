//! Interoperability with the OASIS Python tools, real processes on loopback, no mocks:
//! `taxii2-client` against our TAXII server, our `detente indicators pull` against
//! `medallion` (the OASIS reference TAXII server) loaded with its own default data, and our
//! exported bundles through `stix2-validator` and `stix2.parse`. The tools live in `.venv`,
//! made by `scripts/python-tools` (which `scripts/test` runs first).

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::harness::{pair, run};

fn venv(tool: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.venv/bin")
        .join(tool);
    assert!(
        p.exists(),
        "{} is missing: run scripts/python-tools",
        p.display()
    );
    p
}

fn data(rel: &str) -> String {
    format!("{}/../../testdata/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const TAXII2_CLIENT_SCRIPT: &str = r#"
import json, sys
from taxii2client.v21 import Server, as_pages
url, user, password, collection_id = sys.argv[1:5]
server = Server(url, user=user, password=password)
root = server.api_roots[0]
collections = {c.id: c for c in root.collections}
c = collections[collection_id]
paged = [len(page.get("objects", [])) for page in as_pages(c.get_objects, per_request=2)]
new = {"type": "indicator", "spec_version": "2.1",
       "id": "indicator--6b5ba3c1-5b4e-4e0d-9d6e-8c1f2f0f0b77",
       "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
       "pattern": "[domain-name:value = 'c2.example.net']", "pattern_type": "stix",
       "valid_from": "2024-01-01T00:00:00Z"}
status = c.add_objects({"objects": [new]})
status.refresh()
print(json.dumps({"title": server.title, "collections": len(collections),
                  "pages": paged, "status": status.status,
                  "success_count": status.success_count, "failure_count": status.failure_count}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_reads_pages_and_adds_objects_on_our_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    let password = ok(
        run(
            &us.home,
            &["indicators", "user-add", "cn-analyst", "--party", "CN"],
        ),
        "user-add",
    );
    let collection = ok(
        run(
            &us.home,
            &[
                "indicators",
                "collection-add",
                "--title",
                "US-CN",
                "--writable",
            ],
        ),
        "collection-add",
    );
    let collection = collection.trim();
    ok(
        run(
            &us.home,
            &[
                "indicators",
                "import",
                "--collection",
                collection,
                "--audience",
                "CN",
                &data("cti-stix2-json-schemas/examples/threat-reports/apt1.json"),
            ],
        ),
        "import",
    );
    us.start().await;
    let out = Command::new(venv("python"))
        .arg("-c")
        .arg(TAXII2_CLIENT_SCRIPT)
        .arg(format!("{}/taxii2/", us.url()))
        .args(["cn-analyst", password.trim(), collection])
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(&ok(out, "taxii2-client")).unwrap();
    assert_eq!(result["collections"], 1);
    let pages: Vec<u64> = result["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert!(pages.len() > 10, "paged in twos: {pages:?}");
    assert!(pages.iter().sum::<u64>() > 20);
    assert_eq!(result["status"], "complete");
    assert_eq!(
        (
            result["success_count"].as_u64(),
            result["failure_count"].as_u64()
        ),
        (Some(1), Some(0))
    );
}

struct Medallion(Child);

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn medallion(dir: &Path) -> (Medallion, u16) {
    let port = free_port();
    let config = dir.join("medallion.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "backend": {"module": "medallion.backends.memory_backend",
                        "module_class": "MemoryBackend",
                        "filename": data("cti-taxii-server/default_data.json")},
            "users": {"admin": "Password0"},
            "taxii": {"max_page_size": 100}
        })
        .to_string(),
    )
    .unwrap();
    let child = Command::new(venv("medallion"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "medallion did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Medallion(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_pulls_medallions_default_collection_incrementally() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let (_m, port) = medallion(dir.path()).await;
    std::fs::write(us.home.join("medallion-password"), "Password0\n").unwrap();
    let mut config = std::fs::read_to_string(us.home.join("detente.toml")).unwrap();
    config.push_str(&format!(
        "\n[[indicators.pull]]\nparty = \"CN\"\napi_root = \"http://127.0.0.1:{port}/trustgroup1/\"\n\
         collection = \"91a7b528-80eb-42ed-a74d-c6fbd5a26116\"\nuser = \"admin\"\n\
         password_file = \"medallion-password\"\n"
    ));
    std::fs::write(us.home.join("detente.toml"), config).unwrap();
    let first: Value = serde_json::from_str(&ok(
        run(&us.home, &["--json", "indicators", "pull"]),
        "pull",
    ))
    .unwrap();
    let first = &first[0];
    assert!(first["received"].as_u64().unwrap() >= 5, "{first}");
    assert!(first["stored"].as_u64().unwrap() >= 5, "{first}");
    assert!(first["added_after"].is_string(), "{first}");
    // The bookmark holds: nothing new the second time.
    let second: Value = serde_json::from_str(&ok(
        run(&us.home, &["--json", "indicators", "pull"]),
        "pull",
    ))
    .unwrap();
    assert_eq!(second[0]["stored"], 0, "{second}");
}

/// A node in `dir` that imported the `testdata/` files `sources`, and its whole export.
fn exported(dir: &Path, sources: &[&str]) -> PathBuf {
    let (us, _cn) = pair(dir);
    let mut args = vec!["indicators".to_owned(), "import".to_owned()];
    args.extend(sources.iter().map(|s| data(s)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(run(&us.home, &args), "import");
    let bundle = dir.join("export.json");
    ok(
        run(
            &us.home,
            &["indicators", "export", "--out", bundle.to_str().unwrap()],
        ),
        "export",
    );
    bundle
}

#[test]
fn exported_bundles_pass_stix2_validator_and_parse_with_stix2() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = exported(
        dir.path(),
        &[
            "cti-stix2-json-schemas/examples/threat-reports/apt1.json",
            "eset-malware-ioc/dukes",
            "mitre-cti",
        ],
    );
    let out = Command::new(venv("stix2_validator"))
        .arg(&bundle)
        .output()
        .unwrap();
    ok(out, "stix2_validator");
    let out = Command::new(venv("python"))
        .arg("-c")
        .arg("import stix2, sys; b = stix2.parse(open(sys.argv[1]).read(), allow_custom=True); print(len(b.objects))")
        .arg(&bundle)
        .output()
        .unwrap();
    let n: usize = ok(out, "stix2.parse").trim().parse().unwrap();
    assert!(n > 200);
}

#[test]
fn misp_imports_export_as_strict_stix_2_1_with_no_custom_properties() {
    // Regression: MISP facts were written as top-level `x_misp_*` properties, so `stix2.parse`
    // refused the whole export and `stix2-validator --strict` failed on every object.
    let dir = tempfile::tempdir().unwrap();
    let bundle = exported(
        dir.path(),
        &[
            "eset-malware-ioc",
            "pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json",
        ],
    );
    // Every recommendation too, but two that only invented data could meet: a MISP
    // `ip-dst|port` names one side of a connection (the validator wants both ports on a
    // network-traffic), and a link's target has no hash this node could know (the validator
    // wants one beside every URL of an external reference).
    let out = Command::new(venv("stix2_validator"))
        .args([
            "--strict",
            "--disable",
            "network-traffic-ports,extref-hashes",
        ])
        .arg(&bundle)
        .output()
        .unwrap();
    ok(out, "stix2_validator --strict");
    let out = Command::new(venv("python"))
        .arg("-c")
        .arg("import stix2, sys; b = stix2.parse(open(sys.argv[1]).read()); print(len(b.objects))")
        .arg(&bundle)
        .output()
        .unwrap();
    let n: usize = ok(out, "stix2.parse").trim().parse().unwrap();
    assert!(n > 5000, "{n}");
}
