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

/// The value of the group drop-down that creates a group in place.
pub const NEW_GROUP: &str = "new";

/// The rules' plain HTML form as the browser sends it: a ticked box sends `true`, an unticked
/// one nothing; a rule switched off (its choices disabled) sends none of its choices, which
/// then stay as they were saved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RulesForm {
    pub sync_contacts: Option<String>,
    pub sync_module: Option<String>,
    /// A group's id, [`NEW_GROUP`], or empty.
    pub sync_group: Option<String>,
    pub new_group_name: Option<String>,
    pub create_contacts: Option<String>,
    pub create_inbound: Option<String>,
    pub create_outbound: Option<String>,
    pub create_as: Option<String>,
    pub create_tickets: Option<String>,
    pub ticket_inbound_answered: Option<String>,
    pub ticket_inbound_missed: Option<String>,
    pub ticket_outbound_answered: Option<String>,
    pub ticket_outbound_unanswered: Option<String>,
    pub department: Option<String>,
    pub log_calls: Option<String>,
}

impl RulesForm {
    /// What to save: the form over the `saved` settings. A rule switched off keeps its
    /// choices as saved, whether or not the browser sent them.
    pub fn input(&self, saved: &RuleSettings) -> RulesInput {
        let ticked = |v: &Option<String>| v.as_deref().is_some_and(|v| v == "true" || v == "on");
        let module = |v: &Option<String>| v.as_deref().map(ZohoModule::from_choice);
        let (sync, create, tickets) = (
            ticked(&self.sync_contacts),
            ticked(&self.create_contacts),
            ticked(&self.create_tickets),
        );
        let group = self
            .sync_group
            .as_deref()
            .map(str::trim)
            .unwrap_or_default();
        let mut s = saved.clone();
        s.sync_contacts = sync;
        if sync {
            s.sync_module = module(&self.sync_module).unwrap_or(saved.sync_module);
            s.sync_group_id = group.parse().ok();
        }
        s.create_contacts = create;
        if create {
            s.create_inbound = ticked(&self.create_inbound);
            s.create_outbound = ticked(&self.create_outbound);
            s.create_as = module(&self.create_as).unwrap_or(saved.create_as);
        }
        s.create_tickets = tickets;
        s.ticket_when = TicketWhen::AfterCallEnds;
        if tickets {
            s.ticket_inbound_answered = ticked(&self.ticket_inbound_answered);
            s.ticket_inbound_missed = ticked(&self.ticket_inbound_missed);
            s.ticket_outbound_answered = ticked(&self.ticket_outbound_answered);
            s.ticket_outbound_unanswered = ticked(&self.ticket_outbound_unanswered);
        }
        if let Some(d) = &self.department {
            s.department_id = Some(d.trim().to_string()).filter(|d| !d.is_empty());
        }
        s.log_calls = ticked(&self.log_calls);
        RulesInput {
            settings: s,
            new_group_name: (sync && group == NEW_GROUP)
                .then(|| self.new_group_name.clone().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;

    fn yes() -> Option<String> {
        Some("true".into())
    }

    #[test]
    fn a_rule_switched_off_keeps_its_choices_and_a_new_group_is_named() {
        let saved = RuleSettings {
            sync_contacts: true,
            sync_module: ZohoModule::Accounts,
            sync_group_id: Some(7),
            create_contacts: true,
            create_inbound: true,
            create_as: ZohoModule::Accounts,
            create_tickets: true,
            ticket_inbound_missed: true,
            department_id: Some("d1".into()),
            ..RuleSettings::default()
        };
        // Everything switched off: the disabled choices are not sent, and stay.
        let off = RulesForm {
            department: Some(String::new()),
            ..RulesForm::default()
        }
        .input(&saved);
        assert!(!off.settings.sync_contacts && !off.settings.create_contacts);
        assert!(!off.settings.create_tickets && !off.settings.log_calls);
        assert_eq!(off.settings.sync_group_id, Some(7));
        assert_eq!(off.settings.sync_module, ZohoModule::Accounts);
        assert!(off.settings.create_inbound && off.settings.ticket_inbound_missed);
        assert_eq!(
            off.settings.department_id, None,
            "the default department chosen"
        );
        assert_eq!(off.new_group_name, None);

        // Switched on, with a new group: what is ticked is what is saved.
        let on = RulesForm {
            sync_contacts: yes(),
            sync_module: Some("contacts".into()),
            sync_group: Some(NEW_GROUP.into()),
            new_group_name: Some("Zoho Desk callers".into()),
            create_contacts: Some("on".into()),
            create_outbound: yes(),
            create_as: Some("contacts".into()),
            create_tickets: yes(),
            ticket_outbound_unanswered: yes(),
            log_calls: yes(),
            ..RulesForm::default()
        }
        .input(&saved);
        let s = &on.settings;
        assert!(s.sync_contacts && s.create_contacts && s.create_tickets && s.log_calls);
        assert_eq!(
            (s.sync_module, s.sync_group_id),
            (ZohoModule::Contacts, None)
        );
        assert_eq!(on.new_group_name.as_deref(), Some("Zoho Desk callers"));
        assert!(!s.create_inbound && s.create_outbound);
        assert!(!s.ticket_inbound_missed && s.ticket_outbound_unanswered);
        assert_eq!(s.department_id.as_deref(), Some("d1"), "not sent: as saved");
        let group = RulesForm {
            sync_contacts: yes(),
            sync_group: Some(" 12 ".into()),
            ..RulesForm::default()
        }
        .input(&saved);
        assert_eq!(group.settings.sync_group_id, Some(12));
        assert_eq!(group.new_group_name, None);
    }
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
