//! Export and audit, as an auditor runs them: two real nodes exchange cases, each exports its
//! log, and `detente audit` verifies the pair under the agreement the auditor pins; then every
//! kind of tampering with one bundle (a changed byte, a dropped, reordered, inserted or
//! appended entry, a forged receipt, an equivocating checkpoint, an edited agreement, both
//! bundles re-signed by a forger) makes the audit fail and name what it found.

use std::{
    collections::HashMap,
    fs::File,
    io::BufReader,
    path::{Path, PathBuf},
};

use detente_audit::{BundleReader, BundleWriter, EntryKind, Header};
use detente_domain::Agreement;
use detente_ledger::{Checkpoint, Frontier, SignedCheckpoint, TreeSize, hash_leaf};
use detente_protocol::{Body, Digest, Envelope, MAX_MESSAGE_BYTES, Receipt, SecretKey, Signed};
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection, Row, sqlite::SqliteConnectOptions};

use crate::harness::{detente, eventually, pair, request_body, run, work_cases};
use crate::tamper::{APPEND_A_REPLAY_OF_ENTRY_0, copy_home, tamper};

struct Bundles {
    _dir: tempfile::TempDir,
    homes: [PathBuf; 2],
    us: PathBuf,
    cn: PathBuf,
    us_key: SecretKey,
    agreement_id: String,
}

/// A STIX object whose canonical JSON a re-serialiser would change: JCS writes the number as
/// `0.000001`, serde_json as `1e-6`.
const OBJECT_A_RESERIALISER_WOULD_CHANGE: &str = r#"{"type":"indicator","spec_version":"2.1",
    "id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z",
    "modified":"2026-01-01T00:00:00.000Z","name":"controller",
    "pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix",
    "valid_from":"2026-01-01T00:00:00Z",
    "object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
    "x_detente_score":0.000001}"#;

