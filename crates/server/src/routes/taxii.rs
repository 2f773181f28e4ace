//! TAXII 2.1 (OASIS, 2021): the node serves its STIX objects to partners' TAXII clients.
//!
//! Endpoints (spec section in brackets): discovery `/taxii2/` (§4.1), the API root
//! `/taxii2/detente/` (§4.2), status (§4.3), collections (§5.1, §5.2), manifest (§5.3),
//! objects GET and POST (§5.4, §5.5), one object (§5.6) and its versions (§5.8). Responses use
//! `application/taxii+json;version=2.1` (§1.6.8); errors are TAXII error messages (§3.6.1).
//!
//! Readers authenticate with HTTP Basic (TAXII users of `[indicators.taxii_users]`, each
//! reading for one partner party), with this node's API token (`Bearer`, a local user), or as
//! a partner node signing the request. Every object read goes through the store's TLP filter
//! for that reader; a collection's audience decides who sees the collection at all.
//!
//! Paging (§3.4): `limit` (at most [`MAX_PAGE`]) and `next`, an opaque cursor for that reader
//! ([`Cursors`]: it reveals nothing about objects the reader is not shown), with
//! `added_after` for incremental pulls; `date_added` of the first and last object in
//! `X-TAXII-Date-Added-First/Last` (§3.3.1). Each endpoint takes the URL parameters §3.5
//! lists for it and refuses any other with 400. Objects are never deleted here (the log and
//! the partners' copies keep them): DELETE (§5.7) is answered with a TAXII error.

use axum::{
    body::Bytes,
    extract::{
        FromRequestParts, Path, Query, State,
        rejection::{BytesRejection, QueryRejection},
    },
    http::{
        HeaderMap, HeaderName, HeaderValue, StatusCode,
        header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE},
        request::Parts,
    },
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use detente_stix::{FileReport, ImportOptions, Importer, Timestamp};
use detente_store::{Collection, ObjectPage, ObjectQuery, ShareContext, StoredObject, Versions};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use detente_people::Action;

use crate::{
    error::{ApiError, ErrorCode},
    extract::{Reader, User},
    indicators::{Audience, Cursors, read_as},
    router::AppState,
};

/// The TAXII 2.1 media type (§1.6.8).
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type, for manifests.
const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The one API root's path.
pub const API_ROOT: &str = "/taxii2/detente/";
/// Most objects one page carries.
pub const MAX_PAGE: usize = 1000;
/// Objects per page when the client gives no `limit`.
const DEFAULT_PAGE: usize = 100;

/// A TAXII error message (§3.6.1), sent with its HTTP status.
#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            title,
            description: description.into(),
        }
    }

    fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", what)
    }

    fn bad_request(what: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", what)
    }
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> Self {
        let title = match e.code {
            ErrorCode::Unauthorized | ErrorCode::BadSignature => "Unauthorized",
            ErrorCode::PayloadTooLarge => "Payload too large",
            ErrorCode::MalformedJson | ErrorCode::InvalidMessage => "Bad request",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::NotFound => "Not found",
            _ => "Server error",
        };
        Self::new(e.code.status(), title, e.message)
    }
}

impl From<detente_store::StoreError> for TaxiiError {
    fn from(e: detente_store::StoreError) -> Self {
        // Logged with an id by ApiError; the client sees the id only.
        ApiError::from(e).into()
    }
}

impl From<QueryRejection> for TaxiiError {
    fn from(e: QueryRejection) -> Self {
        TaxiiError::bad_request(format!("unreadable query string: {e}"))
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut r = taxii(self.status, body.to_string());
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"detente TAXII\""),
            );
        }
        r
    }
}

fn taxii(status: StatusCode, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(TAXII_MEDIA_TYPE))],
        body,
    )
        .into_response()
}

/// A TAXII reader: whom reads are filtered for, and a key for the status resources it owns.
pub struct TaxiiReader {
    audience: Audience,
    key: String,
    /// The node's user reading, if it is one (their reads of RED objects go to the trail).
    user: Option<User>,
}

impl FromRequestParts<AppState> for TaxiiReader {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, TaxiiError> {
        check_accept(&parts.headers)?;
        let auth = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Some(basic) = auth.and_then(|a| a.strip_prefix("Basic ")) {
            return basic_user(basic, state);
        }
        let (audience, user) = match Reader::from_request_parts(parts, state).await? {
            Reader::User(u) => {
                u.require(Action::ReadIndicators)?;
                (Audience::Local, Some(u))
            }
            Reader::Partner(p) => (Audience::Party(p), None),
        };
        Ok(Self {
            key: audience.key(),
            audience,
            user,
        })
    }
}

