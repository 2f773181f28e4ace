//! Redacted vs full audit (issue 22): the same pair of protocol 2 logs audited as full bundles
//! (every body beside its signed header, each checked against it) and as redacted bundles (no
//! bodies), in the same run; medians of 3 rounds of each, their time ratio, and the bundles'
//! size ratio.
//!
//! `cargo run --release -p detente-bench --bin redacted [-- ENTRIES_PER_BUNDLE]` (default
//! 1,000,000). The logs follow the demo's mix of messages: per case a request (title,
//! narrative, observables and a STIX indicator), an acknowledgement with a note, a final
//! answer with text and observables and a rating with a comment, each receipted: 8 entries a
//! case in each log. Targets: redacted / full audit time <= 1.00, size <= 0.33.

use std::{
    fs::File,
    io::{BufReader, BufWriter},
    path::Path,
    time::Instant,
};

use anyhow::Context;
use detente_audit::{BundleWriter, Direction, EntryKind, Header, Pin, audit};
use detente_bench::median;
use detente_domain::Agreement;
use detente_ledger::{Checkpoint, Frontier, SignedCheckpoint, hash_leaf};
use detente_protocol::{
    AcknowledgementBody, AnswerBody, Body, CaseId, Envelope, MessageId, Observable, PartyId,
    Priority, RatingBody, Receipt, RequestBody, RequestKind, SaltedBody, SecretKey, Signed,
    SignedEnvelope, Timestamp, Tlp, WIRE_VERSION, WIRE_VERSION_2,
};

/// One entry: its kind, direction, logged bytes and (for a version 2 envelope) its body.
type Logged = (EntryKind, Direction, Vec<u8>, Option<Vec<u8>>);

/// One party's log as generated: entries (with the body of each version 2 envelope) and the
/// checkpoints it signed, every 1,000 entries and at its end.
struct Log {
    party: PartyId,
    key: SecretKey,
    frontier: Frontier,
    entries: Vec<Logged>,
    checkpoints: Vec<String>,
}

impl Log {
    fn new(party: &PartyId, seed: u8) -> Self {
        Self {
            party: party.clone(),
            key: SecretKey::from_seed(&[seed; 32]),
            frontier: Frontier::new(),
            entries: Vec::new(),
            checkpoints: Vec::new(),
        }
    }

    fn push(
        &mut self,
        kind: EntryKind,
        direction: Direction,
        bytes: Vec<u8>,
        body: Option<Vec<u8>>,
    ) {
        self.frontier
            .append(&[hash_leaf(&bytes)])
            .expect("tree grows");
        self.entries.push((kind, direction, bytes, body));
        if self.frontier.size().get().is_multiple_of(1000) {
            self.sign();
        }
    }

    fn sign(&mut self) {
        let c = Checkpoint::new(
            &format!("detente/bench/{}", self.party),
            self.frontier.size(),
            self.frontier.root(),
        )
        .expect("checkpoint");
        let note = SignedCheckpoint::sign(c, &self.key, self.party.as_str()).expect("signed");
        self.checkpoints.push(note.to_text());
    }

    fn write(&mut self, path: &Path, agreement: &Agreement, redacted: bool) -> anyhow::Result<()> {
        // A bundle ends at a checkpoint of its party, as a node's export does.
        if self.checkpoints.len() as u64 != self.frontier.size().get().div_ceil(1000) {
            self.sign();
        }
        let header = Header::new(
            self.party.clone(),
            agreement.clone(),
            self.entries.len() as u64,
        );
        let mut w = BundleWriter::new(BufWriter::new(File::create(path)?), &header)?;
        for c in &self.checkpoints {
            w.checkpoint(c)?;
        }
        for (index, (kind, direction, bytes, body)) in self.entries.iter().enumerate() {
            let body = if redacted { None } else { body.as_deref() };
            w.entry_with_body(index as u64, *kind, *direction, bytes, body)?;
        }
        w.finish()?;
        Ok(())
    }
}

