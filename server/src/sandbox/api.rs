//! The sandbox's Desk API v1 (`/sandbox/desk/api/v1`), in Zoho's shapes and with Zoho's errors
//! (docs/zoho-desk-api.md §3–§5):
//! - `Authorization: Zoho-oauthtoken …` → 401 `UNAUTHORIZED` when missing, `INVALID_OAUTH` when
//!   unknown, expired or revoked; `orgId` header → 403 `OAUTH_ORG_MISMATCH` for an org the token
//!   cannot reach; scopes granted at consent → 403 `SCOPE_MISMATCH`;
//! - 422 `INVALID_DATA` with `errors[]` (JSON-pointer `fieldName`, `errorType`), 422
//!   `UNPROCESSABLE_ENTITY` for undocumented query parameters and body keys;
//! - 404 `URL_NOT_FOUND`, 204 on empty lists and searches, 429 `TOO_MANY_REQUESTS` (bursts,
//!   concurrency) and `THRESHOLD_EXCEEDED` (daily credits), 403 `LICENSE_ACCESS_LIMITED` for call
//!   activities on the FREE edition, and the fault switches of `/sandbox/control`.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::model::{parse_zoho_time, Account, Call, Contact, RenderCtx, Ticket};
use super::state::{OrgData, State as SbState};
use super::views;
use super::{InFlight, Sandbox, SharedSandbox};

pub fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/organizations", get(list_orgs))
        .route("/organizations/{id}", get(get_org))
        .route("/accessibleOrganizations", get(accessible_orgs))
        .route("/myinfo", get(my_info))
        .route("/agents", get(list_agents))
        .route("/agents/count", get(count_agents))
        .route("/agents/{id}", get(get_agent))
        .route("/departments", get(list_departments))
        .route("/departments/{id}", get(get_department))
        .route("/contacts", get(list_contacts).post(create_contact))
        .route("/contacts/search", get(search_contacts))
        .route("/contacts/{id}", get(get_contact))
        .route("/contacts/{id}/tickets", get(contact_tickets))
        .route("/contacts/{id}/calls", get(contact_calls))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/search", get(search_accounts))
        .route("/accounts/{id}", get(get_account))
        .route("/search", get(search_all))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/search", get(search_tickets))
        .route("/tickets/{id}", get(get_ticket))
        .route("/tickets/{id}/calls", get(ticket_calls))
        .route("/calls", get(list_calls).post(create_call))
        .route("/calls/search", get(search_calls))
        .route("/calls/{id}", get(get_call))
        // Zoho's 404 body for any other path under the API root.
        .route("/{*rest}", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}

// ---------------------------------------------------------------------------------------------
// Errors

/// A Zoho-shaped error answer: status, `{"errorCode","message",…}` and optional `Retry-After`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: &str) -> Self {
        ApiError {
            status,
            body: json!({ "errorCode": code, "message": message }),
            retry_after: None,
        }
    }

    fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "You are not authenticated to perform this operation.",
        )
    }

    fn invalid_oauth() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_OAUTH",
            "The OAuth Token you provided is invalid.",
        )
    }

    fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "URL_NOT_FOUND",
            "The URL you requested could not be found on the server.",
        )
    }

    fn unprocessable(message: String) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UNPROCESSABLE_ENTITY",
            &message,
        )
    }

    /// 422 `INVALID_DATA` listing each offending field.
    fn invalid(errors: Vec<FieldError>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "errorCode": "INVALID_DATA",
                "message": "The data is invalid due to validation restrictions",
                "errors": errors.into_iter().map(|e| json!({
                    "fieldName": e.field,
                    "errorType": e.kind,
                    "errorMessage": e.message,
                })).collect::<Vec<_>>(),
            }),
            retry_after: None,
        }
    }

    fn too_many(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests. Please try again after some time.",
        );
        e.retry_after = Some(retry_after);
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

pub struct FieldError {
    field: String,
    kind: &'static str,
    message: String,
}

fn field_err(field: &str, kind: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        kind,
        message: message.into(),
    }
}

async fn method_not_allowed(State(sb): State<SharedSandbox>) -> ApiError {
    sb.lock().stats.total += 1;
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "The HTTP method is not allowed for the requested URL.",
    )
}

async fn not_found(State(sb): State<SharedSandbox>) -> ApiError {
    sb.lock().stats.total += 1;
    ApiError::not_found()
}

// ---------------------------------------------------------------------------------------------
// The gate every request passes: faults, authentication, org, scopes, edition, credits.

#[derive(Clone, Copy, PartialEq)]
enum OrgNeed {
    /// `/organizations`: no `orgId` header.
    None,
    Required,
}

/// Scope requirement: every group must be satisfied by one of its alternatives.
type Scopes = &'static [&'static [&'static str]];

const SETTINGS_READ: Scopes = &[&["Desk.settings.READ", "Desk.basic.READ"]];
const CONTACTS_READ: Scopes = &[&["Desk.contacts.READ"]];
const CONTACTS_CREATE: Scopes = &[&["Desk.contacts.CREATE"]];
const CONTACTS_SEARCH: Scopes = &[&["Desk.search.READ"], &["Desk.contacts.READ"]];
const TICKETS_READ: Scopes = &[&["Desk.tickets.READ"]];
const TICKETS_CREATE: Scopes = &[&["Desk.tickets.CREATE"]];
const TICKETS_SEARCH: Scopes = &[&["Desk.search.READ"], &["Desk.tickets.READ"]];
const SEARCH_READ: Scopes = &[&["Desk.search.READ"]];
const CALLS_READ: Scopes = &[&[
    "Desk.activities.calls.READ",
    "Desk.activities.READ",
    "Desk.calls.READ",
]];
const CALLS_CREATE: Scopes = &[&[
    "Desk.activities.calls.CREATE",
    "Desk.activities.CREATE",
    "Desk.calls.CREATE",
]];
const CALLS_SEARCH: Scopes = &[
    &["Desk.search.READ"],
    &[
        "Desk.activities.calls.READ",
        "Desk.activities.READ",
        "Desk.calls.READ",
    ],
];

/// Does a granted scope cover a required one? `Desk.contacts.ALL` covers `Desk.contacts.READ`;
/// `Desk.activities.ALL` covers `Desk.activities.calls.CREATE`.
pub(crate) fn scope_covers(granted: &str, required: &str) -> bool {
    let (Some((g_res, g_op)), Some((r_res, r_op))) =
        (granted.rsplit_once('.'), required.rsplit_once('.'))
    else {
        return false;
    };
    (g_op == r_op || g_op == "ALL") && (g_res == r_res || r_res.starts_with(&format!("{g_res}.")))
}

fn has_scopes(granted: &[String], need: Scopes) -> bool {
    need.iter().all(|group| {
        group
            .iter()
            .any(|r| granted.iter().any(|g| scope_covers(g, r)))
    })
}

struct Authed<'a> {
    org_id: u64,
    scopes: Vec<String>,
    /// The organizations the token was granted at consent.
    orgs: Vec<u64>,
    _in_flight: InFlight<'a>,
}

impl Authed<'_> {
    fn can(&self, need: Scopes) -> bool {
        has_scopes(&self.scopes, need)
    }
}

/// Whether the operation is a call-activity one (gated by edition).
#[derive(Clone, Copy, PartialEq)]
enum Feature {
    Any,
    Calls,
}

