//! TAXII 2.1 paged reads under concurrent load: a real `detente serve` node and `medallion`
//! (the OASIS reference TAXII server, memory backend) serve the same generated indicators in
//! the same collection, in the same run, to the same load generator (`wrk`, same connections,
//! same duration), several rounds each; medians and the ratio detente/medallion.
//!
//! ```text
//! apt-get install -y wrk && scripts/python-tools && cargo build --release -p detente
//! cargo run --release -p detente-bench --bin taxii -- [--count N] [--page P]
//!     [--connections C] [--seconds S] [--rounds R]
//! ```
//!
//! Every connection reads the collection the way a TAXII client does: the first page with
//! `limit`, then `next` until `more` is false, then from the first page again. Before any load
//! the benchmark walks both servers once and requires every page to hold the same object ids
//! in the same order, so both serve exactly the same pages. Objects per second are pages per
//! second times the objects per page that walk found.
//!
//! The node reads as a partner's TAXII user (HTTP Basic), so every page goes through
//! authentication and the TLP filter as in production; only the per-address rate limit is
//! raised, since all load comes from one loopback address. Run it from the repository root
//! (`.venv` is found there); `$DETENTE_BIN` overrides the `detente` binary.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_bench::{detente, detente_bin, median, rate, venv_tool};
use detente_server::config::{CONFIG_FILE, NodeConfig};
use serde_json::{Value, json};

const TAXII: &str = "application/taxii+json;version=2.1";
/// The TAXII user both servers know; the node maps it to the partner party CN.
const USER: &str = "bench";
/// Medallion's one API root in the data file the benchmark writes.
const MEDALLION_ROOT: &str = "bench";

/// The `wrk` script. wrk runs one Lua state per thread and the benchmark gives each thread
/// exactly one connection, so a thread's globals are that connection's walk. `done` prints
/// one JSON line the benchmark parses.
const WALK_LUA: &str = r#"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  first = args[1]
  path = first
  pages, walks, failed = 0, 0, 0
  wrk.headers["Authorization"] = "Basic " .. args[2]
  wrk.headers["Accept"] = args[3]
end

function request()
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
    path = first
    return
  end
  pages = pages + 1
  local cursor = body:find('"more"%s*:%s*true') and body:match('"next"%s*:%s*"([^"]+)"')
  if cursor then
    path = first .. "&next=" .. cursor
  else
    walks = walks + 1
    path = first
  end
end

function done(summary, latency, requests)
  local pages, walks, failed = 0, 0, 0
  for _, t in ipairs(threads) do
    pages = pages + t:get("pages")
    walks = walks + t:get("walks")
    failed = failed + t:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    '{"duration_us":%d,"pages":%d,"walks":%d,"failed":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.duration, pages, walks, failed, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;

struct Args {
    count: usize,
    page: usize,
    connections: usize,
    seconds: u64,
    rounds: usize,
}

fn args() -> anyhow::Result<Args> {
    // Medallion's memory backend matches a walk's first page against the collection's
    // manifest in time quadratic in the collection's size (about 1 s for 300 objects here,
    // 5-15 s for 1,000, minutes for 10,000), and its 16 connections share one interpreter, so
    // a round sees a first page per connection only every 16 such times. The defaults keep
    // several of its walks inside one round; raise --count and --seconds together.
    let mut a = Args {
        count: 300,
        page: 100,
        connections: 16,
        seconds: 30,
        rounds: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value: u64 = it
            .next()
            .with_context(|| format!("{flag} needs a number"))?
            .parse()
            .with_context(|| format!("{flag} needs a number"))?;
        let n = usize::try_from(value)?;
        match flag.as_str() {
            "--count" => a.count = n,
            "--page" => a.page = n,
            "--connections" => a.connections = n,
            "--seconds" => a.seconds = value,
            "--rounds" => a.rounds = n,
            other => bail!(
                "unknown argument {other}; use --count N, --page P, --connections C, \
                 --seconds S, --rounds R"
            ),
        }
    }
    ensure!(
        a.count > 0 && a.page > 0 && a.connections > 0 && a.seconds > 0 && a.rounds > 0,
        "every number must be positive"
    );
    Ok(a)
}

