//! The PBX connection (issue 16): where the PBX's OpenAPI is (`https://pbx.example:8088`), its
//! API application's Client ID and Client Secret (sealed at rest, never sent back), and Test
//! connection: a token, then the extension count, or the PBX's own `errcode` and words. The
//! client itself is [`super::yeastar::PbxApi`]; this service keeps one per saved setting, so
//! the token it holds is reused by everything that talks to the PBX.
//!
//! The address must be https (the Client Secret travels in the login's body), or http on this
//! machine's loopback (the PBX sandbox), like the Zoho Desk addresses.

use std::sync::Arc;

use super::calls::now_ms;
use super::secrets::{SecretBox, Sensitive};
use super::store::pbx::{PbxConnectionRow, PBX_PUSH_SECRET_NAME, PBX_SECRET_NAME};
use super::store::Store;
use super::yeastar::{PbxApi, PbxError};
use super::{zoho, EngineError, SandboxDefaults};
use crate::model::{
    FieldError, FieldProblem, PbxConnectionView, PbxEventsVia, PbxSandboxFill, PbxSettingsInput,
    PbxStatus, PhoneStatus,
};

pub(crate) const PURPOSE_PBX_SECRET: &str = "pbx.client_secret";
pub(crate) const PURPOSE_PBX_PUSH_SECRET: &str = "pbx.push_secret";
/// Where the vendor's PBX posts its events (its Webhook Event Push URL).
pub const YEASTAR_EVENTS_PATH: &str = "/api/pbx/yeastar-events";

pub struct PbxConnection {
    store: Store,
    secrets: SecretBox,
    http: reqwest::Client,
    sandbox: Option<SandboxDefaults>,
    public_url: String,
    /// The PBX's webhook secret (it signs each event it pushes), held open for the intake.
    push_secret: std::sync::RwLock<Option<Sensitive>>,
    /// The client for the saved settings (built on first use, dropped when they change).
    api: tokio::sync::Mutex<Option<Arc<PbxApi>>>,
    /// The PBX's event socket (when events come by WebSocket).
    pub events: super::pbx_events::PbxEvents,
    /// Each extension's phone as the PBX last reported it (30008), since this process began
    /// listening; forgotten on disconnect.
    phones: std::sync::Mutex<std::collections::HashMap<String, PhoneStatus>>,
}

impl std::fmt::Debug for PbxConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PbxConnection").finish_non_exhaustive()
    }
}

fn field(field: &str, problem: FieldProblem) -> FieldError {
    FieldError {
        field: field.into(),
        problem,
    }
}

fn via_of(row: &PbxConnectionRow) -> PbxEventsVia {
    if row.events_via == PbxEventsVia::WebSocket.as_str() {
        PbxEventsVia::WebSocket
    } else {
        PbxEventsVia::Webhook
    }
}

fn status_of(row: &PbxConnectionRow) -> PbxStatus {
    match row.status.as_str() {
        "connected" => PbxStatus::Connected,
        "failed" => PbxStatus::Failed,
        _ => PbxStatus::Untested,
    }
}

impl PbxConnection {
    pub(crate) fn new(
        store: Store,
        secrets: SecretBox,
        http: reqwest::Client,
        sandbox: Option<SandboxDefaults>,
        public_url: String,
    ) -> PbxConnection {
        PbxConnection {
            store,
            secrets,
            http,
            sandbox,
            public_url,
            push_secret: Default::default(),
            api: Default::default(),
            events: Default::default(),
            phones: Default::default(),
        }
    }

    /// The PBX said how an extension's phone is (30008). Bounded: a sender that invents
    /// numbers cannot grow it past any real PBX's size.
    pub fn set_phone(&self, extension: &str, status: PhoneStatus) {
        const MAX_PHONES: usize = 100_000;
        let mut phones = self.phones.lock().unwrap_or_else(|p| p.into_inner());
        if phones.len() < MAX_PHONES || phones.contains_key(extension) {
            phones.insert(extension.to_string(), status);
        }
    }

