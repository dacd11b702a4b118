//! Plain data exchanged between the engine, the server functions and the pages. No Leptos, no
//! secrets: nothing here may carry a token or a client secret.

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

/// The Authorization Information form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub accounts_url: String,
    pub desk_url: String,
    pub client_id: String,
    /// Empty keeps the stored secret.
    pub client_secret: String,
    /// Use the sandbox's demo secret (only when the sandbox is mounted).
    pub use_sandbox_secret: bool,
}

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

/// A field the form must fix, with a message key (translated by the page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldProblem {
    Required,
    NotUrl,
    NotHttps,
    Credentials,
    QueryOrFragment,
    TooLong,
    /// An extension number: digits only, 1 to 15 of them.
    NotExtensionNumber,
    /// Not a well-formed e-mail address.
    BadEmail,
    /// Another extension has this number.
    Duplicate,
    /// Not a phone number (digits with + - ( ) . and spaces).
    NotPhoneNumber,
    /// No PBX extension has this number.
    NoSuchExtension,
    /// An outbound call is placed from one extension.
    OneExtension,
    /// The extension is not ringing on this call.
    NotRinging,
    /// The call has already ended.
    CallEnded,
    /// Only an empty company contacts group can be synced to.
    GroupNotEmpty,
    /// Choose at least one.
    ChooseOne,
    /// Not offered by this Zoho Desk edition.
    NotInEdition,
    /// A password of 8 characters or more.
    PasswordTooShort,
    /// The Accounts Server URL changed: the client secret must be entered again (a stored
    /// secret is never sent to a new server).
    SecretForNewServer,
    /// A real PBX's phone answers its own calls: pick up the phone.
    AnswerOnPhone,
}

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

/// A company contacts group (the phonebook page's list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactGroup {
    pub id: i64,
    pub name: String,
    /// How many contacts it holds.
    pub contacts: i64,
    /// Carries the Helpdesk tag: Contact Sync fills it, and it is read-only.
    pub helpdesk: bool,
}

/// A contact of a company contacts group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookContact {
    pub id: i64,
    pub group_id: i64,
    pub first_name: Option<String>,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub home_phone: Option<String>,
    /// `contacts` or `accounts` when synced from Zoho Desk.
    pub zoho_module: Option<String>,
    pub zoho_id: Option<String>,
}

/// The add / edit form of a contact. Empty optional fields mean "none".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonebookContactInput {
    #[serde(default)]
    pub first_name: Option<String>,
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub business_phone: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub home_phone: Option<String>,
}

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

/// The landing page's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AuthOutcome {
    Succeeded { choose_org: bool },
    Failed(AuthFailure),
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshReport {
    pub fetched: usize,
    pub vanished: Vec<String>,
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

/// One call in the integration log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub call_id: String,
    /// `inbound`, `outbound`, `internal`.
    pub direction: String,
    pub external_number: Option<String>,
    pub extensions: Vec<String>,
    /// The call type once ended (`Inbound Missed`…); `None` while open or for internal calls.
    pub call_type: Option<String>,
    pub open: bool,
    /// Start time in the PBX's clock, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub started_ms: i64,
    /// The extension that answered, or that the missed call is counted on.
    pub extension: Option<String>,
    /// The Zoho Desk agent bound to that extension now.
    pub agent: Option<String>,
    /// The extension that answered, once one did.
    pub answered_by: Option<String>,
}

/// One event as received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEventView {
    pub event_id: String,
    pub source: String,
    pub kind: String,
    pub extension: Option<String>,
    pub at: String,
    pub received: String,
}

/// One fact the call model derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFactView {
    /// `ringing` or `ended`.
    pub kind: String,
    pub extension: Option<String>,
    pub call_type: Option<String>,
    pub at: String,
    pub ring_secs: Option<i64>,
    pub talk_secs: Option<i64>,
    pub timed_out: bool,
    /// The agent bound to the extension when the fact was made.
    pub agent_id: Option<String>,
    /// Why the fact means no Zoho work: `unbound`, `disabled`, `not_connected`; `None`: for Zoho.
    pub skip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetail {
    pub summary: CallSummary,
    /// Where its recording plays (`/recordings/<call>`), when the PBX recorded it.
    #[serde(default)]
    pub recording: Option<String>,
    pub events: Vec<CallEventView>,
    pub facts: Vec<CallFactView>,
    /// The Zoho work of the call (rules), with each attempt.
    pub jobs: Vec<JobView>,
}

/// The log's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    pub number: String,
    pub extension: String,
    /// A call type, `open`, `internal`, or empty for all.
    pub outcome: String,
    /// Older calls than this start time (the "Older calls" page).
    pub before_ms: Option<i64>,
}

