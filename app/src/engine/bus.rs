//! What instances on one PostgreSQL tell each other (issue 17), by `LISTEN`/`NOTIFY` on the
//! channel `helpdesk`: the agents' live events and screen pops of calls that reached another
//! instance, pops claimed, phones' states, new work for the job runners, a number's cached
//! lookup gone stale, and (sent by the database's triggers, migration 0013) any change to what
//! each instance keeps in memory. On SQLite (one process) nothing is sent.
//!
//! Each instance names its database connections `helpdesk-<random>` (`application_name`) and
//! skips what it sent itself. A notice is a hint, never the truth: everything it names is
//! read back from the database, so a notice lost while a listener reconnects costs a delay
//! (the instance then reloads everything), not a wrong state.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::lookup::ZohoRecord;
use super::Engine;
use crate::model::PhoneStatus;

/// The `NOTIFY` channel.
pub const CHANNEL: &str = "helpdesk";
/// Call ids per notice (a `NOTIFY` payload holds at most 8,000 bytes).
const IDS_PER_NOTICE: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Notice {
    /// These calls changed; `rang`: the (call, extension) pairs that began ringing.
    Calls {
        ids: Vec<String>,
        #[serde(default)]
        rang: Vec<(String, String)>,
    },
    /// A call's contact job found (or created) its caller.
    CallerFound { call_id: String, record: ZohoRecord },
    /// The PBX could not place a call (30015).
    CallFailed {
        call_id: String,
        reason: String,
        extensions: Vec<String>,
    },
    /// A tab claimed the pop of this call on this extension.
    Claimed { call_id: String, extension: String },
    /// An extension's phone as the PBX reported it (30008).
    Phone {
        extension: String,
        status: PhoneStatus,
    },
    /// New jobs are queued.
    Jobs,
    /// The cached lookup of a number (its key) is stale. `account`: the record made for it is
    /// an account (the others' held accounts check for new ones; absent from older
    /// instances, which leaves it to the minute's check).
    Forget {
        key: String,
        #[serde(default)]
        account: bool,
    },
    /// A table whose rows each instance holds in memory changed (from the triggers).
    Reload { table: String },
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The sender's `application_name` (the triggers' too).
    #[serde(default)]
    from: Option<String>,
    #[serde(flatten)]
    notice: Notice,
}

/// The sending side, held by the engine.
#[derive(Debug, Default)]
pub struct Bus {
    tx: Option<mpsc::UnboundedSender<Notice>>,
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Notice>>>,
}

impl Bus {
    /// A bus that sends (PostgreSQL), or one that drops every notice (SQLite).
    pub fn new(on: bool) -> Bus {
        if !on {
            return Bus::default();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        Bus {
            tx: Some(tx),
            rx: std::sync::Mutex::new(Some(rx)),
        }
    }

    /// Tells the other instances (PostgreSQL only).
    pub fn tell(&self, notice: Notice) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(notice);
        }
    }
}

/// The changed calls as notices of at most [`IDS_PER_NOTICE`] ids.
pub fn calls_notices(ids: Vec<String>, rang: Vec<(String, String)>) -> Vec<Notice> {
    if ids.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<Notice> = ids
        .chunks(IDS_PER_NOTICE)
        .map(|c| Notice::Calls {
            ids: c.to_vec(),
            rang: Vec::new(),
        })
        .collect();
    for pair in rang {
        let i = out
            .iter()
            .position(|n| matches!(n, Notice::Calls { ids, .. } if ids.contains(&pair.0)))
            .unwrap_or(0);
        if let Notice::Calls { rang, .. } = &mut out[i] {
            rang.push(pair);
        }
    }
    out
}

/// Starts sending and listening (PostgreSQL only; once): what arrives is applied to `engine`.
pub fn start(engine: &Arc<Engine>) {
    let Some(rx) = engine
        .bus
        .rx
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        return;
    };
    let Some((url, me)) = engine.store.listen_target() else {
        return;
    };
    tokio::spawn(send_notices(engine.clone(), rx, me.clone()));
    tokio::spawn(listen(engine.clone(), url, me));
}

async fn send_notices(
    engine: std::sync::Arc<Engine>,
    mut rx: mpsc::UnboundedReceiver<Notice>,
    me: String,
) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 256).await > 0 {
        // Several "new jobs" in a row are one.
        let mut jobs = false;
        batch.retain(|n| !(matches!(n, Notice::Jobs) && std::mem::replace(&mut jobs, true)));
        for notice in batch.drain(..) {
            let payload = serde_json::to_string(&Envelope {
                from: Some(me.clone()),
                notice,
            })
            .unwrap_or_default();
            if let Err(e) = engine.store.notify(CHANNEL, &payload).await {
                tracing::warn!(error = %e, "telling the other instances");
            }
        }
    }
}

