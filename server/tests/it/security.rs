//! Black-box tests of the findings of the security review (issue 13): sign-in floods and
//! lock-out, redirects after sign-in, OAuth `state` and settings changes, the deployment guard
//! rails (the sandbox's, `/metrics` on its own address, slow clients, HSTS and the `__Host-`
//! cookie, expired sessions, the database's mode) and `server rotate-key`.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support;
use crate::support::app::*;
use serde_json::{json, Value};

const WEBHOOK_SECRET: &str = "security-test-webhook-secret";

/// The real server binary on a free port, with its own database; killed when dropped.
struct Process;

impl Process {
    fn start(extra: &[(&str, &str)]) -> support::process::Process {
        Self::start_in(extra, false)
    }

    /// On a SQLite file whichever backend the suite runs on (the test reads the file).
    fn start_on_sqlite(extra: &[(&str, &str)]) -> support::process::Process {
        Self::start_in(extra, true)
    }

    fn start_in(extra: &[(&str, &str)], sqlite: bool) -> support::process::Process {
        let dir = std::env::temp_dir().join(format!("helpdesk-proc-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let database_url = if sqlite {
            support::db::sqlite_url(&dir)
        } else {
            support::db::url_for(&dir)
        };
        let mut vars = vec![
            ("DATABASE_URL", database_url),
            ("HELPDESK_DATA_DIR", dir.display().to_string()),
            ("HELPDESK_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
            ("HELPDESK_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
            ("LEPTOS_SITE_ROOT", dir.join("site").display().to_string()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        support::process::Process::spawn(&vars, dir, true)
    }
}

async fn sign_in_as(
    base: &str,
    client: &reqwest::Client,
    password: &str,
    next: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("username", "admin"), ("password", password)];
    if let Some(n) = next {
        form.push(("next", n));
    }
    client
        .post(format!("{base}/api/sign_in"))
        .header("Origin", base)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// A client whose connections come from `ip` (any 127.x.y.z is this machine).
fn browser_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_flood_of_wrong_sign_ins_checks_five_and_the_intake_keeps_answering() {
    let p = Process::start_on_sqlite(&[]);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let (base, http) = (p.base.clone(), http.clone());
            tokio::spawn(async move {
                sign_in_as(&base, &http, &format!("wrong-password-{i}"), None)
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    // The PBX's events keep being taken while the flood is on.
    let intake = {
        let (base, http) = (p.base.clone(), http.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..20 {
                let body = serde_json::to_vec(&json!({
                    "event_id": format!("flood-{i}"), "call_id": format!("c{i}"), "kind": "ringing",
                    "at": "2026-12-02T09:00:00Z", "direction": "inbound",
                    "external_number": "+8613800138000", "extension": "2005"
                }))
                .unwrap();
                let r = http
                    .post(format!("{base}/api/pbx/call-events"))
                    .header("Content-Type", "application/json")
                    .header(
                        "X-Helpdesk-Signature",
                        app::engine::calls::sign(WEBHOOK_SECRET, &body),
                    )
                    .body(body)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        })
    };
    let mut checked = 0;
    let mut refused = 0;
    for f in flood {
        match f.await.unwrap() {
            401 => checked += 1,
            429 => refused += 1,
            other => panic!("a wrong sign-in answered {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked");
    assert_eq!(checked + refused, 200);
    assert_eq!(intake.await.unwrap(), vec![200; 20]);
    let peak = p.peak_rss();
    assert!(
        peak < 200 * 1024 * 1024,
        "peak RSS {} MB",
        peak / 1024 / 1024
    );

    // Over-long user names are refused like any wrong one, and never stored as given.
    let long = "a".repeat(10_000);
    let r = http
        .post(format!("{}/api/sign_in", p.base))
        .header("Origin", &p.base)
        .form(&[("username", long.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert!(matches!(r.status().as_u16(), 401 | 429), "{}", r.status());
    let db = std::fs::read(p.dir.join("helpdesk.db")).unwrap_or_default();
    let wal = std::fs::read(p.dir.join("helpdesk.db-wal")).unwrap_or_default();
    let needle = "a".repeat(100);
    for bytes in [db, wal] {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&needle),
            "the long name reached the database"
        );
    }
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_admin_out_of_another() {
    let app = TestApp::spawn().await;
    let a = browser_from("127.0.0.1");
    let b = browser_from("127.0.0.2");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            sign_in_as(&app.base, &a, "not-the-password", None)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Address A stays locked for this account, even with the right password…
    let r = sign_in_as(&app.base, &a, ADMIN_PASSWORD, None).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(body.to_string().contains("TooManyAttempts"), "{body}");
    // …and the admin signs in from address B.
    let r = sign_in_as(&app.base, &b, ADMIN_PASSWORD, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["location"], "/integrations/helpdesk");
    let (s, who) = app.call_with(&b, "whoami", &[]).await;
    assert_eq!((s, who), (200, json!("admin")));
}

#[tokio::test]
async fn the_page_after_sign_in_is_always_on_the_app() {
    let app = TestApp::spawn().await;
    let host = url::Url::parse(&app.base).unwrap();
    for next in [
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " //evil.example",
        "///evil.example",
        "/ä/../\u{202e}",
    ] {
        let c = TestApp::browser();
        let r = sign_in_as(&app.base, &c, ADMIN_PASSWORD, Some(next)).await;
        assert_eq!(r.status(), 200, "{next:?}");
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let landed = host.join(&to).unwrap();
        assert_eq!(landed.origin(), host.origin(), "{next:?} -> {to}");
    }
    let c = TestApp::browser();
    let r = sign_in_as(
        &app.base,
        &c,
        ADMIN_PASSWORD,
        Some("/pbx/extensions?page=2"),
    )
    .await;
    assert_eq!(r.headers()["location"], "/pbx/extensions?page=2");
}

#[tokio::test]
async fn a_forged_callback_does_not_cancel_the_consent_in_progress() {
    let app = TestApp::spawn().await;
    app.sign_in().await;
    let (url, _) = app.save_sandbox_settings().await;
    let q = app.consent(&url, "accept").await;
    // Another site sends the admin's browser to the callback with a state of its own.
    let forged: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| {
            if k == "state" {
                (k.clone(), "forged-state".to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let (s, body) = app.complete(&forged).await;
    assert_eq!((s, &body), (200, &json!({"Failed": "BadState"})));
    // The real redirect still completes, once.
    let (s, body) = app.complete(&q).await;
    assert_eq!(
        (s, &body),
        (200, &json!({"Succeeded": {"choose_org": false}}))
    );
    let (_, again) = app.complete(&q).await;
    assert_eq!(again, json!({"Failed": "BadState"}));
}

/// Live refresh tokens the sandbox holds.
async fn live_refresh_tokens(app: &TestApp) -> i64 {
    let c = app
        .http
        .get(format!("{}/sandbox/control", app.base))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    c["tokens"]["refresh"].as_i64().unwrap()
}

#[tokio::test]
async fn settings_changes_revoke_the_old_token_and_never_send_the_secret_elsewhere() {
    let app = TestApp::spawn().await;
    app.connect().await;
    assert_eq!(live_refresh_tokens(&app).await, 1);

    // A new Accounts Server URL without the client secret: refused, nothing changes.
    let (s, body) = app
        .call(
            "helpdesk/save",
            &[
                ("input[accounts_url]", "https://accounts.zoho.eu"),
                ("input[desk_url]", "https://desk.zoho.eu"),
                ("input[client_id]", server::sandbox::DEMO_CLIENT_ID),
                ("input[client_secret]", ""),
                ("input[use_sandbox_secret]", "false"),
            ],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.to_string().contains("SecretForNewServer"), "{body}");
    assert_eq!(app.connection().await["status"], "Connected");
    assert_eq!(live_refresh_tokens(&app).await, 1);

    // Saving the settings again drops the authorization: its refresh token is revoked at Zoho.
    app.save_sandbox_settings().await;
    assert_eq!(live_refresh_tokens(&app).await, 0);
}

#[tokio::test]
async fn the_sandbox_refuses_to_start_where_real_users_are() {
    for (vars, says) in [
        (vec![("HELPDESK_ADDR", "0.0.0.0:0")], "loopback"),
        (
            vec![("HELPDESK_PUBLIC_URL", "https://pbx.example.com")],
            "https",
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        let dir = std::env::temp_dir().join(format!("helpdesk-guard-{}", rand::random::<u64>()));
        cmd.env_clear()
            .env("HELPDESK_SANDBOX", "1")
            .env("DATABASE_URL", format!("sqlite://{}/h.db", dir.display()))
            .env("HELPDESK_ADMIN_PASSWORD", ADMIN_PASSWORD);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{vars:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.contains("HELPDESK_SANDBOX_FORCE"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[tokio::test]
async fn metrics_can_move_off_the_public_listener() {
    let p = Process::start(&[("HELPDESK_METRICS_ADDR", "127.0.0.1:0")]);
    let r = reqwest::get(format!("{}/metrics", p.base)).await.unwrap();
    assert_eq!(r.status(), 404);
    // (Where it went is in the log: checked by the unit of `main`'s wiring below.)
    drop(p);
    let p = Process::start(&[]);
    let r = reqwest::get(format!("{}/metrics", p.base)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("helpdesk_calls_open"));
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let app = TestApp::spawn_with_env(&[("HELPDESK_CLIENT_TIMEOUT_SECS", "1")], None).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    // A head that never ends (slowloris): the connection is closed.
    let addr2 = addr.clone();
    let closed = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr2).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        (started.elapsed(), buf)
    })
    .await
    .unwrap();
    assert!(
        closed.0 < Duration::from_secs(5),
        "closed after {:?}",
        closed.0
    );
    // A body that never comes: 408.
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(
            b"POST /api/pbx/call-events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"event",
        )
        .unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).to_string()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn https_deployments_get_hsts_and_a_host_only_cookie() {
    let app =
        TestApp::spawn_with_env(&[("HELPDESK_PUBLIC_URL", "https://pbx.example.com")], None).await;
    let r = app
        .http
        .get(format!("{}/login", app.local))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    // A sign-in (from the https origin) sets the session cookie.
    let r = app
        .http
        .post(format!("{}/api/sign_in", app.local))
        .header("Origin", "https://pbx.example.com")
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-helpdesk_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");

    let plain = TestApp::spawn().await;
    let r = plain
        .http
        .get(format!("{}/login", plain.base))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn expired_sessions_are_purged_and_the_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn_on_sqlite(&[("HELPDESK_SESSION_IDLE_SECS", "1")]).await;
    app.sign_in().await;
    let count = || async { sqlx_count(&app.dir.join("helpdesk.db")).await };
    assert_eq!(count().await, 1);
    // Expiry is stored to the second: wait for the record to be in the past.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        server::housekeeping(&app.engine, &app.sessions, app::engine::calls::now_ms()).await;
        if count().await == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the session was never purged"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for f in ["helpdesk.db", "helpdesk.db-wal", "helpdesk.db-shm"] {
        let mode = std::fs::metadata(app.dir.join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}: {mode:o}");
    }
}

async fn sqlx_count(db: &Path) -> i64 {
    use sqlx::Row;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM tower_sessions")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    pool.close().await;
    n
}

/// `server rotate-key` on the database (and its key file) in `dir`.
fn rotate_key(dir: &Path, database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("rotate-key")
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("HELPDESK_DATA_DIR", dir)
        .output()
        .unwrap()
}

#[tokio::test]
async fn rotate_key_reseals_every_secret_and_loses_nothing() {
    let app = TestApp::spawn().await;
    app.connect().await;
    let dir = app.dir.clone();
    let database_url = app.database_url.clone();
    let webhook = app.webhook_secret();
    let old_key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
    drop(app);

    let out = rotate_key(&dir, &database_url);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("Re-sealed 4 secrets"), "{said}");
    let new_key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!dir.join("secret.key.new").exists());
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir.join("secret.key"))
            .unwrap()
            .permissions()
            .mode()
    };
    assert_eq!(mode & 0o777, 0o600);

    // The same database under the new key: the same webhook secret, and the Zoho
    // connection still works (its tokens open).
    let again = TestApp::spawn_with_env(&[], Some(dir.clone())).await;
    assert_eq!(
        again.engine.intake.webhook_secret().unwrap().expose(),
        webhook
    );
    again.sign_in().await;
    let conn = again.connection().await;
    assert_eq!(conn["status"], "Connected", "{conn}");
    assert!(
        again.engine.zoho.access_token(false).await.is_ok(),
        "the access token opens"
    );

    // Under a wrong key nothing opens: rotate-key refuses and changes nothing.
    std::fs::write(dir.join("secret.key"), "00".repeat(32)).unwrap();
    let out = rotate_key(&dir, &database_url);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing changed"));
    assert_eq!(
        std::fs::read_to_string(dir.join("secret.key")).unwrap(),
        "00".repeat(32)
    );
}
