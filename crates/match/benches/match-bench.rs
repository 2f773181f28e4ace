//! Benchmark of the matcher against what a CERT would otherwise run: `grep -F -f` and
//! `rg -F -f` over the same files with the same patterns, measured in the same run.
//!
//! Run it in release (the bench profile) from the workspace root:
//!
//! ```sh
//! cargo bench -p detente-match --bench match-bench
//! ```
//!
//! Sizes come from the environment: `DETENTE_BENCH_INDICATORS` (default 1,000,000),
//! `DETENTE_BENCH_LINES` (default 10,000,000), `DETENTE_BENCH_RUNS` (default 3),
//! `DETENTE_BENCH_DIR` (a folder to write into; default a fresh temporary one, removed at the
//! end), `DETENTE_BENCH_TOOL_TIMEOUT` (seconds one grep/rg run may take, default 300).
//!
//! The indicators are the real lists in `testdata` (maltrail, signature-base, ESET hashes)
//! topped up with generated domains, addresses, blocks, `ip:port`s, URLs and SHA-256 hashes.
//! The logs are generated Zeek `conn.log`, `dns.log` and `http.log` (TSV) with hits planted
//! every 997th line. Resident memory for the index is measured in a child process that only
//! loads the list and builds the index (`VmHWM` from `/proc/self/status`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use detente_match::load::{ListFormat, Target, load_list, parse_maltrail_entry};
use detente_match::{
    CountHits, EventTime, IndexBuilder, IndicatorMeta, IndicatorValue, RunOptions, input::Format,
    input::Input,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// splitmix64: small, fast, and the same numbers on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }

    /// A public-looking IPv4 address outside 10/8 (the generated logs' own network).
    fn public_ip(&mut self) -> [u8; 4] {
        loop {
            let a = 1 + self.below(222) as u8;
            if a != 10 && a != 127 {
                return [
                    a,
                    self.below(256) as u8,
                    self.below(256) as u8,
                    1 + self.below(254) as u8,
                ];
            }
        }
    }
}

fn ip_text(ip: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

/// The indicator texts: real lists first, then generated ones up to `total`.
fn indicator_texts(total: usize, rng: &mut Rng) -> (Vec<String>, usize) {
    let mut texts = Vec::with_capacity(total);
    let data = data_dir();
    let mut trail_files = Vec::new();
    for folder in ["malicious", "malware", "suspicious"] {
        if let Ok(dir) = std::fs::read_dir(data.join("maltrail/trails/static").join(folder)) {
            trail_files.extend(dir.filter_map(Result::ok).map(|e| e.path()));
        }
    }
    trail_files.sort();
    let mut add_file = |path: &Path, parse: &dyn Fn(&str) -> Option<String>| {
        let Ok(f) = File::open(path) else { return };
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(t) = parse(line) {
                texts.push(t);
            }
        }
    };
    let first_token = |l: &str| l.split_whitespace().next().unwrap_or("").to_owned();
    for path in &trail_files {
        add_file(path, &|l| {
            parse_maltrail_entry(&first_token(l))
                .ok()
                .map(|v| v.to_string())
        });
    }
    add_file(&data.join("signature-base/iocs/c2-iocs.txt"), &|l| {
        IndicatorValue::parse(&first_token(l))
            .ok()
            .map(|v| v.to_string())
    });
    add_file(&data.join("signature-base/iocs/hash-iocs.txt"), &|l| {
        IndicatorValue::parse(l.split(';').next().unwrap_or(""))
            .ok()
            .map(|v| v.to_string())
    });
    let mut eset = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(data.join("eset-malware-ioc")) {
        for d in dirs.filter_map(Result::ok) {
            for ext in ["md5", "sha1", "sha256"] {
                eset.push(d.path().join(format!("samples.{ext}")));
            }
        }
    }
    eset.sort();
    for path in &eset {
        add_file(path, &|l| {
            IndicatorValue::parse(l).ok().map(|v| v.to_string())
        });
    }
    let real = texts.len();
    let tlds = ["com", "net", "org", "info", "xyz", "top", "ru", "cn"];
    while texts.len() < total {
        let t = match rng.below(100) {
            0..40 => {
                let len = 6 + rng.below(8) as usize;
                format!(
                    "{}{}.{}",
                    rng.word(len),
                    rng.below(1000),
                    tlds[rng.below(8) as usize]
                )
            }
            40..65 => ip_text(rng.public_ip()),
            65..70 => {
                let ip = rng.public_ip();
                format!("{}.{}.{}.0/24", ip[0], ip[1], ip[2])
            }
            70..80 => format!("{}:{}", ip_text(rng.public_ip()), 1024 + rng.below(60000)),
            80..90 => format!(
                "http://{}{}.com/{}/{}.php",
                rng.word(8),
                rng.below(100),
                rng.word(5),
                rng.word(6)
            ),
            _ => (0..64)
                .map(|_| char::from(b"0123456789abcdef"[rng.below(16) as usize]))
                .collect(),
        };
        texts.push(t);
    }
    (texts, real)
}

