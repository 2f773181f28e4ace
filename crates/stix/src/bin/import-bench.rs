//! Benchmark of the streaming STIX import: parse + validate + dedupe, objects per second and
//! peak resident memory, with the OASIS `stix2` Python library as the baseline in the same run.
//!
//! ```text
//! cargo run --release -p detente-stix --bin import-bench -- run                 # 1M indicators
//! cargo run --release -p detente-stix --bin import-bench -- run --count 2000000 # ~1.1 GB
//! import-bench generate --count N FILE      # write a bundle of N indicators
//! import-bench import FILE                  # import it once, print one JSON line
//! ```
//!
//! `run` generates the bundle in a temporary folder, imports it three times, each in a fresh
//! child process so that peak RSS (VmHWM) belongs to that import alone, and reports the
//! median. The baseline runs `stix2.parse` on the first `--python-slice` objects (Python is
//! ~100× slower, so a slice keeps the run short) under `$STIX2_PYTHON` (default `python3`).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use detente_stix::synthetic::{STIX2_PARSE_BASELINE, write_bundle_file};
use detente_stix::{ImportOptions, Importer};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let (count, rest) = count_arg(&args[1..], 1_000_000)?;
            let file = rest.first().context("generate needs an output FILE")?;
            let bytes = write_bundle_file(count, Path::new(file))?;
            println!("{{\"objects\":{count},\"bytes\":{bytes}}}");
            Ok(())
        }
        Some("import") => {
            let file = args.get(1).context("import needs a FILE")?;
            import_once(Path::new(file))
        }
        Some("run") => run(&args[1..]),
        _ => bail!(
            "usage: import-bench run [--count N] [--python-slice M] | generate [--count N] FILE | import FILE"
        ),
    }
}

fn count_arg(args: &[String], default: u64) -> Result<(u64, Vec<String>)> {
    let mut count = default;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--count" {
            count = it
                .next()
                .context("--count needs a number")?
                .parse()
                .context("--count needs a number")?;
        } else {
            rest.push(a.clone());
        }
    }
    Ok((count, rest))
}

fn vmhwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn import_once(file: &Path) -> Result<()> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let bytes = f.metadata()?.len();
    let mut imp = Importer::new(ImportOptions::default());
    let mut accepted = 0u64;
    let t0 = Instant::now();
    let report = imp
        .read(f, |_| {
            accepted += 1;
            ControlFlow::Continue(())
        })
        .context("importing the bundle")?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{{\"objects\":{},\"accepted\":{},\"duplicates\":{},\"rejected\":{},\"secs\":{secs:.3},\"objects_per_sec\":{:.0},\"mb_per_sec\":{:.1},\"vmhwm_kb\":{}}}",
        report.read,
        accepted,
        report.duplicates,
        report.rejected,
        report.read as f64 / secs,
        bytes as f64 / secs / 1e6,
        vmhwm_kb().unwrap_or(0)
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn field(json: &serde_json::Value, k: &str) -> f64 {
    json.get(k)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NAN)
}

fn run(args: &[String]) -> Result<()> {
    let (count, rest) = count_arg(args, 1_000_000)?;
    let mut slice = 20_000u64;
    let mut keep = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--python-slice" => {
                slice = it
                    .next()
                    .context("--python-slice needs a number")?
                    .parse()?
            }
            "--dir" => keep = Some(PathBuf::from(it.next().context("--dir needs a folder")?)),
            other => bail!("unknown argument {other}"),
        }
    }
    let dir = keep.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("detente-import-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let big = dir.join(format!("bundle-{count}.json"));
    let small = dir.join(format!("bundle-{slice}.json"));

    let t0 = Instant::now();
    let bytes = write_bundle_file(count, &big)?;
    eprintln!(
        "generated {count} indicators, {:.1} MB, in {:.1}s",
        bytes as f64 / 1e6,
        t0.elapsed().as_secs_f64()
    );
    write_bundle_file(slice, &small)?;

    let me = std::env::current_exe()?;
    let mut rates = Vec::new();
    let mut rss = Vec::new();
    for run in 1..=3 {
        let out = Command::new(&me).arg("import").arg(&big).output()?;
        if !out.status.success() {
            bail!(
                "import run {run} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        eprintln!("detente run {run}: {line}");
        let j: serde_json::Value = serde_json::from_str(&line)?;
        rates.push(field(&j, "objects_per_sec"));
        rss.push(field(&j, "vmhwm_kb"));
    }
    let mut slice_rates = Vec::new();
    for run in 1..=3 {
        let out = Command::new(&me).arg("import").arg(&small).output()?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        eprintln!("detente slice run {run}: {line}");
        let j: serde_json::Value = serde_json::from_str(&line)?;
        slice_rates.push(field(&j, "objects_per_sec"));
    }

    let python = std::env::var("STIX2_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut py_rates = Vec::new();
    let mut py_rss = Vec::new();
    let mut py_error = None;
    for run in 1..=3 {
        let out = Command::new(&python)
            .arg("-c")
            .arg(STIX2_PARSE_BASELINE)
            .arg(&small)
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                eprintln!("stix2 (Python) run {run}: {line}");
                let j: serde_json::Value = serde_json::from_str(&line)?;
                py_rates.push(field(&j, "objects") / field(&j, "secs"));
                py_rss.push(field(&j, "vmhwm_kb"));
            }
            Ok(o) => {
                py_error = Some(
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("failed")
                        .to_owned(),
                );
                break;
            }
            Err(e) => {
                py_error = Some(e.to_string());
                break;
            }
        }
    }

    println!("# import benchmark: streaming parse + validate + dedupe (median of 3)");
    println!(
        "detente-stix  {count} indicators, {:.0} MB: {:.0} objects/s, peak RSS {:.1} MB",
        bytes as f64 / 1e6,
        median(rates),
        median(rss) / 1024.0
    );
    println!(
        "detente-stix  {slice} indicators (the Python slice): {:.0} objects/s",
        median(slice_rates.clone())
    );
    match py_error {
        None => {
            let py = median(py_rates);
            println!(
                "python stix2  {slice} indicators: {py:.0} objects/s, peak RSS {:.1} MB; detente is {:.0}x faster on the same slice",
                median(py_rss) / 1024.0,
                median(slice_rates) / py
            );
        }
        Some(e) => println!("python stix2  baseline unavailable ({python}): {e}"),
    }
    if std::env::var_os("KEEP_BENCH_FILES").is_none() {
        std::fs::remove_file(&big).ok();
        std::fs::remove_file(&small).ok();
        std::fs::remove_dir(&dir).ok();
    }
    Ok(())
}
