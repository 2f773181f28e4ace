//! `/api/v1/session`: signing in with a password (and a TOTP code, required for
//! administrators), who is signed in, and signing out.
//!
//! A session is a random id in an HTTP-only, `SameSite=Strict` cookie (`Secure` over HTTPS),
//! stored server-side by its SHA-256 so it can be revoked, with a CSRF token the client must
//! send back in `x-csrf-token` on every request that changes anything. After five failed
//! attempts each further one waits twice as long (up to an hour); an unknown user costs the
//! same Argon2 run as a known one, so timing does not tell which names exist. Passwords and
//! codes are never logged.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header::SET_COOKIE},
    response::{IntoResponse, Response},
};
use cookie::{Cookie, SameSite};
use detente_people::{Password, PasswordHash, Role, Secret, UserName, token::Kind};
use detente_protocol::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{
    error::{ApiError, ErrorCode},
    extract::{SESSION_COOKIE, StrictJson, User},
    node::{NodeError, now},
    router::AppState,
};

/// How long a session lasts, at most, from sign-in: one working shift.
const SESSION_HOURS: i64 = 12;

/// A sign-in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    user: String,
    password: String,
    /// The current TOTP code, for users who have a second factor (every administrator).
    #[serde(default)]
    totp: Option<String>,
}

/// Who is signed in.
#[derive(Serialize)]
pub struct SessionView {
    user: Option<String>,
    agency: Option<String>,
    roles: Vec<&'static str>,
    /// The token to send back in `x-csrf-token`; only when a session was just made.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Timestamp>,
}

/// A failure inside the node: logged with an id, only the id goes out.
fn internal(e: impl std::fmt::Display) -> ApiError {
    NodeError::internal(e.to_string()).into()
}

fn refused() -> ApiError {
    // One answer for an unknown user, a wrong password and a disabled user: which of them it
    // was would help a guesser.
    ApiError::new(
        ErrorCode::Unauthorized,
        "wrong user name or password (or the user is disabled)",
    )
}

/// `POST /api/v1/session`: signs in; sets the session cookie and returns the CSRF token.
pub async fn sign_in(
    State(state): State<AppState>,
    StrictJson(form): StrictJson<SignIn>,
) -> Result<Response, ApiError> {
    let store = state.node.store();
    let at = now();
    let secs = u64::try_from(at.unix_millis() / 1000).unwrap_or(0);
    let name = UserName::parse(&form.user).ok();
    let user = match &name {
        Some(n) => store.user(n).await?,
        None => None,
    };
    if let Some(until) = user.as_ref().and_then(|u| u.lockout.locked_until(secs)) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "too many failed sign-ins for this user; try again in {} s",
                until - secs
            ),
        ));
    }
    let password = Password::given(form.password).map_err(|_| refused())?;
    let stored = user.as_ref().and_then(|u| u.password.clone());
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => hash.verify(&password),
        None => {
            // The same work for an unknown user (or one without a password).
            let _ = dummy_hash().verify(&password);
            false
        }
    })
    .await
    .map_err(|e| internal(format!("password check: {e}")))?;
    let (Some(user), Some(name)) = (user, name) else {
        return Err(refused());
    };
    let totp_step = match (&user.totp, matches) {
        (_, false) => None,
        (Some(secret), true) => {
            let code = form.totp.as_deref().unwrap_or_default();
            match secret.check(code, secs, user.totp_last_step) {
                Some(step) => Some(step),
                None => {
                    record_failure(&state, &name, at).await?;
                    return Err(ApiError::new(
                        ErrorCode::Unauthorized,
                        "the TOTP code is missing, wrong, expired or already used",
                    ));
                }
            }
        }
        (None, true) if user.roles.has(Role::Admin) => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "an administrator signs in with a second factor: set one up with `detente user totp`",
            ));
        }
        (None, true) => None,
    };
    if !matches || user.disabled_at.is_some() {
        if !matches {
            record_failure(&state, &name, at).await?;
        }
        return Err(refused());
    }
    let session = Secret::generate(Kind::Session);
    let csrf = Secret::generate(Kind::Csrf);
    let expires_at = Timestamp::from_unix_millis(at.unix_millis() + SESSION_HOURS * 3_600_000)
        .map_err(internal)?;
    let mut tx = store.write().await?;
    tx.sign_in_succeeded(&name, totp_step).await?;
    tx.add_session(session.hash(), &name, csrf.hash(), at, expires_at)
        .await?;
    tx.commit().await?;
    tracing::info!(user = %name, "signed in");
    let cookie = Cookie::build((SESSION_COOKIE, session.expose().to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(!state.config.federation.allow_plain_http)
        .path("/")
        .max_age(cookie::time::Duration::hours(SESSION_HOURS))
        .build();
    let view = SessionView {
        user: Some(name.to_string()),
        agency: Some(user.agency.to_string()),
        roles: user.roles.iter().map(Role::as_str).collect(),
        csrf_token: Some(csrf.expose().to_owned()),
        expires_at: Some(expires_at),
    };
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).map_err(internal)?,
    );
    Ok(response)
}

async fn record_failure(state: &AppState, name: &UserName, at: Timestamp) -> Result<(), ApiError> {
    let mut tx = state.node.store().write().await?;
    tx.sign_in_failed(name, at).await?;
    tx.commit().await?;
    tracing::warn!(user = %name, "failed sign-in");
    Ok(())
}

/// A valid Argon2id hash of nothing anyone knows, verified against for unknown users so that
/// they cost the same time as known ones.
fn dummy_hash() -> PasswordHash {
    static HASH: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        Password::given(Secret::generate(Kind::Csrf).expose().to_owned())
            .expect("a random secret is a valid password")
            .hash()
    })
    .clone()
}

/// `GET /api/v1/session`: who the request's credentials speak for.
pub async fn who_am_i(user: User) -> Json<SessionView> {
    Json(SessionView {
        user: user.name.as_ref().map(ToString::to_string),
        agency: user.agency.as_ref().map(ToString::to_string),
        roles: user.roles.iter().map(Role::as_str).collect(),
        csrf_token: None,
        expires_at: None,
    })
}

/// `DELETE /api/v1/session`: signs out (ends the session of the cookie sent) and clears the
/// cookie.
pub async fn sign_out(
    user: User,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(session) = crate::extract::session_secret(&headers) else {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "no session to end: sign-out is for a browser session (an API token is revoked with `detente user revoke`)",
        ));
    };
    let mut tx = state.node.store().write().await?;
    tx.revoke_session(session.hash(), now()).await?;
    tx.commit().await?;
    state.auth.forget(&session.hash());
    tracing::info!(user = %user.who(), "signed out");
    let gone = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&gone.to_string()).map_err(internal)?,
    );
    Ok(response)
}
