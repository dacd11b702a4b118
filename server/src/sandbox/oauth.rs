//! The sandbox's accounts server: Zoho's OAuth 2.0 for server-based applications.
//!
//! Reproduces (docs/zoho-desk-api.md §1): the consent page with Accept and Deny, the
//! redirect carrying `code`, `location`, `accounts-server` and `state`; the token endpoint with
//! Zoho's JSON and its errors answered with HTTP 200 (`{"error":"invalid_code"}`), single-use
//! codes that expire, refresh tokens only with `access_type=offline` (and only on first consent
//! unless `prompt=consent`), the per-refresh-token limits; and revocation.

use std::collections::HashMap;

use axum::extract::{Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use time::Duration;

use super::state::{token, AuthCode, PendingConsent};
use super::{esc, SharedSandbox};

pub fn router() -> Router<SharedSandbox> {
    Router::new()
        .route("/oauth/v2/auth", get(authorize).post(decide))
        .route("/oauth/v2/token", post(token_endpoint))
        .route("/oauth/v2/token/revoke", post(revoke))
        .route("/oauth/serverinfo", get(server_info))
}

/// The data-centre code the sandbox reports in `location`.
const LOCATION: &str = "us";

/// Applies the outage and latency switches to an accounts-server request.
async fn faults(sb: &SharedSandbox) -> Result<(), Response> {
    let (outage, latency) = {
        let st = sb.lock();
        (st.settings.outage, st.settings.latency_ms)
    };
    if outage {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response());
    }
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    Ok(())
}

/// `GET /oauth/serverinfo`: location codes to accounts servers.
async fn server_info(State(sb): State<SharedSandbox>) -> Response {
    Json(json!({
        "result": "success",
        "locations": { LOCATION: sb.config().accounts_url() }
    }))
    .into_response()
}

/// Does `s` look like a Desk scope (`Desk.<module>[.<sub>].<OPERATION>`)?
pub(crate) fn valid_scope(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 3
        && parts[0] == "Desk"
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()))
        && matches!(
            parts[parts.len() - 1],
            "ALL" | "READ" | "CREATE" | "UPDATE" | "DELETE"
        )
}

fn scope_description(s: &str) -> String {
    let parts: Vec<&str> = s.split('.').collect();
    let op = match parts.last().copied().unwrap_or("") {
        "ALL" => "Full access to",
        "READ" => "Read",
        "CREATE" => "Create",
        "UPDATE" => "Update",
        "DELETE" => "Delete",
        _ => "Access",
    };
    let what = parts[1..parts.len().saturating_sub(1)].join(" ");
    format!("{op} {what}")
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<main class=\"card\"><h1>{}</h1><p>{}</p></main>",
        esc(title),
        esc(detail)
    );
    (status, Html(accounts_page(title, &body))).into_response()
}

fn accounts_page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Zoho Accounts (sandbox)</title><style>{CSS}</style></head>
<body><header class="bar"><strong>Zoho Accounts</strong> <span class="tag">SANDBOX — a local stand-in, not Zoho</span></header>{body}</body></html>"#,
        title = esc(title),
        CSS = ACCOUNTS_CSS,
    )
}

