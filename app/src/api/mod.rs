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
    /// The extension number an agent signed in to the web client with.
    pub const SESSION_AGENT: &str = "agent_extension";

    pub fn engine() -> Result<SharedEngine, AppError> {
        use_context::<SharedEngine>().ok_or(AppError::Internal)
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| AppError::Internal)
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

    /// The engine and the extension of a signed-in agent, or 401.
    pub async fn require_agent() -> Result<(SharedEngine, String), AppError> {
        let session = session().await?;
        match session.get::<String>(SESSION_AGENT).await {
            Ok(Some(ext)) => Ok((engine()?, ext)),
            _ => {
                status(StatusCode::UNAUTHORIZED);
                Err(AppError::Unauthorized)
            }
        }
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
