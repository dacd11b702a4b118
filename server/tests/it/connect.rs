//! Black-box tests of the admin app: sign-in, cross-site refusals, admin routes, and the Zoho
//! connection (OAuth with the sandbox in the same process). Every server function's own
//! authorization: `authz.rs`.

use crate::support::app::*;
use serde_json::json;

#[tokio::test]
async fn cross_site_calls_are_refused_even_when_signed_in() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    for origin in [Some("https://evil.example"), None] {
        let mut req = app
            .http
            .post(format!("{}/api/helpdesk/connection", app.base));
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "origin {origin:?}");
    }
}

/// Anyone not signed in who asks for an admin page is sent to sign in, and back there after:
/// a redirect with nothing of the page behind it.
#[tokio::test]
async fn admin_pages_send_anonymous_visitors_to_sign_in() {
    let app = TestApp::spawn().await;
    for (page, next) in [
        ("/integrations/helpdesk", "%2Fintegrations%2Fhelpdesk"),
        (
            "/integrations/helpdesk/log?outcome=missed",
            "%2Fintegrations%2Fhelpdesk%2Flog%3Foutcome%3Dmissed",
        ),
        ("/pbx/connection", "%2Fpbx%2Fconnection"),
        ("/pbx/extensions", "%2Fpbx%2Fextensions"),
        ("/pbx/contacts", "%2Fpbx%2Fcontacts"),
        ("/pbx/simulator", "%2Fpbx%2Fsimulator"),
        ("/", "%2F"),
    ] {
        let r = app
            .http
            .get(format!("{}{page}", app.base))
            .header("Accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        assert_eq!(
            (status, location.as_deref()),
            (302, Some(format!("/login?next={next}").as_str())),
            "{page}"
        );
        assert!(
            body.is_empty(),
            "no admin content for anonymous visitors: {body}"
        );
    }
    // Signed in through that address, the admin lands where they were going, query and all.
    let (s, _) = app
        .call(
            "sign_in",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "/integrations/helpdesk/log?outcome=missed"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let r = app
        .http
        .get(format!(
            "{}/integrations/helpdesk/log?outcome=missed",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "signed in, the page itself");
}

#[tokio::test]
async fn sign_in_checks_the_password_and_slows_down_guessing() {
    let app = TestApp::spawn().await;
    let (s, body) = app
        .call("sign_in", &[("username", "admin"), ("password", "wrong")])
        .await;
    assert_eq!((s, body), (401, json!("BadCredentials")));
    let (s, body) = app
        .call("sign_in", &[("username", "nobody"), ("password", "wrong")])
        .await;
    assert_eq!(
        (s, body),
        (401, json!("BadCredentials")),
        "same answer for an unknown user"
    );
    for _ in 0..4 {
        app.call("sign_in", &[("username", "admin"), ("password", "wrong")])
            .await;
    }
    // Locked now, even with the right password.
    let (s, body) = app
        .call(
            "sign_in",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(s, 429, "{body}");
    assert!(body["TooManyAttempts"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn sign_out_destroys_the_session() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    assert_eq!(app.call("helpdesk/connection", &[]).await.0, 200);
    app.call("sign_out", &[]).await;
    assert_eq!(app.call("helpdesk/connection", &[]).await.0, 401);
}

#[tokio::test]
async fn saving_validates_each_field() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (s, body) = app
        .call(
            "helpdesk/save",
            &[
                ("input[accounts_url]", "http://accounts.zoho.com"),
                ("input[desk_url]", "desk"),
                ("input[client_id]", " "),
                ("input[client_secret]", ""),
                ("input[use_sandbox_secret]", "false"),
            ],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    let errors: Vec<(String, String)> = body["Invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("accounts_url".into(), "NotHttps".into()),
            ("desk_url".into(), "NotUrl".into()),
            ("client_id".into(), "Required".into()),
            ("client_secret".into(), "Required".into()),
        ]
    );
}

#[tokio::test]
async fn connecting_with_the_sandbox_and_keeping_the_token_fresh() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let c = app.connection().await;
    assert_eq!(c["status"], "Connected");
    assert_eq!(c["org_name"], "PBX Sandbox Co.");
    assert_eq!(c["client_secret_set"], true);
    assert_eq!(
        c["redirect_uri"],
        format!("{}/oauth/zoho/callback", app.base)
    );

    // The sandbox expires the access token (its clock jumps an hour): the next Desk call is
    // refused once, refreshed, and succeeds.
    app.sandbox_control("/advance-clock", json!({"secs": 3601}))
        .await;
    let (s, orgs) = app.call("helpdesk/organizations", &[]).await;
    assert_eq!(s, 200, "{orgs}");
    assert_eq!(orgs[0]["name"], "PBX Sandbox Co.");
    let stats = app.sandbox_control("", json!({})).await;
    assert_eq!(
        stats["stats"]["by_operation"]["GET /accessibleOrganizations"], 3,
        "{stats}"
    );

    // A revoked refresh token turns the status into Authorization expired.
    app.sandbox_control("/revoke-all", json!({})).await;
    let (s, body) = app.call("helpdesk/organizations", &[]).await;
    assert_eq!(body, json!("AuthExpired"), "{s}");
    assert_eq!(app.connection().await["status"], "AuthExpired");
}

#[tokio::test]
async fn state_is_single_use_and_bound_to_the_session() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (url, attempt) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;

    // Another admin session cannot use this state.
    let other = TestApp::browser();
    app.call_with(
        &other,
        "sign_in",
        &[("username", "admin"), ("password", ADMIN_PASSWORD)],
    )
    .await;
    let mut form: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| (format!("params[{}]", k.replace('-', "_")), v.clone()))
        .collect();
    form.retain(|(k, _)| k != "params[location]");
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (_, body) = app.call_with(&other, "helpdesk/complete", &f).await;
    assert_eq!(body, json!({"Failed": "BadState"}));

    // A forged state in the right session fails, and leaves the pending consent alone (a
    // cross-site GET of the callback cannot cancel it): the real redirect still completes.
    let mut forged = q.clone();
    for (k, v) in forged.iter_mut() {
        if k == "state" {
            *v = "forged".into();
        }
    }
    assert_eq!(app.complete(&forged).await.1, json!({"Failed": "BadState"}));
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": false}})
    );
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Failed": "BadState"}),
        "used"
    );

    // A fresh attempt works once; replaying it is refused.
    let (url, attempt2) = app.save_sandbox_settings().await;
    assert_ne!(attempt, attempt2);
    let q = app.consent(&url, "accept").await;
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": false}})
    );
    assert_eq!(app.complete(&q).await.1, json!({"Failed": "BadState"}));
    let (_, outcome) = app
        .call("helpdesk/outcome", &[("attempt", &attempt2)])
        .await;
    assert_eq!(outcome, json!({"Succeeded": {"choose_org": false}}));
}

