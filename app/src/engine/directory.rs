//! The engine's in-memory view of "who answers at which extension": extension number → bound
//! Zoho Desk agent. Every call consults it (requirements §2: only calls on bound extensions
//! trigger the integration), so it is a hash lookup, not a query; it is rebuilt from the store
//! after every change to extensions, agents or bindings.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

/// Extension number → bound agent, and agent id → extension number.
#[derive(Debug, Default)]
pub struct Directory {
    by_extension: HashMap<String, Arc<BoundAgent>>,
    by_agent: HashMap<String, Arc<BoundAgent>>,
}

impl Directory {
    pub fn build(entries: impl IntoIterator<Item = BoundAgent>) -> Directory {
        let mut d = Directory::default();
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

/// The current directory, swapped whole on every rebuild: readers never wait for a rebuild
/// and never see half of one.
#[derive(Debug, Default)]
pub struct DirectoryCell {
    current: RwLock<Arc<Directory>>,
    /// Serializes rebuilds so that a slow, older rebuild cannot overwrite a newer one.
    rebuild: tokio::sync::Mutex<()>,
}

impl DirectoryCell {
    pub fn get(&self) -> Arc<Directory> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads the bindings from the store and replaces the directory.
    pub async fn rebuild(&self, store: &Store) -> Result<(), StoreError> {
        let _one_at_a_time = self.rebuild.lock().await;
        let fresh = Arc::new(Directory::build(store.bound_agents().await?));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
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
        let d = Directory::build([entry("2005", "a1"), entry("2007", "a2")]);
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
        let cell = DirectoryCell::default();
        cell.rebuild(&store).await.unwrap();
        assert!(cell.get().is_empty());
        let ids = store
            .insert_extensions(&[("2005".into(), "Kristin".into(), None)], 0)
            .await
            .unwrap();
        store
            .replace_agents(
                &[super::super::store::FetchedAgent {
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
        cell.rebuild(&store).await.unwrap();
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
