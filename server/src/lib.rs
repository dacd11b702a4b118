#![forbid(unsafe_code)]
#![recursion_limit = "256"]
//! The server process: configuration, the axum router (Leptos app, server functions, plain HTTP
//! routes), sessions, and the Zoho Desk sandbox.

pub mod agent;
pub mod config;
pub mod intake;
pub mod recordings;
pub mod sandbox;
pub mod sessions;
pub mod site;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::engine::secrets::{SecretBox, Sensitive};
use app::engine::store::Store;
use app::engine::{auth, Engine, EngineConfig, SandboxDefaults, SharedEngine};
use app::model::JobState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
pub use sessions::Sessions;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::sandbox::{RegisteredClient, Sandbox, SandboxConfig, SharedSandbox};

/// The sandbox's registration of this app's demo client: its redirect URI is the app's own.
pub fn sandbox_config(config: &Config, public_url: &str) -> SandboxConfig {
    SandboxConfig {
        public_url: public_url.to_string(),
        clients: vec![RegisteredClient {
            client_id: config.sandbox_client_id.clone(),
            client_secret: config.sandbox_client_secret.clone(),
            name: sandbox::DEMO_CLIENT_NAME.to_string(),
            redirect_uris: std::iter::once(public_url)
                .chain(config.sandbox_app_url.as_deref())
                .map(|base| format!("{base}{}", app::OAUTH_CALLBACK_PATH))
                .collect(),
        }],
        pbx_client_id: config.sandbox_pbx_client_id.clone(),
        pbx_client_secret: config.sandbox_pbx_client_secret.clone(),
    }
}

/// The running app's parts, for `main` and for black-box tests.
pub struct App {
    pub router: Router,
    pub engine: SharedEngine,
    pub sandbox: Option<SharedSandbox>,
    /// The session store (expired sessions are purged by the housekeeping).
    pub sessions: Sessions,
    /// The database was new and the sandbox is on (the demo data was just created).
    pub first_start: bool,
}

/// Opens the store, the secrets and the admin account, and builds the router.
pub async fn build_app(
    config: &Config,
    public_url: &str,
    leptos_options: LeptosOptions,
) -> anyhow::Result<App> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_label()))?;
    let secrets = SecretBox::load(
        config.secret_key.as_deref(),
        &config.data_dir.join("secret.key"),
    )
    .context("HELPDESK_SECRET_KEY")?;
    ensure_admin(&store, config.admin_password.as_deref()).await?;

    let sandbox_defaults = config.sandbox.then(|| SandboxDefaults {
        accounts_url: format!("{public_url}/sandbox/accounts"),
        desk_url: format!("{public_url}/sandbox/desk"),
        client_id: config.sandbox_client_id.clone(),
        client_secret: Sensitive::new(config.sandbox_client_secret.clone()),
        pbx_url: format!("{public_url}/sandbox/pbx"),
        pbx_client_id: config.sandbox_pbx_client_id.clone(),
        pbx_client_secret: Sensitive::new(config.sandbox_pbx_client_secret.clone()),
        pbx_webhook_secret: Sensitive::new(sandbox::pbx::push::DEMO_PBX_WEBHOOK_SECRET),
    });
    let engine: SharedEngine = Arc::new(Engine::new(
        store.clone(),
        secrets,
        EngineConfig {
            public_url: public_url.to_string(),
            sandbox: sandbox_defaults,
            pbx_utc_offset: config.pbx_utc_offset,
            numbers: app::engine::numbers::NumberPolicy {
                default_country: config.default_country,
            },
            pbx_sync_every_ms: config.pbx_sync_minutes as i64 * 60_000,
            job_lease_ms: config.job_lease_secs as i64 * 1000,
        },
    ));
    engine.directory.rebuild().await?;
    // Counted among the instances from the start: the others' share of Zoho shrinks at once.
    engine.jobs.heartbeat(app::engine::calls::now_ms()).await?;
    engine.zoho.reload_switch().await?;
    engine.rules.load().await?;
    engine
        .intake
        .init_webhook_secret(config.webhook_secret.as_deref())
        .await?;
    engine.pbx_connection.load_push_secret().await?;
    // Several instances on one PostgreSQL tell each other what changed.
    engine.start_bus();

    let first_start = config.sandbox && engine.directory.seed_demo_extensions().await?;
    if first_start {
        tracing::info!("demo extensions created (sandbox mode, first start)");
    }

    let https = public_url.starts_with("https://");
    let session_store = Sessions::open(&config.database_url)
        .await
        .context("session table")?;
    let sessions = SessionManagerLayer::new(session_store.clone())
        // On https the cookie is bound to this exact host (`__Host-`: Secure, Path=/, no Domain).
        .with_name(if https {
            "__Host-helpdesk_session"
        } else {
            "helpdesk_session"
        })
        .with_path("/")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            config.session_idle_secs,
        )));

    let routes = generate_route_list(app::App);
    let context = {
        let engine = engine.clone();
        move || provide_context(engine.clone())
    };
    let server_fns = {
        let context = context.clone();
        move |req: Request<Body>| {
            let context = context.clone();
            async move { handle_server_fns_with_context(context, req).await }
        }
    };
    let mut router = Router::new().route("/healthz", get(|| async { "ok" }));
    if config.metrics_addr.is_none() {
        router = router.merge(metrics_router(engine.clone()));
    }
    let mut router = router
        .merge(intake::router(engine.clone()))
        .merge(agent::router(
            engine.clone(),
            Arc::new(session_store.clone()),
        ))
        .merge(recordings::router(engine.clone()))
        .route("/api/{*fn_name}", get(server_fns.clone()).post(server_fns))
        .leptos_routes_with_context(&leptos_options, routes, context, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(site::files_or_not_found)
        .with_state(leptos_options)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(origin_of(public_url)),
            same_origin_only,
        ))
        .layer(axum::middleware::from_fn(admin_pages_need_sign_in))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_secs(config.client_timeout_secs),
            read_body_in_time,
        ))
        .layer(axum::middleware::from_fn_with_state(
            https,
            security_headers,
        ));

    let mut sb = None;
    if config.sandbox {
        let s = Sandbox::new(sandbox_config(config, public_url));
        // The PBX sandbox's Webhook Event Push points at this app, as an admin would set it.
        s.pbx
            .set_webhook(&format!("{public_url}{}", intake::YEASTAR_PATH));
        router = router.merge(sandbox::router(s.clone()));
        sb = Some(s);
    }
    Ok(App {
        router,
        engine,
        sandbox: sb,
        sessions: session_store,
        first_start,
    })
}