fn basic_user(credentials: &str, state: &AppState) -> Result<TaxiiReader, TaxiiError> {
    let unauthorized = || {
        TaxiiError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "unknown TAXII user or wrong password",
        )
    };
    let decoded = STANDARD.decode(credentials).map_err(|_| unauthorized())?;
    let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
    let (user, password) = text.split_once(':').ok_or_else(unauthorized)?;
    let known = state
        .config
        .indicators
        .taxii_users
        .get(user)
        .ok_or_else(unauthorized)?;
    let hash = hex::encode(Sha256::digest(password.as_bytes()));
    // Compare hashes of random 256-bit passwords: timing reveals nothing about the password.
    if hash != known.password_sha256 {
        return Err(unauthorized());
    }
    if &known.party == state.node.party() {
        // Such a user would read as this node's own party, a named recipient of everything
        // the node holds (`indicators user-add` refuses to make one; a hand-edited config can).
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "TAXII user {user} is set to read for this node's own party {}; TAXII users \
                 read for partner parties only",
                known.party
            ),
        ));
    }
    Ok(TaxiiReader {
        key: format!("user:{user}"),
        audience: Audience::Party(known.party.clone()),
        user: None,
    })
}

/// §1.6.8: a server answers 406 when it cannot produce a type the client accepts.
fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let mut accepted = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .peekable();
    if accepted.peek().is_none() {
        return Ok(());
    }
    let ok = accepted.any(|t| {
        let essence = t
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        is_taxii_2_1(t) || ["*/*", "application/*", "application/json"].contains(&essence.as_str())
    });
    if ok {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server speaks {TAXII_MEDIA_TYPE}"),
        ))
    }
}

/// Whether `media_type` is `application/taxii+json` of version 2.1 (or of no version, which
/// means the latest, §1.6.8), whatever the case, spacing or quoting of its parameters.
fn is_taxii_2_1(media_type: &str) -> bool {
    let mut parts = media_type.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/taxii+json")
        && parts.all(|p| match p.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("version") => {
                v.trim().trim_matches('"') == "2.1"
            }
            _ => true,
        })
}

/// Discovery (§4.1).
pub async fn get_discovery(
    _reader: TaxiiReader,
    State(state): State<AppState>,
) -> Result<Response, TaxiiError> {
    let party = state.node.party();
    let body = json!({
        "title": format!("detente node {party}"),
        "description": "STIX 2.1 indicators shared under the node's agreement",
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    });
    Ok(taxii(StatusCode::OK, body.to_string()))
}

/// The API root (§4.2).
pub async fn get_api_root(
    _reader: TaxiiReader,
    State(state): State<AppState>,
) -> Result<Response, TaxiiError> {
    let body = json!({
        "title": format!("detente {}", state.node.party()),
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": state.config.limits.max_body_bytes,
    });
    Ok(taxii(StatusCode::OK, body.to_string()))
}

fn collection_json(c: &Collection, can_write: bool) -> Value {
    let mut body = json!({
        "id": c.id,
        "title": c.title,
        "can_read": true,
        "can_write": can_write,
        "media_types": [STIX_MEDIA_TYPE],
    });
    // §5.2: an optional property is left out, never null.
    if let Some(d) = &c.description {
        body["description"] = json!(d);
    }
    body
}

/// Whether `reader` may see collection `c` at all, and whether it may add to it.
fn standing(reader: &TaxiiReader, c: &Collection) -> Option<bool> {
    match (&reader.audience, &c.audience) {
        (Audience::Local, _) => Some(c.can_write),
        (Audience::Party(_), None) => Some(c.can_write),
        (Audience::Party(p), Some(a)) if p.as_str() == a => Some(c.can_write),
        _ => None,
    }
}

/// The collection `id`, if `reader` may see it; 404 otherwise (not 403: its existence is not
/// the reader's business).
async fn visible(
    state: &AppState,
    reader: &TaxiiReader,
    id: &str,
) -> Result<(Collection, bool), TaxiiError> {
    let c = state.node.store().collection(id).await?;
    c.and_then(|c| standing(reader, &c).map(|w| (c, w)))
        .ok_or_else(|| TaxiiError::not_found(format!("no collection {id}")))
}

