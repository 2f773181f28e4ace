//! Request extractors that answer in the node's error envelope, never the framework's.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, FromRequestParts, Request, State},
    http::{header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_people::{
    Action, AgencyId, Role, Roles, Scope, Secret, SecretHash, UserName, grant, token::Kind,
};
use detente_protocol::{
    CaseId, NONCE_HEADER, PARTY_HEADER, PartyId, RequestLine, SIGNATURE_HEADER, TIME_HEADER,
    Timestamp, is_nonce, parse_strict,
};
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::{
    error::{ApiError, ErrorCode},
    router::AppState,
};

/// A JSON body parsed strictly (duplicate keys refused) into `T`.
pub struct StrictJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than this node accepts",
                )
            } else {
                ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("cannot read the request body: {e}"),
                )
            }
        })?;
        let value = parse_strict(&bytes, usize::MAX)?;
        serde_json::from_value(value)
            .map(StrictJson)
            .map_err(|e| ApiError::new(ErrorCode::InvalidMessage, e.to_string()))
    }
}

/// A user of this node, authenticated by an API token: a user's own (`dtk_...`, made by
/// `detente user token`), or the node's token from the home's `api-token` file, which acts as
/// an administrator of no agency (set-ups from before users keep working).
#[derive(Debug, Clone)]
pub struct User {
    /// The user; `None` for the node's token.
    pub name: Option<UserName>,
    /// The agency the user acts for; `None` for the node's token.
    pub agency: Option<AgencyId>,
    /// The roles this request may use: a token's scopes within its user's roles.
    pub roles: Roles,
}

impl User {
    /// The node's own token: an administrator of no agency.
    fn node_token() -> Self {
        Self {
            name: None,
            agency: None,
            roles: Roles::of(&[Role::Admin]),
        }
    }

    /// Who the user is, for messages and the trail.
    pub fn who(&self) -> String {
        self.name
            .as_ref()
            .map_or_else(|| "the node's token".to_owned(), |n| n.to_string())
    }

    /// How far the user may take `action` (the one permission table,
    /// [`detente_people::permission`]); `forbidden`, naming the permission, if not at all.
    pub fn require(&self, action: Action) -> Result<Scope, ApiError> {
        grant(self.roles, action).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "this needs the permission to {}, which the roles of {} ({}) do not give",
                    action.describe(),
                    self.who(),
                    if self.roles == Roles::NONE {
                        "none".to_owned()
                    } else {
                        self.roles.to_string()
                    }
                ),
            )
        })
    }

    /// Whether the user may take `action` on a case routed to `agency`.
    pub fn require_case(
        &self,
        action: Action,
        case: &CaseId,
        agency: Option<&AgencyId>,
    ) -> Result<(), ApiError> {
        match self.require(action)? {
            Scope::All => Ok(()),
            Scope::OwnAgency if agency.is_some() && agency == self.agency.as_ref() => Ok(()),
            Scope::OwnAgency => Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "case {case} is with {}; {} may {} only for the cases of {}",
                    agency.map_or_else(|| "no agency".to_owned(), |a| format!("agency {a}")),
                    self.who(),
                    action.describe(),
                    self.agency
                        .as_ref()
                        .map_or_else(|| "their agency".to_owned(), |a| format!("agency {a}")),
                ),
            )),
        }
    }

    /// The agency a case list is narrowed to for `action`: none when the user may see all.
    pub fn case_filter(&self, action: Action) -> Result<Option<String>, ApiError> {
        Ok(match self.require(action)? {
            Scope::All => None,
            // A user of no agency with an own-agency grant sees no case: the filter names an
            // agency no case is routed to.
            Scope::OwnAgency => Some(
                self.agency
                    .as_ref()
                    .map_or_else(String::new, |a| a.to_string()),
            ),
        })
    }
}

/// Bearer secrets checked in the last second, so that a signed-in request costs a hash and a
/// map lookup rather than a database round trip each time (issue 13 asks that it cost at most
/// 1.2x an anonymous one). Only successes are kept, for at most [`AUTH_CACHE_TTL`]: a token
/// revoked or a user disabled from another process (the CLI) stops working within that
/// second; a session ended here (sign-out) is dropped at once.
#[derive(Debug, Default)]
pub struct AuthCache {
    entries: std::sync::Mutex<HashMap<SecretHash, Checked>>,
}

/// A secret that checked out: whom it speaks for, its session's CSRF hash, and when.
type Checked = (User, Option<SecretHash>, std::time::Instant);

/// How long a checked secret is trusted without asking the database again.
const AUTH_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);
/// Most secrets kept; past it the cache starts again empty (a flood of valid secrets is
/// bounded by the rate limit, so this is rare).
const AUTH_CACHE_MAX: usize = 10_000;

