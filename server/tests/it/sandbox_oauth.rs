//! The sandbox's accounts server, driven over HTTP: the whole OAuth dance with the `oauth2` crate
//! as a real client, and each error path Zoho documents.

use crate::support::sandbox::*;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use serde_json::json;

#[tokio::test]
async fn the_whole_oauth_dance_works_with_the_oauth2_crate() {
    let t = TestSandbox::start().await;
    let client = BasicClient::new(ClientId::new(CLIENT_ID.into()))
        .set_client_secret(ClientSecret::new(CLIENT_SECRET.into()))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth/v2/auth", t.accounts())).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/oauth/v2/token", t.accounts())).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.into()).unwrap());

    // Auth URL: Zoho wants the scopes comma-separated in one parameter.
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new(ALL_SCOPES.into()))
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .url();

    // Consent page: the app's name (escaped) and the scopes asked.
    let page = t.http.get(auth_url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Test PBX &lt;Integration&gt;"),
        "app name shown, escaped"
    );
    assert!(html.contains("Desk.tickets.CREATE") && html.contains("Desk.search.READ"));
    assert!(html.contains(">Accept<") && html.contains(">Deny<"));

    // Accept, posted as a browser would → redirect with code, location, accounts-server, state.
    let id = t.consent_id(auth_url.as_str()).await;
    let q = t.decide(&id, "accept").await;
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(get("location").as_deref(), Some("us"));
    assert_eq!(get("accounts-server"), Some(t.accounts()));
    let code = get("code").expect("code");

    // Code → tokens.
    let http = t.http.clone();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .request_async(&http)
        .await
        .expect("token exchange");
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 3600);
    let access = tokens.access_token().secret().clone();
    let refresh = tokens
        .refresh_token()
        .expect("offline gives a refresh token")
        .clone();
    assert!(access.starts_with("1000."));

    // Desk call with the token.
    let (status, body) = t.get("/departments", &access).await;
    assert_eq!(status, 200, "{body}");

    // After expiry: INVALID_OAUTH; a refresh gives a working token.
    t.control_post("/advance-clock", json!({"secs": 3601}))
        .await;
    let (status, body) = t.get("/departments", &access).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("INVALID_OAUTH"))
    );
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
        .expect("refresh");
    assert!(
        refreshed.refresh_token().is_none(),
        "a refresh answer has no new refresh token"
    );
    let access2 = refreshed.access_token().secret().clone();
    assert_eq!(t.get("/departments", &access2).await.0, 200);

    // Revoke the refresh token: its access tokens die with it, and it cannot refresh any more.
    let r = t
        .http
        .post(format!(
            "{}/oauth/v2/token/revoke?token={}",
            t.accounts(),
            refresh.secret()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = t.get("/departments", &access2).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (401, Some("INVALID_OAUTH"))
    );
    match client
        .exchange_refresh_token(&refresh)
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::Parse(_, body)) => {
            assert_eq!(
                String::from_utf8(body).unwrap(),
                r#"{"error":"invalid_code"}"#
            )
        }
        other => panic!("expected Zoho's 200 + invalid_code, got {other:?}"),
    }

    // The code was single-use.
    match client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::Parse(_, body)) => {
            assert!(String::from_utf8(body).unwrap().contains("invalid_code"))
        }
        other => panic!("a reused code must fail, got {other:?}"),
    }
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let t = TestSandbox::start().await;
    let id = t.consent_id(&t.auth_url(ALL_SCOPES, "")).await;
    let q = t.decide(&id, "deny").await;
    assert!(q.contains(&("error".into(), "access_denied".into())));
    assert!(q.contains(&("state".into(), "s1".into())));
    assert!(!q.iter().any(|(k, _)| k == "code"));
    // The consent form is single-use.
    let r = t
        .http
        .post(format!("{}/oauth/v2/auth", t.accounts()))
        .form(&[
            ("consent_id", id.as_str()),
            ("decision", "accept"),
            ("org", "60001234567"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn bad_authorization_requests_show_an_error_page_and_never_redirect() {
    let t = TestSandbox::start().await;
    let cases = [
        (
            format!("{}/oauth/v2/auth?response_type=code&client_id=nobody&redirect_uri={}&scope=Desk.basic.READ", t.accounts(), urlencode(REDIRECT_URI)),
            "Invalid Client",
        ),
        (
            format!("{}/oauth/v2/auth?response_type=code&client_id={}&redirect_uri={}&scope=Desk.basic.READ", t.accounts(), CLIENT_ID, urlencode("https://evil.example/cb")),
            "Invalid Redirect Uri",
        ),
        (t.auth_url("", ""), "Invalid OAuth Scope"),
        (t.auth_url("Desk.basic.READ%20Desk.tickets.READ", ""), "Invalid OAuth Scope"),
        (t.auth_url("Desk.basic.READ", "&access_type=forever"), "Invalid Access Type"),
        (
            format!("{}/oauth/v2/auth?response_type=token&client_id={}&redirect_uri={}&scope=Desk.basic.READ", t.accounts(), CLIENT_ID, urlencode(REDIRECT_URI)),
            "Invalid Response Type",
        ),
    ];
    for (url, title) in cases {
        let r = t.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains(title), "{url} should say {title}");
    }
}

#[tokio::test]
async fn token_endpoint_answers_zoho_errors_with_http_200() {
    let t = TestSandbox::start().await;
    let code = t.code("Desk.basic.READ", "&access_type=offline").await;
    let base = |code: &str| {
        vec![
            ("grant_type", "authorization_code".to_string()),
            ("client_id", CLIENT_ID.to_string()),
            ("client_secret", CLIENT_SECRET.to_string()),
            ("redirect_uri", REDIRECT_URI.to_string()),
            ("code", code.to_string()),
        ]
    };
    let call = |params: Vec<(&'static str, String)>| {
        let t = &t;
        async move {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.token(&p).await
        }
    };
    let with = |k: &'static str, v: &str| {
        let mut p = base(&code);
        p.iter_mut().find(|(n, _)| *n == k).unwrap().1 = v.to_string();
        p
    };
    assert_eq!(
        call(with("client_id", "nobody")).await,
        json!({"error": "invalid_client"})
    );
    assert_eq!(
        call(with("client_secret", "wrong")).await,
        json!({"error": "invalid_client_secret"})
    );
    assert_eq!(
        call(with("code", "1000.bogus")).await,
        json!({"error": "invalid_code"})
    );
    assert_eq!(
        call(with("redirect_uri", "http://127.0.0.1:9/other")).await,
        json!({"error": "invalid_redirect_uri"})
    );
    assert_eq!(
        call(with("grant_type", "password")).await,
        json!({"error": "unsupported_grant_type"})
    );
    // The good exchange still works (errors did not burn the code) and carries Zoho's fields.
    let ok = call(base(&code)).await;
    assert_eq!(ok["token_type"], "Bearer");
    assert_eq!(ok["expires_in"], 3600);
    assert!(ok["api_domain"].as_str().unwrap().starts_with("http"));
    assert!(ok["refresh_token"].is_string());
    // Reused.
    assert_eq!(call(base(&code)).await, json!({"error": "invalid_code"}));

    // Codes expire (two minutes by default).
    let code2 = t.code("Desk.basic.READ", "").await;
    t.control_post("/advance-clock", json!({"secs": 121})).await;
    assert_eq!(call(base(&code2)).await, json!({"error": "invalid_code"}));
}

#[tokio::test]
async fn refresh_tokens_only_with_offline_access_and_on_first_consent() {
    let t = TestSandbox::start().await;
    let exchange = |code: String| {
        let t = &t;
        async move {
            t.token(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("redirect_uri", REDIRECT_URI),
                ("code", &code),
            ])
            .await
        }
    };
    // Online (the default): access token only.
    let online = exchange(t.code("Desk.basic.READ", "").await).await;
    assert!(online["access_token"].is_string() && online.get("refresh_token").is_none());
    // Offline, first consent: a refresh token.
    let first = exchange(t.code("Desk.basic.READ", "&access_type=offline").await).await;
    assert!(first["refresh_token"].is_string());
    // Offline again without prompt=consent: Zoho issues none.
    let again = exchange(t.code("Desk.basic.READ", "&access_type=offline").await).await;
    assert!(again.get("refresh_token").is_none(), "{again}");
    // With prompt=consent: a new one.
    let forced = exchange(
        t.code("Desk.basic.READ", "&access_type=offline&prompt=consent")
            .await,
    )
    .await;
    assert!(forced["refresh_token"].is_string());
}

