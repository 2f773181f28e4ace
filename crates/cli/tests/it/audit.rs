//! Export and audit, as an auditor runs them: two real nodes exchange cases, each exports its
//! log, and `detente audit` verifies the pair; then every kind of tampering with one bundle
//! (a changed byte, a dropped, reordered or inserted entry, a forged receipt, an equivocating
//! checkpoint) makes the audit fail with exit code 1 and name what it found.

use std::path::{Path, PathBuf};

use detente_ledger::{Checkpoint, SignedCheckpoint, TreeSize};
use detente_protocol::{Digest, SecretKey};
use serde_json::{Value, json};

use crate::harness::{detente, pair, work_cases};

struct Bundles {
    _dir: tempfile::TempDir,
    homes: [PathBuf; 2],
    us: PathBuf,
    cn: PathBuf,
    us_key: SecretKey,
    agreement_id: String,
}

/// Two nodes work three cases to the end, then stop and export their logs.
async fn exchanged_bundles() -> Bundles {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 3).await;
    us.terminate();
    cn.terminate();
    let export = |home: &Path, out: &Path| {
        let o = detente()
            .arg("--home")
            .arg(home)
            .args(["log", "export", "--out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
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

fn audit(a: &Path, b: &Path) -> (Option<i32>, String) {
    let o = detente().arg("audit").arg(a).arg(b).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
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
    audit(&altered, &b.cn)
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

    let (code, out) = audit(&b.us, &b.cn);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("VERIFIED") && out.contains("US → CN"), "{out}");
    let (code, out) = audit(&b.cn, &b.us);
    assert_eq!(code, Some(0), "either order verifies: {out}");
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
    assert_eq!(audit(&garbage, &b.cn).0, Some(2));
    assert_eq!(
        audit(&b.us, &b.us).0,
        Some(2),
        "the same party twice cannot be audited"
    );
    assert_eq!(audit(&b.us, &b.us.with_extension("missing")).0, Some(2));
}