async fn gate<'a>(
    sb: &'a Sandbox,
    headers: &HeaderMap,
    op: &'static str,
    need: Scopes,
    org_need: OrgNeed,
    feature: Feature,
) -> Result<Authed<'a>, ApiError> {
    let in_flight = sb.enter();
    let (outage, latency) = {
        let mut st = sb.lock();
        st.stats.total += 1;
        *st.stats.by_operation.entry(op.to_string()).or_default() += 1;
        (st.settings.outage, st.settings.latency_ms)
    };
    if outage {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable.",
        ));
    }
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let mut st = sb.lock();
    if let Some(limit) = st.settings.concurrency_limit {
        if in_flight.now > limit {
            return Err(ApiError::too_many(st.settings.retry_after_secs));
        }
    }
    if st.settings.throttle_next > 0 {
        st.settings.throttle_next -= 1;
        return Err(ApiError::too_many(st.settings.retry_after_secs));
    }
    if st.settings.fail_next > 0
        || (st.settings.error_rate > 0.0 && rand::random::<f64>() < st.settings.error_rate)
    {
        st.settings.fail_next = st.settings.fail_next.saturating_sub(1);
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "An internal server error occurred while performing this operation.",
        ));
    }

    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let token = token
        .strip_prefix("Zoho-oauthtoken ")
        .ok_or_else(ApiError::invalid_oauth)?
        .trim();
    let now = st.now();
    let (scopes, granted_orgs) = match st.access_tokens.get(token) {
        Some(at) if at.expires > now => (at.scopes.clone(), at.orgs.clone()),
        _ => return Err(ApiError::invalid_oauth()),
    };

    let org_id = match org_need {
        OrgNeed::None => 0,
        OrgNeed::Required => {
            let raw = headers
                .get("orgId")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .unwrap_or("");
            if raw.is_empty() {
                return Err(ApiError::invalid(vec![field_err(
                    "orgId",
                    "missing",
                    "The orgId header is required.",
                )]));
            }
            // Only an organization the user granted at consent.
            match raw
                .parse::<u64>()
                .ok()
                .filter(|id| st.org(*id).is_some() && granted_orgs.contains(id))
            {
                Some(id) => id,
                None => {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "OAUTH_ORG_MISMATCH",
                        "The OAuthToken is not valid for specified organization",
                    ))
                }
            }
        }
    };

    if !has_scopes(&scopes, need) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "SCOPE_MISMATCH",
            "The OAuth scope of the token does not permit this operation.",
        ));
    }

    if feature == Feature::Calls {
        let edition = st
            .org(org_id)
            .map(|o| o.org.edition.clone())
            .unwrap_or_default();
        if edition == "FREE" || edition == "EXPRESS" {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                body: json!({
                    "errorCode": "LICENSE_ACCESS_LIMITED",
                    "message": "Your current edition does not support this feature. Please upgrade.",
                    "feature": "Activities",
                    "editionType": edition,
                }),
                retry_after: None,
            });
        }
    }

    // Credits are counted per (sandbox) day, like Zoho's daily allotment.
    let today = now.date();
    if st.credits_day != Some(today) {
        st.credits_day = Some(today);
        st.credits_used = 0;
    }
    if let Some(budget) = st.settings.daily_credits {
        if st.credits_used >= budget {
            let midnight = today.next_day().map(|d| d.midnight().assume_utc());
            let wait = midnight
                .map(|m| (m - now).whole_seconds().max(1) as u64)
                .unwrap_or(3600);
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "THRESHOLD_EXCEEDED",
                "The API credit limit of your organization for the day has been exceeded.",
            );
            e.retry_after = Some(wait);
            return Err(e);
        }
    }
    st.credits_used += 1;

    Ok(Authed {
        org_id,
        scopes,
        orgs: granted_orgs,
        _in_flight: in_flight,
    })
}

// ---------------------------------------------------------------------------------------------
// Query strings

type Params = HashMap<String, String>;

/// Parses the query string, refusing parameters the endpoint does not document (as Zoho does:
/// `Extra query parameter 'x' is present in the input.`).
fn query(raw: Option<String>, allowed: &[&str]) -> Result<Params, ApiError> {
    let mut out = Params::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if !allowed.contains(&k.as_ref()) {
            return Err(ApiError::unprocessable(format!(
                "Extra query parameter '{k}' is present in the input."
            )));
        }
        out.insert(k.into_owned(), v.into_owned());
    }
    Ok(out)
}

/// `from` (0-based) and `limit` (default 10) within the endpoint's bounds.
fn paging(q: &Params, max: usize) -> Result<(usize, usize), ApiError> {
    let num = |name: &str, default: usize, min: usize, max: usize| -> Result<usize, ApiError> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= min && n <= max => Ok(n),
                _ => Err(ApiError::invalid(vec![field_err(
                    name,
                    "invalid",
                    format!("{name} must be an integer between {min} and {max}"),
                )])),
            },
        }
    };
    Ok((num("from", 0, 0, usize::MAX)?, num("limit", 10, 1, max)?))
}

fn parse_id(raw: &str, field: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().map_err(|_| {
        ApiError::invalid(vec![field_err(
            field,
            "invalid",
            format!("{field} must be a number"),
        )])
    })
}

/// A list answer: `{"data":[…]}`, or 204 with no body when empty (Zoho's behaviour).
fn list(items: Vec<Value>) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "data": items })).into_response()
    }
}

/// A search answer: `{"data":[…],"count":n}`, or 204.
fn search_result(items: Vec<Value>, total: usize) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(json!({ "data": items, "count": total })).into_response()
    }
}

fn page<T>(items: Vec<T>, from: usize, limit: usize) -> Vec<T> {
    items.into_iter().skip(from).take(limit).collect()
}

/// Keeps only the named keys of a rendered record (list views carry fewer fields than GET).
fn pick(v: Value, keys: &[&str]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

/// Whether a record created at `created` is in the search index yet.
fn indexed(st: &SbState, created: time::OffsetDateTime) -> bool {
    created + time::Duration::seconds(st.settings.indexing_delay_secs as i64) <= st.now()
}

/// The words of a text for full-text search (`_all`, `searchStr`): split at spaces and
/// punctuation that separates words; `+`, `-`, `.`, `@` and `_` stay inside a word (so
/// `555-0134`, `+8613800138000` and `a@b.com` are one word each). Lower case.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || ",;:()[]{}\"'<>/\\|!?#*".contains(c))
        // Sentence punctuation around a word is not part of it (`5503306.` is `5503306`).
        .map(|w| {
            w.trim_end_matches(['.', '-', '_', '@'])
                .trim_start_matches(['.', '-', '_', '@'])
        })
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether every word of `needle` is a whole word of `text` (Zoho's full-text search matches
/// words, not any substring).
fn has_words(text: &str, needle: &str) -> bool {
    let have: Vec<String> = words(text).collect();
    let mut want = words(needle).peekable();
    want.peek().is_some() && want.all(|w| have.contains(&w))
}

/// Zoho's search matching on one value: `abc` exact, `abc*` prefix, `*abc` suffix, `*abc*`
/// contains; several comma-separated values mean OR. Case-insensitive. No normalisation of
/// phone numbers (Zoho stores them as free text).
pub(crate) fn matches(pattern: &str, value: Option<&str>) -> bool {
    let Some(value) = value else { return false };
    let value = value.to_lowercase();
    pattern.split(',').any(|p| {
        let p = p.trim().to_lowercase();
        if p == "${empty}" {
            return value.is_empty();
        }
        if p == "${notempty}" {
            return !value.is_empty();
        }
        match (p.strip_prefix('*'), p.ends_with('*')) {
            (Some(rest), true) => {
                let inner = rest.trim_end_matches('*');
                !inner.is_empty() && value.contains(inner)
            }
            (Some(rest), false) => !rest.is_empty() && value.ends_with(rest),
            (None, true) => value.starts_with(p.trim_end_matches('*')),
            (None, false) => value == p,
        }
    })
}

fn org<'s>(st: &'s SbState, a: &Authed) -> &'s OrgData {
    st.org(a.org_id).expect("gate checked the org")
}

// ---------------------------------------------------------------------------------------------
// Organizations, agents, departments

