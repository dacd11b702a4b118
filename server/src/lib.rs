#![forbid(unsafe_code)]
#![recursion_limit = "256"]
//! The server process: configuration, the axum router (Leptos app, server functions, plain HTTP
//! routes), sessions, and the Zoho Desk sandbox.

pub mod agent;
pub mod config;
pub mod intake;
pub mod sandbox;
pub mod site;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use app::engine::secrets::{SecretBox, Sensitive};
use app::engine::store::Store;
use app::engine::{auth, Engine, EngineConfig, SandboxDefaults, SharedEngine};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

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
            redirect_uris: vec![format!("{public_url}/oauth/zoho/callback")],
        }],
    }
}

/// The running app's parts, for `main` and for black-box tests.
pub struct App {
    pub router: Router,
    pub engine: SharedEngine,
    pub sandbox: Option<SharedSandbox>,
}

/// Opens the store, the secrets and the admin account, and builds the router.
pub async fn build_app(
    config: &Config,
    public_url: &str,
    leptos_options: LeptosOptions,
) -> anyhow::Result<App> {
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))?;
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
        },
    ));
    engine.rebuild_directory().await?;
    engine.reload_switch().await?;
    engine.load_rules().await?;
    engine
        .init_webhook_secret(config.webhook_secret.as_deref())
        .await?;

    if config.sandbox && engine.seed_demo_extensions().await? {
        tracing::info!("demo extensions created (sandbox mode, first start)");
    }

    let session_store = SqliteStore::new(store.pool().clone());
    session_store.migrate().await.context("session table")?;
    let sessions = SessionManagerLayer::new(session_store)
        .with_name("helpdesk_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(public_url.starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));

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
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics).with_state(engine.clone()))
        .merge(intake::router(engine.clone()))
        .merge(agent::router(engine.clone()))
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
        .layer(sessions)
        .layer(axum::middleware::from_fn(security_headers));

    let mut sb = None;
    if config.sandbox {
        let s = Sandbox::new(sandbox_config(config, public_url));
        router = router.merge(sandbox::router(s.clone()));
        sb = Some(s);
    }
    Ok(App {
        router,
        engine,
        sandbox: sb,
    })
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
    let bound = engine.directory().len() as i64;
    let counts = engine.store.job_counts().await.unwrap_or_default();
    let jobs_in = |states: &[&str]| {
        counts
            .iter()
            .filter(|(_, s, _)| states.contains(&s.as_str()))
            .map(|(_, _, n)| n)
            .sum::<i64>()
    };
    let body = engine.metrics.render(&[
        ("helpdesk_calls_open", "Calls in progress.", open),
        (
            "helpdesk_bound_extensions",
            "Extensions bound to a Zoho Desk user.",
            bound,
        ),
        (
            "helpdesk_jobs_pending",
            "Zoho work queued or running.",
            jobs_in(&["queued", "running"]),
        ),
        (
            "helpdesk_jobs_failed",
            "Zoho work failed (retry by hand in the integration log).",
            jobs_in(&["failed"]),
        ),
        (
            "helpdesk_agent_connections",
            "Agent web client tabs connected for live events.",
            engine.agent_connections() as i64,
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

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
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

/// Background work of a running server: the job worker (Zoho work of the rules), and once a
/// minute the closing of calls that never ended. Tests drive both by hand instead.
pub fn spawn_housekeeping(engine: SharedEngine) {
    tokio::spawn(engine.clone().job_worker());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = app::engine::calls::now_ms();
            match engine
                .close_stale_calls(now, app::engine::calls::DEFAULT_CALL_TIMEOUT_MS)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(facts = n, "closed calls that never ended"),
                Err(e) => tracing::warn!(error = %e, "closing stale calls failed"),
            }
        }
    });
}

/// Serves the sandbox alone on `listener` (tests, benchmarks, `server sandbox`).
pub async fn serve_sandbox(listener: TcpListener, sandbox: SharedSandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox::router(sandbox))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Serves the app, with the client address available to handlers.
pub async fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
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
