//! The Zoho client: OAuth 2.0 with Zoho Accounts (the `oauth2` crate) and the Desk REST API
//! (`reqwest`). One HTTP client that follows no redirects, with connect and total timeouts and a
//! cap on response size; one error type that classifies Zoho's answers.
//!
//! Facts and sources: `docs/zoho-desk-api.md`.

pub mod api;
pub mod connection;
pub mod desk;
pub mod oauth;

pub use connection::ZohoConnection;

use std::time::Duration;

use url::Url;

/// Every scope the integration's features need (zoho-desk-api.md §2), comma-separated as Zoho
/// wants them. Searches need `Desk.search.READ` with the module's READ scope; call activities are
/// listed under three alias scopes, all asked for.
pub const SCOPES: &[&str] = &[
    "Desk.basic.READ",
    "Desk.settings.READ",
    "Desk.search.READ",
    "Desk.contacts.READ",
    "Desk.contacts.CREATE",
    "Desk.tickets.READ",
    "Desk.tickets.CREATE",
    "Desk.activities.READ",
    "Desk.activities.CREATE",
    "Desk.activities.calls.READ",
    "Desk.activities.calls.CREATE",
    "Desk.calls.READ",
    "Desk.calls.CREATE",
];

/// Zoho's data centres: (code, label, accounts server, Desk URL) — zoho-desk-api.md §1.8.
pub const DATA_CENTRES: &[(&str, &str, &str, &str)] = &[
    (
        "us",
        "United States",
        "https://accounts.zoho.com",
        "https://desk.zoho.com",
    ),
    (
        "eu",
        "Europe",
        "https://accounts.zoho.eu",
        "https://desk.zoho.eu",
    ),
    (
        "in",
        "India",
        "https://accounts.zoho.in",
        "https://desk.zoho.in",
    ),
    (
        "au",
        "Australia",
        "https://accounts.zoho.com.au",
        "https://desk.zoho.com.au",
    ),
    (
        "jp",
        "Japan",
        "https://accounts.zoho.jp",
        "https://desk.zoho.jp",
    ),
    (
        "ca",
        "Canada",
        "https://accounts.zohocloud.ca",
        "https://desk.zohocloud.ca",
    ),
    (
        "cn",
        "China (mainland)",
        "https://accounts.zoho.com.cn",
        "https://desk.zoho.com.cn",
    ),
    (
        "sa",
        "Saudi Arabia",
        "https://accounts.zoho.sa",
        "https://desk.zoho.sa",
    ),
    (
        "uk",
        "United Kingdom",
        "https://accounts.zoho.uk",
        "https://desk.zoho.uk",
    ),
    (
        "ae",
        "United Arab Emirates",
        "https://accounts.zoho.ae",
        "https://desk.zoho.ae",
    ),
];

/// Whether `url` is exactly one of Zoho's accounts servers (the data centres' table): the
/// only ones a redirect's `accounts-server` may move the connection to.
pub fn is_accounts_server(url: &str) -> bool {
    let url = url.trim_end_matches('/');
    DATA_CENTRES.iter().any(|(_, _, a, _)| *a == url)
}

/// Timeouts and the response cap of every request to Zoho.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(20);
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// The one HTTP client used for Zoho: no redirects (an OAuth client that follows them can be
/// steered to other hosts), connect and total timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent(concat!(
            "pbx-helpdesk-integration/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .expect("HTTP client configuration is valid")
}

/// Everything that can go wrong talking to Zoho, classified for the caller.
#[derive(Debug, thiserror::Error)]
pub enum ZohoError {
    /// Zoho Accounts answered `{"error": code}` (often with HTTP 200).
    #[error("Zoho refused the request: {0}")]
    OAuth(String),
    /// The access token was refused (401 INVALID_OAUTH / UNAUTHORIZED).
    #[error("Zoho refused the access token")]
    Unauthorized,
    /// A Desk API error with Zoho's errorCode.
    #[error("Zoho Desk answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// 429: retry after this many seconds.
    #[error("Zoho is rate limiting ({code}); retry after {retry_after:?} s")]
    RateLimited {
        code: String,
        retry_after: Option<u64>,
    },
    #[error("Zoho did not answer in time")]
    Timeout,
    #[error("cannot reach Zoho: {0}")]
    Network(String),
    #[error("Zoho's answer could not be read: {0}")]
    Decode(String),
}