/// Exports the log of the stopped node in `home` to `out`; returns what it says.
fn export(home: &Path, out: &Path) -> String {
    let o = run(home, &["log", "export", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Two nodes work three cases to the end, then stop and export their logs.
async fn exchanged_bundles() -> Bundles {
    exchanged_bundles_with(false).await
}

/// Two nodes work three cases to the end (and with `awkward_object`, US also files a request
/// carrying [`OBJECT_A_RESERIALISER_WOULD_CHANGE`]), then stop and export their logs.
async fn exchanged_bundles_with(awkward_object: bool) -> Bundles {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 3).await;
    if awkward_object {
        let mut body = request_body("CN", "a controller");
        body["request"]["objects"] =
            json!([serde_json::from_str::<Value>(OBJECT_A_RESERIALISER_WOULD_CHANGE).unwrap()]);
        let r = us.post("/api/v1/requests", &body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let case = r.json::<Value>().await.unwrap()["case"]
            .as_str()
            .unwrap()
            .to_owned();
        // Sent on both sides: CN has the request, and US holds CN's receipt for it.
        for node in [&cn, &us] {
            let sent = || async { node.case_status(&case).await.as_deref() == Some("sent") };
            eventually(20, "the request is official on both nodes", sent).await;
        }
    }
    us.terminate();
    cn.terminate();
    let (us_out, cn_out) = (dir.path().join("us.bundle"), dir.path().join("cn.bundle"));
    export(&us.home, &us_out);
    export(&cn.home, &cn_out);
    let pem = std::fs::read_to_string(us.home.join("node.key")).unwrap();
    let agreement: Value = serde_json::from_str(
        std::fs::read_to_string(&us_out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    Bundles {
        homes: [us.home.clone(), cn.home.clone()],
        us: us_out,
        cn: cn_out,
        us_key: SecretKey::from_pkcs8_pem(&pem).unwrap(),
        agreement_id: agreement["header"]["agreement"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        _dir: dir,
    }
}

/// Audits `a` against `b` under `pin` (`--agreement FILE`, `--agreement-digest HEX`, or none).
fn audit_with(a: &Path, b: &Path, pin: &[&str]) -> (Option<i32>, String) {
    let o = detente()
        .arg("audit")
        .arg(a)
        .arg(b)
        .args(pin)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

impl Bundles {
    /// The agreement file the parties hold, which an auditor obtains from them.
    fn agreement_file(&self) -> PathBuf {
        self.homes[0].join("agreement.toml")
    }

    fn agreement(&self) -> Agreement {
        Agreement::from_toml(&std::fs::read_to_string(self.agreement_file()).unwrap()).unwrap()
    }

    /// Audits `a` against `b` under the parties' agreement, pinned by its file.
    fn audit(&self, a: &Path, b: &Path) -> (Option<i32>, String) {
        let file = self.agreement_file();
        audit_with(a, b, &["--agreement", file.to_str().unwrap()])
    }
}

/// Writes a changed copy of `bundle` and audits it against `other`.
fn audit_altered(b: &Bundles, change: impl FnOnce(&mut Vec<String>)) -> (Option<i32>, String) {
    let mut lines: Vec<String> = std::fs::read_to_string(&b.us)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    change(&mut lines);
    let altered = b.us.with_extension("altered");
    std::fs::write(&altered, lines.join("\n") + "\n").unwrap();
    b.audit(&altered, &b.cn)
}

fn first_entry(lines: &[String]) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with("{\"entry\""))
        .unwrap()
}

/// The figures the auditor recomputes from the two bundles are the ones each node's own review
/// shows for the year, direction by direction. (The review measures open cases at "now" and the
/// audit at the latest receipt, so only figures that do not move with the clock are compared;
/// the exchanged cases are all closed.)
fn the_audit_reproduces_the_figures_both_nodes_show(b: &Bundles) {
    let o = detente()
        .args(["--json", "audit"])
        .arg(&b.us)
        .arg(&b.cn)
        .arg("--agreement")
        .arg(b.agreement_file())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let audit: Value = serde_json::from_slice(&o.stdout).unwrap();
    let year = &audit["as_of"].as_str().unwrap()[..4];
    let audited = audit["figures"].as_array().unwrap();
    assert!(!audited.is_empty(), "{audit}");
    for home in &b.homes {
        let o = detente()
            .arg("--home")
            .arg(home)
            .args(["review", "--period", year, "--format", "json"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let review: Value = serde_json::from_slice(&o.stdout).unwrap();
        let shown = review["directions"].as_array().unwrap();
        // The review lists every direction of the agreement; the audit those with requests.
        let busy = shown.iter().filter(|d| d["figures"]["filed"] != 0).count();
        assert_eq!(busy, audited.len(), "{}: {audit}", home.display());
        for a in audited {
            let n = shown
                .iter()
                .find(|d| d["requester"] == a["requester"] && d["responder"] == a["responder"])
                .unwrap_or_else(|| panic!("{} shows no direction {a}", home.display()));
            let f = &n["figures"];
            for (audited, shown) in [
                (&a["filed"], &f["filed"]),
                (&a["acknowledged"], &f["acknowledged"]),
                (&a["answered"], &f["answered"]["finally"]),
                (&a["withdrawn"], &f["withdrawn"]),
                (&a["time_to_acknowledge"], &f["time_to_acknowledge"]),
                (&a["time_to_final_answer"], &f["time_to_final_answer"]),
            ] {
                assert_eq!(audited, shown, "audit {a} vs {} {f}", home.display());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_verifies_intact_bundles_and_catches_every_kind_of_tampering() {
    let b = exchanged_bundles().await;

    let (code, out) = b.audit(&b.us, &b.cn);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("VERIFIED") && out.contains("US → CN"), "{out}");
    let (code, out) = b.audit(&b.cn, &b.us);
    assert_eq!(code, Some(0), "either order verifies: {out}");
    let digest = b.agreement().digest();
    let (code, out) = audit_with(&b.us, &b.cn, &["--agreement-digest", &digest.to_string()]);
    assert_eq!(code, Some(0), "pinned by its digest: {out}");
    assert!(
        out.contains(&digest.to_string()) && out.contains(&digest.fingerprint()),
        "the audit says which agreement it verified under: {out}"
    );
    // With nothing pinned, the keys came from the bundles: consistent, not verified.
    let (code, out) = audit_with(&b.us, &b.cn, &[]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("agreement not pinned")
            && out.contains("UNPINNED")
            && !out.contains("VERIFIED"),
        "{out}"
    );
    the_audit_reproduces_the_figures_both_nodes_show(&b);

    // A single changed byte inside an entry (the answer text of a receipt-bearing envelope).
    let (code, out) = audit_altered(&b, |lines| {
        let i = lines
            .iter()
            .position(|l| l.contains("\"text\":\"done\""))
            .unwrap();
        lines[i] = lines[i].replacen("\"text\":\"done\"", "\"text\":\"dune\"", 1);
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("TAMPERED  US entry"),
        "the changed entry is named: {out}"
    );

    // A dropped entry.
    let (code, out) = audit_altered(&b, |lines| {
        let i = first_entry(lines) + 4;
        lines.remove(i);
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("US entry 4"), "{out}");

    // Two entries swapped.
    let (code, out) = audit_altered(&b, |lines| {
        let i = first_entry(lines) + 2;
        lines.swap(i, i + 1);
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("US entry 2"), "{out}");

    // An entry inserted (a duplicate of an earlier one).
    let (code, out) = audit_altered(&b, |lines| {
        let i = first_entry(lines) + 1;
        let copy = lines[i].clone();
        lines.insert(i + 1, copy);
    });
    assert_eq!(code, Some(1), "{out}");

    // A forged receipt: CN's signature on a receipt replaced by one US made.
    let (code, out) = audit_altered(&b, |lines| {
        let i = lines
            .iter()
            .position(|l| l.contains("\"kind\":\"receipt\",\"direction\":\"in\""))
            .unwrap();
        let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
        let receipt = &v["entry"]["data"]["receipt"];
        let bytes = detente_protocol::canonical_bytes(receipt);
        let mut message = b"detente/v1/receipt\0".to_vec();
        message.extend_from_slice(&bytes);
        use base64::Engine as _;
        let sig = base64::engine::general_purpose::STANDARD.encode(b.us_key.sign(&message));
        v["entry"]["data"]["signature"] = Value::String(sig);
        lines[i] = v.to_string();
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("signature does not verify under a key of CN"),
        "{out}"
    );

    // A receipt that lies about where its issuer logged the envelope, signed by the issuer.
    let (code, out) = audit_altered(&b, |lines| {
        let i = lines
            .iter()
            .position(|l| l.contains("\"kind\":\"receipt\",\"direction\":\"out\""))
            .unwrap();
        let mut v: Value = serde_json::from_str(&lines[i]).unwrap();
        let at = v["entry"]["data"]["receipt"]["log_index"].as_u64().unwrap();
        v["entry"]["data"]["receipt"]["log_index"] = json!(at + 1);
        let bytes = detente_protocol::canonical_bytes(&v["entry"]["data"]["receipt"]);
        let mut message = b"detente/v1/receipt\0".to_vec();
        message.extend_from_slice(&bytes);
        use base64::Engine as _;
        let sig = base64::engine::general_purpose::STANDARD.encode(b.us_key.sign(&message));
        v["entry"]["data"]["signature"] = Value::String(sig);
        lines[i] = v.to_string();
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("its receipt signs log index"), "{out}");

    // An equivocating checkpoint: US signs a second, different root for a size it committed to.
    let (code, out) = audit_altered(&b, |lines| {
        let c = Checkpoint::new(
            &format!("detente/{}/US", b.agreement_id),
            TreeSize::new(3),
            Digest::from_bytes([7; 32]),
        )
        .unwrap();
        let note = SignedCheckpoint::sign(c, &b.us_key, "US")
            .unwrap()
            .to_text();
        lines.insert(1, json!({"checkpoint": note}).to_string());
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("does not match its own checkpoint") && out.contains("size 3"),
        "{out}"
    );

    // Unusable input: exit code 2.
    let garbage = b.us.with_extension("garbage");
    std::fs::write(&garbage, "not a bundle\n").unwrap();
    assert_eq!(b.audit(&garbage, &b.cn).0, Some(2));
    assert_eq!(
        b.audit(&b.us, &b.us).0,
        Some(2),
        "the same party twice cannot be audited"
    );
    assert_eq!(b.audit(&b.us, &b.us.with_extension("missing")).0, Some(2));
}

/// Both bundles with `edit` applied to the agreement in their headers, entries untouched.
fn with_header_agreement(b: &Bundles, edit: impl Fn(&mut Value)) -> [PathBuf; 2] {
    [&b.us, &b.cn].map(|path| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
        edit(&mut header["header"]["agreement"]);
        lines[0] = header.to_string();
        let out = path.with_extension("edited");
        std::fs::write(&out, lines.join("\n") + "\n").unwrap();
        out
    })
}

// Regression: with the deadlines edited in both headers (and nothing else), the audit said
// VERIFIED and counted every answer in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_edited_in_both_headers_fail_the_audit_pinned_or_not() {
    // Arrange
    let b = exchanged_bundles().await;
    let [us, cn] = with_header_agreement(&b, |agreement| {
        for d in agreement["terms"]["deadlines"]
            .as_object_mut()
            .unwrap()
            .values_mut()
        {
            d["acknowledge"] = json!("999d");
            d["first_answer"] = json!("999d");
            d["final_answer"] = json!("999d");
        }
    });

    // Act
    let (unpinned, unpinned_out) = audit_with(&us, &cn, &[]);
    let (pinned, pinned_out) = b.audit(&us, &cn);

    // Assert: every envelope and receipt signs the real agreement, not the headers'.
    assert_eq!(unpinned, Some(1), "{unpinned_out}");
    assert!(
        unpinned_out.contains("is signed under agreement") && !unpinned_out.contains("VERIFIED"),
        "{unpinned_out}"
    );
    assert_eq!(pinned, Some(2), "{pinned_out}");
    assert!(
        pinned_out.contains("refusing to audit") && pinned_out.contains("not the pinned"),
        "{pinned_out}"
    );
}

/// Re-signs both bundles as a forger holding them would: every rating set to 1, every
/// envelope, receipt and checkpoint signed again with keys no party owns, and the headers
/// carrying the agreement with the forger's keys. The result is a consistent pair.
fn forge(b: &Bundles) -> [PathBuf; 2] {
    let keys: HashMap<&str, SecretKey> = [("US", 8), ("CN", 9)]
        .into_iter()
        .map(|(party, seed)| (party, SecretKey::from_seed(&[seed; 32])))
        .collect();
    let key = |party: &str| &keys[party];
    let mut agreement = b.agreement();
    for p in &mut agreement.parties {
        p.public_keys = vec![key(p.id.as_str()).public_key()];
    }
    let digest = agreement.digest();
    let mut envelopes: HashMap<Digest, Digest> = HashMap::new();
    let mut logs = Vec::new();
    // Each log holds every envelope before the receipts for it, so in log order each
    // receipt's envelope has already been forged.
    for path in [&b.us, &b.cn] {
        let (head, reader) = BundleReader::open(BufReader::new(File::open(path).unwrap())).unwrap();
        let mut entries = Vec::new();
        for entry in reader {
            let e = entry.unwrap();
            let bytes = match e.kind {
                EntryKind::Envelope => {
                    let s = Signed::<Envelope>::parse(&e.bytes, MAX_MESSAGE_BYTES).unwrap();
                    let mut p = s.payload().clone();
                    p.agreement = digest;
                    p.checkpoint = None;
                    if let Body::Rating(r) = &mut p.body {
                        r.score = 1;
                    }
                    let forged = Signed::seal(p, key(s.payload().from.as_str())).unwrap();
                    envelopes.insert(s.payload_hash(), forged.payload_hash());
                    forged.to_bytes()
                }
                EntryKind::Receipt => {
                    let s = Signed::<Receipt>::parse(&e.bytes, MAX_MESSAGE_BYTES).unwrap();
                    let mut p = s.payload().clone();
                    p.agreement = digest;
                    p.checkpoint = None;
                    p.envelope_hash = envelopes[&p.envelope_hash];
                    Signed::seal(p, key(s.payload().issuer.as_str()))
                        .unwrap()
                        .to_bytes()
                }
            };
            entries.push((e.kind, e.direction, bytes));
        }
        // The root at every size, for the checkpoints of either party.
        let mut tree = Frontier::new();
        let mut roots = vec![tree.root()];
        for (_, _, bytes) in &entries {
            tree.append(&[hash_leaf(bytes)]).unwrap();
            roots.push(tree.root());
        }
        logs.push((head, entries, roots));
    }
    let sign = |note: &str, roots: &[Digest], party: &str| {
        let c = SignedCheckpoint::parse(note).unwrap();
        let c = c.unverified_checkpoint();
        let size = c.size();
        let at = usize::try_from(size.get()).unwrap();
        let forged = Checkpoint::new(c.origin(), size, roots[at]).unwrap();
        SignedCheckpoint::sign(forged, key(party), party)
            .unwrap()
            .to_text()
    };
    [0, 1].map(|i| {
        let (head, entries, roots) = &logs[i];
        let party = head.header.party.as_str();
        let out = [&b.us, &b.cn][i].with_extension("forged");
        let header = Header::new(
            head.header.party.clone(),
            agreement.clone(),
            head.header.size,
        );
        let mut w = BundleWriter::new(File::create(&out).unwrap(), &header).unwrap();
        for (_, note) in &head.checkpoints {
            w.checkpoint(&sign(note, roots, party)).unwrap();
        }
        for (_, holder_of, note) in &head.partner_checkpoints {
            let other_roots = &logs[1 - i].2;
            w.partner_checkpoint(holder_of, &sign(note, other_roots, holder_of.as_str()))
                .unwrap();
        }
        for (index, (kind, direction, bytes)) in entries.iter().enumerate() {
            w.entry(index as u64, *kind, *direction, bytes).unwrap();
        }
        w.finish().unwrap();
        out
    })
}

// Regression: both bundles re-signed with keys no party owns (ratings changed, everything
// re-signed, the headers carrying the forger's keys) were VERIFIED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_re_signed_with_keys_no_party_owns_are_refused_under_the_pinned_agreement() {
    // Arrange
    let b = exchanged_bundles().await;
    let [us, cn] = forge(&b);
    let genuine = b.agreement().digest().to_string();

    // Act
    let (unpinned, unpinned_out) = audit_with(&us, &cn, &[]);
    let (by_file, by_file_out) = b.audit(&us, &cn);
    let (by_digest, by_digest_out) = audit_with(&us, &cn, &["--agreement-digest", &genuine]);

    // Assert: the forgery is consistent, so only the pin tells it from the real pair.
    assert_eq!(unpinned, Some(3), "{unpinned_out}");
    assert!(
        unpinned_out.contains("mean rating") && unpinned_out.contains("1.0 (3)"),
        "{unpinned_out}"
    );
    for (code, out) in [(by_file, by_file_out), (by_digest, by_digest_out)] {
        assert_eq!(code, Some(2), "{out}");
        assert!(
            out.contains(&format!("not the pinned {genuine}")),
            "names the pinned digest: {out}"
        );
    }
}

// Regression: an entry inserted into the node's database after its last checkpoint (the
// triggers block only updates and deletes) was exported, and the audit said VERIFIED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_after_the_last_checkpoint_are_left_out_of_the_export_and_fail_an_audit() {
    // Arrange
    let b = exchanged_bundles().await;
    let appended = copy_home(&b.homes[0], &b.homes[0].with_extension("appended"));
    tamper(&appended, &[APPEND_A_REPLAY_OF_ENTRY_0]).await;
    let out = appended.join("us.bundle");

    // Act
    let said = export(&appended, &out);
    let (exported, exported_out) = b.audit(&out, &b.cn);
    let (doctored, doctored_out) = audit_altered(&b, |lines| {
        // The same replay, appended to the bundle, with the header's count raised to match.
        let first = lines
            .iter()
            .position(|l| l.starts_with("{\"entry\""))
            .unwrap();
        let size = lines.len() - first;
        lines.push(lines[first].replacen("\"index\":0,", &format!("\"index\":{size},"), 1));
        lines[0] = lines[0].replacen(
            &format!("\"size\":{size}"),
            &format!("\"size\":{}", size + 1),
            1,
        );
    });

    // Assert
    assert!(
        said.contains("ending at its checkpoint of size")
            && said.contains("left out 1 entry after"),
        "the export says what it wrote and what it left out: {said}"
    );
    assert_eq!(exported, Some(0), "the signed log verifies: {exported_out}");
    assert_eq!(doctored, Some(1), "{doctored_out}");
    assert!(
        doctored_out.contains("UNSIGNED")
            && doctored_out.contains("comes after the last checkpoint US signed"),
        "{doctored_out}"
    );
    assert!(!doctored_out.contains("VERIFIED"), "{doctored_out}");
}

/// The `data` text of every entry line of a bundle, cut out as the format documents it.
fn data_texts(bundle: &Path) -> Vec<Vec<u8>> {
    std::fs::read_to_string(bundle)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("{\"entry\":"))
        .map(|l| {
            let start = l.find(",\"data\":").unwrap() + ",\"data\":".len();
            l.as_bytes()[start..l.len() - "}}".len()].to_vec()
        })
        .collect()
}

// Regression: `log export` re-serialised each entry (keys in code-point order, `1e-6` for the
// canonical `0.000001`), so an auditor hashing an entry's bytes saw tampering that was not
// there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exported_entry_is_the_bytes_the_node_logged() {
    // Arrange
    let b = exchanged_bundles_with(true).await;
    let mut db = SqliteConnectOptions::new()
        .filename(b.homes[0].join("detente.db"))
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let logged: Vec<Vec<u8>> = sqlx::query("SELECT bytes FROM entries ORDER BY idx")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<Vec<u8>, _>(0))
        .collect();
    db.close().await.unwrap();

    // Act
    let exported = data_texts(&b.us);

    // Assert
    assert!(
        logged
            .iter()
            .any(|e| String::from_utf8_lossy(e).contains("\"x_detente_score\":0.000001")),
        "the node logged the number in its canonical form"
    );
    assert_eq!(exported.len(), logged.len());
    for (i, (exported, logged)) in exported.iter().zip(&logged).enumerate() {
        assert_eq!(
            String::from_utf8_lossy(exported),
            String::from_utf8_lossy(logged),
            "entry {i}"
        );
    }
    let (code, out) = b.audit(&b.us, &b.cn);
    assert_eq!(code, Some(0), "{out}");
}

/// Whether a table cell reads as `detente audit` writes durations: `850 ms`, `2.8 s`,
/// `12m 5s`, `4h 12m`, `9d 0h`, or `-`.
fn is_human_duration(cell: &str) -> bool {
    let unit_pair = |s: &str, a: char, b: char| {
        s.split_once(' ').is_some_and(|(x, y)| {
            x.strip_suffix(a).is_some_and(|n| n.parse::<u64>().is_ok())
                && y.strip_suffix(b).is_some_and(|n| n.parse::<u64>().is_ok())
        })
    };
    cell == "-"
        || cell
            .strip_suffix(" ms")
            .is_some_and(|n| n.parse::<u64>().is_ok())
        || cell
            .strip_suffix(" s")
            .and_then(|n| n.split_once('.'))
            .is_some_and(|(a, b)| a.parse::<u64>().is_ok() && b.len() == 1)
        || unit_pair(cell, 'm', 's')
        || unit_pair(cell, 'h', 'm')
        || unit_pair(cell, 'd', 'h')
}

// Regression: `detente audit` printed the demo's heading ("deadlines scaled to seconds") and
// `{:.1}s` durations, so a median of nine days read "777600.0s".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_prints_durations_for_people_and_no_demo_wording() {
    // Arrange
    let b = exchanged_bundles().await;

    // Act
    let (code, out) = b.audit(&b.us, &b.cn);

    // Assert
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("scaled to seconds"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("US → CN"))
        .expect("a row for US → CN");
    let cells: Vec<&str> = row
        .split('┆')
        .map(|c| c.trim_matches(|c| c == '│' || c == ' '))
        .collect();
    for column in [7, 9] {
        assert!(
            is_human_duration(cells[column]),
            "{:?} in {row}",
            cells[column]
        );
    }
}
