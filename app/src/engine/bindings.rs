//! Zoho Desk users and their binding to PBX extensions (requirements §2): fetch every agent
//! (all pages), Auto Bind by e-mail, manual bindings, one agent ↔ one extension.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use super::store::FetchedAgent;
use super::zoho::desk;
use super::{Engine, EngineError};
use crate::model::{
    AutoBindReport, BindingChange, BindingProblem, RefreshReport, Status, UsersView, ZohoUser,
};

/// Zoho's largest page for `GET /agents`.
const PAGE: usize = 200;

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// E-mails match case-insensitively, ignoring surrounding spaces.
pub fn email_key(e: &str) -> String {
    e.trim().to_lowercase()
}

fn agent_from_json(v: &Value) -> Option<FetchedAgent> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let name = s("name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                s("firstName").unwrap_or_default(),
                s("lastName").unwrap_or_default()
            )
            .trim()
            .to_string()
        });
    Some(FetchedAgent {
        agent_id: s("id")?,
        name,
        email: s("emailId"),
        active: s("status").as_deref() != Some("DISABLED"),
    })
}

impl Engine {
    /// Fetches every agent of the org (all pages) and replaces the stored list; agents gone
    /// from Zoho lose their binding. `progress` is told the running count after each page.
    pub async fn refresh_agents(
        &self,
        progress: impl Fn(usize),
    ) -> Result<RefreshReport, EngineError> {
        let row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        let org = match (Status::parse(&row.status), row.org_id.clone()) {
            (Status::Connected, Some(org)) => org,
            _ => return Err(EngineError::NotConfigured),
        };
        let mut all = Vec::new();
        let mut from = 0;
        loop {
            let path = format!("/agents?from={from}&limit={PAGE}");
            let page = self
                .with_token(|t| {
                    let http = self.http.clone();
                    let (desk_url, path, org) = (row.desk_url.clone(), path.clone(), org.clone());
                    async move { desk::get(&http, &desk_url, &path, &t, Some(&org)).await }
                })
                .await?;
            let items: Vec<FetchedAgent> = page
                .as_ref()
                .and_then(|v| v.get("data"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(agent_from_json).collect())
                .unwrap_or_default();
            let n = items.len();
            all.extend(items);
            progress(all.len());
            if n < PAGE {
                break;
            }
            from += n;
        }
        let vanished = self.store.replace_agents(&all, now()).await?;
        Ok(RefreshReport {
            fetched: all.len(),
            vanished,
        })
    }

    pub async fn users_view(&self) -> Result<UsersView, EngineError> {
        let users = self
            .store
            .agents()
            .await?
            .into_iter()
            .map(|a| ZohoUser {
                agent_id: a.agent_id,
                name: a.name,
                email: a.email,
                active: a.active,
                extension_id: a.extension_id,
                manual: a.manual,
            })
            .collect();
        Ok(UsersView {
            users,
            extensions: self.extensions().await?,
            vanished: self
                .store
                .vanished_agents()
                .await?
                .into_iter()
                .map(|(name, _, ext)| (name, ext))
                .collect(),
        })
    }

    /// Binds each active, unbound agent to the unbound extension with the same e-mail; never
    /// touches existing bindings.
    pub async fn auto_bind(&self) -> Result<AutoBindReport, EngineError> {
        let agents = self.store.agents().await?;
        let bound_exts: HashSet<i64> = agents.iter().filter_map(|a| a.extension_id).collect();
        let mut free: HashMap<String, i64> = HashMap::new();
        for e in self.store.extensions().await? {
            if let Some(mail) = e.email.as_deref().map(email_key) {
                if !bound_exts.contains(&e.id) {
                    free.entry(mail).or_insert(e.id);
                }
            }
        }
        let mut changes = Vec::new();
        let mut unmatched = Vec::new();
        for a in agents
            .iter()
            .filter(|a| a.active && a.extension_id.is_none())
        {
            match a
                .email
                .as_deref()
                .map(email_key)
                .and_then(|m| free.remove(&m))
            {
                Some(ext) => changes.push((a.agent_id.clone(), Some(ext), false)),
                None => unmatched.push(a.name.clone()),
            }
        }
        self.store.set_bindings(&changes, now()).await?;
        Ok(AutoBindReport {
            bound: changes.len(),
            unmatched,
        })
    }

    /// Applies the drop-down choices (manual bindings), all or none.
    pub async fn save_bindings(&self, changes: Vec<BindingChange>) -> Result<(), BindingError> {
        let agents = self.store.agents().await.map_err(EngineError::from)?;
        let extensions = self.extensions().await?;
        let by_id: HashMap<&str, &super::store::AgentRow> =
            agents.iter().map(|a| (a.agent_id.as_str(), a)).collect();
        // The bindings as they would be after the change.
        let mut result: HashMap<String, Option<i64>> = agents
            .iter()
            .map(|a| (a.agent_id.clone(), a.extension_id))
            .collect();
        for c in &changes {
            let agent = by_id
                .get(c.agent_id.as_str())
                .ok_or(BindingError::Refused(BindingProblem::UnknownAgent))?;
            if let Some(ext) = c.extension_id {
                if !extensions.iter().any(|e| e.id == ext) {
                    return Err(BindingError::Refused(BindingProblem::UnknownExtension));
                }
                if !agent.active && agent.extension_id != Some(ext) {
                    return Err(BindingError::Refused(BindingProblem::AgentDisabled {
                        agent: agent.name.clone(),
                    }));
                }
            }
            result.insert(c.agent_id.clone(), c.extension_id);
        }
        for c in &changes {
            if let Some(ext) = c.extension_id {
                for (agent, e) in &result {
                    if *e == Some(ext) && agent != &c.agent_id {
                        let number = extensions
                            .iter()
                            .find(|x| x.id == ext)
                            .map(|x| x.number.clone())
                            .unwrap_or_default();
                        let other = by_id
                            .get(agent.as_str())
                            .map(|a| a.name.clone())
                            .unwrap_or_default();
                        return Err(BindingError::Refused(BindingProblem::ExtensionTaken {
                            extension: number,
                            other_agent: other,
                        }));
                    }
                }
            }
        }
        let rows: Vec<(String, Option<i64>, bool)> = changes
            .into_iter()
            .map(|c| (c.agent_id, c.extension_id, true))
            .collect();
        self.store
            .set_bindings(&rows, now())
            .await
            .map_err(EngineError::from)?;
        Ok(())
    }

    /// The agent bound to an extension number, if any: (agent id, name).
    pub async fn bound_agent(&self, number: &str) -> Result<Option<(String, String)>, EngineError> {
        let exts = self.store.extensions().await?;
        let Some(ext) = exts.iter().find(|e| e.number == number) else {
            return Ok(None);
        };
        Ok(self
            .store
            .agents()
            .await?
            .into_iter()
            .find(|a| a.extension_id == Some(ext.id))
            .map(|a| (a.agent_id, a.name)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error("binding refused: {0:?}")]
    Refused(BindingProblem),
    #[error(transparent)]
    Engine(#[from] EngineError),
}