impl ZohoError {
    pub fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            ZohoError::Timeout
        } else if e.is_decode() || e.is_body() {
            ZohoError::Decode(e.to_string())
        } else {
            // Only the kind of failure, never a URL with parameters.
            ZohoError::Network(
                if e.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                }
                .into(),
            )
        }
    }

    /// Worth trying again later (the same request may succeed).
    pub fn is_retryable(&self) -> bool {
        match self {
            ZohoError::Timeout | ZohoError::Network(_) | ZohoError::RateLimited { .. } => true,
            ZohoError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Why an outbound URL typed by the admin is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    #[error("is not a URL")]
    NotUrl,
    #[error("must start with https://")]
    NotHttps,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not have a query or fragment")]
    QueryOrFragment,
}

/// Reads a connection's base URL field (`field`), required and checked as
/// [`check_base_url`]; a refusal goes to `errors` (and the answer is empty).
pub fn url_field(field: &str, raw: &str, errors: &mut Vec<crate::model::FieldError>) -> String {
    use crate::model::{FieldError, FieldProblem};
    let problem = if raw.trim().is_empty() {
        FieldProblem::Required
    } else {
        match check_base_url(raw) {
            Ok(u) => return u,
            Err(UrlProblem::NotUrl) => FieldProblem::NotUrl,
            Err(UrlProblem::NotHttps) => FieldProblem::NotHttps,
            Err(UrlProblem::Credentials) => FieldProblem::Credentials,
            Err(UrlProblem::QueryOrFragment) => FieldProblem::QueryOrFragment,
        }
    };
    errors.push(FieldError {
        field: field.into(),
        problem,
    });
    String::new()
}

/// Reads a connection's Client ID (`client_id`): required, at most 200 characters.
pub fn client_id_field(raw: &str, errors: &mut Vec<crate::model::FieldError>) -> String {
    use crate::model::{FieldError, FieldProblem};
    let id = raw.trim().to_string();
    let problem = if id.is_empty() {
        FieldProblem::Required
    } else if id.len() > 200 {
        FieldProblem::TooLong
    } else {
        return id;
    };
    errors.push(FieldError {
        field: "client_id".into(),
        problem,
    });
    id
}

/// Checks a Zoho base URL the admin typed (Accounts Server URL, Zoho Desk URL): `https://`, or
/// plain `http://` only for loopback (the sandbox); no credentials, query or fragment. Returns
/// the URL without a trailing slash.
pub fn check_base_url(raw: &str) -> Result<String, UrlProblem> {
    let url = Url::parse(raw.trim()).map_err(|_| UrlProblem::NotUrl)?;
    let host = url.host_str().ok_or(UrlProblem::NotUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        _ => return Err(UrlProblem::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlProblem::QueryOrFragment);
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Is this one of Zoho's own hosts (any data centre)? Used to warn on unusual URLs and to
/// decide whether an `accounts-server` from a redirect may be trusted.
pub fn is_zoho_host(url: &str) -> bool {
    let Ok(u) = Url::parse(url) else { return false };
    let Some(host) = u.host_str() else {
        return false;
    };
    DATA_CENTRES.iter().any(|(_, _, a, d)| {
        Url::parse(a)
            .ok()
            .and_then(|x| x.host_str().map(|h| h == host))
            == Some(true)
            || Url::parse(d)
                .ok()
                .and_then(|x| x.host_str().map(|h| h == host))
                == Some(true)
    })
}

/// The Desk URL of the data centre whose accounts server is `accounts`.
pub fn desk_for_accounts(accounts: &str) -> Option<&'static str> {
    DATA_CENTRES
        .iter()
        .find(|(_, _, a, _)| *a == accounts.trim_end_matches('/'))
        .map(|(_, _, _, d)| *d)
}

/// Reads a response body with a size cap.
pub async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, ZohoError> {
    if resp
        .content_length()
        .is_some_and(|n| n as usize > MAX_RESPONSE_BYTES)
    {
        return Err(ZohoError::Decode("response too large".into()));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(ZohoError::from_reqwest)? {
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ZohoError::Decode("response too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_https_or_loopback() {
        assert_eq!(
            check_base_url("https://accounts.zoho.eu/").unwrap(),
            "https://accounts.zoho.eu"
        );
        assert_eq!(
            check_base_url("http://127.0.0.1:3000/sandbox/accounts").unwrap(),
            "http://127.0.0.1:3000/sandbox/accounts"
        );
        assert_eq!(
            check_base_url("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(
            check_base_url("http://accounts.zoho.com"),
            Err(UrlProblem::NotHttps)
        );
        assert_eq!(check_base_url("ftp://x.com"), Err(UrlProblem::NotHttps));
        assert_eq!(
            check_base_url("https://u:p@x.com"),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(
            check_base_url("https://x.com/?a=1"),
            Err(UrlProblem::QueryOrFragment)
        );
        assert_eq!(check_base_url("zoho"), Err(UrlProblem::NotUrl));
    }

    #[test]
    fn knows_zoho_hosts_and_data_centres() {
        assert!(is_zoho_host("https://accounts.zoho.com.cn"));
        assert!(is_zoho_host("https://desk.zohocloud.ca/x"));
        assert!(!is_zoho_host("https://accounts.zoho.com.evil.example"));
        assert!(is_accounts_server("https://accounts.zoho.uk"));
        assert!(is_accounts_server("https://accounts.zoho.ae/"));
        for not in [
            "http://accounts.zoho.eu",
            "https://accounts.zoho.eu:8443",
            "https://accounts.zoho.eu/oauth",
            "https://desk.zoho.eu",
            "https://accounts.zoho.eu.evil.example",
            "https://accounts.zoho.eu@evil.example",
        ] {
            assert!(!is_accounts_server(not), "{not}");
        }
        assert_eq!(
            desk_for_accounts("https://accounts.zoho.eu"),
            Some("https://desk.zoho.eu")
        );
        assert_eq!(desk_for_accounts("http://127.0.0.1/sandbox/accounts"), None);
    }
}
