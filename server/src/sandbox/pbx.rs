//! The PBX sandbox: a stand-in for a Yeastar P-Series PBX's OpenAPI v1.0
//! (`docs/yeastar-openapi.md`), as strict as the fact sheet says the real one is. Served at
//! `/sandbox/pbx/openapi/v1.0/…`; this first part covers authentication and extensions:
//! - every answer is HTTP 200 with `errcode` / `errmsg` (decide on `errcode`, not the status);
//! - `User-Agent` is mandatory (missing → 40002 with `invalid_param_list`);
//! - the access token travels only as `?access_token=` (an `Authorization` header is ignored:
//!   10004), expired or unknown tokens answer 10004;
//! - `get_token` issues 32-character tokens (access 30 min, refresh 24 h), at most 8 live access
//!   tokens per application (the 9th: 60002 MAX LIMITATION EXCEEDED, switchable);
//!   `refresh_token` rotates both and the old refresh token dies; `del_token` revokes;
//! - 5 failed logins in a row from one address block it (70004 ACCOUNT IP BLOCKED, for every
//!   request from it) until the block is lifted (`/sandbox/pbx/control`);
//! - a wrong method or an unknown path answers 10001 INTERFACE NOT EXISTED;
//! - `extension/list` pages with `page` / `page_size` and `total_number`.
//!
//! Its clock can be moved forward (`advance_secs`), so token lifetimes are tested without
//! waiting.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::SharedSandbox;

/// The PBX sandbox's demo API application (documented in README).
pub const DEMO_PBX_CLIENT_ID: &str = "pbxsandboxclient0000000000000001";
pub const DEMO_PBX_CLIENT_SECRET: &str = "pbx-sandbox-secret-0123456789abcd";

const ACCESS_TTL_SECS: i64 = 1800;
const REFRESH_TTL_SECS: i64 = 86_400;
const MAX_ACCESS_TOKENS: usize = 8;
const FAILED_LOGINS_TO_BLOCK: u32 = 5;
const MAX_PAGE_SIZE: usize = 1000;

/// One extension as `extension/list` shows it.
#[derive(Clone, Debug)]
pub struct PbxExtension {
    pub id: u64,
    pub number: String,
    pub caller_id_name: String,
    pub email_addr: String,
    pub mobile_number: String,
}

/// What a test reads back: how the client behaved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PbxStats {
    /// `get_token` requests with the right credentials that got a token.
    pub logins: u64,
    /// `get_token` requests refused for wrong credentials.
    pub failed_logins: u64,
    pub refreshes: u64,
    pub revoked: u64,
    /// Requests answered 70004 (from a blocked address).
    pub blocked_requests: u64,
    /// The most access tokens alive at once so far.
    pub max_live_access_tokens: usize,
    /// API requests other than the token endpoints.
    pub api_requests: u64,
}

struct PbxState {
    client_id: String,
    client_secret: String,
    /// Seconds added to the real clock.
    offset_secs: i64,
    access: HashMap<String, i64>,
    refresh: HashMap<String, i64>,
    failures: HashMap<IpAddr, u32>,
    blocked: HashSet<IpAddr>,
    cap_errcode: i64,
    extensions: Vec<PbxExtension>,
    stats: PbxStats,
}

impl PbxState {
    fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.offset_secs
    }

    fn live_access(&mut self) -> usize {
        let now = self.now();
        self.access.retain(|_, exp| *exp > now);
        self.access.len()
    }

    fn mint(&mut self) -> Value {
        let now = self.now();
        let access = pbx_token();
        let refresh = pbx_token();
        self.access.insert(access.clone(), now + ACCESS_TTL_SECS);
        self.refresh.insert(refresh.clone(), now + REFRESH_TTL_SECS);
        let live = self.live_access();
        self.stats.max_live_access_tokens = self.stats.max_live_access_tokens.max(live);
        json!({
            "errcode": 0, "errmsg": "SUCCESS",
            "access_token": access, "access_token_expire_time": ACCESS_TTL_SECS,
            "refresh_token": refresh, "refresh_token_expire_time": REFRESH_TTL_SECS,
        })
    }
}

/// A Yeastar-looking token: 32 alphanumeric characters.
fn pbx_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..32)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

/// The PBX sandbox's state (in the Zoho sandbox's process, behind its own lock).
pub struct PbxSandbox {
    state: Mutex<PbxState>,
}