/// The simulator's default caller: a contact of the sandbox (Jennifer Lawrence).
pub const DEMO_CALLER: &str = "+8613800138000";

/// The simulator's buttons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimAction {
    /// Rings the extensions (several: a ring group) from, or dials out to, a number.
    Place {
        inbound: bool,
        external_number: String,
        extensions: String,
    },
    Answer {
        call_id: String,
        extension: String,
    },
    HangUp {
        call_id: String,
    },
    RingOut {
        call_id: String,
    },
    /// `ring_group`, `missed`, `unknown_caller`, `repeat_caller`.
    Scenario {
        name: String,
        extension: String,
    },
}

/// Where the PBX sends call events (the secret itself is fetched only on request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub native_url: String,
    pub yeastar_url: String,
}

/// A Zoho Desk module a rule works on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZohoModule {
    #[default]
    Contacts,
    Accounts,
}

impl ZohoModule {
    pub fn as_str(self) -> &'static str {
        match self {
            ZohoModule::Contacts => "contacts",
            ZohoModule::Accounts => "accounts",
        }
    }
}

/// When tickets are created (requirements §5: one choice today, kept a choice).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketWhen {
    #[default]
    AfterCallEnds,
}

/// The rules of requirements §3–§6, as stored and as the page edits them. Call Log Sync is on
/// until turned off (the manual presents it as automatic); everything else starts off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSettings {
    /// Auto Sync Contacts (§3).
    pub sync_contacts: bool,
    pub sync_module: ZohoModule,
    /// The company contacts group the records go to (it carries the Helpdesk tag).
    pub sync_group_id: Option<i64>,
    /// Auto Create New Contact (§4).
    pub create_contacts: bool,
    pub create_inbound: bool,
    pub create_outbound: bool,
    pub create_as: ZohoModule,
    /// Auto Create Ticket (§5).
    pub create_tickets: bool,
    pub ticket_when: TicketWhen,
    pub ticket_inbound_answered: bool,
    pub ticket_inbound_missed: bool,
    pub ticket_outbound_answered: bool,
    pub ticket_outbound_unanswered: bool,
    /// The department of tickets and call activities (the org's default when unset).
    pub department_id: Option<String>,
    /// Call log sync (§6).
    pub log_calls: bool,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            sync_contacts: false,
            sync_module: ZohoModule::default(),
            sync_group_id: None,
            create_contacts: false,
            create_inbound: false,
            create_outbound: false,
            create_as: ZohoModule::default(),
            create_tickets: false,
            ticket_when: TicketWhen::default(),
            ticket_inbound_answered: false,
            ticket_inbound_missed: false,
            ticket_outbound_answered: false,
            ticket_outbound_unanswered: false,
            department_id: None,
            log_calls: true,
        }
    }
}

/// What the rules section saves: the settings, and optionally a group to create in place.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesInput {
    pub settings: RuleSettings,
    /// Create this company contacts group and sync to it (instead of `sync_group_id`).
    pub new_group_name: Option<String>,
}

/// The rules section: the settings and what to choose from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesView {
    pub settings: RuleSettings,
    /// Zoho Desk departments (id, name); empty when they could not be read.
    pub departments: Vec<(String, String)>,
    pub groups: Vec<ContactGroup>,
    /// The org's edition (`FREE`, `STANDARD`…), when known.
    pub edition: Option<String>,
    /// Call activities exist in this edition (Standard and up).
    pub call_logs_available: bool,
}

/// An enum stored and sent as fixed words (`as_str`, `parse`, serde and `ALL` agree).
macro_rules! word_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($s => Some($name::$v),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

word_enum! {
    /// What a piece of Zoho work does.
    pub enum JobKind {
        /// Who the call is with: lookup, creation of an unknown caller, sync.
        Contact = "contact",
        /// The creation of an unknown caller (one per number).
        Create = "create",
        Ticket = "ticket",
        CallLog = "call_log",
    }
}

word_enum! {
    /// Where a job stands (the store's `CHECK` constraint lists the same words).
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
        /// The integration was disconnected before it ran.
        Cancelled = "cancelled",
    }
}

