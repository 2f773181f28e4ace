//! Request extractors that answer in the node's error envelope, never the framework's.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header::AUTHORIZATION, request::Parts},
};
use detente_protocol::parse_strict;
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

/// How API tokens are stored: SHA-256, hex. Tokens are 256-bit random, so no salt is needed.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