impl PbxSandbox {
    pub fn new(client_id: &str, client_secret: &str) -> PbxSandbox {
        let extensions = app::engine::pbx::DEMO_EXTENSIONS
            .iter()
            .enumerate()
            .map(|(i, (number, name, email))| PbxExtension {
                id: i as u64 + 1,
                number: number.to_string(),
                caller_id_name: name.to_string(),
                email_addr: email.map(|e| e.trim().to_string()).unwrap_or_default(),
                mobile_number: String::new(),
            })
            .collect();
        PbxSandbox {
            state: Mutex::new(PbxState {
                client_id: client_id.to_string(),
                client_secret: client_secret.to_string(),
                offset_secs: 0,
                access: HashMap::new(),
                refresh: HashMap::new(),
                failures: HashMap::new(),
                blocked: HashSet::new(),
                cap_errcode: 60002,
                extensions,
                stats: PbxStats::default(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PbxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn stats(&self) -> PbxStats {
        self.lock().stats.clone()
    }

    /// Access tokens alive now.
    pub fn live_access_tokens(&self) -> usize {
        self.lock().live_access()
    }

    /// Moves the PBX's clock forward.
    pub fn advance(&self, secs: i64) {
        self.lock().offset_secs += secs;
    }

    /// Renames an extension (what an admin does on the PBX).
    pub fn rename_extension(&self, number: &str, name: &str) -> bool {
        let mut st = self.lock();
        match st.extensions.iter_mut().find(|e| e.number == number) {
            Some(e) => {
                e.caller_id_name = name.to_string();
                true
            }
            None => false,
        }
    }

    /// Deletes an extension on the PBX.
    pub fn remove_extension(&self, number: &str) -> bool {
        let mut st = self.lock();
        let before = st.extensions.len();
        st.extensions.retain(|e| e.number != number);
        st.extensions.len() < before
    }

    /// Replaces the extensions with `n` generated ones (numbers from 3000, e-mails at
    /// `example.com`), for tests at scale.
    pub fn generate_extensions(&self, n: usize) {
        self.lock().extensions = (0..n)
            .map(|i| PbxExtension {
                id: i as u64 + 1,
                number: (3000 + i).to_string(),
                caller_id_name: format!("Agent {}", 3000 + i),
                email_addr: format!("agent{}@example.com", 3000 + i),
                mobile_number: String::new(),
            })
            .collect();
    }
}

/// An answer of the PBX: always HTTP 200 with JSON, its `errcode` says how it went.
struct Answer(Value);

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

fn answer(v: Value) -> Answer {
    Answer(v)
}

fn fail(errcode: i64, errmsg: &str) -> Answer {
    answer(json!({ "errcode": errcode, "errmsg": errmsg }))
}

fn param_error(field: &str, kind: &str) -> Answer {
    answer(json!({
        "errcode": 40002, "errmsg": "PARAMETER ERROR",
        "invalid_param_list": [{ "field": field, "validation_type": kind }],
    }))
}

/// The caller's address (connections the app's server accepts carry it).
fn peer(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

fn query_param(req: &Request, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What every request passes first: the address not blocked, a `User-Agent`, the method.
fn gate(sb: &PbxSandbox, req: &Request, method: Method) -> Result<(), Answer> {
    let ip = peer(req);
    {
        let mut st = sb.lock();
        if st.blocked.contains(&ip) {
            st.stats.blocked_requests += 1;
            return Err(fail(70004, "ACCOUNT IP BLOCKED"));
        }
    }
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ua.trim().is_empty() {
        return Err(param_error("User-Agent", "required"));
    }
    if req.method() != method {
        return Err(fail(10001, "INTERFACE NOT EXISTED"));
    }
    Ok(())
}

/// Reads a JSON object body (the token endpoints).
async fn body_object(req: Request) -> Result<serde_json::Map<String, Value>, Answer> {
    let bytes = axum::body::to_bytes(req.into_body(), 64 * 1024)
        .await
        .map_err(|_| fail(40001, "PARAMETER SYNTAX ERROR"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(fail(40001, "PARAMETER SYNTAX ERROR")),
    }
}

fn text(m: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

async fn get_token(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = gate(pbx, &req, Method::POST) {
        return r;
    }
    let ip = peer(&req);
    let body = match body_object(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (Some(user), Some(pass)) = (text(&body, "username"), text(&body, "password")) else {
        let missing = if text(&body, "username").is_none() {
            "username"
        } else {
            "password"
        };
        return param_error(missing, "required");
    };
    let mut st = pbx.lock();
    if user != st.client_id || pass != st.client_secret {
        st.stats.failed_logins += 1;
        let n = st.failures.entry(ip).or_default();
        *n += 1;
        if *n >= FAILED_LOGINS_TO_BLOCK {
            st.blocked.insert(ip);
        }
        return answer(json!({
            "errcode": -1, "errmsg": "FAILURE",
            "invalid_param_list": [{ "field": "username or password", "value": "error" }],
        }));
    }
    st.failures.remove(&ip);
    if st.live_access() >= MAX_ACCESS_TOKENS {
        let code = st.cap_errcode;
        return fail(code, "MAX LIMITATION EXCEEDED");
    }
    st.stats.logins += 1;
    answer(st.mint())
}

async fn refresh_token(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = gate(pbx, &req, Method::POST) {
        return r;
    }
    let body = match body_object(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(refresh) = text(&body, "refresh_token") else {
        return param_error("refresh_token", "required");
    };
    let mut st = pbx.lock();
    let now = st.now();
    match st.refresh.remove(&refresh) {
        Some(exp) if exp > now => {}
        _ => return fail(10004, "TOKEN EXPIRED"),
    }
    if st.live_access() >= MAX_ACCESS_TOKENS {
        let code = st.cap_errcode;
        return fail(code, "MAX LIMITATION EXCEEDED");
    }
    st.stats.refreshes += 1;
    answer(st.mint())
}

/// The access token of a request (query parameter only), if it is alive.
fn authorized(pbx: &PbxSandbox, req: &Request) -> Result<String, Answer> {
    let token = query_param(req, "access_token").unwrap_or_default();
    let st = pbx.lock();
    let now = st.now();
    match st.access.get(&token) {
        Some(exp) if *exp > now => Ok(token),
        _ => Err(fail(10004, "TOKEN EXPIRED")),
    }
}

async fn del_token(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = gate(pbx, &req, Method::GET) {
        return r;
    }
    let token = match authorized(pbx, &req) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut st = pbx.lock();
    st.access.remove(&token);
    st.stats.revoked += 1;
    fail(0, "SUCCESS")
}

async fn extension_list(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = gate(pbx, &req, Method::GET) {
        return r;
    }
    if let Err(r) = authorized(pbx, &req) {
        return r;
    }
    let number = |name: &str, default: usize| -> Result<usize, Answer> {
        match query_param(&req, name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| param_error(name, "range")),
        }
    };
    let (page, size) = match (number("page", 1), number("page_size", 20)) {
        (Ok(p), Ok(s)) if s <= MAX_PAGE_SIZE => (p, s),
        (Ok(_), Ok(_)) => return param_error("page_size", "range"),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut st = pbx.lock();
    st.stats.api_requests += 1;
    let total = st.extensions.len();
    let data: Vec<Value> = st
        .extensions
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|e| {
            json!({
                "id": e.id, "number": e.number, "caller_id_name": e.caller_id_name,
                "email_addr": e.email_addr, "mobile_number": e.mobile_number,
                "role_name": "Employee", "presence_status": "available",
                "online_status": { "sip_phone": { "status": 1 } },
            })
        })
        .collect();
    answer(json!({ "errcode": 0, "errmsg": "SUCCESS", "total_number": total, "data": data }))
}

async fn not_existed() -> Answer {
    fail(10001, "INTERFACE NOT EXISTED")
}

/// `POST /sandbox/pbx/control`: `{"advance_secs": n, "generate_extensions": n,
/// "unblock": true, "cap_errcode": n}`; answers the stats.
async fn control(State(sb): State<SharedSandbox>, Json(v): Json<Value>) -> Answer {
    let pbx = &sb.pbx;
    if let Some(s) = v.get("advance_secs").and_then(Value::as_i64) {
        pbx.advance(s);
    }
    if let Some(n) = v.get("generate_extensions").and_then(Value::as_u64) {
        pbx.generate_extensions(n as usize);
    }
    {
        let mut st = pbx.lock();
        if v.get("unblock").and_then(Value::as_bool) == Some(true) {
            st.blocked.clear();
            st.failures.clear();
        }
        if let Some(c) = v.get("cap_errcode").and_then(Value::as_i64) {
            st.cap_errcode = c;
        }
    }
    let s = pbx.stats();
    answer(json!({
        "logins": s.logins, "failed_logins": s.failed_logins, "refreshes": s.refreshes,
        "revoked": s.revoked, "blocked_requests": s.blocked_requests,
        "max_live_access_tokens": s.max_live_access_tokens,
        "live_access_tokens": pbx.live_access_tokens(), "api_requests": s.api_requests,
    }))
}

/// The PBX sandbox's routes, under `/sandbox/pbx`.
pub(super) fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/openapi/v1.0/get_token", any(get_token))
        .route("/openapi/v1.0/refresh_token", any(refresh_token))
        .route("/openapi/v1.0/del_token", any(del_token))
        .route("/openapi/v1.0/extension/list", any(extension_list))
        .route("/openapi/v1.0/{*rest}", any(not_existed))
        .route("/control", axum::routing::post(control).get(control_get))
}

async fn control_get(State(sb): State<SharedSandbox>) -> Answer {
    control(State(sb), Json(json!({}))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_the_pbxs() {
        let t = pbx_token();
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t, pbx_token());
    }

    #[test]
    fn the_clock_moves_and_tokens_expire() {
        let sb = PbxSandbox::new("id", "secret");
        sb.lock().mint();
        assert_eq!(sb.live_access_tokens(), 1);
        sb.advance(ACCESS_TTL_SECS - 1);
        assert_eq!(sb.live_access_tokens(), 1);
        sb.advance(1);
        assert_eq!(sb.live_access_tokens(), 0);
    }
}