const CONN_FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";
const DNS_FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected";
const HTTP_FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\tresp_mime_types";

fn header(path: &str, fields: &str) -> String {
    format!(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#open\t2023-11-14-22-13-20\n#fields\t{fields}\n#types\t-\n"
    )
}

/// Writes the three logs; every 997th line carries an indicator. Returns (paths, planted).
fn write_logs(
    dir: &Path,
    lines: usize,
    planted_from: &[String],
    rng: &mut Rng,
) -> std::io::Result<(Vec<PathBuf>, usize)> {
    let ips: Vec<&String> = planted_from
        .iter()
        .filter(|t| t.bytes().all(|c| c.is_ascii_digit() || c == b'.') && t.contains('.'))
        .collect();
    let domains: Vec<&String> = planted_from
        .iter()
        .filter(|t| {
            t.bytes().any(|c| c.is_ascii_lowercase())
                && !t.contains(['/', ':', '@'])
                && t.len() < 64
                && t.contains('.')
        })
        .collect();
    let benign: Vec<String> = (0..50_000)
        .map(|i| {
            format!(
                "{}{i}.{}",
                rng.word(7),
                ["com", "net", "org", "de", "fr"][i % 5]
            )
        })
        .collect();
    let uids = |rng: &mut Rng| -> String {
        let mut s = String::from("C");
        for _ in 0..17 {
            s.push(char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [rng.below(62) as usize],
            ));
        }
        s
    };
    let (conn_n, dns_n) = (lines / 2, lines * 3 / 10);
    let http_n = lines - conn_n - dns_n;
    let mut planted = 0;
    let mut paths = Vec::new();
    let mut ts: u64 = 1_700_000_000_000_000;
    for (name, fields, count) in [
        ("conn", CONN_FIELDS, conn_n),
        ("dns", DNS_FIELDS, dns_n),
        ("http", HTTP_FIELDS, http_n),
    ] {
        let path = dir.join(format!("{name}.log"));
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        w.write_all(header(name, fields).as_bytes())?;
        let mut line = String::with_capacity(512);
        for i in 0..count {
            line.clear();
            ts += 1 + rng.below(2000);
            let plant = i % 997 == 996;
            let orig = format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            );
            let remote_ip = if plant && name == "conn" && !ips.is_empty() {
                planted += 1;
                ips[rng.below(ips.len() as u64) as usize].clone()
            } else {
                ip_text(rng.public_ip())
            };
            let name_of = |rng: &mut Rng, plant: bool| -> String {
                if plant && !domains.is_empty() {
                    format!("www.{}", domains[rng.below(domains.len() as u64) as usize])
                } else {
                    let b = &benign[rng.below(benign.len() as u64) as usize];
                    if rng.below(2) == 0 {
                        format!("www.{b}")
                    } else {
                        b.clone()
                    }
                }
            };
            let _ = write!(
                line,
                "{}.{:06}\t{}\t{orig}\t{}\t",
                ts / 1_000_000,
                ts % 1_000_000,
                uids(rng),
                1024 + rng.below(64000)
            );
            match name {
                "conn" => {
                    let _ = write!(
                        line,
                        "{remote_ip}\t{}\ttcp\tssl\t{}.{:06}\t{}\t{}\tSF\tT\tF\t0\tShADadFf\t{}\t{}\t{}\t{}\t-",
                        [443, 80, 53, 8080, 22][rng.below(5) as usize],
                        rng.below(30),
                        rng.below(1_000_000),
                        rng.below(100_000),
                        rng.below(1_000_000),
                        rng.below(100),
                        rng.below(10_000),
                        rng.below(100),
                        rng.below(100_000)
                    );
                }
                "dns" => {
                    let q = name_of(rng, plant);
                    if plant {
                        planted += 1;
                    }
                    let _ = write!(
                        line,
                        "10.0.0.53\t53\tudp\t{}\t0.{:06}\t{q}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{},{}\t300.000000,300.000000\tF",
                        rng.below(65536),
                        rng.below(100_000),
                        ip_text(rng.public_ip()),
                        ip_text(rng.public_ip())
                    );
                }
                _ => {
                    let host = name_of(rng, plant);
                    if plant {
                        planted += 1;
                    }
                    let _ = write!(
                        line,
                        "{remote_ip}\t80\t1\tGET\t{host}\t/{}/{}.html?id={}\t-\t1.1\tMozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36\t-\t0\t{}\t200\tOK\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\tF{}\t-\ttext/html",
                        rng.word(6),
                        rng.word(8),
                        rng.below(100_000),
                        rng.below(100_000),
                        uids(rng)
                    );
                }
            }
            line.push('\n');
            w.write_all(line.as_bytes())?;
        }
        w.write_all(b"#close\t2023-11-15-22-13-20\n")?;
        w.flush()?;
        paths.push(path);
    }
    Ok((paths, planted))
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn now() -> EventTime {
    EventTime::from_unix_seconds(1_700_000_000).expect("a valid time")
}

