//! Shared bits of the benchmark binaries: repeated rounds and medians, and the `detente`
//! binary the end-to-end benchmarks drive.
//!
//! Machines here are shared and noisy, so every benchmark runs its baselines and detente in
//! the same process, several rounds each, and reports medians and ratios.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// The `detente` binary: `$DETENTE_BIN`, or the one built beside the running benchmark
/// (`target/release/detente`), so that a benchmark never measures a stale or debug build by
/// accident.
pub fn detente_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("DETENTE_BIN") {
        return Ok(p.into());
    }
    let bin = std::env::current_exe()?.with_file_name("detente");
    if !bin.exists() {
        bail!(
            "{} is missing: run `cargo build --release -p detente` first",
            bin.display()
        );
    }
    Ok(bin)
}

/// Runs `detente --home HOME ARGS...` to completion and returns its standard output.
pub fn detente(bin: &Path, home: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .with_context(|| format!("running detente {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "detente {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A tool in the Python virtual environment `scripts/python-tools` makes (`.venv/bin/NAME`,
/// relative to the directory the benchmark runs in, normally the repository root).
pub fn venv_tool(name: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(".venv/bin").join(name);
    if !p.exists() {
        bail!(
            "{} is missing: run scripts/python-tools from the repository root",
            p.display()
        );
    }
    Ok(p)
}

/// The median of `values` (the lower middle one for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) / 2]
}

/// Formats a rate with thousands separators.
pub fn rate(r: f64) -> String {
    let n = r.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The terms the delivery benchmarks run under: every kind, one category, generous deadlines.
pub fn terms() -> detente_domain::Terms {
    use detente_domain::{Deadlines, Span, Terms};
    use detente_protocol::{Priority, RequestKind};
    let d = Deadlines {
        acknowledge: Span::from_secs(3600),
        first_answer: Span::from_secs(86_400),
        final_answer: Span::from_secs(7 * 86_400),
    };
    Terms {
        kinds: RequestKind::ALL.to_vec(),
        categories: vec!["botnet".into()],
        deadlines: Priority::ALL.iter().map(|p| (*p, d)).collect(),
        clock_skew: Span::from_secs(300),
    }
}

/// The `i`th request the delivery benchmarks file: a typical mitigation request.
pub fn request(i: usize) -> detente_protocol::RequestBody {
    use detente_protocol::{Priority, RequestBody, RequestKind, Tlp};
    RequestBody {
        kind: RequestKind::Mitigation,
        category: "botnet".into(),
        priority: Priority::High,
        tlp: Tlp::Amber,
        title: format!("Botnet C2 server {i} in your territory"),
        narrative: "A command-and-control server of a Mirai-variant botnet is active in your \
                    address space; please take it down and preserve its disk."
            .into(),
        observables: Vec::new(),
        attachments: Vec::new(),
        objects: Vec::new(),
        attribution: None,
        preservation: None,
    }
}

/// The audit benchmarks' agreement between US and CN under wire version `protocol`, with keys
/// from fixed seeds, so the process that audits can pin the agreement the generating process
/// signed under.
pub fn seeded_agreement(protocol: u32) -> anyhow::Result<detente_domain::Agreement> {
    use detente_domain::{Agreement, Deadlines, Party, Span, Terms};
    use detente_protocol::{PartyId, Priority, RequestKind, SecretKey};
    let d = Deadlines {
        acknowledge: Span::from_secs(3600),
        first_answer: Span::from_secs(86_400),
        final_answer: Span::from_secs(7 * 86_400),
    };
    let party = |id: &str, seed: u8| -> anyhow::Result<Party> {
        Ok(Party {
            id: PartyId::parse(id)?,
            name: id.into(),
            node_url: format!("https://{}.example", id.to_lowercase()),
            public_keys: vec![SecretKey::from_seed(&[seed; 32]).public_key()],
        })
    };
    Ok(Agreement {
        id: "bench".into(),
        title: "benchmark".into(),
        parties: vec![party("US", 1)?, party("CN", 2)?],
        terms: Terms {
            kinds: RequestKind::ALL.to_vec(),
            categories: vec!["botnet".into()],
            deadlines: Priority::ALL.iter().map(|p| (*p, d)).collect(),
            clock_skew: Span::from_secs(300),
        },
        in_force_from: None,
        protocol,
    })
}