/// On a first start with the sandbox on, connects the PBX sandbox (once the server listens:
/// Test connection asks it over HTTP), so that calls placed in the simulator ring on it and
/// its events reach the app by its webhook from the first minute.
pub fn connect_pbx_sandbox_soon(engine: SharedEngine) {
    tokio::spawn(async move {
        match engine.pbx_connection.connect_sandbox().await {
            Ok(Some(view)) => tracing::info!(
                status = ?view.status,
                "the PBX sandbox is connected (first start)"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "connecting the PBX sandbox"),
        }
    });
}

/// `/metrics` alone: on the app's listener, or on its own (`HELPDESK_METRICS_ADDR`).
pub fn metrics_router<S: Clone + Send + Sync + 'static>(engine: SharedEngine) -> Router<S> {
    Router::new().route("/metrics", get(metrics).with_state(engine))
}

/// `server rotate-key`: re-seals every secret in the database (the Zoho client secret and
/// tokens, the generated webhook secret) under a fresh key, all or none, then puts the key
/// where the old one was: the key file is replaced (the new key is written beside it first,
/// so that a failure at any step leaves a key that opens the database); a key given as hex in
/// `HELPDESK_SECRET_KEY` is printed once, to be set there before the next start.
pub async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    use app::engine::secrets::KeySource;
    let default_file = config.data_dir.join("secret.key");
    let source = SecretBox::key_source(config.secret_key.as_deref(), &default_file);
    if let KeySource::File(path) = &source {
        anyhow::ensure!(
            path.is_file(),
            "no key file at {}: nothing to rotate",
            path.display()
        );
    }
    let old = SecretBox::load(config.secret_key.as_deref(), &default_file)
        .context("HELPDESK_SECRET_KEY")?;
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_label()))?;
    let (new, hex_key) = SecretBox::generate();
    let staged = match &source {
        KeySource::File(path) => {
            let staged = path.with_extension("key.new");
            let _ = std::fs::remove_file(&staged);
            SecretBox::write_key_file(&staged, &hex_key)
                .with_context(|| format!("writing the new key to {}", staged.display()))?;
            Some((staged, path.clone()))
        }
        KeySource::Hex => None,
    };
    let count = match app::engine::reseal_all(&store, &old, &new).await {
        Ok(n) => n,
        Err(e) => {
            if let Some((staged, _)) = &staged {
                let _ = std::fs::remove_file(staged);
            }
            anyhow::bail!("nothing changed: {e}");
        }
    };
    match staged {
        Some((staged, path)) => {
            std::fs::rename(&staged, &path).with_context(|| {
                format!(
                    "the database is sealed with the key in {}: move it to {} by hand",
                    staged.display(),
                    path.display()
                )
            })?;
            println!(
                "Re-sealed {count} secrets; the new key is in {}.",
                path.display()
            );
        }
        None => {
            // Printed once, to whoever runs the command; never logged.
            println!(
                "Re-sealed {count} secrets. Set HELPDESK_SECRET_KEY to this new key before the next start:\n{}",
                hex_key.expose()
            );
        }
    }
    Ok(())
}

