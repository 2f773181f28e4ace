//! People inside a node over real HTTP: every role (and no credentials, an expired token, a
//! disabled user, a user of another agency) against every kind of route gives exactly the
//! answer the permission table says, cases are routed to agencies, and the trail names who
//! sent each message.

#![allow(clippy::unwrap_used)]

use detente_people::{AgencyId, Password, Role, Roles, Secret, TotpSecret, UserName, token::Kind};
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

/// A pair whose US node has the people of [`people`], and a case CN filed to US, with US's
/// duty agency (the FBI).
async fn with_incoming_case() -> (crate::helpers::Pair, Tokens, String) {
    let pair = spawn_pair().await;
    let t = people(&pair.us).await;
    let incoming = pair
        .cn
        .file_request("US", &request_body("C2 in your network"))
        .await;
    pair.us.wait_for_status(&incoming, "sent").await;
    (pair, t, incoming)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_permission_table_says_on_every_route() {
    // Arrange: an incoming case (with the duty agency, fbi) and nothing else yet.
    let (pair, t, incoming) = with_incoming_case().await;
    let us = &pair.us;
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

/// Adds agency `fbi` and `name` with `role` and a password; returns the password.
async fn user_with_password(us: &TestNode, name: &str, role: Role) -> String {
    let store = us.node().store();
    let mut tx = store.write().await.unwrap();
    if store.agencies().await.unwrap().is_empty() {
        tx.add_agency(&Agency {
            id: AgencyId::parse("fbi").unwrap(),
            name: "FBI".into(),
            duty: true,
            created_at: now(),
        })
        .await
        .unwrap();
    }
    let password = format!("{name} correct horse battery");
    let user = NewUser {
        name: UserName::parse(name).unwrap(),
        agency: AgencyId::parse("fbi").unwrap(),
        roles: Roles::of(&[role]),
        password: Some(Password::new(password.clone()).unwrap().hash()),
    };
    tx.add_user(&user, now()).await.unwrap();
    tx.commit().await.unwrap();
    password
}

/// Signs in; the response's status, body and `Set-Cookie` header.
async fn sign_in(us: &TestNode, body: Value) -> (StatusCode, Value, Option<String>) {
    let response = us
        .anonymous(Method::POST, "/api/v1/session")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, response.json().await.unwrap(), cookie)
}

/// `name=value` of a `Set-Cookie` header, as a browser sends it back.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_session_is_an_http_only_strict_cookie_and_every_change_needs_its_csrf_token() {
    // Arrange
    let pair = spawn_pair().await;
    let us = &pair.us;
    let password = user_with_password(us, "j.smith", Role::Liaison).await;

    // Act
    let (status, body, set_cookie) =
        sign_in(us, json!({"user": "j.smith", "password": password})).await;

    // Assert
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let set_cookie = set_cookie.expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains(password.as_str()));
    let cookie = cookie_pair(&set_cookie);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let with_cookie = |method: Method, path: &str| {
        us.anonymous(method, path)
            .header(reqwest::header::COOKIE, cookie.clone())
    };

    let (status, me) = send(with_cookie(Method::GET, "/api/v1/session")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"], "j.smith");
    assert_eq!(me["roles"], json!(["liaison"]));

    let filing = json!({"to": "CN", "request": request_body("From the console")});
    let (status, body) = send(with_cookie(Method::POST, "/api/v1/cases").json(&filing)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a change without the CSRF token: {body}"
    );
    assert_eq!(error_code(&body), Some("forbidden"));
    let (status, body) = send(
        with_cookie(Method::POST, "/api/v1/cases")
            .header(
                "x-csrf-token",
                "dtc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )
            .json(&filing),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a wrong CSRF token: {body}");
    let (status, body) = send(
        with_cookie(Method::POST, "/api/v1/cases")
            .header("x-csrf-token", &csrf)
            .json(&filing),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Signing out ends the session on the server, whatever the browser keeps.
    let (status, body) =
        send(with_cookie(Method::DELETE, "/api/v1/session").header("x-csrf-token", &csrf)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = send(with_cookie(Method::GET, "/api/v1/session")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_lock_a_user_out_for_a_while_and_say_nothing_about_who_exists() {
    let pair = spawn_pair().await;
    let us = &pair.us;
    let password = user_with_password(us, "j.smith", Role::Liaison).await;

    // An unknown user and a wrong password get the same answer.
    let (status, unknown, _) =
        sign_in(us, json!({"user": "nobody", "password": "whatever it is"})).await;
    let (status2, wrong, _) = sign_in(
        us,
        json!({"user": "j.smith", "password": "not the password"}),
    )
    .await;
    assert_eq!(
        (status, status2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(unknown, wrong);

    for _ in 0..4 {
        let (status, _, _) = sign_in(
            us,
            json!({"user": "j.smith", "password": "not the password"}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The fifth failure started a wait: even the right password is not checked now.
    let (status, body, cookie) =
        sign_in(us, json!({"user": "j.smith", "password": password})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(&body), Some("rate_limited"));
    assert!(cookie.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_signs_in_only_with_a_totp_code_and_each_code_works_once() {
    let pair = spawn_pair().await;
    let us = &pair.us;
    let password = user_with_password(us, "a.admin", Role::Admin).await;
    let name = UserName::parse("a.admin").unwrap();

    let (status, body, _) = sign_in(us, json!({"user": "a.admin", "password": password})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no second factor set up: {body}"
    );

    let secret = TotpSecret::generate();
    let store = us.node().store();
    let mut tx = store.write().await.unwrap();
    tx.set_totp(&name, Some(&secret)).await.unwrap();
    tx.commit().await.unwrap();
    let (status, body, _) = sign_in(us, json!({"user": "a.admin", "password": password})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no code: {body}");

    let secs = u64::try_from(now().unix_millis() / 1000).unwrap();
    let code = secret.code_at(secs);
    let (status, body, cookie) = sign_in(
        us,
        json!({"user": "a.admin", "password": password, "totp": code}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(cookie.is_some());
    let (status, body, _) = sign_in(
        us,
        json!({"user": "a.admin", "password": password, "totp": code}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a code used twice: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_moves_to_another_agency_and_the_trail_shows_the_move_and_who_read_it() {
    // Arrange: a TLP:RED request from CN lands with the duty agency, the FBI.
    let pair = spawn_pair().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let t = people(us).await;
    let mut red = request_body("Names of the operators");
    red.tlp = detente_protocol::Tlp::Red;
    let case = cn.file_request("US", &red).await;
    us.wait_for_status(&case, "sent").await;
    let case_path = format!("/api/v1/cases/{case}");
    let agency_path = format!("{case_path}/agency");

    // Act and assert: the DoJ cannot move what it cannot see, an analyst may not move it, an
    // agency must exist, and the FBI passes it on.
    for (token, agency, expected) in [
        (&t.liaison_doj, "doj", StatusCode::NOT_FOUND),
        (&t.analyst_fbi, "doj", StatusCode::FORBIDDEN),
        (&t.liaison_fbi, "nsa", StatusCode::UNPROCESSABLE_ENTITY),
        (&t.liaison_fbi, "doj", StatusCode::NO_CONTENT),
    ] {
        let to = json!({ "agency": agency });
        let (status, body) = call(us, Some(token), Method::POST, &agency_path, Some(&to)).await;
        assert_eq!(status, expected, "moving to {agency}: {body}");
    }

    let (status, _) = call(us, Some(&t.liaison_fbi), Method::GET, &case_path, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the FBI no longer has the case"
    );
    let (status, body) = call(us, Some(&t.liaison_doj), Method::GET, &case_path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The trail, read over the API by the reviewer (a liaison officer may not read it).
    let (status, body) = call(us, Some(&t.liaison_doj), Method::GET, "/api/v1/trail", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(
        us,
        Some(&t.reviewer),
        Method::GET,
        &format!("/api/v1/trail?case={case}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let records: Vec<(String, String, String)> = body["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user"].as_str().unwrap().into(),
                r["action"].as_str().unwrap().into(),
                r["detail"].as_str().unwrap().into(),
            )
        })
        .collect();
    // The test's own polling read the case with the node's token (no user): recorded too.
    assert!(
        records
            .iter()
            .any(|(u, a, _)| u.is_empty() && a == "case.read"),
        "{records:?}"
    );
    let by_users: Vec<_> = records
        .into_iter()
        .filter(|(u, _, _)| !u.is_empty())
        .collect();
    assert_eq!(
        by_users,
        [
            ("liaison.fbi".into(), "case.assign".into(), "doj".into()),
            ("liaison.doj".into(), "case.read".into(), "TLP:RED".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_red_object_by_api_or_taxii_is_in_the_trail_and_reading_a_green_one_is_not() {
    // Arrange: one RED and one GREEN indicator of this node's own.
    let pair = spawn_pair().await;
    let us = &pair.us;
    let t = people(us).await;
    let object = |id: &str, marking: &str| {
        detente_stix::StixObject::from_value(json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": "2026-03-02T08:00:00.000Z", "modified": "2026-03-02T08:00:00.000Z",
            "object_marking_refs": [marking], "pattern": "[ipv4-addr:value = '203.0.113.7']",
            "pattern_type": "stix", "valid_from": "2026-03-02T08:00:00Z"
        }))
        .unwrap()
    };
    let red = "indicator--1c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21";
    let green = "indicator--2c9a3a8e-0f6a-4e39-9f0e-5d8a9b7c6d21";
    let share = detente_store::ShareContext {
        origin: "US".into(),
        audience: None,
        recipients: vec![],
    };
    let collection = "2b3c6a8e-6a4f-4c1f-9a53-0c3f1c1e6a01";
    let store = us.node().store();
    store
        .put_collection(&detente_store::Collection {
            id: collection.into(),
            title: "local".into(),
            description: None,
            audience: None,
            can_write: false,
        })
        .await
        .unwrap();
    store
        .insert_stix(
            &[
                object(red, detente_stix::tlp::TLP_RED_ID),
                object(green, detente_stix::tlp::TLP_GREEN_ID),
            ],
            &share,
            Some(collection),
            1,
        )
        .await
        .unwrap();

    // Act: the analyst reads both through the API, and again through TAXII.
    let (status, body) = call(
        us,
        Some(&t.analyst_fbi),
        Method::GET,
        "/api/v1/indicators",
        None,
    )
    .await;
    let (taxii_status, taxii) = send(
        us.anonymous(
            Method::GET,
            &format!("/taxii2/detente/collections/{collection}/objects/"),
        )
        .bearer_auth(&t.analyst_fbi)
        .header("accept", "application/taxii+json;version=2.1"),
    )
    .await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["objects"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(taxii_status, StatusCode::OK, "{taxii}");
    assert_eq!(taxii["objects"].as_array().unwrap().len(), 2, "{taxii}");
    let trail = us
        .node()
        .store()
        .trail(&TrailQuery {
            limit: 10,
            ..TrailQuery::default()
        })
        .await
        .unwrap();
    let reads: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.record.user.as_str(), e.record.object.as_str()))
        .collect();
    assert_eq!(reads, [("analyst.fbi", red), ("analyst.fbi", red)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_sees_which_agency_acted_in_the_signed_envelope() {
    // Arrange: an incoming case acknowledged by the FBI, and a request filed by the DoJ.
    let (pair, t, incoming) = with_incoming_case().await;
    let (us, cn) = (&pair.us, &pair.cn);
    let ack = json!({"type": "acknowledgement", "note": "on it"});
    let path = format!("/api/v1/cases/{incoming}/messages");
    let (status, body) = call(us, Some(&t.liaison_fbi), Method::POST, &path, Some(&ack)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let filing = json!({"to": "CN", "request": request_body("Please preserve these logs")});
    let (status, body) = call(
        us,
        Some(&t.liaison_doj),
        Method::POST,
        "/api/v1/cases",
        Some(&filing),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let outgoing = body["case"].as_str().unwrap().to_owned();

    // Act: CN reads both cases once the messages are official there.
    let acked = cn.wait_for_status(&incoming, "acknowledged").await;
    let filed = cn.wait_for_status(&outgoing, "sent").await;

    // Assert: the agency is in the envelopes CN received; CN's own have none (its node token
    // acts for no agency).
    let agency_of = |case: &Value, kind: &str| {
        case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["body"]["type"] == kind)
            .map(|m| m["agency"].clone())
            .unwrap()
    };
    assert_eq!(agency_of(&acked, "acknowledgement"), json!("fbi"));
    assert_eq!(agency_of(&acked, "request"), Value::Null);
    assert_eq!(agency_of(&filed, "request"), json!("doj"));
}
