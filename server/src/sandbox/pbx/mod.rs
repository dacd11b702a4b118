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
//! - `extension/list` pages with `page` / `page_size` and `total_number`;
//! - `call/dial`, `call/hangup`, `call/query` over calls that emit the vendor's events
//!   ([`calls`]), pushed to the webhook with its signature ([`push`]);
//! - `cdr/list` over the calls that ended, and the event socket (`subscribe`, [`socket`]) with
//!   topic lists, heartbeats and an idle timeout;
//! - a console (`/sandbox/pbx/console`) that does what people do to phones: pick up, hang up,
//!   ring in from outside.
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

pub mod calls;
pub mod push;
mod socket;

use calls::{ConsoleError, Emit, Filter};
use push::Pusher;

/// The serial number the sandbox's events carry (`sn`).
pub const SANDBOX_SN: &str = "3631A2SANDBOX";

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
    /// `call/dial` requests that rang an extension.
    pub dials: u64,
    /// `call/hangup` requests that ended a call.
    pub hangups: u64,
    /// Recording files fetched.
    pub recordings_served: u64,
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
    /// Channel and call numbers.
    seq: u64,
    calls: Vec<calls::Call>,
    cdrs: Vec<calls::Cdr>,
    /// Switch: every dial fails with this 30015 reason.
    fail_dials: Option<String>,
    /// Download paths handed out by `recording/download` → (file, valid until).
    downloads: HashMap<String, (String, i64)>,
    /// Switch: the next `times` requests to an endpoint (`call/dial`) answer this errcode.
    inject: HashMap<String, (i64, u32)>,
    /// Switch: every API request (tokens, operations, downloads, the socket's upgrade) is
    /// answered this much later, as a PBX far away or busy is.
    latency_ms: u64,
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

/// `n` extensions numbered from 3000 (e-mails at `example.com`), ids after `first_id`.
fn generated(first_id: u64, n: usize) -> Vec<PbxExtension> {
    (0..n)
        .map(|i| PbxExtension {
            id: first_id + i as u64 + 1,
            number: (3000 + i).to_string(),
            caller_id_name: format!("Agent {}", 3000 + i),
            email_addr: format!("agent{}@example.com", 3000 + i),
            mobile_number: String::new(),
        })
        .collect()
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
    /// Where its events go.
    pub pusher: Pusher,
}

