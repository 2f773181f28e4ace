//! Redacted bundles and selective disclosure (issue 22): two real nodes under an agreement
//! with `protocol = 2` work cases; each exports its log in full and redacted. Both pairs of
//! bundles audit clean, the review from the redacted bundles is byte-identical to both nodes'
//! and to the full bundles', no content of the cases is in a redacted bundle, tampering with a
//! redacted bundle is found, and one disclosed body is accepted, or refused one byte off.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{NodeProc, detente, eventually, pair, request_body, run, work_cases};

/// The content the harness's cases carry, none of which may be in a redacted bundle.
const CONTENT: [&str; 5] = [
    "Design files were exfiltrated",
    "203.0.113.45",
    "\"case 0\"",
    "\"done\"",
    "still open",
];

struct Exported {
    _dir: tempfile::TempDir,
    us: NodeProc,
    cn: NodeProc,
    /// US and CN, full.
    full: [PathBuf; 2],
    /// US and CN, redacted.
    redacted: [PathBuf; 2],
}

impl Exported {
    fn agreement_file(&self) -> PathBuf {
        self.us.home.join("agreement.toml")
    }

    fn audit(&self, a: &Path, b: &Path, extra: &[&str]) -> (Option<i32>, String) {
        let o = detente()
            .arg("audit")
            .arg(a)
            .arg(b)
            .arg("--agreement")
            .arg(self.agreement_file())
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    }

