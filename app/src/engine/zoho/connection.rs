//! The Zoho Desk connection (requirements §2–§3, §10): the Authorization Information, the
//! OAuth 2.0 dance, the tokens (one renewal at a time, a growing pause after failures, an
//! expired authorization noticed and shown), the connected org, and the integration's switch,
//! which follows all of these. The rest of the engine reaches Zoho Desk through
//! [`super::api::Desk`] over [`ZohoConnection::with_token`]; nothing here knows about calls
//! or jobs: it only wakes the work that waits for it.

use std::sync::Arc;

use time::OffsetDateTime;

use super::api::Departments;
use super::oauth::OAuthClient;
use super::{desk, ZohoError};
use crate::engine::calls::Switch;
use crate::engine::metrics::Metrics;
use crate::engine::secrets::{SecretBox, Sensitive};
use crate::engine::store::{ConnectionRow, Store, StoreError};
use crate::engine::{zoho, EngineError, SandboxDefaults};
use crate::model::{
    AuthFailure, AuthOutcome, ConnectionView, FieldError, FieldProblem, OrgChoice, SandboxFill,
    SettingsInput, Status,
};

/// Refresh an access token this long before Zoho says it expires.
const REFRESH_MARGIN_SECS: i64 = 120;
/// The first pause after a failed renewal of the access token; it doubles up to the maximum.
const REFRESH_BACKOFF_SECS: u64 = 15;
const REFRESH_BACKOFF_MAX_SECS: u64 = 600;

pub(crate) const PURPOSE_CLIENT_SECRET: &str = "zoho.client_secret";
pub(crate) const PURPOSE_REFRESH: &str = "zoho.refresh_token";
pub(crate) const PURPOSE_ACCESS: &str = "zoho.access_token";

/// The connected org, as a Desk request needs it.
pub(crate) struct DeskCtx {
    pub desk_url: String,
    pub org_id: String,
    pub edition: Option<String>,
}

/// The connection row held in memory: `None` until read (or after it was let go), and a
/// generation that every write and reload moves on, so that a read that raced with a write
/// does not put back what the write replaced.
#[derive(Default)]
struct RowCache {
    row: Option<Option<Arc<ConnectionRow>>>,
    generation: u64,
    /// The org's edition as read from that very row's org list (`orgs_json`), so that a job's
    /// [`DeskCtx`] does not parse the list again while the row is unchanged.
    edition: Option<(Arc<ConnectionRow>, Option<String>)>,
}

pub struct ZohoConnection {
    store: Store,
    secrets: SecretBox,
    pub(crate) http: reqwest::Client,
    /// The app's public base URL (the redirect URI is built on it).
    public_url: String,
    sandbox: Option<SandboxDefaults>,
    /// One refresh at a time: concurrent callers wait and reuse the new token.
    token_lock: tokio::sync::Mutex<()>,
    /// The stored connection as last read or written by this instance, for the reads every
    /// Zoho request and job makes (its token, the org); see [`ZohoConnection::cached_row`].
    row: std::sync::RwLock<RowCache>,
    /// Renewing the access token keeps failing: (no new try before, failures in a row).
    refresh_trouble: std::sync::Mutex<Option<(std::time::Instant, u32)>>,
    /// The Zoho Desk URL of the connection, if any: the only host whose links are followed.
    desk_url: std::sync::RwLock<Option<String>>,
    /// Connected and switched on? Read by every call event; refreshed on every change.
    switch: std::sync::RwLock<Switch>,
    /// Woken when the work waiting for Zoho may go on (switched on, a token renewed).
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<Metrics>,
    /// The org's departments as last read, and when.
    departments: std::sync::Mutex<Option<(Departments, std::time::Instant)>>,
}

/// How long the org's departments are used as read before Zoho is asked again.
const DEPARTMENTS_FOR: std::time::Duration = std::time::Duration::from_secs(600);

