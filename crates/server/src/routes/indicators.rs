//! `GET /api/v1/indicators`: stored STIX objects for this node's users (API token) and for
//! partner nodes (signed reads), TLP-filtered for whoever reads; the same query, filter and
//! opaque `next` cursors as TAXII, in the API's JSON and error shapes.

use axum::{
    Json,
    extract::{Query, State},
};
use detente_store::{ObjectQuery, Versions};
use serde::Deserialize;
use serde_json::{Value, json};

use detente_people::Action;

use crate::{
    error::{ApiError, ErrorCode},
    extract::Reader,
    indicators::{Audience, Cursors, read_as},
    router::AppState,
};

/// Query of the indicator list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorQuery {
    /// Only objects of this type.
    #[serde(rename = "type")]
    object_type: Option<String>,
    /// Only this collection.
    collection: Option<String>,
    /// At most this many (1-1000, default 100).
    limit: Option<usize>,
    /// The previous page's `next`.
    next: Option<String>,
}

/// The newest version of each object the reader may see, one page.
pub async fn list_indicators(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<IndicatorQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidMessage,
            "limit must be between 1 and 1000",
        ));
    }
    let audience = match &reader {
        Reader::User(u) => {
            u.require(Action::ReadIndicators)?;
            Audience::Local
        }
        Reader::Partner(p) => Audience::Party(p.clone()),
    };
    // A cursor opens only for the reader it was made for.
    let key = audience.key();
    let cursors = Cursors::of(&state.node);
    let after = match &q.next {
        Some(n) => Some(cursors.open(&key, n).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidMessage,
                "next is not a value this node gave you: start again without it",
            )
        })?),
        None => None,
    };
    let who = read_as(&state.config, Some(state.node.agreement()), &audience);
    let query = ObjectQuery {
        collection: q.collection,
        types: q.object_type.into_iter().collect(),
        after,
        versions: Versions::Last,
        limit,
        ..ObjectQuery::default()
    };
    let page = state.node.store().stix_objects(&query, &who).await?;
    if let Reader::User(user) = &reader {
        crate::trail::record_object_reads(&state, user, &page.objects).await?;
    }
    let objects = page
        .objects
        .iter()
        .map(|o| serde_json::from_str(&o.body))
        .collect::<Result<Vec<Value>, _>>()
        .map_err(|e| detente_store::StoreError::Corrupt(e.to_string()))?;
    let next = page.next.map(|seq| cursors.seal(&key, seq));
    Ok(Json(json!({"objects": objects, "next": next})))
}