fn agreement() -> anyhow::Result<Agreement> {
    detente_bench::seeded_agreement(WIRE_VERSION_2)
}

/// The bodies of one case, shaped like the demo's messages.
fn bodies(k: u64) -> anyhow::Result<[Body; 4]> {
    let observables = |n: u64| -> anyhow::Result<Vec<Observable>> {
        Ok(vec![
            Observable::parse(&format!("ip:203.0.{}.{}", n % 250, (n / 250) % 250))?,
            Observable::parse(&format!("domain:c2-{n}.example"))?,
            Observable::parse(&format!("sha256:{:064x}", n))?,
        ])
    };
    let indicator = serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{}", MessageId::random()),
        "created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-01T10:00:00.000Z",
        "name": format!("C2 of botnet {k}"), "pattern_type": "stix",
        "pattern": format!("[ipv4-addr:value = '203.0.{}.{}']", k % 250, (k / 250) % 250),
        "valid_from": "2026-03-01T10:00:00Z",
    });
    let serde_json::Value::Object(indicator) = indicator else {
        anyhow::bail!("an object literal")
    };
    Ok([
        Body::Request(RequestBody {
            kind: RequestKind::Mitigation,
            category: "botnet".into(),
            priority: Priority::High,
            tlp: Tlp::Amber,
            title: format!("Botnet C2 {k} controlling hospital devices"),
            narrative: "Since 1 March hosts in your address space have controlled a botnet of \
                        infusion pumps and badge readers in three of our hospitals. We ask you \
                        to identify the operator of the listed servers, preserve their logs and \
                        take them down; the indicator attached matches the beacons we see."
                .into(),
            observables: observables(k)?,
            attachments: Vec::new(),
            objects: vec![indicator],
            attribution: None,
            preservation: None,
        }),
        Body::Acknowledgement(AcknowledgementBody {
            note: "Duty officer Li has the case; the hosting provider is contacted.".into(),
        }),
        Body::Answer(AnswerBody {
            is_final: true,
            text: "The servers belong to a hosting customer who paid with a stolen card. Both \
                   were taken down today and their disks imaged; logs are preserved for 90 days."
                .into(),
            observables: observables(k + 1)?,
            attachments: Vec::new(),
            objects: Vec::new(),
        }),
        Body::Rating(RatingBody {
            score: 5,
            comment: "Fast and thorough.".into(),
        }),
    ])
}