const ACCOUNTS_CSS: &str = "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;background:#f3f5f8;color:#1f2933}
.bar{background:#fff;border-bottom:1px solid #dde3ea;padding:12px 24px}.tag{margin-left:8px;font-size:12px;background:#fff4d6;color:#7a5200;padding:2px 8px;border-radius:10px}
.card{max-width:520px;margin:48px auto;background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:28px 32px}
h1{font-size:20px;margin:0 0 12px}ul{padding-left:20px}li{margin:4px 0}.muted{color:#52606d;font-size:13px}
.actions{display:flex;gap:12px;justify-content:flex-end;margin-top:24px}
button{font:inherit;padding:8px 20px;border-radius:6px;border:1px solid #c5cdd6;background:#fff;cursor:pointer}
button.primary{background:#1a73e8;border-color:#1a73e8;color:#fff}button:focus-visible{outline:3px solid #9cc3ff;outline-offset:1px}
code{background:#eef1f5;padding:1px 4px;border-radius:4px;font-size:13px}";

/// `GET /oauth/v2/auth`: validates the authorization request and shows the consent page.
async fn authorize(
    State(sb): State<SharedSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = faults(&sb).await {
        return r;
    }
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    let redirect_uri = q.get("redirect_uri").map(String::as_str).unwrap_or("");
    let mut st = sb.lock();
    let Some(client) = st.client(client_id).cloned() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid Client",
            "The client_id in this request is not registered. Check the Client ID in the API console.",
        );
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid Redirect Uri",
            "The redirect_uri in this request does not match the client's authorized redirect URIs.",
        );
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid Response Type",
            "response_type must be \"code\".",
        );
    }
    let scopes: Vec<String> = q
        .get("scope")
        .map(|s| {
            // Zoho separates scopes with commas; a space-joined list is one invalid scope.
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if scopes.is_empty() || !scopes.iter().all(|s| valid_scope(s)) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid OAuth Scope",
            "The scope parameter is missing or names a scope that does not exist.",
        );
    }
    let offline = match q.get("access_type").map(String::as_str) {
        None | Some("online") => false,
        Some("offline") => true,
        Some(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Invalid Access Type",
                "access_type must be \"online\" or \"offline\".",
            )
        }
    };
    let consent_id = token("consent");
    let now = st.now();
    st.consents
        .retain(|_, c| now - c.created < Duration::minutes(10));
    st.consents.insert(
        consent_id.clone(),
        PendingConsent {
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            scopes: scopes.clone(),
            state: q.get("state").cloned(),
            offline,
            prompt_consent: q.get("prompt").map(String::as_str) == Some("consent"),
            created: now,
        },
    );
    let user = st.admin_agent().clone();
    // Zoho Desk asks which of the user's organizations the application may reach; the
    // tokens reach those only. One organization is granted without asking.
    let orgs: Vec<String> = if st.orgs.len() == 1 {
        vec![format!(
            "<li>{}<input type=\"hidden\" name=\"org\" value=\"{}\"></li>",
            esc(&st.orgs[0].org.company_name),
            st.orgs[0].org.id
        )]
    } else {
        st.orgs
            .iter()
            .map(|o| {
                format!(
                    "<li><label><input type=\"checkbox\" name=\"org\" value=\"{id}\" checked> {name}</label></li>",
                    id = o.org.id,
                    name = esc(&o.org.company_name)
                )
            })
            .collect()
    };
    drop(st);

    let scope_items: String = scopes
        .iter()
        .map(|s| {
            format!(
                "<li>{} <code>{}</code></li>",
                esc(&scope_description(s)),
                esc(s)
            )
        })
        .collect();
    let body = format!(
        r#"<main class="card"><h1><span id="app-name">{app}</span> would like to access your Zoho Desk data</h1>
<p class="muted">Signed in as <strong>{user}</strong> ({email}).</p>
<p>It asks for:</p><ul id="scopes">{scope_items}</ul>
{offline_note}
<form method="post" action="auth" class="actions">
<p>Organizations it may access:</p><ul id="orgs">{orgs}</ul>
<input type="hidden" name="consent_id" value="{consent_id}">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="accept" class="primary">Accept</button>
</form></main>"#,
        app = esc(&client.name),
        user = esc(&user.name()),
        email = esc(&user.email),
        orgs = orgs.join(""),
        offline_note = if offline {
            "<p class=\"muted\">The application will keep access while you are offline.</p>"
        } else {
            ""
        },
        consent_id = esc(&consent_id),
    );
    Html(accounts_page("Authorize", &body)).into_response()
}

/// The consent form's fields: `consent_id`, `decision`, and one `org` per organization chosen.
struct Decision {
    consent_id: String,
    decision: String,
    orgs: Vec<String>,
}

fn decision_of(body: &[u8]) -> Decision {
    let mut d = Decision {
        consent_id: String::new(),
        decision: String::new(),
        orgs: Vec::new(),
    };
    for (k, v) in url::form_urlencoded::parse(body) {
        match &*k {
            "consent_id" => d.consent_id = v.into_owned(),
            "decision" => d.decision = v.into_owned(),
            "org" => d.orgs.push(v.into_owned()),
            _ => {}
        }
    }
    d
}

