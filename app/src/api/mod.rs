//! Server functions, grouped by page. Each one authorizes itself (they are public endpoints),
//! calls the engine, and maps the error.

pub mod agent;
pub mod auth;
pub mod calls;
pub mod contacts;
pub mod helpdesk;
pub mod pbx;

/// The flash a plain HTML form's call left for the page being drawn (`None` in the browser):
/// see [`ssr::answer_plain_form`].
pub async fn take_flash() -> Option<crate::model::Flash> {
    #[cfg(feature = "ssr")]
    {
        ssr::take_flash().await
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

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
    /// `leptos_axum::redirect` also goes by. Only a call to a server function's own endpoint:
    /// one made while a page is drawn on the server is not.
    pub fn from_plain_form() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|p| {
            p.uri.path().starts_with("/api/")
                && p.headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// The session key of a plain form's [`crate::model::Flash`].
    const SESSION_FLASH: &str = "flash";

    /// The query parameters that open a view of a row on a plain page (its edit form, its
    /// password dialog, its delete confirmation, the connection form filled with the
    /// sandbox's values…): a form's success closes the view.
    pub const VIEW_PARAMS: [&str; 8] = [
        "edit",
        "password",
        "delete",
        "rename",
        "delete_group",
        "sandbox",
        "disconnect",
        "auto_bind",
    ];

    /// Answers a plain HTML form's call (nothing for a script's): back to the admin page the
    /// form was on (its Referer, only ever one of this app's admin pages; else `fallback`).
    /// Refused, the page comes back as it was, and the session keeps what was typed and why
    /// for it; done, the row's view (edit form, dialog) closes and `done` says what it did.
    /// Not signed in (the session ended meanwhile): to the sign-in page, then back.
    pub async fn answer_plain_form<T>(
        form: String,
        typed: &[(&str, String)],
        fallback: &str,
        result: &Result<T, AppError>,
        done: impl FnOnce(&T) -> Option<String>,
    ) {
        answer_plain_form_then(form, typed, fallback, result, done, |_, _| {}).await
    }

    /// [`answer_plain_form`], where success also changes the page's query (`then`): e.g. a
    /// new group becomes the selected one, a deleted one is no longer.
    pub async fn answer_plain_form_then<T>(
        form: String,
        typed: &[(&str, String)],
        fallback: &str,
        result: &Result<T, AppError>,
        done: impl FnOnce(&T) -> Option<String>,
        then: impl FnOnce(&T, &mut Vec<(String, String)>),
    ) {
        use crate::model::Flash;
        if !from_plain_form() {
            return;
        }
        let referer = use_context::<axum::http::request::Parts>().and_then(|p| {
            p.headers
                .get(axum::http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
        let (path, mut query) = referer
            .as_deref()
            .and_then(|r| form_page(r, result.is_err()))
            .unwrap_or_else(|| (fallback.to_string(), vec![]));
        let flash = match result {
            Err(AppError::Unauthorized) => {
                let page = address(&path, &query);
                leptos_axum::redirect(&crate::engine::auth::sign_in_address(Some(&page), &[]));
                return;
            }
            Err(e) => Some(Flash {
                form,
                typed: typed
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
                error: Some(e.clone()),
                done: None,
            }),
            Ok(v) => {
                then(v, &mut query);
                done(v).map(|done| Flash {
                    form,
                    done: Some(done),
                    ..Flash::default()
                })
            }
        };
        if let (Some(flash), Ok(session)) = (flash, session().await) {
            let _ = session.insert(SESSION_FLASH, flash).await;
        }
        leptos_axum::redirect(&address(&path, &query));
    }

    /// A path with its query.
    fn address(path: &str, query: &[(String, String)]) -> String {
        if query.is_empty() {
            return path.to_string();
        }
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{path}?{query}")
    }

    /// The path and query of `referer` if it is one of the admin's pages, without the row
    /// views ([`VIEW_PARAMS`]) unless `keep_view`, and without server_fn's own error markers.
    fn form_page(referer: &str, keep_view: bool) -> Option<(String, Vec<(String, String)>)> {
        let url = url::Url::parse(referer).ok()?;
        if !crate::is_admin_page(url.path()) {
            return None;
        }
        let query = url
            .query_pairs()
            .filter(|(k, _)| {
                !k.starts_with("__") && (keep_view || !VIEW_PARAMS.contains(&k.as_ref()))
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Some((url.path().to_string(), query))
    }

    /// The flash a plain form's call left for this page, taken (it is shown once). The page's
    /// own live refresh (`x-live`) leaves it for the page the browser is about to draw.
    pub async fn take_flash() -> Option<crate::model::Flash> {
        let live = use_context::<axum::http::request::Parts>()
            .is_some_and(|p| p.headers.contains_key("x-live"));
        if live {
            return None;
        }
        let session = session().await.ok()?;
        session
            .remove::<crate::model::Flash>(SESSION_FLASH)
            .await
            .ok()
            .flatten()
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

    #[cfg(test)]
    mod tests {
        use super::{address, form_page};

        fn back(referer: &str, keep_view: bool) -> Option<String> {
            form_page(referer, keep_view).map(|(path, query)| address(&path, &query))
        }

        #[test]
        fn a_plain_form_goes_back_to_its_admin_page_only() {
            let r = "http://127.0.0.1:3000/pbx/extensions?edit=7&__path=x&__err=y";
            assert_eq!(back(r, false).as_deref(), Some("/pbx/extensions"));
            assert_eq!(back(r, true).as_deref(), Some("/pbx/extensions?edit=7"));
            let log = "https://pbx.example.com/integrations/helpdesk/log?status=failed&delete=1";
            assert_eq!(
                back(log, false).as_deref(),
                Some("/integrations/helpdesk/log?status=failed")
            );
            // Never elsewhere: not another page of the app, not a malformed address.
            assert_eq!(back("http://127.0.0.1:3000/login?next=/", false), None);
            assert_eq!(back("/pbx/extensions", false), None);
        }
    }
}