async fn list_orgs(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let _a = gate(
        &sb,
        &headers,
        "GET /organizations",
        SETTINGS_READ,
        OrgNeed::None,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let st = sb.lock();
    let desk = sb.config().desk_url();
    Ok(list(
        st.orgs.iter().map(|o| org_json(&st, o, &desk)).collect(),
    ))
}

/// The organizations this token reaches (those chosen at consent); `/organizations` lists
/// every organization of the user.
async fn accessible_orgs(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /accessibleOrganizations",
        SETTINGS_READ,
        OrgNeed::None,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let st = sb.lock();
    let desk = sb.config().desk_url();
    Ok(list(
        st.orgs
            .iter()
            .filter(|o| a.orgs.contains(&o.org.id))
            .map(|o| org_json(&st, o, &desk))
            .collect(),
    ))
}

async fn get_org(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let _a = gate(
        &sb,
        &headers,
        "GET /organizations/{id}",
        SETTINGS_READ,
        OrgNeed::None,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let id = parse_id(&id, "organizationId")?;
    let st = sb.lock();
    let o = st.org(id).ok_or_else(ApiError::not_found)?;
    Ok(Json(org_json(&st, o, &sb.config().desk_url())).into_response())
}

/// An org as the consenting user sees it: `isAdminInOrg` from that user's agent in the org.
fn org_json(st: &SbState, o: &OrgData, desk: &str) -> Value {
    let email = &st.admin_agent().email;
    let admin = o.agents.iter().any(|x| &x.email == email && x.admin);
    o.org.to_json(desk, admin)
}

async fn my_info(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /myinfo",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &["include"])?;
    let st = sb.lock();
    let admin = st.admin_agent().clone();
    let o = org(&st, &a);
    let me = o
        .agents
        .iter()
        .find(|x| x.email == admin.email)
        .unwrap_or(&admin);
    Ok(Json(pick(me.to_json(), views::AGENT_LIST)).into_response())
}

async fn list_agents(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /agents",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "include",
            "roleIds",
            "searchStr",
            "limit",
            "rolePermissionType",
            "profileIds",
            "from",
            "isConfirmed",
            "departmentIds",
            "status",
            "fieldName",
            "sortOrder",
            "isLightAgent",
        ],
    )?;
    let (from, limit) = paging(&q, 200)?;
    if let Some(s) = q.get("status") {
        if s != "ACTIVE" && s != "DISABLED" {
            return Err(ApiError::invalid(vec![field_err(
                "status",
                "invalid",
                "status must be ACTIVE or DISABLED",
            )]));
        }
    }
    let st = sb.lock();
    let o = org(&st, &a);
    let items: Vec<Value> = o
        .agents
        .iter()
        .filter(|ag| match q.get("status").map(String::as_str) {
            Some("ACTIVE") => ag.active,
            Some("DISABLED") => !ag.active,
            _ => true,
        })
        .filter(|ag| {
            q.get("searchStr")
                .is_none_or(|s| matches(s, Some(&ag.name())) || matches(s, Some(&ag.email)))
        })
        .filter(|ag| {
            q.get("departmentIds").is_none_or(|ids| {
                ids.split(',')
                    .filter_map(|i| i.trim().parse::<u64>().ok())
                    .any(|d| ag.department_ids.contains(&d))
            })
        })
        .map(|ag| pick(ag.to_json(), views::AGENT_LIST))
        .collect();
    Ok(list(page(items, from, limit)))
}

/// `GET /agents/count`: `{"count": n}` (the response schema lives in a Zoho file we do not
/// have; the shape is the one Zoho's other count endpoints answer).
async fn count_agents(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /agents/count",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(q, &["isConfirmed", "includeLightAgent", "status"])?;
    let status = q.get("status").map(String::as_str);
    if status.is_some_and(|s| s != "ACTIVE" && s != "DISABLED") {
        return Err(ApiError::invalid(vec![field_err(
            "status",
            "invalid",
            "status must be ACTIVE or DISABLED",
        )]));
    }
    let st = sb.lock();
    let n = org(&st, &a)
        .agents
        .iter()
        .filter(|ag| match status {
            Some("ACTIVE") => ag.active,
            Some("DISABLED") => !ag.active,
            _ => true,
        })
        .count();
    Ok(Json(serde_json::json!({ "count": n })).into_response())
}

async fn get_agent(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /agents/{id}",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &["include"])?;
    let id = parse_id(&id, "agentId")?;
    let st = sb.lock();
    let ag = org(&st, &a).agent(id).ok_or_else(ApiError::not_found)?;
    Ok(Json(pick(ag.to_json(), views::AGENT_GET)).into_response())
}

async fn list_departments(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /departments",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &["isEnabled", "from", "limit", "searchStr", "chatStatus"],
    )?;
    let (from, limit) = paging(&q, 200)?;
    let st = sb.lock();
    let items = org(&st, &a)
        .departments
        .iter()
        .filter(|d| q.get("searchStr").is_none_or(|s| matches(s, Some(&d.name))))
        .map(|d| d.to_json())
        .collect();
    Ok(list(page(items, from, limit)))
}

async fn get_department(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /departments/{id}",
        SETTINGS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let id = parse_id(&id, "departmentId")?;
    let st = sb.lock();
    let d = org(&st, &a)
        .department(id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(d.to_json()).into_response())
}

// ---------------------------------------------------------------------------------------------
// Contacts and accounts

fn rc<'a>(desk: &'a str, o: &'a OrgData) -> RenderCtx<'a> {
    RenderCtx {
        desk_base: desk,
        portal: &o.org.portal_name,
    }
}

/// The agent as the 6-field owner/assignee object of search results.
fn person(o: &OrgData, id: Option<u64>) -> Value {
    id.and_then(|id| o.agent(id))
        .map(|a| a.owner_json())
        .unwrap_or(Value::Null)
}

fn department_ref(o: &OrgData, id: u64) -> Value {
    o.department(id)
        .map(|d| json!({"id": d.id.to_string(), "name": d.name}))
        .unwrap_or(Value::Null)
}

/// A contact with its related objects, cut to the fields of `view`.
fn render_contact(sb: &Sandbox, o: &OrgData, c: &Contact, view: &[&str]) -> Value {
    let desk = sb.record_base();
    let mut v = c.to_json(&rc(&desk, o), None);
    v["owner"] = person(o, c.owner_id);
    v["account"] = c
        .account_id
        .and_then(|id| o.accounts.get(&id))
        .map(|a| json!({"id": a.id.to_string(), "accountName": a.account_name, "website": a.website}))
        .unwrap_or(Value::Null);
    v["zohoCRMContact"] = Value::Null;
    pick(v, view)
}

fn render_account(sb: &Sandbox, o: &OrgData, acc: &Account, view: &[&str]) -> Value {
    let desk = sb.record_base();
    let mut v = acc.to_json(&rc(&desk, o), None);
    v["owner"] = person(o, acc.owner_id);
    pick(v, view)
}

fn render_ticket(sb: &Sandbox, o: &OrgData, t: &Ticket, view: &[&str]) -> Value {
    let desk = sb.record_base();
    let mut v = t.to_json(&rc(&desk, o));
    v["assignee"] = person(o, t.assignee_id);
    v["department"] = department_ref(o, t.department_id);
    v["contact"] = o
        .contacts
        .get(&t.contact_id)
        .map(|c| {
            json!({
                "id": c.id.to_string(), "firstName": c.first_name, "lastName": c.last_name,
                "email": c.email, "phone": c.phone, "mobile": c.mobile, "type": c.kind,
                "account": c.account_id.and_then(|id| o.accounts.get(&id)).map(|a| json!({
                    "id": a.id.to_string(), "accountName": a.account_name, "website": a.website,
                })),
            })
        })
        .unwrap_or(Value::Null);
    v["product"] = Value::Null;
    v["team"] = Value::Null;
    pick(v, view)
}

fn render_call(sb: &Sandbox, o: &OrgData, c: &Call, view: &[&str]) -> Value {
    let desk = sb.record_base();
    let mut v = c.to_json(&rc(&desk, o));
    v["assignee"] = person(o, c.owner_id);
    v["department"] = department_ref(o, c.department_id);
    v["contact"] = o
        .contacts
        .get(&c.contact_id)
        .map(|x| {
            json!({
                "id": x.id.to_string(), "firstName": x.first_name, "lastName": x.last_name,
                "email": x.email, "phone": x.phone, "mobile": x.mobile, "isSpam": false,
                "accountId": x.account_id.map(|a| a.to_string()), "secId": null,
            })
        })
        .unwrap_or(Value::Null);
    v["ticket"] = Value::Null;
    pick(v, view)
}

/// Sorts by a Zoho `sortBy` value (`field` or `-field`), given a key function per field.
fn sort_by<T>(items: &mut [&T], sort: Option<&String>, key: impl Fn(&T, &str) -> Option<String>) {
    if let Some(s) = sort {
        let (desc, field) = match s.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, s.as_str()),
        };
        if field == "relevance" {
            return;
        }
        items.sort_by(|a, b| {
            let o = key(a, field).cmp(&key(b, field));
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }
}

