//! The integration engine (server only): the Zoho connection, secrets, storage, sign-in.
//! No Leptos inside; the server functions in `crate::api` are its only callers from the UI.

pub mod accounts;
pub mod agent;
pub mod auth;
pub mod bus;
pub mod calls;
pub mod directory;
pub mod gates;
pub mod jobs;
pub mod lookup;
pub mod metrics;
pub mod numbers;
pub mod pbx_connection;
pub mod pbx_events;
pub mod phonebook;
pub mod queue;
pub mod rules;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod yeastar;
pub mod zoho;

use std::sync::Arc;

use crate::model::FieldError;
use secrets::{SecretBox, Sensitive};
use store::{Store, StoreError};
use zoho::connection::{PURPOSE_ACCESS, PURPOSE_CLIENT_SECRET, PURPOSE_REFRESH};
use zoho::{ZohoConnection, ZohoError};

/// The sandbox's coordinates, when it is mounted in this process.
#[derive(Clone, Debug)]
pub struct SandboxDefaults {
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
    pub client_secret: Sensitive,
    /// The PBX sandbox (`/sandbox/pbx`) and its OpenAPI application.
    pub pbx_url: String,
    pub pbx_client_id: String,
    pub pbx_client_secret: Sensitive,
    /// The PBX sandbox's webhook secret (it signs the events it pushes).
    pub pbx_webhook_secret: Sensitive,
}

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The PBX's public base URL, without a trailing slash.
    pub public_url: String,
    pub sandbox: Option<SandboxDefaults>,
    /// The PBX's clock offset from UTC (the vendor's CDR times are local).
    pub pbx_utc_offset: time::UtcOffset,
    /// How phone numbers without a country code are read.
    pub numbers: numbers::NumberPolicy,
    /// Extensions are synced from a connected PBX this often (`0`: only by hand).
    pub pbx_sync_every_ms: i64,
    /// How long a claimed job is this instance's ([`jobs::LEASE_MS`] by default).
    pub job_lease_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error(transparent)]
    Zoho(#[from] ZohoError),
    #[error("the Zoho Desk connection is not set up")]
    NotConfigured,
    /// The PBX's OpenAPI refused or could not be reached (its own words).
    #[error(transparent)]
    Pbx(#[from] yeastar::PbxError),
    #[error("the authorization has expired; authorize again")]
    AuthExpired,
    /// The access token could not be renewed (Zoho unreachable, or refusing for a while).
    #[error("the access token could not be renewed: {0}")]
    TokenRefresh(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("no such record")]
    NotFound,
    #[error("{0}")]
    Intake(String),
    /// A job that cannot be done as stored (its payload unreadable, its prerequisite failed).
    #[error("{0}")]
    Job(String),
    /// The company contacts group (named) carries the Helpdesk tag: Contact Sync owns it and
    /// nothing else may change it or its contacts.
    #[error("the group {0:?} is synced from Zoho Desk and cannot be edited")]
    ReadOnly(String),
    /// Only an empty group can be bound to the helpdesk.
    #[error("the group {group:?} has {contacts} contacts; only an empty group can be synced")]
    GroupNotEmpty { group: String, contacts: i64 },
}

pub type SharedEngine = Arc<Engine>;

/// This app's address of a call's recording: `/recordings/<call>`.
pub const RECORDINGS_PATH: &str = "/recordings";

pub struct Engine {
    pub store: Store,
    config: EngineConfig,
    /// The Zoho Desk connection: settings, OAuth, tokens, the org, the switch.
    pub zoho: ZohoConnection,
    /// The PBX's OpenAPI: its address, its API application, the last test.
    pub pbx_connection: pbx_connection::PbxConnection,
    /// Extensions, Zoho Desk users and their bindings, and who answers where, in memory.
    pub directory: directory::Directory,
    /// The company contacts (phonebook) and the Helpdesk group.
    pub phonebook: phonebook::Phonebook,
    /// The call-event intake: its secret, one writer at a time, the calls' change signal.
    pub intake: calls::Intake,
    /// Counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Who a number is: the cache, then Zoho (see [`lookup`]).
    pub lookup: lookup::Lookup,
    /// The rule settings every fact is planned with.
    pub rules: settings::Rules,
    /// The job runner: claims, leases, the worker's wake-up, the instances sharing Zoho.
    pub jobs: jobs::Jobs,
    /// The agent web clients' live events and screen-pop offers.
    pub agents: agent::AgentHub,
    /// Bounds the sign-ins (admin and agents) in progress.
    pub sign_in_gate: auth::Gate,
    /// What this instance tells the others on one PostgreSQL (see [`bus`]).
    pub bus: bus::Bus,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("public_url", &self.config.public_url)
            .finish_non_exhaustive()
    }
}

/// Re-seals every secret in the database under `new` (`server rotate-key`), all or none.
/// Returns how many values were re-sealed. Fails, changing nothing, if one does not open
/// under `old`.
pub async fn reseal_all(
    store: &Store,
    old: &SecretBox,
    new: &SecretBox,
) -> Result<usize, EngineError> {
    use store::SealedAt;
    let values = store.sealed_values().await?;
    let mut resealed = Vec::with_capacity(values.len());
    for (at, sealed) in values {
        let purpose = match &at {
            SealedAt::ClientSecret => PURPOSE_CLIENT_SECRET,
            SealedAt::RefreshToken => PURPOSE_REFRESH,
            SealedAt::AccessToken => PURPOSE_ACCESS,
            SealedAt::App(name) => calls::app_secret_purpose(name),
        };
        let plain = old.open(purpose, &sealed)?;
        resealed.push((at, new.seal(purpose, &plain)));
    }
    store.replace_sealed(&resealed).await?;
    Ok(resealed.len())
}

