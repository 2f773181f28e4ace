//! People storage, run on both backends: agencies and the duty, users, tokens and sessions
//! that stop working when revoked, expired or their user is disabled, the sign-in counters,
//! and the trail's chain.
#![allow(clippy::unwrap_used)]

use detente_people::{
    AgencyId, Password, Role, Roles, Secret, TotpSecret, UserName, token::Kind, trail::Record,
};

use super::{TestDb, at};
use crate::{Agency, NewUser, Store, TokenInfo, TrailQuery};

fn agency(id: &str, duty: bool) -> Agency {
    Agency {
        id: AgencyId::parse(id).unwrap(),
        name: format!("The {id}"),
        duty,
        created_at: at(1),
    }
}

fn name(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}

/// A store with agencies `fbi` (on duty) and `doj`, and the liaison officer `j.smith` of the
/// FBI with a password.
async fn with_people(db: &TestDb) -> Store {
    let store = db.open().await;
    let mut tx = store.write().await.unwrap();
    tx.add_agency(&agency("fbi", true)).await.unwrap();
    tx.add_agency(&agency("doj", false)).await.unwrap();
    let user = NewUser {
        name: name("j.smith"),
        agency: AgencyId::parse("fbi").unwrap(),
        roles: Roles::of(&[Role::Liaison]),
        password: Some(
            Password::new("correct horse battery".into())
                .unwrap()
                .hash(),
        ),
    };
    tx.add_user(&user, at(2)).await.unwrap();
    tx.commit().await.unwrap();
    store
}

fn token(user: &str, roles: Roles, expires_at: Option<i64>) -> (Secret, TokenInfo) {
    let secret = Secret::generate(Kind::ApiToken);
    let info = TokenInfo {
        hash: secret.hash(),
        user: name(user),
        label: "cli".into(),
        roles,
        created_at: at(10),
        expires_at: expires_at.map(at),
        revoked_at: None,
    };
    (secret, info)
}

fn record(action: &str, case: &str) -> Record {
    Record {
        seq: 0,
        at_ms: 1_000,
        user: "j.smith".into(),
        agency: "fbi".into(),
        action: action.into(),
        case: case.into(),
        object: String::new(),
        detail: String::new(),
    }
}