#[tokio::test]
async fn deny_and_zoho_refusals_are_reported_precisely() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "deny").await;
    assert_eq!(app.complete(&q).await.1, json!({"Failed": "Denied"}));

    // An expired code.
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    app.sandbox_control("/advance-clock", json!({"secs": 121}))
        .await;
    assert_eq!(app.complete(&q).await.1, json!({"Failed": "CodeExpired"}));

    // A wrong client secret.
    let accounts = format!("{}/sandbox/accounts", app.base);
    let desk = format!("{}/sandbox/desk", app.base);
    let (s, body) = app
        .call(
            "helpdesk/save",
            &[
                ("input[accounts_url]", accounts.as_str()),
                ("input[desk_url]", desk.as_str()),
                ("input[client_id]", server::sandbox::DEMO_CLIENT_ID),
                ("input[client_secret]", "not-the-secret"),
                ("input[use_sandbox_secret]", "false"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let q = app
        .consent(body["consent_url"].as_str().unwrap(), "accept")
        .await;
    assert_eq!(app.complete(&q).await.1, json!({"Failed": "InvalidClient"}));
    assert_eq!(app.connection().await["status"], "NotConnected");

    // An accounts server that is neither Zoho's nor the configured one is not trusted.
    let (url, _) = app.save_sandbox_settings().await;
    let mut q = app.consent(&url, "accept").await;
    for (k, v) in q.iter_mut() {
        if k == "accounts-server" {
            *v = "https://evil.example".into();
        }
    }
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Failed": "UntrustedServer"})
    );
}

#[tokio::test]
async fn several_orgs_ask_the_admin_to_choose() {
    let app = TestApp::spawn().await;
    app.sandbox_control(
        "/orgs",
        json!({"companyName": "Second Co", "portalName": "second"}),
    )
    .await;
    app.sign_in().await;
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    assert_eq!(
        app.complete(&q).await.1,
        json!({"Succeeded": {"choose_org": true}})
    );
    let c = app.connection().await;
    assert_eq!(c["status"], "ChooseOrg");
    assert_eq!(c["orgs"].as_array().unwrap().len(), 2);
    let second = c["orgs"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.call("helpdesk/choose_org", &[("org_id", "42")]).await,
        (
            400,
            json!({"Invalid": [{"field": "org", "problem": "Required"}]})
        )
    );
    assert_eq!(
        app.call("helpdesk/choose_org", &[("org_id", &second)])
            .await
            .0,
        200
    );
    let c = app.connection().await;
    assert_eq!(
        (c["status"].clone(), c["org_name"].clone()),
        (json!("Connected"), json!("Second Co"))
    );
}

#[tokio::test]
async fn secrets_never_reach_a_response_a_log_line_or_the_database_file() {
    let app = TestApp::spawn_on_sqlite(&[]).await;
    app.connect().await;
    let mut seen = String::new();
    for endpoint in ["helpdesk/connection", "helpdesk/organizations", "whoami"] {
        seen.push_str(&app.call(endpoint, &[]).await.1.to_string());
    }
    // The tokens the sandbox issued, straight from its control view, are not known to tests;
    // scan for the client secret and the token shape instead.
    let secret = server::sandbox::DEMO_CLIENT_SECRET;
    assert!(!seen.contains(secret));
    assert!(!has_token(&seen), "no token in responses: {seen}");
    let logs = String::from_utf8(logs().0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(secret), "client secret in logs");
    assert!(!has_token(&logs), "a token in the logs");
    let mut db = Vec::new();
    for f in ["helpdesk.db", "helpdesk.db-wal"] {
        if let Ok(bytes) = std::fs::read(app.dir.join(f)) {
            db.extend(bytes);
        }
    }
    let db = String::from_utf8_lossy(&db);
    assert!(db.contains("v1:"), "sealed secrets are stored");
    assert!(!db.contains(secret), "client secret in the database file");
    assert!(!has_token(&db), "a plaintext token in the database file");
}

/// Zoho-shaped tokens: `1000.<32 hex>.<32 hex>`.
fn has_token(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
        .any(|w| w.starts_with("1000.") && w.matches('.').count() == 2 && w.len() >= 70)
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_with_this_responses_nonce() {
    let app = TestApp::spawn().await;
    let r = TestApp::browser()
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = r.text().await.unwrap();
    let nonce = regex::Regex::new(r"'nonce-([A-Za-z0-9_-]+)'")
        .unwrap()
        .captures(&csp)
        .unwrap_or_else(|| panic!("no nonce in {csp}"))[1]
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // Every inline script with content carries this response's nonce.
    let scripts = regex::Regex::new(r"(?s)<script([^>]*)>(.*?)</script>").unwrap();
    let mut inline = 0;
    for c in scripts.captures_iter(&html) {
        if c[2].trim().is_empty() {
            continue;
        }
        inline += 1;
        assert!(c[1].contains(&format!("nonce=\"{nonce}\"")), "{}", &c[0]);
    }
    assert!(inline >= 2, "the hydration and resource scripts: {html}");
    // Another response, another nonce.
    let again = TestApp::browser()
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert!(!again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains(&nonce));
}

/// The sign-in page is plain HTML (no WASM to download: interactive as it arrives), and its
/// form works as a browser sends it without scripts: a refused try comes back to the page
/// saying why, keeping where to go once signed in; the right password goes there.
#[tokio::test]
async fn the_sign_in_page_is_plain_html_and_its_form_works_without_scripts() {
    let app = TestApp::spawn().await;
    let page = |path: &str| {
        let (http, url) = (app.http.clone(), format!("{}{path}", app.base));
        async move {
            let r = http
                .get(url)
                .header("Accept", "text/html")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let html = page("/login?next=/pbx/extensions").await;
    let html_tag = &html[html.find("<html").unwrap()..];
    assert!(
        html_tag[..html_tag.find('>').unwrap()].contains("data-hydrated"),
        "interactive as it arrives: {html}"
    );
    assert!(
        !html.contains("_bg.wasm") && !html.contains(".js\""),
        "no script to download: {html}"
    );
    // So is the Redirect URI's page in the consent window (it only says how it went).
    let callback = page("/oauth/zoho/callback?code=1000.x&state=forged").await;
    assert!(
        callback.contains("id=\"result\"") && !callback.contains("_bg.wasm"),
        "{callback}"
    );
    assert!(html.contains(r#"action="/api/sign_in""#) && html.contains(r#"method="post""#));
    assert!(html.contains(r#"name="next" value="/pbx/extensions""#));
    // Signing in as the browser posts the form.
    let post = |password: &'static str| {
        let app = &app;
        async move {
            let form = [
                ("next", "/pbx/extensions"),
                ("username", "admin"),
                ("password", password),
            ];
            app.submit("/login?next=/pbx/extensions", "sign_in", &form)
                .await
        }
    };
    let (s, to) = post("wrong").await;
    assert_eq!(
        (s, to.as_str()),
        (302, "/login?next=%2Fpbx%2Fextensions&failed=credentials")
    );
    let html = page(&to).await;
    assert!(html.contains("Wrong user name or password."), "{html}");
    assert!(html.contains(r#"name="next" value="/pbx/extensions""#));

    let (s, to) = post(ADMIN_PASSWORD).await;
    assert_eq!((s, to.as_str()), (302, "/pbx/extensions"));
    assert!(
        page("/pbx/extensions").await.contains("id=\"new-number\""),
        "signed in"
    );

    // Guessing is slowed down the same way, and the page says for how long.
    let mut to = String::new();
    for _ in 0..8 {
        to = post("wrong").await.1;
        if to.contains("failed=attempts") {
            break;
        }
    }
    let secs = to
        .split("retry=")
        .nth(1)
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("{to}"));
    assert!(to.starts_with("/login?next=%2Fpbx%2Fextensions&failed=attempts&retry="));
    let html = page(&to).await;
    assert!(
        html.contains(&format!(
            "Too many failed attempts. Try again in {secs} seconds."
        )),
        "{html}"
    );
}

/// The header's switch, the organization choice and Disconnect are plain HTML forms: each
/// works with no script and comes back to the page.
#[tokio::test]
async fn the_switch_the_org_choice_and_disconnect_are_plain_forms() {
    let app = TestApp::spawn().await;
    app.sandbox_control(
        "/orgs",
        json!({"companyName": "Second Co", "portalName": "second"}),
    )
    .await;
    app.sign_in().await;
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    app.complete(&q).await;
    const PAGE: &str = "/integrations/helpdesk";
    let html = app.get_text(PAGE).await;
    assert!(
        html.contains(r#"<select id="org" name="org_id">"#),
        "{html}"
    );

    // An organization the account does not have: said, and the choice is still asked.
    let (s, to) = app
        .submit(PAGE, "helpdesk/choose_org", &[("org_id", "42")])
        .await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    let html = app.get_text(PAGE).await;
    assert!(
        html.contains(r#"role="alert" class="form-error">Required."#),
        "{html}"
    );
    assert_eq!(app.connection().await["status"], "ChooseOrg");
    let second = app.connection().await["orgs"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.submit(PAGE, "helpdesk/choose_org", &[("org_id", &second)])
        .await;
    let c = app.connection().await;
    assert_eq!(
        (c["status"].clone(), c["org_name"].clone()),
        (json!("Connected"), json!("Second Co"))
    );

    // The switch is a button that asks for the other state.
    let html = app.get_text(PAGE).await;
    assert!(
        html.contains(r#"<input type="hidden" name="on" value="false"><button type="submit" role="switch" aria-checked="true""#),
        "{html}"
    );
    let (s, to) = app
        .submit(PAGE, "helpdesk/enable", &[("on", "false")])
        .await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    assert_eq!(app.connection().await["status"], "Disabled");
    assert!(app.get_text(PAGE).await.contains(
        r#"name="on" value="true"><button type="submit" role="switch" aria-checked="false""#
    ));

    // Disconnect: its dialog is a view of the page; its OK, a form that closes it.
    assert!(!app.get_text(PAGE).await.contains(r#"role="dialog""#));
    let from = format!("{PAGE}?disconnect=1");
    let html = app.get_text(&from).await;
    assert!(
        html.contains(r#"role="dialog""#) && html.contains("Disconnect from Zoho Desk?"),
        "{html}"
    );
    let (s, to) = app.submit(&from, "helpdesk/disconnect", &[]).await;
    assert_eq!((s, to.as_str()), (302, PAGE));
    assert_eq!(app.connection().await["status"], "NotConnected");
}

/// Save from a plain form: the answer is the page waiting for the attempt (its address says
/// which; the attempt knows its consent page) until the landing page finishes it; refused, the
/// page again, with no attempt.
#[tokio::test]
async fn save_from_a_plain_form_waits_for_its_attempt() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    const PAGE: &str = "/integrations/helpdesk";
    let accounts = format!("{}/sandbox/accounts", app.base);
    let desk = format!("{}/sandbox/desk", app.base);
    let form = |accounts: &str| {
        vec![
            ("input[accounts_url]", accounts.to_string()),
            ("input[desk_url]", desk.clone()),
            (
                "input[client_id]",
                server::sandbox::DEMO_CLIENT_ID.to_string(),
            ),
            ("input[client_secret]", String::new()),
            ("input[use_sandbox_secret]", "true".to_string()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit(PAGE, "helpdesk/save", &f).await
        }
    };
    let (s, to) = send(form("accounts.zoho.com")).await;
    assert_eq!((s, to.as_str()), (302, PAGE), "refused: no attempt");

    let (s, to) = send(form(&accounts)).await;
    assert_eq!(s, 302);
    let attempt = to
        .strip_prefix("/integrations/helpdesk?attempt=")
        .unwrap_or_else(|| panic!("{to}"))
        .to_string();
    let (_, state) = app
        .call("helpdesk/attempt", &[("attempt", attempt.as_str())])
        .await;
    let consent = state["Waiting"]["consent_url"]
        .as_str()
        .unwrap_or_else(|| panic!("{state}"))
        .to_string();
    assert!(consent.starts_with(&accounts), "{consent}");
    let (_, other) = app.call("helpdesk/attempt", &[("attempt", "00ff")]).await;
    assert_eq!(other, json!("Gone"));

    let q = app.consent(&consent, "accept").await;
    app.complete(&q).await;
    let (_, state) = app
        .call("helpdesk/attempt", &[("attempt", attempt.as_str())])
        .await;
    assert_eq!(
        state,
        json!({"Finished": {"Succeeded": {"choose_org": false}}})
    );
}
