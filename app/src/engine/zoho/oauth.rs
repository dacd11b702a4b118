//! Zoho Accounts OAuth 2.0 for a server-based application, with the `oauth2` crate.
//!
//! Zoho's quirks handled here (zoho-desk-api.md §1): scopes are one comma-separated parameter;
//! `access_type=offline` and `prompt=consent` to get a refresh token every time; token errors come
//! back as HTTP 200 with `{"error": "invalid_code"}`, which the crate reports as a parse error
//! carrying the body; the token endpoint is the data centre's accounts server.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpClientError,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardErrorResponse, TokenResponse,
    TokenUrl,
};

use super::{ZohoError, SCOPES};
use crate::engine::secrets::Sensitive;

/// What the token endpoint gave us.
#[derive(Debug)]
pub struct Tokens {
    pub access: Sensitive,
    pub refresh: Option<Sensitive>,
    pub expires_in_secs: u64,
}

/// A registered client: id, secret, and the redirect URI registered with it.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: Sensitive,
    pub redirect_uri: String,
}

type Crate = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

impl OAuthClient {
    fn client(&self, accounts_url: &str) -> Result<Crate, ZohoError> {
        let bad = |_| ZohoError::Decode("invalid accounts server URL".into());
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.expose().to_string()))
            .set_auth_uri(AuthUrl::new(format!("{accounts_url}/oauth/v2/auth")).map_err(bad)?)
            .set_token_uri(TokenUrl::new(format!("{accounts_url}/oauth/v2/token")).map_err(bad)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?)
            .set_auth_type(AuthType::RequestBody))
    }

    /// The consent URL at `accounts_url` carrying `state`.
    pub fn authorize_url(&self, accounts_url: &str, state: &str) -> Result<String, ZohoError> {
        let state = state.to_string();
        let (url, _) = self
            .client(accounts_url)?
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new(SCOPES.join(",")))
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .url();
        Ok(url.to_string())
    }

    /// Exchanges a grant code at the data centre's accounts server.
    pub async fn exchange_code(
        &self,
        http: &reqwest::Client,
        accounts_url: &str,
        code: &str,
    ) -> Result<Tokens, ZohoError> {
        let r = self
            .client(accounts_url)?
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .request_async(http)
            .await
            .map_err(token_error)?;
        Ok(Tokens {
            access: Sensitive::new(r.access_token().secret().clone()),
            refresh: r
                .refresh_token()
                .map(|t| Sensitive::new(t.secret().clone())),
            expires_in_secs: r.expires_in().map(|d| d.as_secs()).unwrap_or(3600),
        })
    }

    /// A new access token from the refresh token.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        accounts_url: &str,
        refresh: &Sensitive,
    ) -> Result<Tokens, ZohoError> {
        let rt = RefreshToken::new(refresh.expose().to_string());
        let r = self
            .client(accounts_url)?
            .exchange_refresh_token(&rt)
            .request_async(http)
            .await
            .map_err(token_error)?;
        Ok(Tokens {
            access: Sensitive::new(r.access_token().secret().clone()),
            refresh: None,
            expires_in_secs: r.expires_in().map(|d| d.as_secs()).unwrap_or(3600),
        })
    }

    /// Revokes a refresh token (and the access tokens minted from it).
    pub async fn revoke(
        http: &reqwest::Client,
        accounts_url: &str,
        refresh: &Sensitive,
    ) -> Result<(), ZohoError> {
        // As Zoho documents it: the token in the query string.
        let token: String =
            url::form_urlencoded::byte_serialize(refresh.expose().as_bytes()).collect();
        let resp = http
            .post(format!(
                "{accounts_url}/oauth/v2/token/revoke?token={token}"
            ))
            .send()
            .await
            .map_err(ZohoError::from_reqwest)?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(ZohoError::OAuth(format!(
                "revoke answered {}",
                resp.status().as_u16()
            )))
        }
    }
}

type TokenErr = RequestTokenError<
    HttpClientError<reqwest::Error>,
    StandardErrorResponse<BasicErrorResponseType>,
>;

/// Maps the crate's error, reading Zoho's `{"error": …}` out of a 200 answer.
fn token_error(e: TokenErr) -> ZohoError {
    match e {
        RequestTokenError::ServerResponse(r) => ZohoError::OAuth(r.error().as_ref().to_string()),
        RequestTokenError::Parse(_, body) => {
            match serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            {
                Some(code) => ZohoError::OAuth(code),
                None => ZohoError::Decode("unexpected token response".into()),
            }
        }
        RequestTokenError::Request(HttpClientError::Reqwest(e)) => ZohoError::from_reqwest(*e),
        RequestTokenError::Request(_) => ZohoError::Network("request failed".into()),
        RequestTokenError::Other(s) => ZohoError::Decode(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_asks_what_zoho_needs() {
        let c = OAuthClient {
            client_id: "1000.ABC".into(),
            client_secret: Sensitive::new("s3cret"),
            redirect_uri: "https://pbx.example.com/oauth/zoho/callback".into(),
        };
        let url = c
            .authorize_url("https://accounts.zoho.com", "st4te")
            .unwrap();
        let u = url::Url::parse(&url).unwrap();
        assert_eq!(u.path(), "/oauth/v2/auth");
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "1000.ABC");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["state"], "st4te");
        assert_eq!(
            q["redirect_uri"],
            "https://pbx.example.com/oauth/zoho/callback"
        );
        assert!(q["scope"].contains("Desk.tickets.CREATE,"));
        assert!(!q["scope"].contains(' '));
        assert!(
            !url.contains("s3cret"),
            "the secret never goes to the browser"
        );
    }
}
