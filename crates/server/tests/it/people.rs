//! People inside a node over real HTTP: every role (and no credentials, an expired token, a
//! disabled user, a user of another agency) against every kind of route gives exactly the
//! answer the permission table says, cases are routed to agencies, and the trail names who
//! sent each message.

#![allow(clippy::unwrap_used)]

use detente_people::{AgencyId, Role, Roles, Secret, UserName, token::Kind};
use detente_server::node::now;
use detente_store::{Agency, NewUser, TokenInfo, TrailQuery};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestNode, error_code, request_body, send, spawn_pair};

/// A route: method, path and body.
type Route = (Method, String, Option<Value>);
/// What a token gets there: status and error code.
type Expect<'a> = (Option<&'a str>, StatusCode, Option<&'a str>);

/// The credentials the matrix tries.
struct Tokens {
    admin: String,
    liaison_fbi: String,
    liaison_doj: String,
    analyst_fbi: String,
    reviewer: String,
    stakeholder: String,
    expired: String,
    disabled: String,
}

/// Adds agencies `fbi` (on duty) and `doj` to the US node, a user per role, and a token each.
async fn people(us: &TestNode) -> Tokens {
    let store = us.node().store();
    let mut tx = store.write().await.unwrap();
    for (id, duty) in [("fbi", true), ("doj", false)] {
        tx.add_agency(&Agency {
            id: AgencyId::parse(id).unwrap(),
            name: id.to_uppercase(),
            duty,
            created_at: now(),
        })
        .await
        .unwrap();
    }
    let token = |name: &str, agency: &str, role: Role, expires_in_ms: Option<i64>| {
        let user = NewUser {
            name: UserName::parse(name).unwrap(),
            agency: AgencyId::parse(agency).unwrap(),
            roles: Roles::of(&[role]),
            password: None,
        };
        let secret = Secret::generate(Kind::ApiToken);
        let info = TokenInfo {
            hash: secret.hash(),
            user: user.name.clone(),
            label: "test".into(),
            roles: user.roles,
            created_at: now(),
            expires_at: expires_in_ms.map(|ms| {
                detente_protocol::Timestamp::from_unix_millis(now().unix_millis() + ms).unwrap()
            }),
            revoked_at: None,
        };
        (user, info, secret.expose().to_owned())
    };
    let made = [
        token("admin", "doj", Role::Admin, None),
        token("liaison.fbi", "fbi", Role::Liaison, None),
        token("liaison.doj", "doj", Role::Liaison, None),
        token("analyst.fbi", "fbi", Role::Analyst, None),
        token("reviewer", "doj", Role::Reviewer, None),
        token("stakeholder", "fbi", Role::Stakeholder, None),
        token("expired", "fbi", Role::Liaison, Some(-1)),
        token("disabled", "fbi", Role::Liaison, None),
    ];
    for (user, info, _) in &made {
        tx.add_user(user, now()).await.unwrap();
        tx.add_token(info).await.unwrap();
    }
    tx.disable_user(&UserName::parse("disabled").unwrap(), now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let [
        admin,
        liaison_fbi,
        liaison_doj,
        analyst_fbi,
        reviewer,
        stakeholder,
        expired,
        disabled,
    ] = made.map(|(_, _, t)| t);
    Tokens {
        admin,
        liaison_fbi,
        liaison_doj,
        analyst_fbi,
        reviewer,
        stakeholder,
        expired,
        disabled,
    }
}

/// `method path` with `token` (or none), and `body` as JSON if given.
async fn call(
    node: &TestNode,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut r = node.anonymous(method, path);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(b);
    }
    send(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_permission_table_says_on_every_route() {
    // Arrange: an incoming case (with the duty agency, fbi) and nothing else yet.
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let t = people(us).await;
    let incoming = cn
        .file_request("US", &request_body("C2 in your network"))
        .await;
    us.wait_for_status(&incoming, "sent").await;
    let case_path = format!("/api/v1/cases/{incoming}");
    let ack = json!({"type": "acknowledgement", "note": "on it"});
    let filing = json!({"to": "CN", "request": request_body("Please preserve these logs")});

    // Act and assert, route by route: (token, expected status, expected error code).
    use StatusCode as S;
    let get = |path: &str| (Method::GET, path.to_owned(), None);
    let routes: Vec<(Route, Vec<Expect<'_>>)> = vec![
        (
            get("/api/v1/status"),
            vec![
                (Some(&t.admin), S::OK, None),
                (Some(&t.liaison_fbi), S::OK, None),
                (Some(&t.reviewer), S::OK, None),
                (Some(&t.analyst_fbi), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.stakeholder), S::FORBIDDEN, Some("forbidden")),
                (None, S::UNAUTHORIZED, Some("unauthorized")),
                (Some(&t.expired), S::UNAUTHORIZED, Some("unauthorized")),
                (Some(&t.disabled), S::UNAUTHORIZED, Some("unauthorized")),
                (
                    Some("dtk_not-a-token"),
                    S::UNAUTHORIZED,
                    Some("unauthorized"),
                ),
            ],
        ),
        (
            get("/api/v1/review?period=2026-H2&format=json"),
            vec![
                (Some(&t.reviewer), S::OK, None),
                (Some(&t.liaison_doj), S::OK, None),
                (Some(&t.analyst_fbi), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.stakeholder), S::FORBIDDEN, Some("forbidden")),
            ],
        ),
        (
            get(&case_path),
            vec![
                (Some(&t.liaison_fbi), S::OK, None),
                (Some(&t.analyst_fbi), S::OK, None),
                (Some(&t.reviewer), S::OK, None),
                (Some(&t.admin), S::OK, None),
                // Another agency's case is unknown to them, not "forbidden": that would tell
                // them it exists.
                (Some(&t.liaison_doj), S::NOT_FOUND, Some("unknown_case")),
                (Some(&t.stakeholder), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.disabled), S::UNAUTHORIZED, Some("unauthorized")),
            ],
        ),
        (
            (
                Method::POST,
                format!("{case_path}/messages"),
                Some(ack.clone()),
            ),
            vec![
                (Some(&t.analyst_fbi), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.reviewer), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.liaison_doj), S::NOT_FOUND, Some("unknown_case")),
                (Some(&t.expired), S::UNAUTHORIZED, Some("unauthorized")),
                (Some(&t.liaison_fbi), S::CREATED, None),
            ],
        ),
        (
            (
                Method::POST,
                "/api/v1/cases".to_owned(),
                Some(filing.clone()),
            ),
            vec![
                (Some(&t.analyst_fbi), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.reviewer), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.stakeholder), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.liaison_doj), S::CREATED, None),
            ],
        ),
        (
            get("/federation/v1/log/checkpoint"),
            vec![
                (Some(&t.reviewer), S::OK, None),
                (Some(&t.admin), S::OK, None),
                (Some(&t.liaison_fbi), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.analyst_fbi), S::FORBIDDEN, Some("forbidden")),
            ],
        ),
        (
            get("/api/v1/indicators"),
            vec![
                (Some(&t.analyst_fbi), S::OK, None),
                (Some(&t.liaison_fbi), S::OK, None),
                (Some(&t.reviewer), S::FORBIDDEN, Some("forbidden")),
                (Some(&t.stakeholder), S::FORBIDDEN, Some("forbidden")),
            ],
        ),
    ];
    for ((method, path, body), cases) in &routes {
        for (token, status, code) in cases {
            let (got, answer) = call(us, *token, method.clone(), path, body.as_ref()).await;
            assert_eq!(got, *status, "{method} {path} as {token:?}: {answer}");
            assert_eq!(
                error_code(&answer),
                *code,
                "{method} {path} as {token:?}: {answer}"
            );
            if *code == Some("forbidden") {
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains("needs the permission to"), "{message}");
            }
        }
    }

    // The lists: each user sees the cases of their agency, a reviewer and the admin all.
    let listed = |token: &str| {
        let token = token.to_owned();
        async move {
            let (status, body) = call(us, Some(&token), Method::GET, "/api/v1/cases", None).await;
            assert_eq!(status, S::OK, "{body}");
            let mut ids: Vec<String> = body["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["case"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let all = listed(&t.admin).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(listed(&t.reviewer).await, all);
    assert_eq!(
        listed(&t.liaison_fbi).await,
        std::slice::from_ref(&incoming)
    );
    assert_eq!(
        listed(&t.analyst_fbi).await,
        std::slice::from_ref(&incoming)
    );
    let filed = listed(&t.liaison_doj).await;
    assert_eq!(filed.len(), 1);
    assert_ne!(
        filed[0], incoming,
        "the DoJ's own filing is routed to the DoJ"
    );

    // The trail names who sent what, for which agency.
    let trail = us
        .node()
        .store()
        .trail(&TrailQuery {
            limit: 100,
            ..TrailQuery::default()
        })
        .await
        .unwrap();
    let who: Vec<(&str, &str, &str)> = trail
        .iter()
        .map(|e| {
            (
                e.record.user.as_str(),
                e.record.agency.as_str(),
                e.record.action.as_str(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("liaison.fbi", "fbi", "message.acknowledgement"),
            ("liaison.doj", "doj", "message.request"),
        ]
    );
    assert_eq!(trail[0].record.case, incoming);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_own_token_still_does_everything_as_an_administrator() {
    // Set-ups from before users keep working until the operator replaces the token.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let case = us.file_request("CN", &request_body("Old set-up")).await;
    let (status, body) = us.get("/federation/v1/log/checkpoint").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = us.get(&format!("/api/v1/cases/{case}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trail = us
        .node()
        .store()
        .trail(&TrailQuery {
            limit: 10,
            ..TrailQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].record.user, "", "the node's token acts as no user");
}