/// `POST /oauth/v2/auth`: the consent form's Accept or Deny; redirects to the client.
async fn decide(State(sb): State<SharedSandbox>, body: axum::body::Bytes) -> Response {
    if let Err(r) = faults(&sb).await {
        return r;
    }
    let d = decision_of(&body);
    let accounts_server = sb.config().accounts_url();
    let mut st = sb.lock();
    let Some(pending) = st.consents.remove(&d.consent_id) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Request expired",
            "This consent page has expired or was already answered. Start the authorization again.",
        );
    };
    let Ok(mut target) = url::Url::parse(&pending.redirect_uri) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid Redirect Uri",
            "The redirect URI is not a URL.",
        );
    };
    let mut chosen: Vec<u64> = d
        .orgs
        .iter()
        .filter_map(|o| o.parse().ok())
        .filter(|id| st.org(*id).is_some())
        .collect();
    chosen.dedup();
    if d.decision == "accept" && chosen.is_empty() {
        // Nothing to grant: the page asks again (the consent stays open).
        st.consents.insert(d.consent_id.clone(), pending);
        return error_page(
            StatusCode::BAD_REQUEST,
            "Choose an organization",
            "Choose at least one organization the application may access.",
        );
    }
    {
        let mut qp = target.query_pairs_mut();
        if d.decision == "accept" {
            let code = token("1000");
            let issue_refresh_token = pending.offline
                && (pending.prompt_consent || !st.has_refresh_token_for(&pending.client_id));
            let expires = st.now() + Duration::seconds(st.settings.code_lifetime_secs as i64);
            st.codes.insert(
                code.clone(),
                AuthCode {
                    client_id: pending.client_id,
                    redirect_uri: pending.redirect_uri.clone(),
                    scopes: pending.scopes,
                    orgs: chosen,
                    issue_refresh_token,
                    expires,
                    used: false,
                },
            );
            qp.append_pair("code", &code);
            qp.append_pair("location", LOCATION);
            qp.append_pair("accounts-server", &accounts_server);
        } else {
            qp.append_pair("error", "access_denied");
        }
        if let Some(s) = &pending.state {
            qp.append_pair("state", s);
        }
    }
    // Zoho answers the consent with a 302 to the client's redirect URI.
    (
        StatusCode::FOUND,
        [(header::LOCATION, target.as_str().to_string())],
    )
        .into_response()
}

/// Zoho answers token errors with HTTP 200 and `{"error": "<code>"}`.
fn token_error(code: &str) -> Response {
    Json(json!({ "error": code })).into_response()
}