impl PbxSandbox {
    pub fn new(client_id: &str, client_secret: &str) -> PbxSandbox {
        let extensions = app::engine::directory::extensions::DEMO_EXTENSIONS
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
                seq: 0,
                calls: Vec::new(),
                cdrs: Vec::new(),
                fail_dials: None,
                downloads: HashMap::new(),
                inject: HashMap::new(),
                latency_ms: 0,
            }),
            pusher: Pusher::default(),
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
        self.lock().extensions = generated(0, n);
    }

    /// Keeps the extensions below 3000 and puts `n` generated ones after them (0: none), so a
    /// journey can sync a big PBX and come back to the demo one.
    pub fn add_generated_extensions(&self, n: usize) {
        let mut st = self.lock();
        st.extensions
            .retain(|e| e.number.parse::<u64>().map_or(true, |n| n < 3000));
        let first_id = st.extensions.iter().map(|e| e.id).max().unwrap_or(0);
        let more = generated(first_id, n);
        st.extensions.extend(more);
    }

    /// Points the webhook at `url` (what an admin types on the PBX's Webhook Event Push page).
    pub fn set_webhook(&self, url: &str) {
        self.pusher.configure(|c| c.url = Some(url.to_string()));
    }

    /// Waits until every event so far has reached the webhook (or was given up).
    pub async fn flushed(&self) {
        self.pusher.flushed().await
    }

    /// Runs a change of the calls and pushes what it emitted: its events, then a 30008 for
    /// each extension whose phone it turned ringing, busy or idle.
    fn act<T>(
        &self,
        change: impl FnOnce(&mut PbxState) -> Result<(T, Vec<Emit>), ConsoleError>,
    ) -> Result<T, ConsoleError> {
        let (out, emits) = {
            let mut st = self.lock();
            let before = st.phones();
            let (out, mut emits) = change(&mut st)?;
            emits.extend(st.phone_changes(&before));
            (out, emits)
        };
        self.pusher.emit(emits);
        Ok(out)
    }

    /// The phone of `extension` picks up its ringing call.
    pub fn answer_extension(&self, extension: &str) -> Result<(), ConsoleError> {
        self.act(|st| {
            let ch = st
                .ringing_channel(extension)
                .ok_or(ConsoleError::NotRinging)?;
            Ok(((), st.answer(&ch)?))
        })
    }

    /// On call `call_id`, the ringing phone of `number` picks up: an extension, or the
    /// outside number of a click-to-call. Any other party of the call named (the dialling
    /// agent, say) means its far end, as a simulator's "Answer" does.
    pub fn pick_up(&self, call_id: &str, number: &str) -> Result<(), ConsoleError> {
        self.act(|st| {
            let call = st
                .calls
                .iter()
                .find(|c| c.call_id == call_id)
                .ok_or(ConsoleError::NoSuchChannel)?;
            let ringing = |m: &&calls::Member| m.status == calls::Status::Ring;
            let named = |m: &&calls::Member| match &m.party {
                calls::Party::Extension { number: n } | calls::Party::Outbound { to: n, .. } => {
                    n == number
                }
                calls::Party::Inbound { .. } => false,
            };
            let member = call
                .members
                .iter()
                .filter(ringing)
                .find(named)
                .or_else(|| {
                    let far = call
                        .members
                        .iter()
                        .filter(ringing)
                        .find(|m| matches!(m.party, calls::Party::Outbound { .. }));
                    far.filter(|_| call.members.iter().any(|m| named(&m)))
                })
                .ok_or(ConsoleError::NotRinging)?;
            let ch = member.channel_id.clone();
            Ok(((), st.answer(&ch)?))
        })
    }

    /// Someone on call `call_id` hangs up.
    pub fn hang_up_call(&self, call_id: &str) -> Result<(), ConsoleError> {
        self.act(|st| {
            let ch = st
                .calls
                .iter()
                .find(|c| c.call_id == call_id)
                .and_then(|c| c.members.first())
                .map(|m| m.channel_id.clone())
                .ok_or(ConsoleError::NoSuchChannel)?;
            let (_, emits) = st.hang_up(&ch)?;
            Ok(((), emits))
        })
    }

    /// A caller from outside rings in on `did` and rings `extensions`; returns the call's id.
    pub fn ring_in(
        &self,
        from: &str,
        did: &str,
        extensions: &[String],
    ) -> Result<String, ConsoleError> {
        self.act(|st| st.place_inbound(from, did, extensions))
    }

    /// The calls in progress, as `call/query` shows them.
    pub fn calls_in_progress(&self) -> Vec<Value> {
        self.lock().calls.iter().map(calls::Call::to_json).collect()
    }

    /// The next `times` requests to `endpoint` (`call/dial`, `extension/list`…) answer
    /// `errcode`, whatever they ask.
    pub fn inject(&self, endpoint: &str, errcode: i64, times: u32) {
        if times > 0 {
            self.lock()
                .inject
                .insert(endpoint.to_string(), (errcode, times));
        }
    }

    /// Answers every API request `ms` later (0: at once).
    pub fn set_latency_ms(&self, ms: u64) {
        self.lock().latency_ms = ms;
    }

    /// Makes every dial fail with this 30015 reason (`None`: dials work).
    pub fn fail_dials(&self, reason: Option<&str>) {
        self.lock().fail_dials = reason.map(str::to_string);
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
    let endpoint = req
        .uri()
        .path()
        .rsplit("/openapi/v1.0/")
        .next()
        .unwrap_or("");
    let mut st = sb.lock();
    if let Some((errcode, times)) = st.inject.get_mut(endpoint) {
        let errcode = *errcode;
        *times -= 1;
        if *times == 0 {
            st.inject.remove(endpoint);
        }
        return Err(fail(errcode, errmsg_of(errcode)));
    }
    Ok(())
}

/// The PBX's words for an errcode (`docs/yeastar-openapi.md` §6).
fn errmsg_of(errcode: i64) -> &'static str {
    match errcode {
        -2 => "INTERNAL SERVER ERROR",
        10004 => "TOKEN EXPIRED",
        10005 => "ACCESS DENIED",
        40002 => "PARAMETER ERROR",
        60001 => "DATA NOT FOUND",
        60002 => "MAX LIMITATION EXCEEDED",
        70004 => "ACCOUNT IP BLOCKED",
        70087 => "IP FORBIDDEN",
        _ => "FAILURE",
    }
}

/// Reads a JSON object body (the token endpoints and the `POST` operations).
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

/// `page` (from 1) and `page_size` (`default`, at most `max`) of a list request.
fn paging(req: &Request, default: usize, max: usize) -> Result<(usize, usize), Answer> {
    let number = |name: &str, default: usize| -> Result<usize, Answer> {
        match query_param(req, name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| param_error(name, "range")),
        }
    };
    let page = number("page", 1)?;
    match number("page_size", default)? {
        size if size <= max => Ok((page, size)),
        _ => Err(param_error("page_size", "range")),
    }
}