fn contact_key(c: &Contact, field: &str) -> Option<String> {
    match field {
        "firstName" => c.first_name.clone(),
        "lastName" => Some(c.last_name.clone()),
        "phone" => c.phone.clone(),
        "email" => c.email.clone(),
        "createdTime" => c.created.map(|t| t.unix_timestamp().to_string()),
        "modifiedTime" => c
            .modified
            .or(c.created)
            .map(|t| t.unix_timestamp().to_string()),
        _ => None,
    }
}

async fn list_contacts(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /contacts",
        CONTACTS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &["include", "viewId", "limit", "from", "sortBy", "fields"],
    )?;
    let (from, limit) = paging(&q, 99)?;
    if let Some(s) = q.get("sortBy") {
        let f = s.trim_start_matches('-');
        if ![
            "firstName",
            "lastName",
            "phone",
            "email",
            "account",
            "createdTime",
            "modifiedTime",
        ]
        .contains(&f)
        {
            return Err(ApiError::invalid(vec![field_err(
                "sortBy",
                "invalid",
                "unsupported sortBy value",
            )]));
        }
    }
    let st = sb.lock();
    let o = org(&st, &a);
    let mut items: Vec<&Contact> = o.contacts.values().collect();
    sort_by(&mut items, q.get("sortBy"), contact_key);
    let out = page(items, from, limit)
        .into_iter()
        .map(|c| render_contact(&sb, o, c, views::CONTACT_LIST))
        .collect();
    Ok(list(out))
}

async fn get_contact(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /contacts/{id}",
        CONTACTS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &["include"])?;
    let id = parse_id(&id, "contactId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    let c = o.contacts.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(render_contact(&sb, o, c, views::CONTACT_GET)).into_response())
}

fn contact_search_hit(c: &Contact, o: &OrgData, q: &Params) -> bool {
    let account_name = c
        .account_id
        .and_then(|id| o.accounts.get(&id))
        .map(|acc| acc.account_name.as_str());
    let full = c.full_name();
    let checks: [(&str, Option<&str>); 9] = [
        ("id", None),
        ("firstName", c.first_name.as_deref()),
        ("lastName", Some(c.last_name.as_str())),
        ("fullName", Some(full.as_str())),
        ("email", c.email.as_deref()),
        ("phone", c.phone.as_deref()),
        ("mobile", c.mobile.as_deref()),
        ("accountName", account_name),
        ("_all", None),
    ];
    checks.iter().all(|(name, value)| match q.get(*name) {
        None => true,
        Some(p) => match *name {
            "id" => p.split(',').any(|x| x.trim() == c.id.to_string()),
            "_all" => {
                let needle = p.trim_matches('*').to_lowercase();
                [
                    Some(full.as_str()),
                    c.email.as_deref(),
                    c.phone.as_deref(),
                    c.mobile.as_deref(),
                    c.description.as_deref(),
                    account_name,
                ]
                .iter()
                .flatten()
                .any(|v| has_words(v, &needle))
            }
            _ => matches(p, *value),
        },
    })
}

async fn search_contacts(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /contacts/search",
        CONTACTS_SEARCH,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "lastName",
            "firstName",
            "accountName",
            "createdTimeRange",
            "limit",
            "fullName",
            "from",
            "sortBy",
            "modifiedTimeRange",
            "id",
            "_all",
            "email",
            "phone",
            "mobile",
        ],
    )?;
    let (from, limit) = paging(&q, 100)?;
    let st = sb.lock();
    let o = org(&st, &a);
    let mut hits: Vec<&Contact> = o
        .contacts
        .values()
        .filter(|c| indexed(&st, c.created()) && contact_search_hit(c, o, &q))
        .collect();
    sort_by(&mut hits, q.get("sortBy"), contact_key);
    let total = hits.len();
    let out = page(hits, from, limit)
        .into_iter()
        .map(|c| render_contact(&sb, o, c, views::CONTACT_SEARCH))
        .collect();
    Ok(search_result(out, total))
}

/// Body keys `POST /contacts` accepts.
const CONTACT_BODY_KEYS: &[&str] = &[
    "lastName",
    "firstName",
    "email",
    "secondaryEmail",
    "phone",
    "mobile",
    "accountId",
    "ownerId",
    "type",
    "title",
    "description",
    "street",
    "city",
    "state",
    "country",
    "zip",
    "twitter",
    "facebook",
    "cf",
    "customFields",
    "photoURL",
];

/// Reads a JSON object body, refusing unknown keys like Zoho does.
fn body_object(
    headers: &HeaderMap,
    body: &[u8],
    allowed: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "The Content-Type of the request must be application/json.",
        ));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::unprocessable("The request body is not valid JSON.".to_string()))?;
    let Value::Object(m) = v else {
        return Err(ApiError::unprocessable(
            "The request body must be a JSON object.".to_string(),
        ));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::unprocessable(format!(
            "An extra parameter '{k}' is found in the input."
        )));
    }
    Ok(m)
}

/// Validates an optional string field: type and maximum length.
fn opt_str(
    m: &Map<String, Value>,
    key: &str,
    max: usize,
    errs: &mut Vec<FieldError>,
) -> Option<String> {
    match m.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= max => Some(s.clone()),
        Some(Value::String(_)) => {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} is longer than {max} characters"),
            ));
            None
        }
        Some(_) => {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} must be a string"),
            ));
            None
        }
    }
}

fn req_str(
    m: &Map<String, Value>,
    key: &str,
    max: usize,
    errs: &mut Vec<FieldError>,
) -> Option<String> {
    let v = opt_str(m, key, max, errs);
    if v.as_deref().is_none_or(|s| s.trim().is_empty())
        && !errs.iter().any(|e| e.field == format!("/{key}"))
    {
        errs.push(field_err(
            &format!("/{key}"),
            "missing",
            format!("{key} is required"),
        ));
        return None;
    }
    v
}

/// Phone fields: ≤50 characters of digits, letters, spaces and `+ - . ( ) $ @ ? , : ' / ! _`.
fn check_phone(key: &str, v: &Option<String>, errs: &mut Vec<FieldError>) {
    if let Some(p) = v {
        let ok = p
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "+-.()$@?,:'/!_".contains(c));
        if !ok {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} contains characters that are not allowed"),
            ));
        }
    }
}

fn check_email(key: &str, v: &Option<String>, errs: &mut Vec<FieldError>) {
    if let Some(e) = v {
        let ok = e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !e.contains(' ')
        });
        if !ok {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} is not a valid e-mail address"),
            ));
        }
    }
}

fn opt_id(m: &Map<String, Value>, key: &str, errs: &mut Vec<FieldError>) -> Option<u64> {
    match m.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => s.parse().ok().or_else(|| {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} must be a record id"),
            ));
            None
        }),
        Some(Value::Number(n)) => n.as_u64(),
        Some(_) => {
            errs.push(field_err(
                &format!("/{key}"),
                "invalid",
                format!("{key} must be a record id"),
            ));
            None
        }
    }
}

