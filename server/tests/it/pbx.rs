//! The PBX's OpenAPI (issue 16, first part): the client against the PBX sandbox — one shared
//! token, renewed by one caller at a time, never near the 8-token cap; a wrong secret reported
//! once and not retried; a blocked address respected; extensions read page by page — and the
//! sandbox as strict as the fact sheet (User-Agent, token only in the query, errcodes).

use app::engine::secrets::Sensitive;
use app::engine::yeastar::{PbxApi, PbxError};
use serde_json::{json, Value};
use server::sandbox::pbx::{DEMO_PBX_CLIENT_ID, DEMO_PBX_CLIENT_SECRET};

use crate::support::app::*;

fn pbx_base(app: &TestApp) -> String {
    format!("{}/sandbox/pbx", app.base)
}

fn client(app: &TestApp, secret: &str) -> PbxApi {
    PbxApi::new(
        reqwest::Client::new(),
        &pbx_base(app),
        DEMO_PBX_CLIENT_ID,
        Sensitive::new(secret),
    )
}

/// A raw request to the PBX sandbox, as any HTTP client could send it.
async fn raw(app: &TestApp, method: &str, path: &str, ua: bool, body: Option<Value>) -> Value {
    let url = format!("{}/openapi/v1.0/{path}", pbx_base(app));
    let mut req = match method {
        "POST" => app.http.post(url),
        _ => app.http.get(url),
    };
    if ua {
        req = req.header("User-Agent", "test-client");
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "the PBX answers errors with 200 too");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn one_token_is_shared_renewed_and_never_near_the_cap() {
    let app = TestApp::spawn().await;
    let pbx = client(&app, DEMO_PBX_CLIENT_SECRET);
    // Twenty requests at once: one login, everyone uses its token.
    let pages = futures::future::join_all((0..20).map(|_| pbx.extensions(1, 5))).await;
    for p in &pages {
        let p = p.as_ref().unwrap();
        assert_eq!((p.total, p.extensions.len()), (7, 5), "{p:?}");
    }
    let s = app.sandbox.pbx.stats();
    assert_eq!((s.logins, s.refreshes, s.api_requests), (1, 0, 20));

    // An hour of load, five minutes at a time. The PBX's clock runs ahead of ours here, so the
    // PBX expires the token first: its 10004 is met with one refresh (one caller renews, the
    // others reuse it), never a new login, and the PBX never holds more than two of ours.
    for _ in 0..12 {
        app.sandbox.pbx.advance(300);
        let all = futures::future::join_all((0..5).map(|_| pbx.extensions(1, 100))).await;
        assert!(all.iter().all(Result::is_ok), "{all:?}");
    }
    let s = app.sandbox.pbx.stats();
    assert_eq!(s.logins, 1, "refreshed, not logged in again");
    assert!(s.refreshes >= 2, "{s:?}");
    assert!(s.max_live_access_tokens <= 2, "{s:?}");

    // A day later even the refresh token is gone: one new login.
    app.sandbox.pbx.advance(86_400);
    pbx.extensions(1, 5).await.unwrap();
    assert_eq!(app.sandbox.pbx.stats().logins, 2);

    // Revoked when the connection ends.
    let live = app.sandbox.pbx.live_access_tokens();
    pbx.revoke().await.unwrap();
    assert_eq!(app.sandbox.pbx.live_access_tokens(), live - 1);
    assert_eq!(app.sandbox.pbx.stats().revoked, 1);
}

#[tokio::test]
async fn a_slow_pbx_still_gets_one_login_and_one_refresh_for_a_crowd() {
    let app = TestApp::spawn().await;
    // Every answer of the PBX takes 150 ms (the latency switch): twenty requests arriving
    // together all wait on the same login instead of each starting one.
    app.http
        .post(format!("{}/control", pbx_base(&app)))
        .json(&json!({"latency_ms": 150}))
        .send()
        .await
        .unwrap();
    let pbx = client(&app, DEMO_PBX_CLIENT_SECRET);
    let started = std::time::Instant::now();
    let pages = futures::future::join_all((0..20).map(|_| pbx.extensions(1, 5))).await;
    assert!(pages.iter().all(Result::is_ok), "{pages:?}");
    // A login then the request: the switch holds each answer back.
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let s = app.sandbox.pbx.stats();
    assert_eq!((s.logins, s.refreshes, s.api_requests), (1, 0, 20));

    // The PBX drops the token; the crowd meets 10004 together: still one renewal.
    app.sandbox.pbx.advance(1800);
    let again = futures::future::join_all((0..20).map(|_| pbx.extensions(1, 5))).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");
    let s = app.sandbox.pbx.stats();
    assert_eq!(s.refreshes + s.logins, 2, "{s:?}");
    assert!(s.max_live_access_tokens <= 2, "{s:?}");
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_request_sent_again() {
    let app = TestApp::spawn().await;
    let pbx = client(&app, DEMO_PBX_CLIENT_SECRET);
    pbx.extensions(1, 5).await.unwrap();
    // The PBX holds the token for less time than it said (a restart, a revoke by an admin):
    // the next request gets 10004, renews once and succeeds.
    app.sandbox.pbx.advance(1800);
    let before = app.sandbox.pbx.stats();
    let p = pbx.extensions(1, 5).await.unwrap();
    assert_eq!(p.total, 7);
    let after = app.sandbox.pbx.stats();
    assert_eq!(
        after.refreshes + after.logins,
        before.refreshes + before.logins + 1
    );
}

#[tokio::test]
async fn a_wrong_secret_is_reported_once_and_not_retried_and_a_block_is_respected() {
    let app = TestApp::spawn().await;
    let wrong = client(&app, "not-the-secret");
    assert_eq!(wrong.extensions(1, 5).await, Err(PbxError::BadCredentials));
    // Asked again, it says the same without asking the PBX: no storm toward the IP block.
    for _ in 0..10 {
        assert_eq!(wrong.extensions(1, 5).await, Err(PbxError::BadCredentials));
    }
    assert_eq!(app.sandbox.pbx.stats().failed_logins, 1);

    // Someone else fails four more times: the PBX blocks the address, for every request.
    for _ in 0..4 {
        let r = raw(
            &app,
            "POST",
            "get_token",
            true,
            Some(json!({"username": DEMO_PBX_CLIENT_ID, "password": "guess"})),
        )
        .await;
        assert_eq!(r["errcode"], -1, "{r}");
        assert_eq!(r["invalid_param_list"][0]["field"], "username or password");
    }
    let right = client(&app, DEMO_PBX_CLIENT_SECRET);
    assert_eq!(right.extensions(1, 5).await, Err(PbxError::IpBlocked));
    assert_eq!(right.extensions(1, 5).await, Err(PbxError::IpBlocked));
    assert_eq!(
        app.sandbox.pbx.stats().blocked_requests,
        1,
        "the block is not hammered"
    );
    assert!(PbxError::IpBlocked.to_string().contains("Blocked IPs"));

    // Unblocked on the PBX, and asked to try again: it works.
    app.http
        .post(format!("{}/control", pbx_base(&app)))
        .json(&json!({"unblock": true}))
        .send()
        .await
        .unwrap();
    right.retry_login().await;
    assert_eq!(right.extensions(1, 5).await.unwrap().total, 7);
}

#[tokio::test]
async fn two_thousand_extensions_are_read_page_by_page() {
    let app = TestApp::spawn().await;
    app.sandbox.pbx.generate_extensions(2000);
    let pbx = client(&app, DEMO_PBX_CLIENT_SECRET);
    let mut seen = Vec::new();
    let all = pbx
        .all_extensions(500, |read, total| seen.push((read, total)))
        .await
        .unwrap();
    assert_eq!(all.len(), 2000);
    assert_eq!(
        seen,
        [(500, 2000), (1000, 2000), (1500, 2000), (2000, 2000)]
    );
    assert_eq!(all[0].number, "3000");
    assert_eq!(all[1999].email_addr, "agent4999@example.com");
    assert_eq!(app.sandbox.pbx.stats().api_requests, 4);
}

#[tokio::test]
async fn the_pbx_sandbox_is_as_strict_as_the_fact_sheet() {
    let app = TestApp::spawn().await;
    let login = json!({"username": DEMO_PBX_CLIENT_ID, "password": DEMO_PBX_CLIENT_SECRET});
    // No User-Agent: 40002 naming it.
    let r = raw(&app, "POST", "get_token", false, Some(login.clone())).await;
    assert_eq!(
        r,
        json!({"errcode": 40002, "errmsg": "PARAMETER ERROR",
               "invalid_param_list": [{"field": "User-Agent", "validation_type": "required"}]})
    );
    // A wrong method or an unknown path: 10001.
    let r = raw(&app, "GET", "get_token", true, None).await;
    assert_eq!(
        r,
        json!({"errcode": 10001, "errmsg": "INTERFACE NOT EXISTED"})
    );
    let r = raw(&app, "GET", "dial_out", true, None).await;
    assert_eq!(r["errcode"], 10001);
    // Tokens: 32 characters, 30 minutes and a day.
    let t = raw(&app, "POST", "get_token", true, Some(login.clone())).await;
    assert_eq!(t["errcode"], 0);
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(access.len(), 32);
    assert_eq!(
        (
            t["access_token_expire_time"].as_i64(),
            t["refresh_token_expire_time"].as_i64()
        ),
        (Some(1800), Some(86400))
    );
    // The token only counts in the query string.
    let r = app
        .http
        .get(format!("{}/openapi/v1.0/extension/list", pbx_base(&app)))
        .header("User-Agent", "test-client")
        .header("Authorization", format!("Bearer {access}"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(r, json!({"errcode": 10004, "errmsg": "TOKEN EXPIRED"}));
    let r = raw(
        &app,
        "GET",
        &format!("extension/list?access_token={access}&page_size=2"),
        true,
        None,
    )
    .await;
    assert_eq!(
        (r["errcode"].as_i64(), r["total_number"].as_i64()),
        (Some(0), Some(7))
    );
    assert_eq!(r["data"][0]["number"], "2001");
    // A refresh rotates both tokens; the old refresh token is spent.
    let refresh = t["refresh_token"].clone();
    let r = raw(
        &app,
        "POST",
        "refresh_token",
        true,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(r["errcode"], 0);
    assert_ne!(r["refresh_token"], refresh);
    let again = raw(
        &app,
        "POST",
        "refresh_token",
        true,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(again["errcode"], 10004);
    // At most 8 live access tokens: two so far, six more, then the ninth is refused.
    for _ in 0..6 {
        let r = raw(&app, "POST", "get_token", true, Some(login.clone())).await;
        assert_eq!(r["errcode"], 0);
    }
    let r = raw(&app, "POST", "get_token", true, Some(login.clone())).await;
    assert_eq!(
        r,
        json!({"errcode": 60002, "errmsg": "MAX LIMITATION EXCEEDED"})
    );
    // Revoking one frees a place.
    let r = raw(
        &app,
        "GET",
        &format!("del_token?access_token={access}"),
        true,
        None,
    )
    .await;
    assert_eq!(r, json!({"errcode": 0, "errmsg": "SUCCESS"}));
    let r = raw(&app, "POST", "get_token", true, Some(login)).await;
    assert_eq!(r["errcode"], 0);

    // Calls: call/dial is a POST with both parties; call/query takes exactly one filter.
    let token = r["access_token"].as_str().unwrap().to_string();
    let q = |p: &str| format!("{p}?access_token={token}");
    let r = raw(&app, "GET", &q("call/dial"), true, None).await;
    assert_eq!(r["errcode"], 10001);
    let r = raw(
        &app,
        "POST",
        "call/dial",
        true,
        Some(json!({"caller": "2005", "callee": "5550100"})),
    )
    .await;
    assert_eq!(r["errcode"], 10004, "no token, no dial");
    let r = raw(
        &app,
        "POST",
        &q("call/dial"),
        true,
        Some(json!({"caller": "2005"})),
    )
    .await;
    assert_eq!(
        r,
        json!({"errcode": 40002, "errmsg": "PARAMETER ERROR",
               "invalid_param_list": [{"field": "callee", "validation_type": "required"}]})
    );
    let r = raw(&app, "GET", &q("call/query"), true, None).await;
    assert_eq!(r["errcode"], 40002);
    let r = raw(
        &app,
        "GET",
        &format!("{}&type=inbound&extension=2005", q("call/query")),
        true,
        None,
    )
    .await;
    assert_eq!(r["errcode"], 40002, "one filter only");
    let r = raw(
        &app,
        "GET",
        &format!("{}&type=inbound", q("call/query")),
        true,
        None,
    )
    .await;
    assert_eq!(r, json!({"errcode": 60001, "errmsg": "DATA NOT FOUND"}));
    let r = raw(&app, "POST", &q("call/hangup"), true, Some(json!({}))).await;
    assert_eq!(r["errcode"], 40002);
}

/// The name of this app's extension `number`.
async fn extension_name(app: &TestApp, number: &str) -> Value {
    let (_, list) = app.call("pbx/extensions", &[]).await;
    let found = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == number);
    found.unwrap()["name"].clone()
}

async fn save(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    app.call("pbx/connection/save", form).await
}

#[tokio::test]
async fn the_admin_connects_the_pbx_and_a_wrong_secret_shows_the_pbxs_words() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (s, v) = app.call("pbx/connection", &[]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "NotConfigured");
    let base = pbx_base(&app);
    assert_eq!(v["sandbox"]["base_url"], base.as_str());
    assert_eq!(v["sandbox"]["client_id"], DEMO_PBX_CLIENT_ID);

    // Bad input: each field named, nothing stored.
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", "http://pbx.example.com:80"),
            ("input[client_id]", " "),
            ("input[client_secret]", ""),
        ],
    )
    .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"Invalid": [
                {"field": "base_url", "problem": "NotHttps"},
                {"field": "client_id", "problem": "Required"},
                {"field": "client_secret", "problem": "Required"},
            ]})
        )
    );
    assert_eq!(
        app.call("pbx/connection", &[]).await.1["status"],
        "NotConfigured"
    );

    // A wrong secret: Test connection says what the PBX said.
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", &format!("{base}/")),
            ("input[client_id]", DEMO_PBX_CLIENT_ID),
            ("input[client_secret]", "not-the-secret"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call("pbx/connection", &[]).await;
    assert_eq!(
        (s, v["status"].as_str(), v["base_url"].as_str()),
        (200, Some("Untested"), Some(base.as_str()))
    );
    let (s, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("Failed")), "{v}");
    assert!(
        v["last_error"].as_str().unwrap().contains("errcode -1"),
        "{v}"
    );
    assert_eq!(app.sandbox.pbx.stats().failed_logins, 1);

    // The right one (the sandbox's, filled by the page): connected, the extensions counted.
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", &base),
            ("input[client_id]", DEMO_PBX_CLIENT_ID),
            ("input[use_sandbox_secret]", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = app.call("pbx/connection/test", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            v["status"].as_str(),
            v["extension_count"].as_i64(),
            v["last_error"].is_null(),
            v["secret_set"].as_bool()
        ),
        (Some("Connected"), Some(7), true, Some(true)),
        "{v}"
    );
    assert!(
        !v.to_string().contains(DEMO_PBX_CLIENT_SECRET),
        "the secret never leaves"
    );
    // Saved again without a secret: the stored one stays, and it is not sent elsewhere.
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", "https://pbx.example.com:8088"),
            ("input[client_id]", DEMO_PBX_CLIENT_ID),
        ],
    )
    .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"Invalid": [{"field": "client_secret", "problem": "SecretForNewServer"}]})
        )
    );

    // Disconnect: the token is revoked at the PBX, the settings are gone.
    let (s, _) = app.call("pbx/connection/disconnect", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(app.sandbox.pbx.stats().revoked, 1);
    let v = app.call("pbx/connection", &[]).await.1;
    assert_eq!(
        (v["status"].as_str(), v["secret_set"].as_bool()),
        (Some("NotConfigured"), Some(false))
    );
}