/// Collections (§5.1).
pub async fn list_collections(
    reader: TaxiiReader,
    State(state): State<AppState>,
) -> Result<Response, TaxiiError> {
    let all = state.node.store().collections().await?;
    let shown: Vec<Value> = all
        .iter()
        .filter_map(|c| standing(&reader, c).map(|w| collection_json(c, w)))
        .collect();
    let body = if shown.is_empty() {
        json!({})
    } else {
        json!({ "collections": shown })
    };
    Ok(taxii(StatusCode::OK, body.to_string()))
}

/// One collection (§5.2).
pub async fn get_collection(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    let (c, w) = visible(&state, &reader, &id).await?;
    Ok(taxii(StatusCode::OK, collection_json(&c, w).to_string()))
}

/// The URL parameters each endpoint takes (§3.5, table 3.5 and each endpoint's section).
const OBJECTS_PARAMS: &[&str] = &[
    "added_after",
    "limit",
    "next",
    "match[id]",
    "match[type]",
    "match[version]",
    "match[spec_version]",
];
const OBJECT_PARAMS: &[&str] = &[
    "added_after",
    "limit",
    "next",
    "match[version]",
    "match[spec_version]",
];
const VERSIONS_PARAMS: &[&str] = &["added_after", "limit", "next", "match[spec_version]"];
const DELETE_PARAMS: &[&str] = &["match[version]", "match[spec_version]"];

/// Refuses any parameter outside `allowed` (a filter silently ignored would hand a client
/// more than it asked for).
fn only(params: &[(String, String)], allowed: &[&str]) -> Result<(), TaxiiError> {
    match params.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(not_taken(k, allowed)),
        None => Ok(()),
    }
}

fn not_taken(parameter: &str, allowed: &[&str]) -> TaxiiError {
    TaxiiError::bad_request(format!(
        "this endpoint does not take {parameter}; it takes {}",
        allowed.join(", ")
    ))
}

/// The filter parameters of §3.4 and §3.5, as sent, for `reader`; any parameter outside
/// `allowed` is refused.
fn object_query(
    state: &AppState,
    reader: &TaxiiReader,
    collection: String,
    params: &[(String, String)],
    allowed: &[&str],
    id: Option<String>,
) -> Result<ObjectQuery, TaxiiError> {
    only(params, allowed)?;
    let mut q = ObjectQuery {
        collection: Some(collection),
        limit: DEFAULT_PAGE,
        ids: id.into_iter().collect(),
        ..ObjectQuery::default()
    };
    let list = |v: &str| v.split(',').map(str::to_owned).collect::<Vec<_>>();
    for (k, v) in params {
        match k.as_str() {
            "added_after" => {
                let t = Timestamp::parse(v).map_err(|e| {
                    TaxiiError::bad_request(format!("added_after is not a timestamp: {e:?}"))
                })?;
                q.added_after = Some(t.unix_micros());
            }
            "limit" => {
                let n: usize = v.parse().map_err(|_| {
                    TaxiiError::bad_request("limit must be a positive whole number")
                })?;
                q.limit = n.clamp(1, MAX_PAGE);
            }
            "next" => {
                q.after = Some(
                    Cursors::of(&state.node)
                        .open(&reader.key, v)
                        .ok_or_else(|| {
                            TaxiiError::bad_request(
                                "next is not a value this server gave you: start again without it",
                            )
                        })?,
                );
            }
            "match[id]" => q.ids.extend(list(v)),
            "match[type]" => q.types.extend(list(v)),
            "match[spec_version]" => q.spec_versions.extend(list(v)),
            "match[version]" => q.versions = versions(v)?,
            other => return Err(not_taken(other, allowed)),
        }
    }
    Ok(q)
}

fn versions(v: &str) -> Result<Versions, TaxiiError> {
    let mut at = Vec::new();
    for part in v.split(',') {
        match part {
            "all" => return Ok(Versions::All),
            "last" => return Ok(Versions::Last),
            "first" => return Ok(Versions::First),
            t => at.push(
                Timestamp::parse(t)
                    .map_err(|_| {
                        TaxiiError::bad_request(format!(
                            "match[version] takes last, first, all or timestamps, not {t:?}"
                        ))
                    })?
                    .unix_micros(),
            ),
        }
    }
    Ok(Versions::At(at))
}