impl JobState {
    /// Not over yet: queued or running.
    pub fn is_open(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

word_enum! {
    /// How one attempt of a job ended.
    pub enum AttemptOutcome {
        Done = "done",
        /// Failed; tried again later.
        Retry = "retry",
        /// Failed in a way that may have had its effect: looked up before it is tried again.
        Uncertain = "uncertain",
        Failed = "failed",
        /// Not an attempt: it waits for another job.
        Waiting = "waiting",
        /// Not an attempt: the integration is off or its authorization expired.
        Paused = "paused",
        Cancelled = "cancelled",
    }
}

/// One piece of Zoho work of a call, for the integration log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub job_id: i64,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: i64,
    /// What it found or made, or why it did nothing (English words, as stored).
    pub summary: Option<String>,
    /// The same, structured: the page says it in the reader's language.
    pub note: Option<JobNote>,
    pub last_error: Option<String>,
    /// A Zoho Desk page of the record it made or found.
    pub link: Option<String>,
    /// The next attempt, in the PBX's clock (queued jobs).
    pub next_attempt: Option<String>,
    pub history: Vec<JobAttemptView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAttemptView {
    pub at: String,
    pub outcome: AttemptOutcome,
    pub detail: Option<String>,
}

/// The agent signed in to the web client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMe {
    pub extension: String,
    /// The extension's name.
    pub name: String,
    /// The Zoho Desk user bound to the extension, if any.
    pub agent_name: Option<String>,
    /// The origin of the connected Zoho Desk (`https://desk.zoho.eu`): a number clicked on its
    /// pages is dialled at once; one from anywhere else is confirmed first.
    #[serde(default)]
    pub desk_origin: Option<String>,
    /// The client can answer a ringing call: without a PBX (the simulator answers) or with the
    /// PBX sandbox; a real PBX's phone answers its own calls.
    #[serde(default)]
    pub can_answer: bool,
}

/// Where a call stands, seen from one extension (the agent web client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgentCallState {
    /// Inbound: the extension rings. Outbound: it is dialling out.
    Ringing,
    /// The extension is talking on the call.
    Talking,
    /// Over (or answered by another extension of a ring group).
    Ended,
}

/// The Zoho Desk record a caller matched, as the agent client shows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallerView {
    pub name: String,
    /// The record's Zoho Desk page.
    pub url: Option<String>,
    pub module: ZohoModule,
}

/// One call of the signed-in agent's extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCall {
    pub call_id: String,
    /// `inbound`, `outbound`, `internal`.
    pub direction: String,
    /// The other party: the outside number (or, for an internal call, as the PBX gave it).
    pub number: String,
    pub state: AgentCallState,
    /// Start time in the PBX's clock, `YYYY-MM-DD HH:MM:SS`.
    pub started: String,
    pub started_ms: i64,
    /// Once ended: `Inbound Answered`, `Inbound Missed`, `Outbound Answered`, `Outbound Unanswered`.
    pub call_type: Option<String>,
    /// A ring group's call that another extension answered.
    pub answered_elsewhere: bool,
    pub talk_secs: Option<i64>,
    /// The caller's Zoho Desk record, when the integration knows it.
    pub caller: Option<CallerView>,
}

/// Open this Zoho Desk page now: the caller's record, while the agent's extension rings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenPop {
    pub call_id: String,
    pub number: String,
    pub name: String,
    pub url: String,
}

/// What the agent client's live connection carries (one extension's, never another's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A call of the extension changed.
    Call(AgentCall),
    /// Pop this page (every tab gets it; the first to claim it opens it).
    Pop(ScreenPop),
    /// The web-client password was changed or removed: sign in again.
    SignedOut,
    /// Some events were missed (a slow connection): read the calls again.
    Resync,
    /// The PBX could not place a call of the extension (30015).
    DialFailed(DialFailure),
}

/// A call in progress on the PBX sandbox, as its console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxConsoleCall {
    pub call_id: String,
    pub members: Vec<PbxConsoleMember>,
}

/// One party of a PBX sandbox call: an extension, or the trunk's outside party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxConsoleMember {
    /// `extension`, `inbound` or `outbound`.
    pub kind: String,
    /// The extension's number, or the outside number.
    pub number: String,
    /// The PBX's `member_status`: `RING`, `ALERT`, `ANSWER`, `ANSWERED`, `BYE`.
    pub status: String,
}

/// A call the PBX could not place, with its reason verbatim (`NO Dial Permission`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialFailure {
    pub call_id: String,
    pub reason: String,
}

/// The agent client's calls: in progress, then the latest ended ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCalls {
    pub active: Vec<AgentCall>,
    pub recent: Vec<AgentCall>,
}

/// What a field a synced record lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Older log entries only: a first name is no longer required.
    FirstName,
    /// Older log entries only: a last name is no longer required.
    LastName,
    /// Neither a first nor a last name (a contact), or no name (an account).
    Name,
    Phone,
    NameAndPhone,
}