async fn create_contact(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "POST /contacts",
        CONTACTS_CREATE,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let m = body_object(&headers, &body, CONTACT_BODY_KEYS)?;
    let mut errs = Vec::new();
    let last_name = req_str(&m, "lastName", 200, &mut errs);
    let first_name = opt_str(&m, "firstName", 40, &mut errs);
    let email = opt_str(&m, "email", 255, &mut errs);
    let secondary_email = opt_str(&m, "secondaryEmail", 255, &mut errs);
    let phone = opt_str(&m, "phone", 50, &mut errs);
    let mobile = opt_str(&m, "mobile", 50, &mut errs);
    check_phone("phone", &phone, &mut errs);
    check_phone("mobile", &mobile, &mut errs);
    check_email("email", &email, &mut errs);
    check_email("secondaryEmail", &secondary_email, &mut errs);
    let account_id = opt_id(&m, "accountId", &mut errs);
    let owner_id = opt_id(&m, "ownerId", &mut errs);
    let mut c = Contact {
        first_name,
        last_name: last_name.unwrap_or_default(),
        email,
        secondary_email,
        phone,
        mobile,
        account_id,
        owner_id,
        kind: opt_str(&m, "type", 120, &mut errs),
        title: opt_str(&m, "title", 100, &mut errs),
        description: opt_str(&m, "description", 65535, &mut errs),
        street: opt_str(&m, "street", 250, &mut errs),
        city: opt_str(&m, "city", 30, &mut errs),
        state: opt_str(&m, "state", 30, &mut errs),
        country: opt_str(&m, "country", 30, &mut errs),
        zip: opt_str(&m, "zip", 30, &mut errs),
        ..Default::default()
    };
    let mut st = sb.lock();
    {
        let o = org(&st, &a);
        if account_id.is_some_and(|id| !o.accounts.contains_key(&id)) {
            errs.push(field_err(
                "/accountId",
                "invalid",
                "accountId does not name an account",
            ));
        }
        if owner_id.is_some_and(|id| o.agent(id).is_none_or(|ag| !ag.active)) {
            errs.push(field_err(
                "/ownerId",
                "invalid",
                "ownerId does not name an active agent",
            ));
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let now = st.now();
    c.id = st.new_id();
    c.created = Some(now);
    c.modified = Some(now);
    c.owner_id = c.owner_id.or(Some(st.admin_agent_id));
    let o = st.org_mut(a.org_id).expect("gate checked the org");
    o.contacts.insert(c.id, c.clone());
    let o = st.org(a.org_id).expect("gate checked the org");
    Ok(Json(render_contact(&sb, o, &c, views::CONTACT_GET)).into_response())
}

fn account_key(acc: &Account, field: &str) -> Option<String> {
    match field {
        "accountName" => Some(acc.account_name.clone()),
        "createdTime" => acc.created.map(|t| t.unix_timestamp().to_string()),
        "modifiedTime" => acc
            .modified
            .or(acc.created)
            .map(|t| t.unix_timestamp().to_string()),
        _ => None,
    }
}

async fn list_accounts(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /accounts",
        CONTACTS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &["limit", "from", "sortBy", "viewId", "include", "fields"],
    )?;
    let (from, limit) = paging(&q, 99)?;
    let st = sb.lock();
    let o = org(&st, &a);
    let mut items: Vec<&Account> = o.accounts.values().collect();
    sort_by(&mut items, q.get("sortBy"), account_key);
    let out = page(items, from, limit)
        .into_iter()
        .map(|acc| render_account(&sb, o, acc, views::ACCOUNT_LIST))
        .collect();
    Ok(list(out))
}

async fn get_account(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /accounts/{id}",
        CONTACTS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &["include"])?;
    let id = parse_id(&id, "accountId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    let acc = o.accounts.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(render_account(&sb, o, acc, views::ACCOUNT_GET)).into_response())
}

async fn search_accounts(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /accounts/search",
        CONTACTS_SEARCH,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "accountName",
            "createdTimeRange",
            "limit",
            "from",
            "modifiedTimeRange",
            "sortBy",
            "id",
            "_all",
        ],
    )?;
    let (from, limit) = paging(&q, 100)?;
    let st = sb.lock();
    let o = org(&st, &a);
    let mut hits: Vec<&Account> = o
        .accounts
        .values()
        .filter(|acc| indexed(&st, acc.created()))
        .filter(|acc| {
            q.get("accountName")
                .is_none_or(|p| matches(p, Some(&acc.account_name)))
                && q.get("id")
                    .is_none_or(|p| p.split(',').any(|x| x.trim() == acc.id.to_string()))
                && q.get("_all").is_none_or(|p| {
                    let needle = p.trim_matches('*').to_lowercase();
                    [
                        Some(acc.account_name.as_str()),
                        acc.phone.as_deref(),
                        acc.email.as_deref(),
                        acc.website.as_deref(),
                        acc.description.as_deref(),
                    ]
                    .iter()
                    .flatten()
                    .any(|v| has_words(v, &needle))
                })
        })
        .collect();
    sort_by(&mut hits, q.get("sortBy"), account_key);
    let total = hits.len();
    let out = page(hits, from, limit)
        .into_iter()
        .map(|acc| render_account(&sb, o, acc, views::ACCOUNT_SEARCH))
        .collect();
    Ok(search_result(out, total))
}

const ACCOUNT_BODY_KEYS: &[&str] = &[
    "accountName",
    "email",
    "website",
    "fax",
    "ownerId",
    "associatedSLAIds",
    "industry",
    "city",
    "country",
    "state",
    "street",
    "code",
    "description",
    "phone",
    "annualrevenue",
    "cf",
    "customFields",
];

