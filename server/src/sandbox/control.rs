//! `/sandbox/control`: JSON switches for tests, demos and benchmarks.
//!
//! - `GET  /sandbox/control` — settings, counters, orgs, clients (without secrets), token counts
//! - `PATCH /sandbox/control` — change any of the settings (see [`Settings`]) and `edition`
//! - `POST /sandbox/control/reset` — seed data, default settings, zeroed counters
//! - `POST /sandbox/control/revoke-all` — every code, access and refresh token revoked
//! - `POST /sandbox/control/advance-clock` `{"secs": n}` — move the sandbox's clock forward
//! - `POST /sandbox/control/agents` `{"count": n}` — add generated agents (large-org tests)
//! - `DELETE /sandbox/control/agents/{id}` — an agent leaves the org
//! - `POST /sandbox/control/orgs` `{"companyName", "portalName", "edition"?}` — another org
//! - `POST /sandbox/control/clients` — register another OAuth client
//! - `POST /sandbox/control/contacts` — insert a contact as is (no API validation)

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::Duration;

use super::model::{Agent, Contact, Department, Org};
use super::state::{OrgData, RegisteredClient, State as SbState};
use super::SharedSandbox;

pub fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/", get(show).patch(update).post(update))
        .route("/reset", post(reset))
        .route("/revoke-all", post(revoke_all))
        .route("/advance-clock", post(advance_clock))
        .route("/agents", post(add_agents))
        .route("/agents/{id}", delete(remove_agent))
        .route("/orgs", post(add_org))
        .route("/clients", post(add_client))
        .route("/contacts", post(add_contact))
        .route("/contacts/{id}", delete(remove_contact))
}

const EDITIONS: &[&str] = &["FREE", "EXPRESS", "STANDARD", "PROFESSIONAL", "ENTERPRISE"];

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn view(st: &SbState) -> Value {
    json!({
        "settings": st.settings,
        "now": super::model::zoho_time(st.now()),
        "stats": st.stats,
        "credits_used": st.credits_used,
        "orgs": st.orgs.iter().map(|o| json!({
            "id": o.org.id.to_string(),
            "companyName": o.org.company_name,
            "portalName": o.org.portal_name,
            "edition": o.org.edition,
            "agents": o.agents.len(),
            "contacts": o.contacts.len(),
            "accounts": o.accounts.len(),
            "tickets": o.tickets.len(),
            "calls": o.calls.len(),
        })).collect::<Vec<_>>(),
        "clients": st.clients.iter().map(|c| json!({
            "client_id": c.client_id, "name": c.name, "redirect_uris": c.redirect_uris,
        })).collect::<Vec<_>>(),
        "tokens": {
            "access": st.access_tokens.len(),
            "refresh": st.refresh_tokens.len(),
        },
    })
}

async fn show(State(sb): State<SharedSandbox>) -> Json<Value> {
    Json(view(&sb.lock()))
}

/// A partial update of the settings; unknown keys are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    edition: Option<String>,
    /// Which org `edition` applies to (default: all).
    org_id: Option<String>,
    latency_ms: Option<u64>,
    error_rate: Option<f64>,
    fail_next: Option<u32>,
    throttle_next: Option<u32>,
    retry_after_secs: Option<u64>,
    #[serde(default, with = "double_option")]
    daily_credits: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    concurrency_limit: Option<Option<u32>>,
    outage: Option<bool>,
    access_token_lifetime_secs: Option<u64>,
    code_lifetime_secs: Option<u64>,
    refresh_limit_per_10min: Option<u32>,
    max_access_tokens_per_refresh: Option<usize>,
    max_refresh_tokens_per_client: Option<usize>,
    indexing_delay_secs: Option<u64>,
    /// Records' `webUrl` point under this base (`null`: the sandbox's own pages again).
    #[serde(default, with = "double_option")]
    web_url_base: Option<Option<String>>,
}

/// Tells `"key": null` (set to unlimited) apart from an absent key (unchanged).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn update(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let p: Patch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return bad(format!("invalid settings: {e}")),
    };
    if let Some(r) = p.error_rate {
        if !(0.0..=1.0).contains(&r) {
            return bad("error_rate must be between 0 and 1");
        }
    }
    if let Some(e) = &p.edition {
        if !EDITIONS.contains(&e.as_str()) {
            return bad(format!("edition must be one of {}", EDITIONS.join(", ")));
        }
    }
    if p.max_access_tokens_per_refresh == Some(0) || p.max_refresh_tokens_per_client == Some(0) {
        return bad("token limits must be at least 1");
    }
    if let Some(base) = p.web_url_base {
        *sb.web_url_base.lock().unwrap_or_else(|e| e.into_inner()) = base;
    }
    let mut st = sb.lock();
    if let Some(e) = p.edition {
        let target = p.org_id.as_deref().and_then(|s| s.parse::<u64>().ok());
        for o in st.orgs.iter_mut() {
            if target.is_none_or(|t| t == o.org.id) {
                o.org.edition = e.clone();
            }
        }
    }
    let s = &mut st.settings;
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = p.$f { s.$f = v; } )* };
    }
    set!(
        latency_ms,
        error_rate,
        fail_next,
        throttle_next,
        retry_after_secs,
        daily_credits,
        concurrency_limit,
        outage,
        access_token_lifetime_secs,
        code_lifetime_secs,
        refresh_limit_per_10min,
        max_access_tokens_per_refresh,
        max_refresh_tokens_per_client,
        indexing_delay_secs
    );
    Json(view(&st)).into_response()
}

async fn reset(State(sb): State<SharedSandbox>) -> Json<Value> {
    *sb.web_url_base.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let mut st = sb.lock();
    st.reset();
    Json(view(&st))
}

