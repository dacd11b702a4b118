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
            refused(
                StatusCode::UNAUTHORIZED,
                &[("failed", "credentials")],
                next.as_deref(),
            );
            Err(AppError::BadCredentials)
        }
        Err(auth::SignInError::TooMany { retry_after_secs }) => {
            let retry = retry_after_secs.to_string();
            refused(
                StatusCode::TOO_MANY_REQUESTS,
                &[("failed", "attempts"), ("retry", &retry)],
                next.as_deref(),
            );
            Err(AppError::TooManyAttempts(retry_after_secs))
        }
        Err(auth::SignInError::Internal) => Err(AppError::Internal),
    }
}

/// A refused sign-in: the status for a script's call; for the sign-in page's plain HTML form,
/// back to that page with why in its address (and where to go once signed in).
#[cfg(feature = "ssr")]
fn refused(code: axum::http::StatusCode, why: &[(&str, &str)], next: Option<&str>) {
    if super::ssr::from_plain_form() {
        leptos_axum::redirect(&crate::engine::auth::sign_in_address(next, why));
    } else {
        super::ssr::status(code);
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
