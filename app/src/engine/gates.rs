//! Turns by key: work on a key waits for the work on that key that came before it (in
//! arrival order: tokio's mutex is fair), and work on other keys goes on at once. Used by the
//! lookup (one Zoho lookup of a number at a time) and the intake (one writer per call).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Keys being waited for at once before the gates left by abandoned waits are swept.
const MAX_GATES: usize = 1_000;

#[derive(Debug, Default)]
pub struct Gates {
    by_key: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The turn on one key, until dropped; the key's gate goes with its last holder.
pub struct Turn<'a> {
    gates: &'a Gates,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Gates {
    /// Waits for the turn on `key`.
    pub async fn turn(&self, key: &str) -> Turn<'_> {
        let key = key.to_string();
        let gate = {
            let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() >= MAX_GATES {
                // Gates of waits abandoned (nobody holds them any more).
                map.retain(|_, g| Arc::strong_count(g) > 1);
            }
            map.entry(key.clone()).or_default().clone()
        };
        Turn {
            gates: self,
            key,
            guard: Some(gate.lock_owned().await),
        }
    }

    /// Waits for the turns on all of `keys`, taken in sorted order so that two callers never
    /// each hold a key the other waits for.
    pub async fn turns<'a>(&'a self, keys: &[&str]) -> Vec<Turn<'a>> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut turns = Vec::with_capacity(keys.len());
        for key in keys {
            turns.push(self.turn(key).await);
        }
        turns
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_key.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // Under the map's lock, where gates are handed out: when no one else holds this gate
        // or waits at it, it goes.
        let mut map = self.gates.by_key.lock().unwrap_or_else(|p| p.into_inner());
        self.guard = None;
        if map
            .get(&self.key)
            .is_some_and(|g| Arc::strong_count(g) == 1)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Whether `fut` is still waiting (polled once).
    async fn waits<F: std::future::Future + Unpin>(fut: &mut F) -> bool {
        tokio::time::timeout(Duration::ZERO, fut).await.is_err()
    }

    #[tokio::test]
    async fn one_turn_per_key_at_a_time_and_no_gate_left_behind() {
        let gates = Gates::default();
        let first = gates.turn("+8613800138000").await;
        // Another key does not wait.
        let other = gates.turn("5503301").await;
        let mut second = Box::pin(gates.turn("+8613800138000"));
        assert!(
            waits(&mut second).await,
            "the same key waits for the turn under way"
        );
        drop(first);
        let second = tokio::time::timeout(Duration::ZERO, second)
            .await
            .expect("its turn once the first is done");
        assert_eq!(gates.len(), 2);
        drop((second, other));
        assert_eq!(gates.len(), 0, "no gate is kept once nobody holds it");
    }

    #[tokio::test]
    async fn turns_on_several_keys_wait_for_each_and_come_in_order() {
        let gates = Gates::default();
        let b = gates.turn("call-b").await;
        let mut both = Box::pin(gates.turns(&["call-c", "call-b", "call-a", "call-b"]));
        assert!(waits(&mut both).await, "waits for call-b");
        // While it waits it holds call-a (taken first, in order), not call-c.
        let mut a = Box::pin(gates.turn("call-a"));
        assert!(waits(&mut a).await);
        let c = gates.turn("call-c").await;
        drop((b, c));
        let both = tokio::time::timeout(Duration::ZERO, both).await.unwrap();
        assert_eq!(both.len(), 3, "one turn per distinct key");
        assert!(waits(&mut a).await, "call-a is still held");
        drop(both);
        drop(tokio::time::timeout(Duration::ZERO, a).await.unwrap());
        assert_eq!(gates.len(), 0);
    }
}