/// Sets the admin password from `HELPDESK_ADMIN_PASSWORD`, or creates the admin with a random
/// password printed once when none exists.
async fn ensure_admin(store: &Store, configured: Option<&str>) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Some(pw) = configured {
        let hash = auth::hash_password(Sensitive::new(pw)).await;
        store
            .set_admin_password(auth::ADMIN_USERNAME, &hash, now)
            .await?;
    } else if store.admin_count().await? == 0 {
        let pw: String = hex::encode(rand::random::<[u8; 9]>());
        let hash = auth::hash_password(Sensitive::new(pw.clone())).await;
        store
            .set_admin_password(auth::ADMIN_USERNAME, &hash, now)
            .await?;
        // Printed once, to the terminal of whoever started the server; never logged.
        println!("\n  Admin sign-in created: user `admin`, password `{pw}`\n  (set HELPDESK_ADMIN_PASSWORD to choose it)\n");
    }
    Ok(())
}

/// `/metrics`: counters and gauges in Prometheus's text format (counts only, no secrets).
async fn metrics(State(engine): State<SharedEngine>) -> Response {
    let open = engine.store.open_calls().await.unwrap_or(-1);
    let bound = engine.directory.get().len() as i64;
    let counts = engine.store.job_counts().await.unwrap_or_default();
    let jobs_in = |states: &[JobState]| {
        counts
            .iter()
            .filter(|(_, s, _)| states.contains(s))
            .map(|(_, _, n)| n)
            .sum::<i64>()
    };
    let attention = engine.zoho.attention().await.unwrap_or_default();
    let body = engine.metrics.render(&[
        ("helpdesk_calls_open", "Calls in progress.", open),
        (
            "helpdesk_zoho_authorization_expired",
            "1 while the Zoho Desk authorization has expired (Zoho work waits for a re-authorization).",
            attention.auth_expired as i64,
        ),
        (
            "helpdesk_calls_waiting_for_zoho",
            "Calls whose Zoho work waits for an expired authorization to be renewed.",
            attention.waiting_calls,
        ),
        (
            "helpdesk_bound_extensions",
            "Extensions bound to a Zoho Desk user.",
            bound,
        ),
        (
            "helpdesk_jobs_pending",
            "Zoho work queued or running.",
            jobs_in(&[JobState::Queued, JobState::Running]),
        ),
        (
            "helpdesk_jobs_failed",
            "Zoho work failed (retry by hand in the integration log).",
            jobs_in(&[JobState::Failed]),
        ),
        (
            "helpdesk_agent_connections",
            "Agent web client tabs connected for live events.",
            engine.agents.connections() as i64,
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Server functions and other state-changing `/api/` requests must come from our own pages:
/// the `Origin` (or `Referer`) must be the public URL's.
async fn same_origin_only(State(origin): State<Arc<String>>, req: Request, next: Next) -> Response {
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // The PBX's intake authenticates itself with the webhook secret instead.
    if changes_state
        && req.uri().path().starts_with("/api/")
        && !intake::is_intake(req.uri().path())
    {
        let h = req.headers();
        let from = h
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                h.get(header::REFERER)
                    .and_then(|v| v.to_str().ok())
                    .map(origin_of)
            });
        if from.as_deref() != Some(origin.as_str()) {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

/// Largest request body any route reads (the intake's own limit is lower).
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// An admin page asked for without an admin's session goes straight to the sign-in page
/// (and back here after it): a redirect with no page behind it, nothing rendered. The pages
/// also check for themselves (their data is refused without the session), for the browser's
/// own navigation.
async fn admin_pages_need_sign_in(
    session: tower_sessions::Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD)
        && app::is_admin_page(req.uri().path())
        && !matches!(
            session.get::<String>(app::api::ssr::SESSION_ADMIN).await,
            Ok(Some(_))
        )
    {
        let here = req.uri().path_and_query().map(|p| p.as_str());
        let to = auth::sign_in_address(here, &[]);
        let mut resp = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(&to) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        return resp;
    }
    next.run(req).await
}

/// Reads a request's body in full before the handler runs, within the client timeout and
/// [`MAX_REQUEST_BODY`]: a client that trickles its body (or sends too much) is answered 408
/// (or 413) instead of holding a handler and its memory.
async fn read_body_in_time(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let refuse = |status: StatusCode, error: &str| {
        (status, axum::Json(serde_json::json!({ "error": error }))).into_response()
    };
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_REQUEST_BODY)).await {
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            "the body did not arrive in time",
        ),
        Ok(Err(_)) => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the body is larger than {} KiB", MAX_REQUEST_BODY / 1024),
        ),
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    resp
}

/// Background work of a running server: the job worker (Zoho work of the rules), the PBX's
/// event socket (when events come by WebSocket), and once a minute the closing of calls that
/// never ended, the purge of expired sessions and the forgetting of old sign-in attempts. Tests
/// drive these by hand instead.
pub fn spawn_housekeeping(engine: SharedEngine, sessions: Sessions) {
    tokio::spawn(engine.clone().job_worker());
    tokio::spawn(engine.clone().run_pbx_socket());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            housekeeping(&engine, &sessions, app::engine::calls::now_ms()).await;
        }
    });
}