/// The `i`th indicator: TLP:GREEN, so a partner may read it and the TLP filter has work.
fn indicator(i: usize) -> Value {
    let host = format!("c2-{i}.bench.example");
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i >> 16, i),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": format!("Botnet C2 domain {host}"),
        "description": "Command-and-control domain of a Mirai-variant botnet",
        "indicator_types": ["malicious-activity"],
        "pattern": format!("[domain-name:value = '{host}']"),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [detente_stix::tlp::TLP_GREEN_ID],
    })
}

/// A child process killed when dropped, so a failed round leaves no server behind.
struct Server {
    child: Child,
    /// The first page's path and query.
    first_page: String,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited with {status} before listening");
        }
        ensure!(
            Instant::now() < deadline,
            "{what} did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// A node (party US) with a collection holding `objects`, a TAXII user reading for CN, and
/// `detente serve` running. Returns the server and the TAXII user's password.
fn start_detente(
    bin: &Path,
    dir: &Path,
    objects: &[Value],
    page: usize,
) -> anyhow::Result<(Server, String, String)> {
    let (us, cn) = (dir.join("us"), dir.join("cn"));
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    for (home, party) in [(&us, "US"), (&cn, "CN")] {
        detente(
            bin,
            home,
            &[
                "init",
                "--party",
                party,
                "--listen",
                &listen,
                "--plain-http",
            ],
        )?;
    }
    let partner = cn.join("party.toml");
    detente(
        bin,
        &us,
        &["agreement", "new", "--partner", path_str(&partner)?],
    )?;
    let password = detente(bin, &us, &["indicators", "user-add", USER, "--party", "CN"])?
        .trim()
        .to_owned();
    let collection = detente(
        bin,
        &us,
        &["indicators", "collection-add", "--title", "bench"],
    )?
    .trim()
    .to_owned();
    let bundle = dir.join("bundle.json");
    let body = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
                      "objects": objects});
    std::fs::write(&bundle, body.to_string())?;
    detente(
        bin,
        &us,
        &[
            "indicators",
            "import",
            "--collection",
            &collection,
            path_str(&bundle)?,
        ],
    )?;
    // All load comes from one loopback address: lift the per-address rate limit so that it
    // measures the TAXII path, not the limiter's refusals.
    let mut config = NodeConfig::load(&us).map_err(anyhow::Error::msg)?;
    config.limits.requests_per_second = 1_000_000;
    config.limits.burst = 1_000_000;
    std::fs::write(us.join(CONFIG_FILE), config.to_toml())?;
    let log = std::fs::File::create(dir.join("detente-serve.log"))?;
    let mut child = Command::new(bin)
        .arg("--home")
        .arg(&us)
        .arg("serve")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting detente serve")?;
    wait_for_port(port, &mut child, "detente serve")?;
    let first_page = format!("/taxii2/detente/collections/{collection}/objects/?limit={page}");
    Ok((
        Server {
            child,
            first_page,
            port,
        },
        password,
        collection,
    ))
}

/// Medallion's configuration and data: the memory backend holding `objects` in collection
/// `collection`, in the same order (its pages follow the manifest's `date_added`, strictly
/// increasing here). Returns the configuration file.
fn medallion_files(
    dir: &Path,
    objects: &[Value],
    collection: &str,
    password: &str,
    page: usize,
) -> anyhow::Result<PathBuf> {
    let manifest: Vec<Value> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({
                "id": o["id"],
                "date_added": format!("2026-01-01T00:00:{:02}.{:06}Z", i / 1_000_000, i % 1_000_000),
                "version": o["modified"],
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let data = json!({
        "/discovery": {"title": "bench", "default": format!("/{MEDALLION_ROOT}/"),
                       "api_roots": [format!("/{MEDALLION_ROOT}/")]},
        MEDALLION_ROOT: {
            "information": {"title": "bench", "versions": [TAXII],
                            "max_content_length": 10_000_000},
            "status": [],
            "collections": [{
                "id": collection, "title": "bench", "can_read": true, "can_write": false,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objects, "manifest": manifest,
            }],
        },
    });
    let data_file = dir.join("medallion-data.json");
    std::fs::write(&data_file, data.to_string())?;
    let config_file = dir.join("medallion.json");
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend", "filename": path_str(&data_file)?},
        "users": {USER: password},
        "taxii": {"max_page_size": page.max(100)},
    });
    std::fs::write(&config_file, config.to_string())?;
    Ok(config_file)
}