async fn create_account(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "POST /accounts",
        CONTACTS_CREATE,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let m = body_object(&headers, &body, ACCOUNT_BODY_KEYS)?;
    let mut errs = Vec::new();
    let account_name = req_str(&m, "accountName", 200, &mut errs);
    let email = opt_str(&m, "email", 150, &mut errs);
    check_email("email", &email, &mut errs);
    let phone = opt_str(&m, "phone", 30, &mut errs);
    check_phone("phone", &phone, &mut errs);
    let owner_id = opt_id(&m, "ownerId", &mut errs);
    let mut acc = Account {
        account_name: account_name.unwrap_or_default(),
        email,
        phone,
        website: opt_str(&m, "website", 120, &mut errs),
        fax: opt_str(&m, "fax", 50, &mut errs),
        industry: opt_str(&m, "industry", 120, &mut errs),
        description: opt_str(&m, "description", 65535, &mut errs),
        street: opt_str(&m, "street", 250, &mut errs),
        city: opt_str(&m, "city", 30, &mut errs),
        state: opt_str(&m, "state", 30, &mut errs),
        country: opt_str(&m, "country", 30, &mut errs),
        code: opt_str(&m, "code", 30, &mut errs),
        owner_id,
        ..Default::default()
    };
    let mut st = sb.lock();
    if owner_id.is_some_and(|id| org(&st, &a).agent(id).is_none_or(|ag| !ag.active)) {
        errs.push(field_err(
            "/ownerId",
            "invalid",
            "ownerId does not name an active agent",
        ));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let now = st.now();
    acc.id = st.new_id();
    acc.created = Some(now);
    acc.modified = Some(now);
    acc.owner_id = acc.owner_id.or(Some(st.admin_agent_id));
    st.org_mut(a.org_id)
        .expect("gate checked the org")
        .accounts
        .insert(acc.id, acc.clone());
    let o = st.org(a.org_id).expect("gate checked the org");
    Ok(Json(render_account(&sb, o, &acc, views::ACCOUNT_GET)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Cross-module search

async fn search_all(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /search",
        SEARCH_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "searchStr",
            "module",
            "departmentId",
            "limit",
            "from",
            "sortBy",
        ],
    )?;
    let (from, limit) = paging(&q, 100)?;
    let needle = match q
        .get("searchStr")
        .map(|s| s.trim().trim_matches('*').to_lowercase())
    {
        Some(s) if !s.is_empty() && s.chars().count() <= 100 => s,
        _ => {
            return Err(ApiError::invalid(vec![field_err(
                "searchStr",
                "missing",
                "searchStr is required (at most 100 characters)",
            )]))
        }
    };
    let module = q.get("module").map(String::as_str);
    if let Some(m) = module {
        if !["tickets", "contacts", "accounts", "tasks"].contains(&m) {
            return Err(ApiError::invalid(vec![field_err(
                "module",
                "invalid",
                "unknown module",
            )]));
        }
    }
    let want = |m: &str| module.is_none_or(|x| x == m);
    let has = |v: &[Option<&str>]| v.iter().flatten().any(|s| has_words(s, &needle));
    let st = sb.lock();
    let o = org(&st, &a);
    let mut hits: Vec<Value> = Vec::new();
    let mut counts = Map::new();
    if want("contacts") && a.can(CONTACTS_READ) {
        let found: Vec<Value> = o
            .contacts
            .values()
            .filter(|c| indexed(&st, c.created()))
            .filter(|c| {
                has(&[
                    Some(&c.full_name()),
                    c.email.as_deref(),
                    c.phone.as_deref(),
                    c.mobile.as_deref(),
                ])
            })
            .map(|c| {
                let mut v = render_contact(&sb, o, c, views::CONTACT_SEARCH);
                v["module"] = json!("contacts");
                v
            })
            .collect();
        if !found.is_empty() {
            counts.insert("contacts".into(), json!(found.len()));
        }
        hits.extend(found);
    }
    if want("accounts") && a.can(CONTACTS_READ) {
        let found: Vec<Value> = o
            .accounts
            .values()
            .filter(|acc| indexed(&st, acc.created()))
            .filter(|acc| {
                has(&[
                    Some(&acc.account_name),
                    acc.phone.as_deref(),
                    acc.email.as_deref(),
                ])
            })
            .map(|acc| {
                let mut v = render_account(&sb, o, acc, views::ACCOUNT_SEARCH);
                v["module"] = json!("accounts");
                v
            })
            .collect();
        if !found.is_empty() {
            counts.insert("accounts".into(), json!(found.len()));
        }
        hits.extend(found);
    }
    if want("tickets") && a.can(TICKETS_READ) {
        let found: Vec<Value> = o
            .tickets
            .values()
            .filter(|t| indexed(&st, t.created))
            .filter(|t| {
                has(&[
                    Some(&t.subject),
                    t.description.as_deref(),
                    Some(&t.number.to_string()),
                ])
            })
            .map(|t| {
                let mut v = render_ticket(&sb, o, t, views::TICKET_SEARCH);
                v["module"] = json!("tickets");
                v
            })
            .collect();
        if !found.is_empty() {
            counts.insert("tickets".into(), json!(found.len()));
        }
        hits.extend(found);
    }
    if hits.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let out = page(hits, from, limit);
    Ok(Json(json!({ "data": out, "count": counts })).into_response())
}

// ---------------------------------------------------------------------------------------------
// Tickets

const TICKET_BODY_KEYS: &[&str] = &[
    "subject",
    "departmentId",
    "contactId",
    "contact",
    "productId",
    "uploads",
    "email",
    "phone",
    "description",
    "status",
    "assigneeId",
    "category",
    "subCategory",
    "resolution",
    "dueDate",
    "priority",
    "language",
    "channel",
    "classification",
    "teamId",
    "cf",
    "customFields",
    "secondaryContacts",
    "accountId",
];

async fn create_ticket(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "POST /tickets",
        TICKETS_CREATE,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &[])?;
    let m = body_object(&headers, &body, TICKET_BODY_KEYS)?;
    let mut errs = Vec::new();
    let subject = req_str(&m, "subject", 255, &mut errs);
    let department_id = opt_id(&m, "departmentId", &mut errs);
    if department_id.is_none() && !errs.iter().any(|e| e.field == "/departmentId") {
        errs.push(field_err(
            "/departmentId",
            "missing",
            "departmentId is required",
        ));
    }
    let contact_id = opt_id(&m, "contactId", &mut errs);
    let contact_obj = match m.get("contact") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => Some(c.clone()),
        Some(_) => {
            errs.push(field_err(
                "/contact",
                "invalid",
                "contact must be an object",
            ));
            None
        }
    };
    if contact_id.is_none()
        && contact_obj.is_none()
        && !errs.iter().any(|e| e.field == "/contactId")
    {
        errs.push(field_err(
            "/contactId",
            "missing",
            "contactId or contact is required",
        ));
    }
    let description = opt_str(&m, "description", 65535, &mut errs);
    let email = opt_str(&m, "email", 150, &mut errs);
    check_email("email", &email, &mut errs);
    let phone = opt_str(&m, "phone", 120, &mut errs);
    let priority = opt_str(&m, "priority", 120, &mut errs);
    let category = opt_str(&m, "category", 120, &mut errs);
    let status = opt_str(&m, "status", 120, &mut errs).unwrap_or_else(|| "Open".into());
    let channel = opt_str(&m, "channel", 120, &mut errs);
    let assignee_id = opt_id(&m, "assigneeId", &mut errs);

    let mut st = sb.lock();
    {
        let o = org(&st, &a);
        if department_id.is_some_and(|d| o.department(d).is_none()) {
            errs.push(field_err(
                "/departmentId",
                "invalid",
                "departmentId does not name a department",
            ));
        }
        if contact_id.is_some_and(|c| !o.contacts.contains_key(&c)) {
            errs.push(field_err(
                "/contactId",
                "invalid",
                "contactId does not name a contact",
            ));
        }
        if let Some(ag) = assignee_id {
            match o.agent(ag) {
                Some(agent)
                    if agent.active
                        && department_id.is_none_or(|d| agent.department_ids.contains(&d)) => {}
                _ => errs.push(field_err(
                    "/assigneeId",
                    "invalid",
                    "assigneeId does not name an active agent of the department",
                )),
            }
        }
        if let Some(ch) = &channel {
            if !o.channels.contains(&ch.as_str()) {
                errs.push(field_err(
                    "/channel",
                    "invalid",
                    "channel is not one of the portal's channels",
                ));
            }
        }
        if !["Open", "On Hold", "Escalated", "Closed"].contains(&status.as_str()) {
            errs.push(field_err(
                "/status",
                "invalid",
                "status is not one of the portal's statuses",
            ));
        }
        if let Some(c) = &contact_obj {
            let has = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.trim().is_empty())
            };
            if !has("lastName") && !has("email") {
                errs.push(field_err(
                    "/contact/lastName",
                    "missing",
                    "contact needs lastName or email",
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let now = st.now();
    // A `contact` object reuses the contact with the same e-mail, or creates one.
    let contact_id = match (contact_id, contact_obj) {
        (Some(id), _) => id,
        (None, Some(c)) => {
            let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
            let email = s("email");
            let existing = email.as_ref().and_then(|e| {
                org(&st, &a)
                    .contacts
                    .values()
                    .find(|x| {
                        x.email
                            .as_deref()
                            .is_some_and(|xe| xe.eq_ignore_ascii_case(e))
                    })
                    .map(|x| x.id)
            });
            match existing {
                Some(id) => id,
                None => {
                    let id = st.new_id();
                    let owner = Some(st.admin_agent_id);
                    let contact = Contact {
                        id,
                        first_name: s("firstName"),
                        last_name: s("lastName").or_else(|| email.clone()).unwrap_or_default(),
                        email,
                        phone: s("phone"),
                        mobile: s("mobile"),
                        owner_id: owner,
                        created: Some(now),
                        modified: Some(now),
                        ..Default::default()
                    };
                    st.org_mut(a.org_id)
                        .expect("org")
                        .contacts
                        .insert(id, contact);
                    id
                }
            }
        }
        (None, None) => unreachable!("validated above"),
    };
    let id = st.new_id();
    let creator = st.admin_agent_id;
    let o = st.org_mut(a.org_id).expect("gate checked the org");
    let number = o.next_ticket_number;
    o.next_ticket_number += 1;
    let t = Ticket {
        id,
        number,
        subject: subject.unwrap_or_default(),
        description,
        department_id: department_id.expect("validated"),
        contact_id,
        assignee_id,
        channel: channel.unwrap_or_else(|| "Phone".into()),
        status,
        priority,
        email,
        phone,
        category,
        created: now,
        creator_id: creator,
    };
    o.tickets.insert(id, t.clone());
    let o = st.org(a.org_id).expect("gate checked the org");
    Ok(Json(render_ticket(&sb, o, &t, views::TICKET_CREATE)).into_response())
}

async fn get_ticket(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /tickets/{id}",
        TICKETS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    query(q, &["include"])?;
    let id = parse_id(&id, "ticketId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    let t = o.tickets.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(render_ticket(&sb, o, t, views::TICKET_GET)).into_response())
}

fn ticket_list(
    sb: &Sandbox,
    o: &OrgData,
    q: &Params,
    view: &[&str],
    filter: impl Fn(&Ticket) -> bool,
) -> Result<Response, ApiError> {
    let (from, limit) = paging(q, 100)?;
    let dept = match q.get("departmentId") {
        Some(d) if d != "allDepartment" => Some(parse_id(d, "departmentId")?),
        _ => None,
    };
    let mut items: Vec<&Ticket> = o
        .tickets
        .values()
        .filter(|t| dept.is_none_or(|d| t.department_id == d))
        .filter(|t| {
            q.get("status")
                .is_none_or(|s| s.split(',').any(|x| x.trim() == t.status))
        })
        .filter(|t| {
            q.get("channel")
                .is_none_or(|s| s.split(',').any(|x| x.trim() == t.channel))
        })
        .filter(|t| filter(t))
        .collect();
    // Zoho lists newest first unless told otherwise.
    items.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    if q.get("sortBy").is_some_and(|s| s == "createdTime") {
        items.reverse();
    }
    let out = page(items, from, limit)
        .into_iter()
        .map(|t| render_ticket(sb, o, t, view))
        .collect();
    Ok(list(out))
}

const TICKET_LIST_PARAMS: &[&str] = &[
    "include",
    "departmentId",
    "dueDate",
    "limit",
    "channel",
    "from",
    "sortBy",
    "assignee",
    "teamIds",
    "receivedInDays",
    "closedTime",
    "status",
    "viewId",
    "fields",
];

async fn list_tickets(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /tickets",
        TICKETS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(q, TICKET_LIST_PARAMS)?;
    let st = sb.lock();
    ticket_list(&sb, org(&st, &a), &q, views::TICKET_LIST, |_| true)
}

async fn contact_tickets(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /contacts/{id}/tickets",
        TICKETS_READ,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "include",
            "departmentId",
            "dueDate",
            "limit",
            "from",
            "sortBy",
            "isSpam",
        ],
    )?;
    let id = parse_id(&id, "contactId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    if !o.contacts.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    ticket_list(&sb, o, &q, views::TICKET_BY_CONTACT, |t| t.contact_id == id)
}

async fn search_tickets(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /tickets/search",
        TICKETS_SEARCH,
        OrgNeed::Required,
        Feature::Any,
    )
    .await?;
    let q = query(
        q,
        &[
            "ticketNumber",
            "accountName",
            "subject",
            "departmentId",
            "channel",
            "customerResponseTimeRange",
            "description",
            "productName",
            "_all",
            "limit",
            "from",
            "dueDateRange",
            "sortBy",
            "id",
            "tag",
            "productId",
            "contactId",
            "contactName",
            "createdTimeRange",
            "priority",
            "assigneeId",
            "accountId",
            "modifiedTimeRange",
            "category",
            "status",
        ],
    )?;
    let (from, limit) = paging(&q, 100)?;
    let st = sb.lock();
    let o = org(&st, &a);
    let hits: Vec<&Ticket> = o
        .tickets
        .values()
        .filter(|t| indexed(&st, t.created))
        .filter(|t| {
            let num = t.number.to_string();
            let contact_name = o.contacts.get(&t.contact_id).map(Contact::full_name);
            let fields: [(&str, Option<&str>); 8] = [
                ("ticketNumber", Some(num.as_str())),
                ("subject", Some(t.subject.as_str())),
                ("description", t.description.as_deref()),
                ("channel", Some(t.channel.as_str())),
                ("status", Some(t.status.as_str())),
                ("priority", t.priority.as_deref()),
                ("category", t.category.as_deref()),
                ("contactName", contact_name.as_deref()),
            ];
            fields
                .iter()
                .all(|(k, v)| q.get(*k).is_none_or(|p| matches(p, *v)))
                && q.get("id")
                    .is_none_or(|p| p.split(',').any(|x| x.trim() == t.id.to_string()))
                && q.get("contactId")
                    .is_none_or(|p| p.trim() == t.contact_id.to_string())
                && q.get("departmentId")
                    .is_none_or(|p| p.trim() == t.department_id.to_string())
                && q.get("assigneeId")
                    .is_none_or(|p| t.assignee_id.is_some_and(|x| p.trim() == x.to_string()))
                && q.get("_all").is_none_or(|p| {
                    let needle = p.trim_matches('*').to_lowercase();
                    [
                        Some(t.subject.as_str()),
                        t.description.as_deref(),
                        Some(num.as_str()),
                    ]
                    .iter()
                    .flatten()
                    .any(|v| has_words(v, &needle))
                })
        })
        .collect();
    let total = hits.len();
    let out = page(hits, from, limit)
        .into_iter()
        .map(|t| render_ticket(&sb, o, t, views::TICKET_SEARCH))
        .collect();
    Ok(search_result(out, total))
}

// ---------------------------------------------------------------------------------------------
// Call activities

const CALL_BODY_KEYS: &[&str] = &[
    "subject",
    "departmentId",
    "contactId",
    "ticketId",
    "direction",
    "startTime",
    "duration",
    "status",
    "ownerId",
    "priority",
    "description",
    "reminder",
    "cf",
    "customFields",
    "layoutId",
];

const CALL_STATUSES: &[&str] = &[
    "Completed",
    "Scheduled",
    "Missed",
    "Canceled",
    "In Progress",
];

async fn create_call(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "POST /calls",
        CALLS_CREATE,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    query(q, &[])?;
    let m = body_object(&headers, &body, CALL_BODY_KEYS)?;
    let mut errs = Vec::new();
    let subject = req_str(&m, "subject", 300, &mut errs);
    let req_id = |k: &str, errs: &mut Vec<FieldError>| {
        let v = opt_id(&m, k, errs);
        if v.is_none() && !errs.iter().any(|e| e.field == format!("/{k}")) {
            errs.push(field_err(
                &format!("/{k}"),
                "missing",
                format!("{k} is required"),
            ));
        }
        v
    };
    let department_id = req_id("departmentId", &mut errs);
    let contact_id = req_id("contactId", &mut errs);
    let ticket_id = opt_id(&m, "ticketId", &mut errs);
    let owner_id = opt_id(&m, "ownerId", &mut errs);
    let direction = req_str(&m, "direction", 20, &mut errs);
    if direction
        .as_deref()
        .is_some_and(|d| d != "inbound" && d != "outbound")
    {
        errs.push(field_err(
            "/direction",
            "invalid",
            "direction must be inbound or outbound",
        ));
    }
    let start = req_str(&m, "startTime", 100, &mut errs).and_then(|s| {
        parse_zoho_time(&s).or_else(|| {
            errs.push(field_err(
                "/startTime",
                "invalid",
                "startTime must be yyyy-MM-ddThh:mm:ss.SSSZ",
            ));
            None
        })
    });
    let duration = match m.get("duration") {
        None | Some(Value::Null) => {
            errs.push(field_err("/duration", "missing", "duration is required"));
            None
        }
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            errs.push(field_err(
                "/duration",
                "invalid",
                "duration must be a whole number of seconds",
            ));
            None
        }),
        Some(Value::String(s)) => s.parse::<u64>().ok().or_else(|| {
            errs.push(field_err(
                "/duration",
                "invalid",
                "duration must be a whole number of seconds",
            ));
            None
        }),
        Some(_) => {
            errs.push(field_err(
                "/duration",
                "invalid",
                "duration must be a whole number of seconds",
            ));
            None
        }
    };
    let status = req_str(&m, "status", 100, &mut errs);
    if status
        .as_deref()
        .is_some_and(|s| !CALL_STATUSES.contains(&s))
    {
        errs.push(field_err(
            "/status",
            "invalid",
            "status must be one of Completed, Scheduled, Missed, Canceled, In Progress",
        ));
    }
    let priority = opt_str(&m, "priority", 120, &mut errs);
    let description = opt_str(&m, "description", 65535, &mut errs);
    let mut st = sb.lock();
    {
        let o = org(&st, &a);
        if department_id.is_some_and(|d| o.department(d).is_none()) {
            errs.push(field_err(
                "/departmentId",
                "invalid",
                "departmentId does not name a department",
            ));
        }
        if contact_id.is_some_and(|c| !o.contacts.contains_key(&c)) {
            errs.push(field_err(
                "/contactId",
                "invalid",
                "contactId does not name a contact",
            ));
        }
        if ticket_id.is_some_and(|t| !o.tickets.contains_key(&t)) {
            errs.push(field_err(
                "/ticketId",
                "invalid",
                "ticketId does not name a ticket",
            ));
        }
        // Like a ticket's assignee, a call's owner must be an active agent of its department.
        if owner_id.is_some_and(|id| {
            o.agent(id).is_none_or(|ag| {
                !ag.active || department_id.is_some_and(|d| !ag.department_ids.contains(&d))
            })
        }) {
            errs.push(field_err(
                "/ownerId",
                "invalid",
                "ownerId does not name an active agent of the department",
            ));
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let now = st.now();
    let id = st.new_id();
    let creator = st.admin_agent_id;
    let c = Call {
        id,
        subject: subject.expect("validated"),
        department_id: department_id.expect("validated"),
        contact_id: contact_id.expect("validated"),
        ticket_id,
        owner_id,
        direction: direction.expect("validated"),
        start: start.expect("validated"),
        duration: duration.expect("validated"),
        status: status.expect("validated"),
        priority,
        description,
        created: now,
        creator_id: creator,
    };
    st.org_mut(a.org_id)
        .expect("org")
        .calls
        .insert(id, c.clone());
    let o = st.org(a.org_id).expect("org");
    Ok(Json(render_call(&sb, o, &c, views::CALL_GET)).into_response())
}

fn call_list(
    sb: &Sandbox,
    o: &OrgData,
    q: &Params,
    filter: impl Fn(&Call) -> bool,
) -> Result<Response, ApiError> {
    let (from, limit) = paging(q, 99)?;
    let dept = q
        .get("departmentId")
        .map(|d| parse_id(d, "departmentId"))
        .transpose()?;
    let mut items: Vec<&Call> = o
        .calls
        .values()
        .filter(|c| dept.is_none_or(|d| c.department_id == d))
        .filter(|c| {
            q.get("isCompleted")
                .is_none_or(|v| (v == "true") == c.is_closed())
        })
        .filter(|c| filter(c))
        .collect();
    match q.get("sortBy").map(String::as_str) {
        Some("createdTime") => items.sort_by_key(|c| (c.created, c.id)),
        _ => items.sort_by_key(|c| (c.start, c.id)),
    }
    let out = page(items, from, limit)
        .into_iter()
        .map(|c| render_call(sb, o, c, views::CALL_LIST))
        .collect();
    Ok(list(out))
}

async fn list_calls(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /calls",
        CALLS_READ,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    let q = query(
        q,
        &[
            "include",
            "departmentId",
            "limit",
            "from",
            "sortBy",
            "startTime",
            "departmentIds",
            "isCompleted",
        ],
    )?;
    let st = sb.lock();
    call_list(&sb, org(&st, &a), &q, |_| true)
}

async fn contact_calls(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /contacts/{id}/calls",
        CALLS_READ,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    let q = query(q, &["include", "limit", "from", "sortBy", "isCompleted"])?;
    let id = parse_id(&id, "contactId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    if !o.contacts.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    call_list(&sb, o, &q, |c| c.contact_id == id)
}

async fn ticket_calls(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /tickets/{id}/calls",
        CALLS_READ,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    let q = query(
        q,
        &[
            "include",
            "limit",
            "from",
            "sortBy",
            "isSpam",
            "isCompleted",
        ],
    )?;
    let id = parse_id(&id, "ticketId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    if !o.tickets.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    call_list(&sb, o, &q, |c| c.ticket_id == Some(id))
}

async fn get_call(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /calls/{id}",
        CALLS_READ,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    query(q, &["include"])?;
    let id = parse_id(&id, "callId")?;
    let st = sb.lock();
    let o = org(&st, &a);
    let c = o.calls.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(render_call(&sb, o, c, views::CALL_GET)).into_response())
}

async fn search_calls(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let a = gate(
        &sb,
        &headers,
        "GET /calls/search",
        CALLS_SEARCH,
        OrgNeed::Required,
        Feature::Calls,
    )
    .await?;
    let q = query(
        q,
        &[
            "ticketNumber",
            "startDateRange",
            "subject",
            "departmentId",
            "createdTimeRange",
            "priority",
            "_all",
            "limit",
            "from",
            "modifiedTimeRange",
            "sortBy",
            "id",
            "status",
        ],
    )?;
    let (from, limit) = paging(&q, 100)?;
    let range = match q.get("startDateRange") {
        None => None,
        Some(r) => {
            let parsed = r
                .split_once(',')
                .and_then(|(a, b)| Some((parse_zoho_time(a.trim())?, parse_zoho_time(b.trim())?)));
            match parsed {
                Some(p) => Some(p),
                None => {
                    return Err(ApiError::invalid(vec![field_err(
                        "startDateRange",
                        "invalid",
                        "startDateRange must be two ISO times separated by a comma",
                    )]))
                }
            }
        }
    };
    let st = sb.lock();
    let o = org(&st, &a);
    let hits: Vec<&Call> = o
        .calls
        .values()
        .filter(|c| indexed(&st, c.created))
        .filter(|c| {
            q.get("subject")
                .is_none_or(|p| matches(p, Some(&c.subject)))
                && q.get("status").is_none_or(|p| matches(p, Some(&c.status)))
                && q.get("priority")
                    .is_none_or(|p| matches(p, c.priority.as_deref()))
                && q.get("id")
                    .is_none_or(|p| p.split(',').any(|x| x.trim() == c.id.to_string()))
                && q.get("departmentId")
                    .is_none_or(|p| p.trim() == c.department_id.to_string())
                && range.is_none_or(|(from, to)| c.start >= from && c.start <= to)
                && q.get("_all").is_none_or(|p| {
                    let needle = p.trim_matches('*').to_lowercase();
                    [Some(c.subject.as_str()), c.description.as_deref()]
                        .iter()
                        .flatten()
                        .any(|v| has_words(v, &needle))
                })
        })
        .collect();
    let total = hits.len();
    let out = page(hits, from, limit)
        .into_iter()
        .map(|c| render_call(&sb, o, c, views::CALL_SEARCH))
        .collect();
    Ok(search_result(out, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_patterns_follow_zoho() {
        assert!(matches("5503302", Some("5503302")));
        assert!(!matches("550330", Some("5503302")));
        assert!(matches("*3302", Some("5503302")));
        assert!(matches("5503*", Some("5503302")));
        assert!(matches("*0330*", Some("5503302")));
        assert!(matches("111,5503302", Some("5503302")));
        assert!(!matches("+8613800138000", Some("13800138000")));
        assert!(!matches("*", Some("13800138000")));
        assert!(!matches("x", None));
        assert!(matches("JOHN*", Some("john carter")));
    }

    #[test]
    fn full_text_matches_whole_words() {
        assert!(has_words("Acme Ltd, +1 (415) 555-0134", "555-0134"));
        assert!(has_words("Acme Ltd, +1 (415) 555-0134", "acme 415"));
        assert!(!has_words("Acme Ltd, +1 (415) 555-0134", "0134"));
        assert!(!has_words("Acme Ltd", "acm"));
        assert!(has_words("5503310", "5503310"));
        assert!(!has_words("55033101", "5503310"));
        assert!(has_words("Call ID: 1702285525.16", "1702285525.16"));
        assert!(!has_words("anything", ""));
        assert!(has_words("Prefers a call back on 5503306.", "5503306"));
    }

    #[test]
    fn scopes_cover_their_operations() {
        assert!(scope_covers("Desk.contacts.ALL", "Desk.contacts.READ"));
        assert!(scope_covers("Desk.contacts.READ", "Desk.contacts.READ"));
        assert!(!scope_covers("Desk.contacts.READ", "Desk.contacts.CREATE"));
        assert!(scope_covers(
            "Desk.activities.ALL",
            "Desk.activities.calls.CREATE"
        ));
        assert!(!scope_covers("Desk.tickets.ALL", "Desk.contacts.READ"));
        assert!(has_scopes(
            &["Desk.search.READ".into(), "Desk.contacts.ALL".into()],
            CONTACTS_SEARCH
        ));
        assert!(!has_scopes(&["Desk.contacts.ALL".into()], CONTACTS_SEARCH));
        assert!(has_scopes(&["Desk.calls.CREATE".into()], CALLS_CREATE));
    }
}
