//! The client of a Yeastar P-Series PBX's OpenAPI v1.0 (`docs/yeastar-openapi.md`), first
//! part: authentication and extensions. What the fact sheet asks of a client, it does:
//! - the mandatory `User-Agent` on every request, the token only as `?access_token=`;
//! - decisions on `errcode`, never on the HTTP status (the PBX answers 200 to errors too);
//! - one token for everyone, renewed by one caller at a time (the others wait and reuse it),
//!   a refresh a while before it expires, `get_token` again when the refresh is refused, and on
//!   `10004 TOKEN EXPIRED` one renewal and one retry — so the PBX's cap of 8 live access tokens
//!   is never approached;
//! - a refused login (wrong Client ID or Secret, `-1`) or a blocked address (`70004`) is reported
//!   and **not tried again** until someone changes the settings or asks explicitly
//!   ([`PbxApi::retry_login`]): five failed logins would get the address blocked;
//! - `del_token` when the connection ends ([`PbxApi::revoke`]).

use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};

use super::secrets::Sensitive;

/// What the client says it is (the PBX requires a `User-Agent`).
pub const USER_AGENT: &str = concat!("pbx-helpdesk/", env!("CARGO_PKG_VERSION"));
/// Renew the access token this long before the PBX says it expires.
const RENEW_MARGIN: Duration = Duration::from_secs(120);
const API: &str = "openapi/v1.0";

/// The vendor's webhook signature (`X-Signature`): Base64(HMAC-SHA256(secret, raw body)).
pub fn push_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` (an `X-Signature` header) is the body's under `secret`, in constant
/// time.
pub fn push_signature_valid(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PbxError {
    /// `-1` on `get_token`: the Client ID or Client Secret is wrong. Not tried again.
    #[error("the PBX refused the Client ID or Client Secret (errcode -1)")]
    BadCredentials,
    /// `70004`: the PBX blocked this address after failed logins. Not tried again.
    #[error(
        "the PBX blocked this server's address after failed logins (errcode 70004): unblock it on \
         the PBX under Security > Security Rules > Blocked IPs"
    )]
    IpBlocked,
    /// `70087`: the API's IP allow-list does not include this server.
    #[error("the PBX does not accept API requests from this server's address (errcode 70087)")]
    IpForbidden,
    /// `10005`: the API application may not use this resource.
    #[error("the PBX's API application has no permission for this (errcode 10005)")]
    AccessDenied,
    /// Any other non-zero `errcode`, with the PBX's own words.
    #[error("the PBX answered errcode {errcode} ({errmsg})")]
    Api { errcode: i64, errmsg: String },
    #[error("the PBX could not be reached: {0}")]
    Network(String),
    #[error("the PBX's answer could not be read: {0}")]
    Protocol(String),
}

impl PbxError {
    fn from_answer(errcode: i64, errmsg: &str) -> PbxError {
        match errcode {
            70004 => PbxError::IpBlocked,
            70087 => PbxError::IpForbidden,
            10005 => PbxError::AccessDenied,
            _ => PbxError::Api {
                errcode,
                errmsg: errmsg.to_string(),
            },
        }
    }

    /// A login that must not be repeated by itself.
    fn stops_logins(&self) -> bool {
        matches!(self, PbxError::BadCredentials | PbxError::IpBlocked)
    }
}

/// One extension as `extension/list` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PbxExtension {
    pub id: i64,
    pub number: String,
    #[serde(default)]
    pub caller_id_name: String,
    #[serde(default)]
    pub email_addr: String,
    #[serde(default)]
    pub mobile_number: String,
}

/// A page of extensions and how many there are in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionPage {
    pub total: usize,
    pub extensions: Vec<PbxExtension>,
}

/// What an operation sends.
#[derive(Clone, Copy)]
enum Request<'a> {
    Get(&'a [(&'a str, String)]),
    Post(&'a Value),
}

/// One party of a call in progress (`call/query`, 30011): an extension, or the trunk's
/// outside party.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallMember {
    /// The extension's number, or `None` for the trunk's side.
    pub extension: Option<String>,
    pub channel_id: String,
    /// `RING`, `ALERT`, `ANSWER`, `ANSWERED`, `HOLD`, `BYE` (upper case).
    pub status: String,
}

/// A call in progress on the PBX.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbxCall {
    pub call_id: String,
    pub members: Vec<CallMember>,
}

fn call_of(v: &Value) -> Result<PbxCall, PbxError> {
    let call_id = v
        .get("call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| PbxError::Protocol("a call without call_id".into()))?
        .to_string();
    let members = v
        .get("members")
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter_map(|m| {
                    let (kind, fields) = m.as_object()?.iter().next()?;
                    let field = |k: &str| {
                        fields
                            .get(k)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .trim()
                            .to_string()
                    };
                    Some(CallMember {
                        extension: (kind == "extension").then(|| field("number")),
                        channel_id: field("channel_id"),
                        status: field("member_status").to_ascii_uppercase(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PbxCall { call_id, members })
}

struct Tokens {
    access: Sensitive,
    access_until: Instant,
    refresh: Sensitive,
    refresh_until: Instant,
}

#[derive(Default)]
struct TokenState {
    tokens: Option<Tokens>,
    /// A login the PBX refused: reported again without asking the PBX.
    refused: Option<PbxError>,
}

/// A connection to one PBX's OpenAPI.
pub struct PbxApi {
    http: reqwest::Client,
    /// `https://pbx.example:8088`, no trailing slash.
    base_url: String,
    client_id: String,
    client_secret: Sensitive,
    state: tokio::sync::Mutex<TokenState>,
}