/// Child mode: load the list, build the index, report time and peak memory, exit.
fn measure_index(list: &Path) {
    let start = Instant::now();
    let mut builder = IndexBuilder::new(now());
    let meta = IndicatorMeta::new("bench", "TLP:AMBER");
    let file = File::open(list).expect("the list was just written");
    let report = load_list(
        &mut builder,
        BufReader::new(file),
        "patterns",
        ListFormat::Plain,
        Target::Indicators(&meta),
    )
    .expect("the list is readable");
    let index = builder.build();
    let elapsed = start.elapsed();
    let stats = index.stats();
    println!(
        "{} {} {} {} {}",
        elapsed.as_secs_f64(),
        vm_hwm_kib(),
        stats.indicators,
        stats.memory_bytes,
        report.rejected
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs an external tool `runs` times; an error if it is missing, fails or times out.
fn time_tool(
    program: &str,
    args: &[String],
    runs: usize,
    timeout: Duration,
) -> Result<Vec<f64>, String> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{program} not runnable: {e}"))?;
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                let out = child.wait_with_output().map_err(|e| e.to_string())?;
                // grep and rg exit 1 when nothing matched; only 2 and above are failures.
                if status.code().is_none_or(|c| c > 1) {
                    return Err(format!(
                        "{program} failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                break;
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{program} took longer than {}s", timeout.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(times)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--index-memory") {
        measure_index(Path::new(&args[i + 1]));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets too (the
    // manifest's `test = false` does not stop `--benches`), and must not spend minutes here.
    if !args.iter().any(|a| a == "--bench") {
        println!("match-bench: run it with `cargo bench -p detente-match --bench match-bench`");
        return;
    }
    let n_indicators = env_usize("DETENTE_BENCH_INDICATORS", 1_000_000);
    let n_lines = env_usize("DETENTE_BENCH_LINES", 10_000_000);
    let runs = env_usize("DETENTE_BENCH_RUNS", 3).max(1);
    let timeout = Duration::from_secs(env_usize("DETENTE_BENCH_TOOL_TIMEOUT", 300) as u64);
    let (dir, _guard) = match std::env::var("DETENTE_BENCH_DIR") {
        Ok(d) => {
            std::fs::create_dir_all(&d).expect("the bench folder can be created");
            (PathBuf::from(d), None)
        }
        Err(_) => {
            let t = tempfile::tempdir().expect("a temporary folder");
            (t.path().to_path_buf(), Some(t))
        }
    };
    println!(
        "detente-match benchmark: {n_indicators} indicators, {n_lines} log lines, {runs} runs, in {}",
        dir.display()
    );

    let mut rng = Rng(0x5eed);
    let t = Instant::now();
    let (texts, real) = indicator_texts(n_indicators, &mut rng);
    let patterns = dir.join("patterns.txt");
    {
        let mut w = BufWriter::new(File::create(&patterns).expect("writable"));
        for t in &texts {
            writeln!(w, "{t}").expect("writable");
        }
        w.flush().expect("writable");
    }
    println!(
        "indicators: {} ({} from testdata, {} generated), written in {:.1}s",
        texts.len(),
        real,
        texts.len() - real,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let (logs, planted) =
        write_logs(&dir, n_lines, &texts, &mut rng).expect("the logs can be written");
    let bytes: u64 = logs
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    println!(
        "logs: {n_lines} lines, {:.1} MB, {planted} planted hits, written in {:.1}s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    drop(texts);

    // Index memory and build time, in a child process that does nothing else.
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .arg("--index-memory")
        .arg(&patterns)
        .output()
        .expect("child runs");
    let child = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = child.split_whitespace().collect();
    if fields.len() == 5 {
        println!(
            "index: {} indicators built in {}s (list read + parse + build); peak RSS {:.1} MB (VmHWM); index's own allocations {:.1} MB; {} list lines rejected",
            fields[2],
            &fields[0][..fields[0].len().min(5)],
            fields[1].parse::<f64>().unwrap_or(0.0) / 1024.0,
            fields[3].parse::<f64>().unwrap_or(0.0) / 1e6,
            fields[4]
        );
    } else {
        println!(
            "index measurement failed: {child} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The index for the runs below.
    let mut builder = IndexBuilder::new(now());
    let meta = IndicatorMeta::new("bench", "TLP:AMBER");
    load_list(
        &mut builder,
        BufReader::new(File::open(&patterns).expect("written")),
        "patterns",
        ListFormat::Plain,
        Target::Indicators(&meta),
    )
    .expect("readable");
    let index = builder.build();

    let mut results: Vec<(String, f64)> = Vec::new();
    let mut hits_seen = 0;
    for threads in [1, 2] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let inputs: Vec<Input> = logs
                .iter()
                .map(|p| Input::open(p, Format::Auto).expect("readable"))
                .collect();
            let mut sink = CountHits::default();
            let start = Instant::now();
            let report = detente_match::run(
                &index,
                inputs,
                &RunOptions {
                    threads,
                    ..RunOptions::default()
                },
                &mut sink,
            );
            times.push(start.elapsed().as_secs_f64());
            assert_eq!(report.lines() as usize, n_lines + 3 * 9, "every line read");
            assert_eq!(report.malformed(), 0, "generated lines are well-formed");
            hits_seen = sink.0;
        }
        println!(
            "detente {threads} thread(s): runs {:?}s, {hits_seen} hits",
            times
                .iter()
                .map(|t| (t * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
        results.push((
            format!(
                "detente, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            median(times),
        ));
    }
    assert!(
        hits_seen as usize >= planted,
        "every planted hit is found ({hits_seen} hits, {planted} planted)"
    );

    // grep and rg scan at a few MB/s with a million patterns, so they get a sample of each
    // log (its first lines); detente is timed on the same sample too, for a like-for-like ratio.
    let tool_lines = env_usize("DETENTE_BENCH_TOOL_LINES", 300_000).min(n_lines);
    let sample_dir = dir.join("sample");
    std::fs::create_dir_all(&sample_dir).expect("writable");
    let mut samples = Vec::new();
    for (path, share) in logs.iter().zip([5usize, 3, 2]) {
        let keep = tool_lines * share / 10 + 9;
        let sample = sample_dir.join(path.file_name().expect("a file"));
        let mut w = BufWriter::new(File::create(&sample).expect("writable"));
        for line in BufReader::new(File::open(path).expect("written"))
            .split(b'\n')
            .take(keep)
        {
            w.write_all(&line.expect("readable")).expect("writable");
            w.write_all(b"\n").expect("writable");
        }
        w.flush().expect("writable");
        samples.push(sample);
    }
    let sample_bytes: u64 = samples
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let sample_lines: u64 = samples
        .iter()
        .map(|p| {
            BufReader::new(File::open(p).expect("written"))
                .split(b'\n')
                .count() as u64
        })
        .sum();
    let mut sample_results: Vec<(String, f64)> = Vec::new();
    {
        let mut times = Vec::new();
        for _ in 0..runs {
            let inputs: Vec<Input> = samples
                .iter()
                .map(|p| Input::open(p, Format::Auto).expect("readable"))
                .collect();
            let start = Instant::now();
            detente_match::run(
                &index,
                inputs,
                &RunOptions::default(),
                &mut CountHits::default(),
            );
            times.push(start.elapsed().as_secs_f64());
        }
        sample_results.push(("detente, 2 threads".to_owned(), median(times)));
    }
    let log_args: Vec<String> = samples.iter().map(|p| p.display().to_string()).collect();
    let mut grep_args = vec![
        "-F".to_owned(),
        "-c".to_owned(),
        "-f".to_owned(),
        patterns.display().to_string(),
    ];
    grep_args.extend(log_args.iter().cloned());
    let mut rg_args = vec![
        "-F".into(),
        "-c".into(),
        "--no-config".into(),
        "--regex-size-limit".into(),
        "10G".into(),
        "--dfa-size-limit".into(),
        "10G".into(),
        "-f".into(),
        patterns.display().to_string(),
    ];
    rg_args.extend(log_args.iter().cloned());
    let empty = dir.join("empty.log");
    File::create(&empty).expect("writable");
    let mut tool_notes = Vec::new();
    let skip_tools = std::env::var("DETENTE_BENCH_SKIP_TOOLS").is_ok();
    for (label, program, args) in [
        ("grep -F -f (GNU grep)", "grep", &grep_args),
        ("rg -F -f (ripgrep)", "rg", &rg_args),
    ] {
        if skip_tools {
            break;
        }
        match time_tool(program, args, runs, timeout) {
            Ok(times) => {
                println!(
                    "{label}: runs {:?}s",
                    times
                        .iter()
                        .map(|t| (t * 100.0).round() / 100.0)
                        .collect::<Vec<_>>()
                );
                sample_results.push((label.to_owned(), median(times)));
                // The same command over an empty file: the time spent compiling the patterns.
                let mut only_patterns = args[..args.len() - log_args.len()].to_vec();
                only_patterns.push(empty.display().to_string());
                if let Ok(t) = time_tool(program, &only_patterns, 1, timeout) {
                    println!(
                        "{label}: {:.1}s of that is loading the patterns (run over an empty file)",
                        t[0]
                    );
                }
            }
            Err(why) => {
                println!("{label}: not measured: {why}");
                tool_notes.push(why);
            }
        }
    }
    println!(
        "\nsame files for all three: the first {sample_lines} lines of each log, {:.1} MB (median of {runs} runs):",
        sample_bytes as f64 / 1e6
    );
    println!(
        "{:<26} {:>9} {:>14} {:>10}",
        "tool", "seconds", "lines/s", "MB/s"
    );
    for (label, secs) in &sample_results {
        println!(
            "{label:<26} {secs:>9.2} {:>14.0} {:>10.1}",
            sample_lines as f64 / secs,
            sample_bytes as f64 / 1e6 / secs
        );
    }
    let fastest_tool = sample_results
        .iter()
        .filter(|(l, _)| !l.starts_with("detente"))
        .map(|(_, s)| *s)
        .fold(f64::INFINITY, f64::min);
    if fastest_tool.is_finite() {
        println!(
            "detente vs the faster of grep/rg on these files: {:.1}x (target: at least 2x)",
            fastest_tool / sample_results[0].1
        );
    }

    println!(
        "\nall {n_lines} lines, {:.1} MB (median of {runs} runs):",
        bytes as f64 / 1e6
    );
    println!(
        "{:<26} {:>9} {:>14} {:>10}",
        "tool", "seconds", "lines/s", "MB/s"
    );
    for (label, secs) in &results {
        println!(
            "{label:<26} {secs:>9.2} {:>14.0} {:>10.1}",
            n_lines as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    }
    let one = results
        .iter()
        .find(|(l, _)| l == "detente, 1 thread")
        .map(|(_, s)| *s);
    let two = results
        .iter()
        .find(|(l, _)| l == "detente, 2 threads")
        .map(|(_, s)| *s);
    if let (Some(one), Some(two)) = (one, two) {
        println!("scaling 1 -> 2 threads: {:.2}x", one / two);
    }
    for note in tool_notes {
        println!("note: {note}");
    }
}