fn date_added(us: i64) -> String {
    Timestamp::from_unix_micros(us).map_or_else(String::new, |t| t.to_string())
}

/// A page response with the date-added headers (§3.3.1).
fn paged(page: &ObjectPage, body: String) -> Response {
    let mut r = taxii(StatusCode::OK, body);
    if let (Some(first), Some(last)) = (page.objects.first(), page.objects.last()) {
        for (name, us) in [
            ("x-taxii-date-added-first", first.date_added),
            ("x-taxii-date-added-last", last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(&date_added(us)) {
                r.headers_mut().insert(HeaderName::from_static(name), v);
            }
        }
    }
    r
}

/// A page read for a reader, with its `next` sealed for that reader.
struct Page {
    page: ObjectPage,
    next: Option<String>,
}

impl Page {
    /// `{"more": …, "next": …, <key>: …}`: the paging members every paged resource has.
    fn paging(&self) -> String {
        match &self.next {
            Some(n) => format!("{{\"more\":true,\"next\":{},", json!(n)),
            None => "{\"more\":false,".to_owned(),
        }
    }

    /// `{"more": …, "next": …, "objects": [...]}` around the stored JSON, without
    /// re-parsing it.
    fn envelope(&self) -> String {
        let objects = &self.page.objects;
        let mut out =
            String::with_capacity(128 + objects.iter().map(|o| o.body.len() + 1).sum::<usize>());
        out.push_str(&self.paging());
        out.push_str("\"objects\":[");
        for (i, o) in objects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&o.body);
        }
        out.push_str("]}");
        out
    }

    /// The paging members and `key`: `list`.
    fn with(&self, key: &str, list: &Value) -> String {
        format!("{}{}:{list}}}", self.paging(), json!(key))
    }

    /// The response: `body` with the date-added headers.
    fn respond(&self, body: String) -> Response {
        paged(&self.page, body)
    }
}

async fn read_page(
    state: &AppState,
    reader: &TaxiiReader,
    q: &ObjectQuery,
) -> Result<Page, TaxiiError> {
    let who = read_as(
        &state.config,
        Some(state.node.agreement()),
        &reader.audience,
    );
    let page = state.node.store().stix_objects(q, &who).await?;
    if let Some(user) = &reader.user {
        crate::trail::record_object_reads(state, user, &page.objects).await?;
    }
    let next = page
        .next
        .map(|seq| Cursors::of(&state.node).seal(&reader.key, seq));
    Ok(Page { page, next })
}

/// Objects (§5.4).
pub async fn get_objects(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path(collection): Path<String>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    visible(&state, &reader, &collection).await?;
    let q = object_query(&state, &reader, collection, &params?, OBJECTS_PARAMS, None)?;
    let page = read_page(&state, &reader, &q).await?;
    Ok(page.respond(page.envelope()))
}

/// One object's page, or 404 when the reader may see none of it (its first page only: a
/// later page may be empty).
async fn object_page(
    state: &AppState,
    reader: &TaxiiReader,
    q: &ObjectQuery,
    id: &str,
) -> Result<Page, TaxiiError> {
    let page = read_page(state, reader, q).await?;
    if page.page.objects.is_empty() && q.after.is_none() {
        return Err(TaxiiError::not_found(format!(
            "no object {id} in this collection"
        )));
    }
    Ok(page)
}

/// One object, its versions as filtered (§5.6).
pub async fn get_object(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    visible(&state, &reader, &collection).await?;
    let q = object_query(
        &state,
        &reader,
        collection,
        &params?,
        OBJECT_PARAMS,
        Some(id.clone()),
    )?;
    let page = object_page(&state, &reader, &q, &id).await?;
    Ok(page.respond(page.envelope()))
}

/// An object's versions (§5.8).
pub async fn get_object_versions(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path((collection, id)): Path<(String, String)>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    visible(&state, &reader, &collection).await?;
    let mut q = object_query(
        &state,
        &reader,
        collection,
        &params?,
        VERSIONS_PARAMS,
        Some(id.clone()),
    )?;
    q.versions = Versions::All;
    let page = object_page(&state, &reader, &q, &id).await?;
    let versions: Vec<String> = page.page.objects.iter().map(version_of).collect();
    Ok(page.respond(page.with("versions", &json!(versions))))
}