/// What Contact Sync did with a matched record (the integration log says it in either language).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "sync", rename_all = "snake_case")]
pub enum SyncNote {
    Added,
    Updated,
    Unchanged,
    /// The record lacks what a phonebook contact needs.
    Incomplete {
        missing: Missing,
    },
    /// The rules no longer sync to that group.
    GroupReleased,
    /// A contact while accounts are synced, or the other way round.
    ModuleMismatch {
        record: ZohoModule,
        target: ZohoModule,
    },
    /// The phonebook refused these fields.
    Refused {
        fields: Vec<String>,
    },
}

/// What a job found or made, or why it did nothing: structured, so that the integration log
/// can say it in the reader's language. [`JobNote::english`] is the stored summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum JobNote {
    /// The number is a Zoho Desk record (found, or created for the call).
    Matched {
        number: String,
        module: ZohoModule,
        name: String,
        created: bool,
        sync: Option<SyncNote>,
        /// Other records with the same number (the most recently modified was used).
        #[serde(default)]
        others: u32,
    },
    NoMatch {
        number: String,
        creation_off: bool,
    },
    CreationFailed {
        number: String,
        error: String,
    },
    Created {
        module: ZohoModule,
        name: String,
    },
    /// A retried creation found what an earlier attempt made.
    CreatedEarlier {
        module: ZohoModule,
        name: String,
    },
    /// Ticket or call log: the call has not ended.
    NotEnded,
    /// Ticket or call log: the number is no contact.
    NoContact {
        number: String,
    },
    /// Ticket or call log: the number is an account.
    IsAccount {
        number: String,
        name: String,
    },
    /// Call log: the edition has no call activities.
    EditionWithoutCalls {
        edition: String,
    },
    /// Call log: Zoho answered that this edition has no call activities.
    LicenseLimited,
    Ticket {
        number: String,
        subject: String,
        found_earlier: bool,
        unassigned: bool,
    },
    CallActivity {
        subject: String,
        status: String,
        found_earlier: bool,
    },
}

impl Missing {
    pub fn english(self) -> &'static str {
        match self {
            Missing::FirstName => "it has no first name",
            Missing::LastName => "it has no last name",
            Missing::Name => "it has no name",
            Missing::Phone => "it has no phone number",
            Missing::NameAndPhone => "it has no name and no phone number",
        }
    }
}

fn module_words(m: ZohoModule) -> &'static str {
    match m {
        ZohoModule::Contacts => "the contact",
        ZohoModule::Accounts => "the account",
    }
}

