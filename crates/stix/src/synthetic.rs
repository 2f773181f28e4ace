//! Deterministic synthetic bundles of indicators for benchmarks: realistic shapes (all five
//! pattern kinds, TLP markings, custom properties), with planted duplicates and new versions
//! so that dedupe is exercised. Also the Python baseline the benchmarks run beside detente.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::{StixId, tlp};

/// Python that parses a bundle with the OASIS `stix2` library (the baseline): prints one
/// JSON line with the object count, seconds and peak RSS.
pub const STIX2_PARSE_BASELINE: &str = r#"
import json, resource, sys, time
import stix2
path = sys.argv[1]
t0 = time.perf_counter()
with open(path) as f:
    bundle = stix2.parse(f.read(), allow_custom=True)
n = len(bundle.objects)
dt = time.perf_counter() - t0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"objects": n, "secs": dt, "vmhwm_kb": rss_kb}))
"#;

/// SplitMix64: cheap, deterministic pseudo-random bits for ids and values.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn uuid_for(i: u64) -> uuid::Uuid {
    let hi = mix(i);
    let lo = mix(i ^ 0xdead_beef_cafe_f00d);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_le_bytes());
    bytes[8..].copy_from_slice(&lo.to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// One indicator as JSON text. Every 100th object repeats the previous one exactly (a
/// duplicate to drop) and every 50th is a new version of the previous one (to keep).
fn indicator(i: u64, out: &mut String) {
    use std::fmt::Write as _;
    let r = mix(i.wrapping_mul(7));
    let (seq, minute) = if i % 100 == 99 {
        (i - 1, 0)
    } else if i % 50 == 49 {
        (i - 1, 1)
    } else {
        (i, 0)
    };
    let id = uuid_for(seq);
    let rs = mix(seq.wrapping_mul(7));
    let pattern = match rs % 5 {
        0 => format!(
            "[ipv4-addr:value = '{}.{}.{}.{}']",
            (rs >> 8) & 0xff,
            (rs >> 16) & 0xff,
            (rs >> 24) & 0xff,
            (rs >> 32) & 0xff
        ),
        1 => format!("[domain-name:value = 'c2-{:x}.example.net']", rs >> 12),
        2 => format!(
            "[url:value = 'http://d{:x}.example.org/gate.php?id={}']",
            rs >> 20,
            seq
        ),
        3 => format!(
            "[file:hashes.'SHA-256' = '{:016x}{:016x}{:016x}{:016x}']",
            rs,
            mix(rs),
            mix(rs + 1),
            mix(rs + 2)
        ),
        _ => format!(
            "[email-addr:value = 'phish{}@mail{:x}.example.com']",
            seq,
            rs >> 40
        ),
    };
    let marking = match r % 4 {
        0 => tlp::TLP_CLEAR_ID,
        1 => tlp::TLP_GREEN_ID,
        2 => tlp::TLP_AMBER_ID,
        _ => tlp::TLP_RED_ID,
    };
    let day = 1 + seq % 28;
    let _ = write!(
        out,
        concat!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{id}","#,
            r#""created":"2024-03-{day:02}T10:00:00.000Z","modified":"2024-03-{day:02}T10:{minute:02}:00.000Z","#,
            r#""name":"Benchmark indicator {seq}","description":"Synthetic indicator for the import benchmark","#,
            r#""indicator_types":["malicious-activity"],"pattern":"{pattern}","pattern_type":"stix","pattern_version":"2.1","#,
            r#""valid_from":"2024-03-{day:02}T10:00:00Z","labels":["benchmark"],"confidence":{conf},"#,
            r#""object_marking_refs":["{marking}"],"x_detente_seq":{seq}}}"#
        ),
        id = id,
        day = day,
        minute = minute,
        seq = seq,
        pattern = pattern,
        conf = r % 101,
        marking = marking,
    );
}

/// Writes a bundle of `count` indicators to `file` and returns its size in bytes.
pub fn write_bundle_file(count: u64, file: &Path) -> io::Result<u64> {
    let f = std::fs::File::create(file)?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let bundle_id = StixId::new("bundle", uuid_for(u64::MAX)).expect("bundle is a valid type");
    write!(
        w,
        "{{\"type\":\"bundle\",\"id\":\"{bundle_id}\",\"objects\":["
    )?;
    let mut buf = String::with_capacity(1024);
    for i in 0..count {
        buf.clear();
        if i > 0 {
            buf.push(',');
        }
        indicator(i, &mut buf);
        w.write_all(buf.as_bytes())?;
    }
    w.write_all(b"]}")?;
    w.flush()?;
    Ok(std::fs::metadata(file)?.len())
}