/// A version string: `modified`, or for unversioned observables the date added (§3.4.2).
fn version_of(o: &StoredObject) -> String {
    o.modified
        .clone()
        .unwrap_or_else(|| date_added(o.date_added))
}

/// The manifest (§5.3).
pub async fn get_manifest(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path(collection): Path<String>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    visible(&state, &reader, &collection).await?;
    let q = object_query(&state, &reader, collection, &params?, OBJECTS_PARAMS, None)?;
    let page = read_page(&state, &reader, &q).await?;
    let objects: Vec<Value> = page
        .page
        .objects
        .iter()
        .map(|o| {
            json!({"id": o.id, "date_added": date_added(o.date_added),
                   "version": version_of(o), "media_type": STIX_MEDIA_TYPE})
        })
        .collect();
    Ok(page.respond(page.with("objects", &json!(objects))))
}

/// Deleting an object (§5.7): refused in the TAXII error shape. Objects stay, as the log
/// and the partners' copies of them do; a newer version (`revoked`) is how one withdraws.
pub async fn delete_object(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path((collection, _id)): Path<(String, String)>,
    params: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, TaxiiError> {
    visible(&state, &reader, &collection).await?;
    only(&params?, DELETE_PARAMS)?;
    Err(TaxiiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "this server does not delete objects: add a new version with \"revoked\": true instead",
    ))
}

/// Adds objects (§5.5): validated like an import; the answer is a status resource (§4.3.1).
/// A body that is not a well-formed envelope stores nothing.
pub async fn add_objects(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path(collection): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, TaxiiError> {
    let (c, can_write) = visible(&state, &reader, &collection).await?;
    if !can_write {
        return Err(TaxiiError::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this collection is read-only for you",
        ));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_taxii_2_1(content_type) {
        // Stored as 2.1 it would be read as 2.1: a 2.0 envelope (or any other) is refused.
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send the envelope as {TAXII_MEDIA_TYPE}"),
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TaxiiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                "the envelope is larger than this API root's max_content_length",
            )
        } else {
            TaxiiError::bad_request(format!("cannot read the body: {e}"))
        }
    })?;
    let mut objects = Vec::new();
    let mut importer = Importer::new(ImportOptions::default());
    let report: FileReport = importer
        .read(&body[..], |o| {
            objects.push(o);
            std::ops::ControlFlow::Continue(())
        })
        .map_err(|e| TaxiiError::bad_request(format!("not a TAXII envelope: {e}")))?;
    let own = state.node.party().to_string();
    let share = match &reader.audience {
        Audience::Party(p) => ShareContext {
            origin: p.to_string(),
            audience: None,
            recipients: vec![own],
        },
        _ => ShareContext {
            origin: own,
            audience: c.audience.clone(),
            recipients: Vec::new(),
        },
    };
    let now = crate::node::now().unix_millis() * 1000;
    state
        .node
        .store()
        .insert_stix(&objects, &share, Some(&c.id), now)
        .await?;
    // §4.3.1: `version` is a string; an observable has no `modified`, so its version is the
    // date it was added, as in the manifest.
    let successes: Vec<Value> = objects
        .iter()
        .map(|o| {
            let version = o
                .version()
                .map_or_else(|| date_added(now), |v| v.to_string());
            json!({"id": o.id().as_str(), "version": version, "message": "stored"})
        })
        .collect();
    let failures: Vec<Value> = report
        .rejections
        .iter()
        .map(|r| {
            json!({"id": r.id.as_deref().unwrap_or_default(),
                   "version": r.version.as_deref().unwrap_or_default(),
                   "message": r.reason.to_string()})
        })
        .collect();
    let status_id = uuid::Uuid::new_v4().to_string();
    let status = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": date_added(now),
        "total_count": report.read,
        "success_count": report.accepted + report.duplicates,
        "successes": successes,
        "failure_count": report.rejected,
        "failures": failures,
        "pending_count": 0,
    })
    .to_string();
    state
        .node
        .store()
        .put_taxii_status(&status_id, &c.id, &reader.key, now, &status)
        .await?;
    Ok(taxii(StatusCode::ACCEPTED, status))
}

/// A status resource (§4.3), for the reader that made it.
pub async fn get_status(
    reader: TaxiiReader,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    match state.node.store().taxii_status(&id, &reader.key).await? {
        Some(body) => Ok(taxii(StatusCode::OK, body)),
        None => Err(TaxiiError::not_found(format!("no status {id}"))),
    }
}
