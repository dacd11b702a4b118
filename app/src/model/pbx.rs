//! The PBX connection: its page, its test, the sync of its extensions, its event socket.

use serde::{Deserialize, Serialize};

/// The PBX connection's state (`/pbx/connection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbxStatus {
    NotConfigured,
    /// Saved, not tested since.
    Untested,
    Connected,
    Failed,
}

/// What the PBX connection page shows. The Client Secret never leaves the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PbxConnectionView {
    pub base_url: String,
    pub client_id: String,
    pub secret_set: bool,
    /// The PBX's webhook secret is saved: its events' `X-Signature` is checked.
    pub webhook_secret_set: bool,
    /// The URL to enter on the PBX's Webhook Event Push page.
    pub webhook_url: String,
    /// How the PBX's events reach this app.
    pub events_via: PbxEventsVia,
    /// Click to call asks the agent's phone to pick up by itself.
    pub auto_answer: bool,
    /// The event socket, when events come by WebSocket.
    pub socket: PbxSocketView,
    pub status: PbxStatus,
    /// The PBX's own `errcode` and words when the last test failed.
    pub last_error: Option<String>,
    /// The PBX's extensions at the last successful test.
    pub extension_count: Option<i64>,
    /// The PBX sandbox's address and Client ID, when it is mounted (to fill the form).
    pub sandbox: Option<PbxSandboxFill>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PbxSandboxFill {
    pub base_url: String,
    pub client_id: String,
}

/// What "Sync extensions from the PBX" did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PbxSyncReport {
    /// Extensions on the PBX.
    pub total: usize,
    pub added: usize,
    pub updated: usize,
    /// Gone from the PBX, so removed here (with their bindings).
    pub removed: Vec<RemovedExtension>,
    /// PBX extensions that could not be taken (a number that is not an extension number).
    pub skipped: Vec<String>,
}

/// How far a running "Sync extensions from the PBX" is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxSyncProgress {
    /// Extensions read from the PBX so far.
    pub read: usize,
    /// Extensions the PBX says it has (0 until its first page answers).
    pub total: usize,
    /// Every page is read; the changes are being saved.
    pub saving: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemovedExtension {
    pub number: String,
    pub name: String,
    /// The Zoho Desk agent it was bound to, whose binding went with it.
    pub agent: Option<String>,
}

/// The PBX connection form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PbxSettingsInput {
    pub base_url: String,
    pub client_id: String,
    /// Empty keeps the stored secret.
    #[serde(default)]
    pub client_secret: String,
    /// Use the PBX sandbox's demo secret (only when the sandbox is mounted).
    #[serde(default)]
    pub use_sandbox_secret: bool,
    /// The PBX's webhook secret (Webhook Event Push); empty keeps the stored one.
    #[serde(default)]
    pub webhook_secret: String,
    #[serde(default)]
    pub events_via: PbxEventsVia,
    /// Click to call asks the agent's phone to pick up by itself (`auto_answer`).
    #[serde(default)]
    pub auto_answer: bool,
}

/// How the PBX's call events reach this app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbxEventsVia {
    /// The PBX posts them to this app's webhook (it must be able to reach this app).
    #[default]
    Webhook,
    /// This app opens the PBX's event socket (nothing needs to reach this app).
    WebSocket,
}

impl PbxEventsVia {
    pub fn as_str(self) -> &'static str {
        match self {
            PbxEventsVia::Webhook => "webhook",
            PbxEventsVia::WebSocket => "websocket",
        }
    }
}

/// The PBX's event socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxSocketView {
    pub state: PbxSocketState,
    /// Since when (ms).
    pub since_ms: Option<i64>,
    /// Why it is down.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbxSocketState {
    Off,
    Connecting,
    Connected,
    Reconnecting,
}