impl std::fmt::Debug for PbxApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PbxApi")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Reads an answer: its `errcode` decides, whatever the HTTP status.
fn read_answer(body: &[u8]) -> Result<Value, PbxError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| PbxError::Protocol(format!("not JSON ({e})")))?;
    let errcode = v
        .get("errcode")
        .and_then(Value::as_i64)
        .ok_or_else(|| PbxError::Protocol("no errcode".into()))?;
    if errcode == 0 {
        return Ok(v);
    }
    let errmsg = v.get("errmsg").and_then(Value::as_str).unwrap_or("");
    Err(PbxError::from_answer(errcode, errmsg))
}

fn tokens_from(v: &Value, now: Instant) -> Result<Tokens, PbxError> {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Sensitive::new)
            .ok_or_else(|| PbxError::Protocol(format!("no {k}")))
    };
    let secs = |k: &str, default: u64| v.get(k).and_then(Value::as_u64).unwrap_or(default);
    Ok(Tokens {
        access: text("access_token")?,
        access_until: now + Duration::from_secs(secs("access_token_expire_time", 1800)),
        refresh: text("refresh_token")?,
        refresh_until: now + Duration::from_secs(secs("refresh_token_expire_time", 86_400)),
    })
}

impl PbxApi {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        client_id: &str,
        client_secret: Sensitive,
    ) -> PbxApi {
        PbxApi {
            http,
            base_url: base_url.trim().trim_end_matches('/').to_string(),
            client_id: client_id.trim().to_string(),
            client_secret,
            state: Default::default(),
        }
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/{API}/{endpoint}", self.base_url)
    }

    /// Sends a request with the mandatory `User-Agent` and reads the PBX's answer. Network
    /// errors are kept without the URL: it can carry the token.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, PbxError> {
        let net = |e: reqwest::Error| PbxError::Network(e.without_url().to_string());
        let resp = req
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .map_err(net)?;
        read_answer(&resp.bytes().await.map_err(net)?)
    }

    async fn post(&self, endpoint: &str, body: &Value) -> Result<Value, PbxError> {
        self.send(self.http.post(self.url(endpoint)).json(body))
            .await
    }

    async fn get_with(
        &self,
        endpoint: &str,
        token: &Sensitive,
        query: &[(&str, String)],
    ) -> Result<Value, PbxError> {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.push(("access_token", token.expose().to_string()));
        self.send(self.http.get(self.url(endpoint)).query(&q)).await
    }

    /// A valid access token: the one held, else a refreshed one, else a new login. One caller
    /// renews at a time; `stale` is a token the PBX just refused (10004), renewed unless
    /// another caller already did.
    async fn token(&self, stale: Option<&Sensitive>) -> Result<Sensitive, PbxError> {
        let mut st = self.state.lock().await;
        if let Some(e) = &st.refused {
            return Err(e.clone());
        }
        let now = Instant::now();
        if let Some(t) = &st.tokens {
            let refused_now = stale.is_some_and(|s| s.expose() == t.access.expose());
            if !refused_now && t.access_until > now + RENEW_MARGIN {
                return Ok(t.access.clone());
            }
        }
        if let Some(t) = st.tokens.take().filter(|t| t.refresh_until > now) {
            let refreshed = self
                .post(
                    "refresh_token",
                    &json!({ "refresh_token": t.refresh.expose() }),
                )
                .await;
            match refreshed {
                Ok(v) => {
                    let fresh = tokens_from(&v, Instant::now())?;
                    let access = fresh.access.clone();
                    st.tokens = Some(fresh);
                    tracing::debug!("PBX access token refreshed");
                    return Ok(access);
                }
                Err(PbxError::Network(e)) => {
                    // The PBX is away: keep the tokens for the next try.
                    st.tokens = Some(t);
                    return Err(PbxError::Network(e));
                }
                // Refused (expired, revoked, rotated elsewhere): log in again.
                Err(e) => tracing::info!(error = %e, "PBX refresh refused; logging in again"),
            }
        }
        let login = self
            .post(
                "get_token",
                &json!({ "username": self.client_id, "password": self.client_secret.expose() }),
            )
            .await
            .map_err(|e| match e {
                PbxError::Api { errcode: -1, .. } => PbxError::BadCredentials,
                other => other,
            });
        match login {
            Ok(v) => {
                let fresh = tokens_from(&v, Instant::now())?;
                let access = fresh.access.clone();
                st.tokens = Some(fresh);
                tracing::info!("logged in to the PBX's API");
                Ok(access)
            }
            Err(e) => {
                if e.stops_logins() {
                    tracing::warn!(error = %e, "the PBX refused the login: not trying again");
                    st.refused = Some(e.clone());
                }
                Err(e)
            }
        }
    }

    /// A POST with the token (as `?access_token=`) and a JSON body.
    async fn post_with(
        &self,
        endpoint: &str,
        token: &Sensitive,
        body: &Value,
    ) -> Result<Value, PbxError> {
        self.send(
            self.http
                .post(self.url(endpoint))
                .query(&[("access_token", token.expose())])
                .json(body),
        )
        .await
    }

    /// A request with the token; on 10004 the token is renewed once and the request sent
    /// again.
    async fn call(&self, endpoint: &str, request: Request<'_>) -> Result<Value, PbxError> {
        let send = |token: Sensitive| async move {
            match request {
                Request::Get(q) => self.get_with(endpoint, &token, q).await,
                Request::Post(b) => self.post_with(endpoint, &token, b).await,
            }
        };
        let token = self.token(None).await?;
        match send(token.clone()).await {
            Err(PbxError::Api { errcode: 10004, .. }) => {
                send(self.token(Some(&token)).await?).await
            }
            other => other,
        }
    }

    async fn get(&self, endpoint: &str, query: &[(&str, String)]) -> Result<Value, PbxError> {
        self.call(endpoint, Request::Get(query)).await
    }

    /// After the settings changed, or an admin asks again: the next request may log in.
    pub async fn retry_login(&self) {
        self.state.lock().await.refused = None;
    }

    /// `extension/list`: page `page` (from 1) of `page_size`, by number.
    pub async fn extensions(
        &self,
        page: usize,
        page_size: usize,
    ) -> Result<ExtensionPage, PbxError> {
        let v = self
            .get(
                "extension/list",
                &[
                    ("page", page.to_string()),
                    ("page_size", page_size.to_string()),
                    ("sort_by", "number".into()),
                    ("order_by", "asc".into()),
                ],
            )
            .await?;
        let total =
            v.get("total_number")
                .and_then(Value::as_u64)
                .ok_or_else(|| PbxError::Protocol("no total_number".into()))? as usize;
        let extensions = match v.get("data") {
            None | Some(Value::Null) => Vec::new(),
            Some(d) => serde_json::from_value(d.clone())
                .map_err(|e| PbxError::Protocol(format!("extension list: {e}")))?,
        };
        Ok(ExtensionPage { total, extensions })
    }

    /// Every extension, page by page (`page_size` each) until `total_number` are read.
    /// `progress` hears (read, total) after each page.
    pub async fn all_extensions(
        &self,
        page_size: usize,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<PbxExtension>, PbxError> {
        let mut all = Vec::new();
        for page in 1.. {
            let p = self.extensions(page, page_size).await?;
            let got = p.extensions.len();
            all.extend(p.extensions);
            progress(all.len(), p.total);
            if got == 0 || all.len() >= p.total {
                break;
            }
        }
        Ok(all)
    }

    /// `call/dial`: the PBX rings `caller` (an extension) and, once it answers, dials
    /// `callee`. Returns the PBX's `call_id`; a call the PBX cannot set up fails later, with
    /// the event 30015.
    pub async fn dial(&self, caller: &str, callee: &str) -> Result<String, PbxError> {
        self.dial_with(caller, callee, false).await
    }

    /// `call/dial` with `auto_answer`: a phone that supports it picks up by itself, so the
    /// callee is dialled at once.
    pub async fn dial_with(
        &self,
        caller: &str,
        callee: &str,
        auto_answer: bool,
    ) -> Result<String, PbxError> {
        let mut body = json!({ "caller": caller, "callee": callee });
        if auto_answer {
            body["auto_answer"] = "yes".into();
        }
        let v = self.call("call/dial", Request::Post(&body)).await?;
        v.get("call_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| PbxError::Protocol("no call_id".into()))
    }

    /// `call/hangup`: the member on `channel_id` hangs up.
    pub async fn hangup(&self, channel_id: &str) -> Result<(), PbxError> {
        self.call(
            "call/hangup",
            Request::Post(&json!({ "channel_id": channel_id })),
        )
        .await
        .map(|_| ())
    }

    /// `call/query?extension=`: the calls in progress of one extension (none: an empty list,
    /// though the PBX answers that with `60001`).
    pub async fn calls_of_extension(&self, extension: &str) -> Result<Vec<PbxCall>, PbxError> {
        self.query_calls("extension", extension)
            .await?
            .iter()
            .map(call_of)
            .collect()
    }

    /// `call/query` with its one filter: the calls as the PBX gives them (its `60001` for none
    /// read as an empty list).
    async fn query_calls(&self, filter: &str, value: &str) -> Result<Vec<Value>, PbxError> {
        match self.get("call/query", &[(filter, value.to_string())]).await {
            Ok(v) => Ok(v
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()),
            Err(PbxError::Api { errcode: 60001, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// A valid access token (the held one, or a renewed one): what the event socket opens
    /// with.
    pub async fn access_token(&self) -> Result<Sensitive, PbxError> {
        self.token(None).await
    }

    /// The PBX's address (`https://pbx.example:8088`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every call in progress (`call/query` by type: inbound, outbound, internal), each as the
    /// PBX gives it (`call_id`, `members`).
    pub async fn calls_in_progress(&self) -> Result<Vec<Value>, PbxError> {
        let mut all = Vec::new();
        for ty in ["inbound", "outbound", "internal"] {
            all.extend(self.query_calls("type", ty).await?);
        }
        Ok(all)
    }

    /// The CDRs of calls that started at or after `from_secs` (unix seconds), newest first,
    /// read page by page until an older one.
    pub async fn cdrs_since(&self, from_secs: i64) -> Result<Vec<Value>, PbxError> {
        const PAGE: usize = 200;
        let mut out = Vec::new();
        for page in 1.. {
            let v = self
                .get(
                    "cdr/list",
                    &[
                        ("page", page.to_string()),
                        ("page_size", PAGE.to_string()),
                        ("sort_by", "id".into()),
                        ("order_by", "desc".into()),
                    ],
                )
                .await?;
            let data = v
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let n = data.len();
            let mut older = false;
            for d in data {
                match d.get("timestamp").and_then(Value::as_i64) {
                    Some(t) if t < from_secs => older = true,
                    _ => out.push(d),
                }
            }
            if older || n < PAGE {
                break;
            }
        }
        Ok(out)
    }

    /// `recording/download?file=`: where the recording can be fetched from (a path on the PBX,
    /// good for 30 minutes).
    pub async fn recording_url(&self, file: &str) -> Result<String, PbxError> {
        let v = self
            .get("recording/download", &[("file", file.to_string())])
            .await?;
        v.get("download_resource_url")
            .and_then(Value::as_str)
            .filter(|p| p.starts_with('/'))
            .map(str::to_string)
            .ok_or_else(|| PbxError::Protocol("no download_resource_url".into()))
    }

    /// Fetches a download path of the PBX (with the token): the answer, to stream on. A JSON
    /// answer is the PBX's errcode.
    pub async fn download(&self, path: &str) -> Result<reqwest::Response, PbxError> {
        let net = |e: reqwest::Error| PbxError::Network(e.without_url().to_string());
        let token = self.token(None).await?;
        let resp = self
            .http
            .get(format!("{}{path}", self.base_url))
            .query(&[("access_token", token.expose())])
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .send()
            .await
            .map_err(net)?;
        let json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        if json {
            let body = resp.bytes().await.map_err(net)?;
            read_answer(&body)?;
            return Err(PbxError::Protocol(
                "a JSON answer instead of the file".into(),
            ));
        }
        if !resp.status().is_success() {
            return Err(PbxError::Protocol(format!(
                "the download answered HTTP {}",
                resp.status().as_u16()
            )));
        }
        Ok(resp)
    }

    /// `del_token`: revokes the access token held (the connection ends), so that tokens do
    /// not pile up against the PBX's cap.
    pub async fn revoke(&self) -> Result<(), PbxError> {
        let held = self.state.lock().await.tokens.take();
        match held {
            Some(t) if t.access_until > Instant::now() => {
                self.get_with("del_token", &t.access, &[]).await.map(|_| ())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_read_from_the_one_key_each_has() {
        let v = json!({ "call_id": "1733000000.7", "members": [
            { "inbound": { "from": "+4915112345", "to": "6500", "trunk_name": "sip-main",
                           "channel_id": "PJSIP/sip-main-0000001a", "member_status": "answered" } },
            { "extension": { "number": "2001", "channel_id": "PJSIP/2001-0000001b",
                             "member_status": "ANSWER", "call_path": " " } },
        ]});
        let call = call_of(&v).unwrap();
        assert_eq!(call.call_id, "1733000000.7");
        assert_eq!(
            call.members,
            vec![
                CallMember {
                    extension: None,
                    channel_id: "PJSIP/sip-main-0000001a".into(),
                    status: "ANSWERED".into()
                },
                CallMember {
                    extension: Some("2001".into()),
                    channel_id: "PJSIP/2001-0000001b".into(),
                    status: "ANSWER".into()
                },
            ]
        );
    }

    #[test]
    fn the_push_signature_is_base64_of_the_hmac() {
        // Computed apart from this code: Python's hmac + base64 over the same bytes.
        let body = br#"{"type":30012}"#;
        let secret = "pbxsandboxwebhooksecret000000001";
        assert_eq!(
            push_signature(secret, body),
            "iItbTUdS5POjayvCFc0pC3IX2uNPowPSuAqZd81I6zI="
        );
        assert!(push_signature_valid(
            secret,
            body,
            "iItbTUdS5POjayvCFc0pC3IX2uNPowPSuAqZd81I6zI="
        ));
        assert!(!push_signature_valid(
            secret,
            b"{}",
            &push_signature(secret, body)
        ));
        assert!(!push_signature_valid(
            "other",
            body,
            &push_signature(secret, body)
        ));
        assert!(!push_signature_valid(secret, body, "not base64!"));
    }

    #[test]
    fn errcode_decides_not_the_status() {
        assert!(read_answer(br#"{"errcode":0,"errmsg":"SUCCESS","x":1}"#).is_ok());
        assert_eq!(
            read_answer(br#"{"errcode":70004,"errmsg":"ACCOUNT IP BLOCKED"}"#),
            Err(PbxError::IpBlocked)
        );
        assert_eq!(
            read_answer(br#"{"errcode":60002,"errmsg":"MAX LIMITATION EXCEEDED"}"#),
            Err(PbxError::Api {
                errcode: 60002,
                errmsg: "MAX LIMITATION EXCEEDED".into()
            })
        );
        assert!(matches!(read_answer(b"<html>"), Err(PbxError::Protocol(_))));
        assert!(matches!(read_answer(b"{}"), Err(PbxError::Protocol(_))));
    }
}