async fn listen(engine: std::sync::Arc<Engine>, url: String, me: String) {
    use sqlx::postgres::PgListener;
    let mut reconnected = false;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "listening to the other instances");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "listening to the other instances");
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            continue;
        }
        // Whatever was said while nobody listened: read everything again (not on the
        // first connection: the server has just read it all at start).
        if std::mem::replace(&mut reconnected, true) {
            reload_all(&engine).await;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => match serde_json::from_str::<Envelope>(n.payload()) {
                    Ok(env) if env.from.as_deref() == Some(me.as_str()) => {}
                    Ok(env) => apply(&engine, env.notice).await,
                    Err(e) => tracing::warn!(error = %e, "an unreadable notice"),
                },
                // The connection was lost; the listener connects again.
                Ok(None) => reload_all(&engine).await,
                Err(e) => {
                    tracing::warn!(error = %e, "listening to the other instances");
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// What another instance said, applied here only (never told again).
pub(crate) async fn apply(engine: &Engine, notice: Notice) {
    match notice {
        Notice::Calls { ids, rang } => {
            // With no agent connected here, only the calls that rang matter (their pops
            // are offered, for an agent who connects while they ring).
            let read: Vec<&String> = if engine.agents.connections() > 0 {
                ids.iter().collect()
            } else {
                ids.iter()
                    .filter(|i| rang.iter().any(|(c, _)| c == *i))
                    .collect()
            };
            let mut states = Vec::with_capacity(read.len());
            for id in read {
                if let Ok(Some(row)) = engine.store.call(id).await {
                    states.push(row.state);
                }
            }
            super::agent::publish_calls(engine, &states, &rang);
            engine.intake.note_changed();
        }
        Notice::CallerFound { call_id, record } => {
            super::agent::caller_found(engine, &call_id, &record).await;
        }
        Notice::CallFailed {
            call_id,
            reason,
            extensions,
        } => engine
            .agents
            .call_failed(&super::calls::event::CallFailure {
                call_id,
                reason,
                extensions,
            }),
        Notice::Claimed { call_id, extension } => {
            engine.agents.claim(&extension, &call_id);
        }
        Notice::Phone { extension, status } => {
            engine.pbx_connection.set_phone(&extension, status);
        }
        Notice::Jobs => engine.jobs.wake(),
        Notice::Forget { key, account } => {
            // Another instance made a record for this number.
            engine.lookup.cache.forget(&key);
            if account {
                engine.lookup.accounts.recheck();
            }
        }
        Notice::Reload { table } => reload(engine, &table).await,
    }
}

/// Reads again what this instance holds of `table`.
async fn reload(engine: &Engine, table: &str) {
    let done = match table {
        "zoho_connection" => {
            engine.zoho.forget_departments();
            engine.zoho.reload_switch().await
        }
        "pbx_extension" | "zoho_agent" | "agent_binding" => {
            engine.directory.rebuild().await.map_err(Into::into)
        }
        "rule_settings" => engine.rules.load().await,
        "app_secret" => engine.pbx_connection.load_push_secret().await,
        "pbx_connection" => {
            engine.pbx_connection.settings_changed().await;
            Ok(())
        }
        _ => Ok(()),
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, table, "reloading after another instance's change");
    }
    // The switch may have come on, or the work may go on.
    engine.jobs.wake();
}

async fn reload_all(engine: &Engine) {
    for table in [
        "zoho_connection",
        "pbx_extension",
        "rule_settings",
        "app_secret",
        "pbx_connection",
    ] {
        reload(engine, table).await;
    }
    engine.forget_lookups();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_back_as_sent_and_the_triggers_words_are_understood() {
        let n = Notice::Calls {
            ids: vec!["c1".into()],
            rang: vec![("c1".into(), "2005".into())],
        };
        let s = serde_json::to_string(&Envelope {
            from: Some("helpdesk-1".into()),
            notice: n.clone(),
        })
        .unwrap();
        let back: Envelope = serde_json::from_str(&s).unwrap();
        assert_eq!((back.from.as_deref(), back.notice), (Some("helpdesk-1"), n));
        // What migration 0013's trigger sends.
        let t: Envelope = serde_json::from_str(
            r#"{"t": "reload", "table": "agent_binding", "from": "helpdesk-2"}"#,
        )
        .unwrap();
        assert_eq!(
            t.notice,
            Notice::Reload {
                table: "agent_binding".into()
            }
        );
        // An older instance's `forget` has no `account`: read as not an account.
        let f: Envelope =
            serde_json::from_str(r#"{"t": "forget", "key": "+8613800138000"}"#).unwrap();
        assert_eq!(
            f.notice,
            Notice::Forget {
                key: "+8613800138000".into(),
                account: false
            }
        );
    }

    #[test]
    fn many_calls_go_in_several_notices_each_with_its_ringing() {
        let ids: Vec<String> = (0..120).map(|i| format!("c{i}")).collect();
        let notices = calls_notices(
            ids,
            vec![("c0".into(), "1".into()), ("c110".into(), "2".into())],
        );
        assert_eq!(notices.len(), 3);
        let rang: Vec<usize> = notices
            .iter()
            .map(|n| match n {
                Notice::Calls { rang, .. } => rang.len(),
                _ => 9,
            })
            .collect();
        assert_eq!(rang, vec![1, 0, 1]);
        for n in &notices {
            assert!(serde_json::to_string(n).unwrap().len() < 8000);
        }
    }
}