impl std::fmt::Debug for ZohoConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZohoConnection")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// See [`ZohoConnection::trusted_zoho_link`].
fn trusted_link(link: &str, desk_url: &str, sandbox_desk_url: Option<&str>) -> Option<String> {
    let u = url::Url::parse(link.trim()).ok()?;
    let desk = url::Url::parse(desk_url).ok()?;
    let plain_ok = sandbox_desk_url == Some(desk_url);
    (u.origin() == desk.origin()
        && (u.scheme() == "https" || plain_ok)
        && u.username().is_empty()
        && u.password().is_none())
    .then(|| u.to_string())
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Says in the log that the authorizing user does not administer the org being connected.
fn warn_if_not_admin(org: &desk::Organization) {
    if org.is_admin_in_org == Some(false) {
        tracing::warn!(
            org = %org.company_name,
            "the authorizing Zoho user is not an administrator of this organization"
        );
    }
}

impl ZohoConnection {
    pub(crate) fn new(
        store: Store,
        secrets: SecretBox,
        public_url: String,
        sandbox: Option<SandboxDefaults>,
        wake: Arc<tokio::sync::Notify>,
        metrics: Arc<Metrics>,
    ) -> ZohoConnection {
        ZohoConnection {
            store,
            secrets,
            http: zoho::http_client(),
            public_url,
            sandbox,
            token_lock: tokio::sync::Mutex::new(()),
            row: Default::default(),
            refresh_trouble: Default::default(),
            desk_url: Default::default(),
            switch: std::sync::RwLock::new(Switch::NotConnected),
            wake,
            metrics,
            departments: Default::default(),
        }
    }
}

impl ZohoConnection {
    pub fn redirect_uri(&self) -> String {
        format!("{}{}", self.public_url, crate::OAUTH_CALLBACK_PATH)
    }

    /// The integration's switch as last read from the store.
    pub fn switch(&self) -> Switch {
        *self.switch.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the connection's status and switch (at start, and when another instance
    /// changed the connection).
    pub async fn reload_switch(&self) -> Result<(), EngineError> {
        self.forget_row();
        let row = self.store.connection().await?;
        self.keep_row(row.clone());
        self.follow_switch(row.as_ref());
        Ok(())
    }

    /// The stored connection, read from the store only when this instance does not hold it.
    /// Every change this instance makes goes through [`Self::save_conn`], which keeps the new
    /// row; another instance's change reaches [`Self::reload_switch`] (engine::bus). For the
    /// hot reads only (a request's token, a job's org): a change reads the row from the store.
    async fn cached_row(&self) -> Result<Option<Arc<ConnectionRow>>, StoreError> {
        let generation = {
            let cache = self.row.read().unwrap_or_else(|p| p.into_inner());
            if let Some(row) = &cache.row {
                return Ok(row.clone());
            }
            cache.generation
        };
        let row = self.store.connection().await?.map(Arc::new);
        let mut cache = self.row.write().unwrap_or_else(|p| p.into_inner());
        if cache.generation == generation {
            cache.row = Some(row.clone());
        }
        Ok(row)
    }

    fn keep_row(&self, row: Option<ConnectionRow>) {
        let mut cache = self.row.write().unwrap_or_else(|p| p.into_inner());
        cache.row = Some(row.map(Arc::new));
        cache.generation += 1;
    }

    /// Lets the held row go: the next read asks the store (after a change made around
    /// [`Self::save_conn`], such as disconnect's).
    pub(crate) fn forget_row(&self) {
        let mut cache = self.row.write().unwrap_or_else(|p| p.into_inner());
        cache.row = None;
        cache.generation += 1;
    }

    pub(crate) fn follow_switch(&self, row: Option<&ConnectionRow>) {
        let s = match row {
            Some(r) if Status::parse(&r.status) == Status::Connected => {
                if r.enabled {
                    Switch::On
                } else {
                    Switch::Off
                }
            }
            // The org is known and the integration on: calls keep being planned, and their
            // work waits for the authorization to be renewed.
            Some(r)
                if Status::parse(&r.status) == Status::AuthExpired
                    && r.org_id.is_some()
                    && r.enabled =>
            {
                Switch::Paused
            }
            _ => Switch::NotConnected,
        };
        let was = std::mem::replace(
            &mut *self.switch.write().unwrap_or_else(|p| p.into_inner()),
            s,
        );
        // Said once per change, not per call.
        match (was, s) {
            (a, b) if a == b => {}
            (_, Switch::Paused) => tracing::warn!(
                "the Zoho Desk authorization has expired: calls are recorded and their Zoho work \
                 waits until an admin re-authorizes"
            ),
            (Switch::Paused, Switch::On) => {
                tracing::info!("the Zoho Desk authorization is renewed: the waiting work resumes")
            }
            _ => {}
        }
        *self.desk_url.write().unwrap_or_else(|p| p.into_inner()) =
            row.map(|r| r.desk_url.clone()).filter(|u| !u.is_empty());
        if s == Switch::On {
            self.wake.notify_one();
        }
    }

    /// Every change to the connection goes through here, so the switch follows it.
    async fn save_conn(&self, row: &ConnectionRow) -> Result<(), StoreError> {
        self.forget_row();
        self.store.save_connection(row, now()).await?;
        self.keep_row(Some(row.clone()));
        self.follow_switch(Some(row));
        Ok(())
    }

    /// The banner of every admin page: an expired authorization, and the calls waiting for it.
    pub async fn attention(&self) -> Result<crate::model::Attention, EngineError> {
        let expired = self
            .store
            .connection()
            .await?
            .is_some_and(|r| Status::parse(&r.status) == Status::AuthExpired);
        Ok(crate::model::Attention {
            auth_expired: expired,
            waiting_calls: if expired {
                self.store.waiting_calls().await?
            } else {
                0
            },
        })
    }

    /// The origin (`scheme://host[:port]`) of the connected Zoho Desk, if any.
    pub fn desk_origin(&self) -> Option<String> {
        let desk = self
            .desk_url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        Some(url::Url::parse(&desk).ok()?.origin().ascii_serialization())
    }

    /// A link Zoho gave us (a record's `webUrl`), if it may be opened or shown as a link: an
    /// https page of the connected Zoho Desk (or of the sandbox, which is plain http on this
    /// machine). Anything else is shown as text, never followed.
    pub fn trusted_zoho_link(&self, link: &str) -> Option<String> {
        let desk = self
            .desk_url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        trusted_link(
            link,
            &desk,
            self.sandbox.as_ref().map(|s| s.desk_url.as_str()),
        )
    }

    /// "Enable Zoho Desk integration": off keeps recording calls and settings but does no Zoho
    /// work; on resumes for new calls.
    pub async fn set_enabled(&self, on: bool) -> Result<(), EngineError> {
        let mut row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        if Status::parse(&row.status) != Status::Connected {
            return Err(EngineError::NotConfigured);
        }
        row.enabled = on;
        Ok(self.save_conn(&row).await?)
    }

    /// What the Helpdesk Integration page shows.
    pub async fn connection_view(&self) -> Result<ConnectionView, EngineError> {
        let row = self.store.connection().await?;
        let public = url::Url::parse(&self.public_url).ok();
        let https_warning = public
            .as_ref()
            .is_some_and(|u| u.scheme() != "https" && !u.host_str().is_some_and(zoho::is_loopback));
        let (dc_accounts, dc_desk) = (zoho::DATA_CENTRES[0].2, zoho::DATA_CENTRES[0].3);
        let granted: Vec<desk::Organization> = row
            .as_ref()
            .and_then(|r| r.orgs_json.as_deref())
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let org_not_admin = row
            .as_ref()
            .and_then(|r| r.org_id.as_ref())
            .and_then(|id| granted.iter().find(|o| &o.id == id))
            .is_some_and(|o| o.is_admin_in_org == Some(false));
        let orgs: Vec<OrgChoice> = granted
            .into_iter()
            .map(|o| OrgChoice {
                id: o.id,
                name: o.company_name,
            })
            .collect();
        let status = match &row {
            None => Status::NotConnected,
            Some(r) => {
                let s = Status::parse(&r.status);
                if s == Status::Connected && !r.enabled {
                    Status::Disabled
                } else {
                    s
                }
            }
        };
        Ok(ConnectionView {
            homepage_url: self.public_url.clone(),
            redirect_uri: self.redirect_uri(),
            https_warning,
            accounts_url: row
                .as_ref()
                .map(|r| r.accounts_url.clone())
                .unwrap_or_else(|| dc_accounts.to_string()),
            desk_url: row
                .as_ref()
                .map(|r| r.desk_url.clone())
                .unwrap_or_else(|| dc_desk.to_string()),
            client_id: row
                .as_ref()
                .map(|r| r.client_id.clone())
                .unwrap_or_default(),
            client_secret_set: row
                .as_ref()
                .is_some_and(|r| !r.client_secret_sealed.is_empty()),
            status,
            last_error: row.as_ref().and_then(|r| r.last_error.clone()),
            org_name: row.as_ref().and_then(|r| r.org_name.clone()),
            org_not_admin,
            orgs,
            sandbox: self.sandbox.as_ref().map(|s| SandboxFill {
                accounts_url: s.accounts_url.clone(),
                desk_url: s.desk_url.clone(),
                client_id: s.client_id.clone(),
            }),
            data_centres: zoho::DATA_CENTRES
                .iter()
                .map(|(code, _, a, d)| (code.to_string(), a.to_string(), d.to_string()))
                .collect(),
        })
    }

    /// Validates and stores the Authorization Information. A changed client or server drops
    /// the old authorization (its tokens belong to the old client).
    pub async fn save_settings(&self, input: SettingsInput) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        let accounts_url = zoho::url_field("accounts_url", &input.accounts_url, &mut errors);
        let desk_url = zoho::url_field("desk_url", &input.desk_url, &mut errors);
        let client_id = zoho::client_id_field(&input.client_id, &mut errors);
        let existing = self.store.connection().await?;
        let secret = if input.use_sandbox_secret && self.sandbox.is_some() {
            self.sandbox.as_ref().map(|s| s.client_secret.clone())
        } else if !input.client_secret.trim().is_empty() {
            if input.client_secret.len() > 500 {
                errors.push(FieldError {
                    field: "client_secret".into(),
                    problem: FieldProblem::TooLong,
                });
            }
            Some(Sensitive::new(input.client_secret.trim()))
        } else {
            None
        };
        let new_server = existing
            .as_ref()
            .is_some_and(|e| !e.accounts_url.is_empty() && e.accounts_url != accounts_url);
        let secret_sealed = match (&secret, &existing) {
            (Some(s), _) => self.secrets.seal(PURPOSE_CLIENT_SECRET, s),
            // The stored secret never goes to a server it was not entered for.
            (None, Some(_)) if new_server && !accounts_url.is_empty() => {
                errors.push(FieldError {
                    field: "client_secret".into(),
                    problem: FieldProblem::SecretForNewServer,
                });
                String::new()
            }
            (None, Some(row)) if !row.client_secret_sealed.is_empty() => {
                row.client_secret_sealed.clone()
            }
            _ => {
                errors.push(FieldError {
                    field: "client_secret".into(),
                    problem: FieldProblem::Required,
                });
                String::new()
            }
        };
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        let mut row = existing.clone().unwrap_or(ConnectionRow {
            status: Status::NotConnected.as_str().into(),
            enabled: true,
            ..Default::default()
        });
        let same_connection = existing.as_ref().is_some_and(|e| {
            e.accounts_url == accounts_url && e.desk_url == desk_url && e.client_id == client_id
        });
        let changed = existing.as_ref().is_none_or(|e| {
            e.accounts_url != accounts_url
                || e.desk_url != desk_url
                || e.client_id != client_id
                || secret.is_some()
        });
        if changed {
            // The old authorization is dropped: revoke its refresh token at the server that
            // issued it, so that it does not live on at Zoho.
            if let Some(old) = &existing {
                self.revoke_refresh_token(old).await;
            }
        }
        row.accounts_url = accounts_url;
        row.desk_url = desk_url;
        row.client_id = client_id;
        row.client_secret_sealed = secret_sealed;
        if changed {
            row.refresh_token_sealed = None;
            row.access_token_sealed = None;
            row.access_expires_at = None;
            row.last_error = None;
            if same_connection && row.org_id.is_some() {
                // The same client on the same servers, re-authorized (a renewal, or a new
                // secret): the org stays, calls keep being planned and their work waits for
                // the consent (see `follow_switch`).
                row.status = Status::AuthExpired.as_str().into();
            } else {
                row.org_id = None;
                row.org_name = None;
                row.orgs_json = None;
                row.location = None;
                row.status = Status::NotConnected.as_str().into();
            }
        }
        self.save_conn(&row).await?;
        Ok(())
    }

    fn oauth_client(&self, row: &ConnectionRow) -> Result<OAuthClient, EngineError> {
        Ok(OAuthClient {
            client_id: row.client_id.clone(),
            client_secret: self
                .secrets
                .open(PURPOSE_CLIENT_SECRET, &row.client_secret_sealed)?,
            redirect_uri: self.redirect_uri(),
        })
    }

    /// The consent URL for a fresh `state` (which the caller binds to the admin's session).
    pub async fn authorization_url(&self, state: &str) -> Result<String, EngineError> {
        let row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        Ok(self
            .oauth_client(&row)?
            .authorize_url(&row.accounts_url, state)?)
    }

    /// Completes the authorization with the redirect's code (the caller has checked `state`).
    /// `accounts_server` is the data centre Zoho reported; it is trusted only if it is the
    /// configured server or one of Zoho's own.
    pub async fn complete_authorization(
        &self,
        code: &str,
        accounts_server: Option<&str>,
        location: Option<&str>,
    ) -> AuthOutcome {
        match self.try_complete(code, accounts_server, location).await {
            Ok(outcome) => outcome,
            Err(failure) => {
                if let Ok(Some(mut row)) = self.store.connection().await {
                    row.last_error = Some(format!("{failure:?}"));
                    let _ = self.save_conn(&row).await;
                }
                AuthOutcome::Failed(failure)
            }
        }
    }

    async fn try_complete(
        &self,
        code: &str,
        accounts_server: Option<&str>,
        location: Option<&str>,
    ) -> Result<AuthOutcome, AuthFailure> {
        let internal = |e: EngineError| {
            tracing::error!(error = %e, "completing the authorization");
            AuthFailure::Other
        };
        let mut row = self
            .store
            .connection()
            .await
            .map_err(|e| internal(e.into()))?
            .ok_or(AuthFailure::NotConfigured)?;
        let client = self.oauth_client(&row).map_err(internal)?;

        // The data centre: the redirect's accounts server if it can be trusted.
        let mut accounts = row.accounts_url.clone();
        let mut desk_url = row.desk_url.clone();
        if let Some(reported) = accounts_server.map(|s| s.trim_end_matches('/')) {
            if reported != accounts {
                // Only from one of Zoho's accounts servers to another, exactly as the table
                // writes them: never to any other host, never away from a custom server.
                if zoho::is_accounts_server(reported) && zoho::is_accounts_server(&accounts) {
                    if let Some(d) = zoho::desk_for_accounts(reported) {
                        desk_url = d.to_string();
                    }
                    accounts = reported.to_string();
                } else {
                    return Err(AuthFailure::UntrustedServer);
                }
            }
        }

        self.count_zoho("POST /oauth/v2/token authorization_code");
        let tokens = client
            .exchange_code(&self.http, &accounts, code)
            .await
            .map_err(|e| match e {
                ZohoError::OAuth(c) if c == "invalid_code" => AuthFailure::CodeExpired,
                ZohoError::OAuth(c) if c.starts_with("invalid_client") => {
                    AuthFailure::InvalidClient
                }
                ZohoError::OAuth(c) if c == "invalid_redirect_uri" => AuthFailure::RedirectUri,
                ZohoError::OAuth(_) => AuthFailure::Other,
                _ => AuthFailure::Network,
            })?;
        let Some(refresh) = tokens.refresh else {
            // Without a refresh token the connection would die within the hour.
            return Err(AuthFailure::Other);
        };
        self.count_zoho("GET /accessibleOrganizations");
        let orgs = desk::organizations(&self.http, &desk_url, &tokens.access)
            .await
            .map_err(|_| AuthFailure::Network)?;
        if orgs.is_empty() {
            return Err(AuthFailure::NoOrganization);
        }
        row.accounts_url = accounts;
        row.desk_url = desk_url;
        row.location = location.map(str::to_string);
        row.refresh_token_sealed = Some(self.secrets.seal(PURPOSE_REFRESH, &refresh));
        row.access_token_sealed = Some(self.secrets.seal(PURPOSE_ACCESS, &tokens.access));
        row.access_expires_at = Some(now() + tokens.expires_in_secs as i64);
        row.last_error = None;
        // A renewal keeps the org chosen before, when the new authorization reaches it.
        let kept = row
            .org_id
            .as_ref()
            .and_then(|id| orgs.iter().find(|o| &o.id == id))
            .cloned();
        let choose = kept.is_none() && orgs.len() > 1;
        if let Some(o) = kept {
            warn_if_not_admin(&o);
            row.org_id = Some(o.id.clone());
            row.org_name = Some(o.company_name.clone());
            row.status = Status::Connected.as_str().into();
        } else if choose {
            row.org_id = None;
            row.org_name = None;
            row.status = Status::ChooseOrg.as_str().into();
        } else {
            warn_if_not_admin(&orgs[0]);
            row.org_id = Some(orgs[0].id.clone());
            row.org_name = Some(orgs[0].company_name.clone());
            row.status = Status::Connected.as_str().into();
        }
        row.orgs_json = serde_json::to_string(&orgs).ok();
        self.save_conn(&row).await.map_err(|e| internal(e.into()))?;
        tracing::info!(orgs = orgs.len(), "Zoho Desk authorization completed");
        Ok(AuthOutcome::Succeeded { choose_org: choose })
    }

    /// Picks the Desk org among those the authorization offered.
    pub async fn choose_org(&self, org_id: &str) -> Result<(), EngineError> {
        let mut row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        let orgs: Vec<desk::Organization> = row
            .orgs_json
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let Some(org) = orgs.iter().find(|o| o.id == org_id) else {
            return Err(EngineError::Invalid(vec![FieldError {
                field: "org".into(),
                problem: FieldProblem::Required,
            }]));
        };
        if row.refresh_token_sealed.is_none() {
            return Err(EngineError::NotConfigured);
        }
        warn_if_not_admin(org);
        row.org_id = Some(org.id.clone());
        row.org_name = Some(org.company_name.clone());
        row.status = Status::Connected.as_str().into();
        self.save_conn(&row).await?;
        Ok(())
    }

    /// The stored connection, unless there is none or its authorization expired.
    async fn usable_connection(&self) -> Result<ConnectionRow, EngineError> {
        let row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        if Status::parse(&row.status) == Status::AuthExpired {
            return Err(EngineError::AuthExpired);
        }
        Ok(row)
    }

    /// The row's access token while it has more than the margin left.
    fn unexpired_token(&self, row: &ConnectionRow) -> Result<Option<Sensitive>, EngineError> {
        match (&row.access_token_sealed, row.access_expires_at) {
            (Some(sealed), Some(exp)) if exp - REFRESH_MARGIN_SECS > now() => {
                Ok(Some(self.secrets.open(PURPOSE_ACCESS, sealed)?))
            }
            _ => Ok(None),
        }
    }

    /// A valid access token: the stored one, or a fresh one when it is about to expire (or
    /// `force`). A refused refresh token turns the status into Authorization expired.
    #[tracing::instrument(name = "zoho_token", skip_all, fields(force))]
    pub async fn access_token(&self, force: bool) -> Result<Sensitive, EngineError> {
        // The common case: the token held is good for a while yet. No lock, no store.
        if !force {
            if let Some(row) = self.cached_row().await? {
                if Status::parse(&row.status) == Status::AuthExpired {
                    return Err(EngineError::AuthExpired);
                }
                if let Some(token) = self.unexpired_token(&row)? {
                    return Ok(token);
                }
            }
        }
        let _guard = self.token_lock.lock().await;
        let mut row = self.usable_connection().await?;
        if !force {
            if let Some(token) = self.unexpired_token(&row)? {
                return Ok(token);
            }
        }
        // Several instances on one PostgreSQL renew one at a time; one that waited finds the
        // token another has just renewed.
        let renewal = self.store.hold_token_renewal().await?;
        if renewal.is_some() {
            let fresh = self.usable_connection().await?;
            if fresh.access_token_sealed != row.access_token_sealed {
                if let Some(token) = self.unexpired_token(&fresh)? {
                    return Ok(token);
                }
            }
            row = fresh;
        }
        let refresh = match &row.refresh_token_sealed {
            Some(s) => self.secrets.open(PURPOSE_REFRESH, s)?,
            None => return Err(EngineError::NotConfigured),
        };
        if let Some(left) = self.refresh_backoff() {
            return Err(EngineError::TokenRefresh(format!(
                "renewing failed just before; next try in {} s",
                left.as_secs().max(1)
            )));
        }
        let client = self.oauth_client(&row)?;
        self.count_zoho("POST /oauth/v2/token refresh_token");
        match client
            .refresh(&self.http, &row.accounts_url, &refresh)
            .await
        {
            Ok(t) => {
                row.access_token_sealed = Some(self.secrets.seal(PURPOSE_ACCESS, &t.access));
                row.access_expires_at = Some(now() + t.expires_in_secs as i64);
                self.save_conn(&row).await?;
                if self
                    .refresh_trouble
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .is_some()
                {
                    tracing::info!("the access token is renewed again: the waiting work resumes");
                    self.wake.notify_one();
                }
                tracing::debug!("access token refreshed");
                Ok(t.access)
            }
            Err(ZohoError::OAuth(code))
                if code == "invalid_code" || code.starts_with("invalid_client") =>
            {
                tracing::warn!(%code, "the refresh token was refused: authorization expired");
                row.status = Status::AuthExpired.as_str().into();
                row.last_error = Some(format!("refresh refused by Zoho ({code})"));
                row.access_token_sealed = None;
                self.save_conn(&row).await?;
                Err(EngineError::AuthExpired)
            }
            Err(e) => {
                // Zoho unreachable or refusing for now: the work waits (paused, not failed),
                // and the token endpoint is not asked again before a growing pause.
                let mut trouble = self
                    .refresh_trouble
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let failures = trouble.map_or(0, |(_, n)| n) + 1;
                let pause = REFRESH_BACKOFF_SECS
                    .saturating_mul(1 << (failures - 1).min(5))
                    .min(REFRESH_BACKOFF_MAX_SECS);
                if failures == 1 {
                    tracing::warn!(error = %e, "renewing the access token failed: Zoho work waits");
                }
                *trouble = Some((
                    std::time::Instant::now() + std::time::Duration::from_secs(pause),
                    failures,
                ));
                Err(EngineError::TokenRefresh(e.to_string()))
            }
        }
    }

    /// While renewing the access token keeps failing: how long before the next try.
    pub fn refresh_backoff(&self) -> Option<std::time::Duration> {
        let trouble = *self
            .refresh_trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        trouble.and_then(|(until, _)| until.checked_duration_since(std::time::Instant::now()))
    }

    /// Runs a Desk request with a valid token, refreshing once if Zoho refuses the token.
    /// `operation` names the request in the metrics (`GET /agents`) and in the log's span (the
    /// path is not logged: it can carry a caller's number).
    #[tracing::instrument(name = "zoho", skip_all, fields(operation))]
    pub async fn with_token<T, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, EngineError>
    where
        F: Fn(Sensitive) -> Fut,
        Fut: std::future::Future<Output = Result<T, ZohoError>>,
    {
        let token = self.access_token(false).await?;
        self.count_zoho(operation);
        match call(token).await {
            Err(ZohoError::Unauthorized) => {
                let token = self.access_token(true).await?;
                self.count_zoho(operation);
                match call(token).await {
                    Err(ZohoError::Unauthorized) => {
                        self.mark_auth_expired("Zoho refused a fresh access token")
                            .await?;
                        Err(EngineError::AuthExpired)
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    pub(crate) fn count_zoho(&self, operation: &'static str) {
        self.metrics
            .inc("helpdesk_zoho_requests_total", &[("operation", operation)]);
    }

    async fn mark_auth_expired(&self, why: &str) -> Result<(), EngineError> {
        if let Some(mut row) = self.store.connection().await? {
            row.status = Status::AuthExpired.as_str().into();
            row.last_error = Some(why.into());
            self.save_conn(&row).await?;
        }
        Ok(())
    }

    /// Re-reads the Desk orgs the authorization reaches (also proves the token works).
    pub async fn refresh_organizations(&self) -> Result<Vec<OrgChoice>, EngineError> {
        let desk_url = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?
            .desk_url;
        let orgs = self
            .with_token("GET /accessibleOrganizations", |t| {
                let http = self.http.clone();
                let desk_url = desk_url.clone();
                async move { desk::organizations(&http, &desk_url, &t).await }
            })
            .await?;
        if let Some(mut row) = self.store.connection().await? {
            row.orgs_json = serde_json::to_string(&orgs).ok();
            self.save_conn(&row).await?;
        }
        Ok(orgs
            .into_iter()
            .map(|o| OrgChoice {
                id: o.id,
                name: o.company_name,
            })
            .collect())
    }

    /// Revokes the connection's refresh token (and with it its access tokens) at the accounts
    /// server that issued it. Best effort: a failure is logged, and the local cut happens anyway
    /// (the admin may revoke at Zoho by hand).
    pub(crate) async fn revoke_refresh_token(&self, row: &ConnectionRow) {
        let Some(sealed) = &row.refresh_token_sealed else {
            return;
        };
        let Ok(refresh) = self.secrets.open(PURPOSE_REFRESH, sealed) else {
            return;
        };
        self.count_zoho("POST /oauth/v2/token/revoke");
        match OAuthClient::revoke(&self.http, &row.accounts_url, &refresh).await {
            Ok(()) => tracing::info!("refresh token revoked at Zoho"),
            Err(e) => tracing::warn!(error = %e, "revoking the refresh token at Zoho"),
        }
    }

    /// The connected org's Desk URL, id and edition; why there is none otherwise.
    pub(crate) async fn desk_ctx(&self) -> Result<DeskCtx, EngineError> {
        let row = self.cached_row().await?.ok_or(EngineError::NotConfigured)?;
        match (Status::parse(&row.status), row.org_id.clone()) {
            (Status::Connected, Some(org_id)) => {
                let edition = self.edition_of(&row, &org_id);
                Ok(DeskCtx {
                    desk_url: row.desk_url.clone(),
                    org_id,
                    edition,
                })
            }
            (Status::AuthExpired, _) => Err(EngineError::AuthExpired),
            _ => Err(EngineError::NotConfigured),
        }
    }
}

impl ZohoConnection {
    /// The chosen org's edition in `row`'s org list, parsed once per row held.
    fn edition_of(&self, row: &Arc<ConnectionRow>, org_id: &str) -> Option<String> {
        {
            let cache = self.row.read().unwrap_or_else(|p| p.into_inner());
            if let Some((held, edition)) = &cache.edition {
                if Arc::ptr_eq(held, row) {
                    return edition.clone();
                }
            }
        }
        let edition = row
            .orgs_json
            .as_deref()
            .and_then(|j| serde_json::from_str::<Vec<desk::Organization>>(j).ok())
            .and_then(|orgs| orgs.into_iter().find(|o| o.id == org_id))
            .and_then(|o| o.edition);
        let mut cache = self.row.write().unwrap_or_else(|p| p.into_inner());
        cache.edition = Some((row.clone(), edition.clone()));
        edition
    }

    /// The department for tickets and call activities: the chosen one, else the org's default.
    pub(crate) async fn department(
        &self,
        ctx: &DeskCtx,
        chosen: Option<&str>,
    ) -> Result<String, EngineError> {
        if let Some(d) = chosen.filter(|d| !d.is_empty()) {
            return Ok(d.to_string());
        }
        let list = self.departments(ctx).await?;
        list.iter()
            .find(|(_, _, default)| *default)
            .or(list.first())
            .map(|(id, _, _)| id.clone())
            .ok_or_else(|| EngineError::Zoho(ZohoError::Decode("the org has no department".into())))
    }

    /// The org's enabled departments: (id, name, is default); read from Zoho at most every
    /// 10 minutes (every ticket and call activity needs one).
    pub(crate) async fn departments(&self, ctx: &DeskCtx) -> Result<Departments, EngineError> {
        {
            let cached = self.departments.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((d, at)) = cached.as_ref() {
                if at.elapsed() < DEPARTMENTS_FOR {
                    return Ok(d.clone());
                }
            }
        }
        let fresh = super::api::Desk::new(self, ctx).departments().await?;
        *self.departments.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((fresh.clone(), std::time::Instant::now()));
        Ok(fresh)
    }

    /// Forgets the cached departments (the rules' page read, a settings change, disconnect).
    pub(crate) fn forget_departments(&self) {
        *self.departments.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::trusted_link;

    #[test]
    fn only_pages_of_the_connected_desk_are_links() {
        let desk = "https://desk.zoho.eu";
        let page = "https://desk.zoho.eu/support/pbx/ShowHomePage.do#Contacts/dv/1";
        assert_eq!(trusted_link(page, desk, None).as_deref(), Some(page));
        for bad in [
            "http://desk.zoho.eu/support/x",
            "https://desk.zoho.com/support/x",
            "https://desk.zoho.eu.evil.example/x",
            "https://user:pw@desk.zoho.eu/x",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//desk.zoho.eu/x",
            "not a url",
        ] {
            assert_eq!(trusted_link(bad, desk, None), None, "{bad}");
        }
        // The sandbox on this machine is plain http, and only it.
        let sandbox = "http://127.0.0.1:3000/sandbox/desk";
        let local = "http://127.0.0.1:3000/sandbox/desk/ShowHomePage.do#Contacts/dv/7";
        assert!(trusted_link(local, sandbox, Some(sandbox)).is_some());
        assert!(trusted_link(local, sandbox, None).is_none());
        assert!(trusted_link("http://127.0.0.1:4000/x", sandbox, Some(sandbox)).is_none());
    }
}