/// The gate and the token of a `GET` operation.
fn get_operation(pbx: &PbxSandbox, req: &Request) -> Result<(), Answer> {
    gate(pbx, req, Method::GET)?;
    authorized(pbx, req).map(|_| ())
}

async fn extension_list(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r;
    }
    let (page, size) = match paging(&req, 20, MAX_PAGE_SIZE) {
        Ok(p) => p,
        Err(r) => return r,
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

/// The gate, the token and the JSON body of a `POST` operation.
async fn post_operation(
    pbx: &PbxSandbox,
    req: Request,
) -> Result<serde_json::Map<String, Value>, Answer> {
    gate(pbx, &req, Method::POST)?;
    authorized(pbx, &req)?;
    let body = body_object(req).await?;
    pbx.lock().stats.api_requests += 1;
    Ok(body)
}

/// `POST call/dial {caller, callee, auto_answer}`: rings the caller's extension first.
async fn call_dial(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    let body = match post_operation(pbx, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(caller) = text(&body, "caller") else {
        return param_error("caller", "required");
    };
    let Some(callee) = text(&body, "callee") else {
        return param_error("callee", "required");
    };
    let auto_answer = match body.get("auto_answer").and_then(Value::as_str) {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return param_error("auto_answer", "enum"),
    };
    let call_id = pbx
        .act(|st| Ok(st.dial(caller.trim(), callee.trim(), auto_answer)))
        .expect("a dial is always taken (it may fail later, with 30015)");
    answer(json!({ "errcode": 0, "errmsg": "SUCCESS", "call_id": call_id }))
}

/// `POST call/hangup {channel_id}`: the member on that channel hangs up; the call ends.
async fn call_hangup(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    let body = match post_operation(pbx, req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(channel) = text(&body, "channel_id") else {
        return param_error("channel_id", "required");
    };
    let ended = pbx.act(|st| {
        let ended = st.hang_up(channel.trim())?;
        st.stats.hangups += 1;
        Ok(ended)
    });
    match ended {
        Ok(call_id) => answer(json!({ "errcode": 0, "errmsg": "SUCCESS", "call_id": call_id })),
        Err(_) => fail(60001, "DATA NOT FOUND"),
    }
}

/// `GET call/query` with exactly one of `call_id`, `type`, `extension`.
async fn call_query(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r;
    }
    let given: Vec<(&str, String)> = ["call_id", "type", "extension"]
        .into_iter()
        .filter_map(|k| query_param(&req, k).map(|v| (k, v.trim().to_string())))
        .collect();
    let filter = match given.as_slice() {
        [("call_id", v)] => Filter::CallId(v.clone()),
        [("extension", v)] => Filter::Extension(v.clone()),
        [("type", v)] => match Filter::type_of(v) {
            Some(t) => Filter::Type(t),
            None => return param_error("type", "enum"),
        },
        [] => return param_error("call_id", "required"),
        _ => return param_error("type", "exclusive"),
    };
    let mut st = pbx.lock();
    st.stats.api_requests += 1;
    let data = st.query(&filter);
    if data.is_empty() {
        return fail(60001, "DATA NOT FOUND");
    }
    answer(json!({ "errcode": 0, "errmsg": "SUCCESS", "data": data }))
}

/// `GET cdr/list`: the CDRs of ended calls, paged (`page`, `page_size` up to 10,000), by `id`
/// or `time`, `asc` or `desc`. Each as the fact sheet's CDR_Details (`docs/decisions.md`
/// names the fields it had to infer).
async fn cdr_list(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r;
    }
    let (page, size) = match paging(&req, 10_000, 10_000) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let desc = match query_param(&req, "order_by").as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return param_error("order_by", "enum"),
    };
    let mut st = pbx.lock();
    st.stats.api_requests += 1;
    let total = st.cdrs.len();
    let mut all: Vec<&calls::Cdr> = st.cdrs.iter().collect();
    if desc {
        all.reverse();
    }
    let data: Vec<Value> = all
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(calls::Cdr::details)
        .collect();
    answer(json!({ "errcode": 0, "errmsg": "SUCCESS", "total_number": total, "data": data }))
}

/// How long a download path of `recording/download` works.
const DOWNLOAD_TTL_SECS: i64 = 1800;