async fn revoke_all(State(sb): State<SharedSandbox>) -> Json<Value> {
    let mut st = sb.lock();
    st.revoke_all();
    Json(view(&st))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    secs: i64,
}

async fn advance_clock(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let a: Advance = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad(format!("expected {{\"secs\": n}}: {e}")),
    };
    let mut st = sb.lock();
    st.settings.clock_offset_secs += a.secs;
    Json(json!({ "now": super::model::zoho_time(st.now()) })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddAgents {
    count: usize,
    org_id: Option<String>,
}

fn target_org<'a>(st: &'a mut SbState, org_id: &Option<String>) -> Option<&'a mut OrgData> {
    match org_id {
        None => st.orgs.first_mut(),
        Some(id) => {
            let id = id.parse::<u64>().ok()?;
            st.org_mut(id)
        }
    }
}

/// Adds `count` generated agents (`Agent 0001 <agent0001@…>`; every tenth disabled).
async fn add_agents(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let a: AddAgents = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad(format!("expected {{\"count\": n}}: {e}")),
    };
    if a.count > 10_000 {
        return bad("count must be at most 10000");
    }
    let mut st = sb.lock();
    let ids: Vec<u64> = (0..a.count).map(|_| st.new_id()).collect();
    let Some(o) = target_org(&mut st, &a.org_id) else {
        return bad("no such org");
    };
    let dept = o.departments[0].id;
    let start = o.agents.len();
    for (i, id) in ids.into_iter().enumerate() {
        let n = start + i + 1;
        o.agents.push(Agent {
            id,
            first_name: "Agent".into(),
            last_name: format!("{n:04}"),
            email: format!("agent{n:04}@{}.example.com", o.org.portal_name),
            active: n % 10 != 0,
            admin: false,
            zuid: 80_000_000 + id % 10_000_000,
            extn: None,
            department_ids: vec![dept],
        });
    }
    Json(json!({ "agents": o.agents.len() })).into_response()
}

async fn remove_agent(State(sb): State<SharedSandbox>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return bad("agent id must be a number");
    };
    let mut st = sb.lock();
    for o in st.orgs.iter_mut() {
        if let Some(pos) = o.agents.iter().position(|a| a.id == id) {
            o.agents.remove(pos);
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such agent"})),
    )
        .into_response()
}

/// Deletes a contact for good, as an agent emptying Zoho Desk's trash: reads of it answer 404.
async fn remove_contact(State(sb): State<SharedSandbox>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return bad("contact id must be a number");
    };
    let mut st = sb.lock();
    for o in st.orgs.iter_mut() {
        if o.contacts.remove(&id).is_some() {
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such contact"})),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AddOrg {
    company_name: String,
    portal_name: String,
    edition: Option<String>,
    /// Whether the consenting user administers the new org (default: yes).
    admin: Option<bool>,
}

/// Adds an org the consenting user also belongs to, with one department and the admin agent.
async fn add_org(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let a: AddOrg = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return bad(format!("invalid org: {e}")),
    };
    if a.portal_name.is_empty()
        || !a
            .portal_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return bad("portalName must match [a-z0-9]+");
    }
    let edition = a.edition.unwrap_or_else(|| "STANDARD".into());
    if !EDITIONS.contains(&edition.as_str()) {
        return bad(format!("edition must be one of {}", EDITIONS.join(", ")));
    }
    let mut st = sb.lock();
    if st.orgs.iter().any(|o| o.org.portal_name == a.portal_name) {
        return bad("portalName is taken");
    }
    let now = st.now();
    let org_id = 60_001_234_567 + st.orgs.len() as u64 * 1000;
    let dept = Department {
        id: st.new_id(),
        name: "Support".into(),
        is_default: true,
        created: now,
    };
    let mut admin = st.admin_agent().clone();
    admin.id = st.new_id();
    admin.department_ids = vec![dept.id];
    admin.admin = a.admin.unwrap_or(true);
    let org = Org {
        id: org_id,
        portal_name: a.portal_name,
        company_name: a.company_name,
        edition,
        is_default: false,
        created: now - Duration::days(1),
    };
    st.orgs
        .push(OrgData::new(org, vec![dept], vec![admin], vec![], vec![]));
    Json(json!({ "id": org_id.to_string() })).into_response()
}

async fn add_client(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let c: RegisteredClient = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad(format!("invalid client: {e}")),
    };
    if c.client_id.is_empty() || c.client_secret.is_empty() || c.redirect_uris.is_empty() {
        return bad("client_id, client_secret and redirect_uris are required");
    }
    let mut st = sb.lock();
    st.clients.retain(|x| x.client_id != c.client_id);
    st.clients.push(c);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawContact {
    first_name: Option<String>,
    #[serde(default)]
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    description: Option<String>,
    org_id: Option<String>,
}

/// Inserts a contact exactly as given (data Zoho holds but its API would not let us create,
/// such as a contact with no name).
async fn add_contact(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    let r: RawContact = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("invalid contact: {e}")),
    };
    let mut st = sb.lock();
    let id = st.new_id();
    let now = st.now();
    let owner = Some(st.admin_agent_id);
    let Some(o) = target_org(&mut st, &r.org_id) else {
        return bad("no such org");
    };
    o.contacts.insert(
        id,
        Contact {
            id,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            phone: r.phone,
            mobile: r.mobile,
            description: r.description,
            owner_id: owner,
            created: Some(now),
            modified: Some(now),
            ..Default::default()
        },
    );
    Json(json!({ "id": id.to_string() })).into_response()
}
