//! The rule settings (requirements §3–§6) as the admin edits them, the sync of a matched
//! record into the company contacts group, and Disconnect (§10).

use std::sync::Arc;

use super::calls::now_ms;
use super::jobs::call_logs_available;
use super::lookup::ZohoRecord;
use super::phonebook::{SyncedRecord, UpsertOutcome};
use super::{Engine, EngineError};
use crate::model::{
    FieldError, FieldProblem, Missing, RuleSettings, RulesInput, RulesView, SyncNote, ZohoModule,
};

fn field(field: &str, problem: FieldProblem) -> FieldError {
    FieldError {
        field: field.into(),
        problem,
    }
}

/// Why a record cannot go into the phonebook, if it cannot: the manual asks for "a first name
/// or a last name" and a phone number.
pub fn incomplete(rec: &ZohoRecord) -> Option<Missing> {
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    let has_phone = !blank(&rec.phone) || !blank(&rec.mobile);
    let has_name = match rec.module {
        ZohoModule::Contacts => !blank(&rec.first_name) || !blank(&rec.last_name),
        ZohoModule::Accounts => !rec.name.trim().is_empty(),
    };
    match (has_name, has_phone) {
        (true, true) => None,
        (false, true) => Some(Missing::Name),
        (true, false) => Some(Missing::Phone),
        (false, false) => Some(Missing::NameAndPhone),
    }
}

impl Engine {
    /// The settings every fact is planned with (cached; see [`Engine::load_rules`]).
    pub fn rules(&self) -> Arc<RuleSettings> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the stored settings into the cache (at start).
    pub async fn load_rules(&self) -> Result<(), EngineError> {
        let s = match self.store.rule_settings().await? {
            Some(j) => serde_json::from_str(&j).unwrap_or_default(),
            None => RuleSettings::default(),
        };
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
        Ok(())
    }

