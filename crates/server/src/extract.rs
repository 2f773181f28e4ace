//! Request extractors that answer in the node's error envelope, never the framework's.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header::AUTHORIZATION, request::Parts},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_protocol::{
    PARTY_HEADER, PartyId, SIGNATURE_HEADER, TIME_HEADER, Timestamp, parse_strict,
    read_request_message,
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

/// Proof that the request carried a valid API token of this node.
pub struct User;

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send the node's API token as `Authorization: Bearer <token>` (it is in the node home's api-token file)",
            )
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        if state.node.store().token_exists(&token_hash(token)).await? {
            Ok(User)
        } else {
            Err(unauthorized())
        }
    }
}

/// Who is reading the log: a user or auditor of this node (API token), or a partner node
/// (a request signed with its pinned key; see `detente_protocol::read_request_message`).
pub enum Reader {
    /// Holder of one of this node's API tokens.
    User,
    /// A partner node.
    Partner(PartyId),
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(AUTHORIZATION) {
            return User::from_request_parts(parts, state)
                .await
                .map(|_| Reader::User);
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let unauthorized = |why: &str| {
            ApiError::new(
                ErrorCode::Unauthorized,
                format!("{why}: send an API token, or sign the request as a partner node"),
            )
        };
        let (Some(party), Some(time), Some(sig)) = (
            header(PARTY_HEADER),
            header(TIME_HEADER),
            header(SIGNATURE_HEADER),
        ) else {
            return Err(unauthorized("no credentials"));
        };
        let party = PartyId::parse(party).map_err(|_| unauthorized("bad party header"))?;
        let time = Timestamp::parse(time).map_err(|_| unauthorized("bad time header"))?;
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
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let message = read_request_message(&party, time, path);
        let keys = node
            .agreement()
            .party(&party)
            .filter(|p| &p.id != node.party())
            .map(|p| p.public_keys.as_slice())
            .unwrap_or_default();
        if keys.iter().any(|k| k.verify(&message, &sig).is_ok()) {
            Ok(Reader::Partner(party))
        } else {
            Err(unauthorized(
                "the signature does not verify under a partner's pinned key",
            ))
        }
    }
}

impl std::fmt::Display for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User => f.write_str("user"),
            Self::Partner(p) => write!(f, "partner {p}"),
        }
    }
}

/// How API tokens are stored: SHA-256, hex. Tokens are 256-bit random, so no salt is needed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
