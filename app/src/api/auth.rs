//! Sign-in and sign-out of the admin.

use leptos::prelude::*;

use crate::error::AppError;

/// Signs the admin in; on success the session id is rotated and the browser goes to `next`.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    use crate::engine::{auth, secrets::Sensitive};
    use axum::http::StatusCode;

    let engine = engine()?;
    let session = session().await?;
    let addr = client_addr().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match auth::sign_in(
        &engine.store,
        &engine.sign_in_gate,
        username.trim(),
        Sensitive::new(password),
        &addr,
        now,
    )
    .await
    {
        Ok(()) => {
            session.cycle_id().await.map_err(|_| AppError::Internal)?;
            session
                .insert(SESSION_ADMIN, username.trim().to_string())
                .await
                .map_err(|_| AppError::Internal)?;
            tracing::info!(user = %username.trim(), %addr, "admin signed in");
            // Only the app's own pages: never an open redirect.
            leptos_axum::redirect(&auth::landing(engine.public_url(), next.as_deref()));
            Ok(())
        }
        Err(auth::SignInError::Invalid) => {
            tracing::warn!(%addr, "failed admin sign-in");
            status(StatusCode::UNAUTHORIZED);
            Err(AppError::BadCredentials)
        }
        Err(auth::SignInError::TooMany { retry_after_secs }) => {
            status(StatusCode::TOO_MANY_REQUESTS);
            Err(AppError::TooManyAttempts(retry_after_secs))
        }
        Err(auth::SignInError::Internal) => Err(AppError::Internal),
    }
}

/// Ends the session on the server and goes to the sign-in page.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use super::ssr::*;
    let session = session().await?;
    session.flush().await.map_err(|_| AppError::Internal)?;
    // An agent signed in in the same browser is signed out too: its live connections end.
    engine()?.directory.access_changed();
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in admin's name, if any (the frame shows it; anonymous callers get `None`).
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<String>, AppError> {
    use super::ssr::*;
    let session = session().await?;
    Ok(session.get::<String>(SESSION_ADMIN).await.ok().flatten())
}
