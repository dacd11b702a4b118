//! The only error type the browser sees. Internal failures carry no text (they are logged on
//! the server); everything else says precisely what to fix.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::model::{BindingProblem, FieldError};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No admin session: sign in first.
    #[error("sign in first")]
    Unauthorized,
    /// The request's Origin is not this app's.
    #[error("cross-site request refused")]
    Forbidden,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed sign-ins; try again in {0} s")]
    TooManyAttempts(i64),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("the Zoho Desk connection is not set up")]
    NotConfigured,
    #[error("the authorization has expired; authorize again")]
    AuthExpired,
    #[error("Zoho Desk could not be reached or refused the request")]
    Zoho,
    #[error("no such record")]
    NotFound,
    #[error("not a JSON array of extensions")]
    BadImport,
    #[error("binding refused")]
    Binding(BindingProblem),
    /// The call-event intake refused the simulator's events (its own words).
    #[error("{0}")]
    Intake(String),
    /// The company contacts group (named) is synced from Zoho Desk: turn off Auto Sync
    /// Contacts or disconnect before editing it or its contacts.
    #[error("the group {0} is synced from Zoho Desk and cannot be edited")]
    ReadOnly(String),
    /// Only an empty company contacts group can be synced with Zoho Desk.
    #[error("the group {group} has {contacts} contacts; only an empty group can be synced")]
    GroupNotEmpty { group: String, contacts: i64 },
    /// The PBX's OpenAPI refused or could not be reached (its own words).
    #[error("{0}")]
    Pbx(String),
    #[error("internal error")]
    Internal,
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

#[cfg(feature = "ssr")]
impl From<crate::engine::EngineError> for AppError {
    fn from(e: crate::engine::EngineError) -> Self {
        let error = Self::from_engine(e);
        // A server function's answer says what went wrong in its status too.
        use axum::http::StatusCode as S;
        crate::api::ssr::status(match &error {
            AppError::Invalid(_) => S::BAD_REQUEST,
            AppError::NotFound => S::NOT_FOUND,
            AppError::NotConfigured
            | AppError::AuthExpired
            | AppError::ReadOnly(_)
            | AppError::GroupNotEmpty { .. }
            | AppError::Binding(_) => S::CONFLICT,
            AppError::Zoho | AppError::Pbx(_) => S::BAD_GATEWAY,
            _ => S::INTERNAL_SERVER_ERROR,
        });
        error
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    fn from_engine(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError as E;
        match e {
            E::Invalid(f) => AppError::Invalid(f),
            E::NotConfigured => AppError::NotConfigured,
            E::AuthExpired => AppError::AuthExpired,
            E::TokenRefresh(why) => {
                tracing::warn!(%why, "renewing the access token failed");
                AppError::Zoho
            }
            E::NotFound => AppError::NotFound,
            E::Pbx(p) => AppError::Pbx(p.to_string()),
            E::Intake(m) => AppError::Intake(m),
            E::ReadOnly(g) => AppError::ReadOnly(g),
            E::GroupNotEmpty { group, contacts } => AppError::GroupNotEmpty { group, contacts },
            E::Zoho(z) => {
                tracing::warn!(error = %z, "Zoho request failed");
                AppError::Zoho
            }
            other => {
                tracing::error!(error = %other, "internal error");
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::engine::directory::bindings::BindingError> for AppError {
    fn from(e: crate::engine::directory::bindings::BindingError) -> Self {
        match e {
            crate::engine::directory::bindings::BindingError::Refused(p) => {
                crate::api::ssr::status(axum::http::StatusCode::CONFLICT);
                AppError::Binding(p)
            }
            crate::engine::directory::bindings::BindingError::Engine(e) => e.into(),
        }
    }
}