#[tokio::test]
async fn extensions_sync_from_the_pbx_adds_renames_and_removes_with_the_binding() {
    let app = crate::support::flows::connected().await;
    // The app's extensions are the demo ones; Kristin Hale (2005) is bound.
    assert!(app.engine.directory.bound_agent("2005").is_some());
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", &pbx_base(&app)),
            ("input[client_id]", DEMO_PBX_CLIENT_ID),
            ("input[use_sandbox_secret]", "true"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // The same extensions on both sides: nothing to do, and nothing lost.
    let (s, r) = app.call("pbx/connection/sync", &[]).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r,
        json!({"total": 7, "added": 0, "updated": 0, "removed": [], "skipped": []})
    );
    // On the PBX: 2005 renamed, 2005's neighbour 2006 deleted (bound to Liam Chen).
    assert!(app
        .sandbox
        .pbx
        .rename_extension("2005", "Kristin Hale-Morgan"));
    assert!(app.sandbox.pbx.remove_extension("2006"));
    let liam = app
        .engine
        .directory
        .bound_agent("2006")
        .unwrap()
        .agent_name
        .clone();
    let (s, r) = app.call("pbx/connection/sync", &[]).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r,
        json!({"total": 6, "added": 0, "updated": 1, "skipped": [],
               "removed": [{"number": "2006", "name": "Liam Chen", "agent": liam}]})
    );
    assert!(
        app.engine.directory.bound_agent("2006").is_none(),
        "the binding went with it"
    );
    let kristin = app
        .engine
        .directory
        .bound_agent("2005")
        .expect("a rename keeps the binding");
    assert_eq!(kristin.extension_name, "Kristin Hale-Morgan");

    // The housekeeping syncs by itself every 10 minutes (the default) while connected.
    assert!(app
        .sandbox
        .pbx
        .rename_extension("2007", "Sofia Rossi-Bianchi"));
    let t = app::engine::calls::now_ms();
    server::housekeeping(&app.engine, &app.sessions, t).await;
    let sofia = extension_name(&app, "2007").await;
    assert_eq!(sofia, "Sofia Rossi-Bianchi");
    assert!(app.sandbox.pbx.rename_extension("2007", "Sofia R."));
    server::housekeeping(&app.engine, &app.sessions, t + 9 * 60_000).await;
    let sofia = extension_name(&app, "2007").await;
    assert_eq!(sofia, "Sofia Rossi-Bianchi", "not before 10 minutes");
    server::housekeeping(&app.engine, &app.sessions, t + 10 * 60_000).await;
    let sofia = extension_name(&app, "2007").await;
    assert_eq!(sofia, "Sofia R.");

    // 2,000 extensions: one sync, page by page, in one transaction, saying how far it is.
    app.sandbox.pbx.generate_extensions(2000);
    let mut watch = app.engine.directory.watch_sync_progress();
    let steps = tokio::spawn(async move {
        let mut steps = Vec::new();
        while watch.changed().await.is_ok() {
            let p = *watch.borrow_and_update();
            steps.push(p);
            if p.is_none() {
                break;
            }
        }
        steps
    });
    let (s, r) = app.call("pbx/connection/sync", &[]).await;
    assert_eq!(s, 200, "{r}");
    let steps = steps.await.unwrap();
    assert_eq!(steps.last(), Some(&None), "it ends: {steps:?}");
    let read: Vec<usize> = steps.iter().flatten().map(|p| p.read).collect();
    assert!(read.is_sorted(), "{steps:?}");
    assert!(
        read.iter().any(|r| (1..2000).contains(r)),
        "seen part-way: {steps:?}"
    );
    assert!(steps
        .iter()
        .flatten()
        .all(|p| p.read <= p.total || p.total == 0));
    assert!(
        steps.iter().flatten().any(|p| p.saving && p.total == 2000),
        "{steps:?}"
    );
    let (s, now) = app.call("pbx/connection/sync/progress", &[]).await;
    assert_eq!((s, now), (200, Value::Null), "none runs now");
    assert_eq!(
        (r["total"].as_u64(), r["added"].as_u64()),
        (Some(2000), Some(2000))
    );
    assert_eq!(
        r["removed"].as_array().unwrap().len(),
        6,
        "the demo ones are gone from the PBX"
    );
    let (_, list) = app.call("pbx/extensions", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 2000);
    assert_eq!(list[0]["number"], "3000");
    assert_eq!(list[0]["email"], "agent3000@example.com");

    // The PBX refusing: its own words, and nothing changed here.
    let (s, v) = save(
        &app,
        &[
            ("input[base_url]", &pbx_base(&app)),
            ("input[client_id]", DEMO_PBX_CLIENT_ID),
            ("input[client_secret]", "not-the-secret"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, r) = app.call("pbx/connection/sync", &[]).await;
    assert_eq!(
        (s, r),
        (
            502,
            json!({"Pbx": "the PBX refused the Client ID or Client Secret (errcode -1)"})
        )
    );
    assert_eq!(
        app.call("pbx/extensions", &[])
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2000
    );
}

/// The PBX connection page is plain HTML, its forms work with no script: a refusal comes back
/// with what was typed (never a secret) and why; "Use the PBX sandbox" fills the form; Test,
/// Sync and Disconnect answer with the page, which says what they did.
#[tokio::test]
async fn the_pbx_connection_page_is_plain_html_forms() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    const PAGE: &str = "/pbx/connection";
    let html = app.get_text(PAGE).await;
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "{html}"
    );
    assert!(html.contains("Not configured"), "{html}");

    // Refused: what was typed comes back, the secret does not.
    let (s, to) = app
        .submit(
            PAGE,
            "pbx/connection/save",
            &[
                ("input[base_url]", "pbx.example.com:8088"),
                ("input[client_id]", ""),
                ("input[client_secret]", "typed-secret-1"),
                ("input[events_via]", "WebSocket"),
                ("input[auto_answer]", "true"),
            ],
        )
        .await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    let html = app.get_text(PAGE).await;
    assert!(html.contains(r#"value="pbx.example.com:8088""#), "{html}");
    assert!(html.contains(r#"id="client-id" name="input[client_id]" type="text" autocomplete="off" placeholder="" value="" aria-invalid="true""#), "{html}");
    assert!(!html.contains("typed-secret-1"), "{html}");
    let radio = html.find(r#"id="events-websocket""#).unwrap();
    assert!(
        html[radio..radio + 120].contains("checked"),
        "as typed: {html}"
    );

    // The sandbox's values, its demo secret chosen.
    let html = app.get_text(&format!("{PAGE}?sandbox=1")).await;
    let base = pbx_base(&app);
    assert!(html.contains(&format!(r#"value="{base}""#)), "{html}");
    assert!(html.contains(r#"name="input[use_sandbox_secret]" value="true""#));
    let (_, to) = app
        .submit(
            &format!("{PAGE}?sandbox=1"),
            "pbx/connection/save",
            &[
                ("input[use_sandbox_secret]", "true"),
                ("input[base_url]", &base),
                ("input[client_id]", DEMO_PBX_CLIENT_ID),
                ("input[events_via]", "Webhook"),
            ],
        )
        .await;
    assert_eq!(to, PAGE, "done: the sandbox's view closes");
    let html = app.get_text(&to).await;
    assert!(html.contains("Saved. Test the connection next."), "{html}");
    assert!(html.contains("Saved, not tested yet"));

    let (_, to) = app.submit(PAGE, "pbx/connection/test", &[]).await;
    assert!(app.get_text(&to).await.contains("Connected · 7 extensions"));
    // The sync goes on in the background (a PBX far away: each answer 300 ms late), the
    // page follows it, live, then says what it did.
    let slow = |ms: u64| {
        let (http, url) = (app.http.clone(), format!("{}/control", pbx_base(&app)));
        async move {
            let r = http.post(url).json(&json!({"latency_ms": ms})).send().await;
            assert!(r.unwrap().status().is_success());
        }
    };
    slow(300).await;
    let (_, to) = app.submit(PAGE, "pbx/connection/sync", &[]).await;
    let html = app.get_text(&to).await;
    assert!(
        html.contains(r#"<div id="pbx-sync-live" data-live="500">"#),
        "{html}"
    );
    assert!(html.contains(r#"id="pbx-sync-progress""#), "{html}");
    app.engine
        .directory
        .watch_sync_progress()
        .wait_for(|p| p.is_none())
        .await
        .unwrap();
    slow(0).await;
    let html = app.get_text(&to).await;
    assert!(html.contains(r#"id="pbx-sync-report""#), "{html}");
    assert!(html.contains("7 extensions on the PBX:"), "{html}");
    // No sync runs: its progress is not live.
    assert!(html.contains(r#"<div id="pbx-sync-live">"#), "{html}");

    let (_, to) = app.submit(PAGE, "pbx/connection/disconnect", &[]).await;
    let html = app.get_text(&to).await;
    assert!(html.contains("The PBX connection is removed."), "{html}");
    assert!(html.contains("Not configured"));
}