impl AuthCache {
    fn get(&self, key: &SecretHash) -> Option<(User, Option<SecretHash>)> {
        let entries = self.entries.lock().expect("never poisoned");
        entries
            .get(key)
            .filter(|(_, _, at)| at.elapsed() < AUTH_CACHE_TTL)
            .map(|(u, csrf, _)| (u.clone(), *csrf))
    }

    fn put(&self, key: SecretHash, user: &User, csrf: Option<SecretHash>) {
        let mut entries = self.entries.lock().expect("never poisoned");
        if entries.len() >= AUTH_CACHE_MAX {
            entries.clear();
        }
        entries.insert(key, (user.clone(), csrf, std::time::Instant::now()));
    }

    /// Forgets `key` (a session just ended).
    pub fn forget(&self, key: &SecretHash) {
        self.entries.lock().expect("never poisoned").remove(key);
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send an API token as `Authorization: Bearer <token>`: your own (`detente user token`), or the node's (the home's api-token file)",
            )
        };
        let store = state.node.store();
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let token = match (bearer, session_secret(&parts.headers)) {
            (Some(token), _) => token,
            (None, Some(session)) => return session_user(parts, state, &session).await,
            (None, None) => return Err(unauthorized()),
        };
        let key = SecretHash::of(token);
        if let Some((user, _)) = state.auth.get(&key) {
            return Ok(user);
        }
        let user = if token.starts_with("dtk_") {
            // A user's token: one SHA-256 and one indexed lookup, which also refuses a
            // revoked or expired token and a disabled user.
            let secret = Secret::parse(Kind::ApiToken, token).map_err(|_| unauthorized())?;
            let bearer = store
                .token_bearer(secret.hash(), crate::node::now())
                .await?
                .ok_or_else(unauthorized)?;
            Self {
                name: Some(bearer.user.name),
                agency: Some(bearer.user.agency),
                roles: bearer.roles,
            }
        } else if store.token_exists(&token_hash(token)).await? {
            Self::node_token()
        } else {
            return Err(unauthorized());
        };
        state.auth.put(key, &user, None);
        Ok(user)
    }
}

/// Who is reading the log: a user or auditor of this node (API token), or a partner node
/// (a request signed with its pinned key, checked by [`verify_partner_request`]).
pub enum Reader {
    /// A user of this node.
    User(User),
    /// A partner node.
    Partner(PartyId),
}

/// The cookie holding a browser session's id.
pub const SESSION_COOKIE: &str = "detente_session";
/// The header a browser session sends its CSRF token in, on every request that changes
/// anything.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session id in the request's cookies, if one of the right shape is there.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<Secret> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .and_then(|c| Secret::parse(Kind::Session, c.value()).ok())
}

/// The user of a browser session. A request that can change anything must carry the
/// session's CSRF token: a cookie alone is sent by the browser whoever made the page that
/// sends it (`SameSite=Strict` already stops other sites; this stops what slips past it).
async fn session_user(parts: &Parts, state: &AppState, session: &Secret) -> Result<User, ApiError> {
    let key = session.hash();
    let (user, csrf) = match state.auth.get(&key) {
        Some(hit) => hit,
        None => {
            let bearer = state
                .node
                .store()
                .session_bearer(key, crate::node::now())
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Unauthorized,
                        "the session has ended (signed out, expired, or the user was disabled or changed password): sign in again",
                    )
                })?;
            let user = User {
                name: Some(bearer.user.name),
                agency: Some(bearer.user.agency),
                roles: bearer.roles,
            };
            state.auth.put(key, &user, bearer.csrf);
            (user, bearer.csrf)
        }
    };
    if !parts.method.is_safe() {
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Secret::parse(Kind::Csrf, v).ok());
        if given.map(|g| g.hash()) != csrf {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "a change made in a browser session needs the session's CSRF token in {CSRF_HEADER}"
                ),
            ));
        }
    }
    Ok(user)
}

impl Reader {
    /// For a user, whether their roles allow `action`; a partner's reads are governed by the
    /// federation's own rules (its exchanges only), not by roles.
    pub fn require_user(&self, action: Action) -> Result<(), ApiError> {
        match self {
            Self::User(u) => u.require(action).map(|_| ()),
            Self::Partner(_) => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION) || session_secret(&parts.headers).is_some() {
            return User::from_request_parts(parts, state)
                .await
                .map(Reader::User);
        }
        match parts.extensions.get::<VerifiedPartner>() {
            Some(VerifiedPartner(party)) => Ok(Reader::Partner(party.clone())),
            None => Err(ApiError::new(
                ErrorCode::Unauthorized,
                "no credentials: send an API token, or sign the request as a partner node",
            )),
        }
    }
}

