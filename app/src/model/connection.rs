//! The Zoho Desk connection as the helpdesk page shows and edits it.

use serde::{Deserialize, Serialize};

/// The connection's status, as the Status field shows it (requirements §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    NotConnected,
    /// Authorized, but the Zoho account has several Desk orgs and none is chosen yet.
    ChooseOrg,
    Connected,
    Disabled,
    AuthExpired,
    Error,
}

impl Status {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotConnected => "not_connected",
            Status::ChooseOrg => "choose_org",
            Status::Connected => "connected",
            Status::Disabled => "disabled",
            Status::AuthExpired => "auth_expired",
            Status::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "choose_org" => Status::ChooseOrg,
            "connected" => Status::Connected,
            "disabled" => Status::Disabled,
            "auth_expired" => Status::AuthExpired,
            "error" => Status::Error,
            _ => Status::NotConnected,
        }
    }
}

/// A Desk organization the admin can pick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgChoice {
    pub id: String,
    pub name: String,
}

/// What the Helpdesk Integration page shows about the connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub homepage_url: String,
    pub redirect_uri: String,
    /// The public URL is plain http on a host other than loopback: Zoho will refuse it.
    pub https_warning: bool,
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
    /// A client secret is stored (its value never leaves the server).
    pub client_secret_set: bool,
    pub status: Status,
    pub last_error: Option<String>,
    pub org_name: Option<String>,
    /// Zoho says the authorizing user is not an administrator of the connected org: reading
    /// its users and departments, and creating records, may be refused.
    pub org_not_admin: bool,
    pub orgs: Vec<OrgChoice>,
    /// Filled when the Zoho Desk sandbox is mounted: its URLs and demo client id.
    pub sandbox: Option<SandboxFill>,
    /// Data centres offered by the picker: (code such as `eu`, accounts URL, Desk URL).
    pub data_centres: Vec<(String, String, String)>,
}

/// What every admin page must say at once: the Zoho Desk authorization has expired, and how
/// many calls wait for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attention {
    pub auth_expired: bool,
    /// Calls with Zoho work waiting (queued or running).
    pub waiting_calls: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SandboxFill {
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
}

/// The Authorization Information form (a field the browser does not send, such as the
/// secret's while the sandbox's is used, is empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SettingsInput {
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
    /// Empty keeps the stored secret.
    pub client_secret: String,
    /// Use the sandbox's demo secret (only when the sandbox is mounted).
    pub use_sandbox_secret: bool,
}