/// `GET recording/download?file=`: a download path for a recording a CDR named, good for 30
/// minutes (`60001` for any other file).
async fn recording_download(State(sb): State<SharedSandbox>, req: Request) -> Answer {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r;
    }
    let Some(file) = query_param(&req, "file").filter(|f| !f.trim().is_empty()) else {
        return param_error("file", "required");
    };
    let mut st = pbx.lock();
    st.stats.api_requests += 1;
    if !st.cdrs.iter().any(|c| c.msg["recording"] == file.as_str()) {
        return fail(60001, "DATA NOT FOUND");
    }
    let path = format!("/api/download/Recording-{}.wav", pbx_token());
    let until = st.now() + DOWNLOAD_TTL_SECS;
    st.downloads.insert(path.clone(), (file.clone(), until));
    answer(json!({
        "errcode": 0, "errmsg": "SUCCESS", "file": file, "download_resource_url": path,
    }))
}

/// `GET /api/download/<name>?access_token=`: the recording's bytes (a short WAV), while its
/// download path is good.
async fn download(State(sb): State<SharedSandbox>, req: Request) -> Response {
    let pbx = &sb.pbx;
    if let Err(r) = get_operation(pbx, &req) {
        return r.into_response();
    }
    let path = req.uri().path().to_string();
    let key = path
        .find("/api/download/")
        .map(|i| path[i..].to_string())
        .unwrap_or_default();
    let mut st = pbx.lock();
    let now = st.now();
    match st.downloads.get(&key) {
        Some((_, until)) if *until > now => {}
        _ => return fail(60001, "DATA NOT FOUND").into_response(),
    }
    st.stats.recordings_served += 1;
    ([(header::CONTENT_TYPE, "audio/wav")], wav_tone()).into_response()
}

