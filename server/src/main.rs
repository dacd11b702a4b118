#![forbid(unsafe_code)]
//! `server` — the PBX ↔ Zoho Desk helpdesk integration.
//!
//! `server` (or `server serve`) runs the app; `server sandbox` runs the Zoho Desk sandbox alone.

use std::time::Duration;

use clap::{Parser, Subcommand};
use server::config::Config;
use server::sandbox::Sandbox;

#[derive(Parser)]
#[command(version, about = "PBX ↔ Zoho Desk helpdesk integration")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the admin app (the default).
    Serve,
    /// Serve only the Zoho Desk sandbox, e.g. for benchmarks (listens on HELPDESK_ADDR).
    Sandbox,
    /// Re-seal every stored secret under a new encryption key (stop the server first).
    RotateKey,
}

// Every core: the intake, the job runner, the Zoho and PBX clients and the pages run on tokio's
// multi-threaded runtime. A page's values may be dropped on another thread than the one that
// made them, so pages hold nothing thread-bound while the server renders (docs/decisions.md).
#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::from_lookup(|k| std::env::var(k).ok())?;
    if matches!(cli.command, Some(Command::RotateKey)) {
        return server::rotate_key(&config).await;
    }
    // Before listening: a refused sandbox never opens a port.
    config.check_sandbox(config.public_url.as_deref().unwrap_or("http://"))?;
    let (listener, bound) = server::bind(config.addr).await?;
    let public_url = config.public_url_for(bound);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Sandbox if !config.sandbox_force && !config.addr.ip().is_loopback() => {
            anyhow::bail!(
                "the sandbox is served on loopback addresses only (HELPDESK_SANDBOX_FORCE=1 overrides)"
            );
        }
        Command::Sandbox => {
            let sb = Sandbox::new(server::sandbox_config(&config, &public_url));
            tracing::warn!(%public_url, "serving the Zoho Desk SANDBOX only (not for production)");
            server::serve_sandbox(listener, sb).await?;
        }
        Command::RotateKey => unreachable!("handled before listening"),
        Command::Serve => {
            let leptos_options = server::site::options(&config.site_root);
            let app = server::build_app(&config, &public_url, leptos_options).await?;
            if app.sandbox.is_some() {
                tracing::warn!(
                    "the Zoho Desk SANDBOX is mounted at {public_url}/sandbox — for trying and testing only"
                );
            }
            if let Some(addr) = config.metrics_addr {
                let (metrics, at) = server::bind(addr).await?;
                tracing::info!("metrics on http://{at}/metrics (and not on the app's address)");
                let router: axum::Router = server::metrics_router(app.engine.clone());
                let timeout = Duration::from_secs(config.client_timeout_secs);
                tokio::spawn(async move { server::serve(metrics, router, timeout).await });
            }
            tracing::info!(%public_url, "listening on {bound}");
            server::spawn_housekeeping(app.engine.clone(), app.sessions.clone());
            if app.first_start && config.sandbox_pbx_connect {
                server::connect_pbx_sandbox_soon(app.engine.clone());
            }
            let timeout = Duration::from_secs(config.client_timeout_secs);
            let engine = app.engine.clone();
            server::serve(listener, app.router, timeout).await?;
            // The PBX's token goes back to it; a PBX that does not answer does not hold the stop.
            let release = engine.pbx_connection.release();
            if tokio::time::timeout(Duration::from_secs(3), release)
                .await
                .is_err()
            {
                tracing::warn!("the PBX did not take its token back in time");
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}