impl Engine {
    pub fn new(store: Store, secrets: SecretBox, config: EngineConfig) -> Engine {
        let jobs_wake = Arc::new(tokio::sync::Notify::new());
        let bus = bus::Bus::new(store.dialect() == store::Dialect::Postgres);
        let metrics = Arc::new(metrics::Metrics::default());
        let zoho = ZohoConnection::new(
            store.clone(),
            secrets.clone(),
            config.public_url.clone(),
            config.sandbox.clone(),
            jobs_wake.clone(),
            metrics.clone(),
        );
        let pbx_connection = pbx_connection::PbxConnection::new(
            store.clone(),
            secrets.clone(),
            zoho.http.clone(),
            config.sandbox.clone(),
            config.public_url.clone(),
        );
        let directory = directory::Directory::new(store.clone(), config.pbx_sync_every_ms);
        let phonebook = phonebook::Phonebook::new(store.clone());
        let lookup = lookup::Lookup::new(config.numbers, metrics.clone());
        let rules = settings::Rules::new(store.clone());
        let intake = calls::Intake::new(
            store.clone(),
            secrets.clone(),
            config.numbers,
            config.pbx_utc_offset,
        );
        let jobs = jobs::Jobs::new(
            store.clone(),
            metrics.clone(),
            config.job_lease_ms,
            jobs_wake,
        );
        Engine {
            store,
            config,
            zoho,
            pbx_connection,
            directory,
            phonebook,
            intake,
            metrics,
            lookup,
            rules,
            jobs,
            agents: Default::default(),
            sign_in_gate: Default::default(),
            bus,
        }
    }

    pub fn numbers(&self) -> numbers::NumberPolicy {
        self.config.numbers
    }

    pub fn public_url(&self) -> &str {
        &self.config.public_url
    }

    /// Where call recordings are played from (`<public url>/recordings/<call>`): a link that
    /// stays good in Zoho, unlike the PBX's 30-minute download URLs.
    pub fn recordings_url(&self) -> String {
        format!("{}{RECORDINGS_PATH}", self.config.public_url)
    }

    pub fn pbx_utc_offset(&self) -> time::UtcOffset {
        self.config.pbx_utc_offset
    }

    /// The record a number belongs to: from the cache, else from Zoho Desk (then cached).
    pub async fn lookup_number(
        &self,
        raw: &str,
    ) -> Result<Option<lookup::ZohoRecord>, EngineError> {
        self.lookup.lookup_number(&self.zoho, raw).await
    }

    /// Empties the lookup cache and lets the held accounts go (what Disconnect does; tests
    /// that change Zoho's data too).
    pub fn forget_lookups(&self) {
        self.lookup.cache.clear();
        self.lookup.accounts.clear();
    }

    /// Runs every job due at `now_ms` until none is left (see [`jobs::Jobs::run_due`]); tests
    /// call it to drain the queue.
    pub async fn run_due_jobs(&self, now_ms: i64) -> Result<usize, EngineError> {
        self.jobs.run_due(self, now_ms).await
    }

    /// The PBX's event socket, held while a PBX is connected with events by WebSocket (see
    /// [`pbx_events::run_socket`]); the server spawns it for the app's life.
    pub async fn run_pbx_socket(self: Arc<Self>) {
        pbx_events::run_socket(self).await
    }

    /// Starts telling and hearing the other instances (PostgreSQL only; once; see [`bus`]).
    pub fn start_bus(self: &Arc<Self>) {
        bus::start(self)
    }

    /// The background job worker (see [`jobs::Jobs::worker`]).
    pub async fn job_worker(self: Arc<Self>) {
        self.jobs.worker(&self).await
    }

    /// "Retry now" on a failed job: queued again, and the pages showing it told.
    pub async fn retry_job(&self, job_id: i64) -> Result<(), EngineError> {
        self.jobs.retry_job(job_id).await?;
        self.intake.note_changed();
        Ok(())
    }

    /// Closes the calls that saw no event for `timeout_ms` (see
    /// [`calls::Intake::close_stale_calls`]); the housekeeping calls it.
    pub async fn close_stale_calls(
        &self,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Result<usize, EngineError> {
        self.intake
            .close_stale_calls(self, now_ms, timeout_ms)
            .await
    }

    /// Disconnect (requirements §10): revokes the refresh token at Zoho where possible, then
    /// clears the authorization, the bindings and the rules, cancels pending Zoho work and
    /// releases the synced group. Connecting again starts from scratch.
    pub async fn disconnect(&self) -> Result<(), EngineError> {
        if let Some(row) = self.store.connection().await? {
            self.zoho.revoke_refresh_token(&row).await;
        }
        let cancelled = self
            .store
            .cancel_jobs("disconnected from Zoho Desk", calls::now_ms())
            .await?;
        self.phonebook.release_helpdesk_group().await?;
        self.rules.clear().await?;
        self.store.clear_zoho_state().await?;
        self.zoho.forget_row();
        self.forget_lookups();
        self.zoho.forget_departments();
        self.directory.rebuild().await?;
        self.zoho.follow_switch(None);
        tracing::info!(cancelled, "disconnected from Zoho Desk");
        Ok(())
    }
}
