#![recursion_limit = "256"]
#![forbid(unsafe_code)]
//! The server process: configuration, the axum router (Leptos app + plain HTTP routes), and the
//! Zoho Desk sandbox.

pub mod config;
pub mod sandbox;

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;

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

/// The whole app's router.
pub fn app_router(
    config: &Config,
    public_url: &str,
    leptos_options: LeptosOptions,
) -> (Router, Option<SharedSandbox>) {
    let routes = generate_route_list(app::App);
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes(&leptos_options, routes, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options);
    let mut sb = None;
    if config.sandbox {
        let s = Sandbox::new(sandbox_config(config, public_url));
        router = router.merge(sandbox::router(s.clone()));
        sb = Some(s);
    }
    (router, sb)
}

/// Serves the sandbox alone on `listener` (tests, benchmarks, `server sandbox`).
pub async fn serve_sandbox(listener: TcpListener, sandbox: SharedSandbox) -> std::io::Result<()> {
    axum::serve(listener, sandbox::router(sandbox))
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