    /// Every extension's phone the PBX has reported on.
    pub fn phones(&self) -> std::collections::HashMap<String, PhoneStatus> {
        self.phones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Opens the stored webhook secret for the intake (at start).
    pub async fn load_push_secret(&self) -> Result<(), EngineError> {
        let open = match self.store.app_secret(PBX_PUSH_SECRET_NAME).await? {
            Some(sealed) => Some(self.secrets.open(PURPOSE_PBX_PUSH_SECRET, &sealed)?),
            None => None,
        };
        *self.push_secret.write().unwrap_or_else(|p| p.into_inner()) = open;
        Ok(())
    }

    /// The PBX's webhook secret, when one is saved: its events' `X-Signature` is checked with it.
    pub fn push_secret(&self) -> Option<Sensitive> {
        self.push_secret
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the page shows.
    pub async fn view(&self) -> Result<PbxConnectionView, EngineError> {
        let row = self.store.pbx_connection().await?;
        let secret_set = self.store.app_secret(PBX_SECRET_NAME).await?.is_some();
        let webhook_secret_set = self.push_secret().is_some();
        let webhook_url = format!("{}{YEASTAR_EVENTS_PATH}", self.public_url);
        let sandbox = self.sandbox.as_ref().map(|s| PbxSandboxFill {
            base_url: s.pbx_url.clone(),
            client_id: s.pbx_client_id.clone(),
        });
        Ok(match row {
            None => PbxConnectionView {
                base_url: String::new(),
                client_id: String::new(),
                secret_set,
                webhook_secret_set,
                webhook_url,
                status: PbxStatus::NotConfigured,
                events_via: PbxEventsVia::Webhook,
                auto_answer: false,
                socket: self.events.view(),
                last_error: None,
                extension_count: None,
                sandbox,
            },
            Some(r) => PbxConnectionView {
                status: status_of(&r),
                events_via: via_of(&r),
                auto_answer: r.auto_answer,
                socket: self.events.view(),
                base_url: r.base_url,
                client_id: r.client_id,
                secret_set,
                webhook_secret_set,
                webhook_url,
                last_error: r.last_error,
                extension_count: r.extension_count,
                sandbox,
            },
        })
    }

    /// Validates and stores the settings. A changed address, Client ID or Secret drops the
    /// client of the old ones (its token is revoked at the PBX) and waits for a new test.
    pub async fn save(&self, input: PbxSettingsInput) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        let base_url = zoho::url_field("base_url", &input.base_url, &mut errors);
        let client_id = zoho::client_id_field(&input.client_id, &mut errors);
        let secret = match &self.sandbox {
            Some(s) if input.use_sandbox_secret => Some(s.pbx_client_secret.clone()),
            _ if !input.client_secret.trim().is_empty() => {
                if input.client_secret.len() > 500 {
                    errors.push(field("client_secret", FieldProblem::TooLong));
                }
                Some(Sensitive::new(input.client_secret.trim()))
            }
            _ => None,
        };
        let push_secret = match &self.sandbox {
            Some(s) if input.use_sandbox_secret => Some(s.pbx_webhook_secret.clone()),
            _ if !input.webhook_secret.trim().is_empty() => {
                if input.webhook_secret.trim().len() > 200 {
                    errors.push(field("webhook_secret", FieldProblem::TooLong));
                }
                Some(Sensitive::new(input.webhook_secret.trim()))
            }
            _ => None,
        };
        let existing = self.store.pbx_connection().await?;
        let stored_secret = self.store.app_secret(PBX_SECRET_NAME).await?;
        let new_server = existing
            .as_ref()
            .is_some_and(|e| !base_url.is_empty() && e.base_url != base_url);
        if secret.is_none() {
            if stored_secret.is_none() {
                errors.push(field("client_secret", FieldProblem::Required));
            } else if new_server {
                // The stored secret never goes to a server it was not entered for.
                errors.push(field("client_secret", FieldProblem::SecretForNewServer));
            }
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        let changed = secret.is_some()
            || existing
                .as_ref()
                .is_none_or(|e| e.base_url != base_url || e.client_id != client_id);
        if let Some(s) = &secret {
            let sealed = self.secrets.seal(PURPOSE_PBX_SECRET, s);
            self.store
                .set_app_secret(PBX_SECRET_NAME, &sealed, now_ms() / 1000)
                .await?;
        }
        if let Some(s) = push_secret {
            let sealed = self.secrets.seal(PURPOSE_PBX_PUSH_SECRET, &s);
            self.store
                .set_app_secret(PBX_PUSH_SECRET_NAME, &sealed, now_ms() / 1000)
                .await?;
            *self.push_secret.write().unwrap_or_else(|p| p.into_inner()) = Some(s);
        }
        let via = input.events_via.as_str().to_string();
        if changed {
            self.drop_client().await;
            self.store
                .save_pbx_connection(
                    &PbxConnectionRow {
                        base_url,
                        client_id,
                        status: "untested".into(),
                        events_via: via,
                        auto_answer: input.auto_answer,
                        ..Default::default()
                    },
                    now_ms(),
                )
                .await?;
        } else if let Some(mut row) =
            existing.filter(|r| r.events_via != via || r.auto_answer != input.auto_answer)
        {
            row.events_via = via;
            row.auto_answer = input.auto_answer;
            self.store.save_pbx_connection(&row, now_ms()).await?;
        }
        // The event socket follows the settings.
        self.events.wake();
        Ok(())
    }

    /// The client for the saved settings.
    pub async fn api(&self) -> Result<Arc<PbxApi>, EngineError> {
        let mut held = self.api.lock().await;
        if let Some(api) = held.as_ref() {
            return Ok(api.clone());
        }
        let row = self
            .store
            .pbx_connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        let sealed = self
            .store
            .app_secret(PBX_SECRET_NAME)
            .await?
            .ok_or(EngineError::NotConfigured)?;
        let secret = self.secrets.open(PURPOSE_PBX_SECRET, &sealed)?;
        let api = Arc::new(PbxApi::new(
            self.http.clone(),
            &row.base_url,
            &row.client_id,
            secret,
        ));
        *held = Some(api.clone());
        Ok(api)
    }

    /// Test connection: asks the PBX for a token and its extension count (an explicit ask, so
    /// a login refused before is tried again), and stores the outcome.
    pub async fn test(&self) -> Result<PbxConnectionView, EngineError> {
        let api = self.api().await?;
        api.retry_login().await;
        match api.extensions(1, 1).await {
            Ok(page) => {
                tracing::info!(extensions = page.total, "PBX connection tested");
                self.record(Ok(page.total)).await?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "PBX connection test failed");
                self.record(Err(&e)).await?;
            }
        }
        self.view().await
    }

    /// Stores what the PBX answered (a test or a sync): connected with its extension count,
    /// or failed with its own words.
    pub(crate) async fn record(
        &self,
        outcome: Result<usize, &PbxError>,
    ) -> Result<(), EngineError> {
        let Some(mut row) = self.store.pbx_connection().await? else {
            return Ok(());
        };
        row.checked_ms = Some(now_ms());
        let was = row.status.clone();
        match outcome {
            Ok(total) => {
                row.status = "connected".into();
                row.last_error = None;
                row.extension_count = Some(total as i64);
            }
            Err(e) => {
                row.status = "failed".into();
                row.last_error = Some(e.to_string());
            }
        }
        self.store.save_pbx_connection(&row, now_ms()).await?;
        if row.status != was {
            self.events.wake();
        }
        Ok(())
    }

    /// Connects the PBX sandbox when no PBX is set up (the sandbox's address, API application
    /// and webhook secret; events by webhook, which the in-process sandbox posts to this app),
    /// and tests it. `None` when there is no sandbox or a PBX is set up already.
    pub async fn connect_sandbox(&self) -> Result<Option<PbxConnectionView>, EngineError> {
        let Some(sb) = &self.sandbox else {
            return Ok(None);
        };
        if self.store.pbx_connection().await?.is_some() {
            return Ok(None);
        }
        self.save(PbxSettingsInput {
            base_url: sb.pbx_url.clone(),
            client_id: sb.pbx_client_id.clone(),
            use_sandbox_secret: true,
            ..Default::default()
        })
        .await?;
        self.test().await.map(Some)
    }

    /// Whether the PBX's events should come over its socket: a PBX is connected (its last test
    /// or sync succeeded) and set to send events by WebSocket.
    pub async fn wants_socket(&self) -> Result<bool, EngineError> {
        Ok(self.store.pbx_connection().await?.is_some_and(|r| {
            status_of(&r) == PbxStatus::Connected && via_of(&r) == PbxEventsVia::WebSocket
        }))
    }

    /// Whether the PBX connection's last test succeeded.
    pub async fn is_connected(&self) -> Result<bool, EngineError> {
        Ok(self
            .store
            .pbx_connection()
            .await?
            .is_some_and(|r| status_of(&r) == PbxStatus::Connected))
    }

    /// Forgets the PBX connection (its token revoked at the PBX first, where possible). Calls,
    /// extensions and logs stay.
    pub async fn disconnect(&self) -> Result<(), EngineError> {
        self.drop_client().await;
        self.store.delete_pbx_connection().await?;
        *self.push_secret.write().unwrap_or_else(|p| p.into_inner()) = None;
        self.phones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.events.wake();
        Ok(())
    }

    /// Gives the PBX its token back (the PBX allows an application 8 at once), as the server
    /// stops; a later request logs in again.
    pub async fn release(&self) {
        self.drop_client().await;
    }

    /// Another instance changed the PBX settings: the next request uses the new ones, and
    /// the event socket follows them.
    pub(crate) async fn settings_changed(&self) {
        self.drop_client().await;
        self.events.wake();
    }

    async fn drop_client(&self) {
        if let Some(old) = self.api.lock().await.take() {
            if let Err(e) = old.revoke().await {
                tracing::warn!(error = %e, "revoking the PBX token");
            }
        }
    }
}
