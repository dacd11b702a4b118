//! Zoho Desk users and their binding to PBX extensions (requirements §2): fetch every agent
//! (all pages), Auto Bind by e-mail, manual bindings, one agent ↔ one extension.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use serde_json::Value;
use time::OffsetDateTime;

use super::Directory;
use crate::engine::store::FetchedAgent;
use crate::engine::zoho::api::Desk;
use crate::engine::zoho::connection::DeskCtx;
use crate::engine::zoho::ZohoConnection;
use crate::engine::EngineError;
use crate::model::{
    AutoBindReport, BindingChange, BindingProblem, RefreshFailure, RefreshProgress, RefreshReport,
    Status, UsersView, ZohoUser,
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

/// The refresh in progress, if any, and what the last one did; one refresh runs at a time (a
/// second waits for the first, then fetches again).
#[derive(Debug)]
pub struct RefreshState {
    running: tokio::sync::Mutex<()>,
    progress: tokio::sync::watch::Sender<Option<RefreshProgress>>,
    last: Mutex<Option<Result<RefreshReport, RefreshFailure>>>,
}

impl Default for RefreshState {
    fn default() -> Self {
        RefreshState {
            running: Default::default(),
            progress: tokio::sync::watch::Sender::new(None),
            last: Default::default(),
        }
    }
}

impl RefreshState {
    fn set(&self, p: Option<RefreshProgress>) {
        self.progress.send_replace(p);
    }

    pub fn get(&self) -> Option<RefreshProgress> {
        *self.progress.borrow()
    }
}

/// Clears the progress when the refresh ends, however it ends.
struct ProgressGuard<'a>(&'a RefreshState);

impl Drop for ProgressGuard<'_> {
    fn drop(&mut self) {
        self.0.set(None);
    }
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

impl Directory {
    /// Fetches every agent of the org (all pages) and replaces the stored list; agents gone
    /// from Zoho lose their binding. The running count is published for
    /// [`Directory::users_refresh_progress`] after each page.
    pub async fn refresh_agents(
        &self,
        zoho: &ZohoConnection,
    ) -> Result<RefreshReport, EngineError> {
        let state = &self.users_refresh;
        let _one_at_a_time = state.running.lock().await;
        let _clear = ProgressGuard(state);
        let result = self.fetch_agents(zoho).await;
        // Kept before the progress clears, so that whoever waits for the end finds it.
        *state.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(match &result {
            Ok(report) => Ok(report.clone()),
            Err(EngineError::AuthExpired) => Err(RefreshFailure::AuthExpired),
            Err(EngineError::NotConfigured) => Err(RefreshFailure::NotConnected),
            Err(_) => Err(RefreshFailure::Failed),
        });
        result
    }

    /// What the last refresh did, or why it fetched nothing; `None` before the first one
    /// since the start.
    pub fn last_users_refresh(&self) -> Option<Result<RefreshReport, RefreshFailure>> {
        self.users_refresh
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every step of the users' refreshes, as they happen (`None`: none runs).
    pub fn watch_users_refresh(&self) -> tokio::sync::watch::Receiver<Option<RefreshProgress>> {
        self.users_refresh.progress.subscribe()
    }

    async fn fetch_agents(&self, zoho: &ZohoConnection) -> Result<RefreshReport, EngineError> {
        let state = &self.users_refresh;
        let row = self
            .store
            .connection()
            .await?
            .ok_or(EngineError::NotConfigured)?;
        let org = match (Status::parse(&row.status), row.org_id.clone()) {
            (Status::Connected, Some(org)) => org,
            _ => return Err(EngineError::NotConfigured),
        };
        let ctx = DeskCtx {
            desk_url: row.desk_url.clone(),
            org_id: org,
            edition: None,
        };
        let desk = Desk::new(zoho, &ctx);
        state.set(Some(RefreshProgress {
            fetched: 0,
            total: None,
        }));
        // The total is only for the progress display: without it the count still runs.
        let total = match desk.agent_count().await {
            Ok(n) => n,
            Err(EngineError::AuthExpired) => return Err(EngineError::AuthExpired),
            Err(e) => {
                tracing::debug!(error = %e, "agent count unavailable");
                None
            }
        };
        let mut all = Vec::new();
        let mut from = 0;
        loop {
            state.set(Some(RefreshProgress {
                fetched: all.len(),
                total,
            }));
            let items: Vec<FetchedAgent> = desk
                .agents(from, PAGE)
                .await?
                .iter()
                .filter_map(agent_from_json)
                .collect();
            let n = items.len();
            all.extend(items);
            if n < PAGE {
                break;
            }
            from += n;
        }
        let vanished = self.store.replace_agents(&all, now()).await?;
        self.rebuild().await?;
        Ok(RefreshReport {
            fetched: all.len(),
            vanished,
        })
    }

    /// The refresh in progress: agents fetched so far and the org's total.
    pub fn users_refresh_progress(&self) -> Option<RefreshProgress> {
        self.users_refresh.get()
    }

    pub async fn users_view(&self) -> Result<UsersView, EngineError> {
        let users = self.store.agents().await?;
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
        self.rebuild().await?;
        Ok(AutoBindReport {
            bound: changes.len(),
            unmatched,
        })
    }

    /// Applies the drop-down choices (manual bindings), all or none.
    pub async fn save_bindings(&self, changes: Vec<BindingChange>) -> Result<(), BindingError> {
        let agents = self.store.agents().await.map_err(EngineError::from)?;
        let extensions = self.extensions().await?;
        let by_id: HashMap<&str, &ZohoUser> =
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
        self.rebuild().await.map_err(EngineError::from)?;
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error("binding refused: {0:?}")]
    Refused(BindingProblem),
    #[error(transparent)]
    Engine(#[from] EngineError),
}
