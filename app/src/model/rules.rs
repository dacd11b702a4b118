//! The rule settings (requirements §3–§6) and their page.

use serde::{Deserialize, Serialize};

use super::ContactGroup;

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

    /// The module a page's select names (`accounts`, else contacts).
    pub fn from_choice(value: &str) -> Self {
        if value == "accounts" {
            ZohoModule::Accounts
        } else {
            ZohoModule::Contacts
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
