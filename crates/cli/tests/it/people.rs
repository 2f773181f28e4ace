//! The administrator's people commands on a real node home: agencies, users, roles, tokens
//! shown once and stored as hashes, and every change in the hash-chained trail.

use std::path::Path;

use serde_json::Value;

use crate::harness::{pair, run};

fn ok(home: &Path, args: &[&str]) -> String {
    let o = run(home, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(home: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(home, &all)).unwrap()
}

#[test]
fn an_administrator_adds_agencies_users_and_tokens_and_the_trail_records_each_change() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let home = &us.home;
    let secret_file = dir.path().join("pw");
    std::fs::write(&secret_file, "correct horse battery staple\n").unwrap();

    // Act
    ok(
        home,
        &[
            "agency",
            "add",
            "fbi",
            "--name",
            "Federal Bureau of Investigation",
            "--duty",
        ],
    );
    ok(
        home,
        &["agency", "add", "doj", "--name", "Department of Justice"],
    );
    let added = ok(
        home,
        &[
            "user",
            "add",
            "j.smith",
            "--agency",
            "fbi",
            "--roles",
            "liaison,analyst",
        ],
    );
    ok(
        home,
        &[
            "user",
            "add",
            "a.admin",
            "--agency",
            "doj",
            "--roles",
            "admin",
            "--password-file",
            secret_file.to_str().unwrap(),
        ],
    );
    let token = json(
        home,
        &[
            "user",
            "token",
            "j.smith",
            "--label",
            "laptop",
            "--roles",
            "liaison",
            "--expires",
            "90d",
        ],
    );
    ok(home, &["agency", "duty", "doj"]);
    ok(home, &["user", "disable", "a.admin"]);

    // Assert: a made password is printed once, and is long.
    let password = added
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "initial password (shown once; give it to the user over a channel you trust): ",
            )
        })
        .expect("the initial password is printed");
    assert!(password.len() >= 40, "{password}");

    let agencies = json(home, &["agency", "list"]);
    let duty: Vec<&str> = agencies["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["duty"] == true)
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(duty, ["doj"]);

    let users = json(home, &["user", "list"]);
    let smith = &users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "j.smith")
        .unwrap();
    assert_eq!(smith["roles"], serde_json::json!(["liaison", "analyst"]));
    let admin = &users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "a.admin")
        .unwrap();
    assert!(admin["disabled_at"].is_string(), "{admin}");

    // The token is shown once, and only its hash is listed or stored.
    let secret = token["token"].as_str().unwrap();
    assert!(secret.starts_with("dtk_"), "{token}");
    assert!(token["expires_at"].is_string());
    let listed = ok(home, &["--json", "user", "tokens", "j.smith"]);
    assert!(!listed.contains(secret), "a listing showed the token");
    let db = std::fs::read(home.join("detente.db")).unwrap();
    assert!(
        !db.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the token is in the database file"
    );
    assert!(
        !db.windows(password.len()).any(|w| w == password.as_bytes()),
        "the password is in the database file"
    );

    let trail = json(home, &["trail"]);
    let actions: Vec<&str> = trail["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "agency.add",
            "agency.add",
            "user.add",
            "user.add",
            "token.add",
            "agency.duty",
            "user.disable"
        ]
    );
    assert!(ok(home, &["trail", "--verify"]).contains("trail verified"));
}

#[test]
fn a_token_cannot_have_roles_its_user_lacks_and_bad_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (us, _cn) = pair(dir.path());
    let home = &us.home;
    ok(home, &["agency", "add", "fbi", "--name", "FBI"]);
    ok(
        home,
        &[
            "user", "add", "j.smith", "--agency", "fbi", "--roles", "analyst",
        ],
    );

    let o = run(home, &["user", "token", "j.smith", "--roles", "admin"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("among its user's"),
        "{o:?}"
    );

    // clap refuses a name outside the form and an unknown role, naming the rule (exit 2).
    let o = run(
        home,
        &[
            "user", "add", "J Smith", "--agency", "fbi", "--roles", "analyst",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("a-z, 0-9"),
        "{o:?}"
    );
    let o = run(
        home,
        &[
            "user",
            "add",
            "x",
            "--agency",
            "fbi",
            "--roles",
            "superuser",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("roles are admin"),
        "{o:?}"
    );

    // A user of an agency that does not exist.
    let o = run(
        home,
        &["user", "add", "x", "--agency", "nsa", "--roles", "analyst"],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no agency nsa"),
        "{o:?}"
    );

    // Nothing refused reached the trail.
    let trail = json(home, &["trail"]);
    assert_eq!(trail["trail"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_token_reaches_the_nodes_log() {
    // Arrange: a user with a password and a token, and a node logging at debug level.
    let dir = tempfile::tempdir().unwrap();
    let (mut us, _cn) = pair(dir.path());
    let home = us.home.clone();
    let secret_file = dir.path().join("pw");
    let password = "a passphrase nobody logs";
    std::fs::write(&secret_file, password).unwrap();
    ok(&home, &["agency", "add", "fbi", "--name", "FBI"]);
    ok(
        &home,
        &[
            "user",
            "add",
            "j.smith",
            "--agency",
            "fbi",
            "--roles",
            "liaison",
            "--password-file",
            secret_file.to_str().unwrap(),
        ],
    );
    let token = json(&home, &["user", "token", "j.smith"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    us.start().await;

    // Act: a failed and a good sign-in, and calls with the token.
    let client = reqwest::Client::new();
    for attempt in ["a wrong passphrase typed", password] {
        client
            .post(format!("{}/api/v1/session", us.url()))
            .json(&serde_json::json!({"user": "j.smith", "password": attempt}))
            .send()
            .await
            .unwrap();
    }
    let me = client
        .get(format!("{}/api/v1/session", us.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    us.terminate();

    // Assert
    let log = std::fs::read_to_string(home.join("serve.log")).unwrap();
    assert!(log.contains("signed in"), "the sign-in is logged: {log}");
    for secret in [password, "a wrong passphrase typed", token.as_str()] {
        assert!(!log.contains(secret), "{secret:?} is in the node's log");
    }
}
