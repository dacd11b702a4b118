//! Sign-in outcomes (the admin's and the agents').

use serde::{Deserialize, Serialize};

/// Why an authorization did not complete (the landing page says which, precisely).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthFailure {
    /// The admin clicked Deny at Zoho.
    Denied,
    /// The `state` is missing, forged, expired or was already used.
    BadState,
    /// Zoho refused the client id or secret.
    InvalidClient,
    /// The grant code was refused (expired or already used).
    CodeExpired,
    /// Zoho refused the redirect URI.
    RedirectUri,
    /// The redirect named an accounts server that is not Zoho's nor the configured one.
    UntrustedServer,
    /// Zoho could not be reached, or answered with an error.
    Network,
    /// The Zoho account has no Zoho Desk organization.
    NoOrganization,
    /// No settings saved yet, or the session is not an admin's.
    NotConfigured,
    /// Anything else Zoho answered.
    Other,
}

/// Where an authorization attempt stands, for the admin page that waits for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AuthAttempt {
    /// The consent is still to be given (in the other window, or at this address).
    Waiting {
        consent_url: String,
    },
    Finished(AuthOutcome),
    /// Not this session's, expired, or replaced by a newer attempt.
    Gone,
}

/// The landing page's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AuthOutcome {
    Succeeded { choose_org: bool },
    Failed(AuthFailure),
}