    /// The rules section of the page.
    pub async fn rules_view(&self) -> Result<RulesView, EngineError> {
        let groups = self.phonebook.phonebook_groups().await?;
        self.forget_departments();
        let (departments, edition) = match self.zoho.desk_ctx().await {
            Ok(ctx) => {
                let deps = match self.departments(&ctx).await {
                    Ok(d) => d.into_iter().map(|(id, name, _)| (id, name)).collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the departments");
                        Vec::new()
                    }
                };
                (deps, ctx.edition)
            }
            Err(_) => (Vec::new(), None),
        };
        let mut settings = (*self.rules()).clone();
        // Not offered by the edition: shown off (the work would only be noted as skipped).
        settings.log_calls &= call_logs_available(edition.as_deref());
        Ok(RulesView {
            settings,
            departments,
            groups,
            call_logs_available: call_logs_available(edition.as_deref()),
            edition,
        })
    }

    /// Validates and stores the rules. Choosing a group to sync to binds it to the helpdesk
    /// (only an empty group; one may be created in place); switching sync off releases it.
    pub async fn save_rules(&self, input: RulesInput) -> Result<(), EngineError> {
        let ctx = self.zoho.desk_ctx().await.map_err(|e| match e {
            EngineError::AuthExpired => EngineError::AuthExpired,
            _ => EngineError::NotConfigured,
        })?;
        let mut s = input.settings;
        let mut errors = Vec::new();
        let new_group = input
            .new_group_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let groups = self.phonebook.phonebook_groups().await?;
        if s.sync_contacts && new_group.is_none() {
            match s
                .sync_group_id
                .and_then(|id| groups.iter().find(|g| g.id == id))
            {
                None => errors.push(field("sync_group", FieldProblem::Required)),
                Some(g) if g.contacts > 0 && !g.helpdesk => {
                    errors.push(field("sync_group", FieldProblem::GroupNotEmpty))
                }
                Some(_) => {}
            }
        }
        if s.create_contacts && !s.create_inbound && !s.create_outbound {
            errors.push(field("create_types", FieldProblem::ChooseOne));
        }
        if s.create_tickets
            && !(s.ticket_inbound_answered
                || s.ticket_inbound_missed
                || s.ticket_outbound_answered
                || s.ticket_outbound_unanswered)
        {
            errors.push(field("ticket_types", FieldProblem::ChooseOne));
        }
        if s.log_calls && !call_logs_available(ctx.edition.as_deref()) {
            errors.push(field("log_calls", FieldProblem::NotInEdition));
        }
        if let Some(d) = s.department_id.as_deref().filter(|d| !d.is_empty()) {
            if let Ok(list) = self.departments(&ctx).await {
                if !list.iter().any(|(id, _, _)| id == d) {
                    errors.push(field("department", FieldProblem::Required));
                }
            }
        } else {
            s.department_id = None;
        }
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        if s.sync_contacts {
            let id = match new_group {
                // The new group's name errors belong to the rules form's field.
                Some(name) => self
                    .phonebook
                    .create_phonebook_group(&name)
                    .await
                    .map_err(|e| match e {
                        EngineError::Invalid(list) => EngineError::Invalid(
                            list.into_iter()
                                .map(|f| field("new_group_name", f.problem))
                                .collect(),
                        ),
                        other => other,
                    })?,
                None => s.sync_group_id.expect("checked above"),
            };
            self.phonebook.bind_helpdesk_group(id).await?;
            s.sync_group_id = Some(id);
        } else {
            self.phonebook.release_helpdesk_group().await?;
            s.sync_group_id = None;
        }
        let body = serde_json::to_string(&s).expect("plain data");
        self.store
            .save_rule_settings(&body, now_ms() / 1000)
            .await?;
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
        Ok(())
    }

    /// Writes a matched record into the sync group; returns what happened, in words for the log.
    pub(crate) async fn sync_record(
        &self,
        group_id: i64,
        rec: &ZohoRecord,
    ) -> Result<SyncNote, EngineError> {
        if let Some(missing) = incomplete(rec) {
            return Ok(SyncNote::Incomplete { missing });
        }
        // The rules may have changed since the call: sync only into the group the rules sync
        // to now (saving the rules binds and releases the tag with them; never write into a
        // group the admin took back).
        let rules = self.rules();
        if !(rules.sync_contacts && rules.sync_group_id == Some(group_id)) {
            return Ok(SyncNote::GroupReleased);
        }
        let synced = SyncedRecord {
            zoho_module: rec.module.as_str().to_string(),
            zoho_id: rec.id.clone(),
            first_name: rec.first_name.clone(),
            last_name: match rec.module {
                ZohoModule::Contacts => rec.last_name.clone().unwrap_or_default(),
                ZohoModule::Accounts => rec.name.clone(),
            },
            company: rec.company.clone(),
            email: rec.email.clone(),
            business_phone: rec.phone.clone(),
            mobile_phone: rec.mobile.clone(),
            home_phone: None,
        };
        Ok(
            match self
                .phonebook
                .upsert_synced_contact(group_id, &synced)
                .await
            {
                Ok(UpsertOutcome::Created) => SyncNote::Added,
                Ok(UpsertOutcome::Updated) => SyncNote::Updated,
                Ok(UpsertOutcome::Unchanged) => SyncNote::Unchanged,
                // The phonebook's own rules refused the record (a phone it cannot dial, a name too
                // long): the lookup still counts, the sync is reported with the fields.
                Err(EngineError::Invalid(list)) => SyncNote::Refused {
                    fields: list.into_iter().map(|f| f.field).collect(),
                },
                Err(e) => return Err(e),
            },
        )
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
            .cancel_jobs("disconnected from Zoho Desk", now_ms())
            .await?;
        self.phonebook.release_helpdesk_group().await?;
        self.store.clear_rule_settings().await?;
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(RuleSettings::default());
        self.store.clear_zoho_state().await?;
        self.lookup.cache.clear();
        self.forget_departments();
        self.directory.rebuild().await?;
        self.zoho.follow_switch(None);
        tracing::info!(cancelled, "disconnected from Zoho Desk");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact() -> ZohoRecord {
        ZohoRecord {
            module: ZohoModule::Contacts,
            id: "1".into(),
            first_name: Some("Phillip".into()),
            last_name: Some("Huff".into()),
            name: "Phillip Huff".into(),
            company: None,
            email: None,
            phone: Some("5503301".into()),
            mobile: None,
            web_url: None,
            modified: None,
            others: 0,
        }
    }

    #[test]
    fn incomplete_records_are_named() {
        assert_eq!(incomplete(&contact()), None);
        // A first name or a last name will do.
        let mut c = contact();
        c.first_name = None;
        assert_eq!(incomplete(&c), None);
        let mut c = contact();
        c.last_name = None;
        assert_eq!(incomplete(&c), None);
        c.first_name = Some("  ".into());
        assert_eq!(incomplete(&c), Some(Missing::Name));
        let mut c = contact();
        c.phone = None;
        assert_eq!(incomplete(&c), Some(Missing::Phone));
        c.mobile = Some("138".into());
        assert_eq!(incomplete(&c), None);
        c.mobile = None;
        c.first_name = None;
        c.last_name = None;
        assert_eq!(incomplete(&c), Some(Missing::NameAndPhone));
        let mut a = contact();
        a.module = ZohoModule::Accounts;
        a.first_name = None;
        a.last_name = None;
        assert_eq!(incomplete(&a), None);
        a.name = String::new();
        assert_eq!(incomplete(&a), Some(Missing::Name));
    }
}
