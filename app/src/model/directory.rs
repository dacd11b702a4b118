//! Extensions, Zoho Desk users and the bindings between them.

use serde::{Deserialize, Serialize};

/// A PBX extension (requirements §2; the extensions page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub email: Option<String>,
    /// A web-client password is set (the password itself is never sent back).
    #[serde(default)]
    pub web_password_set: bool,
}

/// An extension's phone as the PBX last reported it (event 30008, Extension Call Status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhoneStatus {
    Idle,
    Ringing,
    /// On a call.
    Busy,
}

impl PhoneStatus {
    /// The PBX's word (`Ringing`, `Busy`, `Idle`), in any case.
    pub fn from_pbx(s: &str) -> Option<PhoneStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "idle" => Some(PhoneStatus::Idle),
            "ringing" => Some(PhoneStatus::Ringing),
            "busy" => Some(PhoneStatus::Busy),
            _ => None,
        }
    }

    /// The PBX's word for it, as 30008 writes it.
    pub fn as_pbx(self) -> &'static str {
        match self {
            PhoneStatus::Idle => "Idle",
            PhoneStatus::Ringing => "Ringing",
            PhoneStatus::Busy => "Busy",
        }
    }
}

/// The add / edit form of an extension, and one item of a JSON import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionInput {
    pub number: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// A Zoho Desk user (agent) and the extension bound to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZohoUser {
    pub agent_id: String,
    pub name: String,
    pub email: Option<String>,
    pub active: bool,
    pub extension_id: Option<i64>,
    /// Bound by hand (Auto Bind never changes these).
    pub manual: bool,
}

/// The Zoho Desk Users section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<ZohoUser>,
    pub extensions: Vec<Extension>,
    /// Agents the last refresh no longer found in Zoho: (name, extension they lost).
    pub vanished: Vec<(String, Option<String>)>,
}

/// What a refresh found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshReport {
    pub fetched: usize,
    pub vanished: Vec<String>,
}

/// Why the last "Refresh Zoho Desk users" fetched nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshFailure {
    /// The Zoho Desk authorization has expired: re-authorize.
    AuthExpired,
    /// Zoho Desk is not connected (or is choosing its organization).
    NotConnected,
    /// Zoho could not be reached, or answered with an error.
    Failed,
}

/// A "Refresh Zoho Desk users" in progress: agents fetched so far, and the org's total when
/// Zoho told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshProgress {
    pub fetched: usize,
    pub total: Option<usize>,
}

/// What Auto Bind did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoBindReport {
    pub bound: usize,
    /// Active, unbound agents with no extension of the same e-mail.
    pub unmatched: Vec<String>,
}

/// A row of the page's bindings form as the browser sends it: the agent, and the extension
/// chosen in its drop-down (an id, or empty for none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BindingRow {
    pub agent_id: String,
    pub extension_id: String,
}

/// One row's choice in the Extension drop-down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingChange {
    pub agent_id: String,
    pub extension_id: Option<i64>,
}

/// Why a set of bindings is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindingProblem {
    /// The extension is already bound to another agent.
    ExtensionTaken {
        extension: String,
        other_agent: String,
    },
    /// A disabled agent cannot be bound.
    AgentDisabled {
        agent: String,
    },
    UnknownAgent,
    UnknownExtension,
}
