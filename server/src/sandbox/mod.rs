//! The Zoho Desk sandbox: a faithful local stand-in for Zoho's accounts server (OAuth 2.0) and
//! the Desk REST API v1, with pages that show what the integration did and switches that inject
//! the faults a real Zoho produces. It holds everything in memory.
//!
//! Mounted at `/sandbox` in the app's process when `HELPDESK_SANDBOX=1`, or served alone on its
//! own port (`server sandbox`, and from tests). Never part of a production default.
//!
//! Paths (see `docs/interfaces.md`):
//! - `/sandbox/accounts/oauth/v2/{auth,token,token/revoke}`: the accounts server
//! - `/sandbox/desk/api/v1/…`: the Desk API, same paths and shapes as `https://desk.zoho.com/api/v1/…`
//! - `/sandbox/desk/…`: pages (one per contact and account, lists of contacts, tickets and calls)
//! - `/sandbox/control`: JSON switches
//! - `/sandbox/pbx/openapi/v1.0/…`: a Yeastar P-Series PBX's OpenAPI (`pbx.rs`), and
//!   `/sandbox/pbx/control` its switches

mod api;
mod control;
pub mod model;
mod oauth;
mod pages;
pub mod pbx;
pub mod seed;
pub mod state;
mod views;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

pub use state::{RegisteredClient, Settings};

/// The demo client that exists when the app runs with the sandbox (documented in README).
pub const DEMO_CLIENT_ID: &str = "1000.SANDBOXDEMOCLIENT0000000000000";
pub const DEMO_CLIENT_SECRET: &str = "sandbox-demo-secret-0123456789abcdef";
pub const DEMO_CLIENT_NAME: &str = "PBX Helpdesk Integration (demo)";

/// How the sandbox is reached and which clients it knows.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Public base URL of the process serving `/sandbox` (no trailing slash),
    /// e.g. `http://127.0.0.1:3000`.
    pub public_url: String,
    pub clients: Vec<RegisteredClient>,
    /// The PBX sandbox's OpenAPI application (Client ID, Client Secret).
    pub pbx_client_id: String,
    pub pbx_client_secret: String,
}

impl SandboxConfig {
    pub fn accounts_url(&self) -> String {
        format!("{}/sandbox/accounts", self.public_url)
    }

    pub fn desk_url(&self) -> String {
        format!("{}/sandbox/desk", self.public_url)
    }
}

/// The sandbox: configuration plus state. Cheap to share (`Arc`).
pub struct Sandbox {
    config: SandboxConfig,
    state: Mutex<state::State>,
    in_flight: AtomicU32,
    /// The PBX sandbox (Yeastar P-Series OpenAPI), served under `/sandbox/pbx`.
    pub pbx: pbx::PbxSandbox,
    /// Test switch: records' `webUrl` point here instead of the sandbox's own pages (a link
    /// the integration must not follow).
    web_url_base: Mutex<Option<String>>,
}

pub type SharedSandbox = Arc<Sandbox>;

impl Sandbox {
    pub fn new(config: SandboxConfig) -> SharedSandbox {
        let state = state::State::new(config.clients.clone());
        let pbx = pbx::PbxSandbox::new(&config.pbx_client_id, &config.pbx_client_secret);
        Arc::new(Sandbox {
            config,
            state: Mutex::new(state),
            pbx,
            in_flight: AtomicU32::new(0),
            web_url_base: Mutex::new(None),
        })
    }

    /// Where records' `webUrl` point: the sandbox's own Desk pages, unless a test said otherwise.
    fn record_base(&self) -> String {
        self.web_url_base
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| self.config.desk_url())
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Locks the state. A panic while it was held cannot leave it half-updated in a way that
    /// matters for a fake, so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ids of the user's organizations (what the consent page offers).
    pub fn org_ids(&self) -> Vec<u64> {
        self.lock().orgs.iter().map(|o| o.org.id).collect()
    }

    /// Refresh tokens not revoked (for tests that prove a revocation reached Zoho).
    pub fn live_refresh_tokens(&self) -> usize {
        self.lock().refresh_tokens.len()
    }

    /// The descriptions of every ticket and every call activity, in every org (for tests that
    /// count what was made for each PBX call: its marker is in the description).
    pub fn descriptions(&self) -> (Vec<String>, Vec<String>) {
        let st = self.lock();
        let tickets = st
            .orgs
            .iter()
            .flat_map(|o| o.tickets.values())
            .filter_map(|t| t.description.clone())
            .collect();
        let calls = st
            .orgs
            .iter()
            .flat_map(|o| o.calls.values())
            .filter_map(|c| c.description.clone())
            .collect();
        (tickets, calls)
    }

    /// Total Desk API requests answered so far (any status), for tests that prove a cache.
    pub fn request_count(&self) -> u64 {
        self.lock().stats.total
    }

    fn enter(self: &Arc<Self>) -> InFlight {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        InFlight {
            sandbox: Arc::clone(self),
            now,
        }
    }
}

/// Counts a Desk request as in flight until dropped. It owns a handle on the sandbox, so that
/// the request gate (an extractor, which must own its data) can hold it for the whole handler.
struct InFlight {
    sandbox: SharedSandbox,
    /// Requests in flight when this one entered, itself included.
    now: u32,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.sandbox.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The sandbox's routes, all under `/sandbox`.
pub fn router(sandbox: SharedSandbox) -> Router {
    Router::new().nest(
        "/sandbox",
        Router::new()
            .nest("/accounts", oauth::router())
            .nest("/desk/api/v1", api::router())
            .merge(pages::router())
            .nest("/control", control::router())
            .nest("/pbx", pbx::router(sandbox.clone()))
            .with_state(sandbox),
    )
}

/// Escapes text for HTML (the sandbox's pages are plain server-rendered HTML).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
    }
}