/// A fresh `medallion` process serving `config_file`.
fn start_medallion(config_file: &Path, collection: &str, page: usize) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut child = Command::new(venv_tool("medallion")?)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(config_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting medallion")?;
    wait_for_port(port, &mut child, "medallion")?;
    Ok(Server {
        child,
        first_page: format!("/{MEDALLION_ROOT}/collections/{collection}/objects/?limit={page}"),
        port,
    })
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("a temporary path that is not UTF-8")
}

/// Walks `server`'s collection once, as the load does; returns each page's object ids and
/// the first page's latency.
async fn walk(
    http: &reqwest::Client,
    server: &Server,
    password: &str,
) -> anyhow::Result<(Vec<Vec<String>>, Duration)> {
    let mut pages = Vec::new();
    let mut path = server.first_page.clone();
    let mut first_latency = None;
    loop {
        let t0 = Instant::now();
        let r = http
            .get(format!("{}{path}", server.base()))
            .basic_auth(USER, Some(password))
            .header("accept", TAXII)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await?;
        first_latency.get_or_insert(t0.elapsed());
        ensure!(status.is_success(), "GET {path}: {status}: {body}");
        let ids = body["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect();
        pages.push(ids);
        match body["next"].as_str() {
            Some(n) if body["more"] == true => {
                path = format!("{}&next={n}", server.first_page);
            }
            _ => break,
        }
    }
    Ok((pages, first_latency.unwrap_or_default()))
}

/// One wrk run's figures.
struct Load {
    pages_per_sec: f64,
    objects_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    walks: u64,
}

fn load(
    wrk: &Path,
    script: &Path,
    server: &Server,
    auth: &str,
    a: &Args,
    objects_per_page: f64,
) -> anyhow::Result<Load> {
    let c = a.connections.to_string();
    let out = Command::new(wrk)
        // One connection per thread: see WALK_LUA.
        .args(["-t", &c, "-c", &c, "-d", &format!("{}s", a.seconds)])
        // Medallion's first pages take seconds; a shorter timeout would drop exactly the
        // slowest requests from its latency figures.
        .args(["--timeout", "600s", "-s"])
        .arg(script)
        .arg(server.base())
        .args(["--", &server.first_page, auth, TAXII])
        .output()
        .context("running wrk (apt-get install -y wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "wrk: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .with_context(|| format!("no figures in wrk's output: {stdout}"))?;
    let j: Value = serde_json::from_str(line)?;
    let n = |k: &str| j[k].as_f64().unwrap_or(f64::NAN);
    ensure!(
        n("failed") == 0.0 && n("socket_errors") == 0.0,
        "{} answered errors under load: {line}",
        server.base()
    );
    let secs = n("duration_us") / 1e6;
    let pages_per_sec = n("pages") / secs;
    Ok(Load {
        pages_per_sec,
        objects_per_sec: pages_per_sec * objects_per_page,
        p50_ms: n("p50_us") / 1e3,
        p99_ms: n("p99_us") / 1e3,
        walks: j["walks"].as_u64().unwrap_or(0),
    })
}

fn show(name: &str, l: &Load) -> String {
    format!(
        "{name:<10} {:>9} pages/s {:>11} objects/s  p50 {:>9.2} ms  p99 {:>9.2} ms",
        rate(l.pages_per_sec),
        rate(l.objects_per_sec),
        l.p50_ms,
        l.p99_ms
    )
}

fn medians(loads: &[Load]) -> Load {
    let m = |f: fn(&Load) -> f64| median(&mut loads.iter().map(f).collect::<Vec<_>>());
    Load {
        pages_per_sec: m(|l| l.pages_per_sec),
        objects_per_sec: m(|l| l.objects_per_sec),
        p50_ms: m(|l| l.p50_ms),
        p99_ms: m(|l| l.p99_ms),
        walks: loads.iter().map(|l| l.walks).sum(),
    }
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let bin = detente_bin()?;
    let wrk = PathBuf::from("wrk");
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("walk.lua");
    std::fs::write(&script, WALK_LUA)?;
    let objects: Vec<Value> = (0..a.count).map(indicator).collect();

    let (node, password, collection) = start_detente(&bin, dir.path(), &objects, a.page)?;
    let medallion_config = medallion_files(dir.path(), &objects, &collection, &password, a.page)?;
    let medallion = start_medallion(&medallion_config, &collection, a.page)?;
    let auth = STANDARD.encode(format!("{USER}:{password}"));

    let runtime = tokio::runtime::Runtime::new()?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()?;
    let (ours, ours_first) = runtime.block_on(walk(&http, &node, &password))?;
    let (theirs, theirs_first) = runtime.block_on(walk(&http, &medallion, &password))?;
    ensure!(
        ours == theirs,
        "the servers disagree on the pages: detente {} pages, medallion {} pages; first \
         difference at page {:?}",
        ours.len(),
        theirs.len(),
        ours.iter().zip(&theirs).position(|(x, y)| x != y)
    );
    let served: usize = ours.iter().map(Vec::len).sum();
    ensure!(
        served == a.count,
        "a walk served {served} of {} objects",
        a.count
    );
    let objects_per_page = served as f64 / ours.len() as f64;
    eprintln!(
        "{} indicators in {} pages of {objects_per_page:.0}; both servers serve the same ids in \
         the same order; first page alone: detente {:.1} ms, medallion {:.1} ms",
        a.count,
        ours.len(),
        ours_first.as_secs_f64() * 1e3,
        theirs_first.as_secs_f64() * 1e3
    );

    drop(medallion);

    let (mut d, mut m) = (Vec::new(), Vec::new());
    for round in 1..=a.rounds {
        let dl = load(&wrk, &script, &node, &auth, &a, objects_per_page)?;
        // A fresh medallion per round: when wrk stops, medallion still owes the first pages
        // in flight (seconds of CPU each), which would otherwise run into the next round.
        let medallion = start_medallion(&medallion_config, &collection, a.page)?;
        let ml = load(&wrk, &script, &medallion, &auth, &a, objects_per_page)?;
        drop(medallion);
        eprintln!("round {round}: {}", show("detente", &dl));
        eprintln!(
            "round {round}: {}  ratio {:.0}x",
            show("medallion", &ml),
            dl.objects_per_sec / ml.objects_per_sec
        );
        d.push(dl);
        m.push(ml);
    }
    let (dm, mm) = (medians(&d), medians(&m));
    let mut ratios: Vec<f64> = d
        .iter()
        .zip(&m)
        .map(|(x, y)| x.objects_per_sec / y.objects_per_sec)
        .collect();
    println!(
        "# TAXII 2.1 GET objects, {} indicators, pages of {objects_per_page:.0}, {} connections \
         walking with next, {} s per run (median of {} rounds)",
        a.count, a.connections, a.seconds, a.rounds
    );
    println!(
        "{}  ({} full walks in all rounds)",
        show("detente", &dm),
        dm.walks
    );
    println!(
        "{}  ({} full walks in all rounds)",
        show("medallion", &mm),
        mm.walks
    );
    println!(
        "ratio detente/medallion: {:.0}x objects/s (median of per-round ratios {:.0}x), p99 \
         {:.0}x lower",
        dm.objects_per_sec / mm.objects_per_sec,
        median(&mut ratios),
        mm.p99_ms / dm.p99_ms
    );
    Ok(())
}
