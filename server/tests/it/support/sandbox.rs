//! A sandbox served on a free port, and a browser-like client for its consent page.

use std::sync::OnceLock;

use reqwest::header::LOCATION;
use serde_json::Value;
use server::sandbox::{self, RegisteredClient, Sandbox, SandboxConfig, SharedSandbox};

use super::oas::Oas;

pub const CLIENT_ID: &str = "1000.TESTCLIENT";
pub const CLIENT_SECRET: &str = "test-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/zoho/callback";

/// Every scope the integration asks for (docs/zoho-desk-api.md §2).
pub const ALL_SCOPES: &str = "Desk.basic.READ,Desk.settings.READ,Desk.search.READ,Desk.contacts.READ,Desk.contacts.CREATE,Desk.tickets.READ,Desk.tickets.CREATE,Desk.activities.calls.CREATE,Desk.activities.calls.READ,Desk.activities.CREATE,Desk.calls.CREATE,Desk.calls.READ";

pub fn oas() -> &'static Oas {
    static OAS: OnceLock<Oas> = OnceLock::new();
    OAS.get_or_init(Oas::load)
}

pub struct TestSandbox {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub sandbox: SharedSandbox,
    /// Follows no redirects, like a careful OAuth client.
    pub http: reqwest::Client,
}

impl TestSandbox {
    pub async fn start() -> TestSandbox {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sb = Sandbox::new(SandboxConfig {
            public_url: base.clone(),
            clients: vec![RegisteredClient {
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                name: "Test PBX <Integration>".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
            }],
            pbx_client_id: sandbox::pbx::DEMO_PBX_CLIENT_ID.into(),
            pbx_client_secret: sandbox::pbx::DEMO_PBX_CLIENT_SECRET.into(),
        });
        let router = sandbox::router(sb.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TestSandbox {
            base,
            sandbox: sb,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn accounts(&self) -> String {
        format!("{}/sandbox/accounts", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/sandbox/desk/api/v1{}", self.base, path)
    }

    pub async fn control(&self, body: Value) -> Value {
        let r = self
            .http
            .patch(format!("{}/sandbox/control", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "control {body}");
        r.json().await.unwrap()
    }

    pub async fn control_post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/sandbox/control{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Opens the consent page for `auth_query` (the query string of an authorization URL) and
    /// returns the consent form's id, or panics with the page.
    pub async fn consent_id(&self, auth_url: &str) -> String {
        let page = self.http.get(auth_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let marker = "name=\"consent_id\" value=\"";
        let start = html
            .find(marker)
            .unwrap_or_else(|| panic!("no consent form in {html}"))
            + marker.len();
        let end = start + html[start..].find('"').unwrap();
        html[start..end].to_string()
    }

    /// Posts the consent form as a browser would (every organization left ticked) and returns
    /// the redirect's query pairs.
    pub async fn decide(&self, consent_id: &str, decision: &str) -> Vec<(String, String)> {
        let mut form = vec![
            ("consent_id".to_string(), consent_id.to_string()),
            ("decision".to_string(), decision.to_string()),
        ];
        for id in self.sandbox.org_ids() {
            form.push(("org".into(), id.to_string()));
        }
        let r = self
            .http
            .post(format!("{}/oauth/v2/auth", self.accounts()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "consent answer should redirect");
        let loc = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(loc.starts_with(REDIRECT_URI), "{loc}");
        url::Url::parse(&loc)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    pub fn auth_url(&self, scopes: &str, extra: &str) -> String {
        format!(
            "{}/oauth/v2/auth?response_type=code&client_id={}&redirect_uri={}&scope={}&state=s1{}",
            self.accounts(),
            CLIENT_ID,
            urlencode(REDIRECT_URI),
            scopes,
            extra
        )
    }

    /// A grant code for `scopes`, obtained through the consent page.
    pub async fn code(&self, scopes: &str, extra: &str) -> String {
        let id = self.consent_id(&self.auth_url(scopes, extra)).await;
        let q = self.decide(&id, "accept").await;
        q.iter().find(|(k, _)| k == "code").expect("code").1.clone()
    }

    /// Posts to the token endpoint with form parameters; returns the JSON.
    pub async fn token(&self, params: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .post(format!("{}/oauth/v2/token", self.accounts()))
            .form(params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// An access token with `scopes` (offline; also returns the refresh token).
    pub async fn tokens(&self, scopes: &str) -> (String, String) {
        let code = self
            .code(scopes, "&access_type=offline&prompt=consent")
            .await;
        let t = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("redirect_uri", REDIRECT_URI),
                ("code", &code),
            ])
            .await;
        (
            t["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            t["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
        )
    }

    pub async fn access_token(&self) -> String {
        self.tokens(ALL_SCOPES).await.0
    }

    /// A Desk API request with the token and the seeded org.
    pub fn desk(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.api(path))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .header("orgId", server::sandbox::seed::SEED_ORG_ID.to_string())
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .desk(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, body)
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self
            .desk(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