/// Half a second of a 440 Hz tone, 8 kHz 16-bit mono: something to play.
fn wav_tone() -> Vec<u8> {
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate / 2)
        .map(|i| {
            let t = i as f64 / rate as f64;
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect();
    let data_len = samples.len() as u32 * 2;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

async fn not_existed() -> Answer {
    fail(10001, "INTERFACE NOT EXISTED")
}

/// `POST /sandbox/pbx/control`: `{"advance_secs": n, "generate_extensions": n,
/// "add_generated_extensions": n,
/// "unblock": true, "cap_errcode": n, "webhook_url": "…" | null, "fail_dials": "reason" |
/// null, "msg_as_object": bool, "webhook_retries": n, "socket_idle_ms": n, "drop_sockets":
/// true, "sockets_away": bool, "latency_ms": n, "inject": {"endpoint": "call/dial", "errcode": 10005, "times":
/// 1}}`; answers the stats.
async fn control(State(sb): State<SharedSandbox>, Json(v): Json<Value>) -> Answer {
    let pbx = &sb.pbx;
    if let Some(s) = v.get("advance_secs").and_then(Value::as_i64) {
        pbx.advance(s);
    }
    if let Some(n) = v.get("generate_extensions").and_then(Value::as_u64) {
        pbx.generate_extensions(n as usize);
    }
    if let Some(n) = v.get("add_generated_extensions").and_then(Value::as_u64) {
        pbx.add_generated_extensions(n.min(100_000) as usize);
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
        if let Some(ms) = v.get("latency_ms").and_then(Value::as_u64) {
            st.latency_ms = ms.min(60_000);
        }
        if let Some(f) = v.get("fail_dials") {
            st.fail_dials = f.as_str().map(str::to_string);
        }
        if let Some(i) = v.get("inject") {
            let endpoint = i.get("endpoint").and_then(Value::as_str).unwrap_or("");
            let errcode = i.get("errcode").and_then(Value::as_i64).unwrap_or(-2);
            let times = i.get("times").and_then(Value::as_u64).unwrap_or(1) as u32;
            if !endpoint.is_empty() && times > 0 {
                st.inject.insert(endpoint.to_string(), (errcode, times));
            }
        }
    }
    pbx.pusher.configure(|c| {
        if let Some(u) = v.get("webhook_url") {
            c.url = u.as_str().map(str::to_string);
        }
        if let Some(o) = v.get("msg_as_object").and_then(Value::as_bool) {
            c.msg_as_object = o;
        }
        if let Some(n) = v.get("webhook_retries").and_then(Value::as_u64) {
            c.retries = n.clamp(1, 5) as u32;
        }
        if let Some(n) = v.get("socket_idle_ms").and_then(Value::as_u64) {
            c.socket_idle_ms = n;
        }
    });
    if v.get("drop_sockets").and_then(Value::as_bool) == Some(true) {
        pbx.pusher.drop_sockets();
    }
    if let Some(away) = v.get("sockets_away").and_then(Value::as_bool) {
        pbx.pusher.set_sockets_away(away);
    }
    let s = pbx.stats();
    let p = pbx.pusher.stats();
    answer(json!({
        "logins": s.logins, "failed_logins": s.failed_logins, "refreshes": s.refreshes,
        "revoked": s.revoked, "blocked_requests": s.blocked_requests,
        "max_live_access_tokens": s.max_live_access_tokens,
        "live_access_tokens": pbx.live_access_tokens(), "api_requests": s.api_requests,
        "dials": s.dials, "hangups": s.hangups,
        "webhook_url": pbx.pusher.config().url,
        "pushed": p.delivered, "push_given_up": p.given_up, "push_attempts": p.attempts,
        "sockets_opened": p.sockets_opened, "live_sockets": p.live_sockets,
        "heartbeats": p.heartbeats, "socket_events": p.socket_events,
        "calls": pbx.calls_in_progress(),
    }))
}

/// `POST /sandbox/pbx/console`: what people do to the PBX's phones —
/// `{"answer": "2005"}` (that extension picks up),
/// `{"pick_up": {"call_id": …, "number": "2005"}}` (that party of the call picks up),
/// `{"hang_up": call_id}`, `{"ring_in": {"from": "+49…", "did": "6500", "extensions":
/// ["2005"]}}`. Answers `{"ok": true, "call_id"?}` or `{"ok": false, "error": "…",
/// "problem": "no_such_call" | "not_ringing" | "no_such_extension" | "required"}`.
async fn console(State(sb): State<SharedSandbox>, Json(v): Json<Value>) -> Json<Value> {
    let pbx = &sb.pbx;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::trim);
    let done = if let Some(x) = text("answer") {
        pbx.answer_extension(x).map(|_| None)
    } else if let Some(p) = v.get("pick_up") {
        let field = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").trim();
        pbx.pick_up(field("call_id"), field("number")).map(|_| None)
    } else if let Some(c) = text("hang_up") {
        pbx.hang_up_call(c).map(|_| None)
    } else if let Some(r) = v.get("ring_in") {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let extensions: Vec<String> = r
            .get("extensions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        pbx.ring_in(field("from"), field("did"), &extensions)
            .map(Some)
    } else {
        Err(ConsoleError::Required(
            "answer, pick_up, hang_up or ring_in",
        ))
    };
    Json(match done {
        Ok(call_id) => json!({ "ok": true, "call_id": call_id }),
        Err(e) => {
            let problem = match &e {
                ConsoleError::NoSuchChannel => "no_such_call",
                ConsoleError::NotRinging => "not_ringing",
                ConsoleError::NoSuchExtension(_) => "no_such_extension",
                ConsoleError::Required(_) => "required",
            };
            json!({ "ok": false, "error": e.to_string(), "problem": problem })
        }
    })
}

/// The latency switch, before any API request is looked at.
async fn delayed(
    State(sb): State<SharedSandbox>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let ms = sb.pbx.lock().latency_ms;
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    next.run(req).await
}

/// The PBX sandbox's routes, under `/sandbox/pbx`: its API (behind the latency switch), and
/// the sandbox's own control and console.
pub(super) fn router(sandbox: SharedSandbox) -> Router<SharedSandbox> {
    let api = Router::new()
        .route("/openapi/v1.0/get_token", any(get_token))
        .route("/openapi/v1.0/refresh_token", any(refresh_token))
        .route("/openapi/v1.0/del_token", any(del_token))
        .route("/openapi/v1.0/extension/list", any(extension_list))
        .route("/openapi/v1.0/call/dial", any(call_dial))
        .route("/openapi/v1.0/call/hangup", any(call_hangup))
        .route("/openapi/v1.0/call/query", any(call_query))
        .route("/openapi/v1.0/cdr/list", any(cdr_list))
        .route("/openapi/v1.0/recording/download", any(recording_download))
        .route("/api/download/{name}", any(download))
        .route("/openapi/v1.0/subscribe", any(socket::subscribe))
        .route("/openapi/v1.0/{*rest}", any(not_existed))
        .layer(axum::middleware::from_fn_with_state(sandbox, delayed));
    Router::new()
        .merge(api)
        .route("/control", axum::routing::post(control).get(control_get))
        .route("/console", axum::routing::post(console).get(console_calls))
}

/// `GET /sandbox/pbx/console`: the calls in progress, as `call/query` shows them.
async fn console_calls(State(sb): State<SharedSandbox>) -> Json<Value> {
    Json(json!({ "calls": sb.pbx.calls_in_progress() }))
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
