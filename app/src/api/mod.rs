//! Server functions, grouped by page. Each one authorizes itself (they are public endpoints),
//! calls the engine, and maps the error.

pub mod agent;
pub mod auth;
pub mod calls;
pub mod contacts;
pub mod helpdesk;
pub mod pbx;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Request context for server functions: the engine, the session, the signed-in admin.

    use axum::http::StatusCode;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    use crate::engine::SharedEngine;
    use crate::error::AppError;

    pub const SESSION_ADMIN: &str = "admin";
    /// The agent signed in to the web client: an [`crate::engine::directory::extensions::AgentSession`].
    pub const SESSION_AGENT: &str = "agent";

    pub fn engine() -> Result<SharedEngine, AppError> {
        use_context::<SharedEngine>().ok_or(AppError::Internal)
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| AppError::Internal)
    }

    /// The caller's IP address (sign-in throttling and logs), `unknown` when not served over TCP.
    pub async fn client_addr() -> String {
        leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .await
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|_| "unknown".into())
    }

    /// Whether the call is a plain HTML form's (the browser wants a page back, not data): what
    /// `leptos_axum::redirect` also goes by.
    pub fn from_plain_form() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// Sets the HTTP status of a server function's answer. When the function runs inside a
    /// page's server rendering, the page decides its own status (e.g. a redirect to sign-in).
    pub fn status(code: StatusCode) {
        let is_call = use_context::<axum::http::request::Parts>()
            .is_some_and(|p| p.uri.path().starts_with("/api/"));
        if let (true, Some(r)) = (is_call, use_context::<ResponseOptions>()) {
            r.set_status(code);
        }
    }

    /// The engine and the extension of a signed-in agent whose sign-in is still good (the
    /// extension exists and its web-client password has not changed since), or 401.
    pub async fn require_agent() -> Result<(SharedEngine, crate::model::Extension), AppError> {
        let engine = engine()?;
        if let Some(ext) = signed_in_agent(&engine).await? {
            return Ok((engine, ext));
        }
        status(StatusCode::UNAUTHORIZED);
        Err(AppError::Unauthorized)
    }

    /// The signed-in agent's extension, if the sign-in is still good.
    pub async fn signed_in_agent(
        engine: &SharedEngine,
    ) -> Result<Option<crate::model::Extension>, AppError> {
        use crate::engine::directory::extensions::AgentSession;
        let session = session().await?;
        let Ok(Some(agent)) = session.get::<AgentSession>(SESSION_AGENT).await else {
            return Ok(None);
        };
        Ok(engine.directory.signed_in_extension(&agent).await?)
    }

    /// The engine and session of a signed-in admin, or 401.
    pub async fn require_admin() -> Result<(SharedEngine, Session, String), AppError> {
        let session = session().await?;
        match session.get::<String>(SESSION_ADMIN).await {
            Ok(Some(user)) => Ok((engine()?, session, user)),
            _ => {
                status(StatusCode::UNAUTHORIZED);
                Err(AppError::Unauthorized)
            }
        }
    }
}
