//! The liaison officer's commands, run as a user would, with their exit codes.

use crate::harness::{eventually, pair, run};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn init_refuses_to_overwrite_an_existing_home_and_keeps_the_key_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("n");
    let args = ["init", "--party", "US", "--plain-http"];
    assert!(run(&home, &args).status.success());
    let key_before = std::fs::read(home.join("node.key")).unwrap();
    let mode = std::fs::metadata(home.join("node.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = run(&home, &args);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwrites"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(home.join("node.key")).unwrap(), key_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_liaison_officer_works_a_case_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (mut us, mut cn) = pair(dir.path());
    us.start().await;
    cn.start().await;
    let (us_home, cn_home) = (us.home.clone(), cn.home.clone());

    let filed = run(
        &us_home,
        &[
            "request",
            "new",
            "--to",
            "CN",
            "--kind",
            "preservation",
            "--category",
            "ip-theft",
            "--priority",
            "critical",
            "--title",
            "Preserve staging server logs",
            "--narrative",
            "Logs of the staging host are needed.",
            "--observable",
            "ip:203.0.113.45",
            "--preservation-authority",
            "DOJ CCIPS",
            "--preservation-offence",
            "Trade secret theft",
            "--preservation-data",
            "Access logs Feb-Mar 2026",
            "--preservation-custodian",
            "AS64500",
            "--preservation-necessity",
            "90-day retention",
            "--mutual-assistance-to-follow",
            "--json",
        ],
    );
    assert!(filed.status.success(), "{}", stderr(&filed));
    let sent: serde_json::Value = serde_json::from_str(&stdout(&filed)).unwrap();
    let case = sent["case"].as_str().unwrap().to_owned();

    eventually(20, "CN lists the incoming request", || {
        let out = run(&cn_home, &["request", "list", "--incoming"]);
        let case = case.clone();
        async move { stdout(&out).contains(&case) }
    })
    .await;

    // The requester cannot acknowledge its own request: exit code 4 (conflict).
    let own = run(&us_home, &["request", "ack", &case]);
    assert_eq!(own.status.code(), Some(4), "{}", stderr(&own));
    assert!(stderr(&own).contains("illegal_transition"));

    assert!(
        run(
            &cn_home,
            &["request", "ack", &case, "--note", "duty officer"]
        )
        .status
        .success()
    );
    assert!(
        run(
            &cn_home,
            &[
                "request",
                "answer",
                &case,
                "--final",
                "--text",
                "Preserved for 90 days."
            ]
        )
        .status
        .success()
    );
    eventually(20, "US sees the answer", || {
        let out = run(&us_home, &["request", "show", &case, "--json"]);
        async move {
            serde_json::from_str::<serde_json::Value>(&stdout(&out))
                .is_ok_and(|v| v["summary"]["status"] == "answered")
        }
    })
    .await;
    assert!(
        run(&us_home, &["request", "rate", &case, "--score", "5"])
            .status
            .success()
    );
    eventually(20, "CN sees the case closed", || {
        let out = run(&cn_home, &["request", "show", &case]);
        async move { stdout(&out).contains("status: closed") }
    })
    .await;

    // Unknown case: exit code 3. Out-of-range rating: usage error from the parser, exit 2.
    assert_eq!(
        run(&us_home, &["request", "show", "US-2026-9999"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        run(&us_home, &["request", "rate", &case, "--score", "9"])
            .status
            .code(),
        Some(2)
    );
    // A node that is not running: exit code 6 and a hint.
    cn.terminate();
    let down = run(&cn_home, &["request", "list"]);
    assert_eq!(down.status.code(), Some(6));
    assert!(stderr(&down).contains("detente serve"), "{}", stderr(&down));
    us.terminate();
}