    fn audit_json(&self, [a, b]: &[PathBuf; 2]) -> Value {
        let o = detente()
            .args(["--json", "audit"])
            .arg(a)
            .arg(b)
            .arg("--agreement")
            .arg(self.agreement_file())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

fn export(home: &Path, out: &Path, redacted: bool) {
    let mut args = vec!["log", "export", "--out", out.to_str().unwrap()];
    if redacted {
        args.push("--redacted");
    }
    let o = run(home, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A pair under an agreement with `protocol = 2`: three cases from US to CN worked to the
/// end and one from CN to US left open; stopped, each log exported full and redacted.
async fn exported_v2() -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    // The agreement again, on protocol 2, as an operator writes it.
    std::fs::remove_file(us.home.join("agreement.toml")).unwrap();
    let partner = cn.home.join("party.toml");
    let o = run(
        &us.home,
        &[
            "agreement",
            "new",
            "--protocol",
            "2",
            "--partner",
            partner.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(us.home.join("agreement.toml")).unwrap();
    assert!(text.contains("protocol = 2"), "{text}");
    std::fs::write(cn.home.join("agreement.toml"), text).unwrap();
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 3).await;
    let open = cn
        .post("/api/v1/requests", &request_body("US", "still open"))
        .await
        .json::<Value>()
        .await
        .unwrap()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(20, "US has the open request", || async {
        us.case_status(&open).await.as_deref() == Some("sent")
    })
    .await;
    us.terminate();
    cn.terminate();
    let path = |name: &str| dir.path().join(name);
    let full = [path("us.bundle"), path("cn.bundle")];
    let redacted = [path("us.redacted"), path("cn.redacted")];
    for (i, node) in [&us, &cn].into_iter().enumerate() {
        export(&node.home, &full[i], false);
        export(&node.home, &redacted[i], true);
    }
    Exported {
        _dir: dir,
        us,
        cn,
        full,
        redacted,
    }
}

fn review(args: &[&str], home: Option<&Path>) -> String {
    let mut cmd = detente();
    if let Some(home) = home {
        cmd.arg("--home").arg(home);
    }
    let out = cmd.arg("review").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "detente review {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redacted_bundles_audit_clean_hold_no_content_and_review_byte_identically() {
    // Arrange
    let e = exported_v2().await;
    let now = detente_server::node::now();
    let year = now.datetime().year().to_string();
    let as_of = now.to_string();

    // Act: the audits of the full and the redacted pair.
    let full = e.audit_json(&e.full);
    let redacted = e.audit_json(&e.redacted);

    // Assert: both verified, with the same figures; the redacted audit checked no body and
    // the full one every body.
    assert_eq!(full["verdict"], "verified", "{full}");
    assert_eq!(redacted["verdict"], "verified", "{redacted}");
    assert_eq!(full["figures"], redacted["figures"]);
    assert_eq!(full["bodies_withheld"], 0);
    assert_eq!(redacted["bodies_checked"], 0);
    assert!(full["bodies_checked"].as_u64() > Some(0), "{full}");
    assert_eq!(redacted["bodies_withheld"], full["bodies_checked"]);
    // No content in a redacted bundle; all of it in the full ones.
    for (i, path) in e.redacted.iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        for secret in CONTENT {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
        let full_text = std::fs::read_to_string(&e.full[i]).unwrap();
        assert!(full_text.contains("Design files were exfiltrated"));
    }
    // The review, as a delegate reads it (titles withheld), from six sources: both nodes,
    // both redacted bundles, both full bundles; and in full from the nodes and full bundles.
    for redaction in [true, false] {
        let mut args = vec!["--period", &year, "--as-of", &as_of, "--format", "json"];
        if redaction {
            args.push("--redacted");
        }
        let on_us = review(&args, Some(&e.us.home));
        let on_cn = review(&args, Some(&e.cn.home));
        assert_eq!(on_us, on_cn);
        let bundles: Vec<&PathBuf> = if redaction {
            e.redacted.iter().chain(&e.full).collect()
        } else {
            e.full.iter().collect()
        };
        for b in bundles {
            let mut with_bundle = args.clone();
            with_bundle.extend(["--bundle", b.to_str().unwrap()]);
            assert_eq!(
                review(&with_bundle, None),
                on_us,
                "{} (redacted review: {redaction})",
                b.display()
            );
        }
    }
}

/// One way of tampering with a bundle's lines.
type Change = Box<dyn Fn(&mut Vec<String>)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_a_redacted_bundle_is_found() {
    // Arrange
    let e = exported_v2().await;
    let lines: Vec<String> = std::fs::read_to_string(&e.redacted[0])
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("{\"entry\""))
        .unwrap();
    let changes: [(&str, Change); 4] = [
        (
            "a changed priority in a signed header",
            Box::new(move |l| l[first] = l[first].replacen("\"high\"", "\"low\"", 1)),
        ),
        (
            "a dropped entry",
            Box::new(move |l| drop(l.remove(first + 1))),
        ),
        (
            "two entries swapped",
            Box::new(move |l| l.swap(first, first + 1)),
        ),
        (
            "a body put back that is not the committed one",
            Box::new(move |l| {
                let line = l[first]
                    .strip_suffix("}}")
                    .expect("an entry line")
                    .to_owned();
                l[first] = line
                    + ",\"body\":{\"salt\":\"00000000000000000000000000000000\",\
                       \"body\":{\"type\":\"acknowledgement\",\"note\":\"\"}}}}";
            }),
        ),
    ];
    for (what, change) in changes {
        let mut altered = lines.clone();
        change(&mut altered);
        let path = e.redacted[0].with_extension("altered");
        std::fs::write(&path, altered.join("\n") + "\n").unwrap();

        // Act
        let (code, out) = e.audit(&path, &e.redacted[1], &[]);

        // Assert
        assert_eq!(code, Some(1), "{what} was not found: {out}");
        assert!(out.contains("TAMPERED"), "{what}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disclosed_body_is_accepted_and_one_byte_off_refused() {
    // Arrange: the request of the first case, disclosed by US.
    let e = exported_v2().await;
    let text = std::fs::read_to_string(&e.redacted[0]).unwrap();
    let entry: Value = text
        .lines()
        .find(|l| l.starts_with("{\"entry\"") && l.contains("\"type\":\"request\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .unwrap();
    let message = entry["entry"]["data"]["envelope"]["id"].as_str().unwrap();
    let disclosed = e.us.home.with_extension("disclosed");
    let o = run(
        &e.us.home,
        &[
            "log",
            "disclose",
            "--message",
            message,
            "--out",
            disclosed.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let altered = e.us.home.with_extension("altered");
    let bytes = std::fs::read_to_string(&disclosed).unwrap();
    std::fs::write(
        &altered,
        bytes.replacen("Design files were", "Design files are", 1),
    )
    .unwrap();

    // Act
    let disclosed_arg = disclosed.to_str().unwrap().to_owned();
    let accepted = e.audit(
        &e.redacted[0],
        &e.redacted[1],
        &["--disclosed", &disclosed_arg],
    );
    let refused = e.audit(
        &e.redacted[0],
        &e.redacted[1],
        &["--disclosed", altered.to_str().unwrap()],
    );

    // Assert
    assert_eq!(accepted.0, Some(0), "{}", accepted.1);
    assert!(accepted.1.contains("DISCLOSED"), "{}", accepted.1);
    assert_eq!(refused.0, Some(1), "{}", refused.1);
    assert!(refused.1.contains("REFUSED"), "{}", refused.1);
    assert!(refused.1.contains("digest"), "{}", refused.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_log_cannot_be_exported_redacted_and_still_audits_in_full() {
    // Arrange: the default agreement, protocol 1.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    work_cases(&us, &cn, 1).await;
    us.terminate();
    cn.terminate();
    let out = |n: &str| dir.path().join(n);

    // Act
    let redacted = run(
        &us.home,
        &[
            "log",
            "export",
            "--redacted",
            "--out",
            out("us.redacted").to_str().unwrap(),
        ],
    );
    export(&us.home, &out("us.bundle"), false);
    export(&cn.home, &out("cn.bundle"), false);
    let audit = detente()
        .arg("audit")
        .arg(out("us.bundle"))
        .arg(out("cn.bundle"))
        .arg("--agreement")
        .arg(us.home.join("agreement.toml"))
        .output()
        .unwrap();

    // Assert
    assert!(!redacted.status.success());
    assert!(
        String::from_utf8_lossy(&redacted.stderr).contains("version 1 envelope"),
        "{}",
        String::from_utf8_lossy(&redacted.stderr)
    );
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
}

/// Every string of content in `body` (a message body as JSON): texts, observable values,
/// objects, attachment manifests, everything but the facts a header carries in the clear.
fn content_strings(body: &Value, key: &str, out: &mut Vec<String>) {
    const FACTS: [&str; 6] = ["type", "kind", "category", "priority", "tlp", "reason"];
    match body {
        // A case id a text names (a duplicate's original, say) is a header field anyway.
        Value::String(s)
            if !FACTS.contains(&key)
                && s.len() >= 6
                && detente_protocol::CaseId::parse(s).is_err() =>
        {
            out.push(s.clone())
        }
        Value::Array(items) => items.iter().for_each(|v| content_strings(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| content_strings(v, k, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_under_protocol_2_reviews_byte_identically_from_nodes_and_redacted_bundles_that_hold_none_of_its_content()
 {
    // Arrange: the demo's cases, between two nodes under protocol 2; both logs exported.
    let dir = tempfile::tempdir().unwrap();
    let o = detente()
        .args(["demo", "--protocol", "2", "--keep"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let homes = [dir.path().join("us"), dir.path().join("cn")];
    let mut full = Vec::new();
    let mut redacted = Vec::new();
    for home in &homes {
        let (f, r) = (
            home.with_extension("bundle"),
            home.with_extension("redacted"),
        );
        export(home, &f, false);
        export(home, &r, true);
        full.push(f);
        redacted.push(r);
    }
    let now = detente_server::node::now();
    let year = now.datetime().year().to_string();
    let as_of = now.to_string();
    let args = [
        "--period",
        &year,
        "--as-of",
        &as_of,
        "--format",
        "json",
        "--redacted",
    ];

    // Act
    let on_us = review(&args, Some(&homes[0]));
    let on_cn = review(&args, Some(&homes[1]));
    let from_bundles: Vec<String> = redacted
        .iter()
        .chain(&full)
        .map(|b| {
            let mut with_bundle = args.to_vec();
            with_bundle.extend(["--bundle", b.to_str().unwrap()]);
            review(&with_bundle, None)
        })
        .collect();

    // Assert: one document from six sources, over every case of the demo.
    let document: Value = serde_json::from_str(&on_us).unwrap();
    let cases = document["appendix"]["rows"].as_array().unwrap().len();
    assert!(cases >= 22, "the demo's cases: {cases}");
    assert_eq!(on_us, on_cn);
    for (i, b) in from_bundles.iter().enumerate() {
        assert_eq!(&on_us, b, "source {i}");
    }
    let audit = detente()
        .arg("audit")
        .args([&redacted[0], &redacted[1]])
        .arg("--agreement")
        .arg(homes[0].join("agreement.toml"))
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    // No string of any body (taken from the full bundles) is in a redacted bundle.
    let mut content = Vec::new();
    for f in &full {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let line: Value = serde_json::from_str(line).unwrap();
            content_strings(&line["entry"]["body"]["body"], "", &mut content);
        }
    }
    content.sort();
    content.dedup();
    assert!(content.len() > 40, "the demo's content: {content:?}");
    for r in &redacted {
        let text = std::fs::read_to_string(r).unwrap();
        let leaked: Vec<&String> = content
            .iter()
            .filter(|c| text.contains(&serde_json::to_string(c).unwrap()[1..c.len()]))
            .collect();
        assert!(leaked.is_empty(), "{} holds {leaked:?}", r.display());
    }
}