/// A partner node whose signed request checked out; set by [`verify_partner_request`] only.
#[derive(Debug, Clone)]
pub struct VerifiedPartner(pub PartyId);

/// Nonces of signed requests seen within the clock skew, per party: a request is good once.
#[derive(Debug, Default)]
pub struct Replays {
    seen: std::sync::Mutex<HashMap<(PartyId, String), Timestamp>>,
}

/// Most nonces kept at once. Only partners with valid signatures add any, so this bounds
/// what a partner's own bug (or a flood it signs) can cost the node's memory.
const MAX_NONCES: usize = 1_000_000;

impl Replays {
    /// Records `nonce` of `party` as used until `until`; `false` if it was used already.
    fn first_use(
        &self,
        party: &PartyId,
        nonce: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, ApiError> {
        let mut seen = self.seen.lock().expect("never poisoned");
        if seen.len() >= MAX_NONCES / 2 {
            seen.retain(|_, expiry| *expiry > now);
        }
        if seen.len() >= MAX_NONCES {
            return Err(ApiError::new(
                ErrorCode::RateLimited,
                "too many signed requests within the clock skew; retry later",
            ));
        }
        let key = (party.clone(), nonce.to_owned());
        match seen.get(&key) {
            Some(expiry) if *expiry > now => Ok(false),
            _ => {
                seen.insert(key, until);
                Ok(true)
            }
        }
    }
}

/// Checks a request signed by a partner node (see `detente_protocol::RequestLine`): the
/// signature covers the method, path, query and body, the time is within the agreed skew,
/// and the nonce is new. A good one goes on with a [`VerifiedPartner`] extension; a bad one
/// is refused here, before any handler. Requests without a signature pass untouched.
pub async fn verify_partner_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !request.headers().contains_key(SIGNATURE_HEADER) {
        return next.run(request).await;
    }
    match check_signed_request(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => {
            tracing::warn!(code = %e.code, reason = %e.message, "refused a signed partner request");
            e.into_response()
        }
    }
}

async fn check_signed_request(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let unauthorized = |why: &str| {
        ApiError::new(
            ErrorCode::Unauthorized,
            format!(
                "{why}: sign the request as a partner node (see the README), or send an API token"
            ),
        )
    };
    let (mut parts, body) = request.into_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(party), Some(time), Some(nonce), Some(sig)) = (
        header(PARTY_HEADER),
        header(TIME_HEADER),
        header(NONCE_HEADER),
        header(SIGNATURE_HEADER),
    ) else {
        return Err(unauthorized(
            "a signed request needs the party, time, nonce and signature headers",
        ));
    };
    let party = PartyId::parse(party).map_err(|_| unauthorized("bad party header"))?;
    let time = Timestamp::parse(time).map_err(|_| unauthorized("bad time header"))?;
    if !is_nonce(nonce) {
        return Err(unauthorized("bad nonce header"));
    }
    let nonce = nonce.to_owned();
    let sig: [u8; 64] = STANDARD
        .decode(sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| unauthorized("bad signature header"))?;
    let node = &state.node;
    let skew = node.agreement().terms.clock_skew.duration();
    let now = crate::node::now();
    if time > now.add(skew) || time.add(skew) < now {
        return Err(unauthorized(
            "request time is outside the agreed clock skew",
        ));
    }
    let keys = node
        .agreement()
        .party(&party)
        .filter(|p| &p.id != node.party())
        .map(|p| p.public_keys.as_slice())
        .unwrap_or_default();
    if keys.is_empty() {
        return Err(unauthorized(
            "the party is not a partner under this node's agreement",
        ));
    }
    let body = axum::body::to_bytes(body, state.config.limits.max_body_bytes)
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the request body is larger than this node accepts",
            )
        })?;
    let line = RequestLine {
        party: &party,
        time,
        nonce: &nonce,
        method: parts.method.as_str(),
        path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
        body: &body,
    };
    let message = line.message();
    if !keys.iter().any(|k| k.verify(&message, &sig).is_ok()) {
        return Err(unauthorized(
            "the signature does not verify under a partner's pinned key",
        ));
    }
    if !state
        .replays
        .first_use(&party, &nonce, time.add(skew), now)?
    {
        return Err(unauthorized(
            "this signed request was already used (replay)",
        ));
    }
    parts.extensions.insert(VerifiedPartner(party));
    Ok(Request::from_parts(parts, Body::from(body)))
}

impl std::fmt::Display for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(u) => write!(f, "user {}", u.who()),
            Self::Partner(p) => write!(f, "partner {p}"),
        }
    }
}

/// How API tokens are stored: SHA-256, hex. Tokens are 256-bit random, so no salt is needed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
