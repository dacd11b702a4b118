//! The directory service: PBX extensions, Zoho Desk users (agents) and the bindings between
//! them (requirements §2), and the engine's in-memory view of "who answers at which
//! extension". Every call consults that view (only calls on bound extensions trigger the
//! integration), so it is a hash lookup, not a query; it is rebuilt from the store after every
//! change to extensions, agents or bindings.
//!
//! - `extensions.rs`: the extensions (by hand, imported, synced from the PBX) and their
//!   web-client passwords;
//! - `bindings.rs`: the Zoho Desk users, Auto Bind and bindings made by hand.

pub mod bindings;
pub mod extensions;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use super::store::{Store, StoreError};

/// A PBX extension and the Zoho Desk agent bound to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundAgent {
    pub extension_id: i64,
    pub extension_number: String,
    pub extension_name: String,
    pub agent_id: String,
    pub agent_name: String,
    pub agent_email: Option<String>,
}

/// Extension number → bound agent, and agent id → extension number: one snapshot of the
/// bindings.
#[derive(Debug, Default)]
pub struct BoundAgents {
    by_extension: HashMap<String, Arc<BoundAgent>>,
    by_agent: HashMap<String, Arc<BoundAgent>>,
}

impl BoundAgents {
    pub fn build(entries: impl IntoIterator<Item = BoundAgent>) -> BoundAgents {
        let mut d = BoundAgents::default();
        for e in entries {
            let e = Arc::new(e);
            d.by_agent.insert(e.agent_id.clone(), e.clone());
            d.by_extension.insert(e.extension_number.clone(), e);
        }
        d
    }

    pub fn by_extension(&self, number: &str) -> Option<&Arc<BoundAgent>> {
        self.by_extension.get(number)
    }

    pub fn by_agent(&self, agent_id: &str) -> Option<&Arc<BoundAgent>> {
        self.by_agent.get(agent_id)
    }

    pub fn len(&self) -> usize {
        self.by_extension.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_extension.is_empty()
    }
}

/// Extensions, agents and bindings, and their snapshot in memory.
#[derive(Debug)]
pub struct Directory {
    store: Store,
    /// The current snapshot, swapped whole on every rebuild: readers never wait for a rebuild
    /// and never see half of one.
    current: RwLock<Arc<BoundAgents>>,
    /// Serializes rebuilds so that a slow, older rebuild cannot overwrite a newer one.
    rebuild: tokio::sync::Mutex<()>,
    /// The running "Refresh Zoho Desk users", for the page's live count.
    users_refresh: bindings::RefreshState,
    /// Bumped when an extension, its binding or its web-client password changes: agents'
    /// live connections check that their agent may still see its calls.
    access: watch::Sender<u64>,
    /// "Sync extensions from the PBX".
    pbx_sync: extensions::PbxSync,
}

impl Directory {
    /// `pbx_sync_every_ms`: how often the housekeeping syncs the extensions from a connected
    /// PBX (`0`: only by hand).
    pub fn new(store: Store, pbx_sync_every_ms: i64) -> Directory {
        Directory {
            store,
            current: Default::default(),
            rebuild: Default::default(),
            users_refresh: Default::default(),
            access: watch::Sender::new(0),
            pbx_sync: extensions::PbxSync::new(pbx_sync_every_ms),
        }
    }

    /// The bindings as they are now (in memory; no query).
    pub fn get(&self) -> Arc<BoundAgents> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The agent bound to an extension number, if any (in memory; no query).
    pub fn bound_agent(&self, number: &str) -> Option<Arc<BoundAgent>> {
        self.get().by_extension(number).cloned()
    }

    /// Re-reads the bindings into memory; called after every change to extensions, agents or
    /// bindings (here, or told by another instance), and at start.
    pub async fn rebuild(&self) -> Result<(), StoreError> {
        {
            let _one_at_a_time = self.rebuild.lock().await;
            let fresh = Arc::new(BoundAgents::build(self.store.bound_agents().await?));
            *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        }
        // An extension renumbered or deleted: its agent's live connection checks its access.
        self.access_changed();
        Ok(())
    }

    /// Tells agents' live connections to check their access again.
    pub fn access_changed(&self) {
        self.access.send_modify(|v| *v += 1);
    }

    /// Changes [`Directory::access_changed`] announces.
    pub fn access_changes(&self) -> watch::Receiver<u64> {
        self.access.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: &str, agent: &str) -> BoundAgent {
        BoundAgent {
            extension_id: n.parse().unwrap(),
            extension_number: n.into(),
            extension_name: format!("Ext {n}"),
            agent_id: agent.into(),
            agent_name: format!("Agent {agent}"),
            agent_email: None,
        }
    }

    #[test]
    fn looks_up_both_ways() {
        let d = BoundAgents::build([entry("2005", "a1"), entry("2007", "a2")]);
        assert_eq!(d.len(), 2);
        assert_eq!(d.by_extension("2005").unwrap().agent_id, "a1");
        assert_eq!(d.by_agent("a2").unwrap().extension_number, "2007");
        assert!(d.by_extension("2006").is_none());
        assert!(d.by_agent("a3").is_none());
    }

    #[tokio::test]
    async fn rebuild_follows_the_store() {
        let dir = std::env::temp_dir().join(format!("hk-dir-{}", rand::random::<u64>()));
        let store = Store::connect(&format!("sqlite://{}/t.db", dir.display()))
            .await
            .unwrap();
        let cell = Directory::new(store.clone(), 0);
        cell.rebuild().await.unwrap();
        assert!(cell.get().is_empty());
        let ids = store
            .insert_extensions(&[("2005".into(), "Kristin".into(), None)], 0)
            .await
            .unwrap();
        store
            .replace_agents(
                &[crate::engine::store::FetchedAgent {
                    agent_id: "9".into(),
                    name: "Kristin Hale".into(),
                    email: Some("k@example.com".into()),
                    active: true,
                }],
                0,
            )
            .await
            .unwrap();
        store
            .set_bindings(&[("9".into(), Some(ids[0]), true)], 0)
            .await
            .unwrap();
        let before = cell.get();
        let access = cell.access_changes();
        cell.rebuild().await.unwrap();
        assert!(
            access.has_changed().unwrap(),
            "a rebuild tells the agents' connections"
        );
        assert!(before.is_empty(), "a reader's snapshot does not change");
        let now = cell.get();
        let b = now.by_extension("2005").unwrap();
        assert_eq!(
            (b.agent_id.as_str(), b.agent_name.as_str()),
            ("9", "Kristin Hale")
        );
        drop(store);
        std::fs::remove_dir_all(dir).ok();
    }
}