#[tokio::test]
async fn refresh_is_limited_and_old_access_tokens_are_evicted() {
    let t = TestSandbox::start().await;
    let (first, refresh) = t.tokens("Desk.basic.READ,Desk.settings.READ").await;
    let refresh_once = || {
        let t = &t;
        let refresh = refresh.clone();
        async move {
            t.token(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("refresh_token", &refresh),
            ])
            .await
        }
    };
    // Ten access tokens per refresh token in ten minutes, then "Access Denied" (HTTP 200).
    let mut minted = Vec::new();
    for _ in 0..10 {
        let r = refresh_once().await;
        minted.push(
            r["access_token"]
                .as_str()
                .expect("access token")
                .to_string(),
        );
    }
    let denied = refresh_once().await;
    assert_eq!(denied["error"], "Access Denied");
    // Only the ten newest access tokens are valid: the first one (11th oldest) was evicted.
    assert_eq!(t.get("/departments", &first).await.0, 401);
    assert_eq!(t.get("/departments", &minted[0]).await.0, 200);
    // After the window, refreshing works again.
    t.control_post("/advance-clock", json!({"secs": 600})).await;
    assert!(refresh_once().await["access_token"].is_string());
}

#[tokio::test]
async fn revoke_refuses_unknown_tokens_and_revoke_all_cuts_everyone() {
    let t = TestSandbox::start().await;
    let r = t
        .http
        .post(format!(
            "{}/oauth/v2/token/revoke?token=1000.nothing",
            t.accounts()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (access, refresh) = t.tokens(ALL_SCOPES).await;
    assert_eq!(t.get("/departments", &access).await.0, 200);
    t.control_post("/revoke-all", json!({})).await;
    assert_eq!(t.get("/departments", &access).await.0, 401);
    let again = t
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(again, json!({"error": "invalid_code"}));
}

#[tokio::test]
async fn client_credentials_may_come_in_a_basic_auth_header() {
    let t = TestSandbox::start().await;
    let code = t.code("Desk.basic.READ", "").await;
    let r = t
        .http
        .post(format!("{}/oauth/v2/token", t.accounts()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT_URI),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn an_outage_takes_the_accounts_server_down_too() {
    let t = TestSandbox::start().await;
    t.control(json!({"outage": true})).await;
    let r = t.http.get(t.auth_url(ALL_SCOPES, "")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let r = t
        .http
        .post(format!("{}/oauth/v2/token", t.accounts()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    t.control(json!({"outage": false})).await;
    assert_eq!(
        t.http
            .get(t.auth_url(ALL_SCOPES, ""))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