/// One round of the housekeeping at `now_ms` (the server runs it every minute; tests call it).
pub async fn housekeeping(engine: &SharedEngine, sessions: &Sessions, now_ms: i64) {
    use tower_sessions::ExpiredDeletion;
    if let Err(e) = engine.jobs.heartbeat(now_ms).await {
        tracing::warn!(error = %e, "writing this instance's heartbeat failed");
    }
    match engine
        .close_stale_calls(now_ms, app::engine::calls::DEFAULT_CALL_TIMEOUT_MS)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(facts = n, "closed calls that never ended"),
        Err(e) => tracing::warn!(error = %e, "closing stale calls failed"),
    }
    if let Err(e) = sessions.delete_expired().await {
        tracing::warn!(error = %e, "purging expired sessions failed");
    }
    engine
        .directory
        .sync_from_pbx_if_due(&engine.pbx_connection, now_ms)
        .await;
    let forget = now_ms / 1000 - auth::FORGET_AFTER_SECS;
    if let Err(e) = engine.store.prune_login_attempts(forget).await {
        tracing::warn!(error = %e, "forgetting old sign-in attempts failed");
    }
    if let Err(e) = engine.store.prune_pop_claims(now_ms - 3_600_000).await {
        tracing::warn!(error = %e, "forgetting old pop claims failed");
    }
}

/// Serves the sandbox alone on `listener` (tests, benchmarks, `server sandbox`).
pub async fn serve_sandbox(listener: TcpListener, sandbox: SharedSandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox::router(sandbox))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// After Ctrl-C or SIGTERM, time given to open requests (live event streams included).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the app until Ctrl-C or SIGTERM (HTTP/1.1), with the client address available to
/// handlers. `head_timeout` is the time a client has to send a request's head, counted from
/// when the connection is ready for it: a slow sender (slowloris) and an idle keep-alive
/// connection are both closed after it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    head_timeout: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(remote));
            tower::ServiceExt::oneshot(router.clone(), req)
        });
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = closing.wait_for(|c| *c) => conn.as_mut().graceful_shutdown(),
            }
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
        });
    }
    drop(closing_rx);
    let _ = closing_tx.send(true);
    // The connection tasks hold receivers: wait until they have all finished (or the grace).
    let _ =
        tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(1), closing_tx.closed()).await;
    Ok(())
}

/// Binds `addr` and returns the listener with its actual address (port 0 → a free port).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_router_serves_the_redirect_uri_path_the_engine_gives_zoho() {
        let routes = leptos_axum::generate_route_list(app::App);
        assert!(
            routes.iter().any(|r| r.path() == app::OAUTH_CALLBACK_PATH),
            "{:?}",
            routes.iter().map(|r| r.path()).collect::<Vec<_>>()
        );
    }
}