on_both_backends! {
    async fn agencies_and_users_read_back_and_the_duty_rests_with_one_agency(db: TestDb) {
        let store = with_people(&db).await;
        let duty: Vec<_> = store.agencies().await.unwrap().into_iter().filter(|a| a.duty).collect();
        assert_eq!(duty.len(), 1);
        assert_eq!(duty[0].id.as_str(), "fbi");

        let mut tx = store.write().await.unwrap();
        assert!(tx.set_duty_agency(&AgencyId::parse("doj").unwrap()).await.unwrap());
        assert!(!tx.set_duty_agency(&AgencyId::parse("nsa").unwrap()).await.unwrap());
        tx.commit().await.unwrap();
        let duty: Vec<_> = store.agencies().await.unwrap().into_iter().filter(|a| a.duty).map(|a| a.id).collect();
        assert_eq!(duty, [AgencyId::parse("doj").unwrap()], "an unknown agency took the duty away");

        let user = store.user(&name("j.smith")).await.unwrap().unwrap();
        assert_eq!(user.agency.as_str(), "fbi");
        assert_eq!(user.roles, Roles::of(&[Role::Liaison]));
        assert!(user.password.unwrap().verify(&Password::given("correct horse battery".into()).unwrap()));
        assert!(store.user(&name("nobody")).await.unwrap().is_none());
    }

    async fn a_user_of_an_unknown_agency_is_refused(db: TestDb) {
        let store = with_people(&db).await;
        let mut tx = store.write().await.unwrap();
        let user = NewUser {
            name: name("x"),
            agency: AgencyId::parse("nsa").unwrap(),
            roles: Roles::NONE,
            password: None,
        };
        assert!(tx.add_user(&user, at(3)).await.is_err());
    }

    async fn a_token_speaks_for_its_user_within_both_their_roles(db: TestDb) {
        let store = with_people(&db).await;
        let (secret, info) = token("j.smith", Roles::of(&[Role::Liaison, Role::Admin]), None);
        let mut tx = store.write().await.unwrap();
        tx.add_token(&info).await.unwrap();
        tx.commit().await.unwrap();

        let bearer = store.token_bearer(secret.hash(), at(20)).await.unwrap().unwrap();
        assert_eq!(bearer.user.name.as_str(), "j.smith");
        // The token asked for admin, which its user does not hold.
        assert_eq!(bearer.roles, Roles::of(&[Role::Liaison]));

        // Taking the role from the user takes it from the token at once.
        let mut tx = store.write().await.unwrap();
        tx.set_roles(&name("j.smith"), Roles::of(&[Role::Analyst])).await.unwrap();
        tx.commit().await.unwrap();
        let bearer = store.token_bearer(secret.hash(), at(20)).await.unwrap().unwrap();
        assert_eq!(bearer.roles, Roles::NONE);

        let unknown = Secret::generate(Kind::ApiToken);
        assert!(store.token_bearer(unknown.hash(), at(20)).await.unwrap().is_none());
    }

    async fn revoked_and_expired_tokens_and_disabled_users_stop_working(db: TestDb) {
        let store = with_people(&db).await;
        let (revoked, r) = token("j.smith", Roles::of(&[Role::Liaison]), None);
        let (expiring, e) = token("j.smith", Roles::of(&[Role::Liaison]), Some(100));
        let (kept, k) = token("j.smith", Roles::of(&[Role::Liaison]), None);
        let mut tx = store.write().await.unwrap();
        for t in [&r, &e, &k] {
            tx.add_token(t).await.unwrap();
        }
        assert!(tx.revoke_token(revoked.hash(), at(30)).await.unwrap());
        assert!(!tx.revoke_token(revoked.hash(), at(31)).await.unwrap(), "revoked twice");
        tx.commit().await.unwrap();

        assert!(store.token_bearer(revoked.hash(), at(40)).await.unwrap().is_none());
        assert!(store.token_bearer(expiring.hash(), at(99)).await.unwrap().is_some());
        assert!(store.token_bearer(expiring.hash(), at(100)).await.unwrap().is_none());
        assert!(store.token_bearer(kept.hash(), at(40)).await.unwrap().is_some());

        let mut tx = store.write().await.unwrap();
        assert!(tx.disable_user(&name("j.smith"), at(50)).await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.token_bearer(kept.hash(), at(60)).await.unwrap().is_none());
        let listed = store.tokens(&name("j.smith")).await.unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().any(|t| t.hash == revoked.hash() && t.revoked_at == Some(at(30))));
    }

    async fn sessions_end_on_sign_out_password_change_and_expiry(db: TestDb) {
        let store = with_people(&db).await;
        let user = name("j.smith");
        let sessions: Vec<(Secret, Secret)> = (0..3)
            .map(|_| (Secret::generate(Kind::Session), Secret::generate(Kind::Csrf)))
            .collect();
        let mut tx = store.write().await.unwrap();
        for (s, c) in &sessions {
            tx.add_session(s.hash(), &user, c.hash(), at(10), at(1_000)).await.unwrap();
        }
        tx.commit().await.unwrap();

        let bearer = store.session_bearer(sessions[0].0.hash(), at(20)).await.unwrap().unwrap();
        assert_eq!(bearer.csrf, Some(sessions[0].1.hash()));
        assert_eq!(bearer.roles, Roles::of(&[Role::Liaison]));
        assert!(store.session_bearer(sessions[0].0.hash(), at(1_000)).await.unwrap().is_none(), "expired");

        let mut tx = store.write().await.unwrap();
        assert!(tx.revoke_session(sessions[0].0.hash(), at(30)).await.unwrap());
        tx.commit().await.unwrap();
        assert!(store.session_bearer(sessions[0].0.hash(), at(40)).await.unwrap().is_none());
        assert!(store.session_bearer(sessions[1].0.hash(), at(40)).await.unwrap().is_some());

        let mut tx = store.write().await.unwrap();
        let new = Password::new("another long passphrase".into()).unwrap().hash();
        assert!(tx.set_password(&user, &new, at(50)).await.unwrap());
        tx.commit().await.unwrap();
        for (s, _) in &sessions[1..] {
            assert!(store.session_bearer(s.hash(), at(60)).await.unwrap().is_none(), "survived a password change");
        }
    }

    async fn failed_sign_ins_count_until_one_succeeds_and_a_totp_step_is_kept(db: TestDb) {
        let store = with_people(&db).await;
        let user = name("j.smith");
        let mut tx = store.write().await.unwrap();
        for n in 1..=3 {
            let run = tx.sign_in_failed(&user, at(n * 1000)).await.unwrap().unwrap();
            assert_eq!(run.failures, u32::try_from(n).unwrap());
            assert_eq!(run.last_failure, u64::try_from(n).unwrap());
        }
        assert!(tx.sign_in_failed(&name("nobody"), at(1)).await.unwrap().is_none());
        let secret = TotpSecret::generate();
        assert!(tx.set_totp(&user, Some(&secret)).await.unwrap());
        assert!(tx.sign_in_succeeded(&user, Some(42)).await.unwrap());
        tx.commit().await.unwrap();
        let u = store.user(&user).await.unwrap().unwrap();
        assert_eq!(u.lockout.failures, 0);
        assert_eq!(u.totp, Some(secret));
        assert_eq!(u.totp_last_step, Some(42));
    }

    async fn the_trail_chains_its_records_and_refuses_changes(db: TestDb) {
        let store = with_people(&db).await;
        let mut tx = store.write().await.unwrap();
        let mut last = [0; 32];
        for (i, case) in ["US-2026-0001", "US-2026-0002", "US-2026-0001"].iter().enumerate() {
            let mut r = record("message.send", case);
            last = tx.append_trail(&mut r).await.unwrap();
            assert_eq!(r.seq, u64::try_from(i).unwrap() + 1);
        }
        tx.commit().await.unwrap();

        assert_eq!(store.verify_trail().await.unwrap(), Ok(Some(last)));
        let case_1 = store
            .trail(&TrailQuery { case: Some("US-2026-0001".into()), limit: 10, ..TrailQuery::default() })
            .await
            .unwrap();
        assert_eq!(case_1.iter().map(|e| e.record.seq).collect::<Vec<_>>(), [1, 3]);
        let none = store
            .trail(&TrailQuery { user: Some("someone".into()), limit: 10, ..TrailQuery::default() })
            .await
            .unwrap();
        assert!(none.is_empty());

        for sql in ["UPDATE trail SET user_name = 'x' WHERE seq = 2", "DELETE FROM trail WHERE seq = 3"] {
            let err = store.execute_unchecked(sql).await.expect_err("refused");
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    }
}

// An insider with the database file can drop the trigger; the chain still shows the change.
#[tokio::test]
async fn a_trail_record_changed_behind_the_triggers_breaks_the_chain_there() {
    let db = TestDb::sqlite();
    let store = with_people(&db).await;
    let mut tx = store.write().await.unwrap();
    for case in ["US-2026-0001", "US-2026-0002", "US-2026-0003"] {
        tx.append_trail(&mut record("object.read", case))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    for sql in [
        "DROP TRIGGER trail_is_append_only_update",
        "UPDATE trail SET user_name = 'someone.else' WHERE seq = 2",
    ] {
        store.execute_unchecked(sql).await.unwrap();
    }

    let broken = store.verify_trail().await.unwrap().unwrap_err();

    assert_eq!(broken.seq, 2);
}
