//! The rule settings (requirements §3–§6): what every fact is planned with, as the admin
//! edits them on the page.

use std::sync::{Arc, RwLock};

use super::calls::now_ms;
use super::jobs::call_logs_available;
use super::phonebook::Phonebook;
use super::store::Store;
use super::zoho::ZohoConnection;
use super::EngineError;
use crate::model::{FieldError, FieldProblem, RuleSettings, RulesInput, RulesView};

fn field(field: &str, problem: FieldProblem) -> FieldError {
    FieldError {
        field: field.into(),
        problem,
    }
}

/// The rule settings, as stored, and the copy every fact is planned with.
#[derive(Debug)]
pub struct Rules {
    store: Store,
    current: RwLock<Arc<RuleSettings>>,
}

impl Rules {
    pub fn new(store: Store) -> Rules {
        Rules {
            store,
            current: Default::default(),
        }
    }

    fn set(&self, s: RuleSettings) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(s);
    }
    /// The settings every fact is planned with (cached; see [`Rules::load`]).
    pub fn current(&self) -> Arc<RuleSettings> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the stored settings into the cache (at start, and when another instance saved).
    pub async fn load(&self) -> Result<(), EngineError> {
        let s = match self.store.rule_settings().await? {
            Some(j) => serde_json::from_str(&j).unwrap_or_default(),
            None => RuleSettings::default(),
        };
        self.set(s);
        Ok(())
    }

    /// Forgets the settings (Disconnect): the defaults again.
    pub(crate) async fn clear(&self) -> Result<(), EngineError> {
        self.store.clear_rule_settings().await?;
        self.set(RuleSettings::default());
        Ok(())
    }

    /// The rules section of the page: the settings, with the org's departments and edition
    /// and the phonebook's groups to choose from.
    pub async fn view(
        &self,
        zoho: &ZohoConnection,
        phonebook: &Phonebook,
    ) -> Result<RulesView, EngineError> {
        let groups = phonebook.phonebook_groups().await?;
        zoho.forget_departments();
        let (departments, edition) = match zoho.desk_ctx().await {
            Ok(ctx) => {
                let deps = match zoho.departments(&ctx).await {
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
        let mut settings = (*self.current()).clone();
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
    pub async fn save(
        &self,
        zoho: &ZohoConnection,
        phonebook: &Phonebook,
        input: RulesInput,
    ) -> Result<(), EngineError> {
        let ctx = zoho.desk_ctx().await.map_err(|e| match e {
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
        let groups = phonebook.phonebook_groups().await?;
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
            if let Ok(list) = zoho.departments(&ctx).await {
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
                Some(name) => {
                    phonebook
                        .create_phonebook_group(&name)
                        .await
                        .map_err(|e| match e {
                            EngineError::Invalid(list) => EngineError::Invalid(
                                list.into_iter()
                                    .map(|f| field("new_group_name", f.problem))
                                    .collect(),
                            ),
                            other => other,
                        })?
                }
                None => s.sync_group_id.expect("checked above"),
            };
            phonebook.bind_helpdesk_group(id).await?;
            s.sync_group_id = Some(id);
        } else {
            phonebook.release_helpdesk_group().await?;
            s.sync_group_id = None;
        }
        let body = serde_json::to_string(&s).expect("plain data");
        self.store
            .save_rule_settings(&body, now_ms() / 1000)
            .await?;
        self.set(s);
        Ok(())
    }
}
