//! The CLI as a liaison officer and an operator meet it (issue 20): whole cases on the
//! screen, failures that are not silent, closed sets checked, exit codes and errors as the
//! README's table says, a terminal a partner cannot take over, and output to a closed pipe.

use std::{
    io::Read,
    path::Path,
    process::{Output, Stdio},
};

use detente_api::{CaseDetail, MessageState, StatusView};
use detente_protocol::Digest;
use serde_json::{Value, json};

use crate::harness::{detente, eventually, pair, request_body, run};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `detente` in `home` as if on a terminal `columns` wide.
fn run_at_width(home: &Path, columns: u16, args: &[&str]) -> Output {
    detente()
        .arg("--home")
        .arg(home)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap()
}

/// The longest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_show_prints_the_whole_case_wrapped_to_an_80_column_terminal() {
    // Regression: `request show` left out the narrative, observables and decline reason, cut
    // every message at 60 characters, and drew tables 172 columns wide.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    let narrative = "Design files of the wing spar were exfiltrated over three nights through \
        the listed host, which answered on tcp/443 with a self-signed certificate naming \
        update-check.example; we ask who operates it and for its access logs of March 2026.";
    let mut body = request_body("CN", "Intrusion into the aerospace design network");
    body["request"]["narrative"] = json!(narrative);
    let filed = us.post("/api/v1/cases", &body).await;
    let case = filed.json::<Value>().await.unwrap()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(20, "CN has the request", || async {
        cn.case_status(&case).await.as_deref() == Some("sent")
    })
    .await;
    let decline_text = "The host is leased by a reseller outside our jurisdiction; we passed \
        the request to the reseller's national contact point, who can preserve the logs.";
    let declined = cn
        .post(
            &format!("/api/v1/cases/{case}/messages"),
            &json!({"type": "decline", "reason": "no_jurisdiction", "text": decline_text}),
        )
        .await;
    assert_eq!(declined.status(), 201);
    eventually(20, "US sees the decline", || async {
        us.case_status(&case).await.as_deref() == Some("declined")
    })
    .await;

    // Act
    let shown = run_at_width(&us.home, 80, &["request", "show", &case]);
    let listed = run_at_width(&us.home, 80, &["request", "list"]);

    // Assert: everything said is there, and nothing is wider than the terminal.
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = stdout(&shown);
    let flat = words(&text);
    assert!(flat.contains(&words(narrative)), "{text}");
    assert!(flat.contains(&words(decline_text)), "{text}");
    assert!(text.contains("ip: 203.0.113.45"), "{text}");
    assert!(text.contains("no_jurisdiction"), "{text}");
    assert!(text.contains("status: declined"), "{text}");
    assert!(widest(&text) <= 80, "{text}");
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(widest(&stdout(&listed)) <= 80, "{}", stdout(&listed));
    assert!(stdout(&listed).contains("declined"), "{}", stdout(&listed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_a_failing_delivery_and_exits_8() {
    // Regression: with the partner down, `status` exited 0 and never showed the stored
    // last error or the next retry.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    us.start().await;
    let calm = run(&us.home, &["status"]);
    assert_eq!(calm.status.code(), Some(0), "{}", stderr(&calm));

    // Act: file a request to CN, which is not running.
    let filed = us
        .post(
            "/api/v1/cases",
            &request_body("CN", "to a node that is down"),
        )
        .await;
    assert_eq!(filed.status(), 201);
    eventually(30, "a delivery attempt failed", || async {
        let s: StatusView = serde_json::from_value(us.get("/api/v1/status").await).unwrap();
        s.partners.iter().any(|p| p.last_error.is_some())
    })
    .await;
    let status = run(&us.home, &["status"]);
    let as_json = run(&us.home, &["status", "--json"]);

    // Assert
    assert_eq!(status.status.code(), Some(8), "{}", stderr(&status));
    let text = stdout(&status);
    assert!(text.contains("DELIVERY FAILING to CN"), "{text}");
    assert!(text.contains("next retry"), "{text}");
    assert!(text.contains("last error:"), "{text}");
    assert_eq!(as_json.status.code(), Some(8));
    let s: StatusView = serde_json::from_str(&stdout(&as_json)).unwrap();
    assert!(
        s.attention && s.partners[0].pending == 1,
        "{}",
        stdout(&as_json)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_a_listing_quietly_with_success() {
    // Regression: `detente request list | head -2` panicked with "Broken pipe", exit 101.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    us.start().await;
    for i in 0..3 {
        us.post("/api/v1/cases", &request_body("CN", &format!("case {i}")))
            .await;
    }

    for args in [&["request", "list"][..], &["status"][..]] {
        // Act: the reader goes away before the command writes anything.
        let mut child = detente()
            .arg("--home")
            .arg(&us.home)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let exit = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();

        // Assert: `status` may still say 8 (CN is down), but nothing panics.
        assert!(
            matches!(exit.code(), Some(0 | 8)),
            "{args:?} exited {exit}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partners_control_characters_reach_the_terminal_as_visible_escapes() {
    // Regression: a title with OSC, clear-screen, colour, NUL and right-to-left override
    // sequences was printed as is by `request list` and `request show`.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    let hostile = "Innocent\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31m\u{202e}txt.exe";
    let mut body = request_body("US", hostile);
    body["request"]["narrative"] = json!(format!("narrative {hostile}"));
    let filed = cn.post("/api/v1/cases", &body).await;
    let case = filed.json::<Value>().await.unwrap()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(20, "US has the request", || async {
        us.case_status(&case).await.as_deref() == Some("sent")
    })
    .await;

    // Act
    let listed = run(&us.home, &["request", "list"]);
    let shown = run(&us.home, &["request", "show", &case]);
    let json = run(&us.home, &["request", "show", &case, "--json"]);

    // Assert
    for out in [&listed, &shown, &json] {
        assert!(out.status.success(), "{}", stderr(out));
        let text = stdout(out);
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{text:?}"
        );
    }
    assert!(
        stdout(&shown).contains("Innocent\\u{1b}]0;owned"),
        "{}",
        stdout(&shown)
    );
    let parsed: CaseDetail = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        parsed.summary.title, hostile,
        "JSON keeps the text, escaped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sets_are_listed_in_help_and_a_typo_is_refused() {
    // Regression: `request list --status answerd` listed nothing and exited 0; --category
    // took any word.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let new = [
        "request",
        "new",
        "--to",
        "CN",
        "--kind",
        "information",
        "--title",
        "t",
        "--narrative",
        "n",
    ];

    // Act
    let list_help = run(&us.home, &["request", "list", "--help"]);
    let new_help = run(&us.home, &["request", "new", "--help"]);
    let decline_help = run(&us.home, &["request", "decline", "--help"]);
    let typo = run(&us.home, &["request", "list", "--status", "answerd"]);
    let typo_json = run(
        &us.home,
        &["--json", "request", "list", "--status", "answerd"],
    );
    let bad_tlp = run(
        &us.home,
        &[&new[..], &["--category", "ip-theft", "--tlp", "ambr"]].concat(),
    );
    let label_tlp = run(
        &us.home,
        &[&new[..], &["--category", "ip-theft", "--tlp", "TLP:AMBER"]].concat(),
    );
    let category = run(&us.home, &[&new[..], &["--category", "ip-theftt"]].concat());

    // Assert
    assert!(
        stdout(&list_help).contains("pending_delivery"),
        "{}",
        stdout(&list_help)
    );
    for value in ["amber+strict", "investigation", "critical"] {
        assert!(
            stdout(&new_help).contains(value),
            "{value}: {}",
            stdout(&new_help)
        );
    }
    assert!(stdout(&decline_help).contains("no_jurisdiction"));
    assert_eq!(typo.status.code(), Some(2), "{}", stderr(&typo));
    assert!(stderr(&typo).contains("answered"), "{}", stderr(&typo));
    assert_eq!(typo_json.status.code(), Some(2));
    let error: Value = serde_json::from_str(&stdout(&typo_json)).unwrap();
    assert_eq!(error["error"]["code"], "usage", "{error}");
    assert_eq!(bad_tlp.status.code(), Some(2), "{}", stderr(&bad_tlp));
    // The label form passes the parser; the node is not running, hence 6.
    assert_eq!(label_tlp.status.code(), Some(6), "{}", stderr(&label_tlp));
    assert_eq!(category.status.code(), Some(7), "{}", stderr(&category));
    assert!(
        stderr(&category).contains("\"ip-theft\""),
        "{}",
        stderr(&category)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_readme_exit_codes_and_a_json_shape_with_json() {
    // Regression: a bad --period exited 1, `request show garbage` said "invalid party id"
    // with not_found, tlp_denied exited 1, and --json left errors as plain text.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    us.start().await;
    let red = dir.path().join("red.json");
    std::fs::write(
        &red,
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21",
            "created": "2026-03-02T08:00:00.000Z", "modified": "2026-03-02T08:00:00.000Z",
            "created_by_ref": "identity--0b6f6c2e-79b8-4e4e-9d2c-0d6f6b1a2c3d",
            "object_marking_refs": [detente_stix::tlp::TLP_RED_ID],
            "name": "someone else's RED indicator",
            "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
            "valid_from": "2026-03-02T08:00:00Z"
        })
        .to_string(),
    )
    .unwrap();

    // Act
    let help = run(&us.home, &["--help"]);
    let garbage = run(&us.home, &["request", "show", "garbage"]);
    let unknown = run(&us.home, &["--json", "request", "show", "US-2026-9999"]);
    let period = run(&us.home, &["review", "--period", "2026-H9"]);
    let denied = run(
        &us.home,
        &[
            "request",
            "new",
            "--to",
            "CN",
            "--kind",
            "information",
            "--category",
            "ip-theft",
            "--title",
            "t",
            "--narrative",
            "n",
            "--objects",
            red.to_str().unwrap(),
        ],
    );

    // Assert
    assert!(stdout(&help).contains("Exit codes:"), "{}", stdout(&help));
    assert!(
        stdout(&help).contains("8  something needs"),
        "{}",
        stdout(&help)
    );
    assert_eq!(garbage.status.code(), Some(7), "{}", stderr(&garbage));
    assert!(
        stderr(&garbage).contains("not a case id"),
        "{}",
        stderr(&garbage)
    );
    assert_eq!(unknown.status.code(), Some(3), "{}", stderr(&unknown));
    let error: Value = serde_json::from_str(&stdout(&unknown)).unwrap();
    assert_eq!(error["error"]["code"], "unknown_case", "{error}");
    assert!(error["error"]["message"].as_str().is_some(), "{error}");
    assert_eq!(period.status.code(), Some(7), "{}", stderr(&period));
    assert_eq!(denied.status.code(), Some(5), "{}", stderr(&denied));
    assert!(
        stderr(&denied).contains("tlp_denied"),
        "{}",
        stderr(&denied)
    );
}

#[test]
fn instants_without_milliseconds_are_accepted_and_a_half_year_is_not_a_week() {
    // Regression: --as-of 2026-11-27T00:00:00Z was refused for lacking milliseconds, and
    // --week 2026-H1 printed a bulletin for half a year.
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());

    // Act
    let as_of = run(
        &us.home,
        &[
            "review",
            "--period",
            "2026-H1",
            "--format",
            "json",
            "--as-of",
            "2026-11-27T00:00:00Z",
        ],
    );
    let week = run(&us.home, &["review", "--week", "2026-H1"]);

    // Assert
    assert!(as_of.status.success(), "{}", stderr(&as_of));
    let review: Value = serde_json::from_str(&stdout(&as_of)).unwrap();
    assert!(review.is_object());
    assert_eq!(week.status.code(), Some(7), "{}", stderr(&week));
    assert!(stderr(&week).contains("ISO week"), "{}", stderr(&week));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_texts_come_from_files_and_wait_returns_once_the_receipt_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    let narrative = dir.path().join("narrative.txt");
    std::fs::write(&narrative, "Facts over\nseveral lines.\n").unwrap();
    let answer = dir.path().join("answer.txt");
    std::fs::write(&answer, "Logs preserved;\nsee the attached list.\n").unwrap();

    // Act: file from a file and wait for CN's receipt; answer from a file and wait too.
    let filed = run(
        &us.home,
        &[
            "--json",
            "request",
            "new",
            "--to",
            "CN",
            "--kind",
            "information",
            "--category",
            "ip-theft",
            "--title",
            "from a file",
            "--text-file",
            narrative.to_str().unwrap(),
            "--wait-secs",
            "30",
        ],
    );
    assert!(filed.status.success(), "{}", stderr(&filed));
    let sent: detente_api::Sent = serde_json::from_str(&stdout(&filed)).unwrap();
    let on_us: CaseDetail =
        serde_json::from_value(us.get(&format!("/api/v1/cases/{}", sent.case)).await).unwrap();
    let answered = run(
        &cn.home,
        &[
            "request",
            "answer",
            &sent.case.to_string(),
            "--text-file",
            answer.to_str().unwrap(),
            "--wait",
        ],
    );
    let on_cn: CaseDetail =
        serde_json::from_value(cn.get(&format!("/api/v1/cases/{}", sent.case)).await).unwrap();
    let agreement = run(&us.home, &["agreement", "show"]);
    let status: StatusView = serde_json::from_value(us.get("/api/v1/status").await).unwrap();

    // Assert: each command returned with its message receipted, not merely committed.
    assert_eq!(on_us.messages[0].state, MessageState::Delivered);
    match &on_us.messages[0].body {
        detente_protocol::Body::Request(r) => {
            assert_eq!(r.narrative, "Facts over\nseveral lines.\n")
        }
        other => panic!("{other:?}"),
    }
    assert!(answered.status.success(), "{}", stderr(&answered));
    let last = on_cn.messages.last().unwrap();
    assert_eq!(last.state, MessageState::Delivered);
    match &last.body {
        detente_protocol::Body::Answer(a) => {
            assert_eq!(a.text, "Logs preserved;\nsee the attached list.\n")
        }
        other => panic!("{other:?}"),
    }
    let digest: Digest = status.agreement.digest;
    assert!(
        stdout(&agreement).contains(&format!("fingerprint: {}", digest.fingerprint())),
        "{}",
        stdout(&agreement)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_under_a_changed_agreement_is_shown_and_needs_the_operator() {
    // Regression: with the partner's agreement changed, every message was refused for good
    // and `status` still exited 0; `request show` never said why.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    let agreement = cn.home.join("agreement.toml");
    let text = std::fs::read_to_string(&agreement).unwrap();
    let changed = text.replacen("title = \"", "title = \"Amended: ", 1);
    assert_ne!(changed, text, "the agreement has a title to amend");
    std::fs::write(&agreement, changed).unwrap();
    us.start().await;
    cn.start().await;

    // Act
    let filed = run(
        &us.home,
        &[
            "--json",
            "request",
            "new",
            "--to",
            "CN",
            "--kind",
            "information",
            "--category",
            "ip-theft",
            "--title",
            "under the old terms",
            "--narrative",
            "n",
            "--wait-secs",
            "30",
        ],
    );
    let sent: detente_api::Sent =
        serde_json::from_str(&stdout(&filed)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&filed)));
    let status = run(&us.home, &["status"]);
    let shown = run(&us.home, &["request", "show", &sent.case.to_string()]);

    // Assert
    assert_eq!(filed.status.code(), Some(8), "{}", stderr(&filed));
    assert!(stderr(&filed).contains("refused"), "{}", stderr(&filed));
    assert_eq!(status.status.code(), Some(8), "{}", stdout(&status));
    assert!(stdout(&status).contains("REFUSED"), "{}", stdout(&status));
    assert!(
        stdout(&shown).contains("REFUSED by the partner's node"),
        "{}",
        stdout(&shown)
    );
    assert!(
        stdout(&shown).contains("status: rejected"),
        "{}",
        stdout(&shown)
    );
}