/// Reads parameters from the query string, the form body, and HTTP Basic client credentials.
fn token_params(
    headers: &HeaderMap,
    raw_query: Option<String>,
    body: &[u8],
) -> HashMap<String, String> {
    let mut p: HashMap<String, String> = HashMap::new();
    if let Some(q) = raw_query {
        p.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    p.extend(url::form_urlencoded::parse(body).into_owned());
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        use base64_lite::decode;
        if let Some(decoded) = decode(basic.trim()) {
            if let Some((id, secret)) = decoded.split_once(':') {
                let unq = |s: &str| {
                    url::form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                p.entry("client_id".into()).or_insert_with(|| unq(id));
                p.entry("client_secret".into())
                    .or_insert_with(|| unq(secret));
            }
        }
    }
    p
}

/// `POST /oauth/v2/token`: `authorization_code` and `refresh_token` grants.
async fn token_endpoint(
    State(sb): State<SharedSandbox>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = faults(&sb).await {
        return r;
    }
    let p = token_params(&headers, raw_query, &body);
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let mut st = sb.lock();
    let Some(client) = st.client(get("client_id")).cloned() else {
        return token_error("invalid_client");
    };
    if client.client_secret != get("client_secret") {
        return token_error("invalid_client_secret");
    }
    let now = st.now();
    let lifetime = st.settings.access_token_lifetime_secs;
    let api_domain = format!("{}/sandbox/apis", sb.config().public_url);
    match get("grant_type") {
        "authorization_code" => {
            let Some(code) = st.codes.get_mut(get("code")) else {
                return token_error("invalid_code");
            };
            if code.used || code.expires <= now || code.client_id != client.client_id {
                return token_error("invalid_code");
            }
            if code.redirect_uri != get("redirect_uri") {
                return token_error("invalid_redirect_uri");
            }
            code.used = true;
            let (scopes, orgs) = (code.scopes.clone(), code.orgs.clone());
            let issue_refresh = code.issue_refresh_token;
            let refresh = issue_refresh
                .then(|| st.mint_refresh_token(&client.client_id, scopes.clone(), orgs.clone()));
            let access = st.mint_access_token(&client.client_id, scopes, orgs, refresh.as_deref());
            let mut body = json!({
                "access_token": access,
                "api_domain": api_domain,
                "token_type": "Bearer",
                "expires_in": lifetime,
            });
            if let Some(r) = refresh {
                body["refresh_token"] = json!(r);
            }
            Json(body).into_response()
        }
        "refresh_token" => {
            let limit = st.settings.refresh_limit_per_10min as usize;
            let rt_key = get("refresh_token").to_string();
            let Some(rt) = st.refresh_tokens.get_mut(&rt_key) else {
                return token_error("invalid_code");
            };
            if rt.client_id != client.client_id {
                return token_error("invalid_code");
            }
            while rt
                .minted
                .front()
                .is_some_and(|t| now - *t >= Duration::minutes(10))
            {
                rt.minted.pop_front();
            }
            if rt.minted.len() >= limit {
                return Json(json!({
                    "error": "Access Denied",
                    "error_description": "You have made too many requests continuously. Please try again after some time."
                }))
                .into_response();
            }
            rt.minted.push_back(now);
            let (scopes, orgs) = (rt.scopes.clone(), rt.orgs.clone());
            let access = st.mint_access_token(&client.client_id, scopes, orgs, Some(&rt_key));
            Json(json!({
                "access_token": access,
                "api_domain": api_domain,
                "token_type": "Bearer",
                "expires_in": lifetime,
            }))
            .into_response()
        }
        "" => token_error("invalid_request"),
        _ => token_error("unsupported_grant_type"),
    }
}

/// `POST /oauth/v2/token/revoke?token=…`: revokes a refresh token (and its access tokens), or
/// a single access token.
async fn revoke(
    State(sb): State<SharedSandbox>,
    RawQuery(raw_query): RawQuery,
    // Zoho documents the token in the query string (`?token=`); a token in the body is not
    // read.
    _body: axum::body::Bytes,
) -> Response {
    if let Err(r) = faults(&sb).await {
        return r;
    }
    let token = url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut st = sb.lock();
    if st.revoke_refresh_token(&token) || st.access_tokens.remove(&token).is_some() {
        Json(json!({"status": "success"})).into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": "failure", "error": "invalid_token"})),
        )
            .into_response()
    }
}

/// Minimal standard base64 decoding for HTTP Basic credentials (no extra crate for 20 lines).
mod base64_lite {
    pub fn decode(s: &str) -> Option<String> {
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let mut buf = 0u32;
        let mut bits = 0u32;
        for c in s.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => break,
                _ => return None,
            } as u32;
            buf = (buf << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
                buf &= (1 << bits) - 1;
            }
        }
        String::from_utf8(out).ok()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn decodes_basic_credentials() {
            assert_eq!(super::decode("dXNlcjpwYXNz").as_deref(), Some("user:pass"));
            assert_eq!(super::decode("YQ==").as_deref(), Some("a"));
            assert_eq!(super::decode("!!"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_scope;

    #[test]
    fn recognises_desk_scopes() {
        assert!(valid_scope("Desk.contacts.READ"));
        assert!(valid_scope("Desk.activities.calls.CREATE"));
        assert!(!valid_scope("Desk.contacts"));
        assert!(!valid_scope("ZohoCRM.modules.ALL"));
        assert!(!valid_scope("Desk.contacts.WRITE"));
    }
}