/// Two logs of `cases` cases; writes `us.full`, `cn.full`, `us.redacted`, `cn.redacted`.
fn generate(cases: u64, dir: &Path) -> anyhow::Result<()> {
    let agreement = agreement()?;
    let digest = agreement.digest();
    let (us, cn) = (PartyId::parse("US")?, PartyId::parse("CN")?);
    let mut logs = [Log::new(&us, 1), Log::new(&cn, 2)];
    let t0 = 1_795_000_000_000i64;
    let ts = |ms: i64| Timestamp::from_unix_millis(t0 + ms).expect("time");
    let mut seq = [0u64; 2];
    for k in 0..cases {
        let case = CaseId::new(us.clone(), 2026, u32::try_from(k + 1)?);
        // The latest message of the case from each party: what the other replies to.
        let mut latest: [Option<MessageId>; 2] = [None, None];
        for (step, body) in bodies(k)?.into_iter().enumerate() {
            // Request and rating from US (log 0), acknowledgement and answer from CN (log 1).
            let s = usize::from(matches!(step, 1 | 2));
            let r = 1 - s;
            seq[s] += 1;
            let ms = (k as i64) * 100 + (step as i64) * 10;
            let envelope = Envelope {
                v: WIRE_VERSION_2,
                id: MessageId::random(),
                agreement: digest,
                from: logs[s].party.clone(),
                to: logs[r].party.clone(),
                seq: seq[s],
                sent_at: ts(ms),
                case: case.clone(),
                in_reply_to: latest[r],
                checkpoint: None,
                agency: None,
                body,
            };
            let (signed, body) = SignedEnvelope::seal(envelope, WIRE_VERSION_2, &logs[s].key)?;
            let body = body.as_ref().map(SaltedBody::to_bytes);
            let view = signed.view();
            let receipt = Signed::seal(
                Receipt {
                    v: WIRE_VERSION,
                    agreement: digest,
                    issuer: view.to.clone(),
                    sender: view.from.clone(),
                    envelope_id: view.id,
                    envelope_hash: signed.payload_hash(),
                    seq: view.seq,
                    case: case.clone(),
                    received_at: ts(ms + 1),
                    log_index: None,
                    checkpoint: None,
                },
                &logs[r].key,
            )?
            .to_bytes();
            let bytes = signed.to_bytes();
            logs[s].push(
                EntryKind::Envelope,
                Direction::Out,
                bytes.clone(),
                body.clone(),
            );
            logs[r].push(EntryKind::Envelope, Direction::In, bytes, body);
            logs[r].push(EntryKind::Receipt, Direction::Out, receipt.clone(), None);
            logs[s].push(EntryKind::Receipt, Direction::In, receipt, None);
            latest[s] = Some(view.id);
        }
    }
    let [mut a, mut b] = logs;
    for (log, name) in [(&mut a, "us"), (&mut b, "cn")] {
        log.write(&dir.join(format!("{name}.full")), &agreement, false)?;
        log.write(&dir.join(format!("{name}.redacted")), &agreement, true)?;
    }
    Ok(())
}

fn audit_secs(dir: &Path, suffix: &str, pin: &Pin) -> anyhow::Result<f64> {
    let open = |name: &str| -> anyhow::Result<BufReader<File>> {
        Ok(BufReader::with_capacity(
            1 << 20,
            File::open(dir.join(format!("{name}.{suffix}")))?,
        ))
    };
    let start = Instant::now();
    let result = audit(open("us")?, open("cn")?, pin)?;
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        result.verified(),
        "the generated {suffix} bundles must verify: {:?}",
        result.findings.first()
    );
    Ok(secs)
}

fn main() -> anyhow::Result<()> {
    let entries: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()
        .context("ENTRIES_PER_BUNDLE")?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    generate((entries / 16).max(1), dir.path())?;
    eprintln!("generated the bundles in {:.1}s", t.elapsed().as_secs_f64());
    let size = |suffix: &str| -> anyhow::Result<u64> {
        let mut total = 0;
        for name in ["us", "cn"] {
            total += std::fs::metadata(dir.path().join(format!("{name}.{suffix}")))?.len();
        }
        Ok(total)
    };
    let (full_bytes, redacted_bytes) = (size("full")?, size("redacted")?);
    let pin = Pin::Agreement(agreement()?);
    let (mut full, mut redacted) = (Vec::new(), Vec::new());
    for round in 0..3 {
        full.push(audit_secs(dir.path(), "full", &pin)?);
        redacted.push(audit_secs(dir.path(), "redacted", &pin)?);
        eprintln!(
            "round {}: full {:.2}s, redacted {:.2}s",
            round + 1,
            full[round],
            redacted[round]
        );
    }
    let (full, redacted) = (median(&mut full), median(&mut redacted));
    let mb = |b: u64| b as f64 / 1e6;
    println!("audit of two protocol 2 bundles of {entries} entries each (medians of 3 rounds):");
    println!(
        "  full bundles (bodies checked)   {full:>8.2} s   {:>9.1} MB",
        mb(full_bytes)
    );
    println!(
        "  redacted bundles                {redacted:>8.2} s   {:>9.1} MB",
        mb(redacted_bytes)
    );
    println!(
        "  redacted / full: time {:.2}x (target <= 1.00x), size {:.2}x (target <= 0.33x)",
        redacted / full,
        redacted_bytes as f64 / full_bytes as f64
    );
    Ok(())
}
