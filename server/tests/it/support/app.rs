//! The real server on a free port, with the sandbox mounted and a fresh database, and a
//! browser-like client (cookies, no redirects) that calls server functions as the pages do.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use leptos::prelude::LeptosOptions;
use reqwest::header::LOCATION;
use serde_json::Value;
use server::config::Config;
use server::sandbox::SharedSandbox;

pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// Log lines captured from the server, to prove no secret is ever logged.
#[derive(Clone, Default)]
pub struct LogSink(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn logs() -> &'static LogSink {
    static SINK: std::sync::OnceLock<LogSink> = std::sync::OnceLock::new();
    SINK.get_or_init(|| {
        let sink = LogSink::default();
        let s = sink.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug,hyper=info,sqlx=warn,tower_sessions=info,h2=info,reqwest=info")
            .with_writer(move || s.clone())
            .with_ansi(false)
            .init();
        sink
    })
}

pub struct TestApp {
    /// The public URL (the app's own links, the Origin its pages send).
    pub base: String,
    /// Where it listens (the same as `base` unless a public URL was set).
    pub local: String,
    pub http: reqwest::Client,
    pub sandbox: SharedSandbox,
    pub engine: app::engine::SharedEngine,
    pub dir: PathBuf,
    /// The database it runs on (`support::db`).
    pub database_url: String,
    pub sessions: server::Sessions,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let options = LeptosOptions::builder()
            .output_name("helpdesk")
            .site_root("target/site")
            .build();
        Self::spawn_with_site(options).await
    }

    /// The server with these site options (a site built into a test folder, say).
    /// The server on a SQLite file in its folder whichever backend the suite runs on: for
    /// the tests that read the file itself.
    pub async fn spawn_on_sqlite(extra: &[(&str, &str)]) -> TestApp {
        let dir = std::env::temp_dir().join(format!("helpdesk-test-{}", rand::random::<u64>()));
        let url = super::db::sqlite_url(&dir);
        let mut vars = extra.to_vec();
        vars.push(("DATABASE_URL", url.as_str()));
        Self::spawn_with_env(&vars, Some(dir)).await
    }

    pub async fn spawn_with_site(options: LeptosOptions) -> TestApp {
        Self::spawn_custom(options, &[], None).await
    }

    /// The server with more environment variables (or other values for the defaults), on
    /// the database and key in `dir` (a new folder when `None`).
    pub async fn spawn_with_env(extra: &[(&str, &str)], dir: Option<PathBuf>) -> TestApp {
        let options = LeptosOptions::builder()
            .output_name("helpdesk")
            .site_root("target/site")
            .build();
        Self::spawn_custom(options, extra, dir).await
    }

    pub async fn spawn_custom(
        options: LeptosOptions,
        extra: &[(&str, &str)],
        dir: Option<PathBuf>,
    ) -> TestApp {
        logs();
        let dir = dir.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("helpdesk-test-{}", rand::random::<u64>()))
        });
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = match extra.iter().find(|(k, _)| *k == "DATABASE_URL") {
            Some((_, url)) => url.to_string(),
            None => super::db::url_for(&dir),
        };
        let mut vars = vec![
            ("HELPDESK_ADDR", "127.0.0.1:0".to_string()),
            ("HELPDESK_SANDBOX", "1".to_string()),
            ("DATABASE_URL", database_url.clone()),
            ("HELPDESK_DATA_DIR", dir.display().to_string()),
            ("HELPDESK_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("HELPDESK_DEFAULT_COUNTRY", "CN".to_string()),
        ];
        for &(k, v) in extra {
            vars.retain(|&(n, _)| n != k);
            vars.push((k, v.to_string()));
        }
        let config =
            Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
                .unwrap();
        let (listener, bound) = server::bind(config.addr).await.unwrap();
        let public = config.public_url_for(bound);
        let app = server::build_app(&config, &public, options).await.unwrap();
        let router = app.router;
        let engine = app.engine.clone();
        let sessions = app.sessions.clone();
        let timeout = std::time::Duration::from_secs(config.client_timeout_secs);
        tokio::spawn(async move { server::serve(listener, router, timeout).await.unwrap() });
        TestApp {
            base: public,
            local: format!("http://{bound}"),
            http: Self::browser(),
            sandbox: app.sandbox.unwrap(),
            engine,
            dir,
            database_url,
            sessions,
        }
    }

    /// A fresh browser: its own cookie jar, no redirect following.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A response that never completes (a stalled page stream) fails its test within a
            // minute instead of holding the whole suite until CI's limit. Live event streams
            // are read with their own clients.
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// Calls a server function as the page does (form-encoded, same Origin).
    pub async fn call_with(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let r = client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Origin", &self.base)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.call_with(&self.http, endpoint, form).await
    }

    pub async fn sign_in(&self) {
        let (s, body) = self
            .call(
                "sign_in",
                &[("username", "admin"), ("password", ADMIN_PASSWORD)],
            )
            .await;
        assert!(s < 400, "sign in: {s} {body}");
    }

    /// Saves the sandbox's settings and returns (consent URL, attempt).
    pub async fn save_sandbox_settings(&self) -> (String, String) {
        let accounts = format!("{}/sandbox/accounts", self.base);
        let desk = format!("{}/sandbox/desk", self.base);
        let (s, body) = self
            .call(
                "helpdesk/save",
                &[
                    ("input[accounts_url]", accounts.as_str()),
                    ("input[desk_url]", desk.as_str()),
                    ("input[client_id]", server::sandbox::DEMO_CLIENT_ID),
                    ("input[client_secret]", ""),
                    ("input[use_sandbox_secret]", "true"),
                ],
            )
            .await;
        assert_eq!(s, 200, "{body}");
        (
            body["consent_url"].as_str().unwrap().to_string(),
            body["attempt"].as_str().unwrap().to_string(),
        )
    }

    /// Accepts (or denies) at the sandbox's consent page, every organization left ticked, and
    /// returns the redirect's query.
    pub async fn consent(&self, consent_url: &str, decision: &str) -> Vec<(String, String)> {
        let orgs: Vec<String> = self.sandbox.org_ids().iter().map(u64::to_string).collect();
        self.consent_for(consent_url, decision, &orgs).await
    }

    /// The same, granting only the organizations `orgs`.
    pub async fn consent_for(
        &self,
        consent_url: &str,
        decision: &str,
        orgs: &[String],
    ) -> Vec<(String, String)> {
        let html = self
            .http
            .get(consent_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"consent_id\" value=\"";
        let start = html.find(marker).expect("consent form") + marker.len();
        let id = &html[start..start + html[start..].find('"').unwrap()];
        let r = self
            .http
            .post(format!("{}/sandbox/accounts/oauth/v2/auth", self.base))
            .form(
                &[("consent_id", id), ("decision", decision)]
                    .into_iter()
                    .chain(orgs.iter().map(|o| ("org", o.as_str())))
                    .collect::<Vec<_>>(),
            )
            .send()
            .await
            .unwrap();
        let loc = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(
            loc.starts_with(&format!("{}/oauth/zoho/callback", self.base)),
            "{loc}"
        );
        url::Url::parse(&loc)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// What the landing page does with the redirect's parameters.
    pub async fn complete(&self, q: &[(String, String)]) -> (u16, Value) {
        let mut form: Vec<(String, String)> = Vec::new();
        for (k, v) in q {
            let key = if k == "accounts-server" {
                "accounts_server"
            } else {
                k.as_str()
            };
            form.push((format!("params[{key}]"), v.clone()));
        }
        let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.call("helpdesk/complete", &f).await
    }

    /// Signs in, saves, accepts, completes: a connected integration.
    pub async fn connect(&self) {
        self.sign_in().await;
        let (url, _) = self.save_sandbox_settings().await;
        let q = self.consent(&url, "accept").await;
        let (s, body) = self.complete(&q).await;
        assert_eq!(
            (s, &body),
            (
                200,
                &serde_json::json!({"Succeeded": {"choose_org": false}})
            )
        );
    }

    pub async fn connection(&self) -> Value {
        let (s, body) = self.call("helpdesk/connection", &[]).await;
        assert_eq!(s, 200, "{body}");
        body
    }

    /// The intake's webhook secret, as the PBX is given it.
    pub fn webhook_secret(&self) -> String {
        self.engine
            .intake
            .webhook_secret()
            .unwrap()
            .expose()
            .to_string()
    }

    /// Posts call events to the native intake, signed with the webhook secret as a PBX does.
    pub async fn post_signed(&self, body: &Value) -> (u16, Value) {
        let bytes = serde_json::to_vec(body).unwrap();
        let secret = self.webhook_secret();
        let r = self
            .http
            .post(format!("{}/api/pbx/call-events", self.base))
            .header("Content-Type", "application/json")
            .header(
                "X-Helpdesk-Signature",
                app::engine::calls::sign(&secret, &bytes),
            )
            .body(bytes)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The body of a GET of `path` (e.g. `/metrics`).
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Sends a plain page's HTML form as a browser does with no script (from the page at
    /// `from`, which may carry a row's view such as `?edit=7`): the answer's status and where
    /// it sends the browser.
    pub async fn submit(&self, from: &str, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "text/html,application/xhtml+xml")
            .header("Origin", &self.base)
            .header("Referer", format!("{}{from}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), location.unwrap_or_default())
    }

    /// The id of the extension with this number (as the admin lists them).
    pub async fn extension_id(&self, number: &str) -> String {
        let (_, list) = self.call("pbx/extensions", &[]).await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["number"] == number)
            .unwrap_or_else(|| panic!("no extension {number}"))["id"]
            .as_i64()
            .unwrap()
            .to_string()
    }

    /// A browser signed in to the agent web client on `ext` (the admin, signed in on
    /// `self.http`, sets its web-client password `password` first).
    pub async fn agent(&self, ext: &str, password: &str) -> reqwest::Client {
        let id = self.extension_id(ext).await;
        let (s, b) = self
            .call(
                "pbx/extensions/password",
                &[("id", &id), ("password", password)],
            )
            .await;
        assert_eq!(s, 200, "{b}");
        let c = TestApp::browser();
        let (s, b) = self
            .call_with(
                &c,
                "agent/sign_in",
                &[("extension", ext), ("password", password)],
            )
            .await;
        assert_eq!(s, 200, "{b}");
        c
    }

    pub async fn sandbox_control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(
                if path.is_empty() {
                    reqwest::Method::PATCH
                } else {
                    reqwest::Method::POST
                },
                format!("{}/sandbox/control{path}", self.base),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(Value::Null)
    }
}