impl SyncNote {
    pub fn english(&self) -> String {
        match self {
            SyncNote::Added => "added to the company contacts".into(),
            SyncNote::Updated => "updated in the company contacts".into(),
            SyncNote::Unchanged => "already in the company contacts".into(),
            SyncNote::Incomplete { missing } => format!("not synced: {}", missing.english()),
            SyncNote::GroupReleased => {
                "not synced: that company contacts group is no longer synced".into()
            }
            SyncNote::ModuleMismatch { record, target } => format!(
                "not synced: the record is {}, the module to sync is {}",
                module_words(*record),
                module_words(*target)
            ),
            SyncNote::Refused { fields } => format!(
                "not synced: the phonebook refuses its {}",
                fields
                    .iter()
                    .map(|f| f.replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl JobNote {
    /// The note in English; `kind` is the job's (`ticket` and `call_log` word some alike notes
    /// differently).
    pub fn english(&self, kind: JobKind) -> String {
        let not = if kind == JobKind::Ticket {
            "no ticket"
        } else {
            "not logged"
        };
        match self {
            JobNote::Matched {
                number,
                module,
                name,
                created,
                sync,
                others,
            } => {
                let name = if name.trim().is_empty() {
                    "(no name)"
                } else {
                    name.as_str()
                };
                let mut s = format!(
                    "{number} is {} {name}{}",
                    module_words(*module),
                    if *created {
                        " (created for this call)"
                    } else {
                        ""
                    }
                );
                if *others > 0 {
                    s.push_str(&format!(
                        " ({others} other records have this number: the most recently modified was used)"
                    ));
                }
                if let Some(sync) = sync {
                    s.push_str("; ");
                    s.push_str(&sync.english());
                }
                s
            }
            JobNote::NoMatch {
                number,
                creation_off: true,
            } => format!(
                "{number}: matches no Zoho Desk contact or account (creation is off for this call type)"
            ),
            JobNote::NoMatch { number, .. } => {
                format!("{number}: matches no Zoho Desk contact or account")
            }
            JobNote::CreationFailed { number, error } => {
                format!("{number}: the creation of {number} did not succeed ({error})")
            }
            JobNote::Created { module, name } => format!("created {} {name}", module_words(*module)),
            JobNote::CreatedEarlier { module, name } => format!(
                "found {} {name}, made by an earlier attempt",
                module_words(*module)
            ),
            JobNote::NotEnded => format!("{not}: the call has not ended"),
            JobNote::NoContact { number } => {
                format!("{not}: {number} matches no Zoho Desk contact")
            }
            JobNote::IsAccount { number, name } if kind == JobKind::Ticket => format!(
                "no ticket: tickets are for contacts only, and {number} is the account {name}"
            ),
            JobNote::IsAccount { number, name } => format!(
                "not logged: call activities belong to contacts, and {number} is the account {name}"
            ),
            JobNote::EditionWithoutCalls { edition } => format!(
                "not logged: call activities need Zoho Desk Standard or above (this org: {edition})"
            ),
            JobNote::LicenseLimited => {
                "not logged: this Zoho Desk edition has no call activities".into()
            }
            JobNote::Ticket {
                number,
                subject,
                found_earlier,
                unassigned,
            } => {
                let how = match (found_earlier, unassigned) {
                    (true, _) => "found the ticket an earlier attempt created",
                    (false, true) => "created (unassigned: Zoho refused the agent as assignee)",
                    (false, false) => "created",
                };
                format!("ticket #{number} {how}: {subject}")
            }
            JobNote::CallActivity {
                subject,
                status,
                found_earlier,
            } => {
                let how = if *found_earlier {
                    "found the call activity an earlier attempt logged"
                } else {
                    "logged"
                };
                format!("call activity {how}: {subject} ({status})")
            }
        }
    }
}

/// What a `tel:` link or a pasted number holds, as a number to dial: `%XX` escapes decoded
/// (a `+` stays a plus), the `tel:` scheme and any `;parameters` (RFC 3966) dropped.
pub fn dial_string(raw: &str) -> String {
    let b = raw.trim().as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    let s = String::from_utf8_lossy(&bytes);
    let s = s.trim();
    let s = match s.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => &s[4..],
        _ => s,
    };
    s.split(';').next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_words_read_back_as_written() {
        fn check<T: Copy + PartialEq + std::fmt::Debug + Serialize>(
            all: &[T],
            word: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(word(v)), Some(v));
                assert_eq!(serde_json::to_value(v).unwrap(), word(v));
            }
            assert_eq!(parse("unheard-of"), None);
        }
        check(JobKind::ALL, JobKind::as_str, JobKind::parse);
        check(JobState::ALL, JobState::as_str, JobState::parse);
        check(
            AttemptOutcome::ALL,
            AttemptOutcome::as_str,
            AttemptOutcome::parse,
        );
        assert_eq!(JobKind::CallLog.to_string(), "call_log");
    }

    #[test]
    fn job_notes_keep_their_english_summaries() {
        let matched = JobNote::Matched {
            number: "5503301".into(),
            module: ZohoModule::Contacts,
            name: "Paul Young".into(),
            created: false,
            sync: Some(SyncNote::Added),
            others: 0,
        };
        assert_eq!(
            matched.english(JobKind::Contact),
            "5503301 is the contact Paul Young; added to the company contacts"
        );
        let account = JobNote::IsAccount {
            number: "5503310".into(),
            name: "Acme".into(),
        };
        assert!(account
            .english(JobKind::Ticket)
            .starts_with("no ticket: tickets are for contacts only"));
        assert!(account
            .english(JobKind::CallLog)
            .starts_with("not logged: call activities belong"));
        let refused = SyncNote::Refused {
            fields: vec!["business_phone".into()],
        };
        assert_eq!(
            refused.english(),
            "not synced: the phonebook refuses its business phone"
        );
        // Stored as JSON beside the summary, read back by the log.
        let v = serde_json::to_value(&matched).unwrap();
        assert_eq!(v["note"], "matched");
        assert_eq!(serde_json::from_value::<JobNote>(v).unwrap(), matched);
    }

    #[test]
    fn dial_strings() {
        assert_eq!(dial_string("tel:+1-555-010-2030"), "+1-555-010-2030");
        assert_eq!(dial_string("tel%3A%2B15550102030"), "+15550102030");
        assert_eq!(dial_string("TEL:5503301"), "5503301");
        assert_eq!(dial_string(" 5503301 "), "5503301");
        assert_eq!(dial_string("tel:+861380013800;ext=12"), "+861380013800");
        assert_eq!(dial_string("+86 138 0013 8000"), "+86 138 0013 8000");
    }
}
